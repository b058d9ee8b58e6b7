//! The blocking serial master end to end through a pseudo-terminal pair made by `socat`, with the
//! simulated bus serving the other end. Skipped (loudly) without socat, unless `CI` is set.

mod support;
use mbus_link::serial::{AsyncSerialTransport, SerialTransport};
use mbus_link::sim::{Gateway, Population, SerialPattern, SimBus, SimConfig, SimStats};
use mbus_link::{AsyncMaster, LinkError, Master, SelectOutcome};
use mbus_proto::address::{BaudRate, SecondaryMask};
use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use support::at;

struct PtyPair {
    socat: Child,
    dir: PathBuf,
}

impl PtyPair {
    fn new(name: &str) -> Option<PtyPair> {
        if Command::new("socat").arg("-V").output().is_err() {
            assert!(
                std::env::var_os("CI").is_none(),
                "socat is required for the serial tests in CI"
            );
            eprintln!("SKIPPED: socat is not installed (apt-get install socat)");
            return None;
        }
        let dir = std::env::temp_dir().join(format!("mbus-pty-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let end = |n: &str| format!("pty,raw,echo=0,link={}", dir.join(n).display());
        let socat = Command::new("socat")
            .args([end("master"), end("bus")])
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let pair = PtyPair { socat, dir };
        // Wait for socat to create both ends.
        let started = Instant::now();
        while !(pair.master().exists() && pair.bus().exists()) {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "socat did not start"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        Some(pair)
    }

    fn master(&self) -> PathBuf {
        self.dir.join("master")
    }

    fn bus(&self) -> PathBuf {
        self.dir.join("bus")
    }
}

impl Drop for PtyPair {
    fn drop(&mut self) {
        let _ = self.socat.kill();
        let _ = self.socat.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Serves the simulated bus on the bus end until the pair goes away.
fn serve(path: &Path, bus: SimBus) -> JoinHandle<SimStats> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    std::thread::spawn(move || {
        let mut gateway = Gateway::new(bus);
        let start = Instant::now();
        let mut buf = [0u8; 256];
        loop {
            let n = match file.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if let Some(reply) = gateway.feed(&buf[..n], start.elapsed()) {
                if file.write_all(&reply.bytes()).is_err() {
                    return gateway.bus().stats();
                }
            }
        }
        gateway.bus().stats()
    })
}

#[test]
fn blocking_serial_master_reads_the_simulated_bus_through_a_pty() {
    let Some(pair) = PtyPair::new("read") else {
        return;
    };
    let meters = Population::new(4, SerialPattern::Sequential)
        .seed(5)
        .delay_bits(40, 40)
        .build(&[]);
    let secondary = meters[2].secondary();
    let server = serve(&pair.bus(), SimBus::new(SimConfig::default(), meters));

    let transport =
        SerialTransport::open(pair.master().to_str().unwrap(), BaudRate::B2400).unwrap();
    let mut master = Master::new(transport);
    let telegrams = master.read_primary(at(1)).unwrap();
    assert_eq!(telegrams.len(), 1);
    assert_eq!(telegrams[0].address(), Some(1));

    let telegrams = master.read_secondary(&secondary).unwrap();
    assert_eq!(telegrams[0].secondary_address(), Some(secondary));

    // All four meters answer the wildcard select at the same offset: one clean E5 ...
    assert_eq!(
        master.select(&SecondaryMask::ALL).unwrap(),
        SelectOutcome::Selected
    );
    // ... and their data replies collide.
    assert!(matches!(
        master.request_ud2(at(253), true),
        Err(LinkError::Garbled { .. })
    ));
    master.deselect().unwrap();

    let err = master.read_primary(at(200)).unwrap_err();
    assert!(
        matches!(err, LinkError::NoReply { attempts: 3, .. }),
        "{err}"
    );

    drop(master);
    drop(pair);
    let stats = server.join().unwrap();
    assert!(stats.requests >= 9, "{stats:?}");
    // Select, read and deselect of the four selected meters.
    assert_eq!(stats.collisions, 3);
}

#[test]
fn async_serial_master_reads_the_simulated_bus_through_a_pty() {
    let Some(pair) = PtyPair::new("async") else {
        return;
    };
    let meters = Population::new(3, SerialPattern::Random).seed(8).build(&[]);
    let secondary = meters[1].secondary();
    let server = serve(&pair.bus(), SimBus::new(SimConfig::default(), meters));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let path = pair.master();
        let transport =
            AsyncSerialTransport::open(path.to_str().unwrap(), BaudRate::B2400).unwrap();
        let mut master = AsyncMaster::new(transport);
        assert_eq!(
            master.read_primary(at(3)).await.unwrap()[0].address(),
            Some(3)
        );
        let telegrams = master.read_secondary(&secondary).await.unwrap();
        assert_eq!(telegrams[0].secondary_address(), Some(secondary));
        // The end of a batch of secondary reads.
        master.deselect().await.unwrap();
    });
    drop(pair);
    assert_eq!(server.join().unwrap().requests, 5);
}

#[test]
fn opening_a_missing_serial_port_names_the_device() {
    let err = SerialTransport::open("/dev/ttyNOPE-mbus", BaudRate::B2400)
        .err()
        .expect("the port does not exist");
    assert!(matches!(err, LinkError::Device { .. }));
    assert!(err.to_string().contains("/dev/ttyNOPE-mbus"), "{err}");
}
