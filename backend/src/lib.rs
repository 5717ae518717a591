//! Weft's server: the HTTP API, the durable engine and its store, and the `weft` program.
//!
//! # Layout
//! - [`config`]: the command line and its environment variables.
//! - [`access`]: who a caller is and what their role allows (SPEC §7): the policy table, the
//!   authentication layer, sessions, keys, the audit log and `weft user`.
//! - [`api`]: axum handlers for SPEC §3 (`/api` behind `access::authenticate`, `/hooks`); JSON
//!   errors; body limits and JSON-only writes; the Host/Origin guard and security headers.
//! - [`cli`]: `weft validate` and the other one-shot commands.
//! - [`clock`]: the time the server is given (the system's, or a simulated one in tests).
//! - [`engine`]: the durable engine: the pure core (`decide`, `apply`, `effects` over a
//!   `Plan`), the driver and the timer service. It never asks which store it runs on.
//! - [`cluster`]: coordination of one process or several on a store: recovery, leases and
//!   takeover, the task queues, the relay of other processes' commits.
//! - [`store`]: the event log and its index rows, on SQLite or PostgreSQL.
//! - [`metrics`]: the Prometheus recorder.
//! - [`schedules`]: the scheduler: a run per fire time of each cron schedule, once.
//! - [`offload`]: CPU-bound work (validation, slow templates) on a bounded blocking pool.
//! - `ui`: the SPA's files, with cache lifetimes for Trunk's hashed assets.
//!
//! The `weft` binary (`src/bin/weft/`) parses the command line and runs [`run`]; its
//! `weft bench` drives this library through its public API only.
//!
//! `app()` builds the router without a socket so tests can drive it; `serve()` takes a bound
//! listener and a shutdown future so tests can bind port 0.

pub mod access;
pub mod api;
pub mod bulk;
pub mod cli;
pub mod clock;
pub mod closing;
pub mod cluster;
pub mod config;
pub mod engine;
pub mod metrics;
pub mod offload;
pub mod retention;
pub mod schedules;
pub mod store;
mod ui;

use std::future::Future;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Router, middleware};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

use config::{Command, ServeArgs};

/// The stack of each async worker thread (tokio's default is 2 MiB).
const WORKER_STACK: usize = 64 << 20;

