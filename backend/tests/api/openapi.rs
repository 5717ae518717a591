//! `GET /api/openapi.json`: an OpenAPI 3.x document that lists every route of SPEC §3 as a
//! client calls it, and only routes the server really serves.

use std::collections::BTreeSet;

use axum::http::Method;
use serde_json::{Value, json};

use crate::helpers::Weft;

/// SPEC §3, as served: (method, path). Path parameters are compared by position, not name.
const SPEC_ROUTES: &[(&str, &str)] = &[
    ("POST", "/api/validate"),
    ("GET", "/api/workflows"),
    ("GET", "/api/workflows/{name}"),
    ("PUT", "/api/workflows/{name}"),
    ("DELETE", "/api/workflows/{name}"),
    ("GET", "/api/workflows/{name}/versions/{v}"),
    ("POST", "/api/workflows/{name}/runs"),
    ("GET", "/api/runs"),
    ("GET", "/api/runs/{id}"),
    ("GET", "/api/runs/{id}/events"),
    ("GET", "/api/runs/{id}/stream"),
    ("POST", "/api/runs/{id}/approvals/{node}"),
    ("POST", "/api/runs/{id}/signals/{name}"),
    ("POST", "/api/runs/{id}/cancel"),
    ("POST", "/api/queues/{queue}/poll"),
    ("POST", "/api/tasks/{token}/complete"),
    ("POST", "/api/tasks/{token}/fail"),
    ("POST", "/api/tasks/{token}/heartbeat"),
    ("POST", "/hooks/{name}"),
    // SPEC §5.
    ("GET", "/api/schedules"),
    ("POST", "/api/workflows/{name}/schedules/{index}/pause"),
    ("POST", "/api/workflows/{name}/schedules/{index}/resume"),
    ("POST", "/api/workflows/{name}/schedules/{index}/trigger"),
    ("POST", "/api/workflows/{name}/schedules/{index}/backfill"),
    ("GET", "/healthz"),
    ("GET", "/metrics"),
    ("GET", "/api/openapi.json"),
    // SPEC §6 "Test runs".
    ("POST", "/api/test-runs"),
];

