//! The shell of every dialog: a backdrop that closes it when clicked, a card that takes the
//! focus when it opens (so Escape and Tab work at once) and closes on Escape, with the roles
//! a screen reader needs. The dialogs (redrive, bulk, backfill) bring only their content.

use leptos::prelude::*;

#[component]
pub fn Modal(
    /// The card's classes besides `card modal`.
    class: &'static str,
    /// The backdrop's classes besides `modal-backdrop` (a tall dialog scrolls in it).
    #[prop(optional)]
    backdrop: &'static str,
    /// Its `data-testid`.
    testid: &'static str,
    /// The id of the element that names it (its heading).
    labelled_by: &'static str,
    /// Asked to close: a backdrop click or Escape (the dialog may refuse, e.g. mid-send).
    #[prop(into)]
    close: Callback<()>,
    children: Children,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        if let Some(d) = dialog.get() {
            let _ = d.focus();
        }
    });
    view! {
        <div class=format!("modal-backdrop {backdrop}") on:click=move |_| close.run(())>
            <div
                node_ref=dialog
                class=format!("card modal {class}")
                role="dialog"
                aria-modal="true"
                aria-labelledby=labelled_by
                data-testid=testid
                tabindex="-1"
                on:click=|ev| ev.stop_propagation()
                on:keydown=move |ev| {
                    if ev.key() == "Escape" {
                        close.run(());
                    }
                }
            >
                {children()}
            </div>
        </div>
    }
}
