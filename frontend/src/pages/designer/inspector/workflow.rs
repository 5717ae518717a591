//! The workflow's own settings, shown when nothing is selected: name, description, run
//! timeout, `input_schema`, `on_cancel`, the webhook trigger with its URL and a `curl`
//! example that signs the body the way the server checks it, and the cron schedules.

use leptos::prelude::*;
use shared::model::{Triggers, WebhookTrigger, Workflow};
use shared::validate::valid_workflow_name;

use super::schedules::schedules;
use super::{DurationField, FormOf, JsonField, TextField, non_empty};
use crate::pages::designer::Ctx;

/// The settings form.
pub(super) fn workflow_settings(ctx: Ctx) -> impl IntoView {
    view! { <WorkflowSettings ctx /> }
}

/// Applies `change` to the workflow's settings as part of the undo step for `field`.
fn edit_workflow(ctx: Ctx, field: &str, change: impl FnOnce(&mut Workflow)) {
    let key = format!("workflow:{field}");
    ctx.editor.update(|e| {
        e.edit(Some(&key), change);
    });
}

/// The workflow's own settings, shown when nothing is selected.
#[component]
fn WorkflowSettings(ctx: Ctx) -> impl IntoView {
    provide_context(FormOf { ctx, node: None });
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
                "BODY='{{\"order_id\": \"42\"}}'\nSIG=$(printf '%s' \"$BODY\" | openssl dgst -sha256 -hmac \"$WEFT_HOOK_SECRET_{secret}\" | sed 's/^.* //')\ncurl -X POST '{url}' \\\n  -H 'Content-Type: application/json' \\\n  -H \"X-Weft-Signature: sha256=$SIG\" \\\n  -d \"$BODY\""
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
                                let mut t = w.triggers.take().unwrap_or_default();
                                t.webhook = on.then_some(WebhookTrigger { secret: None });
                                w.triggers = (t != Triggers::default()).then_some(t);
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
                        hint="The server reads the key from WEFT_HOOK_SECRET_<NAME> (apart from the secrets templates read); deliveries must be signed with it."
                        on_input=move |v: String| edit_workflow(ctx, "secret", |w| {
                            let mut t = w.triggers.take().unwrap_or_default();
                            t.webhook = Some(WebhookTrigger { secret: non_empty(v) });
                            w.triggers = Some(t);
                        })
                    />
                    <span class="field-label">"URL"</span>
                    <code class="copyable" data-testid="webhook-url">{hook_url.clone()}</code>
                    <span class="field-label">"Try it"</span>
                    <pre class="curl" data-testid="webhook-curl">{curl.clone()}</pre>
                </Show>
            </fieldset>
            {schedules(ctx)}
        </div>
    }
}
