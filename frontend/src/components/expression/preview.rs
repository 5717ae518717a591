//! What a template field previews, without the DOM: which field it is, the context it is
//! rendered in (a sample input and, from a sample run, the outputs of earlier nodes), and the
//! value, rendered by the very functions the engine renders with (`shared::render`).

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};
use shared::api::RunDetail;
use shared::model::{NodeKind, Workflow};
use shared::render;
use shared::template::{self, SecretReads};

use super::complete::{Fields, Scope};

/// The template fields of SPEC §1's node table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Url,
    Headers,
    Body,
    TaskInput,
    Prompt,
    /// A condition's expression (the whole text is one expression).
    Expr,
    /// A `transform`'s or an `end`'s output.
    Output,
    SubflowInput,
    MapItems,
    /// A `map`'s input per item (reads `item` and `index`).
    MapInput,
}

impl Field {
    /// A name for element ids.
    pub(crate) fn slug(self) -> &'static str {
        match self {
            Field::Url => "url",
            Field::Headers => "headers",
            Field::Body => "body",
            Field::TaskInput => "task-input",
            Field::Prompt => "prompt",
            Field::Expr => "expr",
            Field::Output => "output",
            Field::SubflowInput => "subflow-input",
            Field::MapItems => "items",
            Field::MapInput => "map-input",
        }
    }

    /// The whole text is an expression, not a template.
    pub(crate) fn is_expression(self) -> bool {
        self == Field::Expr
    }
}

/// A run whose data the preview renders with: the last run of the workflow.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SampleRun {
    pub(crate) id: String,
    pub(crate) version: i64,
    /// `nodes.<id>` as a template reads it: the output and status of each node that
    /// completed or failed.
    pub(crate) nodes: Map<String, Value>,
}

impl SampleRun {
    pub(crate) fn of(run: &RunDetail) -> SampleRun {
        let nodes = run
            .nodes
            .iter()
            .filter_map(|(id, n)| {
                let status = serde_json::to_value(n.status).ok()?;
                matches!(status.as_str(), Some("completed" | "failed"))
                    .then(|| (id.clone(), json!({"output": n.output, "status": status})))
            })
            .collect();
        SampleRun {
            id: run.run.id.clone(),
            version: run.run.version,
            nodes,
        }
    }
}

/// Node kinds whose templates may read secrets (SPEC §3).
fn reads_secrets(kind: &NodeKind) -> bool {
    matches!(kind, NodeKind::Http(_) | NodeKind::Task(_))
}

/// The secret names the server has (`GET /api/secrets`, empty for a role that may not read
/// them) and those the workflow's templates read anywhere; never a value.
fn secret_names(wf: &Workflow, server: &[String]) -> Vec<String> {
    let mut names: BTreeSet<String> = server.iter().cloned().collect();
    for node in &wf.nodes {
        for (_, value) in node.kind.templates() {
            if let SecretReads::Names(n) = template::secret_reads(&value) {
                names.extend(n);
            }
        }
    }
    names.into_iter().collect()
}

/// What a template of `field` in node `id` may read: `input` as the schema declares it and
/// the sample input has it; `secrets` the server's secret names.
pub(crate) fn scope(
    wf: &Workflow,
    id: &str,
    field: Field,
    sample: &Value,
    run: Option<&SampleRun>,
    secrets: &[String],
) -> Scope {
    let mut input = Fields::of_schema(wf.input_schema.as_ref().unwrap_or(&Value::Null));
    input.merge(Fields::of_value(sample));
    let kind = wf.node(id).map(|n| &n.kind);
    let nodes = shared::validate::ran_before(wf, id)
        .into_iter()
        .map(|n| {
            let sample = run
                .and_then(|r| r.nodes.get(&n))
                .map(|v| Fields::of_value(&v["output"]))
                .unwrap_or_default();
            (n, sample)
        })
        .collect();
    Scope {
        input,
        nodes,
        secrets: kind
            .filter(|k| reads_secrets(k))
            .map(|_| secret_names(wf, secrets)),
        item: field == Field::MapInput,
        filters: template::filters(),
    }
}

/// The context a template of node `id` renders in: `input`, `nodes` (from the sample run),
/// `run`, and for `http`/`task` each secret it reads as `***` (the browser never sees a
/// secret's value).
pub(crate) fn context(wf: &Workflow, id: &str, input: &Value, run: Option<&SampleRun>) -> Value {
    let mut ctx = json!({
        "input": input,
        "nodes": run.map(|r| r.nodes.clone()).unwrap_or_default(),
        "run": {
            "id": run.map_or("preview", |r| r.id.as_str()),
            "workflow": wf.name,
            "version": run.map_or(0, |r| r.version),
        },
    });
    if let Some(node) = wf.node(id).filter(|n| reads_secrets(&n.kind)) {
        let mut secrets = Map::new();
        for (_, value) in node.kind.templates() {
            if let SecretReads::Names(names) = template::secret_reads(&value) {
                for n in names {
                    secrets.insert(n, json!("***"));
                }
            }
        }
        ctx["secrets"] = Value::Object(secrets);
    }
    ctx
}

