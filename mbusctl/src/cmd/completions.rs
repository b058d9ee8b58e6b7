//! `mbusctl completions` and `mbusctl man`: shell completion scripts and man pages, generated
//! from the same command-line definition the program parses.

use crate::exit::Exit;
use clap::CommandFactory;
use std::path::PathBuf;

/// Arguments of `mbusctl completions`.
#[derive(clap::Args)]
pub struct CompletionArgs {
    /// The shell to write the script for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

/// Arguments of `mbusctl man`.
#[derive(clap::Args)]
pub struct ManArgs {
    /// Directory to write the pages into (created if missing).
    #[arg(long, default_value = ".")]
    out: PathBuf,
}

/// Prints the completion script of `C` for the shell.
pub fn completions<C: CommandFactory>(args: CompletionArgs) -> Exit {
    let mut command = C::command();
    clap_complete::generate(args.shell, &mut command, "mbusctl", &mut std::io::stdout());
    Exit::Ok
}

/// Writes `mbusctl.1` and `mbusctl-<subcommand>.1` for every subcommand of `C`.
pub fn man<C: CommandFactory>(args: ManArgs) -> Exit {
    let command = C::command();
    let written = std::fs::create_dir_all(&args.out).and_then(|()| {
        clap_mangen::generate_to(command, &args.out)?;
        Ok(())
    });
    match written {
        Ok(()) => {
            println!("man pages written to {}", args.out.display());
            Exit::Ok
        }
        Err(e) => {
            eprintln!("mbusctl man: {}: {e}", args.out.display());
            Exit::Failure
        }
    }
}
