//! The home page: edit a workflow definition and check it twice, in the browser with the
//! `shared` validator compiled to wasm and on the server with `POST /api/validate`, so the two
//! can be seen to agree. It is the walking skeleton the designer pages grow from.

use leptos::ev::KeyboardEvent;
use leptos::prelude::*;
use serde_json::Value;
use shared::api::{ApiErrorBody, ValidateResponse};
use shared::validate::is_valid;
use shared::{Diagnostic, Severity, parse_and_validate};

use crate::api;
use crate::components::code_text::code_spans;

/// The SPEC §1 `process-order` example, plus an `end` node after `refund`: without it the
/// validator reports that the cancel path leads nowhere (`no_way_out`).
const SAMPLE: &str = include_str!("process_order.json");

/// The server's side of the last check.
#[derive(Debug, Clone)]
enum ServerCheck {
    /// The text was not JSON, so nothing was sent.
    NotSent,
    Answered(api::Result<ValidateResponse>),
}

/// The definition editor with its two results side by side.
#[component]
pub fn Home() -> impl IntoView {
    // What is in the editor.
    let draft = RwSignal::new(SAMPLE.to_owned());
    // The text of the last check. Setting it, even to the same text, runs both checks again.
    let checked = RwSignal::new(SAMPLE.to_owned());
    let check = move || checked.set(draft.get_untracked());

    let local = Memo::new(move |_| {
        checked.with(|text| parse(text).map(|json| parse_and_validate(&json).1))
    });
    let server = LocalResource::new(move || {
        let json = checked.with(|text| parse(text));
        async move {
            match json {
                Ok(json) => ServerCheck::Answered(api::validate(&json).await),
                Err(_) => ServerCheck::NotSent,
            }
        }
    });
    let (pending, set_pending) = signal(false);
    let edited = move || draft.with(|d| checked.with(|c| d != c));
    let json_error = move || local.with(|result| result.as_ref().err().cloned());

    view! {
        <div class="home">
            <div class="page-head">
                <h1>"Validate a workflow"</h1>
                <p class="lede">
                    "Edit a " <code>"weft/v1"</code>
                    " definition and check it. Your browser and the server run the same validator."
                </p>
            </div>
            <div class="home-grid">
                <section class="card editor-card">
                    <div class="card-head">
                        <h2>"Definition"</h2>
                        <Show when=edited>
                            <span class="edited" data-testid="edited-hint">
                                "Edited since the last check"
                            </span>
                        </Show>
                        <div class="card-actions">
                            <button
                                class="btn"
                                data-testid="reset-button"
                                on:click=move |_| {
                                    draft.set(SAMPLE.to_owned());
                                    check();
                                }
                            >
                                "Reset sample"
                            </button>
                            <button
                                class="btn btn-primary"
                                data-testid="validate-button"
                                title="Validate (Ctrl+Enter)"
                                on:click=move |_| check()
                            >
                                "Validate"
                            </button>
                        </div>
                    </div>
                    <textarea
                        class="editor"
                        data-testid="definition-input"
                        aria-label="Workflow definition (JSON)"
                        spellcheck="false"
                        bind:value=draft
                        on:keydown=move |ev: KeyboardEvent| {
                            if ev.key() == "Enter" && (ev.ctrl_key() || ev.meta_key()) {
                                ev.prevent_default();
                                check();
                            }
                        }
                    ></textarea>
                    {move || {
                        json_error()
                            .map(|message| {
                                view! {
                                    <p class="json-error" role="alert" data-testid="json-error">
                                        <strong>"Not valid JSON: "</strong>
                                        {message}
                                    </p>
                                }
                            })
                    }}
                </section>
                <div class="results">
                    <section class="card">
                        <div class="card-head">
                            <h2>"Server"</h2>
                            <Show when=move || pending.get()>
                                <span class="pending" data-testid="validation-pending">
                                    <span class="spinner" aria-hidden="true"></span>
                                    "Validating…"
                                </span>
                            </Show>
                        </div>
                        <div class="card-body" class:stale=move || pending.get()>
                            <Transition fallback=|| () set_pending>
                                {move || Suspend::new(async move { server_result(server.await) })}
                            </Transition>
                            <p class="caption">
                                "Answered by " <code>"POST /api/validate"</code> "."
                            </p>
                        </div>
                    </section>
                    <section class="card">
                        <div class="card-head">
                            <h2>"In your browser"</h2>
                        </div>
                        <div class="card-body">
                            {move || local_result(local.get())}
                            <p class="caption">
                                "The " <code>"shared"</code>
                                " crate's validator, compiled to WebAssembly."
                            </p>
                        </div>
                    </section>
                </div>
            </div>
        </div>
    }
}

