//! E-mail alarms against a real SMTP server (aiosmtpd on 127.0.0.1), with the engine on the
//! simulated bus and the virtual clock. Waits for the mail worker are bounded; nothing asserts
//! wall-clock time.

use chrono::{DateTime, Duration, TimeZone, Utc};
use logger_core::bus::MeterBus;
use logger_core::clock::{Clock, ManualClock};
use logger_core::config::{Config, MailSecurity, ReadCycle};
use logger_core::email::alarm::{AlarmOptions, Alarms};
use logger_core::email::MailError;
use logger_core::engine::{Logger, ScanKind};
use logger_core::events::{EventCode, Kind};
use logger_core::simulation::SimInstallation;
use logger_core::storage::MeterId;
use mbus_proto::address::BaudRate;
use std::sync::Arc;

#[path = "support/corpus.rs"]
mod corpus;
#[path = "support/smtp.rs"]
mod smtp;
use corpus::{corpus_template, with_configuration};

use smtp::{Options, SmtpServer};

const WAIT: std::time::Duration = std::time::Duration::from_secs(30);

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap()
}

/// E-mail settings for a server on 127.0.0.1:`port`.
fn mail_settings(config: &mut Config, port: u16) {
    config.general.name = "Logger 7".into();
    config.general.location = "Boiler room".into();
    config.general.timezone = "Europe/Berlin".into();
    config.general.default_cycle = ReadCycle::M1;
    smtp::point_at(&mut config.email, port);
    config.email.recipients = vec!["ops@example.org".into(), "tech@example.org".into()];
}

/// Quick retries so failure tests stay short.
fn options() -> AlarmOptions {
    AlarmOptions {
        retries: 2,
        backoff: std::time::Duration::from_millis(10),
        max_backoff: std::time::Duration::from_millis(40),
        ..AlarmOptions::default()
    }
}

/// A logger on `sim` with e-mail configured by `configure`, alarms attached, meters scanned.
fn logger(
    dir: &std::path::Path,
    sim: SimInstallation,
    configure: impl FnOnce(&mut Config),
) -> (Logger<SimInstallation>, Arc<ManualClock>, Alarms) {
    let clock = Arc::new(ManualClock::new(start()));
    let mut logger = Logger::open(dir, sim, clock.clone()).unwrap();
    let mut config = logger.config().clone();
    configure(&mut config);
    logger.set_config(config).unwrap();
    let alarms = Alarms::start(logger.config(), clock.clone(), options());
    logger.attach_alarms(alarms.clone());
    logger
        .scan(
            &ScanKind::Secondary(Default::default()),
            |_| {},
            Default::default(),
        )
        .unwrap();
    (logger, clock, alarms)
}

/// Moves meter `index` to a secondary address no meter has: every read of it fails.
fn unreachable(config: &mut Config, index: usize) {
    if let Some(s) = config.meters[index].secondary.as_mut() {
        s.ident = 99_999_999;
    }
}

#[test]
fn a_failing_meter_mails_once_across_many_cycles_and_once_when_it_goes() {
    if !smtp::available() {
        return;
    }
    let server = SmtpServer::start(Options::default());
    let dir = tempfile::tempdir().unwrap();
    let sim = SimInstallation::new(3, 7, BaudRate::B9600, &[]);
    let (mut logger, clock, alarms) = logger(dir.path(), sim, |c| {
        mail_settings(c, server.port);
        c.email.notify_went = true;
    });
    // Meter 3 moves to an address nobody answers: every read fails from now on.
    let good = logger.config().clone();
    let mut broken = good.clone();
    unreachable(&mut broken, 2);
    logger.set_config(broken).unwrap();
    logger.run_until(start() + Duration::minutes(10)).unwrap();
    assert!(alarms.wait_idle(WAIT));
    let mails = server.received();
    assert_eq!(
        mails.len(),
        1,
        "one mail per incident, not per cycle: {mails:?}"
    );
    let m = &mails[0];
    assert_eq!(m.subject, "[Logger 7, Boiler room] Meter read failed");
    assert_eq!(m.to, ["ops@example.org", "tech@example.org"]);
    let name = &logger.config().meters[2].name;
    assert!(
        m.body.contains(&format!(
            "Meter:     {name} (id 3, secondary 99999999, primary "
        )),
        "{}",
        m.body
    );
    assert!(
        m.body.contains("Since:     04.05.2026 10:0"),
        "local time: {}",
        m.body
    );
    assert!(m.body.contains("read failed ("), "{}", m.body);
    // Readings of the other meters went on every cycle.
    assert!(logger.store().reading_count(MeterId(1)).unwrap() >= 10);

    // The meter answers again: one "resolved" mail.
    logger.set_config(good).unwrap();
    logger
        .run_until(clock.now() + Duration::minutes(5))
        .unwrap();
    assert!(alarms.wait_idle(WAIT));
    let mails = server.received();
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert_eq!(
        mails[1].subject,
        "[Logger 7, Boiler room] Resolved: Meter read failed"
    );
    assert!(mails[1].body.contains("Until:"), "{}", mails[1].body);
    logger.sync_alarms();
    let status = logger.status().email.clone().unwrap();
    assert_eq!((status.sent, status.queued, status.dropped), (2, 0, 0));
    assert!(status.last_sent.is_some() && status.last_error.is_none());
    alarms.shutdown(WAIT);
}

