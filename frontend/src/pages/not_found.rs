//! The router's fallback: a client-side path that matches no route.

use leptos::prelude::*;

use super::Page;

/// A friendly 404 with a way back.
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="placeholder" data-testid="not-found">
            <h1>"Page not found"</h1>
            <p class="muted">"Nothing lives at this address."</p>
            <a class="btn" href=Page::Home.path()>
                "Go home"
            </a>
        </section>
    }
}
