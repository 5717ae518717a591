-- Redrive (SPEC §6, issue 15): a run that redrives a finished one names it, so the original
-- can list the runs that redrove it (`redriven_by`) without reading every log.
alter table runs add column redrive_of text;
create index runs_by_redrive on runs (redrive_of) where redrive_of is not null;
