//! `weft bench`: the engine's benchmark harness (docs/benchmarks.md). It starts a real
//! server in-process on a temp SQLite file and drives it over HTTP, as users would.
//!
//! It belongs to the `weft` binary, not the server library: it uses only the library's public
//! API (`Store`, `Engine`, `app`, `serve`), as any embedder would.
//!
//! W1: 200 concurrent runs × 10 `transform` steps, durable steps/s. W2: 200 runs × 10 `http`
//! steps against a local service. L1: one 10-step run end to end, p50/p99 over 100 runs.
//! M1: RSS with 10,000 runs waiting on an approval, then the time to approve them all.
//! R1: restart recovery time with those 10,000 unfinished runs. W3: 200 runs × 10 `task`
//! steps done by 4 worker processes over HTTP, steps/s and queue-to-worker latency. H1
//! (`hostile.rs`): RSS and `/healthz` around issue 13's hostile series. W4 (`composed.rs`):
//! one `map` of 10,000 children. W5: 1,000 cron schedules firing every second for 30 s:
//! fires missed or doubled, fire-to-start delay, on a database of its own. B1 and R2
//! (`operate.rs`): a bulk cancel of 10,000 waiting runs, and W1 while retention prunes.
//! `--only` picks scenarios (`weft bench --only W5`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::net::TcpListener;

use backend::engine::activity::Secrets;
use backend::store::Store;
use backend::{AppState, Services, app, serve};

pub(crate) struct Server {
    pub(crate) base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<()>,
}

async fn start_server(db: &str) -> anyhow::Result<Server> {
    start_server_with(db, None).await
}

/// A server on `db`, pruning finished runs older than `retention` when given.
pub(crate) async fn start_server_with(
    db: &str,
    retention: Option<Duration>,
) -> anyhow::Result<Server> {
    let store = Store::open(db).await?;
    let secrets = Secrets::default();
    let (running, driver) =
        backend::start_engine(&store, backend::clock::Clock::System, &secrets).await?;
    if let Some(keep) = retention {
        backend::retention::start(store.clone(), backend::clock::Clock::System, keep);
    }
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (close, closing) = backend::closing::channel();
    let state = AppState::new(Services {
        store,
        engine: running.engine,
        cluster: running.cluster,
        hook_keys: Secrets::default(),
        secret_names: Vec::new(),
        access: backend::access::Access::new(
            None,
            std::time::Duration::from_secs(12 * 3600),
            false,
        ),
        allowed_hosts: backend::api::guard::AllowedHosts::new(&[], listener.local_addr()?.ip())
            .map_err(anyhow::Error::msg)?,
        schedules: running.schedules,
        bulk: running.bulk,
        closing,
    });
    let router = app(state, std::path::Path::new("."));
    let done = tokio::spawn(async move {
        let shutdown = async move {
            drop(stopped.await);
            close.close();
        };
        let _ = serve(listener, router, shutdown).await;
        let _ = driver.await;
    });
    Ok(Server {
        base,
        stop: Some(stop),
        done,
    })
}

impl Server {
    pub(crate) async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = (&mut self.done).await;
    }
}

/// A workflow `start → s0 → … → s{steps-1} → end`, each step made by `step` (its id set here).
pub(crate) fn chain(name: &str, steps: usize, step: impl Fn(usize) -> Value) -> Value {
    let mut nodes = vec![json!({"id": "start", "type": "start"})];
    let mut edges = vec![];
    let mut prev = "start".to_owned();
    for i in 0..steps {
        let mut n = step(i);
        let id = format!("s{i}");
        n["id"] = json!(id);
        nodes.push(n);
        edges.push(json!({"from": prev, "to": id}));
        prev = id;
    }
    nodes.push(json!({"id": "end", "type": "end"}));
    edges.push(json!({"from": prev, "to": "end"}));
    json!({"name": name, "nodes": nodes, "edges": edges})
}

pub(crate) async fn put(c: &reqwest::Client, base: &str, def: &Value) -> anyhow::Result<()> {
    let name = def["name"].as_str().unwrap_or_default();
    let r = c
        .put(format!("{base}/api/workflows/{name}"))
        .json(def)
        .send()
        .await?;
    anyhow::ensure!(
        r.status().is_success(),
        "saving {name}: {}",
        r.text().await?
    );
    Ok(())
}

pub(crate) async fn start(
    c: &reqwest::Client,
    base: &str,
    wf: &str,
    input: Value,
) -> anyhow::Result<Value> {
    let r = c
        .post(format!("{base}/api/workflows/{wf}/runs"))
        .json(&json!({"input": input}))
        .send()
        .await?;
    anyhow::ensure!(r.status().is_success(), "start: {}", r.status());
    Ok(r.json().await?)
}

