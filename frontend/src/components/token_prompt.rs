//! Signing in with a bearer token instead of a password: an API key, or the server's
//! `WEFT_API_TOKEN` (still an admin credential). It sits on the login page below the password
//! form; [`crate::api`] keeps the token for the browser session and sends it on every call.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use shared::access::Me;

use crate::api;

/// The token form. `on_signed_in` gets the server's answer for an accepted token;
/// `on_cancel` goes on without signing in.
#[component]
pub fn TokenPrompt(on_signed_in: Callback<Me>, on_cancel: Callback<()>) -> impl IntoView {
    let draft = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let token = draft.get_untracked().trim().to_owned();
        if token.is_empty() || busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let answer = api::sign_in_with_token(&token).await;
            let _ = busy.try_set(false);
            match answer {
                Ok(me) => {
                    let _ = draft.try_set(String::new());
                    let _ = on_signed_in.try_run(me);
                }
                Err(body) if body.error.code == "unauthorized" => {
                    let _ = error.try_set(Some("The server did not accept that token.".into()));
                }
                Err(body) => drop(error.try_set(Some(body.error.message))),
            }
        });
    };
    view! {
        <form class="card login-card token-card" data-testid="token-prompt" on:submit=submit>
            <div class="card-head">
                <h2 id="token-prompt-title">"Use an API key or token"</h2>
            </div>
            <div class="card-body">
                <p class="caption">
                    "An API key, or the server's " <code>"WEFT_API_TOKEN"</code>
                    ". This tab keeps it until you close it."
                </p>
                {move || {
                    error
                        .get()
                        .map(|m| {
                            view! {
                                <p class="form-error" role="alert" data-testid="token-rejected">
                                    {m}
                                </p>
                            }
                        })
                }}
                <input
                    class="input token-input"
                    type="password"
                    autocomplete="off"
                    aria-labelledby="token-prompt-title"
                    placeholder="API key or token"
                    data-testid="token-input"
                    bind:value=draft
                />
                <div class="login-actions">
                    <button
                        type="button"
                        class="btn btn-link"
                        title="Go on without signing in: pages show what the server refuses"
                        data-testid="token-cancel"
                        on:click=move |_| on_cancel.run(())
                    >
                        "Continue without signing in"
                    </button>
                    <button
                        type="submit"
                        class="btn"
                        disabled=move || busy.get()
                        data-testid="token-submit"
                    >
                        <Show when=move || busy.get()>
                            <span class="spinner" aria-hidden="true"></span>
                        </Show>
                        "Use token"
                    </button>
                </div>
            </div>
        </form>
    }
}
