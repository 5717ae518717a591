//! Roles on every route: below a route's role a caller gets 403 naming it; at or above it
//! the route answers (neither 401 nor 403). Open mode, the first user, and the token.

use reqwest::Method;
use serde_json::{Value, json};

use super::{Caller, ROLES, TOKEN, add_user, closed, login, make_key, rank};
use crate::helpers::Weft;

/// Every `/api` operation of the server's own document with the role it needs
/// (`x-weft-role`), its path filled with names that exist nowhere.
async fn operations(weft: &Weft) -> Vec<(Method, String, String)> {
    let doc = weft.get_ok("/api/openapi.json").await;
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        if !path.starts_with("/api/") {
            continue;
        }
        for (method, op) in item.as_object().expect("item") {
            let role = op["x-weft-role"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no x-weft-role"))
                .to_owned();
            let filled = path
                .replace("{index}", "0")
                .replace("{version}", "1")
                .replace('{', "nope-")
                .replace('}', "");
            let method: Method = method.to_uppercase().parse().expect("method");
            assert_eq!(
                role,
                spec_role(&method, path),
                "the role of {method} {path}"
            );
            ops.push((method, filled, role));
        }
    }
    assert!(ops.len() >= 40, "only {} operations", ops.len());
    ops
}

/// The role SPEC §7 gives a route, written out here apart from the server's table, so a
/// wrong entry there is caught and not only a table the layer disagrees with.
fn spec_role(method: &Method, path: &str) -> &'static str {
    let admin = ["/api/users", "/api/keys", "/api/audit"];
    if path.starts_with("/api/auth/") {
        "open"
    } else if admin
        .iter()
        .any(|a| path == *a || path.starts_with(&format!("{a}/")))
    {
        "admin"
    } else if path == "/api/secrets" {
        // Secret names, for whoever writes templates.
        "editor"
    } else if *method == Method::GET || path == "/api/validate" {
        "viewer"
    } else if path.starts_with("/api/workflows/") && path.matches('/').count() == 3 {
        // PUT and DELETE of `/api/workflows/{name}`: saving and archiving definitions.
        "editor"
    } else if path == "/api/test-runs" {
        // Running a definition nobody saved: as much as saving one.
        "editor"
    } else if path.contains("/approvals/") {
        "approver"
    } else {
        "operator"
    }
}

fn body_for(method: &Method, path: &str) -> Option<Value> {
    if *method == Method::GET || *method == Method::DELETE {
        return None;
    }
    Some(if path.ends_with("/poll") {
        json!({"wait": "1ms"})
    } else {
        json!({})
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_against_every_route() {
    let weft = closed(&[]).await;
    let mut keys = Vec::new();
    for role in ROLES {
        keys.push((role, make_key(&weft, &format!("k-{role}"), role).await.0));
    }
    let mut checked = 0;
    for (method, path, needed) in operations(&weft).await {
        for (role, key) in &keys {
            let body = body_for(&method, &path);
            let got = Caller::Bearer(key.clone())
                .send(&weft, method.clone(), &path, body.as_ref())
                .await;
            let what = format!("{method} {path} as {role} (needs {needed}): {}", got.body);
            if needed != "open" && rank(role) < rank(&needed) {
                assert_eq!(got.status, 403, "{what}");
                assert!(
                    got.message().contains(&format!("`{needed}`"))
                        && got.message().contains(&format!("`{role}`")),
                    "{what}"
                );
            } else {
                assert!(![401, 403].contains(&got.status), "{what}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 200, "checked {checked}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_carries_the_users_role() {
    let weft = closed(&[]).await;
    add_user(&weft, "vera", "viewer", "pw-vera").await;
    let (cookie, _) = login(&weft, "vera", "pw-vera").await;
    let vera = Caller::Session(cookie);
    assert_eq!(vera.get(&weft, "/api/runs").await.status, 200);
    let refused = vera.post(&weft, "/api/workflows/x/runs", &json!({})).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(
        refused.message(),
        "this needs the role `operator`; you (vera) are `viewer`"
    );
    let me = vera.get(&weft, "/api/auth/me").await;
    assert_eq!(
        me.body,
        json!({"mode": "closed", "sso": false, "user": "vera", "role": "viewer", "via": "password"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_mode_is_open_and_says_so() {
    let weft = Weft::fresh().await;
    let me = Caller::Nobody.get(&weft, "/api/auth/me").await;
    assert_eq!(
        me.body,
        json!({"mode": "open", "sso": false, "user": "local", "role": "admin", "via": "open"})
    );
    assert_eq!(Caller::Nobody.get(&weft, "/api/users").await.status, 200);
    assert!(
        weft.log()
            .contains("open: no user, API key or token exists"),
        "the log does not say the server is open:\n{}",
        weft.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_user_closes_the_server() {
    let weft = Weft::fresh().await;
    let (status, body) = weft
        .post(
            "/api/users",
            &json!({"name": "root", "role": "admin", "password": "pw-root"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let refused = Caller::Nobody.get(&weft, "/api/workflows").await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert_eq!(
        refused
            .headers
            .get("www-authenticate")
            .map(|v| v.as_bytes()),
        Some(&b"Bearer"[..])
    );
    let me = Caller::Nobody.get(&weft, "/api/auth/me").await;
    assert_eq!(me.body, json!({"mode": "closed", "sso": false}));
    let (cookie, _) = login(&weft, "root", "pw-root").await;
    assert_eq!(
        Caller::Session(cookie)
            .get(&weft, "/api/workflows")
            .await
            .status,
        200
    );
}

/// Removing the last user, or revoking the only key (a leaked one), must not hand the server
/// to anyone who can reach it: once closed, it stays closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_every_user_and_key_does_not_open_the_server_again() {
    let weft = Weft::fresh().await;
    let (status, body) = weft
        .post(
            "/api/users",
            &json!({"name": "root", "role": "admin", "password": "pw-root"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (cookie, _) = login(&weft, "root", "pw-root").await;
    let root = Caller::Session(cookie);
    let made = root
        .post(&weft, "/api/keys", &json!({"name": "ci", "role": "admin"}))
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let key = Caller::Bearer(made.body["key"].as_str().expect("key").to_owned());
    let id = made.body["id"].as_str().expect("id").to_owned();
    let removed = key
        .send(&weft, reqwest::Method::DELETE, "/api/users/root", None)
        .await;
    assert_eq!(removed.status, 204, "{}", removed.body);
    let revoked = key
        .send(
            &weft,
            reqwest::Method::DELETE,
            &format!("/api/keys/{id}"),
            None,
        )
        .await;
    assert_eq!(revoked.status, 204, "{}", revoked.body);
    // No user and no live key left (both answers also dropped the server's cached view of
    // whether it is open): still closed.
    let refused = Caller::Nobody.get(&weft, "/api/workflows").await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    let me = Caller::Nobody.get(&weft, "/api/auth/me").await;
    assert_eq!(me.body, json!({"mode": "closed", "sso": false}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_stays_admin() {
    let weft = closed(&[]).await;
    let token = Caller::Bearer(TOKEN.to_owned());
    let me = token.get(&weft, "/api/auth/me").await;
    assert_eq!(
        me.body,
        json!({"mode": "closed", "sso": false, "user": "token", "role": "admin", "via": "token"})
    );
    assert_eq!(token.get(&weft, "/api/audit").await.status, 200);
    assert_eq!(Caller::Nobody.get(&weft, "/api/runs").await.status, 401);
    let wrong = Caller::Bearer("guess".into()).get(&weft, "/api/runs").await;
    assert_eq!((wrong.status, wrong.message()), (401, "wrong API token"));
}
