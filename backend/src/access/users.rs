//! Adding users, shared by `weft user add` and `POST /api/users`: one rule for names and
//! passwords, and the hash made on the blocking pool.

use shared::access::Role;

use super::secret;
use crate::clock::Millis;
use crate::store::{Store, UserRow};

/// Why a user was not added.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "a user name is 1 to 64 characters: lower-case letters, digits and `.`, `_`, `-`, `@`; \
         `token` and `local` name the API token and an open server's caller"
    )]
    BadName,
    #[error("the password is empty")]
    EmptyPassword,
    #[error("there is already a user called `{0}`")]
    Taken(String),
    #[error(transparent)]
    Secret(#[from] secret::Error),
    #[error(transparent)]
    Store(#[from] crate::store::Error),
}

/// Names the log already gives to callers who are not users (SPEC §7's `by`).
const RESERVED: [&str; 2] = ["token", "local"];

/// Whether `name` may name a user (lower case, so names compare as people expect; not one of
/// the [`RESERVED`] callers, which a run's `by` and the audit log would confuse with them).
pub fn valid_name(name: &str) -> bool {
    !RESERVED.contains(&name)
        && (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-@".contains(c))
}

/// Adds user `name` with `role` and `password`.
pub async fn add(
    store: &Store,
    name: &str,
    role: Role,
    password: String,
    now: Millis,
) -> Result<UserRow, Error> {
    if !valid_name(name) {
        return Err(Error::BadName);
    }
    if password.is_empty() {
        return Err(Error::EmptyPassword);
    }
    let row = UserRow {
        id: uuid::Uuid::now_v7().to_string(),
        name: name.to_owned(),
        role: role.as_str().to_owned(),
        password: Some(secret::hash_password(password).await?),
        created_at: now,
        last_login_at: None,
        sso_subject: None,
    };
    if !store.add_user(&row).await? {
        return Err(Error::Taken(name.to_owned()));
    }
    Ok(row)
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_lower_case_words() {
        assert!(super::valid_name("alice.b@example-1"));
        assert!(!super::valid_name("Alice"));
        assert!(!super::valid_name(""));
        assert!(!super::valid_name("a b"));
        assert!(!super::valid_name("token") && !super::valid_name("local"));
        assert!(super::valid_name("tokens"));
    }
}
