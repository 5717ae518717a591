//! The largest definitions the limits allow validate on a small stack, so no walk of the
//! validator recurses on the size of the graph; and past the limits a definition is refused
//! at once with the one finding that names the limit.

#[path = "common/large.rs"]
mod large;

use serde_json::Value;
use shared::limits::{MAX_EDGES, MAX_NODES};
use shared::validate::Severity;
use shared::validate::{Diagnostic, parse_and_validate};

/// An eighth of a tokio worker's 2 MiB: plenty for walks of a bounded depth, too little for
/// one that recurses once per node (petgraph's `tarjan_scc`, which the validator used, overflowed
/// it on the longest chain), even in a debug build.
const STACK: usize = 256 << 10;

/// Validates `def` on a thread with a [`STACK`]-byte stack; a recursion as deep as the graph
/// would overflow it (and abort the test binary).
fn validate_on_small_stack(def: Value) -> Vec<Diagnostic> {
    std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || parse_and_validate(&def).1)
        .expect("spawn")
        .join()
        .expect("validation panicked")
}

#[test]
fn the_longest_chain_is_valid() {
    assert_eq!(validate_on_small_stack(large::chain(MAX_NODES)), vec![]);
}

#[test]
fn the_longest_parallel_chain_with_every_edge_is_valid() {
    let def = large::parallel_chain(MAX_NODES, MAX_EDGES);
    assert_eq!(def["edges"].as_array().map(Vec::len), Some(MAX_EDGES));
    assert_eq!(validate_on_small_stack(def), vec![]);
}

#[test]
fn the_widest_fan_is_valid() {
    assert_eq!(validate_on_small_stack(large::fan(MAX_NODES)), vec![]);
}

#[test]
fn the_longest_chain_of_diamonds_has_the_one_expected_finding() {
    let found = validate_on_small_stack(large::diamonds(MAX_NODES));
    let codes: Vec<(&str, Option<&str>, Severity)> = found
        .iter()
        .map(|f| (f.code.as_str(), f.node.as_deref(), f.severity))
        .collect();
    assert_eq!(
        codes,
        vec![("reference_not_dominating", Some("end"), Severity::Error)]
    );
}

#[test]
fn five_times_the_limit_is_refused_with_one_finding() {
    let found = validate_on_small_stack(large::chain(5 * MAX_NODES));
    let codes: Vec<&str> = found.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(codes, vec!["too_many_nodes"]);
    assert!(
        found[0].message.contains("10000 nodes"),
        "{}",
        found[0].message
    );
}
