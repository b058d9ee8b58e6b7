//! Logger-wide settings sections: general, network, date/time, e-mail, uploads, BACnet and
//! level converter.

use super::cycle::ReadCycle;
use super::validate::Problems;
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

/// General logger settings ("Allgemein").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct General {
    /// Logger name, shown in every page header.
    pub name: String,
    /// Where the logger is installed, shown next to the name.
    pub location: String,
    /// IANA time zone the read grid is aligned to, e.g. `Europe/Berlin`.
    pub timezone: String,
    /// Read cycle of every meter that has none of its own.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub default_cycle: ReadCycle,
    /// M-Bus response timeout in milliseconds (50…60 000); never shorter than the standard
    /// window at a meter's baud rate.
    pub read_timeout_ms: u32,
    /// How many event-log entries are kept (10…100 000; default 1000).
    pub event_log_capacity: u32,
}

impl Default for General {
    fn default() -> Self {
        General {
            name: "M-Bus Center".to_string(),
            location: String::new(),
            timezone: "Europe/Berlin".to_string(),
            default_cycle: ReadCycle::default(),
            read_timeout_ms: 500,
            event_log_capacity: 1000,
        }
    }
}

impl General {
    /// The configured time zone (validation guarantees it parses; UTC otherwise).
    pub fn tz(&self) -> chrono_tz::Tz {
        self.timezone.parse().unwrap_or(chrono_tz::UTC)
    }

    pub(crate) fn validate(&self, p: &mut Problems) {
        p.text("general.name", &self.name, 64, true);
        p.text("general.location", &self.location, 128, false);
        if self.timezone.parse::<chrono_tz::Tz>().is_err() {
            p.add(
                "general.timezone",
                format!(
                    "unknown time zone '{}' (expected an IANA name such as Europe/Berlin)",
                    self.timezone
                ),
            );
        }
        p.check(
            (50..=60_000).contains(&self.read_timeout_ms),
            "general.read_timeout_ms",
            "must be between 50 and 60000",
        );
        p.check(
            (10..=100_000).contains(&self.event_log_capacity),
            "general.event_log_capacity",
            "must be between 10 and 100000",
        );
    }
}

/// One network interface's IPv4 configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct Interface {
    /// Obtain the address by DHCP (the other fields are then ignored).
    pub dhcp: bool,
    /// Static address.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub address: Option<Ipv4Addr>,
    /// Static prefix length (0…32).
    pub prefix_len: Option<u8>,
    /// Static default gateway.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub gateway: Option<Ipv4Addr>,
}

impl Default for Interface {
    fn default() -> Self {
        Interface {
            dhcp: true,
            address: None,
            prefix_len: None,
            gateway: None,
        }
    }
}

impl Interface {
    fn validate(&self, path: &str, p: &mut Problems) {
        if self.dhcp {
            return;
        }
        p.check(
            self.address.is_some(),
            format!("{path}.address"),
            "required when dhcp is off",
        );
        match self.prefix_len {
            None => p.add(format!("{path}.prefix_len"), "required when dhcp is off"),
            Some(n) => p.check(
                n <= 32,
                format!("{path}.prefix_len"),
                "must be between 0 and 32",
            ),
        }
    }
}

/// Network settings ("Netzwerk"): stored always, applied by the operating system where permitted.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct Network {
    /// The wired LAN.
    pub eth0: Interface,
    /// The optional mobile-modem interface.
    pub eth1: Interface,
    /// Up to two DNS servers.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub dns: Vec<Ipv4Addr>,
}

impl Network {
    pub(crate) fn validate(&self, p: &mut Problems) {
        self.eth0.validate("network.eth0", p);
        self.eth1.validate("network.eth1", p);
        p.check(
            self.dns.len() <= 2,
            "network.dns",
            "at most two DNS servers",
        );
    }
}

/// Where the clock comes from ("Datum/Zeit").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct TimeSettings {
    /// NTP server host; `None` means the time is set by hand.
    pub ntp_server: Option<String>,
}

impl Default for TimeSettings {
    fn default() -> Self {
        TimeSettings {
            ntp_server: Some("pool.ntp.org".to_string()),
        }
    }
}

