//! Meter details ("Details" of a meter in the overview): the last reading, the values at a
//! chosen historical date and time, a consumption chart over a day, week, month or year
//! (server-side SVG) and the register table.

use super::meter_config::{field_error, notice, PageError};
use super::overview::status_icon;
use super::{column_headers, layout, render, Nav, Page};
use crate::web::api::history::{local_time, meter_series, reading_at_time, SeriesRequest};
use crate::web::api::meters::{storage_error, with_meter};
use crate::web::api::{parse_id, ApiError, Problem, Query};
use crate::web::i18n::{Lang, Text};
use crate::web::{Access, AppState, Route};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use logger_core::storage::MeterId;
use logger_core::views::{
    register_table, ConsumptionSeries, MeterSummary, Period, ReadingView, SeriesKind,
};
use maud::{html, Markup};

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![Route::get(
        "/meters/{id}",
        Access::Full,
        "Meter details: last reading, reading at ?at=, chart (?period=&end=&register=), registers",
        details,
    )]
}

/// The text of a period.
fn period_text(p: Period) -> Text {
    match p {
        Period::Day => Text::Day,
        Period::Week => Text::Week,
        Period::Month => Text::Month,
        Period::Year => Text::Year,
    }
}

/// A number for a chart label: at most three decimals, a decimal comma in German.
pub fn number(v: f64, lang: Lang) -> String {
    let text = format!("{v:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.').to_string();
    let text = if text == "-0" { "0".to_string() } else { text };
    match lang {
        Lang::De => text.replace('.', ","),
        Lang::En => text,
    }
}

/// A time in the logger's time zone as the pages show it.
fn local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%d.%m.%Y %H:%M:%S").to_string()
}

fn values_table(page: &Page, id: &str, reading: &ReadingView) -> Markup {
    html! {
        div.table-wrap {
            table id=(id) {
                thead { tr {
                    th scope="col" { (page.t(Text::Register)) }
                    th scope="col" { (page.t(Text::Description)) }
                    th scope="col" { (page.t(Text::Value)) }
                    th scope="col" { (page.t(Text::Unit)) }
                } }
                tbody {
                    @for v in &reading.values {
                        tr {
                            td { (v.name) }
                            td { (v.description) }
                            td.value.num data-register=(v.index) { (v.value.as_deref().unwrap_or("–")) }
                            td { (v.unit) }
                        }
                    }
                }
            }
        }
    }
}

