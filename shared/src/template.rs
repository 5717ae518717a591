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
//! # Budgets
//! A template is code a definition's author runs inside the engine, so each rendered value
//! (one node's input or output, one condition, one prompt: one call of [`render`],
//! [`render_string`] or [`eval_truthy`]) gets [`TEMPLATE_FUEL`] for all of its strings
//! together: MiniJinja charges every instruction and every byte it creates, and refuses an
//! allocation it could not pay for. Before each string, this thread's environment is given
//! the fuel the value has left, and what the string used is read back from MiniJinja's
//! state. The result must then be at most [`MAX_VALUE_BYTES`] as JSON and nest at most
//! [`MAX_VALUE_DEPTH`] levels. Each failure is its own [`Error`] variant, so a caller can
//! say which limit was hit.
//!
//! # Cache
//! The engine renders the same few templates of a definition for every run, so compiled
//! templates and expressions are kept by their source text (at most [`CACHED`] of them and
//! [`CACHED_BYTES`] of source; the cache starts over when full), and a context is converted
//! to MiniJinja's values once per rendered value rather than once per string.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use minijinja::machinery::{self, CompiledTemplate, Instruction, Instructions, TemplateConfig};
use minijinja::syntax::SyntaxConfig;
use minijinja::value::ValueKind;
use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior};
use serde_json::Value;

use crate::limits::{MAX_VALUE_BYTES, MAX_VALUE_DEPTH, TEMPLATE_FUEL};

/// Why a template or expression gave no value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// It does not parse, or rendering failed (a wrong type, a missing template…).
    #[error("{0}")]
    Invalid(String),
    /// Rendering used up [`TEMPLATE_FUEL`].
    #[error("the template ran out of its rendering budget ({TEMPLATE_FUEL} fuel; SPEC §3 limits)")]
    OutOfFuel,
    /// The result is over [`MAX_VALUE_BYTES`] as JSON. Counting stops past the limit, so
    /// `bytes` is a lower bound for structured values (exact for a string).
    #[error("the rendered value is at least {bytes} bytes, over the {MAX_VALUE_BYTES}-byte limit")]
    TooLarge { bytes: usize },
    /// The result nests deeper than [`MAX_VALUE_DEPTH`].
    #[error("the rendered value nests more than {MAX_VALUE_DEPTH} levels deep, over the limit")]
    TooDeep,
}

impl From<minijinja::Error> for Error {
    fn from(e: minijinja::Error) -> Self {
        if e.kind() == ErrorKind::OutOfFuel {
            return Error::OutOfFuel;
        }
        // MiniJinja's Display includes the line; the detail names the token.
        match e.detail() {
            Some(detail) => Error::Invalid(format!("{} ({detail})", e.kind())),
            None => Error::Invalid(e.to_string()),
        }
    }
}

/// The one configuration of every environment here.
fn new_env() -> Environment<'static> {
    let mut env = Environment::new();
    // `nodes.x.output.y` of a node that did not run is `none`, not an error, so a
    // cancel path can read what may not exist.
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    env
}

/// The environment that parses and analyses templates (and never renders one).
fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(new_env)
}

thread_local! {
    /// The environment that renders, one per thread so its fuel can be set before each
    /// string to what the value being rendered has left.
    static RENDER_ENV: RefCell<Environment<'static>> = RefCell::new(new_env());
}

/// At most this many compiled templates and expressions are kept.
const CACHED: usize = 4096;

/// At most this many bytes of their source are kept (compiled code is a small multiple of
/// it). A longer source is compiled each time it is rendered.
const CACHED_BYTES: usize = 4 << 20;

/// MiniJinja's compiled code, which borrows from its source.
struct Code<'source> {
    instructions: Instructions<'source>,
    blocks: BTreeMap<&'source str, Instructions<'source>>,
}

self_cell::self_cell!(
    /// A compiled template or expression together with its source.
    struct Compiled {
        owner: Arc<str>,
        #[covariant]
        dependent: Code,
    }
);