/// Runs `n` clients, each calling `f(i)` for its share of `total` jobs.
pub(crate) async fn fan<F, Fut>(clients: usize, total: usize, f: F) -> anyhow::Result<()>
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (f, next) = (f.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                if i >= total {
                    return Ok::<(), anyhow::Error>(());
                }
                f(i).await?;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}

pub(crate) fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

/// Waits until `n` runs of the server are finished, by polling the run list's count of
/// running runs (the harness's own wait, not the engine's).
async fn wait_all_finished(c: &reqwest::Client, base: &str, wf: &str) -> anyhow::Result<()> {
    loop {
        let v: Value = c
            .get(format!(
                "{base}/api/runs?workflow={wf}&status=running&limit=1"
            ))
            .send()
            .await?
            .json()
            .await?;
        if v["runs"].as_array().is_some_and(Vec::is_empty) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A local activity target: answers every POST with a small JSON body.
async fn target() -> anyhow::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let router = axum::Router::new().fallback(|| async { axum::Json(json!({"ok": true})) });
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(base)
}

/// The SQLite suite; `only` names the scenarios to run (all when empty; L1 runs W1 first,
/// R1 runs M1 first).
pub(crate) async fn run(runs: usize, only: &[String]) -> anyhow::Result<()> {
    let want = |id: &str| only.is_empty() || only.iter().any(|o| o.eq_ignore_ascii_case(id));
    let dir = tempfile_dir()?;
    let db = format!("sqlite://{}/bench.db", dir.display());
    let c = reqwest::Client::builder()
        .pool_max_idle_per_host(512)
        .build()?;
    let server = start_server(&db).await?;
    let base = server.base.clone();
    println!(
        "weft bench ({} cores, SQLite WAL synchronous=FULL at {})",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        dir.display()
    );

    let bases = [base.clone()];
    if want("W1") || want("L1") {
        let total = runs.max(200) * 10;
        let steps = w1(&c, &bases, "w1", total).await?;
        println!(
            "W1  {total} runs × 10 transform steps, 200 clients: {steps:.0} steps/s ({:.0} runs/s)",
            steps / 10.0
        );
    }
    if want("W2") {
        let tb = target().await?;
        let steps = w2(&c, &bases, "w2", &tb).await?;
        println!("W2  200 runs × 10 http steps: {steps:.0} steps/s");
    }
    if want("W3") {
        w3(&c, &base).await?;
    }
    if want("L1") {
        l1(&c, &base).await?;
    }
    if want("W4") {
        super::composed::w4(&c, &base).await?;
    }
    if want("H1") {
        super::hostile::h1(&c, &base, 3).await?;
    }
    if want("M1") || want("R1") {
        m1_r1(&c, server, &db).await?;
    } else {
        server.stop().await;
    }
    let _ = std::fs::remove_dir_all(&dir);
    if want("B1") {
        super::operate::b1(&c).await?;
    }
    if want("R2") {
        super::operate::r2(&c).await?;
    }
    if want("W5") {
        w5().await?;
    }
    if want("S1") {
        super::find::s1_sqlite(&c).await?;
    }
    Ok(())
}

/// L1: 100 runs of W1's workflow, one after the other, each started and completed in one call.
async fn l1(c: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    let mut lat = Vec::new();
    for i in 0..100 {
        let t = Instant::now();
        let v = start(c, base, "w1", json!({"n": i})).await?;
        anyhow::ensure!(
            v["status"] == "completed",
            "L1 run did not complete in one call: {v}"
        );
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    lat.sort_by(f64::total_cmp);
    println!(
        "L1  one 10-step run end to end (HTTP start → completed): p50 {:.2} ms, p99 {:.2} ms",
        lat[49], lat[98]
    );
    Ok(())
}

/// M1: 10,000 runs waiting on an approval (RSS), R1: a restart with them, then approving
/// them all.
async fn m1_r1(c: &reqwest::Client, server: Server, db: &str) -> anyhow::Result<()> {
    let base = server.base.clone();
    let approval = json!({"name": "m1", "nodes": [
        {"id": "start", "type": "start"}, {"id": "ask", "type": "approval", "prompt": "ok {{ input.n }}?"}, {"id": "end", "type": "end"}],
        "edges": [{"from": "start", "to": "ask"}, {"from": "ask", "to": "end", "port": "approved"}]});
    put(c, &base, &approval).await?;
    let before = rss_mb();
    let (c2, b2) = (c.clone(), base.clone());
    let ids: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let ids2 = ids.clone();
    fan(200, 10_000, move |i| {
        let (c, b, ids) = (c2.clone(), b2.clone(), ids2.clone());
        async move {
            let v = start(&c, &b, "m1", json!({"n": i})).await?;
            ids.lock()
                .expect("ids")
                .push(v["id"].as_str().unwrap_or_default().to_owned());
            Ok(())
        }
    })
    .await?;
    let waiting = rss_mb();
    println!(
        "M1  RSS of the whole bench process: {before:.0} MB before, {waiting:.0} MB with 10,000 runs waiting on an approval"
    );

    // R1: restart on the same file with those 10,000 unfinished runs.
    server.stop().await;
    let t = Instant::now();
    let server = start_server(db).await?;
    println!(
        "R1  restart with 10,000 unfinished runs: ready in {:.0} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    let base = server.base.clone();

    let ids = Arc::new(std::mem::take(&mut *ids.lock().expect("ids")));
    let t = Instant::now();
    let (c2, b2, ids2) = (c.clone(), base.clone(), ids.clone());
    fan(200, ids.len(), move |i| {
        let (c, b, ids) = (c2.clone(), b2.clone(), ids2.clone());
        async move {
            let r = c
                .post(format!("{b}/api/runs/{}/approvals/ask", ids[i]))
                .json(&json!({"decision": "approve"}))
                .send()
                .await?;
            anyhow::ensure!(r.status().is_success(), "approve: {}", r.status());
            Ok(())
        }
    })
    .await?;
    wait_all_finished(c, &base, "m1").await?;
    println!("M1  approve all 10,000: {:.2} s", t.elapsed().as_secs_f64());
    server.stop().await;
    Ok(())
}

/// Starts `total` runs of `wf` (input `{"n": i}`) from 200 clients, round-robin over `bases`.
async fn start_spread(
    c: &reqwest::Client,
    bases: &[String],
    wf: &str,
    total: usize,
) -> anyhow::Result<()> {
    let (c, bases, wf) = (c.clone(), Arc::new(bases.to_vec()), wf.to_owned());
    fan(200, total, move |i| {
        let (c, b, wf) = (c.clone(), bases.clone(), wf.clone());
        async move {
            start(&c, &b[i % b.len()], &wf, json!({"n": i}))
                .await
                .map(drop)
        }
    })
    .await
}

/// W1: `total` runs of 10 `transform` steps started by 200 clients spread over `bases`;
/// each start answers when its run has completed. Returns durable steps/s.
pub(crate) async fn w1(
    c: &reqwest::Client,
    bases: &[String],
    name: &str,
    total: usize,
) -> anyhow::Result<f64> {
    put(
        c,
        &bases[0],
        &chain(
            name,
            10,
            |i| json!({"type": "transform", "output": {"i": i, "prev": "{{ input.n }}"}}),
        ),
    )
    .await?;
    let t = Instant::now();
    start_spread(c, bases, name, total).await?;
    Ok(total as f64 * 10.0 / t.elapsed().as_secs_f64())
}

/// W2: 200 runs of 10 `http` steps against the local target `tb`, started over `bases`.
/// Returns steps/s until the last run finished.
async fn w2(c: &reqwest::Client, bases: &[String], name: &str, tb: &str) -> anyhow::Result<f64> {
    put(c, &bases[0], &chain(name, 10, |i| json!({"type": "http", "request": {"method": "POST", "url": format!("{tb}/step/{i}"), "body": {"n": "{{ input.n }}"}}}))).await?;
    let n2 = 200;
    let t = Instant::now();
    start_spread(c, bases, name, n2).await?;
    wait_all_finished(c, &bases[0], name).await?;
    Ok(n2 as f64 * 10.0 / t.elapsed().as_secs_f64())
}

/// W1 and W2 on PostgreSQL with 1, 2, … `processes` `weft serve` processes sharing
/// `database`, each a child process of this one; the load is spread over them.
pub(crate) async fn run_shared(
    database: &str,
    runs: usize,
    processes: usize,
) -> anyhow::Result<()> {
    let c = reqwest::Client::builder()
        .pool_max_idle_per_host(512)
        .build()?;
    let tb = target().await?;
    println!(
        "weft bench on PostgreSQL ({} cores; server, processes and client share them)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    for n in 1..=processes {
        let mut children = Vec::new();
        let mut bases = Vec::new();
        for _ in 0..n {
            let mut child = tokio::process::Command::new(std::env::current_exe()?)
                .args(["serve", "--listen", "127.0.0.1:0"])
                .args(["--database", database, "--ui-dir", "/nonexistent"])
                .env("WEFT_LOG", "warn")
                .env_remove("WEFT_API_TOKEN")
                .stdout(std::process::Stdio::piped())
                .kill_on_drop(true)
                .spawn()?;
            bases.push(listening(&mut child).await?);
            children.push(child);
        }
        let total = runs.max(200) * 10;
        let s1 = w1(&c, &bases, &format!("w1-{stamp}-{n}"), total).await?;
        let s2 = w2(&c, &bases, &format!("w2-{stamp}-{n}"), &tb).await?;
        println!(
            "{n} process(es): W1 {total} runs × 10 transform steps {s1:.0} steps/s; W2 200 runs × 10 http steps {s2:.0} steps/s"
        );
        for mut child in children {
            if let Some(pid) = child.id() {
                let _ = std::process::Command::new("kill")
                    .arg("-TERM")
                    .arg(pid.to_string())
                    .status();
            }
            let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
        }
    }
    Ok(())
}

/// The base URL a `weft serve` child prints once it listens (it binds port 0, so no port is
/// picked here that another process could take first). Its later output is passed on.
async fn listening(child: &mut tokio::process::Child) -> anyhow::Result<String> {
    use anyhow::Context;
    use tokio::io::AsyncBufReadExt;
    let stdout = child.stdout.take().context("piped stdout")?;
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let base = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await? {
            match line.strip_prefix("weft listening on ") {
                Some(base) => return Ok(base.trim().to_owned()),
                None => println!("{line}"),
            }
        }
        anyhow::bail!("weft serve exited before listening")
    })
    .await
    .context("weft serve did not listen within 30 s")??;
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            println!("{line}");
        }
    });
    Ok(base)
}

