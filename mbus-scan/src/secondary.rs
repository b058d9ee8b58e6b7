//! The adaptive secondary-address search.
//!
//! The secondary address has 16 nibbles: 8 identification digits (BCD, 0–9), then manufacturer
//! (4), version (2) and medium (2), whose nibbles take all 16 values. A select mask fixes some
//! nibbles and leaves the others at `F`, the wildcard. Every matching meter answers `E5`; two or
//! more usually garble each other. The search is a tree over masks, and it is built to spend as
//! little *bus time* as possible:
//!
//! - **Which nibble to split next is chosen per node.** Identification digits come first, never
//!   the manufacturer/version/medium nibbles while a digit is still open (meters rarely differ
//!   only there). Before anything is known the digits go most significant first. Once at least
//!   a quarter of neighbouring found serials lie less than 10 000 apart (batches, not chance),
//!   the digits in which those near-neighbours differ show where batches of consecutive serials
//!   vary: in every node with at least three leading digits fixed (narrow enough to hold one
//!   batch), splitting starts at the highest such digit, so the shared prefix of a batch is
//!   never split at all (ten probes saved per prefix digit and per batch), and the higher digits
//!   are split only when a node still collides. Wider nodes keep the most significant digits
//!   first: several batches there would share the low digits and collide value after value.
//! - **Implied outcomes are not probed.** When a node collided and all its children but the last
//!   were silent, the last holds the meters: it is split without a probe. A known meter inside a
//!   mask tells the outcome too (two known meters: a collision, no probe needed).
//! - **Runs of consecutive serials are followed.** When the two serials just below a node's
//!   lowest one are known, that lowest serial is selected alone (all eight digits fixed) before
//!   the node itself: an `E5` proves the node and every node on the way down occupied without
//!   probing them (one probe per ten meters saved on a run); silence ends the run and the node
//!   is probed as usual. If the serial after that lowest one is silent, the run may have ended
//!   there: the node's own select, and a read after its `E5`, decide whether anything else is
//!   inside (meters answering after the same delay send one clean `E5` together; only their
//!   telegrams tell them apart).
//! - **Reads only where needed.** Selects decide the tree; a REQ_UD2 is sent only after a clean
//!   `E5`, and it fetches the telegram the report needs anyway. A garbled read means several
//!   meters with simultaneous `E5`s: the node is split like a collision.
//! - **Timeouts exactly as the standard needs.** Silence costs the EN 13757-2 response window
//!   once. After an `E5` the master waits the full window only at depths where collisions have
//!   been the common outcome so far; elsewhere it goes straight to the read.
//! - **Retries only where an outcome is ambiguous.** A silent select is final unless a known
//!   meter should have answered. A collided node whose children turn out to hold fewer than two
//!   meters (noise, or a meter that missed a probe) is probed again; if it still collides, its
//!   silent children get a second probe. A fully specified mask that collides is probed again
//!   before the address is reported as shared by several meters. A silent retry after a garbled
//!   read does not undo it: noise on the request may have kept every meter from hearing it.
//! - **Each address is reported once per baud rate.** A meter met again (its first look cut
//!   short by noise or a missed request) completes its entry: an unreadable one gets its
//!   telegram, and an address found shared on the second look turns into a shared entry.
//!
//! **Nibble `F` in manufacturer, version or medium.** Probing value `F` selects everything, so a
//! split of such a nibble probes 0–E and leaves a *remainder*: the meters whose nibble really is
//! `F`. The remainder cannot be probed directly; it is inferred. If all 15 children are silent,
//! the remainder is the whole node: the nibble is marked as known-`F` and the node is split on
//! another nibble without a new probe. If the children hold fewer meters than the node's
//! collision calls for, the remainder is checked with the node's own mask, the found meters
//! being known (one known meter: its clean telegram proves the remainder empty; two or more: the
//! mask is split further). A meter whose `F` nibbles make it inseparable from another meter
//! (every mask selecting it selects the other) can only be detected, not isolated, and a node
//! whose collision the 15 children already explain is not searched for a remainder.
//!
//! **Several meters with one identification number.** When all eight digits are fixed and the
//! node still collides, the manufacturer/version/medium combinations of meters found so far are
//! tried first: that finds duplicate addresses and multi-channel devices in a few probes instead
//! of eight nibble splits. When those probes already explain the collision (an address shared by
//! several meters), the ident is not searched further, so a third meter on the same ident with a
//! combination never seen before would stay hidden.

use crate::bus::{Listen, ReadReply, ScanBus, SelectReply};
use crate::progress::Probe;
use crate::report::{FoundMeter, FoundStatus};
use crate::session::{Session, Stop};
use mbus_link::ReplyFrame;
use mbus_proto::address::{BaudRate, LinkAddress, SecondaryAddress, SecondaryMask};

