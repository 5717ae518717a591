//! Listening for other processes' commits: the channels every process `LISTEN`s on and what
//! their payloads mean ([`Notice`]).

use sqlx::postgres::PgListener;

use super::{EVENTS, EventsNotice, Notice, Postgres, TASKS, TIMERS};
use crate::store::Result;

impl Postgres {
    /// Listens on the engine's channels; see [`Postgres::recv`].
    pub async fn listen(&self) -> Result<PgListener> {
        let mut l = PgListener::connect_with(&self.pool).await?;
        l.listen_all([EVENTS, TIMERS, TASKS]).await?;
        Ok(l)
    }

    /// The next notice that concerns this process (its own event notices are skipped).
    pub async fn recv(&self, l: &mut PgListener) -> Result<Notice> {
        loop {
            let n = l.recv().await?;
            match n.channel() {
                EVENTS => {
                    let Ok(notice) = serde_json::from_str::<EventsNotice>(n.payload()) else {
                        continue;
                    };
                    if notice.origin != self.owner {
                        return Ok(Notice::Events(notice.runs));
                    }
                }
                TIMERS => return Ok(Notice::Timers),
                TASKS => return Ok(Notice::Task(n.payload().to_owned())),
                _ => {}
            }
        }
    }
}
