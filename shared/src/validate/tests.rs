//! One test per validation rule: each mutates a valid definition so that exactly that rule
//! must fire, and checks the finding's code and the node it points at.

use serde_json::{Value, json};

use super::*;

/// start → fetch (http) → check (condition) → yes/no → end.
fn base() -> Value {
    json!({
        "name": "base",
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "fetch", "type": "http", "request": {"method": "GET", "url": "http://x/{{ input.id }}"},
             "retry": {"max_attempts": 2}},
            {"id": "check", "type": "condition", "expr": "nodes.fetch.output.status == 200"},
            {"id": "yes", "type": "transform", "output": {"body": "{{ nodes.fetch.output.body }}"}},
            {"id": "no", "type": "end"},
            {"id": "done", "type": "end", "output": "{{ nodes.yes.output }}"}
        ],
        "edges": [
            {"from": "start", "to": "fetch"},
            {"from": "fetch", "to": "check"},
            {"from": "check", "to": "yes", "port": "true"},
            {"from": "check", "to": "no", "port": "false"},
            {"from": "yes", "to": "done"}
        ]
    })
}

fn findings(def: &Value) -> Vec<Diagnostic> {
    parse_and_validate(def).1
}

/// Asserts a finding with `code` exists, pointing at `node` when given.
#[track_caller]
fn check(def: Value, code: &str, node: Option<&str>) {
    let all = findings(&def);
    let hit = all.iter().find(|d| d.code == code);
    let Some(hit) = hit else {
        panic!("expected `{code}`, got {all:#?}");
    };
    assert_eq!(hit.node.as_deref(), node, "{hit:?}");
}

fn nodes(def: &mut Value) -> &mut Vec<Value> {
    def["nodes"].as_array_mut().unwrap()
}

fn edges(def: &mut Value) -> &mut Vec<Value> {
    def["edges"].as_array_mut().unwrap()
}

#[test]
fn base_is_clean() {
    assert_eq!(findings(&base()), vec![]);
}

#[test]
fn unknown_node_type_names_the_node() {
    let mut d = base();
    nodes(&mut d)[1]["type"] = json!("webhook");
    check(d, "unknown_node_type", Some("fetch"));
}

#[test]
fn unknown_field_names_the_node() {
    let mut d = base();
    nodes(&mut d)[1]["retries"] = json!(3);
    check(d, "unknown_field", Some("fetch"));
    let mut d = base();
    d["colour"] = json!("red");
    check(d, "unknown_field", None);
}

#[test]
fn every_broken_node_is_reported() {
    let mut d = base();
    nodes(&mut d)[1]["type"] = json!("nope");
    nodes(&mut d)[3]["extra"] = json!(1);
    let all = findings(&d);
    assert_eq!(all.len(), 2, "{all:?}");
}

#[test]
fn invalid_name_and_ids() {
    let mut d = base();
    d["name"] = json!("Bad Name");
    check(d, "invalid_name", None);
    let mut d = base();
    nodes(&mut d).push(json!({"id": "has space", "type": "end"}));
    edges(&mut d).push(json!({"from": "check", "to": "has space", "port": "false"}));
    check(d, "invalid_node_id", Some("has space"));
}

#[test]
fn duplicate_node_id() {
    let mut d = base();
    nodes(&mut d).push(json!({"id": "no", "type": "end"}));
    check(d, "duplicate_node_id", Some("no"));
}

#[test]
fn edge_to_unknown_node() {
    let mut d = base();
    edges(&mut d).push(json!({"from": "yes", "to": "ghost"}));
    let all = findings(&d);
    let f = all.iter().find(|f| f.code == "unknown_edge_node").unwrap();
    assert_eq!(f.edge, Some(5));
}

#[test]
fn exactly_one_start() {
    let mut d = base();
    nodes(&mut d).push(json!({"id": "start2", "type": "start"}));
    edges(&mut d).push(json!({"from": "start2", "to": "fetch"}));
    check(d, "start_count", Some("start2"));
    let mut d = base();
    nodes(&mut d)[0]["type"] = json!("parallel");
    check(d, "start_count", None);
}

