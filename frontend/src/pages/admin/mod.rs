//! The admin pages (SPEC §7: users, API keys, the audit log), linked from the header for an
//! admin only. Each sits in [`AdminFrame`]: the three tabs, and for a caller who is not an
//! admin a plain refusal instead of a page of 403s.

pub mod audit;
pub mod keys;
pub mod users;

use leptos::prelude::*;
use leptos_router::components::A;

use super::Page;
use crate::access::{Action, denied};
use crate::pages::run::format::date_time;

/// The tabs and the page's heading around `children`.
#[component]
pub fn AdminFrame(page: Page, lede: &'static str, children: ChildrenFn) -> impl IntoView {
    let refused = denied(Action::Administer);
    view! {
        <div class="admin-page" data-testid=format!("page-{}", page.slug())>
            <div class="page-head">
                <h1>{page.title()}</h1>
                <p class="lede">{lede}</p>
            </div>
            <nav class="admin-tabs" aria-label="Admin">
                {[Page::AdminUsers, Page::AdminKeys, Page::AdminAudit]
                    .map(|tab| {
                        view! {
                            <A href=tab.path()>
                                <span data-testid=format!("tab-{}", tab.slug())>{tab.title()}</span>
                            </A>
                        }
                    })}
            </nav>
            {move || match refused.get() {
                Some(reason) => {
                    view! { <p class="notice" role="alert" data-testid="admin-refused">{reason}</p> }
                        .into_any()
                }
                None => children().into_any(),
            }}
        </div>
    }
}

/// A time in a table, or an em dash for never.
fn when(at: Option<i64>) -> String {
    at.map(date_time).unwrap_or_else(|| "—".into())
}
