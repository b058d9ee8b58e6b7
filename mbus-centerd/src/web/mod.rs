//! The web UI and the REST API: an axum server in front of the logger's
//! [`ServiceHandle`].
//!
//! # Layout
//!
//! | module | what it holds |
//! |---|---|
//! | [`mod@self`] | [`Route`] and the route table ([`routes`]), router assembly ([`router`]), security headers, [`serve`] |
//! | [`auth`] | users (argon2id hashes in `users.json`, mode 0600), sessions, CSRF, login rate limiting, the forced password change |
//! | [`api`] | the JSON API under `/api/v1`, one module per resource; [`api::ApiError`] names the field of every bad input |
//! | [`pages`] | server-rendered HTML (maud), one module per page group; [`pages::layout`] is the frame of every page |
//! | [`i18n`] | English and German texts (the German ones use the reference manual's terms) |
//! | [`readers`] | read-only connections to the readings database, reused |
//! | [`sse`] | live updates (logger state, scan progress, new readings) as server-sent events |
//! | [`assets`] | CSS and JavaScript, embedded in the binary (no CDN, no inline script) |
//! | [`openapi`] | the OpenAPI 3 document at `/api/openapi.json`, generated from the route table |
//! | [`tls`] | HTTPS: the certificate slot (replaced live after an upload) and the rustls accept loop |
//!
//! Every route is listed once, in [`routes`], with its access level ([`Access`]); the router
//! puts the session check in front of every route that is not [`Access::Public`], and a test
//! walks the table to prove it. The HTML pages call the same logger-core functions as the API
//! handlers.
//!
//! # How to add a page
//!
//! 1. Add a module under `pages/` (e.g. `pages/meter.rs`) with a handler that takes
//!    [`pages::Page`] (the session's user, language and CSRF token) and returns
//!    `pages::layout(&page, &snapshot, Nav::…, content)`.
//! 2. List its routes in that module's `routes()` and add the module to [`pages::routes`];
//!    forms post with `pages::csrf_field(&page)` inside.
//! 3. Add a navigation entry to `pages::NAV` if it is a menu item.
//!
//! # How to add an API route
//!
//! 1. Write the handler in a module under `api/`; read JSON bodies with [`api::json_body`] and
//!    queries with [`api::Query`] so that errors name the field; return `Result<_, ApiError>`.
//! 2. List it in the module's `routes()` with `Route::get`/`Route::post`, an [`Access`] level
//!    and a one-line summary (`.query(&[(name, description), …])` documents its query
//!    parameters): it is then in the router, in the route-auth test and in
//!    `/api/openapi.json`.
//! 3. Derive `utoipa::ToSchema` on the types of its JSON body and answer and name them with
//!    `.request::<T>()` and `.response::<T>()` (`.response_list::<T>()` for an array,
//!    `.produces(media type)` for CSV, ZIP, HTML or an event stream): the document then
//!    carries their schemas, taken from the same types (and serde attributes) the handler
//!    uses.
//!
//! # How to add a logger or integration setting
//!
//! Add the field to its section in `logger_core::config` (with its validation), then one line
//! to the tab's field list in `pages/logger.rs` or `pages/integration.rs` (key, element id,
//! label, [`pages::form::Kind`]): the form shows it, posts it through
//! `POST /api/v1/settings/{section}`'s handler and shows its validation error next to it.
//!
//! # How to add a translated string
//!
//! Add a variant to [`i18n::Text`] and its English and German text to the `match` in
//! [`i18n::Text::get`]; the compiler finds every missing translation.

pub mod api;
pub mod assets;
pub mod auth;
pub mod i18n;
pub mod openapi;
pub mod pages;
pub mod readers;
pub mod sse;
pub mod tls;

