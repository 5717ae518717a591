//! `weft runs list|show|start|cancel|redrive|approve|pause|resume`: each is one API call, shown
//! as a table or a few `key: value` lines, or as the API's JSON with `--json`.

use std::process::ExitCode;

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;
use serde_json::json;
use shared::api::{
    ApprovalDecided, CancelAccepted, CancelBody, Decision, PauseBody, RedriveBody, RedrivePreview,
    RedriveStarted, RedriveVersion, RunDetail, RunList, RunSummary, StartRun, VersionName,
};
use shared::event::Millis;

use super::{CliError, Remote, RunsCommand, finish, json_arg};

/// Runs one `weft runs` command against `remote`.
pub(crate) fn runs(remote: &Remote, command: RunsCommand) -> ExitCode {
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    finish(rt.block_on(dispatch(remote, command)))
}

async fn dispatch(remote: &Remote, command: RunsCommand) -> Result<(), CliError> {
    let api = remote.client();
    let json = remote.json;
    match command {
        RunsCommand::List {
            workflow,
            status,
            limit,
        } => {
            let mut query = vec![format!("limit={limit}")];
            query.extend(workflow.map(|w| format!("workflow={w}")));
            query.extend(status.map(|s| format!("status={s}")));
            let list: RunList = api.get(&format!("/runs?{}", query.join("&"))).await?;
            emit(json, &list, || list_table(&list.runs))
        }
        RunsCommand::Show { id } => {
            let run: RunDetail = api.get(&format!("/runs/{id}")).await?;
            emit(json, &run, || show(&run))
        }
        RunsCommand::Start {
            workflow,
            input,
            id,
        } => {
            let body = StartRun {
                input: json_arg(&input)?,
                run_id: id,
            };
            let run: RunSummary = api
                .post(&format!("/workflows/{workflow}/runs"), &body)
                .await?;
            emit(json, &run, || {
                format!("started {} ({} v{})", run.id, run.workflow, run.version)
            })
        }
        RunsCommand::Cancel { id, reason } => {
            let done: CancelAccepted = api
                .post(&format!("/runs/{id}/cancel"), &CancelBody { reason })
                .await?;
            emit(json, &done, || format!("cancelling {}", done.run_id))
        }
        RunsCommand::Redrive {
            id,
            from,
            version,
            input,
            dry_run,
        } => {
            let body = RedriveBody {
                from: (!from.is_empty()).then_some(from),
                version: version.as_deref().map(redrive_version).transpose()?,
                input: input.as_deref().map(json_arg).transpose()?,
                dry_run,
            };
            let path = format!("/runs/{id}/redrive");
            if dry_run {
                let plan: RedrivePreview = api.post(&path, &body).await?;
                emit(json, &plan, || preview(&plan))
            } else {
                let started: RedriveStarted = api.post(&path, &body).await?;
                emit(json, &started, || {
                    format!("started {} (a redrive of {id})", started.run_id)
                })
            }
        }
        RunsCommand::Approve {
            id,
            node,
            reject,
            comment,
            data,
        } => {
            let decision = Decision {
                decision: if reject { "reject" } else { "approve" }.into(),
                comment,
                data: data
                    .as_deref()
                    .map(json_arg)
                    .transpose()?
                    .unwrap_or_default(),
            };
            let done: ApprovalDecided = api
                .post(&format!("/runs/{id}/approvals/{node}"), &decision)
                .await?;
            emit(json, &done, || {
                format!("{}: {} {}d", done.run_id, done.node, done.decision)
            })
        }
        RunsCommand::Pause { id, reason } => {
            let run: RunSummary = api
                .post(&format!("/runs/{id}/pause"), &PauseBody { reason })
                .await?;
            emit(json, &run, || {
                format!("{}: {}", run.id, run.status.as_str())
            })
        }
        RunsCommand::Resume { id } => {
            let run: RunSummary = api.post(&format!("/runs/{id}/resume"), &json!({})).await?;
            emit(json, &run, || {
                format!("{}: {}", run.id, run.status.as_str())
            })
        }
    }
}

