//! The web UI in a real browser: headless Chromium, driven over WebDriver (chromedriver),
//! against a real `mbus-centerd --simulate N --fast-sim` process.
//!
//! One chromedriver and one daemon serve every test of this binary (they run one after the
//! other, each in a fresh browser profile), so this binary has its own small runner instead
//! of libtest's: it starts both, runs the tests given by name filters (all without one),
//! prints libtest's lines and stops both. `MBUS_SCREENSHOTS=1` also (re)writes the README's
//! screenshots under `docs/screenshots/`.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::time::Instant;
use webdriver::{eventually, screenshot_dir, Browser, Driver};

#[path = "../support/mod.rs"]
mod support;
mod webdriver;

/// The password the tests set instead of the default one.
const PASSWORD: &str = support::http::NEW_PASSWORD;
/// Meters of the shared daemon's simulated bus.
const METERS: usize = 12;
/// Desktop and phone viewports.
const DESKTOP: (u32, u32) = (1280, 800);
const PHONE: (u32, u32) = (390, 844);

/// What every test shares: the driver and a daemon whose default password is changed.
struct World {
    driver: Driver,
    url: String,
}

impl World {
    /// A browser logged in on the shared daemon, showing the overview.
    async fn logged_in(&self, (width, height): (u32, u32)) -> Browser {
        let b = self.driver.session(width, height).await;
        log_in(&b, &self.url, "admin", PASSWORD).await;
        assert_eq!(b.path().await, "/", "after the login");
        b
    }
}

/// Fills and sends the login form.
async fn log_in(b: &Browser, url: &str, user: &str, password: &str) {
    b.open(&format!("{url}/login")).await;
    b.fill("#username", user).await;
    b.fill("#password", password).await;
    b.submit("button[type=submit]").await;
}

/// The first login with the default password leads to the password change and nowhere else;
/// a wrong password and a mismatched repetition are refused with a message; afterwards only
/// the new password logs in.
async fn login_with_the_default_password_forces_a_change(w: &World) {
    // A daemon of its own: the shared one's default password is already changed.
    let (mut daemon, url, _dir) = support::simulated(2, &[]);
    let b = w.driver.session(DESKTOP.0, DESKTOP.1).await;
    b.open(&format!("{url}/")).await;
    assert_eq!(b.path().await, "/login", "the overview needs a login");

    log_in(&b, &url, "admin", "wrong").await;
    assert_eq!(b.path().await, "/login");
    assert!(b
        .text("p.error")
        .await
        .contains("Wrong user name or password"));

    log_in(&b, &url, "admin", "123").await;
    assert_eq!(b.path().await, "/password");
    assert!(!b.text("p.notice").await.is_empty(), "says why");
    // Every other page leads back to the change.
    b.open(&format!("{url}/")).await;
    assert_ne!(b.path().await, "/", "no overview before the change");
    let (status, body) = b.fetch("GET", "/api/v1/meters", None).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.to_string().contains("password"), "{body}");

    b.open(&format!("{url}/password")).await;
    b.fill("#current", "123").await;
    b.fill("#new", PASSWORD).await;
    b.fill("#repeat", "something-else").await;
    b.submit("form[action='/password'] button[type=submit]")
        .await;
    assert_eq!(b.path().await, "/password");
    assert!(!b.text("p.error").await.is_empty(), "mismatch named");

    b.fill("#current", "123").await;
    b.fill("#new", PASSWORD).await;
    b.fill("#repeat", PASSWORD).await;
    b.submit("form[action='/password'] button[type=submit]")
        .await;
    assert_eq!(b.path().await, "/");
    assert_eq!(b.all("tr[data-meter-id]").await.len(), 2);

    b.submit("form[action='/logout'] button[type=submit]").await;
    assert_eq!(b.path().await, "/login");
    log_in(&b, &url, "admin", "123").await;
    assert_eq!(b.path().await, "/login", "the old password is gone");
    log_in(&b, &url, "admin", PASSWORD).await;
    assert_eq!(b.path().await, "/");
    b.close().await;
    assert!(daemon.terminate().success());
}

/// The CSS class suffix of an API read status.
fn status_class(api: &str) -> &'static str {
    match api {
        "never_read" => "never",
        "ok" => "ok",
        "ok_with_errors" => "flags",
        "failed" => "failed",
        "encrypted" => "encrypted",
        other => panic!("unknown read status {other:?}"),
    }
}