/// What a secondary scan searches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecondaryOptions {
    /// Only meters matching this mask are searched (default: all). Fix an ident prefix, a
    /// manufacturer, version or medium to narrow the scan.
    pub mask: SecondaryMask,
    /// The baud rates to scan, in order; empty means the bus's current rate.
    pub bauds: Vec<BaudRate>,
    /// For noisy buses and meters that miss requests: probe every silent mask twice, and select
    /// and read every identified meter's mask once more, so a meter that misses any one request
    /// is still found; a full address whose telegram comes back garbled twice is selected and
    /// read once more before it counts as shared by several meters. Costs about 1.7 times the bus time (default off).
    pub thorough: bool,
}

impl Default for SecondaryOptions {
    fn default() -> Self {
        SecondaryOptions {
            mask: SecondaryMask::ALL,
            bauds: Vec::new(),
            thorough: false,
        }
    }
}

/// Fields a secondary scan can be narrowed to, as a technician names them; open when `None`.
///
/// ```
/// use mbus_proto::address::{manufacturer_code, SecondaryMask};
/// use mbus_scan::secondary::Narrowing;
///
/// let narrow = Narrowing {
///     ident_prefix: "1234".into(),
///     manufacturer: manufacturer_code(b"KAM"),
///     medium: Some(0x04),
///     ..Narrowing::default()
/// };
/// // KAM is sent as `2D 2C`; the mask reads as libmbus writes it.
/// assert_eq!(narrow.apply(SecondaryMask::ALL)?.to_string(), "1234FFFF2D2CFF04");
/// # Ok::<(), mbus_scan::secondary::NarrowingError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Narrowing {
    /// Leading digits of the identification number (0 to 8 decimal digits).
    pub ident_prefix: String,
    /// Manufacturer code (see [`mbus_proto::address::manufacturer_code`]).
    pub manufacturer: Option<u16>,
    /// Version byte.
    pub version: Option<u8>,
    /// Medium byte.
    pub medium: Option<u8>,
}

/// Why a [`Narrowing`] cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NarrowingError {
    /// The ident prefix is longer than 8 digits or holds something else than digits.
    #[error("ident prefix '{0}' is not 0 to 8 decimal digits")]
    IdentPrefix(String),
}

impl Narrowing {
    /// `mask` with the given fields fixed.
    pub fn apply(&self, mask: SecondaryMask) -> Result<SecondaryMask, NarrowingError> {
        let prefix = self.ident_prefix.as_bytes();
        if prefix.len() > IDENT_DIGITS || !prefix.iter().all(u8::is_ascii_digit) {
            return Err(NarrowingError::IdentPrefix(self.ident_prefix.clone()));
        }
        let mut mask = (0..)
            .zip(prefix)
            .fold(mask, |m, (i, d)| m.with_nibble(i, d - b'0'));
        let mut set = |first: usize, byte: u8| {
            mask = mask
                .with_nibble(first, byte >> 4)
                .with_nibble(first + 1, byte & 0x0F);
        };
        if let Some(code) = self.manufacturer {
            // Wire order: low byte first.
            let [low, high] = code.to_le_bytes();
            set(8, low);
            set(10, high);
        }
        if let Some(version) = self.version {
            set(12, version);
        }
        if let Some(medium) = self.medium {
            set(14, medium);
        }
        Ok(mask)
    }
}

impl SecondaryOptions {
    /// The most requests (selects and data requests) a secondary scan sends at one baud rate
    /// once it has found `found` meters there: [`REQUESTS_PER_METER`] for each meter found and
    /// once more. A search that reaches it has met far more garbled replies than its meters
    /// explain and stops with a garbled line.
    ///
    /// ```
    /// use mbus_scan::SecondaryOptions;
    /// assert_eq!(SecondaryOptions::max_requests(0), 512);
    /// assert_eq!(SecondaryOptions::max_requests(250), 512 * 251);
    /// ```
    pub fn max_requests(found: usize) -> u64 {
        REQUESTS_PER_METER * (found as u64 + 1)
    }
}

/// Requests a secondary search may spend per meter found (and once before the first): pinning
/// one address down nibble by nibble takes at most 8 × 10 + 8 × 15 = 200 selects, twice that
/// with `thorough`, and the measured populations need 2 to 11 requests per meter.
pub const REQUESTS_PER_METER: u64 = 512;
/// The all-wildcard select is sent this many times before a silent bus counts as empty (a
/// gateway waking up or a burst of noise must not make a populated bus look empty).
pub const EMPTY_BUS_PROBES: u32 = 3;

/// Display positions of the identification digits.
const IDENT_DIGITS: usize = 8;
/// Manufacturer/version/medium nibbles in the order they are split: media and versions tell
/// the channels of one device apart more often than manufacturers do.
const HEX_ORDER: [usize; 8] = [14, 15, 12, 13, 8, 9, 10, 11];
/// The wildcard nibble.
const WILDCARD: u8 = 0xF;
/// Listen for the whole window after an `E5` while collisions are at least one in this many
/// answers at a depth.
const WINDOW_WORTH: u32 = 10;
/// Batch digits are split first only in nodes with at least this many of the higher digits
/// fixed (a node spanning 100 000 serials seldom holds two batches).
const BATCH_NODE_DIGITS: usize = 3;
/// Serials at most this far apart count as one run (batch) when learning where batches vary.
const RUN_GAP: u32 = 16;
/// At most this many manufacturer/version/medium combinations are tried for one meter whose
/// telegram has no address, before its nibbles are searched (each of those probes finds the
/// one meter or nothing, a nibble search of about 24 probes always finds it).
const MAX_MODEL_GUESSES: usize = 8;
/// At most this many known manufacturer/version/medium combinations are tried on one ident.
const MAX_MODEL_PROBES: usize = 48;