/// The consumption chart as SVG: one bar per interval, value axis with three ticks, time axis
/// labels, axis titles in the user's language, `title` and `desc` for screen readers.
pub fn chart_svg(page: &Page, series: &ConsumptionSeries) -> Markup {
    const W: f64 = 720.0;
    const H: f64 = 300.0;
    const LEFT: f64 = 70.0;
    const RIGHT: f64 = 10.0;
    const TOP: f64 = 16.0;
    const BOTTOM: f64 = 56.0;
    let lang = page.lang();
    let values: Vec<f64> = series.points.iter().filter_map(|p| p.value).collect();
    let high = values.iter().copied().fold(0.0_f64, f64::max);
    let low = values.iter().copied().fold(0.0_f64, f64::min);
    let span = if high - low > 0.0 { high - low } else { 1.0 };
    let plot_h = H - TOP - BOTTOM;
    let y = |v: f64| TOP + (high.max(low + span) - v) / span * plot_h;
    let n = series.points.len().max(1);
    let slot = (W - LEFT - RIGHT) / n as f64;
    let every = n.div_ceil(12).max(1);
    let what = match series.kind {
        SeriesKind::Consumption => page.t(Text::Consumption),
        SeriesKind::Mean => page.t(Text::Mean),
    };
    let unit = &series.unit;
    let title = format!(
        "{what} {} – {} ({})",
        series.name,
        page.t(period_text(series.period)),
        series.points.first().map_or("", |p| p.label.as_str())
    );
    let desc = if values.is_empty() {
        page.t(Text::NoChartData).to_string()
    } else {
        let total: f64 = values.iter().sum();
        let summary = match series.kind {
            SeriesKind::Consumption => {
                format!("{}: {} {unit}", page.t(Text::Total), number(total, lang))
            }
            SeriesKind::Mean => format!(
                "{}: {} {unit}",
                page.t(Text::Mean),
                number(total / values.len() as f64, lang)
            ),
        };
        let from = local(series.from, series.time_zone.parse().unwrap_or(Tz::UTC));
        format!(
            "{what} {} {} {from}; {summary}; max {} {unit}",
            series.name,
            match lang {
                Lang::De => "ab",
                Lang::En => "from",
            },
            number(high, lang)
        )
    };
    let ticks = [low, (low + high) / 2.0, high.max(low + span)];
    html! {
        svg id="consumption-chart" xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {W} {H}"))
            role="img" aria-labelledby="chart-title chart-desc" preserveAspectRatio="xMidYMid meet" {
            title id="chart-title" { (title) }
            desc id="chart-desc" { (desc) }
            @for t in ticks {
                line.grid x1=(LEFT) x2=(W - RIGHT) y1=(y(t)) y2=(y(t)) stroke="#c8ccd2" stroke-width="1" {}
                text.tick x=(LEFT - 6.0) y=(y(t) + 4.0) text-anchor="end" font-size="12" fill="#222" { (number(t, lang)) }
            }
            @for (i, p) in series.points.iter().enumerate() {
                @if let Some(v) = p.value {
                    @let top = y(v.max(0.0));
                    @let bottom = y(v.min(0.0));
                    rect.bar x=(format!("{:.1}", LEFT + i as f64 * slot + slot * 0.15)) y=(format!("{top:.1}"))
                        width=(format!("{:.1}", slot * 0.7)) height=(format!("{:.1}", (bottom - top).max(0.5)))
                        fill="#1f5f99" {
                        title { (p.label) ": " (number(v, lang)) " " (unit) }
                    }
                }
                @if i % every == 0 {
                    text.label x=(format!("{:.1}", LEFT + (i as f64 + 0.5) * slot)) y=(H - BOTTOM + 16.0)
                        text-anchor="middle" font-size="11" fill="#222" { (p.label) }
                }
            }
            line.axis x1=(LEFT) x2=(LEFT) y1=(TOP) y2=(H - BOTTOM) stroke="#222" stroke-width="1" {}
            line.axis x1=(LEFT) x2=(W - RIGHT) y1=(y(0.0)) y2=(y(0.0)) stroke="#222" stroke-width="1" {}
            text.axis-title x=(LEFT + (W - LEFT - RIGHT) / 2.0) y=(H - 8.0) text-anchor="middle" font-size="12" fill="#222" {
                (page.t(Text::Time)) " (" (series.time_zone) ")"
            }
            text.axis-title x="14" y=(TOP + plot_h / 2.0) text-anchor="middle" font-size="12" fill="#222"
                transform=(format!("rotate(-90 14 {})", TOP + plot_h / 2.0)) {
                (what) " [" (unit) "]"
            }
        }
    }
}

fn chart_link(
    id: u32,
    period: Period,
    end: DateTime<Utc>,
    tz: Tz,
    register: Option<u32>,
) -> String {
    let mut link = format!(
        "/meters/{id}?period={}&end={}",
        period.as_str(),
        end.with_timezone(&tz).format("%Y-%m-%dT%H:%M")
    );
    if let Some(r) = register {
        link.push_str(&format!("&register={r}"));
    }
    link
}

/// The column headers of a register table (the meter details and the meter edit page), then
/// `last`'s.
pub fn register_head(page: &Page, last: Option<Text>) -> Markup {
    const COLUMNS: [Text; 9] = [
        Text::Name,
        Text::Description,
        Text::MeterUnit,
        Text::Unit,
        Text::Phase,
        Text::Divisor,
        Text::StorageNumber,
        Text::Tariff,
        Text::Off,
    ];
    html! {
        thead { tr {
            th scope="col" { "#" }
            (column_headers(page, &COLUMNS))
            @if let Some(text) = last { th scope="col" { (page.t(text)) } }
        } }
    }
}

/// The value of `result`; a client error's problems go to `problems` (shown next to their
/// fields), anything else as a problem of the page.
fn keep<T>(problems: &mut Vec<Problem>, result: Result<T, ApiError>) -> Option<T> {
    match result {
        Ok(v) => Some(v),
        Err(e) if e.status().is_client_error() => {
            problems.extend(e.problems);
            None
        }
        Err(e) => {
            problems.push(Problem {
                field: "page".into(),
                message: e.message,
            });
            None
        }
    }
}

