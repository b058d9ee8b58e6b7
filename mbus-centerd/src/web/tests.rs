//! The route table against the router: every route but the login and the static assets
//! needs a session.

use super::*;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{TimeZone, Utc};
use logger_core::clock::ManualClock;
use logger_core::engine::Logger;
use logger_core::service::{Service, ServiceOptions};
use logger_core::simulation::SimInstallation;
use mbus_proto::address::BaudRate;
use tower::ServiceExt;

fn state() -> (AppState, Service<SimInstallation>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap(),
    ));
    let logger = Logger::open(
        dir.path(),
        SimInstallation::demo(2, 1, BaudRate::B9600),
        clock,
    )
    .unwrap();
    let service = Service::start(logger, ServiceOptions::default());
    let state = AppState::new(service.handle(), false).unwrap();
    (state, service, dir)
}

#[tokio::test]
async fn every_route_but_login_and_assets_needs_a_session() {
    let (state, service, _dir) = state();
    let table = routes();
    let public: Vec<&str> = table
        .iter()
        .filter(|r| r.access == Access::Public)
        .map(|r| r.path)
        .collect();
    assert_eq!(
        public,
        [
            "/api/v1/login",
            "/login",
            "/login",
            "/assets/app.css",
            "/assets/app.js"
        ]
    );
    let app = router(state);
    for route in &table {
        let path = route.path.replace("{id}", "1");
        let request = Request::builder()
            .method(route.method.clone())
            .uri(&path)
            .body(Body::empty())
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let location = response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string());
        let refused = status == StatusCode::UNAUTHORIZED
            || (status == StatusCode::SEE_OTHER && location.as_deref() == Some("/login"));
        if route.access == Access::Public {
            assert!(!refused, "{} {path} must be open: {status}", route.method);
        } else {
            assert!(
                refused,
                "{} {path} must need a session: {status} {location:?}",
                route.method
            );
            if path.starts_with("/api/") {
                let body = axum::body::to_bytes(response.into_body(), 4096)
                    .await
                    .unwrap();
                let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(json["error"], "login_required", "{path}");
            }
        }
    }
    // Every response carries the security headers.
    let response = app
        .clone()
        .oneshot(Request::get("/login").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(response.headers()["referrer-policy"], "no-referrer");
    service.stop().unwrap();
}

#[tokio::test]
async fn the_openapi_document_lists_every_api_route() {
    let doc = serde_json::to_value(openapi::build()).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for route in routes().iter().filter(|r| r.path.starts_with("/api/v1/")) {
        let method = route.method.as_str().to_lowercase();
        assert!(
            doc["paths"][route.path][&method].is_object(),
            "{} {}",
            route.method,
            route.path
        );
    }
    assert_eq!(
        doc["paths"]["/api/v1/meters/{id}"]["get"]["parameters"][0]["name"],
        "id"
    );
}
