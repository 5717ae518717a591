//! The SPA as browsers fetch it (issue 12 §6): compressed with brotli or gzip as the request
//! accepts (an asset's `.gz` made at build time sent as is), Trunk's hashed assets cached for a year, `index.html` and client routes revalidated
//! on every visit; `/api` JSON is compressed too, event streams are not.

use std::io::Read;

use reqwest::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, VARY};
use serde_json::json;

use crate::helpers::Weft;

const JS: &str = "/frontend-0123456789abcdef.js";
const WASM: &str = "/frontend-0123456789abcdef_bg.wasm";
const CSS: &str = "/style-fedcba9876543210.css";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// A dist folder like Trunk's: an `index.html` naming hashed assets of some size.
fn write_dist(weft: &Weft) -> Vec<(&'static str, Vec<u8>)> {
    let index = format!(
        "<!doctype html><html><head><link rel=\"stylesheet\" href=\"{CSS}\"></head>\
         <body><script type=\"module\">import init from '{JS}'; init('{WASM}');</script></body></html>"
    );
    let js = "export default function init(url) { return fetch(url); }\n".repeat(400);
    let css = ".node { fill: #4f46e5; stroke: #312e81; }\n".repeat(400);
    // Wasm-like bytes: a header and a repetitive body, as code sections are.
    let mut wasm = b"\0asm\x01\0\0\0".to_vec();
    for i in 0..20_000u32 {
        wasm.extend_from_slice(&(i % 251).to_le_bytes());
    }
    let files = vec![
        ("/index.html", index.into_bytes()),
        (JS, js.into_bytes()),
        (CSS, css.into_bytes()),
        (WASM, wasm),
    ];
    for (path, bytes) in &files {
        std::fs::write(weft.ui_dir().join(&path[1..]), bytes).expect("write dist file");
    }
    files
}

struct Got {
    status: u16,
    encoding: Option<String>,
    cache: Option<String>,
    vary: Option<String>,
    content_type: String,
    /// The body as received, then decoded.
    wire: usize,
    body: Vec<u8>,
}

async fn fetch(weft: &Weft, path: &str, accept: Option<&str>) -> Got {
    let mut req = weft.client.get(weft.url(path));
    if let Some(a) = accept {
        req = req.header(ACCEPT_ENCODING, a);
    }
    let resp = req.send().await.expect("GET");
    let header = |name| {
        resp.headers()
            .get(name)
            .map(|v: &reqwest::header::HeaderValue| v.to_str().expect("ascii header").to_owned())
    };
    let (status, encoding, cache, vary) = (
        resp.status().as_u16(),
        header(CONTENT_ENCODING),
        header(CACHE_CONTROL),
        header(VARY),
    );
    let content_type = header(CONTENT_TYPE).unwrap_or_default();
    let raw = resp.bytes().await.expect("body").to_vec();
    let mut body = Vec::new();
    match encoding.as_deref() {
        None => body = raw.clone(),
        Some("gzip") => {
            flate2::read::GzDecoder::new(&raw[..])
                .read_to_end(&mut body)
                .expect("valid gzip");
        }
        Some("br") => {
            brotli::Decompressor::new(&raw[..], 4096)
                .read_to_end(&mut body)
                .expect("valid brotli");
        }
        Some(other) => panic!("unexpected Content-Encoding {other}"),
    }
    Got {
        status,
        encoding,
        cache,
        vary,
        content_type,
        wire: raw.len(),
        body,
    }
}

