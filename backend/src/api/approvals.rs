//! Approvals as people meet them (SPEC §7): deciding one, and the inbox of what waits.
//!
//! Who may decide is the engine's call, made on the run's state in the same step that
//! records the decision (`shared::approval` and the self-approval rule), so an escalation
//! that lands meanwhile cannot be raced. What this module adds is HTTP: the caller as the
//! access layer authenticated them, the form's JSON Schema check (`422`) before anything is
//! recorded, and the inbox, which reads the runs that wait for a person and asks the same
//! rule of each approval.

use axum::extract::State;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value, json};
use shared::api::{
    ApiErrorBody, ApprovalDecided, ApprovalList, Decision, NodeStatus, PendingApproval,
};
use shared::approval;
use shared::limits::MAX_INBOX_RUNS;
use shared::model::{NodeKind, Verdict};

use super::error::Error;
use super::json::{Body, Filter, Params};
use crate::AppState;
use crate::access::{Principal, Via, audit};
use crate::engine::decide::{Caller, Input};
use crate::engine::state::RunState;
use crate::store::RunFilter;

/// The caller as the engine's rules see them; an open server's `local` is not checked.
fn caller(p: &Principal) -> Caller {
    Caller {
        name: p.actor.clone(),
        role: p.role,
        checked: p.via != Via::Open,
        person: !matches!(p.via, Via::Open | Via::Token),
    }
}

/// Approve or reject an approval node that is waiting
///
/// The caller must be one of the node's `approvers` (default: the `approver` role or above)
/// or of an escalation step it has reached, and not the run's starter unless the node has
/// `allow_self_approval`. With a `form`, `data` must match its JSON Schema.
#[utoipa::path(
    post,
    path = "/runs/{id}/approvals/{node}",
    tag = "runs",
    params(("id" = String, Path, description = "The run's id"), ("node" = String, Path, description = "The approval node's id")),
    request_body = Decision,
    responses(
        (status = 200, description = "The decision is recorded", body = ApprovalDecided),
        (status = 400, description = "Malformed JSON, a body that is not an object, an unknown field, or a decision other than `approve`/`reject`", body = ApiErrorBody),
        (status = 403, description = "The caller may not decide this approval (not among its approvers, or started the run), or has no role to decide at all", body = ApiErrorBody),
        (status = 404, description = "No such run, or no such node in its workflow", body = ApiErrorBody),
        (status = 409, description = "The node is not waiting for a decision", body = ApiErrorBody),
        (status = 413, description = "The body is over 1 MiB", body = ApiErrorBody),
        (status = 422, description = "`data` does not match the approval's `form`; `details.errors` lists the failing paths", body = ApiErrorBody),
    ),
)]
pub(super) async fn decide_approval(
    State(app): State<AppState>,
    Extension(principal): Extension<Principal>,
    Params((id, node)): Params<(String, String)>,
    Body(d): Body<Decision>,
) -> Result<(Extension<audit::Note>, Json<ApprovalDecided>), Error> {
    let verdict = match d.decision.as_str() {
        "approve" => Verdict::Approve,
        "reject" => Verdict::Reject,
        other => {
            return Err(Error::BadRequest(format!(
                "decision must be \"approve\" or \"reject\", not {other:?}"
            )));
        }
    };
    Error::check_value("data", &d.data)?;
    check_form(&app, &id, &node, &d.data).await?;
    let by = caller(&principal);
    let name = by.name.clone();
    app.engine
        .send(
            &id,
            Input::Decide {
                node: node.clone(),
                verdict,
                by,
                comment: d.comment,
                data: d.data,
            },
        )
        .await?;
    // The audit row says which node and what was decided.
    let note = audit::Note {
        target: None,
        details: json!({ "node": node, "decision": d.decision }),
    };
    Ok((
        Extension(note),
        Json(ApprovalDecided {
            run_id: id,
            node,
            decision: d.decision,
            by: name,
        }),
    ))
}

