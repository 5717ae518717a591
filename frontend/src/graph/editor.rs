//! The designer's editing state: the workflow being edited, every edit as a method, and the
//! undo and redo stacks. Free of the DOM, so the edits and the undo stack are unit-tested
//! natively (`cargo test -p frontend --lib`).
//!
//! Undo keeps whole snapshots: workflows are small, and a snapshot can never disagree with
//! the edit that made it. Typing in one field keeps extending one undo step (see
//! [`Editor::edit`]), and a drag is one step however many frames it moved.

use std::fmt;

use serde_json::{Value, json};
use shared::model::{Edge, Node, Position, Workflow};
use shared::validate::valid_node_id;

use super::auto_layout;
use super::clip::{Clip, unique_id};
use super::geometry::{GRID, NODE_W};
use super::layout::COLUMN_GAP;

/// Why an edit was refused. The designer shows it where the edit was tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditError {
    UnknownNode(String),
    UnknownType(String),
    /// The node type has no such output port.
    UnknownPort {
        node: String,
        port: String,
    },
    /// An edge from a node back into itself.
    SelfLoop(String),
    /// `start` has no input.
    IntoStart,
    /// The same port is already connected to the same node.
    DuplicateEdge,
    UnknownEdge(usize),
    /// A rename to an id that breaks SPEC §1's id rule.
    InvalidId(String),
    /// A rename to an id another node has.
    TakenId(String),
    /// A node dropped on an edge needs an input and an output to sit inside it.
    NotInsertable(String),
    /// Only a node with no edges yet drops into an edge.
    AlreadyConnected(String),
}

impl fmt::Display for EditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EditError::UnknownNode(id) => write!(f, "there is no node `{id}`"),
            EditError::UnknownType(t) => write!(f, "there is no node type `{t}`"),
            EditError::UnknownPort { node, port } => {
                write!(f, "node `{node}` has no port `{port}`")
            }
            EditError::SelfLoop(id) => write!(f, "`{id}` cannot lead to itself"),
            EditError::IntoStart => f.write_str("nothing can lead into `start`"),
            EditError::DuplicateEdge => f.write_str("those two are already connected that way"),
            EditError::UnknownEdge(i) => write!(f, "there is no edge #{i}"),
            EditError::InvalidId(id) => write!(
                f,
                "`{id}` is not a valid id: 1 to 64 of A–Z, a–z, 0–9, `_` and `-`"
            ),
            EditError::TakenId(id) => write!(f, "another node is called `{id}`"),
            EditError::NotInsertable(id) => write!(
                f,
                "`{id}` cannot go inside an edge: it needs an input and a way out"
            ),
            EditError::AlreadyConnected(id) => write!(
                f,
                "`{id}` is already connected: only an unconnected node drops into an edge"
            ),
        }
    }
}

impl std::error::Error for EditError {}

/// A workflow being edited, with its history.
#[derive(Debug, Clone, PartialEq)]
pub struct Editor {
    workflow: Workflow,
    undo: Vec<Workflow>,
    redo: Vec<Workflow>,
    /// The key of the last coalescing edit: another edit with the same key joins its step.
    coalesce: Option<String>,
}

/// How many steps undo remembers.
const HISTORY: usize = 200;

impl Editor {
    pub fn new(workflow: Workflow) -> Self {
        Editor {
            workflow,
            undo: Vec::new(),
            redo: Vec::new(),
            coalesce: None,
        }
    }

    pub fn workflow(&self) -> &Workflow {
        &self.workflow
    }

    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    /// Goes back one step; false when there is none.
    pub fn undo(&mut self) -> bool {
        self.coalesce = None;
        match self.undo.pop() {
            Some(before) => {
                self.redo
                    .push(std::mem::replace(&mut self.workflow, before));
                true
            }
            None => false,
        }
    }

    /// Goes forward one undone step; false when there is none.
    pub fn redo(&mut self) -> bool {
        self.coalesce = None;
        match self.redo.pop() {
            Some(after) => {
                self.undo.push(std::mem::replace(&mut self.workflow, after));
                true
            }
            None => false,
        }
    }

    /// Applies `change` as one undo step. With a `key`, consecutive edits with the same key
    /// (keystrokes in one field) make a single step. An edit that changes nothing leaves no
    /// step. Returns whether anything changed.
    pub fn edit(&mut self, key: Option<&str>, change: impl FnOnce(&mut Workflow)) -> bool {
        let before = self.workflow.clone();
        change(&mut self.workflow);
        if self.workflow == before {
            return false;
        }
        let joins = key.is_some() && self.coalesce.as_deref() == key;
        if !joins {
            self.push_undo(before);
        }
        self.redo.clear();
        self.coalesce = key.map(str::to_owned);
        true
    }

    fn push_undo(&mut self, before: Workflow) {
        self.undo.push(before);
        if self.undo.len() > HISTORY {
            self.undo.remove(0);
        }
    }

