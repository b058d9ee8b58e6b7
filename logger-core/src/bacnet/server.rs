//! The BACnet/IP server: a thread with one UDP socket that runs the [`Gateway`], reloads
//! its objects after every committed read cycle (through the engine's commit hook) and
//! whenever the configuration or the status file changes, and follows changes of the
//! `bacnet` settings (port, role, on/off) without a restart.

use super::gateway::{Datagram, Gateway, Role};
use super::model::Model;
use crate::config::{Bacnet, Config, ConfigStore};
use crate::engine::CommitHook;
use crate::meter_index::{Assignment, IndexError};
use crate::status::{Stamps, StatusBoard};
use crate::storage::{MeterId, Store, DATABASE_FILE_NAME};
use crate::worker::Worker;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, ToSocketAddrs, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long the thread waits for a datagram before it looks at its timers and files.
const POLL: Duration = Duration::from_millis(100);
/// How often the configuration and status files are checked for changes.
const FILE_CHECK: Duration = Duration::from_secs(1);

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum BacnetError {
    /// The UDP port could not be opened.
    #[error("cannot serve BACnet/IP on {address}: {source}")]
    Bind {
        /// The address asked for.
        address: SocketAddrV4,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// A BBMD or peer address does not resolve to an IPv4 address.
    #[error("{what} {host:?}: {problem}")]
    Resolve {
        /// Which setting.
        what: &'static str,
        /// The text configured.
        host: String,
        /// Why it does not resolve.
        problem: String,
    },
    /// The stored meter numbering could not be read or written.
    #[error(transparent)]
    Index(#[from] IndexError),
}

/// `host` or `host:port` as an IPv4 socket address (port 47808 when none is given).
pub fn endpoint(text: &str, what: &'static str) -> Result<SocketAddrV4, BacnetError> {
    let resolve = |e: String| BacnetError::Resolve {
        what,
        host: text.to_string(),
        problem: e,
    };
    let with_port = if text.contains(':') {
        text.to_string()
    } else {
        format!("{text}:47808")
    };
    with_port
        .to_socket_addrs()
        .map_err(|e| resolve(e.to_string()))?
        .find_map(|a| match a {
            SocketAddr::V4(v4) => Some(v4),
            SocketAddr::V6(_) => None,
        })
        .ok_or_else(|| resolve("no IPv4 address".into()))
}

/// The role the settings ask for.
fn role(settings: &Bacnet) -> Result<Role, BacnetError> {
    if settings.bbmd_server {
        let peers = settings
            .bdt
            .iter()
            .map(|p| endpoint(p, "bacnet.bdt"))
            .collect::<Result<_, _>>()?;
        Ok(Role::Bbmd { peers })
    } else if let Some(bbmd) = &settings.bbmd {
        Ok(Role::Foreign {
            bbmd: endpoint(bbmd, "bacnet.bbmd")?,
            ttl: u16::try_from(settings.bbmd_ttl_s).unwrap_or(u16::MAX),
        })
    } else {
        Ok(Role::Plain)
    }
}

/// The running BACnet/IP server; [`Server::stop`] ends it.
#[derive(Debug)]
pub struct Server {
    worker: Worker,
    local: Option<SocketAddrV4>,
}

struct Live {
    socket: UdpSocket,
    gateway: Gateway,
}

struct Runner {
    data_dir: PathBuf,
    config: Config,
    store: Option<Store>,
    live: Option<Live>,
    stamps: Stamps,
}

impl Runner {
    fn stamps(&self) -> Stamps {
        crate::status::stamps(&self.data_dir)
    }

    fn model(&mut self) -> Result<Model, BacnetError> {
        let assignment = Assignment::follow(&self.data_dir, &self.config.meters)?;
        if self.store.is_none() {
            self.store = Store::open_existing(self.data_dir.join(DATABASE_FILE_NAME)).ok();
        }
        let board = StatusBoard::load(&self.data_dir);
        let mut failed = None;
        let model = Model::load(&self.config, &assignment, &board, |meter| {
            let store = self.store.as_ref()?;
            store.last_reading(MeterId(meter)).unwrap_or_else(|e| {
                failed = Some(e);
                None
            })
        });
        if let Some(e) = failed {
            // Serve what could be read; reopen the store next time.
            tracing::warn!(error = %e, "BACnet: reading the stored values failed");
            self.store = None;
        }
        Ok(model)
    }

    /// Opens the socket and builds the gateway for the current settings.
    fn go_live(&mut self, now: Instant) -> Result<(), BacnetError> {
        let settings = self.config.bacnet.clone();
        let address = SocketAddrV4::new(
            settings.address.unwrap_or(Ipv4Addr::UNSPECIFIED),
            settings.port,
        );
        let role = role(&settings)?;
        let socket =
            UdpSocket::bind(address).map_err(|source| BacnetError::Bind { address, source })?;
        let bound = |source| BacnetError::Bind { address, source };
        socket.set_broadcast(true).map_err(bound)?;
        socket.set_read_timeout(Some(POLL)).map_err(bound)?;
        let local = match socket.local_addr().map_err(bound)? {
            SocketAddr::V4(a) => a,
            SocketAddr::V6(_) => address,
        };
        let model = self.model()?;
        tracing::info!(
            %local,
            devices = model.meters.len() + 1,
            network = settings.network_number,
            ?role,
            "BACnet/IP server"
        );
        let gateway = Gateway::new(model, settings.network_number, local, role, now);
        self.live = Some(Live { socket, gateway });
        Ok(())
    }

    fn send(&self, datagrams: Vec<Datagram>) {
        let Some(live) = &self.live else {
            return;
        };
        for d in datagrams {
            // A refused or unreachable destination (a broadcast without a route) is not
            // worth stopping for.
            if let Err(e) = live.socket.send_to(&d.bytes, d.to) {
                tracing::debug!(to = %d.to, error = %e, "BACnet: send failed");
            }
        }
    }

    fn run(mut self, stop: &AtomicBool, commits: &mpsc::Receiver<()>) {
        let mut buf = [0u8; 2048];
        let mut last_check = Instant::now();
        while !stop.load(Ordering::SeqCst) {
            let now = Instant::now();
            let mut replies = Vec::new();
            match &mut self.live {
                Some(live) => match live.socket.recv_from(&mut buf) {
                    Ok((n, SocketAddr::V4(from))) => {
                        replies = live.gateway.handle(from, &buf[..n], now);
                    }
                    Ok(_) => {}
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) => {}
                    Err(e) => tracing::debug!(error = %e, "BACnet: receive failed"),
                },
                None => std::thread::sleep(POLL),
            }
            self.send(replies);
            let mut dirty = commits.try_iter().count() > 0;
            if now.duration_since(last_check) >= FILE_CHECK {
                last_check = now;
                let stamps = self.stamps();
                if stamps != self.stamps {
                    if stamps.config != self.stamps.config {
                        self.reload_config(now);
                    }
                    self.stamps = stamps;
                    dirty = true;
                }
            }
            if dirty && self.live.is_some() {
                match self.model() {
                    Ok(model) => {
                        let devices = model.meters.len() + 1;
                        let before = self
                            .live
                            .as_ref()
                            .map(|l| l.gateway.model().meters.len() + 1);
                        if before != Some(devices) {
                            tracing::info!(devices, "BACnet/IP devices");
                        }
                        let out = self
                            .live
                            .as_mut()
                            .map(|l| l.gateway.replace_model(model, now))
                            .unwrap_or_default();
                        self.send(out);
                    }
                    Err(e) => tracing::error!(error = %e, "BACnet: reloading the objects failed"),
                }
            }
            let timers = self
                .live
                .as_mut()
                .map(|l| l.gateway.tick(now))
                .unwrap_or_default();
            self.send(timers);
        }
    }

    fn reload_config(&mut self, now: Instant) {
        let config = match ConfigStore::new(&self.data_dir).load_or_default() {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "BACnet: the configuration cannot be read");
                return;
            }
        };
        let was_live = self.live.is_some();
        let restart = config.bacnet != self.config.bacnet || !was_live;
        self.config = config;
        if restart {
            self.live = None;
            if self.config.bacnet.enabled {
                if let Err(e) = self.go_live(now) {
                    tracing::error!(error = %e, "BACnet server not running");
                }
            } else if was_live {
                tracing::info!("BACnet/IP server off");
            }
        }
    }
}

