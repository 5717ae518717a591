//! The designer's live region (`aria-live="polite"`): a screen reader hears the validation
//! result when it changes, the outcome of a save, and what the keyboard did on the canvas
//! (see `keys`), without moving the focus.

use leptos::prelude::*;

use super::{Ctx, plural};

/// "Valid", "2 warnings", or "3 errors, 1 warning".
pub(super) fn validity(ctx: Ctx) -> Memo<String> {
    Memo::new(move |_| {
        let (errors, warnings) = ctx.findings.with(|f| {
            let e = f.iter().filter(|d| d.is_error()).count();
            (e, f.len() - e)
        });
        match (errors, warnings) {
            (0, 0) => "Valid".to_owned(),
            (0, w) => plural(w, "warning"),
            (e, 0) => plural(e, "error"),
            (e, w) => format!("{}, {}", plural(e, "error"), plural(w, "warning")),
        }
    })
}

/// Two regions, so that one message does not replace the other before it is read: one says
/// the validity whenever it changes after the page opened; the other says [`Ctx::said`], and
/// `save` (what the last save came to) whenever that changes.
pub(super) fn region(ctx: Ctx, save: Signal<Option<String>>) -> impl IntoView {
    let validity = validity(ctx);
    let validation = RwSignal::new(String::new());
    Effect::new(move |before: Option<String>| {
        let now = validity.get();
        if before.is_some_and(|b| b != now) {
            validation.set(format!("Validation: {now}"));
        }
        now
    });
    Effect::new(move |before: Option<Option<String>>| {
        let now = save.get();
        match (&before, &now) {
            (Some(_), Some(said)) => ctx.said.set(said.clone()),
            // A first save moves to the workflow's own address, and this page is drawn anew
            // with the result: say it once the region is in the document.
            (None, Some(said)) => {
                let said = said.clone();
                request_animation_frame(move || {
                    let _ = ctx.said.try_set(said);
                });
            }
            _ => {}
        }
        now
    });
    view! {
        <div class="sr-only" role="status" aria-live="polite" data-testid="announcer-validation">
            {move || validation.get()}
        </div>
        <div class="sr-only" role="status" aria-live="polite" data-testid="announcer">
            {move || ctx.said.get()}
        </div>
    }
}
