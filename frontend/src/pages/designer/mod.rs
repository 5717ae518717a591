//! The designer: draw, configure and validate one workflow, then save it or run it.
//!
//! The page loads the latest version (or starts empty at `/workflows/new`), offers back a
//! draft the browser kept, and edits through [`Editor`], whose every change is validated at
//! once by the `shared` validator the server runs too.
//!
//! # Layout
//! - [`Designer`]: the route; `Workbench` loads, `Editing` is the page once loaded.
//! - `ctx`: the state every part of the page shares (`Ctx`), and what is selected.
//! - `canvas`: the palette and the SVG canvas with its gestures, keys and panel toggles;
//!   `menu`: its context menu; `minimap`: the graph small, to move the view;
//!   `clipboard`: copy and paste of nodes as JSON.
//! - `inspector`: the forms for the selected node and for the workflow's settings.
//! - `findings`: the validator's findings, and a 422's.
//! - `keys`: the canvas from the keyboard, and what screen readers read of it; `announce`:
//!   the live region that says validation and save results.
//! - `history`: the saved versions, one read-only or two diffed on the canvas, a restore.
//! - [`draft`]: unsaved work in `localStorage`; `leave`: asking before leaving it;
//!   `unparsed`: JSON fields whose text does not parse yet (errors until it does);
//!   [`server`]: the typed workflow calls.
//! - `test_run`: the Test panel (a test run of the graph as drawn, with stubs) and its
//!   results on the canvas and in the inspector.

mod announce;
mod canvas;
mod clipboard;
mod ctx;
pub mod draft;
mod findings;
mod history;
mod inspector;
mod keys;
mod leave;
mod menu;
mod minimap;
pub mod server;
mod test_run;
mod unparsed;

use leptos::ev;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_params_map};
use shared::model::Workflow;
use shared::validate::{parse, valid_workflow_name};
use wasm_bindgen::JsCast;

use crate::components::load_error::LoadError;
use crate::components::start_run::StartRun;
use crate::graph::editor::{Editor, blank, place};
use crate::graph::layout;
use crate::pages::Page;
use ctx::{Ctx, Selection};
use history::{History, history_button, history_panel};
use server::SaveError;

/// The route segment of the designer for a workflow that has never been saved.
pub const NEW: &str = "new";

/// The designer's address for the workflow `name`.
pub fn path(name: &str) -> String {
    format!("/workflows/{}", js_sys::encode_uri_component(name))
}

/// Gives the nodes without a position one from the auto-layout.
fn with_positions(mut wf: Workflow) -> Workflow {
    if wf.nodes.iter().any(|n| n.position.is_none()) {
        let at = layout(&wf);
        place(&mut wf, &at, false);
    }
    wf
}

/// The designer for `/workflows/:name`, drawn anew when the name changes.
#[component]
pub fn Designer() -> impl IntoView {
    let params = use_params_map();
    let route = Memo::new(move |_| params.with(|p| p.get("name").unwrap_or_default()));
    // A save under a new name moves to that name's address; the page there says it saved.
    let just_saved = StoredValue::new(None::<(String, i64)>);
    view! {
        <section class="designer" data-testid="page-designer">
            {move || {
                let route = route.get();
                view! { <Workbench route just_saved /> }
            }}
        </section>
    }
}

/// What the page starts from.
#[derive(Debug, Clone, PartialEq)]
struct Loaded {
    /// The saved definition (a blank one for a new workflow).
    base: Workflow,
    /// The saved version; `None` when the workflow was never saved.
    version: Option<i64>,
}

/// What the designer opens at `/workflows/{route}`: a workflow (or this browser's draft of
/// one never saved, such as an import), or the news that there is none of that name (a
/// mistyped link, an archived workflow), which the page says instead of opening an empty
/// canvas that would quietly become a new workflow.
#[derive(Debug, Clone, PartialEq)]
enum Opened {
    Found(Box<Loaded>),
    Missing,
}

