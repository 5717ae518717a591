//! `WEFT_API_TOKEN`: with it set, `/api` answers only `Authorization: Bearer <token>` (and the
//! SSE stream also `?access_token=`), while `/healthz`, the UI and `/hooks` stay open;
//! without it, no header is needed.

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use serde_json::{Value, json};

use crate::helpers::{Weft, is_json_error};
use crate::hooks::deliver;

const TOKEN: &str = "t0ken-for-tests";

async fn server() -> Weft {
    Weft::fresh_with(&[("WEFT_API_TOKEN", TOKEN)]).await
}

/// Sends `req`; returns the status, the `WWW-Authenticate` header and the JSON body.
async fn send(req: reqwest::RequestBuilder) -> (u16, Option<String>, Value) {
    let resp = req.send().await.expect("request to weft");
    let status = resp.status().as_u16();
    let challenge = resp
        .headers()
        .get(WWW_AUTHENTICATE)
        .map(|v| v.to_str().expect("ascii").to_owned());
    let text = resp.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, challenge, body)
}

#[track_caller]
fn assert_unauthorized(what: &str, (status, challenge, body): (u16, Option<String>, Value)) {
    assert_eq!(status, 401, "{what}: {body}");
    assert!(is_json_error(&body), "{what}: not a JSON error: {body}");
    assert_eq!(body["error"]["code"], "unauthorized", "{what}");
    assert_eq!(challenge.as_deref(), Some("Bearer"), "{what}");
}

/// A one-step workflow with an unsigned webhook, saved with the token.
async fn save_hooked(weft: &Weft, name: &str) {
    let def = json!({
        "name": name,
        "triggers": {"webhook": {}},
        "nodes": [{"id": "start", "type": "start"}, {"id": "done", "type": "end"}],
        "edges": [{"from": "start", "to": "done"}]
    });
    let (status, _, body) = send(
        weft.client
            .put(weft.url(&format!("/api/workflows/{name}")))
            .bearer_auth(TOKEN)
            .json(&def),
    )
    .await;
    assert_eq!(status, 201, "save {name}: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_token_every_api_call_needs_it() {
    let weft = server().await;
    let list = || weft.client.get(weft.url("/api/workflows"));

    assert_unauthorized("no header", send(list()).await);
    assert_unauthorized("wrong token", send(list().bearer_auth("guess")).await);
    assert_unauthorized(
        "a prefix of the token",
        send(list().bearer_auth(&TOKEN[..4])).await,
    );
    assert_unauthorized(
        "not a bearer scheme",
        send(list().basic_auth("weft", Some(TOKEN))).await,
    );
    assert_unauthorized(
        "the query parameter outside the stream",
        send(
            weft.client
                .get(weft.url(&format!("/api/workflows?access_token={TOKEN}"))),
        )
        .await,
    );
    assert_unauthorized(
        "an unknown API path does not reveal itself",
        send(weft.client.get(weft.url("/api/nope"))).await,
    );
    assert_unauthorized(
        "a POST with a body",
        send(
            weft.client
                .post(weft.url("/api/validate"))
                .header(CONTENT_TYPE, "application/json")
                .body("{}"),
        )
        .await,
    );

    let (status, _, body) = send(list().bearer_auth(TOKEN)).await;
    assert_eq!(status, 200, "right token: {body}");
    let (status, _, body) = send(list().header(AUTHORIZATION, format!("bearer {TOKEN}"))).await;
    assert_eq!(status, 200, "the scheme is case-insensitive: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_the_ui_and_hooks_stay_open_with_a_token() {
    let weft = server().await;
    save_hooked(&weft, "open").await;

    let (status, _, body) = send(weft.client.get(weft.url("/healthz"))).await;
    assert_eq!((status, body), (200, json!("ok")));
    let (status, _, body) = send(weft.client.get(weft.url("/runs"))).await;
    assert_eq!(status, 200, "the SPA: {body}");
    assert!(
        body.as_str().unwrap_or_default().contains("<title>weft"),
        "{body}"
    );

    let (status, reply) = deliver(&weft, "open", br#"{"x": 1}"#, &[]).await;
    assert_eq!(status, 202, "a webhook needs no API token: {reply}");
    let id = reply["run_id"].as_str().expect("run_id");
    let (status, _, run) = send(
        weft.client
            .get(weft.url(&format!("/api/runs/{id}")))
            .bearer_auth(TOKEN),
    )
    .await;
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["input"], json!({"x": 1}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_also_takes_the_token_as_access_token() {
    let weft = server().await;
    save_hooked(&weft, "open").await;
    let (status, reply) = deliver(&weft, "open", b"{}", &[]).await;
    assert_eq!(status, 202, "{reply}");
    let stream = format!("/api/runs/{}/stream", reply["run_id"].as_str().expect("id"));

    assert_unauthorized("no token", send(weft.client.get(weft.url(&stream))).await);
    assert_unauthorized(
        "wrong access_token",
        send(
            weft.client
                .get(weft.url(&format!("{stream}?access_token=guess"))),
        )
        .await,
    );

    for req in [
        weft.client
            .get(weft.url(&format!("{stream}?access_token={TOKEN}"))),
        weft.client.get(weft.url(&stream)).bearer_auth(TOKEN),
    ] {
        let resp = req.send().await.expect("open stream");
        assert_eq!(resp.status(), 200);
        let ct = resp.headers()[CONTENT_TYPE].to_str().expect("ascii");
        assert!(ct.starts_with("text/event-stream"), "{ct}");
        // The run has finished, so the stream ends after its last event.
        let text = resp.text().await.expect("stream body");
        assert!(text.contains("run_completed"), "{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_no_header_is_needed() {
    let weft = Weft::fresh().await;

    let (status, _, body) = send(weft.client.get(weft.url("/api/workflows"))).await;
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = send(
        weft.client
            .get(weft.url("/api/workflows"))
            .bearer_auth("anything"),
    )
    .await;
    assert_eq!(status, 200, "a stray header is ignored: {body}");
}
