//! The inspector: a form for the selected node (one per node type), the selected edge, or,
//! with nothing selected, the workflow's own settings. Every input checks itself as you type
//! (durations, JSON, ids, names) and writes to the model at once, so the validator's findings
//! follow each keystroke; keystrokes in one field make one undo step.

use std::collections::BTreeMap;
use std::time::Duration;

use leptos::prelude::*;
use serde_json::Value;
use shared::model::{
    DurationText, Node, NodeKind, RetryPolicy, Triggers, WebhookTrigger, Workflow,
};
use shared::validate::valid_workflow_name;

use super::{Ctx, Selection};
use crate::components::code_text::code_spans;
use crate::graph::look;

/// The form for whatever is selected, drawn again when the selection changes or the model
/// jumps (undo, redo).
pub(super) fn inspector(ctx: Ctx) -> impl IntoView {
    // Keyed by the selection and the generation: a new key draws a new form from the model,
    // where a redraw in place would leave stale text in inputs the person typed into.
    let key = Memo::new(move |_| (ctx.generation.get(), ctx.selection.get()));
    let form = move |selection: Selection| match selection {
        Selection::None => view! { <WorkflowSettings ctx /> }.into_any(),
        Selection::Node(id) => match ctx.workflow.with_untracked(|w| w.node(&id).cloned()) {
            Some(node) => view! { <NodeForm ctx node /> }.into_any(),
            None => ().into_any(),
        },
        Selection::Edge(i) => view! { <EdgePanel ctx index=i /> }.into_any(),
    };
    view! {
        <section class="inspector" data-testid="inspector">
            <For each=move || [key.get()] key=Clone::clone let:key>
                {form(key.1)}
            </For>
        </section>
    }
}

/// Applies `change` to node `id` as part of the undo step for `field`.
fn edit(ctx: Ctx, id: &str, field: &str, change: impl FnOnce(&mut Node)) {
    ctx.editor.update(|e| {
        let _ = e.update_node(id, field, change);
    });
}

/// Applies `change` to the workflow's settings as part of the undo step for `field`.
fn edit_workflow(ctx: Ctx, field: &str, change: impl FnOnce(&mut Workflow)) {
    let key = format!("workflow:{field}");
    ctx.editor.update(|e| {
        e.edit(Some(&key), change);
    });
}

/// `None` for a blank input.
fn non_empty(text: String) -> Option<String> {
    (!text.trim().is_empty()).then_some(text)
}

