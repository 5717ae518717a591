//! What `decide` needs to say about child runs (SPEC §5): their ids, and the messages a
//! `subflow` or `map` node fails with.
//!
//! A child's id is derived from its parent's id, the node and the item, never drawn at
//! random: `decide` stays pure, and deciding a parent again (after a conflict with another
//! process) names the same child, so a node can never start two.

use serde_json::Value;
use sha2::Digest as _;
use shared::fold::Child;

use super::event::ChildStatus;

/// The id of the child run node `node` of run `parent` starts for item `index` (none for a
/// `subflow`): a UUID (version 8) made of the SHA-256 of the three, so its length does not
/// grow with nesting.
pub fn run_id(parent: &str, node: &str, index: Option<u32>) -> String {
    let mut h = sha2::Sha256::new();
    h.update(parent.as_bytes());
    h.update([0]);
    h.update(node.as_bytes());
    if let Some(k) = index {
        h.update([0]);
        h.update(k.to_be_bytes());
    }
    let digest = h.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Uuid::new_v8(bytes).to_string()
}

/// What a value is, for a message about the wrong one.
pub fn describe(v: &Value) -> String {
    let text = v.to_string();
    let shown = if text.len() > 80 {
        format!("{}…", text.chars().take(80).collect::<String>())
    } else {
        text
    };
    let kind = match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    format!("{kind}: {shown}")
}

/// Why a `subflow` node failed when its child did.
pub fn failure(run: &str, status: ChildStatus, error: Option<&str>) -> String {
    match (status, error) {
        (ChildStatus::Cancelled, Some(e)) => format!("child run `{run}` was cancelled: {e}"),
        (ChildStatus::Cancelled, None) => format!("child run `{run}` was cancelled"),
        (_, Some(e)) => format!("child run `{run}` failed: {e}"),
        (_, None) => format!("child run `{run}` failed"),
    }
}

/// The failed items listed in a `map`'s error, at most.
const LISTED: usize = 20;

/// Why a `map` node failed: more children failed than it tolerates; each failed item with
/// its index, child run and error (the first [`LISTED`]).
pub fn map_failure(children: &[Child], tolerated: u64) -> String {
    let failed: Vec<(usize, &Child)> = children
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c.status, ChildStatus::Failed | ChildStatus::Cancelled))
        .collect();
    let mut out = format!(
        "{} of {} started items failed, more than the {tolerated} tolerated:",
        failed.len(),
        children.len()
    );
    for (k, c) in failed.iter().take(LISTED) {
        let error = c.error.as_deref().unwrap_or(c.status.as_str());
        out.push_str(&format!(" item {k} (run `{}`): {error};", c.run));
    }
    if failed.len() > LISTED {
        out.push_str(&format!(" and {} more", failed.len() - LISTED));
    } else {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_id_is_stable_distinct_and_short() {
        let a = run_id("p", "n", Some(1));
        assert_eq!(a, run_id("p", "n", Some(1)));
        assert_ne!(a, run_id("p", "n", Some(2)));
        assert_ne!(a, run_id("p", "n", None));
        assert_ne!(run_id("p", "n1", None), run_id("p1", "n", None));
        let deep = (0..40).fold("root".to_owned(), |id, _| run_id(&id, "n", None));
        assert_eq!(deep.len(), 36);
    }
}
