//! Merging the model's text with the report: which finding it names as the
//! root cause, which it refers to, and which code-like names it cited that
//! are not findings of this report (flagged, never shown as fact).

use std::sync::LazyLock;

use regex::Regex;

use crate::report::{Explanation, Report};

static ROOT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?im)^[\s>*#_-]*root[ _-]?cause\W{0,4}:\s*[`*_]*([a-z0-9]+(?:-[a-z0-9]+)*)")
        .expect("static regex")
});
/// Words shaped like finding codes (`expired`, `kid-not-found`); only those
/// in the registry count.
static CODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b([a-z0-9]+(?:-[a-z0-9]+){0,5})\b").expect("static regex"));

pub fn explanation(report: &Report, model: &str, text: &str, cached: bool) -> Explanation {
    let in_report = |c: &str| report.findings.iter().any(|f| f.code() == c);
    let known = |c: &str| crate::checks::spec(c).is_some();
    let mut referenced: Vec<String> = Vec::new();
    let mut unverified: Vec<String> = Vec::new();
    for cap in CODE.captures_iter(text) {
        let Some(code) = cap.get(1).map(|m| m.as_str()) else {
            continue;
        };
        if in_report(code) {
            if !referenced.iter().any(|c| c == code) {
                referenced.push(code.to_string());
            }
        } else if known(code) && !unverified.iter().any(|c| c == code) {
            // A real finding code that this report does not contain.
            unverified.push(code.to_string());
        }
    }
    let root = ROOT
        .captures(text)
        .and_then(|c| c.get(1).or_else(|| c.get(2)))
        .map(|m| m.as_str().to_string());
    let root_cause_code = match root {
        Some(code) if in_report(&code) => Some(code),
        // Only a name shaped like a code is a claim worth flagging ("the" is not).
        Some(code) if code != "none" && (known(&code) || code.contains('-')) => {
            if !unverified.contains(&code) {
                unverified.push(code);
            }
            None
        }
        _ => None,
    };
    Explanation {
        model: model.to_string(),
        text: text.to_string(),
        root_cause_code,
        referenced_codes: referenced,
        unverified_codes: unverified,
        cached,
        incomplete: None,
    }
}
