//! `/admin/users`: everyone who can sign in with a password, with their role and last sign-in;
//! add a user, change a role, remove one (after a confirmation). Every refusal is the server's
//! message next to the form or row it came from.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use shared::access::{NewUser, Role, User, UserChange, UserList};

use super::{AdminFrame, when};
use crate::api;
use crate::components::load_error::LoadError;
use crate::pages::Page;
use crate::pages::runs::query::encode as segment;

#[component]
pub fn Users() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let users = LocalResource::new(move || {
        reload.track();
        async { api::get_json::<UserList>("/api/users").await }
    });
    let refresh = Callback::new(move |()| reload.update(|n| *n += 1));
    view! {
        <AdminFrame
            page=Page::AdminUsers
            lede="People who sign in with a name and password. Each role includes the ones before it: viewer, approver, operator, editor, admin."
        >
            <AddUser on_added=refresh />
            <section class="card">
                <div class="card-head">
                    <h2>"Users"</h2>
                    <Show when=move || users.get().is_none()>
                        <span class="spinner" aria-label="Loading"></span>
                    </Show>
                </div>
                {move || {
                    users
                        .get()
                        .map(|answer| match answer {
                            Ok(list) => view! { <UserTable users=list.users refresh /> }.into_any(),
                            Err(e) => {
                                view! {
                                    <LoadError
                                        title="Could not load the users"
                                        message=e.error.message
                                        testid="users-error"
                                        retry=move || refresh.run(())
                                    />
                                }
                                    .into_any()
                            }
                        })
                }}
            </section>
        </AdminFrame>
    }
}

