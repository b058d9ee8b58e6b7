//! Users, sessions and the checks in front of every route.
//!
//! - Users live in `users.json` in the data directory (mode 0600), with argon2id password
//!   hashes. On first start there is one user, `admin` with password `123` (as the reference
//!   appliance ships), marked to change the password at the first login: until then every API
//!   call but the password change and logout answers 403 and every page leads to the password
//!   form.
//! - A login gives a random session token in a cookie (`HttpOnly`, `SameSite=Strict`, `Secure`
//!   under TLS) and a CSRF token. Sessions end after [`SESSION_IDLE`] without use, after
//!   [`SESSION_MAX`] in any case, and at logout.
//! - Every state-changing request (any method but GET/HEAD) must carry the session's CSRF token,
//!   in the `X-CSRF-Token` header (API) or the `csrf` form field (HTML forms; file upload forms
//!   put it in the query string of their action).
//! - Failed logins are counted per client address: after [`LOGIN_ATTEMPTS`] failures within
//!   [`LOGIN_WINDOW`] further logins from there are refused (429) until the window ends.

use super::api::ApiError;
use super::i18n::Lang;
use super::AppState;
use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Name of the users file in the data directory.
pub const USERS_FILE: &str = "users.json";
/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "mbus_session";
/// A session ends after this long without a request.
pub const SESSION_IDLE: Duration = Duration::from_secs(30 * 60);
/// A session ends this long after the login in any case.
pub const SESSION_MAX: Duration = Duration::from_secs(12 * 60 * 60);
/// Failed logins allowed per client within [`LOGIN_WINDOW`].
pub const LOGIN_ATTEMPTS: u32 = 5;
/// The window of the login rate limit.
pub const LOGIN_WINDOW: Duration = Duration::from_secs(60);
/// The account the logger ships with.
pub const DEFAULT_USER: &str = "admin";
/// Its password, to be changed at the first login.
pub const DEFAULT_PASSWORD: &str = "123";
/// Shortest new password.
pub const MIN_PASSWORD: usize = 8;

/// A user of the web UI.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct User {
    name: String,
    /// argon2id hash in PHC string form.
    hash: String,
    must_change_password: bool,
    #[serde(default)]
    language: Lang,
}

/// A logged-in session, as the handlers see it.
#[derive(Debug, Clone)]
pub struct Session {
    /// The session token (the cookie's value).
    pub token: String,
    /// The user.
    pub user: String,
    /// Token that state-changing requests must echo.
    pub csrf: String,
    /// The user's language.
    pub language: Lang,
    /// The user still has to replace the default password.
    pub must_change_password: bool,
    created: Instant,
    last_used: Instant,
}

