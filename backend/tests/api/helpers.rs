//! Test harness: the real `weft` binary as a child process with a fresh database ([`Weft`]:
//! a SQLite file in a temp dir, or a PostgreSQL database, see [`crate::pg`]), and an
//! in-process HTTP service that http nodes call ([`Target`]), which records every request and
//! fails or stalls on demand.
//!
//! The server binds port 0 and prints the address it got (`weft serve`'s "listening on" line,
//! read from its stdout), so no port is picked here and handed over: a port picked by binding
//! and dropping it could be taken by a parallel test before the server binds it.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};
use tempfile::TempDir;

/// How long `wait_for` and friends poll before giving up.
pub(crate) const WAIT: Duration = Duration::from_secs(20);
/// The polling interval of `wait_for` and friends.
const POLL: Duration = Duration::from_millis(20);

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("reqwest client")
}

/// What `weft serve` prints on stdout once it listens, before the address (SPEC §4).
const LISTENING: &str = "weft listening on ";

/// A server's base URL that follows it across restarts, for tasks that outlive one process.
#[derive(Clone, Default)]
pub(crate) struct BaseUrl(Arc<Mutex<String>>);

impl BaseUrl {
    /// `http://127.0.0.1:<port>` of the process running now.
    pub(crate) fn get(&self) -> String {
        self.0.lock().expect("base url").clone()
    }
}

/// A running `weft serve` child process and what it needs to be restarted on the same file.
pub(crate) struct Weft {
    child: Option<Child>,
    /// `http://127.0.0.1:<port>`: each start binds a new port, so this changes on a restart.
    pub(crate) base: String,
    /// The same, shared with tasks that must follow restarts ([`Weft::base_url`]).
    shared_base: BaseUrl,
    database: String,
    ui_dir: PathBuf,
    log_path: PathBuf,
    envs: Vec<(String, String)>,
    pub(crate) client: reqwest::Client,
    /// Keeps the temp dir (database, UI, log) alive as long as the server.
    _dir: Option<TempDir>,
}

/// Spawns `weft serve` on a fresh database kept in (or named after) `dir` and waits for
/// `/healthz`.
pub(crate) async fn spawn_weft(dir: &Path) -> Weft {
    spawn_weft_with(dir, &[]).await
}

/// Like [`spawn_weft`], with extra environment variables (e.g. `WEFT_SECRET_*`).
pub(crate) async fn spawn_weft_with(dir: &Path, envs: &[(&str, &str)]) -> Weft {
    let database = crate::pg::database_for(dir).await;
    spawn_on(dir, database, envs).await
}

/// `weft serve` on `database`, which may be shared with other servers; files go in `dir`.
pub(crate) async fn spawn_on(dir: &Path, database: String, envs: &[(&str, &str)]) -> Weft {
    let ui_dir = dir.join("ui");
    std::fs::create_dir_all(&ui_dir).expect("ui dir");
    std::fs::write(
        ui_dir.join("index.html"),
        "<!doctype html><title>weft</title>",
    )
    .expect("index.html");
    let mut weft = Weft {
        child: None,
        base: String::new(),
        shared_base: BaseUrl::default(),
        database,
        ui_dir,
        log_path: dir.join("weft.log"),
        envs: envs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        client: client(),
        _dir: None,
    };
    weft.start().await;
    weft
}

impl Weft {
    /// A server on a fresh database in its own temp dir.
    pub(crate) async fn fresh() -> Weft {
        Weft::fresh_with(&[]).await
    }

    pub(crate) async fn fresh_with(envs: &[(&str, &str)]) -> Weft {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut weft = spawn_weft_with(dir.path(), envs).await;
        weft._dir = Some(dir);
        weft
    }

    async fn start(&mut self) {
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .expect("log file");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_weft"));
        cmd.arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--database")
            .arg(&self.database)
            .arg("--ui-dir")
            .arg(&self.ui_dir)
            .env_remove("WEFT_API_TOKEN")
            .env("WEFT_LOG", "info,sqlx=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn weft");
        let listening = tee_stdout(&mut child, &self.log_path);
        self.child = Some(child);
        self.client = client();
        let base = match tokio::time::timeout(Duration::from_secs(15), listening).await {
            Ok(Ok(base)) => base,
            Ok(Err(_)) => panic!(
                "weft ended its output without listening; log:\n{}",
                self.log()
            ),
            Err(_) => panic!("weft did not listen within 15 s; log:\n{}", self.log()),
        };
        *self.shared_base.0.lock().expect("base url") = base.clone();
        self.base = base;
        let healthz = self.client.get(self.url("/healthz")).send().await;
        assert!(
            healthz.is_ok_and(|r| r.status().is_success()),
            "weft listens but does not answer /healthz; log:\n{}",
            self.log()
        );
    }