#[test]
fn edge_into_start() {
    let mut d = base();
    edges(&mut d).push(json!({"from": "check", "to": "start", "port": "false"}));
    check(d, "edge_into_start", Some("start"));
}

#[test]
fn unreachable_node() {
    let mut d = base();
    nodes(&mut d).push(json!({"id": "orphan", "type": "end"}));
    check(d, "unreachable", Some("orphan"));
}

#[test]
fn cycle_names_its_nodes() {
    let mut d = base();
    nodes(&mut d).push(json!({"id": "again", "type": "transform", "output": 1}));
    edges(&mut d).push(json!({"from": "check", "to": "again", "port": "false"}));
    edges(&mut d).push(json!({"from": "again", "to": "fetch"}));
    let all = findings(&d);
    let f = all.iter().find(|f| f.code == "cycle").expect("cycle");
    for n in ["again", "check", "fetch"] {
        assert!(f.message.contains(n), "{}", f.message);
    }
}

#[test]
fn port_the_type_does_not_have() {
    let mut d = base();
    edges(&mut d)[0]["port"] = json!("error");
    check(d, "unknown_port", Some("start"));
    let mut d = base();
    edges(&mut d).push(json!({"from": "no", "to": "done"}));
    check(d, "unknown_port", Some("no"));
}

#[test]
fn missing_required_port() {
    let mut d = base();
    edges(&mut d).retain(|e| e["port"] != "false");
    check(d, "missing_port", Some("check"));
}

#[test]
fn node_with_no_way_out() {
    let mut d = base();
    edges(&mut d).retain(|e| e["from"] != "yes");
    check(d, "no_way_out", Some("yes"));
}

#[test]
fn template_and_expression_syntax() {
    let mut d = base();
    nodes(&mut d)[3]["output"] = json!({"x": "{{ input. }}"});
    check(d, "template_syntax", Some("yes"));
    let mut d = base();
    nodes(&mut d)[2]["expr"] = json!("input.amount >");
    check(d, "expression_syntax", Some("check"));
}

#[test]
fn unknown_filter_or_test() {
    let mut d = base();
    nodes(&mut d)[1]["request"]["url"] = json!("http://x/{{ input.id | urlencod }}");
    check(d, "unknown_filter", Some("fetch"));
    let mut d = base();
    nodes(&mut d)[2]["expr"] = json!("nodes.fetch.output.status is evenly");
    check(d, "unknown_test", Some("check"));
    // The filters users expect are there: MiniJinja's builtins and `urlencode`.
    let mut d = base();
    nodes(&mut d)[1]["request"]["url"] =
        json!("http://x/{{ input.id | urlencode }}?n={{ input.n | default(1) | int }}");
    assert_eq!(findings(&d), vec![]);
}

#[test]
fn reference_to_a_node_that_may_not_have_run() {
    let mut d = base();
    // `no` runs on the false branch, so `done` (after `yes`) cannot read it.
    nodes(&mut d)[5]["output"] = json!("{{ nodes.no.output }}");
    check(d, "reference_not_dominating", Some("done"));
    let mut d = base();
    nodes(&mut d)[5]["output"] = json!("{{ nodes.nothere.output }}");
    check(d, "unknown_reference", Some("done"));
}

#[test]
fn fan_in_after_fan_out_may_read_every_branch() {
    let d = json!({
        "name": "fan",
        "nodes": [
            {"id": "start", "type": "start"}, {"id": "p", "type": "parallel"},
            {"id": "a", "type": "transform", "output": 1}, {"id": "b", "type": "transform", "output": 2},
            {"id": "j", "type": "join"},
            {"id": "end", "type": "end", "output": ["{{ nodes.a.output }}", "{{ nodes.b.output }}"]}
        ],
        "edges": [
            {"from": "start", "to": "p"}, {"from": "p", "to": "a"}, {"from": "p", "to": "b"},
            {"from": "a", "to": "j"}, {"from": "b", "to": "j"}, {"from": "j", "to": "end"}
        ]
    });
    assert_eq!(findings(&d), vec![]);
    // After a condition's branches meet, neither branch is certain.
    let mut c = d.clone();
    nodes(&mut c)[1] = json!({"id": "p", "type": "condition", "expr": "true"});
    edges(&mut c)[1]["port"] = json!("true");
    edges(&mut c)[2]["port"] = json!("false");
    check(c, "reference_not_dominating", Some("end"));
}

