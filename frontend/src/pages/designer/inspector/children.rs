//! The forms of the two node types that start child runs (SPEC §5): `subflow` (one child)
//! and `map` (one child per item). Numbers typed here are checked as they are typed. The
//! child workflow is picked from the saved ones, which the browser knows only as of when it
//! loaded the list: the server has the last word (a 422), the designer warns.

use leptos::prelude::*;
use serde_json::Value;
use shared::model::{MapNode, NodeKind, SubflowNode, defaults};

use super::{DurationField, JsonField, TextField, edit, non_empty};
use crate::components::expression::{Expression, Field};
use crate::pages::designer::{self as designer, Ctx};

/// A whole number typed into a field: `Ok(None)` when blank, `Err` with what is wrong.
fn number(text: &str, min: i64) -> Result<Option<i64>, String> {
    match non_empty(text.to_owned()) {
        None => Ok(None),
        Some(t) => match t.trim().parse::<i64>() {
            Ok(n) if n >= min => Ok(Some(n)),
            Ok(_) => Err(format!("At least {min}")),
            Err(_) => Err("A whole number".into()),
        },
    }
}

/// A number input that writes only numbers through `on_input` and says what is wrong with
/// anything else.
#[component]
fn NumberField(
    label: &'static str,
    testid: &'static str,
    value: Option<i64>,
    min: i64,
    placeholder: String,
    #[prop(into)] on_input: Callback<Option<i64>>,
) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    view! {
        <label class="field">
            <span class="field-label">{label}</span>
            <input
                class="input"
                class:invalid=move || error.get().is_some()
                data-testid=testid
                inputmode="numeric"
                value=value.map(|v| v.to_string()).unwrap_or_default()
                placeholder=placeholder
                on:input=move |ev| match number(&event_target_value(&ev), min) {
                    Ok(v) => {
                        error.set(None);
                        on_input.run(v);
                    }
                    Err(e) => error.set(Some(e)),
                }
            />
            {move || error.get().map(|e| view! { <span class="field-error" data-testid="field-error">{e}</span> })}
        </label>
    }
}

/// Which child workflow, and which of its versions: a picker over the saved workflows
/// ([`Ctx::known`]) and their versions, "latest" by default, with a link to the child's
/// designer. A name the list does not have (a definition imported from elsewhere, a workflow
/// archived since) stays selected and is flagged, beside the validator's warning; until the
/// list is loaded, or when it could not be, the name is typed.
#[component]
fn ChildTarget(
    ctx: Ctx,
    id: String,
    workflow: String,
    version: Option<i64>,
    set: fn(&mut NodeKind, Option<String>, Option<Option<i64>>),
) -> impl IntoView {
    // What is picked now: the form is drawn once per selection, the version list follows it.
    let picked = RwSignal::new(workflow);
    let pinned = RwSignal::new(version);
    let id = StoredValue::new(id);
    let write = move |w: Option<String>, v: Option<Option<i64>>| {
        let field = if w.is_some() { "workflow" } else { "version" };
        id.with_value(|id| edit(ctx, id, field, |n| set(&mut n.kind, w, v)));
    };
    let pick = move |name: String| {
        // Another workflow's version number means nothing for this one: back to latest.
        let reset = pinned.get_untracked().is_some() && name != picked.get_untracked();
        picked.set(name.clone());
        if reset {
            pinned.set(None);
            write(Some(name), Some(None));
        } else {
            write(Some(name), None);
        }
    };
    let pin = move |v: Option<i64>| {
        pinned.set(v);
        write(None, Some(v));
    };
    let latest = move || {
        let name = picked.get();
        ctx.known.with(|k| {
            k.as_ref()
                .and_then(|k| k.iter().find(|w| w.name == name).map(|w| w.version))
        })
    };
    let own_name = move || ctx.workflow.with_untracked(|w| w.name.clone());
    let workflow_field = move || {
        match ctx.known.get() {
            None => {
                view! {
                    <TextField label="Workflow" testid="field-workflow" value=picked.get_untracked() placeholder="a saved workflow's name" on_input=move |v: String| pick(v) />
                }
                .into_any()
            }
            Some(known) => {
                let current = picked.get_untracked();
                let itself = own_name();
                let listed = current.is_empty() || known.iter().any(|w| w.name == current);
                let options = known
                    .iter()
                    .map(|w| {
                        let name = w.name.clone();
                        let selected = name == current;
                        let text = format!("{name} · v{}", w.version);
                        let title = w.description.clone().unwrap_or_default();
                        view! { <option value=name selected=selected title=title>{text}</option> }
                    })
                    .collect_view();
                let unlisted = (!listed).then(|| {
                    let note = if current == itself { "this workflow" } else { "not saved" };
                    view! { <option value=current.clone() selected=true>{format!("{current} ({note})")}</option> }
                });
                view! {
                    <label class="field field-wide">
                        <span class="field-label">"Workflow"</span>
                        <select
                            class="input"
                            class:invalid=move || {
                                let name = picked.get();
                                !name.is_empty() && ctx.known.with(|k| !k.as_ref().is_some_and(|k| k.iter().any(|w| w.name == name)))
                            }
                            data-testid="field-workflow"
                            on:change=move |ev| pick(event_target_value(&ev))
                        >
                            <option value="" selected=current.is_empty() disabled=true>"Choose a saved workflow…"</option>
                            {unlisted}
                            {options}
                        </select>
                        {known.is_empty().then(|| view! { <span class="field-hint">"No workflow is saved yet: save the child first."</span> })}
                    </label>
                }
                .into_any()
            }
        }
    };
    let version_field = move || {
        let current = pinned.get();
        match latest() {
            // Unknown workflow, or no list: a number typed in.
            None => view! {
                <NumberField label="Version" testid="field-version" value=current min=1 placeholder="latest".to_owned() on_input=pin />
            }
            .into_any(),
            Some(latest) => {
                let missing = current.filter(|v| !(1..=latest).contains(v));
                view! {
                    <label class="field">
                        <span class="field-label">"Version"</span>
                        <select
                            class="input"
                            class:invalid=missing.is_some()
                            data-testid="field-version"
                            on:change=move |ev| pin(event_target_value(&ev).parse().ok())
                        >
                            <option value="" selected=current.is_none()>{format!("latest (v{latest})")}</option>
                            {missing.map(|v| view! { <option value=v.to_string() selected=true>{format!("v{v} (does not exist)")}</option> })}
                            {(1..=latest)
                                .rev()
                                .map(|v| view! { <option value=v.to_string() selected=current == Some(v)>{format!("v{v}")}</option> })
                                .collect_view()}
                        </select>
                    </label>
                }
                .into_any()
            }
        }
    };
    let open = move || {
        let name = picked.get();
        (!name.is_empty()).then(|| {
            let href = designer::path(&name);
            view! {
                <a class="btn btn-small" href=href data-testid="open-child-workflow" title=format!("Open {name} in the designer")>
                    "Open " <code>{name.clone()}</code> " ↗"
                </a>
            }
        })
    };
    view! {
        <div class="field-row child-target">
            {workflow_field}
            {version_field}
        </div>
        <div class="child-open">{open}</div>
    }
}

