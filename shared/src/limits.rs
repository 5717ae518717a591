//! Every limit Weft puts on what a user or a caller sends, declared once (SPEC §3).
//!
//! The validator, the template renderer, the engine and the API all read these constants,
//! and the README's "Limits" table lists them with the answer each gives, so a limit is
//! never enforced in one place and forgotten in another. They are sized so that the largest
//! definition still validates and plans in well under a second, and the largest values a
//! run may hold keep a run page and the database small.

use std::time::Duration;

/// Nodes in one definition (`422 too_many_nodes`).
pub const MAX_NODES: usize = 2_000;

/// Edges in one definition (`422 too_many_edges`).
pub const MAX_EDGES: usize = 10_000;

/// Bytes of one template or expression's source (`422 template_too_long`).
pub const MAX_TEMPLATE_LEN: usize = 16 * 1024;

/// MiniJinja fuel for rendering one value (one node's input, one condition, one output):
/// every instruction costs one, and every 64 bytes created or processed cost one. Running
/// out fails the node (or the request) with a message naming this limit.
///
/// Measured (`cargo run --release -p shared --example template_budget`): at 200,000 fuel a
/// loop comparing two long strings took 1.1 s and nested loops 2.3 ms; the cost of such
/// templates grows with the square of the fuel (longer strings, and more operations on
/// them), and at 20,000 they take 5 ms and 0.4 ms, while 20,000 is still ample for real
/// templates (20,000 instructions, about 1.2 MB of data). Some filters and tests do work
/// MiniJinja does not charge for (the example lists them), so rendering must not be trusted
/// to be short on fuel alone.
pub const TEMPLATE_FUEL: u64 = 20_000;

/// Bytes of one rendered value, of a node's output (an HTTP response body kept as output
/// included), of a task's completion and of a run's output (Step Functions caps a payload
/// at 256 KiB too). Over it, the node fails with `output_too_large`.
pub const MAX_VALUE_BYTES: usize = 256 * 1024;

/// Signals one run may hold that no `signal` node has taken yet (`409`).
pub const MAX_BUFFERED_SIGNALS: usize = 100;

/// The longest duration a definition may give (a timer, a timeout, a retry interval):
/// ten years (`422 invalid_duration`). Times are added to it with checked arithmetic.
pub const MAX_DURATION: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// How many runs waiting for a person one inbox answer (`GET /api/approvals`) reads; more
/// and the answer says it is `truncated`.
pub const MAX_INBOX_RUNS: i64 = 500;

/// The largest `limit` of a list (`GET /api/runs?limit=`): `1..=MAX_PAGE` (`400`).
pub const MAX_PAGE: i64 = 500;

/// Characters of the message saved with a version (`PUT /api/workflows/{name}?message=`),
/// after trimming (`400`): a line or two, as a commit's subject is.
pub const MAX_SAVE_MESSAGE: usize = 500;

/// How much of an `http` attempt's request or response body its `http_exchanged` event keeps.
pub const MAX_RECORDED_BODY: usize = 4 * 1024;

/// The longest run id or workflow name a caller may give (`400`).
pub const MAX_ID_LEN: usize = 200;

/// Levels of arrays and objects within each other in a value a run keeps (an input, a
/// rendered value, a node's output, a signal's payload). serde_json reads at most 128, and
/// a node's output is stored inside an event and served inside a response, so a deeper
/// value could be written to the log but never read back. Over it, the node fails like a
/// value over [`MAX_VALUE_BYTES`].
pub const MAX_VALUE_DEPTH: usize = 64;

/// Items of one `map` node (SPEC §5); more fail the node.
pub const MAX_MAP_ITEMS: usize = 10_000;

/// The highest `max_concurrency` of a `map` node (`422 invalid_field`).
pub const MAX_MAP_CONCURRENCY: i64 = 1_000;

/// Levels of child runs within each other (SPEC §5): a `subflow` or `map` node of a run this
/// deep fails instead of starting a child.
pub const MAX_CHILD_DEPTH: u32 = 32;

/// Why a value may not be kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("the value is {bytes} bytes, over the {MAX_VALUE_BYTES}-byte limit")]
    TooLarge { bytes: usize },
    #[error("the value nests more than {MAX_VALUE_DEPTH} levels deep")]
    TooDeep,
}

/// Checks a value against [`MAX_VALUE_DEPTH`] (without recursion: the check must not be what a
/// deep value overflows) and then [`MAX_VALUE_BYTES`].
pub fn check_value(value: &serde_json::Value) -> Result<(), ValueError> {
    use serde_json::Value;
    let mut stack: Vec<(&Value, usize)> = vec![(value, 1)];
    while let Some((v, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match v {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(map) => Box::new(map.values()),
            _ => continue,
        };
        if depth > MAX_VALUE_DEPTH {
            return Err(ValueError::TooDeep);
        }
        stack.extend(children.map(|c| (c, depth + 1)));
    }
    let bytes = serde_json::to_vec(value).map_or(usize::MAX, |v| v.len());
    if bytes > MAX_VALUE_BYTES {
        return Err(ValueError::TooLarge { bytes });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn nested(depth: usize) -> Value {
        (1..depth).fold(json!([]), |v, _| json!([v]))
    }

    #[test]
    fn values_are_checked_for_depth_then_size() {
        assert_eq!(check_value(&json!({"a": [1, {"b": "c"}]})), Ok(()));
        assert_eq!(check_value(&nested(MAX_VALUE_DEPTH)), Ok(()));
        assert_eq!(
            check_value(&nested(MAX_VALUE_DEPTH + 1)),
            Err(ValueError::TooDeep)
        );
        let big = json!("x".repeat(MAX_VALUE_BYTES));
        assert!(matches!(
            check_value(&big),
            Err(ValueError::TooLarge { bytes }) if bytes == MAX_VALUE_BYTES + 2
        ));
    }
}
