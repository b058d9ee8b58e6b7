//! Load on the web UI: a real `mbus-centerd --simulate 250 --fast-sim` on 127.0.0.1 and 50
//! concurrent logged-in clients (one keep-alive connection each) that ask for the overview
//! page and `GET /api/v1/meters` in turn. Prints the latency percentiles and throughput of
//! each, and the daemon's resident memory (VmRSS sampled every 50 ms, and VmHWM) under load.
//!
//! `cargo bench -p mbus-centerd --bench web_load`; `MBUS_BENCH_SECONDS` sets the measured time
//! (default 10 s, after a 2 s warm-up). Bounded: localhost only, each client stops at the
//! deadline or after `MAX_REQUESTS` requests.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

#[path = "../tests/support/mod.rs"]
mod support;

/// Simulated meters.
const METERS: usize = 250;
/// Concurrent clients.
const CLIENTS: usize = 50;
/// Warm-up before measuring.
const WARM_UP: Duration = Duration::from_secs(2);
/// Requests one client sends at most (warm-up included).
const MAX_REQUESTS: usize = 20_000;
/// The two requests of the load.
const PATHS: [&str; 2] = ["/", "/api/v1/meters"];
/// Targets: 99th percentile latency, resident memory.
const P99_TARGET: Duration = Duration::from_millis(50);
const RSS_TARGET_KIB: u64 = 32 * 1024;

/// `VmRSS` and `VmHWM` of process `pid`, in KiB.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// The latency at quantile `q` of sorted `samples`.
fn quantile(samples: &[Duration], q: f64) -> Duration {
    let rank = (q * samples.len() as f64).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1]
}

/// One client's measured latencies, per path.
type Latencies = [Vec<Duration>; 2];

/// A client: the two requests in turn until `stop`; latencies after `measure_from` count.
fn client(url: String, cookie: String, start: Arc<Barrier>, stop: Arc<AtomicBool>) -> Latencies {
    let agent = support::http::agent();
    let mut latencies: Latencies = [Vec::new(), Vec::new()];
    start.wait();
    let measure_from = Instant::now() + WARM_UP;
    for i in 0..MAX_REQUESTS {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let which = i % PATHS.len();
        let sent = Instant::now();
        let mut response = agent
            .get(&format!("{url}{}", PATHS[which]))
            .header("Cookie", &cookie)
            .call()
            .expect("request");
        assert_eq!(response.status(), 200, "{}", PATHS[which]);
        let body = response
            .body_mut()
            .with_config()
            .limit(16 * 1024 * 1024)
            .read_to_vec()
            .expect("body");
        assert!(!body.is_empty());
        if sent >= measure_from {
            latencies[which].push(sent.elapsed());
        }
    }
    latencies
}

fn main() {
    // `cargo bench` passes `--bench`; a filter that is not ours means another bench is asked for.
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with('-') && !"web_load".contains(a.as_str()))
    {
        return;
    }
    let seconds: u64 = std::env::var("MBUS_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10)
        .clamp(1, 60);
    let (mut daemon, url, _dir) = support::simulated(METERS, &[]);
    let pid = daemon.pid();
    let cookie = support::http::logged_in(&url)
        .cookie
        .expect("session cookie");
    let idle = memory(pid);

    let start = Arc::new(Barrier::new(CLIENTS + 1));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (url, cookie) = (url.clone(), cookie.clone());
            let (start, stop) = (Arc::clone(&start), Arc::clone(&stop));
            std::thread::spawn(move || client(url, cookie, start, stop))
        })
        .collect();
    start.wait();
    let began = Instant::now();
    let measured = began + WARM_UP;
    let end = measured + Duration::from_secs(seconds);
    let mut rss_max = 0;
    while Instant::now() < end {
        if Instant::now() >= measured {
            rss_max = rss_max.max(memory(pid).0);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, Ordering::Relaxed);
    let mut all: Latencies = [Vec::new(), Vec::new()];
    for c in clients {
        let latencies = c.join().expect("client");
        for (into, from) in all.iter_mut().zip(latencies) {
            into.extend(from);
        }
    }
    let elapsed = measured.elapsed().as_secs_f64();
    let (rss_end, hwm) = memory(pid);

    println!("web load: {METERS} simulated meters, {CLIENTS} concurrent logged-in clients, {seconds} s measured after {} s warm-up", WARM_UP.as_secs());
    let mut p99_max = Duration::ZERO;
    let mut total = 0;
    for (path, samples) in PATHS.iter().zip(all.iter_mut()) {
        samples.sort();
        assert!(!samples.is_empty(), "no request to {path} finished");
        total += samples.len();
        let p99 = quantile(samples, 0.99);
        p99_max = p99_max.max(p99);
        println!(
            "  GET {path:<16} {:>6} requests  {:>7.1} req/s  p50 {:>6.2} ms  p90 {:>6.2} ms  p99 {:>6.2} ms  max {:>6.2} ms",
            samples.len(),
            samples.len() as f64 / elapsed,
            quantile(samples, 0.5).as_secs_f64() * 1e3,
            quantile(samples, 0.9).as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3,
            quantile(samples, 1.0).as_secs_f64() * 1e3,
        );
    }
    println!(
        "  both                {total:>6} requests  {:>7.1} req/s",
        total as f64 / elapsed
    );
    println!(
        "  daemon memory: VmRSS idle {} KiB, under load max {} KiB, at the end {} KiB; VmHWM {} KiB",
        idle.0, rss_max, rss_end, hwm
    );
    println!(
        "  targets: p99 < {} ms {}; resident memory <= {} MiB {}",
        P99_TARGET.as_millis(),
        if p99_max < P99_TARGET {
            "met"
        } else {
            "MISSED"
        },
        RSS_TARGET_KIB / 1024,
        if hwm <= RSS_TARGET_KIB {
            "met"
        } else {
            "MISSED"
        },
    );
    assert!(daemon.terminate().success(), "daemon exit");
}
