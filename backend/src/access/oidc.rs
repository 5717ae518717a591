//! Single sign-on with OpenID Connect (SPEC §7): the authorization code flow with PKCE
//! (S256), the provider found by discovery when the server starts, the ID token checked by
//! the `openidconnect` crate (signature against the provider's keys, issuer, audience, nonce,
//! expiry) and the caller's role read from one claim.
//!
//! Nothing is kept in memory between the two legs of a sign-in: `state`, `nonce` and the PKCE
//! verifier travel in the short-lived `weft_oidc` cookie, signed with a key derived from the
//! client secret, so any process of a cluster can finish a sign-in another one began. The
//! cookie is `SameSite=Lax` (the provider's redirect back is a cross-site navigation, which a
//! `Strict` cookie would not be sent on) and scoped to `/api/auth/oidc`.
//!
//! The role claim (`--oidc-role-claim`, in the ID token or else in userinfo) is a string or an
//! array of strings. Each string is looked up in `--oidc-role-map` (group names, as Grafana
//! and Temporal users map them) and otherwise read as a role name; the highest wins. A claim
//! that names no role gets `--oidc-default-role`, or the sign-in is refused.
//!
//! Our reqwest (0.13) is plugged in through [`Http`]: the crate's own adapter is for 0.12.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AsyncHttpClient, AuthorizationCode, Client, ClientId, ClientSecret,
    CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, HttpRequest,
    HttpResponse, IdTokenFields, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, StandardErrorResponse, StandardTokenResponse,
    TokenResponse, UserInfoClaims,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use shared::access::Role;
use subtle::ConstantTimeEq;

use crate::clock::Millis;

/// The pending sign-in's cookie.
pub const COOKIE_NAME: &str = "weft_oidc";
/// The path the pending cookie is sent on (the callback's).
const COOKIE_PATH: &str = "/api/auth/oidc";
/// How long a sign-in may take at the provider.
pub const PENDING: Duration = Duration::from_secs(10 * 60);
/// Where the provider sends the browser back, under the public URL.
pub const CALLBACK_PATH: &str = "/api/auth/oidc/callback";

/// Every claim the crate does not model, so the role claim can be any name.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Extra {
    #[serde(flatten)]
    claims: Map<String, Value>,
}

impl AdditionalClaims for Extra {}

type TokenFields = IdTokenFields<
    Extra,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

/// The crate's `CoreClient`, with [`Extra`] claims, as discovery leaves it (authorization URL
/// set; token and userinfo URLs if the provider names them).
type OidcClient = Client<
    Extra,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    StandardTokenResponse<TokenFields, CoreTokenType>,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// What `weft serve` was told (`--oidc-*`).
#[derive(Debug, Clone)]
pub struct Settings {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    /// `<public url>/api/auth/oidc/callback`.
    pub redirect_url: String,
    pub role_claim: String,
    /// `group=role` pairs.
    pub role_map: Vec<(String, Role)>,
    pub default_role: Option<Role>,
}

/// Reads `--oidc-role-map` (`groupA=editor,groupB=viewer`).
pub fn parse_role_map(text: &str) -> Result<Vec<(String, Role)>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (group, role) = pair
                .rsplit_once('=')
                .ok_or_else(|| format!("`{pair}` is not `group=role`"))?;
            let role = Role::parse(role.trim())
                .ok_or_else(|| format!("`{role}` in `{pair}` is not a role"))?;
            Ok((group.trim().to_owned(), role))
        })
        .collect()
}

/// A configured provider.
pub struct Oidc {
    client: OidcClient,
    http: Http,
    role_claim: String,
    role_map: Vec<(String, Role)>,
    default_role: Option<Role>,
    /// Signs the pending cookie: from the client secret, so every process agrees.
    key: [u8; 32],
}

/// Who signed in, as the provider says.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The Weft user name: `preferred_username`, else `email`, else `sub`, lower-cased.
    pub name: String,
    /// `<issuer> <sub>`: who this is whatever name they go by (the user is bound to it).
    pub subject: String,
    pub role: Role,
}

/// Why a sign-in was refused. The message is shown to the person signing in.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(
        "this sign-in was not started here or took too long (the state does not match): start again"
    )]
    BadState,
    #[error("the identity provider refused the sign-in: {0}")]
    Provider(String),
    #[error("the identity provider's answer could not be checked: {0}")]
    Token(String),
    #[error("{name} may not use Weft: the `{claim}` claim names no Weft role")]
    NoRole { name: String, claim: String },
    #[error("the identity provider gave no usable user name (`{0}`)")]
    BadName(String),
    #[error("`{0}` is a password user here; single sign-on cannot take that name over")]
    PasswordUser(String),
    #[error(
        "`{0}` is another single sign-on user here (a different account at the identity provider); ask an admin"
    )]
    OtherSubject(String),
}

