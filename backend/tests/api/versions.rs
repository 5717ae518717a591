//! A workflow's history (`GET /api/workflows/{name}/versions`): each version with who saved
//! it, when and the message given at save (`PUT …?message=`), newest first and paged; an
//! unchanged save keeps the version and its message; 404 for a name never saved; precise
//! 400s for a bad message, limit or `before`, which store nothing.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::Weft;
use crate::people::{Caller, add_user, closed, login, make_key};

/// `start → … → done` with `extra` nodes in between, told apart by `tag`.
fn chain(name: &str, tag: &str, extra: usize) -> Value {
    let mut nodes = vec![json!({"id": "start", "type": "start"})];
    let mut edges = Vec::new();
    let mut last = "start".to_owned();
    for i in 0..extra {
        let id = format!("t{i}");
        nodes.push(json!({"id": id, "type": "transform", "output": {"tag": tag}}));
        edges.push(json!({"from": last, "to": id}));
        last = id;
    }
    nodes.push(json!({"id": "done", "type": "end"}));
    edges.push(json!({"from": last, "to": "done"}));
    json!({"name": name, "description": tag, "nodes": nodes, "edges": edges})
}

/// `/api/workflows/{name}` with `?message=` encoded.
fn save_path(name: &str, message: &str) -> String {
    let mut url = reqwest::Url::parse("http://weft.invalid/").expect("url");
    url.set_path(&format!("/api/workflows/{name}"));
    url.query_pairs_mut().append_pair("message", message);
    format!("{}?{}", url.path(), url.query().expect("query"))
}

