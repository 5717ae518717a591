//! The one table of who may call what (SPEC §7): each `/api` route, by method and matched
//! path, with the least role that may call it and the audit action a successful call records.
//! The authentication layer reads it for every request and the OpenAPI document prints it, so
//! the rule, its enforcement and its documentation cannot drift apart. A route missing from
//! the table needs `admin` (fails closed); a unit test proves every documented operation has
//! an entry.

use axum::http::Method;
use shared::access::Role;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Anyone, signed in or not: signing in, and asking who one is.
    Open,
    /// A caller with at least this role.
    Role(Role),
}

/// One route's rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub need: Need,
    /// What a successful call is recorded as in the audit log (reads record nothing).
    pub action: Option<&'static str>,
    /// The audit target, with `{param}`s taken from the path.
    pub target: Option<&'static str>,
}

use Role::{Admin, Approver, Editor, Operator, Viewer};

const fn read(role: Role) -> Rule {
    Rule {
        need: Need::Role(role),
        action: None,
        target: None,
    }
}

const fn change(role: Role, action: &'static str, target: &'static str) -> Rule {
    Rule {
        need: Need::Role(role),
        action: Some(action),
        target: Some(target),
    }
}

const OPEN: Rule = Rule {
    need: Need::Open,
    action: None,
    target: None,
};

/// Every `/api` route: method, path as the router matches it, rule.
pub const TABLE: &[(Method, &str, Rule)] = &[
    (Method::GET, "/api/openapi.json", read(Viewer)),
    (Method::POST, "/api/validate", read(Viewer)),
    (Method::GET, "/api/workflows", read(Viewer)),
    (Method::GET, "/api/workflows/{name}", read(Viewer)),
    (Method::GET, "/api/workflows/{name}/versions", read(Viewer)),
    (
        Method::GET,
        "/api/workflows/{name}/versions/{version}",
        read(Viewer),
    ),
    (
        Method::PUT,
        "/api/workflows/{name}",
        change(Editor, "workflow.saved", "workflow:{name}"),
    ),
    (
        Method::DELETE,
        "/api/workflows/{name}",
        change(Editor, "workflow.archived", "workflow:{name}"),
    ),
    (
        Method::POST,
        "/api/workflows/{name}/runs",
        change(Operator, "run.started", "workflow:{name}"),
    ),
    // A test run runs a definition nobody saved: whoever may save one may try it.
    (
        Method::POST,
        "/api/test-runs",
        change(Editor, "test_run.started", "test-runs"),
    ),
    // Names only, for whoever writes templates.
    (Method::GET, "/api/secrets", read(Editor)),
    (Method::GET, "/api/runs", read(Viewer)),
    (Method::GET, "/api/runs/stream", read(Viewer)),
    (Method::GET, "/api/runs/{id}", read(Viewer)),
    (Method::GET, "/api/runs/{id}/events", read(Viewer)),
    (Method::GET, "/api/runs/{id}/stream", read(Viewer)),
    (
        Method::POST,
        "/api/runs/{id}/approvals/{node}",
        change(Approver, "approval.decided", "run:{id}"),
    ),
    (
        Method::POST,
        "/api/runs/{id}/signals/{name}",
        change(Operator, "run.signalled", "run:{id}"),
    ),
    (
        Method::POST,
        "/api/runs/{id}/cancel",
        change(Operator, "run.cancelled", "run:{id}"),
    ),
    (
        Method::POST,
        "/api/runs/{id}/pause",
        change(Operator, "run.paused", "run:{id}"),
    ),
    (
        Method::POST,
        "/api/runs/{id}/resume",
        change(Operator, "run.resumed", "run:{id}"),
    ),
    (
        Method::POST,
        "/api/runs/{id}/redrive",
        change(Operator, "run.redriven", "run:{id}"),
    ),
    (
        Method::POST,
        "/api/runs/bulk",
        change(Operator, "runs.bulk", "runs"),
    ),
    (Method::GET, "/api/batches/{id}", read(Viewer)),
    (Method::GET, "/api/approvals", read(Viewer)),
    // Workers: their calls change runs, but are machine traffic the run's log records.
    (Method::POST, "/api/queues/{queue}/poll", read(Operator)),
    (Method::POST, "/api/tasks/{token}/complete", read(Operator)),
    (Method::POST, "/api/tasks/{token}/fail", read(Operator)),
    (Method::POST, "/api/tasks/{token}/heartbeat", read(Operator)),
    (Method::GET, "/api/schedules", read(Viewer)),
    (
        Method::POST,
        "/api/workflows/{name}/schedules/{index}/pause",
        change(Operator, "schedule.paused", "schedule:{name}/{index}"),
    ),
    (
        Method::POST,
        "/api/workflows/{name}/schedules/{index}/resume",
        change(Operator, "schedule.resumed", "schedule:{name}/{index}"),
    ),
    (
        Method::POST,
        "/api/workflows/{name}/schedules/{index}/trigger",
        change(Operator, "schedule.triggered", "schedule:{name}/{index}"),
    ),
    (
        Method::POST,
        "/api/workflows/{name}/schedules/{index}/backfill",
        change(Operator, "schedule.backfilled", "schedule:{name}/{index}"),
    ),
    (Method::GET, "/api/auth/me", OPEN),
    (Method::POST, "/api/auth/login", OPEN),
    (Method::POST, "/api/auth/logout", OPEN),
    // Single sign-on's two legs are browser navigations; the callback audits its own login.
    (Method::GET, "/api/auth/oidc/login", OPEN),
    (Method::GET, "/api/auth/oidc/callback", OPEN),
    (Method::GET, "/api/users", read(Admin)),
    (
        Method::POST,
        "/api/users",
        change(Admin, "user.added", "users"),
    ),
    (
        Method::PATCH,
        "/api/users/{name}",
        change(Admin, "user.changed", "user:{name}"),
    ),
    (
        Method::DELETE,
        "/api/users/{name}",
        change(Admin, "user.removed", "user:{name}"),
    ),
    (Method::GET, "/api/keys", read(Admin)),
    (
        Method::POST,
        "/api/keys",
        change(Admin, "key.created", "keys"),
    ),
    (
        Method::DELETE,
        "/api/keys/{id}",
        change(Admin, "key.revoked", "key:{id}"),
    ),
    (Method::GET, "/api/audit", read(Admin)),
];

