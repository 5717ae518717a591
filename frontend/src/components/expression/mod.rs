//! The expression editor around a template field of the designer's inspector: autocomplete
//! of what the template may read, and a live preview of what it renders to.
//!
//! It wraps the field's own input (a text input, the JSON editor or a plain textarea) and
//! listens to the events that bubble from it, so each field keeps its own
//! checks and writes; an accepted suggestion goes through the field's `input` event like a
//! keystroke. The input gets the ARIA combobox attributes (a textarea, which may not be a
//! combobox, gets those of an autocompleting textbox), the suggestions are a listbox.
//!
//! # Layout
//! - `complete`: what is offered at the caret (DOM-free).
//! - `preview`: the field, its context and its value, rendered by `shared::render`
//!   (DOM-free).
//! - this module: the component, and the sample the previews render with ([`Sample`]: the
//!   workflow's last run, or typed JSON), shared by every field of the inspector through a
//!   context.

mod complete;
mod preview;

use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;
use shared::api::{RunDetail, RunList, SecretNames};
use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, HtmlInputElement, HtmlTextAreaElement};

pub use preview::Field;

use self::complete::{Completion, byte_offset, complete, utf16_offset};
use self::preview::SampleRun;
use crate::api;
use shared::model::Workflow;

/// The sample every preview renders with: the input as typed JSON text (from the last run's
/// input when there is one), and that run's node outputs; and the server's secret names,
/// which the suggestions offer.
#[derive(Clone, Copy)]
pub struct Sample {
    text: RwSignal<String>,
    run: RwSignal<Option<SampleRun>>,
    secrets: RwSignal<Vec<String>>,
}

impl Sample {
    /// An empty sample (`{}`), filled from the last run of workflow `name` once it is read.
    pub fn load(name: String) -> Sample {
        let sample = Sample {
            text: RwSignal::new("{}".to_owned()),
            run: RwSignal::new(None),
            secrets: RwSignal::new(Vec::new()),
        };
        // Names only; a role below editor is refused them and offers the workflow's own.
        spawn_local(async move {
            if let Ok(known) = api::peek_json::<SecretNames>("/api/secrets").await {
                sample.secrets.try_set(known.names);
            }
        });
        if !name.is_empty() {
            spawn_local(async move {
                let url = format!("/api/runs?workflow={name}&limit=1");
                let Ok(list) = api::peek_json::<RunList>(&url).await else {
                    return;
                };
                let Some(last) = list.runs.first() else {
                    return;
                };
                let Ok(run) = api::peek_json::<RunDetail>(&format!("/api/runs/{}", last.id)).await
                else {
                    return;
                };
                let text = serde_json::to_string_pretty(&run.run.input).unwrap_or_default();
                // The inspector may be gone by now (`try_set` hands the value back then).
                if sample.text.try_set(text).is_none() {
                    sample.run.try_set(Some(SampleRun::of(&run)));
                }
            });
        }
        sample
    }

    /// The typed input, or why it is not JSON.
    fn input(&self) -> Result<Value, String> {
        self.text
            .with(|t| serde_json::from_str(t))
            .map_err(|e| format!("The sample input is not JSON: {e}"))
    }
}

/// The caret's field: the input or textarea inside `root`.
fn field_of(root: &web_sys::Element) -> Option<HtmlElement> {
    root.query_selector("input, textarea")
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into().ok())
}

/// The field's text and caret (UTF-16).
fn text_and_caret(el: &HtmlElement) -> Option<(String, u32)> {
    if let Some(i) = el.dyn_ref::<HtmlInputElement>() {
        return Some((i.value(), i.selection_start().ok()??));
    }
    let t = el.dyn_ref::<HtmlTextAreaElement>()?;
    Some((t.value(), t.selection_start().ok()??))
}

/// Puts `text` in the field with the caret at `caret` (UTF-16), and tells the field, as a
/// keystroke would.
fn replace_text(el: &HtmlElement, text: &str, caret: u32) {
    if let Some(i) = el.dyn_ref::<HtmlInputElement>() {
        i.set_value(text);
        let _ = i.set_selection_range(caret, caret);
    } else if let Some(t) = el.dyn_ref::<HtmlTextAreaElement>() {
        t.set_value(text);
        let _ = t.set_selection_range(caret, caret);
    }
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    if let Ok(ev) = web_sys::Event::new_with_event_init_dict("input", &init) {
        let _ = el.dispatch_event(&ev);
    }
}

