//! `--format markdown`: a report to paste into a ticket or chat. Redacted like
//! every format, so it is safe to paste.

use std::fmt::Write;

use serde_json::Value;

use crate::findings::Severity;
use crate::report::Report;

pub fn report(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## jwtai diagnosis: **{}**\n", r.verdict.as_str());
    let _ = writeln!(
        out,
        "{} error(s), {} warning(s), {} info; time claims judged at {}.\n",
        r.count(Severity::Error),
        r.count(Severity::Warning),
        r.count(Severity::Info),
        crate::clock::utc(r.now)
    );
    if let Some(root) = r.root_cause() {
        let _ = writeln!(
            out,
            "**Root cause:** `{}` — {}\n",
            root.code(),
            root.spec.title
        );
    }
    if !r.findings.is_empty() {
        let _ = writeln!(out, "| severity | code | finding |\n|---|---|---|");
        for f in &r.findings {
            let _ = writeln!(
                out,
                "| {} | `{}` | {} |",
                f.severity().as_str(),
                f.code(),
                cell(f.spec.title)
            );
        }
        out.push('\n');
        for f in &r.findings {
            let _ = writeln!(out, "### `{}` ({})\n", f.code(), f.severity().as_str());
            let _ = writeln!(out, "{}\n", f.detail);
            let _ = writeln!(out, "**Fix:** {}\n", f.fix_text());
        }
    }
    if let Some(e) = &r.explanation {
        let _ = writeln!(
            out,
            "### Explanation (model {}, from the redacted report)\n",
            e.model
        );
        let _ = writeln!(out, "{}\n", e.text.trim());
        if let Some(why) = &e.incomplete {
            let _ = writeln!(out, "> **Incomplete answer:** {why}.\n");
        }
        if let Some(code) = &e.root_cause_code {
            let _ = writeln!(out, "Model's root cause: `{code}`.\n");
        }
        for code in &e.unverified_codes {
            let _ = writeln!(
                out,
                "> The model cited `{code}`, which is not a finding of this report: unverified.\n"
            );
        }
    }
    let _ = writeln!(
        out,
        "### Token ({}, {} bytes)\n",
        r.token.kind.as_str(),
        r.token.length
    );
    let view = serde_json::json!({
        "header": r.token.header,
        "claims": r.token.claims,
        "signature": {"present": r.token.signature.present, "bytes": r.token.signature.bytes},
    });
    let _ = writeln!(
        out,
        "```json\n{}\n```",
        serde_json::to_string_pretty(&view).unwrap_or_default()
    );
    if let Some(Value::Object(c)) = view.get("claims") {
        let notes: Vec<String> = c
            .iter()
            .filter_map(|(k, v)| super::time_note(k, v, r.now).map(|n| format!("- `{k}`: {n}")))
            .collect();
        if !notes.is_empty() {
            let _ = writeln!(out, "\n{}", notes.join("\n"));
        }
    }
    out
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}