impl TimeSettings {
    pub(crate) fn validate(&self, p: &mut Problems) {
        if let Some(server) = &self.ntp_server {
            p.host("time.ntp_server", server);
        }
    }
}

/// SMTP connection security.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum MailSecurity {
    /// Plain SMTP.
    #[default]
    Plain,
    /// Plain connection upgraded with STARTTLS.
    Starttls,
    /// TLS from the first byte.
    Tls,
}

/// E-mail notification settings ("E-Mail").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct Email {
    /// Notifications on or off.
    pub enabled: bool,
    /// SMTP server host.
    pub server: String,
    /// SMTP port.
    pub port: u16,
    /// Sender display name.
    pub sender_name: String,
    /// Sender address.
    pub sender_address: String,
    /// Recipient addresses.
    pub recipients: Vec<String>,
    /// Connection security.
    pub security: MailSecurity,
    /// Log in with user name and password.
    pub auth: bool,
    /// Login user name.
    pub username: String,
    /// Login password.
    pub password: String,
    /// Connect timeout in seconds.
    pub connect_timeout_s: u32,
    /// Send timeout in seconds.
    pub send_timeout_s: u32,
    /// Receive timeout in seconds.
    pub receive_timeout_s: u32,
    /// PEM file with extra root certificates trusted for TLS and STARTTLS (a private or test
    /// CA), besides the built-in public roots.
    pub ca_file: Option<String>,
    /// Also mail when an incident is over ("went"), not only when it comes.
    pub notify_went: bool,
    /// Mail about an upload target only once it has been failing this many minutes.
    pub upload_alarm_after_min: u32,
}

impl Default for Email {
    fn default() -> Self {
        Email {
            enabled: false,
            server: String::new(),
            port: 25,
            sender_name: "M-Bus Center".to_string(),
            sender_address: String::new(),
            recipients: Vec::new(),
            security: MailSecurity::Plain,
            auth: false,
            username: String::new(),
            password: String::new(),
            connect_timeout_s: 10,
            send_timeout_s: 10,
            receive_timeout_s: 10,
            ca_file: None,
            notify_went: false,
            upload_alarm_after_min: 60,
        }
    }
}

fn looks_like_mail_address(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

impl Email {
    pub(crate) fn validate(&self, p: &mut Problems) {
        for (field, value) in [
            ("connect_timeout_s", self.connect_timeout_s),
            ("send_timeout_s", self.send_timeout_s),
            ("receive_timeout_s", self.receive_timeout_s),
        ] {
            p.check(
                (1..=600).contains(&value),
                format!("email.{field}"),
                "must be between 1 and 600",
            );
        }
        p.text("email.sender_name", &self.sender_name, 64, false);
        p.check(
            (1..=10_080).contains(&self.upload_alarm_after_min),
            "email.upload_alarm_after_min",
            "must be between 1 and 10080 (one week)",
        );
        if let Some(ca) = &self.ca_file {
            p.text("email.ca_file", ca, 255, true);
        }
        if !self.enabled {
            return;
        }
        p.host("email.server", &self.server);
        p.check(self.port != 0, "email.port", "must not be 0");
        p.check(
            looks_like_mail_address(&self.sender_address),
            "email.sender_address",
            "must be an e-mail address",
        );
        p.check(
            !self.recipients.is_empty(),
            "email.recipients",
            "at least one recipient when enabled",
        );
        for (i, r) in self.recipients.iter().enumerate() {
            p.check(
                looks_like_mail_address(r),
                format!("email.recipients[{i}]"),
                "must be an e-mail address",
            );
        }
        if self.auth {
            p.text("email.username", &self.username, 128, true);
        }
    }
}

/// File-transfer protocol of the automatic upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum UploadProtocol {
    /// Plain FTP.
    #[default]
    Ftp,
    /// FTP with explicit TLS.
    Ftps,
    /// SSH file transfer.
    Sftp,
}

/// File format of exported or uploaded readings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    /// Comma/semicolon separated values.
    #[default]
    Csv,
    /// JSON.
    Json,
}

