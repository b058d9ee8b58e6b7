//! The full typed decode of one telegram, as an integrator does it: frame, application header,
//! every record with its function, storage/tariff/sub-unit, value information, typed value and
//! exact decimal (`DataRecord::typed`). Shared by the allocation test and the benchmarks.

use mbus_proto::app::{DecodeError, Telegram};
use mbus_proto::frame::Frame;
use mbus_proto::record::Record;
use std::hint::black_box;

/// Parses and decodes `bytes` (exactly one frame) down to every value; returns the number of
/// records (fixed-data counters count as records).
pub fn full_decode(bytes: &[u8]) -> Result<usize, DecodeError> {
    let frame = Frame::parse_exact(bytes)?;
    let telegram = Telegram::from_frame(&frame)?;
    let mut records = 0;
    match telegram {
        Telegram::Variable(data) => {
            black_box(data.header);
            for record in data.records() {
                match record? {
                    Record::Data(r) => {
                        black_box((r.function(), r.storage_number(), r.tariff(), r.subunit()));
                        black_box(r.typed());
                    }
                    Record::Manufacturer(m) => {
                        black_box(m);
                    }
                }
                records += 1;
            }
        }
        Telegram::Fixed(fixed) => {
            black_box((fixed.ident(), fixed.medium(), fixed.stored_values()));
            for i in 0..2 {
                black_box((fixed.counter(i), fixed.unit_code(i)));
                records += 1;
            }
        }
        other => {
            black_box(other);
        }
    }
    Ok(records)
}

/// Frame parse and record iteration without decoding values; returns the number of records.
pub fn parse_and_iterate(bytes: &[u8]) -> Result<usize, DecodeError> {
    let frame = Frame::parse_exact(bytes)?;
    let telegram = Telegram::from_frame(&frame)?;
    let mut records = 0;
    if let Telegram::Variable(data) = telegram {
        for record in data.records() {
            black_box(record?);
            records += 1;
        }
    }
    Ok(records)
}
