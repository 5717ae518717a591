//! Weft's web UI: a client-side rendered Leptos app that Trunk bundles and `weft serve` hosts.
//!
//! **Architecture Invariant:** the UI talks to the server only through [`api`], over the wire
//! types in `shared::api`, and validates with `shared::validate`, the code the server runs.
//!
//! # Layout
//! - [`App`]: the shell (top bar) and the router.
//! - [`access`]: who is signed in (`/api/auth/me`, read once into a context) and what their
//!   role lets them do; the shell sends a person who must sign in to `/login`.
//! - [`api`]: the typed HTTP client (session cookie or bearer token; a 401 asks for a sign-in).
//! - [`components`]: UI shared across pages; [`components::token_prompt`] signs in with a token.
//! - [`graph`]: the workflow graph drawn in SVG, editable in the designer, read-only (with
//!   live node states) on a run's page.
//! - [`pages`]: one module per route, and [`pages::Page`] for links.
//! - [`templates`]: the `examples/` workflows, embedded at build time for the gallery.

pub mod access;
pub mod api;
pub mod components;
pub mod graph;
pub mod pages;
pub mod templates;

use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::path;
use shared::access::{Me, Role};

use access::{Access, is_open, login_path, must_sign_in, use_access};
use pages::Page;

/// The whole app: the top bar stays put while the router swaps the page below it.
#[component]
pub fn App() -> impl IntoView {
    access::provide_access();
    view! {
        <Router>
            <SignInGuard />
            <TopBar />
            <main class="page">
                <Routes fallback=pages::not_found::NotFound>
                    <Route path=path!("/") view=pages::start::Start />
                    <Route path=path!("/workflows") view=pages::workflows::Workflows />
                    <Route path=path!("/workflows/:name") view=pages::designer::Designer />
                    <Route path=path!("/runs") view=pages::runs::Runs />
                    <Route path=path!("/runs/:id") view=pages::run::RunPage />
                    <Route path=path!("/schedules") view=pages::schedules::Schedules />
                    <Route path=path!("/login") view=pages::login::Login />
                    <Route path=path!("/admin/users") view=pages::admin::users::Users />
                    <Route path=path!("/admin/keys") view=pages::admin::keys::Keys />
                    <Route path=path!("/admin/audit") view=pages::admin::audit::Audit />
                    <Route path=path!("/inbox") view=pages::inbox::Inbox />
                </Routes>
            </main>
        </Router>
    }
}

/// Sends the person to `/login` when they must sign in: a closed server and no credential
/// (from `/api/auth/me`), or any call answered 401. Not when they chose to go on without.
#[component]
fn SignInGuard() -> impl IntoView {
    let access = use_access();
    let needed = RwSignal::from(api::sign_in_needed());
    let location = use_location();
    let navigate = use_navigate();
    Effect::new(move |_| {
        let refused = needed.get();
        let must = access.me.with(|m| m.as_ref().is_some_and(must_sign_in));
        let path = location.pathname.get();
        if !(refused || must) || api::sign_in_declined() || path == Page::Login.path() {
            if refused {
                needed.set(false);
            }
            return;
        }
        if refused {
            needed.set(false);
            // A session that ended, or a token that no longer works: the header should say so.
            access::refresh(access);
        }
        let here = format!("{path}{}", location.search.get_untracked());
        navigate(&login_path(&here), Default::default());
    });
}

/// The wordmark (a link home) and the main navigation. `<A>` marks the current page with
/// `aria-current="page"`, which the stylesheet highlights.
#[component]
fn TopBar() -> impl IntoView {
    let access = use_access();
    let role = access.role();
    let is_admin = Signal::derive(move || role.get() == Some(Role::Admin));
    let location = use_location();
    let in_admin = move || location.pathname.with(|p| p.starts_with("/admin/"));
    let signed_out = move || {
        access.me.with(|m| m.as_ref().is_some_and(must_sign_in)) && !api::sign_in_declined()
    };
    view! {
        <header class="topbar">
            <a class="wordmark" href=Page::Home.path() data-testid="wordmark">
                <span class="wordmark-mark" aria-hidden="true"></span>
                "Weft"
            </a>
            // Signed out on a closed server, every page would only send back to the login.
            <nav class="topnav" aria-label="Main" class:hidden=signed_out>
                {[Page::Workflows, Page::Runs, Page::Schedules]
                    .map(|page| {
                        view! {
                            <A href=page.path()>
                                <span data-testid=format!("nav-{}", page.slug())>{page.title()}</span>
                            </A>
                        }
                    })}
                <pages::inbox::InboxLink />
                // A plain link: `<A>` would mark it current on the users page only.
                <Show when=move || is_admin.get()>
                    <a
                        href=Page::AdminUsers.path()
                        aria-current=move || in_admin().then_some("page")
                        data-testid="nav-admin"
                    >
                        "Admin"
                    </a>
                </Show>
            </nav>
            <Who access />
        </header>
    }
}

/// The right end of the top bar: the open server's notice, or who is signed in with their role
/// and "Sign out".
#[component]
fn Who(access: Access) -> impl IntoView {
    let me = access.me;
    let leaving = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    let sign_out = move |_| {
        leaving.set(true);
        error.set(None);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let answer = api::post_empty("/api/auth/logout", &serde_json::json!({})).await;
            leaving.set(false);
            match answer {
                Ok(()) => {
                    api::forget_token();
                    // Leave first, so the guard does not send the login page back here.
                    navigate(Page::Login.path(), Default::default());
                    pages::inbox::badge::caller_changed();
                    me.set(Some(Me {
                        mode: "closed".into(),
                        sso: me.with_untracked(|m| m.as_ref().is_some_and(|m| m.sso)),
                        user: None,
                        role: None,
                        via: None,
                    }));
                }
                Err(body) => error.set(Some(body.error.message)),
            }
        });
    };
    view! {
        <div class="who">
            {move || {
                me.get()
                    .map(|m| {
                        if is_open(&m) {
                            view! {
                                <span
                                    class="open-notice"
                                    data-testid="open-notice"
                                    title="No user, API key or token exists on this server, so every visitor is an admin. Add a user (weft user add) to close it."
                                >
                                    "Open: no users — anyone here is admin"
                                </span>
                            }
                                .into_any()
                        } else if let (Some(user), Some(role)) = (m.user, m.role) {
                            let title = format!("Signed in as {user} ({role})");
                            view! {
                                <span class="who-name" data-testid="who" title=title>
                                    <span class="who-user">{user}</span>
                                    " · "
                                    <span class="who-role" data-testid="who-role">{role.as_str()}</span>
                                </span>
                                {move || {
                                    error
                                        .get()
                                        .map(|m| view! { <span class="form-error who-error" role="alert">{m}</span> })
                                }}
                                <button
                                    class="btn btn-small"
                                    data-testid="sign-out"
                                    disabled=move || leaving.get()
                                    on:click=sign_out.clone()
                                >
                                    "Sign out"
                                </button>
                            }
                                .into_any()
                        } else if api::sign_in_declined() {
                            view! {
                                <a class="btn btn-small" href=Page::Login.path() data-testid="sign-in">
                                    "Sign in"
                                </a>
                            }
                                .into_any()
                        } else {
                            ().into_any()
                        }
                    })
            }}
        </div>
    }
}
