//! E-mail: sending one mail over SMTP with the logger's `email` settings, and the alarms that
//! mail about incidents ([`alarm`]).
//!
//! [`send`] speaks SMTP step by step (connect, TLS or STARTTLS, login, envelope, data) so a
//! caller learns exactly how far a transfer got: `mbusctl test-email` prints that transcript,
//! the alarm worker logs the error.
//!
//! Security: `plain` sends everything in clear text, `starttls` upgrades the plain connection
//! and refuses to go on when the server does not offer STARTTLS, `tls` talks TLS from the first
//! byte (usually port 465). Certificates are checked against the built-in public roots plus the
//! certificates of `email.ca_file` (for private CAs and tests). Login tries PLAIN, then LOGIN.
//!
//! Timeouts: `connect_timeout_s` bounds the TCP connect, the TLS handshake and the server's
//! greeting; `receive_timeout_s` bounds waiting for each reply of the dialogue (EHLO, STARTTLS,
//! AUTH, MAIL, RCPT); `send_timeout_s` bounds each write and reply while the message itself is
//! transferred (DATA).

pub mod alarm;

use crate::config::{Config, Email, MailSecurity};
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, SmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail as MailFrom, Rcpt};
use lettre::transport::smtp::extension::ClientId;
use lettre::Address;
use std::time::Duration;

/// Why a mail could not be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// No SMTP server is configured.
    #[error("no SMTP server configured (email.server)")]
    NoServer,
    /// There is nobody to send to.
    #[error("no recipients (email.recipients)")]
    NoRecipients,
    /// An address is not a valid e-mail address.
    #[error("invalid e-mail address '{address}': {reason}")]
    BadAddress {
        /// The address as configured.
        address: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The CA file could not be read or holds no usable certificate.
    #[error("CA file {path}: {reason}")]
    CaFile {
        /// The file as configured.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// The TLS settings could not be built (e.g. a server name unusable for TLS).
    #[error("TLS setup: {0}")]
    TlsSetup(String),
    /// The mail itself could not be built.
    #[error("building the mail: {0}")]
    Build(String),
    /// Connecting (TCP, TLS on connect, greeting, EHLO) failed.
    #[error("connecting to {server}: {reason}")]
    Connect {
        /// `host:port`.
        server: String,
        /// The error.
        reason: String,
    },
    /// STARTTLS was required but the server does not offer it.
    #[error("the server does not offer STARTTLS")]
    StartTlsNotOffered,
    /// The STARTTLS upgrade failed (handshake, certificate).
    #[error("STARTTLS: {0}")]
    StartTls(String),
    /// Login was refused or no common mechanism exists.
    #[error("login as '{user}': {reason}")]
    Auth {
        /// The user name.
        user: String,
        /// The server's reply or the error.
        reason: String,
    },
    /// The server refused the sender.
    #[error("sender refused: {0}")]
    SenderRefused(String),
    /// The server refused every recipient.
    #[error("every recipient refused: {0}")]
    RecipientsRefused(String),
    /// Transferring the message failed or the server refused it.
    #[error("transfer: {0}")]
    Transfer(String),
}

/// One mail: subject and plain-text body (UTF-8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// Subject line.
    pub subject: String,
    /// Body text.
    pub body: String,
}

/// How far a transfer got, step by step, in words (for people).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transcript {
    /// What happened, in order ("connected to …", "STARTTLS: encrypted", "logged in as …").
    pub steps: Vec<String>,
    /// Recipients the server accepted.
    pub accepted: Vec<String>,
    /// Recipients the server refused, with its reply.
    pub refused: Vec<(String, String)>,
}

/// A failed transfer: the error and the steps that worked before it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct SendFailure {
    /// What went wrong.
    pub error: MailError,
    /// The steps done before the failure.
    pub transcript: Transcript,
}

fn address(text: &str) -> Result<Address, MailError> {
    text.trim()
        .parse::<Address>()
        .map_err(|e| MailError::BadAddress {
            address: text.to_string(),
            reason: e.to_string(),
        })
}

