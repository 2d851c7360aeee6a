//! The name of a JSON value's type, for messages: one wording wherever a
//! claim, a header member or a JWK member has the wrong type.

use serde_json::Value;

/// `"null"`, `"boolean"`, `"number"`, `"string"`, `"array"` or `"object"`.
pub fn name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The same with its article, to follow "is": `"null"`, `"a JSON number"`.
pub fn phrase(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a JSON boolean",
        Value::Number(_) => "a JSON number",
        Value::String(_) => "a JSON string",
        Value::Array(_) => "a JSON array",
        Value::Object(_) => "a JSON object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn names_and_phrases_agree() {
        for (v, n, p) in [
            (json!(null), "null", "null"),
            (json!(true), "boolean", "a JSON boolean"),
            (json!(1), "number", "a JSON number"),
            (json!("x"), "string", "a JSON string"),
            (json!([]), "array", "a JSON array"),
            (json!({}), "object", "a JSON object"),
        ] {
            assert_eq!((super::name(&v), super::phrase(&v)), (n, p));
        }
    }
}
