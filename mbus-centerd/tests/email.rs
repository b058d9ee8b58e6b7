//! The daemon mails about incidents when e-mail is configured: a meter that never answers
//! gives one mail from a real SMTP server's point of view (aiosmtpd on 127.0.0.1).

use logger_core::config::{Config, ConfigStore, ReadCycle};
use mbus_proto::address::BaudRate;
use support::Daemon;

mod support;

#[path = "../../logger-core/tests/support/smtp.rs"]
mod smtp;

#[test]
fn the_daemon_mails_a_failing_meter_once() {
    if !smtp::available() {
        return;
    }
    let server = smtp::SmtpServer::start(smtp::Options::default());
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.general.name = "Daemon".into();
    config.general.default_cycle = ReadCycle::S10;
    smtp::point_at(&mut config.email, server.port);
    config.email.recipients = vec!["ops@example.org".into()];
    // Nobody answers at primary address 250 on the simulated bus.
    let meter = logger_core::inventory::manual_meter(&config, 250, None, Some(BaudRate::B9600));
    config.meters.push(meter);
    ConfigStore::new(dir.path()).save(&config).unwrap();

    let mut daemon = Daemon::start(&[
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--simulate",
        "1",
        "--baud",
        "9600",
    ]);
    // Two read cycles, then the mail of the first (bounded wait).
    daemon.wait_for_cycles(2);
    let mails = server.wait_for(1);
    let status = daemon.terminate();
    let log = &daemon.log;
    assert!(status.success(), "{status:?}\n{log:#?}");
    assert_eq!(
        mails.len(),
        1,
        "one mail for two failed cycles: {mails:?}\n{log:#?}"
    );
    assert_eq!(mails[0].subject, "[Daemon] Meter read failed");
    assert_eq!(mails[0].to, ["ops@example.org"]);
    assert!(log.iter().any(|l| l.contains("e-mail sent")), "{log:#?}");
}
