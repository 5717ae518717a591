//! The redrive dialog's decisions, free of the DOM so they test natively: which nodes it
//! starts from before the person picks any (the server's own default, SPEC §6), how a click
//! changes that pick, how the dry run's answer decorates the graph, and the sentences that
//! warn about side effects and a newer version.

use std::collections::{HashMap, HashSet};

use shared::api::{NodeStatus, RedriveBody, RedrivePreview, RedriveVersion, VersionName};
use shared::model::Workflow;

use super::super::state::RunState;
use crate::graph::NodeDecor;

/// The nodes a redrive runs again from when none are named: those that failed, or were
/// running when the run was cancelled (the `cancelled` ones), leaving out the `on_cancel`
/// path. The server decides the same when `from` is omitted; the dialog preselects them so
/// the person sees, and can change, the point before anything is sent.
pub fn default_from(workflow: &Workflow, run: &RunState) -> Vec<String> {
    let cancel_path = cancel_path(workflow);
    workflow
        .nodes
        .iter()
        .filter(|n| !cancel_path.contains(n.id.as_str()))
        .filter(|n| {
            matches!(
                run.node(&n.id).status,
                NodeStatus::Failed | NodeStatus::Cancelled
            )
        })
        .map(|n| n.id.clone())
        .collect()
}

/// The `on_cancel` node and every node after it.
fn cancel_path(workflow: &Workflow) -> HashSet<&str> {
    let mut seen = HashSet::new();
    let mut stack: Vec<&str> = workflow.on_cancel.iter().map(String::as_str).collect();
    while let Some(id) = stack.pop() {
        if seen.insert(id) {
            stack.extend(
                workflow
                    .edges
                    .iter()
                    .filter(|e| e.from == id)
                    .map(|e| e.to.as_str()),
            );
        }
    }
    seen
}

/// `from` with `id` added, or removed when it was there; in the definition's order, so the
/// same pick always reads (and is sent) the same way. A picked node the definition lacks (the
/// pick was made on another version) is kept, last: the server says why it is refused.
pub fn toggle(workflow: &Workflow, from: &[String], id: &str) -> Vec<String> {
    let had = from.iter().any(|f| f == id);
    let mut picked: Vec<String> = workflow
        .nodes
        .iter()
        .map(|n| n.id.as_str())
        .filter(|n| {
            if *n == id {
                !had
            } else {
                from.iter().any(|f| f == n)
            }
        })
        .map(str::to_owned)
        .collect();
    picked.extend(
        from.iter()
            .filter(|f| *f != id && workflow.node(f).is_none())
            .cloned(),
    );
    picked
}

/// Which version the redrive runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The original run's version.
    Same,
    /// The workflow's latest version.
    Latest,
}

/// The request for `from` on `target` (a dry run or not is the caller's choice).
pub fn body(from: &[String], target: Target) -> RedriveBody {
    RedriveBody {
        from: Some(from.to_vec()),
        version: Some(RedriveVersion::Named(match target {
            Target::Same => VersionName::Same,
            Target::Latest => VersionName::Latest,
        })),
        ..RedriveBody::default()
    }
}

/// How each node of the target version looks in the dialog: the picked nodes stand out,
/// reused ones are dimmed, side-effecting ones that will act again carry a warning badge, and
/// nodes the redrive does not run at all (the `on_cancel` path, a branch not taken) fade out.
/// Before the first answer only the pick is drawn.
pub fn decor(
    workflow: &Workflow,
    from: &[String],
    preview: Option<&RedrivePreview>,
) -> HashMap<String, NodeDecor> {
    workflow
        .nodes
        .iter()
        .map(|n| {
            let id = n.id.as_str();
            let picked = from.iter().any(|f| f == id);
            let has = |list: &[String]| list.iter().any(|x| x == id);
            let (role, acts) = match preview {
                None => (if picked { "from" } else { "unknown" }, false),
                Some(p) => {
                    let role = if picked {
                        "from"
                    } else if has(&p.reuse) {
                        "reuse"
                    } else if has(&p.rerun) {
                        "rerun"
                    } else {
                        "idle"
                    };
                    (role, has(&p.side_effects))
                }
            };
            let mut class = format!("redrive-node redrive-{role}");
            if acts {
                class.push_str(" redrive-effect");
            }
            let badge = match (picked, acts) {
                (true, true) => Some("from · acts again"),
                (true, false) => Some("from"),
                (false, true) => Some("acts again"),
                (false, false) => None,
            };
            let decor = NodeDecor {
                class,
                badge: badge.map(str::to_owned),
                progress: None,
            };
            (n.id.clone(), decor)
        })
        .collect()
}

