//! Headless Chromium through chromedriver: the driver process on a free port, one browser
//! session (a fresh profile each) per test, and the waits the tests share.

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a wait for the page lasts before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// What to do when the browser is missing.
const INSTALL: &str = "the browser tests need Chromium and its WebDriver: on Debian \
     `apt-get install chromium chromium-driver` (.ci/run installs them); \
     MBUS_CHROMIUM and MBUS_CHROMEDRIVER name other binaries";

/// `name` on the `PATH` (or the binary `env` names).
fn binary(env: &str, names: &[&str]) -> PathBuf {
    if let Some(path) = std::env::var_os(env) {
        return PathBuf::from(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{} not found: {INSTALL}", names.join(" or ")))
}

/// A free TCP port on 127.0.0.1 (the listener is closed again at once).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A running chromedriver; shut down (with every browser it started) when dropped.
pub struct Driver {
    child: Child,
    url: String,
    chromium: PathBuf,
}

impl Driver {
    /// Starts chromedriver on a free 127.0.0.1 port and waits until it is ready.
    pub fn start() -> Driver {
        let chromium = binary("MBUS_CHROMIUM", &["chromium", "chromium-browser"]);
        let driver = binary("MBUS_CHROMEDRIVER", &["chromedriver"]);
        let port = free_port();
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{} does not start ({e}): {INSTALL}", driver.display()));
        let url = format!("http://127.0.0.1:{port}");
        let start = Instant::now();
        loop {
            let ready = ureq::get(&format!("{url}/status"))
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_to_string().ok())
                .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
                .is_some_and(|status| status["value"]["ready"] == true);
            if ready {
                break;
            }
            assert!(
                start.elapsed() < PATIENCE,
                "chromedriver at {url} did not get ready"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver {
            child,
            url,
            chromium,
        }
    }

    /// A new headless browser session `width` × `height` pixels, with its own empty profile.
    pub async fn session(&self, width: u32, height: u32) -> Browser {
        let profile = tempfile::tempdir().expect("profile directory");
        let args = [
            "--headless=new".to_string(),
            "--no-sandbox".to_string(),
            "--disable-gpu".to_string(),
            "--disable-dev-shm-usage".to_string(),
            // No traffic of the browser's own: the tests run on a closed network.
            "--disable-quic".to_string(),
            "--no-first-run".to_string(),
            "--disable-background-networking".to_string(),
            "--disable-component-update".to_string(),
            "--disable-sync".to_string(),
            "--hide-scrollbars".to_string(),
            format!("--user-data-dir={}", profile.path().display()),
            format!("--window-size={width},{height}"),
        ];
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_string(),
            serde_json::json!({ "binary": self.chromium, "args": args }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("no browser session from {} ({e}): {INSTALL}", self.url));
        let browser = Browser {
            client,
            _profile: profile,
        };
        browser.resize(width, height).await;
        browser
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // chromedriver's own shutdown also ends the browsers of sessions a failed test left.
        let _ = ureq::get(&format!("{}/shutdown", self.url)).call();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser session.
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Sets the viewport (not the window) to `width` × `height` CSS pixels.
    pub async fn resize(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .expect("set window size");
        let inner = self
            .script("return [window.innerWidth, window.innerHeight];")
            .await;
        let extra = |i: usize, want: u32| {
            want + u32::try_from(inner[i].as_i64().unwrap_or(0))
                .map_or(0, |have| want.saturating_sub(have))
        };
        let (w, h) = (extra(0, width), extra(1, height));
        if (w, h) != (width, height) {
            self.client
                .set_window_size(w, h)
                .await
                .expect("set window size");
        }
    }

    /// Opens `url` and waits for the page.
    pub async fn open(&self, url: &str) {
        self.client.goto(url).await.expect("open the page");
    }

    /// The path of the page shown.
    pub async fn path(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("current URL")
            .path()
            .to_string()
    }

    /// The element `css` selects, waiting for it to appear.
    pub async fn find(&self, css: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(e) => panic!("no element {css} on {} ({e})", self.path().await),
        }
    }

    /// Every element `css` selects now.
    pub async fn all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .expect("find elements")
    }

    /// The text of the element `css` selects.
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.expect("element text")
    }

    /// Types `text` into the (emptied) field `css`.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("clear field");
        field.send_keys(text).await.expect("type into field");
    }

    /// Clicks the element `css` selects.
    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.expect("click");
    }

    /// Clicks the element `css` selects (a submit button or a link) and waits until the
    /// next page has loaded.
    pub async fn submit(&self, css: &str) {
        self.script("window.stalePage = true; return null;").await;
        self.click(css).await;
        eventually(&format!("the page after clicking {css}"), || async {
            let fresh = self
                .client
                .execute(
                    "return window.stalePage === undefined && document.readyState === 'complete';",
                    Vec::new(),
                )
                .await
                // A script may fail while the next page is being loaded.
                .unwrap_or_default();
            (fresh == true).then_some(())
        })
        .await;
    }

    /// Runs `body` (a function body that returns a value) in the page.
    pub async fn script(&self, body: &str) -> serde_json::Value {
        self.client
            .execute(body, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("script failed ({e}): {body}"))
    }

    /// Runs `body` asynchronously in the page: it ends by calling `arguments[0]` with the value.
    pub async fn script_async(&self, body: &str) -> serde_json::Value {
        self.client
            .execute_async(body, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("script failed ({e}): {body}"))
    }

    /// A request of the page's own (with its session cookie): `method` `path` with a JSON
    /// body, and the CSRF token of the page's forms when the method changes state. Returns
    /// the status and the JSON answer.
    pub async fn fetch(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let script = "const [method, path, body, done] = arguments; \
            const csrf = document.querySelector('input[name=csrf]'); \
            const headers = {'Content-Type': 'application/json'}; \
            if (csrf) { headers['X-CSRF-Token'] = csrf.value; } \
            fetch(path, {method, headers, body: body === null ? undefined : JSON.stringify(body)}) \
              .then(r => r.text().then(t => done([r.status, t]))) \
              .catch(e => done([0, String(e)]));";
        let answer = self
            .client
            .execute_async(
                script,
                vec![
                    method.into(),
                    path.into(),
                    body.unwrap_or(serde_json::Value::Null),
                ],
            )
            .await
            .unwrap_or_else(|e| panic!("{method} {path} from the page failed ({e})"));
        let status = u16::try_from(answer[0].as_u64().unwrap_or(0)).unwrap_or(0);
        let text = answer[1].as_str().unwrap_or_default();
        let json = serde_json::from_str(text).unwrap_or(serde_json::Value::String(text.into()));
        (status, json)
    }

    /// A PNG of the page at the viewport's width, as tall as the page up to 1800 pixels (the
    /// viewport grows to that height, then returns to `height`).
    pub async fn full_page_png(&self, width: u32, height: u32) -> Vec<u8> {
        let full = self
            .script("return document.documentElement.scrollHeight;")
            .await
            .as_u64()
            .and_then(|h| u32::try_from(h).ok())
            .unwrap_or(height)
            .clamp(height, 1800);
        self.resize(width, full).await;
        let png = self.client.screenshot().await.expect("screenshot");
        self.resize(width, height).await;
        png
    }

    /// Ends the session (and its browser).
    pub async fn close(self) {
        self.client.close().await.expect("close the browser");
    }
}

/// Waits until `check` returns `Some`, trying again every 100 ms; fails the test naming
/// `what` after [`PATIENCE`].
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(start.elapsed() < PATIENCE, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Where the screenshots of the README go (written when `MBUS_SCREENSHOTS=1`).
pub fn screenshot_dir() -> Option<PathBuf> {
    (std::env::var("MBUS_SCREENSHOTS").as_deref() == Ok("1"))
        .then(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots"))
}
