//! Whole definitions: the shipped examples are valid and round-trip; random input never
//! panics the validator.

use std::time::Duration;

use proptest::prelude::*;
use serde_json::{Value, json};
use shared::validate::{is_valid, parse_and_validate};
use shared::{Workflow, model::NODE_TYPES};

fn examples() -> Vec<(String, Value)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            (
                p.display().to_string(),
                serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn examples_are_valid() {
    let all = examples();
    assert!(all.len() >= 5, "expected at least five examples");
    for (path, def) in all {
        let (_, findings) = parse_and_validate(&def);
        assert!(findings.is_empty(), "{path}: {findings:#?}");
    }
}

#[test]
fn examples_round_trip() {
    for (path, def) in examples() {
        let wf: Workflow = serde_json::from_value(def.clone()).unwrap();
        let text = serde_json::to_string(&wf).unwrap();
        let again: Workflow = serde_json::from_str(&text).unwrap();
        assert_eq!(wf, again, "{path}");
        // Serializing writes back exactly the fields that were read.
        assert_eq!(
            serde_json::to_value(&again).unwrap(),
            strip_default_ports(def),
            "{path}"
        );
    }
}

/// The canonical form of a definition: default ports left out, positions as floats.
fn strip_default_ports(mut def: Value) -> Value {
    for n in def["nodes"].as_array_mut().unwrap() {
        if let Some(p) = n.get_mut("position") {
            for k in ["x", "y"] {
                p[k] = json!(p[k].as_f64().unwrap());
            }
        }
    }
    for e in def["edges"].as_array_mut().unwrap() {
        if e["port"] == "next" {
            e.as_object_mut().unwrap().remove("port");
        }
    }
    def
}

#[test]
fn spec_example_parses_and_has_the_expected_findings() {
    let def = json!({
        "name": "process-order", "on_cancel": "refund",
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "charge", "type": "http", "request": {"method": "POST", "url": "http://127.0.0.1:9000/charge"},
             "retry": {"max_attempts": 3, "initial_interval": "1s", "backoff_coefficient": 2.0, "max_interval": "30s"}},
            {"id": "big", "type": "condition", "expr": "input.amount > 100"},
            {"id": "approve", "type": "approval", "prompt": "Ship order {{ input.order_id }}?", "timeout": "24h"},
            {"id": "ship", "type": "task", "queue": "orders", "activity": "fulfillOrder", "input": {"order": "{{ input.order_id }}"}, "timeout": "5m", "heartbeat_timeout": "30s"},
            {"id": "refund", "type": "http", "request": {"method": "POST", "url": "http://127.0.0.1:9000/refund"}},
            {"id": "done", "type": "end", "output": {"shipped": "{{ nodes.ship.output }}"}}
        ],
        "edges": [
            {"from": "start", "to": "charge"}, {"from": "charge", "to": "big"},
            {"from": "big", "to": "approve", "port": "true"}, {"from": "big", "to": "ship", "port": "false"},
            {"from": "approve", "to": "ship", "port": "approved"}, {"from": "ship", "to": "done"}
        ]
    });
    let (wf, findings) = parse_and_validate(&def);
    assert!(wf.is_some());
    // The SPEC's sketch leaves `refund` without a way out.
    let codes: Vec<&str> = findings.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(codes, vec!["no_way_out"], "{findings:#?}");
}

#[test]
fn retry_backoff_arithmetic() {
    use shared::model::{DurationText, RetryPolicy};
    let r = RetryPolicy::resolve(Some(&RetryPolicy {
        max_attempts: Some(5),
        initial_interval: Some(DurationText("1s".into())),
        backoff_coefficient: Some(2.0),
        max_interval: Some(DurationText("5s".into())),
    }));
    let secs: Vec<f64> = (1..=4).map(|n| r.backoff(n).as_secs_f64()).collect();
    assert_eq!(secs, vec![1.0, 2.0, 4.0, 5.0]);
    let d = RetryPolicy::resolve(None);
    assert_eq!(
        (
            d.max_attempts,
            d.initial_interval.as_secs(),
            d.max_interval.as_secs()
        ),
        (3, 1, 100)
    );
}

