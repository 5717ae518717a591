-- no-transaction
-- Retention (SPEC §6, issue 15): pages freed by pruned runs go back to the file system
-- (`PRAGMA incremental_vacuum` after each pruning pass) instead of staying in the file. The
-- mode of an existing file only changes with a VACUUM, done once here.
PRAGMA auto_vacuum = INCREMENTAL;
VACUUM;
