//! Addresses: primary addresses, the 8-byte secondary address, manufacturer codes,
//! secondary-address masks with wildcards, and the bus baud rates.
//!
//! ```
//! use mbus_proto::address::{SecondaryAddress, SecondaryMask};
//!
//! // Written as libmbus writes it: ident digits, then manufacturer, version and medium bytes
//! // in wire order (`2D 2C` is KAM).
//! let meter: SecondaryAddress = "123456782D2C0B04".parse()?;
//! assert_eq!(meter.ident, 12_345_678);
//! assert_eq!(&meter.manufacturer_letters(), b"KAM");
//! assert_eq!(meter.to_string(), "123456782D2C0B04");
//! let mask: SecondaryMask = "1234FFFFFFFFFFFF".parse()?;
//! assert!(mask.matches(&meter));
//! # Ok::<(), mbus_proto::address::AddressError>(())
//! ```
//!
//! Primary addresses and manufacturers have their own types, parsed and shown as people write
//! them:
//!
//! ```
//! use mbus_proto::address::{Manufacturer, PrimaryAddress};
//!
//! let address: PrimaryAddress = "5".parse()?;
//! assert_eq!(address.get(), 5);
//! assert!("254".parse::<PrimaryAddress>().is_err()); // a broadcast names no single meter
//! let kamstrup: Manufacturer = "KAM".parse()?;
//! assert_eq!(kamstrup.code(), 0x2C2D);
//! assert_eq!(kamstrup.to_string(), "KAM");
//! # Ok::<(), mbus_proto::address::AddressError>(())
//! ```

use core::fmt;
use core::str::FromStr;

/// Primary address a master uses to talk to the slave selected by secondary address.
pub const SELECTED_ADDRESS: u8 = 253;
/// Broadcast address; every slave answers (and collides).
pub const BROADCAST_REPLY: u8 = 254;
/// Broadcast address; no slave answers.
pub const BROADCAST_NO_REPLY: u8 = 255;
/// The highest primary address a meter may have.
pub const MAX_PRIMARY: u8 = 250;

/// Why an address text or value is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddressError {
    /// The text does not have 16 characters.
    #[error("secondary address must have 16 hex characters, got {0}")]
    Length(usize),
    /// A character is not a hex digit (or, in a mask, not a hex digit or `F`/`?`).
    #[error("character {position} ('{found}') is not a hex digit")]
    BadCharacter {
        /// Zero-based position in the text.
        position: usize,
        /// The offending character.
        found: char,
    },
    /// The identification number holds a non-decimal digit.
    #[error("identification number digit {position} is 0x{nibble:X}, not a decimal digit")]
    IdentNotBcd {
        /// Zero-based digit position, most significant first.
        position: usize,
        /// The non-decimal nibble.
        nibble: u8,
    },
    /// The baud rate is not one M-Bus uses.
    #[error("{0} baud is not an M-Bus baud rate (300, 600, 1200, 2400, 4800, 9600, 19200, 38400)")]
    BaudRate(u32),
    /// A primary address text that is not a number 0…255.
    #[error("a primary address is a number from 0 to {MAX_PRIMARY}")]
    PrimaryText,
    /// A broadcast address (254, 255) where one meter must be named.
    #[error("{0} is a broadcast address: every meter on the bus would take it; name one meter (0…{MAX_PRIMARY})")]
    Broadcast(u8),
    /// An address above the meters' range that is no broadcast (251…253).
    #[error("{0} is reserved (251…253); a meter's primary address is 0…{MAX_PRIMARY}")]
    ReservedPrimary(u8),
    /// A manufacturer text that is not three letters A…Z.
    #[error("a manufacturer is three letters A to Z")]
    ManufacturerText,
    /// A baud rate that is not a number.
    #[error("a baud rate is a number of bits per second (300, 600, 1200, 2400, 4800, 9600, 19200, 38400)")]
    BaudRateText,
}

