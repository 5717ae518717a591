//! `/admin/keys`: API keys for scripts and workers (`Authorization: Bearer <key>`). A new key
//! is shown once, in a box with Copy, since the server keeps only its hash; the list shows
//! the prefix to recognise it by. Revoking asks first.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use shared::access::{ApiKey, CreatedKey, KeyList, NewKey, Role};
use wasm_bindgen::JsCast;

use super::users::RoleSelect;
use super::{AdminFrame, when};
use crate::api;
use crate::components::load_error::LoadError;
use crate::pages::Page;
use crate::pages::runs::query::encode;

#[component]
pub fn Keys() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let keys = LocalResource::new(move || {
        reload.track();
        async { api::get_json::<KeyList>("/api/keys").await }
    });
    let refresh = Callback::new(move |()| reload.update(|n| *n += 1));
    view! {
        <AdminFrame
            page=Page::AdminKeys
            lede="Keys let scripts and workers call the API with a role: send one as Authorization: Bearer <key>."
        >
            <CreateKey on_created=refresh />
            <section class="card">
                <div class="card-head">
                    <h2>"API keys"</h2>
                    <Show when=move || keys.get().is_none()>
                        <span class="spinner" aria-label="Loading"></span>
                    </Show>
                </div>
                {move || {
                    keys.get()
                        .map(|answer| match answer {
                            Ok(list) => view! { <KeyTable keys=list.keys refresh /> }.into_any(),
                            Err(e) => {
                                view! {
                                    <LoadError
                                        title="Could not load the API keys"
                                        message=e.error.message
                                        testid="keys-error"
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
fn KeyTable(keys: Vec<ApiKey>, refresh: Callback<()>) -> impl IntoView {
    if keys.is_empty() {
        return view! { <p class="empty pad" data-testid="keys-empty">"No API keys yet."</p> }
            .into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="admin-table" data-testid="keys-table">
                <thead>
                    <tr>
                        <th>"Name"</th>
                        <th>"Role"</th>
                        <th>"Prefix"</th>
                        <th>"Created by"</th>
                        <th>"Created"</th>
                        <th>"Last used"</th>
                        <th class="actions-col">"Status"</th>
                    </tr>
                </thead>
                <tbody>
                    {keys.into_iter().map(|key| view! { <KeyRow key refresh /> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn KeyRow(key: ApiKey, refresh: Callback<()>) -> impl IntoView {
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let confirming = RwSignal::new(false);
    let url = format!("/api/keys/{}", encode(&key.id));
    let revoke = move |_| {
        busy.set(true);
        error.set(None);
        let url = url.clone();
        leptos::task::spawn_local(async move {
            let answer = api::delete_empty(&url).await;
            let _ = busy.try_set(false);
            let _ = confirming.try_set(false);
            match answer {
                Ok(()) => drop(refresh.try_run(())),
                Err(e) => drop(error.try_set(Some(e.error.message))),
            }
        });
    };
    let status = match key.revoked_at {
        Some(at) => view! {
            <span class="badge badge-muted" data-testid="key-revoked" title=format!("Revoked {}", when(Some(at)))>
                "Revoked"
            </span>
        }
        .into_any(),
        None => view! {
            <Show
                when=move || confirming.get()
                fallback=move || {
                    view! {
                        <button
                            class="btn btn-small btn-danger-outline"
                            data-testid="key-revoke"
                            on:click=move |_| confirming.set(true)
                        >
                            "Revoke"
                        </button>
                    }
                }
            >
                <span class="confirm" role="group" aria-label="Confirm revocation">
                    <span class="muted">"Revoke? Callers using it are refused."</span>
                    <button
                        class="btn btn-small btn-danger"
                        data-testid="key-revoke-confirm"
                        disabled=move || busy.get()
                        on:click=revoke.clone()
                    >
                        "Revoke"
                    </button>
                    <button class="btn btn-small" on:click=move |_| confirming.set(false)>"Keep"</button>
                </span>
            </Show>
        }
        .into_any(),
    };
    view! {
        <tr data-testid=format!("key-{}", key.name) class:revoked=key.revoked_at.is_some()>
            <td class="strong" data-testid="key-name">{key.name.clone()}</td>
            <td>{key.role.as_str()}</td>
            <td><code data-testid="key-prefix">{key.prefix.clone()}"…"</code></td>
            <td>{key.created_by.clone()}</td>
            <td class="muted">{when(Some(key.created_at))}</td>
            <td class="muted">{when(key.last_used_at)}</td>
            <td class="actions-col">
                {status}
                {move || {
                    error.get().map(|m| view! { <p class="form-error" role="alert" data-testid="key-error">{m}</p> })
                }}
            </td>
        </tr>
    }
}

/// The create form; the new key appears below it, once.
#[component]
fn CreateKey(on_created: Callback<()>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Operator);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let created = RwSignal::new(None::<CreatedKey>);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let body = NewKey {
            name: name.get_untracked().trim().to_owned(),
            role: role.get_untracked(),
        };
        busy.set(true);
        error.set(None);
        created.set(None);
        leptos::task::spawn_local(async move {
            let answer = api::post_json::<_, CreatedKey>("/api/keys", &body).await;
            let _ = busy.try_set(false);
            match answer {
                Ok(key) => {
                    let _ = name.try_set(String::new());
                    let _ = created.try_set(Some(key));
                    let _ = on_created.try_run(());
                }
                Err(e) => drop(error.try_set(Some(e.error.message))),
            }
        });
    };
    view! {
        <form class="card admin-form" data-testid="create-key" on:submit=submit>
            <div class="card-head">
                <h2>"Create an API key"</h2>
            </div>
            <div class="card-body">
                <div class="form-row">
                    <label class="field">
                        <span class="field-label">"Name"</span>
                        <input
                            class="input"
                            required
                            autocomplete="off"
                            placeholder="e.g. deploy-bot"
                            data-testid="new-key-name"
                            bind:value=name
                        />
                    </label>
                    <label class="field field-role">
                        <span class="field-label">"Role"</span>
                        <RoleSelect role testid="new-key-role" />
                    </label>
                    <button type="submit" class="btn btn-primary" disabled=move || busy.get() data-testid="new-key-submit">
                        <Show when=move || busy.get()>
                            <span class="spinner spinner-light" aria-hidden="true"></span>
                        </Show>
                        "Create key"
                    </button>
                </div>
                {move || {
                    error.get().map(|m| view! { <p class="form-error" role="alert" data-testid="new-key-error">{m}</p> })
                }}
                {move || created.get().map(|key| view! { <NewKeyBox key on_close=move || created.set(None) /> })}
            </div>
        </form>
    }
}

/// The key, this once: a read-only field to select, Copy, and the warning.
#[component]
fn NewKeyBox(key: CreatedKey, on_close: impl Fn() + 'static) -> impl IntoView {
    let copied = RwSignal::new(None::<bool>);
    let text = key.key.clone();
    let copy = move |_| {
        let text = text.clone();
        leptos::task::spawn_local(async move {
            let _ = copied.try_set(Some(copy_text(&text).await));
        });
    };
    view! {
        <div class="key-box" role="status" data-testid="new-key">
            <p class="key-warning" data-testid="new-key-warning">
                <strong>"Copy this key now: it will not be shown again."</strong>
                " Weft keeps only its hash. Key "<code>{key.info.name.clone()}</code>" ("{key.info.role.as_str()}")."
            </p>
            <div class="key-row">
                <input
                    class="input key-value"
                    readonly
                    aria-label="The new API key"
                    data-testid="new-key-value"
                    prop:value=key.key.clone()
                    on:focus=|ev| {
                        if let Some(input) = ev
                            .target()
                            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                        {
                            input.select();
                        }
                    }
                />
                <button type="button" class="btn btn-primary" data-testid="new-key-copy" on:click=copy>
                    "Copy"
                </button>
                <button type="button" class="btn" data-testid="new-key-done" on:click=move |_| on_close()>
                    "Done"
                </button>
            </div>
            {move || match copied.get() {
                Some(true) => view! { <p class="caption" data-testid="new-key-copied">"Copied to the clipboard."</p> }.into_any(),
                Some(false) => view! {
                    <p class="form-error" data-testid="new-key-copied">
                        "This browser did not allow copying: select the key and copy it yourself."
                    </p>
                }
                .into_any(),
                None => ().into_any(),
            }}
        </div>
    }
}

/// `navigator.clipboard.writeText(text)`; `false` where the browser refuses or lacks it.
async fn copy_text(text: &str) -> bool {
    use js_sys::{Function, Promise, Reflect};
    let Some(window) = web_sys::window() else {
        return false;
    };
    let call = || -> Option<Promise> {
        // `Navigator` is not among this crate's web-sys features: reach it by name.
        let navigator = Reflect::get(&window, &"navigator".into()).ok()?;
        let clipboard = Reflect::get(&navigator, &"clipboard".into()).ok()?;
        let write: Function = Reflect::get(&clipboard, &"writeText".into())
            .ok()?
            .dyn_into()
            .ok()?;
        write.call1(&clipboard, &text.into()).ok()?.dyn_into().ok()
    };
    match call() {
        Some(promise) => wasm_bindgen_futures::JsFuture::from(promise).await.is_ok(),
        None => false,
    }
}
