//! The workflow calls of SPEC §3 that the designer and the workflows page make, typed, on top
//! of [`crate::api`]'s verbs. The response shapes are the server's (see `GET /api/openapi.json`).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use shared::Diagnostic;
use shared::api::ApiErrorBody;
use shared::model::Workflow;

use crate::api;

/// `GET /api/workflows`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct WorkflowList {
    pub workflows: Vec<WorkflowSummary>,
}

/// One row of the list: the latest version and the last run.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct WorkflowSummary {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub version: i64,
    /// Milliseconds since the epoch.
    pub updated_at: i64,
    #[serde(default)]
    pub last_run: Option<LastRun>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LastRun {
    pub status: String,
    pub created_at: i64,
}

/// `GET /api/workflows/{name}`: the latest version.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StoredWorkflow {
    pub name: String,
    pub version: i64,
    pub definition: Value,
}

/// `PUT /api/workflows/{name}` → 200/201.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Saved {
    pub name: String,
    pub version: i64,
}

/// `POST /api/workflows/{name}/runs` → 201 (or 200 for a repeated `run_id`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StartedRun {
    pub run_id: String,
}

#[derive(Serialize)]
struct StartRun<'a> {
    input: &'a Value,
}

/// A path segment with anything unsafe escaped.
fn segment(name: &str) -> String {
    String::from(js_sys::encode_uri_component(name))
}

pub async fn list() -> api::Result<WorkflowList> {
    api::get_json("/api/workflows").await
}

/// The latest version; `Ok(None)` when there is no such workflow (a new one).
pub async fn get(name: &str) -> api::Result<Option<StoredWorkflow>> {
    match api::get_json(&format!("/api/workflows/{}", segment(name))).await {
        Ok(found) => Ok(Some(found)),
        Err(e) if e.error.code == "not_found" => Ok(None),
        Err(e) => Err(e),
    }
}

/// Why a save failed.
#[derive(Debug, Clone, PartialEq)]
pub enum SaveError {
    /// 422: the server's validator refused it; its findings.
    Invalid(Vec<Diagnostic>),
    Failed(ApiErrorBody),
}

pub async fn save(workflow: &Workflow) -> Result<Saved, SaveError> {
    let url = format!("/api/workflows/{}", segment(&workflow.name));
    api::put_json(&url, workflow).await.map_err(|e| {
        let findings = e
            .error
            .details
            .as_ref()
            .and_then(|d| d.get("diagnostics"))
            .and_then(|d| serde_json::from_value::<Vec<Diagnostic>>(d.clone()).ok());
        match findings {
            Some(findings) => SaveError::Invalid(findings),
            None => SaveError::Failed(e),
        }
    })
}

/// Archives a workflow (`DELETE`); its runs keep their version.
pub async fn archive(name: &str) -> api::Result<Value> {
    api::delete_json(&format!("/api/workflows/{}", segment(name))).await
}

pub async fn start_run(name: &str, input: &Value) -> api::Result<StartedRun> {
    let url = format!("/api/workflows/{}/runs", segment(name));
    api::post_json(&url, &StartRun { input }).await
}
