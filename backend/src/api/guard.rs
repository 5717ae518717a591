//! The browser boundary: which `Host`s the server answers, which writes a browser may send
//! it, and the headers that keep its pages from being framed, sniffed or leaking referrers.
//!
//! Without an API token (the default) whatever reaches the port can drive the API, and any
//! page the user visits can make the browser reach it: a cross-site form or `fetch` (a
//! "simple request" needs no preflight), or DNS rebinding, where `attacker.example` comes to
//! resolve to 127.0.0.1 and the page's requests, reads included, count as same-origin. So,
//! token or not, [`check`]:
//! - answers only requests whose `Host` is one it serves: `localhost`, `127.0.0.1` and `[::1]`
//!   on any port, the listen address, and the names of `--allowed-hosts` (a reverse proxy's).
//!   A rebinding page's requests carry the attacker's name. Listening on `0.0.0.0`/`[::]`
//!   with nothing configured answers every host (the server cannot know its names), and
//!   `weft serve` warns. `/healthz` is exempt, so orchestrators can probe by any address.
//!   The refusal is 421 Misdirected Request (RFC 9110 §15.5.20), not 403: the request is
//!   not forbidden to its sender, it reached a server that does not serve that name.
//! - refuses (403) a write (any method but GET, HEAD and OPTIONS) that a browser says comes
//!   from elsewhere: `Sec-Fetch-Site` other than `same-origin` or `none` (`same-site` too:
//!   `localhost:3000` and `localhost:8080` are one site), or an `Origin` that is not this
//!   server's own, the scheme's host and port of the `Host` the request was sent to. Clients
//!   that are not browsers send neither header and pass; behind a reverse proxy, it must pass
//!   `Host` on unchanged.
//!
//! [`security_headers`] adds `X-Frame-Options`, `X-Content-Type-Options`, `Referrer-Policy`
//! and, where `ui` set none, a Content-Security-Policy that allows nothing (JSON needs none).

