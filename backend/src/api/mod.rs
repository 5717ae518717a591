//! The HTTP API of SPEC §3. **Architecture Invariant:** only this module knows HTTP and JSON
//! shapes; handlers translate requests into engine and store calls.
//!
//! Each route is registered together with its `#[utoipa::path]` doc, so `GET /api/openapi.json`
//! ([`openapi`]) documents every route the router serves.

mod approvals;
mod audit;
mod bulk;
pub mod error;
mod find;
pub mod guard;
pub mod hooks;
pub mod json;
mod keys;
mod openapi;
mod operate;
mod runs;
mod schedules;
mod secrets;
mod session;
mod streams;
mod tasks;
mod test_runs;
pub mod testing;
mod users;
mod validate;
mod workflows;

use axum::extract::DefaultBodyLimit;
use axum::{Extension, Router};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use error::Error;

/// No API call runs longer than this; a poll waits at most 30 s and a stream's response
/// starts at once (its body is not limited).
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(45);

/// The request timeout of `/api` and `/hooks`: a JSON 503 when a handler takes too long.
pub async fn deadline(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => Error::Unavailable(format!(
            "the request took longer than {} s",
            REQUEST_TIMEOUT.as_secs()
        ))
        .into_response(),
    }
}

/// Everything under `/api`, with a JSON 404 for paths it does not serve and a JSON 405 for
/// methods a path does not take, and a 415 for writes that are not JSON. Paths are relative
/// to `/api`, where `crate::app` nests it.
pub fn router() -> Router<AppState> {
    let (router, api) = parts();
    router
        .route_layer(axum::middleware::from_fn(json::require_json))
        .fallback(|| async { Error::NotFound("no such API endpoint".to_owned()) })
        .method_not_allowed_fallback(|| async { Error::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(json::MAX_BODY))
        .layer(Extension(openapi::Document::new(api)))
}

/// The serialized OpenAPI document, without a server (the policy table's test reads it).
#[cfg(test)]
pub(crate) fn openapi_bytes() -> axum::body::Bytes {
    openapi::Document::new(parts().1).bytes()
}

/// The routes with their documentation.
fn parts() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::default()
        .routes(routes!(validate::validate_definition))
        .routes(routes!(workflows::list_workflows))
        .routes(routes!(
            workflows::save_workflow,
            workflows::get_workflow,
            workflows::archive_workflow
        ))
        .routes(routes!(workflows::list_versions))
        .routes(routes!(workflows::get_workflow_version))
        .routes(routes!(runs::create_run))
        .routes(routes!(test_runs::create_test_run))
        .routes(routes!(secrets::secret_names))
        .routes(routes!(runs::list_runs))
        .routes(routes!(runs::get_run))
        .routes(routes!(runs::run_events))
        .routes(routes!(streams::stream_run))
        .routes(routes!(streams::stream_runs))
        .routes(routes!(approvals::decide_approval))
        .routes(routes!(approvals::list_approvals))
        .routes(routes!(runs::send_signal))
        .routes(routes!(runs::cancel_run))
        .routes(routes!(operate::pause_run))
        .routes(routes!(operate::resume_run))
        .routes(routes!(operate::redrive_run))
        .routes(routes!(bulk::bulk_runs))
        .routes(routes!(bulk::get_batch))
        .routes(routes!(tasks::poll_queue))
        .routes(routes!(tasks::complete_task))
        .routes(routes!(tasks::fail_task))
        .routes(routes!(tasks::heartbeat_task))
        .routes(routes!(schedules::list_schedules))
        .routes(routes!(schedules::pause_schedule))
        .routes(routes!(schedules::resume_schedule))
        .routes(routes!(schedules::trigger_schedule))
        .routes(routes!(schedules::backfill_schedule))
        .routes(routes!(openapi::openapi_json))
        .routes(routes!(session::me))
        .routes(routes!(session::login))
        .routes(routes!(session::logout))
        .routes(routes!(session::oidc_login))
        .routes(routes!(session::oidc_callback))
        .routes(routes!(users::list_users, users::add_user))
        .routes(routes!(users::change_user, users::remove_user))
        .routes(routes!(keys::list_keys, keys::create_key))
        .routes(routes!(keys::revoke_key))
        .routes(routes!(audit::audit_log))
        .split_for_parts()
}
