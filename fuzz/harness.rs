//! The one harness over the definition parser, the validator and the planner, compiled into
//! both the coverage-guided target (`fuzz_targets/definition.rs`, nightly and libFuzzer)
//! and the stable replay of its corpus (`backend/tests/fuzz.rs`, part of `cargo test`), by
//! `#[path]` so neither copies it and the backend's library does not carry test code.

use backend::engine::plan::Plan;
use shared::validate::{is_valid, parse_and_validate};

/// Bytes as a definition: JSON → parse → validate → and, when valid, the engine's plan.
/// Panics (the fuzzer's crash) if the validator answers a finding without a code or a
/// message, or refuses to plan a definition it accepted.
pub(crate) fn definition(bytes: &[u8]) {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return;
    };
    let (workflow, findings) = parse_and_validate(&json);
    for f in &findings {
        assert!(!f.code.is_empty() && !f.message.is_empty(), "{f:?}");
    }
    if let Some(workflow) = workflow
        && is_valid(&findings)
        && let Err(e) = Plan::new(workflow, 1)
    {
        panic!("a valid definition does not plan: {e}");
    }
}
