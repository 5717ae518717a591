//! The fuzzing of definitions, as part of `cargo test` on stable: every input in the
//! coverage-guided fuzzer's corpus (`fuzz/corpus/definition/`, kept minimized by
//! `cargo fuzz cmin`) is replayed through the same harness, and proptest generates random
//! definitions of every node type (random edges and ports, templates, durations) through
//! parse → validate → plan. The harness is `fuzz/harness.rs`, shared by `#[path]`.

#[path = "../../fuzz/harness.rs"]
mod harness;

use proptest::prelude::*;
use serde_json::{Value, json};
use shared::model::NODE_TYPES;

#[test]
fn the_fuzz_corpus_replays_without_a_panic() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus/definition");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).expect("the corpus") {
        let path = entry.expect("entry").path();
        let bytes = std::fs::read(&path).expect("read");
        let outcome = std::panic::catch_unwind(|| harness::definition(&bytes));
        assert!(outcome.is_ok(), "{} panicked", path.display());
        count += 1;
    }
    assert!(count >= 5, "the corpus has the examples at least ({count})");
}

/// Strings a node's fields may hold: templates that parse or not, that read nodes, secrets
/// or budgets' worth of work, and durations in and out of range.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("{{ input.x }}".to_owned()),
        Just("{{ nodes.a.output }}".to_owned()),
        Just("{{ nodes.b.output.y }} and {{ nodes.c.output }}".to_owned()),
        Just("{{ nodes | tojson }}".to_owned()),
        Just("{{ secrets.TOKEN }}".to_owned()),
        Just("{{ secrets }}".to_owned()),
        Just("{% for i in range(100000) %}x{% endfor %}".to_owned()),
        Just("{{ broken".to_owned()),
        Just("{{ input.x | nosuchfilter }}".to_owned()),
        Just("5s".to_owned()),
        Just("1h30m".to_owned()),
        Just("3650d".to_owned()),
        Just("106751991167d".to_owned()),
        Just("0s".to_owned()),
        Just("GET".to_owned()),
        Just("http://127.0.0.1:9/x".to_owned()),
        "[a-z{}%. |]{0,16}",
    ]
}

/// A node of a random type with random settings; `extra` keeps fields its type lacks.
fn node(id: &'static str) -> impl Strategy<Value = Value> {
    (
        prop::sample::select(NODE_TYPES.to_vec()),
        text(),
        text(),
        text(),
        any::<i8>(),
        any::<bool>(),
    )
        .prop_map(move |(ty, a, b, c, n, extra)| {
            let mut node = json!({"id": id, "type": ty,
                "request": {"method": a, "url": b, "headers": {"X": c}, "body": {"v": a}},
                "expr": c, "output": {"o": b, "p": [c]}, "prompt": a, "duration": b,
                "signal": a, "queue": b, "activity": c, "input": {"i": a}, "timeout": c,
                "heartbeat_timeout": b,
                "retry": {"max_attempts": n, "initial_interval": b, "max_interval": c,
                          "backoff_coefficient": n as f64 / 4.0}});
            if !extra {
                let keep: &[&str] = match ty {
                    "http" => &["request", "timeout", "retry"],
                    "task" => &[
                        "queue",
                        "activity",
                        "input",
                        "timeout",
                        "heartbeat_timeout",
                        "retry",
                    ],
                    "approval" => &["prompt", "timeout"],
                    "signal" => &["signal", "timeout"],
                    "timer" => &["duration"],
                    "condition" => &["expr"],
                    "transform" | "end" => &["output"],
                    _ => &[],
                };
                let map = node.as_object_mut().expect("object");
                map.retain(|k, _| k == "id" || k == "type" || keep.contains(&k.as_str()));
            }
            node
        })
}

const IDS: [&str; 8] = ["start", "a", "b", "c", "d", "e", "f", "ghost"];
const PORTS: [&str; 9] = [
    "next", "error", "true", "false", "approved", "rejected", "timeout", "bogus", "next",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]
    #[test]
    fn random_definitions_parse_validate_and_plan(
        first_is_start in any::<bool>(),
        nodes in (node("a"), node("b"), node("c"), node("d"), node("e"), node("f")),
        count in 0usize..=6,
        edges in prop::collection::vec((0usize..8, 0usize..8, prop::sample::select(PORTS.to_vec())), 0..16),
        on_cancel in prop::option::of(prop::sample::select(IDS.to_vec())),
        timeout in prop::option::of(text()),
    ) {
        let (a, b, c, d, e, f) = nodes;
        let mut ns: Vec<Value> = vec![a, b, c, d, e, f];
        ns.truncate(count);
        if first_is_start {
            ns.insert(0, json!({"id": "start", "type": "start"}));
        }
        let es: Vec<Value> = edges
            .iter()
            .map(|(from, to, port)| json!({"from": IDS[*from], "to": IDS[*to], "port": port}))
            .collect();
        let def = json!({"name": "fuzz", "nodes": ns, "edges": es,
            "on_cancel": on_cancel, "timeout": timeout});
        harness::definition(&serde_json::to_vec(&def).expect("json"));
    }
}
