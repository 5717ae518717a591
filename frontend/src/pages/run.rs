//! One run: its graph, actions, timeline and history, live.

use leptos::prelude::*;

/// One run: its graph, actions, timeline and history, live.
#[component]
pub fn RunPage() -> impl IntoView {
    view! {
        <section data-testid="page-run">
            <h1>"Run"</h1>
        </section>
    }
}