/// The findings about one node, at the top of its form.
#[component]
fn NodeFindings(ctx: Ctx, id: String) -> impl IntoView {
    let mine = move || {
        ctx.findings.with(|all| {
            all.iter()
                .filter(|f| f.node.as_deref() == Some(id.as_str()))
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    move || {
        let mine = mine();
        (!mine.is_empty()).then(|| {
            view! {
                <ul class="inspector-findings">
                    {mine
                        .into_iter()
                        .map(|f| {
                            let class = if f.is_error() { "finding-error" } else { "finding-warning" };
                            view! {
                                <li class=class data-testid="inspector-finding">
                                    {code_spans(&f.message)}
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            }
        })
    }
}

/// A text input that writes each keystroke through `on_input`.
#[component]
fn TextField(
    label: &'static str,
    testid: &'static str,
    value: String,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional)] hint: &'static str,
    #[prop(into)] on_input: Callback<String>,
) -> impl IntoView {
    view! {
        <label class="field">
            <span class="field-label">{label}</span>
            <input
                class="input"
                data-testid=testid
                value=value
                placeholder=placeholder
                spellcheck="false"
                on:input=move |ev| on_input.run(event_target_value(&ev))
            />
            {(!hint.is_empty()).then(|| view! { <span class="field-hint">{hint}</span> })}
        </label>
    }
}

/// A duration input (`500ms`, `5s`, `1h30m`) that says at once when it is not one.
#[component]
fn DurationField(
    label: &'static str,
    testid: &'static str,
    value: Option<DurationText>,
    /// Shown when empty: the default that applies then.
    #[prop(optional)]
    placeholder: &'static str,
    #[prop(optional)] required: bool,
    #[prop(into)] on_input: Callback<Option<DurationText>>,
) -> impl IntoView {
    let text = RwSignal::new(value.map(|d| d.0).unwrap_or_default());
    let error = move || {
        let t = text.get();
        if t.trim().is_empty() {
            required.then(|| "Required".to_owned())
        } else {
            DurationText(t)
                .parse()
                .err()
                .map(|_| "Not a duration: write e.g. 500ms, 5s, 10m, 1h30m or 7d".to_owned())
        }
    };
    view! {
        <label class="field">
            <span class="field-label">{label}</span>
            <input
                class="input"
                class:invalid=move || error().is_some()
                data-testid=testid
                value=text.get_untracked()
                placeholder=placeholder
                spellcheck="false"
                on:input=move |ev| {
                    let v = event_target_value(&ev);
                    text.set(v.clone());
                    on_input.run(non_empty(v).map(DurationText));
                }
            />
            {move || error().map(|e| view! { <span class="field-error" data-testid="field-error">{e}</span> })}
        </label>
    }
}

/// A JSON editor: only text that parses reaches the model; otherwise it says where it broke.
#[component]
fn JsonField(
    label: &'static str,
    testid: &'static str,
    value: Option<Value>,
    #[prop(optional)] required: bool,
    #[prop(optional)] hint: &'static str,
    #[prop(into)] on_input: Callback<Option<Value>>,
) -> impl IntoView {
    let initial = value
        .map(|v| serde_json::to_string_pretty(&v).unwrap_or_default())
        .unwrap_or_default();
    let error = RwSignal::new(None::<String>);
    view! {
        <label class="field">
            <span class="field-label">{label}</span>
            <textarea
                class="input code-input"
                class:invalid=move || error.get().is_some()
                data-testid=testid
                spellcheck="false"
                rows="4"
                on:input=move |ev| {
                    let text = event_target_value(&ev);
                    if text.trim().is_empty() {
                        if required {
                            error.set(Some("Required".into()));
                        } else {
                            error.set(None);
                            on_input.run(None);
                        }
                        return;
                    }
                    match serde_json::from_str::<Value>(&text) {
                        Ok(v) => {
                            error.set(None);
                            on_input.run(Some(v));
                        }
                        Err(e) => error.set(Some(format!("Not JSON yet: {e}"))),
                    }
                }
            >
                {initial}
            </textarea>
            {(!hint.is_empty()).then(|| view! { <span class="field-hint">{hint}</span> })}
            {move || error.get().map(|e| view! { <span class="field-error" data-testid="field-error">{e}</span> })}
        </label>
    }
}

/// The form for one node: id and label, then its type's settings.
#[component]
fn NodeForm(ctx: Ctx, node: Node) -> impl IntoView {
    let id = node.id.clone();
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
    let settings = settings(ctx, &node);
    view! {
        <div class="inspector-head">
            <span class="inspector-tile" style=format!("background: {}", look::colour(ty))></span>
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
            <TextField label="Label" testid="field-label" value=node.label.clone().unwrap_or_default() placeholder="Shown on the canvas" on_input=label_input />
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
            let on_output = move |v: Option<Value>| edit(ctx, &id, "output", |n| {
                if let NodeKind::End(e) = &mut n.kind {
                    e.output = v;
                }
            });
            view! {
                <JsonField label="Output (template)" testid="field-output" value=end.output.clone() hint="The run's output. Optional." on_input=on_output />
            }
            .into_any()
        }
        NodeKind::Http(http) => http_fields(ctx, id, http.clone()).into_any(),
        NodeKind::Task(task) => {
            let (i1, i2, i3, i4, i5) = (id.clone(), id.clone(), id.clone(), id.clone(), id.clone());
            view! {
                <TextField label="Queue" testid="field-queue" value=task.queue.clone() on_input={move |v: String| edit(ctx, &i1, "queue", |n| if let NodeKind::Task(t) = &mut n.kind { t.queue = v })} />
                <TextField label="Activity" testid="field-activity" value=task.activity.clone() on_input={move |v: String| edit(ctx, &i2, "activity", |n| if let NodeKind::Task(t) = &mut n.kind { t.activity = v })} />
                <JsonField label="Input (template)" testid="field-input" value=task.input.clone() on_input={move |v: Option<Value>| edit(ctx, &i3, "input", |n| if let NodeKind::Task(t) = &mut n.kind { t.input = v })} />
                <div class="field-row">
                    <DurationField label="Timeout per attempt" testid="field-timeout" value=task.timeout.clone() placeholder="5m" on_input={move |v| edit(ctx, &i4, "timeout", |n| if let NodeKind::Task(t) = &mut n.kind { t.timeout = v })} />
                    <DurationField label="Heartbeat timeout" testid="field-heartbeat" value=task.heartbeat_timeout.clone() placeholder="none" on_input={move |v| edit(ctx, &i5, "heartbeat", |n| if let NodeKind::Task(t) = &mut n.kind { t.heartbeat_timeout = v })} />
                </div>
                <RetryFields ctx id=id.clone() policy=task.retry.clone() />
            }
            .into_any()
        }
        NodeKind::Approval(a) => {
            let (i1, i2) = (id.clone(), id.clone());
            view! {
                <label class="field">
                    <span class="field-label">"Prompt (template)"</span>
                    <textarea
                        class="input"
                        data-testid="field-prompt"
                        rows="3"
                        on:input=move |ev| {
                            let v = event_target_value(&ev);
                            edit(ctx, &i1, "prompt", |n| if let NodeKind::Approval(a) = &mut n.kind { a.prompt = v });
                        }
                    >
                        {a.prompt.clone()}
                    </textarea>
                </label>
                <DurationField label="Timeout" testid="field-timeout" value=a.timeout.clone() placeholder="waits forever" on_input={move |v| edit(ctx, &i2, "timeout", |n| if let NodeKind::Approval(a) = &mut n.kind { a.timeout = v })} />
                <p class="field-hint">"Ports: " <code>"approved"</code> ", " <code>"rejected"</code> " and, with a timeout, " <code>"timeout"</code> "."</p>
            }
            .into_any()
        }
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
        NodeKind::Condition(c) => view! {
            <TextField label="Condition (expression)" testid="field-expr" value=c.expr.clone() hint="MiniJinja, judged by truthiness, e.g. input.amount > 100" on_input={move |v: String| edit(ctx, &id, "expr", |n| if let NodeKind::Condition(c) = &mut n.kind { c.expr = v })} />
        }
        .into_any(),
        NodeKind::Transform(t) => view! {
            <JsonField label="Output (template)" testid="field-output" value=Some(t.output.clone()) required=true on_input={move |v: Option<Value>| edit(ctx, &id, "output", |n| if let (NodeKind::Transform(t), Some(v)) = (&mut n.kind, v) { t.output = v })} />
        }
        .into_any(),
    }
}

/// The HTTP methods the request form offers.
const METHODS: [&str; 6] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];

fn http_fields(ctx: Ctx, id: String, http: shared::model::HttpNode) -> impl IntoView {
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
            <TextField label="URL (template)" testid="field-url" value=http.request.url.clone() placeholder="https://…" on_input={move |v: String| edit(ctx, &i2, "url", |n| if let NodeKind::Http(h) = &mut n.kind { h.request.url = v })} />
        </div>
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
        <JsonField label="Body (template)" testid="field-body" value=http.request.body.clone() hint="Sent as JSON. Optional." on_input={move |v: Option<Value>| edit(ctx, &i4, "body", |n| if let NodeKind::Http(h) = &mut n.kind { h.request.body = v })} />
        <DurationField label="Timeout per attempt" testid="field-timeout" value=http.timeout.clone() placeholder="30s" on_input={move |v| edit(ctx, &i5, "timeout", |n| if let NodeKind::Http(h) = &mut n.kind { h.timeout = v })} />
        <RetryFields ctx id policy=http.retry.clone() />
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

/// The retry policy of an `http` or `task` node, and the schedule it results in.
#[component]
fn RetryFields(ctx: Ctx, id: String, policy: Option<RetryPolicy>) -> impl IntoView {
    let p = policy.unwrap_or_default();
    let set = {
        let id = id.clone();
        move |field: &'static str, change: Box<dyn FnOnce(&mut RetryPolicy)>| {
            edit(ctx, &id, field, |n| {
                let retry = match &mut n.kind {
                    NodeKind::Http(h) => &mut h.retry,
                    NodeKind::Task(t) => &mut t.retry,
                    _ => return,
                };
                let mut policy = retry.take().unwrap_or_default();
                change(&mut policy);
                *retry = (policy != RetryPolicy::default()).then_some(policy);
            })
        }
    };
    let attempts_error = RwSignal::new(None::<String>);
    let coefficient_error = RwSignal::new(None::<String>);
    let schedule = move || {
        ctx.workflow.with(|wf| {
            wf.node(&id)
                .and_then(|n| n.kind.retry())
                .map(|r| schedule_text(r.max_attempts, |n| r.backoff(n)))
        })
    };
    let (s1, s2, s3, s4) = (set.clone(), set.clone(), set.clone(), set);
    view! {
        <fieldset class="fieldset" data-testid="retry-policy">
            <legend>"Retry policy"</legend>
            <div class="field-row">
                <label class="field">
                    <span class="field-label">"Max attempts"</span>
                    <input
                        class="input"
                        class:invalid=move || attempts_error.get().is_some()
                        type="number"
                        min="1"
                        data-testid="field-max-attempts"
                        placeholder="3"
                        value=p.max_attempts.map(|n| n.to_string()).unwrap_or_default()
                        on:input=move |ev| {
                            let text = event_target_value(&ev);
                            let parsed = if text.trim().is_empty() { Ok(None) } else { text.trim().parse::<i64>().map(Some) };
                            match parsed {
                                Ok(Some(n)) if n < 1 => attempts_error.set(Some("At least 1".into())),
                                Ok(v) => {
                                    attempts_error.set(None);
                                    s1("retry.max_attempts", Box::new(move |p| p.max_attempts = v));
                                }
                                Err(_) => attempts_error.set(Some("A whole number".into())),
                            }
                        }
                    />
                    {move || attempts_error.get().map(|e| view! { <span class="field-error" data-testid="field-error">{e}</span> })}
                </label>
                <label class="field">
                    <span class="field-label">"Backoff ×"</span>
                    <input
                        class="input"
                        class:invalid=move || coefficient_error.get().is_some()
                        type="number"
                        min="1"
                        step="0.5"
                        data-testid="field-backoff"
                        placeholder="2"
                        value=p.backoff_coefficient.map(|n| n.to_string()).unwrap_or_default()
                        on:input=move |ev| {
                            let text = event_target_value(&ev);
                            let parsed = if text.trim().is_empty() { Ok(None) } else { text.trim().parse::<f64>().map(Some) };
                            match parsed {
                                Ok(Some(c)) if c < 1.0 => coefficient_error.set(Some("At least 1".into())),
                                Ok(v) => {
                                    coefficient_error.set(None);
                                    s2("retry.backoff", Box::new(move |p| p.backoff_coefficient = v));
                                }
                                Err(_) => coefficient_error.set(Some("A number".into())),
                            }
                        }
                    />
                    {move || coefficient_error.get().map(|e| view! { <span class="field-error" data-testid="field-error">{e}</span> })}
                </label>
            </div>
            <div class="field-row">
                <DurationField label="First wait" testid="field-initial-interval" value=p.initial_interval.clone() placeholder="1s" on_input={move |v| s3("retry.initial", Box::new(move |p| p.initial_interval = v))} />
                <DurationField label="Longest wait" testid="field-max-interval" value=p.max_interval.clone() placeholder="100 × first" on_input={move |v| s4("retry.max_interval", Box::new(move |p| p.max_interval = v))} />
            </div>
            <p class="retry-schedule" data-testid="retry-schedule">{schedule}</p>
        </fieldset>
    }
}

/// `3 attempts; waits 1s → 2s between them`, from the policy's backoff.
fn schedule_text(attempts: u32, backoff: impl Fn(u32) -> Duration) -> String {
    if attempts <= 1 {
        return "1 attempt, no retries".to_owned();
    }
    const SHOWN: u32 = 6;
    let mut waits: Vec<String> = (1..attempts.min(SHOWN + 1))
        .map(|n| format_duration(backoff(n)))
        .collect();
    if attempts > SHOWN + 1 {
        waits.push(format!("… ({} more)", attempts - SHOWN - 1));
    }
    format!(
        "{attempts} attempts; waits {} between them",
        waits.join(" → ")
    )
}

/// A duration the way people write them: `500ms`, `4s`, `1.5s`, `2m`, `1h30m`.
fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        return format!("{ms}ms");
    }
    if ms < 60_000 {
        return if ms.is_multiple_of(1000) {
            format!("{}s", ms / 1000)
        } else {
            format!("{:.1}s", ms as f64 / 1000.0)
        };
    }
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out += &format!("{h}h");
    }
    if m > 0 {
        out += &format!("{m}m");
    }
    if s > 0 {
        out += &format!("{s}s");
    }
    out
}