async fn load(route: &str) -> Result<Opened, String> {
    if route == NEW {
        return Ok(Opened::Found(Box::new(Loaded {
            base: blank(""),
            version: None,
        })));
    }
    match server::get(route).await {
        Ok(Some(stored)) => match parse(&stored.definition) {
            Ok(base) => Ok(Opened::Found(Box::new(Loaded {
                base,
                version: Some(stored.version),
            }))),
            Err(findings) => Err(format!(
                "the stored definition does not read as a workflow: {}",
                findings
                    .first()
                    .map_or("unknown problem", |f| f.message.as_str())
            )),
        },
        // Never saved, but this browser holds a draft of it (an import, unsaved work): open it.
        Ok(None) if draft::load(route).is_some() => Ok(Opened::Found(Box::new(Loaded {
            base: blank(route),
            version: None,
        }))),
        Ok(None) => Ok(Opened::Missing),
        Err(e) => Err(e.error.message),
    }
}

/// Loads the workflow, with a spinner meanwhile and the error where the page would be.
#[component]
fn Workbench(route: String, just_saved: StoredValue<Option<(String, i64)>>) -> impl IntoView {
    let loaded = LocalResource::new({
        let route = route.clone();
        move || {
            let route = route.clone();
            async move { load(&route).await }
        }
    });
    // "Create it" on a name nobody saved yet.
    let create = RwSignal::new(false);
    move || {
        match loaded.get() {
        None => view! {
            <div class="designer-loading" data-testid="designer-loading">
                <span class="spinner" aria-hidden="true"></span>
                "Loading the workflow…"
            </div>
        }
        .into_any(),
        Some(Err(message)) => view! {
            <div class="placeholder">
                <LoadError
                    title="Could not open this workflow"
                    message
                    testid="designer-error"
                    retry=move || loaded.refetch()
                >
                    <a class="btn" href=Page::Workflows.path()>
                        "Back to workflows"
                    </a>
                </LoadError>
            </div>
        }
        .into_any(),
        Some(Ok(Opened::Found(loaded))) => {
            let loaded = *loaded;
            view! { <Editing route=route.clone() loaded just_saved /> }.into_any()
        }
        Some(Ok(Opened::Missing)) if create.get() => {
            let loaded = Loaded {
                base: blank(&route),
                version: None,
            };
            view! { <Editing route=route.clone() loaded just_saved /> }.into_any()
        }
        Some(Ok(Opened::Missing)) => view! {
            <div class="placeholder">
                <div class="load-error" role="alert" data-testid="designer-missing">
                    <p class="load-error-title">"No workflow named " <code>{route.clone()}</code></p>
                    <p class="load-error-message">
                        "It was never saved, or it has been archived. You can start a new workflow with this name."
                    </p>
                    <div class="load-error-actions">
                        <button class="btn btn-primary" data-testid="create-missing" on:click=move |_| create.set(true)>
                            {format!("Create {route}")}
                        </button>
                        <a class="btn" href=Page::Workflows.path()>
                            "Back to workflows"
                        </a>
                    </div>
                </div>
            </div>
        }
        .into_any(),
    }
    }
}

/// The last save's outcome, shown in the toolbar.
#[derive(Debug, Clone, PartialEq)]
enum SaveStatus {
    Idle,
    Saving,
    Saved(i64),
    /// The server found errors (listed in the findings panel).
    Rejected,
    Failed(String),
}

