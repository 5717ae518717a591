//! Every stored workflow with its latest version and last run; from here a workflow is
//! created, opened, imported (a `.json` file or pasted text), exported or archived.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use serde_json::Value;
use shared::api::WorkflowSummary;
use shared::validate::{parse, valid_workflow_name};
use wasm_bindgen::JsCast;

use std::collections::HashMap;

use super::designer::{self, NEW, draft, server};
use crate::components::load_error::LoadError;
use crate::graph::GraphView;

/// The list, with its actions.
#[component]
pub fn Workflows() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let list = LocalResource::new(move || {
        reload.track();
        server::list()
    });
    let importing = RwSignal::new(false);
    let may_not_edit = crate::access::denied(crate::access::Action::Edit);
    let action_error = RwSignal::new(None::<String>);
    let rows = move || match list.get() {
        None => view! {
            <div class="list-loading" data-testid="workflows-loading">
                <span class="spinner" aria-hidden="true"></span>
                "Loading workflows…"
            </div>
        }
        .into_any(),
        Some(Err(e)) => view! {
            <LoadError
                title="Could not load the workflows"
                message=e.error.message
                testid="workflows-error"
                retry=move || reload.update(|n| *n += 1)
            />
        }
        .into_any(),
        Some(Ok(list)) if list.workflows.is_empty() => view! {
            <div class="empty-state" data-testid="workflows-empty">
                <h2>"No workflows yet"</h2>
                <p class="muted">"Draw one on an empty canvas, or import a definition."</p>
                <a class="btn btn-primary" href=designer::path(NEW)>"New workflow"</a>
            </div>
        }
        .into_any(),
        Some(Ok(list)) => {
            let now = js_sys::Date::now() as i64;
            view! {
                <table class="wf-table" data-testid="workflows-table">
                    <thead>
                        <tr>
                            <th>"Name"</th>
                            <th>"Version"</th>
                            <th>"Last run"</th>
                            <th>"Updated"</th>
                            <th class="actions-col"><span class="sr-only">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        {list
                            .workflows
                            .into_iter()
                            .map(|w| row(w, now, reload, action_error))
                            .collect_view()}
                    </tbody>
                </table>
            }
            .into_any()
        }
    };
    view! {
        <section class="workflows" data-testid="page-workflows">
            <div class="page-head page-head-row">
                <div>
                    <h1>"Workflows"</h1>
                    <p class="lede">"Every saved workflow with its latest version and its last run."</p>
                </div>
                <div class="card-actions">
                    <button
                        class="btn"
                        data-testid="import-button"
                        disabled=move || may_not_edit.get().is_some()
                        title=crate::access::title_unless(may_not_edit, || {
                            "Import a definition from a file or pasted text"
                        })
                        on:click=move |_| importing.set(true)
                    >
                        "Import…"
                    </button>
                    <a class="btn btn-primary" href=designer::path(NEW) data-testid="new-workflow">
                        "New workflow"
                    </a>
                </div>
            </div>
            {move || action_error.get().map(|e| view! { <p class="server-error" role="alert" data-testid="action-error">{e}</p> })}
            <div class="card">{rows}</div>
            <ImportDialog open=importing />
        </section>
    }
}