/// The selected edge: where it goes, and a way to delete it.
#[component]
fn EdgePanel(ctx: Ctx, index: usize) -> impl IntoView {
    let edge = ctx.workflow.with_untracked(|w| w.edges.get(index).cloned());
    let Some(edge) = edge else {
        return ().into_any();
    };
    let findings = move || {
        ctx.findings.with(|all| {
            all.iter()
                .filter(|f| f.edge == Some(index))
                .map(|f| view! { <li class="finding-error" data-testid="inspector-finding">{code_spans(&f.message)}</li> })
                .collect_view()
        })
    };
    view! {
        <div class="inspector-head">
            <div>
                <h2 data-testid="inspector-title">"Edge"</h2>
                <span class="muted">"A connection between two nodes"</span>
            </div>
            <button class="btn btn-small btn-danger" data-testid="delete-edge" title="Delete (Del)" on:click=move |_| ctx.delete_selection()>
                "Delete"
            </button>
        </div>
        <ul class="inspector-findings">{findings}</ul>
        <dl class="facts">
            <dt>"From"</dt>
            <dd><code>{edge.from}</code> " through port " <code>{edge.port}</code></dd>
            <dt>"To"</dt>
            <dd><code>{edge.to}</code></dd>
        </dl>
    }
    .into_any()
}

