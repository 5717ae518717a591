//! The runs feed (`GET /api/runs/stream`): one change per commit that moved a run. Dropping
//! a [`Feed`] closes the connection.

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{Event, EventSource, MessageEvent};

use crate::pages::run::wire;
use shared::api::RunChange;

/// The callback gets each change, or `None` when the page should reload: the server says it
/// fell behind, or the feed has just (re)connected and changes made before that were not
/// sent (the feed has no replay).
pub struct Feed {
    source: EventSource,
    _on_run: Closure<dyn FnMut(MessageEvent)>,
    _on_resync: Closure<dyn FnMut(Event)>,
}

impl Feed {
    pub fn open(
        workflow: Option<&str>,
        on_change: impl Fn(Option<RunChange>) + Clone + 'static,
    ) -> Option<Feed> {
        let source = EventSource::new(&wire::feed_path(workflow)).ok()?;
        let on_resync = {
            let on_change = on_change.clone();
            Closure::<dyn FnMut(Event)>::new(move |_| on_change(None))
        };
        let on_run = Closure::<dyn FnMut(MessageEvent)>::new(move |message: MessageEvent| {
            let change = message
                .data()
                .as_string()
                .and_then(|text| serde_json::from_str::<RunChange>(&text).ok());
            if let Some(change) = change {
                on_change(Some(change));
            }
        });
        source
            .add_event_listener_with_callback("run", on_run.as_ref().unchecked_ref())
            .ok()?;
        source
            .add_event_listener_with_callback("resync", on_resync.as_ref().unchecked_ref())
            .ok()?;
        source.set_onopen(Some(on_resync.as_ref().unchecked_ref()));
        Some(Feed {
            source,
            _on_run: on_run,
            _on_resync: on_resync,
        })
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.source.close();
    }
}
