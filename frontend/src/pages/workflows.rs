//! Every stored workflow, with its latest version and last run.

use leptos::prelude::*;

/// Every stored workflow, with its latest version and last run.
#[component]
pub fn Workflows() -> impl IntoView {
    view! {
        <section data-testid="page-workflows">
            <h1>"Workflows"</h1>
        </section>
    }
}