fn set_subflow(kind: &mut NodeKind, workflow: Option<String>, version: Option<Option<i64>>) {
    if let NodeKind::Subflow(s) = kind {
        if let Some(w) = workflow {
            s.workflow = w;
        }
        if let Some(v) = version {
            s.version = v;
        }
    }
}

fn set_map(kind: &mut NodeKind, workflow: Option<String>, version: Option<Option<i64>>) {
    if let NodeKind::Map(m) = kind {
        if let Some(w) = workflow {
            m.workflow = w;
        }
        if let Some(v) = version {
            m.version = v;
        }
    }
}

/// A `subflow`'s form.
pub(super) fn subflow_fields(ctx: Ctx, id: String, s: SubflowNode) -> impl IntoView {
    let (i1, i2) = (id.clone(), id.clone());
    view! {
        <ChildTarget ctx id=id.clone() workflow=s.workflow.clone() version=s.version set=set_subflow />
        <Expression workflow=ctx.workflow node=id.clone() field=Field::SubflowInput>
            <JsonField label="Input (template)" testid="field-input" value=s.input.clone() hint="The child's input, e.g. \"{{ input }}\". Optional." on_input={move |v: Option<Value>| edit(ctx, &i1, "input", |n| if let NodeKind::Subflow(s) = &mut n.kind { s.input = v })} />
        </Expression>
        <DurationField label="Timeout" testid="field-timeout" value=s.timeout.clone() placeholder="waits for the child" on_input={move |v| edit(ctx, &i2, "timeout", |n| if let NodeKind::Subflow(s) = &mut n.kind { s.timeout = v })} />
        <p class="field-hint">"Its output is the child's output. A child that fails, is cancelled or times out takes the " <code>"error"</code> " port."</p>
    }
}

/// A `map`'s form.
pub(super) fn map_fields(ctx: Ctx, id: String, m: MapNode) -> impl IntoView {
    let (i1, i2, i3, i4) = (id.clone(), id.clone(), id.clone(), id.clone());
    view! {
        <Expression workflow=ctx.workflow node=id.clone() field=Field::MapItems>
            <JsonField label="Items (template giving a list)" testid="field-items" value=Some(m.items.clone()) required=true hint="e.g. \"{{ input.lines }}\"" on_input={move |v: Option<Value>| edit(ctx, &i1, "items", |n| if let (NodeKind::Map(m), Some(v)) = (&mut n.kind, v) { m.items = v })} />
        </Expression>
        <ChildTarget ctx id=id.clone() workflow=m.workflow.clone() version=m.version set=set_map />
        <Expression workflow=ctx.workflow node=id.clone() field=Field::MapInput>
            <JsonField label="Input per item (template)" testid="field-input" value=m.input.clone() hint="Reads item and index; default: the item itself." on_input={move |v: Option<Value>| edit(ctx, &i2, "input", |n| if let NodeKind::Map(m) = &mut n.kind { m.input = v })} />
        </Expression>
        <div class="field-row">
            <NumberField label="At once" testid="field-max-concurrency" value=m.max_concurrency min=1 placeholder=defaults::MAX_CONCURRENCY.to_string() on_input={move |v: Option<i64>| edit(ctx, &i3, "max_concurrency", |n| if let NodeKind::Map(m) = &mut n.kind { m.max_concurrency = v })} />
            <NumberField label="Failures tolerated" testid="field-tolerated" value=m.tolerated_failures min=0 placeholder="0".to_owned() on_input={move |v: Option<i64>| edit(ctx, &i4, "tolerated_failures", |n| if let NodeKind::Map(m) = &mut n.kind { m.tolerated_failures = v })} />
        </div>
        <p class="field-hint">"Its output lists the children's outputs in item order."</p>
    }
}
