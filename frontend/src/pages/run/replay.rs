//! Replay of a finished run: a scrubber over its events that shows the graph as the run stood
//! after any one of them, with the timeline's cursor at that event's time. The moment is the
//! first `k` events folded by the same [`RunState::apply`] the live page uses, so a replayed
//! node is in exactly the state the live page showed then. Play steps through by itself;
//! the buttons and the slider's arrow keys step one event; leaving replay shows the final view.
//!
//! The page holds the moment (`step`: `None` for the run as it is); [`at`] folds it, and the
//! graph and timeline read it. The rest is pure and tested natively.

use leptos::prelude::*;
use serde_json::Value;
use shared::api::RunEvent;

use super::format;
use super::state::RunState;

/// Play moves one event per tick, or for a long run enough that it takes about this many
/// ticks from start to end.
const PLAY_TICKS: usize = 150;

/// The time between two steps of play.
const PLAY_EVERY: std::time::Duration = std::time::Duration::from_millis(120);

/// The run as the page shows it: at the replayed moment while there is one, else as it
/// stands. The graph, the node panel and the run's data read it; the actions read the live
/// run, since they act on the run as it is.
#[derive(Clone, Copy)]
pub struct Shown {
    live: RwSignal<RunState>,
    replayed: Memo<Option<RunState>>,
}

impl Shown {
    pub fn new(live: RwSignal<RunState>, replayed: Memo<Option<RunState>>) -> Self {
        Self { live, replayed }
    }

    /// `f` of the run shown, tracked: it runs again when the moment or the run changes.
    pub fn with<T>(&self, f: impl FnOnce(&RunState) -> T) -> T {
        self.replayed.with(|r| match r {
            Some(s) => f(s),
            None => self.live.with(f),
        })
    }

    /// Whether a replayed moment is shown.
    pub fn replaying(&self) -> bool {
        self.replayed.with(Option::is_some)
    }
}

/// The run as it stood after its first `k` events.
pub fn at(events: &[RunEvent], k: usize) -> RunState {
    let mut state = RunState::default();
    for event in &events[..k.min(events.len())] {
        state.apply(event.clone());
    }
    state
}

/// What an event was, in words, without its time (the page adds it, in local time):
/// `#3 node_started · charge · attempt 1`.
pub fn describe(event: &RunEvent) -> String {
    let mut parts = vec![format!("#{} {}", event.seq, event.kind)];
    parts.extend(event.node.clone());
    let data = |key: &str| event.data.get(key);
    if let Some(n) = data("attempt").and_then(Value::as_u64) {
        parts.push(format!("attempt {n}"));
    }
    if let Some(n) = data("index").and_then(Value::as_u64) {
        parts.push(format!("item {n}"));
    }
    if let Some(status) = data("status").and_then(Value::as_str) {
        parts.push(status.to_owned());
    }
    if let Some(error) = data("error").and_then(Value::as_str) {
        parts.push(error.to_owned());
    }
    parts.join(" · ")
}

/// How many events a tick of play moves in a run of `len`.
pub fn stride(len: usize) -> usize {
    len.div_ceil(PLAY_TICKS).max(1)
}

/// Moment `k` moved by `by` events, kept between the first event and the last.
pub fn moved(k: usize, by: isize, len: usize) -> usize {
    k.saturating_add_signed(by).clamp(1.min(len), len)
}

