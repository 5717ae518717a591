//! Runs, newest first, live.

use leptos::prelude::*;

/// Runs, newest first, live.
#[component]
pub fn Runs() -> impl IntoView {
    view! {
        <section data-testid="page-runs">
            <h1>"Runs"</h1>
        </section>
    }
}