    /// The base URL, following restarts.
    pub(crate) fn base_url(&self) -> BaseUrl {
        self.shared_base.clone()
    }

    /// The folder the server serves the SPA from (`--ui-dir`); holds an `index.html`.
    pub(crate) fn ui_dir(&self) -> &Path {
        &self.ui_dir
    }

    /// The server's log so far (stdout and stderr).
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// SIGKILL: no shutdown, no flush; whatever SQLite committed is what survives.
    pub(crate) fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM, then waits up to 10 s for the process to exit; returns its exit code.
    pub(crate) fn terminate(&mut self) -> Option<i32> {
        let mut c = self.child.take()?;
        let killed = Command::new("kill")
            .arg("-TERM")
            .arg(c.id().to_string())
            .status();
        assert!(killed.is_ok_and(|s| s.success()), "kill -TERM failed");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = c.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = c.kill();
        let _ = c.wait();
        None
    }

    /// Starts the server again on the same database (on a new port).
    pub(crate) async fn restart(&mut self) {
        self.kill9();
        self.start().await;
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sets an environment variable for the next (re)start.
    pub(crate) fn set_env(&mut self, key: &str, value: &str) {
        self.envs.retain(|(k, _)| k != key);
        self.envs.push((key.to_owned(), value.to_owned()));
    }

    /// The database URL this server runs on.
    pub(crate) fn database(&self) -> &str {
        &self.database
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let resp = req.send().await.expect("request to weft");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("response body");
        // A body that is not JSON comes back as a string, so assertions can show it.
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, body)
    }