use std::net::IpAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header::{
    CONTENT_SECURITY_POLICY, HOST, ORIGIN, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::uri::Authority;
use axum::http::{HeaderValue, Method, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::set_header::SetResponseHeaderLayer;

use super::error::Error;
use crate::AppState;

/// The policy of every response that is not the SPA's (`ui` sets its own): the API's JSON
/// and text load nothing and are never framed.
const LOCKED_DOWN: &str = "default-src 'none'; frame-ancestors 'none'";

/// The hosts a server answers on every port, whatever is configured: only this machine can
/// send them (a rebinding page's requests carry the attacker's name).
const LOOPBACK: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// The `Host`s a server answers for (see the module docs).
#[derive(Debug, Clone)]
pub struct AllowedHosts(Arc<Hosts>);

#[derive(Debug)]
enum Hosts {
    Any,
    Only(Vec<HostPattern>),
}

/// A host name (lower case, IPv6 in brackets) and, if given, the one port it is served on.
#[derive(Debug, PartialEq, Eq)]
struct HostPattern {
    host: String,
    port: Option<u16>,
}

impl AllowedHosts {
    /// The loopback names and `listen` (its IP, on any port) plus `configured`, the entries
    /// of `--allowed-hosts`: `name`, `name:port`, `[v6]`, `[v6]:port`, or `*` for any host.
    /// With nothing configured and an unspecified `listen` (`0.0.0.0`, `[::]`), any host.
    pub fn new(configured: &[String], listen: IpAddr) -> Result<AllowedHosts, String> {
        let configured: Vec<&str> = configured
            .iter()
            .map(|e| e.trim())
            .filter(|e| !e.is_empty())
            .collect();
        if configured.contains(&"*") || (configured.is_empty() && listen.is_unspecified()) {
            return Ok(AllowedHosts(Arc::new(Hosts::Any)));
        }
        let listen = match listen {
            IpAddr::V4(ip) => ip.to_string(),
            IpAddr::V6(ip) => format!("[{ip}]"),
        };
        let mut hosts: Vec<HostPattern> = LOOPBACK
            .iter()
            .copied()
            .chain([listen.as_str()])
            .map(|h| HostPattern {
                host: h.to_owned(),
                port: None,
            })
            .collect();
        for entry in configured {
            let pattern = parse_host(entry)
                .filter(|p| !p.host.is_empty())
                .ok_or_else(|| {
                    format!(
                        "allowed host `{entry}` is not a host name with an optional port \
                         (`weft.example.com`, `10.0.0.5:8080`, `[::1]`) or `*`"
                    )
                })?;
            hosts.push(pattern);
        }
        Ok(AllowedHosts(Arc::new(Hosts::Only(hosts))))
    }

    /// True when every host is answered (`weft serve` warns about it).
    pub fn any(&self) -> bool {
        matches!(*self.0, Hosts::Any)
    }

    fn allows(&self, host: Option<&HostPattern>) -> bool {
        match (&*self.0, host) {
            (Hosts::Any, _) => true,
            (Hosts::Only(_), None) => false,
            (Hosts::Only(hosts), Some(h)) => hosts
                .iter()
                .any(|a| a.host == h.host && a.port.is_none_or(|p| h.port == Some(p))),
        }
    }
}

/// A `Host` value (or an `--allowed-hosts` entry) as name and port; `None` if it is not a
/// bare authority (a URL, user info, a bad port).
fn parse_host(text: &str) -> Option<HostPattern> {
    let authority: Authority = text.parse().ok()?;
    if authority.as_str().contains('@')
        || (authority.port().is_some() && authority.port_u16().is_none())
    {
        return None;
    }
    let host = authority.host().to_ascii_lowercase();
    let host = host.strip_suffix('.').unwrap_or(&host).to_owned();
    Some(HostPattern {
        host,
        port: authority.port_u16(),
    })
}

/// The host a request was sent to: the request target's authority if it has one (absolute
/// form, HTTP/2), else `Host`.
fn request_host(req: &Request) -> Option<&str> {
    req.uri()
        .authority()
        .map(Authority::as_str)
        .or_else(|| req.headers().get(HOST)?.to_str().ok())
}

/// The middleware of the module docs, layered on the whole router.
pub async fn check(State(app): State<AppState>, req: Request, next: Next) -> Response {
    if req.uri().path() == "/healthz" {
        return next.run(req).await;
    }
    let host = request_host(&req);
    let parsed = host.and_then(parse_host);
    if !app.allowed_hosts.allows(parsed.as_ref()) {
        let message = match host {
            None => "the request names no host (`Host`); this server answers only for the \
                     hosts it is configured with (`--allowed-hosts`)"
                .to_owned(),
            Some(host) => format!(
                "this server does not answer for the host `{host}`; if that is one of its \
                 names, start it with `--allowed-hosts` (or WEFT_ALLOWED_HOSTS) naming it"
            ),
        };
        return Error::MisdirectedRequest(message).into_response();
    }
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        && let Err(e) = same_origin(&req, parsed.as_ref())
    {
        return e.into_response();
    }
    next.run(req).await
}

/// Refuses a write a browser sent from another site or origin.
fn same_origin(req: &Request, host: Option<&HostPattern>) -> Result<(), Error> {
    let lossy = |v: &HeaderValue| String::from_utf8_lossy(v.as_bytes()).into_owned();
    if let Some(site) = req.headers().get("sec-fetch-site")
        && !matches!(site.as_bytes(), b"same-origin" | b"none")
    {
        return Err(Error::Forbidden(format!(
            "refused a write from another site (`Sec-Fetch-Site: {}`): this server takes \
             writes only from its own pages and from clients that are not browsers",
            lossy(site)
        )));
    }
    let Some(origin) = req.headers().get(ORIGIN) else {
        return Ok(());
    };
    if origin_is(origin, host) {
        return Ok(());
    }
    Err(Error::Forbidden(format!(
        "refused a write from another origin (`Origin: {}`): this server takes writes only \
         from its own pages ({}) and from clients that are not browsers",
        lossy(origin),
        match host {
            Some(h) => format!("the origin of `{}`", h.display()),
            None => "it was sent no `Host`".to_owned(),
        }
    )))
}

/// True when `origin` (`scheme://host[:port]`) is the origin of `host`: same name, and same
/// port once the scheme's default fills in a missing one.
fn origin_is(origin: &HeaderValue, host: Option<&HostPattern>) -> bool {
    let Some(host) = host else { return false };
    let Some(uri) = origin.to_str().ok().and_then(|o| o.parse::<Uri>().ok()) else {
        return false;
    };
    let default = match uri.scheme_str() {
        Some("http") => 80,
        Some("https") => 443,
        _ => return false,
    };
    let Some(o) = uri.authority().and_then(|a| parse_host(a.as_str())) else {
        return false;
    };
    o.host == host.host && o.port.unwrap_or(default) == host.port.unwrap_or(default)
}

impl HostPattern {
    fn display(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.host),
            None => self.host.clone(),
        }
    }
}

