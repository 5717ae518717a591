//! The API token prompt: a server started with `WEFT_API_TOKEN` answers 401 until a call
//! carries the token, so the UI asks the person for it once and [`crate::api`] keeps it for
//! the browser session. It lives in the shell, above every page, because any page's call can
//! be the first to be refused.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::api::{self, TokenRequest};

/// A modal form shown while [`api::token_request`] is `Some`; its answer goes to
/// [`api::answer_token_request`], which sends the waiting calls again.
#[component]
pub fn TokenPrompt() -> impl IntoView {
    let request = RwSignal::from(api::token_request());
    let draft = RwSignal::new(String::new());
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let token = draft.get_untracked().trim().to_owned();
        if !token.is_empty() {
            draft.set(String::new());
            api::answer_token_request(Some(token));
        }
    };
    view! {
        <Show when=move || request.get().is_some()>
            <div class="modal-backdrop">
                <form
                    class="card modal"
                    role="dialog"
                    aria-modal="true"
                    aria-labelledby="token-prompt-title"
                    data-testid="token-prompt"
                    on:submit=submit
                >
                    <div class="card-head">
                        <h2 id="token-prompt-title">"This server needs an API token"</h2>
                    </div>
                    <div class="card-body">
                        <p class="caption">
                            "It was started with " <code>"WEFT_API_TOKEN"</code>
                            ". Enter that token to continue; this tab keeps it until you close it."
                        </p>
                        <Show when=move || request.get() == Some(TokenRequest::Rejected)>
                            <p class="token-rejected" data-testid="token-rejected">
                                "The server did not accept that token."
                            </p>
                        </Show>
                        <input
                            class="token-input"
                            type="password"
                            autocomplete="off"
                            aria-label="API token"
                            placeholder="API token"
                            autofocus
                            data-testid="token-input"
                            bind:value=draft
                        />
                        <div class="card-actions">
                            <button
                                type="button"
                                class="btn"
                                data-testid="token-cancel"
                                on:click=move |_| api::answer_token_request(None)
                            >
                                "Cancel"
                            </button>
                            <button type="submit" class="btn btn-primary" data-testid="token-submit">
                                "Continue"
                            </button>
                        </div>
                    </div>
                </form>
            </div>
        </Show>
    }
}