/// Whether a source is a whole template or the expression of a sole `{{ … }}`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Template = 0,
    Expression = 1,
}

impl Compiled {
    fn compile(kind: Kind, source: Arc<str>) -> Result<Compiled, Error> {
        Compiled::try_new(source, |src| match kind {
            Kind::Expression => {
                let ast = machinery::parse_expr(src)?;
                let mut codegen = machinery::CodeGenerator::new("<expression>", src);
                codegen.compile_expr(&ast);
                Ok(Code {
                    instructions: codegen.finish().0,
                    blocks: BTreeMap::new(),
                })
            }
            Kind::Template => {
                let config = TemplateConfig {
                    syntax_config: SyntaxConfig::default(),
                    default_auto_escape: Arc::new(|_: &str| AutoEscape::None),
                };
                let t = CompiledTemplate::new("<template>", src, &config)?;
                Ok(Code {
                    instructions: t.instructions,
                    blocks: t.blocks,
                })
            }
        })
        .map_err(|e: minijinja::Error| e.into())
    }
}

/// Compiled templates and expressions by kind and source.
#[derive(Default)]
struct Cache {
    /// By [`Kind`], then by source.
    entries: [HashMap<Arc<str>, Arc<Compiled>>; 2],
    /// Bytes of the sources in `entries`.
    bytes: usize,
}

impl Cache {
    fn len(&self) -> usize {
        self.entries.iter().map(HashMap::len).sum()
    }
}

static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();

/// `source` compiled as `kind`, from the cache when it was compiled before.
fn compiled(kind: Kind, source: &str) -> Result<Arc<Compiled>, Error> {
    let cache = CACHE.get_or_init(Mutex::default);
    if let Some(c) = cache.lock().expect("template cache").entries[kind as usize].get(source) {
        return Ok(c.clone());
    }
    let source: Arc<str> = Arc::from(source);
    let c = Arc::new(Compiled::compile(kind, source.clone())?);
    if source.len() <= CACHED_BYTES {
        let mut cache = cache.lock().expect("template cache");
        if cache.len() >= CACHED || cache.bytes + source.len() > CACHED_BYTES {
            *cache = Cache::default();
        }
        cache.bytes += source.len();
        cache.entries[kind as usize].insert(source, c.clone());
    }
    Ok(c)
}

/// What is left of one rendered value's [`TEMPLATE_FUEL`].
struct Budget {
    fuel: u64,
}

impl Budget {
    fn new() -> Budget {
        Budget {
            fuel: TEMPLATE_FUEL,
        }
    }

