//! Telegram templates for virtual meters: real telegrams (e.g. the libmbus corpus `.hex` files)
//! or synthetic ones, as single telegrams or multi-telegram sets.

use super::SimError;
use mbus_proto::address::{manufacturer_code, SecondaryAddress};
use mbus_proto::app::Telegram;
use mbus_proto::frame::{Frame, FrameError, Parsed, MAX_DATA_LEN};
use mbus_proto::hex::parse_hex;
use mbus_proto::record::Record;
use std::path::Path;

/// DIF "more records follow in the next telegram".
const DIF_MORE: u8 = 0x1F;
/// DIF "manufacturer-specific data follows".
const DIF_MANUFACTURER: u8 = 0x0F;
/// DIF idle filler.
const DIF_FILLER: u8 = 0x2F;

/// One telegram body: CI field and the data after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Body {
    pub(crate) ci: u8,
    pub(crate) data: Vec<u8>,
}

impl Body {
    /// Where the records' special-function DIF (0x0F manufacturer data / 0x1F more records
    /// follow) is, if the records decode and have one.
    fn special_dif(&self) -> Result<Option<usize>, ()> {
        let Ok(Telegram::Variable(v)) = Telegram::parse(self.ci, &self.data, 0) else {
            return Err(());
        };
        for record in v.records() {
            if let Record::Manufacturer(m) = record.map_err(|_| ())? {
                return Ok(Some(m.offset));
            }
        }
        Ok(None)
    }

    /// Makes the telegram say "more records follow" (DIF 0x1F) exactly when `more`.
    fn mark_more_records(&mut self, more: bool) {
        match self.special_dif() {
            Ok(Some(at)) => {
                if let Some(dif) = self.data.get_mut(at) {
                    *dif = if more { DIF_MORE } else { DIF_MANUFACTURER };
                }
            }
            Ok(None) if more => self.data.push(DIF_MORE),
            Ok(None) => {}
            // Records that do not decode: only the last byte can carry the marker.
            Err(()) => {
                let ends_more = self.data.last() == Some(&DIF_MORE);
                if more && !ends_more {
                    self.data.push(DIF_MORE);
                } else if !more && ends_more {
                    self.data.push(DIF_FILLER);
                }
            }
        }
    }

    /// The secondary address in a long header (CI 0x72 / 0x76).
    fn header(&self) -> Option<SecondaryAddress> {
        match self.ci {
            0x72 | 0x76 => SecondaryAddress::from_bytes(self.data.get(..8)?.try_into().ok()?).ok(),
            _ => None,
        }
    }
}

/// The telegrams a meter model sends, in order. All but the last end with DIF 0x1F
/// ("more records follow"); the last does not.
///
/// ```
/// use mbus_link::sim::templates::{self, TelegramTemplate};
/// let single = templates::synthetic(0);
/// assert_eq!(single.len(), 1);
/// let multi = TelegramTemplate::join("two", &[templates::synthetic(1), templates::synthetic(2)])?;
/// assert_eq!(multi.len(), 2);
/// # Ok::<(), mbus_link::sim::SimError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelegramTemplate {
    name: String,
    pub(crate) bodies: Vec<Body>,
}

impl TelegramTemplate {
    /// A template from slave data frames (long frames, RSP_UD), one per telegram. All but the
    /// last are marked "more records follow" (DIF 0x1F), the last is not.
    pub fn from_frames(name: &str, frames: &[&[u8]]) -> Result<TelegramTemplate, SimError> {
        TelegramTemplate::from_bodies(name, bodies_of(name, frames)?, true)
    }

    /// A template that replays captured telegrams exactly as they were recorded: no
    /// "more records follow" marker is added or removed, so a sequence read from a meter
    /// announces further telegrams where the meter did. (The meter still fills in its own
    /// addresses and access number.) A single telegram that announces more records keeps
    /// doing so, and the meter answers it again on every readout.
    pub fn captured(name: &str, frames: &[&[u8]]) -> Result<TelegramTemplate, SimError> {
        TelegramTemplate::from_bodies(name, bodies_of(name, frames)?, false)
    }

