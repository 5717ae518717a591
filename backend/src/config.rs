//! The `weft` command line (SPEC §4): flags, with environment variables as fallbacks.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "weft",
    version,
    about = "Weft: draw workflows, run them durably."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API and the web UI and run the engine.
    Serve(ServeArgs),
    /// Create or upgrade the database's tables (`serve` does this too when it starts).
    Migrate {
        /// `sqlite://PATH` (created if missing) or `postgres://…`.
        #[arg(long, env = "WEFT_DATABASE_URL", default_value = "sqlite://weft.db")]
        database: String,
    },
    /// Validate definition files; exits 1 if any has an error.
    Validate {
        /// Definition files (JSON).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Benchmark the engine (W1, W2, L1, M1, R1 of docs/benchmarks.md) on a temp database.
    Bench {
        /// Runs for W1 (each 10 steps).
        #[arg(long, default_value_t = 2000)]
        runs: usize,
        /// Internal: be one of W3's worker processes against this server URL.
        #[arg(long, hide = true)]
        worker_for: Option<String>,
        /// A `postgres://…` database: run W1 and W2 there with 1 to `--processes` `weft serve`
        /// processes sharing it, instead of the SQLite suite.
        #[arg(long)]
        database: Option<String>,
        /// With `--database`: the most processes to try.
        #[arg(long, default_value_t = 3)]
        processes: usize,
    },
}

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "WEFT_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// `sqlite://PATH` (created if missing) or `postgres://…`.
    #[arg(long, env = "WEFT_DATABASE_URL", default_value = "sqlite://weft.db")]
    pub database: String,
    /// The built SPA (Trunk's dist folder).
    #[arg(long, env = "WEFT_UI_DIR", default_value = "frontend/dist")]
    pub ui_dir: PathBuf,
    /// When set, every `/api` call needs `Authorization: Bearer <token>`.
    #[arg(long, env = "WEFT_API_TOKEN", hide_env_values = true)]
    pub api_token: Option<String>,
    /// For tests only: a simulated clock and the `/_test` hooks that move it and inject
    /// store faults. Never in production.
    #[arg(long, env = "WEFT_TEST_HOOKS", hide = true, value_parser = clap::builder::BoolishValueParser::new())]
    pub test_hooks: bool,
}