/// Automatic file upload of every read interval (FTP/FTPS/SFTP).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct FileUpload {
    /// Upload on or off.
    pub enabled: bool,
    /// Protocol.
    pub protocol: UploadProtocol,
    /// Server host.
    pub server: String,
    /// Server port (0 = the protocol's default).
    pub port: u16,
    /// Login user.
    pub username: String,
    /// Login password.
    pub password: String,
    /// Remote directory (required).
    pub path: String,
    /// File format.
    pub format: FileFormat,
    /// FTPS: PEM file with the certificate authorities to trust instead of the public ones.
    pub ca_file: Option<String>,
    /// FTPS: accept any server certificate without checking it. INSECURE: anyone on the
    /// path can read and change the transfer; for tests and closed networks only.
    pub accept_invalid_certs: bool,
    /// SFTP: the server's host key fingerprint as OpenSSH prints it (`SHA256:…`). Without
    /// it the first key seen is trusted and kept in the data directory.
    pub host_key: Option<String>,
    /// SFTP: private key file to log in with instead of the password.
    pub key_file: Option<String>,
}

impl Default for FileUpload {
    fn default() -> Self {
        FileUpload {
            enabled: false,
            protocol: UploadProtocol::Ftp,
            server: String::new(),
            port: 0,
            username: String::new(),
            password: String::new(),
            path: "/".to_string(),
            format: FileFormat::Csv,
            ca_file: None,
            accept_invalid_certs: false,
            host_key: None,
            key_file: None,
        }
    }
}

/// HTTPS push of readings to a collecting server.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct HttpsPush {
    /// Push on or off.
    pub enabled: bool,
    /// Target URL (`https://…`).
    pub url: String,
    /// Optional bearer token.
    pub token: String,
    /// PEM file with the certificate authorities to trust instead of the public ones.
    pub ca_file: Option<String>,
}

/// Upload settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct Uploads {
    /// File upload.
    pub file: FileUpload,
    /// HTTPS push.
    pub https: HttpsPush,
    /// Most files waiting in each target's spool; when it is full the oldest are dropped.
    pub spool_max_files: u32,
}

impl Default for Uploads {
    fn default() -> Self {
        Uploads {
            file: FileUpload::default(),
            https: HttpsPush::default(),
            spool_max_files: 10_000,
        }
    }
}

impl Uploads {
    pub(crate) fn validate(&self, p: &mut Problems) {
        if self.file.enabled {
            let server = self
                .file
                .server
                .strip_prefix("sftp://")
                .unwrap_or(&self.file.server);
            p.host("uploads.file.server", server);
            p.text("uploads.file.path", &self.file.path, 255, true);
            p.text("uploads.file.username", &self.file.username, 128, false);
            if let Some(key) = &self.file.host_key {
                p.check(
                    key.strip_prefix("SHA256:").is_some_and(|b64| {
                        b64.len() == 43
                            && b64
                                .chars()
                                .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/')
                    }),
                    "uploads.file.host_key",
                    "must be a SHA256 fingerprint as ssh-keygen -l prints it (SHA256:…)",
                );
            }
            if let Some(key) = &self.file.key_file {
                p.text("uploads.file.key_file", key, 255, true);
            }
            if let Some(ca) = &self.file.ca_file {
                p.text("uploads.file.ca_file", ca, 255, true);
                p.check(
                    !self.file.accept_invalid_certs,
                    "uploads.file.accept_invalid_certs",
                    "must be false when a ca_file is given",
                );
            }
        }
        if let Some(ca) = &self.https.ca_file {
            p.text("uploads.https.ca_file", ca, 255, true);
        }
        p.check(
            (1..=1_000_000).contains(&self.spool_max_files),
            "uploads.spool_max_files",
            "must be between 1 and 1000000",
        );
        if self.https.enabled {
            p.check(
                self.https.url.starts_with("https://") && self.https.url.len() > 8,
                "uploads.https.url",
                "must be an https:// URL",
            );
        }
    }
}

