//! JSON parsing of the header and payload that notices what `serde_json::Value`
//! hides: duplicate member names (parsers disagree which one wins) and where
//! and why a broken object breaks.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use serde_json::{Map, Value};

/// A JSON object as the last-wins parsers (JavaScript, serde_json) read it,
/// plus the names that appeared more than once.
#[derive(Debug, Clone, Default)]
pub struct Object {
    pub map: Map<String, Value>,
    pub duplicates: Vec<String>,
}

/// Why a decoded segment is not a usable JSON object.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonIssue {
    /// The bytes are not UTF-8 text.
    NotText { offset: usize },
    /// The text ends before the object closes: the token was cut.
    EndsEarly { len: usize },
    /// A syntax error at this place.
    Syntax {
        line: usize,
        column: usize,
        message: String,
        hint: Option<&'static str>,
    },
    /// Valid JSON, but not an object.
    NotObject {
        found: &'static str,
        hint: Option<&'static str>,
    },
}

impl fmt::Display for JsonIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonIssue::NotText { offset } => {
                write!(
                    f,
                    "decodes to binary data, not UTF-8 text (first bad byte at offset {offset})"
                )
            }
            JsonIssue::EndsEarly { len } => write!(
                f,
                "JSON ends early after {len} bytes, before the object closes"
            ),
            JsonIssue::Syntax {
                line,
                column,
                message,
                hint,
            } => {
                write!(
                    f,
                    "JSON syntax error at line {line}, column {column}: {message}"
                )?;
                if let Some(h) = hint {
                    write!(f, " ({h})")?;
                }
                Ok(())
            }
            JsonIssue::NotObject { found, hint } => {
                write!(f, "decodes to a JSON {found}, not an object")?;
                if let Some(h) = hint {
                    write!(f, " ({h})")?;
                }
                Ok(())
            }
        }
    }
}

struct DupObject(Object);

impl<'de> Deserialize<'de> for DupObject {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DupObject;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<DupObject, A::Error> {
                let mut obj = Object::default();
                while let Some(key) = access.next_key::<String>()? {
                    let value: Value = access.next_value()?;
                    if obj.map.insert(key.clone(), value).is_some()
                        && !obj.duplicates.contains(&key)
                    {
                        obj.duplicates.push(key);
                    }
                }
                Ok(DupObject(obj))
            }
        }
        d.deserialize_map(V)
    }
}

/// Parses bytes as one JSON object, reporting duplicates and precise failures.
pub fn parse_object(bytes: &[u8]) -> Result<Object, JsonIssue> {
    let text = std::str::from_utf8(bytes).map_err(|e| JsonIssue::NotText {
        offset: e.valid_up_to(),
    })?;
    match serde_json::from_str::<DupObject>(text) {
        Ok(DupObject(obj)) => Ok(obj),
        Err(e) => Err(classify(text, &e)),
    }
}

fn classify(text: &str, e: &serde_json::Error) -> JsonIssue {
    use serde_json::error::Category;
    match e.classify() {
        Category::Eof if text.trim_start().starts_with('{') => {
            JsonIssue::EndsEarly { len: text.len() }
        }
        Category::Data => {
            let value: Option<Value> = serde_json::from_str(text).ok();
            let (found, hint) = match value {
                Some(Value::String(s)) if s.trim_start().starts_with('{') => (
                    "string",
                    Some(
                        "a JSON object encoded twice: the issuer serialised the claims to a string, then serialised that string",
                    ),
                ),
                Some(Value::String(_)) => ("string", None),
                Some(Value::Array(_)) => ("array", None),
                Some(Value::Number(_)) => ("number", None),
                Some(Value::Bool(_)) => ("boolean", None),
                Some(Value::Null) => ("null", None),
                Some(Value::Object(_)) | None => {
                    return JsonIssue::Syntax {
                        line: e.line(),
                        column: e.column(),
                        message: strip_position(&e.to_string()),
                        hint: None,
                    };
                }
            };
            JsonIssue::NotObject { found, hint }
        }
        _ => JsonIssue::Syntax {
            line: e.line(),
            column: e.column(),
            message: strip_position(&e.to_string()),
            hint: syntax_hint(text),
        },
    }
}

fn strip_position(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

fn syntax_hint(text: &str) -> Option<&'static str> {
    let t = text.trim_start();
    if t.starts_with("{'") || t.contains("': ") {
        Some(
            "single quotes: this is a Python dict printed with str()/repr(), not JSON; serialise with json.dumps()",
        )
    } else if t.contains(": True") || t.contains(": False") || t.contains(": None") {
        Some("True/False/None are Python literals, not JSON")
    } else if t.contains(",}") || t.contains(",]") {
        Some("trailing comma")
    } else if t.starts_with('{') && !t.contains('"') {
        Some("unquoted member names: JavaScript object syntax, not JSON; use JSON.stringify()")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_found_and_last_wins() {
        let o = parse_object(br#"{"role":"user","sub":"1","role":"admin"}"#).unwrap();
        assert_eq!(o.duplicates, vec!["role".to_string()]);
        assert_eq!(o.map["role"], "admin");
    }

    #[test]
    fn python_repr_is_a_syntax_error_with_hint() {
        let e = parse_object(b"{'iss': 'x', 'exp': 1}").unwrap_err();
        match e {
            JsonIssue::Syntax {
                line: 1,
                column: 2,
                hint: Some(h),
                ..
            } => assert!(h.contains("Python")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn cut_object_ends_early() {
        assert_eq!(
            parse_object(br#"{"iss":"https://a.example.co"#).unwrap_err(),
            JsonIssue::EndsEarly { len: 28 }
        );
    }

    #[test]
    fn double_encoded_and_non_objects() {
        let e = parse_object(br#""{\"sub\":\"1\"}""#).unwrap_err();
        assert!(matches!(
            e,
            JsonIssue::NotObject {
                found: "string",
                hint: Some(_)
            }
        ));
        assert!(matches!(
            parse_object(b"[1]").unwrap_err(),
            JsonIssue::NotObject { found: "array", .. }
        ));
        assert!(matches!(
            parse_object(b"\xff\xfe").unwrap_err(),
            JsonIssue::NotText { offset: 0 }
        ));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse_object(deep.as_bytes()).is_err());
    }
}
