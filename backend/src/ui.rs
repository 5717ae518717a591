//! Serving the SPA, Trunk's dist folder: its files with an `index.html` fallback for client
//! routes, and cache lifetimes that let a browser keep the hashed bundle for good.
//!
//! Trunk names every asset after a hash of its content (`frontend-<hex>_bg.wasm`,
//! `style-<hex>.css`), so such a URL never changes meaning: it is `immutable` for a year.
//! `index.html` names the current hashes, so it (and every client route, which serves it) is
//! `no-cache`: revalidated on each visit, a new release is picked up at once. Compression is
//! the router's (`app()`), for these files and the API alike.

use std::path::Path;

use axum::Router;
use axum::extract::Request;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower_http::services::{ServeDir, ServeFile};

/// For a URL whose content never changes.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// For `index.html`: keep it, but ask the server before using it.
const NO_CACHE: &str = "no-cache";

/// The files of `ui_dir`, and `index.html` for any other path.
pub(crate) fn router(ui_dir: &Path) -> Router {
    let spa = ServeDir::new(ui_dir).fallback(ServeFile::new(ui_dir.join("index.html")));
    Router::new()
        .fallback_service(spa)
        .layer(middleware::from_fn(cache_control))
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
    use super::is_hashed;

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
