//! The `schedules` table on PostgreSQL: the SQL both databases share (`schedule_sql!`), and
//! the claim of due rows that lets several processes split the fires between them.

use sqlx::postgres::PgRow;

use super::Postgres;
use crate::clock::Millis;
use crate::store::{Result, ScheduleRow};

super::super::schedules::schedule_sql!(Postgres, sqlx::Postgres, PgRow, begin_tx);

impl Postgres {
    pub(super) async fn begin_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        Ok(self.pool.begin().await?)
    }

    /// Claims, until `claim_until`, the schedules with a fire time due at `now` or a buffered
    /// fire that no other process holds (`for update skip locked`, then `claimed_until`), at
    /// most `limit`. A claim ends when the pass writes its rows, or lapses if this process
    /// dies first.
    pub(in crate::store) async fn due_schedules(
        &self,
        now: Millis,
        limit: i64,
        claim_until: Millis,
    ) -> Result<Vec<ScheduleRow>> {
        let mut q = sqlx::QueryBuilder::<sqlx::Postgres>::new(
            "with claimed as (update schedules set claimed_until = ",
        );
        q.push_bind(claim_until)
            .push(
                " where (workflow, idx) in (select workflow, idx from schedules \
                 where paused = 0 and (next_fire_at <= ",
            )
            .push_bind(now)
            .push(" or buffered_at is not null) and (claimed_until is null or claimed_until <= ")
            .push_bind(now)
            .push(") order by next_fire_at limit ")
            .push_bind(limit)
            .push(" for update skip locked) returning *) select ")
            .push(SCHEDULE_SELECT)
            .push(" from claimed s left join runs r on r.id = s.last_run");
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.into_iter().map(schedule_row).collect()
    }
}
