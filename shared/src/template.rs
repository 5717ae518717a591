//! Templates and expressions (SPEC §1 "Templates"): MiniJinja over JSON values.
//!
//! Lives in `shared` so the editor checks templates with the very parser the engine renders
//! them with. A JSON string that is exactly one `{{ … }}` keeps the expression's JSON type;
//! every other string renders to a string.
//!
//! Filters and tests are looked up only when rendering reaches them, so [`unknown_names`]
//! finds the ones a template names that the environment lacks (in the compiled
//! instructions, through MiniJinja's `unstable_machinery`), for the validator to report.
//!
//! The engine renders the same few expressions of a definition for every run, so compiled
//! expressions are kept by their source text, and a context is converted to MiniJinja's
//! values once per rendered value rather than once per string.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use minijinja::machinery::{self, Instruction, Instructions};
use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, ErrorKind, Expression, UndefinedBehavior};
use serde_json::Value;

/// A template or expression that does not parse or does not render.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Error(pub String);

impl From<minijinja::Error> for Error {
    fn from(e: minijinja::Error) -> Self {
        // MiniJinja's Display includes the line; the detail names the token.
        match e.detail() {
            Some(detail) => Error(format!("{} ({detail})", e.kind())),
            None => Error(e.to_string()),
        }
    }
}

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        // `nodes.x.output.y` of a node that did not run is `none`, not an error, so a
        // cancel path can read what may not exist.
        env.set_undefined_behavior(UndefinedBehavior::Chainable);
        env
    })
}

/// At most this many compiled expressions are kept; the cache starts over when it is full.
const CACHED_EXPRESSIONS: usize = 4096;

type Compiled = Arc<Expression<'static, 'static>>;

/// `expr` compiled, from the cache when it was compiled before.
fn compiled(expr: &str) -> Result<Compiled, Error> {
    static CACHE: OnceLock<Mutex<HashMap<String, Compiled>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    if let Some(e) = cache.lock().expect("expression cache").get(expr) {
        return Ok(e.clone());
    }
    let e = Arc::new(env().compile_expression_owned(expr.to_owned())?);
    let mut cache = cache.lock().expect("expression cache");
    if cache.len() >= CACHED_EXPRESSIONS {
        cache.clear();
    }
    cache.insert(expr.to_owned(), e.clone());
    Ok(e)
}

/// A JSON context as MiniJinja's value.
fn context(ctx: &Value) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(ctx))
}

/// The inner expression of a string that is exactly one `{{ … }}`.
fn sole_expression(s: &str) -> Option<&str> {
    let t = s.trim();
    let inner = t.strip_prefix("{{")?.strip_suffix("}}")?;
    let inner = inner.strip_prefix('-').unwrap_or(inner);
    let inner = inner.strip_suffix('-').unwrap_or(inner);
    (!inner.contains("{{") && !inner.contains("}}")).then_some(inner)
}

/// Parses every string in `value`; returns the first error with the path of the string.
pub fn check(value: &Value) -> Result<(), Error> {
    let mut result = Ok(());
    walk_strings(value, &mut |s| {
        if result.is_ok() {
            result = check_str(s);
        }
    });
    result
}

fn check_str(s: &str) -> Result<(), Error> {
    if !s.contains("{{") && !s.contains("{%") && !s.contains("{#") {
        return Ok(());
    }
    match sole_expression(s) {
        Some(expr) => env().compile_expression(expr).map(|_| ())?,
        None => env().template_from_str(s).map(|_| ())?,
    }
    Ok(())
}

/// Parses an expression (a `condition`'s `expr`).
pub fn check_expression(expr: &str) -> Result<(), Error> {
    env().compile_expression(expr)?;
    Ok(())
}

/// The variables (dotted paths) a string reads, if it is a template that parses.
fn template_vars(s: &str) -> Option<HashSet<String>> {
    match sole_expression(s) {
        Some(expr) => expression_vars(expr),
        None if is_template(s) => env()
            .template_from_str(s)
            .ok()
            .map(|t| t.undeclared_variables(true)),
        None => None,
    }
}

