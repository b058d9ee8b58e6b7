//! `mbusctl bench decode` on the libmbus corpus (`MBUS_CORPUS`, default
//! `../../shared/corpus/libmbus`): prints one row per stage and ends with `decode frames/s: N`.
//! Only the output's shape is checked; the figures depend on the machine.

use std::path::PathBuf;
use std::process::{Command, Stdio};

fn corpus() -> PathBuf {
    std::env::var_os("MBUS_CORPUS").map_or_else(
        || {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/corpus/libmbus"
            ))
        },
        PathBuf::from,
    )
}

#[test]
fn bench_decode_reports_every_stage_and_ends_with_the_summary_line() {
    let dir = corpus();
    assert!(
        dir.is_dir(),
        "corpus folder {} is missing (set MBUS_CORPUS)",
        dir.display()
    );
    let output = Command::new(env!("CARGO_BIN_EXE_mbusctl"))
        .args(["bench", "decode"])
        .arg(&dir)
        .args(["--seconds", "1"])
        .stdin(Stdio::null())
        .output()
        .expect("run mbusctl");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    assert!(
        output.status.success(),
        "exit {:?}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    for stage in ["parse+iterate", "typed decode", "json", "xml"] {
        let row = stdout
            .lines()
            .find(|line| line.starts_with(stage))
            .unwrap_or_else(|| panic!("no row for {stage} in\n{stdout}"));
        let figures: Vec<f64> = row[stage.len()..]
            .split_whitespace()
            .map(|f| {
                f.parse()
                    .unwrap_or_else(|_| panic!("bad figure in {row:?}"))
            })
            .collect();
        assert_eq!(figures.len(), 2, "frames/s and MB/s in {row:?}");
        assert!(figures.iter().all(|f| *f > 0.0), "{row:?}");
    }
    let last = stdout.lines().last().expect("output");
    let number = last
        .strip_prefix("decode frames/s: ")
        .unwrap_or_else(|| panic!("last line is {last:?}"));
    assert!(
        !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()),
        "last line is {last:?}"
    );
}

#[test]
fn bench_decode_rejects_a_directory_without_telegrams() {
    let empty = std::env::temp_dir().join(format!("mbusctl-bench-empty-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_mbusctl"))
        .args(["bench", "decode"])
        .arg(&empty)
        .args(["--seconds", "1"])
        .stdin(Stdio::null())
        .output()
        .expect("run mbusctl");
    std::fs::remove_dir_all(&empty).unwrap();
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no .hex file"), "{stderr}");
}
