//! Human output: verdict, the root cause, findings grouped by severity, then
//! the token. Colour only when asked for (a terminal, `--color always`).

use std::fmt::Write;

use owo_colors::{OwoColorize, Style};
use serde_json::Value;

use crate::findings::{Finding, Severity};
use crate::report::{Report, TokenView, Verdict};

/// Styling that is a no-op when colour is off (shared by every human renderer).
pub(crate) struct Paint {
    pub(crate) on: bool,
}

impl Paint {
    pub(crate) fn style(&self, s: &str, style: Style) -> String {
        if self.on {
            s.style(style).to_string()
        } else {
            s.to_string()
        }
    }
    pub(crate) fn sev(&self, sev: Severity, s: &str) -> String {
        let style = match sev {
            Severity::Error => Style::new().red().bold(),
            Severity::Warning => Style::new().yellow().bold(),
            Severity::Info => Style::new().cyan(),
        };
        self.style(s, style)
    }
    pub(crate) fn dim(&self, s: &str) -> String {
        self.style(s, Style::new().dimmed())
    }
    pub(crate) fn bold(&self, s: &str) -> String {
        self.style(s, Style::new().bold())
    }
}

pub(crate) fn mark(sev: Severity) -> &'static str {
    match sev {
        Severity::Error => "✗",
        Severity::Warning => "!",
        Severity::Info => "•",
    }
}

pub fn report(r: &Report, color: bool) -> String {
    let p = Paint { on: color };
    let mut out = String::new();
    let (errors, warnings, infos) = (
        r.count(Severity::Error),
        r.count(Severity::Warning),
        r.count(Severity::Info),
    );
    let verdict = match r.verdict {
        Verdict::Rejected => p.sev(Severity::Error, "REJECTED"),
        Verdict::Accepted => p.style("ACCEPTED", Style::new().green().bold()),
        Verdict::Unverified => p.sev(Severity::Warning, "UNVERIFIED"),
    };
    let _ = writeln!(
        out,
        "{verdict}  {errors} error(s), {warnings} warning(s), {infos} info  {}",
        p.dim(&format!("(judged at {})", crate::clock::utc(r.now)))
    );
    match (r.verdict, r.root_cause()) {
        (_, Some(root)) => {
            let _ = writeln!(
                out,
                "\n{} {} — {}",
                p.bold("Root cause:"),
                p.sev(Severity::Error, root.code()),
                root.spec.title
            );
        }
        (Verdict::Unverified, None) if r.token.kind == crate::token::Kind::Jwe => {
            let _ = writeln!(
                out,
                "\nThe token is encrypted (JWE): only its header can be read, so neither its claims nor any signature inside were checked."
            );
        }
        (Verdict::Unverified, None) => {
            // Keys were given (the finding names them) or the algorithm is
            // one jwtai cannot verify: asking for a key would mislead.
            let keys_given = r.findings.iter().any(|f| {
                f.code() == "signature-not-checked"
                    && ["keys", "untried", "alg", "curve"]
                        .iter()
                        .any(|k| f.evidence.get(k).is_some())
            });
            let _ = writeln!(
                out,
                "\n{}",
                if keys_given {
                    "No error found, but the signature was not checked: see signature-not-checked below."
                } else {
                    "No error found, but the signature was not checked: pass --secret-file, --key or --jwks-uri to verify it."
                }
            );
        }
        _ => {}
    }

    for (sev, heading) in [
        (Severity::Error, "Errors"),
        (Severity::Warning, "Warnings"),
        (Severity::Info, "Info"),
    ] {
        let group: Vec<&Finding> = r.findings.iter().filter(|f| f.severity() == sev).collect();
        if group.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{}", p.bold(heading));
        for f in group {
            let _ = writeln!(
                out,
                "  {} {}  {}",
                p.sev(sev, mark(sev)),
                p.sev(sev, f.code()),
                f.spec.title
            );
            let _ = writeln!(out, "      {}", f.detail);
            if sev != Severity::Info || f.fix.is_some() {
                let _ = writeln!(out, "      {} {}", p.bold("fix:"), f.fix_text());
            }
        }
    }
    out.push('\n');
    token(&mut out, &r.token, r.now, &p);
    out
}

/// The line printed before the model's text.
pub fn explanation_heading(model: &str, color: bool) -> String {
    let p = Paint { on: color };
    format!(
        "{} {}\n",
        p.bold("Explanation"),
        p.dim(&format!(
            "(model {model}, from the redacted report; the findings above are authoritative)"
        ))
    )
}

/// What follows the model's text: its root cause, and codes it cited that
/// this report does not contain.
pub fn explanation_footer(e: &crate::report::Explanation, color: bool) -> String {
    let p = Paint { on: color };
    let mut out = String::from("\n");
    if !e.text.ends_with('\n') {
        out.push('\n');
    }
    if let Some(why) = &e.incomplete {
        out.push_str(&format!(
            "{} the answer is incomplete: {why}.\n",
            p.sev(Severity::Warning, "!")
        ));
    }
    match &e.root_cause_code {
        Some(code) => out.push_str(&format!(
            "{} `{code}` (a finding of this report)\n",
            p.bold("Model's root cause:")
        )),
        None => out.push_str(&format!(
            "{}\n",
            p.dim("The model named no root-cause finding of this report.")
        )),
    }
    for code in &e.unverified_codes {
        out.push_str(&format!(
            "{} the model cited `{code}`, which is not a finding of this report: unverified.\n",
            p.sev(Severity::Warning, "!")
        ));
    }
    if e.cached {
        out.push_str(&format!(
            "{}\n",
            p.dim("(answer from the response cache; --no-cache asks again)")
        ));
    }
    out
}

/// The token section, shared with `jwtai decode`.
pub fn token_section(t: &TokenView, now: i64, color: bool) -> String {
    let mut out = String::new();
    token(&mut out, t, now, &Paint { on: color });
    out
}

fn token(out: &mut String, t: &TokenView, now: i64, p: &Paint) {
    let _ = writeln!(
        out,
        "{} {}",
        p.bold("Token"),
        p.dim(&format!("({}, {} bytes)", t.kind.as_str(), t.length))
    );
    match &t.header {
        Some(h) => {
            let _ = writeln!(out, "  header     {}", Value::Object(h.clone()));
        }
        None => {
            let _ = writeln!(out, "  header     (not decodable)");
        }
    }
    match &t.claims {
        Some(c) if c.is_empty() => {
            let _ = writeln!(out, "  claims     {{}}");
        }
        Some(c) => {
            let _ = writeln!(out, "  claims");
            let width = c
                .keys()
                .map(|k| k.chars().count())
                .max()
                .unwrap_or(0)
                .min(24);
            for (k, v) in c {
                let mut line = format!("    {k:<width$}  {}", short(v));
                if let Some(note) = super::time_note(k, v, now) {
                    line.push_str(&format!("  {}", p.dim(&format!("({note})"))));
                }
                let _ = writeln!(out, "{line}");
            }
        }
        None if t.kind == crate::token::Kind::Jwe => {
            let _ = writeln!(out, "  claims     (encrypted)");
        }
        None => {
            let _ = writeln!(out, "  claims     (not decodable)");
        }
    }
    let sig = if t.signature.present {
        format!("{} bytes (not shown)", t.signature.bytes)
    } else {
        "absent".to_string()
    };
    let _ = writeln!(out, "  signature  {sig}");
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 160 {
        format!(
            "{}… ({} bytes)",
            s.chars().take(150).collect::<String>(),
            s.len()
        )
    } else {
        s
    }
}
