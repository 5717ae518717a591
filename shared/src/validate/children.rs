//! The workflows `subflow` and `map` nodes start children of must exist. Only whoever knows
//! the saved workflows can tell: the server refuses a save naming an unknown one (an error,
//! `422`), the designer, which holds the list it last read, warns.

use super::{Diagnostic, Severity};
use crate::model::Workflow;

/// A finding, of `severity`, for each `subflow` or `map` node of `wf` whose workflow (and
/// pinned version) `exists` does not know. A workflow may start children of itself.
pub fn check_children(
    wf: &Workflow,
    exists: impl Fn(&str, Option<i64>) -> bool,
    severity: Severity,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for node in &wf.nodes {
        let (workflow, version) = match &node.kind {
            crate::model::NodeKind::Subflow(s) => (&s.workflow, s.version),
            crate::model::NodeKind::Map(m) => (&m.workflow, m.version),
            _ => continue,
        };
        let itself = *workflow == wf.name && version.is_none();
        if itself || exists(workflow, version) {
            continue;
        }
        let what = match version {
            Some(v) => format!("version {v} of workflow `{workflow}`"),
            None => format!("workflow `{workflow}`"),
        };
        let d = Diagnostic::error(
            "unknown_workflow",
            format!(
                "`{}` starts children of {what}, which does not exist",
                node.id
            ),
        )
        .at_node(&node.id);
        out.push(Diagnostic { severity, ..d });
    }
    out
}
