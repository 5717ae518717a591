//! One waiting approval as a card: what is asked and of whom, until when, and the form,
//! comment and buttons to decide it. A refusal (403), a decision that came too late (409)
//! and a form the server refused (422, each path's message under its field) are said on the
//! card itself.

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::api::PendingApproval;

use super::deadline;
use super::form::{self, Errors, FILL_IN, FormFields};
use crate::pages::run::format;
use crate::pages::run::json::JsonPre;

#[component]
pub fn ApprovalCard(
    approval: PendingApproval,
    now: RwSignal<i64>,
    on_decided: Callback<(PendingApproval, bool)>,
) -> impl IntoView {
    let p = approval;
    let fields = form::fields(p.form.as_ref());
    let values = RwSignal::new(form::initial_values(&fields));
    let errors = RwSignal::new(Errors::new());
    let comment = RwSignal::new(String::new());
    let card_error = RwSignal::new(None::<String>);
    // The card's "fill in" note goes once the last marked field is put right.
    Effect::new(move |_| {
        if errors.with(Errors::is_empty)
            && card_error.with_untracked(|c| c.as_deref() == Some(FILL_IN))
        {
            card_error.set(None);
        }
    });
    // `Some(true)` while an approve is sent, `Some(false)` a reject.
    let busy = RwSignal::new(None::<bool>);
    let is_busy = Signal::derive(move || busy.get().is_some());
    let stored = StoredValue::new(p.clone());
    let stored_fields = StoredValue::new(fields.clone());
    let prefix: String = format!(
        "a-{}-{}",
        p.run_id.chars().take(8).collect::<String>(),
        p.node
    );

    let send = move |approve: bool| {
        if busy.get_untracked().is_some() {
            return;
        }
        card_error.set(None);
        let data = match stored_fields.with_value(|f| form::build(f, &values.get_untracked())) {
            Ok(data) => data,
            Err(problems) => {
                errors.set(problems);
                card_error.set(Some(FILL_IN.to_owned()));
                return;
            }
        };
        errors.set(Errors::new());
        busy.set(Some(approve));
        let p = stored.get_value();
        let text = comment.get_untracked();
        let comment = (!text.trim().is_empty()).then_some(text);
        spawn_local(async move {
            let answer =
                crate::pages::run::wire::decide(&p.run_id, &p.node, approve, comment, data).await;
            // The card may be gone by now (the page left, or a refresh dropped it): then
            // only the list is told, and only if it is still there.
            let _ = busy.try_set(None);
            match answer {
                Ok(_) => drop(on_decided.try_run((p, approve))),
                Err(e) => {
                    let Some((by_field, rest)) = stored_fields
                        .try_with_value(|f| form::server_errors(f, e.error.details.as_ref()))
                    else {
                        return;
                    };
                    let _ = errors.try_set(by_field);
                    let mut message = e.error.message;
                    for r in rest {
                        message.push_str(&format!(" {r}"));
                    }
                    let _ = card_error.try_set(Some(message));
                }
            }
        });
    };

    let title = p.label.clone().unwrap_or_else(|| p.node.clone());
    let run_href = format!("/runs/{}", p.run_id);
    let short: String = p.run_id.chars().take(8).collect();
    let started_by = p
        .started_by
        .clone()
        .unwrap_or_else(|| "a schedule, webhook or parent run".to_owned());
    let since = p.since;
    let until = p.until;
    let deciders = deadline::deciders(&p.roles, &p.users);
    let escalation = deadline::escalation(p.escalated, p.escalations);
    let then = deadline::at_deadline(p.default_decision);
    let blocked = !p.can_decide;
    let why_not = p
        .why_not
        .clone()
        .unwrap_or_else(|| "You may not decide this one.".to_owned());
    let has_fields = !fields.is_empty();
    let comment_id = format!("{prefix}-comment");

    view! {
        <article
            class="card inbox-card"
            class:inbox-card-blocked=blocked
            data-testid="inbox-card"
            data-run=p.run_id.clone()
            data-node=p.node.clone()
            aria-label=format!("{} · {}", p.workflow, title)
        >
            <header class="inbox-card-head">
                <h2>
                    <span class="inbox-workflow">{p.workflow.clone()}</span>
                    <span class="inbox-sep" aria-hidden="true">" · "</span>
                    <span class="inbox-node" data-testid="inbox-node">{title.clone()}</span>
                    {p
                        .label
                        .is_some()
                        .then(|| view! { <code class="inbox-node-id">{p.node.clone()}</code> })}
                </h2>
                <a class="inbox-run-link" href=run_href data-testid="inbox-run-link">
                    {format!("Run {short}… (v{})", p.version)}
                </a>
            </header>
            {p
                .prompt
                .clone()
                .map(|prompt| {
                    view! { <p class="inbox-prompt" data-testid="inbox-prompt">{prompt}</p> }
                })}
            <dl class="inbox-meta">
                <div>
                    <dt>"Started by"</dt>
                    <dd data-testid="inbox-started-by">{started_by}</dd>
                </div>
                {since
                    .map(|since| {
                        view! {
                            <div>
                                <dt>"Waiting"</dt>
                                <dd title=format::date_time(since)>
                                    {move || format::relative(since, now.get())}
                                </dd>
                            </div>
                        }
                    })}
                <div>
                    <dt>"May decide"</dt>
                    <dd data-testid="inbox-deciders">
                        {deciders}
                        {escalation
                            .map(|e| view! { <span class="inbox-escalation">{format!(" — {e}")}</span> })}
                    </dd>
                </div>
                <div>
                    <dt>"Deadline"</dt>
                    <dd data-testid="inbox-deadline">
                        {match until {
                            Some(until) => {
                                view! {
                                    <time
                                        class=move || {
                                            if now.get() >= until {
                                                "inbox-countdown inbox-overdue"
                                            } else {
                                                "inbox-countdown"
                                            }
                                        }
                                        title=format::date_time(until)
                                        datetime=format::date_time(until)
                                    >
                                        {move || deadline::countdown(until, now.get())}
                                    </time>
                                    <span class="inbox-then">{format!(", {then}")}</span>
                                }
                                    .into_any()
                            }
                            None => view! { <span class="muted">"none"</span> }.into_any(),
                        }}
                    </dd>
                </div>
            </dl>
            <details class="inbox-input" data-testid="inbox-input">
                <summary>"Run input"</summary>
                <JsonPre value=p.input.clone() />
            </details>
            {if blocked {
                view! { <p class="inbox-why-not" data-testid="inbox-why-not">{why_not}</p> }
                    .into_any()
            } else {
                view! {
                    <div class="inbox-decide">
                        {has_fields
                            .then(|| {
                                view! {
                                    <fieldset class="inbox-form" data-testid="inbox-form">
                                        <legend>"Form"</legend>
                                        <FormFields
                                            fields=fields.clone()
                                            values=values
                                            errors=errors
                                            disabled=is_busy
                                            prefix=prefix.clone()
                                        />
                                    </fieldset>
                                }
                            })}
                        <label class="inbox-comment-label" for=comment_id.clone()>
                            "Comment (optional)"
                        </label>
                        <textarea
                            id=comment_id
                            class="input inbox-comment"
                            rows="2"
                            data-testid="inbox-comment"
                            prop:value=move || comment.get()
                            prop:disabled=is_busy
                            on:input=move |ev| comment.set(event_target_value(&ev))
                        ></textarea>
                        <p class="inbox-card-error" role="alert" data-testid="inbox-card-error">
                            {move || card_error.get()}
                        </p>
                        <div class="inbox-buttons">
                            <button
                                class="btn btn-approve"
                                data-testid="inbox-approve"
                                prop:disabled=is_busy
                                on:click=move |_| send(true)
                            >
                                {move || {
                                    if busy.get() == Some(true) { "Approving…" } else { "Approve" }
                                }}
                            </button>
                            <button
                                class="btn btn-danger-outline"
                                data-testid="inbox-reject"
                                prop:disabled=is_busy
                                on:click=move |_| send(false)
                            >
                                {move || {
                                    if busy.get() == Some(false) { "Rejecting…" } else { "Reject" }
                                }}
                            </button>
                        </div>
                    </div>
                }
                    .into_any()
            }}
        </article>
    }
}