/// BACnet/IP server settings: the logger is a BACnet device and a router to a virtual
/// network on which every meter is a device of its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct Bacnet {
    /// Server on or off.
    pub enabled: bool,
    /// Device instance of the first meter; the others follow consecutively.
    pub start_instance: u32,
    /// UDP port (default 47808).
    pub port: u16,
    /// Register as foreign device at this BBMD (`host` or `host:port`), if any.
    pub bbmd: Option<String>,
    /// Foreign-device registration time to live in seconds.
    pub bbmd_ttl_s: u32,
    /// Device instance of the logger itself (default 999); with the server on it must lie
    /// outside the meters' instances.
    pub device_instance: u32,
    /// Network number of the virtual network the meter devices sit on (1…65534).
    pub network_number: u16,
    /// Local IPv4 address to serve on (`None`: every interface).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub address: Option<Ipv4Addr>,
    /// Act as a BBMD: accept foreign-device registrations and distribute broadcasts.
    pub bbmd_server: bool,
    /// The broadcast distribution table when acting as BBMD: peer BBMDs as `host` or
    /// `host:port`.
    pub bdt: Vec<String>,
}

impl Default for Bacnet {
    fn default() -> Self {
        Bacnet {
            enabled: false,
            start_instance: 1000,
            port: 47808,
            bbmd: None,
            bbmd_ttl_s: 300,
            device_instance: 999,
            network_number: 1000,
            address: None,
            bbmd_server: false,
            bdt: Vec::new(),
        }
    }
}

/// Highest valid BACnet object instance number.
pub const BACNET_MAX_INSTANCE: u32 = 4_194_302;

impl Bacnet {
    pub(crate) fn validate(&self, p: &mut Problems, meters: usize) {
        p.check(
            self.start_instance <= BACNET_MAX_INSTANCE,
            "bacnet.start_instance",
            "must be at most 4194302",
        );
        p.check(self.port != 0, "bacnet.port", "must not be 0");
        if let Some(bbmd) = &self.bbmd {
            p.host("bacnet.bbmd", bbmd);
            p.check(
                (30..=65_535).contains(&self.bbmd_ttl_s),
                "bacnet.bbmd_ttl_s",
                "must be between 30 and 65535",
            );
            p.check(
                !self.bbmd_server,
                "bacnet.bbmd_server",
                "a BBMD does not register as foreign device (leave bacnet.bbmd empty)",
            );
        }
        let meters_end = u64::from(self.start_instance) + meters as u64;
        if self.device_instance > BACNET_MAX_INSTANCE {
            p.add("bacnet.device_instance", "must be at most 4194302");
        } else if self.enabled
            && (u64::from(self.start_instance)..meters_end)
                .contains(&u64::from(self.device_instance))
        {
            p.add(
                "bacnet.device_instance",
                format!(
                    "is a meter's instance (meters use {} to {})",
                    self.start_instance,
                    meters_end - 1
                ),
            );
        }
        p.check(
            (1..=65_534).contains(&self.network_number),
            "bacnet.network_number",
            "must be between 1 and 65534",
        );
        for (i, peer) in self.bdt.iter().enumerate() {
            p.host(format!("bacnet.bdt[{i}]"), peer);
        }
        p.check(
            self.bdt.is_empty() || self.bbmd_server,
            "bacnet.bdt",
            "only used when bacnet.bbmd_server is on",
        );
    }
}

/// Level-converter bridge: exposes the bus on a TCP port while the logger pauses (state `rs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct LevelConverter {
    /// Bridge on or off.
    pub enabled: bool,
    /// Baud rate on the bus while bridging (`None` = each meter's own).
    pub baud: Option<u32>,
    /// TCP port (default 50000).
    pub tcp_port: u16,
}

impl Default for LevelConverter {
    fn default() -> Self {
        LevelConverter {
            enabled: false,
            baud: None,
            tcp_port: 50_000,
        }
    }
}

impl LevelConverter {
    pub(crate) fn validate(&self, p: &mut Problems) {
        p.check(
            self.tcp_port != 0,
            "level_converter.tcp_port",
            "must not be 0",
        );
        if let Some(baud) = self.baud {
            p.check(
                mbus_proto::address::BaudRate::from_bps(baud).is_ok(),
                "level_converter.baud",
                "must be 300, 600, 1200, 2400, 4800, 9600, 19200 or 38400",
            );
        }
    }
}
