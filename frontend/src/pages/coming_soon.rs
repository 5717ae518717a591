//! Placeholder for routes whose pages are not built yet, so navigation and the server's SPA
//! fallback can be exercised before the pages exist.

use leptos::prelude::*;

use super::Page;

/// Says that `page` is on its way and links back to what works today.
#[component]
pub fn ComingSoon(page: Page) -> impl IntoView {
    view! {
        <section class="placeholder" data-testid="coming-soon">
            <h1>{page.title()}</h1>
            <p class="muted">"This page is coming soon."</p>
            <a class="btn" href=Page::Home.path()>
                "Back to the validator"
            </a>
        </section>
    }
}
