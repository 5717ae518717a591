//! The run's live feed: an `EventSource` on `GET /api/runs/{id}/stream`, folded into
//! [`RunState`] as events arrive, and kept open by the page itself until the run's final event.
//!
//! The page owns reconnection instead of trusting the browser's: the browser gives up for good
//! on some failures (a refused connection while the server restarts, a proxy's 502), retries at
//! a pace nobody chose, and cannot say when its next try is. So on any error, on the server's
//! `shutdown` event (sent before it ends open streams on SIGTERM), or when the stream ends
//! before the run's final event, the source is closed and a new one is opened after a backoff
//! ([`backoff`]), asking only for what came after the last `seq` folded in
//! (`?last_event_id=`); [`RunState::apply`] drops anything seen twice anyway. While it is
//! down, [`Link::Reconnecting`] tells the banner and [`Offline`] disables every action.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use std::time::Duration;

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{Event, EventSource, MessageEvent};

use super::format;
use super::state::RunState;
use super::wire;
use shared::api::RunEvent;

/// How the page is connected to the run's stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// The first connection is being made.
    Connecting,
    Live,
    /// The connection dropped; the next try is at [`Live::next_try`].
    Reconnecting,
    /// The run finished and its whole history is here.
    Ended,
}

impl Link {
    /// Whether the page may act on the run: not while it may be showing a stale state.
    pub fn offline(self) -> bool {
        matches!(self, Link::Connecting | Link::Reconnecting)
    }
}

/// Why every action is disabled while the stream is down (the buttons' title).
pub const OFFLINE_REASON: &str =
    "Not connected to the server: actions are disabled until the run's stream is back";

/// The page's connection state for its action buttons, provided as a context by the run page
/// so each button (here and in the redrive dialog) can be disabled without threading a prop.
#[derive(Debug, Clone, Copy)]
pub struct Offline(pub Signal<bool>);

/// Whether the run page's stream is down now (`false` outside a run page).
pub fn offline() -> Signal<bool> {
    use_context::<Offline>().map_or_else(|| Signal::stored(false), |o| o.0)
}

/// A button's title: its own, or why it is disabled while offline.
pub fn title_when(offline: Signal<bool>, normal: &'static str) -> impl Fn() -> &'static str {
    move || {
        if offline.get() {
            OFFLINE_REASON
        } else {
            normal
        }
    }
}

/// The first retry waits this long; each failure in a row doubles it, up to [`BACKOFF_MAX`].
const BACKOFF_FIRST: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(10);

/// How long to wait after `failures` failed connections in a row (from 1), `jitter` in
/// `0..1` spreading the retries of many pages over ±20 % so a restarted server is not hit by
/// all of them at once. Never more than [`BACKOFF_MAX`].
pub fn backoff(failures: u32, jitter: f64) -> Duration {
    let doubled = BACKOFF_FIRST.saturating_mul(1u32 << failures.clamp(1, 16).saturating_sub(1));
    doubled
        .min(BACKOFF_MAX)
        .mul_f64(0.8 + 0.4 * jitter.clamp(0.0, 1.0))
        .min(BACKOFF_MAX)
}

/// The page's live connection to one run; dropping it closes the stream and stops retrying.
pub struct Live {
    inner: Rc<Inner>,
}

struct Inner {
    run: String,
    state: RwSignal<RunState>,
    link: RwSignal<Link>,
    /// When the next connection attempt is due (ms since the epoch), while reconnecting.
    next_try: RwSignal<Option<i64>>,
    feed: RefCell<Option<Feed>>,
    /// Failed connections since the last one that opened.
    failures: Cell<u32>,
    retry: RefCell<Option<TimeoutHandle>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(timer) = self.retry.take() {
            timer.clear();
        }
    }
}

impl Live {
    /// Connects to `run`'s stream, folding what it sends into `state`.
    pub fn start(
        run: &str,
        state: RwSignal<RunState>,
        link: RwSignal<Link>,
        next_try: RwSignal<Option<i64>>,
    ) -> Live {
        let inner = Rc::new(Inner {
            run: run.to_owned(),
            state,
            link,
            next_try,
            feed: RefCell::default(),
            failures: Cell::new(0),
            retry: RefCell::default(),
        });
        link.set(Link::Connecting);
        connect(&inner);
        Live { inner }
    }

