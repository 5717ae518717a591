//! The retry policy of an `http` or `task` node, with the schedule of waits it results in
//! (`1s → 2s → 4s`), computed by the same backoff arithmetic the engine uses.

use std::time::Duration;

use leptos::prelude::*;
use shared::model::{NodeKind, RetryPolicy};

use super::{DurationField, edit};
use crate::pages::designer::Ctx;

/// The retry fields of node `id`, which has `policy` now.
pub(super) fn retry_fields(ctx: Ctx, id: String, policy: Option<RetryPolicy>) -> impl IntoView {
    view! { <RetryFields ctx id policy /> }
}

/// The retry policy of an `http` or `task` node, and the schedule it results in.
#[component]
fn RetryFields(ctx: Ctx, id: String, policy: Option<RetryPolicy>) -> impl IntoView {
    let p = policy.unwrap_or_default();
    let set = {
        let id = id.clone();
        move |field: &'static str, change: Box<dyn FnOnce(&mut RetryPolicy)>| {
            edit(ctx, &id, field, |n| {
                let retry = match &mut n.kind {
                    NodeKind::Http(h) => &mut h.retry,
                    NodeKind::Task(t) => &mut t.retry,
                    _ => return,
                };
                let mut policy = retry.take().unwrap_or_default();
                change(&mut policy);
                *retry = (policy != RetryPolicy::default()).then_some(policy);
            })
        }
    };
    let attempts_error = RwSignal::new(None::<String>);
    let coefficient_error = RwSignal::new(None::<String>);
    let schedule = move || {
        ctx.workflow.with(|wf| {
            wf.node(&id)
                .and_then(|n| n.kind.retry())
                .map(|r| schedule_text(r.max_attempts, |n| r.backoff(n)))
        })
    };
    let (s1, s2, s3, s4) = (set.clone(), set.clone(), set.clone(), set);
    view! {
        <fieldset class="fieldset" data-testid="retry-policy">
            <legend>"Retry policy"</legend>
            <div class="field-row">
                <label class="field">
                    <span class="field-label">"Max attempts"</span>
                    <input
                        class="input"
                        class:invalid=move || attempts_error.get().is_some()
                        type="number"
                        min="1"
                        data-testid="field-max-attempts"
                        placeholder="3"
                        value=p.max_attempts.map(|n| n.to_string()).unwrap_or_default()
                        on:input=move |ev| {
                            let text = event_target_value(&ev);
                            let parsed = if text.trim().is_empty() { Ok(None) } else { text.trim().parse::<i64>().map(Some) };
                            match parsed {
                                Ok(Some(n)) if n < 1 => attempts_error.set(Some("At least 1".into())),
                                Ok(v) => {
                                    attempts_error.set(None);
                                    s1("retry.max_attempts", Box::new(move |p| p.max_attempts = v));
                                }
                                Err(_) => attempts_error.set(Some("A whole number".into())),
                            }
                        }
                    />
                    {move || attempts_error.get().map(|e| view! { <span class="field-error" data-testid="field-error">{e}</span> })}
                </label>
                <label class="field">
                    <span class="field-label">"Backoff ×"</span>
                    <input
                        class="input"
                        class:invalid=move || coefficient_error.get().is_some()
                        type="number"
                        min="1"
                        step="0.5"
                        data-testid="field-backoff"
                        placeholder="2"
                        value=p.backoff_coefficient.map(|n| n.to_string()).unwrap_or_default()
                        on:input=move |ev| {
                            let text = event_target_value(&ev);
                            let parsed = if text.trim().is_empty() { Ok(None) } else { text.trim().parse::<f64>().map(Some) };
                            match parsed {
                                Ok(Some(c)) if c < 1.0 => coefficient_error.set(Some("At least 1".into())),
                                Ok(v) => {
                                    coefficient_error.set(None);
                                    s2("retry.backoff", Box::new(move |p| p.backoff_coefficient = v));
                                }
                                Err(_) => coefficient_error.set(Some("A number".into())),
                            }
                        }
                    />
                    {move || coefficient_error.get().map(|e| view! { <span class="field-error" data-testid="field-error">{e}</span> })}
                </label>
            </div>
            <div class="field-row">
                <DurationField label="First wait" testid="field-initial-interval" value=p.initial_interval.clone() placeholder="1s" on_input={move |v| s3("retry.initial", Box::new(move |p| p.initial_interval = v))} />
                <DurationField label="Longest wait" testid="field-max-interval" value=p.max_interval.clone() placeholder="100 × first" on_input={move |v| s4("retry.max_interval", Box::new(move |p| p.max_interval = v))} />
            </div>
            <p class="retry-schedule" data-testid="retry-schedule">{schedule}</p>
        </fieldset>
    }
}

/// `3 attempts; waits 1s → 2s between them`, from the policy's backoff.
fn schedule_text(attempts: u32, backoff: impl Fn(u32) -> Duration) -> String {
    if attempts <= 1 {
        return "1 attempt, no retries".to_owned();
    }
    const SHOWN: u32 = 6;
    let mut waits: Vec<String> = (1..attempts.min(SHOWN + 1))
        .map(|n| format_duration(backoff(n)))
        .collect();
    if attempts > SHOWN + 1 {
        waits.push(format!("… ({} more)", attempts - SHOWN - 1));
    }
    format!(
        "{attempts} attempts; waits {} between them",
        waits.join(" → ")
    )
}

/// A duration the way people write them: `500ms`, `4s`, `1.5s`, `2m`, `1h30m`.
fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        return format!("{ms}ms");
    }
    if ms < 60_000 {
        return if ms.is_multiple_of(1000) {
            format!("{}s", ms / 1000)
        } else {
            format!("{:.1}s", ms as f64 / 1000.0)
        };
    }
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out += &format!("{h}h");
    }
    if m > 0 {
        out += &format!("{m}m");
    }
    if s > 0 {
        out += &format!("{s}s");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::model::DurationText;

    #[test]
    fn schedule_shows_each_wait() {
        let r = RetryPolicy::resolve(None);
        assert_eq!(
            schedule_text(r.max_attempts, |n| r.backoff(n)),
            "3 attempts; waits 1s → 2s between them"
        );
        assert_eq!(
            schedule_text(1, |_| Duration::ZERO),
            "1 attempt, no retries"
        );
        let r = RetryPolicy::resolve(Some(&RetryPolicy {
            max_attempts: Some(10),
            initial_interval: Some(DurationText("500ms".into())),
            ..Default::default()
        }));
        assert_eq!(
            schedule_text(r.max_attempts, |n| r.backoff(n)),
            "10 attempts; waits 500ms → 1s → 2s → 4s → 8s → 16s → … (3 more) between them"
        );
    }

    #[test]
    fn durations_read_like_they_are_written() {
        assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m");
        assert_eq!(format_duration(Duration::from_secs(60)), "1m");
    }
}