/// Parses the editor's text; the error names the line and column.
fn parse(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| e.to_string())
}

fn server_result(check: ServerCheck) -> AnyView {
    match check {
        ServerCheck::NotSent => view! {
            {badge(Tone::Neutral, "validation-status", "Not sent")}
            <p class="muted">"Fix the JSON first: nothing was sent to the server."</p>
        }
        .into_any(),
        ServerCheck::Answered(Ok(ValidateResponse { valid, diagnostics })) => view! {
            {summary("validation-status", valid, &diagnostics)}
            {findings(diagnostics)}
        }
        .into_any(),
        ServerCheck::Answered(Err(ApiErrorBody { error })) => view! {
            {badge(Tone::Invalid, "validation-status", "Request failed")}
            <p class="server-error" role="alert" data-testid="server-error">
                <code>{error.code}</code>
                " "
                {error.message}
            </p>
        }
        .into_any(),
    }
}

fn local_result(result: Result<Vec<Diagnostic>, String>) -> AnyView {
    match result {
        Ok(diagnostics) => summary(
            "local-validation-status",
            is_valid(&diagnostics),
            &diagnostics,
        )
        .into_any(),
        Err(_) => badge(Tone::Neutral, "local-validation-status", "Not JSON").into_any(),
    }
}

/// How a badge looks.
#[derive(Debug, Clone, Copy)]
enum Tone {
    Valid,
    Invalid,
    Neutral,
}

fn badge(tone: Tone, testid: &'static str, text: impl Into<String>) -> impl IntoView {
    let class = match tone {
        Tone::Valid => "badge badge-valid",
        Tone::Invalid => "badge badge-invalid",
        Tone::Neutral => "badge",
    };
    view! {
        <span class=class data-testid=testid>
            {text.into()}
        </span>
    }
}

/// "Valid" or "N errors", and how many warnings there are besides.
fn summary(testid: &'static str, valid: bool, diagnostics: &[Diagnostic]) -> impl IntoView + use<> {
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    let (tone, text) = match (valid, errors) {
        (true, _) => (Tone::Valid, "Valid".to_owned()),
        (false, 0) => (Tone::Invalid, "Invalid".to_owned()),
        (false, n) => (Tone::Invalid, count(n, "error")),
    };
    view! {
        <div class="summary">
            {badge(tone, testid, text)}
            {(warnings > 0).then(|| view! { <span class="muted">{count(warnings, "warning")}</span> })}
        </div>
    }
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The findings in the validator's order (errors first).
fn findings(diagnostics: Vec<Diagnostic>) -> AnyView {
    if diagnostics.is_empty() {
        return view! { <p class="muted" data-testid="no-findings">"No findings."</p> }.into_any();
    }
    view! {
        <ul class="findings" data-testid="findings">
            {diagnostics.into_iter().map(finding).collect_view()}
        </ul>
    }
    .into_any()
}

fn finding(diagnostic: Diagnostic) -> impl IntoView {
    let severity = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    view! {
        <li class=format!("finding finding-{severity}") data-testid="finding">
            <span class="severity" data-testid="finding-severity">
                {severity}
            </span>
            <div class="finding-body">
                <div class="finding-meta">
                    <code class="finding-code" data-testid="finding-code">
                        {diagnostic.code}
                    </code>
                    {diagnostic
                        .node
                        .map(|node| {
                            view! {
                                <span class="chip">
                                    "node " <b data-testid="finding-node">{node}</b>
                                </span>
                            }
                        })}
                    {diagnostic
                        .edge
                        .map(|edge| {
                            view! {
                                <span class="chip">
                                    "edge " <b data-testid="finding-edge">{edge}</b>
                                </span>
                            }
                        })}
                </div>
                <p class="finding-message" data-testid="finding-message">
                    {code_spans(&diagnostic.message)}
                </p>
            </div>
        </li>
    }
}
