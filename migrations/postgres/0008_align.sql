-- SQLite's 0007 turns on incremental vacuum, which PostgreSQL's autovacuum does by itself, so
-- the two dialects' numbers drifted one apart (finding runs is sqlite 0008, postgres 0007).
-- This empty step puts them in step again from 0009 (people and access) on.
select 1;
