//! Workflow definitions: save as versions, list, read, archive.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use shared::api::{
    ApiErrorBody, ArchivedWorkflow, LastRun, SavedWorkflow, WorkflowList, WorkflowSummary,
    WorkflowVersion,
};
use shared::model::Workflow;
use shared::validate::{Diagnostic, Severity, check_children, is_valid, valid_workflow_name};

use super::error::Error;
use super::json::{Body, Params};
use super::runs::run_status;
use crate::AppState;

use crate::store::StoredWorkflow;

/// The findings `unknown_workflow` of `wf`: a `subflow` or `map` naming a workflow (or a
/// pinned version) that is not saved, or is archived.
async fn unknown_children(app: &AppState, wf: &Workflow) -> Result<Vec<Diagnostic>, Error> {
    let mut known = Vec::new();
    for name in wf.child_workflows() {
        if let Some(latest) = app.store.workflow(name, None).await?
            && !latest.archived
        {
            known.push((name.to_owned(), latest.version));
        }
    }
    Ok(check_children(
        wf,
        |name, version| {
            known
                .iter()
                .any(|(n, latest)| n == name && version.is_none_or(|v| (1..=*latest).contains(&v)))
        },
        Severity::Error,
    ))
}

/// Save a definition as a new version
///
/// `201` for a new version, `200` with the same version when the definition is unchanged,
/// `422` with the validator's findings when it is invalid. The definition's `name`, if any,
/// must be the one in the path.
#[utoipa::path(
    put,
    path = "/workflows/{name}",
    tag = "workflows",
    params(("name" = String, Path, description = "The workflow's name")),
    request_body(content = Object, description = "A workflow definition (`weft/v1`, SPEC §1)"),
    responses(
        (status = 201, description = "Saved as a new version", body = SavedWorkflow),
        (status = 200, description = "Unchanged: the latest version", body = SavedWorkflow),
        (status = 400, description = "Not JSON, not an object, a malformed name, or a `name` other than the path's", body = ApiErrorBody),
        (status = 413, description = "The body is over 1 MiB", body = ApiErrorBody),
        (status = 422, description = "The definition is invalid, or a `subflow` or `map` node names a workflow that does not exist (`unknown_workflow`); `details.diagnostics` lists every finding", body = ApiErrorBody),
    ),
)]
pub(super) async fn save_workflow(
    State(app): State<AppState>,
    Params(name): Params<String>,
    Body(mut obj): Body<Map<String, Value>>,
) -> Result<(StatusCode, Json<SavedWorkflow>), Error> {
    if !valid_workflow_name(&name) {
        return Err(Error::BadRequest(format!(
            "workflow name `{name}` must match [a-z0-9][a-z0-9_-]{{0,62}}"
        )));
    }
    match obj.get("name") {
        None => {
            obj.insert("name".into(), Value::String(name.clone()));
        }
        Some(Value::String(n)) if *n == name => {}
        Some(other) => {
            return Err(Error::BadRequest(format!(
                "the definition's name {other} differs from `{name}` in the path"
            )));
        }
    }
    let def = Value::Object(obj);
    let (wf, diagnostics) = super::validate::off_runtime(def).await?;
    if !is_valid(&diagnostics) || wf.is_none() {
        return Err(Error::Unprocessable {
            message: "the definition is invalid".into(),
            details: json!({ "diagnostics": diagnostics }),
        });
    }
    let wf = wf.expect("checked");
    let unknown = unknown_children(&app, &wf).await?;
    if !unknown.is_empty() {
        return Err(Error::Unprocessable {
            message: "the definition starts children of a workflow that does not exist".into(),
            details: json!({ "diagnostics": unknown }),
        });
    }
    // Store the canonical form so an unchanged save compares equal whatever the key order.
    let canonical = serde_json::to_value(&wf).map_err(anyhow::Error::from)?;
    let now = app.engine.clock.now();
    let (version, created) = app.store.save_workflow(&name, &canonical, now).await?;
    // The schedules follow the latest version (also an unchanged save: it un-archives).
    crate::schedules::sync(&app.store, &name, version, Some(&wf), now).await?;
    app.schedules.wake();
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(SavedWorkflow {
            name,
            version,
            diagnostics,
        }),
    ))
}