    /// Runs `source` as `kind` against `ctx` on what is left of the budget; returns the value
    /// an expression leaves (none for a template) and what a template wrote.
    fn eval(
        &mut self,
        kind: Kind,
        source: &str,
        ctx: &minijinja::Value,
    ) -> Result<(Option<minijinja::Value>, String), Error> {
        let code = compiled(kind, source)?;
        if self.fuel == 0 {
            return Err(Error::OutOfFuel);
        }
        RENDER_ENV.with(|env| {
            let mut env = env.borrow_mut();
            env.set_fuel(Some(self.fuel));
            let code = code.borrow_dependent();
            let mut written = String::new();
            let (value, state) = machinery::eval(
                &env,
                &code.instructions,
                ctx.clone(),
                &code.blocks,
                &mut machinery::make_string_output(&mut written),
                AutoEscape::None,
            )?;
            let (used, left) = state.fuel_levels().unwrap_or((self.fuel, 0));
            // Some work (an iterator) cannot fail when the fuel runs out: it stops early
            // and leaves the fuel at zero, so a result that emptied it is not a result.
            if left == 0 {
                return Err(Error::OutOfFuel);
            }
            self.fuel = self.fuel.saturating_sub(used);
            Ok((value, written))
        })
    }
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
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Unknown {
    Filter(String),
    Test(String),
}

/// Calls `f` on the compiled instructions of every template in `value` (each block's too).
/// A template that does not parse has none ([`check`] reports it).
fn each_code(value: &Value, f: &mut impl FnMut(&Instructions<'_>)) {
    walk_strings(value, &mut |s| match sole_expression(s) {
        Some(expr) => expression_code(expr, f),
        None if is_template(s) => {
            if let Ok(ast) = machinery::parse(s, "<template>", SyntaxConfig::default()) {
                let mut codegen = machinery::CodeGenerator::new("<template>", s);
                codegen.compile_stmt(&ast);
                let (instructions, blocks) = codegen.finish();
                f(&instructions);
                blocks.values().for_each(&mut *f);
            }
        }
        None => {}
    });
}

/// Calls `f` on an expression's compiled instructions, if it parses.
fn expression_code(expr: &str, f: &mut impl FnMut(&Instructions<'_>)) {
    if let Ok(ast) = machinery::parse_expr(expr) {
        let mut codegen = machinery::CodeGenerator::new("<expression>", expr);
        codegen.compile_expr(&ast);
        f(&codegen.finish().0);
    }
}

/// The instructions of `code`, in order.
fn instructions<'a, 'source>(
    code: &'a Instructions<'source>,
) -> impl Iterator<Item = &'a Instruction<'source>> {
    (0..).map_while(|at| code.get(at))
}

/// The unknown filters and tests the templates in `value` name. A template that does not
/// parse names none ([`check`] reports it).
pub fn unknown_names(value: &Value) -> BTreeSet<Unknown> {
    let mut found = Unknowns::default();
    each_code(value, &mut |code| found.scan(code));
    found.unknown
}

/// [`unknown_names`] of an expression.
pub fn expression_unknown_names(expr: &str) -> BTreeSet<Unknown> {
    let mut found = Unknowns::default();
    expression_code(expr, &mut |code| found.scan(code));
    found.unknown
}

/// Filters and tests looked up so far: each name is probed once, however often it is used.
#[derive(Default)]
struct Unknowns {
    unknown: BTreeSet<Unknown>,
    known: HashSet<Unknown>,
}

impl Unknowns {
    fn scan(&mut self, code: &Instructions<'_>) {
        for instruction in instructions(code) {
            let (name, probe) = match instruction {
                Instruction::ApplyFilter(name, ..) => {
                    (Unknown::Filter(normalized(name)), format!("none | {name}"))
                }
                Instruction::PerformTest(name, ..) => {
                    (Unknown::Test(normalized(name)), format!("none is {name}"))
                }
                _ => continue,
            };
            if self.known.contains(&name) || self.unknown.contains(&name) {
                continue;
            }
            if exists(&probe) {
                self.known.insert(name);
            } else {
                self.unknown.insert(name);
            }
        }
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

/// The names a filter might have: MiniJinja's built-ins with this crate's features. Only
/// those the environment has are offered ([`filters`]).
const FILTER_CANDIDATES: &[&str] = &[
    "abs",
    "attr",
    "batch",
    "bool",
    "capitalize",
    "chain",
    "count",
    "d",
    "default",
    "dictsort",
    "e",
    "escape",
    "first",
    "float",
    "groupby",
    "indent",
    "int",
    "items",
    "join",
    "last",
    "length",
    "lines",
    "list",
    "lower",
    "map",
    "max",
    "min",
    "pprint",
    "reject",
    "rejectattr",
    "replace",
    "reverse",
    "round",
    "safe",
    "select",
    "selectattr",
    "slice",
    "sort",
    "split",
    "string",
    "sum",
    "title",
    "tojson",
    "trim",
    "unique",
    "upper",
    "urlencode",
    "zip",
];

/// The filters a template can use: those of [`FILTER_CANDIDATES`] the rendering environment
/// has, sorted (the designer's autocomplete offers exactly these).
pub fn filters() -> Vec<&'static str> {
    FILTER_CANDIDATES
        .iter()
        .copied()
        .filter(|name| exists(&format!("none | {name}")))
        .collect()
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

/// How templates read `secrets` (SPEC §3: only `secrets.NAME`, and only in `http` and `task`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretReads {
    /// `secrets` as a whole: `{{ secrets }}`, `secrets | tojson`, a loop over it,
    /// `secrets[input.k]`.
    Whole,
    /// Only these names, as `secrets.NAME` (empty: no secret at all).
    Names(BTreeSet<String>),
}

/// How the templates in `value` read `secrets`.
pub fn secret_reads(value: &Value) -> SecretReads {
    let mut reads = SecretReads::Names(BTreeSet::new());
    each_code(value, &mut |code| secrets_in(code, &mut reads));
    reads
}

/// How an expression reads `secrets`.
pub fn expression_secret_reads(expr: &str) -> SecretReads {
    let mut reads = SecretReads::Names(BTreeSet::new());
    expression_code(expr, &mut |code| secrets_in(code, &mut reads));
    reads
}

/// Every lookup of `secrets` in `code` must be followed by an attribute (`secrets.NAME`);
/// anything else (a filter, a loop, a subscript, a method such as `items()`, a `set`) hands
/// the whole mapping on. The compiled code says so more surely than the variables MiniJinja
/// reports, which take `secrets.items()` for a secret named `items`.
fn secrets_in(code: &Instructions<'_>, reads: &mut SecretReads) {
    let mut it = instructions(code).peekable();
    while let Some(instruction) = it.next() {
        if !matches!(instruction, Instruction::Lookup("secrets")) {
            continue;
        }
        match (it.peek(), &mut *reads) {
            (Some(Instruction::GetAttr(name)), SecretReads::Names(names)) => {
                names.insert((*name).to_owned());
            }
            (Some(Instruction::GetAttr(_)), SecretReads::Whole) => {}
            _ => *reads = SecretReads::Whole,
        }
    }
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

/// The filters a quick template may apply: each makes at most one pass over its input, and
/// MiniJinja charges fuel for every byte or item it produces.
const QUICK_FILTERS: &[&str] = &[
    "abs",
    "bool",
    "capitalize",
    "d",
    "default",
    "e",
    "escape",
    "first",
    "float",
    "int",
    "items",
    "join",
    "last",
    "length",
    "count",
    "lower",
    "replace",
    "round",
    "safe",
    "string",
    "title",
    "tojson",
    "trim",
    "upper",
    "urlencode",
];

/// The tests a quick template may not apply: they scan a whole string without being charged
/// for its bytes.
const SCANNING_TESTS: &[&str] = &["lower", "upper"];

/// The most instructions a quick template (all strings of one value together) may have.
/// Without loops or calls each runs at most once, so this bounds its work.
const QUICK_INSTRUCTIONS: usize = 128;

/// Whether the templates of `value` render quickly whatever the data: no loop, macro or call,
/// only [`QUICK_FILTERS`], and at most [`QUICK_INSTRUCTIONS`] instructions, so each step runs
/// at most once on values within [`MAX_VALUE_BYTES`] (`docs/benchmarks.md` measures the
/// slowest we know). The engine renders a quick template in its loop; any other one is
/// rendered on a bounded blocking pool, where however long its fuel lasts holds up no
/// other run.
pub fn is_quick(value: &Value) -> bool {
    let mut quick = Quick::default();
    each_code(value, &mut |code| quick.scan(code));
    quick.is_quick()
}

/// [`is_quick`] for an expression (a `condition`'s `expr`).
pub fn expression_is_quick(expr: &str) -> bool {
    let mut quick = Quick::default();
    expression_code(expr, &mut |code| quick.scan(code));
    quick.is_quick()
}

#[derive(Default)]
struct Quick {
    instructions: usize,
    slow: bool,
}

impl Quick {
    fn scan(&mut self, code: &Instructions<'_>) {
        for instruction in instructions(code) {
            self.instructions += 1;
            self.slow |= match instruction {
                Instruction::ApplyFilter(name, ..) => !QUICK_FILTERS.contains(name),
                Instruction::PerformTest(name, ..) => SCANNING_TESTS.contains(name),
                Instruction::PushLoop(_)
                | Instruction::Iterate(_)
                | Instruction::CallFunction(..)
                | Instruction::CallMethod(..)
                | Instruction::CallObject(_)
                | Instruction::CallBlock(_)
                | Instruction::BuildMacro(..)
                | Instruction::Include(_)
                | Instruction::FastSuper
                | Instruction::FastRecurse => true,
                _ => false,
            };
        }
    }

    fn is_quick(&self) -> bool {
        !self.slow && self.instructions <= QUICK_INSTRUCTIONS
    }
}

/// Renders every string of `value` against `ctx` (`input`, `nodes`, `run`, `secrets`), all
/// of them on one [`TEMPLATE_FUEL`]; the result is at most [`MAX_VALUE_BYTES`] as JSON and
/// [`MAX_VALUE_DEPTH`] deep (a value without templates too: it becomes a node's output).
pub fn render(value: &Value, ctx: &Value) -> Result<Value, Error> {
    Renderer::new(ctx).value(value)
}

/// Several values rendered against one context on one [`TEMPLATE_FUEL`] together: the
/// method, URL, headers and body of one `http` attempt, so splitting a template over its
/// parts buys no more work than one template.
pub struct Renderer {
    ctx: minijinja::Value,
    budget: Budget,
}

impl Renderer {
    pub fn new(ctx: &Value) -> Renderer {
        Renderer {
            ctx: context(ctx),
            budget: Budget::new(),
        }
    }

    /// Renders `value` as [`render`] does, on what is left of the budget.
    pub fn value(&mut self, value: &Value) -> Result<Value, Error> {
        let rendered = if has_template(value) {
            render_with(value, &self.ctx, &mut self.budget)?
        } else {
            value.clone()
        };
        check_value(&rendered)?;
        Ok(rendered)
    }

    /// Renders `s` as [`render_string`] does, on what is left of the budget.
    pub fn string(&mut self, s: &str) -> Result<String, Error> {
        let rendered = if is_template(s) {
            match render_str(s, &self.ctx, &mut self.budget)? {
                Value::String(s) => s,
                Value::Null => String::new(),
                other => other.to_string(),
            }
        } else {
            s.to_owned()
        };
        if rendered.len() > MAX_VALUE_BYTES {
            return Err(Error::TooLarge {
                bytes: rendered.len(),
            });
        }
        Ok(rendered)
    }
}

fn has_template(value: &Value) -> bool {
    let mut found = false;
    walk_strings(value, &mut |s| found |= is_template(s));
    found
}

fn is_template(s: &str) -> bool {
    s.contains("{{") || s.contains("{%") || s.contains("{#")
}

/// Recurses as deep as `value`, a template from a definition: serde_json read it with its
/// 128-level limit.
fn render_with(value: &Value, ctx: &minijinja::Value, budget: &mut Budget) -> Result<Value, Error> {
    Ok(match value {
        Value::String(s) => render_str(s, ctx, budget)?,
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| render_with(v, ctx, budget))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), render_with(v, ctx, budget)?)))
                .collect::<Result<_, Error>>()?,
        ),
        other => other.clone(),
    })
}

