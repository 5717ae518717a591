//! The LISTEN relay (PostgreSQL): every commit `NOTIFY`s; this turns other processes'
//! notices into this process's live stream events, wakes the timer service on a new timer
//! and the long polls of a queue on a new task. Nothing polls in a tight loop.

use std::sync::Arc;
use std::time::Duration;

use crate::engine::driver::{Committed, Link};
use crate::store::Postgres;
use crate::store::postgres::Notice;

use super::queue::SharedTasks;

/// Turns notices into wake-ups and into this process's live events.
pub(super) async fn relay(
    pg: Postgres,
    mut listener: sqlx::postgres::PgListener,
    link: Link,
    tasks: SharedTasks,
) {
    let (published, timers) = (&link.published, &link.timers);
    loop {
        match pg.recv(&mut listener).await {
            Ok(Notice::Events(runs)) => {
                if published.receiver_count() == 0 {
                    continue;
                }
                for a in runs {
                    match pg.events_between(&a.run_id, a.from, a.to).await {
                        Ok(events) if !events.is_empty() => {
                            let _ = published.send(Arc::new(Committed {
                                run_id: a.run_id,
                                workflow: a.workflow,
                                status: a.status,
                                needs_person: a.needs_person,
                                test: a.test,
                                events,
                            }));
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "reading another process's events"),
                    }
                }
            }
            Ok(Notice::Timers) => timers.notify_one(),
            Ok(Notice::Task(queue)) => tasks.wake(&queue),
            Err(e) => {
                // The listener reconnects by itself; notices sent meanwhile are lost, so
                // everyone waiting looks again.
                tracing::warn!(error = %e, "listening for notices");
                timers.notify_one();
                tasks.wake_all();
                // A reconnect backoff of a socket: real time, not the engine's.
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}
