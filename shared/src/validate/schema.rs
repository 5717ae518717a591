//! The definition's JSON parts that are not the graph: `input_schema` (a valid JSON Schema,
//! and a run's input checked against it), the webhook trigger's secret name, and the
//! schedules (cron, zone, overlap, catch-up window, input against the schema).

use std::collections::BTreeMap;

use serde_json::Value;

use super::Diagnostic;
use crate::model::Workflow;
use crate::schedule::Overlap;

pub(super) fn check_schema(wf: &Workflow, out: &mut Vec<Diagnostic>) {
    let Some(schema) = &wf.input_schema else {
        return;
    };
    if !schema.is_object() && !schema.is_boolean() {
        out.push(Diagnostic::error(
            "invalid_input_schema",
            "`input_schema` must be a JSON Schema object",
        ));
        return;
    }
    if let Err(e) = jsonschema::validator_for(schema) {
        out.push(Diagnostic::error(
            "invalid_input_schema",
            format!("`input_schema` is not a valid JSON Schema: {e}"),
        ));
    }
}

pub(super) fn check_triggers(wf: &Workflow, out: &mut Vec<Diagnostic>) {
    let secret = wf
        .triggers
        .as_ref()
        .and_then(|t| t.webhook.as_ref())
        .and_then(|w| w.secret.as_ref());
    if let Some(s) = secret
        && (s.is_empty()
            || !s
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
    {
        out.push(Diagnostic::error(
            "invalid_secret_name",
            format!(
                "webhook secret `{s}` must be a NAME of [A-Z0-9_] (read from WEFT_HOOK_SECRET_<NAME>)"
            ),
        ));
    }
    check_schedules(wf, out);
}

/// Each schedule: `invalid_cron`, `invalid_timezone`, `invalid_overlap`, a bad
/// `catchup_window` (`invalid_duration`), and an `input` its runs could not start with
/// (`invalid_schedule_input`).
fn check_schedules(wf: &Workflow, out: &mut Vec<Diagnostic>) {
    let schema = wf
        .input_schema
        .as_ref()
        .filter(|s| jsonschema::validator_for(s).is_ok());
    for (i, s) in wf.schedules().iter().enumerate() {
        let at = format!("triggers.schedules[{i}]");
        if let Err(e) = crate::schedule::parse_timezone(s.timezone.as_deref()) {
            out.push(Diagnostic::error(e.code(), format!("{at}: {e}")));
        }
        if let Err(e) = crate::schedule::parse_cron(&s.cron) {
            out.push(Diagnostic::error(e.code(), format!("{at}: {e}")));
        }
        if let Some(o) = &s.overlap
            && Overlap::parse(o).is_none()
        {
            let names: Vec<&str> = Overlap::ALL.iter().map(|o| o.as_str()).collect();
            out.push(Diagnostic::error(
                "invalid_overlap",
                format!("{at}: overlap `{o}` is not one of {}", names.join(", ")),
            ));
        }
        if let Some(d) = &s.catchup_window {
            super::settings::check_duration(d, &format!("{at}.catchup_window"), None, out);
        }
        if let Some(schema) = schema
            && let Err(paths) = check_input(schema, &s.run_input())
        {
            let why: Vec<String> = paths.iter().map(|(p, e)| format!("{p}: {e}")).collect();
            out.push(Diagnostic::error(
                "invalid_schedule_input",
                format!(
                    "{at}: the input does not match `input_schema` ({})",
                    why.join("; ")
                ),
            ));
        }
    }
}

/// Checks a run's input against the workflow's `input_schema`; returns each failing path.
pub fn check_input(schema: &Value, input: &Value) -> Result<(), BTreeMap<String, String>> {
    let Ok(validator) = jsonschema::validator_for(schema) else {
        return Ok(());
    };
    let errors: BTreeMap<String, String> = validator
        .iter_errors(input)
        .map(|e| {
            let path = e.instance_path().to_string();
            (
                if path.is_empty() {
                    "/".to_owned()
                } else {
                    path
                },
                e.to_string(),
            )
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}
