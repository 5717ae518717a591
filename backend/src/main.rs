//! The `weft` binary: a thin shim over [`backend`].

use clap::Parser;

fn main() -> std::process::ExitCode {
    backend::run(backend::config::Cli::parse())
}
