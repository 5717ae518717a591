-- PostgreSQL's 0002 adds `tasks.token_hash`. On SQLite the task queue and its leases live in
-- the one process's memory (backend/src/cluster/local.rs), so there is nothing to store; this
-- file keeps the two dialects' version numbers in step.
select 1;
