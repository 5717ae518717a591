//! What a node's templates render to: one function per node kind, called by the engine when
//! a run reaches the node and by the designer's live preview, so the preview cannot drift
//! from what a run does. Errors name the field, as a failed node's error does.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::model::{HttpRequest, NodeKind};
use crate::template;

/// The value node `kind`'s templates render to against `ctx`: the output (`null` for an
/// `end` without one), a condition's truth as a boolean, an approval's prompt as a string,
/// a `subflow`'s input, a `map`'s items; `null` for a kind whose templates an activity
/// renders ([`request`], a task's input) or that has none.
pub fn node_value(kind: &NodeKind, ctx: &Value) -> Result<Value, String> {
    match kind {
        NodeKind::Transform(t) => {
            template::render(&t.output, ctx).map_err(|e| format!("output: {e}"))
        }
        NodeKind::End(e) => match &e.output {
            Some(o) => template::render(o, ctx).map_err(|e| format!("output: {e}")),
            None => Ok(Value::Null),
        },
        NodeKind::Condition(c) => template::eval_truthy(&c.expr, ctx)
            .map(Value::Bool)
            .map_err(|e| format!("expr: {e}")),
        NodeKind::Approval(a) => template::render_string(&a.prompt, ctx)
            .map(Value::String)
            .map_err(|e| format!("prompt: {e}")),
        NodeKind::Subflow(s) => match &s.input {
            Some(i) => template::render(i, ctx).map_err(|e| format!("input: {e}")),
            None => Ok(Value::Null),
        },
        NodeKind::Map(m) => template::render(&m.items, ctx).map_err(|e| format!("items: {e}")),
        _ => Ok(Value::Null),
    }
}

/// An `http` node's request with its templates rendered (the method not yet checked).
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedRequest {
    pub method: String,
    pub url: String,
    pub headers: BTreeMap<String, String>,
    pub body: Option<Value>,
}

/// Renders an `http` request against `ctx` (secrets included where the engine sends it) on
/// one template budget for all of its parts.
pub fn request(request: &HttpRequest, ctx: &Value) -> Result<RenderedRequest, String> {
    let mut r = template::Renderer::new(ctx);
    let method = r
        .string(&request.method)
        .map_err(|e| format!("method: {e}"))?;
    let url = r.string(&request.url).map_err(|e| format!("url: {e}"))?;
    let mut headers = BTreeMap::new();
    for (name, value) in request.headers.iter().flatten() {
        let value = r.string(value).map_err(|e| format!("header {name}: {e}"))?;
        headers.insert(name.clone(), value);
    }
    let body = match &request.body {
        Some(body) => Some(r.value(body).map_err(|e| format!("body: {e}"))?),
        None => None,
    };
    Ok(RenderedRequest {
        method,
        url,
        headers,
        body,
    })
}

/// A `map` node's input template `t` for one item: the context gains `item` and `index`
/// (a node without an input template passes the item itself).
pub fn map_input(t: &Value, ctx: &mut Value, item: Value, index: usize) -> Result<Value, String> {
    ctx["item"] = item;
    ctx["index"] = Value::from(index);
    template::render(t, ctx).map_err(|e| format!("item {index}: input: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_request_renders_every_part_and_names_the_broken_one() {
        let ctx = json!({"input": {"id": 7}, "run": {"id": "r1"}});
        let req: HttpRequest = serde_json::from_value(json!({
            "method": "post", "url": "http://x/{{ input.id }}",
            "headers": {"X-Run": "{{ run.id }}"}, "body": {"n": "{{ input.id }}"}
        }))
        .unwrap();
        let r = request(&req, &ctx).unwrap();
        assert_eq!(r.url, "http://x/7");
        assert_eq!(r.headers["X-Run"], "r1");
        assert_eq!(r.body, Some(json!({"n": 7})));
        let bad: HttpRequest =
            serde_json::from_value(json!({"method": "GET", "url": "{{ 1 + }}"})).unwrap();
        assert!(request(&bad, &ctx).unwrap_err().starts_with("url: "));
    }

    #[test]
    fn map_input_reads_item_and_index() {
        let mut ctx = json!({"input": {}});
        let t = json!({"i": "{{ index }}", "v": "{{ item.v }}"});
        assert_eq!(
            map_input(&t, &mut ctx, json!({"v": "a"}), 2),
            Ok(json!({"i": 2, "v": "a"}))
        );
    }
}