    /// The state before a gesture (a drag); pass it to [`Editor::end_gesture`].
    pub fn begin_gesture(&self) -> Workflow {
        self.workflow.clone()
    }

    /// Moves a node during a gesture, without an undo step.
    pub fn move_node_live(&mut self, id: &str, at: (f64, f64)) {
        if let Some(n) = self.workflow.nodes.iter_mut().find(|n| n.id == id) {
            n.position = Some(Position {
                x: at.0.round(),
                y: at.1.round(),
            });
        }
    }

    /// Ends a gesture: one undo step back to `before`, if anything changed.
    pub fn end_gesture(&mut self, before: Workflow) {
        if self.workflow != before {
            self.push_undo(before);
            self.redo.clear();
            self.coalesce = None;
        }
    }

    /// Adds a node of `type_name` with working defaults at `at`; returns its new id.
    pub fn add_node(&mut self, type_name: &str, at: (f64, f64)) -> Result<String, EditError> {
        let id = self.fresh_id(type_name);
        let mut node = new_node(type_name, &id)?;
        node.position = Some(Position {
            x: at.0.round(),
            y: at.1.round(),
        });
        self.edit(None, |wf| wf.nodes.push(node));
        Ok(id)
    }

    /// `type_name`, or `type_name_2`, `_3`… whichever is free.
    fn fresh_id(&self, type_name: &str) -> String {
        let taken = |id: &str| self.workflow.nodes.iter().any(|n| n.id == id);
        if !taken(type_name) {
            return type_name.to_owned();
        }
        (2..)
            .map(|i| format!("{type_name}_{i}"))
            .find(|id| !taken(id))
            .unwrap_or_default()
    }

    /// Names node `id` after its label (`Charge card` → `charge_card`, `_2` if taken) while
    /// its id is still the one the palette gave it (`http`, `http_2`): ids are what
    /// templates read (`nodes.charge_card.output`), and a typed label says more than a type.
    /// An id the person chose is kept. Returns the new id, if it changed.
    pub fn id_from_label(&mut self, id: &str) -> Option<String> {
        let node = self.workflow.node(id)?;
        if !is_palette_id(id, node.type_name()) {
            return None;
        }
        let base = slug(node.label.as_deref()?);
        if base.is_empty() || base == id {
            return None;
        }
        let taken = |c: &str| c != id && self.workflow.node(c).is_some();
        let new_id = std::iter::once(base.clone())
            .chain((2..).map(|i| format!("{base}_{i}")))
            .find(|c| !taken(c))?;
        self.rename_node(id, &new_id).ok()?;
        Some(new_id)
    }

    /// Connects `from`'s `port` to `to`; returns the new edge's index.
    pub fn connect(&mut self, from: &str, port: &str, to: &str) -> Result<usize, EditError> {
        let edge = self.check_edge(from, port, to, None)?;
        self.edit(None, |wf| wf.edges.push(edge));
        Ok(self.workflow.edges.len() - 1)
    }

    /// Points the edge at `index` from `from`'s `port` to `to` instead (its end or its start
    /// dragged elsewhere), keeping its place in the list; one undo step.
    pub fn reconnect(
        &mut self,
        index: usize,
        from: &str,
        port: &str,
        to: &str,
    ) -> Result<(), EditError> {
        if index >= self.workflow.edges.len() {
            return Err(EditError::UnknownEdge(index));
        }
        let edge = self.check_edge(from, port, to, Some(index))?;
        self.edit(None, |wf| wf.edges[index] = edge);
        Ok(())
    }

    /// The edge `from`/`port` → `to`, if the workflow may have it (ignoring the edge at
    /// `except`, the one being changed).
    fn check_edge(
        &self,
        from: &str,
        port: &str,
        to: &str,
        except: Option<usize>,
    ) -> Result<Edge, EditError> {
        let source = self
            .workflow
            .node(from)
            .ok_or_else(|| EditError::UnknownNode(from.to_owned()))?;
        let target = self
            .workflow
            .node(to)
            .ok_or_else(|| EditError::UnknownNode(to.to_owned()))?;
        if !source.kind.ports().iter().any(|(p, _)| *p == port) {
            return Err(EditError::UnknownPort {
                node: from.to_owned(),
                port: port.to_owned(),
            });
        }
        if from == to {
            return Err(EditError::SelfLoop(from.to_owned()));
        }
        if target.type_name() == "start" {
            return Err(EditError::IntoStart);
        }
        let edge = Edge {
            from: from.to_owned(),
            to: to.to_owned(),
            port: port.to_owned(),
        };
        let taken = self
            .workflow
            .edges
            .iter()
            .enumerate()
            .any(|(i, e)| Some(i) != except && *e == edge);
        if taken {
            return Err(EditError::DuplicateEdge);
        }
        Ok(edge)
    }