fn render_str(s: &str, ctx: &minijinja::Value, budget: &mut Budget) -> Result<Value, Error> {
    if !is_template(s) {
        return Ok(Value::String(s.to_owned()));
    }
    match sole_expression(s) {
        Some(expr) => {
            let (v, _) = budget.eval(Kind::Expression, expr, ctx)?;
            let v = v.unwrap_or_default();
            if v.is_undefined() || v.is_none() {
                return Ok(Value::Null);
            }
            bound(&v)?;
            serde_json::to_value(&v).map_err(|e| Error::Invalid(e.to_string()))
        }
        None => {
            let (_, written) = budget.eval(Kind::Template, s, ctx)?;
            if written.len() > MAX_VALUE_BYTES {
                return Err(Error::TooLarge {
                    bytes: written.len(),
                });
            }
            Ok(Value::String(written))
        }
    }
}

/// Checks an expression's value is within [`MAX_VALUE_DEPTH`] and (counting a lower bound of
/// its JSON: strings and keys, and one byte per item) [`MAX_VALUE_BYTES`], on an explicit
/// stack, before serde serializes it recursively. The walk stops past the limit, so a lazily
/// repeated list (`[s] * 1000000`) costs no more than a value at the limit.
fn bound(value: &minijinja::Value) -> Result<(), Error> {
    let mut bytes = 0usize;
    let mut stack = vec![(value.clone(), 0usize)];
    while let Some((v, depth)) = stack.pop() {
        bytes += 1;
        match v.kind() {
            ValueKind::String => bytes += v.as_str().map_or(0, str::len),
            ValueKind::Bytes => bytes += v.as_bytes().map_or(0, <[u8]>::len),
            // An error MiniJinja could not raise where it happened; serde would write `null`.
            ValueKind::Invalid => return Err(Error::Invalid(v.to_string())),
            ValueKind::Seq | ValueKind::Iterable | ValueKind::Map => {
                if depth >= MAX_VALUE_DEPTH {
                    return Err(Error::TooDeep);
                }
                let is_map = v.kind() == ValueKind::Map;
                for item in v.try_iter()? {
                    if bytes > MAX_VALUE_BYTES {
                        break;
                    }
                    if is_map {
                        bytes += item.as_str().map_or(1, str::len);
                        stack.push((v.get_item(&item)?, depth + 1));
                    } else {
                        stack.push((item, depth + 1));
                    }
                    bytes += 1;
                }
            }
            _ => {}
        }
        if bytes > MAX_VALUE_BYTES {
            return Err(Error::TooLarge { bytes });
        }
    }
    Ok(())
}

