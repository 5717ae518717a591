//! The banner a run's page shows while its stream is down: the page may be stale, so it says
//! so where an operator looks first, when the next try is, and offers to try now. The actions
//! are disabled meanwhile (see [`super::live::Offline`]); the banner says that too.

use leptos::prelude::*;

use super::live::Link;

/// "Connection lost — reconnecting…", while [`Link::Reconnecting`].
#[component]
pub fn ConnectionBanner(
    link: RwSignal<Link>,
    /// When the next try is due, in ms since the epoch.
    next_try: RwSignal<Option<i64>>,
    /// The page's wall clock.
    now: RwSignal<i64>,
    try_now: Callback<()>,
) -> impl IntoView {
    let when = move || match next_try.get() {
        Some(at) => next_try_in(at, now.get()),
        None => "Trying now…".to_owned(),
    };
    view! {
        <Show when=move || link.get() == Link::Reconnecting>
            <div class="conn-banner" role="alert" data-testid="connection-banner">
                <span class="spinner" aria-hidden="true"></span>
                <div class="conn-text">
                    <strong>"Connection lost — reconnecting…"</strong>
                    <span class="muted">
                        " Actions are disabled until the connection is back; what happened meanwhile will catch up. "
                    </span>
                    <span data-testid="connection-next-try">{when}</span>
                </div>
                <button class="btn" data-testid="connection-try-now" on:click=move |_| try_now.run(())>
                    "Try now"
                </button>
            </div>
        </Show>
    }
}

/// "Next try in 3 s", rounded up, "Trying now…" once due.
fn next_try_in(at: i64, now: i64) -> String {
    let secs = (at - now + 999).div_euclid(1000);
    if secs <= 0 {
        "Trying now…".to_owned()
    } else {
        format!("Next try in {secs} s.")
    }
}

#[cfg(test)]
mod tests {
    use super::next_try_in;

    #[test]
    fn the_next_try_is_counted_down_in_whole_seconds() {
        assert_eq!(next_try_in(10_000, 7_500), "Next try in 3 s.");
        assert_eq!(next_try_in(10_000, 9_999), "Next try in 1 s.");
        assert_eq!(next_try_in(10_000, 10_000), "Trying now…");
        assert_eq!(next_try_in(10_000, 12_000), "Trying now…");
    }
}