/// Runs one meter of `template` on a bus of its own for `minutes` and checks that exactly one
/// alarm mail with `subject` and a body containing `body_part` went out.
fn mails_once(
    template: mbus_link::sim::TelegramTemplate,
    minutes: i64,
    subject: &str,
    body_part: &str,
) {
    if !smtp::available() {
        return;
    }
    let server = SmtpServer::start(Options::default());
    let dir = tempfile::tempdir().unwrap();
    let sim = SimInstallation::new(1, 3, BaudRate::B2400, &[template]);
    let (mut logger, _clock, alarms) = logger(dir.path(), sim, |c| mail_settings(c, server.port));
    logger
        .run_until(start() + Duration::minutes(minutes))
        .unwrap();
    assert!(alarms.wait_idle(WAIT));
    let mails = server.received();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(
        mails[0].subject,
        format!("[Logger 7, Boiler room] {subject}")
    );
    assert!(mails[0].body.contains(body_part), "{}", mails[0].body);
    alarms.shutdown(WAIT);
}

#[test]
fn error_flags_mail_once_across_read_cycles() {
    // The Sensus PolluStat E reports status 0x10 (temporary error).
    mails_once(
        corpus_template("SEN_Sensus-PolluStat-E"),
        5,
        "Meter reports error flags",
        "with error flags 00010000",
    );
}

#[test]
fn an_encrypted_reply_mails_once() {
    // Security mode 5 (AES-128-CBC): the logger cannot read it without a key.
    mails_once(
        with_configuration("kamstrup_multical_601", 0x0540),
        4,
        "Encrypted reply, key needed",
        "security mode 5",
    );
}

#[test]
fn a_short_circuit_mails_once_for_the_bus_not_per_meter() {
    if !smtp::available() {
        return;
    }
    let server = SmtpServer::start(Options::default());
    let dir = tempfile::tempdir().unwrap();
    let sim = SimInstallation::new(3, 7, BaudRate::B9600, &[]);
    let (mut logger, clock, alarms) = logger(dir.path(), sim, |c| {
        mail_settings(c, server.port);
        c.email.notify_went = true;
    });
    let short = |logger: &Logger<SimInstallation>, on: bool| {
        logger
            .arbiter()
            .acquire(logger_core::bus::Purpose::Manual)
            .master()
            .transport_mut()
            .set_short_circuit(on);
    };
    short(&logger, true);
    logger.run_until(start() + Duration::minutes(4)).unwrap();
    short(&logger, false);
    logger
        .run_until(clock.now() + Duration::minutes(2))
        .unwrap();
    assert!(alarms.wait_idle(WAIT));
    let subjects: Vec<String> = server.received().into_iter().map(|m| m.subject).collect();
    assert_eq!(
        subjects,
        [
            "[Logger 7, Boiler room] M-Bus short circuit (overload)",
            "[Logger 7, Boiler room] Resolved: M-Bus short circuit (overload)"
        ]
    );
    alarms.shutdown(WAIT);
}

