//! Injected store faults: a test arms "the next N log reads fail" or "the next N commits
//! fail", and the store answers those calls with [`Error::Injected`] before touching the
//! database. Production never arms them (they are reachable only through the test hooks of
//! `weft serve` with `WEFT_TEST_HOOKS=1`, and from in-process tests).
//!
//! This is how the suite proves that a transient database error loses no timer, strands no
//! attempt and refuses no accepted work: the fault is real to the engine, which cannot tell it
//! from a dropped connection.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use super::{Error, Result};

/// Counters of calls still to fail; cloned handles share them.
#[derive(Clone, Default)]
pub struct Faults {
    reads: Arc<AtomicU32>,
    commits: Arc<AtomicU32>,
    /// Commits still to let through before the armed ones fail.
    spared: Arc<AtomicU32>,
}

impl Faults {
    /// The next `n` reads of a run's log fail.
    pub fn fail_reads(&self, n: u32) {
        self.reads.store(n, Ordering::SeqCst);
    }

    /// The next `n` commits fail (nothing is written).
    pub fn fail_commits(&self, n: u32) {
        self.fail_commits_after(0, n);
    }

    /// The `spare` next commits succeed, then `n` fail: a test lets its own request through
    /// (an approval, say) and fails what the engine writes after it.
    pub fn fail_commits_after(&self, spare: u32, n: u32) {
        self.spared.store(spare, Ordering::SeqCst);
        self.commits.store(n, Ordering::SeqCst);
    }

    /// How many armed faults have not fired yet: `(reads, commits)`.
    pub fn pending(&self) -> (u32, u32) {
        (
            self.reads.load(Ordering::SeqCst),
            self.commits.load(Ordering::SeqCst),
        )
    }

    pub(super) fn read(&self) -> Result<()> {
        take(&self.reads, "reading a run's log")
    }

    pub(super) fn commit(&self) -> Result<()> {
        if self.commits.load(Ordering::SeqCst) > 0
            && self
                .spared
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
        {
            return Ok(());
        }
        take(&self.commits, "committing")
    }
}

/// Fails (and counts down) if a fault is armed.
fn take(counter: &AtomicU32, what: &'static str) -> Result<()> {
    let armed = counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if armed {
        Err(Error::Injected(what))
    } else {
        Ok(())
    }
}