/// The primary address of one meter, 0…250 (the broadcast and select addresses 251…255 name
/// no single meter and are refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PrimaryAddress(u8);

impl PrimaryAddress {
    /// The address `address`, if a meter can have it.
    pub const fn new(address: u8) -> Result<PrimaryAddress, AddressError> {
        match address {
            0..=MAX_PRIMARY => Ok(PrimaryAddress(address)),
            BROADCAST_REPLY | BROADCAST_NO_REPLY => Err(AddressError::Broadcast(address)),
            _ => Err(AddressError::ReservedPrimary(address)),
        }
    }

    /// The address byte.
    pub const fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for PrimaryAddress {
    type Error = AddressError;

    fn try_from(address: u8) -> Result<PrimaryAddress, AddressError> {
        PrimaryAddress::new(address)
    }
}

impl From<PrimaryAddress> for u8 {
    fn from(address: PrimaryAddress) -> u8 {
        address.0
    }
}

/// Decimal, as people and libmbus's tools write it (`5`).
impl FromStr for PrimaryAddress {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<PrimaryAddress, AddressError> {
        let address = s
            .trim()
            .parse::<u8>()
            .map_err(|_| AddressError::PrimaryText)?;
        PrimaryAddress::new(address)
    }
}

impl fmt::Display for PrimaryAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where a request goes: one meter by its [`PrimaryAddress`], or one of the special addresses
/// (253 for the meter selected by secondary address, 254 and 255 for every meter). Every value
/// is a valid address byte; the reserved 251 and 252 cannot be made.
///
/// ```
/// use mbus_proto::address::{LinkAddress, PrimaryAddress};
///
/// let meter = LinkAddress::from(PrimaryAddress::new(5)?);
/// assert_eq!(meter.byte(), 5);
/// assert_eq!(LinkAddress::Selected.byte(), 253);
/// assert_eq!(LinkAddress::try_from(255)?, LinkAddress::BroadcastNoReply);
/// assert!(LinkAddress::try_from(251).is_err());
/// # Ok::<(), mbus_proto::address::AddressError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkAddress {
    /// One meter, 0…250.
    Meter(PrimaryAddress),
    /// 253: the meter selected by secondary address.
    Selected,
    /// 254: every meter, and every meter answers (so only useful with one meter on the bus).
    BroadcastReply,
    /// 255: every meter, none answers.
    BroadcastNoReply,
}

impl LinkAddress {
    /// The address byte of the request.
    pub const fn byte(self) -> u8 {
        match self {
            LinkAddress::Meter(address) => address.get(),
            LinkAddress::Selected => SELECTED_ADDRESS,
            LinkAddress::BroadcastReply => BROADCAST_REPLY,
            LinkAddress::BroadcastNoReply => BROADCAST_NO_REPLY,
        }
    }
}

impl From<PrimaryAddress> for LinkAddress {
    fn from(address: PrimaryAddress) -> LinkAddress {
        LinkAddress::Meter(address)
    }
}

impl TryFrom<u8> for LinkAddress {
    type Error = AddressError;

    /// 0…250 and 253…255; the reserved 251 and 252 are refused.
    fn try_from(byte: u8) -> Result<LinkAddress, AddressError> {
        match byte {
            SELECTED_ADDRESS => Ok(LinkAddress::Selected),
            BROADCAST_REPLY => Ok(LinkAddress::BroadcastReply),
            BROADCAST_NO_REPLY => Ok(LinkAddress::BroadcastNoReply),
            _ => PrimaryAddress::new(byte).map(LinkAddress::Meter),
        }
    }
}

impl From<LinkAddress> for u8 {
    fn from(address: LinkAddress) -> u8 {
        address.byte()
    }
}

/// The address byte in decimal (`5`, `253`).
impl fmt::Display for LinkAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.byte())
    }
}

