//! `weft user add|list|set-role|remove` on the database a server runs on: the password comes
//! on standard input and is stored as argon2id; the server closes once a user exists, sees
//! role changes at once, and a removed user's session ends.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{Caller, login};
use crate::helpers::Weft;

/// Runs `weft user ARGS --database DB` with `stdin`; returns its exit status and stdout.
fn weft_user(database: &str, args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_weft"))
        .arg("user")
        .args(args)
        .arg("--database")
        .arg(database)
        .env("WEFT_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn weft user");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("weft user");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_user_commands_manage_who_signs_in() {
    let weft = Weft::fresh().await;
    let db = weft.database().to_owned();
    assert_eq!(
        Caller::Nobody.get(&weft, "/api/runs").await.status,
        200,
        "open at first"
    );

    let (ok, out, err) = weft_user(&db, &["add", "alice", "--role", "approver"], "s3cret pw\n");
    assert!(ok, "add: {out}{err}");
    let (ok, _, err) = weft_user(&db, &["add", "alice", "--role", "viewer"], "x\n");
    assert!(!ok && err.contains("already"), "a second alice: {err}");
    let (ok, _, err) = weft_user(&db, &["add", "bob", "--role", "boss"], "x\n");
    assert!(!ok && err.contains("unknown role"), "{err}");
    let (ok, _, err) = weft_user(&db, &["add", "bob", "--role", "viewer"], "\n");
    assert!(!ok && err.contains("empty"), "{err}");
    // Bob keeps the server closed when alice goes (with nobody left it would be open).
    let (ok, out, err) = weft_user(&db, &["add", "bob", "--role", "viewer"], "pw-bob\n");
    assert!(ok, "add bob: {out}{err}");

    let store = backend::store::Store::open(&db).await.expect("store");
    let alice = store
        .user("alice", true)
        .await
        .expect("read")
        .expect("alice");
    let hash = alice.password.expect("a hash");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains("s3cret"));

    // Another process added a user: the server closes within a second or so.
    let deadline = Instant::now() + Duration::from_secs(5);
    while Caller::Nobody.get(&weft, "/api/runs").await.status != 401 {
        assert!(Instant::now() < deadline, "the server stayed open");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let (ok, out, _) = weft_user(&db, &["list"], "");
    assert!(ok && out.contains("alice\tapprover\nbob\tviewer"), "{out}");

    let (cookie, _) = login(&weft, "alice", "s3cret pw").await;
    let alice = Caller::Session(cookie);
    let (ok, out, err) = weft_user(&db, &["set-role", "alice", "operator"], "");
    assert!(ok, "set-role: {out}{err}");
    let me = alice.get(&weft, "/api/auth/me").await;
    assert_eq!(me.body["role"], "operator", "{}", me.body);

    let (ok, out, err) = weft_user(&db, &["remove", "alice"], "");
    assert!(ok, "remove: {out}{err}");
    assert_eq!(alice.get(&weft, "/api/runs").await.status, 401);
    let (ok, _, err) = weft_user(&db, &["remove", "alice"], "");
    assert!(!ok && err.contains("no user"), "{err}");

    let log = store
        .audit_log(&backend::store::AuditFilter {
            actor: Some("cli".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("audit");
    let actions: Vec<&str> = log.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(
        actions,
        ["user.removed", "user.changed", "user.added", "user.added"]
    );
}