/// Why a login or password change failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Unknown user or wrong password (not told apart).
    #[error("wrong user name or password")]
    BadCredentials,
    /// Too many failures from this client.
    #[error("too many failed logins; try again in {0} s")]
    RateLimited(u64),
    /// The current password given with a change is wrong.
    #[error("the current password is wrong")]
    WrongCurrent,
    /// The new password is not acceptable.
    #[error("{0}")]
    WeakPassword(&'static str),
    /// The users file could not be written.
    #[error("saving the users file: {0}")]
    Io(#[from] std::io::Error),
    /// Hashing failed.
    #[error("password hashing failed")]
    Hash,
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> ApiError {
        match &e {
            AuthError::BadCredentials => {
                ApiError::new(StatusCode::UNAUTHORIZED, "bad_credentials", e.to_string())
            }
            AuthError::RateLimited(_) => {
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", e.to_string())
            }
            AuthError::WrongCurrent => {
                ApiError::field(StatusCode::FORBIDDEN, "current", e.to_string())
            }
            AuthError::WeakPassword(_) => {
                ApiError::field(StatusCode::UNPROCESSABLE_ENTITY, "new", e.to_string())
            }
            AuthError::Io(_) | AuthError::Hash => ApiError::internal(e.to_string()),
        }
    }
}

#[derive(Debug, Default)]
struct Attempts {
    since: Option<Instant>,
    failures: u32,
}

/// Users, sessions and the login rate limit.
#[derive(Debug)]
pub struct Auth {
    path: PathBuf,
    users: Mutex<Vec<User>>,
    sessions: Mutex<HashMap<String, Session>>,
    attempts: Mutex<HashMap<IpAddr, Attempts>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A random token: 32 bytes from the operating system, hex.
fn token() -> String {
    let mut bytes = [0u8; 32];
    // The OS random source does not fail on any platform this runs on; a failure would leave
    // zeros, so make that loud rather than silent.
    if let Err(e) = getrandom::fill(&mut bytes) {
        tracing::error!(error = %e, "no random numbers from the operating system");
        std::process::abort();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Argon2id with 7 MiB of memory and 5 passes: as strong as the crate's default (19 MiB,
/// 2 passes) by the usual password-storage guidance, with less than half the memory peak
/// per login on a small appliance. Verification reads the parameters from each stored hash,
/// so hashes made with other parameters still verify.
fn params() -> Params {
    Params::new(7 * 1024, 5, 1, None).unwrap_or_default()
}

/// Blocks (1 KiB each) every hash's working memory is allocated with at least: 33 MiB.
const HASH_ALLOCATION_BLOCKS: usize = 33 * 1024;

/// Working memory of `blocks` argon2 blocks, in an allocation of at least
/// [`HASH_ALLOCATION_BLOCKS`] of which only the blocks used are touched (so only they become
/// resident). glibc's malloc serves such a block with its own mapping and, freeing it, returns
/// it to the system at once without raising its dynamic mmap threshold, which only follows
/// freed blocks up to 32 MiB (mallopt(3)). Freeing a 7 MiB block would raise that threshold to
/// 7 MiB, after which glibc keeps up to twice that unused in every thread's arena: the
/// daemon's resident memory under web load grew from about 23 to 42 MiB that way.
fn hash_memory(blocks: usize) -> Vec<Block> {
    let mut memory = Vec::with_capacity(blocks.max(HASH_ALLOCATION_BLOCKS));
    memory.resize(blocks, Block::default());
    memory
}

/// The argon2 output for `password` and `salt` with `argon`'s algorithm, version and `params`,
/// computed in [`hash_memory`].
fn argon2_output(
    argon: &Argon2<'_>,
    params: &Params,
    password: &[u8],
    salt: Salt<'_>,
) -> Result<Output, AuthError> {
    let mut salt_bytes = [0u8; 64];
    let salt = salt
        .decode_b64(&mut salt_bytes)
        .map_err(|_| AuthError::Hash)?;
    let mut memory = hash_memory(params.block_count());
    let len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    Output::init_with(len, |out| {
        argon
            .hash_password_into_with_memory(password, salt, out, &mut memory)
            .map_err(|_| argon2::password_hash::Error::Crypto)
    })
    .map_err(|_| AuthError::Hash)
}

fn hash(password: &str) -> Result<String, AuthError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| AuthError::Hash)?;
    let salt = SaltString::encode_b64(&salt).map_err(|_| AuthError::Hash)?;
    let params = params();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let output = argon2_output(&argon, &params, password.as_bytes(), salt.as_salt())?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|_| AuthError::Hash)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(hash.to_string())
}

fn verify(password: &str, hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let algorithm = Algorithm::try_from(parsed.algorithm);
    let version = parsed.version.map_or(Ok(Version::V0x13), Version::try_from);
    let (Ok(algorithm), Ok(version), Ok(params)) = (algorithm, version, Params::try_from(&parsed))
    else {
        return false;
    };
    let argon = Argon2::new(algorithm, version, params.clone());
    // `Output`'s comparison takes the same time wherever the outputs differ.
    argon2_output(&argon, &params, password.as_bytes(), salt).is_ok_and(|out| out == expected)
}

impl Auth {
    /// The users of `data_dir`; without a users file, the default account (saved at once).
    pub fn open(data_dir: &Path) -> std::io::Result<Auth> {
        let path = data_dir.join(USERS_FILE);
        let users = match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}: {e}", path.display()),
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let users = vec![User {
                    name: DEFAULT_USER.into(),
                    hash: hash(DEFAULT_PASSWORD).map_err(std::io::Error::other)?,
                    must_change_password: true,
                    language: Lang::En,
                }];
                let text = serde_json::to_string_pretty(&users).map_err(std::io::Error::other)?;
                logger_core::atomic::write_private(&path, text.as_bytes())?;
                tracing::info!(file = %path.display(), "web user admin created with the default password; it must be changed at the first login");
                users
            }
            Err(e) => return Err(e),
        };
        Ok(Auth {
            path,
            users: Mutex::new(users),
            sessions: Mutex::new(HashMap::new()),
            attempts: Mutex::new(HashMap::new()),
        })
    }

    fn save(&self, users: &[User]) -> Result<(), AuthError> {
        let text = serde_json::to_string_pretty(users).map_err(std::io::Error::other)?;
        Ok(logger_core::atomic::write_private(
            &self.path,
            text.as_bytes(),
        )?)
    }

    /// Checks the rate limit of `client`; `Err` with the seconds left while it is blocked.
    fn check_rate(&self, client: IpAddr) -> Result<(), AuthError> {
        let mut attempts = lock(&self.attempts);
        let entry = attempts.entry(client).or_default();
        if let Some(since) = entry.since {
            let age = since.elapsed();
            if age >= LOGIN_WINDOW {
                *entry = Attempts::default();
            } else if entry.failures >= LOGIN_ATTEMPTS {
                return Err(AuthError::RateLimited((LOGIN_WINDOW - age).as_secs() + 1));
            }
        }
        Ok(())
    }

    fn failed(&self, client: IpAddr) {
        let mut attempts = lock(&self.attempts);
        // Forget clients whose window has ended, so the table stays small.
        attempts.retain(|_, a| a.since.is_some_and(|s| s.elapsed() < LOGIN_WINDOW));
        let entry = attempts.entry(client).or_default();
        entry.since.get_or_insert_with(Instant::now);
        entry.failures += 1;
        tracing::warn!(%client, failures = entry.failures, "failed web login");
    }

    /// Logs `user` in from `client`; returns the new session.
    pub fn login(&self, user: &str, password: &str, client: IpAddr) -> Result<Session, AuthError> {
        self.check_rate(client)?;
        let found = lock(&self.users).iter().find(|u| u.name == user).cloned();
        // Verify against a hash even for unknown users, so timing does not tell them apart.
        let ok = match &found {
            Some(u) => verify(password, &u.hash),
            None => {
                static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
                let dummy = DUMMY.get_or_init(|| hash("no such user").unwrap_or_default());
                verify(password, dummy);
                false
            }
        };
        let Some(found) = found.filter(|_| ok) else {
            self.failed(client);
            return Err(AuthError::BadCredentials);
        };
        lock(&self.attempts).remove(&client);
        let now = Instant::now();
        let session = Session {
            token: token(),
            user: found.name.clone(),
            csrf: token(),
            language: found.language,
            must_change_password: found.must_change_password,
            created: now,
            last_used: now,
        };
        let mut sessions = lock(&self.sessions);
        sessions.retain(|_, s| alive(s, now));
        sessions.insert(session.token.clone(), session.clone());
        tracing::info!(user = %found.name, %client, "web login");
        Ok(session)
    }

    /// The session of `token`, if it is alive (its idle time starts again).
    pub fn session(&self, token: &str) -> Option<Session> {
        let mut sessions = lock(&self.sessions);
        let now = Instant::now();
        match sessions.get_mut(token) {
            Some(s) if alive(s, now) => {
                s.last_used = now;
                Some(s.clone())
            }
            Some(_) => {
                sessions.remove(token);
                None
            }
            None => None,
        }
    }

    /// Ends a session.
    pub fn logout(&self, token: &str) {
        lock(&self.sessions).remove(token);
    }

    /// Changes the password of the session's user (the current one must be given); every
    /// other session of the user ends.
    pub fn change_password(
        &self,
        session: &Session,
        current: &str,
        new: &str,
    ) -> Result<(), AuthError> {
        if new.chars().count() < MIN_PASSWORD {
            return Err(AuthError::WeakPassword(
                "the new password needs at least 8 characters",
            ));
        }
        if new == DEFAULT_PASSWORD || new == current {
            return Err(AuthError::WeakPassword(
                "the new password must differ from the current and the default one",
            ));
        }
        let stored = lock(&self.users)
            .iter()
            .find(|u| u.name == session.user)
            .map(|u| u.hash.clone())
            .ok_or(AuthError::BadCredentials)?;
        if !verify(current, &stored) {
            return Err(AuthError::WrongCurrent);
        }
        let new_hash = hash(new)?;
        {
            let mut users = lock(&self.users);
            let mut changed = users.clone();
            if let Some(u) = changed.iter_mut().find(|u| u.name == session.user) {
                u.hash = new_hash;
                u.must_change_password = false;
            }
            self.save(&changed)?;
            *users = changed;
        }
        let mut sessions = lock(&self.sessions);
        sessions.retain(|t, s| s.user != session.user || t == &session.token);
        if let Some(s) = sessions.get_mut(&session.token) {
            s.must_change_password = false;
        }
        tracing::info!(user = %session.user, "web password changed");
        Ok(())
    }

    /// Sets the language of the session's user (kept in the users file).
    pub fn set_language(&self, session: &Session, language: Lang) -> Result<(), AuthError> {
        {
            let mut users = lock(&self.users);
            let mut changed = users.clone();
            if let Some(u) = changed.iter_mut().find(|u| u.name == session.user) {
                u.language = language;
            }
            self.save(&changed)?;
            *users = changed;
        }
        for s in lock(&self.sessions).values_mut() {
            if s.user == session.user {
                s.language = language;
            }
        }
        Ok(())
    }
}

