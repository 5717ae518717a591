//! `POST /api/test-runs` (SPEC §6 "Test runs"): runs a definition the designer has not
//! saved, with some side-effecting nodes stubbed and an optional node to stop after.
//!
//! The definition is validated as a save would be, then stored as version 1 of a hidden,
//! archived name ([`crate::store::test_name`]), so the run is pinned to a stored version like
//! any other and the engine, the run page and recovery need nothing new. What makes it a
//! test run (its stubs and `until`) is recorded in its `run_started`; `decide` completes a
//! stubbed node with its stub in the same fold and commit as any node, and nothing acts.

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde_json::{Value, json};
use shared::api::{ApiErrorBody, StartTestRun, TestRunStarted};
use shared::event::TestRun;
use shared::model::Workflow;
use shared::validate::is_valid;

use super::error::Error;
use super::json::Body;
use crate::AppState;
use crate::access::{Principal, audit};
use crate::engine::driver::Started;
use crate::store::test_name;

/// Start a test run of a definition that need not be saved
///
/// A stubbed node (`http`, `task`, `subflow` or `map`) completes through `next` with the
/// given output and does nothing: no request, no task, no child run. With `until`, the run
/// completes once that node is decided (`run_completed` names it), abandoning whatever else
/// is under way. The run has `"test": true`, is left out of `GET /api/runs` and the runs
/// feed unless they ask with `?test=true`, and is pruned a day after it began.
#[utoipa::path(
    post,
    path = "/test-runs",
    tag = "runs",
    request_body = StartTestRun,
    responses(
        (status = 201, description = "The test run started", body = TestRunStarted),
        (status = 400, description = "Malformed JSON, a body that is not an object, or an unknown field", body = ApiErrorBody),
        (status = 413, description = "The body is over 1 MiB, or the input or a stub is over the value limits", body = ApiErrorBody),
        (status = 422, description = "The definition is invalid (`details.diagnostics`, as a save), a stub or `until` names a node the definition lacks or a stub a node that does not act (`details.node`), or the input does not match the `input_schema` (`details.errors`)", body = ApiErrorBody),
    ),
)]
pub(super) async fn create_test_run(
    State(app): State<AppState>,
    principal: Option<Extension<Principal>>,
    Body(req): Body<StartTestRun>,
) -> Result<(StatusCode, Extension<audit::Note>, Json<TestRunStarted>), Error> {
    let (wf, diagnostics) = super::validate::off_runtime(req.definition).await?;
    let wf = match wf {
        Some(wf) if is_valid(&diagnostics) => wf,
        _ => {
            return Err(Error::Unprocessable {
                message: "the definition is invalid".into(),
                details: json!({ "diagnostics": diagnostics }),
            });
        }
    };
    check_nodes(&wf, &req.stubs, req.until.as_deref())?;
    // A stubbed `subflow` or `map` starts no child, so its workflow need not exist.
    let unknown: Vec<_> = super::workflows::unknown_children(&app, &wf)
        .await?
        .into_iter()
        .filter(|d| d.node.as_ref().is_none_or(|n| !req.stubs.contains_key(n)))
        .collect();
    if !unknown.is_empty() {
        return Err(Error::Unprocessable {
            message: "the definition starts children of a workflow that does not exist".into(),
            details: json!({ "diagnostics": unknown }),
        });
    }
    Error::check_value("the input", &req.input)?;
    for (node, stub) in &req.stubs {
        Error::check_value(&format!("the stub of `{node}`"), stub)?;
    }
    if let Some(schema) = &wf.input_schema
        && let Err(paths) = shared::validate::check_input(schema, &req.input)
    {
        return Err(Error::Unprocessable {
            message: "the input does not match the definition's input_schema".into(),
            details: json!({ "errors": paths }),
        });
    }

    let run_id = uuid::Uuid::now_v7().to_string();
    let hidden = test_name(&wf.name, &run_id);
    let canonical = serde_json::to_value(&wf).map_err(anyhow::Error::from)?;
    let now = app.engine.clock.now();
    app.store
        .save_test_definition(&hidden, &canonical, now)
        .await?;
    let plan =
        app.engine.plans.get(&hidden, 1).await?.ok_or_else(|| {
            Error::Internal(anyhow::anyhow!("a test definition just saved is gone"))
        })?;
    let test = TestRun {
        stubs: req.stubs,
        until: req.until,
    };
    let by = principal.map(|Extension(p)| p.actor);
    let stubbed: Vec<&String> = test.stubs.keys().collect();
    let note = audit::Note {
        target: Some(format!("run:{run_id}")),
        details: json!({ "workflow": wf.name, "test": true, "stubs": stubbed, "until": test.until }),
    };
    match app
        .engine
        .start_test(run_id.clone(), plan, req.input, test, by)
        .await?
    {
        Started::Created(_) => {}
        Started::Existing(_) => {
            return Err(Error::Internal(anyhow::anyhow!(
                "a fresh test run id `{run_id}` was taken"
            )));
        }
    }
    Ok((
        StatusCode::CREATED,
        Extension(note),
        Json(TestRunStarted { run_id }),
    ))
}

/// Every stub and the `until` name a node of `wf`; a stub only a node that acts.
fn check_nodes(
    wf: &Workflow,
    stubs: &std::collections::BTreeMap<String, Value>,
    until: Option<&str>,
) -> Result<(), Error> {
    let missing = |what: &str, id: &str| Error::Unprocessable {
        message: format!("{what} names node `{id}`, which the definition does not have"),
        details: json!({ "node": id }),
    };
    for id in stubs.keys() {
        let Some(node) = wf.node(id) else {
            return Err(missing("a stub", id));
        };
        if !node.kind.is_stubbable() {
            return Err(Error::Unprocessable {
                message: format!(
                    "node `{id}` is a `{}`; only `http`, `task`, `subflow` and `map` nodes act, so only they take a stub",
                    node.kind.type_name()
                ),
                details: json!({ "node": id }),
            });
        }
    }
    if let Some(id) = until
        && wf.node(id).is_none()
    {
        return Err(missing("`until`", id));
    }
    Ok(())
}
