//! Logger configuration and system integration against a real `mbus-centerd --simulate`
//! process over HTTP(S): settings round trips, validation errors that name the field and change
//! nothing, backup with and without secrets, restore of a bad backup, the TLS certificate
//! (self-signed on first start, bad ones refused by field, a good one served at once), file
//! permissions, and the pages with the element ids the browser tests use.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use support::http::Answer;

mod support;

/// A running daemon; killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    /// Starts `mbus-centerd` on a simulated bus (virtual time) with its data in `dir`.
    fn start(dir: &Path, extra: &[&str]) -> Server {
        // A first start scans the simulated bus; later ones find the meters configured.
        let mut scanned = dir.join("config.json").exists();
        let mut child = Command::new(env!("CARGO_BIN_EXE_mbus-centerd"))
            .args(["--data-dir", dir.to_str().unwrap(), "--simulate", "3"])
            .args(["--listen", "127.0.0.1:0", "--fast-sim"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start mbus-centerd");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        // Wait for the web server and the first scan (the simulated meters are then configured).
        let mut base = None;
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(at) = line.find("web UI and REST API at ") {
                let rest = &line[at + "web UI and REST API at ".len()..];
                base = Some(
                    rest.split_whitespace()
                        .next()
                        .unwrap()
                        .trim_end_matches('/')
                        .to_string(),
                );
            }
            scanned |= line.contains("scan done");
            if base.is_some() && scanned {
                break;
            }
        }
        // Keep reading the log so that the daemon never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server {
            child,
            base: base.expect("the daemon logs where it listens"),
        }
    }

    fn address(&self) -> String {
        self.base.split("://").nth(1).unwrap().to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP client with the session cookie and the CSRF token (HTTPS without certificate
/// checks: the tests compare the certificate themselves).
struct Client {
    base: String,
    agent: ureq::Agent,
    cookie: Option<String>,
    csrf: Option<String>,
}

const NEW_PASSWORD: &str = "heizraum-2026";

impl Client {
    fn logged_in(base: &str) -> Client {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .disable_verification(true)
                    .build(),
            )
            .build()
            .into();
        let mut c = Client {
            base: base.to_string(),
            agent,
            cookie: None,
            csrf: None,
        };
        let login = c.post(
            "/api/v1/login",
            serde_json::json!({"username": "admin", "password": "123"}),
        );
        assert_eq!(login.status, 200, "{}", login.text());
        c.csrf = Some(login.json()["csrf_token"].as_str().unwrap().to_string());
        let changed = c.post(
            "/api/v1/password",
            serde_json::json!({"current": "123", "new": NEW_PASSWORD}),
        );
        assert_eq!(changed.status, 200, "{}", changed.text());
        c
    }

    fn answer(
        &mut self,
        response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Answer {
        let answer = Answer::from_response(response);
        if let Some(c) = &answer.set_cookie {
            self.cookie = Some(c.split(';').next().unwrap().to_string());
        }
        answer
    }

    fn get(&mut self, path: &str) -> Answer {
        let mut request = self.agent.get(format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            request = request.header("Cookie", c);
        }
        let response = request.call();
        self.answer(response)
    }

    fn post_raw(&mut self, path: &str, content_type: &str, body: &[u8]) -> Answer {
        let mut request = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Content-Type", content_type)
            // A refused request's body may stay unread and its connection closed: never reuse one.
            .header("Connection", "close");
        if let Some(c) = &self.cookie {
            request = request.header("Cookie", c);
        }
        if let Some(t) = &self.csrf {
            request = request.header("X-CSRF-Token", t);
        }
        let response = request.send(body);
        self.answer(response)
    }

    fn post(&mut self, path: &str, body: serde_json::Value) -> Answer {
        self.post_raw(path, "application/json", body.to_string().as_bytes())
    }

    /// An HTML form post (the token in the form, as a browser sends it).
    fn form(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        let csrf = self.csrf.take().unwrap();
        all.push(("csrf", &csrf));
        let body = serde_urlencoded::to_string(&all).unwrap();
        let answer = self.post_raw(path, "application/x-www-form-urlencoded", body.as_bytes());
        self.csrf = Some(csrf);
        answer
    }

    /// A file upload form (multipart; the token in the query string, as the page's form has it).
    fn upload(&mut self, path: &str, files: &[(&str, &[u8])]) -> Answer {
        let boundary = "----settings-test-boundary";
        let mut body = Vec::new();
        for (name, content) in files {
            write!(
                body,
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}.pem\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .unwrap();
            body.extend_from_slice(content);
            body.extend_from_slice(b"\r\n");
        }
        write!(body, "--{boundary}--\r\n").unwrap();
        let csrf = self.csrf.take().unwrap();
        let answer = self.post_raw(
            &format!("{path}?csrf={csrf}"),
            &format!("multipart/form-data; boundary={boundary}"),
            &body,
        );
        self.csrf = Some(csrf);
        answer
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn settings_round_trip_and_a_refused_change_names_the_field_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let mut c = Client::logged_in(&server.base);

    let settings = c.get("/api/v1/settings").json();
    assert_eq!(settings["general"]["name"], "M-Bus Center");
    assert!(settings.get("meters").is_none());

    let general = serde_json::json!({"name": "Heizzentrale Nord", "location": "Keller 2",
        "timezone": "Europe/Zurich", "default_cycle": "60min", "read_timeout_ms": 800,
        "event_log_capacity": 500});
    let saved = c.post("/api/v1/settings/general", general.clone());
    assert_eq!(saved.status, 200, "{}", saved.text());
    assert_eq!(saved.json(), general);
    assert_eq!(c.get("/api/v1/settings").json()["general"], general);
    assert_eq!(c.get("/api/v1/status").json()["name"], "Heizzentrale Nord");

    // Two bad fields: both named, nothing applied (not even the good name).
    let bad = c.post(
        "/api/v1/settings/general",
        serde_json::json!({"name": "", "location": "x", "timezone": "Mars/Olympus",
            "default_cycle": "60min", "read_timeout_ms": 800, "event_log_capacity": 500}),
    );
    assert_eq!(bad.status, 422, "{}", bad.text());
    assert_eq!(bad.fields(), ["general.name", "general.timezone"]);
    let wrong_type = c.post(
        "/api/v1/settings/bacnet",
        serde_json::json!({"enabled": true, "port": "eighty"}),
    );
    assert_eq!(wrong_type.status, 422);
    assert_eq!(wrong_type.fields(), ["bacnet.port"]);
    assert_eq!(c.get("/api/v1/settings").json()["general"], general);
    assert_eq!(c.get("/api/v1/settings").json()["bacnet"]["enabled"], false);
    assert_eq!(
        c.post("/api/v1/settings/meters", serde_json::json!([]))
            .status,
        404
    );
    assert_eq!(
        c.post_raw("/api/v1/settings/general", "application/json", b"{")
            .status,
        400
    );

    // BACnet with BBMD, the level converter, the network.
    let bacnet = serde_json::json!({"enabled": true, "start_instance": 4000, "port": 47809,
        "bbmd": "bbmd.example:47808", "bbmd_ttl_s": 600});
    assert_eq!(
        c.post("/api/v1/settings/bacnet", bacnet.clone()).status,
        200
    );
    // What was sent is stored; the fields not sent keep their defaults.
    let stored = c.get("/api/v1/settings").json()["bacnet"].clone();
    for (key, value) in bacnet.as_object().expect("object") {
        assert_eq!(&stored[key], value, "bacnet.{key} in {stored}");
    }
    assert_eq!(stored["device_instance"], 999, "{stored}");
    let bad_network = c.post(
        "/api/v1/settings/network",
        serde_json::json!({"eth0": {"dhcp": false, "address": "192.168.1.20"}}),
    );
    assert_eq!(bad_network.fields(), ["network.eth0.prefix_len"]);

    // Secrets: stored, never sent out, kept when a form leaves them empty; the file is 0600.
    let email = serde_json::json!({"enabled": false, "server": "smtp.example", "port": 587,
        "auth": true, "username": "logger", "password": "mail-secret-1"});
    assert_eq!(c.post("/api/v1/settings/email", email).status, 200);
    let shown = c.get("/api/v1/settings").json();
    assert_eq!(shown["email"]["password"], "");
    assert!(!c.get("/api/v1/settings").text().contains("mail-secret-1"));
    let mut again = shown["email"].clone();
    again["port"] = 465.into();
    assert_eq!(c.post("/api/v1/settings/email", again).status, 200);
    let file = dir.path().join("config.json");
    let stored = std::fs::read_to_string(&file).unwrap();
    assert!(
        stored.contains("mail-secret-1"),
        "the password stays stored"
    );
    assert!(stored.contains("\"port\": 465"));
    assert_eq!(mode(&file), 0o600);

    // The OpenAPI document lists the settings routes with their parameters.
    let doc = c.get("/api/openapi.json").json();
    let section = &doc["paths"]["/api/v1/settings/{section}"]["post"];
    assert_eq!(section["parameters"][0]["name"], "section");
    assert_eq!(
        doc["paths"]["/api/v1/backup"]["get"]["parameters"][0]["name"],
        "secrets"
    );
    assert!(doc["paths"]["/api/v1/tls"]["post"].is_object());

    // The test mail needs a server; the test upload with nothing on reports nothing.
    assert_eq!(c.get("/api/v1/versions").json()["config_schema"], 2);
    let uploads = c.post_raw("/api/v1/uploads/test", "application/json", b"");
    assert_eq!(
        (uploads.status, uploads.json()),
        (200, serde_json::json!([]))
    );
}

#[test]
fn backups_leave_secrets_out_unless_asked_and_a_bad_restore_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let mut c = Client::logged_in(&server.base);
    let uploads = serde_json::json!({"file": {"enabled": false, "protocol": "ftp",
        "server": "ftp.example", "username": "u", "password": "ftp-secret-7", "path": "/in"}});
    let set = c.post("/api/v1/settings/uploads", uploads);
    assert_eq!(set.status, 200, "{}", set.text());

    let plain = c.get("/api/v1/backup");
    assert_eq!(plain.status, 200);
    assert!(plain
        .disposition
        .as_deref()
        .unwrap()
        .contains("Backup_M_Bus_Center_"));
    assert!(!plain.text().contains("ftp-secret-7"));
    let full = c.get("/api/v1/backup?secrets=true");
    assert!(full.text().contains("ftp-secret-7"));
    assert_eq!(c.get("/api/v1/backup?secrets=maybe").fields(), ["secrets"]);

    // A bad backup: every problem named, the stored file untouched.
    let file = dir.path().join("config.json");
    let before = std::fs::read(&file).unwrap();
    let mut bad = plain.json();
    bad["general"]["read_timeout_ms"] = 5.into();
    bad["bacnet"]["port"] = 0.into();
    let refused = c.post("/api/v1/restore", bad.clone());
    assert_eq!(refused.status, 422, "{}", refused.text());
    assert_eq!(refused.fields(), ["general.read_timeout_ms", "bacnet.port"]);
    assert_eq!(std::fs::read(&file).unwrap(), before);
    let not_json = c.post_raw("/api/v1/restore", "application/json", b"{\"version\": 2,");
    assert_eq!(not_json.status, 422);
    assert_eq!(std::fs::read(&file).unwrap(), before);

    // The same bad file through the page: the errors next to their fields, 422.
    let page = c.upload(
        "/logger/backup/restore",
        &[("backup", bad.to_string().as_bytes())],
    );
    assert_eq!(page.status, 422);
    let html = page.text();
    assert!(
        html.contains(r#"data-field="general.read_timeout_ms""#),
        "{html}"
    );
    assert!(html.contains(r#"data-field="bacnet.port""#));
    assert_eq!(std::fs::read(&file).unwrap(), before);

    // An upload form with a wrong token is refused.
    let token = c.csrf.replace("wrong-token".into());
    // (A small body: the server answers before reading it.)
    let forged = c.upload("/logger/backup/restore", &[("backup", b"{}")]);
    assert_eq!(forged.status, 403);
    c.csrf = token;

    // A good backup without secrets: applied, the stored password kept.
    let mut good = plain.json();
    good["general"]["name"] = "Restored".into();
    let restored = c.post("/api/v1/restore", good.clone());
    assert_eq!(restored.status, 200, "{}", restored.text());
    assert_eq!(restored.json()["meters"], 3);
    assert_eq!(c.get("/api/v1/status").json()["name"], "Restored");
    assert!(std::fs::read_to_string(&file)
        .unwrap()
        .contains("ftp-secret-7"));
    good["general"]["name"] = "Through the page".into();
    let page = c.upload(
        "/logger/backup/restore",
        &[("backup", good.to_string().as_bytes())],
    );
    assert_eq!(page.status, 303);
    assert_eq!(page.location.as_deref(), Some("/logger/backup?saved=1"));
    assert_eq!(c.get("/api/v1/status").json()["name"], "Through the page");
    assert_eq!(mode(&file), 0o600);
}

/// Accepts any server certificate and keeps it, to compare with the expected one.
#[derive(Debug)]
struct Capture(
    std::sync::Mutex<Vec<u8>>,
    Arc<rustls::crypto::CryptoProvider>,
);

impl rustls::client::danger::ServerCertVerifier for Capture {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        *self.0.lock().unwrap() = end_entity.to_vec();
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.1.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.1.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.1.signature_verification_algorithms.supported_schemes()
    }
}

/// The certificate (DER) the server at `address` presents.
fn presented(address: &str) -> Vec<u8> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let capture = Arc::new(Capture(Default::default(), provider.clone()));
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(capture.clone())
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut connection = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut tcp = std::net::TcpStream::connect(address).unwrap();
    let mut tls = rustls::Stream::new(&mut connection, &mut tcp);
    tls.write_all(b"GET /login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut reply = Vec::new();
    let _ = tls.read_to_end(&mut reply);
    assert!(
        reply.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&reply)
    );
    let der = capture.0.lock().unwrap().clone();
    der
}

fn der_of(pem: &str) -> Vec<u8> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::from_pem_slice(pem.as_bytes())
        .unwrap()
        .to_vec()
}

fn pair(from: i32, to: i32) -> (String, String) {
    let mut params = rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap();
    params.not_before = rcgen::date_time_ymd(from, 1, 1);
    params.not_after = rcgen::date_time_ymd(to, 1, 1);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem())
}

#[test]
fn tls_self_signed_at_first_start_bad_uploads_refused_by_field_a_good_one_served_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--tls"]);
    assert!(server.base.starts_with("https://"), "{}", server.base);
    let stored = dir.path().join("tls.pem");
    assert_eq!(mode(&stored), 0o600);
    let first = std::fs::read_to_string(&stored).unwrap();
    assert_eq!(presented(&server.address()), der_of(&first));

    let mut c = Client::logged_in(&server.base);
    let login_cookie = c.cookie.clone().unwrap();
    assert!(!login_cookie.is_empty());
    let relogin = c.post(
        "/api/v1/login",
        serde_json::json!({"username": "admin", "password": NEW_PASSWORD}),
    );
    assert!(
        relogin.set_cookie.as_deref().unwrap().contains("; Secure"),
        "cookies are Secure under TLS"
    );
    c.csrf = Some(relogin.json()["csrf_token"].as_str().unwrap().to_string());
    let state = c.get("/api/v1/tls").json();
    assert_eq!(state["serving"], true);
    assert_eq!(state["certificate"]["self_signed"], true);

    let (good, good_key) = pair(2025, 2035);
    let (_, other_key) = pair(2025, 2035);
    let (expired, expired_key) = pair(2015, 2020);
    let cases = [
        (
            "not a certificate",
            good_key.as_str(),
            "certificate",
            "no certificate found",
        ),
        (
            good.as_str(),
            other_key.as_str(),
            "key",
            "does not belong to the certificate",
        ),
        (
            expired.as_str(),
            expired_key.as_str(),
            "certificate",
            "expired on 2020-01-01",
        ),
        (good.as_str(), "no key", "key", "no private key found"),
    ];
    for (certificate, key, field, text) in cases {
        let refused = c.post(
            "/api/v1/tls",
            serde_json::json!({"certificate": certificate, "key": key}),
        );
        assert_eq!(refused.status, 422, "{}", refused.text());
        assert_eq!(refused.fields(), [field]);
        assert!(refused.text().contains(text), "{}", refused.text());
        assert_eq!(std::fs::read_to_string(&stored).unwrap(), first);
    }
    // The page form shows the error next to the field.
    let page = c.upload(
        "/logger/tls/certificate",
        &[
            ("certificate", good.as_bytes()),
            ("key", other_key.as_bytes()),
        ],
    );
    assert_eq!(page.status, 422);
    assert!(
        page.text().contains(r#"data-field="key""#),
        "{}",
        page.text()
    );
    assert_eq!(presented(&server.address()), der_of(&first));

    let accepted = c.post(
        "/api/v1/tls",
        serde_json::json!({"certificate": good, "key": good_key}),
    );
    assert_eq!(accepted.status, 200, "{}", accepted.text());
    assert_eq!(accepted.json()["self_signed"], true);
    assert_eq!(
        presented(&server.address()),
        der_of(&good),
        "served from the next connection on"
    );
    assert_eq!(mode(&stored), 0o600);
    let (newer, newer_key) = pair(2026, 2036);
    let page = c.upload(
        "/logger/tls/certificate",
        &[
            ("certificate", newer.as_bytes()),
            ("key", newer_key.as_bytes()),
        ],
    );
    assert_eq!(page.location.as_deref(), Some("/logger/tls?saved=1"));
    assert_eq!(presented(&server.address()), der_of(&newer));
}

#[test]
fn every_tab_renders_with_its_ids_forms_save_and_refuse_by_field_in_both_languages() {
    let dir = tempfile::tempdir().unwrap();
    // Started twice, so that the event log has two pages of one.
    drop(Server::start(dir.path(), &[]));
    let server = Server::start(dir.path(), &[]);
    let mut c = Client::logged_in(&server.base);
    assert_eq!(
        c.get("/logger").location.as_deref(),
        Some("/logger/general")
    );
    assert_eq!(
        c.get("/integration").location.as_deref(),
        Some("/integration/export")
    );
    let tabs = [
        (
            "general",
            &[
                "general-name",
                "general-location",
                "general-timezone",
                "general-cycle",
                "general-save",
            ][..],
        ),
        ("network", &["network-eth0-dhcp", "network-dns"]),
        ("time", &["time-ntp"]),
        ("temperature", &[]),
        ("s0", &[]),
        ("level-converter", &["lc-enabled", "lc-baud", "lc-port"]),
        ("diagnosis", &["event-log", "event-filter"]),
        ("email", &["email-server", "email-password", "email-test"]),
        (
            "backup",
            &[
                "backup-download",
                "backup-secrets",
                "restore-file",
                "restore-submit",
            ],
        ),
        ("update", &["versions"]),
        (
            "tls",
            &[
                "cert-file",
                "key-file",
                "tls-submit",
                "tls-current",
                "tls-enabled",
            ],
        ),
    ];
    for (tab, ids) in tabs {
        let page = c.get(&format!("/logger/{tab}"));
        assert_eq!(page.status, 200, "{tab}: {}", page.text());
        let html = page.text();
        for (other, _) in &tabs {
            assert!(
                html.contains(&format!("id=\"tab-{other}\"")),
                "{tab}: tab-{other}"
            );
        }
        for id in ids {
            assert!(html.contains(&format!("id=\"{id}\"")), "{tab}: #{id}");
        }
    }
    for (tab, ids) in [
        (
            "export",
            &[
                "export-form",
                "export-from",
                "export-to",
                "export-format",
                "export-filter",
                "export-submit",
            ][..],
        ),
        (
            "upload",
            &["upload-protocol", "upload-password", "upload-test"],
        ),
        (
            "bacnet",
            &[
                "bacnet-instance",
                "bacnet-device-instance",
                "bacnet-network",
                "bacnet-address",
                "bacnet-bbmd",
                "bacnet-bbmd-server",
                "bacnet-bdt",
            ],
        ),
        (
            "modbus",
            &[
                "modbus-enabled",
                "modbus-port",
                "modbus-block-size",
                "modbus-unit-id",
                "modbus-word-order",
                "modbus-decimals",
                "modbus-map",
                "modbus-csv",
            ],
        ),
    ] {
        let html = c.get(&format!("/integration/{tab}")).text();
        for id in ids {
            assert!(html.contains(&format!("id=\"{id}\"")), "{tab}: #{id}");
        }
    }
    assert!(c
        .get("/integration/export")
        .text()
        .contains("data-meter-id=\"3\""));
    let missing = c.get("/logger/nothing");
    assert_eq!(
        (missing.status, missing.text().contains("Nicht gefunden")),
        (404, true)
    );

    // The general form: refused with the errors next to the fields, then saved.
    let refused = c.form(
        "/logger/general",
        &[
            ("name", ""),
            ("location", "Keller"),
            ("timezone", "Europe/Berlin"),
            ("default_cycle", "15min"),
            ("read_timeout_ms", "abc"),
            ("event_log_capacity", "1000"),
        ],
    );
    assert_eq!(refused.status, 422);
    let html = refused.text();
    assert!(
        html.contains(r#"data-field="general.read_timeout_ms""#),
        "{html}"
    );
    assert!(
        html.contains(r#"value="Keller""#),
        "what was typed stays in the form"
    );
    assert_eq!(c.get("/api/v1/settings").json()["general"]["location"], "");
    let saved = c.form(
        "/logger/general",
        &[
            ("name", "Logger Ost"),
            ("location", "Keller"),
            ("timezone", "Europe/Berlin"),
            ("default_cycle", "15min"),
            ("read_timeout_ms", "600"),
            ("event_log_capacity", "1000"),
        ],
    );
    assert_eq!(saved.location.as_deref(), Some("/logger/general?saved=1"));
    let general = &c.get("/api/v1/settings").json()["general"];
    assert_eq!(
        (
            general["name"].as_str(),
            general["read_timeout_ms"].as_u64()
        ),
        (Some("Logger Ost"), Some(600))
    );
    // Unticked checkboxes switch off; the BBMD form saves, with its distribution table.
    let bacnet = c.form(
        "/integration/bacnet",
        &[
            ("enabled", "true"),
            ("start_instance", "2000"),
            ("device_instance", "77"),
            ("network_number", "1200"),
            ("port", "47808"),
            ("address", "127.0.0.1"),
            ("bbmd", ""),
            ("bbmd_ttl_s", "300"),
            ("bbmd_server", "true"),
            ("bdt", "10.0.0.2:47808\n10.0.1.2"),
        ],
    );
    assert_eq!(bacnet.status, 303, "{}", bacnet.text());
    let stored = c.get("/api/v1/settings").json()["bacnet"].clone();
    assert_eq!(
        stored,
        serde_json::json!({"enabled": true, "start_instance": 2000, "port": 47808,
            "bbmd": null, "bbmd_ttl_s": 300, "device_instance": 77, "network_number": 1200,
            "address": "127.0.0.1", "bbmd_server": true, "bdt": ["10.0.0.2:47808", "10.0.1.2"]})
    );

    // The Modbus form: refused by field, then saved; the register map follows the block size.
    let modbus = |block: &'static str| {
        [
            ("enabled", "true"),
            ("address", "127.0.0.1"),
            ("port", "1502"),
            ("block_size", block),
            ("unit_id", ""),
            ("word_order", "low_first"),
            ("int32_decimals", "2"),
        ]
    };
    let refused = c.form("/integration/modbus", &modbus("8"));
    assert_eq!(refused.status, 422);
    assert!(refused.text().contains(r#"data-field="modbus.block_size""#));
    assert_eq!(c.get("/api/v1/settings").json()["modbus"]["enabled"], false);
    let saved = c.form("/integration/modbus", &modbus("32"));
    assert_eq!(
        saved.location.as_deref(),
        Some("/integration/modbus?saved=1")
    );
    let stored = c.get("/api/v1/settings").json()["modbus"].clone();
    assert_eq!(
        stored,
        serde_json::json!({"enabled": true, "address": "127.0.0.1", "port": 1502,
            "block_size": 32, "unit_id": null, "word_order": "low_first", "int32_decimals": 2,
            "int32_overrides": []})
    );
    let csv = c.get("/api/v1/modbus/registers.csv");
    assert_eq!(csv.status, 200);
    let csv = csv.text();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("meter_id,meter,secondary_address,meter_index,base_address"));
    // Three meters at 0, 32 and 64, each value's float32 after the 8 header registers.
    let bases: std::collections::BTreeSet<&str> = lines[1..]
        .iter()
        .map(|l| l.split(',').nth(4).unwrap())
        .collect();
    assert_eq!(bases.into_iter().collect::<Vec<_>>(), ["0", "32", "64"]);
    assert!(lines[1].ends_with(",-2,low_first"), "{}", lines[1]);
    assert!(
        lines
            .iter()
            .any(|l| l.contains(",0,0,0,2,") && l.contains(",8,10,")),
        "{csv}"
    );
    let page = c.get("/integration/modbus").text();
    assert!(page.contains("href=\"/api/v1/modbus/registers.csv\""));
    assert_eq!(page.matches("<tr data-meter-id=").count(), lines.len() - 1);

    // The level converter: a baud rate or the meters' own ("standard").
    let lc = [("enabled", "true"), ("baud", "2400"), ("tcp_port", "50001")];
    assert_eq!(c.form("/logger/level-converter", &lc).status, 303);
    let stored = c.get("/api/v1/settings").json()["level_converter"].clone();
    assert_eq!(
        stored,
        serde_json::json!({"enabled": true, "baud": 2400, "tcp_port": 50001})
    );
    let lc = [("baud", ""), ("tcp_port", "0")];
    let refused = c.form("/logger/level-converter", &lc);
    assert_eq!(refused.status, 422);
    assert!(refused
        .text()
        .contains(r#"data-field="level_converter.tcp_port""#));
    let lc = [("baud", ""), ("tcp_port", "50000")];
    assert_eq!(c.form("/logger/level-converter", &lc).status, 303);
    let stored = c.get("/api/v1/settings").json()["level_converter"].clone();
    assert_eq!(
        stored,
        serde_json::json!({"enabled": false, "baud": null, "tcp_port": 50000})
    );

    // The test mail without a server names the field; the test upload with nothing on says so.
    let mail = c.form("/logger/email/test", &[("to", "")]);
    assert_eq!(mail.status, 422);
    assert!(mail.text().contains(r#"data-field="email.server""#));
    let upload = c.form("/integration/upload/test", &[]);
    assert_eq!(upload.status, 200);
    assert!(upload.text().contains("id=\"test-result\""));

    // The event log pages and filters.
    let events = c.get("/logger/diagnosis?limit=1").text();
    assert!(events.contains("id=\"events-next\""), "{events}");
    assert!(c
        .get("/logger/diagnosis?kind=X")
        .text()
        .contains(r#"data-field="kind""#));

    // The export form downloads the ZIP of the chosen meters.
    let zip = c.get("/integration/export/download?from=2020-01-01&to=2030-01-01&format=json&filter=all&meters=1&meters=2");
    assert_eq!(zip.status, 200);
    assert!(zip.body.starts_with(b"PK"));

    // German.
    assert_eq!(
        c.form("/language", &[("language", "de"), ("back", "/logger")])
            .status,
        303
    );
    let german = c.get("/logger/general").text();
    for term in [
        "Allgemein",
        "Standort",
        "Zeitzone",
        "Standard Auslesezyklus",
        "Pegelwandler",
        "SSL-Zertifikat",
    ] {
        assert!(german.contains(term), "{term}");
    }
    assert!(c
        .get("/integration/export")
        .text()
        .contains("Letzter Wert pro Tag"));
}
