-- Cron schedules (SPEC §5, issue 14): one row per schedule of the latest version of each
-- workflow, kept in step on every save and archive. `idx` is the schedule's index in the
-- definition's `triggers.schedules`. A row outlives saves that keep its cron and zone (its
-- next fire time stays) and always keeps `paused`.
--
-- `next_fire_at`: the earliest fire time not yet handled (null: none). `last_fire_at` and
-- `last_run`: the latest fire that started a run, and that run (the overlap policy looks at
-- it). `buffered_at`: with `buffer_one`, the fire time waiting for `last_run` to end.
-- `skipped`: fire times not started (overlap, or missed outside the catch-up window).
-- `claimed_until`: several processes on PostgreSQL; the one handling a row's due fires holds
-- it until then. Each fire's run has the id `sched-<workflow>-<idx>-<fire time ms>`, so a fire
-- handled twice (a claim that lapsed, a crash before the row moved on) finds its run and
-- starts none: the runs table's primary key, not the claim, makes each fire one run.
create table schedules (
    workflow      text    not null,
    idx           bigint  not null,
    version       bigint  not null,
    cron          text    not null,
    timezone      text    not null,
    paused        bigint  not null default 0,
    next_fire_at  bigint,
    last_fire_at  bigint,
    last_run      text,
    buffered_at   bigint,
    skipped       bigint  not null default 0,
    claimed_until bigint,
    primary key (workflow, idx)
);
create index schedules_by_next on schedules (next_fire_at);
