//! A redrive's family on the run's page: "Redrive of <run> from <nodes>" on a run that
//! redrives another, "Redriven by <runs>" on one that was redriven, so a person can walk from
//! a failure to its fix and back. Both come from the run's detail (`redrive_of`,
//! `redriven_by`), read when the page loads.

use leptos::prelude::*;
use shared::event::RedriveOf;

use super::super::children::run_path;
use super::super::lineage::short_id;

#[component]
pub fn RedriveLinks(redrive_of: Option<RedriveOf>, redriven_by: Vec<String>) -> impl IntoView {
    let of = redrive_of.map(|of| {
        let from = of
            .from
            .iter()
            .map(|n| view! { <code class="node-ref">{n.clone()}</code> })
            .collect_view();
        view! {
            <p class="redrive-link" data-testid="redrive-of">
                <span class="redrive-mark" aria-hidden="true">"↻"</span>
                "Redrive of "
                <a href=run_path(&of.run) title=format!("Run {}", of.run) data-testid="redrive-of-link">
                    <code>{short_id(&of.run)}</code>
                </a>
                " from "
                {from}
            </p>
        }
    });
    let by = (!redriven_by.is_empty()).then(|| {
        let links = redriven_by
            .iter()
            .map(|r| {
                view! {
                    <a href=run_path(r) title=format!("Run {r}") data-testid="redriven-by-link">
                        <code>{short_id(r)}</code>
                    </a>
                }
            })
            .collect_view();
        view! {
            <p class="redrive-link" data-testid="redriven-by">
                <span class="redrive-mark" aria-hidden="true">"↻"</span>
                "Redriven by "
                {links}
            </p>
        }
    });
    view! { {of} {by} }
}
