-- Who saved each workflow version and why, for the designer's history: `saved_by` is the
-- caller as the audit log names them (a user, `key:<name>`, `token`), null on an open server
-- and for versions saved before this column; `message` is the text given at save, null when
-- none was. Both are written once, with the version, and never changed.
alter table workflows add column saved_by text;
alter table workflows add column message text;
