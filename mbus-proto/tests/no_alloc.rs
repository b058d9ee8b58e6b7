//! The parse path allocates nothing: frame parsing, record iteration and typed value decoding of
//! every corpus test frame run under a global allocator that counts the allocations of the
//! current thread.

mod corpus;
mod full_decode;

use alloc_counter::allocations_during;
use mbus_proto::frame::{Frame, Parsed};

// The one counting allocator of the workspace (its own crate holds the `unsafe impl`).
#[global_allocator]
static GLOBAL: alloc_counter::Counting = alloc_counter::Counting;

#[test]
fn the_counter_sees_allocations() {
    let (v, n) = allocations_during(|| std::hint::black_box(vec![1u8; 64]));
    assert_eq!(v.len(), 64);
    assert!(n >= 1);
}

#[test]
fn frame_parse_allocates_nothing() {
    let frames = corpus::frames("test-frames");
    let (parsed, n) = allocations_during(|| {
        let mut parsed = 0usize;
        for (_, bytes) in &frames {
            if let Ok(Parsed::Complete { frame, consumed }) = Frame::parse(bytes) {
                std::hint::black_box((frame, consumed));
                parsed += 1;
            }
            if let Ok(frame) = Frame::parse_exact(bytes) {
                std::hint::black_box(frame.encode().ok());
            }
        }
        parsed
    });
    assert_eq!(parsed, frames.len(), "every corpus test frame parses");
    assert_eq!(n, 0, "frame parsing allocated {n} times");
}

#[test]
fn record_iteration_and_typed_decoding_allocate_nothing() {
    let frames = corpus::frames("test-frames");
    let (results, n) = allocations_during(|| {
        let mut records = 0usize;
        let mut failures = 0usize;
        for (_, bytes) in &frames {
            match (
                full_decode::parse_and_iterate(bytes),
                full_decode::full_decode(bytes),
            ) {
                (Ok(_), Ok(decoded)) => records += decoded,
                _ => failures += 1,
            }
        }
        (records, failures)
    });
    let (records, failures) = results;
    assert_eq!(failures, 0, "every corpus test frame decodes");
    assert!(
        records > frames.len(),
        "the corpus holds records ({records})"
    );
    assert_eq!(n, 0, "decoding allocated {n} times");
}

#[test]
fn value_information_and_modifiers_allocate_nothing() {
    use mbus_proto::vif::Vib;
    // Every 0xFB / 0xFD / second-level code, each followed by combinable VIFEs including the
    // extension code, and every combinable VIFE after a primary VIF.
    let mut vibs: Vec<(u8, [u8; 5])> = Vec::new();
    for code in 0u8..0x80 {
        vibs.push((0xFB, [code | 0x80, 0xA2, 0xFC, 0x81, 0x74]));
        vibs.push((0xFD, [code | 0x80, 0xFC, 0x82, 0xFD, 0x16]));
        vibs.push((0xFD, [0xFD, code | 0x80, 0xF3, 0x7B, 0x00]));
        vibs.push((0x86, [code | 0x80, 0xFC, code, 0x00, 0x00]));
    }
    let (count, n) = allocations_during(|| {
        let mut count = 0usize;
        for (vif, vifes) in &vibs {
            let vib = Vib {
                vif: *vif,
                vifes,
                plain_text: None,
            };
            std::hint::black_box(vib.info());
            for m in vib.modifiers() {
                std::hint::black_box((m, m.name(), m.scale()));
                count += 1;
            }
        }
        count
    });
    assert!(count >= vibs.len(), "modifiers were decoded ({count})");
    assert_eq!(n, 0, "value information allocated {n} times");
}
