//! `/inbox`: the approvals waiting for the caller (`GET /api/approvals?mine=true`), oldest
//! first, each a card to decide it on (SPEC §7); "Show all waiting" lists everyone's
//! (`mine=false`), those the caller may not decide greyed with why. Read again every
//! [`REFRESH`] and when the window regains focus; a decided card leaves with a confirmation.
//!
//! - `card.rs`: one approval — prompt, run input, who started it and who may decide, the
//!   deadline counting down, its form, comment, Approve / Reject, errors in place.
//! - `form.rs`: the form from the approval's JSON Schema, and the `data` built from it
//!   (pure, tested natively).
//! - `deadline.rs`: the card's words for time left, escalations and deciders (tested natively).
//! - `badge.rs`: the top bar's "Inbox" link with the count.

pub mod badge;
pub mod card;
pub mod deadline;
pub mod form;

use std::time::Duration;

use leptos::ev;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::api::{ApprovalList, PendingApproval};

pub use badge::InboxLink;

use crate::api;
use crate::components::load_error::LoadError;
use crate::pages::run::format;

/// How often the page and the badge read the list again.
pub const REFRESH: Duration = Duration::from_secs(15);

/// How long the confirmation of a decision stays.
const NOTICE: Duration = Duration::from_secs(8);

/// A card's identity: its run and node.
fn key(p: &PendingApproval) -> (String, String) {
    (p.run_id.clone(), p.node.clone())
}

#[component]
pub fn Inbox() -> impl IntoView {
    let all = RwSignal::new(false);
    let list = RwSignal::new(None::<Vec<PendingApproval>>);
    let truncated = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    // Decided here: kept out of a read that started before the decision landed.
    let decided = RwSignal::new(Vec::<(String, String)>::new());
    let notice = RwSignal::new(None::<String>);
    let generation = StoredValue::new(0u32);
    let load = move || {
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        let everyone = all.get_untracked();
        spawn_local(async move {
            let url = format!("/api/approvals?mine={}", !everyone);
            let answer = api::get_json::<ApprovalList>(&url).await;
            if generation.try_get_value() != Some(mine) {
                return;
            }
            match answer {
                Ok(mut answer) => {
                    // Oldest first; the server's order, kept for equal times.
                    answer
                        .approvals
                        .sort_by_key(|p| p.since.unwrap_or(i64::MAX));
                    if everyone {
                        badge::refresh_count();
                    } else {
                        badge::set_count(answer.approvals.len());
                    }
                    truncated.set(answer.truncated);
                    list.set(Some(answer.approvals));
                    error.set(None);
                }
                Err(e) => error.set(Some(e.error.message)),
            }
        });
    };
    load();
    let now = RwSignal::new(format::now());
    let ticker =
        set_interval_with_handle(move || now.set(format::now()), Duration::from_secs(1)).ok();
    let refresher = set_interval_with_handle(load, REFRESH).ok();
    let focus = window_event_listener(ev::focus, move |_| load());
    on_cleanup(move || {
        for handle in [ticker, refresher].into_iter().flatten() {
            handle.clear();
        }
        focus.remove();
    });

    let on_decided = Callback::new(move |(p, approve): (PendingApproval, bool)| {
        let k = key(&p);
        decided.update(|d| d.push(k.clone()));
        list.update(|l| {
            if let Some(l) = l {
                l.retain(|x| key(x) != k);
            }
        });
        let what = p.label.clone().unwrap_or_else(|| p.node.clone());
        let short: String = p.run_id.chars().take(8).collect();
        notice.set(Some(format!(
            "{} “{what}” on run {short} of {}.",
            if approve { "Approved" } else { "Rejected" },
            p.workflow
        )));
        let shown = notice.get_untracked();
        set_timeout(
            move || {
                if notice.try_get_untracked().flatten() == shown {
                    notice.set(None);
                }
            },
            NOTICE,
        );
        badge::refresh_count();
    });

    let visible = move || {
        let gone = decided.get();
        list.get()
            .unwrap_or_default()
            .into_iter()
            .filter(|p| !gone.contains(&key(p)))
            .collect::<Vec<_>>()
    };
    let loaded = move || list.with(Option::is_some);
    let empty = move || loaded() && visible().is_empty();

    view! {
        <section class="inbox" data-testid="inbox">
            <div class="inbox-head">
                <h1>"Inbox"</h1>
                <label class="inbox-toggle">
                    <input
                        type="checkbox"
                        data-testid="inbox-show-all"
                        prop:checked=move || all.get()
                        on:change=move |ev| {
                            all.set(event_target_checked(&ev));
                            list.set(None);
                            load();
                        }
                    />
                    "Show all waiting"
                </label>
            </div>
            <p class="inbox-notice" role="status" data-testid="inbox-notice">
                {move || notice.get()}
            </p>
            {move || {
                error
                    .get()
                    .map(|message| {
                        view! {
                            <LoadError
                                title="Could not load the inbox"
                                message=message
                                testid="inbox-error"
                                retry=load
                            />
                        }
                    })
            }}
            <Show when=move || !loaded() && error.with(Option::is_none)>
                <p class="muted" data-testid="inbox-loading">"Loading…"</p>
            </Show>
            <Show when=empty>
                <p class="inbox-empty" data-testid="inbox-empty">
                    {move || {
                        if all.get() { "Nothing waits for anyone." } else { "Nothing waits for you." }
                    }}
                </p>
            </Show>
            <ul class="inbox-list" data-testid="inbox-list">
                <For
                    each=visible
                    key=|p| (p.run_id.clone(), p.node.clone(), p.can_decide)
                    children=move |p| {
                        view! {
                            <li>
                                <card::ApprovalCard approval=p now=now on_decided=on_decided />
                            </li>
                        }
                    }
                />
            </ul>
            <Show when=move || truncated.get()>
                <p class="muted" data-testid="inbox-truncated">
                    "More runs wait than one answer lists; decide these and more will show."
                </p>
            </Show>
        </section>
    }
}