    /// A single-telegram template from one frame written as hex.
    pub fn from_hex(name: &str, text: &str) -> Result<TelegramTemplate, SimError> {
        let bytes = parse_hex(text).map_err(|source| SimError::Hex {
            name: name.to_string(),
            source,
        })?;
        TelegramTemplate::from_frames(name, &[&bytes])
    }

    /// A multi-telegram template: the telegrams of `parts`, in order.
    pub fn join(name: &str, parts: &[TelegramTemplate]) -> Result<TelegramTemplate, SimError> {
        let bodies = parts
            .iter()
            .flat_map(|p| p.bodies.iter().cloned())
            .collect();
        TelegramTemplate::from_bodies(name, bodies, true)
    }

    fn from_bodies(
        name: &str,
        mut bodies: Vec<Body>,
        mark: bool,
    ) -> Result<TelegramTemplate, SimError> {
        if bodies.is_empty() {
            return Err(SimError::NotADataFrame {
                name: name.to_string(),
            });
        }
        let last = bodies.len() - 1;
        for (i, body) in bodies.iter_mut().enumerate() {
            if mark {
                body.mark_more_records(i < last);
            }
            if body.data.len() > MAX_DATA_LEN {
                return Err(SimError::TooLong {
                    name: format!("{name} telegram {}", i + 1),
                });
            }
        }
        Ok(TelegramTemplate {
            name: name.to_string(),
            bodies,
        })
    }

    /// The template's name (file name for corpus telegrams).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of telegrams.
    pub fn len(&self) -> usize {
        self.bodies.len()
    }

    /// Always false: a template has at least one telegram.
    pub fn is_empty(&self) -> bool {
        self.bodies.is_empty()
    }

    /// The secondary address in the first telegram's header, if it has a long header.
    pub fn header(&self) -> Option<SecondaryAddress> {
        self.bodies.first().and_then(Body::header)
    }
}

/// A synthetic heat-meter telegram (CI 0x72, manufacturer `SIM`); `variant` varies the values and
/// the number of historic records, so telegram lengths differ (about 60 to 110 bytes).
pub fn synthetic(variant: usize) -> TelegramTemplate {
    let mut data = Vec::with_capacity(128);
    let ident = SecondaryAddress {
        ident: 10_000_000 + variant as u32 % 90_000_000,
        manufacturer: manufacturer_code(b"SIM").unwrap_or(0),
        version: 0x01,
        medium: 0x04,
    };
    data.extend_from_slice(&ident.to_bytes());
    data.extend_from_slice(&[0x00, 0x00, 0x00, 0x00]); // access number, status, signature
    let v = variant as u32;
    let bcd = |value: u32, bytes: usize| -> Vec<u8> {
        let mut out = Vec::with_capacity(bytes);
        let mut rest = value;
        for _ in 0..bytes {
            let lo = (rest % 10) as u8;
            rest /= 10;
            let hi = (rest % 10) as u8;
            rest /= 10;
            out.push(hi << 4 | lo);
        }
        out
    };
    let mut record = |head: &[u8], value: Vec<u8>| {
        data.extend_from_slice(head);
        data.extend_from_slice(&value);
    };
    record(&[0x0C, 0x06], bcd(12_345 + v * 7, 4)); // energy, kWh, BCD8
    record(&[0x0C, 0x14], bcd(67_890 + v * 3, 4)); // volume, 0.01 m³
    record(&[0x0B, 0x2D], bcd(123 + v % 900, 3)); // power, 100 W
    record(&[0x0B, 0x3B], bcd(456 + v % 500, 3)); // flow, l/h
    record(&[0x0A, 0x5A], bcd(700 + v % 200, 2)); // flow temperature, 0.1 °C
    record(&[0x0A, 0x5E], bcd(400 + v % 200, 2)); // return temperature, 0.1 °C
    record(&[0x04, 0x6D], vec![0x1E, 0x0A, 0x79, 0x3B]); // date and time (type F)
    for storage in 1..=(1 + variant % 6) as u8 {
        // Historic energy (storage numbers 1..) with its date (type G); storage bit 0 in the
        // DIF, the higher bits in a DIFE.
        let low = (storage & 1) << 6;
        let dife = storage >> 1;
        let energy = bcd(10_000 + v + u32::from(storage), 4);
        if dife == 0 {
            record(&[0x0C | low, 0x06], energy);
            record(&[0x02 | low, 0x6C], vec![0x1F, 0x3C]);
        } else {
            record(&[0x8C | low, dife, 0x06], energy);
            record(&[0x82 | low, dife, 0x6C], vec![0x1F, 0x3C]);
        }
    }
    TelegramTemplate {
        name: format!("synthetic-{variant}"),
        bodies: vec![Body { ci: 0x72, data }],
    }
}

