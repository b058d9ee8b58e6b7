//! The OpenAPI 3 document of the API, built from the route table ([`super::routes`]), so it
//! lists exactly the routes the server has.

use super::{routes, Access};
use axum::Json;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, Required,
    ResponseBuilder,
};

/// The document.
pub fn build() -> OpenApi {
    let mut paths = PathsBuilder::new();
    for route in routes().into_iter().filter(|r| r.path.starts_with("/api/")) {
        let method = match route.method.as_str() {
            "POST" => HttpMethod::Post,
            "PUT" => HttpMethod::Put,
            "DELETE" => HttpMethod::Delete,
            _ => HttpMethod::Get,
        };
        let mut op = OperationBuilder::new()
            .summary(Some(route.summary))
            .response(
                "200",
                ResponseBuilder::new().description("Success (JSON unless stated)"),
            )
            .response(
                "400",
                ResponseBuilder::new()
                    .description("A parameter or body field is invalid; the body names it"),
            );
        if route.access != Access::Public {
            op = op
                .security(SecurityRequirement::new("session", Vec::<String>::new()))
                .response("401", ResponseBuilder::new().description("Not logged in"))
                .response(
                    "403",
                    ResponseBuilder::new().description(
                        "Missing CSRF token, or the default password must be changed first",
                    ),
                );
        }
        for segment in route.path.split('/') {
            if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                op = op.parameter(
                    ParameterBuilder::new()
                        .name(name)
                        .parameter_in(ParameterIn::Path)
                        .required(Required::True),
                );
            }
        }
        for (name, description) in route.query {
            op = op.parameter(
                ParameterBuilder::new()
                    .name(*name)
                    .parameter_in(ParameterIn::Query)
                    .required(Required::False)
                    .description(Some(*description)),
            );
        }
        paths = paths.path(route.path, PathItem::new(method, op.build()));
    }
    let components = ComponentsBuilder::new()
        .security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                super::auth::SESSION_COOKIE,
            ))),
        )
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("mbus-centerd REST API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Log in with POST /api/v1/login; send the csrf_token of its answer as X-CSRF-Token with every POST.",
                ))
                .build(),
        )
        .paths(paths.build())
        .components(Some(components))
        .build()
}

/// `GET /api/openapi.json`.
pub async fn document() -> Json<OpenApi> {
    Json(build())
}