/// What a keystroke's text does to the suggestions.
#[derive(Debug, PartialEq, Eq)]
enum Typed {
    /// `{{ `, `{% `, `.`, `|`: show them.
    Opens,
    /// Part of a name: filter them, if shown.
    Name,
    /// Anything else (a space after a name, a bracket, a paste): hide them.
    Closes,
}

/// What typing `typed`, which left `before` before the caret, does.
fn typed(typed: &str, before: &str) -> Typed {
    match typed {
        "." | "|" => Typed::Opens,
        " " if before.ends_with("{{ ") || before.ends_with("{% ") || before.ends_with("| ") => {
            Typed::Opens
        }
        t if t.chars().count() == 1 && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
            Typed::Name
        }
        _ => Typed::Closes,
    }
}

/// The editor around one template field of node `node` of `workflow` (the one being edited):
/// `children` is the field. The preview shows with a [`Sample`] in the context.
#[component]
pub fn Expression(
    workflow: Memo<Workflow>,
    node: String,
    field: Field,
    children: Children,
) -> impl IntoView {
    let sample = use_context::<Sample>();
    let root = NodeRef::<html::Div>::new();
    let open = RwSignal::new(None::<Completion>);
    let active = RwSignal::new(0usize);
    let list_id = format!("expr-{}-{}", node, field.slug());
    let option_id = {
        let list_id = list_id.clone();
        move |i: usize| format!("{list_id}-{i}")
    };

    // The field's ARIA attributes, kept in step with the list.
    {
        let (list_id, option_id) = (list_id.clone(), option_id.clone());
        Effect::new(move |_| {
            let Some(el) = root.get().and_then(|r| field_of(&r)) else {
                return;
            };
            let is_input = el.dyn_ref::<HtmlInputElement>().is_some();
            let _ = el.set_attribute("aria-autocomplete", "list");
            let _ = el.set_attribute("aria-controls", &list_id);
            if is_input {
                let _ = el.set_attribute("role", "combobox");
            }
            let shown = open.with(Option::is_some);
            if is_input {
                let _ = el.set_attribute("aria-expanded", if shown { "true" } else { "false" });
            }
            if shown {
                let id = option_id(active.get());
                let _ = el.set_attribute("aria-activedescendant", &id);
                // The active option stays in the list's view as the keys move it.
                if let Some(option) = document().get_element_by_id(&id) {
                    let to = web_sys::ScrollIntoViewOptions::new();
                    to.set_block(web_sys::ScrollLogicalPosition::Nearest);
                    option.scroll_into_view_with_scroll_into_view_options(&to);
                }
            } else {
                let _ = el.remove_attribute("aria-activedescendant");
            }
        });
    }

    let node_id = StoredValue::new(node.clone());
    let scope_at = {
        move || {
            let input = sample
                .and_then(|s| s.text.with_untracked(|t| serde_json::from_str(t).ok()))
                .unwrap_or(Value::Null);
            let run = sample.and_then(|s| s.run.get_untracked());
            let secrets = sample
                .map(|s| s.secrets.get_untracked())
                .unwrap_or_default();
            node_id.with_value(|node| {
                workflow.with_untracked(|wf| {
                    preview::scope(wf, node, field, &input, run.as_ref(), &secrets)
                })
            })
        }
    };
    // The offers at the caret, or none.
    let suggest = move |el: &HtmlElement| -> Option<Completion> {
        let (text, caret) = text_and_caret(el)?;
        let at = byte_offset(&text, caret);
        complete(&text, at, field.is_expression(), &scope_at())
    };
    let set_open = move |c: Option<Completion>| {
        active.set(0);
        open.set(c);
    };
    let accept = move |el: &HtmlElement, i: usize| {
        let Some(c) = open.get_untracked() else {
            return;
        };
        let Some((text, _)) = text_and_caret(el) else {
            return;
        };
        open.set(None);
        if let Some((new, at)) = c.accept(&text, i) {
            replace_text(el, &new, utf16_offset(&new, at));
        }
    };

    let on_input = move |ev: leptos::ev::Event| {
        let Some(el) = ev.target().and_then(|t| t.dyn_into::<HtmlElement>().ok()) else {
            return;
        };
        let typed = ev
            .dyn_ref::<web_sys::InputEvent>()
            .and_then(|e| e.data())
            .unwrap_or_default();
        let Some((text, caret)) = text_and_caret(&el) else {
            return;
        };
        let before = &text[..byte_offset(&text, caret)];
        match self::typed(&typed, before) {
            Typed::Opens => set_open(suggest(&el)),
            Typed::Name if open.with_untracked(Option::is_some) => set_open(suggest(&el)),
            Typed::Name => {}
            Typed::Closes => set_open(None),
        }
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let Some(el) = ev.target().and_then(|t| t.dyn_into::<HtmlElement>().ok()) else {
            return;
        };
        if ev.key() == " " && ev.ctrl_key() {
            ev.prevent_default();
            set_open(suggest(&el));
            return;
        }
        let Some(count) = open.with_untracked(|o| o.as_ref().map(|c| c.items.len())) else {
            return;
        };
        match ev.key().as_str() {
            "ArrowDown" => active.update(|a| *a = (*a + 1) % count),
            "ArrowUp" => active.update(|a| *a = (*a + count - 1) % count),
            "Enter" | "Tab" => accept(&el, active.get_untracked()),
            "Escape" => open.set(None),
            _ => return,
        }
        ev.prevent_default();
        ev.stop_propagation();
    };

    let options = {
        let option_id = option_id.clone();
        move || {
            open.get().map(|c| {
                c.items
                    .into_iter()
                    .enumerate()
                    .map(|(i, s)| {
                        let selected = move || active.get() == i;
                        view! {
                            <li
                                id=option_id(i)
                                role="option"
                                class="expr-option"
                                class:active=selected
                                aria-selected=move || if selected() { "true" } else { "false" }
                                data-testid="expression-option"
                                // Keeps the focus in the field, so the click accepts.
                                on:mousedown=|ev| ev.prevent_default()
                                on:click=move |_| {
                                    if let Some(el) = root.get_untracked().and_then(|r| field_of(&r)) {
                                        accept(&el, i);
                                        let _ = el.focus();
                                    }
                                }
                            >
                                <code>{s.name}</code>
                                <span class="expr-detail">{s.detail}</span>
                            </li>
                        }
                    })
                    .collect_view()
            })
        }
    };

    view! {
        <div class="expr">
            <div
                class="expr-field"
                node_ref=root
                on:input=on_input
                on:keydown=on_keydown
                on:focusout=move |_| open.set(None)
            >
                {children()}
                <ul
                    id=list_id
                    role="listbox"
                    class="expr-list"
                    aria-label="Suggestions"
                    data-testid="expression-suggestions"
                    hidden=move || open.with(Option::is_none)
                >
                    {options}
                </ul>
            </div>
            {sample.map(|s| view! { <Preview workflow node field sample=s /> })}
        </div>
    }
}

