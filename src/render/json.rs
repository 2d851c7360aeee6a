//! `--format json`: the `jwtai.report/v1` schema of `cli.md`, plus additive fields
//! (`now`, `summary`, `root_cause`) that scripts may use.

use serde_json::{Value, json};

use crate::findings::{Finding, Severity};
use crate::report::{Report, TokenView};

pub const SCHEMA: &str = "jwtai.report/v1";

pub fn finding(f: &Finding) -> Value {
    json!({
        "code": f.code(),
        "severity": f.severity(),
        "title": f.spec.title,
        "detail": f.detail,
        "fix": f.fix_text(),
        "evidence": f.evidence,
    })
}

/// The report's view of the token: header, claims, signature summary.
pub fn token(t: &TokenView) -> Value {
    json!({
        "kind": t.kind.as_str(),
        "length": t.length,
        "header": t.header,
        "claims": t.claims,
        "signature": {"present": t.signature.present, "bytes": t.signature.bytes},
    })
}

pub fn value(r: &Report) -> Value {
    json!({
        "schema": SCHEMA,
        "token": token(&r.token),
        "findings": r.findings.iter().map(finding).collect::<Vec<_>>(),
        "verdict": r.verdict.as_str(),
        "root_cause": r.root_cause().map(Finding::code),
        "summary": {
            "errors": r.count(Severity::Error),
            "warnings": r.count(Severity::Warning),
            "infos": r.count(Severity::Info),
        },
        "now": r.now,
        "explanation": r.explanation.as_ref().map(|e| json!({
            "model": e.model,
            "text": e.text,
            "root_cause_code": e.root_cause_code,
            "referenced_codes": e.referenced_codes,
            "unverified_codes": e.unverified_codes,
            "cached": e.cached,
        })),
    })
}

pub fn report(r: &Report) -> String {
    let mut s = serde_json::to_string_pretty(&value(r)).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}
