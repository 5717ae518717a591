//! `/login` (SPEC §7): name and password, or an API key or token, or SSO when the server offers
//! it. After signing in the person goes back to the page that sent them here (`?next=`).
//!
//! A wrong name and a wrong password get the same answer from the server, shown in place; so
//! does the 429 after too many failures, with how long to wait (its `Retry-After`).

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use shared::access::Me;
use shared::api::ApiErrorBody;

use crate::access::{safe_next, use_access};
use crate::api;
use crate::components::token_prompt::TokenPrompt;
use crate::pages::runs::query::encode;

/// Where "Sign in with SSO" goes: the server's OpenID Connect redirect.
const SSO_PATH: &str = "/api/auth/oidc/login";

/// "Sign in with SSO"'s address, coming back to `next` (a path [`safe_next`] let through).
fn sso_href(next: &str) -> String {
    match next {
        "/" => SSO_PATH.to_owned(),
        next => format!("{SSO_PATH}?return_to={}", encode(next)),
    }
}

#[component]
pub fn Login() -> impl IntoView {
    let access = use_access();
    let query = use_query_map();
    let next = move || safe_next(query.with_untracked(|q| q.get("next")).as_deref());
    // Callbacks must be `Send`; the router's `navigate` is not, so it stays on this thread.
    let navigate = StoredValue::new_local(use_navigate());
    let go_next = move || navigate.with_value(|go| go(&next(), Default::default()));
    let signed_in = Callback::new(move |me: Me| {
        access.me.set(Some(me));
        crate::pages::inbox::badge::caller_changed();
        go_next();
    });
    let go_on = Callback::new(move |()| {
        api::decline_sign_in();
        go_next();
    });

    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let (who, secret) = (
            name.get_untracked().trim().to_owned(),
            password.get_untracked(),
        );
        if who.is_empty() || secret.is_empty() {
            error.set(Some("Enter your name and password.".into()));
            return;
        }
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let answer = api::login(&who, &secret).await;
            let _ = busy.try_set(false);
            match answer {
                Ok(me) => {
                    let _ = password.try_set(String::new());
                    signed_in.run(me);
                }
                Err(body) => drop(error.try_set(Some(refused(&body)))),
            }
        });
    };
    let sso = move || access.me.with(|m| m.as_ref().is_some_and(|m| m.sso));

    view! {
        <div class="login-page">
            <form class="card login-card" data-testid="login-form" on:submit=submit>
                <div class="card-head">
                    <h1 class="login-title">"Sign in to Weft"</h1>
                </div>
                <div class="card-body">
                    <label class="field">
                        <span class="field-label">"Name"</span>
                        <input
                            class="input"
                            name="username"
                            autocomplete="username"
                            autofocus
                            data-testid="login-name"
                            bind:value=name
                        />
                    </label>
                    <label class="field">
                        <span class="field-label">"Password"</span>
                        <input
                            class="input"
                            type="password"
                            name="password"
                            autocomplete="current-password"
                            data-testid="login-password"
                            bind:value=password
                        />
                    </label>
                    {move || {
                        error
                            .get()
                            .map(|m| {
                                view! {
                                    <p class="form-error" role="alert" data-testid="login-error">
                                        {m}
                                    </p>
                                }
                            })
                    }}
                    <div class="login-actions">
                        <Show when=sso>
                            <a
                                class="btn"
                                href=move || sso_href(&next())
                                rel="external"
                                data-testid="login-sso"
                            >
                                "Sign in with SSO"
                            </a>
                        </Show>
                        <button
                            type="submit"
                            class="btn btn-primary"
                            disabled=move || busy.get()
                            data-testid="login-submit"
                        >
                            <Show when=move || busy.get()>
                                <span class="spinner spinner-light" aria-hidden="true"></span>
                            </Show>
                            {move || if busy.get() { "Signing in…" } else { "Sign in" }}
                        </button>
                    </div>
                </div>
            </form>
            <TokenPrompt on_signed_in=signed_in on_cancel=go_on />
        </div>
    }
}

/// What the form says when the server refuses: its own message, and for a 429 how long to
/// wait.
fn refused(body: &ApiErrorBody) -> String {
    let wait = body
        .error
        .details
        .as_ref()
        .and_then(|d| d.get("retry_after"))
        .and_then(serde_json::Value::as_u64);
    match wait {
        Some(seconds) => format!(
            "{} Try again in {}.",
            sentence(&body.error.message),
            wait_text(seconds)
        ),
        None => sentence(&body.error.message),
    }
}

/// The server's message as a sentence: capitalised, with a full stop.
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let mut text = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
        None => return String::new(),
    };
    if !text.ends_with(['.', '!', '?']) {
        text.push('.');
    }
    text
}

/// `Retry-After` seconds in words, rounded up to minutes past a minute.
fn wait_text(seconds: u64) -> String {
    match seconds {
        0..=1 => "a second".into(),
        2..=60 => format!("{seconds} seconds"),
        _ => match seconds.div_ceil(60) {
            1 => "a minute".into(),
            minutes => format!("{minutes} minutes"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_password_reads_as_the_servers_sentence() {
        let body = api::local_error("unauthorized", "wrong name or password");
        assert_eq!(refused(&body), "Wrong name or password.");
    }

    #[test]
    fn too_many_failures_say_how_long_to_wait() {
        let mut body = api::local_error(
            "too_many_requests",
            "too many failed sign-ins: wait, then try again",
        );
        body.error.details = Some(serde_json::json!({ "retry_after": 840 }));
        assert_eq!(
            refused(&body),
            "Too many failed sign-ins: wait, then try again. Try again in 14 minutes."
        );
    }

    #[test]
    fn waits_read_in_seconds_then_minutes() {
        assert_eq!(wait_text(1), "a second");
        assert_eq!(wait_text(45), "45 seconds");
        assert_eq!(wait_text(61), "2 minutes");
        assert_eq!(wait_text(120), "2 minutes");
        assert_eq!(wait_text(3), "3 seconds");
    }
}
