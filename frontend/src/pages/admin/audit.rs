//! `/admin/audit`: every change made through Weft, newest first: who, what, its target, the
//! outcome and when. Filters by who, what and since when; "Load more" follows the server's
//! cursor and appends the next page.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use shared::access::{AuditEntry, AuditPage};

use super::{AdminFrame, when};
use crate::api;
use crate::pages::Page;
use crate::pages::runs::query::encode;

/// The filters as the server reads them (`user` goes as `actor`, the server's name for it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub user: String,
    pub action: String,
    /// Milliseconds since the epoch.
    pub since: Option<i64>,
}

/// `/api/audit` with the filters that are set and, for a following page, the cursor.
pub fn audit_url(filters: &Filters, cursor: Option<&str>) -> String {
    let mut params = Vec::new();
    if !filters.user.trim().is_empty() {
        params.push(format!("actor={}", encode(filters.user.trim())));
    }
    if !filters.action.trim().is_empty() {
        params.push(format!("action={}", encode(filters.action.trim())));
    }
    if let Some(since) = filters.since {
        params.push(format!("since={since}"));
    }
    if let Some(cursor) = cursor {
        params.push(format!("cursor={}", encode(cursor)));
    }
    if params.is_empty() {
        "/api/audit".to_owned()
    } else {
        format!("/api/audit?{}", params.join("&"))
    }
}

#[component]
pub fn Audit() -> impl IntoView {
    let user = RwSignal::new(String::new());
    let action = RwSignal::new(String::new());
    let since = RwSignal::new(String::new());
    let entries = RwSignal::new(Vec::<AuditEntry>::new());
    let next = RwSignal::new(None::<String>);
    let loading = RwSignal::new(false);
    let loaded = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let applied = RwSignal::new(Filters::default());

    // `cursor: None` starts over with the applied filters; `Some` appends the next page.
    let load = move |cursor: Option<String>| {
        let url = audit_url(&applied.get_untracked(), cursor.as_deref());
        let more = cursor.is_some();
        loading.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let answer = api::get_json::<AuditPage>(&url).await;
            let _ = loading.try_set(false);
            match answer {
                Ok(page) => {
                    if more {
                        let _ = entries.try_update(|e| e.extend(page.entries));
                    } else {
                        let _ = entries.try_set(page.entries);
                    }
                    let _ = next.try_set(page.next);
                    let _ = loaded.try_set(true);
                }
                Err(e) => drop(error.try_set(Some(e.error.message))),
            }
        });
    };
    load(None);

    let apply = move |ev: SubmitEvent| {
        ev.prevent_default();
        let since_ms = since.with_untracked(|s| {
            (!s.is_empty())
                .then(|| js_sys::Date::new(&s.as_str().into()).get_time())
                .filter(|t| t.is_finite())
                .map(|t| t as i64)
        });
        applied.set(Filters {
            user: user.get_untracked(),
            action: action.get_untracked(),
            since: since_ms,
        });
        load(None);
    };
    let clear = move |_| {
        user.set(String::new());
        action.set(String::new());
        since.set(String::new());
        applied.set(Filters::default());
        load(None);
    };

    view! {
        <AdminFrame
            page=Page::AdminAudit
            lede="Every change made through Weft: who did what, to what, and when. Newest first."
        >
            <form class="card admin-form" data-testid="audit-filters" on:submit=apply>
                <div class="card-body">
                    <div class="form-row">
                        <label class="field">
                            <span class="field-label">"Who"</span>
                            <input class="input" placeholder="alice, key:deploy-bot, token…" data-testid="audit-user" bind:value=user />
                        </label>
                        <label class="field">
                            <span class="field-label">"Action"</span>
                            <input class="input" placeholder="login, run.started…" data-testid="audit-action" bind:value=action />
                        </label>
                        <label class="field">
                            <span class="field-label">"Since"</span>
                            <input class="input" type="datetime-local" data-testid="audit-since" bind:value=since />
                        </label>
                        <button type="submit" class="btn btn-primary" data-testid="audit-apply">"Filter"</button>
                        <button type="button" class="btn" data-testid="audit-clear" on:click=clear>"Clear"</button>
                    </div>
                </div>
            </form>
            <section class="card">
                <div class="card-head">
                    <h2>"Audit log"</h2>
                    <Show when=move || loading.get()>
                        <span class="spinner" aria-label="Loading"></span>
                    </Show>
                </div>
                {move || error.get().map(|m| view! { <p class="form-error pad" role="alert" data-testid="audit-error">{m}</p> })}
                <Show when=move || loaded.get() && entries.with(Vec::is_empty)>
                    <p class="empty pad" data-testid="audit-empty">"Nothing recorded matches."</p>
                </Show>
                <Show when=move || !entries.with(Vec::is_empty)>
                    <div class="table-wrap">
                        <table class="admin-table" data-testid="audit-table">
                            <thead>
                                <tr>
                                    <th>"When"</th>
                                    <th>"Who"</th>
                                    <th>"Action"</th>
                                    <th>"Target"</th>
                                    <th>"Outcome"</th>
                                </tr>
                            </thead>
                            <tbody>
                                <For each=move || entries.get() key=|e| e.id let:entry>
                                    <AuditRow entry />
                                </For>
                            </tbody>
                        </table>
                    </div>
                </Show>
                <Show when=move || next.with(Option::is_some)>
                    <div class="load-more">
                        <button
                            class="btn"
                            data-testid="audit-more"
                            disabled=move || loading.get()
                            on:click=move |_| load(next.get_untracked())
                        >
                            "Load more"
                        </button>
                    </div>
                </Show>
            </section>
        </AdminFrame>
    }
}

#[component]
fn AuditRow(entry: AuditEntry) -> impl IntoView {
    let ok = entry.outcome == "ok";
    let detail = (!entry.details.is_null() && entry.details != serde_json::json!({}))
        .then(|| entry.details.to_string());
    view! {
        <tr data-testid="audit-row" title=detail>
            <td class="muted nowrap">{when(Some(entry.at))}</td>
            <td data-testid="audit-actor">{entry.actor}</td>
            <td><code data-testid="audit-action-cell">{entry.action}</code></td>
            <td class="wrap" data-testid="audit-target">{entry.target.unwrap_or_else(|| "—".into())}</td>
            <td>
                <span class="badge" class:badge-ok=ok class:badge-failed=!ok data-testid="audit-outcome">
                    {entry.outcome}
                </span>
            </td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_filters_that_are_set_go_to_the_server() {
        assert_eq!(audit_url(&Filters::default(), None), "/api/audit");
        let filters = Filters {
            user: " key:deploy bot ".into(),
            action: "login".into(),
            since: Some(1_700_000_000_000),
        };
        assert_eq!(
            audit_url(&filters, Some("abc=")),
            "/api/audit?actor=key%3Adeploy%20bot&action=login&since=1700000000000&cursor=abc%3D"
        );
    }
}
