//! One module per subcommand.

pub mod decode;
pub mod read;
pub mod simulate;