/// "2 steps with side effects will act again: charge_card, notify"; `None` when none will.
pub fn side_effects_text(side_effects: &[String]) -> Option<String> {
    match side_effects.len() {
        0 => None,
        1 => Some(format!(
            "1 step with side effects will act again: {}",
            side_effects[0]
        )),
        n => Some(format!(
            "{n} steps with side effects will act again: {}",
            side_effects.join(", ")
        )),
    }
}

/// "3 steps reused, 2 run again".
pub fn counts_text(preview: &RedrivePreview) -> String {
    let steps = |n: usize| if n == 1 { "step" } else { "steps" };
    let (reuse, rerun) = (preview.reuse.len(), preview.rerun.len());
    format!("{reuse} {} reused, {rerun} run again", steps(reuse))
}

/// Said under the version choice when the latest version is not the run's own.
pub fn version_note(run_version: i64, latest: i64) -> Option<String> {
    (latest != run_version).then(|| {
        format!(
            "The latest version is v{latest}; this run ran v{run_version}. On the latest, nodes are matched by id: one the pick names that v{latest} lacks is refused."
        )
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use shared::api::RunEvent;

    use super::*;

    fn workflow() -> Workflow {
        serde_json::from_value(json!({
            "name": "order",
            "on_cancel": "refund",
            "nodes": [
                {"id": "start", "type": "start"},
                {"id": "reserve", "type": "http", "request": {"method": "POST", "url": "http://x/r"}},
                {"id": "charge", "type": "http", "request": {"method": "POST", "url": "http://x/c"}},
                {"id": "notify", "type": "http", "request": {"method": "POST", "url": "http://x/n"}},
                {"id": "done", "type": "end"},
                {"id": "refund", "type": "http", "request": {"method": "POST", "url": "http://x/f"}},
                {"id": "refunded", "type": "end"}
            ],
            "edges": [
                {"from": "start", "to": "reserve"},
                {"from": "reserve", "to": "charge"},
                {"from": "charge", "to": "notify"},
                {"from": "notify", "to": "done"},
                {"from": "refund", "to": "refunded"}
            ]
        }))
        .unwrap()
    }

    /// A run folded from `(type, node)` events, in order.
    fn run(events: &[(&str, Option<&str>, serde_json::Value)]) -> RunState {
        let mut run = RunState::default();
        for (i, (ty, node, data)) in events.iter().enumerate() {
            let seq = i as i64 + 1;
            let e: RunEvent = serde_json::from_value(
                json!({"seq": seq, "at": seq, "type": ty, "node": node, "data": data}),
            )
            .unwrap();
            run.apply(e);
        }
        run
    }

    fn started() -> (&'static str, Option<&'static str>, serde_json::Value) {
        (
            "run_started",
            None,
            json!({"workflow": "order", "version": 1, "input": {}}),
        )
    }

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_default_point_is_the_failed_node() {
        let failed = run(&[
            started(),
            (
                "node_completed",
                Some("reserve"),
                json!({"port": "next", "output": {}}),
            ),
            ("node_failed", Some("charge"), json!({"error": "HTTP 503"})),
            ("run_failed", None, json!({"error": "HTTP 503"})),
        ]);
        assert_eq!(default_from(&workflow(), &failed), ids(&["charge"]));
    }

    #[test]
    fn a_cancelled_run_starts_again_where_it_was_cut_off_not_on_its_cancel_path() {
        let cancelled = run(&[
            started(),
            ("node_started", Some("charge"), json!({"attempt": 1})),
            ("cancel_requested", None, json!({})),
            ("node_cancelled", Some("charge"), json!({})),
            ("node_failed", Some("refund"), json!({"error": "HTTP 500"})),
            ("run_cancelled", None, json!({})),
        ]);
        assert_eq!(default_from(&workflow(), &cancelled), ids(&["charge"]));
    }

    #[test]
    fn a_completed_run_has_no_default_point() {
        let done = run(&[started(), ("run_completed", None, json!({"output": {}}))]);
        assert!(default_from(&workflow(), &done).is_empty());
    }

    #[test]
    fn toggling_adds_and_removes_in_definition_order() {
        let wf = workflow();
        let from = toggle(&wf, &ids(&["notify"]), "reserve");
        assert_eq!(from, ids(&["reserve", "notify"]));
        assert_eq!(toggle(&wf, &from, "notify"), ids(&["reserve"]));
        assert!(toggle(&wf, &ids(&["reserve"]), "reserve").is_empty());
        // A node of another version stays picked.
        assert_eq!(
            toggle(&wf, &ids(&["gone"]), "charge"),
            ids(&["charge", "gone"])
        );
    }

    #[test]
    fn the_body_names_the_pick_and_the_version() {
        let body = serde_json::to_value(body(&ids(&["charge"]), Target::Latest)).unwrap();
        assert_eq!(
            body,
            json!({"from": ["charge"], "version": "latest", "dry_run": false})
        );
    }

    #[test]
    fn the_preview_dims_reused_nodes_and_marks_side_effects() {
        let preview = RedrivePreview {
            version: 1,
            from: ids(&["reserve"]),
            reuse: ids(&["start"]),
            rerun: ids(&["reserve", "charge", "notify", "done"]),
            side_effects: ids(&["reserve", "notify"]),
        };
        let d = decor(&workflow(), &ids(&["reserve"]), Some(&preview));
        let class = |id: &str| d[id].class.clone();
        assert_eq!(class("start"), "redrive-node redrive-reuse");
        assert_eq!(class("reserve"), "redrive-node redrive-from redrive-effect");
        assert_eq!(class("charge"), "redrive-node redrive-rerun");
        assert_eq!(class("notify"), "redrive-node redrive-rerun redrive-effect");
        assert_eq!(class("refund"), "redrive-node redrive-idle");
        assert_eq!(d["reserve"].badge.as_deref(), Some("from · acts again"));
        assert_eq!(d["notify"].badge.as_deref(), Some("acts again"));
        assert_eq!(d["charge"].badge, None);
    }

    #[test]
    fn before_an_answer_only_the_pick_is_drawn() {
        let d = decor(&workflow(), &ids(&["charge"]), None);
        assert_eq!(d["charge"].class, "redrive-node redrive-from");
        assert_eq!(d["charge"].badge.as_deref(), Some("from"));
        assert_eq!(d["start"].class, "redrive-node redrive-unknown");
    }

    #[test]
    fn sentences() {
        assert_eq!(side_effects_text(&[]), None);
        assert_eq!(
            side_effects_text(&ids(&["charge_card", "notify"])).as_deref(),
            Some("2 steps with side effects will act again: charge_card, notify")
        );
        assert_eq!(
            side_effects_text(&ids(&["notify"])).as_deref(),
            Some("1 step with side effects will act again: notify")
        );
        let preview = RedrivePreview {
            version: 1,
            from: vec![],
            reuse: ids(&["start"]),
            rerun: ids(&["charge", "done"]),
            side_effects: vec![],
        };
        assert_eq!(counts_text(&preview), "1 step reused, 2 run again");
        assert_eq!(version_note(2, 2), None);
        assert!(
            version_note(1, 2)
                .unwrap()
                .starts_with("The latest version is v2; this run ran v1.")
        );
    }
}
