//! Weft's web UI: a client-side rendered Leptos app that Trunk bundles and `weft serve` hosts.
//!
//! **Architecture Invariant:** the UI talks to the server only through [`api`], over the wire
//! types in `shared::api`, and validates with `shared::validate`, the code the server runs.
//!
//! # Layout
//! - [`App`]: the shell (top bar) and the router.
//! - [`api`]: the typed HTTP client (and the API token it asks for on a 401).
//! - [`components`]: UI shared across pages; [`components::token_prompt`] asks for the token.
//! - [`graph`]: the workflow graph drawn in SVG, editable in the designer, read-only (with
//!   live node states) on a run's page.
//! - [`pages`]: one module per route, and [`pages::Page`] for links.

pub mod api;
pub mod components;
pub mod graph;
pub mod pages;

use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;

use pages::Page;

/// The whole app: the top bar stays put while the router swaps the page below it.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <TopBar />
            <main class="page">
                <Routes fallback=pages::not_found::NotFound>
                    <Route path=path!("/") view=pages::home::Home />
                    <Route path=path!("/workflows") view=pages::workflows::Workflows />
                    <Route path=path!("/workflows/:name") view=pages::designer::Designer />
                    <Route path=path!("/runs") view=pages::runs::Runs />
                    <Route path=path!("/runs/:id") view=pages::run::RunPage />
                    <Route path=path!("/schedules") view=pages::schedules::Schedules />
                    <Route path=path!("/inbox") view=pages::inbox::Inbox />
                </Routes>
            </main>
            <components::token_prompt::TokenPrompt />
        </Router>
    }
}

/// The wordmark (a link home) and the main navigation. `<A>` marks the current page with
/// `aria-current="page"`, which the stylesheet highlights.
#[component]
fn TopBar() -> impl IntoView {
    view! {
        <header class="topbar">
            <a class="wordmark" href=Page::Home.path() data-testid="wordmark">
                <span class="wordmark-mark" aria-hidden="true"></span>
                "Weft"
            </a>
            <nav class="topnav" aria-label="Main">
                {[Page::Workflows, Page::Runs, Page::Schedules]
                    .map(|page| {
                        view! {
                            <A href=page.path()>
                                <span data-testid=format!("nav-{}", page.slug())>{page.title()}</span>
                            </A>
                        }
                    })}
                <pages::inbox::InboxLink />
            </nav>
        </header>
    }
}
