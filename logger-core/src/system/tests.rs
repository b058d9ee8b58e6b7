use super::*;
use crate::config::Interface;
use chrono::TimeZone;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap()
}

fn static_eth0(address: [u8; 4], gateway: [u8; 4]) -> Network {
    Network {
        eth0: Interface {
            dhcp: false,
            address: Some(address.into()),
            prefix_len: Some(24),
            gateway: Some(gateway.into()),
        },
        dns: vec![[9, 9, 9, 9].into()],
        ..Network::default()
    }
}

fn read(dir: &Path, name: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(DRY_RUN_DIR).join(NETWORKD_DIR).join(name)).ok()
}

#[test]
fn a_dry_run_writes_the_files_into_the_data_dir_and_lists_the_commands() {
    let dir = tempfile::tempdir().unwrap();
    let mut applier = NetworkApplier::new(Target::dry_run(dir.path()), Duration::minutes(2));
    let applied = applier
        .apply(&static_eth0([192, 168, 1, 20], [192, 168, 1, 1]), t0())
        .unwrap();
    assert_eq!(applied.files.len(), 2);
    assert_eq!(applied.plan.last().unwrap(), "networkctl reload");
    assert!(applied.plan[0].starts_with("write ") && applied.plan[0].contains("system-dry-run"));
    assert_eq!(applied.confirm_by, Some(t0() + Duration::minutes(2)));
    assert_eq!(
        read(dir.path(), "10-mbus-center-eth0.network").unwrap(),
        "# Written by mbus-center from its network settings.\n[Match]\nName=eth0\n\n[Network]\n\
         Address=192.168.1.20/24\nGateway=192.168.1.1\nDNS=9.9.9.9\n"
    );
    assert!(read(dir.path(), "10-mbus-center-eth1.network")
        .unwrap()
        .contains("DHCP=ipv4"));
}

#[test]
fn an_unconfirmed_change_is_rolled_back_after_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let mut applier = NetworkApplier::new(Target::dry_run(dir.path()), Duration::minutes(2));
    // A first change, confirmed: the state to return to.
    applier.apply(&Network::default(), t0()).unwrap();
    assert!(applier.confirm());
    let dhcp = read(dir.path(), "10-mbus-center-eth0.network").unwrap();
    // A second one, never confirmed (the new address is unreachable) …
    applier
        .apply(
            &static_eth0([10, 0, 0, 5], [10, 0, 0, 1]),
            t0() + Duration::minutes(10),
        )
        .unwrap();
    // … and a third on top, still within the window: the rollback goes back to the first.
    applier
        .apply(
            &static_eth0([10, 0, 0, 6], [10, 0, 0, 1]),
            t0() + Duration::minutes(11),
        )
        .unwrap();
    assert_eq!(applier.pending_until(), Some(t0() + Duration::minutes(13)));
    assert!(applier
        .tick(t0() + Duration::minutes(12))
        .unwrap()
        .is_none());
    let rolled = applier
        .tick(t0() + Duration::minutes(13))
        .unwrap()
        .expect("rolled back at the deadline");
    assert_eq!(rolled.files.len(), 2);
    assert_eq!(rolled.plan.last().unwrap(), "networkctl reload");
    assert_eq!(
        read(dir.path(), "10-mbus-center-eth0.network").unwrap(),
        dhcp
    );
    assert!(applier.pending_until().is_none());
    assert!(applier.tick(t0() + Duration::hours(1)).unwrap().is_none());
}

#[test]
fn a_rollback_removes_files_that_did_not_exist_before() {
    let dir = tempfile::tempdir().unwrap();
    let mut applier = NetworkApplier::new(Target::dry_run(dir.path()), Duration::seconds(90));
    applier.apply(&Network::default(), t0()).unwrap();
    let rolled = applier.tick(t0() + Duration::seconds(90)).unwrap().unwrap();
    assert!(rolled.plan[0].starts_with("remove "));
    assert!(read(dir.path(), "10-mbus-center-eth0.network").is_none());
}

#[test]
fn settings_that_do_not_fit_together_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut applier = NetworkApplier::new(Target::dry_run(dir.path()), Duration::minutes(2));
    let err = applier
        .apply(&static_eth0([192, 168, 1, 20], [10, 0, 0, 1]), t0())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "network.eth0.gateway: 10.0.0.1 is not another host in 192.168.1.20/24"
    );
    let err = applier
        .apply(
            &static_eth0([255, 255, 255, 255], [255, 255, 255, 255]),
            t0(),
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("cannot be an interface address"),
        "{err}"
    );
    assert!(!dir.path().join(DRY_RUN_DIR).exists());
    assert!(applier.pending_until().is_none());
}

#[test]
fn time_settings_go_to_timesyncd_and_manual_time_needs_ntp_off() {
    let dir = tempfile::tempdir().unwrap();
    let target = Target::dry_run(dir.path());
    let ntp = TimeSettings {
        ntp_server: Some("ntp.example.org".into()),
    };
    let applied = apply_time(&target, &ntp).unwrap();
    assert_eq!(
        applied.plan[1..],
        [
            "timedatectl set-ntp true",
            "systemctl restart systemd-timesyncd"
        ]
    );
    let text = std::fs::read_to_string(&applied.files[0]).unwrap();
    assert!(text.ends_with("[Time]\nNTP=ntp.example.org\n"), "{text}");
    assert!(matches!(
        set_time(&target, &ntp, t0()),
        Err(SystemError::NtpActive)
    ));
    let manual = TimeSettings { ntp_server: None };
    assert_eq!(
        apply_time(&target, &manual).unwrap().plan[1],
        "timedatectl set-ntp false"
    );
    assert_eq!(
        set_time(&target, &manual, t0()).unwrap().plan,
        ["timedatectl set-time 2026-05-04 08:00:00 UTC"]
    );
}
