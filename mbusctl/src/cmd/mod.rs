//! One module per subcommand.

pub mod bench;
pub mod bus;
pub mod completions;
pub mod config;
pub mod decode;
pub mod events;
pub mod export;
pub mod io;
pub mod meters;
pub mod raw;
pub mod read;
pub mod reset;
pub mod scan;
pub mod select;
pub mod set_address;
pub mod simulate;
pub mod switch_baud;
pub mod system;
pub mod test_email;
pub mod uploads;

/// The logger configuration in `data_dir` (the defaults without a file); on error the message
/// goes to stderr under `mbusctl COMMAND:` and the exit code for bad input comes back.
pub fn load_config(
    command: &str,
    data_dir: &std::path::Path,
) -> Result<logger_core::config::Config, crate::exit::Exit> {
    logger_core::config::ConfigStore::new(data_dir)
        .load_or_default()
        .map_err(|e| {
            eprintln!("mbusctl {command}: {e}");
            crate::exit::Exit::BadInput
        })
}
