//! An HTTP client for the web tests: keeps the session cookie and the CSRF token, sends JSON
//! or forms, follows no redirects, never treats a 4xx as an error.

use std::io::{BufRead, BufReader};

/// A response: status, the headers the tests look at, body.
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// `Location`, for redirects.
    pub location: Option<String>,
    /// `Set-Cookie`.
    pub set_cookie: Option<String>,
    /// `Content-Type`.
    pub content_type: String,
    /// `Content-Disposition`.
    pub disposition: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON (panics with the body if it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {} {:?}", self.status, self.text()))
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The answer of an HTTP exchange (which must have taken place).
    pub fn from_response(
        response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Answer {
        let mut response = response.expect("HTTP exchange");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
        };
        Answer {
            status: response.status().as_u16(),
            location: header("location"),
            set_cookie: header("set-cookie"),
            content_type: header("content-type").unwrap_or_default(),
            disposition: header("content-disposition"),
            body: response
                .body_mut()
                .with_config()
                .limit(64 * 1024 * 1024)
                .read_to_vec()
                .unwrap(),
        }
    }

    /// The fields the problems of an error answer name.
    pub fn fields(&self) -> Vec<String> {
        self.json()["problems"]
            .as_array()
            .unwrap_or_else(|| panic!("no problems in {}", self.text()))
            .iter()
            .map(|p| p["field"].as_str().unwrap().to_string())
            .collect()
    }
}

/// An agent that follows no redirects and hands every status to the test (so that a lost
/// session shows as a wrong status).
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

/// A logged-in (or not yet) browser or API user.
pub struct Client {
    base: String,
    agent: ureq::Agent,
    /// The session cookie (`name=value`).
    pub cookie: Option<String>,
    /// The session's CSRF token (from the login answer).
    pub csrf: Option<String>,
}

/// The password the tests change the default one to.
pub const NEW_PASSWORD: &str = "kellerraum-42";

impl Client {
    /// A client of the server at `base` (`http://127.0.0.1:PORT`).
    pub fn new(base: &str) -> Client {
        Client {
            base: base.to_string(),
            agent: agent(),
            cookie: None,
            csrf: None,
        }
    }

    /// Another client in the same session, with connections of its own (e.g. for a stream
    /// while this one sends).
    pub fn same_session(&self) -> Client {
        Client {
            base: self.base.clone(),
            agent: agent(),
            cookie: self.cookie.clone(),
            csrf: self.csrf.clone(),
        }
    }

    fn answer(
        &mut self,
        response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Answer {
        let answer = Answer::from_response(response);
        if let Some(c) = &answer.set_cookie {
            let value = c.split(';').next().unwrap().to_string();
            self.cookie = (!value.ends_with('=')).then_some(value);
        }
        answer
    }

    /// A GET.
    pub fn get(&mut self, path: &str) -> Answer {
        let mut request = self.agent.get(format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            request = request.header("Cookie", c);
        }
        let response = request.call();
        self.answer(response)
    }

    /// A request with a body (and the CSRF header).
    pub fn send(&mut self, method: &str, path: &str, content_type: &str, body: Vec<u8>) -> Answer {
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("Content-Type", content_type);
        let request = match &self.cookie {
            Some(c) => request.header("Cookie", c),
            None => request,
        };
        let request = match &self.csrf {
            Some(t) => request.header("X-CSRF-Token", t),
            None => request,
        };
        let response = self.agent.run(request.body(body).unwrap());
        self.answer(response)
    }

    /// A POST, with the CSRF header only if `csrf`.
    pub fn post_raw(&mut self, path: &str, content_type: &str, body: &[u8], csrf: bool) -> Answer {
        let mut request = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Content-Type", content_type);
        if let Some(c) = &self.cookie {
            request = request.header("Cookie", c);
        }
        if let (true, Some(t)) = (csrf, &self.csrf) {
            request = request.header("X-CSRF-Token", t);
        }
        let response = request.send(body);
        self.answer(response)
    }

    /// A POST of JSON.
    pub fn post(&mut self, path: &str, body: serde_json::Value) -> Answer {
        self.post_raw(path, "application/json", body.to_string().as_bytes(), true)
    }

    /// A PUT of JSON.
    pub fn put(&mut self, path: &str, body: &serde_json::Value) -> Answer {
        self.send(
            "PUT",
            path,
            "application/json",
            body.to_string().into_bytes(),
        )
    }

    /// A DELETE.
    pub fn delete(&mut self, path: &str) -> Answer {
        self.send("DELETE", path, "application/json", Vec::new())
    }

    /// A form post as a browser sends it: URL-encoded, the CSRF token as the `csrf` field,
    /// no CSRF header.
    pub fn form(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let csrf = self.csrf.clone().unwrap_or_default();
        let mut all: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        let body = serde_urlencoded::to_string(&all).unwrap();
        let mut request = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "application/x-www-form-urlencoded");
        if let Some(c) = &self.cookie {
            request = request.header("Cookie", c);
        }
        let response = request.send(body.as_bytes());
        self.answer(response)
    }

    /// Announces a body of 5 MiB (over the limit) and returns the status line of the answer,
    /// which comes before the body is sent.
    pub fn oversized(&self, path: &str) -> String {
        use std::io::Write;
        let address = self.base.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .unwrap();
        write!(
            stream,
            "POST {path} HTTP/1.1\r\nHost: {address}\r\nCookie: {}\r\nX-CSRF-Token: {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.cookie.as_deref().unwrap_or(""),
            self.csrf.as_deref().unwrap_or(""),
            5 * 1024 * 1024
        )
        .unwrap();
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line).unwrap();
        line
    }

    /// Logs in; keeps the CSRF token of a successful login.
    pub fn login(&mut self, user: &str, password: &str) -> Answer {
        let answer = self.post(
            "/api/v1/login",
            serde_json::json!({"username": user, "password": password}),
        );
        if answer.status == 200 {
            self.csrf = Some(answer.json()["csrf_token"].as_str().unwrap().to_string());
        }
        answer
    }

    /// The live updates (server-sent events): calls `each(event, data)` for every event until
    /// it returns true.
    pub fn events(&mut self, mut each: impl FnMut(&str, &serde_json::Value) -> bool) {
        let mut request = self.agent.get(format!("{}/api/v1/updates", self.base));
        if let Some(c) = &self.cookie {
            request = request.header("Cookie", c);
        }
        let response = request.call().expect("updates");
        assert_eq!(response.status().as_u16(), 200);
        let mut lines = BufReader::new(response.into_body().into_reader()).lines();
        let mut event = String::new();
        while let Some(Ok(line)) = lines.next() {
            if let Some(name) = line.strip_prefix("event: ") {
                event = name.to_string();
            } else if let Some(data) = line.strip_prefix("data: ") {
                let data: serde_json::Value = serde_json::from_str(data).unwrap();
                if each(&event, &data) {
                    return;
                }
            }
        }
        panic!("the update stream ended");
    }
}

/// Logs in as admin and replaces the default password, as a first login must.
pub fn logged_in(url: &str) -> Client {
    let mut c = Client::new(url);
    assert_eq!(c.login("admin", "123").status, 200);
    let changed = c.post(
        "/api/v1/password",
        serde_json::json!({"current": "123", "new": NEW_PASSWORD}),
    );
    assert_eq!(changed.status, 200, "{}", changed.text());
    c
}