/// A manufacturer: three letters A…Z packed into 15 bits, as the M field carries them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Manufacturer(pub u16);

impl Manufacturer {
    /// The packed code as sent (`0x2C2D` for `KAM`).
    pub const fn code(self) -> u16 {
        self.0
    }

    /// The three letters (`b"KAM"`); codes with bits outside `A`…`Z` give other ASCII bytes.
    pub fn letters(self) -> [u8; 3] {
        manufacturer_letters(self.0)
    }
}

/// The three letters (`KAM`).
impl fmt::Display for Manufacturer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for letter in self.letters() {
            fmt::Write::write_char(f, char::from(letter))?;
        }
        Ok(())
    }
}

/// Three letters, upper or lower case (`KAM`, `kam`).
impl FromStr for Manufacturer {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<Manufacturer, AddressError> {
        let letters: &[u8; 3] = s
            .as_bytes()
            .try_into()
            .map_err(|_| AddressError::ManufacturerText)?;
        manufacturer_code(letters)
            .map(Manufacturer)
            .ok_or(AddressError::ManufacturerText)
    }
}

/// A slave's secondary address: 8-digit identification number, manufacturer, version, medium.
///
/// Displayed (and parsed) the way libmbus and the tools built on it write it, so a string
/// pasted between tools selects the same meter: the 8 ident digits, then the manufacturer
/// (low byte first, as on the wire), version and medium bytes as hex, 16 characters in all.
/// A Kamstrup meter (`KAM`, code 0x2C2D, wire bytes `2D 2C`) with ident 12345678, version 0x0B
/// and medium 0x04 is `123456782D2C0B04`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SecondaryAddress {
    /// Identification number, 0…99 999 999 (sent as 8 BCD digits).
    pub ident: u32,
    /// Manufacturer code as on the wire (three letters packed in 15 bits).
    pub manufacturer: u16,
    /// Version / generation.
    pub version: u8,
    /// Medium (device type) code.
    pub medium: u8,
}

impl SecondaryAddress {
    /// The 8 bytes in wire order: ident (BCD, least significant byte first), manufacturer
    /// (little endian), version, medium.
    pub fn to_bytes(&self) -> [u8; 8] {
        let mut out = [0u8; 8];
        let mut rest = self.ident;
        for byte in out.iter_mut().take(4) {
            let lo = (rest % 10) as u8;
            rest /= 10;
            let hi = (rest % 10) as u8;
            rest /= 10;
            *byte = (hi << 4) | lo;
        }
        out[4..6].copy_from_slice(&self.manufacturer.to_le_bytes());
        out[6] = self.version;
        out[7] = self.medium;
        out
    }

    /// Reads the 8 wire bytes; fails if the ident is not BCD.
    pub fn from_bytes(bytes: [u8; 8]) -> Result<Self, AddressError> {
        let mut ident = 0u32;
        let [i0, i1, i2, i3, m0, m1, version, medium] = bytes;
        for (i, &b) in [i3, i2, i1, i0].iter().enumerate() {
            for (j, nibble) in [b >> 4, b & 0x0F].into_iter().enumerate() {
                if nibble > 9 {
                    return Err(AddressError::IdentNotBcd {
                        position: i * 2 + j,
                        nibble,
                    });
                }
                ident = ident * 10 + u32::from(nibble);
            }
        }
        Ok(SecondaryAddress {
            ident,
            manufacturer: u16::from_le_bytes([m0, m1]),
            version,
            medium,
        })
    }

    /// The manufacturer code as three letters (e.g. `KAM`).
    pub fn manufacturer_letters(&self) -> [u8; 3] {
        manufacturer_letters(self.manufacturer)
    }

    /// The manufacturer, shown as its letters.
    pub fn manufacturer_id(&self) -> Manufacturer {
        Manufacturer(self.manufacturer)
    }
}