#[test]
fn starttls_with_login_delivers_and_upload_failures_mail_after_the_configured_time() {
    if !smtp::available() {
        return;
    }
    let server = SmtpServer::start_with_login();
    let clock = Arc::new(ManualClock::new(start()));
    let mut config = Config::default();
    mail_settings(&mut config, server.port);
    config.email.security = MailSecurity::Starttls;
    config.email.ca_file = Some(server.ca_file());
    smtp::log_in(&mut config.email, smtp::LOGIN.1);
    config.email.notify_went = true;
    config.email.upload_alarm_after_min = 60;
    config.validate().unwrap();

    // The test mail reports every step.
    let transcript = logger_core::email::send_test(&config, Some("me@example.org")).unwrap();
    let steps = transcript.steps.join("\n");
    assert!(steps.contains("STARTTLS: connection encrypted"), "{steps}");
    assert!(steps.contains("logged in as logger"), "{steps}");
    assert_eq!(transcript.accepted, ["me@example.org"]);
    let mails = server.wait_for(1);
    assert_eq!(mails[0].subject, "Logger 7, Boiler room: test e-mail");
    assert_eq!(mails[0].to, ["me@example.org"]);

    let alarms = Alarms::start(&config, clock.clone(), options());
    let t0 = start();
    let target = "FTP ftp.example.org";
    alarms.upload_failing(target, t0, t0 + Duration::minutes(30), "connection refused");
    alarms.upload_failing(target, t0, t0 + Duration::minutes(61), "connection refused");
    alarms.upload_failing(target, t0, t0 + Duration::minutes(90), "connection refused");
    alarms.upload_recovered(target, t0 + Duration::minutes(95));
    alarms.upload_recovered("HTTPS push", t0 + Duration::minutes(95));
    assert!(alarms.wait_idle(WAIT));
    let mails = server.received();
    assert_eq!(mails.len(), 3, "{mails:?}");
    assert_eq!(
        mails[1].subject,
        "[Logger 7, Boiler room] Upload to FTP ftp.example.org failing"
    );
    assert!(
        mails[1].body.contains("Reason:    connection refused"),
        "{}",
        mails[1].body
    );
    assert!(
        mails[1]
            .body
            .contains("Since:     04.05.2026 10:00:00 CEST"),
        "{}",
        mails[1].body
    );
    assert_eq!(
        mails[2].subject,
        "[Logger 7, Boiler room] Resolved: Upload to FTP ftp.example.org failing"
    );
    alarms.shutdown(WAIT);
}

#[test]
fn tls_from_the_first_byte_and_certificates_are_checked() {
    if !smtp::available() {
        return;
    }
    let server = SmtpServer::start(Options {
        tls: true,
        auth: Some(smtp::LOGIN),
        ..Options::default()
    });
    let mut config = Config::default();
    mail_settings(&mut config, server.port);
    config.email.security = MailSecurity::Tls;
    smtp::log_in(&mut config.email, smtp::LOGIN.1);
    // Without the test CA the server's certificate is not trusted: nothing is sent.
    let failure = logger_core::email::send_test(&config, None).unwrap_err();
    assert!(
        matches!(failure.error, MailError::Connect { .. }),
        "{failure:?}"
    );
    assert!(failure.transcript.steps.is_empty());
    config.email.ca_file = Some(server.ca_file());
    let transcript = logger_core::email::send_test(&config, None).unwrap();
    assert_eq!(
        transcript.steps[..2],
        [
            format!("connected to 127.0.0.1:{} (TLS)", server.port),
            "logged in as logger".to_string()
        ]
    );
    assert_eq!(transcript.accepted, ["ops@example.org", "tech@example.org"]);
    assert_eq!(server.wait_for(1).len(), 1);
}

#[test]
fn starttls_refuses_an_untrusted_certificate_and_a_server_without_it() {
    if !smtp::available() {
        return;
    }
    let tls = SmtpServer::start(Options {
        starttls: true,
        ..Options::default()
    });
    let mut config = Config::default();
    mail_settings(&mut config, tls.port);
    config.email.security = MailSecurity::Starttls;
    let failure = logger_core::email::send_test(&config, None).unwrap_err();
    assert!(
        matches!(failure.error, MailError::StartTls(_)),
        "{failure:?}"
    );
    assert_eq!(
        failure.transcript.steps,
        [format!("connected to 127.0.0.1:{}", tls.port)]
    );
    // A plain server offers no STARTTLS: refused rather than sent in clear text.
    let plain = SmtpServer::start(Options::default());
    config.email.port = plain.port;
    let failure = logger_core::email::send_test(&config, None).unwrap_err();
    assert_eq!(failure.error, MailError::StartTlsNotOffered);
    assert!(tls.received().is_empty() && plain.received().is_empty());
}

