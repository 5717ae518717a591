//! Signed-in browsers: the `weft_session` cookie and its row. The cookie holds 256 random
//! bits; the store keeps their sha256, the user, and when the session ends: `--session-ttl`
//! after its last use, and never later than [`ABSOLUTE`] after sign-in. Times come from the
//! engine's clock, so a test's simulated clock expires sessions too.

use std::time::Duration;

use axum::http::HeaderMap;
use axum::http::header::COOKIE;

use super::secret;
use crate::clock::Millis;
use crate::store::{SessionRow, Store};

/// The cookie's name.
pub const COOKIE_NAME: &str = "weft_session";

/// The longest a session lasts, however busy.
pub const ABSOLUTE: Duration = Duration::from_secs(7 * 24 * 3600);

/// How stale a session's or key's last use may be before a request writes it again: a page
/// polling every second would otherwise write on every read.
pub const TOUCH_EVERY: Millis = 60_000;

/// The value of our cookie in a request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.trim().to_owned())
}

/// The `Set-Cookie` that gives a browser `value`: `HttpOnly` (no script reads it),
/// `SameSite=Strict` (no other site's page sends it), `Secure` behind https.
pub fn set_cookie(value: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE_NAME}={value}; Path=/; HttpOnly; SameSite=Strict{secure}")
}

/// The `Set-Cookie` that removes it.
pub fn clear_cookie(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE_NAME}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}")
}

/// When a session used at `now` ends.
fn expiry(created_at: Millis, now: Millis, ttl: Duration) -> Millis {
    let idle = now.saturating_add(ttl.as_millis() as i64);
    idle.min(created_at.saturating_add(ABSOLUTE.as_millis() as i64))
}

/// Starts a session for `user_id`; returns the cookie's value.
pub async fn start(
    store: &Store,
    user_id: &str,
    via: &str,
    now: Millis,
    ttl: Duration,
) -> Result<String, crate::store::Error> {
    let value = secret::random();
    let row = SessionRow {
        user_id: user_id.to_owned(),
        via: via.to_owned(),
        created_at: now,
        expires_at: expiry(now, now, ttl),
    };
    store.create_session(&secret::digest(&value), &row).await?;
    Ok(value)
}

/// Why a cookie does not sign a caller in.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("session expired: sign in again")]
    Expired,
    #[error(transparent)]
    Store(#[from] crate::store::Error),
}

/// The live session of cookie `value` and the hash it is stored under, its expiry moved on.
pub async fn resume(
    store: &Store,
    value: &str,
    now: Millis,
    ttl: Duration,
) -> Result<(String, SessionRow), Refused> {
    let id_hash = secret::digest(value);
    let Some(row) = store.session(&id_hash).await? else {
        return Err(Refused::Expired);
    };
    if row.expires_at <= now {
        store.end_session(&id_hash).await?;
        return Err(Refused::Expired);
    }
    let expires = expiry(row.created_at, now, ttl);
    if expires - row.expires_at >= TOUCH_EVERY {
        store.touch_session(&id_hash, now, expires).await?;
    }
    Ok((id_hash, row))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_ends_idle_or_at_the_cap() {
        let hour = Duration::from_secs(3600);
        assert_eq!(expiry(0, 1_000, hour), 1_000 + 3_600_000);
        let late = ABSOLUTE.as_millis() as i64 - 10;
        assert_eq!(expiry(0, late, hour), ABSOLUTE.as_millis() as i64);
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            COOKIE,
            "a=1; weft_session=abc; b=2".parse().expect("header"),
        );
        assert_eq!(cookie(&h).as_deref(), Some("abc"));
        assert!(set_cookie("x", true).ends_with("; Secure"));
    }
}