    pub(crate) async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.client.get(self.url(path))).await
    }

    pub(crate) async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(self.client.delete(self.url(path))).await
    }

    pub(crate) async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(self.client.post(self.url(path)).json(body)).await
    }

    pub(crate) async fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(self.client.put(self.url(path)).json(body)).await
    }

    pub(crate) async fn patch(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(self.client.patch(self.url(path)).json(body))
            .await
    }

    /// Sends raw bytes as a JSON body.
    pub(crate) async fn raw(&self, method: Method, path: &str, body: Vec<u8>) -> (u16, Value) {
        let req = self
            .client
            .request(method, self.url(path))
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        self.send(req).await
    }

    /// Sends `body` with exactly `headers` and no others of ours (no `Content-Type` unless
    /// one is given): what a browser on another site or a careless client sends.
    pub(crate) async fn request(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, Value) {
        let mut req = self
            .client
            .request(method, self.url(path))
            .body(body.to_vec());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req).await
    }

    /// One HTTP/1.1 request written byte for byte on a new connection: `head` is the request
    /// line and headers (no blank line), sent with `Content-Length` and `Connection: close`,
    /// so a test chooses what a URL parser or an HTTP client would fix (`Host`, `..`
    /// segments). Returns the status, the response's headers (lower case) and its JSON body.
    pub(crate) async fn http1(&self, head: &str, body: &str) -> (u16, String, Value) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = self.base.strip_prefix("http://").expect("http base");
        let mut conn = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let request = format!(
            "{head}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        conn.write_all(request.as_bytes()).await.expect("write");
        let mut answer = Vec::new();
        conn.read_to_end(&mut answer).await.expect("read");
        let answer = String::from_utf8(answer).expect("UTF-8 answer");
        let (head, body) = answer.split_once("\r\n\r\n").expect("a head and a body");
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("a status line");
        let headers = head.to_ascii_lowercase();
        let body = if headers.contains("transfer-encoding: chunked") {
            dechunk(body)
        } else {
            body.to_owned()
        };
        let body = serde_json::from_str(&body).unwrap_or(Value::String(body));
        (status, headers, body)
    }

    /// `GET` that must succeed.
    pub(crate) async fn get_ok(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// Saves a definition (its `name` is the path) and returns its version.
    pub(crate) async fn put_workflow(&self, def: &Value) -> i64 {
        let name = def["name"].as_str().expect("definition has a name");
        let (status, body) = self.put(&format!("/api/workflows/{name}"), def).await;
        assert!(
            status == 200 || status == 201,
            "PUT workflow {name}: {status} {body:#}"
        );
        body["version"].as_i64().expect("version")
    }

    /// Starts a run that must be created; returns its id.
    pub(crate) async fn start_run(&self, workflow: &str, input: Value) -> String {
        let (status, body) = self
            .post(
                &format!("/api/workflows/{workflow}/runs"),
                &json!({ "input": input }),
            )
            .await;
        assert_eq!(status, 201, "start {workflow}: {body:#}");
        body["run_id"].as_str().expect("run_id").to_owned()
    }

    pub(crate) async fn run(&self, run_id: &str) -> Value {
        self.get_ok(&format!("/api/runs/{run_id}")).await
    }

    /// Polls the run until it has `status`; panics on another final status or after [`WAIT`].
    pub(crate) async fn wait_for(&self, run_id: &str, status: &str) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let run = self.run(run_id).await;
            let now = run["status"].as_str().unwrap_or_default();
            if now == status {
                return run;
            }
            if now != "running" && now != "paused" {
                panic!("run {run_id} is {now}, expected {status}: {run:#}");
            }
            assert!(
                Instant::now() < deadline,
                "run {run_id} still {now} after {WAIT:?}, expected {status}: {run:#}"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Polls the run until node `node` has `status`.
    pub(crate) async fn wait_node(&self, run_id: &str, node: &str, status: &str) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let run = self.run(run_id).await;
            if run["nodes"][node]["status"] == status {
                return run;
            }
            assert!(
                Instant::now() < deadline,
                "node {node} of run {run_id} never became {status}: {run:#}"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// The run's history; asserts it is gap-free (seq 1..n).
    pub(crate) async fn events(&self, run_id: &str) -> Vec<Value> {
        let body = self.get_ok(&format!("/api/runs/{run_id}/events")).await;
        let events = body["events"].as_array().expect("events").clone();
        assert_gap_free(&events);
        events
    }
}

impl Weft {
    /// Reads `GET /api/runs/{id}/stream` until the server ends it (after the run's final
    /// event); returns each event's SSE `id` and its parsed `data`.
    pub(crate) async fn stream(
        &self,
        run_id: &str,
        last_event_id: Option<i64>,
    ) -> Vec<(i64, Value)> {
        self.stream_telling(run_id, last_event_id, None).await
    }

    /// Like [`Weft::stream`]; `first` hears when the first event arrived (the stream is open
    /// and live), so a test acts then instead of after a guessed delay.
    pub(crate) async fn stream_telling(
        &self,
        run_id: &str,
        last_event_id: Option<i64>,
        first: Option<tokio::sync::oneshot::Sender<()>>,
    ) -> Vec<(i64, Value)> {
        let mut req = self
            .client
            .get(self.url(&format!("/api/runs/{run_id}/stream")));
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id.to_string());
        }
        read_stream(run_id, req, first).await
    }

    /// Reads `GET /api/runs/{id}/stream?{query}` as [`Weft::stream`] does.
    pub(crate) async fn stream_query(&self, run_id: &str, query: &str) -> Vec<(i64, Value)> {
        let url = self.url(&format!("/api/runs/{run_id}/stream?{query}"));
        read_stream(run_id, self.client.get(url), None).await
    }
}

/// Reads an SSE response until the server ends it: each event's `id` and parsed `data`;
/// `first` hears when the first event arrived.
async fn read_stream(
    run_id: &str,
    req: reqwest::RequestBuilder,
    mut first: Option<tokio::sync::oneshot::Sender<()>>,
) -> Vec<(i64, Value)> {
    let read = async {
        let mut resp = req.send().await.expect("open stream");
        assert_eq!(resp.status(), 200, "stream of {run_id}");
        let ct = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(ct.starts_with("text/event-stream"), "content-type {ct}");
        let mut buf = String::new();
        let mut out = Vec::new();
        while let Some(chunk) = resp.chunk().await.expect("stream chunk") {
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let block: String = buf.drain(..end + 2).collect();
                let mut id = None;
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = Some(v.trim().parse::<i64>().expect("numeric SSE id"));
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.strip_prefix(' ').unwrap_or(v));
                    }
                }
                if let Some(id) = id {
                    out.push((id, serde_json::from_str(&data).expect("SSE data is JSON")));
                    if let Some(f) = first.take() {
                        let _ = f.send(());
                    }
                }
            }
        }
        out
    };
    tokio::time::timeout(WAIT, read)
        .await
        .expect("the stream ended after the run's final event")
}

