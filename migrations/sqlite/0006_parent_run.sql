-- Retention (SPEC §6, issue 15) prunes a run together with its child runs, so a child names
-- its parent in the index; runs made before this migration get it from their `run_started`.
alter table runs add column parent_run text;
update runs set parent_run = (
    select json_extract(e.data, '$.parent.run') from events e where e.run_id = runs.id and e.seq = 1
);
create index runs_by_parent on runs (parent_run) where parent_run is not null;