    /// Ends a drag that dropped the unconnected node `id` on the edge at `index`: `a → b`
    /// becomes `a → id → b`, leaving `id` by its `next` port (or its first). The move and
    /// the insert are one undo step; refused, the move alone is.
    pub fn drop_into_edge(
        &mut self,
        before: Workflow,
        index: usize,
        id: &str,
    ) -> Result<(), EditError> {
        let split = match self.workflow.node(id) {
            None => Err(EditError::UnknownNode(id.to_owned())),
            Some(_)
                if self
                    .workflow
                    .edges
                    .iter()
                    .any(|e| e.from == id || e.to == id) =>
            {
                Err(EditError::AlreadyConnected(id.to_owned()))
            }
            Some(node) => self.split_edge(index, &node.clone()),
        };
        if let Ok((first, second)) = &split {
            self.workflow.edges[index] = first.clone();
            self.workflow.edges.insert(index + 1, second.clone());
            make_room(&mut self.workflow, id);
        }
        self.end_gesture(before);
        split.map(drop)
    }

    /// Adds a node of `type_name` at `at` inside the edge at `index` (a palette type dropped
    /// on an edge), as one undo step; returns its id.
    pub fn add_node_into_edge(
        &mut self,
        type_name: &str,
        at: (f64, f64),
        index: usize,
    ) -> Result<String, EditError> {
        let id = self.fresh_id(type_name);
        let mut node = new_node(type_name, &id)?;
        node.position = Some(Position {
            x: at.0.round(),
            y: at.1.round(),
        });
        let (first, second) = self.split_edge(index, &node)?;
        self.edit(None, |wf| {
            wf.nodes.push(node);
            wf.edges[index] = first;
            wf.edges.insert(index + 1, second);
            make_room(wf, &id);
        });
        Ok(id)
    }

    /// The two edges that replace the edge at `index` once `node` sits inside it.
    fn split_edge(&self, index: usize, node: &Node) -> Result<(Edge, Edge), EditError> {
        let edge = self
            .workflow
            .edges
            .get(index)
            .cloned()
            .ok_or(EditError::UnknownEdge(index))?;
        let ports = node.kind.ports();
        let out = ports
            .iter()
            .find(|(p, _)| *p == "next")
            .or(ports.first())
            .map(|(p, _)| (*p).to_owned());
        let Some(out) = out.filter(|_| node.type_name() != "start") else {
            return Err(EditError::NotInsertable(node.id.clone()));
        };
        Ok((
            Edge {
                to: node.id.clone(),
                ..edge.clone()
            },
            Edge {
                from: node.id.clone(),
                port: out,
                to: edge.to,
            },
        ))
    }

    /// Deletes a node and every edge touching it (and `on_cancel` if it named it).
    pub fn remove_node(&mut self, id: &str) -> Result<(), EditError> {
        self.remove_nodes(&[id.to_owned()])
    }

    /// Deletes the nodes `ids` and every edge touching them, as one undo step.
    pub fn remove_nodes(&mut self, ids: &[String]) -> Result<(), EditError> {
        if let Some(id) = ids.iter().find(|id| self.workflow.node(id).is_none()) {
            return Err(EditError::UnknownNode(id.clone()));
        }
        self.edit(None, |wf| {
            wf.nodes.retain(|n| !ids.contains(&n.id));
            wf.edges
                .retain(|e| !ids.contains(&e.from) && !ids.contains(&e.to));
            if wf.on_cancel.as_ref().is_some_and(|c| ids.contains(c)) {
                wf.on_cancel = None;
            }
        });
        Ok(())
    }

    /// Moves the nodes of `origin` (each with where it was when the drag began) by `by`,
    /// during a gesture, without an undo step.
    pub fn move_nodes_live(&mut self, origin: &[(String, (f64, f64))], by: (f64, f64)) {
        for (id, (x, y)) in origin {
            self.move_node_live(id, (x + by.0, y + by.1));
        }
    }

