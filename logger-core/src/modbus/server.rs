//! The Modbus TCP server: a thread with a small tokio runtime. `tokio-modbus` accepts the
//! connections and decodes the frames; each request is answered from the current
//! [`Image`], which the thread rebuilds after every committed read cycle and whenever the
//! configuration or the status file changes.

use super::image::Image;
use crate::config::{Config, ConfigStore, Modbus};
use crate::engine::CommitHook;
use crate::meter_index::IndexError;
use crate::status::{Stamps, StatusBoard};
use crate::storage::{MeterId, Store, DATABASE_FILE_NAME};
use crate::worker::Worker;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, RwLock};
use std::time::{Duration, Instant};
use tokio_modbus::server::tcp::Server as TcpServer;
use tokio_modbus::{ExceptionCode, Response, SlaveRequest};

/// How often the thread looks at its stop flag and the committed cycles.
const POLL: Duration = Duration::from_millis(100);
/// How often the configuration and status files are checked for changes.
const FILE_CHECK: Duration = Duration::from_secs(1);

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ModbusError {
    /// The TCP port could not be opened.
    #[error("cannot serve Modbus TCP on {address}: {source}")]
    Bind {
        /// The address asked for.
        address: SocketAddrV4,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// The runtime or the thread could not be created.
    #[error("cannot start the Modbus TCP server: {0}")]
    Start(std::io::Error),
    /// The stored meter numbering could not be read or written.
    #[error(transparent)]
    Index(#[from] IndexError),
}

/// What the connections answer from: the image and the unit id to answer.
#[derive(Debug, Default)]
struct Served {
    image: Image,
    unit: Option<u8>,
}

type Shared = Arc<RwLock<Arc<Served>>>;

/// One connection's request handler.
struct Handler {
    shared: Shared,
}

impl tokio_modbus::server::Service for Handler {
    type Request = SlaveRequest<'static>;
    type Response = Response;
    type Exception = ExceptionCode;
    type Future = std::future::Ready<Result<Response, ExceptionCode>>;

    fn call(&self, request: SlaveRequest<'static>) -> Self::Future {
        let served = match self.shared.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(_) => return std::future::ready(Err(ExceptionCode::ServerDeviceFailure)),
        };
        std::future::ready(super::answer(
            &served.image,
            served.unit,
            request.slave,
            &request.request,
        ))
    }
}

/// The listening socket's task.
struct Listening {
    local: SocketAddrV4,
    task: tokio::task::JoinHandle<()>,
}

struct Runner {
    data_dir: PathBuf,
    config: Config,
    store: Option<Store>,
    stamps: Stamps,
    shared: Shared,
    listening: Option<Listening>,
}

impl Runner {
    /// Rebuilds the image from the configuration, the numbering, the status and the store.
    fn refresh(&mut self) -> Result<(), ModbusError> {
        let layout = super::layout(&self.config, &self.data_dir)?;
        if self.store.is_none() {
            self.store = Store::open_existing(self.data_dir.join(DATABASE_FILE_NAME)).ok();
        }
        let board = StatusBoard::load(&self.data_dir);
        let mut failed = None;
        let image = Image::build(&layout, &board, |meter| {
            let store = self.store.as_ref()?;
            store.last_reading(MeterId(meter)).unwrap_or_else(|e| {
                failed = Some(e);
                None
            })
        });
        if let Some(e) = failed {
            // Serve what could be read; reopen the store next time.
            tracing::warn!(error = %e, "Modbus: reading the stored values failed");
            self.store = None;
        }
        let served = Arc::new(Served {
            image,
            unit: self.config.modbus.unit_id,
        });
        if let Ok(mut current) = self.shared.write() {
            *current = served;
        }
        Ok(())
    }

    /// Opens the port of the current settings and serves it.
    async fn listen(&mut self) -> Result<(), ModbusError> {
        let settings = &self.config.modbus;
        let address = SocketAddrV4::new(
            settings.address.unwrap_or(Ipv4Addr::UNSPECIFIED),
            settings.port,
        );
        let bound = |source| ModbusError::Bind { address, source };
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .map_err(bound)?;
        let local = match listener.local_addr().map_err(bound)? {
            SocketAddr::V4(a) => a,
            SocketAddr::V6(_) => address,
        };
        self.refresh()?;
        let shared = Arc::clone(&self.shared);
        let task = tokio::spawn(async move {
            let on_connected = |stream: tokio::net::TcpStream, _peer: SocketAddr| {
                let handler = Handler {
                    shared: Arc::clone(&shared),
                };
                std::future::ready(Ok(Some((handler, stream))))
            };
            // A connection that sends a malformed frame is closed; the others go on.
            let on_error = |e: std::io::Error| tracing::debug!(error = %e, "Modbus connection");
            if let Err(e) = TcpServer::new(listener)
                .serve(&on_connected, on_error)
                .await
            {
                tracing::error!(error = %e, "Modbus TCP server stopped accepting");
            }
        });
        tracing::info!(%local, "Modbus TCP server");
        self.listening = Some(Listening { local, task });
        Ok(())
    }

    fn stop_listening(&mut self) {
        if let Some(l) = self.listening.take() {
            // Dropping the accept loop also ends its connections.
            l.task.abort();
        }
    }

    /// Follows a changed configuration file.
    async fn reload_config(&mut self) {
        let config = match ConfigStore::new(&self.data_dir).load_or_default() {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "Modbus: the configuration cannot be read");
                return;
            }
        };
        let endpoint = |m: &Modbus| (m.enabled, m.address, m.port);
        let restart = endpoint(&config.modbus) != endpoint(&self.config.modbus)
            || (config.modbus.enabled && self.listening.is_none());
        self.config = config;
        if restart {
            let was = self.listening.is_some();
            self.stop_listening();
            if self.config.modbus.enabled {
                if let Err(e) = self.listen().await {
                    tracing::error!(error = %e, "Modbus TCP server not running");
                }
            } else if was {
                tracing::info!("Modbus TCP server off");
            }
        }
    }

    async fn run(mut self, stop: &AtomicBool, commits: &mpsc::Receiver<()>) {
        let mut tick = tokio::time::interval(POLL);
        let mut last_check = Instant::now();
        while !stop.load(Ordering::SeqCst) {
            tick.tick().await;
            let mut dirty = commits.try_iter().count() > 0;
            if last_check.elapsed() >= FILE_CHECK {
                last_check = Instant::now();
                let stamps = crate::status::stamps(&self.data_dir);
                if stamps != self.stamps {
                    if stamps.config != self.stamps.config {
                        self.reload_config().await;
                    }
                    self.stamps = stamps;
                    dirty = true;
                }
            }
            if dirty && self.listening.is_some() {
                if let Err(e) = self.refresh() {
                    tracing::error!(error = %e, "Modbus: rebuilding the registers failed");
                }
            }
        }
        self.stop_listening();
    }
}