impl Server {
    /// Starts the server for the logger in `data_dir` with `config` (the configuration the
    /// logger runs with). With `bacnet.enabled` off it serves nothing until the stored
    /// configuration turns it on. Fails if the port cannot be opened, a BBMD address does
    /// not resolve or the device numbering cannot be stored.
    pub fn start(config: &Config, data_dir: &Path) -> Result<Server, BacnetError> {
        let mut runner = Runner {
            data_dir: data_dir.to_path_buf(),
            config: config.clone(),
            store: None,
            live: None,
            stamps: Stamps::default(),
        };
        runner.stamps = runner.stamps();
        if config.bacnet.enabled {
            runner.go_live(Instant::now())?;
        }
        let local = runner
            .live
            .as_ref()
            .and_then(|l| match l.socket.local_addr() {
                Ok(SocketAddr::V4(a)) => Some(a),
                _ => None,
            });
        let worker = Worker::spawn("bacnet", move |stop, commits| runner.run(stop, commits))
            .map_err(|source| BacnetError::Bind {
                address: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, config.bacnet.port),
                source,
            })?;
        Ok(Server { worker, local })
    }

    /// The address the server listens on (`None` while it is off).
    pub fn local_addr(&self) -> Option<SocketAddrV4> {
        self.local
    }

    /// The hook to add to the engine ([`crate::engine::Logger::add_commit_hook`]): new
    /// readings make the server reload its values and send COV notifications.
    pub fn hook(&self) -> CommitHook {
        self.worker.hook()
    }

    /// Stops the server and waits for its thread.
    pub fn stop(self) {
        drop(self);
    }
}
