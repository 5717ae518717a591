//! The form for one node: its id and label, then the settings of its type (SPEC §1's table).

use std::collections::BTreeMap;

use leptos::prelude::*;
use serde_json::Value;
use shared::model::{DurationText, HttpNode, Node, NodeKind, defaults};

use super::approval::approval_fields;
use super::retry::retry_fields;
use super::{DurationField, FormOf, JsonField, NodeFindings, TextField, edit, non_empty};
use crate::components::expression::{Expression, Field};
use crate::graph::look;
use crate::pages::designer::{Ctx, Selection};

/// The form for `node`.
pub(super) fn node_form(ctx: Ctx, node: Node) -> impl IntoView {
    view! { <NodeForm ctx node /> }
}

/// The form for one node: id and label, then its type's settings.
#[component]
fn NodeForm(ctx: Ctx, node: Node) -> impl IntoView {
    let id = node.id.clone();
    provide_context(FormOf {
        ctx,
        node: Some(id.clone()),
    });
    let ty = node.type_name();
    let id_error = RwSignal::new(None::<String>);
    let rename = {
        let id = id.clone();
        move |ev: leptos::ev::Event| {
            let new_id = event_target_value(&ev).trim().to_owned();
            match ctx.editor.try_update(|e| e.rename_node(&id, &new_id)) {
                Some(Ok(())) => {
                    id_error.set(None);
                    ctx.selection.set(Selection::Node(new_id));
                }
                Some(Err(e)) => id_error.set(Some(e.to_string())),
                None => {}
            }
        }
    };
    let delete = {
        let id = id.clone();
        move |_| {
            ctx.selection.set(Selection::Node(id.clone()));
            ctx.delete_selection();
        }
    };
    let label_input = {
        let id = id.clone();
        move |text: String| edit(ctx, &id, "label", |n| n.label = non_empty(text))
    };
    // Done typing the label: a node still named after its type is named after its label.
    let label_done = {
        let id = id.clone();
        move |_: String| {
            if let Some(Some(new_id)) = ctx.editor.try_update(|e| e.id_from_label(&id)) {
                ctx.selection.set(Selection::Node(new_id));
            }
        }
    };
    let settings = settings(ctx, &node);
    view! {
        <div class="inspector-head">
            <span class="inspector-tile" style:background=look::colour(ty)></span>
            <div>
                <h2 data-testid="inspector-title">{node.label.clone().unwrap_or_else(|| id.clone())}</h2>
                <span class="muted">{ty} " node"</span>
            </div>
            <button class="btn btn-small btn-danger" data-testid="delete-node" title="Delete (Del)" on:click=delete>
                "Delete"
            </button>
        </div>
        <NodeFindings ctx id=id.clone() />
        <div class="form">
            <label class="field">
                <span class="field-label">"Id"</span>
                <input
                    class="input"
                    class:invalid=move || id_error.get().is_some()
                    data-testid="field-id"
                    value=id.clone()
                    spellcheck="false"
                    on:change=rename
                />
                <span class="field-hint">"Templates read its output as " <code>{format!("nodes.{id}.output")}</code></span>
                {move || id_error.get().map(|e| view! { <span class="field-error" data-testid="field-error">{e}</span> })}
            </label>
            <TextField label="Label" testid="field-label" value=node.label.clone().unwrap_or_default() placeholder="Shown on the canvas" hint="A node still named after its type takes its id from the label." on_input=label_input on_change=label_done />
            {settings}
        </div>
    }
}

