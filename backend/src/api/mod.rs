//! The HTTP API of SPEC §3. **Architecture Invariant:** only this module knows HTTP and JSON
//! shapes; handlers translate requests into engine and store calls.

pub mod auth;
pub mod error;
pub mod hooks;
pub mod json;
mod runs;
mod tasks;
mod validate;
mod workflows;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};

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

/// Everything under `/api`, with a JSON 404 for paths it does not serve.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/validate", post(validate::validate_definition))
        .route("/workflows", get(workflows::list_workflows))
        .route(
            "/workflows/{name}",
            put(workflows::save_workflow)
                .get(workflows::get_workflow)
                .delete(workflows::archive_workflow),
        )
        .route(
            "/workflows/{name}/versions/{version}",
            get(workflows::get_workflow_version),
        )
        .route("/workflows/{name}/runs", post(runs::create_run))
        .route("/runs", get(runs::list_runs))
        .route("/runs/{id}", get(runs::get_run))
        .route("/runs/{id}/events", get(runs::run_events))
        .route("/runs/{id}/stream", get(runs::stream_run))
        .route("/runs/{id}/approvals/{node}", post(runs::decide_approval))
        .route("/runs/{id}/signals/{name}", post(runs::send_signal))
        .route("/runs/{id}/cancel", post(runs::cancel_run))
        .route("/queues/{queue}/poll", post(tasks::poll_queue))
        .route("/tasks/{token}/complete", post(tasks::complete_task))
        .route("/tasks/{token}/fail", post(tasks::fail_task))
        .route("/tasks/{token}/heartbeat", post(tasks::heartbeat_task))
        .fallback(|| async { Error::NotFound("no such API endpoint".to_owned()) })
        .method_not_allowed_fallback(|| async { Error::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(json::MAX_BODY))
}
