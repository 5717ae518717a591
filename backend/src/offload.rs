//! CPU-bound work off the async runtime: validating a posted definition and rendering a
//! template that is not quick ([`shared::template::is_quick`]).
//!
//! The runtime has one worker per core, and the engine has one writer, so a few milliseconds
//! of parsing or a template spending its whole fuel there would hold up `/healthz`, the event
//! streams and every other run's commit. [`run`] hands such work to tokio's blocking pool, at
//! most [`AT_ONCE`] jobs at a time (the pool is shared with the store's and the file server's
//! blocking work); more wait their turn without holding a thread.

use std::sync::LazyLock;

use tokio::sync::Semaphore;

/// Jobs running at once; the machine we measure on has two cores.
const AT_ONCE: usize = 2;

/// Why a job gave no result.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The job panicked (a bug: the panic is logged by the blocking pool).
    #[error("the work panicked: {0}")]
    Panicked(String),
    /// The runtime is shutting down.
    #[error("the server is shutting down")]
    ShuttingDown,
}

/// Runs `job` on the blocking pool behind the bound of [`AT_ONCE`].
pub async fn run<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> Result<T, Error> {
    static TURNS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(AT_ONCE));
    let _turn = TURNS.acquire().await.map_err(|_| Error::ShuttingDown)?;
    tokio::task::spawn_blocking(job).await.map_err(|e| {
        if e.is_panic() {
            Error::Panicked(e.to_string())
        } else {
            Error::ShuttingDown
        }
    })
}
