//! Process exit codes, documented in the README. Scripts rely on them: never renumber.

use std::process::ExitCode;

/// Why `mbusctl` ended; each reason has its own exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: success.
    Ok,
    /// 1: any failure not listed below (I/O on local files, internal error).
    Failure,
    /// 2: bad command line (clap also exits with 2).
    Usage,
    /// 3: bad input data: malformed hex, an invalid frame, a bad configuration file.
    BadInput,
    /// 4: the meter or device did not answer.
    NoReply,
    /// 5: a reply arrived but was garbled (collision or noise).
    Garbled,
    /// 6: the device could not be opened (no such serial port, TCP connection refused).
    Device,
    /// 7: the mail server refused (login, sender, every recipient) or the transfer failed.
    Mail,
    /// 8: an upload target could not be reached or refused the probe.
    Upload,
    /// 130: stopped by SIGINT or SIGTERM before the end (a scan prints what it found so far).
    Interrupted,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Failure => 1,
            Exit::Usage => 2,
            Exit::BadInput => 3,
            Exit::NoReply => 4,
            Exit::Garbled => 5,
            Exit::Device => 6,
            Exit::Mail => 7,
            Exit::Upload => 8,
            Exit::Interrupted => 130,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e.code())
    }
}