/// The variables (dotted paths) an expression reads, if it parses.
fn expression_vars(expr: &str) -> Option<HashSet<String>> {
    env()
        .compile_expression(expr)
        .ok()
        .map(|e| e.undeclared_variables(true))
}

/// A filter or a test that a template names and the environment does not have.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Unknown {
    Filter(String),
    Test(String),
}

/// The unknown filters and tests the templates in `value` name. A template that does not
/// parse names none ([`check`] reports it).
pub fn unknown_names(value: &Value) -> BTreeSet<Unknown> {
    let mut found = BTreeSet::new();
    walk_strings(value, &mut |s| match sole_expression(s) {
        Some(expr) => expression_unknowns(expr, &mut found),
        None if is_template(s) => {
            if let Ok(ast) = machinery::parse(s, "<template>", SyntaxConfig::default()) {
                let mut codegen = machinery::CodeGenerator::new("<template>", s);
                codegen.compile_stmt(&ast);
                let (instructions, blocks) = codegen.finish();
                instruction_unknowns(&instructions, &mut found);
                for block in blocks.values() {
                    instruction_unknowns(block, &mut found);
                }
            }
        }
        None => {}
    });
    found
}

/// [`unknown_names`] of an expression.
pub fn expression_unknown_names(expr: &str) -> BTreeSet<Unknown> {
    let mut found = BTreeSet::new();
    expression_unknowns(expr, &mut found);
    found
}

fn expression_unknowns(expr: &str, found: &mut BTreeSet<Unknown>) {
    if let Ok(ast) = machinery::parse_expr(expr) {
        let mut codegen = machinery::CodeGenerator::new("<expression>", expr);
        codegen.compile_expr(&ast);
        instruction_unknowns(&codegen.finish().0, found);
    }
}

fn instruction_unknowns(instructions: &Instructions<'_>, found: &mut BTreeSet<Unknown>) {
    let mut at = 0;
    while let Some(instruction) = instructions.get(at) {
        match instruction {
            Instruction::ApplyFilter(name, ..) if !exists(&format!("none | {name}")) => {
                found.insert(Unknown::Filter(normalized(name)));
            }
            Instruction::PerformTest(name, ..) if !exists(&format!("none is {name}")) => {
                found.insert(Unknown::Test(normalized(name)));
            }
            _ => {}
        }
        at += 1;
    }
}

/// MiniJinja's spelling of a filter or test name (it ignores whitespace in dotted names).
fn normalized(name: &str) -> String {
    name.chars().filter(|c| !c.is_ascii_whitespace()).collect()
}

/// False when evaluating `probe` fails because its filter or test does not exist. The
/// environment has no lookup by name, and it looks a filter up before calling it, so the
/// probe fails this way only for a missing one (any other failure means it exists).
fn exists(probe: &str) -> bool {
    let error = match env().compile_expression(probe) {
        Ok(e) => e.eval(minijinja::Value::UNDEFINED).err(),
        Err(e) => Some(e),
    };
    !error.is_some_and(|e| matches!(e.kind(), ErrorKind::UnknownFilter | ErrorKind::UnknownTest))
}

/// Every variable the templates in `value` read.
fn value_vars(value: &Value) -> HashSet<String> {
    let mut vars = HashSet::new();
    walk_strings(value, &mut |s| {
        vars.extend(template_vars(s).into_iter().flatten())
    });
    vars
}

/// The node ids a template reads through `nodes.<id>`.
pub fn node_refs(value: &Value) -> BTreeSet<String> {
    value_vars(value)
        .iter()
        .filter_map(|v| node_of(v))
        .collect()
}

/// The node ids an expression reads through `nodes.<id>`.
pub fn expression_refs(expr: &str) -> BTreeSet<String> {
    expression_vars(expr)
        .into_iter()
        .flatten()
        .filter_map(|v| node_of(&v))
        .collect()
}