fn arb_node(ids: Vec<String>) -> impl Strategy<Value = Value> {
    let id = prop::sample::select(ids);
    let ty = prop::sample::select(NODE_TYPES.to_vec());
    let text = prop_oneof![
        Just("{{ input.x }}".to_owned()),
        Just("{{ nodes.a.output }}".to_owned()),
        Just("{{ broken".to_owned()),
        Just("5s".to_owned()),
        Just("nonsense".to_owned()),
        "[a-z{}. ]{0,12}",
    ];
    (id, ty, text.clone(), text, any::<i8>(), any::<bool>()).prop_map(|(id, ty, a, b, n, extra)| {
        let mut node = json!({"id": id, "type": ty, "request": {"method": a, "url": b},
            "expr": a, "output": b, "prompt": a, "duration": b, "signal": a, "queue": b, "activity": a,
            "timeout": b, "retry": {"max_attempts": n, "backoff_coefficient": n as f64 / 4.0}});
        if !extra {
            // Keep only the fields this type has, so deeper rules get exercised too.
            let keep: &[&str] = match ty {
                "http" => &["request", "timeout", "retry"],
                "task" => &["queue", "activity", "timeout", "retry"],
                "approval" => &["prompt", "timeout"],
                "signal" => &["signal", "timeout"],
                "timer" => &["duration"],
                "condition" => &["expr"],
                "transform" | "end" => &["output"],
                _ => &[],
            };
            node.as_object_mut().unwrap().retain(|k, _| k == "id" || k == "type" || keep.contains(&k.as_str()));
        }
        node
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn random_definitions_never_panic(
        nodes in prop::collection::vec(arb_node(["start", "a", "b", "c", "d", "e"].map(String::from).to_vec()), 0..8),
        edges in prop::collection::vec((0usize..7, 0usize..7, prop::sample::select(vec!["next", "error", "true", "false", "approved", "timeout", "bogus"])), 0..12),
        on_cancel in prop::option::of(prop::sample::select(vec!["a", "b", "zz"])),
    ) {
        let ids = ["start", "a", "b", "c", "d", "e", "ghost"];
        let edges: Vec<Value> = edges.iter().map(|(f, t, p)| json!({"from": ids[*f], "to": ids[*t], "port": p})).collect();
        let def = json!({"name": "fuzz", "nodes": nodes, "edges": edges, "on_cancel": on_cancel});
        let (_, findings) = parse_and_validate(&def);
        // Whatever it says, it must say it with a code and a message.
        for f in &findings {
            prop_assert!(!f.code.is_empty() && !f.message.is_empty());
        }
        let _ = is_valid(&findings);
    }
}

#[test]
fn backoff_never_overflows() {
    use shared::limits::MAX_DURATION;
    use shared::model::{DurationText, Retry, RetryPolicy};
    // The default max_interval (100 × initial) stops at the longest duration.
    let r = RetryPolicy::parse(Some(&RetryPolicy {
        initial_interval: Some(DurationText("3650d".into())),
        backoff_coefficient: Some(1e300),
        ..RetryPolicy::default()
    }))
    .unwrap();
    assert_eq!(r.max_interval, MAX_DURATION);
    for attempt in [1, 2, 3, 1000, u32::MAX] {
        assert!(r.backoff(attempt) <= MAX_DURATION, "{attempt}");
    }
    // Whatever a caller builds, a backoff is a wait between zero and max_interval.
    let odd = Retry {
        max_attempts: 3,
        initial_interval: Duration::MAX,
        backoff_coefficient: -2.0,
        max_interval: Duration::from_secs(60),
    };
    for attempt in [1, 2, 3] {
        assert_eq!(odd.backoff(attempt), Duration::from_secs(60));
    }
    assert!(
        DurationText("106751991167d".into()).parse().is_err(),
        "longer than the maximum"
    );
}
