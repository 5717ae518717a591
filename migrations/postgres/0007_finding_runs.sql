-- Finding runs (SPEC §6, issue 18). A run waiting for a person (an approval or a `signal`
-- node) is marked in its index row at each commit; runs waiting since before this migration
-- are marked at their next event.
alter table runs add column needs_person boolean not null default false;
create index runs_needing_person on runs (created_at desc, id desc) where needs_person;
-- `id_prefix`: `like 'prefix%'` uses a btree only with pattern ops under a non-C collation.
create index runs_by_id_pattern on runs (id text_pattern_ops);
-- `input.<path>=<value>`: containment on the input as jsonb.
create index runs_by_input on runs using gin ((input::jsonb) jsonb_path_ops);