fn tls_parameters(settings: &Email) -> Result<TlsParameters, MailError> {
    let mut builder = TlsParameters::builder(settings.server.clone());
    if let Some(path) = &settings.ca_file {
        let pem = std::fs::read(path).map_err(|e| MailError::CaFile {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let cert = Certificate::from_pem(&pem).map_err(|e| MailError::CaFile {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        builder = builder.add_root_certificate(cert);
    }
    builder
        .build_rustls()
        .map_err(|e| MailError::TlsSetup(e.to_string()))
}

fn seconds(s: u32) -> Option<Duration> {
    Some(Duration::from_secs(u64::from(s.max(1))))
}

/// Builds the message in Internet mail format, from the configured sender to `to`.
fn format(settings: &Email, to: &[Address], mail: &Mail) -> Result<Vec<u8>, MailError> {
    let from = Mailbox::new(
        Some(settings.sender_name.clone()).filter(|n| !n.is_empty()),
        address(&settings.sender_address)?,
    );
    let mut builder = lettre::Message::builder()
        .from(from)
        .subject(mail.subject.clone())
        .header(ContentType::TEXT_PLAIN);
    for a in to {
        builder = builder.to(Mailbox::new(None, a.clone()));
    }
    let message = builder
        .body(mail.body.clone())
        .map_err(|e| MailError::Build(e.to_string()))?;
    Ok(message.formatted())
}

/// Sends `mail` to `recipients` with `settings` (whether or not alarms are enabled): one SMTP
/// session, recipients the server refuses are reported and skipped, the mail goes out if at
/// least one is accepted. Blocking; bounded by the configured timeouts.
pub fn send(
    settings: &Email,
    recipients: &[String],
    mail: &Mail,
) -> Result<Transcript, Box<SendFailure>> {
    let mut transcript = Transcript::default();
    match session(settings, recipients, mail, &mut transcript) {
        Ok(()) => Ok(transcript),
        Err(error) => Err(Box::new(SendFailure { error, transcript })),
    }
}

fn session(
    settings: &Email,
    recipients: &[String],
    mail: &Mail,
    t: &mut Transcript,
) -> Result<(), MailError> {
    if settings.server.trim().is_empty() {
        return Err(MailError::NoServer);
    }
    if recipients.is_empty() {
        return Err(MailError::NoRecipients);
    }
    let sender = address(&settings.sender_address)?;
    let to: Vec<Address> = recipients
        .iter()
        .map(|r| address(r))
        .collect::<Result<_, _>>()?;
    let tls = match settings.security {
        MailSecurity::Plain => None,
        MailSecurity::Starttls | MailSecurity::Tls => Some(tls_parameters(settings)?),
    };
    let server = format!("{}:{}", settings.server, settings.port);
    let hello = ClientId::default();
    let on_connect = match settings.security {
        MailSecurity::Tls => tls.as_ref(),
        _ => None,
    };
    let mut conn = SmtpConnection::connect(
        (settings.server.as_str(), settings.port),
        seconds(settings.connect_timeout_s),
        &hello,
        on_connect,
        None,
    )
    .map_err(|e| MailError::Connect {
        server: server.clone(),
        reason: e.to_string(),
    })?;
    t.steps.push(format!(
        "connected to {server}{}",
        if on_connect.is_some() { " (TLS)" } else { "" }
    ));
    let result = dialogue(
        settings,
        &mut conn,
        tls.as_ref(),
        &hello,
        sender,
        &to,
        mail,
        t,
    );
    if result.is_ok() {
        // The mail is accepted; a failing QUIT changes nothing.
        let _ = conn.quit();
    } else {
        conn.abort();
    }
    result
}

#[allow(clippy::too_many_arguments)]
fn dialogue(
    settings: &Email,
    conn: &mut SmtpConnection,
    tls: Option<&TlsParameters>,
    hello: &ClientId,
    sender: Address,
    to: &[Address],
    mail: &Mail,
    t: &mut Transcript,
) -> Result<(), MailError> {
    let reply_timeout = seconds(settings.receive_timeout_s);
    conn.set_timeout(reply_timeout)
        .map_err(|e| MailError::Transfer(e.to_string()))?;
    if settings.security == MailSecurity::Starttls {
        if !conn.can_starttls() {
            return Err(MailError::StartTlsNotOffered);
        }
        let params = tls.ok_or_else(|| MailError::TlsSetup("no TLS parameters".into()))?;
        conn.starttls(params, hello)
            .map_err(|e| MailError::StartTls(e.to_string()))?;
        t.steps.push("STARTTLS: connection encrypted".to_string());
    }
    if settings.auth {
        let credentials = Credentials::new(settings.username.clone(), settings.password.clone());
        let auth_error = |reason: String| MailError::Auth {
            user: settings.username.clone(),
            reason,
        };
        let reply = conn
            .auth(&[Mechanism::Plain, Mechanism::Login], &credentials)
            .map_err(|e| auth_error(e.to_string()))?;
        if !reply.is_positive() {
            return Err(auth_error(reply_text(&reply)));
        }
        t.steps.push(format!("logged in as {}", settings.username));
    }
    conn.command(MailFrom::new(Some(sender.clone()), vec![]))
        .map_err(|e| MailError::SenderRefused(e.to_string()))?;
    t.steps.push(format!("sender {sender} accepted"));
    let mut accepted = Vec::new();
    for a in to {
        match conn.command(Rcpt::new(a.clone(), vec![])) {
            Ok(_) => {
                t.accepted.push(a.to_string());
                accepted.push(a.clone());
            }
            Err(e) if e.is_permanent() || e.is_transient() => {
                t.refused.push((a.to_string(), e.to_string()));
            }
            Err(e) => return Err(MailError::Transfer(e.to_string())),
        }
    }
    if accepted.is_empty() {
        let reasons: Vec<String> = t.refused.iter().map(|(a, r)| format!("{a}: {r}")).collect();
        return Err(MailError::RecipientsRefused(reasons.join("; ")));
    }
    let bytes = format(settings, &accepted, mail)?;
    conn.set_timeout(seconds(settings.send_timeout_s))
        .map_err(|e| MailError::Transfer(e.to_string()))?;
    conn.command(Data)
        .map_err(|e| MailError::Transfer(e.to_string()))?;
    let reply = conn
        .message(&bytes)
        .map_err(|e| MailError::Transfer(e.to_string()))?;
    t.steps
        .push(format!("message accepted: {}", reply_text(&reply)));
    Ok(())
}

fn reply_text(reply: &lettre::transport::smtp::response::Response) -> String {
    let lines: Vec<&str> = reply.message().collect();
    format!("{} {}", reply.code(), lines.join(" "))
}

/// The test mail `mbusctl test-email` sends: names the logger, so the recipient sees which
/// one works.
pub fn test_mail(config: &Config) -> Mail {
    Mail {
        subject: format!("{}: test e-mail", alarm::logger_title(config)),
        body: format!(
            "This is a test e-mail from the M-Bus logger {}.\n\
             If you read this, e-mail alarms from this logger reach you.\n",
            alarm::logger_title(config)
        ),
    }
}

/// Sends the test mail with the configuration's e-mail settings, to `to` or else to the
/// configured recipients.
pub fn send_test(config: &Config, to: Option<&str>) -> Result<Transcript, Box<SendFailure>> {
    let recipients = match to {
        Some(a) => vec![a.to_string()],
        None => config.email.recipients.clone(),
    };
    send(&config.email, &recipients, &test_mail(config))
}
