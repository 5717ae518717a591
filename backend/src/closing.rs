//! The server's shutdown as long-lived responses see it. axum's graceful shutdown waits for
//! every open connection to finish, and a live event stream never finishes by itself: each
//! stream watches [`Closing`] and ends (after a last `shutdown` event, so a client knows to
//! reconnect elsewhere or later) once the process is asked to stop.

use tokio::sync::watch;

/// Tells the streams the server is stopping; dropping it does not.
pub struct Close(watch::Sender<bool>);

/// What a stream waits on; cheap to clone.
#[derive(Clone)]
pub struct Closing(watch::Receiver<bool>);

/// A new shutdown signal, not given yet.
pub fn channel() -> (Close, Closing) {
    let (tx, rx) = watch::channel(false);
    (Close(tx), Closing(rx))
}

impl Close {
    pub fn close(&self) {
        self.0.send_replace(true);
    }
}

impl Closing {
    /// Resolves once [`Close::close`] was called, or at once if it already was. A dropped
    /// [`Close`] never resolves it: only an asked-for shutdown ends the streams.
    pub async fn closed(&mut self) {
        if self.0.wait_for(|c| *c).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