/// What is known about a node's meters before its children are searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Evidence {
    /// Nothing yet: probe it.
    Unprobed,
    /// Its select (or read) came back garbled: probably several meters.
    Collided,
    /// Not probed: its siblings' silence says it holds its parent's collision.
    Implied,
    /// Known meters inside the mask make it collide, or a run's lowest serial answered alone;
    /// it may hold nothing else.
    Covered,
    /// Exactly one meter, which acknowledges selects but could not be identified by a read.
    Unidentified,
}

/// A lower bound on the meters found in a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Tally {
    Empty,
    One,
    Many,
}

impl Tally {
    fn plus(self, other: Tally) -> Tally {
        match (self, other) {
            (Tally::Empty, t) | (t, Tally::Empty) => t,
            _ => Tally::Many,
        }
    }
}

/// A mask to resolve. `known_f` marks nibbles split already whose remaining meters hold a real
/// `F` there (the mask shows a wildcard).
#[derive(Debug, Clone, Copy)]
struct Node {
    mask: SecondaryMask,
    known_f: u16,
    evidence: Evidence,
    /// Share of the search space, for progress.
    weight: f64,
}

impl Node {
    fn with(self, evidence: Evidence) -> Node {
        Node { evidence, ..self }
    }

    fn is_free(&self, position: usize) -> bool {
        self.mask.nibble(position) == WILDCARD && self.known_f & (1 << position) == 0
    }

    fn depth(&self) -> usize {
        (0..16).filter(|&p| !self.is_free(p)).count()
    }
}

/// A meter found in this search, as select masks see it.
struct Known {
    bytes: [u8; 8],
    /// 2 for an address shared by several meters.
    weight: usize,
    /// Its entry in the session's report.
    entry: usize,
}

pub(crate) fn scan<B: ScanBus>(
    session: &mut Session<'_, '_, B>,
    options: &SecondaryOptions,
) -> Result<(), Stop<B::Error>> {
    session.watch_line(REQUESTS_PER_METER, REQUESTS_PER_METER);
    let mut search = Search {
        root: options.mask,
        session,
        thorough: options.thorough,
        known: Vec::new(),
        batch_start: 0,
        outcomes: [(0, 0); 17],
        pending: None,
        unaddressed_models: Vec::new(),
        crowded_siblings: false,
        run_probed: Vec::new(),
    };
    search.resolve(Node {
        mask: options.mask,
        known_f: 0,
        evidence: Evidence::Unprobed,
        weight: 1.0,
    })?;
    Ok(())
}

struct Search<'x, 's, 'a, B: ScanBus> {
    session: &'x mut Session<'s, 'a, B>,
    /// The mask the whole search covers.
    root: SecondaryMask,
    /// See [`SecondaryOptions::thorough`].
    thorough: bool,
    known: Vec<Known>,
    /// The most significant digit where batches of serials vary (0 while unknown).
    batch_start: usize,
    /// Per depth: (collisions, clean acks) seen, to decide how long to listen after an `E5`.
    outcomes: [(u32, u32); 17],
    /// A telegram without secondary address, waiting for the mask to pin the meter down.
    pending: Option<ReplyFrame>,
    /// Manufacturer/version/medium of meters whose address only the select masks told.
    unaddressed_models: Vec<[u8; 4]>,
    /// Set while probing a child whose earlier sibling held several meters.
    crowded_siblings: bool,
    /// Serials probed alone where a run led into a node, and what they held: the nodes on the
    /// way down to them are not probed again.
    run_probed: Vec<(SecondaryMask, Tally)>,
}

type Res<T, B> = Result<T, Stop<<B as ScanBus>::Error>>;

