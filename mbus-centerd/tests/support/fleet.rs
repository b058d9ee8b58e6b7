//! Real servers for the fleet tests, started on 127.0.0.1 on free ports: a mosquitto broker
//! (with a password file and persistence) and an MQTT subscriber that collects messages.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Waits until `done` holds, failing the test after `limit`.
pub fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A mosquitto broker with a plain and a TLS listener; killed when dropped.
pub struct Mosquitto {
    /// Its plain port.
    pub port: u16,
    /// Its TLS port (server certificate for 127.0.0.1 issued by [`Mosquitto::ca_file`]).
    pub tls_port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

/// Makes a CA (`ca.pem`) and a server certificate for 127.0.0.1 signed by it
/// (`server.pem`, `server.key`) in `dir` with openssl.
pub fn make_certificates(dir: &Path) {
    let run = |args: &[&str]| {
        let status = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("openssl");
        assert!(status.success(), "openssl {args:?}");
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    run(&[
        &["req", "-x509"][..],
        &ec,
        &[
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=mbus test CA",
        ],
    ]
    .concat());
    run(&[
        &["req"][..],
        &ec,
        &[
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    ]
    .concat());
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
}

/// The broker's login.
pub const MQTT_USER: &str = "logger";
/// The broker's password.
pub const MQTT_PASSWORD: &str = "secret";

impl Mosquitto {
    /// Starts a broker keeping its files in `dir`, with one user ([`MQTT_USER`]).
    pub fn start(dir: &Path) -> Mosquitto {
        std::fs::create_dir_all(dir).unwrap();
        let passwd = dir.join("passwd");
        let status = Command::new("mosquitto_passwd")
            .args(["-b", "-c"])
            .arg(&passwd)
            .args([MQTT_USER, MQTT_PASSWORD])
            .status()
            .expect("mosquitto_passwd (apt install mosquitto)");
        assert!(status.success());
        make_certificates(dir);
        let mut broker = Mosquitto {
            port: free_port(),
            tls_port: free_port(),
            dir: dir.to_path_buf(),
            child: None,
        };
        broker.restart();
        broker
    }

    /// The CA that issued the TLS listener's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// Starts the broker (again) on the same port, with the state it saved.
    pub fn restart(&mut self) {
        let conf = self.dir.join("mosquitto.conf");
        let d = self.dir.display();
        let mut text = format!(
            "allow_anonymous false\npassword_file {d}/passwd\n\
             persistence true\npersistence_location {d}/\n\
             listener {} 127.0.0.1\n\
             listener {} 127.0.0.1\ncafile {d}/ca.pem\ncertfile {d}/server.pem\nkeyfile {d}/server.key\n",
            self.port, self.tls_port,
        );
        // As root, mosquitto would switch to its own user, who cannot read the test's files.
        if Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
        {
            text.push_str("user root\n");
        }
        std::fs::write(&conf, text).unwrap();
        let child = Command::new("mosquitto")
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto (apt install mosquitto)");
        self.child = Some(child);
        let ports = [self.port, self.tls_port];
        wait_until("mosquitto to listen", Duration::from_secs(10), || {
            ports
                .iter()
                .all(|p| std::net::TcpStream::connect(("127.0.0.1", *p)).is_ok())
        });
    }

    /// Stops the broker with SIGTERM (it saves its state) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One message received: topic, payload, retained flag.
pub type Received = (String, String, bool);

/// A subscriber with a persistent session (QoS 1), collecting everything under `filters`
/// in a thread; reconnects by itself when the broker goes away and comes back.
pub struct Subscriber {
    /// Everything received so far, in order.
    pub messages: Arc<Mutex<Vec<Received>>>,
    client: rumqttc::Client,
}

impl Subscriber {
    /// Subscribes to `filters` on the broker at `port` as client `id`.
    pub fn start(port: u16, id: &str, clean: bool, filters: &[&str]) -> Subscriber {
        let mut options = rumqttc::MqttOptions::new(id, "127.0.0.1", port);
        options
            .set_credentials(MQTT_USER, MQTT_PASSWORD)
            .set_clean_session(clean)
            .set_max_packet_size(1 << 20, 1 << 20)
            .set_keep_alive(Duration::from_secs(5));
        let (client, mut connection) = rumqttc::Client::new(options, 100);
        for filter in filters {
            client
                .subscribe(*filter, rumqttc::QoS::AtLeastOnce)
                .unwrap();
        }
        let messages = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&messages);
        let resubscribe = client.clone();
        let filters: Vec<String> = filters.iter().map(|f| f.to_string()).collect();
        std::thread::spawn(move || {
            let mut connected_before = false;
            for event in connection.iter() {
                match event {
                    Ok(rumqttc::Event::Incoming(rumqttc::Incoming::Publish(p))) => {
                        let text = String::from_utf8_lossy(&p.payload).into_owned();
                        sink.lock().unwrap().push((p.topic.clone(), text, p.retain));
                    }
                    Ok(rumqttc::Event::Incoming(rumqttc::Incoming::ConnAck(ack))) => {
                        // The first subscription is queued already; after a reconnect
                        // without a kept session, subscribe again.
                        let again = connected_before && !ack.session_present;
                        connected_before = true;
                        for f in filters.iter().filter(|_| again) {
                            let _ = resubscribe.try_subscribe(f.clone(), rumqttc::QoS::AtLeastOnce);
                        }
                    }
                    Ok(_) => {}
                    Err(rumqttc::ConnectionError::RequestsDone) => break,
                    Err(_) => std::thread::sleep(Duration::from_millis(200)),
                }
            }
        });
        Subscriber { messages, client }
    }

    /// The messages received on `topic`.
    pub fn on(&self, topic: &str) -> Vec<Received> {
        self.messages
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m.0 == topic)
            .cloned()
            .collect()
    }

    /// Everything received so far.
    pub fn all(&self) -> Vec<Received> {
        self.messages.lock().unwrap().clone()
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        let _ = self.client.try_disconnect();
    }
}

/// The directory of the PostgreSQL server programs: Debian's newest
/// `/usr/lib/postgresql/<version>/bin`, else wherever `initdb` is on the PATH.
fn pg_bin() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dir| {
            dir.filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    versions.retain(|p| p.join("initdb").exists());
    versions.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    if let Some(bin) = versions.pop() {
        return bin;
    }
    let out = Command::new("sh")
        .args(["-c", "command -v initdb"])
        .output()
        .expect("sh");
    let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(
        !path.is_empty(),
        "initdb not found (apt install postgresql)"
    );
    PathBuf::from(path)
        .parent()
        .map(Path::to_path_buf)
        .expect("initdb's directory")
}

/// The database login of the test cluster.
pub const PG_USER: &str = "mbus";
/// Its password.
pub const PG_PASSWORD: &str = "fleet-secret";
/// The database the appliances replicate into.
pub const PG_DATABASE: &str = "fleet";

/// A throw-away PostgreSQL cluster (initdb in a temporary directory, password login on
/// 127.0.0.1); run as `nobody` when the tests run as root. Stopped when dropped.
pub struct PgCluster {
    /// Its port.
    pub port: u16,
    bin: PathBuf,
    data: PathBuf,
    log: PathBuf,
    socket_dir: PathBuf,
    as_nobody: bool,
}

impl PgCluster {
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_nobody {
            let mut c = Command::new("runuser");
            c.args(["-u", "nobody", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    /// Makes and starts a cluster in `dir` with the database [`PG_DATABASE`].
    pub fn start(dir: &Path) -> PgCluster {
        use std::os::unix::fs::PermissionsExt;
        let as_nobody = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        std::fs::create_dir_all(dir).unwrap();
        let cluster = PgCluster {
            port: free_port(),
            bin: pg_bin(),
            data: dir.join("cluster"),
            log: dir.join("postgres.log"),
            socket_dir: dir.join("socket"),
            as_nobody,
        };
        let pwfile = dir.join("pw");
        std::fs::write(&pwfile, PG_PASSWORD).unwrap();
        for d in [&cluster.data, &cluster.socket_dir] {
            std::fs::create_dir_all(d).unwrap();
        }
        if as_nobody {
            // The server refuses to run as root: hand its files to nobody, and let nobody
            // through the directories above them.
            let mut p = Some(dir);
            while let Some(d) = p {
                if d.starts_with(std::env::temp_dir()) && d != std::env::temp_dir() {
                    let mode = std::fs::metadata(d).unwrap().permissions().mode();
                    std::fs::set_permissions(d, std::fs::Permissions::from_mode(mode | 0o755))
                        .unwrap();
                }
                p = d.parent();
            }
            let status = Command::new("chown")
                .args(["-R", "nobody"])
                .arg(&cluster.data)
                .arg(&cluster.socket_dir)
                .arg(&pwfile)
                .status()
                .unwrap();
            assert!(status.success());
            std::fs::write(&cluster.log, "").unwrap();
            let _ = Command::new("chown")
                .arg("nobody")
                .arg(&cluster.log)
                .status();
        }
        let status = cluster
            .command("initdb")
            .arg("-D")
            .arg(&cluster.data)
            .args([
                "-U",
                PG_USER,
                "-A",
                "scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ])
            .arg(format!("--pwfile={}", pwfile.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("initdb (apt install postgresql)");
        assert!(status.success(), "initdb failed");
        cluster.restart();
        let mut admin = cluster.client("postgres");
        admin
            .batch_execute(&format!("CREATE DATABASE {PG_DATABASE}"))
            .unwrap();
        cluster
    }

    /// Starts the server (again) on the same port.
    pub fn restart(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.socket_dir.display()
        );
        let status = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(&self.log)
            .args(["-w", "-o", &options, "start"])
            .stdout(Stdio::null())
            .status()
            .expect("pg_ctl");
        assert!(status.success(), "pg_ctl start failed");
    }

    /// Stops the server; `immediate` stops it like a crash, in the middle of what it does.
    pub fn stop(&self, mode: &str) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-w", "-m", mode, "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }

    /// A client of database `db`.
    pub fn client(&self, db: &str) -> postgres::Client {
        postgres::Config::new()
            .host("127.0.0.1")
            .port(self.port)
            .user(PG_USER)
            .password(PG_PASSWORD)
            .dbname(db)
            .connect(postgres::NoTls)
            .expect("connect to the test cluster")
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        self.stop("immediate");
    }
}

/// `GET path` on 127.0.0.1:`port`: status line and body.
pub fn http_get(port: u16, path: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("HTTP response");
    (
        head.lines().next().unwrap_or("").to_owned(),
        body.to_owned(),
    )
}

/// The samples of the daemon's `/metrics`, parsed by a Prometheus text-format parser.
pub fn scrape(port: u16) -> Vec<prometheus_parse::Sample> {
    let (status, body) = http_get(port, "/metrics");
    assert!(status.contains("200"), "{status}");
    prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_owned())))
        .expect("exposition parses")
        .samples
}

/// The value of the first sample of `metric` with `labels`.
pub fn sample(
    samples: &[prometheus_parse::Sample],
    metric: &str,
    labels: &[(&str, &str)],
) -> Option<f64> {
    use prometheus_parse::Value;
    samples
        .iter()
        .find(|s| s.metric == metric && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match &s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            Value::Histogram(b) => b.last().map_or(0.0, |b| b.count),
            Value::Summary(_) => f64::NAN,
        })
}