/// The HTTP methods an OpenAPI path item can hold.
const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// `/api/runs/{id}` → `/api/runs/{}`, so parameter names do not matter.
fn shape(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            if seg.starts_with('{') && seg.ends_with('}') {
                "{}"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Every (METHOD, path) the document lists, with its operation.
fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let paths = doc["paths"].as_object().expect("paths");
    let mut out = Vec::new();
    for (path, item) in paths {
        for m in METHODS {
            if let Some(op) = item.get(*m) {
                out.push((m.to_uppercase(), path.clone(), op));
            }
        }
    }
    out
}

/// True when the answer is a router's fallback rather than a route's: the JSON 404 of `/api`
/// or `/hooks`, a 405, or the SPA's `index.html` that answers every other GET.
fn is_fallback(status: u16, body: &Value) -> bool {
    let message = body["error"]["message"].as_str().unwrap_or_default();
    (status == 404 && (message == "no such API endpoint" || message == "no such webhook"))
        || status == 405
        || body
            .as_str()
            .is_some_and(|text| text.starts_with("<!doctype html>"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_lists_every_route_of_spec_3() {
    let weft = Weft::fresh().await;
    let doc = weft.get_ok("/api/openapi.json").await;
    let version = doc["openapi"].as_str().expect("openapi version");
    assert!(version.starts_with("3."), "openapi {version}");
    assert_eq!(doc["info"]["title"], "Weft");
    assert!(doc["info"]["version"].is_string(), "{:#}", doc["info"]);

    let documented: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .map(|(m, p, _)| (m, shape(&p)))
        .collect();
    let missing: Vec<_> = SPEC_ROUTES
        .iter()
        .filter(|(m, p)| !documented.contains(&((*m).to_owned(), shape(p))))
        .collect();
    assert!(missing.is_empty(), "not documented: {missing:?}");

    // Each operation has a summary and its responses (a success, or the redirect of a
    // browser navigation such as single sign-on's); every `$ref` resolves.
    for (m, p, op) in operations(&doc) {
        assert!(op["summary"].is_string(), "{m} {p} has no summary");
        let responses = op["responses"].as_object().expect("responses");
        assert!(
            responses.keys().any(|s| s.starts_with('2') || s == "302"),
            "{m} {p} documents no success: {responses:?}"
        );
    }
    let text = doc.to_string();
    for piece in text.split("\"#/components/schemas/").skip(1) {
        let name = &piece[..piece.find('"').expect("ref ends")];
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "dangling $ref {name}"
        );
    }
    for name in [
        "ApiErrorBody",
        "ValidateResponse",
        "Diagnostic",
        "StartRun",
        "StartTestRun",
        "TestRunStarted",
    ] {
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "schema {name} missing"
        );
    }
    let errors = &doc["paths"]["/api/workflows/{name}/runs"]["post"]["responses"];
    for status in ["400", "401", "404", "409", "413", "422"] {
        assert_eq!(
            errors[status]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ApiErrorBody",
            "{status} of starting a run"
        );
    }
    let list_params: Vec<&str> = doc["paths"]["/api/runs"]["get"]["parameters"]
        .as_array()
        .expect("GET /api/runs has parameters")
        .iter()
        .filter(|p| p["in"] == "query")
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(
        list_params,
        [
            "workflow",
            "status",
            "id_prefix",
            "created_after",
            "created_before",
            "needs",
            "test",
            "input.<path>",
            "limit",
            "cursor"
        ]
    );

    // The bearer token guards /api and nothing else.
    let scheme = &doc["components"]["securitySchemes"]["api_token"];
    assert_eq!(scheme["type"], "http", "{scheme:#}");
    assert_eq!(scheme["scheme"], "bearer", "{scheme:#}");
    for (m, p, op) in operations(&doc) {
        let guarded = op["security"]
            .as_array()
            .is_some_and(|s| s.iter().any(|r| r.get("api_token").is_some()));
        assert_eq!(guarded, p.starts_with("/api/"), "security of {m} {p}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_route_is_served() {
    let weft = Weft::fresh().await;
    let doc = weft.get_ok("/api/openapi.json").await;

    // The check below recognises the fallbacks it must not see.
    for (method, path) in [
        (Method::GET, "/api/nope"),
        (Method::DELETE, "/api/validate"),
        (Method::GET, "/hooks/x"),
        (Method::POST, "/healthz"),
        (Method::GET, "/nope"),
    ] {
        let (status, body) = weft.raw(method.clone(), path, Vec::new()).await;
        assert!(
            is_fallback(status, &body),
            "{method} {path} should be a fallback: {status} {body}"
        );
    }

    let ops = operations(&doc);
    assert!(ops.len() >= SPEC_ROUTES.len(), "{} operations", ops.len());
    for (m, p, _) in ops {
        let path = p
            .split('/')
            .map(|seg| if seg.starts_with('{') { "x" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        let method = Method::from_bytes(m.as_bytes()).expect("method");
        if path == "/api/runs/stream" {
            // The runs feed never ends: its answer's head is enough.
            let resp = weft.client.get(weft.url(&path)).send().await.expect("feed");
            let ct = resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            assert!(
                resp.status() == 200 && ct.starts_with("text/event-stream"),
                "{m} {p}: {} {ct}",
                resp.status()
            );
            continue;
        }
        let body = if method == Method::GET || method == Method::DELETE {
            Vec::new()
        } else if path.ends_with("/poll") {
            // The poll waits up to 30 s by default.
            json!({"wait": "10ms"}).to_string().into_bytes()
        } else {
            b"{}".to_vec()
        };
        let (status, answer) = weft.raw(method, &path, body).await;
        assert!(
            !is_fallback(status, &answer),
            "{m} {p} is documented but not served ({m} {path} → {status} {answer})"
        );
    }
}

/// Every JSON answer of `/api` and `/hooks` names its schema (a `$ref` to a `shared::api`
/// type), except the document itself; and every path parameter is one its path has, so a
/// generated client can call each route (openapi-spec-validator checks the rest, in
/// scripts/check_openapi.sh).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_json_answer_is_a_named_schema_and_every_path_parameter_is_in_its_path() {
    let weft = Weft::fresh().await;
    let doc = weft.get_ok("/api/openapi.json").await;
    let mut untyped = Vec::new();
    let mut unresolved = Vec::new();
    for (m, p, op) in operations(&doc) {
        for param in op["parameters"].as_array().into_iter().flatten() {
            let name = param["name"].as_str().expect("a parameter's name");
            if param["in"] == "path" && !p.contains(&format!("{{{name}}}")) {
                unresolved.push(format!("{m} {p}: {name}"));
            }
        }
        if p == "/api/openapi.json" {
            continue;
        }
        let responses = op["responses"].as_object().expect("responses");
        for (status, response) in responses {
            let Some(schema) = response["content"].get("application/json") else {
                continue;
            };
            let schema = &schema["schema"];
            let named = schema["$ref"]
                .as_str()
                .is_some_and(|r| r.starts_with("#/components/schemas/"));
            if !named {
                untyped.push(format!("{m} {p} {status}: {schema}"));
            }
        }
    }
    assert!(
        unresolved.is_empty(),
        "path parameters not in their path: {unresolved:#?}"
    );
    assert!(
        untyped.is_empty(),
        "JSON answers without a named schema: {untyped:#?}"
    );
    for name in [
        "RunSummary",
        "RunDetail",
        "NodeView",
        "RunEvent",
        "EventList",
        "WorkflowSummary",
        "TaskAssignment",
    ] {
        assert!(
            doc["components"]["schemas"][name]["properties"].is_object()
                || doc["components"]["schemas"][name]["allOf"].is_array(),
            "schema {name}: {:#}",
            doc["components"]["schemas"][name]
        );
    }
}
