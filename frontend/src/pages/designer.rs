//! The designer: canvas, palette, inspector and live validation for one workflow.

use leptos::prelude::*;

/// The designer: canvas, palette, inspector and live validation for one workflow.
#[component]
pub fn Designer() -> impl IntoView {
    view! {
        <section data-testid="page-designer">
            <h1>"Designer"</h1>
        </section>
    }
}
