//! The chunk encoding: consecutive readings of one meter packed into one BLOB.
//!
//! A chunk holds up to [`MAX_CHUNK_READINGS`] readings of one meter in time order. Each
//! reading is a record:
//!
//! ```text
//! varint  (time - previous time) << 2 | status_changed | count_changed << 1
//! varint  status                      (only if status_changed)
//! varint  number of values            (only if count_changed)
//! per value one varint w:
//!     w even   delta: mantissa = previous mantissa + unzigzag(w >> 1), same exponent
//!     w == 1   missing value
//!     w == 3   absolute: one byte exponent (i8), then varint zigzag(mantissa)
//! ```
//!
//! "Previous" is the previous record of the same chunk (time: the chunk start, status 0, no
//! values for the first record), so every chunk decodes on its own. A value is delta-coded
//! only if the register had a value with the same exponent in the previous record.

use super::decimal::stored_parts;
use mbus_proto::value::Decimal;

/// A chunk is closed once it holds this many readings.
pub(crate) const MAX_CHUNK_READINGS: u32 = 96;
/// A chunk is closed once its data reaches this many bytes. Kept below the ~1000-byte
/// payload SQLite stores inside an index-tree page, so chunks never spill to overflow pages.
pub(crate) const MAX_CHUNK_BYTES: usize = 800;

/// Why a chunk could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodecError {
    Truncated,
    BadValueTag,
    Overflow,
    TimeOrder,
}

impl CodecError {
    pub(crate) fn reason(self) -> &'static str {
        match self {
            CodecError::Truncated => "data ends inside a record",
            CodecError::BadValueTag => "unknown value tag",
            CodecError::Overflow => "a number does not fit its type",
            CodecError::TimeOrder => "reading times are not strictly increasing from the start",
        }
    }
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(z: u64) -> i64 {
    ((z >> 1) as i64) ^ -((z & 1) as i64)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends readings of one meter to a chunk.
#[derive(Debug, Clone)]
pub(crate) struct ChunkEncoder {
    start: i64,
    last_time: i64,
    readings: u32,
    values: u32,
    status: u32,
    previous: Vec<Option<Decimal>>,
    data: Vec<u8>,
}

impl ChunkEncoder {
    /// An empty chunk whose first reading is at `start`.
    pub(crate) fn new(start: i64) -> ChunkEncoder {
        ChunkEncoder {
            start,
            last_time: start,
            readings: 0,
            values: 0,
            status: 0,
            previous: Vec::new(),
            data: Vec::with_capacity(MAX_CHUNK_BYTES + 256),
        }
    }

    /// Re-opens a stored chunk to append to it.
    pub(crate) fn resume(start: i64, data: Vec<u8>) -> Result<ChunkEncoder, CodecError> {
        let mut decoder = ChunkDecoder::new(start, data);
        let mut readings = 0;
        let mut values = 0;
        while let Some(record) = decoder.next_record()? {
            readings += 1;
            values += record.values.iter().filter(|v| v.is_some()).count() as u32;
        }
        let ChunkDecoder {
            data,
            time: last_time,
            status,
            values: previous,
            ..
        } = decoder;
        Ok(ChunkEncoder {
            start,
            last_time,
            readings,
            values,
            status,
            previous,
            data,
        })
    }

    pub(crate) fn start(&self) -> i64 {
        self.start
    }

    pub(crate) fn last_time(&self) -> i64 {
        self.last_time
    }

    pub(crate) fn readings(&self) -> u32 {
        self.readings
    }

    /// Number of values present (missing ones not counted).
    pub(crate) fn values(&self) -> u32 {
        self.values
    }

    pub(crate) fn data(&self) -> &[u8] {
        &self.data
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.readings == 0
    }

    pub(crate) fn is_full(&self) -> bool {
        self.readings >= MAX_CHUNK_READINGS || self.data.len() >= MAX_CHUNK_BYTES
    }

    /// Appends a reading: the first at the chunk start, each later one strictly after the
    /// previous (the caller keeps times in the stored range, so the delta fits in 62 bits,
    /// and values in the store's range; one outside it would be kept as missing).
    pub(crate) fn push(&mut self, time: i64, status: u32, values: &[Option<Decimal>]) {
        debug_assert!(
            if self.readings == 0 {
                time == self.start
            } else {
                time > self.last_time
            },
            "chunk readings out of order"
        );
        let delta = time.abs_diff(self.last_time);
        let status_changed = status != self.status;
        let count_changed = values.len() != self.previous.len();
        put_varint(
            &mut self.data,
            delta << 2 | u64::from(status_changed) | u64::from(count_changed) << 1,
        );
        if status_changed {
            put_varint(&mut self.data, u64::from(status));
        }
        if count_changed {
            put_varint(&mut self.data, values.len() as u64);
        }
        for (i, value) in values.iter().enumerate() {
            let Some((mantissa, exponent)) = value.and_then(stored_parts) else {
                self.data.push(1);
                continue;
            };
            self.values += 1;
            let previous = self.previous.get(i).copied().flatten();
            let delta = previous
                .and_then(stored_parts)
                .filter(|&(_, e)| e == exponent)
                .map(|(m, _)| zigzag(mantissa.wrapping_sub(m)))
                .filter(|z| z >> 63 == 0);
            match delta {
                Some(z) => put_varint(&mut self.data, z << 1),
                None => {
                    self.data.push(3);
                    self.data.push(exponent as u8);
                    put_varint(&mut self.data, zigzag(mantissa));
                }
            }
        }
        self.previous.clear();
        self.previous.extend_from_slice(values);
        self.last_time = time;
        self.status = status;
        self.readings += 1;
    }
}

/// The decimal with a stored mantissa and exponent.
fn stored(mantissa: i64, exponent: i8) -> Decimal {
    Decimal::new(i128::from(mantissa), i16::from(exponent))
}

/// One decoded reading.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Record<'a> {
    pub(crate) time: i64,
    pub(crate) status: u32,
    pub(crate) values: &'a [Option<Decimal>],
}

