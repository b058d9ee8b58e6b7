//! Live updates as server-sent events on `/api/v1/updates`: `state` (the logger state, sent
//! first on connect), `scan` (search progress), `readings` (a cycle stored readings), `cycle`,
//! `config` and `status`. Each event's data is the JSON of a `logger_core::service::Update`.

use super::{Access, AppState, Route};
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream, StreamExt};
use logger_core::service::{ServiceHandle, Update};
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![Route::get(
        "/api/v1/updates",
        Access::Session,
        "Live updates (server-sent events): state, scan, readings, cycle, config, status",
        updates,
    )
    .produces("text/event-stream")]
}

/// Forwards the logger's updates into `sender` (one thread for every stream) until `stop`.
pub fn forward(service: &ServiceHandle, sender: broadcast::Sender<Update>, stop: Arc<AtomicBool>) {
    let updates = service.subscribe();
    std::thread::spawn(move || {
        while !stop.load(Ordering::SeqCst) {
            match updates.recv_timeout(std::time::Duration::from_millis(250)) {
                // No receiver connected is fine.
                Ok(update) => drop(sender.send(update)),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
    });
}

/// The SSE event of an update.
fn event(update: &Update) -> Event {
    let name = match update {
        Update::State { .. } => "state",
        Update::Scan(_) => "scan",
        Update::Cycle(_) => "cycle",
        Update::Readings { .. } => "readings",
        Update::Config => "config",
        Update::Status => "status",
    };
    Event::default()
        .event(name)
        .data(serde_json::to_string(update).unwrap_or_default())
}

/// `GET /api/v1/updates`.
pub async fn updates(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let first = Update::State {
        state: state.service.state(),
    };
    let live = BroadcastStream::new(state.updates.subscribe())
        // A receiver that lagged misses some updates; the next ones still come.
        .filter_map(|u| async move { u.ok() });
    let mut shutdown = state.shutdown.subscribe();
    let all = stream::once(async move { first })
        .chain(live)
        .map(|u| Ok(event(&u)))
        .take_until(async move {
            // An error means the server is gone: end as well.
            let _ = shutdown.wait_for(|down| *down).await;
        });
    Sse::new(all).keep_alive(KeepAlive::default())
}
