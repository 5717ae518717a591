//! The forms of the two node types that start child runs (SPEC §5): `subflow` (one child)
//! and `map` (one child per item). Numbers typed here are checked as they are typed; which
//! workflows exist is the validator's and the server's to say.

use leptos::prelude::*;
use serde_json::Value;
use shared::model::{MapNode, NodeKind, SubflowNode, defaults};

use super::{DurationField, JsonField, TextField, edit, non_empty};
use crate::pages::designer::Ctx;

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

/// Which child workflow, and which of its versions.
fn target(
    ctx: Ctx,
    id: String,
    workflow: String,
    version: Option<i64>,
    set: fn(&mut NodeKind, Option<String>, Option<Option<i64>>),
) -> impl IntoView {
    let (i1, i2) = (id.clone(), id);
    view! {
        <div class="field-row">
            <TextField label="Workflow" testid="field-workflow" value=workflow placeholder="a saved workflow's name" on_input={move |v: String| edit(ctx, &i1, "workflow", |n| set(&mut n.kind, Some(v), None))} />
            <NumberField label="Version" testid="field-version" value=version min=1 placeholder="latest".to_owned() on_input={move |v: Option<i64>| edit(ctx, &i2, "version", |n| set(&mut n.kind, None, Some(v)))} />
        </div>
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
        {target(ctx, id, s.workflow.clone(), s.version, set_subflow)}
        <JsonField label="Input (template)" testid="field-input" value=s.input.clone() hint="The child's input, e.g. \"{{ input }}\". Optional." on_input={move |v: Option<Value>| edit(ctx, &i1, "input", |n| if let NodeKind::Subflow(s) = &mut n.kind { s.input = v })} />
        <DurationField label="Timeout" testid="field-timeout" value=s.timeout.clone() placeholder="waits for the child" on_input={move |v| edit(ctx, &i2, "timeout", |n| if let NodeKind::Subflow(s) = &mut n.kind { s.timeout = v })} />
        <p class="field-hint">"Its output is the child's output. A child that fails, is cancelled or times out takes the " <code>"error"</code> " port."</p>
    }
}

/// A `map`'s form.
pub(super) fn map_fields(ctx: Ctx, id: String, m: MapNode) -> impl IntoView {
    let (i1, i2, i3, i4) = (id.clone(), id.clone(), id.clone(), id.clone());
    view! {
        <JsonField label="Items (template giving a list)" testid="field-items" value=Some(m.items.clone()) required=true hint="e.g. \"{{ input.lines }}\"" on_input={move |v: Option<Value>| edit(ctx, &i1, "items", |n| if let (NodeKind::Map(m), Some(v)) = (&mut n.kind, v) { m.items = v })} />
        {target(ctx, id, m.workflow.clone(), m.version, set_map)}
        <JsonField label="Input per item (template)" testid="field-input" value=m.input.clone() hint="Reads item and index; default: the item itself." on_input={move |v: Option<Value>| edit(ctx, &i2, "input", |n| if let NodeKind::Map(m) = &mut n.kind { m.input = v })} />
        <div class="field-row">
            <NumberField label="At once" testid="field-max-concurrency" value=m.max_concurrency min=1 placeholder=defaults::MAX_CONCURRENCY.to_string() on_input={move |v: Option<i64>| edit(ctx, &i3, "max_concurrency", |n| if let NodeKind::Map(m) = &mut n.kind { m.max_concurrency = v })} />
            <NumberField label="Failures tolerated" testid="field-tolerated" value=m.tolerated_failures min=0 placeholder="0".to_owned() on_input={move |v: Option<i64>| edit(ctx, &i4, "tolerated_failures", |n| if let NodeKind::Map(m) = &mut n.kind { m.tolerated_failures = v })} />
        </div>
        <p class="field-hint">"Its output lists the children's outputs in item order."</p>
    }
}