fn alive(s: &Session, now: Instant) -> bool {
    now.duration_since(s.last_used) < SESSION_IDLE && now.duration_since(s.created) < SESSION_MAX
}

/// The session cookie for `token` (`Max-Age=0` clears it).
pub fn session_cookie(token: &str, secure: bool, max_age: u64) -> String {
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The session token in the request's cookies.
pub fn token_of(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_string())
}

/// The client's address (for the rate limit); loopback where the server does not know it
/// (requests handed to the router directly, as in tests).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<ClientAddr, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |c| c.0.ip()),
        ))
    }
}

fn is_api(request: &Request) -> bool {
    request.uri().path().starts_with("/api/")
}

/// The check in front of [`super::Access::Session`] routes.
pub async fn require_session(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    check(state, request, next, false).await
}

/// The check in front of [`super::Access::Full`] routes.
pub async fn require_full(State(state): State<AppState>, request: Request, next: Next) -> Response {
    check(state, request, next, true).await
}

/// The form field that carries the CSRF token in HTML forms.
pub const CSRF_FIELD: &str = "csrf";
/// The header that carries it in API requests.
pub const CSRF_HEADER: &str = "x-csrf-token";

async fn check(state: AppState, request: Request, next: Next, full: bool) -> Response {
    let api = is_api(&request);
    let session = token_of(request.headers()).and_then(|t| state.auth.session(&t));
    let Some(session) = session else {
        return if api {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "login_required",
                "log in first: POST /api/v1/login",
            )
            .into_response()
        } else {
            Redirect::to("/login").into_response()
        };
    };
    let request = if matches!(*request.method(), Method::GET | Method::HEAD) {
        request
    } else {
        match csrf_checked(request, &session.csrf).await {
            Ok(r) => r,
            Err(()) => {
                return ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf",
                    "missing or wrong CSRF token (X-CSRF-Token header or csrf form field)",
                )
                .into_response()
            }
        }
    };
    if full && session.must_change_password {
        return if api {
            ApiError::new(
                StatusCode::FORBIDDEN,
                "password_change_required",
                "the default password must be changed first: POST /api/v1/password",
            )
            .into_response()
        } else {
            Redirect::to("/password").into_response()
        };
    }
    let mut request = request;
    request.extensions_mut().insert(session);
    next.run(request).await
}

