//! The OpenAPI 3 document of the API, built from the route table ([`super::routes`]), so it
//! lists exactly the routes the server has. Request and response bodies are the
//! `utoipa::ToSchema` schemas of the types the handlers parse and serialize (named on the
//! route with [`super::Route::request`] and [`super::Route::response`]); they are emitted
//! once under `components/schemas` and referred to with `$ref`.

use super::{routes, Access};
use axum::Json;
use std::borrow::Cow;
use std::collections::BTreeMap;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ArrayBuilder, ComponentsBuilder, Content, InfoBuilder, ObjectBuilder, OneOfBuilder, OpenApi,
    OpenApiBuilder, PathsBuilder, Ref, RefOr, Required, ResponseBuilder, Schema, Type,
};

/// A JSON body of a route: the schema of a type that derives `utoipa::ToSchema`, with the
/// schemas it refers to.
#[derive(Clone, Copy)]
pub struct Body {
    /// The type's name under `components/schemas`.
    name: fn() -> Cow<'static, str>,
    /// The type's schema.
    schema: fn() -> RefOr<Schema>,
    /// Adds the schemas the type's schema refers to.
    uses: fn(&mut Vec<(String, RefOr<Schema>)>),
    /// How the body holds the type.
    shape: Shape,
}

/// How a [`Body`] holds its type.
#[derive(Clone, Copy)]
enum Shape {
    /// One value.
    One,
    /// A JSON array of values.
    List,
    /// One value or `null`.
    Nullable,
}

impl Body {
    /// A body of type `T`.
    pub fn of<T: utoipa::ToSchema>() -> Body {
        Body {
            name: T::name,
            schema: T::schema,
            uses: T::schemas,
            shape: Shape::One,
        }
    }

    /// A body that is a JSON array of `T`.
    pub fn list_of<T: utoipa::ToSchema>() -> Body {
        Body {
            shape: Shape::List,
            ..Body::of::<T>()
        }
    }

    /// A body that is `T` or `null`.
    pub fn nullable_of<T: utoipa::ToSchema>() -> Body {
        Body {
            shape: Shape::Nullable,
            ..Body::of::<T>()
        }
    }

    /// The `application/json` content referring to the type, its schemas added to `schemas`.
    fn content(&self, schemas: &mut BTreeMap<String, RefOr<Schema>>) -> Content {
        let name = (self.name)().into_owned();
        let mut used = Vec::new();
        (self.uses)(&mut used);
        schemas.extend(used);
        schemas.insert(name.clone(), (self.schema)());
        let reference = Ref::from_schema_name(name);
        match self.shape {
            Shape::One => Content::new(Some(reference)),
            Shape::List => Content::new(Some(ArrayBuilder::new().items(reference).build())),
            Shape::Nullable => Content::new(Some(RefOr::T(Schema::OneOf(
                OneOfBuilder::new()
                    .item(ObjectBuilder::new().schema_type(Type::Null))
                    .item(reference)
                    .build(),
            )))),
        }
    }
}

/// The document.
pub fn build() -> OpenApi {
    let mut paths = PathsBuilder::new();
    let mut schemas = BTreeMap::new();
    let error = Body::of::<super::api::ApiError>();
    for route in routes().into_iter().filter(|r| r.path.starts_with("/api/")) {
        let method = match route.method.as_str() {
            "POST" => HttpMethod::Post,
            "PUT" => HttpMethod::Put,
            "DELETE" => HttpMethod::Delete,
            _ => HttpMethod::Get,
        };
        let mut success = ResponseBuilder::new().description("Success");
        if let Some(body) = &route.response {
            success = success.content("application/json", body.content(&mut schemas));
        } else if let Some(media_type) = route.produces {
            success = success.content(media_type, Content::new(None::<RefOr<Schema>>));
        }
        let mut op = OperationBuilder::new()
            .summary(Some(route.summary))
            .response(route.success.as_str(), success)
            .response(
                "400",
                ResponseBuilder::new()
                    .description("A parameter or body field is invalid; the body names it")
                    .content("application/json", error.content(&mut schemas)),
            );
        if route.access != Access::Public {
            op = op
                .security(SecurityRequirement::new("session", Vec::<String>::new()))
                .response(
                    "401",
                    ResponseBuilder::new()
                        .description("Not logged in")
                        .content("application/json", error.content(&mut schemas)),
                )
                .response(
                    "403",
                    ResponseBuilder::new()
                        .description(
                            "Missing CSRF token, or the default password must be changed first",
                        )
                        .content("application/json", error.content(&mut schemas)),
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
        if let Some(body) = &route.request {
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .content("application/json", body.content(&mut schemas))
                    .required(Some(Required::True))
                    .build(),
            ));
        }
        paths = paths.path(route.path, PathItem::new(method, op.build()));
    }
    let components = ComponentsBuilder::new()
        .schemas_from_iter(schemas)
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