/// What `field` of a node of `kind` renders to in `ctx`, as the engine renders it; the
/// error is the one the node would fail with.
pub(crate) fn value(field: Field, kind: &NodeKind, ctx: &Value) -> Result<Value, String> {
    match (field, kind) {
        (Field::Url | Field::Headers | Field::Body, NodeKind::Http(h)) => {
            let r = render::request(&h.request, ctx)?;
            Ok(match field {
                Field::Url => Value::String(r.url),
                Field::Headers => json!(r.headers),
                _ => r.body.unwrap_or(Value::Null),
            })
        }
        (Field::TaskInput, NodeKind::Task(t)) => t
            .input
            .as_ref()
            .map_or(Ok(Value::Null), |v| template::render(v, ctx))
            .map_err(|e| format!("input: {e}")),
        (Field::MapInput, NodeKind::Map(m)) => {
            let items = render::node_value(kind, ctx)?;
            let Some(first) = items.as_array().and_then(|a| a.first()).cloned() else {
                return Err(format!(
                    "items: the preview needs at least one item, got {}",
                    short(&items)
                ));
            };
            match &m.input {
                Some(t) => render::map_input(t, &mut ctx.clone(), first, 0),
                None => Ok(first),
            }
        }
        _ => render::node_value(kind, ctx),
    }
}

/// A rendered value as shown: a string as itself, anything else as pretty JSON.
pub(crate) fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

fn short(value: &Value) -> String {
    let s = value.to_string();
    match s.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wf() -> Workflow {
        shared::validate::parse(&json!({
            "name": "w",
            "input_schema": {"type": "object", "properties": {"n": {"type": "integer"}}},
            "nodes": [
                {"id": "start", "type": "start"},
                {"id": "t", "type": "transform", "output": "{{ input.n * 2 }}"},
                {"id": "h", "type": "http", "request": {"method": "GET", "url": "http://x/{{ nodes.t.output }}?k={{ secrets.KEY }}"}},
                {"id": "m", "type": "map", "items": "{{ input.list }}", "workflow": "c", "input": {"at": "{{ index }}", "v": "{{ item }}"}},
                {"id": "done", "type": "end"}
            ],
            "edges": [
                {"from": "start", "to": "t"}, {"from": "t", "to": "h"},
                {"from": "h", "to": "m"}, {"from": "m", "to": "done"}
            ]
        }))
        .unwrap()
    }

    fn render(
        id: &str,
        field: Field,
        input: Value,
        run: Option<&SampleRun>,
    ) -> Result<Value, String> {
        let wf = wf();
        let ctx = context(&wf, id, &input, run);
        value(field, &wf.node(id).unwrap().kind, &ctx)
    }

    #[test]
    fn previews_render_as_the_engine_does() {
        assert_eq!(
            render("t", Field::Output, json!({"n": 4}), None),
            Ok(json!(8))
        );
        let run = SampleRun {
            id: "r1".into(),
            version: 2,
            nodes: Map::from_iter([("t".to_owned(), json!({"output": 10, "status": "completed"}))]),
        };
        assert_eq!(
            render("h", Field::Url, json!({}), Some(&run)),
            Ok(json!("http://x/10?k=***"))
        );
        assert_eq!(
            render("m", Field::MapInput, json!({"list": ["a", "b"]}), None),
            Ok(json!({"at": 0, "v": "a"}))
        );
        let e = render("m", Field::MapInput, json!({"list": 3}), None).unwrap_err();
        assert!(e.contains("got 3"), "{e}");
        let e = render("t", Field::Output, json!({"n": {"a": 1}}), None).unwrap_err();
        assert!(e.starts_with("output: "), "{e}");
    }

    #[test]
    fn scope_follows_the_graph_and_the_node_kind() {
        let wf = wf();
        let server = ["API".to_owned(), "KEY".to_owned()];
        let s = scope(
            &wf,
            "h",
            Field::Url,
            &json!({"extra": {"deep": 1}}),
            None,
            &server,
        );
        let ids: Vec<&str> = s.nodes.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(ids, ["start", "t"]);
        assert_eq!(s.secrets, Some(vec!["API".to_owned(), "KEY".to_owned()]));
        assert!(!s.item);
        assert_eq!(
            s.input,
            Fields::of_schema(
                &json!({"properties": {"n": {}, "extra": {"properties": {"deep": {}}}}})
            )
        );
        // Without the server's list, the names the workflow already reads.
        let s = scope(&wf, "h", Field::Url, &json!({}), None, &[]);
        assert_eq!(s.secrets, Some(vec!["KEY".to_owned()]));
        let s = scope(&wf, "m", Field::MapInput, &json!({}), None, &server);
        assert_eq!(s.secrets, None);
        assert!(s.item);
    }

    #[test]
    fn strings_show_as_themselves() {
        assert_eq!(shown(&json!("a b")), "a b");
        assert_eq!(shown(&json!({"a": 1})), "{\n  \"a\": 1\n}");
    }
}