/// The fields of the node's type.
fn settings(ctx: Ctx, node: &Node) -> AnyView {
    let id = node.id.clone();
    match &node.kind {
        NodeKind::Start(_) | NodeKind::Parallel(_) | NodeKind::Join(_) => view! {
            <p class="muted">"This node type has no settings."</p>
        }
        .into_any(),
        NodeKind::End(end) => {
            let output = end.output.clone();
            let on_output = move |v: Option<Value>| edit(ctx, &id, "output", |n| {
                if let NodeKind::End(e) = &mut n.kind {
                    e.output = v;
                }
            });
            view! {
                <Expression workflow=ctx.workflow node=node.id.clone() field=Field::Output>
                    <JsonField label="Output (template)" testid="field-output" value=output hint="The run's output. Optional." on_input=on_output />
                </Expression>
            }
            .into_any()
        }
        NodeKind::Http(http) => http_fields(ctx, id, http.clone()).into_any(),
        NodeKind::Task(task) => {
            let (i1, i2, i3, i4, i5) = (id.clone(), id.clone(), id.clone(), id.clone(), id.clone());
            let input = task.input.clone();
            view! {
                <TextField label="Queue" testid="field-queue" value=task.queue.clone() on_input={move |v: String| edit(ctx, &i1, "queue", |n| if let NodeKind::Task(t) = &mut n.kind { t.queue = v })} />
                <TextField label="Activity" testid="field-activity" value=task.activity.clone() on_input={move |v: String| edit(ctx, &i2, "activity", |n| if let NodeKind::Task(t) = &mut n.kind { t.activity = v })} />
                <Expression workflow=ctx.workflow node=id.clone() field=Field::TaskInput>
                    <JsonField label="Input (template)" testid="field-input" value=input on_input={move |v: Option<Value>| edit(ctx, &i3, "input", |n| if let NodeKind::Task(t) = &mut n.kind { t.input = v })} />
                </Expression>
                <div class="field-row">
                    <DurationField label="Timeout per attempt" testid="field-timeout" value=task.timeout.clone() placeholder=defaults::TASK_TIMEOUT_TEXT on_input={move |v| edit(ctx, &i4, "timeout", |n| if let NodeKind::Task(t) = &mut n.kind { t.timeout = v })} />
                    <DurationField label="Heartbeat timeout" testid="field-heartbeat" value=task.heartbeat_timeout.clone() placeholder="none" on_input={move |v| edit(ctx, &i5, "heartbeat", |n| if let NodeKind::Task(t) = &mut n.kind { t.heartbeat_timeout = v })} />
                </div>
                {retry_fields(ctx, id.clone(), task.retry.clone())}
            }
            .into_any()
        }
        NodeKind::Approval(a) => approval_fields(ctx, id.clone(), a.clone()).into_any(),
        NodeKind::Signal(s) => {
            let (i1, i2) = (id.clone(), id.clone());
            view! {
                <TextField label="Signal name" testid="field-signal" value=s.signal.clone() hint="Sent with POST /api/runs/{id}/signals/{name}" on_input={move |v: String| edit(ctx, &i1, "signal", |n| if let NodeKind::Signal(s) = &mut n.kind { s.signal = v })} />
                <DurationField label="Timeout" testid="field-timeout" value=s.timeout.clone() placeholder="waits forever" on_input={move |v| edit(ctx, &i2, "timeout", |n| if let NodeKind::Signal(s) = &mut n.kind { s.timeout = v })} />
            }
            .into_any()
        }
        NodeKind::Timer(t) => view! {
            <DurationField label="Wait for" testid="field-duration" value=Some(t.duration.clone()) required=true on_input={move |v: Option<DurationText>| edit(ctx, &id, "duration", |n| if let NodeKind::Timer(t) = &mut n.kind { t.duration = v.unwrap_or(DurationText(String::new())) })} />
        }
        .into_any(),
        NodeKind::Condition(c) => {
            let expr = c.expr.clone();
            view! {
                <Expression workflow=ctx.workflow node=id.clone() field=Field::Expr>
                    <TextField label="Condition (expression)" testid="field-expr" value=expr hint="MiniJinja, judged by truthiness, e.g. input.amount > 100" on_input={move |v: String| edit(ctx, &id, "expr", |n| if let NodeKind::Condition(c) = &mut n.kind { c.expr = v })} />
                </Expression>
            }
            .into_any()
        }
        NodeKind::Transform(t) => {
            let output = t.output.clone();
            view! {
                <Expression workflow=ctx.workflow node=id.clone() field=Field::Output>
                    <JsonField label="Output (template)" testid="field-output" value=Some(output) required=true on_input={move |v: Option<Value>| edit(ctx, &id, "output", |n| if let (NodeKind::Transform(t), Some(v)) = (&mut n.kind, v) { t.output = v })} />
                </Expression>
            }
            .into_any()
        }
        NodeKind::Subflow(s) => super::children::subflow_fields(ctx, id, s.clone()).into_any(),
        NodeKind::Map(m) => super::children::map_fields(ctx, id, m.clone()).into_any(),
    }
}