/// The request if it carries `csrf` in the header or, for a form, in the `csrf` field (the
/// body is read and put back).
async fn csrf_checked(request: Request, csrf: &str) -> Result<Request, ()> {
    let header_ok = request
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| constant_time_eq(v.as_bytes(), csrf.as_bytes()));
    if header_ok {
        return Ok(request);
    }
    // A file upload form (multipart) carries the token in its action's query string.
    let is_multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if is_multipart {
        let fields: Vec<(String, String)> =
            serde_urlencoded::from_str(request.uri().query().unwrap_or("")).map_err(|_| ())?;
        let ok = fields
            .iter()
            .any(|(k, v)| k == CSRF_FIELD && constant_time_eq(v.as_bytes(), csrf.as_bytes()));
        return if ok {
            Ok(request)
        } else {
            refuse(request).await
        };
    }
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return refuse(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, super::BODY_LIMIT)
        .await
        .map_err(|_| ())?;
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).map_err(|_| ())?;
    let ok = fields
        .iter()
        .any(|(k, v)| k == CSRF_FIELD && constant_time_eq(v.as_bytes(), csrf.as_bytes()));
    if ok {
        Ok(Request::from_parts(parts, Body::from(bytes)))
    } else {
        Err(())
    }
}

/// Refuses a request after reading its body, so that the connection stays usable for the
/// client's next request.
async fn refuse(request: Request) -> Result<Request, ()> {
    let _ = axum::body::to_bytes(request.into_body(), super::BODY_LIMIT).await;
    Err(())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_7_mib_and_older_parameters_still_verify() {
        let stored = hash("kellerraum-42").unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"),
            "{stored}"
        );
        assert!(verify("kellerraum-42", &stored));
        assert!(!verify("kellerraum-43", &stored));
        // A hash with the crate's default parameters (19 MiB, 2 passes).
        use argon2::PasswordHasher;
        let salt = SaltString::encode_b64(&[7u8; 16]).unwrap();
        let older = Argon2::default()
            .hash_password(b"kellerraum-42", &salt)
            .unwrap()
            .to_string();
        assert!(older.contains("m=19456,t=2"), "{older}");
        assert!(verify("kellerraum-42", &older));
    }

    #[test]
    fn the_default_account_logs_in_must_change_its_password_and_the_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let auth = Auth::open(dir.path()).unwrap();
        let mode = std::fs::metadata(dir.path().join(USERS_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let text = std::fs::read_to_string(dir.path().join(USERS_FILE)).unwrap();
        assert!(text.contains("$argon2id$"), "{text}");
        assert!(!text.contains("\"123\""));
        let client = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let s = auth.login("admin", "123", client).unwrap();
        assert!(s.must_change_password);
        assert!(matches!(
            auth.change_password(&s, "123", "short"),
            Err(AuthError::WeakPassword(_))
        ));
        assert!(matches!(
            auth.change_password(&s, "wrong", "long enough"),
            Err(AuthError::WrongCurrent)
        ));
        auth.change_password(&s, "123", "long enough").unwrap();
        assert!(!auth.session(&s.token).unwrap().must_change_password);
        // The change survives a restart; the old password no longer works.
        let again = Auth::open(dir.path()).unwrap();
        assert!(matches!(
            again.login("admin", "123", client),
            Err(AuthError::BadCredentials)
        ));
        assert!(
            !again
                .login("admin", "long enough", client)
                .unwrap()
                .must_change_password
        );
        auth.logout(&s.token);
        assert!(auth.session(&s.token).is_none());
    }

    #[test]
    fn sessions_end_after_idle_time_and_in_any_case_after_the_maximum() {
        let dir = tempfile::tempdir().unwrap();
        let auth = Auth::open(dir.path()).unwrap();
        let client = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let idle = auth.login("admin", "123", client).unwrap();
        let old = auth.login("admin", "123", client).unwrap();
        let now = Instant::now();
        let (Some(long_ago), Some(very_long_ago)) = (
            now.checked_sub(SESSION_IDLE + Duration::from_secs(1)),
            now.checked_sub(SESSION_MAX + Duration::from_secs(1)),
        ) else {
            return; // the monotonic clock started too recently to go back that far
        };
        {
            let mut sessions = lock(&auth.sessions);
            sessions.get_mut(&idle.token).unwrap().last_used = long_ago;
            sessions.get_mut(&old.token).unwrap().created = very_long_ago;
        }
        assert!(auth.session(&idle.token).is_none(), "idle too long");
        assert!(auth.session(&old.token).is_none(), "too old, though in use");
        assert!(
            lock(&auth.sessions).is_empty(),
            "ended sessions are dropped"
        );
    }

    #[test]
    fn logins_are_limited_per_client() {
        let dir = tempfile::tempdir().unwrap();
        let auth = Auth::open(dir.path()).unwrap();
        let a = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        let b = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
        for _ in 0..LOGIN_ATTEMPTS {
            assert!(matches!(
                auth.login("admin", "x", a),
                Err(AuthError::BadCredentials)
            ));
        }
        assert!(matches!(
            auth.login("admin", "123", a),
            Err(AuthError::RateLimited(_))
        ));
        assert!(
            auth.login("admin", "123", b).is_ok(),
            "another client is not blocked"
        );
    }

    #[test]
    fn cookies_are_http_only_strict_and_secure_under_tls() {
        let c = session_cookie("abc", false, 60);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && !c.contains("Secure"));
        assert!(session_cookie("abc", true, 60).ends_with("; Secure"));
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "a=1; mbus_session=tok; b=2".parse().unwrap(),
        );
        assert_eq!(token_of(&headers).as_deref(), Some("tok"));
    }
}
