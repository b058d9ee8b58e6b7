//! `mbusctl test-email`: sends a test mail with a logger's e-mail settings and prints each
//! step of the SMTP session (connect, TLS, login, recipients).

use crate::exit::Exit;
use logger_core::email::{send_test, MailError, Transcript};
use std::path::PathBuf;

/// Arguments of `mbusctl test-email`.
#[derive(clap::Args)]
pub struct Args {
    /// Data directory of the logger (its configuration's `email` section is used).
    #[arg(long)]
    data_dir: PathBuf,
    /// Send to this address instead of the configured recipients.
    #[arg(long, value_name = "ADDR")]
    to: Option<String>,
}

fn print_steps(t: &Transcript) {
    for step in &t.steps {
        println!("  {step}");
    }
    for a in &t.accepted {
        println!("  recipient {a} accepted");
    }
    for (a, reply) in &t.refused {
        println!("  recipient {a} refused: {reply}");
    }
}

/// The exit code of a failed transfer: settings problems are bad input, an unreachable
/// server is a device that cannot be opened, the rest is the mail server's refusal.
fn exit_of(error: &MailError) -> Exit {
    match error {
        MailError::NoServer
        | MailError::NoRecipients
        | MailError::BadAddress { .. }
        | MailError::CaFile { .. }
        | MailError::TlsSetup(_)
        | MailError::Build(_) => Exit::BadInput,
        MailError::Connect { .. } => Exit::Device,
        MailError::StartTlsNotOffered
        | MailError::StartTls(_)
        | MailError::Auth { .. }
        | MailError::SenderRefused(_)
        | MailError::RecipientsRefused(_)
        | MailError::Transfer(_) => Exit::Mail,
    }
}

/// Runs the subcommand.
pub fn run(args: Args) -> Exit {
    let config = match crate::cmd::load_config("test-email", &args.data_dir) {
        Ok(c) => c,
        Err(exit) => return exit,
    };
    let e = &config.email;
    if !e.enabled {
        println!("note: e-mail alarms are off (email.enabled); testing the settings anyway");
    }
    println!(
        "server {}:{}, security {:?}, {}",
        e.server,
        e.port,
        e.security,
        if e.auth {
            format!("login as {}", e.username)
        } else {
            "no login".to_string()
        }
    );
    match send_test(&config, args.to.as_deref()) {
        Ok(t) => {
            print_steps(&t);
            println!(
                "test e-mail sent to {} of {} recipient(s)",
                t.accepted.len(),
                t.accepted.len() + t.refused.len()
            );
            Exit::Ok
        }
        Err(failure) => {
            print_steps(&failure.transcript);
            eprintln!("mbusctl test-email: failed: {}", failure.error);
            exit_of(&failure.error)
        }
    }
}
