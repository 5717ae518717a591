-- Test runs (SPEC §6 "Test runs", issue 17): a run of a definition that need not be saved,
-- with some nodes stubbed. Its definition is kept as version 1 of a hidden, archived name
-- (`<name>~test~<run id>`, never a valid workflow name), so runs stay pinned to a stored
-- version; the run's row is marked, lists leave it out unless asked, and a day after it
-- began it is pruned together with that definition.
alter table runs add column test boolean not null default false;
create index runs_tests on runs (created_at) where test;
