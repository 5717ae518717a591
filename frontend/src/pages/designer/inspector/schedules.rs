//! The workflow's cron schedules (SPEC §5), in its settings: add and remove schedules, and
//! edit each one's cron, zone, overlap policy, catch-up window and run input. The cron and the
//! zone are read as they are typed by `shared::schedule`, the code the server's scheduler
//! runs, so the error under a field and the next fire times listed are the server's own.

use chrono::{TimeZone, Timelike, Utc};
use chrono_tz::{TZ_VARIANTS, Tz};
use leptos::prelude::*;
use shared::event::Millis;
use shared::model::{ScheduleTrigger, Triggers};
use shared::schedule::{Overlap, Schedule, ScheduleError, parse_cron, parse_timezone};

use super::{DurationField, JsonField, non_empty};
use crate::pages::designer::Ctx;

/// How many fire times the preview lists.
const PREVIEW: usize = 5;
/// The id of the `<datalist>` of IANA zone names every zone input offers.
const ZONES: &str = "schedule-zones";

/// One upcoming fire time, for the preview.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Fire {
    /// As a person reads it, in the schedule's zone: `Mon 2026-12-07 02:00 CET`.
    text: String,
    /// Exact, with the zone's offset (RFC 3339), for the tooltip.
    exact: String,
}

/// What is wrong with a cron as typed, said the way the field shows it; `None` when the
/// server would take it.
fn cron_problem(text: &str) -> Option<String> {
    if text.trim().is_empty() {
        return Some(
            "Required: 5 fields (minute hour day-of-month month day-of-week), 6 with seconds first, or @hourly, @daily…"
                .to_owned(),
        );
    }
    match parse_cron(text) {
        Ok(_) => None,
        Err(ScheduleError::Cron { why, .. }) => Some(why),
        Err(other) => Some(other.to_string()),
    }
}

/// What is wrong with a zone as typed (blank means UTC); `None` when it is an IANA name.
fn zone_problem(text: &str) -> Option<String> {
    let text = text.trim();
    parse_timezone((!text.is_empty()).then_some(text))
        .err()
        .map(|e| e.to_string())
}

/// The next `n` fire times strictly after `now`, shown in the schedule's zone. Seconds are
/// shown only when some fire time has them (a 6-field cron).
fn preview(
    cron: &str,
    zone: Option<&str>,
    now: Millis,
    n: usize,
) -> Result<Vec<Fire>, ScheduleError> {
    let schedule = Schedule::parse(cron, zone)?;
    let tz = schedule.timezone();
    let fires = schedule.fires_after(now, n);
    let seconds = fires
        .iter()
        .any(|&at| in_zone(at, tz).is_some_and(|t| t.second() != 0));
    let pattern = if seconds {
        "%a %Y-%m-%d %H:%M:%S %Z"
    } else {
        "%a %Y-%m-%d %H:%M %Z"
    };
    Ok(fires
        .into_iter()
        .map(|at| Fire {
            text: in_zone(at, tz).map_or_else(|| at.to_string(), |t| t.format(pattern).to_string()),
            exact: schedule.show(at),
        })
        .collect())
}

fn in_zone(at: Millis, tz: Tz) -> Option<chrono::DateTime<Tz>> {
    Utc.timestamp_millis_opt(at)
        .single()
        .map(|t| t.with_timezone(&tz))
}

/// Applies `change` to the schedule list. Edits with the same `field` key make one undo step
/// (keystrokes in one field); `None` makes a step of its own (adding, removing). A `triggers`
/// object left empty is dropped, as the webhook checkbox does.
fn edit_schedules(ctx: Ctx, field: Option<String>, change: impl FnOnce(&mut Vec<ScheduleTrigger>)) {
    let key = field.map(|f| format!("workflow:schedules:{f}"));
    ctx.editor.update(|e| {
        e.edit(key.as_deref(), |w| {
            let mut t = w.triggers.take().unwrap_or_default();
            change(&mut t.schedules);
            w.triggers = (t != Triggers::default()).then_some(t);
        });
    });
}

/// The schedules fieldset of the workflow settings.
pub(super) fn schedules(ctx: Ctx) -> impl IntoView {
    view! { <Schedules ctx /> }
}