/// The node ids the templates in `value` read, or `None` when one reads `nodes` as a whole
/// (e.g. `{{ nodes | tojson }}` or `nodes[input.key]`), so every node's output is needed.
/// A template that does not parse reads nothing: it fails when rendered, whatever it is given.
pub fn node_reads(value: &Value) -> Option<BTreeSet<String>> {
    reads(value_vars(value))
}

/// [`node_reads`] of an expression.
pub fn expression_node_reads(expr: &str) -> Option<BTreeSet<String>> {
    reads(expression_vars(expr).unwrap_or_default())
}

fn reads(vars: HashSet<String>) -> Option<BTreeSet<String>> {
    if vars.contains("nodes") {
        return None;
    }
    Some(vars.iter().filter_map(|v| node_of(v)).collect())
}

fn node_of(var: &str) -> Option<String> {
    let mut parts = var.split('.');
    (parts.next()? == "nodes").then_some(())?;
    parts.next().map(str::to_owned)
}

/// Calls `f` on every string in `value`, depth first, on an explicit stack.
fn walk_strings(value: &Value, f: &mut impl FnMut(&str)) {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) => f(s),
            Value::Array(items) => stack.extend(items.iter().rev()),
            Value::Object(map) => stack.extend(map.values().rev()),
            _ => {}
        }
    }
}

/// The length in bytes of the longest template among the strings of `value` (0 if none is
/// a template), for the validator's `MAX_TEMPLATE_LEN`.
pub fn longest_template(value: &Value) -> usize {
    let mut longest = 0;
    walk_strings(value, &mut |s| {
        if is_template(s) {
            longest = longest.max(s.len());
        }
    });
    longest
}

/// Renders every string of `value` against `ctx` (`input`, `nodes`, `run`, `secrets`).
pub fn render(value: &Value, ctx: &Value) -> Result<Value, Error> {
    if !has_template(value) {
        return Ok(value.clone());
    }
    render_with(value, &context(ctx))
}

fn has_template(value: &Value) -> bool {
    let mut found = false;
    walk_strings(value, &mut |s| found |= is_template(s));
    found
}

fn is_template(s: &str) -> bool {
    s.contains("{{") || s.contains("{%") || s.contains("{#")
}

fn render_with(value: &Value, ctx: &minijinja::Value) -> Result<Value, Error> {
    Ok(match value {
        Value::String(s) => render_str(s, ctx)?,
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| render_with(v, ctx))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), render_with(v, ctx)?)))
                .collect::<Result<_, Error>>()?,
        ),
        other => other.clone(),
    })
}

fn render_str(s: &str, ctx: &minijinja::Value) -> Result<Value, Error> {
    if !is_template(s) {
        return Ok(Value::String(s.to_owned()));
    }
    match sole_expression(s) {
        Some(expr) => {
            let v = compiled(expr)?.eval(ctx.clone())?;
            if v.is_undefined() || v.is_none() {
                return Ok(Value::Null);
            }
            serde_json::to_value(&v).map_err(|e| Error(e.to_string()))
        }
        None => Ok(Value::String(env().render_str(s, ctx.clone())?)),
    }
}

/// Renders a template to a string (a URL, a header, a prompt); JSON values are written out.
pub fn render_string(s: &str, ctx: &Value) -> Result<String, Error> {
    if !is_template(s) {
        return Ok(s.to_owned());
    }
    Ok(match render_str(s, &context(ctx))? {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    })
}

