//! The definition's JSON parts that are not the graph: `input_schema` (a valid JSON Schema,
//! and a run's input checked against it) and the webhook trigger's secret name.

use std::collections::BTreeMap;

use serde_json::Value;

use super::Diagnostic;
use crate::model::Workflow;

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
