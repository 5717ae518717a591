//! The tables of people and access (SPEC §7): `users`, `sessions`, `api_keys`,
//! `login_failures` and `audit`. Only hashes of secrets reach them (argon2id PHC strings for
//! passwords, hex sha256 for session cookies and keys), so a copy of the database lets nobody
//! sign in. Sessions and failures live here rather than in a process's memory so that several
//! processes on one PostgreSQL database, and a restarted one, agree on them. [`people_sql!`]
//! stamps the methods out for each database, like `common_sql!`.

use crate::clock::Millis;

/// A user as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct UserRow {
    pub id: String,
    pub name: String,
    pub role: String,
    /// The argon2id PHC string.
    pub password: Option<String>,
    pub created_at: Millis,
    pub last_login_at: Option<Millis>,
    /// A single sign-on user's `<issuer> <sub>`, bound at their first sign-in.
    pub sso_subject: Option<String>,
}

/// A signed-in browser, by the hash of its cookie.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRow {
    pub user_id: String,
    pub via: String,
    pub created_at: Millis,
    pub expires_at: Millis,
}

/// An API key as stored: its hash and a prefix, never the key.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyRow {
    pub id: String,
    pub name: String,
    pub role: String,
    pub key_hash: String,
    pub prefix: String,
    pub created_by: String,
    pub created_at: Millis,
    pub last_used_at: Option<Millis>,
    pub revoked_at: Option<Millis>,
}

/// One change to record in the audit log.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRow {
    pub id: i64,
    pub at: Millis,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub outcome: String,
    pub ip: Option<String>,
    pub details: serde_json::Value,
}

/// Which audit rows to read, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub since: Option<Millis>,
    /// Rows with an id below this (the previous page's last).
    pub before_id: Option<i64>,
    pub limit: i64,
}

