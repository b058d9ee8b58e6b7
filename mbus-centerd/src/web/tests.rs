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

/// Every `$ref` under `value`.
fn refs(value: &serde_json::Value, found: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::String(r)) = map.get("$ref") {
                found.push(r.clone());
            }
            map.values().for_each(|v| refs(v, found));
        }
        serde_json::Value::Array(list) => list.iter().for_each(|v| refs(v, found)),
        _ => {}
    }
}

#[test]
fn every_json_body_has_a_schema_and_every_reference_resolves() {
    // These take no JSON body: an empty one or a template file.
    let without_json_body = [
        "/api/v1/logout",
        "/api/v1/scan/cancel",
        "/api/v1/uploads/test",
        "/api/v1/templates/import",
        "/api/v1/meters/{id}/template/apply",
    ];
    let doc = serde_json::to_value(openapi::build()).unwrap();
    let table = routes();
    let with_body = table.iter().filter(|r| {
        r.path.starts_with("/api/")
            && (r.method == Method::POST || r.method == Method::PUT)
            && !without_json_body.contains(&r.path)
    });
    let mut count = 0;
    for route in with_body {
        count += 1;
        let method = route.method.as_str().to_lowercase();
        let body = &doc["paths"][route.path][&method]["requestBody"];
        assert_eq!(body["required"], true, "{} {}", route.method, route.path);
        let reference = body["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .unwrap_or_else(|| panic!("{} {} has no request schema", route.method, route.path));
        assert!(
            reference.starts_with("#/components/schemas/"),
            "{reference}"
        );
    }
    assert!(count >= 12, "{count} routes with a JSON body");
    for path in without_json_body {
        assert!(
            table.iter().any(|r| r.path == path),
            "{path} is not a route any more"
        );
    }

    let mut found = Vec::new();
    refs(&doc, &mut found);
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for reference in &found {
        let name = reference.strip_prefix("#/components/schemas/").unwrap();
        assert!(schemas.contains_key(name), "{reference} does not resolve");
    }
    // The serde attributes shape the schemas: renamed variants, skipped and flattened fields.
    assert_eq!(
        doc["components"]["schemas"]["LoggerState"]["enum"],
        serde_json::json!(["idle", "scan", "read", "rs", "err"])
    );
    assert!(doc["components"]["schemas"]["ApiError"]["properties"]["status"].is_null());
    let summary = &doc["paths"]["/api/v1/meters"]["get"]["responses"]["200"]["content"]
        ["application/json"]["schema"];
    assert_eq!(summary["type"], "array");
    assert_eq!(
        summary["items"]["$ref"],
        "#/components/schemas/MeterSummary"
    );
    // A settings section is one of the configuration's sections, each as the configuration
    // has it.
    let sections = &doc["components"]["schemas"]["SettingsSection"]["anyOf"];
    let config = &doc["components"]["schemas"]["Config"]["properties"];
    let expected: Vec<&serde_json::Value> = logger_core::config::SETTINGS_SECTIONS
        .iter()
        .map(|name| &config[*name])
        .collect();
    assert_eq!(
        sections.as_array().unwrap().iter().collect::<Vec<_>>(),
        expected
    );
    assert_eq!(sections[0]["$ref"], "#/components/schemas/General");
    // Success answers other than 200 are documented with their status.
    let added = &doc["paths"]["/api/v1/meters"]["post"]["responses"];
    assert!(added["200"].is_null(), "{added}");
    assert_eq!(
        added["201"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Added"
    );
    assert!(doc["paths"]["/api/v1/logout"]["post"]["responses"]["204"].is_object());
    assert!(doc["paths"]["/api/v1/scan"]["post"]["responses"]["202"].is_object());
    // Every answer is described but this document itself.
    let undescribed: Vec<&str> = table
        .iter()
        .filter(|r| r.path.starts_with("/api/") && r.success != StatusCode::NO_CONTENT)
        .filter(|r| r.response.is_none() && r.produces.is_none())
        .map(|r| r.path)
        .collect();
    assert_eq!(undescribed, ["/api/openapi.json"]);
}

#[test]
fn answers_that_are_not_json_keep_their_media_type() {
    let doc = serde_json::to_value(openapi::build()).unwrap();
    for (path, media_type) in [
        ("/api/v1/export", "application/zip"),
        ("/api/v1/modbus/registers.csv", "text/csv"),
        ("/api/v1/updates", "text/event-stream"),
    ] {
        let content = &doc["paths"][path]["get"]["responses"]["200"]["content"];
        assert!(content[media_type].is_object(), "{path}: {content}");
        assert!(content.get("application/json").is_none(), "{path}");
    }
}
