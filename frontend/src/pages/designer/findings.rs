//! The findings panel: what the validator says about the workflow after every edit, and what
//! the server said when it refused a save. A click on a finding selects what it names.

use leptos::prelude::*;
use shared::{Diagnostic, Severity};

use super::{Ctx, Selection};
use crate::components::code_text::code_spans;

/// The panel, under the inspector.
pub(super) fn findings(ctx: Ctx) -> impl IntoView {
    let count = move || ctx.findings.with(Vec::len);
    let server = move || {
        ctx.server_findings.get().map(|found| {
            view! {
                <p class="findings-caption server-caption" data-testid="server-findings">
                    "The server refused the last save:"
                </p>
                <ul class="findings">{found.into_iter().map(|f| row(ctx, f)).collect_view()}</ul>
            }
        })
    };
    let local = move || {
        let found = ctx.findings.get();
        if found.is_empty() {
            view! {
                <p class="no-findings" data-testid="no-findings">
                    "✓ No findings: the workflow is valid."
                </p>
            }
            .into_any()
        } else {
            view! {
                <ul class="findings" data-testid="findings">
                    {found.into_iter().map(|f| row(ctx, f)).collect_view()}
                </ul>
            }
            .into_any()
        }
    };
    view! {
        <section class="findings-panel" data-testid="findings-panel">
            <h2 class="side-title">
                "Findings " <span class="count" data-testid="findings-count">{count}</span>
            </h2>
            {server}
            {local}
        </section>
    }
}

fn row(ctx: Ctx, finding: Diagnostic) -> impl IntoView {
    let severity = match finding.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let target = match (&finding.node, finding.edge) {
        (Some(node), _) => Some(Selection::Node(node.clone())),
        (None, Some(edge)) => Some(Selection::Edge(edge)),
        (None, None) => None,
    };
    let clickable = target.is_some();
    let select = move || {
        if let Some(target) = target.clone() {
            ctx.selection.set(target);
        }
    };
    let on_key = {
        let select = select.clone();
        move |ev: leptos::ev::KeyboardEvent| {
            if matches!(ev.key().as_str(), "Enter" | " ") {
                ev.prevent_default();
                select();
            }
        }
    };
    view! {
        <li
            class=format!("finding finding-{severity}")
            class:clickable=clickable
            data-testid="finding"
            // A finding that names a node or an edge is reached with Tab and selects it with
            // Enter, as a click does.
            tabindex=clickable.then_some("0")
            title=clickable.then_some("Select what this is about (Enter)")
            on:click=move |_| select()
            on:keydown=on_key
        >
            <span class="severity">{severity}</span>
            <div class="finding-body">
                <div class="finding-meta">
                    <code class="finding-code" data-testid="finding-code">{finding.code}</code>
                    {finding.node.map(|n| view! { <span class="chip">"node " <b data-testid="finding-node">{n}</b></span> })}
                </div>
                <p class="finding-message">{code_spans(&finding.message)}</p>
            </div>
        </li>
    }
}
