-- Who made a bulk batch (SPEC §7): a batch's redrives start runs on that person's behalf, so
-- the self-approval rule knows them. Null for batches made before this column and on an
-- open server.
alter table batches add column created_by text;
