//! Test runs from the designer (SPEC §6 "Test runs"): the graph as it is on the canvas,
//! saved or not, run once with sample input, each node that acts on the world (`http`,
//! `task`, `subflow`, `map`) either stubbed with an output or really run (the choice names
//! what it will do), optionally only up to the selected node. The run's node states colour
//! the canvas (the run page's `state-*` classes), and the inspector shows the selected node's
//! rendered input and its output; the run page has the full history.
//!
//! The server does the work (`POST /api/test-runs`); this module keeps the panel's choices,
//! polls the run until it ends, and renders each node's input with the same `shared`
//! templates the server uses, from the run's input and the outputs it recorded.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Serialize;
use serde_json::{Value, json};
use shared::api::{RunDetail, TestRunStarted};
use shared::model::{Node, NodeKind, Workflow};
use shared::validate::check_input;

use super::{Ctx, Selection};
use crate::api;
use crate::components::start_run::sample_input;
use crate::graph::NodeDecor;

/// How often a running test run is read again.
const POLL: Duration = Duration::from_millis(400);

/// The designer's test-run state, shared by the panel, the canvas and the inspector.
#[derive(Clone, Copy)]
pub(super) struct TestRuns {
    /// The panel is open.
    pub(super) open: RwSignal<bool>,
    /// The last test run, as last read; `None` before one starts and once the panel closes.
    run: RwSignal<Option<RunDetail>>,
    /// Bumped for each start and close, so the poll of an older run stops.
    round: RwSignal<u64>,
}

impl TestRuns {
    pub(super) fn new() -> Self {
        TestRuns {
            open: RwSignal::new(false),
            run: RwSignal::new(None),
            round: RwSignal::new(0),
        }
    }

    /// Each node's state in the last test run, as the run page draws it (`state-*`, a
    /// "stubbed" badge); nothing while no test run is shown.
    pub(super) fn decor(self) -> Signal<HashMap<String, NodeDecor>> {
        let run = self.run;
        Signal::derive(move || {
            run.with(|r| {
                r.as_ref()
                    .map(|r| {
                        r.nodes
                            .iter()
                            .map(|(id, n)| {
                                let decor = NodeDecor {
                                    class: format!("state-{}", n.status.as_str()),
                                    badge: n.stubbed.then(|| "stubbed".to_owned()),
                                    progress: None,
                                };
                                (id.clone(), decor)
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            })
        })
    }

    fn close(self) {
        self.open.set(false);
        self.run.set(None);
        self.round.update(|r| *r += 1);
    }
}

/// What the panel does with one node that acts.
#[derive(Debug, Clone, PartialEq)]
struct Choice {
    stub: bool,
    /// The stub's output, as typed.
    text: String,
}

/// A stub that looks like what the node type gives: an `http` response, a `map`'s list.
fn default_stub(kind: &NodeKind) -> &'static str {
    match kind {
        NodeKind::Http(_) => "{\"status\": 200, \"body\": {}}",
        NodeKind::Map(_) => "[]",
        _ => "{}",
    }
}

/// What really running `node` does, in words: the side effect the person agrees to.
fn side_effect(node: &Node) -> String {
    match &node.kind {
        NodeKind::Http(h) => format!("{} {} will really be sent", h.request.method, h.request.url),
        NodeKind::Task(t) => format!(
            "a `{}` task will really be queued on `{}` for a worker",
            t.activity, t.queue
        ),
        NodeKind::Subflow(s) => format!("a run of `{}` will really start", s.workflow),
        NodeKind::Map(m) => format!("a run of `{}` will really start for each item", m.workflow),
        _ => String::new(),
    }
}

/// The nodes a test run may stub, in the definition's order.
fn actors(wf: &Workflow) -> Vec<Node> {
    wf.nodes
        .iter()
        .filter(|n| n.kind.is_stubbable())
        .cloned()
        .collect()
}

/// The body of `POST /api/test-runs`.
#[derive(Serialize)]
struct Request<'a> {
    definition: &'a Workflow,
    input: Value,
    stubs: BTreeMap<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    until: Option<String>,
}

/// The request the panel's state makes, or what is wrong with it (said where it is typed).
fn request<'a>(
    wf: &'a Workflow,
    input: &str,
    choices: &HashMap<String, Choice>,
    until: Option<String>,
) -> Result<Request<'a>, String> {
    let input: Value =
        serde_json::from_str(input).map_err(|e| format!("The input is not JSON: {e}"))?;
    if let Some(schema) = &wf.input_schema
        && let Err(errors) = check_input(schema, &input)
    {
        let said: Vec<String> = errors
            .into_iter()
            .map(|(p, e)| format!("{p}: {e}"))
            .collect();
        return Err(format!(
            "The input does not match the input schema: {}",
            said.join("; ")
        ));
    }
    let mut stubs = BTreeMap::new();
    for node in actors(wf) {
        let choice = choices.get(&node.id);
        if choice.is_none_or(|c| c.stub) {
            let text = choice.map_or(default_stub(&node.kind), |c| c.text.as_str());
            let output = serde_json::from_str(text)
                .map_err(|e| format!("The stub of `{}` is not JSON: {e}", node.id))?;
            stubs.insert(node.id.clone(), output);
        }
    }
    Ok(Request {
        definition: wf,
        input,
        stubs,
        until,
    })
}

