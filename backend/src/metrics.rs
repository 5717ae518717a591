//! Prometheus metrics (`GET /metrics`) through the `metrics` facade and its Prometheus
//! exporter: runs started and finished, attempts by outcome, step latency, task queue depth,
//! SSE clients and group-commit sizes, and schedule fires (started, skipped, delay). The driver records what it committed; nothing else
//! in the engine knows about metrics.

use std::sync::OnceLock;

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use shared::model::NodeKind;

use crate::engine::event::{Event, Recorded};
use crate::engine::state::RunState;

/// Installs the global recorder once per process and returns the handle that renders it.
pub fn handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let secs = [
                0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0, 600.0,
            ];
            let sizes = [1.0, 10.0, 100.0, 1000.0, 10000.0];
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &secs)
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Full("weft_commit_events".into()), &sizes)
                })
                .and_then(PrometheusBuilder::install_recorder)
                .expect("the metrics recorder is installed once")
        })
        .clone()
}

/// Renders the text exposition, with the queue depths read at scrape time.
pub fn render(depths: Vec<(String, usize)>) -> String {
    for (queue, depth) in depths {
        gauge!("weft_task_queue_depth", "queue" => queue).set(depth as f64);
    }
    handle().render()
}

/// Counts what one run's events in a commit mean.
pub fn record(run: &RunState, events: &[Recorded]) {
    for r in events {
        let activity = r
            .event
            .node()
            .and_then(|n| run.node_index(n))
            .map(|i| (i, run.plan.kind(i)));
        let activity = activity.filter(|(_, k)| matches!(k, NodeKind::Http(_) | NodeKind::Task(_)));
        match &r.event {
            Event::RunStarted { .. } => counter!("weft_runs_started_total").increment(1),
            Event::RunCompleted { .. } => {
                counter!("weft_runs_finished_total", "status" => "completed").increment(1)
            }
            Event::RunFailed { .. } => {
                counter!("weft_runs_finished_total", "status" => "failed").increment(1)
            }
            Event::RunCancelled { .. } => {
                counter!("weft_runs_finished_total", "status" => "cancelled").increment(1)
            }
            Event::AttemptFailed { .. } if activity.is_some() => {
                counter!("weft_attempts_total", "outcome" => "failed").increment(1)
            }
            Event::NodeCompleted { .. } | Event::NodeFailed { .. } => {
                let ty = r
                    .event
                    .node()
                    .and_then(|n| run.node_index(n))
                    .map_or("unknown", |i| run.plan.kind(i).type_name());
                if matches!(r.event, Event::NodeCompleted { .. }) && activity.is_some() {
                    counter!("weft_attempts_total", "outcome" => "succeeded").increment(1);
                }
                let started = activity
                    .and_then(|(i, _)| run.nodes[i].started_at)
                    .unwrap_or(r.at);
                histogram!("weft_step_duration_seconds", "type" => ty)
                    .record((r.at - started).max(0) as f64 / 1000.0);
            }
            _ => {}
        }
    }
}

/// The size of one group commit, in events.
pub fn commit(events: usize, seconds: f64) {
    histogram!("weft_commit_events").record(events as f64);
    histogram!("weft_commit_duration_seconds").record(seconds);
}

/// An attempt's result arrived for an attempt that was abandoned (cancelled, timed out, taken
/// over): it changed nothing.
pub fn late_result() {
    counter!("weft_late_results_total").increment(1);
}

/// A shared store's commit found runs another process had appended to; the round is redone.
pub fn conflict() {
    counter!("weft_commit_conflicts_total").increment(1);
}

/// A schedule's fire started its run, `late_ms` after its fire time (by the server's clock).
pub fn schedule_fired(late_ms: i64) {
    counter!("weft_schedule_fires_total").increment(1);
    histogram!("weft_schedule_fire_delay_seconds").record(late_ms as f64 / 1000.0);
}

/// Fire times that started no run: `overlap` (the previous run was still running) or
/// `missed` (older than the catch-up window after downtime).
pub fn schedule_skipped(reason: &'static str, n: u64) {
    counter!("weft_schedule_fires_skipped_total", "reason" => reason).increment(n);
}

/// Runs retention deleted (children included).
pub fn pruned(n: u64) {
    counter!("weft_runs_pruned_total").increment(n);
}

/// Counts an open SSE stream for as long as it lives.
pub struct SseClient;

impl SseClient {
    pub fn open() -> SseClient {
        gauge!("weft_sse_clients").increment(1.0);
        SseClient
    }
}

impl Drop for SseClient {
    fn drop(&mut self) {
        gauge!("weft_sse_clients").decrement(1.0);
    }
}
