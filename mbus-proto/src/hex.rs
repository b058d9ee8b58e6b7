//! Lenient hex input, as people paste telegrams: whitespace, newlines, commas, `0x` prefixes and
//! `:`/`-` separators are accepted; anything else is an error naming its position.
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
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let column = i + 1;
            if c == '0' && matches!(chars.get(i + 1), Some('x' | 'X')) && pending.is_none() {
                i += 2;
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
            i += 1;
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
