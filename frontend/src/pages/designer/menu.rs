//! The canvas's context menu (right-click, the ContextMenu key, Shift+F10): what can be done
//! to the nodes, the edge or the spot under the pointer. A plain list of buttons with menu
//! roles; arrow keys move between them, Escape closes it.

use leptos::ev::KeyboardEvent;
use leptos::prelude::*;
use shared::model::NODE_TYPES;
use wasm_bindgen::JsCast;

/// What the menu was opened on.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Target {
    /// The selected nodes (one or more).
    Nodes(Vec<String>),
    Edge(usize),
    /// An empty spot, at this canvas point.
    Background((f64, f64)),
}

/// An open menu: where it shows (pixels from the canvas's top-left) and on what.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Open {
    pub(super) at: (f64, f64),
    pub(super) target: Target,
}

/// One thing the menu can do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Action {
    Duplicate,
    Copy,
    Delete,
    DeleteEdge(usize),
    Paste((f64, f64)),
    Add(&'static str, (f64, f64)),
    SelectAll,
    AutoLayout,
    Fit,
}

/// The entries for `target`: a label, a shortcut to show, a test id and the action.
fn entries(target: &Target) -> Vec<(String, &'static str, String, Action)> {
    let e = |label: &str, keys: &'static str, id: &str, action| {
        (label.to_owned(), keys, format!("menu-{id}"), action)
    };
    match target {
        Target::Nodes(ids) => {
            let what = if ids.len() == 1 {
                String::new()
            } else {
                format!(" {} nodes", ids.len())
            };
            vec![
                e(
                    &format!("Duplicate{what}"),
                    "Ctrl+D",
                    "duplicate",
                    Action::Duplicate,
                ),
                e(&format!("Copy{what}"), "Ctrl+C", "copy", Action::Copy),
                e(&format!("Delete{what}"), "Del", "delete", Action::Delete),
                e("Select all", "Ctrl+A", "select-all", Action::SelectAll),
            ]
        }
        Target::Edge(i) => vec![
            e("Delete edge", "Del", "delete-edge", Action::DeleteEdge(*i)),
            e(
                "Select all nodes",
                "Ctrl+A",
                "select-all",
                Action::SelectAll,
            ),
        ],
        Target::Background(p) => vec![
            e("Paste here", "Ctrl+V", "paste", Action::Paste(*p)),
            e("Select all", "Ctrl+A", "select-all", Action::SelectAll),
            e("Auto-layout", "", "auto-layout", Action::AutoLayout),
            e("Fit to view", "", "fit", Action::Fit),
        ],
    }
}

