//! The run API's wire shapes as the console reads them (SPEC §3 and the runs feed), and the
//! typed calls on top of [`crate::api`]'s verbs. Times are milliseconds since the Unix epoch.

use serde::Deserialize;
use serde_json::Value;
use shared::model::Workflow;

use crate::api::{self, Result};

pub use shared::api::RunStatus;

/// One row of `GET /api/runs`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RunSummary {
    pub id: String,
    pub workflow: String,
    pub version: i64,
    pub status: RunStatus,
    pub created_at: i64,
    pub updated_at: i64,
}

/// `GET /api/runs` → one page, newest first.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RunList {
    pub runs: Vec<RunSummary>,
    /// Where the next (older) page starts; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// `event: run` of `GET /api/runs/stream`: a commit touched this run.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RunChange {
    pub id: String,
    pub status: RunStatus,
    /// Set only for the commit that created the run.
    pub created_at: Option<i64>,
    pub updated_at: i64,
}

/// The part of `GET /api/runs/{id}` the console needs before the history arrives: which
/// definition to draw.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RunHead {
    pub id: String,
    pub workflow: String,
    pub version: i64,
}

/// `GET /api/workflows/{name}/versions/{v}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StoredVersion {
    pub definition: Workflow,
}

/// One row of `GET /api/workflows`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct WorkflowSummary {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct WorkflowList {
    workflows: Vec<WorkflowSummary>,
}

/// `POST /api/workflows/{name}/runs` → 201.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Started {
    pub run_id: String,
}

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

pub async fn run_head(id: &str) -> Result<RunHead> {
    api::get_json(&format!("/api/runs/{}", encode(id))).await
}

pub async fn definition(workflow: &str, version: i64) -> Result<Workflow> {
    let stored: StoredVersion = api::get_json(&format!(
        "/api/workflows/{}/versions/{version}",
        encode(workflow)
    ))
    .await?;
    Ok(stored.definition)
}

pub async fn workflow_names() -> Result<Vec<String>> {
    let list: WorkflowList = api::get_json("/api/workflows").await?;
    Ok(list.workflows.into_iter().map(|w| w.name).collect())
}

pub async fn start_run(workflow: &str, input: &Value) -> Result<Started> {
    api::post_json(
        &format!("/api/workflows/{}/runs", encode(workflow)),
        &serde_json::json!({ "input": input }),
    )
    .await
}

/// `POST /api/runs/{id}/approvals/{node}`.
pub async fn decide(
    run: &str,
    node: &str,
    approve: bool,
    comment: Option<String>,
) -> Result<Value> {
    let decision = if approve { "approve" } else { "reject" };
    let mut body = serde_json::json!({ "decision": decision });
    if let Some(c) = comment {
        body["comment"] = Value::String(c);
    }
    api::post_json(
        &format!("/api/runs/{}/approvals/{}", encode(run), encode(node)),
        &body,
    )
    .await
}

/// `POST /api/runs/{id}/signals/{name}`.
pub async fn signal(run: &str, name: &str, payload: Value) -> Result<Value> {
    api::post_json(
        &format!("/api/runs/{}/signals/{}", encode(run), encode(name)),
        &serde_json::json!({ "payload": payload }),
    )
    .await
}

/// `POST /api/runs/{id}/cancel`.
pub async fn cancel(run: &str, reason: Option<String>) -> Result<Value> {
    let body = match reason {
        Some(r) => serde_json::json!({ "reason": r }),
        None => serde_json::json!({}),
    };
    api::post_json(&format!("/api/runs/{}/cancel", encode(run)), &body).await
}

/// The run's event stream, for an `EventSource` (the token rides in the query).
pub fn stream_path(run: &str) -> String {
    api::stream_url(&format!("/api/runs/{}/stream", encode(run)))
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
