-- The identity a single sign-on user is bound to (SPEC §7): the provider's issuer and `sub`,
-- which its users cannot change, unlike `preferred_username` or `email`. The first sign-in
-- binds it; a later sign-in under the same name from another subject is refused, so nobody
-- takes over a user (and the approvals naming them) by renaming themselves at the provider.
alter table users add column sso_subject text;
create unique index users_by_sso_subject on users (sso_subject) where sso_subject is not null;
