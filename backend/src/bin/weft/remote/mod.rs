//! `weft runs …` and `weft apply …` (SPEC §6): the command line that talks to a running server
//! over its HTTP API, as Temporal's CLI and Windmill's `wmill sync` do. It is a client like any
//! other, so it lives beside the binary and not in the server library; it prints tables for a
//! person and, with `--json`, the API's own objects for a script.

mod apply;
mod client;
mod runs;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::Value;

pub(crate) use apply::apply;
pub(crate) use runs::runs;

use client::Client;

/// Where the server is and how to talk to it; shared by every remote command.
#[derive(Debug, Clone, Args)]
pub(crate) struct Remote {
    /// The server's base URL.
    #[arg(
        long,
        env = "WEFT_SERVER",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub(crate) server: String,
    /// A bearer token: the server's `WEFT_API_TOKEN` or an API key.
    #[arg(long, env = "WEFT_API_TOKEN", hide_env_values = true, global = true)]
    pub(crate) token: Option<String>,
    /// Print the API's JSON instead of tables.
    #[arg(long, global = true)]
    pub(crate) json: bool,
}

impl Remote {
    fn client(&self) -> Client {
        Client::new(&self.server, self.token.clone())
    }
}

/// `weft runs …`.
#[derive(Debug, Subcommand)]
pub(crate) enum RunsCommand {
    /// List runs, newest first.
    List {
        #[arg(long)]
        workflow: Option<String>,
        /// running, paused, completed, failed or cancelled.
        #[arg(long)]
        status: Option<String>,
        /// How many (1-500).
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Show one run: its status, output or error, and each node.
    Show { id: String },
    /// Start a run of the workflow's latest version.
    Start {
        workflow: String,
        /// The input as JSON, `@FILE` to read it from a file, or `-` for standard input.
        #[arg(long, default_value = "null")]
        input: String,
        /// Makes the start idempotent: the same id starts one run.
        #[arg(long)]
        id: Option<String>,
    },
    /// Cancel a run (its `on_cancel` path runs).
    Cancel {
        id: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Redrive a finished run: reuse what it completed, run again from the failed nodes (or
    /// from `--from`).
    Redrive {
        id: String,
        /// Node ids to run again, with everything after them (comma-separated).
        #[arg(long, value_delimiter = ',')]
        from: Vec<String>,
        /// `same` (default), `latest`, or a version number.
        #[arg(long)]
        version: Option<String>,
        /// A new input as JSON (`@FILE`, `-`); default: the original run's.
        #[arg(long)]
        input: Option<String>,
        /// Show what would be reused and run again, and start nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Approve (or `--reject`) a waiting approval node.
    Approve {
        id: String,
        node: String,
        #[arg(long)]
        reject: bool,
        #[arg(long)]
        comment: Option<String>,
        /// What the approval's form asks for, as JSON.
        #[arg(long)]
        data: Option<String>,
    },
    /// Pause a run: nothing new starts until it is resumed.
    Pause {
        id: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Resume a paused run.
    Resume { id: String },
}

/// `weft apply DIR|FILE…`.
#[derive(Debug, Args)]
pub(crate) struct ApplyArgs {
    /// Definition files (`.json`), or folders whose `.json` files are applied.
    #[arg(required = true)]
    pub(crate) paths: Vec<PathBuf>,
    /// Check every file and show what would change; save nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
}

/// Why a remote command failed; printed on standard error, and the exit code is 1.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    #[error("cannot reach {server}: {reason}")]
    Unreachable { server: String, reason: String },
    #[error("{status} {code}: {message}{}", details_text(.details))]
    Api {
        status: u16,
        code: String,
        message: String,
        details: Option<Value>,
    },
    #[error("the server's answer to {path} is not what this weft expects: {reason}")]
    Answer { path: String, reason: String },
    #[error("{0}")]
    Input(String),
}

/// The findings a 422 carries, one per line, as `weft validate` prints them.
fn details_text(details: &Option<Value>) -> String {
    let Some(list) = details
        .as_ref()
        .and_then(|d| d.get("diagnostics"))
        .and_then(Value::as_array)
    else {
        return String::new();
    };
    list.iter()
        .map(|d| {
            let field = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or("");
            let at = match d.get("node").and_then(Value::as_str) {
                Some(n) => format!(" node {n}:"),
                None => String::new(),
            };
            format!(
                "\n  {} [{}]{at} {}",
                field("severity"),
                field("code"),
                field("message")
            )
        })
        .collect()
}

/// Reads a JSON argument: inline text, `@FILE`, or `-` for standard input.
fn json_arg(text: &str) -> Result<Value, CliError> {
    let source = match text {
        "-" => std::io::read_to_string(std::io::stdin())
            .map_err(|e| CliError::Input(format!("cannot read standard input: {e}")))?,
        _ => match text.strip_prefix('@') {
            Some(path) => std::fs::read_to_string(path)
                .map_err(|e| CliError::Input(format!("cannot read {path}: {e}")))?,
            None => text.to_owned(),
        },
    };
    serde_json::from_str(&source).map_err(|e| CliError::Input(format!("input is not JSON: {e}")))
}

/// Runs an async command on a fresh runtime and turns its error into exit code 1.
fn finish(result: Result<(), CliError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
