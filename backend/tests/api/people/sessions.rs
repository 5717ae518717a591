//! Signing in with a password: the cookie, the same answer for an unknown name and a wrong
//! password, the throttle, signing out, expiry on the engine's clock, restarts, and the
//! origin check on cookie-authenticated writes.

use reqwest::Method;
use serde_json::json;

use super::{Caller, add_user, closed, login, set_cookie};
use crate::sim::HOOKS;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_sets_a_strict_httponly_cookie() {
    let weft = closed(&[]).await;
    add_user(&weft, "alice", "approver", "pw-alice").await;
    let (_, answer) = login(&weft, "alice", "pw-alice").await;
    let cookie = set_cookie(&answer).expect("cookie");
    for part in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(part), "{cookie} lacks {part}");
    }
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
    assert_eq!(
        answer.body,
        json!({"mode": "closed", "sso": false, "user": "alice", "role": "approver", "via": "password"})
    );

    let behind_https = closed(&[("WEFT_PUBLIC_URL", "https://weft.example")]).await;
    add_user(&behind_https, "alice", "approver", "pw-alice").await;
    let (_, answer) = login(&behind_https, "alice", "pw-alice").await;
    let cookie = set_cookie(&answer).expect("cookie");
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_user_and_wrong_password_answer_alike() {
    let weft = closed(&[]).await;
    add_user(&weft, "alice", "approver", "pw-alice").await;
    let wrong = Caller::Nobody
        .post(
            &weft,
            "/api/auth/login",
            &json!({"name": "alice", "password": "nope"}),
        )
        .await;
    let unknown = Caller::Nobody
        .post(
            &weft,
            "/api/auth/login",
            &json!({"name": "mallory", "password": "nope"}),
        )
        .await;
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    assert_eq!((wrong.status, &wrong.body), (unknown.status, &unknown.body));
    assert!(set_cookie(&wrong).is_none() && set_cookie(&unknown).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failures_are_slowed_down() {
    let weft = closed(&[HOOKS]).await;
    add_user(&weft, "alice", "approver", "pw-alice").await;
    let attempt = |password: &'static str| {
        let weft = &weft;
        async move {
            Caller::Nobody
                .post(
                    weft,
                    "/api/auth/login",
                    &json!({"name": "alice", "password": password}),
                )
                .await
        }
    };
    for i in 0..5 {
        assert_eq!(attempt("wrong").await.status, 401, "failure {i}");
    }
    // Even the right password is not heard now.
    let slowed = attempt("pw-alice").await;
    assert_eq!(slowed.status, 429, "{}", slowed.body);
    let retry: u64 = slowed.headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=900).contains(&retry), "Retry-After {retry}");
    weft.advance("14m").await;
    assert_eq!(attempt("pw-alice").await.status, 429);
    weft.advance("2m").await;
    let heard = attempt("pw-alice").await;
    assert_eq!(heard.status, 200, "{}", heard.body);
}

