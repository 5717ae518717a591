//! Browser entry point: Trunk builds this binary to wasm; it mounts [`frontend::App`] and
//! takes down the page's "Loading Weft…" (index.html), shown while the app downloaded.

fn main() {
    // Panics show up in the browser console with a message instead of `unreachable`.
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(frontend::App);
    if let Some(loading) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("app-loading"))
    {
        loading.remove();
    }
}