/// Decodes a packed manufacturer code into its three letters (`A` = 1 … `Z` = 26 per 5 bits).
pub fn manufacturer_letters(code: u16) -> [u8; 3] {
    let letter = |shift: u16| (((code >> shift) & 0x1F) as u8).wrapping_add(64);
    [letter(10), letter(5), letter(0)]
}

/// Packs three letters into a manufacturer code, or `None` if a letter is not `A`…`Z`.
pub fn manufacturer_code(letters: &[u8; 3]) -> Option<u16> {
    letters.iter().try_fold(0u16, |acc, &l| {
        let l = l.to_ascii_uppercase();
        l.is_ascii_uppercase()
            .then(|| (acc << 5) | u16::from(l - 64))
    })
}

impl fmt::Display for SecondaryAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:08}{:02X}{:02X}{:02X}{:02X}",
            self.ident,
            self.manufacturer & 0xFF,
            self.manufacturer >> 8,
            self.version,
            self.medium
        )
    }
}

impl FromStr for SecondaryAddress {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<Self, AddressError> {
        let nibbles = parse_nibbles(s, false)?;
        let mut ident = 0u32;
        for (position, &n) in nibbles[..8].iter().enumerate() {
            if n > 9 {
                return Err(AddressError::IdentNotBcd {
                    position,
                    nibble: n,
                });
            }
            ident = ident * 10 + u32::from(n);
        }
        let [_, _, _, _, _, _, _, _, m0, m1, m2, m3, v0, v1, d0, d1] = nibbles;
        let byte = |high: u8, low: u8| (high << 4) | low;
        Ok(SecondaryAddress {
            ident,
            manufacturer: u16::from_le_bytes([byte(m0, m1), byte(m2, m3)]),
            version: byte(v0, v1),
            medium: byte(d0, d1),
        })
    }
}

/// 16 nibbles from text, most significant first; `?` is accepted as `F` when `wildcards`.
fn parse_nibbles(s: &str, wildcards: bool) -> Result<[u8; 16], AddressError> {
    let count = s.chars().count();
    if count != 16 {
        return Err(AddressError::Length(count));
    }
    let mut out = [0u8; 16];
    for (position, (slot, c)) in out.iter_mut().zip(s.chars()).enumerate() {
        *slot = match c {
            '?' if wildcards => 0xF,
            c => c
                .to_digit(16)
                .map(|d| d as u8)
                .ok_or(AddressError::BadCharacter { position, found: c })?,
        };
    }
    Ok(out)
}

/// A secondary-address pattern for the select command: each nibble is a value or `F`, a wildcard.
///
/// Stored in wire order like [`SecondaryAddress::to_bytes`]. A slave matches when every
/// non-wildcard nibble equals its own. Its text has the layout of [`SecondaryAddress`]'s
/// (libmbus's): ident digits most significant first, then manufacturer, version and medium
/// bytes in wire order, so `FFFFFFFF2D2CFFFF` selects every Kamstrup meter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SecondaryMask {
    bytes: [u8; 8],
}

impl SecondaryMask {
    /// The mask that matches every slave.
    pub const ALL: SecondaryMask = SecondaryMask { bytes: [0xFF; 8] };

    /// A mask from its 8 wire bytes.
    pub fn from_bytes(bytes: [u8; 8]) -> Self {
        SecondaryMask { bytes }
    }

    /// The mask that matches exactly this address.
    pub fn exact(address: &SecondaryAddress) -> Self {
        SecondaryMask {
            bytes: address.to_bytes(),
        }
    }

    /// The 8 wire bytes.
    pub fn to_bytes(&self) -> [u8; 8] {
        self.bytes
    }

    /// The nibble at display position `i` (0…15, as in the 16-character text); positions past
    /// the end read as a wildcard (0xF).
    pub fn nibble(&self, i: usize) -> u8 {
        let (byte, high) = display_nibble_position(i);
        let b = self.bytes.get(byte).copied().unwrap_or(0xFF);
        if high {
            b >> 4
        } else {
            b & 0x0F
        }
    }

