//! The durable engine: a pure core (`decide`, `RunState::apply`, `effects`, over a `Plan`)
//! and the shells that perform its effects (`driver` with the store, `activity` for HTTP,
//! `render` for templates too slow for `decide`, `timers` for due timers, `notify` for
//! escalation notices). Coordinating
//! processes is `cluster`'s, not the engine's.
//!
//! **Architecture Invariant:** `decide` and `apply` do no I/O, read no clock and draw no
//! random numbers; the driver passes the time in. Events are append-only. Nothing here
//! imports the PostgreSQL store.

pub mod activity;
pub mod children;
pub mod decide;
pub mod driver;
pub mod effect;
pub mod event;
mod notify;
pub mod plan;
pub mod plans;
pub mod redrive;
pub mod render;
pub mod state;
pub mod tasks;
mod timers;

#[cfg(test)]
mod tests;
