//! The `weft` binary: the server library's commands ([`backend::run`]) plus the clients of
//! a server, which live here rather than in the library: `weft bench`, and `weft runs` and
//! `weft apply` ([`remote`]).

mod bench;
mod composed;
mod find;
mod hostile;
mod operate;
mod remote;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "weft",
    version,
    about = "Weft: draw workflows, run them durably."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    #[command(flatten)]
    Server(backend::config::Command),
    /// List, show, start, cancel, redrive, approve, pause or resume runs on a server.
    Runs {
        #[command(flatten)]
        remote: remote::Remote,
        #[command(subcommand)]
        command: remote::RunsCommand,
    },
    /// Save definition files (or every `.json` in a folder) to a server; prints what changed.
    Apply {
        #[command(flatten)]
        remote: remote::Remote,
        #[command(flatten)]
        args: remote::ApplyArgs,
    },
    /// Benchmark the engine (W1–W5, L1, H1, M1, R1, B1, R2, S1 of docs/benchmarks.md) on a
    /// temp database.
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
        /// Only these scenarios of the SQLite suite (e.g. `--only W4,L1`); with `--database`,
        /// `--only S1` runs the runs search there instead of W1 and W2.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Server(command) => backend::run(command),
        Command::Runs { remote, command } => remote::runs(&remote, command),
        Command::Apply { remote, args } => remote::apply(&remote, &args),
        Command::Bench {
            runs,
            worker_for,
            database,
            processes,
            only,
        } => {
            let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
            let result = match (worker_for, database) {
                (Some(url), _) => rt.block_on(bench::worker(&url)),
                (None, Some(db)) if only.iter().any(|o| o.eq_ignore_ascii_case("S1")) => {
                    rt.block_on(find::s1(&reqwest::Client::new(), &db))
                }
                (None, Some(db)) => rt.block_on(bench::run_shared(&db, runs, processes)),
                (None, None) => rt.block_on(bench::run(runs, &only)),
            };
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("bench failed: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