use axum::extract::{DefaultBodyLimit, Request};
use axum::handler::Handler;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use axum::Router;
use logger_core::service::{ServiceHandle, Update};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Largest request body accepted (a configuration backup with hundreds of meters fits).
pub const BODY_LIMIT: usize = 4 * 1024 * 1024;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The running logger.
    pub service: ServiceHandle,
    /// Users, sessions, rate limiting.
    pub auth: Arc<auth::Auth>,
    /// Read-only connections to the readings database.
    pub readers: Arc<readers::Readers>,
    /// The meter summaries of the current snapshot.
    pub meter_cache: Arc<api::meters::MeterCache>,
    /// The logger's updates, for every live-update stream.
    pub updates: tokio::sync::broadcast::Sender<Update>,
    /// Cookies carry `Secure` (served over TLS).
    pub secure_cookies: bool,
    /// Set to `true` when the server shuts down: long-lived responses (live updates) end.
    pub shutdown: tokio::sync::watch::Sender<bool>,
    /// The certificate HTTPS presents (unused without TLS).
    pub tls: Arc<tls::CertSlot>,
}

impl AppState {
    /// State for `service`, with the users of its data directory (created with the default
    /// account on first start).
    pub fn new(service: ServiceHandle, secure_cookies: bool) -> std::io::Result<AppState> {
        let auth = auth::Auth::open(service.data_dir())?;
        let (updates, _) = tokio::sync::broadcast::channel(256);
        Ok(AppState {
            readers: Arc::new(readers::Readers::new(service.data_dir())),
            meter_cache: Arc::default(),
            service,
            auth: Arc::new(auth),
            updates,
            secure_cookies,
            shutdown: tokio::sync::watch::Sender::new(false),
            tls: Arc::default(),
        })
    }
}

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: the login and static assets only.
    Public,
    /// A logged-in user, also one who still has to change the default password (logout,
    /// password change, live updates).
    Session,
    /// A logged-in user who has changed the default password: everything else.
    Full,
}

/// One route of the table.
pub struct Route {
    /// HTTP method.
    pub method: Method,
    /// Path, `{name}` for path parameters.
    pub path: &'static str,
    /// Who may use it.
    pub access: Access,
    /// One line for the OpenAPI document.
    pub summary: &'static str,
    /// Query parameters for the OpenAPI document: name and description.
    pub query: &'static [(&'static str, &'static str)],
    /// The JSON body it takes, for the OpenAPI document.
    pub request: Option<openapi::Body>,
    /// The JSON body of its success answer, for the OpenAPI document.
    pub response: Option<openapi::Body>,
    /// The media type of a success answer that is not JSON (CSV, ZIP, HTML, event stream).
    pub produces: Option<&'static str>,
    /// The status of a success answer (200 unless stated).
    pub success: StatusCode,
    /// The handler.
    pub handler: MethodRouter<AppState>,
}

/// `Route::get`, `Route::post` …: one constructor per HTTP method.
macro_rules! constructors {
    ($($name:ident $method:ident,)*) => {
        $(
            #[doc = concat!("A ", stringify!($method), " route.")]
            pub fn $name<H, T>(path: &'static str, access: Access, summary: &'static str, h: H) -> Route
            where
                H: Handler<T, AppState>,
                T: 'static,
            {
                Route::new(Method::$method, path, access, summary, axum::routing::$name(h))
            }
        )*
    };
}

impl Route {
    /// A route of `method` served by `handler`, without query parameters.
    fn new(
        method: Method,
        path: &'static str,
        access: Access,
        summary: &'static str,
        handler: MethodRouter<AppState>,
    ) -> Route {
        Route {
            method,
            path,
            access,
            summary,
            query: &[],
            request: None,
            response: None,
            produces: None,
            success: StatusCode::OK,
            handler,
        }
    }

    constructors! {
        get GET,
        post POST,
        put PUT,
        delete DELETE,
    }
}

impl Route {
    /// The route with these query parameters documented.
    pub fn query(mut self, params: &'static [(&'static str, &'static str)]) -> Route {
        self.query = params;
        self
    }

    /// The route with its JSON request body documented as `T`.
    pub fn request<T: utoipa::ToSchema>(mut self) -> Route {
        self.request = Some(openapi::Body::of::<T>());
        self
    }

    /// The route with its JSON success answer documented as `T`.
    pub fn response<T: utoipa::ToSchema>(mut self) -> Route {
        self.response = Some(openapi::Body::of::<T>());
        self
    }