/// List workflows
///
/// The latest version of every workflow that is not archived, with its last run.
#[utoipa::path(
    get,
    path = "/workflows",
    tag = "workflows",
    responses(
        (status = 200, description = "Every workflow that is not archived", body = WorkflowList),
    ),
)]
pub(super) async fn list_workflows(
    State(app): State<AppState>,
) -> Result<Json<WorkflowList>, Error> {
    let list = app.store.list_workflows().await?;
    let mut workflows = Vec::with_capacity(list.len());
    for w in list {
        let last_run = match (w.last_run_status, w.last_run_at) {
            (Some(status), Some(created_at)) => Some(LastRun {
                status: run_status(&status)?,
                created_at,
            }),
            _ => None,
        };
        workflows.push(WorkflowSummary {
            name: w.name,
            version: w.version,
            description: w.description,
            updated_at: w.updated_at,
            last_run,
        });
    }
    Ok(Json(WorkflowList { workflows }))
}

fn view(w: StoredWorkflow) -> Json<WorkflowVersion> {
    Json(WorkflowVersion {
        name: w.name,
        version: w.version,
        archived: w.archived,
        created_at: w.created_at,
        definition: w.definition,
    })
}

/// Get a workflow's latest version
#[utoipa::path(
    get,
    path = "/workflows/{name}",
    tag = "workflows",
    params(("name" = String, Path, description = "The workflow's name")),
    responses(
        (status = 200, description = "The version and its definition", body = WorkflowVersion),
        (status = 404, description = "No such workflow, or it is archived", body = ApiErrorBody),
    ),
)]
pub(super) async fn get_workflow(
    State(app): State<AppState>,
    Params(name): Params<String>,
) -> Result<Json<WorkflowVersion>, Error> {
    match app.store.workflow(&name, None).await? {
        Some(w) if !w.archived => Ok(view(w)),
        _ => Err(Error::NotFound(format!("workflow `{name}` not found"))),
    }
}

/// Get one version of a workflow
///
/// Archived workflows keep their versions, so runs pinned to them stay readable.
#[utoipa::path(
    get,
    path = "/workflows/{name}/versions/{version}",
    tag = "workflows",
    params(("name" = String, Path, description = "The workflow's name"), ("version" = i64, Path, description = "The version number, from 1")),
    responses(
        (status = 200, description = "The version and its definition", body = WorkflowVersion),
        (status = 400, description = "The version is not an integer", body = ApiErrorBody),
        (status = 404, description = "No such workflow or version", body = ApiErrorBody),
    ),
)]
pub(super) async fn get_workflow_version(
    State(app): State<AppState>,
    Params((name, version)): Params<(String, i64)>,
) -> Result<Json<WorkflowVersion>, Error> {
    match app.store.workflow(&name, Some(version)).await? {
        Some(w) => Ok(view(w)),
        None => Err(Error::NotFound(format!(
            "workflow `{name}` has no version {version}"
        ))),
    }
}

/// Archive a workflow
///
/// It disappears from the list and can start no runs; its versions and runs stay. Its
/// schedules stop and disappear.
#[utoipa::path(
    delete,
    path = "/workflows/{name}",
    tag = "workflows",
    params(("name" = String, Path, description = "The workflow's name")),
    responses(
        (status = 200, description = "Archived", body = ArchivedWorkflow),
        (status = 404, description = "No such workflow", body = ApiErrorBody),
    ),
)]
pub(super) async fn archive_workflow(
    State(app): State<AppState>,
    Params(name): Params<String>,
) -> Result<Json<ArchivedWorkflow>, Error> {
    if app.store.archive_workflow(&name).await? {
        // An archived workflow's schedules go with it (a save brings them back, unpaused).
        crate::schedules::sync(&app.store, &name, 0, None, app.engine.clock.now()).await?;
        app.schedules.wake();
        Ok(Json(ArchivedWorkflow {
            name,
            archived: true,
        }))
    } else {
        Err(Error::NotFound(format!("workflow `{name}` not found")))
    }
}
