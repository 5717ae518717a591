-- Weft's store. The event log is the truth; `runs` and `timers` are indexes over it,
-- written in the same transaction as the events they follow from.

create table workflows (
    name        text    not null,
    version     integer not null,
    definition  text    not null,
    created_at  integer not null,
    primary key (name, version)
);

-- One row per workflow name: archived names take no new runs.
create table workflow_names (
    name        text    primary key,
    latest      integer not null,
    archived    integer not null default 0
);

create table runs (
    id          text    primary key,
    workflow    text    not null,
    version     integer not null,
    status      text    not null,
    input       text    not null,
    output      text,
    error       text,
    created_at  integer not null,
    updated_at  integer not null,
    last_seq    integer not null
);
create index runs_by_created on runs (created_at desc, id desc);
create index runs_by_workflow on runs (workflow, created_at desc);
create index runs_by_status on runs (status, created_at desc);

create table events (
    run_id      text    not null,
    seq         integer not null,
    type        text    not null,
    node        text,
    at          integer not null,
    data        text    not null,
    primary key (run_id, seq)
) without rowid;

-- Due work: retry backoffs, timer nodes, approval/signal timeouts, run deadlines.
create table timers (
    run_id      text    not null,
    node        text    not null,
    kind        text    not null,
    attempt     integer not null default 0,
    due_at      integer not null,
    primary key (run_id, node, kind)
) without rowid;
create index timers_by_due on timers (due_at);