    /// Adds copies of `clip`'s nodes and the edges among them, their box's top-left corner at
    /// `at`, each under an id no node has yet (`charge` → `charge_2`); one undo step.
    /// Returns the new ids.
    pub fn paste(&mut self, clip: &Clip, at: (f64, f64)) -> Vec<String> {
        let mut nodes = clip.nodes.clone();
        // Nodes that come without a position (hand-written text) get one in a row.
        let mut x = 0.0;
        for n in &mut nodes {
            if n.position.is_none() {
                n.position = Some(Position { x, y: 0.0 });
                x += 220.0;
            }
        }
        let corner = nodes
            .iter()
            .filter_map(|n| n.position)
            .fold((f64::INFINITY, f64::INFINITY), |c, p| {
                (c.0.min(p.x), c.1.min(p.y))
            });
        let mut renamed = Vec::new();
        for n in &mut nodes {
            let taken = |c: &str| {
                self.workflow.node(c).is_some() || renamed.iter().any(|(_, new)| new == c)
            };
            let id = unique_id(&n.id, taken);
            renamed.push((n.id.clone(), id.clone()));
            n.id = id;
            if let Some(p) = &mut n.position {
                p.x = (p.x - corner.0 + at.0).round();
                p.y = (p.y - corner.1 + at.1).round();
            }
        }
        let new_id = |old: &str| {
            renamed
                .iter()
                .find(|(o, _)| o == old)
                .map(|(_, n)| n.clone())
        };
        let edges: Vec<Edge> = clip
            .edges
            .iter()
            .filter_map(|e| {
                Some(Edge {
                    from: new_id(&e.from)?,
                    to: new_id(&e.to)?,
                    port: e.port.clone(),
                })
            })
            .collect();
        let ids = nodes.iter().map(|n| n.id.clone()).collect();
        self.edit(None, |wf| {
            wf.nodes.extend(nodes);
            wf.edges.extend(edges);
        });
        ids
    }

    /// Copies the nodes `ids` (and the edges among them) two grid steps down and right, as
    /// one undo step; returns the copies' ids.
    pub fn duplicate(&mut self, ids: &[String]) -> Vec<String> {
        let Some(clip) = Clip::of(&self.workflow, ids) else {
            return Vec::new();
        };
        let corner = clip
            .nodes
            .iter()
            .filter_map(|n| n.position)
            .fold((f64::INFINITY, f64::INFINITY), |c, p| {
                (c.0.min(p.x), c.1.min(p.y))
            });
        let corner = if corner.0.is_finite() {
            corner
        } else {
            (0.0, 0.0)
        };
        self.paste(&clip, (corner.0 + 2.0 * GRID, corner.1 + 2.0 * GRID))
    }

    /// Deletes the edge at `index`.
    pub fn remove_edge(&mut self, index: usize) -> Result<Edge, EditError> {
        let edge = self
            .workflow
            .edges
            .get(index)
            .cloned()
            .ok_or(EditError::UnknownEdge(index))?;
        self.edit(None, |wf| {
            wf.edges.remove(index);
        });
        Ok(edge)
    }

    /// Renames a node, and every edge and `on_cancel` that names it.
    pub fn rename_node(&mut self, id: &str, new_id: &str) -> Result<(), EditError> {
        if id == new_id {
            return Ok(());
        }
        if self.workflow.node(id).is_none() {
            return Err(EditError::UnknownNode(id.to_owned()));
        }
        if !valid_node_id(new_id) {
            return Err(EditError::InvalidId(new_id.to_owned()));
        }
        if self.workflow.node(new_id).is_some() {
            return Err(EditError::TakenId(new_id.to_owned()));
        }
        self.edit(None, |wf| {
            for n in wf.nodes.iter_mut().filter(|n| n.id == id) {
                n.id = new_id.to_owned();
            }
            for e in &mut wf.edges {
                if e.from == id {
                    e.from = new_id.to_owned();
                }
                if e.to == id {
                    e.to = new_id.to_owned();
                }
            }
            if wf.on_cancel.as_deref() == Some(id) {
                wf.on_cancel = Some(new_id.to_owned());
            }
        });
        Ok(())
    }

    /// Changes one node's settings; `field` names what is being typed into, so keystrokes
    /// in one field make one undo step.
    pub fn update_node(
        &mut self,
        id: &str,
        field: &str,
        change: impl FnOnce(&mut Node),
    ) -> Result<(), EditError> {
        if self.workflow.node(id).is_none() {
            return Err(EditError::UnknownNode(id.to_owned()));
        }
        let key = format!("node:{id}:{field}");
        self.edit(Some(&key), |wf| {
            if let Some(n) = wf.nodes.iter_mut().find(|n| n.id == id) {
                change(n);
            }
        });
        Ok(())
    }

    /// Puts every node where a fresh layered layout says, as one undo step.
    pub fn auto_layout(&mut self) {
        let at = auto_layout(&self.workflow);
        self.edit(None, |wf| place(wf, &at, true));
    }

    /// Replaces the whole workflow (an import) as one undo step.
    pub fn replace(&mut self, workflow: Workflow) {
        self.edit(None, |wf| *wf = workflow);
    }
}

