//! The templates `decide` renders: a `transform`'s or `end`'s output, a `condition`'s
//! expression, an approval's prompt, a `subflow`'s input and a `map`'s items (a `map`'s
//! input per item is rendered in `decide`, under the same fuel).
//!
//! A quick one (`Plan::quick`: no loop, call or costly filter, so its work is bounded by its
//! length) renders inside `decide`. Any other becomes a *render attempt*: `decide` starts the
//! node as attempt 1, and `Effect::Render` renders it with [`apart`] on the bounded blocking
//! pool, whose value comes back as the attempt's result. However long such a template's fuel
//! lasts, the engine's single writer, `/healthz` and every other run go on meanwhile. The
//! attempt is in the log like an activity's, so after a crash recovery (or another process's
//! takeover) renders it again; a template that runs out of fuel fails its node, with no retry.

use std::sync::Arc;

use serde_json::Value;
use shared::model::NodeKind;

use super::decide::ActivityError;
use super::plan::Plan;

/// Whether `decide` renders the templates of this kind of node (an activity's templates are
/// rendered by its executor).
pub fn by_decide(kind: &NodeKind) -> bool {
    matches!(
        kind,
        NodeKind::Transform(_)
            | NodeKind::End(_)
            | NodeKind::Condition(_)
            | NodeKind::Approval(_)
            | NodeKind::Subflow(_)
            | NodeKind::Map(_)
    )
}

/// The value node `kind`'s templates render to against `ctx` (the designer's preview calls
/// the same function).
pub use shared::render::node_value as value;

/// [`value`] of node `i` on the bounded blocking pool, as a render attempt's result.
pub async fn apart(plan: Arc<Plan>, i: usize, ctx: Value) -> Result<Value, ActivityError> {
    match crate::offload::run(move || value(plan.kind(i), &ctx)).await {
        Ok(rendered) => rendered.map_err(|message| ActivityError {
            message,
            retryable: false,
        }),
        Err(e) => Err(ActivityError {
            message: format!("rendering: {e}"),
            retryable: false,
        }),
    }
}