/// The overview shows exactly the meters `GET /api/v1/meters` lists, each with its status
/// icon, name and the values of its last reading.
async fn overview_shows_the_meters_of_the_api(w: &World) {
    let b = w.logged_in(DESKTOP).await;
    let (status, meters) = b.fetch("GET", "/api/v1/meters", None).await;
    assert_eq!(status, 200, "{meters}");
    let meters = meters.as_array().expect("meter list");
    assert_eq!(meters.len(), METERS);
    assert_eq!(b.all("tr[data-meter-id]").await.len(), METERS);
    for m in meters {
        let row = format!("tr[data-meter-id='{}']", m["id"]);
        let text = b.text(&row).await;
        let name = m["name"].as_str().expect("name");
        assert!(text.contains(name), "{name} in {text}");
        let icon = format!(
            "{row} .status-{}",
            status_class(m["status"]["status"].as_str().expect("status"))
        );
        assert_eq!(b.all(&icon).await.len(), 1, "{icon}");
        let expected: Vec<&str> = m["last_reading"]["values"]
            .as_array()
            .expect("values of the last reading")
            .iter()
            .filter_map(|v| v["value"].as_str())
            .collect();
        let mut shown = Vec::new();
        for cell in b.all(&format!("{row} .value")).await {
            shown.push(cell.text().await.expect("value text"));
        }
        assert!(!shown.is_empty(), "{row} shows values");
        assert_eq!(shown, expected[..shown.len()], "{row}");
    }
    b.close().await;
}

/// The footer's logger state changes without a reload: a search started elsewhere shows as
/// `scan`, then `idle` again.
async fn footer_shows_the_logger_state_live(w: &World) {
    let b = w.logged_in(DESKTOP).await;
    assert_eq!(b.text("#logger-state").await, "idle");
    b.script(
        "window.seen = []; const s = document.getElementById('logger-state'); \
         new MutationObserver(() => window.seen.push(s.textContent)) \
           .observe(s, {childList: true, characterData: true, subtree: true, attributes: true}); \
         return null;",
    )
    .await;
    let scan = Some(serde_json::json!({"kind": "primary", "baud": 9600}));
    let (status, body) = b.fetch("POST", "/api/v1/scan", scan.clone()).await;
    assert_eq!(status, 202, "{body}");
    let seen = eventually("scan, then idle in the footer", || async {
        let seen: Vec<String> =
            serde_json::from_value(b.script("return window.seen;").await).expect("state texts");
        let Some(scan_at) = seen.iter().position(|s| s == "scan") else {
            // The page's live stream may have connected only after that search: another.
            b.fetch("POST", "/api/v1/scan", scan.clone()).await;
            return None;
        };
        seen[scan_at..].iter().any(|s| s == "idle").then_some(seen)
    })
    .await;
    assert!(
        seen.iter()
            .all(|s| ["idle", "scan", "read"].contains(&s.as_str())),
        "{seen:?}"
    );
    assert_eq!(b.path().await, "/", "no reload");
    b.close().await;
}

/// The language switch in the header turns the pages German (the reference manual's terms)
/// and back.
async fn german_texts_after_the_language_switch(w: &World) {
    let b = w.logged_in(DESKTOP).await;
    b.submit("#lang-de").await;
    eventually("German page", || async {
        (b.script("return document.documentElement.lang;").await == "de").then_some(())
    })
    .await;
    assert_eq!(b.path().await, "/", "stays on the page");
    assert_eq!(b.text("main h1").await, "Übersicht Zähler");
    let nav = b.text("header nav").await;
    for text in [
        "Konfiguration Zähler",
        "Konfiguration Logger",
        "System-Integration",
    ] {
        assert!(nav.contains(text), "{text} in {nav}");
    }
    assert_eq!(b.text("#logger-state").await, "idle");
    assert_eq!(b.text("#logger-state-name").await, "Leerlauf");
    assert!(
        b.text("main").await.contains("Wärme"),
        "medium groups in German"
    );
    // Per user: a new session of the same user is German too.
    let other = w.logged_in(PHONE).await;
    assert_eq!(other.text("main h1").await, "Übersicht Zähler");
    other.close().await;

    b.submit("#lang-en").await;
    eventually("English page", || async {
        (b.script("return document.documentElement.lang;").await == "en").then_some(())
    })
    .await;
    assert_eq!(b.text("main h1").await, "Meter overview");
    b.close().await;
}