/// The loaded designer: toolbar, palette, canvas, inspector and findings.
#[component]
fn Editing(
    route: String,
    loaded: Loaded,
    just_saved: StoredValue<Option<(String, i64)>>,
) -> impl IntoView {
    let Loaded { base, version } = loaded;
    let restored = draft::load(&route).filter(|d| *d != base);
    let base = with_positions(base);
    let start = restored
        .clone()
        .map_or_else(|| base.clone(), with_positions);
    let ctx = Ctx::new(Editor::new(start));
    // The saved workflows, for the `subflow` and `map` pickers and their warnings.
    spawn_local(async move {
        if let Ok(list) = server::list().await {
            let _ = ctx.known.try_set(Some(list.workflows));
        }
    });
    let base = RwSignal::new(base);
    let version = RwSignal::new(version);
    let restored = RwSignal::new(restored.is_some());
    let status = RwSignal::new(match just_saved.try_update_value(Option::take).flatten() {
        Some((name, v)) if name == route => SaveStatus::Saved(v),
        _ => SaveStatus::Idle,
    });
    let dirty = Memo::new(move |_| base.with(|b| ctx.workflow.with(|w| w != b)));
    let run_open = RwSignal::new(false);
    let goto = RwSignal::new(None::<String>);
    let history = History::new();
    // What the next save says about itself (kept in the history); cleared once saved.
    let message = RwSignal::new(String::new());

    // Unsaved work lives in the browser until it is saved.
    Effect::new({
        let route = route.clone();
        move |_| {
            if dirty.get() {
                ctx.workflow.with(|w| draft::store(&route, w));
            } else {
                draft::clear(&route);
            }
        }
    });
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(name) = goto.get() {
            navigate(
                &path(&name),
                NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
        }
    });

    // What keeps Save from saving: the errors the browser already sees (the server would
    // refuse them), said on the button and when Ctrl+S is pressed anyway.
    let may_not_save = crate::access::denied(crate::access::Action::Edit);
    let may_not_run = crate::access::denied(crate::access::Action::Operate);
    let blocked = Memo::new(move |_| {
        if let Some(why) = may_not_save.get() {
            return Some(why.to_owned());
        }
        let errors = ctx
            .findings
            .with(|f| f.iter().filter(|d| d.is_error()).count());
        (errors > 0).then(|| {
            format!(
                "Fix the {} first: they are listed under Findings",
                plural(errors, "error")
            )
        })
    });
    let save = Callback::new({
        let route = route.clone();
        move |()| {
            if status.get_untracked() == SaveStatus::Saving {
                return;
            }
            if let Some(why) = blocked.get_untracked() {
                status.set(SaveStatus::Failed(why));
                return;
            }
            let wf = ctx.workflow.get_untracked();
            if !valid_workflow_name(&wf.name) {
                ctx.selection.set(Selection::None);
                status.set(SaveStatus::Failed(
                    "Name the workflow first (lower-case letters, digits, - and _)".into(),
                ));
                return;
            }
            status.set(SaveStatus::Saving);
            let route = route.clone();
            spawn_local(async move {
                // Saving under a name this page did not load from would add a version to
                // another workflow: ask first.
                if wf.name != route
                    && let Ok(Some(other)) = server::get(&wf.name).await
                {
                    let go_on = window()
                        .confirm_with_message(&format!(
                            "A workflow named {} already exists (v{}). Save this as its next version?",
                            other.name, other.version
                        ))
                        .unwrap_or(false);
                    if !go_on {
                        status.set(SaveStatus::Idle);
                        return;
                    }
                }
                let note = message.get_untracked();
                match server::save(&wf, Some(&note)).await {
                    Ok(saved) => {
                        message.try_set(String::new());
                        base.set(wf);
                        version.set(Some(saved.version));
                        ctx.server_findings.set(None);
                        restored.set(false);
                        status.set(SaveStatus::Saved(saved.version));
                        draft::clear(&route);
                        if saved.name != route {
                            just_saved.set_value(Some((saved.name.clone(), saved.version)));
                            goto.set(Some(saved.name));
                        }
                    }
                    Err(SaveError::Invalid(findings)) => {
                        ctx.server_findings.set(Some(findings));
                        status.set(SaveStatus::Rejected);
                    }
                    Err(SaveError::Failed(e)) => status.set(SaveStatus::Failed(e.error.message)),
                }
            });
        }
    });

    let keys = window_event_listener(ev::keydown, move |ev: ev::KeyboardEvent| {
        let key = ev.key().to_lowercase();
        let ctrl = ev.ctrl_key() || ev.meta_key();
        // The history is read-only: the editor's keys wait until it is closed.
        if history.is_open_untracked() {
            if key == "escape" {
                history.close();
            } else if ctrl && key == "s" {
                ev.prevent_default();
            }
            return;
        }
        if ctrl && key == "s" {
            ev.prevent_default();
            save.run(());
            return;
        }
        if key == "escape" {
            run_open.set(false);
            ctx.notice.set(None);
            ctx.selection.set(Selection::None);
            return;
        }
        if run_open.get_untracked() || in_text_field(&ev) {
            return;
        }
        match (ctrl, ev.shift_key(), key.as_str()) {
            (true, false, "z") => ctx.undo(),
            (true, true, "z") | (true, _, "y") => ctx.redo(),
            (false, _, "delete" | "backspace") => ctx.delete_selection(),
            _ => return,
        }
        ev.prevent_default();
    });
    on_cleanup(move || keys.remove());
    leave::guard(dirty);

    let discard = move |_| {
        let fresh = base.get_untracked();
        ctx.editor.update(|e| e.replace(fresh));
        restored.set(false);
        ctx.after_history();
    };
    let title = move || {
        ctx.workflow.with(|w| {
            if w.name.is_empty() {
                "Untitled workflow".to_owned()
            } else {
                w.name.clone()
            }
        })
    };
    let problems = move || {
        let (errors, warnings) = ctx.findings.with(|f| {
            let e = f.iter().filter(|d| d.is_error()).count();
            (e, f.len() - e)
        });
        match (errors, warnings) {
            (0, 0) => view! { <span class="badge badge-valid" data-testid="designer-validity">"Valid"</span> }.into_any(),
            (0, w) => view! { <span class="badge badge-warn" data-testid="designer-validity">{plural(w, "warning")}</span> }.into_any(),
            (e, _) => view! { <span class="badge badge-invalid" data-testid="designer-validity">{plural(e, "error")}</span> }.into_any(),
        }
    };
    let export_href = move || {
        ctx.workflow.with(|w| {
            let text = serde_json::to_string_pretty(w).unwrap_or_default();
            format!(
                "data:application/json;charset=utf-8,{}",
                js_sys::encode_uri_component(&text)
            )
        })
    };
    let export_name = move || {
        ctx.workflow.with(|w| {
            format!(
                "{}.json",
                if w.name.is_empty() {
                    "workflow"
                } else {
                    &w.name
                }
            )
        })
    };
    let status_view = move || {
        match status.get() {
        SaveStatus::Idle => ().into_any(),
        SaveStatus::Saving => view! {
            <span class="pending" data-testid="save-status">
                <span class="spinner" aria-hidden="true"></span>
                "Saving…"
            </span>
        }
        .into_any(),
        SaveStatus::Saved(v) => view! {
            <span class="save-status save-ok" data-testid="save-status">{format!("Saved as version {v}")}</span>
        }
        .into_any(),
        SaveStatus::Rejected => view! {
            <span class="save-status save-error" role="alert" data-testid="save-status">
                "The server refused it: see the findings"
            </span>
        }
        .into_any(),
        SaveStatus::Failed(message) => view! {
            <span class="save-status save-error" role="alert" data-testid="save-status">{message}</span>
        }
        .into_any(),
    }
    };
    let save_said = Signal::derive(move || match status.get() {
        SaveStatus::Idle | SaveStatus::Saving => None,
        SaveStatus::Saved(v) => Some(format!("Saved as version {v}")),
        SaveStatus::Rejected => Some("The server refused the save: see the findings".to_owned()),
        SaveStatus::Failed(message) => Some(format!("Not saved: {message}")),
    });
    let can_run =
        move || version.get().is_some() && ctx.workflow.with(|w| valid_workflow_name(&w.name));
    // A restored version is the saved state: the editor starts from it.
    let on_restored = Callback::new(move |(wf, v): (Workflow, i64)| {
        let wf = with_positions(wf);
        base.set(wf.clone());
        version.set(Some(v));
        ctx.editor.update(|e| e.replace(wf));
        ctx.server_findings.set(None);
        restored.set(false);
        ctx.after_history();
        status.set(SaveStatus::Saved(v));
    });

    view! {
        <div class="designer-toolbar">
            <a class="designer-back" href=Page::Workflows.path() data-testid="designer-back">
                "← Workflows"
            </a>
            <h1 class="designer-title" data-testid="designer-title">{title}</h1>
            <span class="version-pill" data-testid="designer-version">
                {move || version.get().map_or("never saved".to_owned(), |v| format!("v{v}"))}
            </span>
            <Show when=move || dirty.get()>
                <span class="dirty-marker" data-testid="dirty-marker" title="Kept as a draft in this browser until you save">
                    "● Unsaved changes"
                </span>
            </Show>
            {status_view}
            <div class="designer-actions" class:history-open=move || history.is_open()>
                {history_button(history, route.clone(), version)}
                <button
                    class="btn btn-icon"
                    title="Undo (Ctrl+Z)"
                    aria-label="Undo"
                    data-testid="undo"
                    disabled=move || !ctx.editor.with(Editor::can_undo)
                    on:click=move |_| ctx.undo()
                >
                    "↶"
                </button>
                <button
                    class="btn btn-icon"
                    title="Redo (Ctrl+Shift+Z)"
                    aria-label="Redo"
                    data-testid="redo"
                    disabled=move || !ctx.editor.with(Editor::can_redo)
                    on:click=move |_| ctx.redo()
                >
                    "↷"
                </button>
                <button
                    class="btn"
                    title="Lay the graph out left to right"
                    data-testid="auto-layout"
                    on:click=move |_| {
                        ctx.editor.update(Editor::auto_layout);
                        ctx.fit.notify();
                    }
                >
                    "Auto-layout"
                </button>
                <a class="btn" href=export_href download=export_name data-testid="export">
                    "Export"
                </a>
                {problems}
                <button
                    class="btn"
                    data-testid="test-button"
                    title=crate::access::title_unless(may_not_save, || "Test the graph as drawn, with stubbed steps")
                    disabled=move || may_not_save.get().is_some()
                    aria-pressed=move || ctx.test.open.get().to_string()
                    on:click=move |_| ctx.test.open.update(|o| *o = !*o)
                >
                    "Test"
                </button>
                <button
                    class="btn"
                    data-testid="run-button"
                    title=crate::access::title_unless(may_not_run, move || match version.get() {
                        Some(_) => "Start a run of the saved version",
                        None => "Save the workflow first",
                    })
                    disabled=move || !can_run() || may_not_run.get().is_some()
                    on:click=move |_| run_open.set(true)
                >
                    "▶ Run"
                </button>
                <input
                    class="input save-message"
                    type="text"
                    maxlength="500"
                    placeholder="What changed? (optional)"
                    aria-label="Save message (optional), kept in the history"
                    data-testid="save-message"
                    prop:value=move || message.get()
                    on:input=move |ev| message.set(event_target_value(&ev))
                    on:keydown=move |ev: ev::KeyboardEvent| {
                        if ev.key() == "Enter" {
                            ev.prevent_default();
                            save.run(());
                        }
                    }
                />
                <button
                    class="btn btn-primary"
                    title=move || blocked.get().unwrap_or_else(|| "Save (Ctrl+S)".to_owned())
                    data-testid="save-button"
                    disabled=move || status.get() == SaveStatus::Saving || blocked.get().is_some()
                    on:click=move |_| save.run(())
                >
                    "Save"
                </button>
            </div>
        </div>
        <Show when=move || restored.get()>
            <div class="draft-banner" data-testid="draft-banner">
                "This is an unsaved draft, kept in this browser until you save it."
                <button class="btn btn-small" data-testid="discard-draft" on:click=discard>
                    "Discard the draft"
                </button>
            </div>
        </Show>
        <div class="designer-body" class:history-open=move || history.is_open()>
            {canvas::workspace(ctx)}
            <Show when=move || ctx.side_open.get()>
                <aside class="designer-side">
                    {test_run::panel(ctx)}
                    {inspector::inspector(ctx)}
                    {findings::findings(ctx)}
                </aside>
            </Show>
        </div>
        {announce::region(ctx, save_said)}
        {history_panel(history, route.clone(), version, dirty, may_not_save, on_restored)}
        <StartRun
            open=run_open
            workflow=Signal::derive(move || Some(ctx.workflow.with(|w| w.name.clone())))
            stale=Signal::derive(move || dirty.get())
        />
    }
}

/// Whether a key press (or a copy or paste) is in a form field (which keeps Delete, Ctrl+Z,
/// Ctrl+C and Ctrl+V for its text).
fn in_text_field(ev: &web_sys::Event) -> bool {
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"))
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
