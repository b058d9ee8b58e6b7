//! One module per subcommand.

pub mod bench;
pub mod config;
pub mod decode;
pub mod events;
pub mod export;
pub mod meters;
pub mod read;
pub mod scan;
pub mod simulate;