/// A divisor edited on the meter edit page scales the next reading: once the next read cycle
/// has stored it, the meter details show the register's value divided by the new divisor.
async fn a_divisor_edit_scales_the_next_reading(w: &World) {
    // A daemon of its own with a 10 s read cycle, so that the next reading comes soon.
    let (mut daemon, url, _dir) = support::simulated(2, &["--cycle", "10s"]);
    support::http::logged_in(&url);
    let b = w.driver.session(DESKTOP.0, DESKTOP.1).await;
    log_in(&b, &url, "admin", PASSWORD).await;
    // The register: the first with a positive value in the last reading.
    let first_value = "const c = [...document.querySelectorAll('#last-reading td.value')] \
                       .find(c => parseFloat(c.textContent) > 0); \
                       return c ? [c.dataset.register, c.textContent] : null;";
    b.open(&format!("{url}/meters/1")).await;
    let seen = eventually("a value in the last reading", || async {
        let seen = b.script(first_value).await;
        (!seen.is_null()).then_some(seen)
    })
    .await;
    let index = seen[0].as_str().expect("register index").to_string();
    let before: f64 = seen[1].as_str().expect("value").parse().expect("a number");
    b.open(&format!("{url}/meters/1/edit")).await;
    let divisor = format!("#reg-{index}-divisor");
    let old: f64 = b
        .find(&divisor)
        .await
        .prop("value")
        .await
        .expect("divisor")
        .expect("a value")
        .parse()
        .expect("a number");
    b.fill(&divisor, &(old * 1000.0).to_string()).await;
    // Centred: at the bottom of the window the fixed footer would take the click.
    b.script(
        "document.getElementById('meter-save').scrollIntoView({block: 'center'}); return null;",
    )
    .await;
    b.submit("#meter-save").await;
    // The next reading is stored with the new divisor: about a thousandth of the value (the
    // simulated totals only grow a little in a few seconds).
    let cell = format!("#last-reading td.value[data-register='{index}']");
    let after = eventually("the next reading with the new divisor", || async {
        b.open(&format!("{url}/meters/1")).await;
        let text = b.text(&cell).await;
        let value: f64 = text.parse().ok()?;
        (value < before / 100.0).then_some(value)
    })
    .await;
    assert!(
        after * 1000.0 >= before * 0.99 && after * 1000.0 <= before * 1.5,
        "{before} became {after} with the divisor {old} × 1000"
    );
    b.close().await;
    assert!(daemon.terminate().success());
}

/// The pages of the README's screenshots: name, path.
const PAGES: [(&str, &str); 5] = [
    ("overview", "/"),
    ("meter", "/meters/1"),
    ("meter-configuration", "/meters/config"),
    ("meter-edit", "/meters/1/edit"),
    ("password", "/password"),
];

/// No page scrolls sideways at 390 px (a phone) or 1280 px (a desktop); with
/// `MBUS_SCREENSHOTS=1` each is saved as `docs/screenshots/<page>-<desktop|phone>.png`.
async fn pages_fit_desktop_and_phone_widths(w: &World) {
    let shots = screenshot_dir();
    if let Some(dir) = &shots {
        std::fs::create_dir_all(dir).expect("screenshot directory");
    }
    for (label, size) in [("desktop", DESKTOP), ("phone", PHONE)] {
        let b = w.driver.session(size.0, size.1).await;
        b.open(&format!("{}/login", w.url)).await;
        let mut pages = vec![("login", "/login".to_string())];
        log_in(&b, &w.url, "admin", PASSWORD).await;
        pages.extend(PAGES.iter().map(|(n, p)| (*n, p.to_string())));
        for (name, path) in pages {
            if path == "/login" {
                b.submit("form[action='/logout'] button[type=submit]").await;
            } else {
                b.open(&format!("{}{path}", w.url)).await;
            }
            b.find("main").await;
            let widths = b
                .script("return [document.documentElement.scrollWidth, window.innerWidth];")
                .await;
            assert!(
                widths[0].as_u64() <= widths[1].as_u64(),
                "{path} scrolls sideways at {label} width: {widths}"
            );
            if let Some(dir) = &shots {
                let png = b.full_page_png(size.0, size.1).await;
                std::fs::write(dir.join(format!("{name}-{label}.png")), png).expect("write PNG");
            }
            if path == "/login" {
                log_in(&b, &w.url, "admin", PASSWORD).await;
            }
        }
        b.close().await;
    }
}

