//! Auto-layout: layered, left to right, for definitions that carry no positions (imported
//! ones, or ones written by hand). Each node goes one column right of its furthest
//! predecessor; columns are ordered to keep edges short and centred on each other.

use std::collections::{HashMap, HashSet};

use shared::model::Workflow;

use super::geometry::{NODE_W, node_height};

/// The horizontal distance between two columns (room for the port labels and the curves).
pub const COLUMN_GAP: f64 = 96.0;
/// The vertical distance between two nodes of a column.
const ROW_GAP: f64 = 36.0;
/// Where the first column and the tallest column start.
const ORIGIN: (f64, f64) = (40.0, 40.0);

/// Where each node goes in a fresh layered layout, whatever positions the nodes carry.
pub fn auto_layout(wf: &Workflow) -> HashMap<String, (f64, f64)> {
    let ids: Vec<&str> = wf.nodes.iter().map(|n| n.id.as_str()).collect();
    let index: HashMap<&str, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut out_edges: Vec<Vec<usize>> = vec![Vec::new(); ids.len()];
    for e in &wf.edges {
        if let (Some(&a), Some(&b)) = (index.get(e.from.as_str()), index.get(e.to.as_str()))
            && a != b
            && !out_edges[a].contains(&b)
        {
            out_edges[a].push(b);
        }
    }

    // Roots: `start` first, then every node nothing enters, then whatever a cycle hides.
    let has_incoming: HashSet<usize> = out_edges.iter().flatten().copied().collect();
    let mut roots: Vec<usize> = (0..ids.len())
        .filter(|&i| wf.nodes[i].type_name() == "start")
        .collect();
    let sources: Vec<usize> = (0..ids.len())
        .filter(|i| !has_incoming.contains(i) && !roots.contains(i))
        .collect();
    roots.extend(sources);
    roots.extend(0..ids.len());

    // A depth-first walk from the roots: its order seeds the rows, and the edges that close a
    // cycle (into a node still on the walk's stack) are left out of the layering.
    let mut order = Vec::new();
    let mut state = vec![0u8; ids.len()]; // 0 new, 1 on the stack, 2 done
    let mut back: HashSet<(usize, usize)> = HashSet::new();
    for &root in &roots {
        if state[root] != 0 {
            continue;
        }
        let mut stack = vec![(root, 0usize)];
        state[root] = 1;
        order.push(root);
        while let Some((v, next)) = stack.pop() {
            if let Some(&w) = out_edges[v].get(next) {
                stack.push((v, next + 1));
                match state[w] {
                    0 => {
                        state[w] = 1;
                        order.push(w);
                        stack.push((w, 0));
                    }
                    1 => {
                        back.insert((v, w));
                    }
                    _ => {}
                }
            } else {
                state[v] = 2;
            }
        }
    }

    // Longest path from the roots over the forward edges (Kahn's order).
    let mut indegree = vec![0usize; ids.len()];
    for (v, outs) in out_edges.iter().enumerate() {
        for &w in outs {
            if !back.contains(&(v, w)) {
                indegree[w] += 1;
            }
        }
    }
    let mut layer = vec![0usize; ids.len()];
    let mut ready: Vec<usize> = order
        .iter()
        .copied()
        .filter(|&v| indegree[v] == 0)
        .collect();
    ready.reverse();
    while let Some(v) = ready.pop() {
        for &w in &out_edges[v] {
            if back.contains(&(v, w)) {
                continue;
            }
            layer[w] = layer[w].max(layer[v] + 1);
            indegree[w] -= 1;
            if indegree[w] == 0 {
                ready.push(w);
            }
        }
    }

    // Columns in walk order, then each sorted by the mean row of its predecessors.
    let columns_len = layer.iter().max().map_or(0, |m| m + 1);
    let mut columns: Vec<Vec<usize>> = vec![Vec::new(); columns_len];
    for &v in &order {
        columns[layer[v]].push(v);
    }
    let mut row = vec![0.0f64; ids.len()];
    for (c, column) in columns.iter_mut().enumerate() {
        if c > 0 {
            let preds = |w: usize| -> Option<f64> {
                let rows: Vec<f64> = (0..ids.len())
                    .filter(|&v| layer[v] < c && out_edges[v].contains(&w))
                    .map(|v| row[v])
                    .collect();
                (!rows.is_empty()).then(|| rows.iter().sum::<f64>() / rows.len() as f64)
            };
            let mut keyed: Vec<(f64, usize, usize)> = column
                .iter()
                .enumerate()
                .map(|(i, &v)| (preds(v).unwrap_or(f64::MAX), i, v))
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            *column = keyed.into_iter().map(|(_, _, v)| v).collect();
        }
        for (i, &v) in column.iter().enumerate() {
            row[v] = i as f64;
        }
    }

    let height = |v: usize| node_height(&wf.nodes[v].kind);
    let column_height = |col: &Vec<usize>| -> f64 {
        col.iter().map(|&v| height(v)).sum::<f64>() + ROW_GAP * col.len().saturating_sub(1) as f64
    };
    let tallest = columns.iter().map(column_height).fold(0.0, f64::max);
    let mut at = HashMap::new();
    for (c, col) in columns.iter().enumerate() {
        let x = ORIGIN.0 + c as f64 * (NODE_W + COLUMN_GAP);
        let mut y = ORIGIN.1 + (tallest - column_height(col)) / 2.0;
        for &v in col {
            at.insert(ids[v].to_owned(), (x, y.round()));
            y += height(v) + ROW_GAP;
        }
    }
    at
}