pub(crate) fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("weft-bench-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// W3: 200 runs × 10 `task` steps done by 4 worker processes over HTTP (each this binary in
/// `weft bench --worker-for URL` mode, with `SLOTS` concurrent poll loops).
async fn w3(c: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    put(c, base, &chain("w3", 10, |i| json!({"type": "task", "queue": "w3", "activity": format!("step{i}"), "input": {"n": "{{ input.n }}"}}))).await?;
    let exe = std::env::current_exe()?;
    let workers: Vec<_> = (0..4)
        .map(|_| {
            tokio::process::Command::new(&exe)
                .args(["bench", "--worker-for", base])
                .stdout(std::process::Stdio::piped())
                .kill_on_drop(true)
                .spawn()
        })
        .collect::<Result<_, _>>()?;
    let n = 200;
    let t = Instant::now();
    let (c2, b2) = (c.clone(), base.to_owned());
    fan(200, n, move |i| {
        let (c, b) = (c2.clone(), b2.clone());
        async move { start(&c, &b, "w3", json!({"n": i})).await.map(drop) }
    })
    .await?;
    wait_all_finished(c, base, "w3").await?;
    let secs = t.elapsed().as_secs_f64();
    let mut waits: Vec<f64> = Vec::new();
    for w in workers {
        let out = w.wait_with_output().await?;
        let line = String::from_utf8_lossy(&out.stdout);
        let parsed: Vec<f64> = serde_json::from_str(line.trim()).unwrap_or_default();
        waits.extend(parsed);
    }
    anyhow::ensure!(
        waits.len() == n * 10,
        "workers reported {} tasks, expected {}",
        waits.len(),
        n * 10
    );
    waits.sort_by(f64::total_cmp);
    let p50 = waits[waits.len() / 2];
    let p99 = waits[waits.len() * 99 / 100];
    println!(
        "W3  {n} runs × 10 task steps, 4 worker processes: {:.0} steps/s; queue-to-worker p50 {p50:.2} ms, p99 {p99:.2} ms",
        n as f64 * 10.0 / secs
    );
    Ok(())
}

/// Concurrent tasks per W3 worker process: 4 × 50 = one per run, so a task waits for
/// dispatch, not for a free slot.
const SLOTS: usize = 50;

/// A worker process for W3: `SLOTS` poll loops on queue `w3`, completing every task at once; exits
/// after a second without work and prints each task's queue wait (ms) as a JSON array.
pub(crate) async fn worker(base: &str) -> anyhow::Result<()> {
    let c = reqwest::Client::new();
    let waits: Arc<std::sync::Mutex<Vec<f64>>> = Arc::default();
    let mut loops = Vec::new();
    for _ in 0..SLOTS {
        let (c, base, waits) = (c.clone(), base.to_owned(), waits.clone());
        loops.push(tokio::spawn(async move {
            let mut idle_since = Instant::now();
            loop {
                let r = c
                    .post(format!("{base}/api/queues/w3/poll"))
                    .json(&json!({"wait": "1s"}))
                    .send()
                    .await?;
                if r.status() == reqwest::StatusCode::NO_CONTENT {
                    if idle_since.elapsed() > Duration::from_secs(3) {
                        return Ok::<(), anyhow::Error>(());
                    }
                    continue;
                }
                let task: Value = r.json().await?;
                let now = backend::clock::Clock::System.now();
                waits
                    .lock()
                    .expect("waits")
                    .push((now - task["enqueued_at"].as_i64().unwrap_or(now)) as f64);
                let token = task["task_token"].as_str().unwrap_or_default();
                let done = c
                    .post(format!("{base}/api/tasks/{token}/complete"))
                    .json(&json!({"output": {"ok": true}}))
                    .send()
                    .await?;
                anyhow::ensure!(done.status().is_success(), "complete: {}", done.status());
                idle_since = Instant::now();
            }
        }));
    }
    for l in loops {
        l.await??;
    }
    println!("{}", serde_json::to_string(&*waits.lock().expect("waits"))?);
    Ok(())
}

/// W5's size: workflows × schedules each, all firing every second, for `W5_SECONDS`.
const W5_WORKFLOWS: usize = 100;
const W5_PER_WORKFLOW: usize = 10;
const W5_SECONDS: i64 = 30;

/// W5: 1,000 schedules (`* * * * * *`, a workflow that completes at once) on a fresh SQLite
/// server for 30 s of the system clock. Counts, over the whole fire times of that window,
/// the ones with no run (missed) and with more than one (doubled), and the fire-to-start
/// delay (the run's `created_at`, when its `run_started` was committed, minus its fire time).
pub(crate) async fn w5() -> anyhow::Result<()> {
    let dir = tempfile_dir()?;
    let db = format!("sqlite://{}/w5.db", dir.display());
    let server = start_server(&db).await?;
    let base = server.base.clone();
    let c = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let schedules: Vec<Value> = (0..W5_PER_WORKFLOW)
        .map(|_| json!({"cron": "* * * * * *"}))
        .collect();
    for w in 0..W5_WORKFLOWS {
        let def = json!({
            "name": format!("w5-{w}"),
            "triggers": {"schedules": schedules},
            "nodes": [{"id": "start", "type": "start"}, {"id": "end", "type": "end"}],
            "edges": [{"from": "start", "to": "end"}]
        });
        put(&c, &base, &def).await?;
    }
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
    };
    // The window: whole seconds, starting after every schedule was saved.
    let from = (now() / 1000 + 2) * 1000;
    let to = from + W5_SECONDS * 1000;
    let rss_before = rss_mb();
    tokio::time::sleep(Duration::from_millis((to - now() + 2_000).max(0) as u64)).await;
    let rss_after = rss_mb();

    let mut runs: std::collections::HashMap<(String, i64), usize> = Default::default();
    let mut delays = Vec::new();
    for w in 0..W5_WORKFLOWS {
        let mut cursor: Option<String> = None;
        loop {
            let mut url = format!("{base}/api/runs?workflow=w5-{w}&limit=500");
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            let page: Value = c.get(url).send().await?.json().await?;
            for r in page["runs"].as_array().into_iter().flatten() {
                let id = r["id"].as_str().unwrap_or_default();
                // sched-<workflow>-<index>-<fire ms>
                let Some((schedule, at)) = id.rsplit_once('-') else {
                    continue;
                };
                let Ok(at) = at.parse::<i64>() else { continue };
                if !(from..to).contains(&at) {
                    continue;
                }
                *runs.entry((schedule.to_owned(), at)).or_default() += 1;
                delays.push((r["created_at"].as_i64().unwrap_or(at) - at) as f64);
            }
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
    }
    let expected = W5_WORKFLOWS * W5_PER_WORKFLOW * W5_SECONDS as usize;
    let missed = expected.saturating_sub(runs.len());
    let doubled: usize = runs.values().map(|n| n - 1).sum();
    delays.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        delays
            .get(((delays.len() as f64 * p) as usize).min(delays.len().saturating_sub(1)))
            .copied()
            .unwrap_or(f64::NAN)
    };
    println!(
        "W5  {} schedules × every second × {W5_SECONDS} s = {expected} fire times: {} runs, missed {missed}, doubled {doubled}; fire-to-start p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms; RSS {rss_before:.0} → {rss_after:.0} MB",
        W5_WORKFLOWS * W5_PER_WORKFLOW,
        delays.len(),
        pct(0.50),
        pct(0.99),
        delays.last().copied().unwrap_or(f64::NAN),
    );
    server.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