/// The long frames (RSP_UD) of `frames`, each as a telegram body.
fn bodies_of(name: &str, frames: &[&[u8]]) -> Result<Vec<Body>, SimError> {
    let mut bodies = Vec::with_capacity(frames.len());
    for (i, bytes) in frames.iter().enumerate() {
        let frame = Frame::parse_exact(bytes).map_err(|source| SimError::Frame {
            name: format!("{name} telegram {}", i + 1),
            source,
        })?;
        match frame {
            Frame::Long {
                control, ci, data, ..
            } if !control.is_from_master() => bodies.push(Body {
                ci,
                data: data.to_vec(),
            }),
            _ => {
                return Err(SimError::NotADataFrame {
                    name: format!("{name} telegram {}", i + 1),
                })
            }
        }
    }
    Ok(bodies)
}

/// Splits bytes holding frames back to back into the frames; `name` names the input in errors.
pub fn split_frames<'a>(name: &str, bytes: &'a [u8]) -> Result<Vec<&'a [u8]>, SimError> {
    let mut frames = Vec::new();
    let mut offset = 0;
    while let Some(rest) = bytes.get(offset..).filter(|rest| !rest.is_empty()) {
        let telegram = || format!("{name} telegram {} (file byte {offset})", frames.len() + 1);
        match Frame::parse(rest) {
            Ok(Parsed::Complete { consumed, .. }) => {
                frames.push(rest.get(..consumed).unwrap_or(rest));
                offset += consumed;
            }
            Ok(Parsed::Incomplete { .. }) => {
                let source = match Frame::parse_exact(rest) {
                    Err(e) => e,
                    Ok(_) => FrameError::Truncated {
                        offset: rest.len(),
                        needed: 1,
                    },
                };
                return Err(SimError::Frame {
                    name: telegram(),
                    source,
                });
            }
            Err(source) => {
                return Err(SimError::Frame {
                    name: telegram(),
                    source,
                })
            }
        }
    }
    Ok(frames)
}

/// A captured telegram file: lenient hex (see [`mbus_proto::hex`]) holding one or more slave
/// data frames back to back (whitespace or newlines between them are fine), replayed as
/// captured (see [`TelegramTemplate::captured`]). The template is named after the file.
pub fn load_file(path: &Path) -> Result<TelegramTemplate, SimError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| SimError::Io {
        path: name.clone(),
        source,
    })?;
    let bytes = parse_hex(&text).map_err(|source| SimError::Hex {
        name: name.clone(),
        source,
    })?;
    let frames = split_frames(&name, &bytes)?;
    TelegramTemplate::captured(&name, &frames)
}

/// Every `.hex` file under `dir` that holds one slave data frame, as a single-telegram template,
/// sorted by file name. Files holding other frames (errors, master requests) are left out.
pub fn load_dir(dir: &Path) -> Result<Vec<TelegramTemplate>, SimError> {
    let io_error = |source| SimError::Io {
        path: dir.display().to_string(),
        source,
    };
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(io_error)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "hex"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(|source| SimError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let name = path
            .file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        if let Ok(t) = TelegramTemplate::from_hex(&name, &text) {
            out.push(t);
        }
    }
    Ok(out)
}