/// Moves the focus `by` items within the menu that holds `from`.
fn focus_step(from: &web_sys::Element, by: i32) {
    let Some(menu) = from.closest("[role=menu]").ok().flatten() else {
        return;
    };
    // `querySelectorAll` through `Reflect`: the `NodeList` feature of web-sys is not built.
    let Some(list) = js_sys::Reflect::get(&menu, &"querySelectorAll".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .and_then(|f| f.call1(&menu, &"[role=menuitem]".into()).ok())
    else {
        return;
    };
    let items: Vec<web_sys::HtmlElement> = js_sys::Array::from(&list)
        .iter()
        .filter_map(|it| it.dyn_into().ok())
        .collect();
    let n = items.len() as i32;
    let here = items
        .iter()
        .position(|it| it.is_same_node(Some(from)))
        .map_or(0, |i| i as i32);
    let next = (here + by).rem_euclid(n.max(1));
    if let Some(el) = items.get(next as usize) {
        let _ = el.focus();
    }
}

/// The menu, while `open` holds one; `run` does the chosen action.
pub(super) fn context_menu(open: RwSignal<Option<Open>>, run: Callback<Action>) -> impl IntoView {
    let menu_ref = NodeRef::<leptos::html::Div>::new();
    // Opened near the canvas's edge, the menu moves back inside it (the canvas clips what
    // overflows); then the first entry takes the focus, so the keyboard can go on from there.
    Effect::new(move |_| {
        if open.with(Option::is_some) {
            request_animation_frame(move || {
                if let Some(Some(menu)) = menu_ref.try_get_untracked() {
                    fit_inside(&menu);
                }
                if let Some(Some(menu)) = menu_ref.try_get_untracked()
                    && let Ok(Some(first)) = menu.query_selector("[role=menuitem]")
                    && let Ok(first) = first.dyn_into::<web_sys::HtmlElement>()
                {
                    let _ = first.focus();
                }
            });
        }
    });
    let on_key = move |ev: KeyboardEvent| {
        let Some(el) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        else {
            return;
        };
        match ev.key().as_str() {
            "ArrowDown" => focus_step(&el, 1),
            "ArrowUp" => focus_step(&el, -1),
            "Escape" | "Tab" => open.set(None),
            _ => return,
        }
        ev.prevent_default();
        ev.stop_propagation();
    };
    move || {
        open.get().map(|Open { at, target }| {
            let adds = match target {
                Target::Background(p) => Some(
                    NODE_TYPES
                        .iter()
                        .map(|t| {
                            view! {
                                <button
                                    class="menu-item menu-add"
                                    role="menuitem"
                                    data-testid=format!("menu-add-{t}")
                                    on:click=move |_| {
                                        open.set(None);
                                        run.run(Action::Add(t, p));
                                    }
                                >
                                    {*t}
                                </button>
                            }
                        })
                        .collect_view(),
                ),
                _ => None,
            };
            let items = entries(&target)
                .into_iter()
                .map(|(label, keys, testid, action)| {
                    view! {
                        <button
                            class="menu-item"
                            role="menuitem"
                            data-testid=testid
                            on:click=move |_| {
                                open.set(None);
                                run.run(action);
                            }
                        >
                            <span>{label}</span>
                            <kbd class="menu-keys">{keys}</kbd>
                        </button>
                    }
                })
                .collect_view();
            view! {
                <div
                    node_ref=menu_ref
                    class="context-menu"
                    role="menu"
                    aria-label="Canvas actions"
                    data-testid="context-menu"
                    style:left=format!("{}px", at.0)
                    style:top=format!("{}px", at.1)
                    on:keydown=on_key
                    on:pointerdown=|ev| ev.stop_propagation()
                    on:contextmenu=|ev| ev.prevent_default()
                >
                    {items}
                    {adds.map(|adds| {
                        view! {
                            <div class="menu-group" role="group" aria-label="Add a node here">
                                <span class="menu-heading">"Add node here"</span>
                                <div class="menu-adds">{adds}</div>
                            </div>
                        }
                    })}
                </div>
            }
        })
    }
}

/// Moves `menu` so it lies inside its positioned parent (the canvas), 4 px from its edges
/// where it can; a menu taller than the canvas scrolls (see `.context-menu` in the styles).
fn fit_inside(menu: &web_sys::HtmlElement) {
    const GAP: i32 = 4;
    let Some(parent) = menu.offset_parent() else {
        return;
    };
    let place = |at: i32, size: i32, room: i32| at.min(room - size - GAP).max(GAP);
    let left = place(
        menu.offset_left(),
        menu.offset_width(),
        parent.client_width(),
    );
    let top = place(
        menu.offset_top(),
        menu.offset_height(),
        parent.client_height(),
    );
    let style = menu.style();
    let _ = style.set_property("left", &format!("{left}px"));
    let _ = style.set_property("top", &format!("{top}px"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_target_gets_its_own_entries() {
        let names = |t: &Target| entries(t).into_iter().map(|e| e.0).collect::<Vec<_>>();
        assert_eq!(
            names(&Target::Nodes(vec!["a".into(), "b".into()]))[..3],
            ["Duplicate 2 nodes", "Copy 2 nodes", "Delete 2 nodes"]
        );
        assert_eq!(names(&Target::Nodes(vec!["a".into()]))[0], "Duplicate");
        assert_eq!(names(&Target::Edge(3))[0], "Delete edge");
        assert_eq!(
            entries(&Target::Background((1.0, 2.0)))[0].3,
            Action::Paste((1.0, 2.0))
        );
    }
}
