//! The manual data export: a ZIP of CSV or JSON files streamed as it is written.

use super::{ApiError, Query};
use crate::web::{Access, AppState, Route};
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use logger_core::export::{
    export_zip_stream, Bound, CsvLayout, ExportRequest, Filter, Format, Separator,
};
use std::io::Write;

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![Route::get(
        "/api/v1/export",
        Access::Full,
        "Export readings as a ZIP (streamed, one CSV or JSON file per meter)",
        export,
    )
    .produces("application/zip")
    .query(&[
        (
            "from",
            "Required: first day (YYYY-MM-DD) or local time (YYYY-MM-DDTHH:MM) included",
        ),
        (
            "to",
            "Required: last day included, or first local time excluded",
        ),
        ("format", "csv (default) or json"),
        ("layout", "CSV columns: standard (default) or full_db"),
        (
            "separator",
            "CSV separator: semicolon (default), comma, space or tab",
        ),
        (
            "filter",
            "all (default) or the last reading per hour, day or month",
        ),
        (
            "meters",
            "Meter ids, comma-separated, in the order wanted; default: every meter",
        ),
    ])]
}

fn choice<T: Copy>(
    query: &Query,
    name: &str,
    default: T,
    options: &[(&str, T)],
) -> Result<T, ApiError> {
    match query.get(name) {
        None => Ok(default),
        Some(v) => options
            .iter()
            .find(|(k, _)| *k == v)
            .map(|(_, t)| *t)
            .ok_or_else(|| {
                let names: Vec<&str> = options.iter().map(|(k, _)| *k).collect();
                ApiError::bad(name, format!("{v:?} is not one of {}", names.join(", ")))
            }),
    }
}

/// The export request a query describes.
pub fn request(query: &Query) -> Result<ExportRequest, ApiError> {
    let bound = |name: &str| -> Result<Bound, ApiError> {
        query
            .get(name)
            .ok_or_else(|| ApiError::bad(name, "required (YYYY-MM-DD or YYYY-MM-DDTHH:MM)"))?
            .parse()
            .map_err(|e: logger_core::export::ExportError| ApiError::bad(name, e.to_string()))
    };
    let from = bound("from")?;
    let to = bound("to")?;
    let layout = choice(
        query,
        "layout",
        CsvLayout::Standard,
        &[
            ("standard", CsvLayout::Standard),
            ("full_db", CsvLayout::FullDb),
        ],
    )?;
    let separator = choice(
        query,
        "separator",
        Separator::Semicolon,
        &[
            ("comma", Separator::Comma),
            ("semicolon", Separator::Semicolon),
            ("space", Separator::Space),
            ("tab", Separator::Tab),
        ],
    )?;
    let format = choice(query, "format", "csv", &[("csv", "csv"), ("json", "json")])?;
    let format = if format == "json" {
        Format::Json
    } else {
        Format::Csv { layout, separator }
    };
    let filter = choice(
        query,
        "filter",
        Filter::All,
        &[
            ("all", Filter::All),
            ("hour", Filter::Hour),
            ("day", Filter::Day),
            ("month", Filter::Month),
        ],
    )?;
    let meters = match query.get("meters") {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|s| {
                s.trim()
                    .parse::<u32>()
                    .map_err(|_| ApiError::bad("meters", format!("{s:?} is not a meter id")))
            })
            .collect::<Result<_, _>>()?,
    };
    Ok(ExportRequest {
        from,
        to,
        format,
        filter,
        meters,
        exported_at: chrono::Utc::now(),
    })
}

/// Hands the bytes the ZIP writer produces to the response body, a chunk at a time.
struct ChannelWriter {
    sender: tokio::sync::mpsc::Sender<std::io::Result<Vec<u8>>>,
    buffer: Vec<u8>,
}

impl ChannelWriter {
    const CHUNK: usize = 64 * 1024;

    fn send(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(Self::CHUNK));
        self.sender.blocking_send(Ok(chunk)).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away")
        })
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= Self::CHUNK {
            self.send()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// `GET /api/v1/export`: everything is checked before the first byte is sent; then the ZIP
/// streams (a failure after that cuts the download short, which the client sees as a broken
/// archive, and is logged).
pub async fn export(State(state): State<AppState>, query: Query) -> Result<Response, ApiError> {
    let request = request(&query)?;
    let snapshot = state.service.snapshot();
    let (meters, options) = request.resolve(&snapshot.config).map_err(|e| match e {
        logger_core::export::ExportError::UnknownMeter(id) => {
            ApiError::unknown("meters", format!("meter {id} is not configured"))
        }
        logger_core::export::ExportError::BadBound(m) => ApiError::bad("from", m),
        other => ApiError::bad("to", other.to_string()),
    })?;
    if options.from >= options.to {
        return Err(ApiError::bad("to", "must not be before from"));
    }
    let store = state.readers.take()?;
    let readers = state.readers.clone();
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    let name = format!(
        "DataExport_{}.zip",
        request
            .exported_at
            .with_timezone(&options.time_zone)
            .format("%d_%m_%Y_%H_%M_%S")
    );
    tokio::task::spawn_blocking(move || {
        let mut out = ChannelWriter {
            sender: sender.clone(),
            buffer: Vec::with_capacity(ChannelWriter::CHUNK),
        };
        let result = match &store {
            Some(store) => export_zip_stream(store, &meters, &options, &mut out).map(|_| ()),
            None => zip::ZipWriter::new_stream(&mut out)
                .finish()
                .map(|_| ())
                .map_err(Into::into),
        };
        let result = result
            .map_err(|e| e.to_string())
            .and_then(|()| out.flush().map_err(|e| e.to_string()));
        if let Err(e) = result {
            tracing::warn!(error = %e, "export cut short");
            let _ = sender.blocking_send(Err(std::io::Error::other(e)));
        }
        if let Some(store) = store {
            readers.give(store);
        }
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(receiver);
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