/// What the field renders to with the sample, or the error the node would fail with.
#[component]
fn Preview(workflow: Memo<Workflow>, node: String, field: Field, sample: Sample) -> impl IntoView {
    let rendered = Memo::new(move |_| {
        let input = sample.input()?;
        let run = sample.run.get();
        workflow.with(|wf| {
            let kind = &wf.node(&node).ok_or_else(String::new)?.kind;
            let ctx = preview::context(wf, &node, &input, run.as_ref());
            preview::value(field, kind, &ctx).map(|v| preview::shown(&v))
        })
    });
    let source = move || {
        sample.run.with(|r| match r {
            Some(r) => format!(
                "Sample input · from run {}",
                r.id.chars().take(8).collect::<String>()
            ),
            None => "Sample input".to_owned(),
        })
    };
    view! {
        <div class="expr-preview" data-testid="expression-preview">
            <span class="expr-preview-label">"Preview"</span>
            {move || match rendered.get() {
                Ok(v) => view! { <pre class="expr-value" data-testid="expression-preview-value">{v}</pre> }.into_any(),
                Err(e) => view! { <span class="expr-error" data-testid="expression-preview-error">{e}</span> }.into_any(),
            }}
            <details class="expr-sample">
                <summary>{source}</summary>
                <textarea
                    class="input code-input"
                    rows="3"
                    spellcheck="false"
                    aria-label="Sample input (JSON)"
                    data-testid="sample-input"
                    prop:value=move || sample.text.get()
                    on:input=move |ev| sample.text.set(event_target_value(&ev))
                ></textarea>
            </details>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_keystroke_does() {
        assert_eq!(typed(" ", "Hi {{ "), Typed::Opens);
        assert_eq!(typed(" ", "{% "), Typed::Opens);
        assert_eq!(typed(".", "{{ input."), Typed::Opens);
        assert_eq!(typed("|", "{{ x |"), Typed::Opens);
        assert_eq!(typed("a", "{{ input.a"), Typed::Name);
        assert_eq!(typed(" ", "{{ input.a "), Typed::Closes);
        assert_eq!(typed("", "{{ "), Typed::Closes);
        // A paste or Playwright's fill: the whole text at once.
        assert_eq!(typed("{{ input.", "{{ input."), Typed::Closes);
    }
}
