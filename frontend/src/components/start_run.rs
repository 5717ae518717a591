//! The start-run dialog: a JSON input, checked against the workflow's `input_schema` as it is
//! typed (with the same check the server makes), then `POST /api/workflows/{name}/runs` and
//! off to the run's page.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use serde_json::{Map, Value};
use shared::validate::check_input;

use crate::pages::designer::server;

/// A sample input for `schema`: its required properties with a value of their type.
pub fn sample_input(schema: Option<&Value>) -> Value {
    let Some(schema) = schema else {
        return Value::Object(Map::new());
    };
    let props = schema.get("properties").and_then(Value::as_object);
    let required = schema.get("required").and_then(Value::as_array);
    let mut out = Map::new();
    for name in required.into_iter().flatten().filter_map(Value::as_str) {
        let ty = props
            .and_then(|p| p.get(name))
            .and_then(|p| p.get("type"))
            .and_then(Value::as_str);
        let value = match ty {
            Some("number") | Some("integer") => Value::from(0),
            Some("boolean") => Value::Bool(false),
            Some("array") => Value::Array(Vec::new()),
            Some("object") => Value::Object(Map::new()),
            _ => Value::String(String::new()),
        };
        out.insert(name.to_owned(), value);
    }
    Value::Object(out)
}

/// What the dialog is doing.
#[derive(Debug, Clone, PartialEq)]
enum Phase {
    Editing,
    Starting,
    Failed(String),
}

/// A modal that starts a run of workflow `name` while `open`.
#[component]
pub fn StartRun(
    open: RwSignal<bool>,
    #[prop(into)] name: Signal<String>,
    /// The saved version's `input_schema`.
    #[prop(into)]
    schema: Signal<Option<Value>>,
    /// True when the designer has unsaved changes, which this run will not have.
    #[prop(into)]
    stale: Signal<bool>,
) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let phase = RwSignal::new(Phase::Editing);
    // A fresh sample each time the dialog opens.
    Effect::new(move |_| {
        if open.get() {
            let sample = schema.with_untracked(|s| sample_input(s.as_ref()));
            text.set(serde_json::to_string_pretty(&sample).unwrap_or_default());
            phase.set(Phase::Editing);
        }
    });
    let problems = move || -> Vec<String> {
        let input = match serde_json::from_str::<Value>(&text.get()) {
            Ok(v) => v,
            Err(e) => return vec![format!("Not JSON: {e}")],
        };
        schema.with(|s| match s {
            Some(schema) => match check_input(schema, &input) {
                Ok(()) => Vec::new(),
                Err(errors) => errors
                    .into_iter()
                    .map(|(path, e)| format!("{path}: {e}"))
                    .collect(),
            },
            None => Vec::new(),
        })
    };
    let navigate = use_navigate();
    let goto = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(id) = goto.get() {
            open.set(false);
            navigate(&format!("/runs/{id}"), Default::default());
        }
    });
    let start = move |_| {
        let Ok(input) = serde_json::from_str::<Value>(&text.get_untracked()) else {
            return;
        };
        let name = name.get_untracked();
        phase.set(Phase::Starting);
        spawn_local(async move {
            match server::start_run(&name, &input).await {
                Ok(run) => goto.set(Some(run.run_id)),
                Err(e) => phase.set(Phase::Failed(e.error.message)),
            }
        });
    };
    view! {
        <Show when=move || open.get()>
            <div class="modal-backdrop" on:click=move |_| open.set(false)>
                <div
                    class="card modal run-modal"
                    role="dialog"
                    aria-modal="true"
                    aria-labelledby="start-run-title"
                    data-testid="start-run-dialog"
                    on:click=|ev| ev.stop_propagation()
                >
                    <div class="card-head">
                        <h2 id="start-run-title">"Start a run of " <code>{name}</code></h2>
                    </div>
                    <div class="card-body">
                        <Show when=move || stale.get()>
                            <p class="caption warn-text">"You have unsaved changes: the run uses the last saved version."</p>
                        </Show>
                        <label class="field">
                            <span class="field-label">"Input (JSON)"</span>
                            <textarea
                                class="input code-input"
                                rows="8"
                                spellcheck="false"
                                data-testid="run-input"
                                prop:value=move || text.get()
                                on:input=move |ev| text.set(event_target_value(&ev))
                            ></textarea>
                        </label>
                        {move || {
                            let problems = problems();
                            if problems.is_empty() {
                                view! { <p class="caption ok-text" data-testid="run-input-ok">"✓ Matches the input schema."</p> }.into_any()
                            } else {
                                view! {
                                    <ul class="input-problems" data-testid="run-input-problems">
                                        {problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
                                    </ul>
                                }
                                .into_any()
                            }
                        }}
                        {move || match phase.get() {
                            Phase::Failed(message) => Some(view! { <p class="server-error" role="alert" data-testid="run-error">{message}</p> }),
                            _ => None,
                        }}
                        <div class="card-actions">
                            <button class="btn" data-testid="run-cancel" on:click=move |_| open.set(false)>
                                "Cancel"
                            </button>
                            <button
                                class="btn btn-primary"
                                data-testid="run-start"
                                disabled=move || !problems().is_empty() || phase.get() == Phase::Starting
                                on:click=start
                            >
                                {move || if phase.get() == Phase::Starting {
                                    view! { <span class="spinner spinner-light" aria-hidden="true"></span> "Starting…" }.into_any()
                                } else {
                                    "Start run".into_any()
                                }}
                            </button>
                        </div>
                    </div>
                </div>
            </div>
        </Show>
    }
}