/// What a route missing from the table gets: admins only.
const FAIL_CLOSED: Rule = read(Admin);

/// The rule of `method` on `path` (as matched, `/api/runs/{id}`).
pub fn rule(method: &Method, path: &str) -> Rule {
    TABLE
        .iter()
        .find(|(m, p, _)| m == method && *p == path)
        .map_or(FAIL_CLOSED, |(_, _, rule)| *rule)
}

/// `template` with each `{param}` replaced by its value from `params`.
pub fn fill(template: &str, params: &[(&str, &str)]) -> String {
    params.iter().fold(template.to_owned(), |t, (k, v)| {
        t.replace(&format!("{{{k}}}"), v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every operation the OpenAPI document lists under `/api` has its own entry, and every
    /// entry is a documented operation.
    #[test]
    fn every_api_operation_has_a_rule() {
        let doc: serde_json::Value =
            serde_json::from_slice(&crate::api::openapi_bytes()).expect("the document is JSON");
        let mut documented = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            if !path.starts_with("/api/") {
                continue;
            }
            for method in item.as_object().expect("path item").keys() {
                let method: Method = method.to_uppercase().parse().expect("a method");
                assert!(
                    TABLE.iter().any(|(m, p, _)| *m == method && p == path),
                    "{method} {path} has no entry in access::policy::TABLE"
                );
                documented.push((method, path.clone()));
            }
        }
        for (m, p, _) in TABLE {
            assert!(
                documented.iter().any(|(dm, dp)| dm == m && dp == p),
                "{m} {p} is in the table but not documented"
            );
        }
    }

    #[test]
    fn a_missing_route_fails_closed() {
        assert_eq!(rule(&Method::POST, "/api/new-thing"), FAIL_CLOSED);
        assert_eq!(rule(&Method::GET, "/api/runs").need, Need::Role(Viewer));
    }

    #[test]
    fn targets_take_their_params() {
        assert_eq!(
            fill("schedule:{name}/{index}", &[("name", "a"), ("index", "2")]),
            "schedule:a/2"
        );
    }
}
