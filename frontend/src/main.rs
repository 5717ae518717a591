//! Browser entry point: Trunk builds this binary to wasm; it only mounts [`frontend::App`].

fn main() {
    // Panics show up in the browser console with a message instead of `unreachable`.
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(frontend::App);
}
