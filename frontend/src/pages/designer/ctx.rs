//! The designer's shared state: the editor, the selection, the findings and the notices
//! every part of the page (canvas, inspector, findings, toolbar) reads and changes, with the
//! edits that touch several of them at once (undo, redo, delete).

use leptos::prelude::*;
use shared::Diagnostic;
use shared::api::WorkflowSummary;
use shared::model::Workflow;
use shared::validate::{Severity, check_children};

use super::test_run::TestRuns;
use super::unparsed::{self, UnparsedFields};
use crate::graph::editor::Editor;

/// What is selected on the canvas (and shown in the inspector).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Selection {
    /// Nothing: the inspector shows the workflow's settings.
    None,
    Node(String),
    /// Two or more nodes (shift-click, a rubber band, Ctrl+A): moved, copied and deleted
    /// together.
    Nodes(Vec<String>),
    /// An edge, by index.
    Edge(usize),
}

impl Selection {
    /// The selection of the nodes `ids`: nothing, one node, or several.
    pub(super) fn of_nodes(mut ids: Vec<String>) -> Selection {
        ids.dedup();
        match ids.len() {
            0 => Selection::None,
            1 => Selection::Node(ids.remove(0)),
            _ => Selection::Nodes(ids),
        }
    }

    /// The selected nodes' ids (none for an edge).
    pub(super) fn nodes(&self) -> Vec<String> {
        match self {
            Selection::Node(id) => vec![id.clone()],
            Selection::Nodes(ids) => ids.clone(),
            Selection::None | Selection::Edge(_) => Vec::new(),
        }
    }

    pub(super) fn has_node(&self, id: &str) -> bool {
        match self {
            Selection::Node(n) => n == id,
            Selection::Nodes(ids) => ids.iter().any(|n| n == id),
            Selection::None | Selection::Edge(_) => false,
        }
    }
}

/// The state every part of the page shares.
#[derive(Clone, Copy)]
pub(super) struct Ctx {
    pub(super) editor: RwSignal<Editor>,
    /// The workflow being edited (a copy that notifies only when it changes).
    pub(super) workflow: Memo<Workflow>,
    pub(super) selection: RwSignal<Selection>,
    /// Bumped when the workflow changes under the inspector's feet (undo, redo, discard),
    /// so its forms are drawn again from the model.
    pub(super) generation: RwSignal<u64>,
    /// The saved workflows (`GET /api/workflows`), once loaded: what the `subflow` and `map`
    /// forms offer, and what their findings are checked against. `None` until the list came
    /// (or when it could not be read: then nothing is claimed about which workflows exist).
    pub(super) known: RwSignal<Option<Vec<WorkflowSummary>>>,
    /// The browser's findings, after every edit: the fields that are not JSON, the
    /// validator's, and a warning for each
    /// child workflow (or version) missing from [`Ctx::known`] — the server refuses those
    /// with a 422, but the list may be stale, so the browser only warns.
    pub(super) findings: Memo<Vec<Diagnostic>>,
    /// The JSON fields whose text does not parse, each an error in [`Ctx::findings`].
    pub(super) unparsed: RwSignal<UnparsedFields>,
    /// The findings of the server's last refusal (a 422), until the next save.
    pub(super) server_findings: RwSignal<Option<Vec<Diagnostic>>>,
    /// A refused edit's message, shown over the canvas until the next gesture.
    pub(super) notice: RwSignal<Option<String>>,
    /// Asks the canvas to fit the graph in view (after an auto-layout).
    pub(super) fit: Trigger,
    /// Whether nodes snap to the grid when placed and moved (remembered in this browser).
    pub(super) snap: RwSignal<bool>,
    /// Whether the palette and the side panel (inspector, findings) are shown (remembered).
    pub(super) palette_open: RwSignal<bool>,
    pub(super) side_open: RwSignal<bool>,
    /// What the live region (`announce`) says now: validation and save results, and what a
    /// key did on the canvas.
    pub(super) said: RwSignal<String>,
    /// The test-run panel and the last test run's results (canvas states, inspector).
    pub(super) test: TestRuns,
}