#[test]
fn bad_durations() {
    let mut d = base();
    nodes(&mut d)[1]["timeout"] = json!("5 parsecs");
    check(d, "invalid_duration", Some("fetch"));
    let mut d = base();
    d["timeout"] = json!("0s");
    check(d, "invalid_duration", None);
}

#[test]
fn retry_bounds() {
    let mut d = base();
    nodes(&mut d)[1]["retry"] = json!({"max_attempts": 0});
    check(d, "retry_max_attempts", Some("fetch"));
    let mut d = base();
    nodes(&mut d)[1]["retry"] = json!({"backoff_coefficient": 0.5});
    check(d, "retry_backoff_coefficient", Some("fetch"));
}

#[test]
fn on_cancel_rules() {
    let cancel = |d: &mut Value| {
        nodes(d).push(json!({"id": "undo", "type": "http", "request": {"method": "POST", "url": "http://x/undo"}}));
        nodes(d).push(json!({"id": "undone", "type": "end"}));
        edges(d).push(json!({"from": "undo", "to": "undone"}));
        d["on_cancel"] = json!("undo");
    };
    let mut d = base();
    cancel(&mut d);
    assert_eq!(findings(&d), vec![], "a proper cancel path is valid");
    let mut d = base();
    d["on_cancel"] = json!("ghost");
    check(d, "on_cancel_unknown", None);
    let mut d = base();
    cancel(&mut d);
    edges(&mut d).push(json!({"from": "yes", "to": "undo"}));
    check(d, "on_cancel_incoming", Some("undo"));
    let mut d = base();
    d["on_cancel"] = json!("start");
    check(d, "on_cancel_start", Some("start"));
    let mut d = base();
    cancel(&mut d);
    edges(&mut d).push(json!({"from": "undo", "to": "done", "port": "error"}));
    check(d, "on_cancel_joins_main", Some("done"));
}

#[test]
fn invalid_input_schema() {
    let mut d = base();
    d["input_schema"] = json!({"type": "frobnicate"});
    check(d, "invalid_input_schema", None);
    let mut d = base();
    d["input_schema"] = json!(42);
    check(d, "invalid_input_schema", None);
}

#[test]
fn timeout_port_without_a_timeout_is_a_warning() {
    let mut d = base();
    nodes(&mut d).push(json!({"id": "ok", "type": "approval", "prompt": "ok?"}));
    edges(&mut d)[4] = json!({"from": "yes", "to": "ok"});
    edges(&mut d).push(json!({"from": "ok", "to": "done", "port": "approved"}));
    edges(&mut d).push(json!({"from": "ok", "to": "no", "port": "timeout"}));
    let all = findings(&d);
    let f = all
        .iter()
        .find(|f| f.code == "port_never_taken")
        .expect("warning");
    assert_eq!(f.severity, Severity::Warning);
    assert!(is_valid(&all), "{all:?}");
}

#[test]
fn input_is_checked_against_the_schema_with_paths() {
    let schema =
        json!({"type": "object", "required": ["id"], "properties": {"n": {"type": "integer"}}});
    assert!(check_input(&schema, &json!({"id": 1, "n": 2})).is_ok());
    let errs = check_input(&schema, &json!({"n": "x"})).unwrap_err();
    assert!(errs.contains_key("/n"), "{errs:?}");
    assert!(errs.contains_key("/"), "{errs:?}");
}

