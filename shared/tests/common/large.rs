//! The largest definitions the limits allow (`shared::limits`), built in code so that the
//! stack-depth tests (`tests/large.rs`) and the validator's timing example
//! (`examples/validator_timing.rs`) measure the same shapes.

use serde_json::{Value, json};

/// A chain `start → t1 → … → end` of `nodes` nodes in all; each transform reads the one
/// before it, so every reference is checked against a dominator `nodes` deep.
pub(crate) fn chain(nodes: usize) -> Value {
    let inner = nodes - 2;
    let mut ns = vec![json!({"id": "start", "type": "start"})];
    let mut es = Vec::new();
    let mut prev = "start".to_owned();
    for i in 1..=inner {
        let id = format!("t{i}");
        ns.push(json!({"id": id, "type": "transform", "output": format!("{{{{ nodes.{prev}.output }}}}")}));
        es.push(json!({"from": prev, "to": id}));
        prev = id;
    }
    ns.push(
        json!({"id": "end", "type": "end", "output": format!("{{{{ nodes.{prev}.output }}}}")}),
    );
    es.push(json!({"from": prev, "to": "end"}));
    json!({"name": "chain", "nodes": ns, "edges": es})
}

/// A chain `start → p1 → … → end` of `nodes` nodes in all, `parallel` but for the ends,
/// with skip edges `p_i → p_(i+k)` (k = 2, 3, …) added until there are `edges` edges: every
/// node is a fan-out and a fan-in, and the `end` reads a node that nothing dominates.
pub(crate) fn parallel_chain(nodes: usize, edges: usize) -> Value {
    let inner = nodes - 2;
    let mut ns = vec![json!({"id": "start", "type": "start"})];
    let mut es = vec![json!({"from": "start", "to": "p1"})];
    for i in 1..=inner {
        ns.push(json!({"id": format!("p{i}"), "type": "parallel"}));
        if i > 1 {
            es.push(json!({"from": format!("p{}", i - 1), "to": format!("p{i}")}));
        }
    }
    ns.push(json!({"id": "end", "type": "end", "output": format!("{{{{ nodes.p{}.output }}}}", inner / 2)}));
    es.push(json!({"from": format!("p{inner}"), "to": "end"}));
    let mut k = 2;
    'skips: while es.len() < edges {
        for i in 1..=inner.saturating_sub(k) {
            if es.len() == edges {
                break 'skips;
            }
            es.push(json!({"from": format!("p{i}"), "to": format!("p{}", i + k)}));
        }
        k += 1;
    }
    json!({"name": "parallel-chain", "nodes": ns, "edges": es})
}

/// `start → fan (parallel) → w1 … wN → join → end`, `nodes` nodes in all: the widest fan-out
/// and fan-in; the `end` reads a few branches, which the fan-in makes certain.
pub(crate) fn fan(nodes: usize) -> Value {
    let width = nodes - 4;
    let mut ns = vec![
        json!({"id": "start", "type": "start"}),
        json!({"id": "fan", "type": "parallel"}),
        json!({"id": "join", "type": "join"}),
    ];
    let mut es = vec![json!({"from": "start", "to": "fan"})];
    for i in 1..=width {
        let id = format!("w{i}");
        ns.push(json!({"id": id, "type": "transform", "output": {"n": i, "x": "{{ input.x }}"}}));
        es.push(json!({"from": "fan", "to": id}));
        es.push(json!({"from": id, "to": "join"}));
    }
    ns.push(json!({"id": "end", "type": "end",
        "output": [format!("{{{{ nodes.w1.output }}}}"), format!("{{{{ nodes.w{width}.output }}}}")]}));
    es.push(json!({"from": "join", "to": "end"}));
    json!({"name": "fan", "nodes": ns, "edges": es})
}

/// A chain of diamonds `c_i (condition) → a_i | b_i → j_i (join) → c_(i+1)`, `nodes` nodes in
/// all (rounded down to whole diamonds): branches that meet again, over and over. The `end`
/// reads the first diamond's `a`, which runs on one branch only: exactly one finding.
pub(crate) fn diamonds(nodes: usize) -> Value {
    let count = (nodes - 2) / 4;
    let mut ns = vec![json!({"id": "start", "type": "start"})];
    let mut es = Vec::new();
    let mut prev = "start".to_owned();
    for i in 1..=count {
        let (c, a, b, j) = (
            format!("c{i}"),
            format!("a{i}"),
            format!("b{i}"),
            format!("j{i}"),
        );
        ns.push(json!({"id": c, "type": "condition", "expr": format!("nodes.{prev}.output")}));
        ns.push(json!({"id": a, "type": "transform", "output": 1}));
        ns.push(json!({"id": b, "type": "transform", "output": 2}));
        ns.push(json!({"id": j, "type": "join"}));
        es.push(json!({"from": prev, "to": c}));
        es.push(json!({"from": c, "to": a, "port": "true"}));
        es.push(json!({"from": c, "to": b, "port": "false"}));
        es.push(json!({"from": a, "to": j}));
        es.push(json!({"from": b, "to": j}));
        prev = j;
    }
    ns.push(json!({"id": "end", "type": "end", "output": "{{ nodes.a1.output }}"}));
    es.push(json!({"from": prev, "to": "end"}));
    json!({"name": "diamonds", "nodes": ns, "edges": es})
}
