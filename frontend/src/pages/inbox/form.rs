//! An approval's form (SPEC §7): the JSON Schema its decision's `data` must match, read into
//! fields a person fills in, and the `data` built back from what they typed.
//!
//! An object schema's `properties` become one field each: a string (a select when it has an
//! `enum`, with `minLength`/`maxLength`/`pattern` as hints), a number or integer (with
//! `minimum`/`maximum`), a boolean (a checkbox); `required` ones are marked and checked here
//! before sending. Anything else (nested objects, arrays, a property without a type) is a
//! JSON text field; so is the whole `data` when the schema is not an object with properties.
//! The server checks `data` against the schema whatever this module lets through.
//!
//! Pure and DOM-free, tested natively; [`FormFields`] draws it.

use std::collections::{BTreeMap, HashMap};

use leptos::prelude::*;
use serde_json::{Map, Value};

/// The name of the one field that stands for the whole `data` when the schema has no
/// `properties` to split it into.
pub const WHOLE: &str = "";

/// What a field holds, and so how it is drawn and read.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A text box; `min_len`/`max_len` are checked here, `pattern` is left to the server.
    Text {
        min_len: Option<u64>,
        max_len: Option<u64>,
        pattern: Option<String>,
    },
    /// A select among `enum`'s values (any JSON), the field's text being the index.
    Choice(Vec<Value>),
    /// A number; `integer` refuses a fraction.
    Number {
        integer: bool,
        min: Option<f64>,
        max: Option<f64>,
    },
    /// A checkbox; its text is `"true"` or `"false"`.
    Boolean,
    /// Any JSON, typed as text.
    Json,
}

/// One field of the form.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The property's name ([`WHOLE`] for the whole `data`).
    pub name: String,
    /// Its `title`, else its name.
    pub label: String,
    /// Its `description`.
    pub help: Option<String>,
    pub required: bool,
    pub kind: Kind,
    /// The text it starts with (from the schema's `default`).
    pub initial: String,
}

impl Field {
    /// A short line of what the value must be: "2–40 characters", "at least 0", …
    pub fn hint(&self) -> Option<String> {
        match &self.kind {
            Kind::Text {
                min_len,
                max_len,
                pattern,
            } => {
                let mut parts = Vec::new();
                match (min_len, max_len) {
                    (Some(a), Some(b)) => parts.push(format!("{a}–{b} characters")),
                    (Some(a), None) => parts.push(format!("at least {a} characters")),
                    (None, Some(b)) => parts.push(format!("at most {b} characters")),
                    (None, None) => {}
                }
                if let Some(p) = pattern {
                    parts.push(format!("matching {p}"));
                }
                (!parts.is_empty()).then(|| parts.join(", "))
            }
            Kind::Number { integer, min, max } => {
                let what = if *integer {
                    "a whole number"
                } else {
                    "a number"
                };
                Some(match (min, max) {
                    (Some(a), Some(b)) => format!("{what} from {a} to {b}"),
                    (Some(a), None) => format!("{what}, at least {a}"),
                    (None, Some(b)) => format!("{what}, at most {b}"),
                    (None, None) => what.to_owned(),
                })
            }
            Kind::Json => Some("JSON".to_owned()),
            Kind::Choice(_) | Kind::Boolean => None,
        }
    }
}

/// The form of `schema`: no schema, no fields.
pub fn fields(schema: Option<&Value>) -> Vec<Field> {
    let Some(schema) = schema else {
        return Vec::new();
    };
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return vec![Field {
            name: WHOLE.to_owned(),
            label: title(schema).unwrap_or_else(|| "Data".to_owned()),
            help: description(schema),
            required: false,
            kind: Kind::Json,
            initial: initial(schema, &Kind::Json),
        }];
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    // The schema's own order is lost in parsing (keys come back sorted): required first.
    let mut fields: Vec<Field> = properties
        .iter()
        .map(|(name, property)| {
            let kind = kind(property);
            Field {
                name: name.clone(),
                label: title(property).unwrap_or_else(|| name.clone()),
                help: description(property),
                required: required.contains(&name.as_str()),
                initial: initial(property, &kind),
                kind,
            }
        })
        .collect();
    fields.sort_by_key(|f| !f.required);
    fields
}

