//! The timer service: fires due timers (retry backoffs, timer nodes, wait deadlines, run
//! deadlines, approval escalations) and hands escalation notices to [`Notices`]. It sleeps on
//! the server's clock until the earliest timer is due or a new one is set
//! ([`Link::timers`](super::driver::Link)), never polls. A timer leaves the store only in the
//! commit that records its firing (or proves it void); one that could not fire (the store
//! failed) stays, and the service looks again after a short backoff. A `notify` timer is the
//! outbox of an escalation: its POST is made first, and it fires with the answer, so a crash
//! sends it again rather than loses it (`notify.rs`).

use std::time::Duration;

use super::decide::TimerKind;
use super::driver::Link;
use super::notify::Notices;
use crate::store::Store;

/// The longest the service sleeps without looking (a timer set by a process it did not hear).
const SAFETY_NET: Duration = Duration::from_secs(60);
/// How long it waits before looking again after timers could not fire or the store failed.
const BACKOFF: Duration = Duration::from_secs(1);

pub(super) async fn service(store: Store, link: Link) {
    let notices = Notices::default();
    loop {
        // Times are absolute, read before looking: a clock that moves meanwhile wakes us.
        let now = link.clock.now();
        let later = |d: Duration| now.saturating_add(d.as_millis() as i64);
        let mut until = later(SAFETY_NET);
        match store.due_timers(now, 1000).await {
            Ok(due) if !due.is_empty() => {
                // An escalation's notice is sent before its timer fires (`notify`); its timer
                // stays due until the answer comes, so look again after the backoff.
                let notify = TimerKind::Notify.as_str();
                let (notices_due, due): (Vec<_>, Vec<_>) =
                    due.into_iter().partition(|t| t.kind == notify);
                let sending = !notices_due.is_empty();
                if sending {
                    notices.send(&store, &link, notices_due);
                    until = later(BACKOFF);
                }
                if !due.is_empty() {
                    match link.fire(due).await {
                        Ok(0) if !sending => continue,
                        Ok(0) => {}
                        Ok(_) => until = later(BACKOFF),
                        Err(_) => return,
                    }
                }
            }
            Ok(_) => match store.next_due().await {
                Ok(Some(t)) => until = until.min(t),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "reading timers");
                    until = later(BACKOFF);
                }
            },
            Err(e) => {
                tracing::warn!(error = %e, "reading timers");
                until = later(BACKOFF);
            }
        }
        tokio::select! {
            () = link.clock.sleep_until(until) => {}
            () = link.timers.notified() => {}
        }
        if !link.is_alive() {
            return;
        }
    }
}