/// `base()` with `extra` more `end` nodes hanging off `check`'s false port.
fn with_extra_nodes(extra: usize) -> Value {
    let mut d = base();
    for i in 0..extra {
        nodes(&mut d).push(json!({"id": format!("x{i}"), "type": "end"}));
        edges(&mut d).push(json!({"from": "check", "to": format!("x{i}"), "port": "false"}));
    }
    d
}

#[test]
fn too_many_nodes_is_the_only_finding() {
    use crate::limits::MAX_NODES;
    let at_limit = with_extra_nodes(MAX_NODES - 6);
    assert!(
        findings(&at_limit)
            .iter()
            .all(|f| f.code != "too_many_nodes")
    );
    let mut over = with_extra_nodes(MAX_NODES - 5);
    // Broken in other ways too: none of that is looked at.
    nodes(&mut over)[1]["type"] = json!("nope");
    let all = findings(&over);
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!(all[0].code, "too_many_nodes");
    assert!(all[0].message.contains("2001 nodes"), "{}", all[0].message);
    assert!(all[0].message.contains("2000"), "{}", all[0].message);
}

#[test]
fn too_many_edges_is_the_only_finding() {
    use crate::limits::MAX_EDGES;
    let mut d = base();
    for _ in 0..MAX_EDGES {
        edges(&mut d).push(json!({"from": "yes", "to": "done"}));
    }
    let all = findings(&d);
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!(all[0].code, "too_many_edges");
    assert!(all[0].message.contains("10005 edges"), "{}", all[0].message);
}

#[test]
fn validating_a_parsed_workflow_checks_the_size_too() {
    use crate::limits::MAX_NODES;
    let wf = parse(&with_extra_nodes(MAX_NODES)).map(|_| ()).unwrap_err();
    assert_eq!(wf[0].code, "too_many_nodes");
    let mut big: Workflow = serde_json::from_value(base()).unwrap();
    let end = big.nodes[4].clone();
    big.nodes.extend((0..MAX_NODES).map(|i| crate::Node {
        id: format!("x{i}"),
        ..end.clone()
    }));
    let codes: Vec<String> = validate(&big).into_iter().map(|f| f.code).collect();
    assert_eq!(codes, vec!["too_many_nodes"]);
}

#[test]
fn template_too_long_names_the_node_and_field() {
    use crate::limits::MAX_TEMPLATE_LEN;
    let long = format!("{{{{ input.x }}}}{}", "y".repeat(MAX_TEMPLATE_LEN));
    let mut d = base();
    nodes(&mut d)[3]["output"] = json!({"body": long});
    check(d.clone(), "template_too_long", Some("yes"));
    let f = findings(&d);
    let f = f.iter().find(|f| f.code == "template_too_long").unwrap();
    assert!(f.message.contains("`yes`.output"), "{}", f.message);
    assert!(f.message.contains("16384"), "{}", f.message);
    // A long plain string is not a template.
    let mut d = base();
    nodes(&mut d)[3]["output"] = json!({"body": "y".repeat(MAX_TEMPLATE_LEN + 1)});
    assert_eq!(findings(&d), vec![]);
    // A long expression, broken too: only its length is reported.
    let mut d = base();
    nodes(&mut d)[2]["expr"] = json!(format!("{} >", "1 + ".repeat(MAX_TEMPLATE_LEN / 4)));
    let all = findings(&d);
    let codes: Vec<&str> = all.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(codes, vec!["template_too_long"], "{all:#?}");
    assert!(
        all[0].message.contains("`check`.expr"),
        "{}",
        all[0].message
    );
}