    /// Connects again now, without waiting for the backoff (the banner's "Try now", or after
    /// a conflict, to be sure the view is current). Nothing to do once the run has finished.
    pub fn try_now(&self) {
        connect(&self.inner);
    }
}

/// Replaces the feed with a new source resuming after the last event folded in.
fn connect(inner: &Rc<Inner>) {
    if let Some(timer) = inner.retry.take() {
        timer.clear();
    }
    inner.feed.replace(None);
    // The page may be gone (its signals disposed) by the time a timer or handler runs.
    let Some((finished, after)) = inner
        .state
        .try_with_untracked(|s| (s.is_finished(), s.last_seq()))
    else {
        return;
    };
    if finished {
        inner.link.try_set(Link::Ended);
        return;
    }
    inner.next_try.try_set(None);
    match Feed::open(
        &wire::stream_path_after(&inner.run, after),
        Rc::downgrade(inner),
    ) {
        Some(feed) => drop(inner.feed.replace(Some(feed))),
        None => lost(inner),
    }
}

/// The connection is gone before the run's end: close it and try again after a backoff.
/// Called from the source's own handlers, so the feed (which owns them) is dropped later, by
/// the retry, never while one of its closures runs.
fn lost(inner: &Rc<Inner>) {
    if let Some(feed) = inner.feed.borrow().as_ref() {
        feed.source.close();
    }
    if inner
        .link
        .try_get_untracked()
        .is_none_or(|l| l == Link::Ended)
        || inner.retry.borrow().is_some()
    {
        return;
    }
    let failures = inner.failures.get() + 1;
    inner.failures.set(failures);
    let wait = backoff(failures, js_sys::Math::random());
    inner.link.try_set(Link::Reconnecting);
    inner
        .next_try
        .try_set(Some(format::now() + wait.as_millis() as i64));
    let weak = Rc::downgrade(inner);
    let timer = set_timeout_with_handle(
        move || {
            if let Some(inner) = weak.upgrade() {
                inner.retry.take();
                connect(&inner);
            }
        },
        wait,
    )
    .ok();
    inner.retry.replace(timer);
}

/// Events that arrived but are not folded in yet: a replayed history arrives as a burst, and
/// folding it in one update redraws the page once instead of once per event.
type Inbox = Rc<RefCell<Vec<RunEvent>>>;

/// One `EventSource` and its handlers; dropping it closes the connection.
struct Feed {
    source: EventSource,
    _on_event: Closure<dyn FnMut(MessageEvent)>,
    _on_shutdown: Closure<dyn FnMut(Event)>,
    _on_open: Closure<dyn FnMut(Event)>,
    _on_error: Closure<dyn FnMut(Event)>,
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.source.close();
    }
}