/// Defines the people methods on `$store` (database `$db`, rows `$row`, write transactions
/// from `self.$begin()`).
macro_rules! people_sql {
    ($store:ty, $db:ty, $row:ty, $begin:ident) => {
        fn user_row(r: $row) -> crate::store::Result<crate::store::UserRow> {
            use sqlx::Row;
            Ok(crate::store::UserRow {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                role: r.try_get("role")?,
                password: r.try_get("password")?,
                created_at: r.try_get("created_at")?,
                last_login_at: r.try_get("last_login_at")?,
                sso_subject: r.try_get("sso_subject")?,
            })
        }

        fn key_row(r: $row) -> crate::store::Result<crate::store::KeyRow> {
            use sqlx::Row;
            Ok(crate::store::KeyRow {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                role: r.try_get("role")?,
                key_hash: r.try_get("key_hash")?,
                prefix: r.try_get("prefix")?,
                created_by: r.try_get("created_by")?,
                created_at: r.try_get("created_at")?,
                last_used_at: r.try_get("last_used_at")?,
                revoked_at: r.try_get("revoked_at")?,
            })
        }

        const USER_COLUMNS: &str =
            "select id, name, role, password, created_at, last_login_at, sso_subject from users";
        const KEY_COLUMNS: &str = "select id, name, role, key_hash, prefix, created_by, \
             created_at, last_used_at, revoked_at from api_keys";

        impl $store {
            /// How many users and keys exist or ever did: none means the server is open. A
            /// revoked key keeps its row, and every user ever added is in the audit log
            /// (never pruned), so removing the last user or revoking the last key (a leaked
            /// one, say) never opens the server again.
            pub(in crate::store) async fn count_identities(&self) -> crate::store::Result<i64> {
                let n: i64 = sqlx::query_scalar(
                    "select (select count(*) from users) + (select count(*) from api_keys) + \
                     (select count(*) from audit where action in ('user.added', 'key.created'))",
                )
                .fetch_one(&self.pool)
                .await?;
                Ok(n)
            }

            /// Adds a user; false if the name is taken.
            pub(in crate::store) async fn add_user(
                &self,
                u: &crate::store::UserRow,
            ) -> crate::store::Result<bool> {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "insert into users (id, name, role, password, created_at, updated_at, sso_subject) values (",
                );
                let mut v = q.separated(", ");
                v.push_bind(u.id.clone())
                    .push_bind(u.name.clone())
                    .push_bind(u.role.clone())
                    .push_bind(u.password.clone())
                    .push_bind(u.created_at)
                    .push_bind(u.created_at)
                    .push_bind(u.sso_subject.clone());
                q.push(") on conflict (name) do nothing");
                Ok(q.build().execute(&self.pool).await?.rows_affected() > 0)
            }

            /// Every user, by name.
            pub(in crate::store) async fn users(
                &self,
            ) -> crate::store::Result<Vec<crate::store::UserRow>> {
                let mut q = sqlx::QueryBuilder::<$db>::new(USER_COLUMNS);
                let rows = q.push(" order by name").build().fetch_all(&self.pool).await?;
                rows.into_iter().map(user_row).collect()
            }

            /// The user called `name` (`by_name`) or with id `name`.
            pub(in crate::store) async fn user(
                &self,
                key: &str,
                by_name: bool,
            ) -> crate::store::Result<Option<crate::store::UserRow>> {
                let mut q = sqlx::QueryBuilder::<$db>::new(USER_COLUMNS);
                q.push(if by_name { " where name = " } else { " where id = " })
                    .push_bind(key.to_owned());
                q.build()
                    .fetch_optional(&self.pool)
                    .await?
                    .map(user_row)
                    .transpose()
            }

            /// Changes a user's role and/or password hash; false if there is no such user. A
            /// new password ends the user's sessions in the same transaction: whoever knew the
            /// old one is signed out everywhere.
            pub(in crate::store) async fn update_user(
                &self,
                name: &str,
                role: Option<&str>,
                password: Option<&str>,
                now: crate::clock::Millis,
            ) -> crate::store::Result<bool> {
                let mut tx = self.$begin().await?;
                if password.is_some() {
                    let mut q = sqlx::QueryBuilder::<$db>::new(
                        "delete from sessions where user_id in (select id from users where name = ",
                    );
                    q.push_bind(name.to_owned()).push(")");
                    q.build().execute(&mut *tx).await?;
                }
                let mut q = sqlx::QueryBuilder::<$db>::new("update users set updated_at = ");
                q.push_bind(now);
                if let Some(role) = role {
                    q.push(", role = ").push_bind(role.to_owned());
                }
                if let Some(password) = password {
                    q.push(", password = ").push_bind(password.to_owned());
                }
                q.push(" where name = ").push_bind(name.to_owned());
                let found = q.build().execute(&mut *tx).await?.rows_affected() > 0;
                tx.commit().await?;
                Ok(found)
            }

            /// Removes a user and their sessions; false if there is no such user.
            pub(in crate::store) async fn remove_user(
                &self,
                name: &str,
            ) -> crate::store::Result<bool> {
                let mut tx = self.$begin().await?;
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "delete from sessions where user_id in (select id from users where name = ",
                );
                q.push_bind(name.to_owned()).push(")");
                q.build().execute(&mut *tx).await?;
                let mut q = sqlx::QueryBuilder::<$db>::new("delete from users where name = ");
                q.push_bind(name.to_owned());
                let gone = q.build().execute(&mut *tx).await?.rows_affected() > 0;
                tx.commit().await?;
                Ok(gone)
            }

            /// Binds single sign-on user `id`, made before subjects were kept, to `subject`;
            /// false if it is bound already (or the subject is another user's).
            pub(in crate::store) async fn bind_subject(
                &self,
                id: &str,
                subject: &str,
            ) -> crate::store::Result<bool> {
                let mut q = sqlx::QueryBuilder::<$db>::new("update users set sso_subject = ");
                q.push_bind(subject.to_owned())
                    .push(" where sso_subject is null and id = ")
                    .push_bind(id.to_owned())
                    .push(" and not exists (select 1 from users where sso_subject = ")
                    .push_bind(subject.to_owned())
                    .push(")");
                Ok(q.build().execute(&self.pool).await?.rows_affected() > 0)
            }

            /// Records a successful sign-in.
            pub(in crate::store) async fn touch_login(
                &self,
                user_id: &str,
                now: crate::clock::Millis,
            ) -> crate::store::Result<()> {
                let mut q = sqlx::QueryBuilder::<$db>::new("update users set last_login_at = ");
                q.push_bind(now).push(" where id = ").push_bind(user_id.to_owned());
                q.build().execute(&self.pool).await?;
                Ok(())
            }

            /// Stores a new session under the hash of its cookie.
            pub(in crate::store) async fn create_session(
                &self,
                id_hash: &str,
                s: &crate::store::SessionRow,
            ) -> crate::store::Result<()> {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "insert into sessions (id_hash, user_id, via, created_at, last_seen_at, expires_at) values (",
                );
                let mut v = q.separated(", ");
                v.push_bind(id_hash.to_owned())
                    .push_bind(s.user_id.clone())
                    .push_bind(s.via.clone())
                    .push_bind(s.created_at)
                    .push_bind(s.created_at)
                    .push_bind(s.expires_at);
                q.push(")");
                q.build().execute(&self.pool).await?;
                Ok(())
            }

            /// The session whose cookie hashes to `id_hash`.
            pub(in crate::store) async fn session(
                &self,
                id_hash: &str,
            ) -> crate::store::Result<Option<crate::store::SessionRow>> {
                use sqlx::Row;
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "select user_id, via, created_at, expires_at from sessions where id_hash = ",
                );
                q.push_bind(id_hash.to_owned());
                let Some(r) = q.build().fetch_optional(&self.pool).await? else {
                    return Ok(None);
                };
                Ok(Some(crate::store::SessionRow {
                    user_id: r.try_get("user_id")?,
                    via: r.try_get("via")?,
                    created_at: r.try_get("created_at")?,
                    expires_at: r.try_get("expires_at")?,
                }))
            }

            /// Moves a session's expiry on (it was used at `now`).
            pub(in crate::store) async fn touch_session(
                &self,
                id_hash: &str,
                now: crate::clock::Millis,
                expires_at: crate::clock::Millis,
            ) -> crate::store::Result<()> {
                let mut q = sqlx::QueryBuilder::<$db>::new("update sessions set last_seen_at = ");
                q.push_bind(now)
                    .push(", expires_at = ")
                    .push_bind(expires_at)
                    .push(" where id_hash = ")
                    .push_bind(id_hash.to_owned());
                q.build().execute(&self.pool).await?;
                Ok(())
            }

            /// Ends a session (logout, or found expired).
            pub(in crate::store) async fn end_session(
                &self,
                id_hash: &str,
            ) -> crate::store::Result<()> {
                let mut q = sqlx::QueryBuilder::<$db>::new("delete from sessions where id_hash = ");
                q.push_bind(id_hash.to_owned());
                q.build().execute(&self.pool).await?;
                Ok(())
            }

            /// Deletes sessions that ended before `now` and failure counts last added to
            /// before `quiet_since`, so neither table grows with time.
            pub(in crate::store) async fn forget_stale(
                &self,
                now: crate::clock::Millis,
                quiet_since: crate::clock::Millis,
            ) -> crate::store::Result<()> {
                let mut tx = self.$begin().await?;
                let mut q = sqlx::QueryBuilder::<$db>::new("delete from sessions where expires_at < ");
                q.push_bind(now);
                q.build().execute(&mut *tx).await?;
                let mut q =
                    sqlx::QueryBuilder::<$db>::new("delete from login_failures where last_at < ");
                q.push_bind(quiet_since);
                q.build().execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }

            /// Stores a new key (its hash).
            pub(in crate::store) async fn create_key(
                &self,
                k: &crate::store::KeyRow,
            ) -> crate::store::Result<()> {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "insert into api_keys (id, name, role, key_hash, prefix, created_by, created_at) values (",
                );
                let mut v = q.separated(", ");
                v.push_bind(k.id.clone())
                    .push_bind(k.name.clone())
                    .push_bind(k.role.clone())
                    .push_bind(k.key_hash.clone())
                    .push_bind(k.prefix.clone())
                    .push_bind(k.created_by.clone())
                    .push_bind(k.created_at);
                q.push(")");
                q.build().execute(&self.pool).await?;
                Ok(())
            }

            /// Every key, newest first.
            pub(in crate::store) async fn keys(
                &self,
            ) -> crate::store::Result<Vec<crate::store::KeyRow>> {
                let mut q = sqlx::QueryBuilder::<$db>::new(KEY_COLUMNS);
                q.push(" order by created_at desc, id desc");
                let rows = q.build().fetch_all(&self.pool).await?;
                rows.into_iter().map(key_row).collect()
            }

            /// The key whose hash is `key_hash`, revoked or not.
            pub(in crate::store) async fn key_by_hash(
                &self,
                key_hash: &str,
            ) -> crate::store::Result<Option<crate::store::KeyRow>> {
                let mut q = sqlx::QueryBuilder::<$db>::new(KEY_COLUMNS);
                q.push(" where key_hash = ").push_bind(key_hash.to_owned());
                q.build()
                    .fetch_optional(&self.pool)
                    .await?
                    .map(key_row)
                    .transpose()
            }

            /// Revokes a live key; false if there is no such live key.
            pub(in crate::store) async fn revoke_key(
                &self,
                id: &str,
                now: crate::clock::Millis,
            ) -> crate::store::Result<bool> {
                let mut q = sqlx::QueryBuilder::<$db>::new("update api_keys set revoked_at = ");
                q.push_bind(now)
                    .push(" where revoked_at is null and id = ")
                    .push_bind(id.to_owned());
                Ok(q.build().execute(&self.pool).await?.rows_affected() > 0)
            }

            /// Records that a key was used at `now`, at most once a minute per key.
            pub(in crate::store) async fn touch_key(
                &self,
                id: &str,
                now: crate::clock::Millis,
            ) -> crate::store::Result<()> {
                let mut q = sqlx::QueryBuilder::<$db>::new("update api_keys set last_used_at = ");
                q.push_bind(now)
                    .push(" where id = ")
                    .push_bind(id.to_owned())
                    .push(" and (last_used_at is null or last_used_at < ")
                    .push_bind(now - 60_000)
                    .push(")");
                q.build().execute(&self.pool).await?;
                Ok(())
            }

            /// Counts a failure under `key` at `now`; a count whose first failure is before
            /// `since` starts again. The count and its first failure's time, as one statement
            /// left them (so two sign-ins at once each see their own).
            pub(in crate::store) async fn add_failure(
                &self,
                key: &str,
                now: crate::clock::Millis,
                since: crate::clock::Millis,
            ) -> crate::store::Result<(i64, crate::clock::Millis)> {
                use sqlx::Row;
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "insert into login_failures (key, failures, first_at, last_at) values (",
                );
                q.push_bind(key.to_owned())
                    .push(", 1, ")
                    .push_bind(now)
                    .push(", ")
                    .push_bind(now)
                    .push(
                        ") on conflict (key) do update set \
                         failures = case when login_failures.first_at < ",
                    )
                    .push_bind(since)
                    .push(" then 1 else login_failures.failures + 1 end, first_at = case when login_failures.first_at < ")
                    .push_bind(since)
                    .push(" then excluded.first_at else login_failures.first_at end, last_at = excluded.last_at")
                    .push(" returning failures, first_at");
                let r = q.build().fetch_one(&self.pool).await?;
                Ok((r.try_get("failures")?, r.try_get("first_at")?))
            }

            /// Takes back one failure counted under `key` (a sign-in that succeeded after all).
            pub(in crate::store) async fn forgive_failure(&self, key: &str) -> crate::store::Result<()> {
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "update login_failures set failures = failures - 1 where failures > 0 and key = ",
                );
                q.push_bind(key.to_owned());
                q.build().execute(&self.pool).await?;
                Ok(())
            }

            /// Forgets the failures under `key` (a successful sign-in).
            pub(in crate::store) async fn clear_failures(&self, key: &str) -> crate::store::Result<()> {
                let mut q = sqlx::QueryBuilder::<$db>::new("delete from login_failures where key = ");
                q.push_bind(key.to_owned());
                q.build().execute(&self.pool).await?;
                Ok(())
            }

            /// Appends rows to the audit log in one statement (`id`s are assigned in order).
            pub(in crate::store) async fn audit(
                &self,
                rows: &[crate::store::AuditRow],
            ) -> crate::store::Result<()> {
                if rows.is_empty() {
                    return Ok(());
                }
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "insert into audit (at, actor, action, target, outcome, ip, details) ",
                );
                q.push_values(rows, |mut v, a| {
                    v.push_bind(a.at)
                        .push_bind(a.actor.clone())
                        .push_bind(a.action.clone())
                        .push_bind(a.target.clone())
                        .push_bind(a.outcome.clone())
                        .push_bind(a.ip.clone())
                        .push_bind(crate::store::json_text(&a.details));
                });
                q.build().execute(self.audit_pool()).await?;
                Ok(())
            }

            /// Audit rows matching `f`, newest first.
            pub(in crate::store) async fn audit_log(
                &self,
                f: &crate::store::AuditFilter,
            ) -> crate::store::Result<Vec<crate::store::AuditRow>> {
                use sqlx::Row;
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "select id, at, actor, action, target, outcome, ip, details from audit where 1 = 1",
                );
                if let Some(actor) = &f.actor {
                    q.push(" and actor = ").push_bind(actor.clone());
                }
                if let Some(action) = &f.action {
                    q.push(" and action = ").push_bind(action.clone());
                }
                if let Some(since) = f.since {
                    q.push(" and at >= ").push_bind(since);
                }
                if let Some(before) = f.before_id {
                    q.push(" and id < ").push_bind(before);
                }
                q.push(" order by id desc limit ").push_bind(f.limit);
                let rows = q.build().fetch_all(&self.pool).await?;
                rows.into_iter()
                    .map(|r| {
                        Ok(crate::store::AuditRow {
                            id: r.try_get("id")?,
                            at: r.try_get("at")?,
                            actor: r.try_get("actor")?,
                            action: r.try_get("action")?,
                            target: r.try_get("target")?,
                            outcome: r.try_get("outcome")?,
                            ip: r.try_get("ip")?,
                            details: crate::store::parse_json(r.try_get("details")?)?,
                        })
                    })
                    .collect()
            }
        }
    };
}

pub(super) use people_sql;
