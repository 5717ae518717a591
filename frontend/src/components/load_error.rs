//! A page's "could not load" state: what went wrong, in the words `api` gives it (the
//! server's message, or that the server cannot be reached), and a Retry that runs the load
//! again, so a page recovers once the server is back without the person reloading it.

use leptos::prelude::*;

/// `title` says what could not be loaded; `message` why; `retry` loads again. `testid`
/// names the block for the e2e suite (each page kept its own); the button is `load-retry`.
/// `children` is for a way out (a link back), shown after the button.
#[component]
pub fn LoadError(
    title: &'static str,
    message: String,
    testid: &'static str,
    retry: impl Fn() + Send + Sync + 'static,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="load-error" role="alert" data-testid=testid>
            <p class="load-error-title">{title}</p>
            <p class="load-error-message" data-testid="load-error-message">{message}</p>
            <div class="load-error-actions">
                <button class="btn btn-primary" data-testid="load-retry" on:click=move |_| retry()>
                    "Retry"
                </button>
                {children.map(|c| c())}
            </div>
        </div>
    }
}