impl Failure {
    /// The user name, when the provider got as far as telling it.
    pub fn name(&self) -> Option<&str> {
        match self {
            Failure::NoRole { name, .. }
            | Failure::PasswordUser(name)
            | Failure::OtherSubject(name) => Some(name),
            _ => None,
        }
    }
}

/// The provider's redirect back: `code` and `state`, or `error`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Callback {
    /// The authorization code to exchange.
    pub code: Option<String>,
    /// Must match the `state` of the sign-in this browser started.
    pub state: Option<String>,
    /// Set instead of `code` when the provider refused.
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// What the pending cookie carries (signed, not secret from its own browser).
#[derive(Serialize, Deserialize)]
struct Pending {
    state: String,
    nonce: String,
    verifier: String,
    return_to: String,
    expires_at: Millis,
}

impl Oidc {
    /// Discovers the provider at `settings.issuer`: an error says what is wrong, so the server
    /// can refuse to start.
    pub async fn discover(settings: Settings) -> anyhow::Result<Oidc> {
        let http = Http::new()?;
        let issuer = IssuerUrl::new(settings.issuer.clone())
            .map_err(|e| anyhow::anyhow!("--oidc-issuer `{}`: {e}", settings.issuer))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &http)
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "OpenID Connect discovery at {} failed: {}",
                    settings.issuer,
                    chain(&e)
                )
            })?;
        if metadata.token_endpoint().is_none() {
            anyhow::bail!(
                "the OpenID provider {} names no token endpoint",
                settings.issuer
            );
        }
        let redirect = RedirectUrl::new(settings.redirect_url.clone())
            .map_err(|e| anyhow::anyhow!("redirect URL `{}`: {e}", settings.redirect_url))?;
        let mut key = [0u8; 32];
        match &settings.client_secret {
            Some(secret) => key.copy_from_slice(
                &Sha256::new()
                    .chain_update(b"weft oidc pending sign-in\0")
                    .chain_update(secret.as_bytes())
                    .finalize(),
            ),
            // A public client: each process signs its own (a sign-in must end where it began).
            None => getrandom::fill(&mut key).expect("the operating system's random source"),
        }
        let client = OidcClient::from_provider_metadata(
            metadata,
            ClientId::new(settings.client_id),
            settings.client_secret.map(ClientSecret::new),
        )
        .set_redirect_uri(redirect);
        Ok(Oidc {
            client,
            http,
            role_claim: settings.role_claim,
            role_map: settings.role_map,
            default_role: settings.default_role,
            key,
        })
    }

    /// Starts a sign-in: the provider's URL to send the browser to, and the pending cookie's
    /// value. `return_to` is a path on this server (anything else becomes `/`).
    pub fn begin(&self, return_to: Option<&str>, now: Millis) -> (String, String) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = self
            .client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".to_owned()))
            .add_scope(Scope::new("email".to_owned()))
            .set_pkce_challenge(challenge)
            .url();
        let pending = Pending {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
            return_to: local_path(return_to).to_owned(),
            expires_at: now + PENDING.as_millis() as i64,
        };
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&pending).expect("plain fields"));
        let sig = URL_SAFE_NO_PAD.encode(self.sign(&body));
        (url.to_string(), format!("{body}.{sig}"))
    }

    /// Finishes a sign-in: checks the pending cookie against `state`, exchanges the code,
    /// verifies the ID token and reads the role. Returns who signed in and where to go next.
    pub async fn finish(
        &self,
        cookie: Option<&str>,
        back: &Callback,
        now: Millis,
    ) -> Result<(Identity, String), Failure> {
        let pending = cookie
            .and_then(|c| self.open(c))
            .filter(|p| p.expires_at > now)
            .ok_or(Failure::BadState)?;
        let state = back.state.as_deref().unwrap_or_default();
        if !bool::from(state.as_bytes().ct_eq(pending.state.as_bytes())) {
            return Err(Failure::BadState);
        }
        if let Some(error) = &back.error {
            let detail = back.error_description.as_deref().unwrap_or_default();
            return Err(Failure::Provider(
                format!("{error} {detail}").trim().to_owned(),
            ));
        }
        let code = back
            .code
            .clone()
            .ok_or_else(|| Failure::Provider("no code in the redirect".to_owned()))?;
        let tokens = self
            .client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| Failure::Token(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier))
            .request_async(&self.http)
            .await
            .map_err(|e| Failure::Token(format!("the code exchange failed: {}", chain(&e))))?;
        let id_token = tokens
            .id_token()
            .ok_or_else(|| Failure::Token("no ID token in the answer".to_owned()))?;
        let verifier = self.client.id_token_verifier();
        let claims = id_token
            .claims(&verifier, &Nonce::new(pending.nonce))
            .map_err(|e| Failure::Token(format!("the ID token is not valid: {}", chain(&e))))?;
        let subject = claims.subject().as_str().to_owned();
        let bound = format!("{} {subject}", claims.issuer().as_str());
        let mut found = claims
            .additional_claims()
            .claims
            .get(&self.role_claim)
            .cloned();
        let mut name = claims
            .preferred_username()
            .map(|n| n.as_str().to_owned())
            .or_else(|| claims.email().map(|e| e.as_str().to_owned()));
        if found.is_none() || name.is_none() {
            // Many providers put the profile and groups in userinfo only.
            if let Ok(request) = self.client.user_info(
                tokens.access_token().clone(),
                Some(claims.subject().clone()),
            ) {
                let info: UserInfoClaims<Extra, CoreGenderClaim> = request
                    .request_async(&self.http)
                    .await
                    .map_err(|e| Failure::Token(format!("userinfo failed: {}", chain(&e))))?;
                if found.is_none() {
                    found = info
                        .additional_claims()
                        .claims
                        .get(&self.role_claim)
                        .cloned();
                }
                if name.is_none() {
                    name = info
                        .preferred_username()
                        .map(|n| n.as_str().to_owned())
                        .or_else(|| info.email().map(|e| e.as_str().to_owned()));
                }
            }
        }
        let name = name.unwrap_or_else(|| subject.clone()).to_lowercase();
        if !super::users::valid_name(&name) {
            return Err(Failure::BadName(name));
        }
        let role = found
            .as_ref()
            .and_then(|v| self.role_of(v))
            .or(self.default_role)
            .ok_or_else(|| Failure::NoRole {
                name: name.clone(),
                claim: self.role_claim.clone(),
            })?;
        Ok((
            Identity {
                name,
                subject: bound,
                role,
            },
            pending.return_to,
        ))
    }

    /// The highest role a claim's value (a string or an array of strings) names.
    fn role_of(&self, value: &Value) -> Option<Role> {
        let one = |s: &str| {
            self.role_map
                .iter()
                .find(|(group, _)| group == s)
                .map(|(_, role)| *role)
                .or_else(|| Role::parse(s))
        };
        match value {
            Value::String(s) => one(s),
            Value::Array(items) => items.iter().filter_map(Value::as_str).filter_map(one).max(),
            _ => None,
        }
    }

    fn sign(&self, body: &str) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length");
        mac.update(body.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// The pending sign-in of a cookie this server signed.
    fn open(&self, cookie: &str) -> Option<Pending> {
        let (body, sig) = cookie.split_once('.')?;
        let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
        if !bool::from(self.sign(body).ct_eq(&sig)) {
            return None;
        }
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).ok()?).ok()
    }
}