async fn details(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    query: Query,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    let snapshot = state.service.snapshot();
    let tz = snapshot.config.tz();
    let meter = snapshot
        .config
        .meter(id)
        .cloned()
        .ok_or_else(|| ApiError::unknown("id", format!("no meter with id {id}")))?;
    let mut problems: Vec<Problem> = Vec::new();
    let at_text = query.get("at").map(str::to_string);
    let history = match &at_text {
        Some(text) => match keep(&mut problems, local_time(text, "at", tz, true)) {
            Some(t) => keep(&mut problems, reading_at_time(&state, id, t).await),
            None => None,
        },
        None => None,
    };
    let request = keep(&mut problems, SeriesRequest::from_query(&query, tz));
    let series = match request {
        Some(r) => keep(&mut problems, meter_series(&state, id, r).await).flatten(),
        None => None,
    };
    let (period, end) = request.map_or((Period::Day, Utc::now()), |r| (r.period, r.end));
    let (summary, last) = with_meter(&state, id, move |s, meter, store| {
        let last = match store {
            Some(store) => store.last_reading(MeterId(id)).map_err(storage_error)?,
            None => None,
        };
        Ok((
            MeterSummary::new(&s.config, meter, &s.status, last.as_ref()),
            last,
        ))
    })
    .await?;
    let rows = register_table(&meter, last.as_ref());
    let register = series.as_ref().map(|s| s.register);
    let charted: Vec<_> = meter
        .registers
        .iter()
        .filter(|r| !r.off && r.storage == 0)
        .collect();
    let content = html! {
        (notice(&page, &query))
        (field_error(&problems, "page", "err-page"))
        p.actions {
            a href=(format!("/meters/{id}/edit")) id="meter-edit" { (page.t(Text::EditMeter)) }
        }
        dl.facts {
            dt { (page.t(Text::Status)) } dd { (status_icon(&page, summary.status.status)) }
            dt { (page.t(Text::SecondaryAddress)) } dd.mono { (summary.secondary.as_deref().unwrap_or("–")) }
            dt { (page.t(Text::PrimaryAddress)) } dd { (summary.primary) }
            dt { (page.t(Text::Manufacturer)) } dd { (summary.manufacturer.as_deref().unwrap_or("–")) }
            dt { (page.t(Text::Medium)) } dd { (page.medium(summary.medium_code)) }
            dt { (page.t(Text::ReadCycle)) } dd { (summary.cycle) }
        }
        section aria-labelledby="h-last" {
            h2 id="h-last" { (page.t(Text::LastReading)) }
            @match &summary.last_reading {
                Some(r) => {
                    p { (page.t(Text::ReadAt)) " " time datetime=(r.time.to_rfc3339()) { (local(r.time, tz)) } }
                    (values_table(&page, "last-reading", r))
                }
                None => {
                    p { (page.t(Text::NoReadingYet)) }
                    table id="last-reading" hidden {}
                }
            }
        }
        section aria-labelledby="h-history" {
            h2 id="h-history" { (page.t(Text::HistoricalReading)) }
            form id="history-form" method="get" action=(format!("/meters/{id}")) {
                label for="history-at" { (page.t(Text::DateTime)) " (" (tz.name()) ")" }
                input id="history-at" name="at" type="datetime-local" required
                    value=(at_text.clone().unwrap_or_else(|| Utc::now().with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string()))
                    aria-describedby="err-at";
                (field_error(&problems, "at", "err-at"))
                input type="hidden" name="period" value=(period.as_str());
                button type="submit" { (page.t(Text::Show)) }
            }
            @if let Some(h) = &history {
                div id="history-reading" {
                    @match &h.reading {
                        Some(r) => {
                            p { (page.t(Text::ReadAt)) " " time datetime=(r.time.to_rfc3339()) { (local(r.time, tz)) } }
                            (values_table(&page, "history-values", r))
                        }
                        None => p { (page.t(Text::NoReadingAt)) }
                    }
                }
            }
        }
        section aria-labelledby="h-chart" {
            h2 id="h-chart" { (page.t(Text::Chart)) }
            nav.periods aria-label=(page.t(Text::Chart)) {
                a href=(chart_link(id, period, period.step(end, tz, -1), tz, register)) id="period-earlier" { "← " (page.t(Text::Earlier)) }
                @for p in Period::ALL {
                    a id=(format!("period-{}", p.as_str())) href=(chart_link(id, p, end, tz, register))
                        aria-current=[(p == period).then_some("page")] { (page.t(period_text(p))) }
                }
                a href=(chart_link(id, period, period.step(end, tz, 1), tz, register)) id="period-later" { (page.t(Text::Later)) " →" }
            }
            (field_error(&problems, "period", "err-period"))
            (field_error(&problems, "end", "err-end"))
            (field_error(&problems, "register", "err-register"))
            @if charted.len() > 1 {
                form.inline method="get" action=(format!("/meters/{id}")) {
                    input type="hidden" name="period" value=(period.as_str());
                    input type="hidden" name="end" value=(end.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string());
                    label for="chart-register" { (page.t(Text::Register)) }
                    select id="chart-register" name="register" {
                        @for r in &charted {
                            option value=(r.index) selected[Some(r.index) == register] { (r.name) " (" (r.unit) ")" }
                        }
                    }
                    button type="submit" { (page.t(Text::Show)) }
                }
            }
            @match &series {
                Some(s) => div.chart { (chart_svg(&page, s)) }
                None => p { (page.t(Text::NoChartRegister)) }
            }
        }
        section aria-labelledby="h-registers" {
            h2 id="h-registers" { (page.t(Text::RegisterTable)) }
            div.table-wrap {
                table id="register-overview" {
                    (register_head(&page, Some(Text::Value)))
                    tbody {
                        @for r in &rows {
                            tr {
                                td { (r.index) } td { (r.name) } td { (r.description) } td { (r.meter_unit) }
                                td { (r.unit) } td { (r.phase) } td.num { (r.divisor) } td { (r.storage) }
                                td { (r.tariff) } td { @if r.off { "✓" } }
                                td.num { (r.value.as_deref().unwrap_or("–")) }
                            }
                        }
                    }
                }
            }
        }
    };
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok((
        status,
        render(layout(
            &page,
            &snapshot,
            Nav::Overview,
            &format!("{} – {}", page.t(Text::MeterDetails), meter.name),
            content,
        )),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::auth::Auth;
    use logger_core::views::SeriesPoint;

    fn pages() -> (Page, Page) {
        let dir = tempfile::tempdir().unwrap();
        let auth = Auth::open(dir.path()).unwrap();
        let mut session = auth
            .login("admin", "123", std::net::Ipv4Addr::LOCALHOST.into())
            .unwrap();
        session.language = Lang::De;
        let de = Page {
            session: session.clone(),
            location: None,
        };
        session.language = Lang::En;
        (
            de,
            Page {
                session,
                location: None,
            },
        )
    }

    fn series() -> ConsumptionSeries {
        let t0 = Utc::now();
        ConsumptionSeries {
            meter: 1,
            register: 0,
            name: "Energy".into(),
            unit: "kWh".into(),
            period: Period::Week,
            kind: SeriesKind::Consumption,
            time_zone: "Europe/Berlin".into(),
            from: t0,
            to: t0 + chrono::Duration::days(7),
            points: (0..7)
                .map(|i| SeriesPoint {
                    start: t0 + chrono::Duration::days(i),
                    label: format!("0{}.05.", i + 4),
                    value: (i < 3).then_some(1.5 * i as f64),
                    readings: 1,
                })
                .collect(),
        }
    }

    #[test]
    fn the_chart_has_a_bar_per_value_axis_titles_in_the_users_language_and_a_description() {
        let (de, en) = pages();
        let svg = chart_svg(&de, &series()).into_string();
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(svg.contains("Verbrauch [kWh]"), "{svg}");
        assert!(svg.contains("Zeit (Europe/Berlin)"));
        assert!(svg.contains("<desc id=\"chart-desc\">Verbrauch Energy ab "));
        assert!(svg.contains("Summe: 4,5 kWh"), "{svg}");
        assert!(svg.contains("05.05.: 1,5 kWh"), "a bar's tooltip");
        let svg = chart_svg(&en, &series()).into_string();
        assert!(svg.contains("Consumption [kWh]") && svg.contains("Total: 4.5 kWh"));
        let mut empty = series();
        empty.points.iter_mut().for_each(|p| p.value = None);
        let svg = chart_svg(&en, &empty).into_string();
        assert!(svg.contains("No readings in this period."));
        assert_eq!(number(-0.0001, Lang::En), "0");
        assert_eq!(number(1234.5, Lang::De), "1234,5");
    }
}