    /// This mask with the nibble at display position `i` (0…15) set to `value` (0xF = wildcard);
    /// a position past the end leaves the mask as it is.
    pub fn with_nibble(mut self, i: usize, value: u8) -> Self {
        let (byte, high) = display_nibble_position(i);
        let Some(b) = self.bytes.get_mut(byte) else {
            return self;
        };
        *b = if high {
            (*b & 0x0F) | (value << 4)
        } else {
            (*b & 0xF0) | (value & 0x0F)
        };
        self
    }

    /// True when a slave with the given wire-order address bytes answers this select.
    pub fn matches_bytes(&self, address: &[u8; 8]) -> bool {
        self.bytes.iter().zip(address).all(|(&m, &a)| {
            (m >> 4 == 0xF || m >> 4 == a >> 4) && (m & 0x0F == 0x0F || m & 0x0F == a & 0x0F)
        })
    }

    /// True when the slave with this address answers this select.
    pub fn matches(&self, address: &SecondaryAddress) -> bool {
        self.matches_bytes(&address.to_bytes())
    }
}

/// Display position 0…15 → (wire byte index, high nibble?).
fn display_nibble_position(i: usize) -> (usize, bool) {
    let byte_in_display = i / 2;
    let high = i.is_multiple_of(2);
    let wire = match byte_in_display {
        0..=3 => 3 - byte_in_display, // ident: most significant digits are sent last
        other => other,               // manufacturer (4, 5), version (6), medium (7): wire order
    };
    (wire, high)
}

impl fmt::Display for SecondaryMask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for i in 0..16 {
            write!(f, "{:X}", self.nibble(i))?;
        }
        Ok(())
    }
}

impl FromStr for SecondaryMask {
    type Err = AddressError;

    /// 16 hex characters, `F` or `?` for a wildcard nibble.
    fn from_str(s: &str) -> Result<Self, AddressError> {
        let nibbles = parse_nibbles(s, true)?;
        Ok(nibbles
            .iter()
            .enumerate()
            .fold(SecondaryMask::ALL, |m, (i, &n)| m.with_nibble(i, n)))
    }
}

/// The baud rates of wired M-Bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BaudRate {
    /// 300 baud.
    B300,
    /// 600 baud.
    B600,
    /// 1200 baud.
    B1200,
    /// 2400 baud, the usual default.
    B2400,
    /// 4800 baud.
    B4800,
    /// 9600 baud.
    B9600,
    /// 19200 baud.
    B19200,
    /// 38400 baud.
    B38400,
}

impl BaudRate {
    /// All rates, slowest first.
    pub const ALL: [BaudRate; 8] = [
        BaudRate::B300,
        BaudRate::B600,
        BaudRate::B1200,
        BaudRate::B2400,
        BaudRate::B4800,
        BaudRate::B9600,
        BaudRate::B19200,
        BaudRate::B38400,
    ];

    /// Bits per second.
    pub fn bps(self) -> u32 {
        300 << (self as u32)
    }

    /// The CI field (0xB8…0xBF) that switches a slave to this rate.
    pub fn switch_ci(self) -> u8 {
        0xB8 + self as u8
    }

    /// The rate a baud-switch CI field selects.
    pub fn from_switch_ci(ci: u8) -> Option<BaudRate> {
        ci.checked_sub(0xB8)
            .and_then(|i| BaudRate::ALL.get(usize::from(i)).copied())
    }

    /// The rate for a number of bits per second.
    pub fn from_bps(bps: u32) -> Result<BaudRate, AddressError> {
        BaudRate::ALL
            .into_iter()
            .find(|b| b.bps() == bps)
            .ok_or(AddressError::BaudRate(bps))
    }
}