/// Copies the child's stdout into the log file on a thread; resolves to the base URL once the
/// server prints that it listens (an error if its stdout ends first).
fn tee_stdout(child: &mut Child, log_path: &Path) -> tokio::sync::oneshot::Receiver<String> {
    let stdout = child.stdout.take().expect("piped stdout");
    let mut log = File::options()
        .append(true)
        .open(log_path)
        .expect("log file");
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = writeln!(log, "{line}");
            if let Some(base) = line.strip_prefix(LISTENING)
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(base.trim().to_owned());
            }
        }
    });
    rx
}

impl Drop for Weft {
    fn drop(&mut self) {
        self.kill9();
        if std::thread::panicking() {
            let log = self.log();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("--- weft log (last 40 lines) ---");
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}

/// The payload of a chunked HTTP/1.1 body.
fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).expect("a chunk size");
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
    out
}

/// Asserts `events` have `seq` 1, 2, …, n in order.
#[track_caller]
pub(crate) fn assert_gap_free(events: &[Value]) {
    let seqs: Vec<i64> = events
        .iter()
        .map(|e| e["seq"].as_i64().expect("seq"))
        .collect();
    let want: Vec<i64> = (1..=events.len() as i64).collect();
    assert_eq!(seqs, want, "history is not gap-free");
}

/// The `type`s of a history, in order.
pub(crate) fn types(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default())
        .collect()
}

/// The events of `ty` about `node`.
pub(crate) fn node_events<'a>(events: &'a [Value], ty: &str, node: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["type"] == ty && e["node"] == node)
        .collect()
}

/// True for SPEC §3's error body: `{"error": {"code", "message", …}}`.
pub(crate) fn is_json_error(body: &Value) -> bool {
    body["error"]["code"].is_string() && body["error"]["message"].is_string()
}

/// Everything a client can read about `runs` and the workflows (with the definitions of
/// `workflows`), to compare before and after a series of refused requests.
pub(crate) async fn snapshot(weft: &Weft, runs: &[&str], workflows: &[&str]) -> Value {
    let mut details = Vec::new();
    for id in runs {
        details.push(weft.run(id).await);
        details.push(weft.get_ok(&format!("/api/runs/{id}/events")).await);
    }
    for name in workflows {
        details.push(weft.get_ok(&format!("/api/workflows/{name}")).await);
    }
    json!({
        "runs": weft.get_ok("/api/runs").await,
        "workflows": weft.get_ok("/api/workflows").await,
        "details": details,
    })
}

/// Collects every wrong answer so one run of a test reports them all.
#[derive(Default)]
pub(crate) struct Checks(pub(crate) Vec<String>);

impl Checks {
    /// `got` must be `status` with a JSON error body.
    pub(crate) fn check(&mut self, what: &str, got: (u16, Value), status: u16) {
        let (s, body) = got;
        if s != status {
            self.0
                .push(format!("{what}: expected {status}, got {s} {body}"));
        } else if !is_json_error(&body) {
            self.0
                .push(format!("{what}: {s} without a JSON error body: {body}"));
        }
    }

    /// `got` must be `status` with the JSON error body of `code`, its message containing `says`.
    pub(crate) fn refused(
        &mut self,
        what: &str,
        got: (u16, Value),
        status: u16,
        code: &str,
        says: &str,
    ) {
        let (s, body) = got;
        let message = body["error"]["message"].as_str().unwrap_or_default();
        if s != status || !is_json_error(&body) || body["error"]["code"] != code {
            self.0
                .push(format!("{what}: expected {status} {code}, got {s} {body}"));
        } else if !message.contains(says) {
            self.0.push(format!(
                "{what}: the message {message:?} does not say {says:?}"
            ));
        }
    }

    /// `got` must be `status`, whatever its body.
    pub(crate) fn status(&mut self, what: &str, got: (u16, Value), status: u16) {
        if got.0 != status {
            self.0.push(format!(
                "{what}: expected {status}, got {} {}",
                got.0, got.1
            ));
        }
    }