/// The headers of every response: no framing (`frame-ancestors` in the policies too), no
/// MIME sniffing, no referrer; and the locked-down policy where `ui` gave none.
pub fn security_headers<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .layer(SetResponseHeaderLayer::if_not_present(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(LOCKED_DOWN),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    use axum::http::HeaderValue;

    use super::{AllowedHosts, origin_is, parse_host};

    fn allows(hosts: &AllowedHosts, host: &str) -> bool {
        hosts.allows(parse_host(host).as_ref())
    }

    #[test]
    fn loopback_and_the_listen_address_are_answered_on_any_port() {
        let hosts = AllowedHosts::new(&[], IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5))).unwrap();
        for host in [
            "localhost",
            "LOCALHOST:8080",
            "127.0.0.1:1",
            "[::1]:8080",
            "10.0.0.5:9",
        ] {
            assert!(allows(&hosts, host), "{host}");
        }
        for host in [
            "attacker.example",
            "localhost.attacker.example",
            "10.0.0.6",
            "a@localhost",
        ] {
            assert!(!allows(&hosts, host), "{host}");
        }
        assert!(!hosts.allows(None), "no Host at all");
    }

    #[test]
    fn configured_hosts_add_names_with_or_without_a_port() {
        let configured = [
            "weft.example.com".to_owned(),
            " ops.example:8443 ".to_owned(),
        ];
        let hosts = AllowedHosts::new(&configured, IpAddr::V4(Ipv4Addr::UNSPECIFIED)).unwrap();
        assert!(!hosts.any());
        for host in [
            "weft.example.com",
            "Weft.Example.Com.:443",
            "ops.example:8443",
            "localhost:1",
        ] {
            assert!(allows(&hosts, host), "{host}");
        }
        for host in ["ops.example", "ops.example:8080", "example.com"] {
            assert!(!allows(&hosts, host), "{host}");
        }
        let bad = AllowedHosts::new(&["http://x/".to_owned()], IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert!(bad.unwrap_err().contains("`http://x/`"));
    }

    #[test]
    fn an_unspecified_listen_address_without_configuration_answers_any_host() {
        for ip in [
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        ] {
            let hosts = AllowedHosts::new(&[], ip).unwrap();
            assert!(hosts.any() && allows(&hosts, "attacker.example"));
        }
        let star = AllowedHosts::new(&["*".to_owned()], IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert!(star.unwrap().any());
    }

    #[test]
    fn an_origin_is_the_hosts_when_name_and_effective_port_agree() {
        let same = |origin: &str, host: &str| {
            origin_is(
                &HeaderValue::from_str(origin).unwrap(),
                parse_host(host).as_ref(),
            )
        };
        assert!(same("http://127.0.0.1:8080", "127.0.0.1:8080"));
        assert!(same("https://weft.example.com", "weft.example.com"));
        assert!(same("http://weft.example.com", "weft.example.com:80"));
        assert!(same("http://[::1]:8080", "[::1]:8080"));
        assert!(!same("http://127.0.0.1:3000", "127.0.0.1:8080"));
        assert!(!same("http://localhost:8080", "127.0.0.1:8080"));
        assert!(!same("https://weft.example.com", "weft.example.com:8080"));
        assert!(!same("null", "127.0.0.1:8080"));
        assert!(!same("file://", "127.0.0.1:8080"));
    }
}