/// Bits per second as text (`"2400"`), as the CLI, the configuration and the daemon take it.
///
/// ```
/// use mbus_proto::address::BaudRate;
/// assert_eq!("9600".parse(), Ok(BaudRate::B9600));
/// assert!("2401".parse::<BaudRate>().is_err());
/// assert!("fast".parse::<BaudRate>().is_err());
/// ```
impl FromStr for BaudRate {
    type Err = AddressError;

    fn from_str(s: &str) -> Result<BaudRate, AddressError> {
        let s = s.trim();
        let bps = s.parse::<u32>().map_err(|_| AddressError::BaudRateText)?;
        BaudRate::from_bps(bps)
    }
}

impl fmt::Display for BaudRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.bps())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secondary_address_wire_and_text() {
        // The manufacturer bytes appear in the text as on the wire (libmbus's layout).
        let a: SecondaryAddress = "068558172D2C0804".parse().unwrap();
        assert_eq!(
            a.to_bytes(),
            [0x17, 0x58, 0x85, 0x06, 0x2D, 0x2C, 0x08, 0x04]
        );
        assert_eq!(SecondaryAddress::from_bytes(a.to_bytes()).unwrap(), a);
        assert_eq!(a.to_string(), "068558172D2C0804");
        assert_eq!(a.manufacturer, 0x2C2D);
        assert_eq!(&a.manufacturer_letters(), b"KAM");
        assert_eq!(manufacturer_code(b"KAM"), Some(0x2C2D));
    }

    #[test]
    fn masks_match_nibblewise() {
        let a: SecondaryAddress = "068558172D2C0804".parse().unwrap();
        for text in [
            "FFFFFFFFFFFFFFFF",
            "0685FFFFFFFFFFFF",
            "F6F5F8F7FFFFFFFF",
            "FFFFFFFF2D2CFFFF",
            "FFFFFFFFF?2CF?FF",
        ] {
            assert!(text.parse::<SecondaryMask>().unwrap().matches(&a), "{text}");
        }
        // The manufacturer as a 16-bit number (high byte first) is not the text form.
        for text in ["1FFFFFFFFFFFFFFF", "FFFFFFFFFFFFFF05", "FFFFFFFF2C2DFFFF"] {
            assert!(
                !text.parse::<SecondaryMask>().unwrap().matches(&a),
                "{text}"
            );
        }
        let m: SecondaryMask = "0685????FFFFFFFF".parse().unwrap();
        assert_eq!(m.to_string(), "0685FFFFFFFFFFFF");
        assert_eq!(m.nibble(1), 6);
        assert_eq!(m.with_nibble(4, 5).to_string(), "06855FFFFFFFFFFF");
        // Manufacturer nibbles: positions 8…11 are the wire bytes 4 and 5, in that order.
        let k = SecondaryMask::ALL.with_nibble(8, 2).with_nibble(9, 0xD);
        assert_eq!(k.to_bytes()[4], 0x2D);
        assert_eq!(k.to_string(), "FFFFFFFF2DFFFFFF");
    }

    #[test]
    fn bad_text_names_the_position() {
        assert_eq!(
            "12345678C5140B0".parse::<SecondaryAddress>(),
            Err(AddressError::Length(15))
        );
        assert_eq!(
            "1234567AC5140B04".parse::<SecondaryAddress>(),
            Err(AddressError::IdentNotBcd {
                position: 7,
                nibble: 0xA
            })
        );
        assert_eq!(
            "12345678C5140B0Z".parse::<SecondaryAddress>(),
            Err(AddressError::BadCharacter {
                position: 15,
                found: 'Z'
            })
        );
    }

    #[test]
    fn baud_rates() {
        assert_eq!(BaudRate::B2400.bps(), 2400);
        assert_eq!(BaudRate::B38400.switch_ci(), 0xBF);
        assert_eq!(BaudRate::from_switch_ci(0xBB), Some(BaudRate::B2400));
        assert_eq!(BaudRate::from_bps(2401), Err(AddressError::BaudRate(2401)));
    }
}