    /// Fails the test with every wrong answer, if there is one.
    #[track_caller]
    pub(crate) fn assert_none(self) {
        assert!(self.0.is_empty(), "wrong answers:\n{}", self.0.join("\n"));
    }
}

/// Counts a request as in flight until it is answered (or its connection drops).
struct InFlight(Arc<TargetState>);

impl InFlight {
    fn enter(state: &Arc<TargetState>) -> InFlight {
        let mut f = state.in_flight.lock().expect("in flight");
        f.0 += 1;
        f.1 = f.1.max(f.0);
        InFlight(state.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.lock().expect("in flight").0 -= 1;
    }
}

/// What a [`Target`] path does.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Rule {
    /// Answer `status` the first `n` times, then 200.
    FailFirst(u32, u16),
    /// Always answer `status`.
    Always(u16),
    /// Sleep before answering 200 the first `n` times.
    SlowFirst(u32, Duration),
    /// Always sleep before answering 200.
    Slow(Duration),
    /// Answer 200 with a text body of this many bytes.
    Bytes(usize),
}

/// One request a [`Target`] received.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub(crate) path: String,
    /// The query string, without the `?`.
    pub(crate) query: Option<String>,
    pub(crate) method: String,
    /// The JSON body, or `Value::String` of the text, or `Null` when empty.
    pub(crate) body: Value,
    pub(crate) key: Option<String>,
    pub(crate) headers: HashMap<String, String>,
    /// When the request arrived (before any injected sleep).
    pub(crate) at: Instant,
    /// The same moment as Unix milliseconds, to compare with event `at`s.
    pub(crate) at_ms: i64,
}

#[derive(Default)]
struct TargetState {
    seen: Mutex<Vec<Seen>>,
    rules: Mutex<HashMap<String, Rule>>,
    /// Requests being answered now, and the most there ever were at once.
    in_flight: Mutex<(u32, u32)>,
}

/// An HTTP service on a free port that records every request. It answers
/// `200 {"path", "n", "echo"}` (`n`: how many requests that path has had, `echo`: the body)
/// unless a [`Rule`] says otherwise.
pub(crate) struct Target {
    pub(crate) base: String,
    state: Arc<TargetState>,
    _server: tokio::task::JoinHandle<()>,
}

impl Target {
    pub(crate) async fn spawn() -> Target {
        let state = Arc::new(TargetState::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind target");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let app = Router::new().fallback(answer).with_state(state.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("target serves");
        });
        Target {
            base,
            state,
            _server: server,
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub(crate) fn rule(&self, path: &str, rule: Rule) {
        self.state
            .rules
            .lock()
            .expect("rules")
            .insert(path.to_owned(), rule);
    }

    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().expect("seen").clone()
    }

    /// The most requests this target was answering at the same moment.
    pub(crate) fn most_at_once(&self) -> u32 {
        self.state.in_flight.lock().expect("in flight").1
    }

    pub(crate) fn seen_at(&self, path: &str) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.path == path).collect()
    }
}

async fn answer(
    State(state): State<Arc<TargetState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let at = Instant::now();
    let at_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64;
    let path = uri.path().to_owned();
    let body = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()))
    };
    let headers: HashMap<String, String> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                v.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let n = {
        let mut seen = state.seen.lock().expect("seen");
        seen.push(Seen {
            path: path.clone(),
            query: uri.query().map(str::to_owned),
            method: method.to_string(),
            body: body.clone(),
            key: headers.get("idempotency-key").cloned(),
            headers,
            at,
            at_ms,
        });
        seen.iter().filter(|s| s.path == path).count() as u32
    };
    let rule = state.rules.lock().expect("rules").get(&path).copied();
    let fail = |status: u16| {
        let status = StatusCode::from_u16(status).expect("status");
        (status, axum::Json(json!({"error": "injected", "n": n}))).into_response()
    };
    let _answering = InFlight::enter(&state);
    match rule {
        Some(Rule::FailFirst(k, status)) if n <= k => return fail(status),
        Some(Rule::Always(status)) => return fail(status),
        Some(Rule::SlowFirst(k, d)) if n <= k => tokio::time::sleep(d).await,
        Some(Rule::Slow(d)) => tokio::time::sleep(d).await,
        Some(Rule::Bytes(n)) => return "b".repeat(n).into_response(),
        _ => {}
    }
    axum::Json(json!({"path": path, "n": n, "echo": body})).into_response()
}
