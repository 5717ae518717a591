//! The run's live feed: an `EventSource` on `GET /api/runs/{id}/stream`, folded into
//! [`RunState`] as events arrive.
//!
//! After a network drop the browser reconnects by itself and sends `Last-Event-ID`, so the
//! server resumes after the last `seq` seen. A new page (a reload) starts a new source from
//! the beginning: the history is replayed and [`RunState::apply`] drops what it has seen.
//! The server ends the stream after the run's final event; the source is closed then, or the
//! browser would keep reconnecting to a stream with nothing more to say.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{Event, EventSource, MessageEvent};

use super::state::RunState;
use super::wire;
use shared::api::RunEvent;

/// How the page is connected to the run's stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Connecting,
    Live,
    /// The connection dropped; the browser is trying again.
    Reconnecting,
    /// The run finished and its whole history is here.
    Ended,
    /// The server refused the stream (the browser gave up).
    Lost,
}

/// Events that arrived but are not folded in yet: a replayed history arrives as a burst, and
/// folding it in one update redraws the page once instead of once per event.
type Inbox = Rc<RefCell<Vec<RunEvent>>>;

/// An open stream; dropping it closes the connection.
pub struct Feed {
    source: EventSource,
    _on_event: Closure<dyn FnMut(MessageEvent)>,
    _on_open: Closure<dyn FnMut(Event)>,
    _on_error: Closure<dyn FnMut(Event)>,
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.source.close();
    }
}

/// Opens the stream of `run` and folds what it sends into `state`, reporting the connection
/// in `link`.
pub fn open(run: &str, state: RwSignal<RunState>, link: RwSignal<Link>) -> Option<Feed> {
    link.set(Link::Connecting);
    let source = match EventSource::new(&wire::stream_path(run)) {
        Ok(source) => source,
        Err(_) => {
            link.set(Link::Lost);
            return None;
        }
    };
    let inbox: Inbox = Rc::default();

    let on_event = {
        let source = source.clone();
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
                        let inbox = inbox.clone();
                        let source = source.clone();
                        set_timeout(move || flush(&inbox, &source, state, link), FLUSH_AFTER);
                    }
                }
                Err(e) => leptos::logging::warn!("unreadable run event: {e}"),
            }
        })
    };
    let on_open = Closure::<dyn FnMut(Event)>::new(move |_| {
        if link.get_untracked() != Link::Ended {
            link.set(Link::Live);
        }
    });
    let on_error = {
        let source = source.clone();
        Closure::<dyn FnMut(Event)>::new(move |_| {
            if link.get_untracked() == Link::Ended {
                return;
            }
            link.set(if source.ready_state() == EventSource::CLOSED {
                Link::Lost
            } else {
                Link::Reconnecting
            });
        })
    };
    source
        .add_event_listener_with_callback("run_event", on_event.as_ref().unchecked_ref())
        .ok()?;
    source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    Some(Feed {
        source,
        _on_event: on_event,
        _on_open: on_open,
        _on_error: on_error,
    })
}

/// How long a burst of events may gather before the page redraws.
const FLUSH_AFTER: Duration = Duration::from_millis(40);

fn flush(inbox: &Inbox, source: &EventSource, state: RwSignal<RunState>, link: RwSignal<Link>) {
    let events = inbox.take();
    // The page may be gone by now (the feed is dropped with it).
    if state
        .try_update(|run| {
            for event in events {
                run.apply(event);
            }
        })
        .is_none()
    {
        return;
    }
    if state.with_untracked(RunState::is_finished) {
        source.close();
        link.set(Link::Ended);
    }
}
