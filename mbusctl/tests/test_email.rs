//! `mbusctl test-email` against a real SMTP server (aiosmtpd on 127.0.0.1).

mod support;

use logger_core::config::{Config, ConfigStore, MailSecurity};
use support::mbusctl;

#[path = "../../logger-core/tests/support/smtp.rs"]
mod smtp;

use smtp::SmtpServer;

/// A data directory whose configuration mails through 127.0.0.1:`port` with STARTTLS and a
/// login with `password`.
fn data_dir(dir: &std::path::Path, port: u16, ca_file: String, password: &str) {
    let mut config = Config::default();
    config.general.name = "Logger 7".into();
    let e = &mut config.email;
    smtp::point_at(e, port);
    e.recipients = vec!["ops@example.org".into()];
    e.security = MailSecurity::Starttls;
    e.ca_file = Some(ca_file);
    smtp::log_in(e, password);
    ConfigStore::new(dir).save(&config).unwrap();
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn test_email_shows_each_step_and_the_mail_arrives() {
    if !smtp::available() {
        return;
    }
    let server = SmtpServer::start_with_login();
    let dir = tempfile::tempdir().unwrap();
    data_dir(dir.path(), server.port, server.ca_file(), "s3cret");
    let d = dir.path().to_str().unwrap();
    let out = mbusctl(&["test-email", "--data-dir", d, "--to", "me@example.org"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    for line in [
        "security Starttls, login as logger",
        &format!("  connected to 127.0.0.1:{}", server.port),
        "  STARTTLS: connection encrypted",
        "  logged in as logger",
        "  recipient me@example.org accepted",
        "test e-mail sent to 1 of 1 recipient(s)",
    ] {
        assert!(stdout.contains(line), "{line:?} missing in:\n{stdout}");
    }
    let mails = server.wait_for(1);
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, ["me@example.org"]);
    assert_eq!(mails[0].subject, "Logger 7: test e-mail");
    // Without --to, the configured recipients get it.
    let out = mbusctl(&["test-email", "--data-dir", d]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(server.wait_for(2)[1].to, ["ops@example.org"]);
}

#[test]
fn test_email_exit_codes_name_what_failed() {
    if !smtp::available() {
        return;
    }
    let server = SmtpServer::start_with_login();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();

    // Wrong password: the server refuses the login.
    data_dir(dir.path(), server.port, server.ca_file(), "wrong");
    let out = mbusctl(&["test-email", "--data-dir", d]);
    assert_eq!(out.status.code(), Some(7));
    assert!(text(&out.stdout).contains("STARTTLS: connection encrypted"));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("failed: login as 'logger'"), "{stderr}");

    // Nobody listens: the server cannot be reached.
    data_dir(dir.path(), smtp::dead_port(), server.ca_file(), "s3cret");
    let out = mbusctl(&["test-email", "--data-dir", d]);
    assert_eq!(out.status.code(), Some(6));
    assert!(text(&out.stderr).contains("failed: connecting to 127.0.0.1:"));

    // A CA file that does not exist is a settings problem.
    data_dir(
        dir.path(),
        server.port,
        "/nonexistent/ca.pem".into(),
        "s3cret",
    );
    let out = mbusctl(&["test-email", "--data-dir", d]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("CA file /nonexistent/ca.pem"));
    assert!(server.received().is_empty());
}
