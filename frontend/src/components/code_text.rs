//! Messages (validator findings, refused edits) quote ids and ports in backticks; this shows
//! those parts as code, so `charge` reads as a name and not as part of the sentence.

use leptos::prelude::*;

/// `message` with every backticked part as `<code>`.
pub fn code_spans(message: &str) -> Vec<AnyView> {
    message
        .split('`')
        .enumerate()
        .map(|(i, part)| {
            let part = part.to_owned();
            if i % 2 == 1 {
                view! { <code>{part}</code> }.into_any()
            } else {
                part.into_any()
            }
        })
        .collect()
}
