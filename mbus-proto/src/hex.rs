//! Hex text both ways: [`HexBytes`] writes bytes as hex (the one formatter every crate of the
//! workspace uses), [`parse_hex`] reads lenient hex input, as people paste telegrams: whitespace,
//! newlines, commas, `0x` prefixes and `:`/`-` separators are accepted; anything else is an error
//! naming its position.
//!
//! ```
//! use mbus_proto::hex::HexBytes;
//!
//! assert_eq!(HexBytes::spaced(&[0x10, 0x5B, 0xE5]).to_string(), "10 5B E5");
//! assert_eq!(HexBytes::packed(&[0x10, 0x5B, 0xE5]).to_string(), "105BE5");
//! assert_eq!(HexBytes::separated(&[0xAB, 0xCD], ":").to_string(), "AB:CD");
//! ```
//!
//! ```
//! use mbus_proto::hex::parse_hex;
//!
//! assert_eq!(parse_hex("0x10, 0x5B 01\n5C16")?, vec![0x10, 0x5B, 0x01, 0x5C, 0x16]);
//! assert!(parse_hex("10 5G").is_err());
//! # Ok::<(), mbus_proto::hex::HexError>(())
//! ```

#[cfg(feature = "alloc")]
use alloc::vec::Vec;
use core::fmt;

/// The upper-case hex digit of the low four bits of `nibble` (`0`…`9`, `A`…`F`).
pub const fn digit(nibble: u8) -> char {
    match nibble & 0xF {
        d @ 0..=9 => (b'0' + d) as char,
        d => (b'A' + d - 10) as char,
    }
}

/// The lower-case hex digit of the low four bits of `nibble` (`0`…`9`, `a`…`f`).
pub const fn digit_lower(nibble: u8) -> char {
    digit(nibble).to_ascii_lowercase()
}

/// Bytes shown as upper-case hex pairs, formatted without allocating (`{}` and `to_string`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HexBytes<'a> {
    bytes: &'a [u8],
    separator: &'a str,
}

impl<'a> HexBytes<'a> {
    /// Pairs separated by one space (`68 03 03 68`), as telegrams are usually written.
    pub const fn spaced(bytes: &'a [u8]) -> HexBytes<'a> {
        HexBytes {
            bytes,
            separator: " ",
        }
    }

    /// Pairs separated by `separator` (`AB:CD` for certificate fingerprints).
    pub const fn separated(bytes: &'a [u8], separator: &'a str) -> HexBytes<'a> {
        HexBytes { bytes, separator }
    }

    /// Pairs without separator (`68030368`), as in JSON fields and file names.
    pub const fn packed(bytes: &'a [u8]) -> HexBytes<'a> {
        HexBytes {
            bytes,
            separator: "",
        }
    }
}

impl fmt::Display for HexBytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, &b) in self.bytes.iter().enumerate() {
            if i > 0 {
                f.write_str(self.separator)?;
            }
            fmt::Write::write_char(f, digit(b >> 4))?;
            fmt::Write::write_char(f, digit(b))?;
        }
        Ok(())
    }
}

/// Why text is not valid hex.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HexError {
    /// A character that is neither a hex digit nor an accepted separator.
    #[error("line {line}, column {column}: '{found}' is not a hex digit")]
    BadCharacter {
        /// 1-based line.
        line: usize,
        /// 1-based column (in characters).
        column: usize,
        /// The character found.
        found: char,
    },
    /// A byte written with a single hex digit, followed by a separator or the end.
    #[error("line {line}, column {column}: lone hex digit '{found}' (bytes need two digits)")]
    OddDigit {
        /// 1-based line.
        line: usize,
        /// 1-based column (in characters).
        column: usize,
        /// The lone digit.
        found: char,
    },
    /// No hex digits at all.
    #[error("no hex bytes in the input")]
    Empty,
}

/// Parses lenient hex text into bytes.
#[cfg(feature = "alloc")]
pub fn parse_hex(text: &str) -> Result<Vec<u8>, HexError> {
    let mut out = Vec::with_capacity(text.len() / 2);
    let mut pending: Option<(u8, usize, usize, char)> = None;
    for (line_no, line) in text.lines().enumerate() {
        let line_no = line_no + 1;
        let mut chars = line.chars().enumerate().peekable();
        while let Some((i, c)) = chars.next() {
            let column = i + 1;
            if c == '0' && matches!(chars.peek(), Some((_, 'x' | 'X'))) && pending.is_none() {
                chars.next();
                continue;
            }
            if let Some(d) = c.to_digit(16) {
                match pending.take() {
                    Some((hi, ..)) => out.push((hi << 4) | d as u8),
                    None => pending = Some((d as u8, line_no, column, c)),
                }
            } else if c.is_whitespace() || matches!(c, ',' | ':' | '-' | ';') {
                if let Some((_, line, column, found)) = pending {
                    return Err(HexError::OddDigit {
                        line,
                        column,
                        found,
                    });
                }
            } else {
                return Err(HexError::BadCharacter {
                    line: line_no,
                    column,
                    found: c,
                });
            }
        }
        if let Some((_, line, column, found)) = pending {
            return Err(HexError::OddDigit {
                line,
                column,
                found,
            });
        }
    }
    if out.is_empty() {
        return Err(HexError::Empty);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_common_layouts() {
        assert_eq!(parse_hex("E5").unwrap(), vec![0xE5]);
        assert_eq!(parse_hex("68 03\r\n03 68").unwrap(), vec![0x68, 3, 3, 0x68]);
        assert_eq!(parse_hex("0x68,0x03").unwrap(), vec![0x68, 3]);
        assert_eq!(parse_hex("6803").unwrap(), vec![0x68, 3]);
        assert_eq!(parse_hex("68:03-0a").unwrap(), vec![0x68, 3, 0x0A]);
    }

    #[test]
    fn errors_name_the_place() {
        assert_eq!(
            parse_hex("68 03\n03 6Z"),
            Err(HexError::BadCharacter {
                line: 2,
                column: 5,
                found: 'Z'
            })
        );
        assert_eq!(
            parse_hex("68 3 68"),
            Err(HexError::OddDigit {
                line: 1,
                column: 4,
                found: '3'
            })
        );
        assert_eq!(parse_hex(" \n "), Err(HexError::Empty));
    }
}