impl Feed {
    fn open(url: &str, owner: Weak<Inner>) -> Option<Feed> {
        let source = EventSource::new(url).ok()?;
        let inbox: Inbox = Rc::default();
        let ending = inbox.clone();
        let on_event = {
            let owner = owner.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |message: MessageEvent| {
                let Some(text) = message.data().as_string() else {
                    return;
                };
                match serde_json::from_str::<RunEvent>(&text) {
                    Ok(event) => {
                        let queued = {
                            let mut inbox = inbox.borrow_mut();
                            inbox.push(event);
                            inbox.len()
                        };
                        if queued == 1 {
                            let (inbox, owner) = (inbox.clone(), owner.clone());
                            set_timeout(move || flush(&inbox, &owner), FLUSH_AFTER);
                        }
                    }
                    Err(e) => leptos::logging::warn!("unreadable run event: {e}"),
                }
            })
        };
        let on_shutdown = {
            let owner = owner.clone();
            Closure::<dyn FnMut(Event)>::new(move |_| {
                if let Some(inner) = owner.upgrade() {
                    lost(&inner);
                }
            })
        };
        let on_open = {
            let owner = owner.clone();
            Closure::<dyn FnMut(Event)>::new(move |_| {
                if let Some(inner) = owner.upgrade() {
                    inner.failures.set(0);
                    if inner
                        .link
                        .try_get_untracked()
                        .is_some_and(|l| l != Link::Ended)
                    {
                        inner.link.try_set(Link::Live);
                    }
                }
            })
        };
        // The server ends the stream after the run's final event, which may still wait in
        // the inbox: then the end is expected, and the flush closes the page's link.
        let on_error = Closure::<dyn FnMut(Event)>::new(move |_| {
            let Some(inner) = owner.upgrade() else {
                return;
            };
            if ending.borrow().iter().any(ends_run) {
                if let Some(feed) = inner.feed.borrow().as_ref() {
                    feed.source.close();
                }
            } else {
                lost(&inner);
            }
        });
        source
            .add_event_listener_with_callback("run_event", on_event.as_ref().unchecked_ref())
            .ok()?;
        source
            .add_event_listener_with_callback("shutdown", on_shutdown.as_ref().unchecked_ref())
            .ok()?;
        source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Some(Feed {
            source,
            _on_event: on_event,
            _on_shutdown: on_shutdown,
            _on_open: on_open,
            _on_error: on_error,
        })
    }
}

/// Whether `event` is the run's last (completed, failed, cancelled).
fn ends_run(event: &RunEvent) -> bool {
    event.recorded().is_ok_and(|r| r.event.is_final())
}

/// How long a burst of events may gather before the page redraws.
const FLUSH_AFTER: Duration = Duration::from_millis(40);

fn flush(inbox: &Inbox, owner: &Weak<Inner>) {
    let events = inbox.take();
    // The page may be gone by now (the feed is dropped with it).
    let Some(inner) = owner.upgrade() else {
        return;
    };
    if inner
        .state
        .try_update(|run| {
            for event in events {
                run.apply(event);
            }
        })
        .is_none()
    {
        return;
    }
    // The final event is in: the server ends the stream, and nothing is left to wait for
    // (a retry scheduled by that end, before this burst was folded, is called off).
    if inner
        .state
        .try_with_untracked(RunState::is_finished)
        .unwrap_or(false)
    {
        if let Some(timer) = inner.retry.take() {
            timer.clear();
        }
        if let Some(feed) = inner.feed.borrow().as_ref() {
            feed.source.close();
        }
        inner.next_try.try_set(None);
        inner.link.try_set(Link::Ended);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_doubling_up_to_ten_seconds() {
        let mid = |n| backoff(n, 0.5).as_millis();
        assert_eq!(
            (1..=7).map(mid).collect::<Vec<_>>(),
            [500, 1000, 2000, 4000, 8000, 10_000, 10_000]
        );
        assert_eq!(mid(200), 10_000);
    }

    #[test]
    fn jitter_spreads_a_retry_by_a_fifth_either_way_and_never_past_the_cap() {
        assert_eq!(backoff(1, 0.0).as_millis(), 400);
        assert_eq!(backoff(1, 0.999_999).as_millis(), 599);
        assert!(backoff(9, 0.999).as_millis() <= 10_000);
    }

    #[test]
    fn only_the_runs_final_events_end_it() {
        let event = |kind: &str, data: serde_json::Value| {
            serde_json::from_value::<RunEvent>(
                serde_json::json!({"seq": 1, "at": 1, "type": kind, "data": data}),
            )
            .unwrap()
        };
        assert!(ends_run(&event(
            "run_completed",
            serde_json::json!({"output": {}})
        )));
        assert!(ends_run(&event(
            "run_failed",
            serde_json::json!({"error": "x"})
        )));
        assert!(!ends_run(&event("run_resumed", serde_json::json!({}))));
        assert!(!ends_run(&event("something_new", serde_json::json!({}))));
    }

    #[test]
    fn only_a_live_or_ended_link_allows_acting() {
        assert!(Link::Connecting.offline() && Link::Reconnecting.offline());
        assert!(!Link::Live.offline() && !Link::Ended.offline());
    }
}