/// The versions listed at `path`, as `(version, saved_by, message, nodes)`.
fn rows(list: &Value) -> Vec<(i64, Value, Value, i64)> {
    list["versions"]
        .as_array()
        .unwrap_or_else(|| panic!("no versions in {list:#}"))
        .iter()
        .map(|v| {
            (
                v["version"].as_i64().expect("version"),
                v["saved_by"].clone(),
                v["message"].clone(),
                v["nodes"].as_i64().expect("nodes"),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_list_messages_newest_first_and_an_unchanged_save_keeps_its_message() {
    let weft = Weft::fresh().await;
    let (status, body) = weft
        .put(
            &save_path("orders", "  First cut  "),
            &chain("orders", "a", 0),
        )
        .await;
    assert_eq!((status, &body["version"]), (201, &json!(1)), "{body}");
    let (status, body) = weft
        .put("/api/workflows/orders", &chain("orders", "b", 2))
        .await;
    assert_eq!((status, &body["version"]), (201, &json!(2)), "{body}");
    let (status, body) = weft
        .put(
            &save_path("orders", "Räumt auf: one step ✂"),
            &chain("orders", "c", 1),
        )
        .await;
    assert_eq!((status, &body["version"]), (201, &json!(3)), "{body}");
    // Unchanged: still version 3, and its message is not replaced.
    let (status, body) = weft
        .put(&save_path("orders", "again"), &chain("orders", "c", 1))
        .await;
    assert_eq!((status, &body["version"]), (200, &json!(3)), "{body}");

    let list = weft.get_ok("/api/workflows/orders/versions").await;
    assert_eq!(list["name"], "orders");
    assert_eq!(list["next_before"], Value::Null, "{list:#}");
    // An open server records nobody; a blank-padded message is trimmed; no message is null.
    assert_eq!(
        rows(&list),
        vec![
            (3, Value::Null, json!("Räumt auf: one step ✂"), 3),
            (2, Value::Null, Value::Null, 4),
            (1, Value::Null, json!("First cut"), 2),
        ]
    );
    // `saved_at` is the version's own time, as reading the version says.
    for v in list["versions"].as_array().expect("versions") {
        let one = weft
            .get_ok(&format!("/api/workflows/orders/versions/{}", v["version"]))
            .await;
        assert_eq!(v["saved_at"], one["created_at"], "{v} vs {one}");
    }

    // Archived workflows keep their history.
    let (status, _) = weft.delete("/api/workflows/orders").await;
    assert_eq!(status, 200);
    let list = weft.get_ok("/api/workflows/orders/versions").await;
    assert_eq!(rows(&list).len(), 3, "{list:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_are_paged_by_limit_and_before() {
    let weft = Weft::fresh().await;
    for (i, tag) in ["a", "b", "c", "d", "e"].into_iter().enumerate() {
        let v = weft.put_workflow(&chain("paged", tag, i)).await;
        assert_eq!(v, i as i64 + 1);
    }
    let mut seen = Vec::new();
    let mut path = "/api/workflows/paged/versions?limit=2".to_owned();
    loop {
        let page = weft.get_ok(&path).await;
        let versions: Vec<i64> = rows(&page).into_iter().map(|r| r.0).collect();
        assert!(versions.len() <= 2, "{page:#}");
        seen.extend(versions);
        match page["next_before"].as_i64() {
            Some(before) => {
                assert_eq!(Some(&before), seen.last(), "{page:#}");
                path = format!("/api/workflows/paged/versions?limit=2&before={before}");
            }
            None => break,
        }
    }
    assert_eq!(seen, vec![5, 4, 3, 2, 1]);
    // Without a limit, every version of a short history comes at once.
    let all = weft.get_ok("/api/workflows/paged/versions").await;
    assert_eq!(rows(&all).len(), 5, "{all:#}");
    assert_eq!(all["next_before"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_workflow_and_bad_parameters_are_refused_precisely() {
    let weft = Weft::fresh().await;
    let (status, body) = weft.get("/api/workflows/nobody/versions").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "not_found", "{body}");
    assert_eq!(
        body["error"]["message"], "workflow `nobody` not found",
        "{body}"
    );

    weft.put_workflow(&chain("known", "a", 0)).await;
    for (query, says) in [
        ("limit=0", "limit must be between 1 and 500, not 0"),
        ("limit=501", "limit must be between 1 and 500, not 501"),
        (
            "before=0",
            "before must be a version number (1 or more), not 0",
        ),
        ("limit=ten", "limit"),
        ("page=2", "page"),
    ] {
        let (status, body) = weft
            .get(&format!("/api/workflows/known/versions?{query}"))
            .await;
        assert_eq!(status, 400, "{query}: {body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{query}: {message}");
    }

    // A save with a bad message stores nothing.
    let long = "x".repeat(501);
    for (path, says) in [
        (
            save_path("known", &long),
            "501 characters long, over the limit of 500",
        ),
        (save_path("known", "bell\u{7}"), "control character"),
        ("/api/workflows/known?msg=typo".to_owned(), "msg"),
    ] {
        let (status, body) = weft.put(&path, &chain("known", "b", 1)).await;
        assert_eq!(status, 400, "{path}: {body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{path}: {message}");
    }
    // 500 characters, a line break and a tab are fine.
    let (status, body) = weft
        .put(
            &save_path("known", &"y".repeat(500)),
            &chain("known", "c", 1),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = weft
        .put(&save_path("known", "two\n\tlines"), &chain("known", "d", 1))
        .await;
    assert_eq!(status, 201, "{body}");
    let list = weft.get_ok("/api/workflows/known/versions").await;
    let listed: Vec<(i64, Value)> = rows(&list).into_iter().map(|r| (r.0, r.2)).collect();
    assert_eq!(
        listed,
        vec![
            (3, json!("two\n\tlines")),
            (2, json!("y".repeat(500))),
            (1, Value::Null)
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_version_records_who_saved_it_and_a_viewer_may_read_the_list() {
    let weft = closed(&[]).await;
    // The token (the harness's client).
    let (status, body) = weft
        .put(
            &save_path("shared", "by the token"),
            &chain("shared", "a", 0),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    // A signed-in editor.
    add_user(&weft, "alice", "editor", "correct horse battery").await;
    let (cookie, _) = login(&weft, "alice", "correct horse battery").await;
    let alice = Caller::Session(cookie);
    let saved = alice
        .send(
            &weft,
            Method::PUT,
            &save_path("shared", "by alice"),
            Some(&chain("shared", "b", 1)),
        )
        .await;
    assert_eq!(saved.status, 201, "{}", saved.body);
    // An editor's key.
    let (key, _) = make_key(&weft, "ci", "editor").await;
    let ci = Caller::Bearer(key);
    let saved = ci
        .send(
            &weft,
            Method::PUT,
            "/api/workflows/shared",
            Some(&chain("shared", "c", 2)),
        )
        .await;
    assert_eq!(saved.status, 201, "{}", saved.body);

    let (viewer_key, _) = make_key(&weft, "reader", "viewer").await;
    let reader = Caller::Bearer(viewer_key);
    let list = reader.get(&weft, "/api/workflows/shared/versions").await;
    assert_eq!(list.status, 200, "{}", list.body);
    let who: Vec<(i64, Value, Value)> = rows(&list.body)
        .into_iter()
        .map(|r| (r.0, r.1, r.2))
        .collect();
    assert_eq!(
        who,
        vec![
            (3, json!("key:ci"), Value::Null),
            (2, json!("alice"), json!("by alice")),
            (1, json!("token"), json!("by the token")),
        ]
    );
    // Nobody signed in reads nothing.
    let anonymous = Caller::Nobody
        .get(&weft, "/api/workflows/shared/versions")
        .await;
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);
    // A viewer still may not save, message or not.
    let refused = reader
        .send(
            &weft,
            Method::PUT,
            &save_path("shared", "sneaky"),
            Some(&chain("shared", "d", 3)),
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let list = weft.get_ok("/api/workflows/shared/versions").await;
    assert_eq!(rows(&list).len(), 3, "{list:#}");
}
