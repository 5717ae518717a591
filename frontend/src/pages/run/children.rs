//! The child runs of a `subflow` or `map` node (SPEC §5), as the run page shows them: a
//! map's progress over its items (`37 / 100 done · 2 failed · 4 running`, and a bar), the
//! list of its children with their status and a link to each, and a subflow's one child.
//! Everything comes from the node fold's `items`, `children` and `counts`, so it moves with
//! the run's stream like the rest of the page. A map may have 10,000 children: the list
//! shows one status at a time and at most [`SHOWN`] rows of it.

use leptos::prelude::*;
use shared::event::ChildStatus;

use super::replay::Shown;
use super::state::NodeState;
use crate::graph::Progress;

/// The most rows the children list draws at once.
pub const SHOWN: usize = 200;

/// A `map` node's children counted over its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MapCounts {
    /// Items, once `items` rendered.
    pub total: u32,
    pub completed: u32,
    pub failed: u32,
    pub cancelled: u32,
    pub running: u32,
}

impl MapCounts {
    /// Items whose child has not started yet (the map waits for a free slot).
    pub fn waiting(&self) -> u32 {
        self.total
            .saturating_sub(self.completed + self.failed + self.cancelled + self.running)
    }

    /// `37 / 100 done · 2 failed · 4 running`, with `· 1 cancelled` when any was.
    pub fn text(&self) -> String {
        let mut text = format!(
            "{} / {} done · {} failed · {} running",
            self.completed, self.total, self.failed, self.running
        );
        if self.cancelled > 0 {
            text.push_str(&format!(" · {} cancelled", self.cancelled));
        }
        text
    }

    /// The same as fractions of the items, for a bar.
    pub fn fractions(&self) -> Progress {
        let of = |n: u32| {
            if self.total == 0 {
                0.0
            } else {
                f64::from(n) / f64::from(self.total)
            }
        };
        Progress {
            completed: of(self.completed),
            failed: of(self.failed),
            cancelled: of(self.cancelled),
            running: of(self.running),
        }
    }
}

/// A `map` node's counts, once its items are rendered; `None` for any other node.
pub fn progress(node: &NodeState) -> Option<MapCounts> {
    let items = node.items.as_ref()?;
    Some(MapCounts {
        total: items.len() as u32,
        completed: node.counts.completed,
        failed: node.counts.failed,
        cancelled: node.counts.cancelled,
        running: node.counts.running,
    })
}

/// Which children the list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    All,
    Only(ChildStatus),
}

impl Filter {
    fn parse(text: &str) -> Filter {
        match text {
            "running" => Filter::Only(ChildStatus::Running),
            "completed" => Filter::Only(ChildStatus::Completed),
            "failed" => Filter::Only(ChildStatus::Failed),
            "cancelled" => Filter::Only(ChildStatus::Cancelled),
            _ => Filter::All,
        }
    }

    fn admits(self, status: ChildStatus) -> bool {
        match self {
            Filter::All => true,
            Filter::Only(s) => s == status,
        }
    }
}

/// One row of the children list.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildRow {
    /// The item's index (a map's child); `None` for a subflow's.
    pub index: Option<usize>,
    pub run: String,
    pub status: ChildStatus,
    pub error: Option<String>,
}

/// The children `filter` admits, in item order, at most `limit` of them, and how many it
/// admits in all.
pub fn rows(node: &NodeState, filter: Filter, limit: usize) -> (Vec<ChildRow>, usize) {
    let is_map = node.items.is_some();
    let mut admitted = 0;
    let mut rows = Vec::new();
    for (i, c) in node.children.iter().enumerate() {
        if !filter.admits(c.status) {
            continue;
        }
        admitted += 1;
        if rows.len() < limit {
            rows.push(ChildRow {
                index: is_map.then_some(i),
                run: c.run.to_string(),
                status: c.status,
                error: c.error.as_deref().map(str::to_owned),
            });
        }
    }
    (rows, admitted)
}

/// A run's page address.
pub fn run_path(run: &str) -> String {
    format!("/runs/{}", js_sys::encode_uri_component(run))
}

/// The child runs of node `id` in the node panel: a map's progress and list, or a subflow's
/// one child.
#[component]
pub fn NodeChildren(state: Shown, id: String, kind: &'static str) -> impl IntoView {
    let node = Memo::new(move |_| state.with(|s| s.node(&id)));
    match kind {
        "map" => view! { <MapChildren node /> }.into_any(),
        "subflow" => view! { <SubflowChild node /> }.into_any(),
        _ => ().into_any(),
    }
}

/// A subflow's child: a link to it and its status, once it started.
#[component]
fn SubflowChild(node: Memo<NodeState>) -> impl IntoView {
    move || {
        node.with(|n| n.children.first().cloned()).map(|c| {
            let status = c.status.as_str();
            view! {
                <div class="child-link-row">
                    <span class="muted">"Child run"</span>
                    <a class="run-link" href=run_path(&c.run) data-testid="child-link">
                        <code>{c.run.to_string()}</code>
                    </a>
                    <span class=format!("pill state-pill state-{status}") data-testid="child-status">{status}</span>
                </div>
            }
        })
    }
}

