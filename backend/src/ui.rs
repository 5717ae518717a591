//! Serving the SPA, Trunk's dist folder: its files with an `index.html` fallback for client
//! routes, and cache lifetimes that let a browser keep the hashed bundle for good.
//!
//! Trunk names every asset after a hash of its content (`frontend-<hex>_bg.wasm`,
//! `style-<hex>.css`), so such a URL never changes meaning: it is `immutable` for a year.
//! `index.html` names the current hashes, so it (and every client route, which serves it) is
//! `no-cache`: revalidated on each visit, a new release is picked up at once. The bundle is
//! compressed once, at build time (a `.gz` and a `.zst` beside each file, see Trunk.toml); anything else
//! is compressed by the router (`app()`), the API alike.
//!
//! Every file goes out with the SPA's Content-Security-Policy ([`content_security_policy`]):
//! scripts, styles and requests from this origin only, the wasm compiled by them, and the one
//! inline script Trunk writes into `index.html` (the loader that imports the bundle) allowed
//! by its SHA-256, computed from the `index.html` found when the server starts; a new dist
//! folder needs a restart. No `'unsafe-inline'` for scripts or styles: the UI sets styles
//! through the CSSOM (`style:left=`), which a policy does not govern.

use std::path::Path;

use axum::Router;
use axum::extract::Request;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use base64::Engine;
use sha2::{Digest, Sha256};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

/// For a URL whose content never changes.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// For `index.html`: keep it, but ask the server before using it.
const NO_CACHE: &str = "no-cache";

/// The files of `ui_dir`, and `index.html` for any other path.
pub(crate) fn router(ui_dir: &Path) -> Router {
    let index = ui_dir.join("index.html");
    let page = std::fs::read_to_string(&index).unwrap_or_else(|e| {
        tracing::warn!(path = %index.display(), error = %e, "no UI to serve");
        String::new()
    });
    let policy = HeaderValue::from_str(&content_security_policy(&page))
        .expect("a policy of ASCII keywords and base64");
    // Trunk's build writes a `.gz` (and a `.zst`) beside each asset (Trunk.toml): sent as
    // is, not compressed again on each request.
    let spa = ServeDir::new(ui_dir)
        .precompressed_zstd()
        .precompressed_gzip()
        .fallback(ServeFile::new(index));
    Router::new()
        .fallback_service(spa)
        .layer(middleware::from_fn(cache_control))
        .layer(SetResponseHeaderLayer::overriding(
            CONTENT_SECURITY_POLICY,
            policy,
        ))
}

/// The policy for the SPA whose page is `index_html`: everything from this origin, wasm
/// (`'wasm-unsafe-eval'`), the page's inline scripts by hash, `data:` images (the favicon),
/// never framed.
fn content_security_policy(index_html: &str) -> String {
    let hashes: String = inline_scripts(index_html)
        .map(|script| {
            let digest = Sha256::digest(script.as_bytes());
            let b64 = base64::engine::general_purpose::STANDARD.encode(digest);
            format!(" 'sha256-{b64}'")
        })
        .collect();
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// The text of each `<script>` without a `src` in `html`, as the browser hashes it. Trunk
/// writes the page, so a plain scan for the tags is enough.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    let lower = html.to_ascii_lowercase();
    let mut at = 0;
    std::iter::from_fn(move || {
        loop {
            let open = at + lower[at..].find("<script")?;
            let body = open + lower[open..].find('>')? + 1;
            let close = body + lower[body..].find("</script")?;
            at = close;
            if !lower[open..body].contains(" src=") {
                return Some(&html[body..close]);
            }
        }
    })
}

async fn cache_control(request: Request, next: Next) -> Response {
    let hashed = is_hashed(request.uri().path());
    let mut response = next.run(request).await;
    // The fallback answers a missing asset with `index.html`: never keep that for good.
    let html = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    let lifetime = if hashed && response.status() == StatusCode::OK && !html {
        IMMUTABLE
    } else {
        NO_CACHE
    };
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static(lifetime));
    response
}

/// True for a path with a segment named the way Trunk names hashed files: `name-<hex>.ext`,
/// `name-<hex>_bg.wasm`, or `<hex>-name` (a u64 in hex, so up to 16 digits).
fn is_hashed(path: &str) -> bool {
    let hex = |s: &str| (8..=16).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit());
    path.split('/').any(|segment| {
        let stem = segment.split('.').next().unwrap_or_default();
        let stem = stem.strip_suffix("_bg").unwrap_or(stem);
        stem.rsplit_once('-').is_some_and(|(_, h)| hex(h))
            || segment.split_once('-').is_some_and(|(h, _)| hex(h))
    })
}

#[cfg(test)]
mod tests {
    use super::{content_security_policy, is_hashed};

    #[test]
    fn inline_scripts_are_allowed_by_their_hash_and_nothing_else_inline() {
        // `printf 'init();' | openssl dgst -sha256 -binary | base64`
        let page = "<html><head><script type=\"module\">init();</script>\
                    <SCRIPT src=\"/x.js\"></SCRIPT></head></html>";
        let policy = content_security_policy(page);
        assert!(
            policy.contains(
                "script-src 'self' 'wasm-unsafe-eval' \
                 'sha256-GEnM5q1nYY/iACnyMTdov+tNp9OFcBnnDgNXUXaVNXc=';"
            ),
            "{policy}"
        );
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        let empty = content_security_policy("<!doctype html><title>weft</title>");
        assert!(
            empty.contains("script-src 'self' 'wasm-unsafe-eval';"),
            "{empty}"
        );
    }

    #[test]
    fn trunk_hashed_names_are_recognised() {
        for path in [
            "/frontend-9f3c2a7b41d0e8c5.js",
            "/frontend-9f3c2a7b41d0e8c5_bg.wasm",
            "/style-1a2b3c4d5e6f7a8b.css",
            "/snippets/frontend-0123456789abcdef/inline0.js",
            "/9f3c2a7b41d0e8c5-logo.svg",
        ] {
            assert!(is_hashed(path), "{path}");
        }
        for path in [
            "/",
            "/index.html",
            "/style.css",
            "/workflows/order-process",
            "/favicon.ico",
        ] {
            assert!(!is_hashed(path), "{path}");
        }
    }
}