/// Checks a rendered value is within [`MAX_VALUE_DEPTH`] (on an explicit stack) and
/// [`MAX_VALUE_BYTES`] as JSON (counted while serializing, which stops past the limit).
fn check_value(value: &Value) -> Result<(), Error> {
    let mut stack = vec![(value, 0usize)];
    while let Some((v, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match v {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(map) => Box::new(map.values()),
            _ => continue,
        };
        if depth >= MAX_VALUE_DEPTH {
            return Err(Error::TooDeep);
        }
        stack.extend(children.map(|c| (c, depth + 1)));
    }
    let mut counter = Counter(0);
    match serde_json::to_writer(&mut counter, value) {
        Ok(()) => Ok(()),
        Err(_) => Err(Error::TooLarge { bytes: counter.0 }),
    }
}

/// Counts the bytes written to it and fails past [`MAX_VALUE_BYTES`].
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        if self.0 > MAX_VALUE_BYTES {
            return Err(std::io::Error::other("over MAX_VALUE_BYTES"));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Renders a template to a string (a URL, a header, a prompt) on one [`TEMPLATE_FUEL`];
/// JSON values are written out. The result is at most [`MAX_VALUE_BYTES`].
pub fn render_string(s: &str, ctx: &Value) -> Result<String, Error> {
    Renderer::new(ctx).string(s)
}

/// Judges an expression by truthiness, on one [`TEMPLATE_FUEL`].
pub fn eval_truthy(expr: &str, ctx: &Value) -> Result<bool, Error> {
    let (v, _) = Budget::new().eval(Kind::Expression, expr, &context(ctx))?;
    Ok(v.is_some_and(|v| v.is_true()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filters_are_the_ones_the_environment_has() {
        let offered = filters();
        for name in ["default", "upper", "tojson", "join", "length", "urlencode"] {
            assert!(offered.contains(&name), "{name} missing from {offered:?}");
        }
        assert!(!exists("none | no_such_filter"));
        for name in &offered {
            let t = json!(format!("{{{{ none | {name} }}}}"));
            assert!(unknown_names(&t).is_empty(), "{name} is not a filter");
        }
    }

    /// Renders `template` as a node's output with a small context.
    fn rendered(template: &str) -> Result<Value, Error> {
        render(&json!(template), &json!({"input": {"n": 5}}))
    }

    #[test]
    fn nested_loops_run_out_of_fuel() {
        let e = rendered(
            "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}",
        );
        assert_eq!(e, Err(Error::OutOfFuel));
        let message = Error::OutOfFuel.to_string();
        assert!(message.contains(&TEMPLATE_FUEL.to_string()), "{message}");
        let e = eval_truthy(
            "range(100000) | map('string') | join | length > 0",
            &json!({}),
        );
        assert_eq!(e, Err(Error::OutOfFuel));
    }

    #[test]
    fn a_huge_string_is_refused_before_it_is_made() {
        assert_eq!(rendered("{{ 'x' * 20000000 }}"), Err(Error::OutOfFuel));
        assert_eq!(rendered("a{{ 'x' * 20000000 }}b"), Err(Error::OutOfFuel));
    }

    #[test]
    fn a_value_over_the_size_limit_is_too_large() {
        let bytes = 300 * 1024;
        for template in [
            format!("{{{{ 'x' * {bytes} }}}}"),
            format!("a{{{{ 'x' * {bytes} }}}}"),
        ] {
            let e = rendered(&template);
            assert!(
                matches!(e, Err(Error::TooLarge { bytes }) if bytes > MAX_VALUE_BYTES),
                "{template}: {e:?}"
            );
        }
        // Each half is within the limit; the value is not.
        let half = format!("{{{{ 'x' * {} }}}}", MAX_VALUE_BYTES / 2 + 1);
        let e = render(&json!({"a": half, "b": half}), &json!({}));
        assert!(matches!(e, Err(Error::TooLarge { .. })), "{e:?}");
        assert!(
            render_string(&format!("a{{{{ 'x' * {bytes} }}}}"), &json!({}))
                .is_err_and(|e| matches!(e, Error::TooLarge { .. }))
        );
        // A list repeating one string is refused without being written out.
        let e = rendered("{{ ['x' * 100000] * 1000000 }}");
        assert!(matches!(e, Err(Error::TooLarge { .. })), "{e:?}");
        let message = Error::TooLarge { bytes: 300_000 }.to_string();
        assert!(
            message.contains("300000") && message.contains("262144"),
            "{message}"
        );
    }

    #[test]
    fn a_value_nested_too_deep_is_refused() {
        let deep = format!("{{{{ {}1{} }}}}", "[".repeat(70), "]".repeat(70));
        assert_eq!(rendered(&deep), Err(Error::TooDeep));
        // Deep enough together: a literal around an expression.
        let mut value = json!(format!("{{{{ {}1{} }}}}", "[".repeat(10), "]".repeat(10)));
        for _ in 0..60 {
            value = json!([value]);
        }
        assert_eq!(render(&value, &json!({})), Err(Error::TooDeep));
        let within = format!("{{{{ {}1{} }}}}", "[".repeat(30), "]".repeat(30));
        assert!(rendered(&within).is_ok());
    }

    #[test]
    fn the_strings_of_one_value_share_one_budget() {
        // Each iteration costs a few fuel (at least one), so one loop takes at most half
        // the budget and thirty of them more than all of it.
        let one = format!(
            "{{% for i in range({}) %}}x{{% endfor %}}",
            TEMPLATE_FUEL / 20
        );
        assert!(rendered(&one).is_ok());
        let many = Value::Array(vec![json!(one); 30]);
        assert_eq!(render(&many, &json!({})), Err(Error::OutOfFuel));
    }

    #[test]
    fn recursion_in_a_template_ends_on_a_small_stack() {
        let e = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(|| rendered("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"))
            .expect("spawn")
            .join()
            .expect("no overflow");
        assert!(e.is_err(), "{e:?}");
    }

    #[test]
    fn the_cache_stays_within_its_bounds() {
        for i in 0..CACHED + 10 {
            let _ = render_string(&format!("{{{{ {i} }}}}"), &json!({}));
        }
        let cache = CACHE.get().expect("used").lock().expect("cache");
        assert!(cache.len() <= CACHED, "{}", cache.len());
        assert!(cache.bytes <= CACHED_BYTES);
    }

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
    fn secret_reads_tell_names_from_the_whole() {
        let names = |n: &[&str]| SecretReads::Names(n.iter().map(|s| s.to_string()).collect());
        for (template, want) in [
            ("{{ secrets.TOKEN }}", names(&["TOKEN"])),
            (
                "Bearer {{ secrets.A }}/{{ secrets.B.x }}",
                names(&["A", "B"]),
            ),
            ("{{ input.secrets }}", names(&[])),
            ("{{ secrets }}", SecretReads::Whole),
            ("{{ secrets | tojson }}", SecretReads::Whole),
            (
                "{% for k in secrets %}{{ k }}{% endfor %}",
                SecretReads::Whole,
            ),
            ("{{ secrets[input.k] }}", SecretReads::Whole),
            ("{% set s = secrets %}{{ s.A }}", SecretReads::Whole),
            (
                "{% macro m() %}{{ secrets.items() }}{% endmacro %}{{ m() }}",
                SecretReads::Whole,
            ),
        ] {
            assert_eq!(secret_reads(&json!(template)), want, "{template}");
        }
        assert_eq!(expression_secret_reads("secrets.A == 'x'"), names(&["A"]));
        assert_eq!(
            expression_secret_reads("'A' in secrets"),
            SecretReads::Whole
        );
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

    #[test]
    fn quick_templates_are_those_without_loops_calls_or_costly_filters() {
        for quick in [
            json!({"i": 3, "prev": "{{ input.n }}"}),
            json!("Order {{ input.id | upper }} of {{ nodes.a.output.body.total | round }}"),
            json!({"ok": "{{ nodes.a.output.status == 200 and input.n is defined }}"}),
            json!("{{ input.s }}"),
            json!("plain"),
        ] {
            assert!(is_quick(&quick), "{quick}");
        }
        for slow in [
            "{% for x in input.xs %}{{ x }}{% endfor %}",
            "{{ input.xs | sort | first }}",
            "{{ range(10) | length }}",
            "{{ input.s.upper() }}",
            "{{ input.s is lower }}",
            "{% macro f() %}x{% endmacro %}{{ f() }}",
        ] {
            assert!(!is_quick(&json!(slow)), "{slow}");
        }
        let long: Vec<String> = (0..40)
            .map(|i| format!("{{{{ input.a{i}.b.c }}}}"))
            .collect();
        assert!(
            !is_quick(&json!(long)),
            "more than QUICK_INSTRUCTIONS in all"
        );
        assert!(expression_is_quick("input.n > 3"));
        assert!(!expression_is_quick("input.xs | unique | length > 3"));
    }

    #[test]
    fn one_renderer_spends_one_budget_over_several_values() {
        let ctx = json!({});
        let endless =
            "{% for i in range(9000) %}{% for j in range(9000) %}{% endfor %}{% endfor %}";
        assert_eq!(render_string(endless, &ctx), Err(Error::OutOfFuel));
        // A loop that takes 60 % of the fuel renders alone, but not twice on one budget.
        let part = format!(
            "{{% for i in range({}) %}}{{% endfor %}}",
            TEMPLATE_FUEL as usize * 6 / 10 / 3
        );
        assert!(render_string(&part, &ctx).is_ok());
        let mut r = Renderer::new(&ctx);
        assert!(r.string(&part).is_ok());
        assert_eq!(r.value(&json!(part)), Err(Error::OutOfFuel));
    }
}
