//! The start page (`/`): what needs the person now — runs waiting for a person, approvals
//! they may decide, recent failures — the workflows edited last, and the template gallery.
//! Each list reads its own API call, so one that fails says so in its own card while the
//! others still show.
//!
//! # Layout
//! - [`Start`]: the route; `Section` draws one card with its loading, error and empty states.
//! - [`gallery`]: a workflow from any file in `examples/`, in one click.

pub mod gallery;

use leptos::prelude::*;
use shared::api::{ApprovalList, RunList, RunSummary, WorkflowList};

use super::designer::{self, NEW, server};
use super::workflows::ago;
use super::{Page, runs::row::status_badge};
use crate::api;

/// How many items each list shows (also the `limit` of the runs calls); the card links to
/// the full list.
const SHOWN: usize = 5;

#[component]
pub fn Start() -> impl IntoView {
    let now = js_sys::Date::now() as i64;
    let waiting = LocalResource::new(|| api::get_json::<RunList>("/api/runs?needs=person&limit=5"));
    let approvals =
        LocalResource::new(|| api::get_json::<ApprovalList>("/api/approvals?mine=true"));
    let failures =
        LocalResource::new(|| api::get_json::<RunList>("/api/runs?status=failed&limit=5"));
    let workflows = LocalResource::new(server::list);
    let taken = Signal::derive(move || {
        workflows.get().map(|answer| {
            // A list that could not be read names nothing: its card says why.
            answer
                .map(|l| l.workflows.into_iter().map(|w| w.name).collect::<Vec<_>>())
                .unwrap_or_default()
        })
    });
    view! {
        <div class="start" data-testid="page-start">
            <div class="page-head page-head-row">
                <div>
                    <h1>"Start"</h1>
                    <p class="lede">"What waits for you, what failed, and what you edited last."</p>
                </div>
                <div class="card-actions">
                    <a class="btn" href="#templates" data-testid="to-templates">"Templates"</a>
                    <a class="btn btn-primary" href=designer::path(NEW) data-testid="start-new-workflow">
                        "New workflow"
                    </a>
                </div>
            </div>
            <div class="start-grid">
                <Section
                    title="Runs waiting for a person"
                    testid="start-waiting"
                    all=("All waiting runs", "/runs?needs=person".to_owned())
                    empty="No run waits for an approval or a signal. Runs that do show here."
                    list=waiting
                    items=move |l: RunList| l.runs.into_iter().map(|r| run_item(r, now)).collect()
                />
                <Section
                    title="Approvals for you"
                    testid="start-approvals"
                    all=("Inbox", Page::Inbox.path().to_owned())
                    empty="Nothing waits for your decision. Approvals you may decide show here and in the Inbox."
                    list=approvals
                    items=move |l: ApprovalList| {
                        // Newest first, as the other lists; the Inbox has them all.
                        let mut list = l.approvals;
                        list.sort_by_key(|a| std::cmp::Reverse(a.since));
                        list.into_iter()
                            .filter(|a| a.can_decide)
                            .take(SHOWN)
                            .map(|a| {
                                let what = a.label.clone().unwrap_or_else(|| a.node.clone());
                                Item {
                                    href: format!("/runs/{}", a.run_id),
                                    title: format!("{} · {what}", a.workflow),
                                    detail: a.prompt.unwrap_or_default(),
                                    badge: None,
                                    when: a.since.map(|t| ago(now, t)),
                                }
                            })
                            .collect()
                    }
                />
                <Section
                    title="Recent failures"
                    testid="start-failures"
                    all=("All failed runs", "/runs?status=failed".to_owned())
                    empty="No run has failed. Failed runs show here with their error, to redrive or fix."
                    list=failures
                    items=move |l: RunList| l.runs.into_iter().map(|r| run_item(r, now)).collect()
                />
                <Section
                    title="Recently edited workflows"
                    testid="start-workflows"
                    all=("All workflows", Page::Workflows.path().to_owned())
                    empty="No workflow yet. Start from a template below, or draw one with New workflow."
                    list=workflows
                    items=move |l: WorkflowList| {
                        let mut list = l.workflows;
                        list.sort_by_key(|w| std::cmp::Reverse(w.updated_at));
                        list.into_iter()
                            .take(SHOWN)
                            .map(|w| Item {
                                href: designer::path(&w.name),
                                title: w.name,
                                detail: w.description.unwrap_or_default(),
                                badge: Some((format!("v{}", w.version), "version-pill".to_owned())),
                                when: Some(ago(now, w.updated_at)),
                            })
                            .collect()
                    }
                />
            </div>
            <gallery::Gallery taken />
        </div>
    }
}

/// One line of a card: a link to the thing's page.
struct Item {
    href: String,
    title: String,
    detail: String,
    /// Text and class of a small badge (a status, a version).
    badge: Option<(String, String)>,
    when: Option<String>,
}

fn run_item(r: RunSummary, now: i64) -> Item {
    let (class, words) = status_badge(r.status, r.needs_person);
    Item {
        href: format!("/runs/{}", r.id),
        title: r.workflow,
        detail: r
            .error
            .unwrap_or_else(|| format!("run {}", short_id(&r.id))),
        badge: Some((words.to_owned(), format!("status {class}"))),
        when: Some(ago(now, r.updated_at)),
    }
}

/// The first characters of a run id: enough to tell runs apart in a short list.
fn short_id(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// A card listing what one call answered, or why it could not, or what to do when empty.
#[component]
fn Section<T, I>(
    title: &'static str,
    testid: &'static str,
    /// The link to the full list: its words and address.
    all: (&'static str, String),
    empty: &'static str,
    list: LocalResource<api::Result<T>>,
    items: I,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    I: Fn(T) -> Vec<Item> + Copy + Send + Sync + 'static,
{
    let body = move || match list.get() {
        None => view! {
            <p class="list-loading">
                <span class="spinner" aria-hidden="true"></span>
                "Loading…"
            </p>
        }
        .into_any(),
        Some(Err(e)) => view! {
            <p class="server-error" role="alert" data-testid="start-error">{e.error.message}</p>
        }
        .into_any(),
        Some(Ok(answer)) => {
            let found = items(answer);
            if found.is_empty() {
                view! { <p class="muted start-empty" data-testid="start-empty">{empty}</p> }
                    .into_any()
            } else {
                view! {
                    <ul class="start-list">
                        {found.into_iter().map(item).collect_view()}
                    </ul>
                }
                .into_any()
            }
        }
    };
    let heading = format!("{testid}-title");
    let labelled_by = heading.clone();
    view! {
        <section class="card start-card" data-testid=testid aria-labelledby=labelled_by>
            <div class="card-head">
                <h2 id=heading>{title}</h2>
                <a class="start-all" href=all.1>{all.0}</a>
            </div>
            <div class="start-body">{body}</div>
        </section>
    }
}

fn item(i: Item) -> impl IntoView {
    view! {
        <li class="start-item" data-testid="start-item">
            <a class="start-link" href=i.href>
                <span class="start-item-title">{i.title}</span>
                {i.badge.map(|(text, class)| view! { <span class=class>{text}</span> })}
                {i.when.map(|w| view! { <span class="muted start-when">{w}</span> })}
            </a>
            {(!i.detail.is_empty()).then(|| view! { <p class="start-detail muted">{i.detail}</p> })}
        </li>
    }
}
