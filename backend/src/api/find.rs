//! Finding runs (SPEC §6): the query of `GET /api/runs` read into a [`RunFilter`]. The
//! `input.<path>` parameters have names no struct can list, so the query is read as pairs and
//! checked here; each mistake is a 400 naming the parameter.

use serde_json::Value;
use shared::api::RunStatus;
use shared::limits::{MAX_ID_LEN, MAX_PAGE};

use super::error::Error;
use crate::store::{InputMatch, RunFilter};

/// The page size of `GET /api/runs` without `?limit=`.
const DEFAULT_PAGE: i64 = 50;

/// At most this many `input.*` parameters, each at most this many keys deep.
const MAX_INPUT_MATCHES: usize = 8;
const MAX_PATH_KEYS: usize = 8;

/// Reads the query pairs of `GET /api/runs` into a filter.
pub(super) fn read(pairs: Vec<(String, String)>) -> Result<RunFilter, Error> {
    let mut f = RunFilter {
        limit: DEFAULT_PAGE,
        ..RunFilter::default()
    };
    let bad = |m: String| Err(Error::BadRequest(m));
    for (name, value) in pairs {
        match name.as_str() {
            "workflow" => f.workflow = Some(value),
            "status" => {
                if RunStatus::parse(&value).is_none() {
                    return bad(format!("unknown status `{value}`"));
                }
                f.status = Some(value);
            }
            "id_prefix" => {
                if value.is_empty() || value.len() > MAX_ID_LEN {
                    return bad(format!(
                        "id_prefix must be 1 to {MAX_ID_LEN} bytes, not {}",
                        value.len()
                    ));
                }
                f.id_prefix = Some(value);
            }
            "created_after" => f.created_after = Some(instant(&name, &value)?),
            "created_before" => f.created_before = Some(instant(&name, &value)?),
            "needs" if value == "person" => f.needs_person = true,
            "needs" => return bad(format!("needs must be `person`, not `{value}`")),
            "test" => {
                f.test = match value.as_str() {
                    "true" => true,
                    "false" => false,
                    _ => return bad(format!("test must be `true` or `false`, not `{value}`")),
                }
            }
            "limit" => {
                f.limit = match value.parse::<i64>() {
                    Ok(l) if (1..=MAX_PAGE).contains(&l) => l,
                    _ => {
                        return bad(format!(
                            "limit must be between 1 and {MAX_PAGE}, not {value}"
                        ));
                    }
                }
            }
            "cursor" => {
                let after = value
                    .split_once('.')
                    .and_then(|(at, id)| Some((at.parse().ok()?, id.to_owned())));
                match after {
                    Some(a) => f.after = Some(a),
                    None => return bad("malformed cursor".into()),
                }
            }
            // The API token of clients that cannot send headers; checked by `auth`.
            "access_token" => {}
            _ => match name.strip_prefix("input.") {
                Some(path) => {
                    if f.input.len() == MAX_INPUT_MATCHES {
                        return bad(format!(
                            "at most {MAX_INPUT_MATCHES} input.<path> parameters"
                        ));
                    }
                    f.input.push(input_match(&name, path, &value)?);
                }
                None => return bad(format!("unknown parameter `{name}`")),
            },
        }
    }
    Ok(f)
}

fn instant(name: &str, value: &str) -> Result<i64, Error> {
    shared::instant::parse(&Value::String(value.to_owned())).ok_or_else(|| {
        Error::BadRequest(format!(
            "{name} must be RFC 3339 text or milliseconds since the Unix epoch, not `{value}`"
        ))
    })
}

/// `input.a.b=v`: keys of letters, digits, `_` and `-`; the value JSON when it parses.
fn input_match(name: &str, path: &str, value: &str) -> Result<InputMatch, Error> {
    let keys: Vec<String> = path.split('.').map(str::to_owned).collect();
    let key_ok = |k: &String| {
        !k.is_empty()
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    if keys.len() > MAX_PATH_KEYS || !keys.iter().all(key_ok) {
        return Err(Error::BadRequest(format!(
            "`{name}`: the path after `input.` is up to {MAX_PATH_KEYS} keys of letters, digits, `_` and `-`, joined by dots"
        )));
    }
    let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
    Ok(InputMatch { path: keys, value })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::read;

    fn q(pairs: &[(&str, &str)]) -> Result<crate::store::RunFilter, String> {
        read(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
        .map_err(|e| e.to_string())
    }

    #[test]
    fn input_values_are_json_when_they_parse_and_text_otherwise() {
        let f = q(&[
            ("input.amount", "42"),
            ("input.customer.id", "c-17"),
            ("input.code", "\"42\""),
            ("input.vip", "true"),
        ])
        .unwrap();
        let got: Vec<_> = f
            .input
            .iter()
            .map(|m| (m.path.join("/"), m.value.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("amount".into(), json!(42)),
                ("customer/id".into(), json!("c-17")),
                ("code".into(), json!("42")),
                ("vip".into(), json!(true)),
            ]
        );
    }

    #[test]
    fn each_mistake_names_its_parameter() {
        for (pairs, says) in [
            (vec![("input.a..b", "1")], "input.a..b"),
            (vec![("input.a b", "1")], "input.a b"),
            (vec![("needs", "robot")], "needs must be `person`"),
            (vec![("test", "yes")], "test must be `true` or `false`"),
            (
                vec![("created_after", "yesterday")],
                "created_after must be RFC 3339",
            ),
            (vec![("limit", "0")], "limit must be between 1 and 500"),
            (vec![("id_prefix", "")], "id_prefix must be 1 to"),
            (vec![("sort", "x")], "unknown parameter `sort`"),
            (vec![("status", "stuck")], "unknown status `stuck`"),
        ] {
            let err = q(&pairs).unwrap_err();
            assert!(err.contains(says), "{pairs:?}: {err}");
        }
    }

    #[test]
    fn instants_and_needs_are_read() {
        let f = q(&[
            ("created_after", "1970-01-01T00:00:01Z"),
            ("created_before", "5000"),
            ("needs", "person"),
            ("id_prefix", "ord"),
        ])
        .unwrap();
        assert_eq!(
            (f.created_after, f.created_before),
            (Some(1000), Some(5000))
        );
        assert!(f.needs_person);
        assert_eq!(f.id_prefix.as_deref(), Some("ord"));
    }
}
