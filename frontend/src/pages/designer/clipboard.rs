//! Copy and paste of nodes through the system clipboard, as JSON ([`Clip`]), so nodes copied
//! in one workflow paste into another. Ctrl+C and Ctrl+V go through the browser's own `copy`
//! and `paste` events (no permission asked); the context menu uses `navigator.clipboard`.
//! Every copy is also kept in this browser's `localStorage`: when the clipboard API is
//! refused (no permission, no secure context) a paste takes that copy instead.
//!
//! `navigator.clipboard` and `ClipboardEvent.clipboardData` are reached through `Reflect`:
//! the `web-sys` features for them would rebuild the whole UI stack for three calls.

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::graph::clip::Clip;

/// Where the last copy is kept in this browser.
const KEY: &str = "weft.designer.clipboard";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// Calls `obj.name(args…)`.
fn call(obj: &JsValue, name: &str, args: &[&str]) -> Option<JsValue> {
    let f: Function = Reflect::get(obj, &name.into()).ok()?.dyn_into().ok()?;
    let args: js_sys::Array = args.iter().map(|a| JsValue::from_str(a)).collect();
    f.apply(obj, &args).ok()
}

fn system_clipboard() -> Option<JsValue> {
    let window: JsValue = web_sys::window()?.into();
    let navigator = Reflect::get(&window, &"navigator".into()).ok()?;
    Reflect::get(&navigator, &"clipboard".into())
        .ok()
        .filter(|c| !c.is_undefined() && !c.is_null())
}

/// Keeps `clip` in this browser, and puts it on the system clipboard when the browser lets
/// the page write there (the context menu's Copy).
pub(super) fn store(clip: &Clip) {
    let text = clip.to_text();
    if let Some(s) = storage() {
        let _ = s.set_item(KEY, &text);
    }
    if let Some(promise) = system_clipboard()
        .and_then(|c| call(&c, "writeText", &[&text]))
        .and_then(|p| p.dyn_into::<Promise>().ok())
    {
        // A refusal leaves the copy in localStorage, which is enough to paste it here.
        wasm_bindgen_futures::spawn_local(async move {
            let _ = JsFuture::from(promise).await;
        });
    }
}

/// Puts `clip` into a `copy` event's data (Ctrl+C) and keeps it in this browser; true when the
/// event took it.
pub(super) fn put_in_event(ev: &web_sys::Event, clip: &Clip) -> bool {
    let text = clip.to_text();
    if let Some(s) = storage() {
        let _ = s.set_item(KEY, &text);
    }
    Reflect::get(ev, &"clipboardData".into())
        .ok()
        .filter(|d| !d.is_undefined() && !d.is_null())
        .and_then(|data| call(&data, "setData", &["text/plain", &text]))
        .is_some()
}

/// The text of a `paste` event (Ctrl+V), if it carries any.
pub(super) fn text_of_event(ev: &web_sys::Event) -> Option<String> {
    let data = Reflect::get(ev, &"clipboardData".into())
        .ok()
        .filter(|d| !d.is_undefined() && !d.is_null())?;
    call(&data, "getData", &["text/plain"])?.as_string()
}

/// The copy in this browser, if any.
pub(super) fn stored() -> Option<Clip> {
    Clip::from_text(&storage()?.get_item(KEY).ok().flatten()?)
}

/// What the context menu's Paste pastes: the system clipboard's nodes when the browser lets
/// the page read them, else the copy kept in this browser.
pub(super) async fn read() -> Option<Clip> {
    let promise = system_clipboard()
        .and_then(|c| call(&c, "readText", &[]))
        .and_then(|p| p.dyn_into::<Promise>().ok());
    if let Some(promise) = promise
        && let Ok(text) = JsFuture::from(promise).await
        && let Some(clip) = text.as_string().as_deref().and_then(Clip::from_text)
    {
        return Some(clip);
    }
    stored()
}
