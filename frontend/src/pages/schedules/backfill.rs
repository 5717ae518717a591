//! The backfill dialog: a range picked in the browser's own time, counted by the server's dry
//! run as it is picked ("This will start N runs (M already exist)"), then started on
//! confirmation. The server reads the schedule's cron, so the count is exactly what Confirm
//! starts.

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::api::{BackfillBody, BackfillResult, Moment, ScheduleView};
use shared::event::Millis;
use wasm_bindgen::JsValue;

use crate::api;
use crate::components::modal::Modal;
use crate::pages::run::format;

/// Why a range cannot be counted yet; said under the range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RangeError {
    NoStart,
    NoEnd,
    Backwards,
}

impl RangeError {
    fn message(self) -> &'static str {
        match self {
            RangeError::NoStart => "Pick when the range starts.",
            RangeError::NoEnd => "Pick when the range ends.",
            RangeError::Backwards => "The end must come after the start.",
        }
    }
}

/// The range `[from, to)` the inputs hold.
fn range(from: Option<Millis>, to: Option<Millis>) -> Result<(Millis, Millis), RangeError> {
    let from = from.ok_or(RangeError::NoStart)?;
    let to = to.ok_or(RangeError::NoEnd)?;
    if to <= from {
        return Err(RangeError::Backwards);
    }
    Ok((from, to))
}

fn runs(n: usize) -> String {
    format!("{n} run{}", if n == 1 { "" } else { "s" })
}

/// What a dry run found, said before anything starts.
fn count_text(r: &BackfillResult) -> String {
    if r.fires == 0 {
        return "The schedule does not fire in this range: nothing to start.".to_owned();
    }
    let new = r.fires.saturating_sub(r.existing);
    let verb = if r.existing == 1 { "exists" } else { "exist" };
    format!(
        "This will start {} ({} already {verb}).",
        runs(new),
        r.existing
    )
}

/// What a backfill did.
fn result_text(r: &BackfillResult) -> String {
    let verb = if r.existing == 1 { "was" } else { "were" };
    format!(
        "Started {}; {} {verb} there already.",
        runs(r.started),
        r.existing
    )
}

/// A `datetime-local` input's value (`2026-12-06T18:00`) for `ms`, in the browser's time.
fn local_input(ms: Millis) -> String {
    let d = js_sys::Date::new(&(ms as f64).into());
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes()
    )
}

/// A `datetime-local` input's value as an instant: JavaScript reads a date-time without an
/// offset as local time, as the input shows it.
fn local_ms(text: &str) -> Option<Millis> {
    if text.is_empty() {
        return None;
    }
    let t = js_sys::Date::new(&JsValue::from_str(text)).get_time();
    (!t.is_nan()).then_some(t as Millis)
}

/// The browser's IANA zone, to say what the inputs mean.
fn browser_zone() -> String {
    let options = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
        .resolved_options();
    js_sys::Reflect::get(&options, &JsValue::from_str("timeZone"))
        .ok()
        .and_then(|z| z.as_string())
        .unwrap_or_else(|| "local time".to_owned())
}

/// Where the dialog is.
#[derive(Debug, Clone, PartialEq)]
enum Phase {
    /// The range is not one yet (its error shows).
    Picking,
    Counting,
    Counted(BackfillResult),
    Starting,
    Done(BackfillResult),
    /// The server refused the dry run or the backfill.
    Failed(String),
}

fn post(
    s: &ScheduleView,
    from: Millis,
    to: Millis,
    dry_run: bool,
) -> impl Future<Output = api::Result<BackfillResult>> + use<> {
    let url = format!(
        "/api/workflows/{}/schedules/{}/backfill",
        s.workflow, s.index
    );
    let body = BackfillBody {
        from: Moment::Millis(from),
        to: Moment::Millis(to),
        dry_run,
    };
    async move { api::post_json(&url, &body).await }
}

/// The dialog for `schedule`; `close` hides it, `done` is told when runs were started.
pub(super) fn backfill_dialog(
    schedule: ScheduleView,
    close: impl Fn(()) + Send + Sync + 'static,
    done: impl Fn(()) + Send + Sync + 'static,
) -> impl IntoView {
    view! { <BackfillDialog schedule close done /> }
}

