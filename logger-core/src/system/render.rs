//! The files systemd-networkd and systemd-timesyncd read, from the configuration.

use crate::config::{FieldError, Interface, Network, TimeSettings};
use std::fmt::Write;
use std::net::Ipv4Addr;

fn field(path: String, problem: String) -> FieldError {
    FieldError { path, problem }
}

fn in_subnet(a: Ipv4Addr, b: Ipv4Addr, prefix: u8) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix.min(32)))
    };
    u32::from(a) & mask == u32::from(b) & mask
}

fn check_interface(name: &str, iface: &Interface, errors: &mut Vec<FieldError>) {
    if iface.dhcp {
        return;
    }
    let path = format!("network.{name}");
    let (Some(address), Some(prefix)) = (iface.address, iface.prefix_len) else {
        errors.push(field(
            format!("{path}.address"),
            "a static address needs address and prefix_len".into(),
        ));
        return;
    };
    if prefix > 32 {
        errors.push(field(
            format!("{path}.prefix_len"),
            "must be between 0 and 32".into(),
        ));
        return;
    }
    if address.is_unspecified() || address.is_broadcast() || address.is_multicast() {
        errors.push(field(
            format!("{path}.address"),
            format!("{address} cannot be an interface address"),
        ));
    }
    if let Some(gateway) = iface.gateway {
        if !in_subnet(address, gateway, prefix) || gateway == address {
            errors.push(field(
                format!("{path}.gateway"),
                format!("{gateway} is not another host in {address}/{prefix}"),
            ));
        }
    }
}

/// Checks that the network settings fit together (beyond each field's own rules).
pub fn check_network(network: &Network) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    check_interface("eth0", &network.eth0, &mut errors);
    check_interface("eth1", &network.eth1, &mut errors);
    if network.dns.len() > 2 {
        errors.push(field(
            "network.dns".into(),
            "at most two DNS servers".into(),
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn network_file(name: &str, iface: &Interface, dns: &[Ipv4Addr]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Written by mbus-center from its network settings.");
    let _ = writeln!(out, "[Match]\nName={name}\n\n[Network]");
    match (iface.dhcp, iface.address, iface.prefix_len) {
        (false, Some(address), Some(prefix)) => {
            let _ = writeln!(out, "Address={address}/{prefix}");
            if let Some(gateway) = iface.gateway {
                let _ = writeln!(out, "Gateway={gateway}");
            }
        }
        _ => {
            let _ = writeln!(out, "DHCP=ipv4");
        }
    }
    for server in dns {
        let _ = writeln!(out, "DNS={server}");
    }
    out
}

/// The `.network` files (file name, content) for eth0 and eth1.
pub fn network_files(network: &Network) -> Vec<(String, String)> {
    vec![
        (
            "10-mbus-center-eth0.network".into(),
            network_file("eth0", &network.eth0, &network.dns),
        ),
        (
            "10-mbus-center-eth1.network".into(),
            network_file("eth1", &network.eth1, &network.dns),
        ),
    ]
}

/// The systemd-timesyncd drop-in (file name, content).
pub fn time_file(time: &TimeSettings) -> (String, String) {
    let server = time.ntp_server.as_deref().unwrap_or("");
    (
        "mbus-center.conf".into(),
        format!("# Written by mbus-center from its time settings.\n[Time]\nNTP={server}\n"),
    )
}
