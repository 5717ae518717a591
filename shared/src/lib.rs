//! Weft's shared crate: the `weft/v1` model, the validator, templates and the API's wire types.
//!
//! **API Boundary:** every public type here is a wire contract between the server, the SPA and
//! the stored definitions. **Architecture Invariant:** no tokio, sqlx or axum here; the crate
//! builds for `wasm32-unknown-unknown` so the browser validates with the server's code.
//!
//! # Layout
//! - [`model`]: the definition types, parsed node by node so errors name their node.
//! - [`validate`]: every SPEC §1 rule, on petgraph; returns all findings at once.
//! - [`limits`]: every limit on what users and callers send, declared once.
//! - [`template`]: MiniJinja templates and expressions over JSON.
//! - [`render`]: what each node's templates render to, for the engine and the designer's preview.
//! - [`access`]: roles and the bodies of login, users, keys and audit (SPEC §7).
//! - [`approval`]: who may decide an approval, for the engine, the inbox and the console.
//! - [`api`]: request and response bodies.
//! - [`event`]: the events of a run's log, as stored, served and streamed.
//! - [`schedule`]: cron schedules: their cron and zone, and the fire times after an instant.
//! - [`diff`]: what changed between two versions (nodes by id, field by field, edges).
//! - [`fold`]: what the events say about each node; the engine and the run console both use it.

pub mod access;
pub mod api;
pub mod approval;
pub mod diff;
pub mod event;
pub mod fold;
pub mod instant;
pub mod limits;
pub mod model;
pub mod render;
pub mod schedule;
pub mod template;
pub mod validate;

pub use model::{Edge, Node, NodeKind, Workflow};
pub use validate::{Diagnostic, Severity, parse_and_validate, validate};
