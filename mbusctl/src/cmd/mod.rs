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
