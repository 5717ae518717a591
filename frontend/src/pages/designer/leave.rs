//! Leaving the designer with unsaved changes asks first: a reload or a closed tab through the
//! browser's own `beforeunload` prompt, a click on any link inside the app (the top bar
//! included) through a confirm. The draft is kept either way; the question is whether to go.

use std::cell::Cell;

use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

thread_local! {
    /// Whether the designer on screen has unsaved changes.
    static DIRTY: Cell<bool> = const { Cell::new(false) };
    /// Whether the document's click guard is installed (once per page load).
    static INSTALLED: Cell<bool> = const { Cell::new(false) };
}

/// Asks before leaving while `dirty` is true, for as long as the calling component lives.
pub(super) fn guard(dirty: Memo<bool>) {
    install_link_guard();
    Effect::new(move |_| DIRTY.with(|d| d.set(dirty.get())));
    let unload = window_event_listener(ev::beforeunload, move |ev: ev::BeforeUnloadEvent| {
        if dirty.get_untracked() {
            ev.prevent_default();
            ev.set_return_value("");
        }
    });
    on_cleanup(move || {
        DIRTY.with(|d| d.set(false));
        unload.remove();
    });
}

/// A click listener on the document, which sees link clicks before the router (listening on
/// the window) turns them into navigations; cancelling the click cancels the navigation.
fn install_link_guard() {
    if INSTALLED.with(|i| i.replace(true)) {
        return;
    }
    let on_click = Closure::<dyn Fn(web_sys::MouseEvent)>::new(|ev: web_sys::MouseEvent| {
        if !DIRTY.with(Cell::get) {
            return;
        }
        let link = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|el| el.closest("a[href]").ok().flatten());
        let Some(link) = link else { return };
        let href = link.get_attribute("href").unwrap_or_default();
        if link.has_attribute("download") || !href.starts_with('/') {
            return;
        }
        let leave = window()
            .confirm_with_message(
                "Leave the designer? Your unsaved changes stay as a draft in this browser.",
            )
            .unwrap_or(true);
        if !leave {
            ev.prevent_default();
        }
    });
    let _ = document().add_event_listener_with_callback("click", on_click.as_ref().unchecked_ref());
    // Installed for the page's lifetime, so it is never dropped.
    on_click.forget();
}
