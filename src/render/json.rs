//! `--format json`: the `jwtai.report/v1` schema of `cli.md`, plus additive fields
//! (`now`, `summary`, `root_cause`) that scripts may use.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::findings::{Finding, Severity};
use crate::report::{Explanation, Report, TokenView};

pub const SCHEMA: &str = "jwtai.report/v1";

// The schema as borrowing structs: a report serialises straight to text
// (`scan --format json` writes one per token) without first being copied
// into a `Value`. Field order is output order.

#[derive(Serialize)]
struct FindingOut<'a> {
    code: &'static str,
    severity: Severity,
    title: &'static str,
    detail: &'a str,
    fix: &'a str,
    evidence: &'a Value,
}

impl<'a> FindingOut<'a> {
    fn of(f: &'a Finding) -> Self {
        FindingOut {
            code: f.code(),
            severity: f.severity(),
            title: f.spec.title,
            detail: &f.detail,
            fix: f.fix_text(),
            evidence: &f.evidence,
        }
    }
}

#[derive(Serialize)]
struct TokenOut<'a> {
    kind: &'static str,
    length: usize,
    header: &'a Option<Map<String, Value>>,
    claims: &'a Option<Map<String, Value>>,
    signature: SignatureOut,
}

#[derive(Serialize)]
struct SignatureOut {
    present: bool,
    bytes: usize,
}

impl<'a> TokenOut<'a> {
    fn of(t: &'a TokenView) -> Self {
        TokenOut {
            kind: t.kind.as_str(),
            length: t.length,
            header: &t.header,
            claims: &t.claims,
            signature: SignatureOut {
                present: t.signature.present,
                bytes: t.signature.bytes,
            },
        }
    }
}

#[derive(Serialize)]
struct Counts {
    errors: usize,
    warnings: usize,
    infos: usize,
}

#[derive(Serialize)]
struct ExplanationOut<'a> {
    model: &'a str,
    text: &'a str,
    root_cause_code: &'a Option<String>,
    referenced_codes: &'a [String],
    unverified_codes: &'a [String],
    cached: bool,
    /// Why the text is not the whole answer; null when it is.
    incomplete: &'a Option<String>,
}

#[derive(Serialize)]
struct ReportOut<'a> {
    schema: &'static str,
    token: TokenOut<'a>,
    findings: Vec<FindingOut<'a>>,
    verdict: &'static str,
    root_cause: Option<&'static str>,
    summary: Counts,
    now: i64,
    explanation: Option<ExplanationOut<'a>>,
    /// Only when `--explain` was asked and the model call failed (then
    /// `explanation` is null): what failed. Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    explanation_error: Option<&'a str>,
    /// `scan --format json` of several logs: the log of the report's first line.
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
    /// `scan --format json`: the report's first line in the log.
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u64>,
}

impl<'a> ReportOut<'a> {
    fn of(r: &'a Report, file: Option<&'a str>, line: Option<u64>) -> Self {
        ReportOut {
            file,
            schema: SCHEMA,
            token: TokenOut::of(&r.token),
            findings: r.findings.iter().map(FindingOut::of).collect(),
            verdict: r.verdict.as_str(),
            root_cause: r.root_cause().map(Finding::code),
            summary: Counts {
                errors: r.count(Severity::Error),
                warnings: r.count(Severity::Warning),
                infos: r.count(Severity::Info),
            },
            now: r.now,
            explanation: r
                .explanation
                .as_ref()
                .map(|e: &'a Explanation| ExplanationOut {
                    model: &e.model,
                    text: &e.text,
                    root_cause_code: &e.root_cause_code,
                    referenced_codes: &e.referenced_codes,
                    unverified_codes: &e.unverified_codes,
                    cached: e.cached,
                    incomplete: &e.incomplete,
                }),
            explanation_error: None,
            line,
        }
    }
}

/// As JSON values; serialising these borrowing structs cannot fail (every
/// map key is a string), `Null` only stands in for the impossible.
fn to_value(v: impl Serialize) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// One finding as a report lists it (`scan`'s findings of the whole run).
pub fn finding(f: &Finding) -> Value {
    to_value(FindingOut::of(f))
}

