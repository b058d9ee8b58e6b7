//! The appliance's S0 and PT1000 inputs as input meters, on virtual time: read in the cycle
//! like bus meters, stored (or not, for unlogged meters), totals carried across a restart,
//! sensor faults as read failures, and read even while the level converter has the bus.

use chrono::{DateTime, Duration, TimeZone, Utc};
use logger_core::bus::Purpose;
use logger_core::clock::{Clock, ManualClock};
use logger_core::config::{Config, InputSource, ReadCycle};
use logger_core::engine::Logger;
use logger_core::hardware::inputs::{add_input_meters, input_meter, HardwareInputs};
use logger_core::hardware::sim::{SimPulses, SimSensor, SimTemperatures};
use logger_core::simulation::SimInstallation;
use logger_core::status::ReadStatus;
use logger_core::storage::{MeterId, Reading};
use mbus_proto::address::BaudRate;
use std::sync::Arc;

mod support;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 4, 6, 0, 0).unwrap()
}

fn inputs(dir: &std::path::Path, clock: Arc<ManualClock>) -> Box<HardwareInputs> {
    let pulses = SimPulses::new(clock.clone(), vec![1000.0, 400.0, 0.0, 0.0]);
    let temps = SimTemperatures::new(
        clock,
        vec![
            SimSensor::Curve {
                base: 20.0,
                swing: 5.0,
            },
            SimSensor::Open,
        ],
    );
    Box::new(HardwareInputs::new(dir, Box::new(pulses), Box::new(temps)))
}

