//! The top bar's "Inbox" link with the count of approvals the caller may decide, read every
//! [`super::REFRESH`], when the window regains focus, and at once when someone signs in or
//! out ([`caller_changed`]; an answer read for the one before is dropped). The inbox page
//! refreshes it too (after each load and decision), so the count follows what the page shows.

use std::cell::{Cell, RefCell};

use leptos::ev;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use shared::api::ApprovalList;

use crate::api;
use crate::pages::Page;

thread_local! {
    /// The count the badge shows; `None` until read, or when it cannot be (no token yet).
    static COUNT: ArcRwSignal<Option<usize>> = ArcRwSignal::new(None);
    /// Whether a read is under way, so a burst of triggers sends one call.
    static READING: RefCell<bool> = const { RefCell::new(false) };
    /// Who the count is for, as a number that moves on at each sign-in or sign-out.
    static CALLER: Cell<u64> = const { Cell::new(0) };
}

fn count() -> ArcRwSignal<Option<usize>> {
    COUNT.with(Clone::clone)
}

/// Sets the count to what the inbox page just read.
pub fn set_count(n: usize) {
    count().set(Some(n));
}

/// Reads the count again. Never asks for the API token: a server that wants one and has none
/// yet shows no count.
pub fn refresh_count() {
    if READING.with(|r| r.replace(true)) {
        return;
    }
    let caller = CALLER.get();
    spawn_local(async move {
        let answer = api::peek_json::<ApprovalList>("/api/approvals?mine=true").await;
        if CALLER.get() != caller {
            return;
        }
        READING.with(|r| *r.borrow_mut() = false);
        count().set(answer.ok().map(|list| list.approvals.len()));
    });
}

/// Someone else is signed in now (the login page and "Sign out" say so): forget the count
/// and read theirs.
pub fn caller_changed() {
    CALLER.set(CALLER.get() + 1);
    READING.with(|r| *r.borrow_mut() = false);
    count().set(None);
    refresh_count();
}

/// The link, for the top bar's navigation: `<InboxLink />`.
#[component]
pub fn InboxLink() -> impl IntoView {
    refresh_count();
    let refresher = set_interval_with_handle(refresh_count, super::REFRESH).ok();
    let focus = window_event_listener(ev::focus, |_| refresh_count());
    on_cleanup(move || {
        if let Some(h) = refresher {
            h.clear();
        }
        focus.remove();
    });
    let n = count();
    let label = {
        let n = n.clone();
        move || match n.get() {
            Some(1) => "Inbox: 1 approval waits for you".to_owned(),
            Some(k) => format!("Inbox: {k} approvals wait for you"),
            None => "Inbox".to_owned(),
        }
    };
    view! {
        <A href=Page::Inbox.path()>
            <span data-testid="nav-inbox" aria-label=label>
                {Page::Inbox.title()}
                {move || {
                    n.get()
                        .map(|k| {
                            view! {
                                <span
                                    class="nav-badge"
                                    class:nav-badge-zero=k == 0
                                    data-testid="inbox-count"
                                >
                                    {k.to_string()}
                                </span>
                            }
                        })
                }}
            </span>
        </A>
    }
}
