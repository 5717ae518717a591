//! Start a run: pick a workflow, write its input as JSON, and land on the new run's page.
//! Opened from the runs page ("Start run") and from a run ("Run again", with its input).

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use serde_json::Value;

use super::format;
use super::wire;

/// A modal form; `open` shows it. `workflow` and `input` fill it when it opens.
#[component]
pub fn StartRunDialog(
    open: RwSignal<bool>,
    #[prop(into)] workflow: Signal<Option<String>>,
    #[prop(into)] input: Signal<Value>,
) -> impl IntoView {
    let names = LocalResource::new(wire::workflow_names);
    let chosen = RwSignal::new(String::new());
    let draft = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let sending = RwSignal::new(false);
    // Fill the form each time it opens.
    Effect::new(move |_| {
        if open.get() {
            chosen.set(workflow.get_untracked().unwrap_or_default());
            draft.set(format::pretty(&input.get_untracked()));
            error.set(None);
        }
    });
    // With no workflow given, take the first one once the list is in.
    Effect::new(move |_| {
        if chosen.with(String::is_empty)
            && let Some(Ok(list)) = names.get()
            && let Some(first) = list.first()
        {
            chosen.set(first.clone());
        }
    });
    let navigate = use_navigate();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let name = chosen.get_untracked();
        if name.is_empty() {
            error.set(Some("Choose a workflow.".into()));
            return;
        }
        let input: Value = match serde_json::from_str(&draft.get_untracked()) {
            Ok(v) => v,
            Err(e) => {
                error.set(Some(format!("The input is not valid JSON: {e}")));
                return;
            }
        };
        sending.set(true);
        error.set(None);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let answer = wire::start_run(&name, &input).await;
            sending.set(false);
            match answer {
                Ok(started) => {
                    open.set(false);
                    navigate(&format!("/runs/{}", started.run_id), Default::default());
                }
                Err(body) => error.set(Some(body.error.message)),
            }
        });
    };
    let close = move || open.set(false);
    view! {
        <Show when=move || open.get()>
            <div class="modal-backdrop" on:click=move |_| close()>
                <form
                    class="card modal start-dialog"
                    role="dialog"
                    aria-modal="true"
                    aria-labelledby="start-run-title"
                    data-testid="start-run-dialog"
                    on:submit=submit.clone()
                    on:click=|ev| ev.stop_propagation()
                    on:keydown=move |ev| {
                        if ev.key() == "Escape" {
                            close();
                        }
                    }
                >
                    <div class="card-head">
                        <h2 id="start-run-title">"Start a run"</h2>
                    </div>
                    <div class="card-body">
                        <label class="field">
                            <span>"Workflow"</span>
                            <select
                                class="input"
                                data-testid="start-workflow"
                                prop:value=move || chosen.get()
                                on:change=move |ev| chosen.set(event_target_value(&ev))
                            >
                                {move || {
                                    let mut list = names
                                        .get()
                                        .and_then(Result::ok)
                                        .unwrap_or_default();
                                    let current = chosen.get();
                                    if !current.is_empty() && !list.contains(&current) {
                                        list.insert(0, current.clone());
                                    }
                                    list.into_iter()
                                        .map(|name| {
                                            view! {
                                                <option value=name.clone() selected=name == current>
                                                    {name.clone()}
                                                </option>
                                            }
                                        })
                                        .collect_view()
                                }}
                            </select>
                        </label>
                        <label class="field">
                            <span>"Input (JSON)"</span>
                            <textarea
                                class="input json-input"
                                rows="8"
                                spellcheck="false"
                                data-testid="start-input"
                                bind:value=draft
                            ></textarea>
                        </label>
                        {move || {
                            error
                                .get()
                                .map(|message| {
                                    view! {
                                        <p class="form-error" role="alert" data-testid="start-error">
                                            {message}
                                        </p>
                                    }
                                })
                        }}
                        <div class="card-actions">
                            <button type="button" class="btn" on:click=move |_| close()>
                                "Cancel"
                            </button>
                            <button
                                type="submit"
                                class="btn btn-primary"
                                data-testid="start-submit"
                                disabled=move || sending.get()
                            >
                                <Show when=move || sending.get()>
                                    <span class="spinner" aria-hidden="true"></span>
                                </Show>
                                "Start run"
                            </button>
                        </div>
                    </div>
                </form>
            </div>
        </Show>
    }
}
