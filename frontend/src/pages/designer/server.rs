//! The workflow calls of SPEC §3 that the designer, the workflows page and the start-run
//! dialog make, typed with the server's own `shared::api` bodies, on top of [`crate::api`]'s
//! verbs.

use serde_json::Value;
use shared::Diagnostic;
use shared::api::{
    ApiErrorBody, ArchivedWorkflow, RunSummary, SavedWorkflow, StartRun, VersionList, WorkflowList,
    WorkflowVersion,
};
use shared::model::Workflow;

use crate::api;

/// A path segment with anything unsafe escaped.
fn segment(name: &str) -> String {
    String::from(js_sys::encode_uri_component(name))
}

pub async fn list() -> api::Result<WorkflowList> {
    api::get_json("/api/workflows").await
}

/// The names of every workflow, for a picker.
pub async fn workflow_names() -> api::Result<Vec<String>> {
    Ok(list()
        .await?
        .workflows
        .into_iter()
        .map(|w| w.name)
        .collect())
}

/// The latest version; `Ok(None)` when there is no such workflow (a new one).
pub async fn get(name: &str) -> api::Result<Option<WorkflowVersion>> {
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

/// Saves `workflow` as its next version, with `message` (said at save, kept in its history).
pub async fn save(workflow: &Workflow, message: Option<&str>) -> Result<SavedWorkflow, SaveError> {
    let mut url = format!("/api/workflows/{}", segment(&workflow.name));
    if let Some(message) = message.map(str::trim).filter(|m| !m.is_empty()) {
        url.push_str("?message=");
        url.push_str(&segment(message));
    }
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

/// One page of a workflow's versions, newest first, older than `before` when given.
pub async fn versions(name: &str, before: Option<i64>) -> api::Result<VersionList> {
    let mut url = format!("/api/workflows/{}/versions", segment(name));
    if let Some(before) = before {
        url.push_str(&format!("?before={before}"));
    }
    api::get_json(&url).await
}

/// One saved version with its definition.
pub async fn version(name: &str, version: i64) -> api::Result<WorkflowVersion> {
    api::get_json(&format!(
        "/api/workflows/{}/versions/{version}",
        segment(name)
    ))
    .await
}

/// Archives a workflow (`DELETE`); its runs keep their version.
pub async fn archive(name: &str) -> api::Result<ArchivedWorkflow> {
    api::delete_json(&format!("/api/workflows/{}", segment(name))).await
}

pub async fn start_run(name: &str, input: Value) -> api::Result<RunSummary> {
    let url = format!("/api/workflows/{}/runs", segment(name));
    api::post_json(
        &url,
        &StartRun {
            input,
            run_id: None,
        },
    )
    .await
}