#[test]
fn a_duration_over_the_maximum_names_it() {
    for (field, long) in [("duration", "106751991167d"), ("duration", "3651d")] {
        let mut d = base();
        nodes(&mut d).push(json!({"id": "wait", "type": "timer", field: long}));
        edges(&mut d)[4] = json!({"from": "yes", "to": "wait"});
        edges(&mut d).push(json!({"from": "wait", "to": "done"}));
        let all = findings(&d);
        let f = all
            .iter()
            .find(|f| f.code == "invalid_duration")
            .unwrap_or_else(|| panic!("{long}: {all:#?}"));
        assert_eq!(f.node.as_deref(), Some("wait"));
        assert!(f.message.contains("3650d"), "{}", f.message);
    }
    let mut d = base();
    nodes(&mut d)[1]["retry"] = json!({"initial_interval": "5000d"});
    check(d, "invalid_duration", Some("fetch"));
    let mut d = base();
    d["timeout"] = json!("3650d");
    assert_eq!(findings(&d), vec![], "ten years is allowed");
}

#[test]
fn secrets_are_read_by_name_only() {
    for template in [
        "{{ secrets }}",
        "{{ secrets | tojson }}",
        "{% for k in secrets %}{{ k }}{% endfor %}",
        "{{ secrets[input.k] }}",
        "{{ secrets.items() | list }}",
    ] {
        let mut d = base();
        nodes(&mut d)[1]["request"]["body"] = json!({"all": template});
        check(d, "secrets_whole", Some("fetch"));
    }
    let mut d = base();
    nodes(&mut d)[2]["expr"] = json!("'TOKEN' in secrets");
    check(d, "secrets_whole", Some("check"));
    // By name, in an `http` (or `task`) node: what SPEC §3 allows.
    let mut d = base();
    nodes(&mut d)[1]["request"]["headers"] = json!({"Authorization": "Bearer {{ secrets.TOKEN }}"});
    assert_eq!(findings(&d), vec![]);
}

#[test]
fn secrets_by_name_outside_http_and_task_are_refused() {
    let signal = json!({"id": "sig", "type": "signal", "signal": "go"});
    let cases: [(usize, &str, Value); 4] = [
        (3, "output", json!({"token": "{{ secrets.TOKEN }}"})),
        (2, "expr", json!("secrets.TOKEN == 'x'")),
        (5, "output", json!("{{ secrets.TOKEN }}")),
        (5, "output", json!("{% if secrets.A %}a{% endif %}")),
    ];
    for (at, field, value) in cases {
        let mut d = base();
        nodes(&mut d)[at][field] = value;
        let node = nodes(&mut d)[at]["id"].as_str().unwrap().to_owned();
        check(d, "secrets_not_here", Some(&node));
    }
    let mut d = base();
    nodes(&mut d)
        .push(json!({"id": "ok", "type": "approval", "prompt": "Token {{ secrets.TOKEN }}?"}));
    edges(&mut d)[4] = json!({"from": "yes", "to": "ok"});
    edges(&mut d).push(json!({"from": "ok", "to": "done", "port": "approved"}));
    check(d, "secrets_not_here", Some("ok"));
    let mut d = base();
    nodes(&mut d).push(signal);
    let task = json!({"id": "work", "type": "task", "queue": "q", "activity": "a",
        "input": {"key": "{{ secrets.KEY }}"}});
    nodes(&mut d).push(task);
    edges(&mut d)[4] = json!({"from": "yes", "to": "work"});
    edges(&mut d).push(json!({"from": "work", "to": "sig"}));
    edges(&mut d).push(json!({"from": "sig", "to": "done"}));
    assert_eq!(findings(&d), vec![], "a task may read a secret by name");
}

/// `base` with its `yes` transform replaced by `node` (id `yes`).
fn with_yes(node: Value) -> Value {
    let mut def = base();
    let mut node = node;
    node["id"] = json!("yes");
    nodes(&mut def)[3] = node;
    def
}

