-- Task tokens are random secrets (issue 13): a claim stores the SHA-256 of the token it hands
-- out, and a worker's complete / fail / heartbeat finds its task by that digest, in whichever
-- process it calls. Null while the task is queued; a task queued again loses it, so a token
-- of an earlier hand-out is stale. Tasks handed out before this migration have none: their
-- workers' old tokens are stale and their leases run out into a retry.
alter table tasks add column token_hash bytea;
create unique index tasks_by_token on tasks (token_hash);