/// A search started from the meter configuration page runs to its end on the page: the
/// progress bar reaches 100 %, the status names the meters found, start is enabled again.
async fn search_from_the_meter_configuration_runs_to_its_end(w: &World) {
    let b = w.logged_in(DESKTOP).await;
    b.open(&format!("{}/meters/config", w.url)).await;
    b.find("#search-kind")
        .await
        .select_by_value("secondary")
        .await
        .expect("search kind");
    b.find("#search-baud")
        .await
        .select_by_value("9600")
        .await
        .expect("baud rate");
    b.submit("#search-start").await;
    let status = eventually("the search's end on the page", || async {
        let seen = b
            .script(
                "const p = document.getElementById('search-progress'); \
                 const s = document.getElementById('search-status'); \
                 return p && s ? [p.value, s.dataset.running, s.textContent] : null;",
            )
            .await;
        (seen[0] == 100 && seen[1] == "false").then(|| seen[2].as_str().unwrap_or("").to_string())
    })
    .await;
    assert!(status.contains("Search finished"), "{status}");
    assert!(
        status.contains(&format!("Meters found: {METERS}")),
        "{status}"
    );
    assert!(
        status.contains("Meters added: 0"),
        "all were known: {status}"
    );
    assert_eq!(
        b.find("#search-start")
            .await
            .attr("disabled")
            .await
            .expect("attr"),
        None
    );
    assert_eq!(b.all("#meter-list tr[data-meter-id]").await.len(), METERS);
    b.close().await;
}

/// A certificate that is not PEM and a backup that is not JSON are refused on their pages with
/// the field named next to it, and nothing is replaced.
async fn bad_certificate_and_backup_show_field_errors(w: &World) {
    let b = w.logged_in(DESKTOP).await;
    let junk = std::env::temp_dir().join(format!("not-a-certificate-{}.pem", std::process::id()));
    std::fs::write(&junk, "not a certificate").expect("junk file");
    let junk = junk.to_str().expect("temp path").to_string();
    b.open(&format!("{}/logger/tls", w.url)).await;
    b.find("#cert-file")
        .await
        .send_keys(&junk)
        .await
        .expect("certificate file");
    b.find("#key-file")
        .await
        .send_keys(&junk)
        .await
        .expect("key file");
    b.submit("#tls-submit").await;
    assert!(!b
        .text(".field-error[data-field=certificate]")
        .await
        .trim()
        .is_empty());
    b.open(&format!("{}/logger/backup", w.url)).await;
    b.find("#restore-file")
        .await
        .send_keys(&junk)
        .await
        .expect("backup file");
    b.submit("#restore-submit").await;
    assert!(!b.all(".field-error").await.is_empty());
    // The logger still has its meters: the bad backup changed nothing.
    let (status, meters) = b.fetch("GET", "/api/v1/meters", None).await;
    assert_eq!(status, 200);
    assert_eq!(meters.as_array().map(Vec::len), Some(METERS));
    b.close().await;
}

/// The export form downloads a ZIP with one file per meter.
async fn export_form_downloads_a_zip(w: &World) {
    let b = w.logged_in(DESKTOP).await;
    b.open(&format!("{}/integration/export", w.url)).await;
    b.find("#export-format")
        .await
        .select_by_value("csv")
        .await
        .expect("format");
    // What the form's submit button downloads, fetched by the page with its session.
    let bytes = b
        .script_async(
            "const done = arguments[0]; const form = document.getElementById('export-form'); \
             const query = new URLSearchParams(new FormData(form)).toString(); \
             fetch(form.action + '?' + query, {credentials: 'same-origin'}) \
               .then(r => r.arrayBuffer()) \
               .then(b => done(Array.from(new Uint8Array(b)))) \
               .catch(e => done(String(e)));",
        )
        .await;
    let bytes: Vec<u8> =
        serde_json::from_value(bytes.clone()).unwrap_or_else(|_| panic!("{bytes}"));
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a ZIP file");
    let names: Vec<String> = (0..zip.len())
        .map(|i| {
            let entry = zip.by_index(i).expect("entry");
            entry.name().expect("entry name").to_string()
        })
        .collect();
    assert_eq!(names.len(), METERS, "{names:?}");
    assert!(
        names
            .iter()
            .all(|n| n.starts_with("DataExport_") && n.ends_with(".csv")),
        "{names:?}"
    );
    b.close().await;
}