fn row(
    w: WorkflowSummary,
    now: i64,
    reload: RwSignal<u32>,
    action_error: RwSignal<Option<String>>,
) -> impl IntoView {
    let name = w.name.clone();
    let href = designer::path(&name);
    let last_run = match w.last_run {
        Some(r) => view! {
            <span class=format!("status status-{}", r.status.as_str()) data-testid="last-run-status">{r.status.as_str()}</span>
            <span class="muted">" " {ago(now, r.created_at)}</span>
        }
        .into_any(),
        None => view! { <span class="muted">"never run"</span> }.into_any(),
    };
    let export = {
        let name = name.clone();
        move |_| {
            let name = name.clone();
            spawn_local(async move {
                match server::get(&name).await {
                    Ok(Some(stored)) => download(&format!("{name}.json"), &stored.definition),
                    Ok(None) => action_error.set(Some(format!("`{name}` no longer exists"))),
                    Err(e) => action_error.set(Some(e.error.message)),
                }
            });
        }
    };
    let archive = {
        let name = name.clone();
        move |_| {
            let sure = window()
                .confirm_with_message(&format!("Archive `{name}`? Its runs keep their version."))
                .unwrap_or(false);
            if !sure {
                return;
            }
            let name = name.clone();
            spawn_local(async move {
                match server::archive(&name).await {
                    Ok(_) => {
                        action_error.set(None);
                        reload.update(|n| *n += 1);
                    }
                    Err(e) => action_error.set(Some(e.error.message)),
                }
            });
        }
    };
    let refused = crate::access::denied(crate::access::Action::Edit);
    let previewing = RwSignal::new(false);
    let preview_name = name.clone();
    let menu = NodeRef::<leptos::html::Details>::new();
    let close = move || {
        if let Some(menu) = menu.get_untracked() {
            menu.set_open(false);
        }
    };
    view! {
        <tr data-testid="workflow-row" data-name=name.clone()>
            <td class="wf-name-cell">
                <a class="wf-name" href=href data-testid="workflow-link">{name.clone()}</a>
                {w.description.map(|d| view! { <div class="muted wf-desc">{d}</div> })}
            </td>
            <td><span class="version-pill" data-testid="workflow-version">{format!("v{}", w.version)}</span></td>
            <td>{last_run}</td>
            <td class="muted">{ago(now, w.updated_at)}</td>
            <td>
                <div class="row-actions">
                    <button
                        class="btn btn-small"
                        data-testid="preview-workflow"
                        aria-expanded=move || previewing.get().to_string()
                        on:click=move |_| previewing.update(|p| *p = !*p)
                    >
                        {move || if previewing.get() { "Hide" } else { "Preview" }}
                    </button>
                    // The name opens the designer; the rarer actions wait in a menu, and
                    // Archive is not a red button on every row.
                    <details
                        class="row-menu"
                        node_ref=menu
                        on:keydown=move |ev| {
                            if ev.key() == "Escape" {
                                close();
                            }
                        }
                        on:focusout=move |ev| {
                            // Focus went elsewhere (a click outside, Tab past the last item).
                            let inside = ev
                                .related_target()
                                .and_then(|t| t.dyn_into::<web_sys::Node>().ok())
                                .zip(menu.get_untracked())
                                .is_some_and(|(t, menu)| menu.contains(Some(&t)));
                            if !inside {
                                close();
                            }
                        }
                    >
                        <summary class="btn btn-small" aria-label=format!("More actions for {name}") title="More actions" data-testid="workflow-menu">
                            "More ▾"
                        </summary>
                        <div class="row-menu-items" role="menu">
                            <button class="row-menu-item" role="menuitem" data-testid="export-workflow" on:click=move |ev| { close(); export(ev) }>
                                "Export as JSON"
                            </button>
                            <button
                                class="row-menu-item row-menu-danger"
                                role="menuitem"
                                data-testid="archive-workflow"
                                disabled=move || refused.get().is_some()
                                title=move || refused.get()
                                on:click=move |ev| { close(); archive(ev) }
                            >
                                "Archive…"
                            </button>
                        </div>
                    </details>
                </div>
            </td>
        </tr>
        <Show when=move || previewing.get()>
            <tr class="preview-row">
                <td colspan="5">
                    <Preview name=preview_name.clone() />
                </td>
            </tr>
        </Show>
    }
}

/// The latest version drawn read-only, as a run's page draws it; a click names a node.
#[component]
fn Preview(name: String) -> impl IntoView {
    let stored = LocalResource::new(move || {
        let name = name.clone();
        async move { server::get(&name).await }
    });
    move || {
        match stored.get() {
        None => view! {
            <div class="list-loading">
                <span class="spinner" aria-hidden="true"></span>
                "Loading…"
            </div>
        }
        .into_any(),
        Some(Ok(Some(found))) => match parse(&found.definition) {
            Ok(workflow) => {
                let selected = RwSignal::new(None::<String>);
                view! {
                    <div class="preview" data-testid="workflow-preview">
                        <GraphView
                            workflow=Signal::stored(workflow)
                            decor=Signal::stored(HashMap::new())
                            selected=selected
                            on_select=Callback::new(move |id| selected.set(id))
                        />
                        <p class="caption" data-testid="preview-selected">
                            {move || match selected.get() {
                                Some(id) => format!("Selected: {id}"),
                                None => "Click a node to select it; drag to pan, scroll to zoom.".to_owned(),
                            }}
                        </p>
                    </div>
                }
                .into_any()
            }
            Err(_) => view! { <p class="server-error">"The stored definition does not read as a workflow."</p> }.into_any(),
        },
        Some(Ok(None)) => view! { <p class="muted">"This workflow no longer exists."</p> }.into_any(),
        Some(Err(e)) => view! { <p class="server-error" role="alert">{e.error.message}</p> }.into_any(),
    }
    }
}

