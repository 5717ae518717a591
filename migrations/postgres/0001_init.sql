-- Weft's store on PostgreSQL: the same tables as migrations/sqlite/0001_init.sql, plus what
-- several processes sharing one database need (leases, the task queue, claims on timers).
-- The event log is the truth; `runs` and `timers` are indexes over it, written in the same
-- transaction as the events they follow from.

create table workflows (
    name        text    not null,
    version     bigint  not null,
    definition  text    not null,
    created_at  bigint  not null,
    primary key (name, version)
);

create table workflow_names (
    name        text    primary key,
    latest      bigint  not null,
    archived    bigint  not null default 0
);

create table runs (
    id          text    primary key,
    workflow    text    not null,
    version     bigint  not null,
    status      text    not null,
    input       text    not null,
    output      text,
    error       text,
    created_at  bigint  not null,
    updated_at  bigint  not null,
    last_seq    bigint  not null
);
create index runs_by_created on runs (created_at desc, id desc);
create index runs_by_workflow on runs (workflow, created_at desc);
create index runs_by_status on runs (status, created_at desc);

create table events (
    run_id      text    not null,
    seq         bigint  not null,
    type        text    not null,
    node        text,
    at          bigint  not null,
    data        text    not null,
    primary key (run_id, seq)
);

-- Due work. `claimed_until`: a process that took the row to fire it holds it until then;
-- if it dies first, the claim lapses and another process fires it.
create table timers (
    run_id        text    not null,
    node          text    not null,
    kind          text    not null,
    attempt       bigint  not null default 0,
    due_at        bigint  not null,
    claimed_until bigint,
    primary key (run_id, node, kind)
);
create index timers_by_due on timers (due_at);

-- An `http` attempt in flight and the process performing it. The owner renews
-- `expires_at`; when it lapses (the process died) another process sends the attempt again.
create table leases (
    run_id      text    not null,
    node        text    not null,
    attempt     bigint  not null,
    owner       text    not null,
    expires_at  bigint  not null,
    primary key (run_id, node)
);
create index leases_by_expiry on leases (expires_at);

-- `task` attempts for external workers, written with their `node_started` event. Queued
-- while `worker_until` is null; a poll through any process claims one (for update skip
-- locked). The lease ends at `worker_until` (the attempt's timeout) or `heartbeat_until`,
-- whichever comes first. The input is rendered when a worker takes the task, so secrets
-- are never stored.
create table tasks (
    run_id          text    not null,
    node            text    not null,
    attempt         bigint  not null,
    queue           text    not null,
    activity        text    not null,
    timeout_ms      bigint  not null,
    heartbeat_ms    bigint,
    enqueued_at     bigint  not null,
    worker_until    bigint,
    heartbeat_until bigint,
    primary key (run_id, node)
);
create index tasks_queued on tasks (queue, enqueued_at) where worker_until is null;