fn readings(logger: &Logger<SimInstallation>, id: u32) -> Vec<Reading> {
    logger
        .store()
        .readings(MeterId(id), 0, i64::MAX)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

fn id_of(config: &Config, source: InputSource) -> u32 {
    config
        .meters
        .iter()
        .find(|m| m.input == Some(source))
        .unwrap()
        .id
}

#[test]
fn input_meters_are_read_in_the_cycle_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let sim = SimInstallation::new(2, 7, BaudRate::B9600, &[]);
    let (mut logger, clock, _) = support::scanned_logger(dir.path(), sim, start(), |config| {
        config.general.default_cycle = ReadCycle::M15;
    });
    let mut config = logger.config().clone();
    let added = add_input_meters(&mut config, 4, 2);
    assert_eq!(added.len(), 6);
    assert!(add_input_meters(&mut config, 4, 2).is_empty(), "added once");
    // S0 input 1 counts 1000 pulses per kWh.
    let s0 = id_of(&config, InputSource::S0 { input: 1 });
    let meter = config.meters.iter_mut().find(|m| m.id == s0).unwrap();
    meter.registers[0].divisor = 1000.0;
    meter.registers[0].unit = "kWh".into();
    logger.set_config(config).unwrap();
    let config = logger.config().clone();
    let s0_2 = id_of(&config, InputSource::S0 { input: 2 });
    let t1 = id_of(&config, InputSource::Pt1000 { input: 1 });
    let t2 = id_of(&config, InputSource::Pt1000 { input: 2 });
    let m = config.meter(s0).unwrap();
    assert_eq!(m.secondary.unwrap().to_string(), "0000090043340100");
    assert_eq!(&m.secondary.unwrap().manufacturer_letters(), b"MBC");
    assert_eq!(config.meter(t1).unwrap().secondary.unwrap().ident, 1000);
    assert!(
        !config.meter(t1).unwrap().logging,
        "temperatures are not logged by default"
    );

    logger.attach_inputs(inputs(dir.path(), clock.clone()));
    logger.run_until(start() + Duration::hours(1)).unwrap();
    let rs = readings(&logger, s0);
    assert_eq!(rs.len(), 3, "06:15 … 06:45 (the scan ran at 06:00)");
    let kwh: Vec<f64> = rs.iter().map(|r| r.values[0].unwrap().to_f64()).collect();
    // 1000 pulses an hour: 0.25 kWh a quarter of an hour.
    assert!(
        kwh.windows(2).all(|w| (w[1] - w[0] - 0.25).abs() < 0.002),
        "{kwh:?}"
    );
    assert_eq!(readings(&logger, s0_2).len(), 3);
    assert!(readings(&logger, t1).is_empty(), "not logged");
    let status = logger.status().meter(t1);
    assert_eq!(status.status, ReadStatus::Ok);
    let status = logger.status().meter(t2);
    assert_eq!(status.status, ReadStatus::Failed);
    assert!(
        status
            .last_error
            .as_deref()
            .unwrap()
            .contains("sensor open"),
        "{:?}",
        status.last_error
    );
    // "Show current values" reads the input, not the bus.
    let now = logger.read_now(t1).unwrap();
    assert_eq!(now.records[0].unit, "°C");
    let celsius = now.records[0].value.unwrap().to_f64();
    assert!((15.0..=25.0).contains(&celsius), "{celsius}");
    let err = logger.read_now(t2).unwrap_err().to_string();
    assert!(
        err.starts_with("input: temperature input 2: sensor open"),
        "{err}"
    );
    let before = *kwh.last().unwrap();

    // Restart: the hardware counts from zero again, the totals carry on.
    drop(logger);
    let clock2 = Arc::new(ManualClock::new(clock.now()));
    let mut logger = Logger::open(
        dir.path(),
        SimInstallation::new(2, 7, BaudRate::B9600, &[]),
        clock2.clone(),
    )
    .unwrap();
    logger.attach_inputs(inputs(dir.path(), clock2.clone()));
    // The bus is bridged meanwhile: inputs are read all the same.
    let arbiter = logger.arbiter();
    let bridge = arbiter.acquire(Purpose::Bridge);
    logger
        .run_until(clock2.now() + Duration::minutes(31))
        .unwrap();
    drop(bridge);
    let rs = readings(&logger, s0);
    let after: Vec<f64> = rs
        .iter()
        .skip(3)
        .map(|r| r.values[0].unwrap().to_f64())
        .collect();
    assert_eq!(after.len(), 3, "07:00, 07:15, 07:30: {after:?}");
    assert!(
        after[0] >= before,
        "{after:?} after {before}: never backwards"
    );
    assert!(
        after[0] - before < 0.26,
        "{after:?} after {before}: never counted twice"
    );
    assert!((after[2] - after[1] - 0.25).abs() < 0.002, "{after:?}");
}

#[test]
fn input_meters_without_hardware_fail_with_the_reason_and_configs_stay_valid() {
    let mut config = Config::default();
    config
        .meters
        .push(input_meter(1, InputSource::S0 { input: 3 }));
    config
        .meters
        .push(input_meter(2, InputSource::S0 { input: 3 }));
    config
        .meters
        .push(input_meter(3, InputSource::Pt1000 { input: 3 }));
    config.meters[1].secondary = None;
    config.meters[1].addressing = logger_core::config::Addressing::Primary;
    let problems = config.validate().unwrap_err().messages();
    assert_eq!(
        problems,
        [
            "meters[1].input: the same input is already read by meters[0]",
            "meters[2].input.input: must be between 1 and 2",
        ]
    );
    // Round trip through JSON; bus meters keep their old form (no input, logging fields).
    config.meters.truncate(1);
    let back = Config::from_json(&config.to_json()).unwrap();
    assert_eq!(back, config);
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(start()));
    let mut logger = Logger::open(
        dir.path(),
        SimInstallation::new(0, 7, BaudRate::B9600, &[]),
        clock.clone(),
    )
    .unwrap();
    config.general.default_cycle = ReadCycle::M15;
    logger.set_config(config).unwrap();
    logger.run_until(start() + Duration::minutes(20)).unwrap();
    let status = logger.status().meter(1);
    assert_eq!(status.status, ReadStatus::Failed);
    assert!(status.last_error.unwrap().contains("no input hardware"));
}
