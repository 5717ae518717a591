//! The events of a run's log, defined once in `shared` (the browser folds the same ones).

pub use shared::event::{
    ChildStatus, Event, HttpRequestRecord, HttpResponseRecord, Millis, Parent, Recorded, RedriveOf,
    TestRun, Trigger,
};