#[tokio::test]
async fn assets_and_api_answers_are_compressed_as_the_client_accepts() {
    let weft = Weft::fresh().await;
    let files = write_dist(&weft);
    let openapi = fetch(&weft, "/api/openapi.json", None).await.body;
    // What Chromium sends, then each encoding alone, then none.
    for (accept, want) in [
        (Some("gzip, deflate, br, zstd"), Some("br")),
        (Some("br"), Some("br")),
        (Some("gzip"), Some("gzip")),
        (Some("identity"), None),
        (None, None),
    ] {
        for (path, bytes) in files
            .iter()
            .map(|(p, b)| (*p, b.clone()))
            .chain([("/api/openapi.json", openapi.clone())])
        {
            let got = fetch(&weft, path, accept).await;
            assert_eq!(got.status, 200, "{path}");
            assert_eq!(got.encoding.as_deref(), want, "{path} with {accept:?}");
            assert_eq!(
                got.body, bytes,
                "{path} with {accept:?} decodes to the file"
            );
            if want.is_some() && bytes.len() > 4096 {
                assert!(
                    got.wire * 2 < bytes.len(),
                    "{path} with {accept:?}: {} bytes on the wire for {}",
                    got.wire,
                    bytes.len()
                );
            }
            if want.is_some() {
                assert!(
                    got.vary
                        .as_deref()
                        .is_some_and(|v| v.to_ascii_lowercase().contains("accept-encoding")),
                    "{path}: Vary {:?}",
                    got.vary
                );
            }
        }
    }
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_the_page_is_revalidated() {
    let weft = Weft::fresh().await;
    write_dist(&weft);
    for path in [JS, WASM, CSS] {
        let got = fetch(&weft, path, Some("br")).await;
        assert_eq!(got.status, 200, "{path}");
        assert_eq!(got.cache.as_deref(), Some(IMMUTABLE), "{path}");
    }
    // The page, a client route (it serves the page), and a hashed name that is not there
    // (an old release's asset: the fallback's page must not be kept for good).
    for path in [
        "/",
        "/index.html",
        "/workflows/order-process",
        "/runs/0190f5c2-7d3e-7a4b-9c1d-2e3f4a5b6c7d",
        "/frontend-aaaaaaaaaaaaaaaa.js",
    ] {
        let got = fetch(&weft, path, Some("gzip")).await;
        assert_eq!(got.status, 200, "{path}");
        assert!(got.content_type.starts_with("text/html"), "{path}");
        assert_eq!(got.cache.as_deref(), Some("no-cache"), "{path}");
    }
}

#[tokio::test]
async fn event_streams_are_not_compressed() {
    let weft = Weft::fresh().await;
    let def = json!({
        "name": "quick",
        "nodes": [{"id": "start", "type": "start"}, {"id": "done", "type": "end", "output": "{{ input }}"}],
        "edges": [{"from": "start", "to": "done"}]
    });
    weft.put_workflow(&def).await;
    let id = weft
        .start_run("quick", json!({"pad": "x".repeat(2000)}))
        .await;
    weft.wait_for(&id, "completed").await;
    let got = fetch(&weft, &format!("/api/runs/{id}/stream"), Some("gzip, br")).await;
    assert_eq!(got.status, 200);
    assert!(got.content_type.starts_with("text/event-stream"));
    assert_eq!(got.encoding, None);
    assert!(String::from_utf8_lossy(&got.body).contains("run_completed"));
}

/// Trunk's build writes a `.gz` beside each asset (Trunk.toml's hook): that file is what goes
/// out to a browser accepting gzip, byte for byte, not the asset compressed again per request.
#[tokio::test]
async fn an_asset_compressed_at_build_time_is_sent_as_is() {
    use std::io::Write;

    let weft = Weft::fresh().await;
    let files = write_dist(&weft);
    let wasm = &files.iter().find(|(p, _)| *p == WASM).expect("the wasm").1;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(wasm).expect("compress");
    let gz = gz.finish().expect("compress");
    std::fs::write(weft.ui_dir().join(format!("{}.gz", &WASM[1..])), &gz).expect("write .gz");
    for accept in ["gzip", "gzip, deflate, br, zstd"] {
        let resp = weft
            .client
            .get(weft.url(WASM))
            .header(ACCEPT_ENCODING, accept)
            .send()
            .await
            .expect("GET");
        assert_eq!(resp.status(), 200);
        let header = |name| {
            resp.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        assert_eq!(
            header(CONTENT_ENCODING).as_deref(),
            Some("gzip"),
            "{accept}"
        );
        assert_eq!(
            header(CACHE_CONTROL).as_deref(),
            Some(IMMUTABLE),
            "{accept}"
        );
        assert_eq!(
            header(CONTENT_TYPE).as_deref(),
            Some("application/wasm"),
            "{accept}"
        );
        let raw = resp.bytes().await.expect("body");
        assert_eq!(
            raw.as_ref(),
            gz.as_slice(),
            "{accept}: the build's file, as is"
        );
    }
    // Without gzip in the request, the asset itself.
    let plain = fetch(&weft, WASM, Some("identity")).await;
    assert_eq!(plain.encoding, None);
    assert_eq!(&plain.body, wasm);

    // With a `.zst` too (written when the build machine has zstd), a browser that accepts
    // zstd gets it, as is; one that does not still gets the `.gz`. The server never decodes
    // these files, so marker bytes stand for the build's output here.
    let zst = b"(zstd -19 of the wasm, as the build wrote it)".to_vec();
    std::fs::write(weft.ui_dir().join(format!("{}.zst", &WASM[1..])), &zst).expect("write .zst");
    for (accept, encoding, body) in [
        ("gzip, deflate, br, zstd", "zstd", &zst),
        ("zstd", "zstd", &zst),
        ("gzip, br", "gzip", &gz),
    ] {
        let resp = weft
            .client
            .get(weft.url(WASM))
            .header(ACCEPT_ENCODING, accept)
            .send()
            .await
            .expect("GET");
        let got = resp
            .headers()
            .get(CONTENT_ENCODING)
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(got.as_deref(), Some(encoding), "{accept}");
        assert_eq!(
            resp.bytes().await.expect("body").as_ref(),
            body.as_slice(),
            "{accept}"
        );
    }
}