#[test]
fn subflow_and_map_settings_are_checked() {
    let ok = with_yes(
        json!({"type": "map", "items": "{{ input.xs }}", "workflow": "child",
        "input": {"x": "{{ item }}", "at": "{{ index }}"}, "max_concurrency": 5, "tolerated_failures": 0}),
    );
    assert!(is_valid(&findings(&ok)), "{:?}", findings(&ok));
    let ok =
        with_yes(json!({"type": "subflow", "workflow": "child", "version": 3, "timeout": "1h"}));
    assert!(is_valid(&findings(&ok)), "{:?}", findings(&ok));
    for (node, code) in [
        (
            json!({"type": "map", "items": "[]", "workflow": "child", "max_concurrency": 0}),
            "invalid_field",
        ),
        (
            json!({"type": "map", "items": "[]", "workflow": "child", "max_concurrency": 1001}),
            "invalid_field",
        ),
        (
            json!({"type": "map", "items": "[]", "workflow": "child", "tolerated_failures": -1}),
            "invalid_field",
        ),
        (
            json!({"type": "map", "items": "{{ input.xs", "workflow": "child"}),
            "template_syntax",
        ),
        (
            json!({"type": "subflow", "workflow": "Bad Name"}),
            "invalid_field",
        ),
        (
            json!({"type": "subflow", "workflow": "child", "version": 0}),
            "invalid_field",
        ),
        (
            json!({"type": "subflow", "workflow": "child", "timeout": "soon"}),
            "invalid_duration",
        ),
        (
            json!({"type": "subflow", "workflow": "child", "input": "{{ secrets.KEY }}"}),
            "secrets_not_here",
        ),
        (json!({"type": "map", "workflow": "child"}), "invalid_node"),
    ] {
        check(with_yes(node), code, Some("yes"));
    }
}

#[test]
fn children_of_unknown_workflows_are_found_by_whoever_knows_the_workflows() {
    let def = with_yes(json!({"type": "subflow", "workflow": "child", "version": 2}));
    let wf = parse(&def).expect("parses");
    let known =
        |name: &str, version: Option<i64>| name == "child" && version.is_none_or(|v| v == 1);
    let found = check_children(&wf, known, Severity::Warning);
    assert_eq!(found.len(), 1);
    assert_eq!(
        (
            found[0].code.as_str(),
            found[0].node.as_deref(),
            found[0].severity
        ),
        ("unknown_workflow", Some("yes"), Severity::Warning)
    );
    assert!(found[0].message.contains("version 2 of workflow `child`"));
    let itself = with_yes(json!({"type": "subflow", "workflow": "base"}));
    let wf = parse(&itself).expect("parses");
    assert!(
        check_children(&wf, |_, _| false, Severity::Error).is_empty(),
        "a workflow may start itself"
    );
}

#[test]
fn schedules_are_checked_one_by_one() {
    let with = |schedules: Value| {
        let mut d = base();
        d["triggers"] = json!({ "schedules": schedules });
        d
    };
    let good = with(json!([
        {"cron": "*/5 * * * * *"},
        {"cron": "0 2 * * *", "timezone": "Europe/Berlin", "overlap": "buffer_one",
         "catchup_window": "10m", "input": {"id": 1}}
    ]));
    assert_eq!(findings(&good), vec![]);
    check(with(json!([{"cron": "* * * *"}])), "invalid_cron", None);
    check(with(json!([{"cron": "0 0 30 2 *"}])), "invalid_cron", None);
    check(
        with(json!([{"cron": "* * * * *", "timezone": "Mars/Base"}])),
        "invalid_timezone",
        None,
    );
    check(
        with(json!([{"cron": "* * * * *", "overlap": "queue"}])),
        "invalid_overlap",
        None,
    );
    check(
        with(json!([{"cron": "* * * * *", "catchup_window": "soon"}])),
        "invalid_duration",
        None,
    );
    let mut typed = with(json!([{"cron": "* * * * *", "input": {"id": "x"}}]));
    typed["input_schema"] = json!({"type": "object", "properties": {"id": {"type": "integer"}}});
    check(typed, "invalid_schedule_input", None);
    // The second schedule's finding names its index.
    let all = findings(&with(json!([{"cron": "* * * * *"}, {"cron": "nope"}])));
    assert_eq!(all.len(), 1, "{all:#?}");
    assert!(all[0].message.contains("schedules[1]"), "{all:#?}");
}