/// Reads the records of one chunk in order.
#[derive(Debug, Clone)]
pub(crate) struct ChunkDecoder<D> {
    data: D,
    pos: usize,
    time: i64,
    status: u32,
    values: Vec<Option<Decimal>>,
}

impl<D: AsRef<[u8]>> ChunkDecoder<D> {
    pub(crate) fn new(start: i64, data: D) -> ChunkDecoder<D> {
        ChunkDecoder {
            data,
            pos: 0,
            time: start,
            status: 0,
            values: Vec::new(),
        }
    }

    fn varint(&mut self) -> Result<u64, CodecError> {
        let mut v: u64 = 0;
        let mut shift = 0;
        loop {
            let byte = self.byte()?;
            if shift == 63 && byte > 1 {
                return Err(CodecError::Overflow);
            }
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(v);
            }
            shift += 7;
            if shift > 63 {
                return Err(CodecError::Overflow);
            }
        }
    }

    fn byte(&mut self) -> Result<u8, CodecError> {
        let byte = *self
            .data
            .as_ref()
            .get(self.pos)
            .ok_or(CodecError::Truncated)?;
        self.pos += 1;
        Ok(byte)
    }

    /// The next record's values, or `None` at the end of the chunk.
    pub(crate) fn next_record(&mut self) -> Result<Option<Record<'_>>, CodecError> {
        if self.pos == self.data.as_ref().len() {
            return Ok(None);
        }
        let first = self.pos == 0;
        let head = self.varint()?;
        let delta = i64::try_from(head >> 2).map_err(|_| CodecError::Overflow)?;
        // The first reading is at the chunk start, every later one strictly after the last.
        if (delta == 0) != first {
            return Err(CodecError::TimeOrder);
        }
        self.time = self.time.checked_add(delta).ok_or(CodecError::Overflow)?;
        if head & 1 != 0 {
            self.status = u32::try_from(self.varint()?).map_err(|_| CodecError::Overflow)?;
        }
        if head & 2 != 0 {
            let count = usize::try_from(self.varint()?).map_err(|_| CodecError::Overflow)?;
            if count > super::MAX_VALUES {
                return Err(CodecError::Overflow);
            }
            self.values.resize(count, None);
        }
        for i in 0..self.values.len() {
            let w = self.varint()?;
            self.values[i] = match w {
                1 => None,
                3 => {
                    let exponent = self.byte()? as i8;
                    Some(stored(unzigzag(self.varint()?), exponent))
                }
                w if w & 1 == 0 => {
                    let previous = self.values[i].and_then(stored_parts);
                    let (mantissa, exponent) = previous.ok_or(CodecError::BadValueTag)?;
                    Some(stored(mantissa.wrapping_add(unzigzag(w >> 1)), exponent))
                }
                _ => return Err(CodecError::BadValueTag),
            };
        }
        Ok(Some(Record {
            time: self.time,
            status: self.status,
            values: &self.values,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn value() -> impl Strategy<Value = Option<Decimal>> {
        prop_oneof![
            1 => Just(None),
            4 => (any::<i64>(), -20i8..5).prop_map(|(m, e)| Some(stored(m, e))),
            4 => (-1000i64..1000, -3i8..-1).prop_map(|(m, e)| Some(stored(m, e))),
        ]
    }

    proptest! {
        #[test]
        fn records_decode_to_what_was_encoded(
            start in 0i64..4_000_000_000,
            records in prop::collection::vec(
                (1i64..100_000, any::<u32>(), prop::collection::vec(value(), 0..6)), 1..40)
        ) {
            let mut encoder = ChunkEncoder::new(start);
            let mut expected = Vec::new();
            let mut time = start;
            for (i, (step, status, values)) in records.iter().enumerate() {
                if i > 0 {
                    time += step;
                }
                encoder.push(time, *status, values);
                expected.push((time, *status, values.clone()));
            }
            let mut decoder = ChunkDecoder::new(start, encoder.data());
            for (time, status, values) in &expected {
                let record = decoder.next_record().unwrap().unwrap();
                prop_assert_eq!(record.values, &values[..]);
                prop_assert_eq!(record.time, *time);
                prop_assert_eq!(record.status, *status);
            }
            prop_assert!(decoder.next_record().unwrap().is_none());
            let resumed = ChunkEncoder::resume(start, encoder.data().to_vec()).unwrap();
            prop_assert_eq!(resumed.readings(), encoder.readings());
            prop_assert_eq!(resumed.values(), encoder.values());
            prop_assert_eq!(resumed.last_time(), time);
        }
    }

    proptest! {
        /// Damaged data gives errors or readings, never a panic or an endless loop.
        #[test]
        fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..300)) {
            let mut decoder = ChunkDecoder::new(0, &data[..]);
            let mut records = 0;
            while let Ok(Some(_)) = decoder.next_record() {
                records += 1;
                prop_assert!(records <= data.len());
            }
            let _ = ChunkEncoder::resume(0, data.clone());
        }
    }

    #[test]
    fn truncated_and_garbled_chunks_are_errors() {
        let mut encoder = ChunkEncoder::new(0);
        encoder.push(0, 0, &[Some(Decimal::new(123_456_789, -3)), None]);
        let data = encoder.data();
        for cut in 1..data.len() {
            let mut decoder = ChunkDecoder::new(0, &data[..cut]);
            assert_eq!(decoder.next_record().err(), Some(CodecError::Truncated));
        }
        // A delta for a register that had no previous value.
        let mut decoder = ChunkDecoder::new(0, &[2, 1, 4]);
        assert_eq!(decoder.next_record().err(), Some(CodecError::BadValueTag));
        let mut decoder = ChunkDecoder::new(0, &[2, 1, 5]);
        assert_eq!(decoder.next_record().err(), Some(CodecError::BadValueTag));
        // A first reading after the chunk start, a later one at the same time.
        let mut decoder = ChunkDecoder::new(0, &[4]);
        assert_eq!(decoder.next_record().err(), Some(CodecError::TimeOrder));
        let mut decoder = ChunkDecoder::new(0, &[0, 0]);
        assert!(decoder.next_record().unwrap().is_some());
        assert_eq!(decoder.next_record().err(), Some(CodecError::TimeOrder));
    }

    /// Readings as stored before: the golden bytes decode to the same digits and encode
    /// back to the same bytes.
    #[test]
    fn stored_chunks_keep_their_bytes_and_digits() {
        let readings: [(i64, u32, [&str; 5]); 3] = [
            (
                1_700_000_000,
                0,
                ["12345.678", "-0.007", "", "1200", "0.000"],
            ),
            (
                1_700_000_900,
                0,
                ["12345.999", "-0.007", "21.5", "1200", "0.000"],
            ),
            (
                1_700_001_800,
                4,
                ["12346.000", "9223372036854775807", "21.50", "", "-1e-128"],
            ),
        ];
        const STORED: [u8; 54] = [
            2, 5, 3, 253, 156, 133, 227, 11, 3, 253, 13, 1, 3, 0, 224, 18, 3, 253, 0, 144, 28, 132,
            10, 0, 3, 255, 174, 3, 0, 0, 145, 28, 4, 4, 3, 0, 254, 255, 255, 255, 255, 255, 255,
            255, 255, 1, 3, 254, 204, 33, 1, 3, 128, 1,
        ];
        let start = readings[0].0;
        let mut decoder = ChunkDecoder::new(start, &STORED[..]);
        let mut encoder = ChunkEncoder::new(start);
        for (time, status, texts) in &readings {
            let record = decoder.next_record().unwrap().unwrap();
            assert_eq!((record.time, record.status), (*time, *status));
            let shown: Vec<String> = record
                .values
                .iter()
                .map(|v| v.map(|d| d.to_string()).unwrap_or_default())
                .collect();
            // Exactly the digits stored, trailing zeros included ("-1e-128" is shown in full).
            let expected: Vec<String> = texts
                .iter()
                .map(|t| match *t {
                    "-1e-128" => format!("-0.{}1", "0".repeat(127)),
                    t => t.to_owned(),
                })
                .collect();
            assert_eq!(shown, expected);
            let values: Vec<Option<Decimal>> = texts
                .iter()
                .map(|t| (!t.is_empty()).then(|| t.parse().unwrap()))
                .collect();
            assert_eq!(record.values, &values[..]);
            encoder.push(*time, *status, &values);
        }
        assert!(decoder.next_record().unwrap().is_none());
        assert_eq!(encoder.data(), &STORED[..]);
    }

    #[test]
    fn counters_cost_about_two_bytes_per_value() {
        let mut encoder = ChunkEncoder::new(1_700_000_000);
        for i in 0..40i64 {
            let values: Vec<_> = (0..10)
                .map(|r| Some(stored(50_000_000 + r * 1000 + i * 731, -3)))
                .collect();
            encoder.push(1_700_000_000 + i * 900, 0, &values);
        }
        let per_value = encoder.data().len() as f64 / 400.0;
        assert!(per_value < 2.5, "{per_value} bytes per value");
    }
}