/// Places node `id`, just put inside an edge `a → id → b`, a column right of `a` on its row,
/// and moves `b` and every node after it right as far as needed to make room, so an insert
/// leaves a tidy chain rather than a card on top of the others (as n8n does).
fn make_room(wf: &mut Workflow, id: &str) {
    let step = NODE_W + COLUMN_GAP;
    let (Some(a), Some(b)) = (
        wf.edges.iter().find(|e| e.to == id).map(|e| e.from.clone()),
        wf.edges.iter().find(|e| e.from == id).map(|e| e.to.clone()),
    ) else {
        return;
    };
    let at = |wf: &Workflow, n: &str| wf.node(n).and_then(|n| n.position);
    let (Some(pa), Some(pb)) = (at(wf, &a), at(wf, &b)) else {
        return;
    };
    let mine = Position {
        x: pa.x + step,
        y: pa.y,
    };
    let push = (mine.x + step - pb.x).max(0.0);
    // `b` and whatever follows it, but never back to `a` or the new node (a loop).
    let mut after = vec![b];
    let mut i = 0;
    while let Some(n) = after.get(i).cloned() {
        for e in wf.edges.iter().filter(|e| e.from == n) {
            if e.to != a && e.to != id && !after.contains(&e.to) {
                after.push(e.to.clone());
            }
        }
        i += 1;
    }
    for n in &mut wf.nodes {
        if n.id == id {
            n.position = Some(mine);
        } else if push > 0.0
            && after.contains(&n.id)
            && let Some(p) = &mut n.position
        {
            p.x += push;
        }
    }
}

/// Gives nodes their positions from `at`: all of them, or (`all == false`) only those
/// without one. Used to lay out a definition that arrives without positions.
pub fn place(wf: &mut Workflow, at: &std::collections::HashMap<String, (f64, f64)>, all: bool) {
    for n in &mut wf.nodes {
        if (all || n.position.is_none())
            && let Some(&(x, y)) = at.get(&n.id)
        {
            n.position = Some(Position { x, y });
        }
    }
}

/// A node of `type_name` with settings that already pass validation, so a dropped node only
/// needs its connections.
pub fn new_node(type_name: &str, id: &str) -> Result<Node, EditError> {
    let settings: Value = match type_name {
        "http" => json!({"request": {"method": "POST", "url": "https://example.com/"}}),
        "task" => json!({"queue": "default", "activity": "work"}),
        "approval" => json!({"prompt": "Approve {{ run.id }}?"}),
        "signal" => json!({"signal": "continue"}),
        "timer" => json!({"duration": "1m"}),
        "condition" => json!({"expr": "input.ok"}),
        "transform" => json!({"output": {}}),
        "subflow" => json!({"workflow": "child", "input": "{{ input }}"}),
        "map" => json!({"items": "{{ input.items }}", "workflow": "child"}),
        "start" | "end" | "parallel" | "join" => json!({}),
        other => return Err(EditError::UnknownType(other.to_owned())),
    };
    let Value::Object(mut map) = settings else {
        unreachable!("settings are objects")
    };
    map.insert("id".into(), Value::String(id.to_owned()));
    map.insert("type".into(), Value::String(type_name.to_owned()));
    Node::from_map(map).map_err(|_| EditError::UnknownType(type_name.to_owned()))
}

/// An empty workflow for the "new" page.
pub fn blank(name: &str) -> Workflow {
    Workflow {
        name: name.to_owned(),
        description: None,
        input_schema: None,
        timeout: None,
        on_cancel: None,
        triggers: None,
        nodes: Vec::new(),
        edges: Vec::new(),
    }
}