/// What every handler can reach, behind one `Arc`: axum clones a handler's (and each
/// middleware's) state for every request, and two cores bumping a counter per field of it
/// cost W1 a tenth of its throughput (`docs/benchmarks.md`); now a clone is one counter.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    pub fn new(services: Services) -> AppState {
        AppState(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// The parts of [`AppState`].
pub struct Services {
    pub store: store::Store,
    pub engine: engine::driver::Engine,
    /// Coordination with other processes, and the task queues workers poll.
    pub cluster: cluster::Cluster,
    /// `WEFT_HOOK_SECRET_*`: the keys webhooks check their signatures with, apart from the
    /// `WEFT_SECRET_*` values templates render, so no template can read them.
    pub hook_keys: engine::activity::Secrets,
    /// The names (never the values) of the `WEFT_SECRET_*` secrets, sorted: the designer
    /// offers them in templates (`GET /api/secrets`).
    pub secret_names: Vec<String>,
    /// The token, session settings and the open-mode check (`access`).
    pub access: access::Access,
    /// The `Host`s the server answers for (`--allowed-hosts`, `api::guard`).
    pub allowed_hosts: api::guard::AllowedHosts,
    /// The scheduler, woken when schedules change.
    pub schedules: schedules::Scheduler,
    /// The bulk service, woken when a batch is made.
    pub bulk: bulk::Bulk,
    /// Given when the server is asked to stop: the live streams end.
    pub closing: closing::Closing,
}

/// The whole HTTP surface: `/api` (behind `access::authenticate`), `/hooks`, `/healthz`, and
/// the SPA with a fallback to `index.html` (`ui`). Responses are compressed (brotli or gzip, as
/// the client accepts) except event streams and bodies of a few bytes. Every request passes
/// `api::guard` first (its `Host`, and a write's `Origin`), every response carries its
/// security headers, and a panicking handler is answered with a JSON 500 instead of taking
/// the connection (or the process, with `panic = "abort"`) down.
pub fn app(state: AppState, ui_dir: &Path) -> Router {
    let token = middleware::from_fn_with_state(state.clone(), access::authenticate);
    let guard = middleware::from_fn_with_state(state.clone(), api::guard::check);
    let hooks = state.engine.clock.simulated().is_some();
    let router = Router::new();
    let router = if hooks {
        router.nest("/_test", api::testing::router())
    } else {
        router
    };
    let router = router
        .nest("/api", api::router().layer(token))
        .nest("/hooks", api::hooks::router())
        .layer(middleware::from_fn(api::deadline))
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/metrics",
            get(|State(app): State<AppState>| async move {
                metrics::render(app.cluster.depths().await)
            }),
        )
        .fallback_service(ui::router(ui_dir))
        .layer(guard);
    api::guard::security_headers(router)
        .layer(CompressionLayer::new())
        .layer(CatchPanicLayer::custom(api::error::panicked))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Runs one `weft` command.
pub fn run(command: Command) -> ExitCode {
    match command {
        Command::Validate { files } => cli::validate_files(&files),
        Command::User { command, database } => access::cli::run(&database, command),
        Command::Migrate { database } => {
            init_tracing();
            let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
            match rt.block_on(store::Store::open(&database)) {
                Ok(_) => {
                    println!("{}: migrations applied", redact(&database));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("migrate failed: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Backup { database, file } => {
            let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
            let copied = rt.block_on(async {
                // Refused before connecting: opening would migrate the PostgreSQL database.
                if !database.starts_with("sqlite:") {
                    return Err(store::Error::BackupUnsupported);
                }
                store::Store::open(&database)
                    .await?
                    .backup(&file.to_string_lossy())
                    .await
            });
            match copied {
                Ok(()) => {
                    println!("{}: copied to {}", redact(&database), file.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("backup failed: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Serve(args) => {
            init_tracing();
            // Templates are rendered on the workers; MiniJinja formats and compares nested
            // values recursively, and the template budget allows values thousands of levels
            // deep before the result is checked against `MAX_VALUE_DEPTH`. The stack is reserved,
            // not committed: untouched pages cost nothing.
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .thread_stack_size(WORKER_STACK)
                .build()
                .expect("tokio runtime");
            match rt.block_on(serve_command(*args)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!("{e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("WEFT_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
}

async fn serve_command(args: ServeArgs) -> anyhow::Result<()> {
    metrics::handle();
    let store = store::Store::open(&args.database).await?;
    let started = std::time::Instant::now();
    let secrets = engine::activity::Secrets::from_env();
    let clock = if args.test_hooks {
        tracing::warn!("test hooks on: a simulated clock and /_test; never use this in production");
        // Faults armed before the engine starts reach recovery too.
        if let Some(n) = std::env::var("WEFT_TEST_FAIL_READS")
            .ok()
            .and_then(|n| n.parse().ok())
        {
            store.faults().fail_reads(n);
        }
        // `WEFT_TEST_CLOCK_START` (ms since the epoch) starts the clock later than the
        // system's, so a test can restart a server after "downtime" it never waited through.
        let start = std::env::var("WEFT_TEST_CLOCK_START")
            .ok()
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(|| clock::Clock::System.now());
        clock::Clock::sim(start)
    } else {
        clock::Clock::System
    };
    let allowed_hosts = api::guard::AllowedHosts::new(&args.allowed_hosts, args.listen.ip())
        .map_err(anyhow::Error::msg)?;
    if allowed_hosts.any() {
        tracing::warn!(
            listen = %args.listen,
            "answering requests for any Host: a web page can reach this server through DNS \
             rebinding; set --allowed-hosts (WEFT_ALLOWED_HOSTS) to the names clients use"
        );
    }
    let (engine, driver) = start_engine(&store, clock.clone(), &secrets).await?;
    if let Some(keep) = args.retention {
        tracing::info!(retention = %keep, "pruning finished runs older than the retention");
        retention::start(store.clone(), clock, keep.into());
    }
    tracing::info!(elapsed = ?started.elapsed(), "engine resumed");
    let listener = TcpListener::bind(args.listen).await?;
    let listen = listener.local_addr()?;
    let oidc = oidc_provider(&args, listen).await?;
    let api_token: Option<Arc<str>> = args.api_token.filter(|t| !t.is_empty()).map(Into::into);
    tracing::info!(
        %listen,
        database = %redact(&args.database),
        api_token = if api_token.is_some() { "required" } else { "off" },
        "weft serving"
    );
    let secure_cookies = args
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"));
    let access =
        access::Access::new(api_token, args.session_ttl.into(), secure_cookies).with_oidc(oidc);
    if access.is_open(&store).await? {
        tracing::warn!(
            "open: no user, API key or token exists, so anyone who reaches this server is an \
             admin; add a user (`weft user add NAME --role admin`) or set WEFT_API_TOKEN"
        );
    }
    // The one line on stdout that is not a log line: with `--listen 127.0.0.1:0` it is how a
    // caller (the test harness, a script) learns the port.
    println!("weft listening on http://{listen}");
    let (close, closing) = closing::channel();
    let state = AppState::new(Services {
        store,
        engine: engine.engine,
        cluster: engine.cluster,
        hook_keys: engine::activity::Secrets::hook_keys_from_env(),
        secret_names: secrets.names(),
        access,
        allowed_hosts,
        schedules: engine.schedules,
        bulk: engine.bulk,
        closing,
    });
    let router = app(state, &args.ui_dir);
    let shutdown = async move {
        shutdown_signal().await;
        tracing::info!("stopping: ending live streams, finishing requests");
        close.close();
    };
    serve(listener, router, shutdown).await?;
    // The router (and its engine handles) are gone: the driver commits what it accepted and stops.
    if tokio::time::timeout(std::time::Duration::from_secs(10), driver)
        .await
        .is_err()
    {
        tracing::warn!("engine did not stop within 10 s");
    }
    tracing::info!("weft stopped");
    Ok(())
}

/// The OpenID provider of `--oidc-issuer`, discovered now: a provider that cannot be reached
/// or is misconfigured stops the start with the reason.
async fn oidc_provider(
    args: &ServeArgs,
    listen: std::net::SocketAddr,
) -> anyhow::Result<Option<access::oidc::Oidc>> {
    let Some(issuer) = args.oidc_issuer.clone().filter(|i| !i.is_empty()) else {
        return Ok(None);
    };
    let client_id = args
        .oidc_client_id
        .clone()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| anyhow::anyhow!("--oidc-issuer needs --oidc-client-id"))?;
    let role_map = access::oidc::parse_role_map(&args.oidc_role_map)
        .map_err(|e| anyhow::anyhow!("--oidc-role-map: {e}"))?;
    let default_role = match args.oidc_default_role.as_deref() {
        None | Some("") => None,
        Some(r) => Some(shared::access::Role::parse(r).ok_or_else(|| {
            anyhow::anyhow!("--oidc-default-role `{r}` is not a role (viewer … admin)")
        })?),
    };
    let public = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{listen}"));
    let redirect_url = format!(
        "{}{}",
        public.trim_end_matches('/'),
        access::oidc::CALLBACK_PATH
    );
    let oidc = access::oidc::Oidc::discover(access::oidc::Settings {
        issuer: issuer.clone(),
        client_id,
        client_secret: args.oidc_client_secret.clone().filter(|s| !s.is_empty()),
        redirect_url: redirect_url.clone(),
        role_claim: args.oidc_role_claim.clone(),
        role_map,
        default_role,
    })
    .await?;
    tracing::info!(%issuer, %redirect_url, role_claim = %args.oidc_role_claim, "single sign-on on");
    Ok(Some(oidc))
}

/// An engine running with its coordination.
pub struct Running {
    pub engine: engine::driver::Engine,
    pub cluster: cluster::Cluster,
    pub schedules: schedules::Scheduler,
    pub bulk: bulk::Bulk,
}

/// Starts the engine on `store` with `clock`: its driver, timer service and scheduler, and
/// the coordination its store needs (recovery, or leases and the relay).
pub async fn start_engine(
    store: &store::Store,
    clock: clock::Clock,
    secrets: &engine::activity::Secrets,
) -> Result<(Running, tokio::task::JoinHandle<()>), store::Error> {
    let (engine, link, pending) = engine::driver::Engine::new(store.clone(), clock.clone());
    let cluster = cluster::Cluster::new(store, link.clone(), secrets.clone());
    let driver = pending.run(Arc::new(cluster.clone()), secrets.clone());
    cluster.start().await?;
    // After recovery: the runs a fire finds already started are folded and current.
    let schedules = schedules::Scheduler::start(store.clone(), link.clone());
    retention::start_tests(store.clone(), clock, link.clone());
    let bulk = bulk::Bulk::start(store.clone(), link);
    Ok((
        Running {
            engine,
            cluster,
            schedules,
            bulk,
        },
        driver,
    ))
}

/// A database URL without its password, for logs.
fn redact(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}