/// The running Modbus TCP server; [`Server::stop`] ends it.
#[derive(Debug)]
pub struct Server {
    worker: Worker,
    local: Option<SocketAddrV4>,
}

impl Server {
    /// Starts the server for the logger in `data_dir` with `config` (the configuration the
    /// logger runs with). With `modbus.enabled` off it serves nothing until the stored
    /// configuration turns it on. Fails if the port cannot be opened or the meter
    /// numbering cannot be stored.
    pub fn start(config: &Config, data_dir: &Path) -> Result<Server, ModbusError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("modbus-io")
            .enable_all()
            .build()
            .map_err(ModbusError::Start)?;
        let mut runner = Runner {
            data_dir: data_dir.to_path_buf(),
            config: config.clone(),
            store: None,
            stamps: crate::status::stamps(data_dir),
            shared: Shared::default(),
            listening: None,
        };
        if config.modbus.enabled {
            runtime.block_on(runner.listen())?;
        }
        let local = runner.listening.as_ref().map(|l| l.local);
        let worker = Worker::spawn("modbus", move |stop, commits| {
            runtime.block_on(runner.run(stop, commits))
        })
        .map_err(ModbusError::Start)?;
        Ok(Server { worker, local })
    }

    /// The address the server listened on when it started (`None` if it was off).
    pub fn local_addr(&self) -> Option<SocketAddrV4> {
        self.local
    }

    /// The hook to add to the engine ([`crate::engine::Logger::add_commit_hook`]): new
    /// readings make the server rebuild its registers.
    pub fn hook(&self) -> CommitHook {
        self.worker.hook()
    }

    /// Stops the server and waits for its thread.
    pub fn stop(self) {
        drop(self);
    }
}
