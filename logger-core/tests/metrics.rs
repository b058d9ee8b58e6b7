//! The metrics exposition of a logger on the simulated bus, parsed by a Prometheus
//! text-format parser: engine counters, per-meter values and status, sink state.

use chrono::{Duration, TimeZone, Utc};
use logger_core::clock::Clock;
use logger_core::config::ReadCycle;
use logger_core::fleet::SinkStatus;
use logger_core::metrics::Metrics;
use logger_core::service::{CycleCounts, Update};
use logger_core::simulation::SimInstallation;
use logger_core::storage::MeterId;
use mbus_proto::address::BaudRate;
use prometheus_parse::{Sample, Scrape, Value};

mod support;

fn scrape(text: &str) -> Vec<Sample> {
    Scrape::parse(text.lines().map(|l| Ok(l.to_owned())))
        .unwrap()
        .samples
}

fn value(samples: &[Sample], metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| s.metric == metric && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match &s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            Value::Histogram(buckets) => buckets.last().map_or(0.0, |b| b.count),
            Value::Summary(_) => f64::NAN,
        })
}

#[test]
fn the_exposition_holds_cycles_values_status_and_sinks() {
    let dir = tempfile::tempdir().unwrap();
    let start = Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 3).unwrap();
    let sim = SimInstallation::new(3, 7, BaudRate::B9600, &[]);
    let (mut logger, clock, summary) = support::scanned_logger(dir.path(), sim, start, |c| {
        c.general.default_cycle = ReadCycle::M1;
    });
    let metrics = Metrics::new();
    metrics.observe_scan(summary.found);
    let mut cycles = 0;
    while cycles < 2 {
        let report = logger.run_due().unwrap();
        if report.read + report.failed > 0 {
            metrics.observe(&Update::Cycle(CycleCounts::from(&report)));
            cycles += 1;
        }
        clock.set(clock.now() + Duration::seconds(30));
    }
    SinkStatus {
        label: "MQTT".into(),
        connected: true,
        pending: 2,
        delivered: 40,
        errors: 1,
        ..SinkStatus::default()
    }
    .save(dir.path(), "mqtt")
    .unwrap();

    let samples = scrape(&metrics.render(dir.path()).unwrap());
    assert_eq!(value(&samples, "mbus_cycles_total", &[]), Some(2.0));
    assert_eq!(
        value(&samples, "mbus_reads_total", &[("result", "ok")]),
        Some(6.0)
    );
    assert_eq!(
        value(&samples, "mbus_reads_total", &[("result", "failed")]),
        Some(0.0)
    );
    assert_eq!(value(&samples, "mbus_scans_total", &[]), Some(1.0));
    assert_eq!(value(&samples, "mbus_scan_meters_found", &[]), Some(3.0));
    // Six reads observed; two cycles' bus time.
    assert_eq!(
        value(&samples, "mbus_read_duration_seconds_count", &[]),
        Some(6.0)
    );
    assert_eq!(
        value(&samples, "mbus_cycle_bus_seconds_count", &[]),
        Some(2.0)
    );
    assert!(value(&samples, "mbus_cycle_bus_seconds_sum", &[]).unwrap() > 0.0);
    assert_eq!(
        value(&samples, "mbus_logger_state", &[("state", "idle")]),
        Some(1.0)
    );
    for meter in &logger.config().meters {
        let id = meter.id.to_string();
        assert_eq!(
            value(
                &samples,
                "mbus_meter_status",
                &[("meter", &id), ("status", "ok")]
            ),
            Some(1.0)
        );
        let last = logger
            .store()
            .last_reading(MeterId(meter.id))
            .unwrap()
            .unwrap();
        assert_eq!(
            value(
                &samples,
                "mbus_meter_last_reading_timestamp_seconds",
                &[("meter", &id)]
            ),
            Some(last.time as f64)
        );
        // Every register's last stored value, as stored.
        for register in meter.registers.iter().filter(|r| !r.off) {
            let position = register.index.to_string();
            let stored = last.values[register.index as usize].map(|v| v.to_f64());
            assert_eq!(
                value(
                    &samples,
                    "mbus_meter_value",
                    &[("meter", &id), ("position", &position)]
                ),
                stored,
                "meter {id} register {position}"
            );
        }
    }
    assert_eq!(
        value(&samples, "mbus_sink_connected", &[("sink", "mqtt")]),
        Some(1.0)
    );
    assert_eq!(
        value(&samples, "mbus_sink_pending", &[("sink", "mqtt")]),
        Some(2.0)
    );
    assert_eq!(
        value(&samples, "mbus_sink_delivered_total", &[("sink", "mqtt")]),
        Some(40.0)
    );
    assert_eq!(
        value(&samples, "mbus_sink_errors_total", &[("sink", "mqtt")]),
        Some(1.0)
    );
    assert_eq!(
        value(&samples, "mbus_sink_connected", &[("sink", "postgres")]),
        None
    );
}
