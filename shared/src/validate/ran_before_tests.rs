//! [`ran_before`]: what the designer offers a template to read is exactly what the validator
//! lets it read.

use serde_json::{Value, json};

use super::*;

/// `start → c`; `c` true → `a`, false → `b`; both → `j` (a merge); `j → p` (a fan-out) →
/// `x`, `y` → `k` (a join) → `done`.
fn branched() -> Value {
    json!({
        "name": "branched",
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "c", "type": "condition", "expr": "input.n > 1"},
            {"id": "a", "type": "transform", "output": 1},
            {"id": "b", "type": "transform", "output": 2},
            {"id": "j", "type": "join"},
            {"id": "p", "type": "parallel"},
            {"id": "x", "type": "transform", "output": 3},
            {"id": "y", "type": "transform", "output": 4},
            {"id": "k", "type": "join"},
            {"id": "done", "type": "end"}
        ],
        "edges": [
            {"from": "start", "to": "c"},
            {"from": "c", "to": "a", "port": "true"},
            {"from": "c", "to": "b", "port": "false"},
            {"from": "a", "to": "j"},
            {"from": "b", "to": "j"},
            {"from": "j", "to": "p"},
            {"from": "p", "to": "x"},
            {"from": "p", "to": "y"},
            {"from": "x", "to": "k"},
            {"from": "y", "to": "k"},
            {"from": "k", "to": "done"}
        ]
    })
}

fn before(def: &Value, id: &str) -> Vec<String> {
    ran_before(&parse(def).expect("parses"), id)
}

#[test]
fn a_branch_join_does_not_offer_the_branches() {
    let def = branched();
    assert_eq!(before(&def, "start"), Vec::<String>::new());
    assert_eq!(before(&def, "a"), ["start", "c"]);
    assert_eq!(before(&def, "b"), ["start", "c"]);
    assert_eq!(before(&def, "j"), ["start", "c"]);
    assert_eq!(before(&def, "x"), ["start", "c", "j", "p"]);
}

#[test]
fn a_fan_out_join_offers_every_forced_branch() {
    let def = branched();
    assert_eq!(before(&def, "k"), ["start", "c", "j", "p", "x", "y"]);
    assert_eq!(
        before(&def, "done"),
        ["start", "c", "j", "p", "x", "y", "k"]
    );
}

#[test]
fn unknown_and_cyclic_nodes_get_nothing() {
    let mut def = branched();
    assert!(before(&def, "nope").is_empty());
    def["edges"]
        .as_array_mut()
        .unwrap()
        .push(json!({"from": "y", "to": "p"}));
    assert!(before(&def, "p").is_empty());
    assert!(before(&def, "y").is_empty());
}

/// For every pair of nodes: `x` is offered to `n` exactly when a template of `n` reading
/// `nodes.x.output` draws no reference finding from the validator.
#[test]
fn offers_exactly_what_the_validator_accepts() {
    let base = branched();
    let ids: Vec<String> = base["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect();
    for (pos, n) in ids.iter().enumerate() {
        if n == "start" || n == "done" || n == "c" {
            continue;
        }
        let offered = before(&base, n);
        for x in &ids {
            let mut def = base.clone();
            let node = &mut def["nodes"][pos];
            *node = json!({"id": n, "type": "transform", "output": format!("{{{{ nodes.{x}.output }}}}")});
            let refused = validate(&parse(&def).unwrap())
                .iter()
                .any(|d| d.code == "reference_not_dominating");
            assert_eq!(
                offered.contains(x),
                !refused,
                "`{n}` reading `{x}`: offered {offered:?}"
            );
        }
    }
}
