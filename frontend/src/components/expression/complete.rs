//! What the autocomplete offers at the caret of a template field, without the DOM: the
//! names in scope ([`Scope`]: `input.*` from the input schema, the `nodes.<id>.output` that
//! surely ran before the node, `run.*`, `secrets.*` where they render, `item`/`index` in a
//! `map`'s input) and, after a `|`, the filters the server's environment has.

use std::collections::BTreeMap;

use serde_json::Value;

/// Property names below a value, as far as they are known.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Fields(BTreeMap<String, Fields>);

impl Fields {
    /// The properties a JSON Schema declares (`properties`, nested).
    pub(crate) fn of_schema(schema: &Value) -> Fields {
        Fields(
            schema
                .get("properties")
                .and_then(Value::as_object)
                .map(|props| {
                    props
                        .iter()
                        .map(|(k, v)| (k.clone(), Fields::of_schema(v)))
                        .collect()
                })
                .unwrap_or_default(),
        )
    }

    /// The keys of a sample value (objects, nested).
    pub(crate) fn of_value(value: &Value) -> Fields {
        Fields(
            value
                .as_object()
                .map(|o| {
                    o.iter()
                        .map(|(k, v)| (k.clone(), Fields::of_value(v)))
                        .collect()
                })
                .unwrap_or_default(),
        )
    }

    /// Adds what `other` knows to what this knows.
    pub(crate) fn merge(&mut self, other: Fields) {
        for (k, v) in other.0 {
            self.0.entry(k).or_default().merge(v);
        }
    }

    fn at(&self, path: &[&str]) -> Option<&Fields> {
        path.iter().try_fold(self, |f, seg| f.0.get(*seg))
    }
}

/// What a template in one field may read.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Scope {
    /// `input`'s properties.
    pub(crate) input: Fields,
    /// The nodes that surely ran before this one, in definition order, each with what is
    /// known of its output (from a sample run).
    pub(crate) nodes: Vec<(String, Fields)>,
    /// The secret names offered, or `None` where secrets do not render (SPEC §3: only in
    /// `http` and `task` nodes).
    pub(crate) secrets: Option<Vec<String>>,
    /// A `map`'s input per item, which also reads `item` and `index`.
    pub(crate) item: bool,
    /// The filters the environment has.
    pub(crate) filters: Vec<&'static str>,
}

/// SPEC §1: what `run` has in a template's context.
pub(crate) const RUN_FIELDS: [&str; 3] = ["id", "workflow", "version"];

/// One offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Suggestion {
    /// The text put in place of what was typed of the name.
    pub(crate) name: String,
    /// What kind of thing it is, shown next to it.
    pub(crate) detail: &'static str,
}

/// The offers at a caret, and the part of the text (byte offsets) an accepted one replaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Completion {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) items: Vec<Suggestion>,
}

impl Completion {
    /// The text with suggestion `i` accepted, and the caret after it (a byte offset).
    pub(crate) fn accept(&self, text: &str, i: usize) -> Option<(String, usize)> {
        let s = self.items.get(i)?;
        let mut out = String::with_capacity(text.len() + s.name.len());
        out.push_str(text.get(..self.start)?);
        out.push_str(&s.name);
        out.push_str(text.get(self.end..)?);
        Some((out, self.start + s.name.len()))
    }
}

/// The offers at byte offset `caret` of `text`. `expression`: the whole text is one
/// expression (a condition's `expr`); otherwise only inside `{{ … }}` or `{% … %}`. `None`
/// outside an expression or when nothing matches.
pub(crate) fn complete(
    text: &str,
    caret: usize,
    expression: bool,
    scope: &Scope,
) -> Option<Completion> {
    let before = text.get(..caret)?;
    if !expression && !inside_tag(before) {
        return None;
    }
    let token_start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
        .last()
        .map_or(caret, |(i, _)| i);
    let token = &before[token_start..];
    if token.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let lead = before[..token_start].trim_end();
    let segments: Vec<&str> = token.split('.').collect();
    let (path, prefix) = segments.split_at(segments.len() - 1);
    let prefix = prefix[0];
    let candidates: Vec<Suggestion> = if lead.ends_with('|') {
        if !path.is_empty() {
            return None;
        }
        scope.filters.iter().map(|f| offer(f, "filter")).collect()
    } else {
        names_at(path, scope)
    };
    let items: Vec<Suggestion> = candidates
        .into_iter()
        .filter(|s| s.name.starts_with(prefix))
        .collect();
    (!items.is_empty()).then(|| Completion {
        start: caret - prefix.len(),
        end: caret,
        items,
    })
}

/// True when `before` ends inside an open `{{` or `{%`.
fn inside_tag(before: &str) -> bool {
    let open = before.rfind("{{").max(before.rfind("{%"));
    let close = before.rfind("}}").max(before.rfind("%}"));
    match (open, close) {
        (Some(o), Some(c)) => o > c,
        (Some(_), None) => true,
        _ => false,
    }
}

fn offer(name: &str, detail: &'static str) -> Suggestion {
    Suggestion {
        name: name.to_owned(),
        detail,
    }
}

fn fields(f: Option<&Fields>, detail: &'static str) -> Vec<Suggestion> {
    f.map(|f| f.0.keys().map(|k| offer(k, detail)).collect())
        .unwrap_or_default()
}

