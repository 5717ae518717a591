//! The approval node's form (SPEC §7): the prompt and timeout, who may decide, whether whoever
//! started the run may, what happens at the timeout, the escalation steps, and the decision
//! form's JSON Schema with a preview drawn by the inbox's own form code, so the designer shows
//! exactly the form an approver will fill in.

use leptos::prelude::*;
use serde_json::Value;
use shared::access::Role;
use shared::model::{ApprovalNode, Approvers, DurationText, Escalation, NodeKind, Verdict};

use super::{Ctx, DurationField, JsonField, TextField, edit, non_empty};
use crate::components::expression::{Expression, Field};
use crate::pages::inbox::form::{self, Errors, FormFields};

/// The roles that can be given a decision (a viewer never decides).
const DECIDING: [Role; 4] = [Role::Approver, Role::Operator, Role::Editor, Role::Admin];

/// The names typed in a users field: separated by commas or spaces, blanks dropped.
fn parse_users(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Applies `change` to the approval settings of node `id`, in the undo step of `field`.
fn edit_approval(ctx: Ctx, id: &str, field: &str, change: impl FnOnce(&mut ApprovalNode)) {
    edit(ctx, id, field, |n| {
        if let NodeKind::Approval(a) = &mut n.kind {
            change(a);
        }
    });
}

/// The approval's settings below the node's id and label.
pub(super) fn approval_fields(ctx: Ctx, id: String, a: ApprovalNode) -> impl IntoView {
    let (i1, i2, i3, i4, i5, i6) = (
        id.clone(),
        id.clone(),
        id.clone(),
        id.clone(),
        id.clone(),
        id.clone(),
    );
    let default_decision = a.default_decision.map_or("", Verdict::as_str);
    let schema = RwSignal::new(a.form.clone());
    view! {
        <Expression workflow=ctx.workflow node=id.clone() field=Field::Prompt>
            <label class="field">
                <span class="field-label">"Prompt (template)"</span>
                <textarea
                    class="input"
                    data-testid="field-prompt"
                    rows="3"
                    on:input=move |ev| {
                        let v = event_target_value(&ev);
                        edit_approval(ctx, &i1, "prompt", |a| a.prompt = v);
                    }
                >
                    {a.prompt.clone()}
                </textarea>
            </label>
        </Expression>
        <div class="field-row">
            <DurationField label="Timeout" testid="field-timeout" value=a.timeout.clone() placeholder="waits forever" on_input={move |v| edit_approval(ctx, &i2, "timeout", |a| a.timeout = v)} />
            <label class="field">
                <span class="field-label">"At the timeout"</span>
                <select
                    class="input"
                    data-testid="field-default-decision"
                    on:change=move |ev| {
                        let v = match event_target_value(&ev).as_str() {
                            "approve" => Some(Verdict::Approve),
                            "reject" => Some(Verdict::Reject),
                            _ => None,
                        };
                        edit_approval(ctx, &i3, "default_decision", |a| a.default_decision = v);
                    }
                >
                    <option value="" selected=default_decision.is_empty()>"Leave by the timeout port"</option>
                    <option value="approve" selected=default_decision == "approve">"Approve"</option>
                    <option value="reject" selected=default_decision == "reject">"Reject"</option>
                </select>
            </label>
        </div>
        <p class="field-hint">
            "Ports: " <code>"approved"</code> ", " <code>"rejected"</code>
            " and, with a timeout and no decision taken at it, " <code>"timeout"</code> "."
        </p>
        <fieldset class="fieldset" data-testid="approvers">
            <legend>"Who may decide"</legend>
            <ApproversField
                testid="approvers"
                users_testid="approvers-users"
                value=a.approvers.clone().unwrap_or_default()
                hint="Nothing ticked or named: anyone with the approver role or above."
                on_change={move |v: Approvers| {
                    let v = (v != Approvers::default()).then_some(v);
                    edit_approval(ctx, &i4, "approvers", |a| a.approvers = v);
                }}
            />
            <label class="check">
                <input
                    type="checkbox"
                    data-testid="field-self-approval"
                    checked=a.allow_self_approval
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        edit_approval(ctx, &i5, "allow_self_approval", |a| a.allow_self_approval = on);
                    }
                />
                "Whoever started the run may decide it too"
            </label>
        </fieldset>
        <EscalationSteps ctx id=id.clone() count=a.escalate.len() />
        <JsonField
            label="Form (JSON Schema)"
            testid="field-form"
            value=a.form.clone()
            hint="The decision's data must match it; the inbox draws these fields."
            on_input={move |v: Option<Value>| {
                schema.set(v.clone());
                edit_approval(ctx, &i6, "form", |a| a.form = v);
            }}
        />
        <FormPreview schema />
    }
}