/// The HTTP methods the request form offers.
const METHODS: [&str; 6] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];

fn http_fields(ctx: Ctx, id: String, http: HttpNode) -> impl IntoView {
    let (i1, i2, i3, i4, i5) = (id.clone(), id.clone(), id.clone(), id.clone(), id.clone());
    let method = http.request.method.clone();
    let headers_text = http
        .request
        .headers
        .as_ref()
        .map(|h| {
            h.iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default();
    let headers_error = RwSignal::new(None::<String>);
    view! {
        <div class="field-row">
            <label class="field field-narrow">
                <span class="field-label">"Method"</span>
                <select
                    class="input"
                    data-testid="field-method"
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        edit(ctx, &i1, "method", |n| if let NodeKind::Http(h) = &mut n.kind { h.request.method = v });
                    }
                >
                    {METHODS
                        .map(|m| view! { <option value=m selected=m == method>{m}</option> })}
                </select>
            </label>
            <Expression workflow=ctx.workflow node=id.clone() field=Field::Url>
                <TextField label="URL (template)" testid="field-url" value=http.request.url.clone() placeholder="https://…" on_input={move |v: String| edit(ctx, &i2, "url", |n| if let NodeKind::Http(h) = &mut n.kind { h.request.url = v })} />
            </Expression>
        </div>
        <Expression workflow=ctx.workflow node=id.clone() field=Field::Headers>
            <label class="field">
                <span class="field-label">"Headers"</span>
                <textarea
                    class="input code-input"
                    class:invalid=move || headers_error.get().is_some()
                    data-testid="field-headers"
                    rows="2"
                    placeholder="Content-Type: application/json"
                    spellcheck="false"
                    on:input=move |ev| {
                        match parse_headers(&event_target_value(&ev)) {
                            Ok(h) => {
                                headers_error.set(None);
                                edit(ctx, &i3, "headers", |n| if let NodeKind::Http(x) = &mut n.kind { x.request.headers = h });
                            }
                            Err(e) => headers_error.set(Some(e)),
                        }
                    }
                >
                    {headers_text}
                </textarea>
                <span class="field-hint">"One " <code>"Name: value"</code> " a line; values are templates."</span>
                {move || headers_error.get().map(|e| view! { <span class="field-error" data-testid="field-error">{e}</span> })}
            </label>
        </Expression>
        <Expression workflow=ctx.workflow node=id.clone() field=Field::Body>
            <JsonField label="Body (template)" testid="field-body" value=http.request.body.clone() hint="Sent as JSON. Optional." on_input={move |v: Option<Value>| edit(ctx, &i4, "body", |n| if let NodeKind::Http(h) = &mut n.kind { h.request.body = v })} />
        </Expression>
        <DurationField label="Timeout per attempt" testid="field-timeout" value=http.timeout.clone() placeholder=defaults::HTTP_TIMEOUT_TEXT on_input={move |v| edit(ctx, &i5, "timeout", |n| if let NodeKind::Http(h) = &mut n.kind { h.timeout = v })} />
        {retry_fields(ctx, id, http.retry.clone())}
    }
}

/// `Name: value` lines as a header map; `None` when there are none.
fn parse_headers(text: &str) -> Result<Option<BTreeMap<String, String>>, String> {
    let mut headers = BTreeMap::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!("Line {}: write it as Name: value", i + 1));
        };
        let name = name.trim();
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(format!("Line {}: `{name}` is not a header name", i + 1));
        }
        headers.insert(name.to_owned(), value.trim().to_owned());
    }
    Ok((!headers.is_empty()).then_some(headers))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_parse_line_by_line() {
        assert_eq!(parse_headers("  \n"), Ok(None));
        let h = parse_headers("Content-Type: application/json\nX-A: {{ input.a }}")
            .unwrap()
            .unwrap();
        assert_eq!(h["X-A"], "{{ input.a }}");
        assert!(parse_headers("nonsense").is_err());
    }
}
