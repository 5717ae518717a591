//! A run's breadcrumb. A child run (SPEC §5) names only its parent (`parent: {run, node,
//! index?}`), so the chain up to the top run is read by following `parent` upward, one
//! `GET /api/runs/{id}` a level; the parent's link is there at once, from the child's own
//! detail, and the workflows of every level fill in as they arrive. A run is at most 32 levels
//! deep, and the walk stops there whatever the server says.

use leptos::prelude::*;
use shared::event::Parent;

use super::children::run_path;
use super::wire;
use crate::pages::Page;

/// The most levels the walk reads: the engine's nesting limit, and one more.
const MAX_LEVELS: usize = 33;

/// One run above this one.
#[derive(Debug, Clone, PartialEq)]
pub struct Ancestor {
    pub run: String,
    /// `None` until its detail arrived (or when it could not be read).
    pub workflow: Option<String>,
    /// The node of this ancestor that started the level below, and its `map` item.
    pub node: String,
    pub index: Option<u32>,
}

impl Ancestor {
    fn from(parent: &Parent) -> Self {
        Ancestor {
            run: parent.run.clone(),
            workflow: None,
            node: parent.node.clone(),
            index: parent.index,
        }
    }

    /// `process-orders` and ` · reserve #3` for its crumb.
    fn texts(&self) -> (String, String) {
        let name = self.workflow.clone().unwrap_or_else(|| short_id(&self.run));
        let node = match self.index {
            Some(i) => format!("{} #{i}", self.node),
            None => self.node.clone(),
        };
        (name, node)
    }
}

/// The first characters of a run id, for a crumb whose workflow is not known yet.
pub(super) fn short_id(run: &str) -> String {
    let short: String = run.chars().take(12).collect();
    if short.len() < run.len() {
        format!("{short}…")
    } else {
        short
    }
}

/// Every run above `parent`, the top one first.
async fn ancestors(parent: Parent) -> Vec<Ancestor> {
    let mut chain = vec![Ancestor::from(&parent)];
    while chain.len() < MAX_LEVELS {
        let last = chain.len() - 1;
        let Ok(detail) = wire::run(&chain[last].run).await else {
            break;
        };
        chain[last].workflow = Some(detail.run.workflow);
        match detail.parent {
            Some(p) => chain.push(Ancestor::from(&p)),
            None => break,
        }
    }
    chain.reverse();
    chain
}

/// "Runs / top-workflow › node / parent-workflow › node #i / this-workflow": each ancestor
/// a link to its run, this run's workflow a link to its runs.
#[component]
pub fn Crumbs(parent: Option<Parent>, workflow: String) -> impl IntoView {
    let first = parent.iter().map(Ancestor::from).collect::<Vec<_>>();
    let chain = RwSignal::new(first);
    if let Some(parent) = parent {
        leptos::task::spawn_local(async move {
            let found = ancestors(parent).await;
            let _ = chain.try_set(found);
        });
    }
    let levels = move || {
        let chain = chain.get();
        let last = chain.len().saturating_sub(1);
        chain
            .into_iter()
            .enumerate()
            .map(|(i, a)| {
                let (name, node) = a.texts();
                let testid = if i == last {
                    "crumb-parent"
                } else {
                    "crumb-ancestor"
                };
                view! {
                    <span aria-hidden="true">"/"</span>
                    <a href=run_path(&a.run) data-testid=testid title=format!("Run {}", a.run)>
                        {name}
                    </a>
                    <span class="crumb-node" title="The node that started the run below">
                        {format!("› {node}")}
                    </span>
                }
            })
            .collect_view()
    };
    view! {
        <nav class="crumbs" aria-label="Breadcrumb" data-testid="run-crumbs">
            <a href=Page::Runs.path()>"Runs"</a>
            {levels}
            <span aria-hidden="true">"/"</span>
            <a href=format!("/runs?workflow={}", js_sys::encode_uri_component(&workflow))>{workflow.clone()}</a>
        </nav>
    }
}