/// A test: its name and body.
type Test = (
    &'static str,
    for<'a> fn(&'a World) -> Pin<Box<dyn Future<Output = ()> + 'a>>,
);

macro_rules! tests {
    ($($name:ident),* $(,)?) => {
        [$((stringify!($name), (|w| Box::pin($name(w))) as for<'a> fn(&'a World) -> Pin<Box<dyn Future<Output = ()> + 'a>>)),*]
    };
}

const TESTS: [Test; 10] = tests![
    login_with_the_default_password_forces_a_change,
    overview_shows_the_meters_of_the_api,
    footer_shows_the_logger_state_live,
    german_texts_after_the_language_switch,
    pages_fit_desktop_and_phone_widths,
    search_from_the_meter_configuration_runs_to_its_end,
    bad_certificate_and_backup_show_field_errors,
    export_form_downloads_a_zip,
    s0_tab_counts_live_without_a_reload,
    a_divisor_edit_scales_the_next_reading,
];

/// The S0 tab's pulse count and the temperature tab's reading move while the page stays
/// open (the script refreshes them from the API); on a daemon of its own with simulated
/// inputs and outputs.
async fn s0_tab_counts_live_without_a_reload(w: &World) {
    let dir = tempfile::tempdir().expect("data directory");
    let mut config = logger_core::config::Config::default();
    config.io.backend = logger_core::hardware::IoBackend::Simulated;
    logger_core::config::ConfigStore::new(dir.path())
        .save(&config)
        .expect("configuration");
    let mut daemon = support::Daemon::simulate(dir.path(), 1, &[]);
    let url = daemon.wait_for_web();
    daemon.wait_for("scan done");
    support::http::logged_in(&url);
    let b = w.driver.session(DESKTOP.0, DESKTOP.1).await;
    log_in(&b, &url, "admin", PASSWORD).await;
    b.open(&format!("{url}/logger/s0")).await;
    let count = |text: String| text.parse::<u64>().ok();
    let first = eventually("a first pulse count", || async {
        count(b.text("#s0-1-pulses").await)
    })
    .await;
    let later = eventually("the pulse count moving on the open page", || async {
        count(b.text("#s0-1-pulses").await).filter(|c| *c > first)
    })
    .await;
    assert!(later > first);
    assert_eq!(b.text("#s0-1-status").await, "ok");
    assert_eq!(b.path().await, "/logger/s0", "no reload");
    b.open(&format!("{url}/logger/temperature")).await;
    let celsius = eventually("a temperature", || async {
        b.text("#temperature-1-celsius").await.parse::<f64>().ok()
    })
    .await;
    assert!((19.0..=23.0).contains(&celsius), "{celsius}");
    b.close().await;
    assert!(daemon.terminate().success(), "daemon exit");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        for (name, _) in TESTS {
            println!("{name}: test");
        }
        return;
    }
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let exact = args.iter().any(|a| a == "--exact");
    let selected: Vec<&Test> = TESTS
        .iter()
        .filter(|(name, _)| {
            filters.is_empty()
                || filters.iter().any(|f| {
                    if exact {
                        name == f
                    } else {
                        name.contains(f.as_str())
                    }
                })
        })
        .collect();
    let started = Instant::now();
    println!("\nrunning {} tests", selected.len());
    let mut failed = Vec::new();
    if !selected.is_empty() {
        let driver = Driver::start();
        let (mut daemon, url, _dir) = support::simulated(METERS, &[]);
        support::http::logged_in(&url);
        let world = World { driver, url };
        for (name, test) in &selected {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            let outcome =
                std::panic::catch_unwind(AssertUnwindSafe(|| runtime.block_on(test(&world))));
            println!(
                "test {name} ... {}",
                if outcome.is_ok() { "ok" } else { "FAILED" }
            );
            if outcome.is_err() {
                failed.push(*name);
            }
        }
        drop(world);
        assert!(daemon.terminate().success(), "daemon exit");
    }
    let passed = selected.len() - failed.len();
    if !failed.is_empty() {
        println!("\nfailures:");
        for name in &failed {
            println!("    {name}");
        }
    }
    println!(
        "\ntest result: {}. {passed} passed; {} failed; 0 ignored; 0 measured; {} filtered out; finished in {:.2}s\n",
        if failed.is_empty() { "ok" } else { "FAILED" },
        failed.len(),
        TESTS.len() - selected.len(),
        started.elapsed().as_secs_f64()
    );
    if !failed.is_empty() {
        std::process::exit(101);
    }
}