/// Prints `value` as JSON for a script, or `human()` for a person.
fn emit<T: Serialize>(
    json: bool,
    value: &T,
    human: impl FnOnce() -> String,
) -> Result<(), CliError> {
    if json {
        let text = serde_json::to_string_pretty(value).expect("API values serialize");
        println!("{text}");
    } else {
        println!("{}", human());
    }
    Ok(())
}

fn redrive_version(text: &str) -> Result<RedriveVersion, CliError> {
    match text {
        "same" => Ok(RedriveVersion::Named(VersionName::Same)),
        "latest" => Ok(RedriveVersion::Named(VersionName::Latest)),
        n => n.parse().map(RedriveVersion::Number).map_err(|_| {
            CliError::Input(format!(
                "--version must be `same`, `latest` or a number, not `{n}`"
            ))
        }),
    }
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.to_vec());
    t
}

fn list_table(runs: &[RunSummary]) -> String {
    if runs.is_empty() {
        return "no runs".into();
    }
    let mut t = table(&["ID", "WORKFLOW", "VERSION", "STATUS", "CREATED", "UPDATED"]);
    for r in runs {
        t.add_row(vec![
            r.id.clone(),
            r.workflow.clone(),
            r.version.to_string(),
            r.status.as_str().to_owned(),
            time(r.created_at),
            time(r.updated_at),
        ]);
    }
    t.to_string()
}

fn show(run: &RunDetail) -> String {
    let r = &run.run;
    let mut lines = vec![
        format!("run:      {}", r.id),
        format!("workflow: {} v{}", r.workflow, r.version),
        format!(
            "status:   {}{}",
            r.status.as_str(),
            if run.cancelling { " (cancelling)" } else { "" }
        ),
        format!("created:  {}", time(r.created_at)),
        format!("updated:  {}", time(r.updated_at)),
    ];
    if let Some(p) = &run.parent {
        lines.push(format!("parent:   {} (node {})", p.run, p.node));
    }
    if let Some(of) = &run.redrive_of {
        lines.push(format!(
            "redrive of: {} from {}",
            of.run,
            of.from.join(", ")
        ));
    }
    if !run.redriven_by.is_empty() {
        lines.push(format!("redriven by: {}", run.redriven_by.join(", ")));
    }
    if let Some(e) = &r.error {
        lines.push(format!("error:    {e}"));
    }
    if !r.output.is_null() {
        lines.push(format!("output:   {}", r.output));
    }
    let mut nodes: Vec<_> = run.nodes.iter().collect();
    // In the order they started; nodes that never started last, by id.
    nodes.sort_by_key(|(id, n)| (n.started_at.is_none(), n.started_at, id.as_str()));
    let mut t = table(&["NODE", "TYPE", "STATUS", "ATTEMPTS", "NOTE"]);
    for (id, n) in nodes {
        let note = match (&n.error, n.reused) {
            (Some(e), _) => e.clone(),
            (None, true) => "reused from the original run".into(),
            (None, false) => n.prompt.clone().unwrap_or_default(),
        };
        t.add_row(vec![
            id.clone(),
            n.kind.clone(),
            n.status.as_str().to_owned(),
            n.attempts.to_string(),
            note,
        ]);
    }
    lines.push(String::new());
    lines.push(t.to_string());
    lines.join("\n")
}

fn preview(plan: &RedrivePreview) -> String {
    let list = |v: &[String]| {
        if v.is_empty() {
            "none".to_owned()
        } else {
            v.join(", ")
        }
    };
    format!(
        "a redrive on version {} from {} would\n  reuse:    {}\n  rerun:    {}\n  act again (side effects): {}",
        plan.version,
        list(&plan.from),
        list(&plan.reuse),
        list(&plan.rerun),
        list(&plan.side_effects)
    )
}

/// An instant as RFC 3339 in UTC to the second.
fn time(ms: Millis) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_seconds(at).to_string()
}