/// `422` when the approval has a `form` and `data` does not match it (a missing `data` is
/// `null`, which a form asking for an object refuses). Unknown runs and nodes are left to
/// the engine's answer.
async fn check_form(app: &AppState, id: &str, node: &str, data: &Value) -> Result<(), Error> {
    let Some(row) = app.store.run(id).await? else {
        return Ok(());
    };
    let Some(plan) = app.engine.plans.get(&row.workflow, row.version).await? else {
        return Ok(());
    };
    let form = plan.workflow.node(node).and_then(|n| match &n.kind {
        NodeKind::Approval(a) => a.form.as_ref(),
        _ => None,
    });
    if let Some(form) = form
        && let Err(paths) = shared::validate::check_input(form, data)
    {
        return Err(Error::Unprocessable {
            message: format!("the decision's data does not match approval `{node}`'s form"),
            details: json!({ "errors": paths }),
        });
    }
    Ok(())
}

/// The query of `GET /api/approvals`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct InboxQuery {
    /// `true`: only what the caller may decide now.
    #[serde(default)]
    mine: bool,
}

/// The approvals waiting for a decision
///
/// Across runs, oldest first, each with who may decide it now and whether the caller may
/// (`can_decide`, else `why_not`). `mine=true` keeps only those the caller may decide: the
/// UI's inbox.
#[utoipa::path(
    get,
    path = "/approvals",
    tag = "runs",
    params(InboxQuery),
    responses(
        (status = 200, description = "Waiting approvals", body = ApprovalList),
        (status = 400, description = "An unknown parameter, or `mine` that is not `true`/`false`", body = ApiErrorBody),
    ),
)]
pub(super) async fn list_approvals(
    State(app): State<AppState>,
    Extension(principal): Extension<Principal>,
    Filter(q): Filter<InboxQuery>,
) -> Result<Json<ApprovalList>, Error> {
    // The runs that have waited longest come first, so a cap drops the newest.
    let filter = RunFilter {
        needs_person: true,
        limit: MAX_INBOX_RUNS,
        oldest_first: true,
        ..RunFilter::default()
    };
    let rows = app.store.list_runs(&filter).await?;
    let truncated = rows.len() as i64 == MAX_INBOX_RUNS;
    let by = caller(&principal);
    let mut approvals = Vec::new();
    for row in rows {
        let events = app.store.events(&row.id, 0).await?;
        let Some(state) = app
            .engine
            .plans
            .fold(&row.id, &row.workflow, row.version, &events)
            .await?
        else {
            continue;
        };
        approvals.extend(
            waiting(&state, &by)
                .into_iter()
                .filter(|a| !q.mine || a.can_decide),
        );
    }
    approvals.sort_by(|a, b| (a.since, &a.run_id).cmp(&(b.since, &b.run_id)));
    Ok(Json(ApprovalList {
        approvals,
        truncated,
    }))
}

/// The approvals of `run` that wait, as `by` sees them.
fn waiting(run: &RunState, by: &Caller) -> Vec<PendingApproval> {
    let mut out = Vec::new();
    for (i, n) in run.nodes.iter().enumerate() {
        let NodeKind::Approval(a) = run.plan.kind(i) else {
            continue;
        };
        if n.status != NodeStatus::Waiting || run.status.is_finished() {
            continue;
        }
        let node = &run.plan.workflow.nodes[i];
        let why_not = if !by.checked {
            None
        } else if let Some(why) = approval::refusal(a, n.escalated, &by.name, by.role) {
            Some(why)
        } else if approval::self_approval(a, run.started_by.as_deref(), &by.name, by.person) {
            Some("you started this run, and it does not allow self-approval".to_owned())
        } else {
            None
        };
        let who = approval::deciders(a, n.escalated);
        out.push(PendingApproval {
            run_id: run.id.clone(),
            workflow: run.plan.workflow.name.clone(),
            version: run.plan.version,
            node: node.id.clone(),
            label: node.label.clone(),
            prompt: n.prompt.clone(),
            input: run.input.clone(),
            started_by: run.started_by.clone(),
            since: n.started_at,
            until: n.due_at,
            default_decision: a.default_decision,
            roles: who.roles,
            users: who.users,
            escalated: n.escalated,
            escalations: a.escalate.len() as u32,
            form: a.form.clone(),
            can_decide: why_not.is_none(),
            why_not,
        });
    }
    out
}
