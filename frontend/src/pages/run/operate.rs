//! Operating a run from its header (SPEC §6): which of Cancel, Pause, Resume and Redrive the
//! run's status allows, and the Pause/Resume button. Deciding the buttons is a pure function
//! of the status, so it is tested without a browser and the header never offers an action the
//! server would refuse outright.

use leptos::prelude::*;

use super::actions::settle;
use super::live::{OFFLINE_REASON, offline};
use super::wire::{self, RunStatus};
use crate::access::{Action, denied};

/// The header's run-level actions that apply now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Controls {
    pub cancel: bool,
    pub pause: bool,
    pub resume: bool,
    pub redrive: bool,
}

/// What a run in `status` (`None`: not started yet) can be asked to do. A run being cancelled
/// takes nothing more: its `on_cancel` path is running. A paused run can still be cancelled.
pub fn controls(status: Option<RunStatus>, cancelling: bool) -> Controls {
    match status {
        Some(_) if cancelling => Controls::default(),
        Some(RunStatus::Running) => Controls {
            cancel: true,
            pause: true,
            ..Controls::default()
        },
        Some(RunStatus::Paused) => Controls {
            cancel: true,
            resume: true,
            ..Controls::default()
        },
        Some(RunStatus::Completed | RunStatus::Failed | RunStatus::Cancelled) => Controls {
            redrive: true,
            ..Controls::default()
        },
        None => Controls::default(),
    }
}

/// "Pause" on a running run, "Resume" on a paused one. The run's stream brings the new
/// status; a refusal is said next to the button, a conflict on the page.
#[component]
pub fn PauseControl(
    run: String,
    /// `true` for Resume, `false` for Pause.
    #[prop(into)]
    paused: Signal<bool>,
    on_conflict: Callback<String>,
) -> impl IntoView {
    let sending = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let act = move |_| {
        let run = run.clone();
        let resume = paused.get_untracked();
        sending.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let result = if resume {
                wire::resume(&run).await
            } else {
                wire::pause(&run).await
            };
            let _ = sending.try_set(false);
            settle(result, error, on_conflict);
        });
    };
    let offline = offline();
    let refused = denied(Action::Operate);
    view! {
        <button
            class="btn"
            class:btn-primary=move || paused.get()
            data-testid=move || if paused.get() { "resume-button" } else { "pause-button" }
            title=move || {
                if let Some(reason) = refused.get() {
                    reason
                } else if offline.get() {
                    OFFLINE_REASON
                } else if paused.get() {
                    "Go on: timers that fell due fire, the next steps start"
                } else {
                    "Start no new step until resumed; steps in flight finish"
                }
            }
            disabled=move || sending.get() || offline.get() || refused.get().is_some()
            on:click=act
        >
            <Show when=move || sending.get()>
                <span class="spinner" aria-hidden="true"></span>
            </Show>
            {move || if paused.get() { "Resume" } else { "Pause" }}
        </button>
        {move || {
            error
                .get()
                .map(|m| view! { <span class="form-error inline-error" role="alert" data-testid="pause-error">{m}</span> })
        }}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_run_can_be_paused_or_cancelled() {
        let c = controls(Some(RunStatus::Running), false);
        assert!(c.pause && c.cancel);
        assert!(!c.resume && !c.redrive);
    }

    #[test]
    fn a_paused_run_can_be_resumed_or_cancelled() {
        let c = controls(Some(RunStatus::Paused), false);
        assert!(c.resume && c.cancel);
        assert!(!c.pause && !c.redrive);
    }

    #[test]
    fn only_a_finished_run_can_be_redriven() {
        for status in RunStatus::ALL {
            let c = controls(Some(status), false);
            assert_eq!(c.redrive, status.is_finished(), "{status:?}");
            if status.is_finished() {
                assert_eq!(
                    c,
                    Controls {
                        redrive: true,
                        ..Controls::default()
                    }
                );
            }
        }
    }

    #[test]
    fn a_run_being_cancelled_or_not_started_offers_nothing() {
        assert_eq!(
            controls(Some(RunStatus::Running), true),
            Controls::default()
        );
        assert_eq!(controls(Some(RunStatus::Paused), true), Controls::default());
        assert_eq!(controls(None, false), Controls::default());
    }
}