/// Judges an expression by truthiness.
pub fn eval_truthy(expr: &str, ctx: &Value) -> Result<bool, Error> {
    let v = compiled(expr)?.eval(context(ctx))?;
    Ok(v.is_true())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sole_expression_keeps_json_type() {
        let ctx = json!({"input": {"n": 5, "items": [1, 2]}});
        assert_eq!(render(&json!("{{ input.n }}"), &ctx).unwrap(), json!(5));
        assert_eq!(
            render(&json!("{{ input.items }}"), &ctx).unwrap(),
            json!([1, 2])
        );
        assert_eq!(
            render(&json!("n={{ input.n }}"), &ctx).unwrap(),
            json!("n=5")
        );
        assert_eq!(
            render(&json!({"a": ["{{ input.n + 1 }}"]}), &ctx).unwrap(),
            json!({"a": [6]})
        );
    }

    #[test]
    fn missing_values_are_null() {
        let ctx = json!({"nodes": {}});
        assert_eq!(
            render(&json!("{{ nodes.x.output.id }}"), &ctx).unwrap(),
            Value::Null
        );
    }

    #[test]
    fn refs_and_errors() {
        let refs = node_refs(
            &json!({"a": "{{ nodes.charge.output.body }}", "b": "x {{ nodes.ship.output }} y"}),
        );
        assert_eq!(refs.into_iter().collect::<Vec<_>>(), vec!["charge", "ship"]);
        assert!(check(&json!("{{ input. }}")).is_err());
        assert!(check(&json!("{% if %}")).is_err());
        assert!(check_expression("input.amount >").is_err());
        assert!(eval_truthy("input.amount > 100", &json!({"input": {"amount": 150}})).unwrap());
    }

    #[test]
    fn the_filters_users_expect_render() {
        let ctx = json!({"input": {"email": "a+b@x.io", "items": [3, 1, 2], "name": "ada"}});
        for (template, want) in [
            ("{{ input.email | urlencode }}", json!("a%2Bb%40x.io")),
            ("{{ input.items | sort | first }}", json!(1)),
            ("{{ input.name | upper }}", json!("ADA")),
            ("{{ input.items | tojson }}", json!("[3, 1, 2]")),
            ("{{ input.missing | default('none') }}", json!("none")),
            ("{{ input.items | length }}", json!(3)),
            ("{{ input.name is string }}", json!(true)),
        ] {
            assert_eq!(render(&json!(template), &ctx), Ok(want), "{template}");
        }
    }

    #[test]
    fn unknown_filters_and_tests_are_found_before_rendering() {
        let value = json!({
            "url": "http://x/?q={{ input.q | urlencod }}",
            "sole": "{{ input.n | nope(1) }}",
            "known": "{{ input.q | urlencode | upper }}",
            "nested": "{% if input.q is stringy %}{{ input.q | trim }}{% endif %}",
            "broken": "{{ input. }}"
        });
        assert_eq!(
            unknown_names(&value),
            BTreeSet::from([
                Unknown::Filter("nope".into()),
                Unknown::Filter("urlencod".into()),
                Unknown::Test("stringy".into()),
            ])
        );
        assert_eq!(
            expression_unknown_names("input.x is evenish or (input.y | absolute) > 1"),
            BTreeSet::from([
                Unknown::Filter("absolute".into()),
                Unknown::Test("evenish".into())
            ])
        );
        assert!(expression_unknown_names("input.x is even and (input.y | abs) > 1").is_empty());
    }

    #[test]
    fn node_reads_names_the_nodes_or_none_for_all() {
        let reads = node_reads(
            &json!({"a": "{{ nodes.a.output }}", "b": "x {{ nodes.b.output.id }}", "c": "{{ input.n }}"}),
        );
        assert_eq!(
            reads.unwrap().into_iter().collect::<Vec<_>>(),
            vec!["a", "b"]
        );
        assert_eq!(node_reads(&json!("{{ nodes | tojson }}")), None);
        assert_eq!(node_reads(&json!("{{ nodes[input.k].output }}")), None);
        assert_eq!(node_reads(&json!("plain")), Some(BTreeSet::new()));
        assert_eq!(
            expression_node_reads("nodes.x.output.ok and input.y"),
            Some(BTreeSet::from(["x".to_owned()]))
        );
    }
}
