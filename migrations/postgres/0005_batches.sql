-- Bulk actions (SPEC §6, issue 15): a batch and the runs its filter matched when it was
-- made. An item stays `pending` until the action on its run is durable (`done`, written in
-- the engine's commit of that run's event) or refused (`failed`, with the reason).
create table batches (
    id            text    primary key,
    action        text    not null,
    filter        text    not null,
    matched       bigint  not null,
    status        text    not null,
    created_at    bigint  not null,
    updated_at    bigint  not null,
    claimed_until bigint  not null default 0
);
create index batches_running on batches (created_at) where status = 'running';

create table batch_runs (
    batch_id  text not null,
    run_id    text not null,
    state     text not null default 'pending',
    error     text,
    primary key (batch_id, run_id)
);
create index batch_runs_pending on batch_runs (batch_id, run_id) where state = 'pending';
