//! The history's side panel, where the inspector is while editing: a version's facts (who
//! saved it, when, why) and the selected node's definition; or, comparing two versions, what
//! changed in all (counts, the workflow's settings) and, for the selected node, field by field.

use leptos::prelude::*;
use serde_json::Value;
use shared::api::VersionSummary;
use shared::diff::{Change, FieldChange, WorkflowDiff};
use shared::model::Workflow;

use super::compare::word;
use crate::pages::run::format::date_time;

/// A version's facts, and the selected node's definition as saved.
pub(super) fn version_details(
    version: i64,
    summary: Option<VersionSummary>,
    latest: Option<i64>,
    wf: &Workflow,
    selected: Option<String>,
) -> impl IntoView + use<> {
    let facts = summary.map(|s| {
        view! {
            <dl class="facts" data-testid="version-facts">
                <dt>"Saved"</dt>
                <dd>{date_time(s.saved_at)}</dd>
                <dt>"By"</dt>
                <dd>{s.saved_by.unwrap_or_else(|| "not recorded".to_owned())}</dd>
                <dt>"Message"</dt>
                <dd>
                    {match s.message {
                        Some(m) => view! { <span>{m}</span> }.into_any(),
                        None => view! { <span class="muted">"none"</span> }.into_any(),
                    }}
                </dd>
                <dt>"Nodes"</dt>
                <dd>{s.nodes}</dd>
            </dl>
        }
    });
    let node = match selected.and_then(|id| wf.node(&id).cloned()) {
        Some(n) => {
            let text = serde_json::to_string_pretty(&n).unwrap_or_default();
            view! {
                <div class="json-block history-node" data-testid="history-node">
                    <span class="json-title">{format!("Node {}", n.id)}</span>
                    <pre class="json" tabindex="0">{text}</pre>
                </div>
            }
            .into_any()
        }
        None => view! { <p class="muted history-hint">"Select a node to read its definition."</p> }
            .into_any(),
    };
    let title = if latest == Some(version) {
        format!("Version {version} (latest)")
    } else {
        format!("Version {version}")
    };
    view! {
        <div class="inspector history-details" data-testid="history-details">
            <div class="inspector-head">
                <h2>{title}</h2>
            </div>
            {facts}
            {node}
        </div>
    }
}

/// What changed from `from` to `to`: the counts, the workflow's settings, and the selected
/// node's fields.
pub(super) fn diff_details(
    from: i64,
    to: i64,
    diff: &WorkflowDiff,
    older: &Workflow,
    newer: &Workflow,
    selected: Option<String>,
) -> impl IntoView + use<> {
    let counts = [
        Change::Added,
        Change::Removed,
        Change::Changed,
        Change::Moved,
    ]
    .map(|c| {
        let n = diff.count(c);
        view! {
            <li class=format!("diff-count diff-{}", word(c)) data-testid=format!("diff-count-{}", word(c))>
                <span class="diff-swatch" aria-hidden="true"></span>
                {format!("{n} {}", word(c))}
            </li>
        }
    });
    let edges_added = diff
        .edges
        .iter()
        .filter(|e| e.change == Change::Added)
        .count();
    let edges_removed = diff
        .edges
        .iter()
        .filter(|e| e.change == Change::Removed)
        .count();
    let node = selected.and_then(|id| diff.node(&id).cloned()).map(|n| {
        let body = match n.change {
            Change::Changed => fields_table(&n.fields, from, to, "field-diff").into_any(),
            Change::Added => definition(newer, &n.id, format!("Only in v{to}")).into_any(),
            Change::Removed => definition(older, &n.id, format!("Only in v{from}")).into_any(),
            Change::Moved => view! {
                <p class="history-hint" data-testid="node-change">"Only its position on the canvas changed."</p>
            }
            .into_any(),
            Change::Unchanged => view! {
                <p class="history-hint" data-testid="node-change">"Unchanged."</p>
            }
            .into_any(),
        };
        view! {
            <section class="history-node" data-testid="diff-node">
                <h3 class="history-node-title">
                    <span>{format!("Node {}", n.id)}</span>
                    <span class=format!("diff-tag diff-{}", word(n.change)) data-testid="diff-node-change">
                        {word(n.change)}
                    </span>
                </h3>
                {body}
            </section>
        }
    });
    let settings = (!diff.settings.is_empty()).then(|| {
        view! {
            <section class="history-node">
                <h3 class="history-node-title">"Workflow settings"</h3>
                {fields_table(&diff.settings, from, to, "settings-diff")}
            </section>
        }
    });
    let nothing = diff.is_empty().then(|| {
        view! { <p class="history-hint" data-testid="diff-none">"These versions differ only in where nodes are drawn, if at all."</p> }
    });
    view! {
        <div class="inspector history-details" data-testid="history-details">
            <div class="inspector-head">
                <h2>{format!("v{from} → v{to}")}</h2>
            </div>
            <ul class="diff-counts" data-testid="diff-summary">
                {counts}
            </ul>
            <p class="history-hint">
                {format!(
                    "Edges: {edges_added} added, {edges_removed} removed. Select a node to see what changed in it."
                )}
            </p>
            {nothing}
            {node}
            {settings}
        </div>
    }
}

/// The node `id` of `wf` as JSON, under `caption`.
fn definition(wf: &Workflow, id: &str, caption: String) -> impl IntoView + use<> {
    let text = wf
        .node(id)
        .map(|n| serde_json::to_string_pretty(n).unwrap_or_default())
        .unwrap_or_default();
    view! {
        <div class="json-block" data-testid="node-change">
            <span class="json-title">{caption}</span>
            <pre class="json" tabindex="0">{text}</pre>
        </div>
    }
}

/// Each field that differs, its value in `from` and in `to`.
fn fields_table(
    fields: &[FieldChange],
    from: i64,
    to: i64,
    testid: &'static str,
) -> impl IntoView + use<> {
    let rows = fields
        .iter()
        .map(|f| {
            view! {
                <tr data-testid=format!("field-{}", f.path)>
                    <th scope="row"><code>{f.path.clone()}</code></th>
                    <td class="field-before">{value(f.before.as_ref())}</td>
                    <td class="field-after">{value(f.after.as_ref())}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="field-diff" data-testid=testid>
            <thead>
                <tr>
                    <th scope="col">"Field"</th>
                    <th scope="col">{format!("v{from}")}</th>
                    <th scope="col">{format!("v{to}")}</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// A value as compact JSON; a field one side lacks says so.
fn value(v: Option<&Value>) -> impl IntoView + use<> {
    match v {
        Some(v) => view! { <code class="field-value">{v.to_string()}</code> }.into_any(),
        None => view! { <span class="muted">"(not set)"</span> }.into_any(),
    }
}
