//! The audit log (SPEC §7): who changed what, when, from where. [`super::authenticate`]
//! records every successful write under its policy action; handlers that know more (the key
//! a call made, the user a login was for) say so with a [`Note`] on their response, and the
//! few changes that are not a successful `/api` write (a refused login, the `weft user`
//! commands) call [`record`] themselves. Times come from the engine's clock.

use serde_json::Value;

use crate::clock::Millis;
use crate::store::{AuditRow, Store};

/// What a handler adds to the audit row of its call: a better target, and details.
#[derive(Debug, Clone, Default)]
pub struct Note {
    pub target: Option<String>,
    pub details: Value,
}

/// One change to record.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub at: Millis,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: Option<String>,
    /// Whether it was done (`true`) or refused (a failed login).
    pub ok: bool,
    pub ip: Option<String>,
    pub details: Value,
}

/// Appends `entry`. A failure is logged, not returned: the change it describes is done.
pub async fn record(store: &Store, entry: Entry<'_>) {
    let row = AuditRow {
        id: 0,
        at: entry.at,
        actor: entry.actor.to_owned(),
        action: entry.action.to_owned(),
        target: entry.target,
        outcome: if entry.ok { "ok" } else { "failed" }.to_owned(),
        ip: entry.ip,
        details: entry.details,
    };
    if let Err(e) = store.audit(&row).await {
        tracing::error!(error = %e, action = %row.action, "could not write the audit log");
    }
}
