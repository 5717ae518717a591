//! The `weft` command line (SPEC §4): flags, with environment variables as fallbacks.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Subcommand;

/// The server's commands; the `weft` binary adds `bench` to them.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API and the web UI and run the engine.
    Serve(Box<ServeArgs>),
    /// Create or upgrade the database's tables (`serve` does this too when it starts).
    Migrate {
        /// `sqlite://PATH` (created if missing) or `postgres://…`.
        #[arg(long, env = "WEFT_DATABASE_URL", default_value = "sqlite://weft.db")]
        database: String,
    },
    /// Write a consistent copy of a live SQLite database to FILE (for PostgreSQL use
    /// pg_dump).
    Backup {
        /// `sqlite://PATH` of the database to copy.
        #[arg(long, env = "WEFT_DATABASE_URL", default_value = "sqlite://weft.db")]
        database: String,
        /// Where to write the copy; must not exist.
        file: PathBuf,
    },
    /// Manage the users who sign in (SPEC §7); works on the database directly.
    User {
        #[command(subcommand)]
        command: UserCommand,
        /// `sqlite://PATH` or `postgres://…`.
        #[arg(
            long,
            env = "WEFT_DATABASE_URL",
            default_value = "sqlite://weft.db",
            global = true
        )]
        database: String,
    },
    /// Validate definition files; exits 1 if any has an error.
    Validate {
        /// Definition files (JSON).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// `weft user …`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user; the password is read from standard input (its first line).
    Add {
        name: String,
        /// viewer, approver, operator, editor or admin.
        #[arg(long)]
        role: String,
    },
    /// List the users.
    List,
    /// Remove a user (their sessions end).
    Remove { name: String },
    /// Change a user's role.
    SetRole { name: String, role: String },
}

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "WEFT_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// `sqlite://PATH` (created if missing) or `postgres://…`.
    #[arg(long, env = "WEFT_DATABASE_URL", default_value = "sqlite://weft.db")]
    pub database: String,
    /// The built SPA (Trunk's dist folder).
    #[arg(long, env = "WEFT_UI_DIR", default_value = "frontend/dist")]
    pub ui_dir: PathBuf,
    /// When set, every `/api` call needs `Authorization: Bearer <token>`.
    #[arg(long, env = "WEFT_API_TOKEN", hide_env_values = true)]
    pub api_token: Option<String>,
    /// Comma-separated `Host`s to answer besides `localhost`, `127.0.0.1`, `[::1]` and the
    /// listen address (`name` on any port, `name:port`, or `*` for any host). Any other host
    /// gets 421, so a page cannot reach the server through DNS rebinding. Listening on
    /// `0.0.0.0` or `[::]` without this answers every host.
    #[arg(long, env = "WEFT_ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_hosts: Vec<String>,
    /// Delete finished runs (with their events and child runs) whose last change is older
    /// than this (`30d`, `12h`); by default runs are kept.
    #[arg(long, env = "WEFT_RETENTION")]
    pub retention: Option<humantime::Duration>,
    /// The URL browsers reach the server at; an `https` one makes cookies `Secure`.
    #[arg(long, env = "WEFT_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// How long a signed-in session lasts unused (at most 7 days after sign-in in any case).
    #[arg(long, env = "WEFT_SESSION_TTL", default_value = "12h")]
    pub session_ttl: humantime::Duration,
    /// Single sign-on: the OpenID Connect issuer URL (discovered when the server starts; a
    /// provider that cannot be reached stops the start). Users sign in at
    /// `/api/auth/oidc/login`; the provider must allow the redirect URI
    /// `<public url>/api/auth/oidc/callback`.
    #[arg(long, env = "WEFT_OIDC_ISSUER", requires = "oidc_client_id")]
    pub oidc_issuer: Option<String>,
    /// The client id Weft has at the provider.
    #[arg(long, env = "WEFT_OIDC_CLIENT_ID")]
    pub oidc_client_id: Option<String>,
    /// The client secret (a confidential client; without one, PKCE alone protects the code).
    #[arg(long, env = "WEFT_OIDC_CLIENT_SECRET", hide_env_values = true)]
    pub oidc_client_secret: Option<String>,
    /// The claim (in the ID token, else userinfo) naming the user's Weft role: a string or an
    /// array of strings, each a role name or a group of `--oidc-role-map`; the highest wins.
    #[arg(long, env = "WEFT_OIDC_ROLE_CLAIM", default_value = "weft_role")]
    pub oidc_role_claim: String,
    /// Groups to roles, `groupA=editor,groupB=viewer`, for a claim that lists groups.
    #[arg(long, env = "WEFT_OIDC_ROLE_MAP", default_value = "")]
    pub oidc_role_map: String,
    /// The role of a user whose claim names none; unset, such a user is refused.
    #[arg(long, env = "WEFT_OIDC_DEFAULT_ROLE")]
    pub oidc_default_role: Option<String>,
    /// For tests only: a simulated clock and the `/_test` hooks that move it and inject
    /// store faults. Never in production.
    #[arg(long, env = "WEFT_TEST_HOOKS", hide = true, value_parser = clap::builder::BoolishValueParser::new())]
    pub test_hooks: bool,
}
