//! `GET /api/openapi.json`: the OpenAPI 3.1 document of the whole HTTP surface.
//!
//! [`super::router`] and [`super::hooks::routes`] register each handler together with its
//! `#[utoipa::path]` (utoipa-axum's `routes!`), so every route they serve is documented by
//! construction. Their paths are relative to where `crate::app` nests them; [`document`]
//! puts them under `/api` and `/hooks` and adds what `app()` serves itself (`/healthz`,
//! `/metrics`), so each documented path is the one a client calls.

use axum::Extension;
use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use shared::api::{ApiErrorBody, RunChange, RunEvent};
use utoipa::OpenApi;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};

use super::hooks;

/// The security scheme of `/api`, as the document names it.
const TOKEN: &str = "api_token";

/// The fixed parts of the document: info, tags, and the routes `crate::app` serves outside
/// `/api` and `/hooks`.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Weft",
        description = "Weft's HTTP API (SPEC §3): workflow definitions, runs, task queues, \
                       webhooks and operations. Errors are `{\"error\": {\"code\", \"message\", \
                       \"details\"?}}`; request bodies over 1 MiB get 413."
    ),
    paths(healthz, metrics),
    // The data of the SSE streams' events, which the path items cannot name.
    components(schemas(ApiErrorBody, RunEvent, RunChange)),
    tags(
        (name = "workflows", description = "Definitions, validated and saved as versions"),
        (name = "runs", description = "Start, inspect, stream, approve, signal and cancel runs"),
        (name = "tasks", description = "Task queues for workers in any language"),
        (name = "hooks", description = "Webhook triggers (outside `/api`, no token)"),
        (name = "operations", description = "Health, metrics and this document"),
    )
)]
struct Fixed;

/// Is the server up?
///
/// Needs no token.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses((status = 200, description = "`ok`", content_type = "text/plain", body = String)),
)]
#[expect(
    dead_code,
    reason = "documents a route `crate::app` serves; never called"
)]
fn healthz() {}

/// Metrics in the Prometheus text format
///
/// Runs, attempts, step latency, queue depths, SSE clients and commit sizes. Needs no token.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain", body = String)),
)]
#[expect(
    dead_code,
    reason = "documents a route `crate::app` serves; never called"
)]
fn metrics() {}

/// The serialized document, handed to [`openapi_json`] as an extension: it exists only once
/// the router that serves it has been built.
#[derive(Clone)]
pub(super) struct Document(Bytes);

impl Document {
    /// The whole document, from the paths of the `/api` router (relative to `/api`).
    pub(super) fn new(api: utoipa::openapi::OpenApi) -> Self {
        let json = document(api)
            .to_json()
            .expect("the OpenAPI document serializes");
        Document(Bytes::from(json))
    }
}

/// Puts the `/api` paths (behind the token) and the `/hooks` paths under their prefixes, next
/// to the fixed parts.
pub(super) fn document(mut api: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    for item in api.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ]
        .into_iter()
        .flatten()
        {
            require_token(op);
        }
    }
    let mut doc = Fixed::openapi()
        .nest("/api", api)
        .nest("/hooks", hooks::routes().into_openapi());
    // utoipa fills the license from the package's, which is empty.
    doc.info.license = None;
    doc.components.get_or_insert_default().add_security_scheme(
        TOKEN,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "`Authorization: Bearer <token>`, required on every `/api` call when the \
                     server runs with `WEFT_API_TOKEN` (otherwise `/api` is open). \
                     `/hooks`, `/healthz` and `/metrics` never need it.",
                ))
                .build(),
        ),
    );
    doc
}

/// Marks an `/api` operation as needing the token, and documents the 401 without it.
fn require_token(op: &mut Operation) {
    op.security
        .get_or_insert_default()
        .push(SecurityRequirement::new(TOKEN, Vec::<String>::new()));
    op.responses
        .responses
        .entry("401".to_owned())
        .or_insert_with(|| {
            ResponseBuilder::new()
                .description("`WEFT_API_TOKEN` is set and the request does not carry it")
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ApiErrorBody")))
                        .build(),
                )
                .build()
                .into()
        });
}

/// This document
///
/// OpenAPI 3.1, generated from the handlers' types.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document of this server", body = Object)),
)]
pub(super) async fn openapi_json(
    Extension(Document(json)): Extension<Document>,
) -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], json)
}
