//! `mbusctl system` (dry run of the network and time settings) and `mbusctl io` on a data
//! directory the daemon has not run in.

mod support;

use logger_core::config::{ConfigStore, Interface};
use support::mbusctl;

/// Runs mbusctl with `args`, which must succeed; its standard output.
fn succeeded(args: &[&str]) -> String {
    let out = mbusctl(args);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

#[test]
fn system_dry_run_writes_the_files_into_the_data_dir_and_says_what_it_would_run() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    let store = ConfigStore::new(dir.path());
    let mut config = store.load_or_default().unwrap();
    config.network.eth0 = Interface {
        dhcp: false,
        address: Some([192, 168, 7, 2].into()),
        prefix_len: Some(24),
        gateway: Some([192, 168, 7, 1].into()),
    };
    config.time.ntp_server = None;
    store.save(&config).unwrap();
    let text = succeeded(&[
        "system",
        "--data-dir",
        data_dir,
        "--set-time",
        "2026-05-04 08:00:00",
    ]);
    assert!(text.starts_with("dry run: nothing is changed"), "{text}");
    for step in [
        "networkctl reload",
        "timedatectl set-ntp false",
        "timedatectl set-time 2026-05-04 08:00:00 UTC",
        "a real apply (--apply) waits 120 s",
    ] {
        assert!(text.contains(step), "{step} missing in {text}");
    }
    let eth0 = std::fs::read_to_string(
        dir.path()
            .join("system-dry-run/etc/systemd/network/10-mbus-center-eth0.network"),
    )
    .unwrap();
    assert!(
        eth0.contains("Address=192.168.7.2/24\nGateway=192.168.7.1\n"),
        "{eth0}"
    );

    // A gateway outside the subnet is refused with the field's path, nothing applied.
    config.network.eth0.gateway = Some([10, 1, 1, 1].into());
    store.save(&config).unwrap();
    let out = mbusctl(&["system", "--data-dir", data_dir]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("network.eth0.gateway: 10.1.1.1 is not another host in 192.168.7.2/24"));
}

#[test]
fn io_on_a_fresh_data_dir_says_what_is_configured() {
    let dir = tempfile::tempdir().unwrap();
    let out = mbusctl(&["io", "--data-dir", dir.path().to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert_eq!(
        text,
        "backend: none\nI/O service: has not run in this data directory\nlevel converter: off\n"
    );
}

#[test]
fn io_requests_an_s0_start_value_in_the_inputs_unit_for_the_logger_to_apply() {
    use logger_core::hardware::inputs::{add_input_meters, s0_start_pending};
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    let store = ConfigStore::new(dir.path());
    let mut config = store.load_or_default().unwrap();
    add_input_meters(&mut config, 4, 2);
    let s0 = config
        .meters
        .iter_mut()
        .find(|m| m.name == "S0-Input-2")
        .unwrap();
    s0.registers[0].divisor = 1000.0;
    store.save(&config).unwrap();
    let text = succeeded(&[
        "io",
        "--data-dir",
        data_dir,
        "--s0-input",
        "2",
        "--start",
        "12.5",
    ]);
    assert!(
        text.starts_with("S0 input 2: start value 12.5 (12500 pulses) requested"),
        "{text}"
    );
    assert!(s0_start_pending(dir.path(), 2));
    let out = mbusctl(&[
        "io",
        "--data-dir",
        data_dir,
        "--s0-input",
        "2",
        "--start=-3",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("s0[2].start: must be a number of at least 0"));
    let out = mbusctl(&["io", "--data-dir", data_dir, "--s0-input", "2"]);
    assert!(!out.status.success(), "--start is required with --s0-input");
}
