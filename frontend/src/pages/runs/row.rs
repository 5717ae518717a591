//! One row of the runs list. The whole row opens its run (a click anywhere but on its
//! controls, or Enter while the row has focus); its links stay real links, so a middle or
//! ctrl-click still opens a tab. The run id is shown whole, with a button that copies it.

use std::collections::BTreeSet;
use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Element;

use crate::pages::run::format;
use shared::api::{RunStatus, RunSummary};

/// The badge's class and words: a running run that waits for an approval or a signal is
/// told apart from one that is merely running.
pub fn status_badge(status: RunStatus, needs_person: bool) -> (String, &'static str) {
    match status {
        RunStatus::Running if needs_person => ("status-waiting".to_owned(), "needs a person"),
        s => (format!("status-{}", s.as_str()), s.as_str()),
    }
}

#[component]
pub fn RunRow(
    run: RunSummary,
    now: RwSignal<i64>,
    selected: RwSignal<BTreeSet<String>>,
    matching: RwSignal<bool>,
) -> impl IntoView {
    let href = format!("/runs/{}", run.id);
    let id = run.id.clone();
    let picked = {
        let id = id.clone();
        move || matching.get() || selected.with(|s| s.contains(&id))
    };
    let pick = {
        let id = id.clone();
        move |on: bool| {
            if !on {
                matching.set(false);
            }
            selected.update(|s| {
                if on {
                    s.insert(id.clone());
                } else {
                    s.remove(&id);
                }
            });
        }
    };
    let (created, updated, final_) = (run.created_at, run.updated_at, run.status.is_finished());
    let duration = move || {
        let end = if final_ { updated } else { now.get() };
        format::duration(end - created)
    };
    let navigate = use_navigate();
    let open = {
        let href = href.clone();
        move || navigate(&href, Default::default())
    };
    let on_click = {
        let open = open.clone();
        move |ev: leptos::ev::MouseEvent| {
            // Controls and links in the row do their own thing; a modified click is the
            // browser's (a new tab from a link).
            if ev.ctrl_key() || ev.meta_key() || ev.shift_key() || ev.alt_key() || ev.button() != 0
            {
                return;
            }
            if on_control(ev.target()) {
                return;
            }
            open();
        }
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        // Only the row's own focus: Enter on a link or button inside it is theirs.
        if ev.key() == "Enter" && ev.target() == ev.current_target() {
            open();
        }
    };
    let (badge, words) = status_badge(run.status, run.needs_person);
    view! {
        <tr
            class="run-row"
            tabindex="0"
            data-testid="run-row"
            data-run=run.id.clone()
            data-status=run.status.as_str()
            data-needs-person=run.needs_person.to_string()
            on:click=on_click
            on:keydown=on_key
        >
            <td class="pick">
                <input
                    type="checkbox"
                    aria-label=format!("Select run {}", run.id)
                    data-testid="pick-run"
                    prop:checked=picked
                    on:change=move |ev| pick(event_target_checked(&ev))
                />
            </td>
            <td>
                <span class=format!("badge {badge}") data-testid="run-row-status">
                    {words}
                </span>
            </td>
            <td class="workflow-cell">
                // A test run's workflow is a hidden name (`<name>~test~<run id>`): its
                // definition's name reads better, the badge says the rest.
                <a href=href.clone() class="run-link">
                    {run.workflow.split("~test~").next().unwrap_or_default().to_owned()}
                </a>
                {run.test.then(|| view! {
                    <span class="badge badge-test" title="A test run from the designer" data-testid="run-row-test">"test"</span>
                })}
            </td>
            <td class="muted">{format!("v{}", run.version)}</td>
            <td class="id-cell">
                <a href=href class="run-id" data-testid="run-id"><code>{run.id.clone()}</code></a>
                <CopyId id=run.id.clone() />
            </td>
            <td class="muted">{format::date_time(created)}</td>
            <td class="num">{duration}</td>
        </tr>
    }
}

/// Whether a click landed on something in the row that acts by itself.
fn on_control(target: Option<web_sys::EventTarget>) -> bool {
    target
        .and_then(|t| t.dyn_into::<Element>().ok())
        .and_then(|e| {
            e.closest("a, button, input, select, label, textarea")
                .ok()
                .flatten()
        })
        .is_some()
}

/// Copies the run id; says "Copied" for a moment, or that it could not.
#[component]
fn CopyId(id: String) -> impl IntoView {
    let said = RwSignal::new(None::<bool>);
    let label = format!("Copy run id {id}");
    let copy = move |_| {
        let id = id.clone();
        leptos::task::spawn_local(async move {
            let ok = write_clipboard(&id).await;
            if said.try_set(Some(ok)).is_none() {
                set_timeout(
                    move || {
                        let _ = said.try_set(None);
                    },
                    Duration::from_millis(1500),
                );
            }
        });
    };
    view! {
        <button
            type="button"
            class="btn copy-id"
            class:copied=move || said.get() == Some(true)
            data-testid="copy-id"
            aria-label=label.clone()
            title=label
            on:click=copy
        >
            {move || match said.get() {
                None => "Copy",
                Some(true) => "Copied",
                Some(false) => "Copy failed",
            }}
        </button>
    }
}

/// `navigator.clipboard.writeText(text)`, reached by name so the page needs no more web-sys
/// features; `false` when the browser refuses (no permission, not a secure context).
async fn write_clipboard(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let clipboard = js_sys::Reflect::get(&window, &JsValue::from_str("navigator"))
        .and_then(|n| js_sys::Reflect::get(&n, &JsValue::from_str("clipboard")))
        .ok()
        .filter(|c| !c.is_undefined());
    let Some(clipboard) = clipboard else {
        return false;
    };
    let write = js_sys::Reflect::get(&clipboard, &JsValue::from_str("writeText"))
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    let Some(write) = write else {
        return false;
    };
    let Ok(promise) = write.call1(&clipboard, &JsValue::from_str(text)) else {
        return false;
    };
    let Ok(promise) = promise.dyn_into::<js_sys::Promise>() else {
        return false;
    };
    wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_waiting_for_a_person_reads_differently_from_a_running_one() {
        assert_eq!(
            status_badge(RunStatus::Running, false),
            ("status-running".to_owned(), "running")
        );
        assert_eq!(
            status_badge(RunStatus::Running, true),
            ("status-waiting".to_owned(), "needs a person")
        );
        // A paused run is paused first, whatever it waits for.
        assert_eq!(
            status_badge(RunStatus::Paused, true),
            ("status-paused".to_owned(), "paused")
        );
    }
}