/// The replay bar: a button that starts replay on a finished run; then the scrubber.
#[component]
pub fn Replay(state: RwSignal<RunState>, step: RwSignal<Option<usize>>) -> impl IntoView {
    let len = Memo::new(move |_| state.with(|s| s.events.len()));
    let finished = move || state.with(RunState::is_finished);
    let playing = RwSignal::new(false);
    let ticker = StoredValue::new_local(None::<IntervalHandle>);
    let stop = move || {
        playing.set(false);
        if let Some(t) = ticker.get_value() {
            t.clear();
        }
        ticker.set_value(None);
    };
    let go = move |by: isize| {
        step.update(|k| *k = k.map(|k| moved(k, by, len.get_untracked())));
    };
    let play = move || {
        let n = len.get_untracked();
        // From the end, play starts again from the first event.
        if step.get_untracked().is_none_or(|k| k >= n) {
            step.set(Some(1));
        }
        playing.set(true);
        let every = stride(n) as isize;
        let handle = set_interval_with_handle(
            move || {
                go(every);
                if step.get_untracked().is_none_or(|k| k >= n) {
                    stop();
                }
            },
            PLAY_EVERY,
        )
        .ok();
        ticker.set_value(handle);
    };
    on_cleanup(stop);
    let leave = move || {
        stop();
        step.set(None);
    };
    let current = move || {
        let k = step.get()?;
        state.with(|s| {
            s.events
                .get(k.checked_sub(1)?)
                .map(|e| format!("{} · {}", describe(e), format::clock_ms(e.at)))
        })
    };
    let value = move || step.get().unwrap_or(0).to_string();
    // Outside the view: a `>` in an attribute would end the tag.
    let at_first = move || step.get().is_none_or(|k| k <= 1);
    let at_last = move || step.get().is_none_or(|k| k >= len.get());

    view! {
        <Show when=finished>
            <section class="replay card" data-testid="replay" aria-label="Replay">
                <Show
                    when=move || step.get().is_some()
                    fallback=move || {
                        view! {
                            <button class="btn" data-testid="replay-start" on:click=move |_| step.set(Some(1))>
                                "Replay this run"
                            </button>
                            <span class="muted">"Step through its events on the graph and the timeline."</span>
                        }
                    }
                >
                    <div class="replay-controls">
                        <button
                            class="btn"
                            aria-label="Previous event"
                            title="Previous event"
                            data-testid="replay-back"
                            disabled=at_first
                            on:click=move |_| go(-1)
                        >
                            "‹ Previous"
                        </button>
                        <button
                            class="btn btn-primary replay-play"
                            aria-label=move || if playing.get() { "Pause" } else { "Play" }
                            title=move || if playing.get() { "Pause" } else { "Play" }
                            data-testid="replay-play"
                            on:click=move |_| if playing.get_untracked() { stop() } else { play() }
                        >
                            {move || if playing.get() { "Pause" } else { "Play" }}
                        </button>
                        <button
                            class="btn"
                            aria-label="Next event"
                            title="Next event"
                            data-testid="replay-forward"
                            disabled=at_last
                            on:click=move |_| go(1)
                        >
                            "Next ›"
                        </button>
                    </div>
                    <input
                        class="replay-slider"
                        type="range"
                        min="1"
                        max=move || len.get().to_string()
                        step="1"
                        aria-label="Event"
                        aria-valuetext=move || current().unwrap_or_default()
                        data-testid="replay-slider"
                        prop:value=value
                        on:input=move |ev| {
                            stop();
                            if let Ok(k) = event_target_value(&ev).parse::<usize>() {
                                step.set(Some(moved(k, 0, len.get_untracked())));
                            }
                        }
                    />
                    <span class="replay-count muted" data-testid="replay-position">
                        {move || format!("{} of {}", step.get().unwrap_or(0), len.get())}
                    </span>
                    <p class="replay-event" data-testid="replay-event">{current}</p>
                    <button class="btn" data-testid="replay-exit" on:click=move |_| leave()>
                        "Exit replay"
                    </button>
                </Show>
            </section>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use shared::api::RunStatus;

    use super::*;
    use crate::pages::run::state::NodeStatus;

    fn ev(seq: i64, kind: &str, node: Option<&str>, data: Value) -> RunEvent {
        RunEvent {
            seq,
            kind: kind.into(),
            node: node.map(Into::into),
            at: 1_000 + seq * 250,
            data,
        }
    }

    fn run() -> Vec<RunEvent> {
        vec![
            ev(
                1,
                "run_started",
                None,
                json!({"workflow": "w", "version": 1, "input": {}}),
            ),
            ev(2, "node_completed", Some("start"), json!({"output": null})),
            ev(3, "node_started", Some("charge"), json!({"attempt": 1})),
            ev(
                4,
                "attempt_failed",
                Some("charge"),
                json!({"attempt": 1, "error": "HTTP 503", "retry_at": 5_000}),
            ),
            ev(5, "node_started", Some("charge"), json!({"attempt": 2})),
            ev(6, "node_completed", Some("charge"), json!({"output": 1})),
            ev(7, "run_completed", None, json!({"output": 1})),
        ]
    }

    #[test]
    fn a_moment_is_the_first_k_events_folded() {
        let events = run();
        let third = at(&events, 3);
        assert_eq!(third.status, Some(RunStatus::Running));
        assert_eq!(third.node("start").status, NodeStatus::Completed);
        assert_eq!(third.node("charge").status, NodeStatus::Running);
        assert_eq!(third.node("charge").attempts, 1);
        assert_eq!(at(&events, 4).node("charge").status, NodeStatus::Retrying);
        let end = at(&events, 7);
        assert_eq!(end.status, Some(RunStatus::Completed));
        assert_eq!(end.node("charge").status, NodeStatus::Completed);
        assert_eq!(at(&events, 99), end);
        assert_eq!(at(&events, 0), RunState::default());
    }

    #[test]
    fn events_are_described_in_words() {
        let events = run();
        assert_eq!(describe(&events[2]), "#3 node_started · charge · attempt 1");
        assert_eq!(
            describe(&events[3]),
            "#4 attempt_failed · charge · attempt 1 · HTTP 503"
        );
        assert_eq!(describe(&events[0]), "#1 run_started");
    }

    #[test]
    fn steps_stay_in_the_run_and_long_runs_play_in_strides() {
        assert_eq!(moved(3, -1, 7), 2);
        assert_eq!(moved(1, -1, 7), 1);
        assert_eq!(moved(7, 1, 7), 7);
        assert_eq!(moved(0, 0, 7), 1);
        assert_eq!(moved(5, 0, 0), 0);
        assert_eq!(stride(7), 1);
        assert_eq!(stride(10_000), 67);
    }
}
