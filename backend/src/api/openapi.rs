//! `GET /api/openapi.json`: the OpenAPI 3.1 document of the whole HTTP surface.
//!
//! [`super::router`] and [`super::hooks::routes`] register each handler together with its
//! `#[utoipa::path]` (utoipa-axum's `routes!`), so every route they serve is documented by
//! construction. Their paths are relative to where `crate::app` nests them; [`document`]
//! puts them under `/api` and `/hooks` and adds what `app()` serves itself (`/healthz`,
//! `/metrics`), so each documented path is the one a client calls.

use axum::Extension;
use axum::body::Bytes;
use axum::http::Method;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use shared::api::{ApiErrorBody, RunChange, RunEvent};
use utoipa::OpenApi;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};

use super::hooks;
use crate::access::policy::{self, Need};

/// The security scheme of `/api`, as the document names it.
const TOKEN: &str = "api_token";
/// The operation extension that names the least role a call needs.
const ROLE: &str = "x-weft-role";

/// The fixed parts of the document: info, tags, and the routes `crate::app` serves outside
/// `/api` and `/hooks`.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Weft",
        description = "Weft's HTTP API (SPEC §3): workflow definitions, runs, task queues, \
                       webhooks and operations. Errors are `{\"error\": {\"code\", \"message\", \
                       \"details\"?}}`; request bodies over 1 MiB get 413. Writes take \
                       `Content-Type: application/json` only (415 otherwise) and are refused \
                       (403) when a browser sends them from another origin. A request whose \
                       `Host` the server does not answer for (`--allowed-hosts`) gets 421 on \
                       every path but `/healthz`."
    ),
    paths(healthz, metrics),
    // The data of the SSE streams' events, which the path items cannot name.
    components(schemas(ApiErrorBody, RunEvent, RunChange)),
    tags(
        (name = "workflows", description = "Definitions, validated and saved as versions"),
        (name = "runs", description = "Start, inspect, stream, approve, signal and cancel runs"),
        (name = "tasks", description = "Task queues for workers in any language"),
        (name = "schedules", description = "Cron schedules: list, pause, resume, trigger now, backfill"),
        (name = "hooks", description = "Webhook triggers (outside `/api`, no token)"),
        (name = "access", description = "Signing in, who am I, users, API keys and the audit log"),
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

    #[cfg(test)]
    pub(super) fn bytes(&self) -> Bytes {
        self.0.clone()
    }
}

/// Puts the `/api` paths (each with the role it needs, `access::policy`) and the `/hooks`
/// paths under their prefixes, next to the fixed parts.
pub(super) fn document(mut api: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    for (path, item) in api.paths.paths.iter_mut() {
        let path = format!("/api{path}");
        for (method, op) in [
            (Method::GET, &mut item.get),
            (Method::PUT, &mut item.put),
            (Method::POST, &mut item.post),
            (Method::DELETE, &mut item.delete),
            (Method::OPTIONS, &mut item.options),
            (Method::HEAD, &mut item.head),
            (Method::PATCH, &mut item.patch),
            (Method::TRACE, &mut item.trace),
        ] {
            if let Some(op) = op {
                document_access(op, policy::rule(&method, &path).need);
            }
        }
    }
    let mut doc = Fixed::openapi()
        .nest("/api", api)
        .nest("/hooks", hooks::routes().into_openapi());
    for item in doc.paths.paths.values_mut() {
        for op in [&mut item.put, &mut item.post, &mut item.patch]
            .into_iter()
            .flatten()
        {
            document_write(op);
        }
    }
    // utoipa fills the license from the package's, which is empty.
    doc.info.license = None;
    doc.components.get_or_insert_default().add_security_scheme(
        TOKEN,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "`Authorization: Bearer <credential>`: `WEFT_API_TOKEN` (an admin) or an \
                     API key. A browser signs in instead (`POST /api/auth/login`, the \
                     `weft_session` cookie). With no user, key or token the server is open. \
                     `/hooks`, `/healthz` and `/metrics` never need it.",
                ))
                .build(),
        ),
    );
    doc
}

/// Documents who may call an `/api` operation: its role in the description and in
/// `x-weft-role` (`open` for anyone), and the 401 and 403 of callers who may not.
fn document_access(op: &mut Operation, need: Need) {
    let role = match need {
        Need::Open => "open",
        Need::Role(role) => role.as_str(),
    };
    let mut extensions = Extensions::default();
    extensions.insert(ROLE.to_owned(), role.into());
    op.extensions.get_or_insert_default().merge(extensions);
    // A credential is optional on an open route (the empty requirement), and used if sent.
    let security = op.security.get_or_insert_default();
    if need == Need::Open {
        security.push(SecurityRequirement::default());
    }
    security.push(SecurityRequirement::new(TOKEN, Vec::<String>::new()));
    let Need::Role(role) = need else {
        let note = "Needs no credential.";
        op.description = Some(match op.description.take() {
            Some(d) => format!("{d}\n\n{note}"),
            None => note.to_owned(),
        });
        return;
    };
    let note = format!("Needs the role `{role}` or above.");
    op.description = Some(match op.description.take() {
        Some(d) => format!("{d}\n\n{note}"),
        None => note,
    });
    error_response(
        op,
        "401",
        "The server is not open and the request carries no valid token, key or session",
    );
    error_response(op, "403", "The caller's role is below the one this needs");
}

/// Documents what every write is refused for before its handler runs (`api::json`,
/// `api::guard`).
fn document_write(op: &mut Operation) {
    error_response(
        op,
        "403",
        "A browser sent this write from another origin (`Origin` or `Sec-Fetch-Site`)",
    );
    error_response(
        op,
        "415",
        "The request's `Content-Type` is not `application/json` (a bodiless write needs it too)",
    );
}

/// Adds the `status` response with the JSON error body, unless the route documents its own.
fn error_response(op: &mut Operation, status: &str, description: &str) {
    op.responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| {
            ResponseBuilder::new()
                .description(description)
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