/// The names below dotted `path` (empty: the context's roots).
fn names_at(path: &[&str], scope: &Scope) -> Vec<Suggestion> {
    match path {
        [] => {
            let mut roots = vec![
                offer("input", "the run's input"),
                offer("nodes", "outputs of nodes that ran before"),
                offer("run", "id, workflow, version"),
            ];
            if scope.secrets.is_some() {
                roots.push(offer("secrets", "secret values, by name"));
            }
            if scope.item {
                roots.push(offer("item", "this child's item"));
                roots.push(offer("index", "this item's position"));
            }
            roots
        }
        ["input", rest @ ..] => fields(scope.input.at(rest), "input field"),
        ["nodes"] => scope
            .nodes
            .iter()
            .map(|(id, _)| offer(id, "node that ran before"))
            .collect(),
        ["nodes", id] if scope.nodes.iter().any(|(n, _)| n == id) => vec![
            offer("output", "its output"),
            offer("status", "completed or failed"),
        ],
        ["nodes", id, "output", rest @ ..] => fields(
            scope
                .nodes
                .iter()
                .find(|(n, _)| n == id)
                .and_then(|(_, f)| f.at(rest)),
            "output field (sample)",
        ),
        ["run"] => RUN_FIELDS.iter().map(|f| offer(f, "run field")).collect(),
        ["secrets"] => scope
            .secrets
            .iter()
            .flatten()
            .map(|s| offer(s, "secret"))
            .collect(),
        _ => Vec::new(),
    }
}

/// The byte offset of UTF-16 offset `at` in `text` (the DOM counts carets in UTF-16).
pub(crate) fn byte_offset(text: &str, at: u32) -> usize {
    let mut units = 0u32;
    for (i, c) in text.char_indices() {
        if units >= at {
            return i;
        }
        units += c.len_utf16() as u32;
    }
    text.len()
}

/// The UTF-16 offset of byte offset `at` in `text`.
pub(crate) fn utf16_offset(text: &str, at: usize) -> u32 {
    text.get(..at)
        .map_or(0, |s| s.encode_utf16().count() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scope() -> Scope {
        Scope {
            input: Fields::of_schema(&json!({"type": "object", "properties": {
                "order_id": {"type": "string"},
                "customer": {"type": "object", "properties": {"email": {}, "name": {}}}
            }})),
            nodes: vec![
                ("start".into(), Fields::default()),
                (
                    "charge".into(),
                    Fields::of_value(&json!({"status": 200, "body": {"ok": true}})),
                ),
            ],
            secrets: None,
            item: false,
            filters: vec!["default", "tojson", "upper"],
        }
    }

    /// The names offered with the caret at the end of `text`.
    fn names(text: &str, expression: bool, scope: &Scope) -> Vec<String> {
        complete(text, text.len(), expression, scope)
            .map(|c| c.items.into_iter().map(|s| s.name).collect())
            .unwrap_or_default()
    }

    #[test]
    fn roots_after_an_opening_brace() {
        assert_eq!(names("Hi {{ ", false, &scope()), ["input", "nodes", "run"]);
        assert_eq!(names("Hi {{ n", false, &scope()), ["nodes"]);
        assert_eq!(names("{% if ", false, &scope()), ["input", "nodes", "run"]);
        let mut s = scope();
        s.secrets = Some(vec!["API_KEY".into()]);
        s.item = true;
        assert_eq!(
            names("{{ ", false, &s),
            ["input", "nodes", "run", "secrets", "item", "index"]
        );
        assert_eq!(names("{{ secrets.", false, &s), ["API_KEY"]);
    }

    #[test]
    fn nothing_outside_an_expression() {
        assert!(names("Hi input.", false, &scope()).is_empty());
        assert!(names("{{ input.order_id }} and input.", false, &scope()).is_empty());
        assert_eq!(names("input.", true, &scope()), ["customer", "order_id"]);
    }

    #[test]
    fn nested_input_and_node_outputs() {
        assert_eq!(names("{{ input.cu", false, &scope()), ["customer"]);
        assert_eq!(
            names("{{ input.customer.", false, &scope()),
            ["email", "name"]
        );
        assert_eq!(names("{{ nodes.", false, &scope()), ["start", "charge"]);
        assert_eq!(
            names("{{ nodes.charge.", false, &scope()),
            ["output", "status"]
        );
        assert_eq!(
            names("{{ nodes.charge.output.", false, &scope()),
            ["body", "status"]
        );
        assert!(names("{{ nodes.other.", false, &scope()).is_empty());
        assert_eq!(
            names("{{ run.", false, &scope()),
            ["id", "workflow", "version"]
        );
        assert!(names("{{ secrets.", false, &scope()).is_empty());
    }

    #[test]
    fn filters_after_a_pipe() {
        assert_eq!(
            names("{{ input.order_id | ", false, &scope()),
            ["default", "tojson", "upper"]
        );
        assert_eq!(names("{{ input.order_id|up", false, &scope()), ["upper"]);
        assert!(names("{{ 3.", false, &scope()).is_empty());
    }

    #[test]
    fn accepting_replaces_what_was_typed() {
        let text = "{{ input.or }}";
        let caret = text.find(" }}").unwrap();
        let c = complete(text, caret, false, &scope()).unwrap();
        assert_eq!(c.items[0].name, "order_id");
        let (out, at) = c.accept(text, 0).unwrap();
        assert_eq!(out, "{{ input.order_id }}");
        assert_eq!(&out[..at], "{{ input.order_id");
    }

    #[test]
    fn utf16_offsets_round_trip() {
        let text = "é {{ 😀 input.";
        let at = utf16_offset(text, text.len());
        assert_eq!(byte_offset(text, at), text.len());
        assert_eq!(byte_offset(text, 1), "é".len());
    }
}
