//! The template gallery: one card per file in `examples/` (see [`crate::templates`]) with its
//! name, description and node count. "Use template" opens the designer with a copy as an
//! unsaved draft — as n8n's and Windmill's templates do — under the template's name, or
//! `name-2`… when that is taken; nothing is saved until Save there.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::components::code_text::code_spans;
use crate::pages::designer::{self, draft};
use crate::templates::{self, Template, free_name};

/// The gallery; `taken` is the saved workflows' names once they are known.
#[component]
pub fn Gallery(taken: Signal<Option<Vec<String>>>) -> impl IntoView {
    let navigate = use_navigate();
    let cards = templates::all()
        .into_iter()
        .map(|t| card(t, taken, navigate.clone()))
        .collect_view();
    view! {
        <section class="gallery" id="templates" aria-labelledby="templates-title" data-testid="gallery">
            <div class="gallery-head">
                <h2 id="templates-title">"Start from a template"</h2>
                <p class="muted">
                    "Each opens in the designer as an unsaved draft: change what you like, then Save."
                </p>
            </div>
            <ul class="gallery-grid">{cards}</ul>
        </section>
    }
}

fn card(
    t: Template,
    taken: Signal<Option<Vec<String>>>,
    navigate: impl Fn(&str, leptos_router::NavigateOptions) + Clone + 'static,
) -> impl IntoView {
    let slug = t.slug();
    let name = t.workflow.name.clone();
    let description = t.workflow.description.clone().unwrap_or_default();
    let nodes = t.workflow.nodes.len();
    let types = node_types(&t.workflow);
    let use_it = move |_| {
        let mut wf = t.workflow.clone();
        wf.name = free_name(&wf.name, &taken.get_untracked().unwrap_or_default());
        draft::store(&wf.name, &wf);
        navigate(&designer::path(&wf.name), Default::default());
    };
    view! {
        <li class="card gallery-card" data-testid=format!("template-{slug}")>
            <h3 class="gallery-name">{name.clone()}</h3>
            <p class="gallery-desc">{code_spans(&description)}</p>
            <p class="gallery-meta muted">
                <span data-testid="template-nodes">{format!("{nodes} nodes")}</span>
                " · "
                {types}
            </p>
            <button
                class="btn btn-primary btn-small"
                aria-label=format!("Use template {name}")
                data-testid="use-template"
                disabled=move || taken.with(Option::is_none)
                title=move || taken.with(Option::is_none).then_some("Reading the saved workflows' names…")
                on:click=use_it
            >
                "Use template"
            </button>
        </li>
    }
}

/// The node types a template uses besides `start` and `end`, in order of first use: what it
/// is made of at a glance.
fn node_types(wf: &shared::model::Workflow) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for n in &wf.nodes {
        let ty = n.type_name();
        if !matches!(ty, "start" | "end") && !seen.contains(&ty) {
            seen.push(ty);
        }
    }
    seen.join(", ")
}