fn title(schema: &Value) -> Option<String> {
    schema
        .get("title")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn description(schema: &Value) -> Option<String> {
    schema
        .get("description")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn kind(property: &Value) -> Kind {
    if let Some(options) = property.get("enum").and_then(Value::as_array) {
        return Kind::Choice(options.clone());
    }
    let number = |key: &str| property.get(key).and_then(Value::as_f64);
    match property.get("type").and_then(Value::as_str) {
        Some("string") => Kind::Text {
            min_len: property.get("minLength").and_then(Value::as_u64),
            max_len: property.get("maxLength").and_then(Value::as_u64),
            pattern: property
                .get("pattern")
                .and_then(Value::as_str)
                .map(str::to_owned),
        },
        Some(t @ ("number" | "integer")) => Kind::Number {
            integer: t == "integer",
            min: number("minimum"),
            max: number("maximum"),
        },
        Some("boolean") => Kind::Boolean,
        _ => Kind::Json,
    }
}

/// The text a field starts with: its `default`, else empty (a checkbox: unchecked).
fn initial(property: &Value, kind: &Kind) -> String {
    let default = property.get("default");
    match (kind, default) {
        (Kind::Boolean, d) => (d == Some(&Value::Bool(true))).to_string(),
        (Kind::Choice(options), Some(d)) => options
            .iter()
            .position(|o| o == d)
            .map(|i| i.to_string())
            .unwrap_or_default(),
        (_, Some(Value::String(s))) if !matches!(kind, Kind::Json) => s.clone(),
        (Kind::Json, Some(d)) => serde_json::to_string_pretty(d).unwrap_or_default(),
        (_, Some(d)) => d.to_string(),
        (_, None) => String::new(),
    }
}

/// The texts each field starts with, by name.
pub fn initial_values(fields: &[Field]) -> HashMap<String, String> {
    fields
        .iter()
        .map(|f| (f.name.clone(), f.initial.clone()))
        .collect()
}

/// What each field's problem is, by field name.
pub type Errors = BTreeMap<String, String>;

/// What a card says when [`build`] refused its fields.
pub const FILL_IN: &str = "Fill in the fields marked above.";

/// The `data` to send from the typed `values`, or each field's problem. No fields: `null`.
/// An empty optional field is left out.
pub fn build(fields: &[Field], values: &HashMap<String, String>) -> Result<Value, Errors> {
    if fields.is_empty() {
        return Ok(Value::Null);
    }
    let mut errors = Errors::new();
    let mut data = Map::new();
    for field in fields {
        let text = values.get(&field.name).map(String::as_str).unwrap_or("");
        match read(field, text) {
            Ok(Some(value)) => {
                if field.name == WHOLE {
                    return Ok(value);
                }
                data.insert(field.name.clone(), value);
            }
            Ok(None) if field.required => {
                errors.insert(field.name.clone(), "required".to_owned());
            }
            Ok(None) => {
                if field.name == WHOLE {
                    return Ok(Value::Null);
                }
            }
            Err(problem) => {
                errors.insert(field.name.clone(), problem);
            }
        }
    }
    if errors.is_empty() {
        Ok(Value::Object(data))
    } else {
        Err(errors)
    }
}

/// One field's value: `None` when left empty.
fn read(field: &Field, text: &str) -> Result<Option<Value>, String> {
    match &field.kind {
        Kind::Boolean => Ok(Some(Value::Bool(text == "true"))),
        Kind::Choice(options) => match text.parse::<usize>().ok().and_then(|i| options.get(i)) {
            Some(v) => Ok(Some(v.clone())),
            None => Ok(None),
        },
        Kind::Text {
            min_len, max_len, ..
        } => {
            if text.is_empty() {
                return Ok(None);
            }
            let len = text.chars().count() as u64;
            if let Some(min) = min_len.filter(|m| len < *m) {
                return Err(format!("at least {min} characters"));
            }
            if let Some(max) = max_len.filter(|m| len > *m) {
                return Err(format!("at most {max} characters"));
            }
            Ok(Some(Value::String(text.to_owned())))
        }
        Kind::Number { integer, min, max } => {
            let text = text.trim();
            if text.is_empty() {
                return Ok(None);
            }
            let value = if *integer {
                match text.parse::<i64>() {
                    Ok(n) => Value::from(n),
                    Err(_) => return Err("a whole number".to_owned()),
                }
            } else {
                match text.parse::<f64>().ok().filter(|n| n.is_finite()) {
                    Some(n) => Value::from(n),
                    None => return Err("a number".to_owned()),
                }
            };
            let n = value.as_f64().unwrap_or_default();
            if let Some(min) = min.filter(|m| n < *m) {
                return Err(format!("at least {min}"));
            }
            if let Some(max) = max.filter(|m| n > *m) {
                return Err(format!("at most {max}"));
            }
            Ok(Some(value))
        }
        Kind::Json => {
            if text.trim().is_empty() {
                return Ok(None);
            }
            serde_json::from_str(text)
                .map(Some)
                .map_err(|e| format!("not JSON: {e}"))
        }
    }
}

/// The server's 422 `details` (`{"errors": {"/json/pointer": "message"}}`) as each field's
/// message, and the messages no field owns (the whole value's, a path this form lacks).
pub fn server_errors(fields: &[Field], details: Option<&Value>) -> (Errors, Vec<String>) {
    let mut by_field = Errors::new();
    let mut rest = Vec::new();
    let whole = fields.iter().any(|f| f.name == WHOLE);
    let Some(errors) = details
        .and_then(|d| d.get("errors"))
        .and_then(Value::as_object)
    else {
        return (by_field, rest);
    };
    for (pointer, message) in errors {
        let message = match message {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let name = first_segment(pointer);
        let owner = if whole {
            Some(WHOLE.to_owned())
        } else {
            name.filter(|n| fields.iter().any(|f| &f.name == n))
        };
        match owner {
            Some(name) => {
                let entry = by_field.entry(name).or_default();
                if !entry.is_empty() {
                    entry.push_str("; ");
                }
                if whole && !pointer.is_empty() {
                    entry.push_str(&format!("{pointer}: "));
                }
                entry.push_str(&message);
            }
            None if pointer.is_empty() => rest.push(message),
            None => rest.push(format!("{pointer}: {message}")),
        }
    }
    (by_field, rest)
}

/// `/a~1b/0` → `a/b`: the property a JSON pointer starts in.
fn first_segment(pointer: &str) -> Option<String> {
    let rest = pointer.strip_prefix('/')?;
    let segment = rest.split('/').next()?;
    Some(segment.replace("~1", "/").replace("~0", "~"))
}

/// The form's fields, drawn; each one's typed text in `values` and its problem from
/// `errors` under it. `prefix` keeps element ids unique across cards.
#[component]
pub fn FormFields(
    fields: Vec<Field>,
    values: RwSignal<HashMap<String, String>>,
    errors: RwSignal<Errors>,
    #[prop(into)] disabled: Signal<bool>,
    prefix: String,
) -> impl IntoView {
    fields
        .into_iter()
        .map(|field| {
            let name = field.name.clone();
            let id = format!(
                "{prefix}-f-{}",
                if name.is_empty() { "data" } else { &name }
            );
            let testid = format!(
                "form-field-{}",
                if name.is_empty() { "data" } else { &name }
            );
            let text = {
                let name = name.clone();
                move || values.with(|v| v.get(&name).cloned().unwrap_or_default())
            };
            let set = {
                let name = name.clone();
                move |value: String| {
                    values.update(|v| {
                        v.insert(name.clone(), value);
                    });
                    errors.update(|e| {
                        e.remove(&name);
                    });
                }
            };
            let error = {
                let name = name.clone();
                move || errors.with(|e| e.get(&name).cloned())
            };
            let has_error = {
                let error = error.clone();
                move || error().is_some().to_string()
            };
            let error_id = format!("{id}-error");
            let input = match field.kind.clone() {
                Kind::Boolean => view! {
                    <input
                        type="checkbox"
                        id=id.clone()
                        prop:checked=move || text() == "true"
                        prop:disabled=disabled
                        on:change=move |ev| set(event_target_checked(&ev).to_string())
                    />
                }
                .into_any(),
                Kind::Choice(options) => view! {
                    <select
                        id=id.clone()
                        class="input"
                        prop:value=text
                        prop:disabled=disabled
                        aria-invalid=has_error
                        aria-describedby=error_id.clone()
                        on:change=move |ev| set(event_target_value(&ev))
                    >
                        <option value="">"— choose —"</option>
                        {options
                            .iter()
                            .enumerate()
                            .map(|(i, o)| {
                                let label = match o {
                                    Value::String(s) => s.clone(),
                                    other => other.to_string(),
                                };
                                view! { <option value=i.to_string()>{label}</option> }
                            })
                            .collect_view()}
                    </select>
                }
                .into_any(),
                Kind::Json => view! {
                    <textarea
                        id=id.clone()
                        class="input mono"
                        rows="3"
                        spellcheck="false"
                        prop:value=text
                        prop:disabled=disabled
                        aria-invalid=has_error
                        aria-describedby=error_id.clone()
                        on:input=move |ev| set(event_target_value(&ev))
                    ></textarea>
                }
                .into_any(),
                Kind::Number { integer, min, max } => view! {
                    <input
                        type="text"
                        inputmode=if integer { "numeric" } else { "decimal" }
                        id=id.clone()
                        class="input"
                        data-min=min.map(|m| m.to_string())
                        data-max=max.map(|m| m.to_string())
                        prop:value=text
                        prop:disabled=disabled
                        aria-invalid=has_error
                        aria-describedby=error_id.clone()
                        on:input=move |ev| set(event_target_value(&ev))
                    />
                }
                .into_any(),
                Kind::Text { max_len, .. } => view! {
                    <input
                        type="text"
                        id=id.clone()
                        class="input"
                        maxlength=max_len.map(|m| m.to_string())
                        prop:value=text
                        prop:disabled=disabled
                        aria-invalid=has_error
                        aria-describedby=error_id.clone()
                        on:input=move |ev| set(event_target_value(&ev))
                    />
                }
                .into_any(),
            };
            let hint = field.hint();
            let help = field.help.clone();
            view! {
                <div class="form-field" data-testid=testid>
                    <label for=id.clone()>
                        {field.label.clone()}
                        {field
                            .required
                            .then(|| {
                                view! {
                                    <span class="form-required" title="required">
                                        " *"
                                    </span>
                                }
                            })}
                    </label>
                    {input}
                    {help.map(|h| view! { <p class="form-help">{h}</p> })}
                    {hint.map(|h| view! { <p class="form-hint">{h}</p> })}
                    <p class="form-error" id=error_id data-testid="form-error" role="alert">
                        {error}
                    </p>
                </div>
            }
        })
        .collect_view()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pay_form() -> Value {
        json!({
            "type": "object",
            "required": ["cost_centre"],
            "properties": {
                "cost_centre": {"type": "string", "minLength": 2, "title": "Cost centre",
                                "description": "Who pays"},
                "amount": {"type": "integer", "minimum": 0, "maximum": 1000},
                "urgent": {"type": "boolean"},
                "level": {"enum": ["low", "high", 3]},
                "tags": {"type": "array", "items": {"type": "string"}},
                "ratio": {"type": "number"}
            }
        })
    }

    fn values(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn no_form_is_no_fields_and_null_data() {
        assert!(fields(None).is_empty());
        assert_eq!(build(&[], &HashMap::new()), Ok(Value::Null));
    }

    #[test]
    fn properties_become_typed_fields() {
        let form = pay_form();
        let fields = fields(Some(&form));
        assert_eq!(fields[0].name, "cost_centre", "required first");
        let by = |n: &str| fields.iter().find(|f| f.name == n).unwrap();
        let cc = by("cost_centre");
        assert_eq!(cc.label, "Cost centre");
        assert_eq!(cc.help.as_deref(), Some("Who pays"));
        assert!(cc.required);
        assert_eq!(cc.hint().as_deref(), Some("at least 2 characters"));
        assert_eq!(
            by("amount").kind,
            Kind::Number {
                integer: true,
                min: Some(0.0),
                max: Some(1000.0)
            }
        );
        assert_eq!(
            by("amount").hint().as_deref(),
            Some("a whole number from 0 to 1000")
        );
        assert!(!by("amount").required);
        assert_eq!(by("urgent").kind, Kind::Boolean);
        assert_eq!(by("urgent").initial, "false");
        assert!(matches!(by("level").kind, Kind::Choice(ref o) if o.len() == 3));
        assert_eq!(by("tags").kind, Kind::Json);
    }

    #[test]
    fn required_and_bad_values_are_caught_before_sending() {
        let form = pay_form();
        let fields = fields(Some(&form));
        let errors = build(&fields, &values(&[("amount", "1.5"), ("tags", "[1,")])).unwrap_err();
        assert_eq!(errors["cost_centre"], "required");
        assert_eq!(errors["amount"], "a whole number");
        assert!(errors["tags"].starts_with("not JSON"));
        let errors = build(
            &fields,
            &values(&[("cost_centre", "x"), ("amount", "2000")]),
        )
        .unwrap_err();
        assert_eq!(errors["cost_centre"], "at least 2 characters");
        assert_eq!(errors["amount"], "at most 1000");
    }

    #[test]
    fn the_data_holds_typed_values_and_leaves_out_empty_optional_ones() {
        let form = pay_form();
        let fields = fields(Some(&form));
        let data = build(
            &fields,
            &values(&[
                ("cost_centre", "CC-7"),
                ("amount", " 42 "),
                ("urgent", "true"),
                ("level", "2"),
                ("tags", r#"["a"]"#),
                ("ratio", ""),
            ]),
        )
        .unwrap();
        assert_eq!(
            data,
            json!({"cost_centre": "CC-7", "amount": 42, "urgent": true, "level": 3, "tags": ["a"]})
        );
        let data = build(&fields, &values(&[("cost_centre", "CC"), ("ratio", "0.5")])).unwrap();
        assert_eq!(
            data,
            json!({"cost_centre": "CC", "urgent": false, "ratio": 0.5})
        );
    }

    #[test]
    fn a_schema_without_properties_is_one_json_field() {
        let form = json!({"type": "array"});
        let fields = fields(Some(&form));
        assert_eq!(fields.len(), 1);
        assert_eq!(fields[0].name, WHOLE);
        assert_eq!(
            build(&fields, &values(&[("", "[1, 2]")])),
            Ok(json!([1, 2]))
        );
        assert_eq!(build(&fields, &values(&[])), Ok(Value::Null));
    }

    #[test]
    fn defaults_fill_the_fields() {
        let form = json!({"properties": {
            "a": {"type": "string", "default": "x"},
            "b": {"type": "integer", "default": 3},
            "c": {"type": "boolean", "default": true},
            "d": {"enum": ["p", "q"], "default": "q"}
        }});
        let initial = initial_values(&fields(Some(&form)));
        assert_eq!(
            initial,
            values(&[("a", "x"), ("b", "3"), ("c", "true"), ("d", "1")])
        );
    }

    #[test]
    fn the_servers_errors_land_under_their_fields() {
        let form = pay_form();
        let fields = fields(Some(&form));
        let details = json!({"errors": {
            "/cost_centre": "too short",
            "/tags/0": "not a string",
            "/nope": "unknown",
            "": "missing amount"
        }});
        let (by_field, mut rest) = server_errors(&fields, Some(&details));
        rest.sort();
        assert_eq!(by_field["cost_centre"], "too short");
        assert_eq!(by_field["tags"], "not a string");
        assert_eq!(
            rest,
            vec!["/nope: unknown".to_owned(), "missing amount".to_owned()]
        );
        assert_eq!(server_errors(&fields, None), (Errors::new(), vec![]));
        assert_eq!(first_segment("/a~1b~0c/1").as_deref(), Some("a/b~c"));
    }
}