/// Attempts at once are counted before any password is checked: twenty wrong ones race, five
/// are heard, and the throttle is audited once. Successes do not count against the address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_at_once_are_each_counted_and_successes_are_not() {
    let weft = closed(&[]).await;
    add_user(&weft, "alice", "approver", "pw-alice").await;
    add_user(&weft, "bob", "approver", "pw-bob").await;
    let attempt = |name: &'static str, password: &'static str| {
        let weft = &weft;
        async move {
            Caller::Nobody
                .post(
                    weft,
                    "/api/auth/login",
                    &json!({"name": name, "password": password}),
                )
                .await
                .status
        }
    };
    let mut statuses =
        futures_util::future::join_all((0..20).map(|_| attempt("alice", "wrong"))).await;
    statuses.sort_unstable();
    assert_eq!(
        (
            statuses.iter().filter(|s| **s == 401).count(),
            statuses.iter().filter(|s| **s == 429).count()
        ),
        (5, 15),
        "{statuses:?}"
    );
    let audit = weft.get_ok("/api/audit?action=login").await;
    let reasons: Vec<&str> = audit["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["details"]["reason"].as_str())
        .collect();
    assert_eq!(
        (
            reasons.iter().filter(|r| **r == "throttled").count(),
            reasons.len()
        ),
        (1, 6),
        "{audit:#}"
    );
    // The same address signing in successfully more often than its limit (20) is fine.
    for i in 0..25 {
        assert_eq!(attempt("bob", "pw-bob").await, 200, "sign-in {i}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_password_ends_the_users_sessions_and_reserved_names_are_refused() {
    let weft = closed(&[]).await;
    add_user(&weft, "alice", "approver", "pw-alice").await;
    let alice = Caller::Session(login(&weft, "alice", "pw-alice").await.0);
    assert_eq!(alice.get(&weft, "/api/runs").await.status, 200);
    let (status, body) = weft
        .patch("/api/users/alice", &json!({"role": "operator"}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        alice.get(&weft, "/api/runs").await.status,
        200,
        "a new role keeps the session"
    );
    let (status, body) = weft
        .patch("/api/users/alice", &json!({"password": "pw-alice-2"}))
        .await;
    assert_eq!(status, 200, "{body}");
    let after = alice.get(&weft, "/api/runs").await;
    assert_eq!(
        (after.status, after.message()),
        (401, "session expired: sign in again")
    );
    login(&weft, "alice", "pw-alice-2").await;
    for name in ["token", "local"] {
        let (status, body) = weft
            .post(
                "/api/users",
                &json!({"name": name, "role": "viewer", "password": "pw-x-12345"}),
            )
            .await;
        assert_eq!(status, 422, "{name}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_ends_the_session() {
    let weft = closed(&[]).await;
    add_user(&weft, "alice", "approver", "pw-alice").await;
    let (cookie, _) = login(&weft, "alice", "pw-alice").await;
    let alice = Caller::Session(cookie);
    assert_eq!(alice.get(&weft, "/api/runs").await.status, 200);
    let out = alice.post(&weft, "/api/auth/logout", &json!({})).await;
    assert_eq!(out.status, 204, "{}", out.body);
    let cleared = set_cookie(&out).expect("a cookie that clears it");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let after = alice.get(&weft, "/api/runs").await;
    assert_eq!(
        (after.status, after.message()),
        (401, "session expired: sign in again")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_session_expires() {
    let weft = closed(&[HOOKS, ("WEFT_SESSION_TTL", "1h")]).await;
    add_user(&weft, "alice", "approver", "pw-alice").await;
    let (cookie, _) = login(&weft, "alice", "pw-alice").await;
    let alice = Caller::Session(cookie);
    // Each use moves the end on: three quarters of an hour twice is fine.
    for _ in 0..2 {
        weft.advance("45m").await;
        assert_eq!(alice.get(&weft, "/api/runs").await.status, 200);
    }
    weft.advance("61m").await;
    let expired = alice.get(&weft, "/api/runs").await;
    assert_eq!(
        (expired.status, expired.message()),
        (401, "session expired: sign in again")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_survive_a_restart() {
    let mut weft = closed(&[]).await;
    add_user(&weft, "alice", "operator", "pw-alice").await;
    let (cookie, _) = login(&weft, "alice", "pw-alice").await;
    weft.restart().await;
    let me = Caller::Session(cookie).get(&weft, "/api/auth/me").await;
    assert_eq!(me.body["user"], "alice", "{}", me.body);
    assert_eq!(me.body["role"], "operator");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_origin_cookie_write_is_refused() {
    let weft = closed(&[]).await;
    add_user(&weft, "eddie", "editor", "pw-eddie").await;
    let (cookie, _) = login(&weft, "eddie", "pw-eddie").await;
    let eddie = Caller::Session(cookie);
    let def = json!({
        "name": "w",
        "nodes": [{"id": "start", "type": "start"}, {"id": "done", "type": "end"}],
        "edges": [{"from": "start", "to": "done"}]
    });
    let elsewhere = eddie
        .send_with(
            &weft,
            Method::PUT,
            "/api/workflows/w",
            Some(&def),
            &[("origin", "http://evil.example")],
        )
        .await;
    assert_eq!(elsewhere.status, 403, "{}", elsewhere.body);
    // A cookie write that says nothing of where it comes from is refused too.
    let silent = eddie
        .send_with(
            &weft,
            Method::PUT,
            "/api/workflows/w",
            Some(&def),
            &[("origin", "")],
        )
        .await;
    assert_eq!(silent.status, 403, "{}", silent.body);
    let home = eddie
        .send(&weft, Method::PUT, "/api/workflows/w", Some(&def))
        .await;
    assert_eq!(home.status, 201, "{}", home.body);
    let fetched = eddie
        .send_with(
            &weft,
            Method::PUT,
            "/api/workflows/w",
            Some(&def),
            &[("sec-fetch-site", "same-origin"), ("origin", "")],
        )
        .await;
    assert!(fetched.status < 300, "{}", fetched.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: runs with WEFT_TEST_STORE=postgres -- --include-ignored"]
async fn a_session_works_on_another_process() {
    assert!(
        crate::pg::enabled(),
        "several processes share only a PostgreSQL database: run with WEFT_TEST_STORE=postgres"
    );
    let weft = closed(&[]).await;
    add_user(&weft, "alice", "operator", "pw-alice").await;
    let (cookie, _) = login(&weft, "alice", "pw-alice").await;
    let dir = tempfile::tempdir().expect("dir");
    let other = crate::helpers::spawn_on(
        dir.path(),
        weft.database().to_owned(),
        &[("WEFT_API_TOKEN", super::TOKEN)],
    )
    .await;
    let alice = Caller::Session(cookie);
    let me = alice.get(&other, "/api/auth/me").await;
    assert_eq!(me.body["user"], "alice", "{}", me.body);
    // Signed out on one process, signed out on both.
    assert_eq!(
        alice
            .post(&other, "/api/auth/logout", &json!({}))
            .await
            .status,
        204
    );
    assert_eq!(alice.get(&weft, "/api/runs").await.status, 401);
}
