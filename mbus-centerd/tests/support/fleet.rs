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

/// A mosquitto broker; killed when dropped.
pub struct Mosquitto {
    /// Its port.
    pub port: u16,
    dir: PathBuf,
    child: Option<Child>,
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
        let mut broker = Mosquitto {
            port: free_port(),
            dir: dir.to_path_buf(),
            child: None,
        };
        broker.restart();
        broker
    }

    /// Starts the broker (again) on the same port, with the state it saved.
    pub fn restart(&mut self) {
        let conf = self.dir.join("mosquitto.conf");
        let mut text = format!(
            "listener {} 127.0.0.1\nallow_anonymous false\npassword_file {}\n\
             persistence true\npersistence_location {}/\n",
            self.port,
            self.dir.join("passwd").display(),
            self.dir.display()
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
        let port = self.port;
        wait_until("mosquitto to listen", Duration::from_secs(10), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
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
