//! People and access (SPEC §7): who a caller is ([`Principal`]), what each route needs
//! ([`policy`]), and the layer that decides between them for every `/api` request
//! ([`authenticate`]).
//!
//! A caller proves who it is with `WEFT_API_TOKEN` (an admin, as before users existed), an API
//! key, or the cookie of a signed-in session; with no user, key or token at all the server is
//! open and every caller is the admin `local`, which keeps a laptop install as simple as it
//! was. The stores keep only hashes of secrets ([`secret`]). Every change a caller makes is
//! recorded in the audit log ([`audit`]), by the same layer, from the policy table's action
//! names, so a new route cannot forget it.
//!
//! Sessions are our own table rather than tower-sessions: its sqlx store pins sqlx 0.8 and
//! would bring a second SQLite, and ours follows the engine's clock (tests can expire it) and
//! works across processes on PostgreSQL.

pub mod audit;
mod authenticate;
pub mod cli;
pub mod oidc;
pub mod policy;
pub mod secret;
pub mod sessions;
pub mod users;

use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub use authenticate::authenticate;
use shared::access::Role;

/// Who is calling, once [`authenticate`] has decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// What the audit log calls the caller: a user's name, `key:<name>`, `token`, `local`.
    pub actor: String,
    pub role: Role,
    pub via: Via,
}

/// How a caller proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// Nobody is configured: everyone is the admin `local`.
    Open,
    /// `WEFT_API_TOKEN`.
    Token,
    /// An API key, by id.
    Key(String),
    /// A session cookie of a password sign-in, by the hash the store keeps.
    Session(String),
    /// A session cookie of a single sign-on (OpenID Connect), by the hash the store keeps.
    Sso(String),
}

impl Via {
    /// The wire name (`GET /api/auth/me`'s `via`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Via::Open => "open",
            Via::Token => "token",
            Via::Key(_) => "key",
            Via::Session(_) => "password",
            Via::Sso(_) => "oidc",
        }
    }
}

/// The server's access settings, and what it remembers between requests.
pub struct Access {
    /// `WEFT_API_TOKEN`: when set, an admin credential, and the server is never open.
    pub token: Option<Arc<str>>,
    /// How long a session lasts unused (`--session-ttl`).
    pub session_ttl: Duration,
    /// Whether cookies carry `Secure` (`--public-url` is https).
    pub secure_cookies: bool,
    /// The OpenID provider (`--oidc-issuer`), when single sign-on is on.
    pub oidc: Option<oidc::Oidc>,
    /// Whether the store never had a user or a key, and when that was last asked.
    open: Mutex<Option<(Instant, bool)>>,
    /// The audit rows of `/api` writes, written in groups.
    pub audit: audit::Group,
}

/// How long [`Access::is_open`] trusts its last answer: a user added from another process
/// (`weft user add`) closes the server within this.
const OPEN_RECHECK: Duration = Duration::from_secs(1);

impl Access {
    pub fn new(token: Option<Arc<str>>, session_ttl: Duration, secure_cookies: bool) -> Access {
        Access {
            token,
            session_ttl,
            secure_cookies,
            oidc: None,
            open: Mutex::new(None),
            audit: audit::Group::default(),
        }
    }

    /// The same, with single sign-on through `oidc`.
    pub fn with_oidc(mut self, oidc: Option<oidc::Oidc>) -> Access {
        self.oidc = oidc;
        self
    }

    /// Whether no token exists and no user or key ever did, asked of the store at most once
    /// a second. Once closed, a server stays closed: removing every user would otherwise
    /// make every anonymous caller an admin. A server with single sign-on is never open:
    /// configuring a provider says who may come in.
    pub async fn is_open(&self, store: &crate::store::Store) -> Result<bool, crate::store::Error> {
        if self.token.is_some() || self.oidc.is_some() {
            return Ok(false);
        }
        let cached = *self.open.lock().expect("open cache");
        if let Some((at, open)) = cached
            && at.elapsed() < OPEN_RECHECK
        {
            return Ok(open);
        }
        let open = store.count_identities().await? == 0;
        *self.open.lock().expect("open cache") = Some((Instant::now(), open));
        Ok(open)
    }

    /// Forgets the cached answer of [`Access::is_open`] (this process added or removed someone).
    pub fn changed(&self) {
        *self.open.lock().expect("open cache") = None;
    }
}
