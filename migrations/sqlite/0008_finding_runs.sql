-- Finding runs (SPEC §6, issue 18). A run waiting for a person (an approval or a `signal`
-- node) is marked in its index row at each commit; runs waiting since before this migration
-- are marked at their next event.
alter table runs add column needs_person integer not null default 0;
create index runs_needing_person on runs (created_at desc, id desc) where needs_person = 1;