/// Whether `id` is one [`Editor::add_node`] gives a `type_name` node: the type, or the type
/// and a number.
fn is_palette_id(id: &str, type_name: &str) -> bool {
    id == type_name
        || id
            .strip_prefix(type_name)
            .and_then(|rest| rest.strip_prefix('_'))
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

/// A label as an id: lower case ASCII letters and digits, everything else one `_`, at most
/// 40 characters.
fn slug(label: &str) -> String {
    let mut out = String::new();
    for c in label.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_end_matches('_');
    out.chars()
        .take(40)
        .collect::<String>()
        .trim_end_matches('_')
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::model::{NODE_TYPES, NodeKind};
    use shared::validate::{is_valid, validate};

    fn editor() -> Editor {
        Editor::new(blank("w"))
    }

    #[test]
    fn a_palette_id_follows_the_label_and_a_chosen_id_stays() {
        let mut ed = editor();
        ed.add_node("start", (0.0, 0.0)).unwrap();
        let a = ed.add_node("http", (300.0, 0.0)).unwrap();
        let b = ed.add_node("http", (600.0, 0.0)).unwrap();
        assert_eq!(b, "http_2");
        ed.connect("start", "next", &a).unwrap();
        let label = |ed: &mut Editor, id: &str, text: &str| {
            ed.update_node(id, "label", |n| n.label = Some(text.into()))
                .unwrap();
        };
        label(&mut ed, &a, "Charge card!");
        assert_eq!(ed.id_from_label(&a).as_deref(), Some("charge_card"));
        assert!(ed.workflow().node("charge_card").is_some());
        assert_eq!(ed.workflow().edges[0].to, "charge_card", "edges follow");
        // The same label on the second: made unique.
        label(&mut ed, &b, "Charge  card");
        assert_eq!(ed.id_from_label(&b).as_deref(), Some("charge_card_2"));
        // An id that is no longer the palette's stays whatever the label says.
        label(&mut ed, "charge_card", "Refund");
        assert_eq!(ed.id_from_label("charge_card"), None);
        assert!(ed.workflow().node("charge_card").is_some());
        // Nothing usable in the label: no change.
        let c = ed.add_node("timer", (0.0, 200.0)).unwrap();
        label(&mut ed, &c, "→ ←");
        assert_eq!(ed.id_from_label(&c), None);
    }

    #[test]
    fn labels_become_ids() {
        assert_eq!(slug("Charge card"), "charge_card");
        assert_eq!(slug("  Ship it, now!! "), "ship_it_now");
        assert_eq!(slug("Étape 2"), "tape_2");
        assert_eq!(slug(&"x".repeat(50)).len(), 40);
        assert!(is_palette_id("http_12", "http"));
        assert!(is_palette_id("http", "http"));
        assert!(!is_palette_id("http_", "http"));
        assert!(!is_palette_id("https", "http"));
        assert!(!is_palette_id("charge", "http"));
    }

    #[test]
    fn every_palette_type_has_valid_defaults() {
        for ty in NODE_TYPES {
            let node = new_node(ty, "n").unwrap();
            assert_eq!(node.type_name(), ty);
        }
        assert_eq!(
            new_node("nope", "n"),
            Err(EditError::UnknownType("nope".into()))
        );
    }

    #[test]
    fn build_connect_and_validate() {
        let mut ed = editor();
        let start = ed.add_node("start", (0.0, 0.0)).unwrap();
        let http = ed.add_node("http", (300.0, 0.0)).unwrap();
        let end = ed.add_node("end", (600.0, 0.0)).unwrap();
        assert_eq!(
            (start.as_str(), http.as_str(), end.as_str()),
            ("start", "http", "end")
        );
        // A dangling node: `http` has no way out.
        ed.connect("start", "next", "http").unwrap();
        assert!(!is_valid(&validate(ed.workflow())));
        ed.connect("http", "next", "end").unwrap();
        assert!(
            is_valid(&validate(ed.workflow())),
            "{:?}",
            validate(ed.workflow())
        );
        assert_eq!(
            ed.connect("http", "next", "end"),
            Err(EditError::DuplicateEdge)
        );
        assert_eq!(
            ed.connect("http", "true", "end"),
            Err(EditError::UnknownPort {
                node: "http".into(),
                port: "true".into()
            })
        );
        assert_eq!(
            ed.connect("end", "next", "start").unwrap_err(),
            EditError::UnknownPort {
                node: "end".into(),
                port: "next".into()
            }
        );
        assert_eq!(
            ed.connect("http", "error", "start"),
            Err(EditError::IntoStart)
        );
        assert_eq!(
            ed.connect("http", "error", "http"),
            Err(EditError::SelfLoop("http".into()))
        );
    }

    #[test]
    fn ids_stay_unique() {
        let mut ed = editor();
        assert_eq!(ed.add_node("http", (0.0, 0.0)).unwrap(), "http");
        assert_eq!(ed.add_node("http", (0.0, 0.0)).unwrap(), "http_2");
        assert_eq!(ed.add_node("http", (0.0, 0.0)).unwrap(), "http_3");
    }

    #[test]
    fn removing_a_node_removes_its_edges_and_undo_brings_them_back() {
        let mut ed = editor();
        ed.add_node("start", (0.0, 0.0)).unwrap();
        ed.add_node("end", (300.0, 0.0)).unwrap();
        ed.connect("start", "next", "end").unwrap();
        let before = ed.workflow().clone();
        ed.remove_node("end").unwrap();
        assert_eq!(ed.workflow().nodes.len(), 1);
        assert!(ed.workflow().edges.is_empty());
        assert!(ed.undo());
        assert_eq!(ed.workflow(), &before);
        assert!(ed.redo());
        assert!(ed.workflow().edges.is_empty());
        assert!(!ed.redo());
    }

    #[test]
    fn undo_walks_back_every_step_and_a_new_edit_drops_redo() {
        let mut ed = editor();
        ed.add_node("start", (0.0, 0.0)).unwrap();
        ed.add_node("end", (0.0, 0.0)).unwrap();
        ed.connect("start", "next", "end").unwrap();
        assert!(ed.undo() && ed.undo());
        assert_eq!(ed.workflow().nodes.len(), 1);
        assert!(ed.can_redo());
        ed.add_node("timer", (0.0, 0.0)).unwrap();
        assert!(!ed.can_redo());
        assert!(ed.undo() && ed.undo());
        assert!(ed.workflow().nodes.is_empty());
        assert!(!ed.undo());
    }

    #[test]
    fn typing_in_one_field_is_one_step() {
        let mut ed = editor();
        ed.add_node("timer", (0.0, 0.0)).unwrap();
        for text in ["2", "2m", "2m3", "2m30s"] {
            ed.update_node("timer", "duration", |n| {
                if let NodeKind::Timer(t) = &mut n.kind {
                    t.duration.0 = text.into();
                }
            })
            .unwrap();
        }
        ed.update_node("timer", "label", |n| n.label = Some("Wait".into()))
            .unwrap();
        assert!(ed.undo());
        assert_eq!(ed.workflow().nodes[0].label, None);
        let NodeKind::Timer(t) = &ed.workflow().nodes[0].kind else {
            panic!()
        };
        assert_eq!(t.duration.0, "2m30s");
        assert!(ed.undo());
        let NodeKind::Timer(t) = &ed.workflow().nodes[0].kind else {
            panic!()
        };
        assert_eq!(t.duration.0, "1m");
    }

    #[test]
    fn a_drag_is_one_step_and_a_click_is_none() {
        let mut ed = editor();
        ed.add_node("start", (0.0, 0.0)).unwrap();
        let before = ed.begin_gesture();
        for x in [10.0, 20.0, 30.0] {
            ed.move_node_live("start", (x, 5.0));
        }
        ed.end_gesture(before);
        assert_eq!(
            ed.workflow().nodes[0].position,
            Some(Position { x: 30.0, y: 5.0 })
        );
        let click = ed.begin_gesture();
        ed.end_gesture(click);
        assert!(ed.undo());
        assert_eq!(
            ed.workflow().nodes[0].position,
            Some(Position { x: 0.0, y: 0.0 })
        );
    }

    #[test]
    fn rename_follows_edges_and_checks_the_id() {
        let mut ed = editor();
        ed.add_node("start", (0.0, 0.0)).unwrap();
        ed.add_node("http", (0.0, 0.0)).unwrap();
        ed.connect("start", "next", "http").unwrap();
        ed.rename_node("http", "charge").unwrap();
        assert_eq!(ed.workflow().edges[0].to, "charge");
        assert_eq!(
            ed.rename_node("charge", "start"),
            Err(EditError::TakenId("start".into()))
        );
        assert_eq!(
            ed.rename_node("charge", "a b"),
            Err(EditError::InvalidId("a b".into()))
        );
    }

    /// start → a → end, laid out in a row.
    fn chain() -> Editor {
        let mut ed = editor();
        ed.add_node("start", (0.0, 0.0)).unwrap();
        ed.add_node("timer", (200.0, 0.0)).unwrap();
        ed.add_node("end", (400.0, 0.0)).unwrap();
        ed.connect("start", "next", "timer").unwrap();
        ed.connect("timer", "next", "end").unwrap();
        ed
    }

    fn edges(ed: &Editor) -> Vec<String> {
        ed.workflow()
            .edges
            .iter()
            .map(|e| format!("{}-{}-{}", e.from, e.port, e.to))
            .collect()
    }

    #[test]
    fn several_nodes_move_and_go_together_in_one_step() {
        let mut ed = chain();
        let before = ed.begin_gesture();
        let origin = vec![
            ("start".to_owned(), (0.0, 0.0)),
            ("timer".to_owned(), (200.0, 0.0)),
        ];
        ed.move_nodes_live(&origin, (10.0, 20.0));
        ed.move_nodes_live(&origin, (40.0, 60.0));
        ed.end_gesture(before);
        let at = |ed: &Editor, id: &str| ed.workflow().node(id).unwrap().position.unwrap();
        assert_eq!(at(&ed, "timer"), Position { x: 240.0, y: 60.0 });
        assert_eq!(at(&ed, "end"), Position { x: 400.0, y: 0.0 });
        assert!(ed.undo());
        assert_eq!(at(&ed, "start"), Position { x: 0.0, y: 0.0 });
        ed.workflow.on_cancel = Some("timer".into());
        ed.remove_nodes(&["timer".into(), "end".into()]).unwrap();
        assert_eq!(ed.workflow().nodes.len(), 1);
        assert!(ed.workflow().edges.is_empty() && ed.workflow().on_cancel.is_none());
        assert!(ed.undo());
        assert_eq!(ed.workflow().nodes.len(), 3, "one step brings both back");
        assert_eq!(edges(&ed).len(), 2);
        assert_eq!(
            ed.remove_nodes(&["timer".into(), "nope".into()]),
            Err(EditError::UnknownNode("nope".into()))
        );
        assert_eq!(ed.workflow().nodes.len(), 3, "nothing removed");
    }

    #[test]
    fn paste_renames_copies_and_keeps_their_edges() {
        let mut ed = chain();
        let clip = Clip::of(ed.workflow(), &["timer".into(), "end".into()]).unwrap();
        let ids = ed.paste(&clip, (1000.0, 500.0));
        assert_eq!(ids, ["timer_2", "end_2"]);
        assert!(edges(&ed).contains(&"timer_2-next-end_2".to_owned()));
        assert_eq!(edges(&ed).len(), 3, "the edge from start stays out");
        let p = ed.workflow().node("end_2").unwrap().position.unwrap();
        assert_eq!((p.x, p.y), (1200.0, 500.0), "relative places kept");
        // Into another workflow: ids that are free there stay.
        let mut other = editor();
        other.add_node("start", (0.0, 0.0)).unwrap();
        let ids = other.paste(&Clip::from_text(&clip.to_text()).unwrap(), (0.0, 0.0));
        assert_eq!(ids, ["timer", "end"]);
        assert_eq!(edges(&other), ["timer-next-end"]);
        assert!(other.undo());
        assert_eq!(other.workflow().nodes.len(), 1, "a paste is one step");
        // Duplicate: beside the originals, with fresh ids.
        let ids = ed.duplicate(&["start".into(), "timer".into()]);
        assert_eq!(ids, ["start_2", "timer_3"]);
        let p = ed.workflow().node("timer_3").unwrap().position.unwrap();
        assert_eq!((p.x, p.y), (240.0, 40.0));
        assert!(edges(&ed).contains(&"start_2-next-timer_3".to_owned()));
    }

    #[test]
    fn a_node_dropped_on_an_edge_goes_inside_it() {
        let mut ed = chain();
        let id = ed.add_node_into_edge("http", (300.0, 0.0), 1).unwrap();
        assert_eq!(id, "http");
        assert_eq!(
            edges(&ed),
            ["start-next-timer", "timer-next-http", "http-next-end"]
        );
        assert!(
            is_valid(&validate(ed.workflow())),
            "{:?}",
            validate(ed.workflow())
        );
        assert!(ed.undo());
        assert_eq!(edges(&ed), ["start-next-timer", "timer-next-end"]);
        assert!(ed.workflow().node("http").is_none(), "one step");
        // An existing unconnected node dragged onto an edge, leaving by its first port.
        ed.add_node("approval", (0.0, 300.0)).unwrap();
        let before = ed.begin_gesture();
        ed.move_node_live("approval", (100.0, 0.0));
        ed.drop_into_edge(before, 0, "approval").unwrap();
        assert_eq!(
            edges(&ed),
            [
                "start-next-approval",
                "approval-approved-timer",
                "timer-next-end"
            ]
        );
        assert!(ed.undo());
        assert_eq!(edges(&ed), ["start-next-timer", "timer-next-end"]);
        let p = ed.workflow().node("approval").unwrap().position.unwrap();
        assert_eq!(
            (p.x, p.y),
            (0.0, 300.0),
            "the move and the insert are one step"
        );
        assert!(ed.redo());
        let before = ed.begin_gesture();
        assert_eq!(
            ed.drop_into_edge(before, 2, "approval"),
            Err(EditError::AlreadyConnected("approval".into()))
        );
        assert_eq!(
            ed.add_node_into_edge("end", (0.0, 0.0), 0),
            Err(EditError::NotInsertable("end_2".into()))
        );
        assert_eq!(
            ed.add_node_into_edge("timer", (0.0, 0.0), 9),
            Err(EditError::UnknownEdge(9))
        );
    }

    #[test]
    fn an_edge_end_dragged_elsewhere_changes_its_target_or_port() {
        let mut ed = chain();
        ed.add_node("http", (0.0, 300.0)).unwrap();
        ed.reconnect(1, "timer", "next", "http").unwrap();
        assert_eq!(edges(&ed), ["start-next-timer", "timer-next-http"]);
        ed.reconnect(1, "timer", "next", "http").unwrap();
        ed.connect("http", "next", "end").unwrap();
        ed.reconnect(2, "http", "error", "end").unwrap();
        assert_eq!(edges(&ed)[2], "http-error-end");
        assert_eq!(
            ed.reconnect(2, "http", "next", "start"),
            Err(EditError::IntoStart)
        );
        assert_eq!(
            ed.reconnect(1, "http", "error", "end"),
            Err(EditError::DuplicateEdge)
        );
        assert!(ed.undo());
        assert_eq!(edges(&ed)[2], "http-next-end");
    }

    #[test]
    fn auto_layout_is_one_step() {
        let mut ed = editor();
        ed.add_node("start", (0.0, 0.0)).unwrap();
        ed.add_node("end", (0.0, 0.0)).unwrap();
        ed.connect("start", "next", "end").unwrap();
        ed.auto_layout();
        let [a, b] =
            [&ed.workflow().nodes[0], &ed.workflow().nodes[1]].map(|n| n.position.unwrap());
        assert!(a.x < b.x);
        assert!(ed.undo());
        assert_eq!(
            ed.workflow().nodes[1].position,
            Some(Position { x: 0.0, y: 0.0 })
        );
    }
}
