//! The clock the server is given: the system clock in production, a simulated one in tests.
//!
//! Everything that waits for a time — the timer service, lease renewal and takeover, task
//! attempt and heartbeat deadlines, the driver's backoff after a store error — asks this
//! clock, so a test moves time forward ([`SimClock::advance`]) instead of sleeping. The pure
//! core never reads a clock: the driver passes `now` in.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// The server's clock; cheap to clone.
#[derive(Clone)]
pub enum Clock {
    System,
    Sim(Arc<SimClock>),
}

impl Clock {
    /// A simulated clock starting at `start`.
    pub fn sim(start: Millis) -> Clock {
        Clock::Sim(Arc::new(SimClock::new(start)))
    }

    pub fn now(&self) -> Millis {
        match self {
            Clock::System => system_now(),
            Clock::Sim(s) => s.now(),
        }
    }

    /// Resolves once [`Clock::now`] has reached `at`.
    pub async fn sleep_until(&self, at: Millis) {
        match self {
            Clock::System => loop {
                let left = at - system_now();
                if left <= 0 {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(left as u64)).await;
            },
            Clock::Sim(s) => s.sleep_until(at).await,
        }
    }

    /// Resolves once `d` has passed on this clock.
    pub async fn sleep(&self, d: Duration) {
        let at = self
            .now()
            .saturating_add(d.as_millis().min(i64::MAX as u128) as Millis);
        self.sleep_until(at).await;
    }

    /// The simulated clock, if this is one.
    pub fn simulated(&self) -> Option<&SimClock> {
        match self {
            Clock::System => None,
            Clock::Sim(s) => Some(s),
        }
    }
}

fn system_now() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as Millis)
}

/// Time that moves only when told to; every sleeper whose time came is woken.
pub struct SimClock {
    now: AtomicI64,
    moved: watch::Sender<Millis>,
}

impl SimClock {
    fn new(start: Millis) -> SimClock {
        SimClock {
            now: AtomicI64::new(start),
            moved: watch::Sender::new(start),
        }
    }

    pub fn now(&self) -> Millis {
        self.now.load(Ordering::SeqCst)
    }

    /// Moves time forward by `d` and wakes every sleeper whose time came; returns the new now.
    pub fn advance(&self, d: Duration) -> Millis {
        let by = d.as_millis().min(i64::MAX as u128) as Millis;
        let now = self.now.fetch_add(by, Ordering::SeqCst) + by;
        self.moved.send_replace(now);
        now
    }

    async fn sleep_until(&self, at: Millis) {
        let mut rx = self.moved.subscribe();
        while self.now() < at {
            if rx.changed().await.is_err() {
                // The clock is gone with the server: nothing will ever be due.
                std::future::pending::<()>().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_sleeper_wakes_only_when_the_simulated_time_comes() {
        let clock = Clock::sim(1_000);
        let c = clock.clone();
        let sleeper = tokio::spawn(async move { c.sleep_until(1_500).await });
        tokio::task::yield_now().await;
        let sim = clock.simulated().expect("simulated");
        sim.advance(Duration::from_millis(499));
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished(), "woke 1 ms early");
        assert_eq!(sim.advance(Duration::from_millis(1)), 1_500);
        tokio::time::timeout(Duration::from_secs(5), sleeper)
            .await
            .expect("woke when due")
            .expect("sleeper ran");
        assert_eq!(clock.now(), 1_500);
    }
}