#[component]
fn Schedules(ctx: Ctx) -> impl IntoView {
    // Each form is known by a key that stays when a schedule before it is removed, so the
    // forms after it keep what is typed in them; a form finds its index from its key.
    let count = ctx.workflow.with_untracked(|w| w.schedules().len()) as u64;
    let keys = RwSignal::new((0..count).collect::<Vec<u64>>());
    let next_key = StoredValue::new(count);
    let add = move |_| {
        edit_schedules(ctx, None, |s| {
            s.push(ScheduleTrigger {
                cron: String::new(),
                timezone: None,
                input: None,
                overlap: None,
                catchup_window: None,
            });
        });
        let key = next_key.get_value();
        next_key.set_value(key + 1);
        keys.update(|k| k.push(key));
    };
    let zones = TZ_VARIANTS
        .iter()
        .map(|tz| view! { <option value=tz.name()></option> })
        .collect_view();
    view! {
        <fieldset class="fieldset" data-testid="schedules">
            <legend>"Schedules"</legend>
            <span class="field-hint">
                "Each schedule starts a run at every time its cron matches, on the wall clock of its zone."
            </span>
            <For each=move || keys.get() key=|k| *k let:key>
                <ScheduleForm ctx keys key />
            </For>
            <button class="btn btn-small add-schedule" data-testid="add-schedule" on:click=add>
                "+ Add schedule"
            </button>
            <datalist id=ZONES>{zones}</datalist>
        </fieldset>
    }
}

/// Applies `change` to the schedule whose form has `key`, in the undo step of its `field`.
fn edit_one(
    ctx: Ctx,
    keys: RwSignal<Vec<u64>>,
    key: u64,
    field: &str,
    change: impl FnOnce(&mut ScheduleTrigger),
) {
    let Some(i) = keys.with_untracked(|k| k.iter().position(|x| *x == key)) else {
        return;
    };
    edit_schedules(ctx, Some(format!("{i}:{field}")), |s| {
        if let Some(s) = s.get_mut(i) {
            change(s);
        }
    });
}

/// One schedule's form.
#[component]
fn ScheduleForm(ctx: Ctx, keys: RwSignal<Vec<u64>>, key: u64) -> impl IntoView {
    let index = move || keys.with(|k| k.iter().position(|x| *x == key));
    let spec = index().and_then(|i| {
        ctx.workflow
            .with_untracked(|w| w.schedules().get(i).cloned())
    });
    let Some(spec) = spec else {
        return ().into_any();
    };
    let cron = RwSignal::new(spec.cron.clone());
    let zone = RwSignal::new(spec.timezone.clone().unwrap_or_default());
    let cron_error = move || cron.with(|c| cron_problem(c));
    let zone_error = move || zone.with(|z| zone_problem(z));
    let fires = move || {
        let now = js_sys::Date::now() as Millis;
        let zone = non_empty(zone.get());
        cron.with(|c| preview(c, zone.as_deref(), now, PREVIEW))
            .ok()
    };
    let overlap = spec.overlap_policy();
    let remove = move |_| {
        let Some(i) = keys.with_untracked(|k| k.iter().position(|x| *x == key)) else {
            return;
        };
        edit_schedules(ctx, None, |s| {
            if i < s.len() {
                s.remove(i);
            }
        });
        keys.update(|k| k.retain(|x| *x != key));
    };
    view! {
        <div class="schedule" data-testid="schedule" data-index=move || index().unwrap_or_default().to_string()>
            <div class="schedule-head">
                <strong>{move || format!("Schedule {}", index().unwrap_or_default())}</strong>
                <button class="btn btn-small btn-danger" data-testid="remove-schedule" on:click=remove>
                    "Remove"
                </button>
            </div>
            <label class="field">
                <span class="field-label">"Cron"</span>
                <input
                    class="input code-input"
                    class:invalid=move || cron_error().is_some()
                    data-testid="field-schedule-cron"
                    value=spec.cron.clone()
                    placeholder="0 2 * * *"
                    spellcheck="false"
                    on:input=move |ev| {
                        let v = event_target_value(&ev);
                        cron.set(v.clone());
                        edit_one(ctx, keys, key, "cron", |s| s.cron = v);
                    }
                />
                {move || match cron_error() {
                    Some(e) => view! { <span class="field-error" data-testid="schedule-cron-error">{e}</span> }.into_any(),
                    None => view! {
                        <span class="field-hint">"minute hour day-of-month month day-of-week; 6 fields put seconds first"</span>
                    }.into_any(),
                }}
            </label>
            <label class="field">
                <span class="field-label">"Time zone"</span>
                <input
                    class="input"
                    class:invalid=move || zone_error().is_some()
                    data-testid="field-schedule-timezone"
                    list=ZONES
                    value=spec.timezone.clone().unwrap_or_default()
                    placeholder="UTC"
                    spellcheck="false"
                    autocomplete="off"
                    on:input=move |ev| {
                        let v = event_target_value(&ev);
                        zone.set(v.clone());
                        edit_one(ctx, keys, key, "timezone", |s| s.timezone = non_empty(v.trim().to_owned()));
                    }
                />
                {move || zone_error().map(|e| view! { <span class="field-error" data-testid="schedule-timezone-error">{e}</span> })}
            </label>
            {move || fires().map(|fires| {
                let zone_name = non_empty(zone.get()).unwrap_or_else(|| "UTC".to_owned());
                view! {
                    <div class="schedule-next">
                        <span class="field-label">{format!("Next fire times ({})", zone_name.trim())}</span>
                        {if fires.is_empty() {
                            view! { <span class="field-hint" data-testid="schedule-never">"It never fires again."</span> }.into_any()
                        } else {
                            view! {
                                <ol class="fire-list" data-testid="schedule-next">
                                    {fires.into_iter().map(|f| view! {
                                        <li data-testid="schedule-next-fire" title=f.exact>{f.text}</li>
                                    }).collect_view()}
                                </ol>
                            }.into_any()
                        }}
                    </div>
                }
            })}
            <label class="field">
                <span class="field-label">"If the last run is still running"</span>
                <select
                    class="input"
                    data-testid="field-schedule-overlap"
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        // The default is left unwritten, as a hand-written definition would.
                        edit_one(ctx, keys, key, "overlap", |s| {
                            s.overlap = (v != Overlap::default().as_str()).then_some(v);
                        });
                    }
                >
                    {Overlap::ALL.map(|o| view! {
                        <option value=o.as_str() selected=o == overlap>{overlap_text(o)}</option>
                    })}
                </select>
            </label>
            <DurationField
                label="Catch-up window"
                testid="field-schedule-catchup"
                value=spec.catchup_window.clone()
                placeholder="1m"
                on_input=move |v| edit_one(ctx, keys, key, "catchup_window", |s| s.catchup_window = v)
            />
            <JsonField
                label="Run input (JSON)"
                testid="field-schedule-input"
                value=spec.input.clone()
                hint="Each run of this schedule starts with it; {} when empty."
                on_input=move |v| edit_one(ctx, keys, key, "input", |s| s.input = v)
            />
        </div>
    }
    .into_any()
}