/// `return_to` if it is a path on this server, else `/` (no open redirect).
fn local_path(return_to: Option<&str>) -> &str {
    match return_to {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.contains('\\')
                && !p.chars().any(char::is_control) =>
        {
            p
        }
        _ => "/",
    }
}

/// The pending cookie in a request's `Cookie` headers.
pub fn cookie(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.trim().to_owned())
}

/// The `Set-Cookie` of a pending sign-in.
pub fn set_cookie(value: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{COOKIE_NAME}={value}; Path={COOKIE_PATH}; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        PENDING.as_secs()
    )
}

/// The `Set-Cookie` that ends it.
pub fn clear_cookie(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE_NAME}=; Path={COOKIE_PATH}; HttpOnly; SameSite=Lax; Max-Age=0{secure}")
}

/// An error and its sources on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Our reqwest as the crate's HTTP client. It follows no redirects (the crate's advice:
/// following them would let a provider's answer point us anywhere).
pub struct Http(reqwest::Client);

/// A failed call to the provider.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

impl Http {
    fn new() -> anyhow::Result<Http> {
        Ok(Http(
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(10))
                .build()?,
        ))
    }
}

impl<'c> AsyncHttpClient<'c> for Http {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let request = reqwest::Request::try_from(request).map_err(|e| HttpError(chain(&e)))?;
            let response = self
                .0
                .execute(request)
                .await
                .map_err(|e| HttpError(chain(&e)))?;
            let mut builder = axum::http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                builder = builder.header(name, value);
            }
            let body = response.bytes().await.map_err(|e| HttpError(chain(&e)))?;
            builder
                .body(body.to_vec())
                .map_err(|e| HttpError(e.to_string()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_returned_to() {
        assert_eq!(local_path(Some("/runs/1?x=2")), "/runs/1?x=2");
        assert_eq!(local_path(Some("//evil.example/")), "/");
        assert_eq!(local_path(Some("https://evil.example/")), "/");
        assert_eq!(local_path(Some("/\\evil.example")), "/");
        assert_eq!(local_path(None), "/");
    }

    #[test]
    fn role_maps_are_pairs() {
        let map = parse_role_map("ops=operator, Weft Admins=admin").expect("valid");
        assert_eq!(
            map,
            vec![
                ("ops".to_owned(), Role::Operator),
                ("Weft Admins".to_owned(), Role::Admin)
            ]
        );
        assert!(parse_role_map("ops=boss").is_err());
        assert!(parse_role_map("ops").is_err());
    }
}