/// Roles to tick and users to name.
#[component]
fn ApproversField(
    /// Prefixes the role boxes' test ids (`{testid}-role-admin`).
    testid: &'static str,
    /// The users input's test id.
    users_testid: &'static str,
    value: Approvers,
    #[prop(optional)] hint: &'static str,
    #[prop(into)] on_change: Callback<Approvers>,
) -> impl IntoView {
    let current = StoredValue::new(value.clone());
    let changed = move |change: &dyn Fn(&mut Approvers)| {
        current.update_value(|a| change(a));
        on_change.run(current.get_value());
    };
    let boxes = DECIDING
        .into_iter()
        .map(|role| {
            let checked = value.roles.contains(&role);
            view! {
                <label class="check check-inline">
                    <input
                        type="checkbox"
                        data-testid=format!("{testid}-role-{}", role.as_str())
                        checked=checked
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            changed(&|a: &mut Approvers| {
                                a.roles.retain(|r| *r != role);
                                if on {
                                    a.roles.push(role);
                                    a.roles.sort();
                                }
                            });
                        }
                    />
                    {role.as_str()}
                </label>
            }
        })
        .collect_view();
    view! {
        <div class="field">
            <span class="field-label">"Roles (or any role above)"</span>
            <div class="check-row">{boxes}</div>
        </div>
        <TextField
            label="Users"
            testid=users_testid
            value=value.users.join(", ")
            placeholder="names, separated by commas"
            hint=hint
            on_input={move |text: String| {
                let users = parse_users(&text);
                changed(&|a: &mut Approvers| a.users = users.clone());
            }}
        />
    }
}

/// A new step: after an hour, admins too.
fn new_step() -> Escalation {
    Escalation {
        after: DurationText("1h".to_owned()),
        approvers: Approvers {
            roles: vec![Role::Admin],
            users: Vec::new(),
        },
        notify: None,
    }
}

/// Step `i` of approval node `id`'s escalation, as the model has it now.
fn step_at(ctx: Ctx, id: &str, i: usize) -> Option<Escalation> {
    ctx.workflow.with_untracked(|w| match &w.node(id)?.kind {
        NodeKind::Approval(a) => a.escalate.get(i).cloned(),
        _ => None,
    })
}

/// The escalation steps: each adds approvers after a delay and may notify a URL.
#[component]
fn EscalationSteps(
    ctx: Ctx,
    id: String,
    /// How many steps the node has when the form is drawn.
    count: usize,
) -> impl IntoView {
    // Each step's form keeps its key when a step before it is removed, so what is typed in
    // the others stays; a form finds its index from its key.
    let keys = RwSignal::new((0..count as u64).collect::<Vec<u64>>());
    let next_key = StoredValue::new(count as u64);
    let id = StoredValue::new(id);
    let add = move |_| {
        let key = next_key.get_value();
        next_key.set_value(key + 1);
        edit_approval(ctx, &id.get_value(), &format!("escalate:add:{key}"), |a| {
            a.escalate.push(new_step());
        });
        keys.update(|k| k.push(key));
    };
    view! {
        <fieldset class="fieldset" data-testid="escalations">
            <legend>"Escalation"</legend>
            <span class="field-hint">
                "Still waiting after each step's delay (from the start of the wait), its approvers may decide too."
            </span>
            <For each=move || keys.get() key=|k| *k let:key>
                <StepForm ctx id keys key />
            </For>
            <button class="btn btn-small" data-testid="add-escalation" on:click=add>
                "+ Add escalation step"
            </button>
        </fieldset>
    }
}