    /// The route with its JSON success answer documented as an array of `T`.
    pub fn response_list<T: utoipa::ToSchema>(mut self) -> Route {
        self.response = Some(openapi::Body::list_of::<T>());
        self
    }

    /// The route with its JSON success answer documented as `T` or `null`.
    pub fn response_nullable<T: utoipa::ToSchema>(mut self) -> Route {
        self.response = Some(openapi::Body::nullable_of::<T>());
        self
    }

    /// The route with the status of its success answer documented (201, 202, 204).
    pub fn success(mut self, status: StatusCode) -> Route {
        self.success = status;
        self
    }

    /// The route with the media type of its (not JSON) success answer documented.
    pub fn produces(mut self, media_type: &'static str) -> Route {
        self.produces = Some(media_type);
        self
    }
}

/// Every route of the server.
pub fn routes() -> Vec<Route> {
    let mut all = api::routes();
    all.extend(sse::routes());
    all.extend(pages::routes());
    all.extend(assets::routes());
    all.push(Route::get(
        "/api/openapi.json",
        Access::Full,
        "The OpenAPI 3 document of this API",
        openapi::document,
    ));
    all
}

/// The router: every route of [`routes`] behind its access check, security headers and the
/// body size limit on everything.
pub fn router(state: AppState) -> Router {
    let mut router: Router<AppState> = Router::new();
    for route in routes() {
        let handler = match route.access {
            Access::Public => route.handler,
            Access::Session => route
                .handler
                .route_layer(from_fn_with_state(state.clone(), auth::require_session)),
            Access::Full => route
                .handler
                .route_layer(from_fn_with_state(state.clone(), auth::require_full)),
        };
        router = router.route(route.path, handler);
    }
    router
        .fallback(pages::not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(from_fn(security_headers))
        .with_state(state)
}

/// Headers on every response: a script policy without inline code, no framing, no MIME
/// sniffing, no referrer; nothing but assets is cached.
/// A body announced larger than [`BODY_LIMIT`] is refused before it is read (a body without a
/// length is cut at the limit where it is read).
async fn security_headers(request: Request, next: Next) -> Response {
    let asset = request.uri().path().starts_with("/assets/");
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut response = if announced.is_some_and(|n| n > BODY_LIMIT as u64) {
        api::ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the request body is larger than {BODY_LIMIT} bytes"),
        )
        .into_response()
    } else {
        next.run(request).await
    };
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; \
             frame-ancestors 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !asset {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Serves the UI and API on `addr` until `stop` is set, over HTTPS when `tls` is set or the
/// configuration turns TLS on. Logs (and prints on standard output) the address a browser opens.
pub fn serve(
    service: ServiceHandle,
    addr: SocketAddr,
    tls: bool,
    stop: Arc<AtomicBool>,
) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        // Database reads and password hashing run on these; a few suffice on a small
        // appliance, and every further thread would hold memory of its own.
        .max_blocking_threads(4)
        .enable_all()
        .thread_name("web")
        .build()?;
    runtime.block_on(async move {
        let tls = tls || service.snapshot().config.tls.enabled;
        let state = AppState::new(service.clone(), tls)?;
        if tls {
            tls::load(&state)?;
        }
        sse::forward(&service, state.updates.clone(), Arc::clone(&stop));
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let bound = listener.local_addr()?;
        // Listening on every address: a browser on this machine opens the loopback one.
        let shown = if bound.ip().is_unspecified() {
            SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), bound.port())
        } else {
            bound
        };
        let url = format!("{}://{shown}", if tls { "https" } else { "http" });
        tracing::info!(listen = %bound, "web UI and REST API at {url}/ (first login admin / 123)");
        println!("open {url}");
        let shutdown = state.shutdown.clone();
        if tls {
            let slot = Arc::clone(&state.tls);
            let served = tls::serve(listener, router(state), slot, stop).await;
            // Open live-update streams end, so the server can finish.
            shutdown.send_replace(true);
            return served;
        }
        let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                while !stop.load(Ordering::SeqCst) {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                // Open live-update streams end, so the server can finish.
                shutdown.send_replace(true);
            })
            .await
    })
}

#[cfg(test)]
mod tests;