/// A map's progress, and the list of its children behind a toggle.
#[component]
fn MapChildren(node: Memo<NodeState>) -> impl IntoView {
    let counts = Memo::new(move |_| node.with(progress));
    let filter = RwSignal::new(Filter::All);
    let listed = Memo::new(move |_| node.with(|n| rows(n, filter.get(), SHOWN)));
    let started = move || node.with(|n| n.children.len());
    let segment = move |class: &'static str, part: fn(&Progress) -> f64| {
        view! {
            <span
                class=format!("map-bar-part map-bar-{class}")
                style:width=move || format!("{:.2}%", counts.get().map_or(0.0, |c| part(&c.fractions()) * 100.0))
            ></span>
        }
    };
    view! {
        <div class="map-children">
            {move || match counts.get() {
                None => view! { <p class="muted" data-testid="map-progress">"Items not rendered yet"</p> }.into_any(),
                Some(c) => view! {
                    <p class="map-progress" data-testid="map-progress">{c.text()}</p>
                    {(c.waiting() > 0).then(|| view! { <p class="muted map-waiting">{format!("{} not started yet", c.waiting())}</p> })}
                }
                .into_any(),
            }}
            <div class="map-bar" aria-hidden="true">
                {segment("completed", |p| p.completed)}
                {segment("failed", |p| p.failed)}
                {segment("cancelled", |p| p.cancelled)}
                {segment("running", |p| p.running)}
            </div>
            <details class="children-list" data-testid="children-toggle">
                <summary>{move || format!("Children ({})", started())}</summary>
                <label class="children-filter">
                    <span class="muted">"Show"</span>
                    <select
                        class="input"
                        data-testid="children-filter"
                        on:change=move |ev| filter.set(Filter::parse(&event_target_value(&ev)))
                    >
                        <option value="all">"all"</option>
                        <option value="running">"running"</option>
                        <option value="completed">"completed"</option>
                        <option value="failed">"failed"</option>
                        <option value="cancelled">"cancelled"</option>
                    </select>
                </label>
                <ul class="child-rows" data-testid="children">
                    {move || {
                        listed
                            .get()
                            .0
                            .into_iter()
                            .map(|c| {
                                let status = c.status.as_str();
                                let index = c.index.map(|i| format!("#{i}")).unwrap_or_default();
                                let data_index = index.clone();
                                view! {
                                    <li class="child-row" data-testid="child-row" data-index=data_index data-status=status>
                                        <span class="child-index">{index}</span>
                                        <a class="run-link" href=run_path(&c.run) data-testid="child-link">
                                            <code>{c.run.clone()}</code>
                                        </a>
                                        <span class=format!("pill state-pill state-{status}")>{status}</span>
                                        {c.error.map(|e| {
                                            let title = e.clone();
                                            view! { <span class="child-error" title=title>{e}</span> }
                                        })}
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                </ul>
                {move || {
                    let (shown, all) = listed.with(|(r, all)| (r.len(), *all));
                    match (shown, all) {
                        (0, _) => Some(view! { <p class="empty">"No child run here yet."</p> }.into_any()),
                        (shown, all) if all > shown => Some(
                            view! { <p class="muted">{format!("The first {shown} of {all}; pick a status to narrow the list.")}</p> }
                                .into_any(),
                        ),
                        _ => None,
                    }
                }}
            </details>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::{Value, json};
    use shared::fold::{Child, ChildCounts};

    use super::*;

    fn child(run: &str, status: ChildStatus) -> Child {
        Child {
            run: run.into(),
            status,
            output: Arc::new(Value::Null),
            error: (status == ChildStatus::Failed).then(|| "boom".into()),
        }
    }

    fn map(total: usize) -> NodeState {
        NodeState {
            items: Some(Arc::new(vec![json!(0); total])),
            children: vec![
                child("r0", ChildStatus::Completed),
                child("r1", ChildStatus::Failed),
                child("r2", ChildStatus::Running),
            ],
            counts: ChildCounts {
                running: 1,
                completed: 1,
                failed: 1,
                cancelled: 0,
            },
            ..NodeState::default()
        }
    }

    #[test]
    fn a_map_says_how_far_it_is() {
        let c = progress(&map(10)).unwrap();
        assert_eq!(c.text(), "1 / 10 done · 1 failed · 1 running");
        assert_eq!(c.waiting(), 7);
        let f = c.fractions();
        assert_eq!((f.completed, f.failed, f.running), (0.1, 0.1, 0.1));
        let cancelled = MapCounts { cancelled: 2, ..c };
        assert_eq!(
            cancelled.text(),
            "1 / 10 done · 1 failed · 1 running · 2 cancelled"
        );
    }

    #[test]
    fn other_nodes_have_no_progress_and_empty_maps_no_bar() {
        assert_eq!(progress(&NodeState::default()), None);
        let empty = progress(&NodeState {
            items: Some(Arc::new(vec![])),
            ..NodeState::default()
        })
        .unwrap();
        assert_eq!(empty.text(), "0 / 0 done · 0 failed · 0 running");
        assert_eq!(empty.fractions().completed, 0.0);
    }

    #[test]
    fn the_list_filters_by_status_and_stops_at_its_limit() {
        let node = map(10);
        let (all, n) = rows(&node, Filter::All, 2);
        assert_eq!(n, 3);
        assert_eq!(
            all.iter()
                .map(|r| (r.index, r.run.as_str()))
                .collect::<Vec<_>>(),
            [(Some(0), "r0"), (Some(1), "r1")]
        );
        let (failed, n) = rows(&node, Filter::Only(ChildStatus::Failed), SHOWN);
        assert_eq!(n, 1);
        assert_eq!(failed[0].error.as_deref(), Some("boom"));
        // A subflow's child has no item index.
        let subflow = NodeState {
            children: vec![child("c", ChildStatus::Running)],
            ..NodeState::default()
        };
        assert_eq!(rows(&subflow, Filter::All, SHOWN).0[0].index, None);
    }
}