/// `just now`, `5 min ago`, `3 h ago`, `2 d ago`.
pub(crate) fn ago(now_ms: i64, then_ms: i64) -> String {
    let secs = (now_ms - then_ms).max(0) / 1000;
    match secs {
        0..60 => "just now".to_owned(),
        60..3600 => format!("{} min ago", secs / 60),
        3600..86400 => format!("{} h ago", secs / 3600),
        _ => format!("{} d ago", secs / 86400),
    }
}

/// Saves `value` as a file called `file_name` through a temporary link.
fn download(file_name: &str, value: &Value) {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    let href = format!(
        "data:application/json;charset=utf-8,{}",
        js_sys::encode_uri_component(&text)
    );
    let link = document()
        .create_element("a")
        .ok()
        .and_then(|el| el.dyn_into::<web_sys::HtmlAnchorElement>().ok());
    if let Some(link) = link {
        link.set_href(&href);
        link.set_download(file_name);
        link.click();
    }
}

/// Import: a `.json` file or pasted text becomes a draft in the designer (nothing is saved
/// until Save there). Definitions without positions are laid out when they open.
#[component]
fn ImportDialog(open: RwSignal<bool>) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    let on_file = move |ev: leptos::ev::Event| {
        let file = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .and_then(|input| input.files())
            .and_then(|files| files.get(0));
        if let Some(file) = file {
            spawn_local(async move {
                match wasm_bindgen_futures::JsFuture::from(file.text()).await {
                    Ok(content) => {
                        text.set(content.as_string().unwrap_or_default());
                        error.set(None);
                    }
                    Err(_) => error.set(Some("Could not read that file".into())),
                }
            });
        }
    };
    let open_it = move |_| {
        let json = match serde_json::from_str::<Value>(&text.get_untracked()) {
            Ok(json) => json,
            Err(e) => return error.set(Some(format!("Not JSON: {e}"))),
        };
        match parse(&json) {
            Ok(wf) => {
                let route = if valid_workflow_name(&wf.name) {
                    wf.name.clone()
                } else {
                    NEW.to_owned()
                };
                draft::store(&route, &wf);
                open.set(false);
                text.set(String::new());
                error.set(None);
                navigate(&designer::path(&route), Default::default());
            }
            Err(findings) => error.set(Some(
                findings
                    .into_iter()
                    .map(|f| f.message)
                    .collect::<Vec<_>>()
                    .join("; "),
            )),
        }
    };
    view! {
        <Show when=move || open.get()>
            <div class="modal-backdrop">
                <div class="card modal import-modal" role="dialog" aria-modal="true" aria-labelledby="import-title" data-testid="import-dialog">
                    <div class="card-head">
                        <h2 id="import-title">"Import a workflow"</h2>
                    </div>
                    <div class="card-body">
                        <p class="caption">"Choose a " <code>".json"</code> " definition or paste one. It opens in the designer; nothing is saved until you save it there."</p>
                        <input type="file" accept=".json,application/json" data-testid="import-file" on:change=on_file />
                        <textarea
                            class="input code-input"
                            rows="10"
                            spellcheck="false"
                            placeholder="{\"name\": \"my-workflow\", \"nodes\": [...], \"edges\": [...]}"
                            data-testid="import-text"
                            prop:value=move || text.get()
                            on:input=move |ev| text.set(event_target_value(&ev))
                        ></textarea>
                        {move || error.get().map(|e| view! { <p class="server-error" role="alert" data-testid="import-error">{e}</p> })}
                        <div class="card-actions">
                            <button class="btn" data-testid="import-cancel" on:click=move |_| open.set(false)>"Cancel"</button>
                            <button class="btn btn-primary" data-testid="import-open" on:click=open_it.clone()>"Open in designer"</button>
                        </div>
                    </div>
                </div>
            </div>
        </Show>
    }
}