/// An overlap policy as the select offers it.
fn overlap_text(o: Overlap) -> &'static str {
    match o {
        Overlap::Skip => "skip: start nothing (default)",
        Overlap::BufferOne => "buffer_one: start when it ends",
        Overlap::AllowAll => "allow_all: start anyway",
        Overlap::CancelOther => "cancel_other: cancel it, then start",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(rfc3339: &str) -> Millis {
        chrono::DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn the_preview_lists_fire_times_on_the_zones_wall_clock() {
        let fires = preview(
            "0 2 * * *",
            Some("Europe/Berlin"),
            ms("2026-03-27T12:00:00Z"),
            3,
        )
        .unwrap();
        let texts: Vec<_> = fires.iter().map(|f| f.text.as_str()).collect();
        // Berlin moves its clocks on 2026-03-29, between 02:00 and 03:00: that day's fire
        // comes at the jump, and the zone's abbreviation changes with it.
        assert_eq!(
            texts,
            [
                "Sat 2026-03-28 02:00 CET",
                "Sun 2026-03-29 03:00 CEST",
                "Mon 2026-03-30 02:00 CEST"
            ]
        );
        assert_eq!(fires[0].exact, "2026-03-28T02:00:00+01:00");
        // Without a zone: UTC.
        let utc = preview("30 6 * * 1", None, ms("2026-03-27T12:00:00Z"), 1).unwrap();
        assert_eq!(utc[0].text, "Mon 2026-03-30 06:30 UTC");
    }

    #[test]
    fn seconds_show_only_when_the_cron_has_them() {
        let fires = preview("*/20 * * * * *", Some("UTC"), ms("2026-03-27T12:00:00Z"), 2).unwrap();
        assert_eq!(fires[0].text, "Fri 2026-03-27 12:00:20 UTC");
        assert_eq!(fires[1].text, "Fri 2026-03-27 12:00:40 UTC");
        let whole = preview("0 0 * * * *", None, ms("2026-03-27T12:00:00Z"), 1).unwrap();
        assert_eq!(whole[0].text, "Fri 2026-03-27 13:00 UTC");
    }

    #[test]
    fn problems_are_named_per_field() {
        assert_eq!(cron_problem("0 2 * * *"), None);
        assert_eq!(cron_problem("@daily"), None);
        assert!(cron_problem("").unwrap().starts_with("Required"));
        assert!(cron_problem("0 2 * *").unwrap().contains("has 4 fields"));
        assert!(cron_problem("61 * * * *").is_some());
        assert!(cron_problem("0 0 30 2 *").unwrap().contains("never fire"));
        assert_eq!(zone_problem(""), None);
        assert_eq!(zone_problem("Europe/Berlin"), None);
        assert!(
            zone_problem("Mars/Olympus")
                .unwrap()
                .contains("Mars/Olympus")
        );
        assert!(preview("0 2 * * *", Some("Mars/Olympus"), 0, 5).is_err());
    }
}