impl<B: ScanBus> Search<'_, '_, '_, B> {
    fn resolve(&mut self, node: Node) -> Res<Tally, B> {
        let known = self.known_in(&node.mask);
        if known >= 2 {
            return self.split(node.with(Evidence::Covered));
        }
        match node.evidence {
            Evidence::Unprobed => {}
            Evidence::Implied if known == 0 => return self.split(node),
            Evidence::Implied => {}
            _ => return self.split(node),
        }
        let attempts = if node.mask == self.root && node.known_f == 0 {
            // Before the bus counts as empty.
            EMPTY_BUS_PROBES
        } else if known == 1 || self.thorough {
            // A meter known to be inside may have missed the request.
            2
        } else {
            1
        };
        let mut reply = self.select(&node)?;
        for _ in 1..attempts {
            if reply != SelectReply::Silent {
                break;
            }
            reply = self.select(&node)?;
        }
        match reply {
            SelectReply::Silent => {
                self.session.advance(node.weight);
                Ok(Tally::Empty)
            }
            SelectReply::Garbled => self.split(node.with(Evidence::Collided)),
            SelectReply::Ack => self.identify(node, known, true),
        }
    }

    /// After a clean `E5`: read the selected meter's telegram to learn who it is. A garbled
    /// read means several meters behind one `E5`: the node is split, if `split_on_garble`.
    fn identify(&mut self, node: Node, known: usize, split_on_garble: bool) -> Res<Tally, B> {
        let probe = Probe::Secondary {
            mask: node.mask,
            depth: node.depth() as u8,
        };
        let leaf = self.choose_position(&node).is_none();
        let mut reply = self
            .session
            .read(LinkAddress::Selected, false, Listen::Gap, probe)?;
        if reply == ReadReply::Silent || (leaf && reply == ReadReply::Garbled) {
            // The meter may have missed the request, or noise hit the reply where no split can
            // tell a collision from noise: ask once more, same frame count bit.
            let again = self
                .session
                .read(LinkAddress::Selected, false, Listen::Gap, probe)?;
            // Silence after a garbled reply only says the request was lost (noise on it): the
            // garbled reply still shows meters answering, maybe several.
            if !(reply == ReadReply::Garbled && again == ReadReply::Silent) {
                reply = again;
            }
        }
        if leaf && reply == ReadReply::Garbled && self.thorough {
            // Noise may have hit both telegrams of one meter. Meters sharing the address answer
            // a select heard through the whole window with several `E5`s (a garbled reply) or,
            // after the same delay, with one: then the telegrams tell, once more.
            let depth = node.depth() as u8;
            if self.session.select(&node.mask, depth, Listen::Window)? == SelectReply::Ack {
                reply = self
                    .session
                    .read(LinkAddress::Selected, false, Listen::Gap, probe)?;
            }
        }
        match reply {
            ReadReply::Telegram(telegram) => match telegram.secondary_address() {
                Some(address) if self.is_known(&address) => {
                    self.session.advance(node.weight);
                    Ok(Tally::Empty)
                }
                Some(address) => {
                    self.record(address.to_bytes(), FoundStatus::Ok, Some(telegram));
                    if known >= 1 {
                        // The known meter missed this select and another one answered: both
                        // are inside, search on.
                        return Ok(Tally::One.plus(self.split(node.with(Evidence::Covered))?));
                    }
                    if self.thorough && !leaf && self.crowded(&node, &address)? {
                        // Another meter inside had missed the select.
                        return Ok(Tally::Many.max(self.split(node.with(Evidence::Collided))?));
                    }
                    self.session.advance(node.weight);
                    Ok(Tally::One)
                }
                None if leaf => {
                    self.session.advance(node.weight);
                    self.record(node.mask.to_bytes(), FoundStatus::Ok, Some(telegram));
                    Ok(Tally::One)
                }
                None => {
                    self.pending = Some(telegram);
                    self.split(node.with(Evidence::Unidentified))
                }
            },
            ReadReply::Silent if leaf => {
                self.session.advance(node.weight);
                self.record(node.mask.to_bytes(), FoundStatus::Unreadable, None);
                Ok(Tally::One)
            }
            ReadReply::Silent => {
                self.pending = None;
                self.split(node.with(Evidence::Unidentified))
            }
            ReadReply::Garbled if leaf => {
                self.session.advance(node.weight);
                self.record(node.mask.to_bytes(), FoundStatus::DuplicateSecondary, None);
                Ok(Tally::Many)
            }
            ReadReply::Garbled if split_on_garble => {
                // The clean E5 hid a collision: count it as one at this depth.
                let outcome = &mut self.outcomes[node.depth()];
                outcome.0 += 1;
                outcome.1 = outcome.1.saturating_sub(1);
                self.split(node.with(Evidence::Collided))
            }
            ReadReply::Garbled => Ok(Tally::Empty),
        }
    }

    fn split(&mut self, node: Node) -> Res<Tally, B> {
        let Some(position) = self.choose_position(&node) else {
            return self.leaf(node);
        };
        let mut tally = Tally::Empty;
        if position >= IDENT_DIGITS
            && matches!(node.evidence, Evidence::Collided | Evidence::Implied)
        {
            tally = self.try_known_models(&node)?;
            if tally == Tally::Many {
                self.session.advance(node.weight);
                return Ok(tally);
            }
        }
        if node.evidence == Evidence::Unidentified && position >= IDENT_DIGITS {
            if let Some(tally) = self.try_models_for_one(&node)? {
                return Ok(tally);
            }
        }
        let values: u8 = if position < IDENT_DIGITS { 10 } else { 15 };
        let weight = node.weight / f64::from(values);
        let mut quiet = vec![false; usize::from(values)];
        let order = self.value_order(&node, position, values);
        let mut sibling_crowd = false;
        for (index, &value) in order.iter().enumerate() {
            let child_mask = node.mask.with_nibble(position, value);
            let earlier_quiet = order[..index].iter().all(|&v| quiet[usize::from(v)]);
            let last_digit = position < IDENT_DIGITS && index + 1 == order.len();
            let mut child = Node {
                mask: child_mask,
                known_f: node.known_f,
                evidence: Evidence::Unprobed,
                weight,
            };
            if last_digit && earlier_quiet {
                match node.evidence {
                    Evidence::Collided => child.evidence = Evidence::Implied,
                    Evidence::Unidentified => child.evidence = Evidence::Unidentified,
                    _ => {}
                }
            }
            // A sibling that held several meters makes a crowd likely here too: listen for
            // every E5 rather than read into a collision.
            self.crowded_siblings = sibling_crowd;
            let run = if position < IDENT_DIGITS && node.evidence != Evidence::Unidentified {
                self.enter_run(&child)?
            } else {
                None
            };
            let found = match run {
                Some(found) => found,
                None if node.evidence == Evidence::Unidentified => {
                    self.follow_unidentified(child)?
                }
                None => self.resolve(child)?,
            };
            self.crowded_siblings = false;
            sibling_crowd |= found == Tally::Many;
            quiet[usize::from(value)] = found == Tally::Empty && self.known_in(&child_mask) == 0;
            tally = tally.plus(found);
            if node.evidence == Evidence::Unidentified && found != Tally::Empty {
                // Exactly one meter was inside: the rest is empty.
                self.session
                    .advance(weight * (order.len() - index - 1) as f64);
                return Ok(tally);
            }
        }
        let all_quiet = quiet.iter().all(|&q| q);
        let remainder = Node {
            known_f: node.known_f | (1 << position),
            weight: 0.0,
            ..node
        };
        let ambiguous =
            matches!(node.evidence, Evidence::Collided | Evidence::Implied) && tally < Tally::Many;
        if position >= IDENT_DIGITS {
            if all_quiet && node.evidence != Evidence::Covered {
                // All 15 values silent: the meters hold a real F here. Inferred without a probe
                // only from an observed collision, so noise cannot chain inferences.
                let evidence = match node.evidence {
                    Evidence::Unidentified => Evidence::Unidentified,
                    Evidence::Collided => Evidence::Implied,
                    _ => Evidence::Unprobed,
                };
                tally = tally.plus(self.resolve(remainder.with(evidence))?);
            } else if ambiguous {
                tally = tally.plus(self.resolve(remainder.with(Evidence::Unprobed))?);
            }
        } else if ambiguous {
            tally = tally.plus(self.recheck(node, position, &quiet)?);
        }
        Ok(tally)
    }

    /// A run of consecutive serials leads into `child` (the two serials just below its lowest
    /// one are known): its lowest serial is probed alone first, with the other digits fixed to
    /// it. An answer proves the node occupied without probing it, and every node on the way
    /// down to that serial too; silence (the run ended) leaves the node to the ordinary search
    /// (`None`), as does a child that is one serial already. When the serial after the lowest
    /// is silent, the run may have ended right there: the node's own select and a read then
    /// tell whether anything else is inside.
    fn enter_run(&mut self, child: &Node) -> Res<Option<Tally>, B> {
        if child.evidence != Evidence::Unprobed {
            return Ok(None);
        }
        let mut first = child.mask;
        let mut lowest = 0u32;
        for position in 0..IDENT_DIGITS {
            let digit = match first.nibble(position) {
                WILDCARD => 0,
                d if d < 10 => d,
                _ => return Ok(None),
            };
            first = first.with_nibble(position, digit);
            lowest = lowest * 10 + u32::from(digit);
        }
        if let Some(i) = self.run_probed.iter().position(|&(m, _)| m == child.mask) {
            // Probed alone on the way into the node.
            let (_, tally) = self.run_probed.swap_remove(i);
            self.session.advance(child.weight);
            return Ok(Some(tally));
        }
        if self.run_probed.iter().any(|&(m, _)| m == first) {
            // The lowest serial answered already: this node lies on the way down to it.
            return self.split(child.with(Evidence::Covered)).map(Some);
        }
        let run = lowest >= 2 && self.ident_known(lowest - 1) && self.ident_known(lowest - 2);
        if first == child.mask || !run {
            return Ok(None);
        }
        let serial = |mask: SecondaryMask| Node {
            mask,
            evidence: Evidence::Unprobed,
            weight: 0.0,
            ..*child
        };
        let tally = self.resolve(serial(first))?;
        if tally == Tally::Empty {
            return Ok(None);
        }
        let last = IDENT_DIGITS - 1;
        if child.is_free(last) {
            let second = first.with_nibble(last, 1);
            let next = self.resolve(serial(second))?;
            if next == Tally::Empty
                && self.select(child)? == SelectReply::Ack
                && self.only_found_answers(child)?
            {
                // Only the lowest serial answers: the run ended with it.
                self.session.advance(child.weight);
                return Ok(Some(tally));
            }
            self.run_probed.push((second, next));
        }
        self.run_probed.push((first, tally));
        self.split(child.with(Evidence::Covered)).map(Some)
    }

    /// After a clean `E5` from `node`, which holds a meter found already: reads the selected
    /// meters and tells whether that one meter alone answered. The `E5` cannot tell: meters
    /// answering after the same delay send identical `E5`s that overlap into one clean
    /// character, and an `E5` arriving after the listening gap is not waited for. Their
    /// telegrams differ, so a clean one means a single meter answered: the found one, when the
    /// telegram carries its address (or no address at all).
    fn only_found_answers(&mut self, node: &Node) -> Res<bool, B> {
        let probe = Probe::Secondary {
            mask: node.mask,
            depth: node.depth() as u8,
        };
        Ok(
            match self
                .session
                .read(LinkAddress::Selected, false, Listen::Gap, probe)?
            {
                ReadReply::Telegram(telegram) => telegram
                    .secondary_address()
                    .is_none_or(|a| self.is_known(&a) && node.mask.matches_bytes(&a.to_bytes())),
                ReadReply::Silent | ReadReply::Garbled => false,
            },
        )
    }

    /// A collided node whose digit children hold fewer than two meters: noise, or a meter that
    /// missed its probe. Probe the node again; if it still collides, probe the quiet children
    /// once more.
    fn recheck(&mut self, node: Node, position: usize, quiet: &[bool]) -> Res<Tally, B> {
        match self.select(&node)? {
            SelectReply::Garbled => {
                let mut tally = Tally::Empty;
                for (value, _) in (0u8..).zip(quiet).filter(|(_, &q)| q) {
                    let child = Node {
                        mask: node.mask.with_nibble(position, value),
                        evidence: Evidence::Unprobed,
                        weight: 0.0,
                        ..node
                    };
                    tally = tally.plus(self.resolve(child)?);
                }
                Ok(tally)
            }
            SelectReply::Ack if quiet.iter().all(|&q| q) => {
                let known = self.known_in(&node.mask);
                self.identify(
                    Node {
                        weight: 0.0,
                        ..node
                    },
                    known,
                    false,
                )
            }
            SelectReply::Ack | SelectReply::Silent => Ok(Tally::Empty),
        }
    }

    /// A child of a node holding one meter that cannot be identified by a read: select only.
    fn follow_unidentified(&mut self, child: Node) -> Res<Tally, B> {
        if child.evidence == Evidence::Unidentified {
            return self.split(child);
        }
        match self.select_alone(&child)? {
            SelectReply::Silent => {
                self.session.advance(child.weight);
                Ok(Tally::Empty)
            }
            SelectReply::Ack => self.split(child.with(Evidence::Unidentified)),
            SelectReply::Garbled => self.split(child.with(Evidence::Collided)),
        }
    }

    /// All eight digits fixed and still a collision: try the manufacturer/version/medium
    /// combinations of the meters found so far.
    fn try_known_models(&mut self, node: &Node) -> Res<Tally, B> {
        if (IDENT_DIGITS..16).any(|p| !node.is_free(p)) {
            return Ok(Tally::Empty);
        }
        let mut tally = Tally::Empty;
        for model in self.likely_models(MAX_MODEL_PROBES) {
            let mask = with_model(&node.mask, model);
            if self.known_in(&mask) > 0 {
                continue;
            }
            let child = Node {
                mask,
                known_f: node.known_f,
                evidence: Evidence::Unprobed,
                weight: 0.0,
            };
            tally = tally.plus(self.resolve(child)?);
        }
        Ok(tally)
    }

    /// One meter that acknowledges alone but whose telegram carries no address, all eight digits
    /// known: try the manufacturer/version/medium combinations seen so far before splitting.
    fn try_models_for_one(&mut self, node: &Node) -> Res<Option<Tally>, B> {
        if (IDENT_DIGITS..16).any(|p| !node.is_free(p)) {
            return Ok(None);
        }
        for model in self.likely_models(MAX_MODEL_GUESSES) {
            let candidate = Node {
                mask: with_model(&node.mask, model),
                ..*node
            };
            if self.select_alone(&candidate)? == SelectReply::Ack {
                return self.leaf(candidate).map(Some);
            }
        }
        Ok(None)
    }

    /// Manufacturer/version/medium bytes worth trying: those of meters found without an address
    /// in their telegram first, then the most common ones.
    fn likely_models(&self, limit: usize) -> Vec<[u8; 4]> {
        let mut counted: Vec<([u8; 4], usize)> = Vec::new();
        for k in &self.known {
            let model = model_of(&k.bytes);
            match counted.iter_mut().find(|(m, _)| *m == model) {
                Some((_, n)) => *n += 1,
                None => counted.push((model, 1)),
            }
        }
        counted.sort_by_key(|&(_, count)| core::cmp::Reverse(count));
        let mut models = self.unaddressed_models.clone();
        for (model, _) in counted {
            if !models.contains(&model) {
                models.push(model);
            }
        }
        models.truncate(limit);
        models
    }

    /// The order in which to probe the values of `position`: ascending, except for a single
    /// unidentified meter, where the values found meters have there most often come first.
    fn value_order(&self, node: &Node, position: usize, values: u8) -> Vec<u8> {
        let mut order: Vec<u8> = (0..values).collect();
        if node.evidence == Evidence::Unidentified {
            let mut count = [0usize; 16];
            for k in &self.known {
                let nibble = SecondaryMask::from_bytes(k.bytes).nibble(position);
                count[usize::from(nibble)] += 1;
            }
            order.sort_by_key(|&v| core::cmp::Reverse(count[usize::from(v)]));
        }
        order
    }

    /// No nibble left to split: the mask is one full address.
    fn leaf(&mut self, node: Node) -> Res<Tally, B> {
        self.session.advance(node.weight);
        let bytes = node.mask.to_bytes();
        match node.evidence {
            Evidence::Unidentified => {
                let model = model_of(&bytes);
                if !self.unaddressed_models.contains(&model) {
                    self.unaddressed_models.push(model);
                }
                let telegram = self.pending.take();
                let status = if telegram.is_some() {
                    FoundStatus::Ok
                } else {
                    FoundStatus::Unreadable
                };
                self.record(bytes, status, telegram);
                Ok(Tally::One)
            }
            Evidence::Covered | Evidence::Unprobed => Ok(Tally::Empty),
            Evidence::Collided | Evidence::Implied => {
                let known = self.known_in(&node.mask);
                match self.select(&node)? {
                    SelectReply::Garbled => self.confirm_shared(node, known),
                    SelectReply::Ack => self.identify(
                        Node {
                            weight: 0.0,
                            ..node
                        },
                        known,
                        true,
                    ),
                    SelectReply::Silent => Ok(Tally::Empty),
                }
            }
        }
    }

    /// Looks again at a mask whose meter was just read: true if another meter answers too (its
    /// select collides, or the read brings a collision or another meter's telegram).
    fn crowded(&mut self, node: &Node, address: &SecondaryAddress) -> Res<bool, B> {
        let depth = node.depth() as u8;
        Ok(
            match self.session.select(&node.mask, depth, Listen::Window)? {
                SelectReply::Garbled => true,
                SelectReply::Silent => false,
                SelectReply::Ack => {
                    let probe = Probe::Secondary {
                        mask: node.mask,
                        depth,
                    };
                    match self
                        .session
                        .read(LinkAddress::Selected, true, Listen::Gap, probe)?
                    {
                        ReadReply::Garbled => true,
                        ReadReply::Silent => false,
                        ReadReply::Telegram(t) => {
                            t.secondary_address().is_some_and(|a| a != *address)
                        }
                    }
                }
            },
        )
    }

    /// A full address whose select collided again: several meters share it, unless the read
    /// (a second, independent look) shows the collision was noise.
    fn confirm_shared(&mut self, node: Node, known: usize) -> Res<Tally, B> {
        let probe = Probe::Secondary {
            mask: node.mask,
            depth: node.depth() as u8,
        };
        let bytes = node.mask.to_bytes();
        let mut reply = self
            .session
            .read(LinkAddress::Selected, false, Listen::Gap, probe)?;
        if reply == ReadReply::Garbled {
            // Noise strikes twice far more rarely than shared addresses collide twice.
            reply = self
                .session
                .read(LinkAddress::Selected, false, Listen::Gap, probe)?;
        }
        match reply {
            ReadReply::Garbled if node.known_f != 0 && known > 0 => {
                // A meter with F nibbles collides with a found one that differs only there.
                self.record(bytes, FoundStatus::Shadowed, None);
                Ok(Tally::One)
            }
            ReadReply::Garbled => {
                self.record(bytes, FoundStatus::DuplicateSecondary, None);
                Ok(Tally::Many)
            }
            ReadReply::Telegram(telegram) => match telegram.secondary_address() {
                Some(address) if self.is_known(&address) => Ok(Tally::Empty),
                Some(address) => {
                    self.record(address.to_bytes(), FoundStatus::Ok, Some(telegram));
                    Ok(Tally::One)
                }
                None => {
                    self.record(bytes, FoundStatus::Ok, Some(telegram));
                    Ok(Tally::One)
                }
            },
            ReadReply::Silent => Ok(Tally::Empty),
        }
    }

    /// The nibble to split next (see the module documentation), or `None` at a full address.
    fn choose_position(&self, node: &Node) -> Option<usize> {
        // Batch digits first only in a node narrow enough to hold a single batch: in a wider
        // one, several batches would share those digits and each value would collide.
        let fixed = (0..self.batch_start).filter(|&p| !node.is_free(p)).count();
        let start = if fixed >= BATCH_NODE_DIGITS {
            self.batch_start
        } else {
            0
        };
        (start..IDENT_DIGITS)
            .chain(0..start)
            .chain(HEX_ORDER)
            .find(|&p| node.is_free(p))
    }

    fn select(&mut self, node: &Node) -> Res<SelectReply, B> {
        let depth = node.depth();
        let (collisions, acks) = self.outcomes[depth];
        // Waiting out the window after an `E5` costs about a tenth of reading into a collision
        // and then waiting for the colliding telegrams to end: worth it from one collision in
        // ten answers on.
        let crowded = std::mem::take(&mut self.crowded_siblings);
        let listen = if collisions * WINDOW_WORTH >= acks || crowded {
            Listen::Window
        } else {
            Listen::Gap
        };
        let reply = self.session.select(&node.mask, depth as u8, listen)?;
        match reply {
            SelectReply::Garbled => self.outcomes[depth].0 += 1,
            SelectReply::Ack => self.outcomes[depth].1 += 1,
            SelectReply::Silent => {}
        }
        Ok(reply)
    }

    /// A select inside a node known to hold one meter: no collision to wait for after its
    /// `E5`, so the master goes on after one inter-character gap.
    fn select_alone(&mut self, node: &Node) -> Res<SelectReply, B> {
        self.session
            .select(&node.mask, node.depth() as u8, Listen::Gap)
    }

    /// How many found meters a select with `mask` would wake (shared addresses count twice).
    fn known_in(&self, mask: &SecondaryMask) -> usize {
        self.known
            .iter()
            .filter(|k| mask.matches_bytes(&k.bytes))
            .map(|k| k.weight)
            .sum()
    }

    /// True if a found meter has identification number `ident`.
    fn ident_known(&self, ident: u32) -> bool {
        self.known.iter().any(|k| {
            SecondaryAddress::from_bytes(k.bytes).is_ok_and(|address| address.ident == ident)
        })
    }

    fn is_known(&self, address: &SecondaryAddress) -> bool {
        let bytes = address.to_bytes();
        self.known.iter().any(|k| k.bytes == bytes)
    }

    /// Reports a meter at `bytes`. An address is reported once per baud rate: found again (a
    /// noisy or missed request made its first look incomplete), its entry is completed
    /// instead, and it becomes shared when the new look shows several meters there.
    fn record(&mut self, bytes: [u8; 8], status: FoundStatus, telegram: Option<ReplyFrame>) {
        let weight = if status == FoundStatus::DuplicateSecondary {
            2
        } else {
            1
        };
        if let Some(known) = self.known.iter_mut().find(|k| k.bytes == bytes) {
            let meter = &mut self.session.report.meters[known.entry];
            if status == FoundStatus::DuplicateSecondary {
                // Like every shared address: no one meter's telegram stands for the group.
                known.weight = weight;
                meter.status = status;
                meter.primary = None;
                meter.telegram = None;
            } else if meter.status == FoundStatus::Unreadable && telegram.is_some() {
                meter.status = status;
                meter.primary = telegram.as_ref().and_then(ReplyFrame::address);
                meter.telegram = telegram;
            }
            return;
        }
        self.known.push(Known {
            bytes,
            weight,
            entry: self.session.report.meters.len(),
        });
        let secondary = match &telegram {
            Some(t) => t.secondary_address(),
            None => None,
        }
        .or_else(|| SecondaryAddress::from_bytes(bytes).ok());
        self.session.found(FoundMeter {
            baud: self.session.baud(),
            primary: telegram.as_ref().and_then(ReplyFrame::address),
            secondary,
            status,
            telegram,
        });
        self.learn_batches();
    }

    /// Finds the most significant digit in which near-neighbour serials differ.
    fn learn_batches(&mut self) {
        let mut idents: Vec<u32> = self
            .known
            .iter()
            .filter_map(|k| SecondaryAddress::from_bytes(k.bytes).ok())
            .map(|a| a.ident)
            .collect();
        idents.sort_unstable();
        idents.dedup();
        // Runs: serials each within a few numbers of the previous one.
        let mut in_runs = 0usize;
        let mut widest = 0u32;
        let mut run_start = 0usize;
        for i in 1..=idents.len() {
            let continues = i < idents.len() && idents[i] - idents[i - 1] <= RUN_GAP;
            if !continues {
                if i - run_start >= 2 {
                    in_runs += i - run_start;
                    widest = widest.max(idents[i - 1] - idents[run_start]);
                }
                run_start = i;
            }
        }
        // Random serials fall into runs only by chance; batches put most serials into runs.
        let batches = in_runs >= 4 && in_runs * 4 >= idents.len();
        // A run spanning fewer than 10^d serials is told apart by its last d digits.
        let digits = (1..IDENT_DIGITS)
            .find(|&d| widest < 10u32.pow(d as u32))
            .unwrap_or(IDENT_DIGITS);
        self.batch_start = if batches { IDENT_DIGITS - digits } else { 0 };
    }
}

/// Manufacturer, version and medium bytes of a wire-order address.
fn model_of(bytes: &[u8; 8]) -> [u8; 4] {
    [bytes[4], bytes[5], bytes[6], bytes[7]]
}

/// `mask` with manufacturer, version and medium set to `model`.
fn with_model(mask: &SecondaryMask, model: [u8; 4]) -> SecondaryMask {
    let mut bytes = mask.to_bytes();
    bytes[4..].copy_from_slice(&model);
    SecondaryMask::from_bytes(bytes)
}