/// A designer preference kept in `localStorage` (`"1"` or `"0"`), `default` when unset.
fn remembered(key: &'static str, default: bool) -> RwSignal<bool> {
    let storage = || web_sys::window()?.local_storage().ok().flatten();
    let stored = storage()
        .and_then(|s| s.get_item(key).ok().flatten())
        .map(|v| v == "1");
    let signal = RwSignal::new(stored.unwrap_or(default));
    Effect::new(move |_| {
        let on = signal.get();
        if let Some(s) = storage() {
            let _ = s.set_item(key, if on { "1" } else { "0" });
        }
    });
    signal
}

/// Whether `known` has workflow `name` (and, when pinned, that version of it: versions run
/// from 1 to the latest).
pub(super) fn exists(known: &[WorkflowSummary], name: &str, version: Option<i64>) -> bool {
    known
        .iter()
        .any(|w| w.name == name && version.is_none_or(|v| (1..=w.version).contains(&v)))
}

impl Ctx {
    pub(super) fn new(editor: Editor) -> Self {
        let editor = RwSignal::new(editor);
        let workflow = Memo::new(move |_| editor.with(|e| e.workflow().clone()));
        let known = RwSignal::new(None::<Vec<WorkflowSummary>>);
        let unparsed = RwSignal::new(UnparsedFields::new());
        let findings = Memo::new(move |_| {
            workflow.with(|wf| {
                let mut all = unparsed.with(|u| unparsed::findings(u, wf));
                all.extend(shared::validate(wf));
                known.with(|known| {
                    if let Some(known) = known {
                        all.extend(check_children(
                            wf,
                            |name, version| exists(known, name, version),
                            Severity::Warning,
                        ));
                    }
                });
                all
            })
        });
        Ctx {
            editor,
            workflow,
            selection: RwSignal::new(Selection::None),
            generation: RwSignal::new(0),
            known,
            findings,
            unparsed,
            server_findings: RwSignal::new(None),
            notice: RwSignal::new(None),
            fit: Trigger::new(),
            snap: remembered("weft.designer.snap", false),
            palette_open: remembered("weft.designer.palette", true),
            side_open: remembered("weft.designer.side", true),
            said: RwSignal::new(String::new()),
            test: TestRuns::new(),
        }
    }

    pub(super) fn undo(self) {
        if self.editor.try_update(Editor::undo) == Some(true) {
            self.after_history();
        }
    }

    pub(super) fn redo(self) {
        if self.editor.try_update(Editor::redo) == Some(true) {
            self.after_history();
        }
    }

    /// After the workflow jumped: drop a selection that no longer exists, redraw the forms
    /// (from the model: text that did not parse is dropped with the rest).
    pub(super) fn after_history(self) {
        self.unparsed.set(UnparsedFields::new());
        let keep = self
            .workflow
            .with_untracked(|wf| match self.selection.get_untracked() {
                Selection::None => true,
                Selection::Node(id) => wf.node(&id).is_some(),
                Selection::Nodes(ids) => ids.iter().all(|id| wf.node(id).is_some()),
                // Edges are selected by index, and a jump can put another edge there.
                Selection::Edge(_) => false,
            });
        if !keep {
            self.selection.set(Selection::None);
        }
        self.generation.update(|g| *g += 1);
    }

    /// Selects every node (Ctrl+A).
    pub(super) fn select_all(self) {
        let ids = self
            .workflow
            .with_untracked(|wf| wf.nodes.iter().map(|n| n.id.clone()).collect());
        self.selection.set(Selection::of_nodes(ids));
    }

    /// Deletes the selected nodes (as one undo step) or edge.
    pub(super) fn delete_selection(self) {
        let result = match self.selection.get_untracked() {
            Selection::None => return,
            Selection::Node(id) => self
                .editor
                .try_update(|e| e.remove_node(&id))
                .map(|r| r.map(drop)),
            Selection::Nodes(ids) => self
                .editor
                .try_update(|e| e.remove_nodes(&ids))
                .map(|r| r.map(drop)),
            Selection::Edge(i) => self
                .editor
                .try_update(|e| e.remove_edge(i))
                .map(|r| r.map(drop)),
        };
        if let Some(Err(e)) = result {
            self.notice.set(Some(e.to_string()));
        }
        self.selection.set(Selection::None);
    }
}
