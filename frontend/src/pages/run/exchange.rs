//! An `http` attempt as it went over the wire (the `http_exchanged` event): the rendered
//! request and the response, each collapsible, headers as a table, bodies monospace and JSON
//! indented. Secrets arrive masked (`***`) from the server; nothing here unmasks or guesses.

use leptos::prelude::*;
use shared::event::{HttpRequestRecord, HttpResponseRecord};

use super::format;

/// The request and, if one came, the response of one attempt.
#[component]
pub fn Exchange(request: HttpRequestRecord, response: Option<HttpResponseRecord>) -> impl IntoView {
    let HttpRequestRecord {
        method,
        url,
        headers,
        body,
        truncated,
    } = request;
    let response = match response {
        Some(r) => view! {
            <details class="exchange exchange-response" data-testid="attempt-response">
                <summary>
                    "Response "
                    <span class=format!("http-status {}", status_class(r.status)) data-testid="response-status">
                        {r.status}
                    </span>
                </summary>
                <Headers headers=r.headers />
                <Body text=Some(r.body) truncated=r.truncated />
            </details>
        }
        .into_any(),
        None => view! {
            <p class="muted exchange-none" data-testid="attempt-no-response">"No response came."</p>
        }
        .into_any(),
    };
    view! {
        <div class="exchanges">
            <details class="exchange exchange-request" data-testid="attempt-request">
                <summary>
                    "Request "
                    <code class="exchange-line">
                        <span class="http-method">{method}</span>
                        " "
                        <span class="http-url" data-testid="request-url">{url}</span>
                    </code>
                </summary>
                <Headers headers />
                <Body text=body truncated />
            </details>
            {response}
        </div>
    }
}

/// The headers, one row each, in the order sent.
#[component]
fn Headers(headers: Vec<(String, String)>) -> impl IntoView {
    if headers.is_empty() {
        return view! { <p class="muted exchange-empty">"No headers."</p> }.into_any();
    }
    view! {
        <table class="http-headers" data-testid="exchange-headers">
            <tbody>
                {headers
                    .into_iter()
                    .map(|(name, value)| {
                        view! {
                            <tr>
                                <th scope="row">{name}</th>
                                <td>{value}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// A body, JSON indented; a note when the server cut it.
#[component]
fn Body(text: Option<String>, truncated: bool) -> impl IntoView {
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        return view! { <p class="muted exchange-empty">"No body."</p> }.into_any();
    };
    view! {
        <pre class="json exchange-body" data-testid="exchange-body" tabindex="0">{format::body(&text)}</pre>
        {truncated
            .then(|| {
                view! {
                    <p class="muted exchange-truncated" data-testid="exchange-truncated">
                        "Truncated: the body was longer than the recorded limit."
                    </p>
                }
            })}
    }
    .into_any()
}

/// `ok`, `redirect`, `client-error` or `server-error`, for the status's colour.
fn status_class(status: u16) -> &'static str {
    match status {
        200..=299 => "ok",
        300..=399 => "redirect",
        400..=499 => "client-error",
        _ => "server-error",
    }
}
