//! JSON parsing of the header and payload that notices what `serde_json::Value`
//! hides: duplicate member names (parsers disagree which one wins) and where
//! and why a broken object breaks.
//!
//! Hostile input is bounded here: at most [`MAX_MEMBERS`] members in the
//! object and serde_json's nesting limit of [`MAX_DEPTH`] levels, each
//! reported as an issue of its own rather than a generic syntax error.

use std::collections::HashSet;
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

/// Most members read from one header or payload. Real ones have a few dozen;
/// past this the object is refused (`invalid-json`), which bounds the work of
/// every check and of redaction.
pub const MAX_MEMBERS: usize = 10_000;

/// Deepest nesting of arrays and objects that parses: serde_json stops at
/// its recursion limit (128), before it could overflow the stack.
pub const MAX_DEPTH: usize = 127;

/// The custom error `visit_map` returns past [`MAX_MEMBERS`].
const TOO_MANY_MEMBERS: &str = "jwtai: too many members";

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
    /// Arrays and objects nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// More than [`MAX_MEMBERS`] members.
    TooManyMembers,
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
            JsonIssue::TooDeep => write!(
                f,
                "JSON is nested too deep: more than {MAX_DEPTH} levels of arrays and objects, the most a JSON parser such as serde_json accepts (real claims nest a few levels)"
            ),
            JsonIssue::TooManyMembers => write!(
                f,
                "JSON object has more than {MAX_MEMBERS} members; jwtai reads at most {MAX_MEMBERS} (a real header or payload has a few dozen)"
            ),
        }
    }
}

/// Member lookup by name in a header or claims map, by comparing names
/// when the object is small (as headers and payloads are): cheaper than
/// hashing the name with the map's SipHash, and checks look up dozens of
/// names per token. Same answers as `get` / `contains_key`: the names of a
/// map are unique.
pub trait Members {
    fn member(&self, name: &str) -> Option<&Value>;

    fn has(&self, name: &str) -> bool {
        self.member(name).is_some()
    }
}

/// Largest object searched by comparing names.
const LINEAR_MEMBERS: usize = 16;

impl Members for Map<String, Value> {
    fn member(&self, name: &str) -> Option<&Value> {
        if self.len() <= LINEAR_MEMBERS {
            self.iter().find_map(|(k, v)| (k == name).then_some(v))
        } else {
            self.get(name)
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
                // Room for a typical header or payload up front: growing
                // the map member by member reallocates it several times.
                let mut obj = Object {
                    map: Map::with_capacity(16),
                    duplicates: Vec::new(),
                };
                let mut members = 0usize;
                // Names already listed as duplicates: a set, so that many
                // repeated names stay linear.
                let mut listed = HashSet::new();
                while let Some(key) = access.next_key::<String>()? {
                    members += 1;
                    if members > MAX_MEMBERS {
                        return Err(de::Error::custom(TOO_MANY_MEMBERS));
                    }
                    let value: Value = access.next_value()?;
                    match obj.map.entry(key) {
                        // Last wins, in the first one's place (as `insert` does).
                        serde_json::map::Entry::Occupied(mut seen) => {
                            seen.insert(value);
                            if listed.insert(seen.key().clone()) {
                                obj.duplicates.push(seen.key().clone());
                            }
                        }
                        serde_json::map::Entry::Vacant(slot) => {
                            slot.insert(value);
                        }
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
    let message = e.to_string();
    if message.starts_with("recursion limit exceeded") {
        return JsonIssue::TooDeep;
    }
    if message.starts_with(TOO_MANY_MEMBERS) {
        return JsonIssue::TooManyMembers;
    }
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
    fn member_lookup_agrees_with_get_for_small_and_large_objects() {
        for size in [0, 1, LINEAR_MEMBERS, LINEAR_MEMBERS + 1, 40] {
            let text = format!(
                "{{{}}}",
                (0..size)
                    .map(|i| format!("\"m{i}\": {i}"))
                    .collect::<Vec<_>>()
                    .join(",")
            );
            let obj = parse_object(text.as_bytes()).unwrap();
            for name in (0..size + 2)
                .map(|i| format!("m{i}"))
                .chain(["".into(), "m".into()])
            {
                assert_eq!(
                    obj.map.member(&name),
                    obj.map.get(&name),
                    "{name} of {size}"
                );
                assert_eq!(obj.map.has(&name), obj.map.contains_key(&name));
            }
        }
    }

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
        assert_eq!(
            parse_object(deep.as_bytes()).unwrap_err(),
            JsonIssue::TooDeep
        );
        assert!(JsonIssue::TooDeep.to_string().contains("nested too deep"));
    }

    #[test]
    fn nesting_up_to_the_limit_parses() {
        // The object itself is one level.
        let nested = |n: usize| format!("{{\"a\":{}{}}}", "[".repeat(n), "]".repeat(n));
        assert!(parse_object(nested(MAX_DEPTH - 1).as_bytes()).is_ok());
        assert_eq!(
            parse_object(nested(MAX_DEPTH).as_bytes()).unwrap_err(),
            JsonIssue::TooDeep
        );
    }

    #[test]
    fn member_cap() {
        let object = |n: usize| {
            let members: Vec<String> = (0..n).map(|i| format!("\"c{i}\":0")).collect();
            format!("{{{}}}", members.join(","))
        };
        assert_eq!(
            parse_object(object(MAX_MEMBERS).as_bytes())
                .unwrap()
                .map
                .len(),
            MAX_MEMBERS
        );
        assert_eq!(
            parse_object(object(MAX_MEMBERS + 1).as_bytes()).unwrap_err(),
            JsonIssue::TooManyMembers
        );
    }

    #[test]
    fn many_repeated_names_are_listed_once_each() {
        let members: Vec<String> = (0..3000).map(|i| format!("\"{}\":0", i % 1000)).collect();
        let o = parse_object(format!("{{{}}}", members.join(",")).as_bytes()).unwrap();
        assert_eq!(o.duplicates.len(), 1000);
        assert_eq!(o.duplicates[0], "0");
    }
}