/// The report's view of the token: header, claims, signature summary.
pub fn token(t: &TokenView) -> Value {
    to_value(TokenOut::of(t))
}

pub fn value(r: &Report) -> Value {
    to_value(ReportOut::of(r, None, None))
}

/// One report as a line of compact JSON with its log line number, and the
/// log's name when a scan reads several (`scan --format json`), written
/// straight from the report.
pub fn line(r: &Report, file: Option<&str>, line: u64) -> String {
    let mut text = serde_json::to_string(&ReportOut::of(r, file, Some(line))).unwrap_or_default();
    text.push('\n');
    text
}

pub fn report(r: &Report) -> String {
    report_with_error(r, None)
}

/// The report of a `--explain` whose model call failed: `explanation` null,
/// `explanation_error` saying why (so a script tells "failed" from "not asked").
pub fn report_with_error(r: &Report, explanation_error: Option<&str>) -> String {
    let mut out = ReportOut::of(r, None, None);
    out.explanation_error = explanation_error;
    let mut s = serde_json::to_string_pretty(&out).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::{Expectations, Keys, errortext::ErrorText};
    use crate::report::Explanation;
    use crate::sign::{SigningKey, sign_token};
    use serde_json::json;

    /// A report with findings of every severity, claims, and an explanation.
    fn report() -> Report {
        let key = SigningKey::generate(crate::alg::Alg::HS256).unwrap();
        let token = sign_token(
            &json!({"alg": "HS256", "typ": "JWT", "kid": "k1"}),
            &json!({"iss": "https://a.example/", "aud": ["x", "y"], "exp": 1, "nested": {"n": [1, 2.5, null]}}),
            &key,
        )
        .unwrap();
        let expect = Expectations {
            aud: vec!["z".into()],
            max_age: None,
            typ: None,
            crit: Vec::new(),
            now: 1_767_225_600,
            ..Default::default()
        };
        let mut r = crate::pipeline::diagnose(
            &crate::pipeline::parse(&token),
            &expect,
            &Keys::default(),
            &ErrorText::default(),
        );
        r.explanation = Some(Explanation {
            model: "m".into(),
            text: "t \"quoted\"\n".into(),
            root_cause_code: Some("token-expired".into()),
            referenced_codes: vec!["token-expired".into()],
            unverified_codes: vec![],
            cached: true,
            incomplete: None,
        });
        r
    }

    #[test]
    fn a_scan_line_is_the_report_value_with_its_line_last() {
        let r = report();
        assert!(r.findings.len() > 1);
        let mut want = value(&r);
        want.as_object_mut()
            .unwrap()
            .insert("line".into(), 42.into());
        let text = line(&r, None, 42);
        assert_eq!(text, format!("{}\n", serde_json::to_string(&want).unwrap()));
        // With several logs, the file comes before its line.
        let mut named = want.clone();
        let m = named.as_object_mut().unwrap();
        m.remove("line");
        m.insert("file".into(), "access.log.1".into());
        m.insert("line".into(), 42.into());
        assert_eq!(
            line(&r, Some("access.log.1"), 42),
            format!("{}\n", serde_json::to_string(&named).unwrap())
        );
        assert_eq!(want["schema"], SCHEMA);
        assert_eq!(want["token"]["claims"]["aud"], json!(["x", "y"]));
        assert_eq!(want["explanation"]["cached"], true);
        let first = &r.findings[0];
        assert_eq!(want["findings"][0]["code"], first.code());
        assert_eq!(want["findings"][0]["detail"], first.detail.as_str());
        assert_eq!(want["findings"][0]["fix"], first.fix_text());
        assert_eq!(want["findings"][0]["evidence"], first.evidence);
        // The schema's member order, as `jwtai.report/v1` has always printed it.
        let names = |v: &Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
        assert_eq!(
            names(&want),
            [
                "schema",
                "token",
                "findings",
                "verdict",
                "root_cause",
                "summary",
                "now",
                "explanation",
                "line"
            ]
        );
        assert_eq!(
            names(&want["findings"][0]),
            ["code", "severity", "title", "detail", "fix", "evidence"]
        );
    }
}
