//! Webhook triggers (SPEC §3, `POST /hooks/{name}`): another service starts a run by posting
//! JSON, as with n8n's webhook node. They live outside `/api` so senders need no API token;
//! instead a definition that names a secret only accepts deliveries signed with it.

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::{Json, Router};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;
use shared::api::{ApiErrorBody, HookAccepted};
use shared::model::WebhookTrigger;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::Error;
use super::json::{self, Params};
use super::runs::{RunId, start_run};
use crate::AppState;
use crate::engine::activity::{HOOK_KEY_PREFIX, Secrets};

/// Carries `sha256=<hex HMAC-SHA256 of the raw body>`, keyed with the webhook's secret.
const SIGNATURE: &str = "x-weft-signature";

/// `/{name}`, nested under `/hooks`, with JSON errors for every other path and method, and a
/// 415 for deliveries that are not `application/json`.
pub fn router() -> Router<AppState> {
    let (router, _) = routes().split_for_parts();
    router
        .route_layer(axum::middleware::from_fn(json::require_json))
        .fallback(|| async { Error::NotFound("no such webhook".to_owned()) })
        .method_not_allowed_fallback(|| async { Error::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(json::MAX_BODY))
}

/// The routes with their OpenAPI paths, relative to `/hooks`: [`router`] serves them and
/// `GET /api/openapi.json` documents them.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::default().routes(routes!(trigger_workflow))
}

/// Start a run from a webhook delivery
///
/// Starts a run of the latest version of `name` with the body as its input. The
/// `Idempotency-Key` header becomes the run id, so a redelivery starts nothing new. Needs no
/// API token; a definition that names a webhook secret only accepts deliveries signed with it.
#[utoipa::path(
    post,
    path = "/{name}",
    tag = "hooks",
    params(
        ("name" = String, Path, description = "The workflow's name; its definition must have a webhook trigger"),
        ("Idempotency-Key" = Option<String>, Header, description = "Becomes the `run_id`: 1-200 characters of `[A-Za-z0-9-_.:]`, not `.` or `..`"),
        ("X-Weft-Signature" = Option<String>, Header, description = "`sha256=<hex HMAC-SHA256 of the raw body>`, keyed with `WEFT_HOOK_SECRET_<SECRET>`; required when the trigger names a secret"),
    ),
    request_body(content = Option<Value>, description = "Any JSON: the run's input (an empty body is `{}`)"),
    responses(
        (status = 202, description = "A new run, or the one with this `Idempotency-Key` and input", body = HookAccepted),
        (status = 400, description = "The body is not JSON, or an `Idempotency-Key` that is empty, `.`, `..`, over 200 bytes or holds a character other than `[A-Za-z0-9-_.:]`", body = ApiErrorBody),
        (status = 401, description = "The signature is missing or does not match the body", body = ApiErrorBody),
        (status = 404, description = "No such workflow, it is archived, or it has no webhook trigger", body = ApiErrorBody),
        (status = 409, description = "A run with this `Idempotency-Key` exists with a different input", body = ApiErrorBody),
        (status = 413, description = "The body is over 1 MiB", body = ApiErrorBody),
        (status = 422, description = "The input does not match the workflow's `input_schema`", body = ApiErrorBody),
        (status = 503, description = "The trigger's secret is not set on the server (`WEFT_HOOK_SECRET_<SECRET>`)", body = ApiErrorBody),
    ),
)]
async fn trigger_workflow(
    State(app): State<AppState>,
    Params(name): Params<String>,
    headers: HeaderMap,
    req: Request,
) -> Result<(StatusCode, Json<HookAccepted>), Error> {
    let hook = webhook(&app, &name).await?;
    let body = json::raw(req, &app).await?;
    if let Some(secret) = &hook.secret {
        verify_signature(&app.hook_keys, secret, &headers, &body)?;
    }
    let input: Value = json::parse(&body)?;
    let run_id = headers
        .get("idempotency-key")
        .map(|v| {
            let key = v.to_str().map_err(|_| {
                Error::BadRequest("Idempotency-Key must be visible ASCII characters".into())
            })?;
            RunId::given("Idempotency-Key", key.trim().to_owned())
        })
        .transpose()?;
    let (_, Json(run)) = start_run(&app, &name, input, run_id, None).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(HookAccepted { run_id: run.run_id }),
    ))
}

/// The webhook trigger of the latest, unarchived version of `name`. A workflow without one
/// has no webhook, as in n8n: 404.
async fn webhook(app: &AppState, name: &str) -> Result<WebhookTrigger, Error> {
    let not_found = || Error::NotFound(format!("workflow `{name}` not found"));
    let stored = app
        .store
        .workflow(name, None)
        .await?
        .filter(|w| !w.archived)
        .ok_or_else(not_found)?;
    let plan = app
        .engine
        .plans
        .get(name, stored.version)
        .await?
        .ok_or_else(not_found)?;
    plan.workflow
        .triggers
        .as_ref()
        .and_then(|t| t.webhook.clone())
        .ok_or_else(|| Error::NotFound(format!("workflow `{name}` has no webhook trigger")))
}

/// Checks `X-Weft-Signature` against the HMAC-SHA256 of `body` keyed with
/// `WEFT_HOOK_SECRET_<secret>`, in constant time. A key the server does not have is the
/// operator's mistake: 503.
fn verify_signature(
    keys: &Secrets,
    secret: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), Error> {
    let key = keys.get(secret).filter(|k| !k.is_empty()).ok_or_else(|| {
        Error::Unavailable(format!(
            "this webhook is signed with the server's environment variable \
             {HOOK_KEY_PREFIX}{secret}, which is not set (webhook keys are kept apart from the \
             WEFT_SECRET_* values templates read)"
        ))
    })?;
    let header = headers.get(SIGNATURE).ok_or_else(|| {
        Error::Unauthorized(
            "missing X-Weft-Signature: sha256=<hex HMAC-SHA256 of the body>".to_owned(),
        )
    })?;
    let wrong = || Error::Unauthorized("X-Weft-Signature does not match the body".to_owned());
    let given = header
        .to_str()
        .ok()
        .and_then(|v| v.trim().strip_prefix("sha256="))
        .and_then(|hex| hex::decode(hex).ok())
        .ok_or_else(wrong)?;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    mac.verify_slice(&given).map_err(|_| wrong())
}
