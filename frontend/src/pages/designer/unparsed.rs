//! JSON fields whose text does not parse (yet). Only text that parses reaches the model, so
//! without this a half-typed body would leave the model as it was: the badge would say Valid,
//! Save would save the old value, and selecting another node would throw the text away. The
//! text is kept here instead, per node and field, until it parses or the model jumps (undo,
//! redo); each entry is an error finding, so the workflow reads as invalid and Save waits.

use std::collections::BTreeMap;

use shared::Diagnostic;
use shared::model::Workflow;
use shared::validate::Severity;

/// A field: the node it belongs to (`None` for the workflow's settings) and its test id,
/// which names the field within its form.
pub(super) type FieldKey = (Option<String>, &'static str);

/// What the person typed into a field, and why it is not JSON.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Unparsed {
    pub(super) label: &'static str,
    pub(super) text: String,
    pub(super) error: String,
}

/// Every field holding text that is not JSON.
pub(super) type UnparsedFields = BTreeMap<FieldKey, Unparsed>;

/// An error finding per field of `fields` whose node is still in `wf` (a deleted node's text
/// goes with it).
pub(super) fn findings(fields: &UnparsedFields, wf: &Workflow) -> Vec<Diagnostic> {
    fields
        .iter()
        .filter(|((node, _), _)| node.as_ref().is_none_or(|id| wf.node(id).is_some()))
        .map(|((node, _), field)| Diagnostic {
            severity: Severity::Error,
            code: "invalid_json".to_owned(),
            message: match node {
                Some(id) => format!(
                    "`{}` of `{id}` is not valid JSON: {}",
                    field.label, field.error
                ),
                None => format!("`{}` is not valid JSON: {}", field.label, field.error),
            },
            node: node.clone(),
            edge: None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use shared::model::Workflow;

    use super::*;

    fn wf() -> Workflow {
        serde_json::from_value(serde_json::json!({
            "name": "w",
            "nodes": [{"id": "start", "type": "start"}, {"id": "end", "type": "end"}],
            "edges": [{"from": "start", "to": "end"}]
        }))
        .unwrap()
    }

    #[test]
    fn each_unparsed_field_of_a_node_still_there_is_an_error() {
        let mut fields = UnparsedFields::new();
        let broken = |label| Unparsed {
            label,
            text: "{".into(),
            error: "EOF while parsing".into(),
        };
        fields.insert(
            (Some("end".into()), "field-output"),
            broken("Output (template)"),
        );
        fields.insert(
            (None, "field-input-schema"),
            broken("Input schema (JSON Schema)"),
        );
        fields.insert(
            (Some("gone".into()), "field-body"),
            broken("Body (template)"),
        );
        let found = findings(&fields, &wf());
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found
                .iter()
                .all(|f| f.severity == Severity::Error && f.code == "invalid_json")
        );
        assert_eq!(found[0].node, None);
        assert_eq!(
            found[0].message,
            "`Input schema (JSON Schema)` is not valid JSON: EOF while parsing"
        );
        assert_eq!(found[1].node.as_deref(), Some("end"));
        assert_eq!(
            found[1].message,
            "`Output (template)` of `end` is not valid JSON: EOF while parsing"
        );
    }
}