/// The template context of a finished (or running) test run: what the server renders with,
/// without secrets.
fn context(run: &RunDetail, wf: &Workflow) -> Value {
    let nodes: serde_json::Map<String, Value> = run
        .nodes
        .iter()
        .filter(|(_, n)| matches!(n.status.as_str(), "completed" | "failed"))
        .map(|(id, n)| {
            (
                id.clone(),
                json!({"output": n.output, "status": n.status.as_str()}),
            )
        })
        .collect();
    json!({
        "input": run.run.input,
        "nodes": nodes,
        "run": {"id": run.run.id, "workflow": wf.name, "version": run.run.version},
    })
}

/// What node `node` is given, rendered: an `http` request, a task's or child's input, a
/// `map`'s items. `None` for a node whose templates are its output (or that has none).
fn rendered_input(node: &Node, ctx: &Value) -> Option<Result<Value, String>> {
    let template = match &node.kind {
        NodeKind::Http(h) => serde_json::to_value(&h.request).ok()?,
        NodeKind::Task(t) => t.input.clone().unwrap_or(Value::Null),
        NodeKind::Subflow(s) => s.input.clone().unwrap_or(Value::Null),
        NodeKind::Map(m) => m.items.clone(),
        _ => return None,
    };
    Some(shared::template::render(&template, ctx).map_err(|e| e.to_string()))
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// Reads run `id` until it ends (or a newer round began, or the page went).
fn poll(tests: TestRuns, id: String, round: u64) {
    spawn_local(async move {
        let read = api::get_json::<RunDetail>(&format!("/api/runs/{id}")).await;
        if tests.round.try_get_untracked() != Some(round) {
            return;
        }
        let finished = match read {
            Ok(run) => {
                let done = run.run.status.is_finished();
                let _ = tests.run.try_set(Some(run));
                done
            }
            Err(_) => false,
        };
        if !finished {
            set_timeout(move || poll(tests, id, round), POLL);
        }
    });
}

/// The phase of the panel's last start.
#[derive(Debug, Clone, PartialEq)]
enum Phase {
    Idle,
    Starting,
    Started(String),
    Failed(String),
}

/// The "Test" panel, beside the inspector while open.
pub(super) fn panel(ctx: Ctx) -> impl IntoView {
    view! { <Show when=move || ctx.test.open.get()><TestPanel ctx /></Show> }
}

#[component]
fn TestPanel(ctx: Ctx) -> impl IntoView {
    let tests = ctx.test;
    let wf = ctx.workflow;
    let input =
        RwSignal::new(wf.with_untracked(|w| pretty(&sample_input(w.input_schema.as_ref()))));
    // The last run's input is a better sample than the schema's, when there is one.
    let name = wf.with_untracked(|w| w.name.clone());
    if !name.is_empty() {
        spawn_local(async move {
            let url = format!(
                "/api/runs?workflow={}&limit=1",
                js_sys::encode_uri_component(&name)
            );
            if let Ok(list) = api::get_json::<shared::api::RunList>(&url).await
                && let Some(last) = list.runs.first()
            {
                let _ = input.try_set(pretty(&last.input));
            }
        });
    }
    let choices = RwSignal::new(HashMap::<String, Choice>::new());
    let until = RwSignal::new(false);
    let phase = RwSignal::new(Phase::Idle);
    let refused = RwSignal::new(Vec::<shared::Diagnostic>::new());
    let selected = move || match ctx.selection.get() {
        Selection::Node(id) => Some(id),
        _ => None,
    };
    let errors = move || {
        ctx.findings
            .with(|f| f.iter().filter(|d| d.is_error()).count())
    };
    let may_not = crate::access::denied(crate::access::Action::Edit);
    let blocked = move || {
        if let Some(why) = may_not.get() {
            return Some(why.to_owned());
        }
        match errors() {
            0 => None,
            1 => Some("Fix the error under Findings first".to_owned()),
            n => Some(format!("Fix the {n} errors under Findings first")),
        }
    };
    let problem = Memo::new(move |_| {
        wf.with(|w| input.with(|i| choices.with(|c| request(w, i, c, None).err())))
    });

    let start = move |_| {
        if blocked().is_some() || phase.get_untracked() == Phase::Starting {
            return;
        }
        let stop = if until.get_untracked() {
            selected()
        } else {
            None
        };
        let body = wf.with_untracked(|w| {
            input.with_untracked(|i| {
                choices.with_untracked(|c| {
                    request(w, i, c, stop)
                        .and_then(|r| serde_json::to_value(&r).map_err(|e| e.to_string()))
                })
            })
        });
        let body = match body {
            Ok(b) => b,
            Err(e) => return phase.set(Phase::Failed(e)),
        };
        phase.set(Phase::Starting);
        refused.set(Vec::new());
        tests.round.update(|r| *r += 1);
        let round = tests.round.get_untracked();
        tests.run.set(None);
        spawn_local(async move {
            match api::post_json::<_, TestRunStarted>("/api/test-runs", &body).await {
                Ok(started) => {
                    let _ = phase.try_set(Phase::Started(started.run_id.clone()));
                    poll(tests, started.run_id, round);
                }
                Err(e) => {
                    let found: Vec<shared::Diagnostic> = e
                        .error
                        .details
                        .as_ref()
                        .and_then(|d| d.get("diagnostics"))
                        .and_then(|d| serde_json::from_value(d.clone()).ok())
                        .unwrap_or_default();
                    let _ = refused.try_set(found);
                    let _ = phase.try_set(Phase::Failed(e.error.message));
                }
            }
        });
    };

    let rows = move || wf.with(actors);
    let status_line = move || {
        match phase.get() {
        Phase::Idle => ().into_any(),
        Phase::Starting => view! {
            <p class="pending" data-testid="test-status"><span class="spinner" aria-hidden="true"></span>"Starting…"</p>
        }
        .into_any(),
        Phase::Failed(message) => view! {
            <p class="field-error" role="alert" data-testid="test-error">{message}</p>
        }
        .into_any(),
        Phase::Started(id) => {
            let href = format!("/runs/{}", js_sys::encode_uri_component(&id));
            let status = move || {
                tests.run.with(|r| match r {
                    Some(r) => r.run.status.as_str().to_owned(),
                    None => "running".to_owned(),
                })
            };
            view! {
                <p class="test-status" role="status" data-testid="test-status">
                    "Test run "
                    <span class=move || format!("state-pill state-{}", status()) data-testid="test-run-status">{status}</span>
                    " · "
                    <a href=href data-testid="test-run-link">"Open the run page"</a>
                </p>
            }
            .into_any()
        }
    }
    };

    view! {
        <section class="test-panel" aria-label="Test run" data-testid="test-panel">
            <div class="test-panel-head">
                <h2 class="side-title">"Test run"</h2>
                <button
                    class="btn btn-primary btn-small"
                    data-testid="test-start"
                    title=move || blocked().unwrap_or_else(|| "Start a test run of the graph as drawn".to_owned())
                    disabled=move || blocked().is_some() || problem.get().is_some() || phase.get() == Phase::Starting
                    on:click=start
                >
                    "Start test run"
                </button>
                <button
                    class="btn btn-small"
                    title="Close the test panel and clear its results from the canvas"
                    data-testid="test-close"
                    on:click=move |_| tests.close()
                >
                    "Close"
                </button>
            </div>
            {status_line}
            {move || problem.get().map(|p| view! { <p class="field-error" data-testid="test-problem">{p}</p> })}
            <Show when=move || !refused.get().is_empty()>
                <ul class="inspector-findings" data-testid="test-refused">
                    {move || refused.get().into_iter().map(|d| view! { <li>{d.message}</li> }).collect_view()}
                </ul>
            </Show>
            <p class="field-hint">
                "Runs the graph as drawn, saved or not. Stubbed steps do nothing and hand on the output you give."
            </p>
            <label class="field">
                <span class="field-label">"Sample input (JSON)"</span>
                <textarea
                    class="input code-input"
                    rows="4"
                    spellcheck="false"
                    data-testid="test-input"
                    prop:value=move || input.get()
                    on:input=move |ev| input.set(event_target_value(&ev))
                ></textarea>
            </label>
            <fieldset class="test-actors">
                <legend class="field-label">"Steps that act"</legend>
                <Show when=move || rows().is_empty()>
                    <p class="field-hint" data-testid="test-no-actors">
                        "No http, task, subflow or map step: nothing to stub."
                    </p>
                </Show>
                <For each=rows key=|n| (n.id.clone(), side_effect(n)) let:node>
                    <ActorRow node choices />
                </For>
            </fieldset>
            <label class="field-check">
                <input
                    type="checkbox"
                    data-testid="test-until"
                    prop:checked=move || until.get()
                    disabled=move || selected().is_none()
                    on:change=move |ev| until.set(event_target_checked(&ev))
                />
                {move || match selected() {
                    Some(id) => format!("Run up to the selected node, {id}, and stop"),
                    None => "Run up to the selected node (select one on the canvas)".to_owned(),
                }}
            </label>
        </section>
    }
}

/// One node that acts: stub it (with an output) or really run it (its side effect named).
#[component]
fn ActorRow(node: Node, choices: RwSignal<HashMap<String, Choice>>) -> impl IntoView {
    let id = node.id.clone();
    let fallback = Choice {
        stub: true,
        text: default_stub(&node.kind).to_owned(),
    };
    let current = {
        let (id, fallback) = (id.clone(), fallback.clone());
        move || choices.with(|c| c.get(&id).cloned().unwrap_or_else(|| fallback.clone()))
    };
    let set = {
        let id = id.clone();
        move |change: &dyn Fn(&mut Choice)| {
            choices.update(|c| {
                let entry = c.entry(id.clone()).or_insert_with(|| fallback.clone());
                change(entry);
            })
        }
    };
    let stubbed = {
        let current = current.clone();
        move || current().stub
    };
    let text = {
        let current = current.clone();
        move || current().text
    };
    let group = format!("test-choice-{id}");
    let (stub_label, stub_testid) = (
        format!("The stubbed output of {id}"),
        format!("test-stub-output-{id}"),
    );
    let effect = side_effect(&node);
    let (set_stub, set_real, set_text) = (set.clone(), set.clone(), set);
    view! {
        <div class="test-actor" data-testid=format!("test-actor-{id}")>
            <div class="test-actor-head">
                <code>{id.clone()}</code>
                <span class="test-actor-type">{node.type_name()}</span>
            </div>
            <label class="field-check">
                <input
                    type="radio"
                    name=group.clone()
                    data-testid=format!("test-stub-{id}")
                    prop:checked={
                        let stubbed = stubbed.clone();
                        move || stubbed()
                    }
                    on:change=move |_| set_stub(&|c| c.stub = true)
                />
                "Stub it with this output"
            </label>
            <Show when={
                let stubbed = stubbed.clone();
                move || stubbed()
            }>
                <textarea
                    class="input code-input"
                    rows="2"
                    spellcheck="false"
                    aria-label=stub_label.clone()
                    data-testid=stub_testid.clone()
                    prop:value=text.clone()
                    on:input={
                        let set_text = set_text.clone();
                        move |ev| {
                            let v = event_target_value(&ev);
                            set_text(&|c| c.text = v.clone())
                        }
                    }
                ></textarea>
            </Show>
            <label class="field-check">
                <input
                    type="radio"
                    name=group
                    data-testid=format!("test-real-{id}")
                    prop:checked=move || !stubbed()
                    on:change=move |_| set_real(&|c| c.stub = false)
                />
                "Really run it: " {effect}
            </label>
        </div>
    }
}

/// The selected node's part of the last test run, at the top of its inspector form: its
/// state, its rendered input and its output.
pub(super) fn node_result(ctx: Ctx) -> impl IntoView {
    move || {
        let Selection::Node(id) = ctx.selection.get() else {
            return None;
        };
        let node = ctx.workflow.with(|w| w.node(&id).cloned())?;
        ctx.test.run.with(|run| {
            let run = run.as_ref()?;
            let view = run.nodes.get(&id)?.clone();
            let input = ctx
                .workflow
                .with(|w| rendered_input(&node, &context(run, w)));
            let input = match input {
                Some(Ok(v)) => Some(pretty(&v)),
                Some(Err(e)) => Some(format!("(could not render: {e})")),
                None => None,
            };
            let output = (!view.output.is_null()).then(|| pretty(&view.output));
            let status = view.status.as_str();
            Some(view! {
                <section class="test-result" aria-label="This node in the last test run" data-testid="test-node-result">
                    <div class="test-result-head">
                        <span class="field-label">"Test run"</span>
                        <span class=format!("state-pill state-{status}") data-testid="test-node-status">{status}</span>
                        {view.stubbed.then(|| view! { <span class="badge" data-testid="test-node-stubbed">"stubbed: nothing ran"</span> })}
                    </div>
                    {input.map(|text| view! {
                        <span class="field-label">"Input (rendered)"</span>
                        <pre class="test-json" data-testid="test-node-input">{text}</pre>
                    })}
                    {output.map(|text| view! {
                        <span class="field-label">"Output"</span>
                        <pre class="test-json" data-testid="test-node-output">{text}</pre>
                    })}
                    {view.error.map(|e| view! { <p class="field-error" data-testid="test-node-error">{e}</p> })}
                </section>
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wf() -> Workflow {
        shared::validate::parse(&json!({"name": "t", "nodes": [
            {"id": "start", "type": "start"},
            {"id": "call", "type": "http", "request": {"method": "POST", "url": "https://pay.example/charge",
             "body": {"amount": "{{ input.amount }}"}}},
            {"id": "work", "type": "task", "queue": "q", "activity": "pack", "input": "{{ nodes.call.output.body }}"},
            {"id": "end", "type": "end"}],
          "edges": [{"from": "start", "to": "call"}, {"from": "call", "to": "work"}, {"from": "work", "to": "end"}]}))
        .expect("parses")
    }

    #[test]
    fn each_acting_node_is_stubbed_unless_told_to_run_and_names_its_side_effect() {
        let wf = wf();
        let mut choices = HashMap::new();
        choices.insert(
            "work".to_owned(),
            Choice {
                stub: false,
                text: "{}".into(),
            },
        );
        let r = request(&wf, "{\"amount\": 3}", &choices, Some("call".into())).expect("ok");
        assert_eq!(
            r.stubs.keys().collect::<Vec<_>>(),
            ["call"],
            "a stub by default, none for a node really run"
        );
        assert_eq!(r.stubs["call"], json!({"status": 200, "body": {}}));
        assert_eq!(r.until.as_deref(), Some("call"));
        assert_eq!(
            side_effect(wf.node("call").unwrap()),
            "POST https://pay.example/charge will really be sent"
        );
        assert!(side_effect(wf.node("work").unwrap()).contains("`pack` task"));
    }

    #[test]
    fn bad_json_is_said_where_it_was_typed() {
        let wf = wf();
        let err = request(&wf, "{", &HashMap::new(), None)
            .err()
            .expect("refused");
        assert!(err.starts_with("The input is not JSON"), "{err}");
        let mut choices = HashMap::new();
        choices.insert(
            "call".to_owned(),
            Choice {
                stub: true,
                text: "{oops".into(),
            },
        );
        let err = request(&wf, "{}", &choices, None).err().expect("refused");
        assert!(err.contains("`call`"), "{err}");
    }

    #[test]
    fn a_nodes_input_renders_from_the_runs_input_and_outputs() {
        let wf = wf();
        let ctx = json!({"input": {"amount": 3}, "nodes": {"call": {"output": {"body": {"box": 1}}, "status": "completed"}},
                         "run": {"id": "r", "workflow": "t", "version": 1}});
        let call = rendered_input(wf.node("call").unwrap(), &ctx)
            .unwrap()
            .unwrap();
        assert_eq!(call["body"], json!({"amount": 3}));
        let work = rendered_input(wf.node("work").unwrap(), &ctx)
            .unwrap()
            .unwrap();
        assert_eq!(work, json!({"box": 1}));
        assert!(rendered_input(wf.node("end").unwrap(), &ctx).is_none());
    }
}
