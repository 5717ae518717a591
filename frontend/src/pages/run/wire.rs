//! The run calls of SPEC §3 the console and the runs page make, typed with the server's own
//! `shared::api` bodies, on top of [`crate::api`]'s verbs. Times are milliseconds since the
//! Unix epoch.

use serde_json::Value;
use shared::api::{
    ApprovalDecided, CancelAccepted, CancelBody, Decision, EventList, PauseBody, RedriveBody,
    RedrivePreview, RedriveStarted, RunDetail, RunEvent, RunList, RunSummary, SignalBody,
    SignalSent, WorkflowVersion,
};
use shared::model::Workflow;

use crate::api::{self, Result};

pub use shared::api::RunStatus;

/// `GET /api/runs` with filters; `cursor` names the page.
pub async fn list_runs(
    workflow: Option<&str>,
    status: Option<RunStatus>,
    cursor: Option<&str>,
    limit: u32,
) -> Result<RunList> {
    let mut query = format!("limit={limit}");
    let mut add = |key: &str, value: &str| {
        let value = String::from(js_sys::encode_uri_component(value));
        query.push_str(&format!("&{key}={value}"));
    };
    if let Some(w) = workflow {
        add("workflow", w);
    }
    if let Some(s) = status {
        add("status", s.as_str());
    }
    if let Some(c) = cursor {
        add("cursor", c);
    }
    api::get_json(&format!("/api/runs?{query}")).await
}

/// `GET /api/runs/{id}`.
pub async fn run(id: &str) -> Result<RunDetail> {
    api::get_json(&format!("/api/runs/{}", encode(id))).await
}

/// `GET /api/runs/{id}/events`: the whole log in one answer. A finished run's page reads it
/// so rather than from its stream, whose thousands of messages each cross into wasm and
/// redraw the page batch after batch.
pub async fn events(id: &str) -> Result<Vec<RunEvent>> {
    let list: EventList = api::get_json(&format!("/api/runs/{}/events", encode(id))).await?;
    Ok(list.events)
}

/// The definition a run is pinned to.
pub async fn definition(workflow: &str, version: i64) -> Result<Workflow> {
    let stored: WorkflowVersion = api::get_json(&format!(
        "/api/workflows/{}/versions/{version}",
        encode(workflow)
    ))
    .await?;
    read_definition(stored)
}

fn read_definition(stored: WorkflowVersion) -> Result<Workflow> {
    serde_json::from_value(stored.definition)
        .map_err(|e| api::local_error("bad_definition", format!("an unreadable definition: {e}")))
}

/// `POST /api/runs/{id}/approvals/{node}`.
pub async fn decide(
    run: &str,
    node: &str,
    approve: bool,
    comment: Option<String>,
    data: Value,
) -> Result<ApprovalDecided> {
    let decision = if approve { "approve" } else { "reject" };
    let body = Decision {
        decision: decision.to_owned(),
        comment,
        data,
    };
    api::post_json(
        &format!("/api/runs/{}/approvals/{}", encode(run), encode(node)),
        &body,
    )
    .await
}

/// `POST /api/runs/{id}/signals/{name}`.
pub async fn signal(run: &str, name: &str, payload: Value) -> Result<SignalSent> {
    api::post_json(
        &format!("/api/runs/{}/signals/{}", encode(run), encode(name)),
        &SignalBody { payload },
    )
    .await
}

/// `POST /api/runs/{id}/cancel`.
pub async fn cancel(run: &str, reason: Option<String>) -> Result<CancelAccepted> {
    api::post_json(
        &format!("/api/runs/{}/cancel", encode(run)),
        &CancelBody { reason },
    )
    .await
}

/// `POST /api/runs/{id}/pause`.
pub async fn pause(run: &str) -> Result<RunSummary> {
    api::post_json(
        &format!("/api/runs/{}/pause", encode(run)),
        &PauseBody::default(),
    )
    .await
}

/// `POST /api/runs/{id}/resume`.
pub async fn resume(run: &str) -> Result<RunSummary> {
    api::post_json(
        &format!("/api/runs/{}/resume", encode(run)),
        &PauseBody::default(),
    )
    .await
}

/// `POST /api/runs/{id}/redrive` as a dry run: what the redrive would reuse and run.
pub async fn redrive_preview(run: &str, body: &RedriveBody) -> Result<RedrivePreview> {
    let body = RedriveBody {
        dry_run: true,
        ..body.clone()
    };
    api::post_json(&format!("/api/runs/{}/redrive", encode(run)), &body).await
}

/// `POST /api/runs/{id}/redrive`: starts the new run.
pub async fn redrive(run: &str, body: &RedriveBody) -> Result<RedriveStarted> {
    let body = RedriveBody {
        dry_run: false,
        ..body.clone()
    };
    api::post_json(&format!("/api/runs/{}/redrive", encode(run)), &body).await
}

/// `GET /api/workflows/{name}`: the latest version and its definition.
pub async fn latest(workflow: &str) -> Result<(i64, Workflow)> {
    let stored: WorkflowVersion =
        api::get_json(&format!("/api/workflows/{}", encode(workflow))).await?;
    let version = stored.version;
    Ok((version, read_definition(stored)?))
}

/// The run's event stream after event `seq` (0: from the start), for an `EventSource` (the
/// token rides in the query).
pub fn stream_path_after(run: &str, seq: i64) -> String {
    let path = format!("/api/runs/{}/stream", encode(run));
    if seq > 0 {
        api::stream_url(&format!("{path}?last_event_id={seq}"))
    } else {
        api::stream_url(&path)
    }
}

/// The runs feed, optionally for one workflow.
pub fn feed_path(workflow: Option<&str>) -> String {
    match workflow {
        Some(w) => api::stream_url(&format!("/api/runs/stream?workflow={}", encode(w))),
        None => api::stream_url("/api/runs/stream"),
    }
}

fn encode(segment: &str) -> String {
    String::from(js_sys::encode_uri_component(segment))
}

/// Events as the API serves them (a JSON array of `RunEvent`s), as recorded: for tests.
#[cfg(test)]
pub(crate) fn recorded(events: serde_json::Value) -> Vec<shared::event::Recorded> {
    serde_json::from_value::<Vec<shared::api::RunEvent>>(events)
        .unwrap()
        .iter()
        .map(|e| e.recorded().unwrap())
        .collect()
}