#[test]
fn a_wrong_password_is_logged_once_and_retried_a_bounded_number_of_times() {
    if !smtp::available() {
        return;
    }
    let server = SmtpServer::start_with_login();
    let dir = tempfile::tempdir().unwrap();
    let sim = SimInstallation::new(2, 7, BaudRate::B9600, &[]);
    let ca = server.ca_file();
    let (mut logger, _clock, alarms) = logger(dir.path(), sim, |c| {
        mail_settings(c, server.port);
        c.email.security = MailSecurity::Starttls;
        c.email.ca_file = Some(ca);
        smtp::log_in(&mut c.email, "wrong");
    });
    let mut broken = logger.config().clone();
    unreachable(&mut broken, 1);
    logger.set_config(broken).unwrap();
    logger.run_until(start() + Duration::minutes(3)).unwrap();
    assert!(alarms.wait_idle(WAIT));
    logger.run_until(start() + Duration::minutes(5)).unwrap();
    assert!(server.received().is_empty());
    let failed: Vec<_> = logger
        .events()
        .entries()
        .filter(|e| e.code == EventCode::EmailFailed)
        .collect();
    assert_eq!(failed.len(), 1, "one event per failure incident");
    assert_eq!(
        (failed[0].kind, failed[0].source.as_str()),
        (Kind::E, "E-Mail")
    );
    assert!(
        failed[0]
            .message
            .starts_with("E-mail transfer failed: login as 'logger'"),
        "{}",
        failed[0].message
    );
    let status = logger.status().email.clone().unwrap();
    assert_eq!(
        (status.sent, status.failed_attempts, status.dropped),
        (0, 3, 1)
    );
    let error = status.last_error.unwrap();
    assert!(error.contains("535"), "{error}");
    // The status file shows it too.
    let saved = logger_core::status::StatusBoard::load(dir.path());
    assert_eq!(saved.email.unwrap().dropped, 1);
    alarms.shutdown(WAIT);
}

#[test]
fn a_dead_mail_server_does_not_disturb_reading() {
    let port = smtp::dead_port();
    let dir = tempfile::tempdir().unwrap();
    let sim = SimInstallation::new(2, 7, BaudRate::B9600, &[]);
    let (mut logger, _clock, alarms) = logger(dir.path(), sim, |c| mail_settings(c, port));
    let mut broken = logger.config().clone();
    unreachable(&mut broken, 1);
    logger.set_config(broken).unwrap();
    logger.run_until(start() + Duration::minutes(10)).unwrap();
    // Every slot of the good meter (08:01 … 08:09) was read and stored, plus the scan's
    // reading.
    assert_eq!(logger.store().reading_count(MeterId(1)).unwrap(), 10);
    assert!(alarms.wait_idle(WAIT));
    logger.sync_alarms();
    let failed: Vec<_> = logger
        .events()
        .entries()
        .filter(|e| e.code == EventCode::EmailFailed)
        .collect();
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0].message.contains("connecting to 127.0.0.1:"),
        "{}",
        failed[0].message
    );
    let status = logger.status().email.clone().unwrap();
    assert_eq!((status.sent, status.dropped, status.queued), (0, 1, 0));
    alarms.shutdown(WAIT);
}

#[test]
fn nothing_is_mailed_while_alarms_are_disabled_and_a_full_queue_drops() {
    let clock = Arc::new(ManualClock::new(start()));
    let mut config = Config::default();
    mail_settings(&mut config, smtp::dead_port());
    config.email.enabled = false;
    let alarms = Alarms::start(
        &config,
        clock.clone(),
        AlarmOptions {
            queue_capacity: 1,
            retries: 0,
            ..options()
        },
    );
    let t0 = clock.now();
    alarms.upload_failing("a", t0, t0 + Duration::days(1), "down");
    assert!(alarms.wait_idle(WAIT));
    assert_eq!(alarms.status(), Default::default());
    // Enabled, with a dead server: the worker holds one mail at a time, the queue one more.
    config.email.enabled = true;
    alarms.configure(&config);
    for target in ["b", "c", "d", "e", "f", "g"] {
        alarms.upload_failing(target, t0, t0 + Duration::days(1), "down");
    }
    assert!(alarms.wait_idle(WAIT));
    let status = alarms.status();
    assert_eq!(
        status.dropped, 6,
        "every mail either failed or did not fit: {status:?}"
    );
    assert!(status.failed_attempts >= 1 && status.failed_attempts <= 2);
    alarms.shutdown(WAIT);
}