#[component]
fn UserTable(users: Vec<User>, refresh: Callback<()>) -> impl IntoView {
    if users.is_empty() {
        return view! { <p class="empty pad" data-testid="users-empty">"No users yet: add one above."</p> }
            .into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="admin-table" data-testid="users-table">
                <thead>
                    <tr>
                        <th>"Name"</th>
                        <th>"Role"</th>
                        <th>"Created"</th>
                        <th>"Last sign-in"</th>
                        <th class="actions-col"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {users.into_iter().map(|user| view! { <UserRow user refresh /> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn UserRow(user: User, refresh: Callback<()>) -> impl IntoView {
    let name = user.name.clone();
    let role = RwSignal::new(user.role);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let confirming = RwSignal::new(false);
    let change_role = {
        let name = name.clone();
        move |ev: leptos::ev::Event| {
            let Some(new) = Role::parse(&event_target_value(&ev)) else {
                return;
            };
            let before = role.get_untracked();
            role.set(new);
            busy.set(true);
            error.set(None);
            let url = format!("/api/users/{}", segment(&name));
            leptos::task::spawn_local(async move {
                let change = UserChange {
                    role: Some(new),
                    password: None,
                };
                let answer = api::patch_json::<_, User>(&url, &change).await;
                let _ = busy.try_set(false);
                if let Err(e) = answer {
                    let _ = role.try_set(before);
                    let _ = error.try_set(Some(e.error.message));
                }
            });
        }
    };
    let remove = {
        let name = name.clone();
        move |_| {
            busy.set(true);
            error.set(None);
            let url = format!("/api/users/{}", segment(&name));
            leptos::task::spawn_local(async move {
                let answer = api::delete_empty(&url).await;
                let _ = busy.try_set(false);
                let _ = confirming.try_set(false);
                match answer {
                    Ok(()) => drop(refresh.try_run(())),
                    Err(e) => drop(error.try_set(Some(e.error.message))),
                }
            });
        }
    };
    view! {
        <tr data-testid=format!("user-{name}")>
            <td class="strong" data-testid="user-name">{name.clone()}</td>
            <td>
                <select
                    class="input select-compact"
                    aria-label=format!("Role of {name}")
                    data-testid="user-role"
                    disabled=move || busy.get()
                    prop:value=move || role.get().as_str()
                    on:change=change_role
                >
                    {Role::ALL
                        .map(|r| {
                            view! {
                                <option value=r.as_str() selected=move || role.get() == r>
                                    {r.as_str()}
                                </option>
                            }
                        })}
                </select>
            </td>
            <td class="muted">{when(Some(user.created_at))}</td>
            <td class="muted" data-testid="user-last-login">{when(user.last_login_at)}</td>
            <td class="actions-col">
                <Show
                    when=move || confirming.get()
                    fallback=move || {
                        view! {
                            <button
                                class="btn btn-small btn-danger-outline"
                                data-testid="user-remove"
                                disabled=move || busy.get()
                                on:click=move |_| confirming.set(true)
                            >
                                "Remove"
                            </button>
                        }
                    }
                >
                    <span class="confirm" role="group" aria-label="Confirm removal">
                        <span class="muted">"Remove this user?"</span>
                        <button
                            class="btn btn-small btn-danger"
                            data-testid="user-remove-confirm"
                            disabled=move || busy.get()
                            on:click=remove.clone()
                        >
                            "Remove"
                        </button>
                        <button class="btn btn-small" on:click=move |_| confirming.set(false)>
                            "Keep"
                        </button>
                    </span>
                </Show>
                {move || {
                    error
                        .get()
                        .map(|m| view! { <p class="form-error" role="alert" data-testid="user-error">{m}</p> })
                }}
            </td>
        </tr>
    }
}

/// The add-user form: name, role, password.
#[component]
fn AddUser(on_added: Callback<()>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Viewer);
    let password = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let body = NewUser {
            name: name.get_untracked().trim().to_owned(),
            role: role.get_untracked(),
            password: password.get_untracked(),
        };
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let answer = api::post_json::<_, User>("/api/users", &body).await;
            let _ = busy.try_set(false);
            match answer {
                Ok(_) => {
                    let _ = name.try_set(String::new());
                    let _ = password.try_set(String::new());
                    let _ = on_added.try_run(());
                }
                Err(e) => drop(error.try_set(Some(e.error.message))),
            }
        });
    };
    view! {
        <form class="card admin-form" data-testid="add-user" on:submit=submit>
            <div class="card-head">
                <h2>"Add a user"</h2>
            </div>
            <div class="card-body">
                <div class="form-row">
                    <label class="field">
                        <span class="field-label">"Name"</span>
                        <input class="input" required autocomplete="off" data-testid="new-user-name" bind:value=name />
                    </label>
                    <label class="field field-role">
                        <span class="field-label">"Role"</span>
                        <RoleSelect role testid="new-user-role" />
                    </label>
                    <label class="field">
                        <span class="field-label">"Password"</span>
                        <input
                            class="input"
                            type="password"
                            required
                            autocomplete="new-password"
                            data-testid="new-user-password"
                            bind:value=password
                        />
                    </label>
                    <button type="submit" class="btn btn-primary" disabled=move || busy.get() data-testid="new-user-submit">
                        <Show when=move || busy.get()>
                            <span class="spinner spinner-light" aria-hidden="true"></span>
                        </Show>
                        "Add user"
                    </button>
                </div>
                {move || {
                    error
                        .get()
                        .map(|m| view! { <p class="form-error" role="alert" data-testid="new-user-error">{m}</p> })
                }}
            </div>
        </form>
    }
}

/// A `<select>` of the five roles bound to `role`.
#[component]
pub fn RoleSelect(role: RwSignal<Role>, testid: &'static str) -> impl IntoView {
    view! {
        <select
            class="input"
            data-testid=testid
            prop:value=move || role.get().as_str()
            on:change=move |ev| {
                if let Some(r) = Role::parse(&event_target_value(&ev)) {
                    role.set(r);
                }
            }
        >
            {Role::ALL
                .map(|r| view! { <option value=r.as_str() selected=move || role.get() == r>{r.as_str()}</option> })}
        </select>
    }
}