/// Where each node sits: its own `position` when it has one; the nodes without one take
/// their place in an auto-layout, moved below the positioned ones so nothing overlaps.
pub fn layout(wf: &Workflow) -> HashMap<String, (f64, f64)> {
    let placed: HashMap<String, (f64, f64)> = wf
        .nodes
        .iter()
        .filter_map(|n| n.position.map(|p| (n.id.clone(), (p.x, p.y))))
        .collect();
    if placed.len() == wf.nodes.len() {
        return placed;
    }
    let auto = auto_layout(wf);
    let below = wf
        .nodes
        .iter()
        .filter_map(|n| placed.get(&n.id).map(|p| p.1 + node_height(&n.kind)))
        .fold(None, |m: Option<f64>, y| Some(m.map_or(y, |m| m.max(y))));
    let shift = below.map_or(0.0, |b| b + ROW_GAP);
    wf.nodes
        .iter()
        .map(|n| {
            let at = placed.get(&n.id).copied().unwrap_or_else(|| {
                let (x, y) = auto[&n.id];
                (x, y + shift)
            });
            (n.id.clone(), at)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::geometry::node_rect;
    use serde_json::json;

    fn workflow(value: serde_json::Value) -> Workflow {
        serde_json::from_value(value).unwrap()
    }

    fn no_overlaps(wf: &Workflow, at: &HashMap<String, (f64, f64)>) {
        let rects: Vec<_> = wf
            .nodes
            .iter()
            .map(|n| node_rect(&n.kind, at[&n.id]))
            .collect();
        for (i, a) in rects.iter().enumerate() {
            for b in &rects[i + 1..] {
                assert!(!a.overlaps(b), "{a:?} overlaps {b:?}");
            }
        }
    }

    #[test]
    fn a_branching_graph_goes_left_to_right_without_overlaps() {
        let wf = workflow(json!({"name": "w", "nodes": [
            {"id": "start", "type": "start"},
            {"id": "big", "type": "condition", "expr": "input.x"},
            {"id": "a", "type": "timer", "duration": "1s"},
            {"id": "b", "type": "timer", "duration": "1s"},
            {"id": "done", "type": "end"},
            {"id": "refund", "type": "end"}
        ], "edges": [
            {"from": "start", "to": "big"},
            {"from": "big", "to": "a", "port": "true"},
            {"from": "big", "to": "b", "port": "false"},
            {"from": "a", "to": "done"}, {"from": "b", "to": "done"}
        ]}));
        let at = auto_layout(&wf);
        assert!(at["start"].0 < at["big"].0);
        assert!(at["big"].0 < at["a"].0);
        assert_eq!(at["a"].0, at["b"].0);
        assert!(at["a"].0 < at["done"].0);
        no_overlaps(&wf, &at);
    }

    /// An example from `examples/`, without its positions.
    fn example(text: &str) -> Workflow {
        let mut wf: Workflow = serde_json::from_str(text).unwrap();
        for n in &mut wf.nodes {
            n.position = None;
        }
        wf
    }

    #[test]
    fn the_examples_read_left_to_right_with_branches_apart() {
        let wf = example(include_str!("../../../examples/order-process.json"));
        let at = auto_layout(&wf);
        let chain = ["start", "charge", "fulfil", "confirm", "inventory", "done"];
        for pair in chain.windows(2) {
            assert!(at[pair[0]].0 < at[pair[1]].0, "{pair:?}");
        }
        // The refund path is a second row under the main one, not appended to it.
        assert!(at["refund"].0 < at["fulfil"].0);
        assert!(at["refund"].1 > at["charge"].1);
        assert!(at["refunded"].0 > at["refund"].0);
        no_overlaps(&wf, &at);

        let wf = example(include_str!("../../../examples/expense-approval.json"));
        let at = auto_layout(&wf);
        // Each of the approval's three ways out gets a row of its own.
        let rows: HashSet<i64> = ["pay", "tell_rejected", "escalate"]
            .iter()
            .map(|id| at[*id].1 as i64)
            .collect();
        assert_eq!(rows.len(), 3);
        assert!(at["big"].0 < at["approve"].0 && at["approve"].0 < at["tell_rejected"].0);
        no_overlaps(&wf, &at);

        let wf = example(include_str!("../../../examples/enrichment-fanout.json"));
        let at = auto_layout(&wf);
        let column: HashSet<i64> = ["company", "geo", "risk"]
            .iter()
            .map(|id| at[*id].0 as i64)
            .collect();
        assert_eq!(
            column.len(),
            1,
            "parallel branches share a column, one above the other"
        );
        no_overlaps(&wf, &at);
    }

    #[test]
    fn a_cycle_still_gets_a_layout() {
        let wf = workflow(json!({"name": "w", "nodes": [
            {"id": "start", "type": "start"},
            {"id": "a", "type": "join"}, {"id": "b", "type": "join"}
        ], "edges": [
            {"from": "start", "to": "a"}, {"from": "a", "to": "b"}, {"from": "b", "to": "a"}
        ]}));
        let at = auto_layout(&wf);
        assert!(at["start"].0 < at["a"].0 && at["a"].0 < at["b"].0);
        no_overlaps(&wf, &at);
    }

    #[test]
    fn positioned_nodes_stay_and_the_rest_go_below() {
        let wf = workflow(json!({"name": "w", "nodes": [
            {"id": "start", "type": "start", "position": {"x": 500, "y": 500}},
            {"id": "done", "type": "end"}
        ], "edges": [{"from": "start", "to": "done"}]}));
        let at = layout(&wf);
        assert_eq!(at["start"], (500.0, 500.0));
        assert!(at["done"].1 > 500.0);
        no_overlaps(&wf, &at);
    }
}
