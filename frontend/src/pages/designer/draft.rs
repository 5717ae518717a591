//! Unsaved work kept in the browser's `localStorage`, one draft per designer address, so a
//! reload (or a crash) loses nothing; the designer offers it back when it opens.

use shared::model::Workflow;

/// The key of the draft for the designer at `/workflows/{route}` (`new` for a new workflow).
fn key(route: &str) -> String {
    format!("weft.draft.{route}")
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The draft for `route`, if one is stored and still reads as a workflow.
pub fn load(route: &str) -> Option<Workflow> {
    let text = storage()?.get_item(&key(route)).ok().flatten()?;
    serde_json::from_str(&text).ok()
}

/// Keeps `workflow` as the draft for `route`. A full or denied storage loses only the draft.
pub fn store(route: &str, workflow: &Workflow) {
    if let (Some(storage), Ok(text)) = (storage(), serde_json::to_string(workflow)) {
        let _ = storage.set_item(&key(route), &text);
    }
}

pub fn clear(route: &str) {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(&key(route));
    }
}
