//! The durable engine: a pure core (`decide`, `RunState::apply`, `effects`) and the shells
//! that perform its effects (`driver` with the store, `activity` for HTTP, `timers`).
//!
//! **Architecture Invariant:** `decide` and `apply` do no I/O, read no clock and draw no
//! random numbers; the driver passes the time in. Events are append-only.

pub mod activity;
pub mod decide;
pub mod driver;
pub mod effect;
pub mod event;
pub mod shared;
pub mod state;
pub mod tasks;

#[cfg(test)]
mod tests;