#[component]
fn BackfillDialog(
    schedule: ScheduleView,
    #[prop(into)] close: Callback<()>,
    #[prop(into)] done: Callback<()>,
) -> impl IntoView {
    let end = format::now() / 60_000 * 60_000;
    let from_text = RwSignal::new(local_input(end - 86_400_000));
    let to_text = RwSignal::new(local_input(end));
    let picked = Memo::new(move |_| {
        range(
            from_text.with(|t| local_ms(t)),
            to_text.with(|t| local_ms(t)),
        )
    });
    let phase = RwSignal::new(Phase::Picking);
    // Only the answer for the range shown counts.
    let generation = StoredValue::new(0u32);
    let target = StoredValue::new(schedule.clone());
    Effect::new(move |_| {
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        let Ok((from, to)) = picked.get() else {
            phase.set(Phase::Picking);
            return;
        };
        phase.set(Phase::Counting);
        let call = target.with_value(|s| post(s, from, to, true));
        spawn_local(async move {
            let answer = call.await;
            if generation.try_get_value() != Some(mine) {
                return;
            }
            phase.set(match answer {
                Ok(r) => Phase::Counted(r),
                Err(e) => Phase::Failed(e.error.message),
            });
        });
    });
    let confirm = move |_| {
        let Ok((from, to)) = picked.get_untracked() else {
            return;
        };
        generation.update_value(|g| *g += 1);
        phase.set(Phase::Starting);
        let call = target.with_value(|s| post(s, from, to, false));
        spawn_local(async move {
            match call.await {
                Ok(r) => {
                    phase.set(Phase::Done(r));
                    let _ = done.try_run(());
                }
                Err(e) => phase.set(Phase::Failed(e.error.message)),
            }
        });
    };
    let busy = move || matches!(phase.get(), Phase::Counting | Phase::Starting);
    let finished = move || matches!(phase.get(), Phase::Done(_));
    let can_start = move || matches!(phase.get(), Phase::Counted(ref r) if r.fires > r.existing);
    let runs_href = format!("/runs?workflow={}", schedule.workflow);
    let caption = format!(
        "In your browser's time ({}). The schedule fires at {} in {}; each fire time in the range starts one run, once: fire times that already have their run are left alone.",
        browser_zone(),
        schedule.cron,
        schedule.timezone
    );
    let input = move |text: RwSignal<String>| {
        move |ev: leptos::ev::Event| {
            text.set(event_target_value(&ev));
        }
    };
    view! {
        <Modal class="bulk-dialog" testid="backfill-dialog" labelled_by="backfill-title" close=close>
                <div class="card-head">
                    <h2 id="backfill-title">
                        {format!("Backfill {} · schedule {}", schedule.workflow, schedule.index)}
                    </h2>
                </div>
                <div class="card-body">
                    <div class="range">
                        <label class="field">
                            <span class="field-label">"From (included)"</span>
                            <input
                                class="input"
                                type="datetime-local"
                                data-testid="backfill-from"
                                prop:value=move || from_text.get()
                                disabled=finished
                                on:input=input(from_text)
                            />
                        </label>
                        <label class="field">
                            <span class="field-label">"To (excluded)"</span>
                            <input
                                class="input"
                                type="datetime-local"
                                data-testid="backfill-to"
                                prop:value=move || to_text.get()
                                disabled=finished
                                on:input=input(to_text)
                            />
                        </label>
                    </div>
                    <p class="caption">{caption}</p>
                    {move || match (picked.get(), phase.get()) {
                        (Err(e), _) => view! {
                            <p class="form-error" role="alert" data-testid="backfill-range-error">{e.message()}</p>
                        }.into_any(),
                        (_, Phase::Picking) => ().into_any(),
                        (_, Phase::Counting) => view! {
                            <p class="pending"><span class="spinner" aria-hidden="true"></span>"Counting the fire times…"</p>
                        }.into_any(),
                        (_, Phase::Counted(r)) => view! {
                            <p class="backfill-count" data-testid="backfill-count">{count_text(&r)}</p>
                        }.into_any(),
                        (_, Phase::Starting) => view! {
                            <p class="pending"><span class="spinner" aria-hidden="true"></span>"Starting the runs…"</p>
                        }.into_any(),
                        (_, Phase::Done(r)) => view! {
                            <p class="backfill-count" data-testid="backfill-result">
                                {result_text(&r)} " "
                                <a class="run-link" href=runs_href.clone() data-testid="backfill-runs">"See them on the runs page"</a>
                            </p>
                        }.into_any(),
                        (_, Phase::Failed(m)) => view! {
                            <p class="form-error" role="alert" data-testid="backfill-error">{m}</p>
                        }.into_any(),
                    }}
                    <div class="card-actions">
                        <button class="btn" data-testid="backfill-close" on:click=move |_| close.run(())>
                            {move || if finished() { "Close" } else { "Cancel" }}
                        </button>
                        <Show when=move || !finished()>
                            <button
                                class="btn btn-primary"
                                data-testid="backfill-confirm"
                                disabled=move || busy() || !can_start()
                                on:click=confirm
                            >
                                {move || match phase.get() {
                                    Phase::Counted(r) if r.fires > r.existing => format!("Start {}", runs(r.fires - r.existing)),
                                    _ => "Start runs".to_owned(),
                                }}
                            </button>
                        </Show>
                    </div>
                </div>
        </Modal>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(fires: usize, started: usize, existing: usize) -> BackfillResult {
        BackfillResult {
            workflow: "nightly".into(),
            index: 0,
            fires,
            started,
            existing,
            dry_run: started == 0,
        }
    }

    #[test]
    fn a_range_needs_both_ends_in_order() {
        assert_eq!(range(Some(1), Some(2)), Ok((1, 2)));
        assert_eq!(range(None, Some(2)), Err(RangeError::NoStart));
        assert_eq!(range(Some(1), None), Err(RangeError::NoEnd));
        assert_eq!(range(Some(2), Some(2)), Err(RangeError::Backwards));
        assert_eq!(range(Some(3), Some(2)), Err(RangeError::Backwards));
    }

    #[test]
    fn the_count_says_what_starts_and_what_is_there() {
        assert_eq!(
            count_text(&result(3, 0, 0)),
            "This will start 3 runs (0 already exist)."
        );
        assert_eq!(
            count_text(&result(3, 0, 2)),
            "This will start 1 run (2 already exist)."
        );
        assert_eq!(
            count_text(&result(4, 0, 1)),
            "This will start 3 runs (1 already exists)."
        );
        assert!(count_text(&result(0, 0, 0)).contains("does not fire"));
        assert_eq!(
            result_text(&result(3, 2, 1)),
            "Started 2 runs; 1 was there already."
        );
        assert_eq!(
            result_text(&result(1, 1, 0)),
            "Started 1 run; 0 were there already."
        );
    }
}