/// The workflow's own settings, shown when nothing is selected.
#[component]
fn WorkflowSettings(ctx: Ctx) -> impl IntoView {
    let wf = ctx.workflow.get_untracked();
    let name_ok = move || ctx.workflow.with(|w| valid_workflow_name(&w.name));
    let node_ids = move || {
        ctx.workflow
            .with(|w| w.nodes.iter().map(|n| n.id.clone()).collect::<Vec<_>>())
    };
    let on_cancel = wf.on_cancel.clone();
    let webhook = move || {
        ctx.workflow
            .with(|w| w.triggers.as_ref().and_then(|t| t.webhook.clone()))
    };
    let origin = window().location().origin().unwrap_or_default();
    let hook_url = {
        let origin = origin.clone();
        move || ctx.workflow.with(|w| format!("{origin}/hooks/{}", w.name))
    };
    let curl = move || {
        let url = ctx.workflow.with(|w| format!("{origin}/hooks/{}", w.name));
        match webhook().and_then(|h| h.secret) {
            Some(secret) => format!(
                "BODY='{{\"order_id\": \"42\"}}'\nSIG=$(printf '%s' \"$BODY\" | openssl dgst -sha256 -hmac \"$WEFT_SECRET_{secret}\" | sed 's/^.* //')\ncurl -X POST '{url}' \\\n  -H 'Content-Type: application/json' \\\n  -H \"X-Weft-Signature: sha256=$SIG\" \\\n  -d \"$BODY\""
            ),
            None => format!(
                "curl -X POST '{url}' \\\n  -H 'Content-Type: application/json' \\\n  -d '{{\"order_id\": \"42\"}}'"
            ),
        }
    };
    let secret_value = wf
        .triggers
        .as_ref()
        .and_then(|t| t.webhook.as_ref())
        .and_then(|h| h.secret.clone())
        .unwrap_or_default();
    view! {
        <div class="inspector-head">
            <div>
                <h2 data-testid="inspector-title">"Workflow settings"</h2>
                <span class="muted">"Select a node or an edge to edit it instead."</span>
            </div>
        </div>
        <div class="form">
            <label class="field">
                <span class="field-label">"Name"</span>
                <input
                    class="input"
                    class:invalid=move || !name_ok()
                    data-testid="field-name"
                    value=wf.name.clone()
                    placeholder="e.g. process-order"
                    spellcheck="false"
                    on:input=move |ev| {
                        let v = event_target_value(&ev);
                        edit_workflow(ctx, "name", |w| w.name = v);
                    }
                />
                <Show when=move || !name_ok()>
                    <span class="field-error" data-testid="field-error">
                        "Lower-case letters, digits, - and _; up to 63, starting with a letter or digit"
                    </span>
                </Show>
            </label>
            <label class="field">
                <span class="field-label">"Description"</span>
                <textarea
                    class="input"
                    data-testid="field-description"
                    rows="2"
                    on:input=move |ev| {
                        let v = event_target_value(&ev);
                        edit_workflow(ctx, "description", |w| w.description = non_empty(v));
                    }
                >
                    {wf.description.clone().unwrap_or_default()}
                </textarea>
            </label>
            <DurationField label="Run timeout" testid="field-run-timeout" value=wf.timeout.clone() placeholder="none" on_input={move |v| edit_workflow(ctx, "timeout", |w| w.timeout = v)} />
            <JsonField label="Input schema (JSON Schema)" testid="field-input-schema" value=wf.input_schema.clone() hint="Every run's input must match it. Optional." on_input={move |v| edit_workflow(ctx, "input_schema", |w| w.input_schema = v)} />
            <label class="field">
                <span class="field-label">"On cancel, run"</span>
                <select
                    class="input"
                    data-testid="field-on-cancel"
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        edit_workflow(ctx, "on_cancel", |w| w.on_cancel = non_empty(v));
                    }
                >
                    <option value="" selected=on_cancel.is_none()>"nothing"</option>
                    {move || {
                        node_ids()
                            .into_iter()
                            .map(|id| {
                                let selected = on_cancel.as_deref() == Some(id.as_str());
                                view! { <option value=id.clone() selected=selected>{id.clone()}</option> }
                            })
                            .collect_view()
                    }}
                </select>
                <span class="field-hint">"A node nothing leads to; its path runs when a run is cancelled."</span>
            </label>
            <fieldset class="fieldset">
                <legend>"Webhook trigger"</legend>
                <label class="check">
                    <input
                        type="checkbox"
                        data-testid="field-webhook"
                        checked=webhook().is_some()
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            edit_workflow(ctx, "webhook", |w| {
                                w.triggers = on.then_some(Triggers { webhook: Some(WebhookTrigger { secret: None }) });
                            });
                        }
                    />
                    "Start runs with " <code>"POST /hooks/…"</code>
                </label>
                <Show when=move || webhook().is_some()>
                    <TextField
                        label="Secret name"
                        testid="field-webhook-secret"
                        value=secret_value.clone()
                        placeholder="ORDERS_HOOK"
                        hint="The server reads the key from WEFT_SECRET_<NAME>; deliveries must be signed with it."
                        on_input=move |v: String| edit_workflow(ctx, "secret", |w| {
                            w.triggers = Some(Triggers { webhook: Some(WebhookTrigger { secret: non_empty(v) }) });
                        })
                    />
                    <span class="field-label">"URL"</span>
                    <code class="copyable" data-testid="webhook-url">{hook_url.clone()}</code>
                    <span class="field-label">"Try it"</span>
                    <pre class="curl" data-testid="webhook-curl">{curl.clone()}</pre>
                </Show>
            </fieldset>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_shows_each_wait() {
        let r = RetryPolicy::resolve(None);
        assert_eq!(
            schedule_text(r.max_attempts, |n| r.backoff(n)),
            "3 attempts; waits 1s → 2s between them"
        );
        assert_eq!(
            schedule_text(1, |_| Duration::ZERO),
            "1 attempt, no retries"
        );
        let r = RetryPolicy::resolve(Some(&RetryPolicy {
            max_attempts: Some(10),
            initial_interval: Some(DurationText("500ms".into())),
            ..Default::default()
        }));
        assert_eq!(
            schedule_text(r.max_attempts, |n| r.backoff(n)),
            "10 attempts; waits 500ms → 1s → 2s → 4s → 8s → 16s → … (3 more) between them"
        );
    }

    #[test]
    fn durations_read_like_they_are_written() {
        assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m");
        assert_eq!(format_duration(Duration::from_secs(60)), "1m");
    }

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
