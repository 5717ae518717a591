//! A JSON value as an indented `<pre>`, cut to its first [`SHOWN_LINES`] lines with a button
//! for the rest. A run's input or output can be thousands of lines (a `map` over 4,800 items);
//! drawn whole, one such block costs the browser more layout than the rest of the page and
//! makes the side panel a long scroll.

use leptos::prelude::*;
use serde_json::Value;

use super::format;

/// How many lines a block shows until asked for all.
const SHOWN_LINES: usize = 40;

/// `value`, indented; the first lines only, with "Show all N lines", when it is long.
#[component]
pub fn JsonPre(value: Value) -> impl IntoView {
    let text = format::pretty(&value);
    let whole = RwSignal::new(false);
    match head(&text, SHOWN_LINES) {
        None => view! { <pre class="json">{text}</pre> }.into_any(),
        Some((first, lines)) => view! {
            <pre class="json" data-testid="json-cut">
                {move || if whole.get() { text.clone() } else { format!("{first}\n…") }}
            </pre>
            <Show when=move || !whole.get()>
                <button class="btn json-more" data-testid="json-more" on:click=move |_| whole.set(true)>
                    {format!("Show all {lines} lines")}
                </button>
            </Show>
        }
        .into_any(),
    }
}

/// The first `n` lines of `text` and how many it has in all, or `None` when it has no more
/// than `n`.
fn head(text: &str, n: usize) -> Option<(String, usize)> {
    let lines = text.lines().count();
    (lines > n).then(|| (text.lines().take(n).collect::<Vec<_>>().join("\n"), lines))
}

#[cfg(test)]
mod tests {
    use super::head;

    #[test]
    fn a_long_text_is_cut_to_its_first_lines_and_counted() {
        let text = (0..100)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join("\n");
        let (first, lines) = head(&text, 3).unwrap();
        assert_eq!(first, "0\n1\n2");
        assert_eq!(lines, 100);
        assert_eq!(head(&text, 100), None);
        assert_eq!(head("{}", 40), None);
    }
}