/// One escalation step's form.
#[component]
fn StepForm(
    ctx: Ctx,
    id: StoredValue<String>,
    keys: RwSignal<Vec<u64>>,
    key: u64,
) -> impl IntoView {
    let index = move || keys.with_untracked(|k| k.iter().position(|x| *x == key));
    let Some(step) = index().and_then(|i| id.with_value(|id| step_at(ctx, id, i))) else {
        return ().into_any();
    };
    let change = move |field: &str, f: &dyn Fn(&mut Escalation)| {
        let Some(i) = index() else {
            return;
        };
        edit_approval(
            ctx,
            &id.get_value(),
            &format!("escalate:{i}:{field}"),
            |a| {
                if let Some(step) = a.escalate.get_mut(i) {
                    f(step);
                }
            },
        );
    };
    let remove = move |_| {
        let Some(i) = index() else {
            return;
        };
        edit_approval(
            ctx,
            &id.get_value(),
            &format!("escalate:remove:{key}"),
            |a| {
                if i < a.escalate.len() {
                    a.escalate.remove(i);
                }
            },
        );
        keys.update(|k| k.retain(|x| *x != key));
    };
    view! {
        <div class="escalation-step" data-testid="escalation-step">
            <div class="field-row">
                <DurationField
                    label="After"
                    testid="step-after"
                    value=Some(step.after.clone())
                    required=true
                    on_input={move |v: Option<DurationText>| {
                        let v = v.unwrap_or_else(|| DurationText(String::new()));
                        change("after", &|s: &mut Escalation| s.after = v.clone());
                    }}
                />
                <button class="btn btn-small btn-link" data-testid="remove-escalation" on:click=remove>
                    "Remove step"
                </button>
            </div>
            <ApproversField
                testid="step"
                users_testid="step-users"
                value=step.approvers.clone()
                on_change={move |v: Approvers| change("approvers", &|s: &mut Escalation| s.approvers = v.clone())}
            />
            <TextField
                label="Notify (URL, optional)"
                testid="step-notify"
                value=step.notify.clone().unwrap_or_default()
                placeholder="https://chat.example/hooks/…"
                hint="Gets a POST when the step is reached."
                on_input={move |v: String| {
                    let v = non_empty(v);
                    change("notify", &|s: &mut Escalation| s.notify = v.clone());
                }}
            />
        </div>
    }
    .into_any()
}

/// The decision form as an approver will see it, drawn again as the schema changes.
#[component]
fn FormPreview(schema: RwSignal<Option<Value>>) -> impl IntoView {
    move || {
        let fields = schema.with(|s| form::fields(s.as_ref()));
        if fields.is_empty() {
            return view! {
                <p class="field-hint" data-testid="form-preview-empty">
                    "No form: an approver decides with a comment only."
                </p>
            }
            .into_any();
        }
        let values = RwSignal::new(form::initial_values(&fields));
        view! {
            <fieldset class="inbox-form form-preview" data-testid="form-preview">
                <legend>"Preview"</legend>
                <FormFields
                    fields
                    values
                    errors=RwSignal::new(Errors::new())
                    disabled=false
                    prefix="preview".to_owned()
                />
            </fieldset>
        }
        .into_any()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_split_on_commas_and_spaces() {
        assert_eq!(
            parse_users(" alice, bob  carol,,"),
            ["alice", "bob", "carol"]
        );
        assert!(parse_users(" , ").is_empty());
    }
}
