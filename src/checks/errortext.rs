//! Error text: the message the user's library printed (`--error`), matched
//! against the knowledge base, and weighed against this token's findings.
//!
//! Runs after every other family, because its main job is to say whether
//! jwtai's own findings explain the error — and when they do not, that the
//! server saw a different token or a different clock.

use serde_json::json;

use super::Context;
use crate::errortext::{ErrorMatch, Topic};
use crate::findings::{Finding, Severity, Severity::*, Spec};

pub static ERROR_TEXT_MATCHED: Spec = Spec {
    code: "error-text-matched",
    severity: Info,
    title: "Error message recognised",
    doc: "The `--error` text matches a known message of a JWT library; jwtai names the library, what the message means and which findings explain it.",
    fix: "Fix the findings listed as explaining the error; if none does, compare the token and clock the server actually saw with the ones given here.",
    rank: 0,
};
pub static ERROR_TEXT_UNKNOWN: Spec = Spec {
    code: "error-text-unknown",
    severity: Info,
    title: "Error message not recognised",
    doc: "The `--error` text matches no message in jwtai's knowledge base. The findings come from the token alone; no guess is made about what the message means.",
    fix: "Paste the library's exact message (the first line of the exception, not a wrapper), or diagnose from the findings.",
    rank: 0,
};

pub static SPECS: &[&Spec] = &[&ERROR_TEXT_MATCHED, &ERROR_TEXT_UNKNOWN];

/// The user's error text, matched; plain data from `run`.
#[derive(Debug, Default)]
pub struct ErrorText {
    /// The text as the user gave it (only ever sent after `Redacted::text`).
    pub text: Option<String>,
    pub given: bool,
    pub matches: Vec<ErrorMatch>,
    /// Expectations taken from the message, e.g. "--aud https://api (from the error text)".
    pub applied: Vec<String>,
}

impl ErrorText {
    /// The codes the best match says explain the error (for ranking).
    pub fn explaining_codes(&self) -> Vec<&str> {
        self.matches
            .first()
            .map(|m| m.codes().iter().map(String::as_str).collect())
            .unwrap_or_default()
    }
}

pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let e = ctx.error;
    if !e.given {
        return;
    }
    let Some(best) = e.matches.first() else {
        out.push(Finding::new(
            &ERROR_TEXT_UNKNOWN,
            "jwtai does not recognise this error message; the findings below come from the token alone.",
        ));
        return;
    };
    let entry = best.entry;
    let present: Vec<&Finding> = out
        .iter()
        .filter(|f| best.codes().iter().any(|c| c == f.code()))
        .collect();
    let mut detail = format!(
        "{} says \"{}\": {}",
        entry.library,
        clip(&best.matched_text, 160),
        entry.meaning
    );
    let explaining: Vec<&Finding> = present
        .iter()
        .copied()
        .filter(|f| f.severity() != Info || f.code() == "jwe-token")
        .collect();
    if !explaining.is_empty() {
        detail.push_str(&format!(
            " Explained by: {}.",
            explaining
                .iter()
                .map(|f| format!("`{}`", f.code()))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    } else if let Some(why) = disagreement(ctx, best, out) {
        detail.push(' ');
        detail.push_str(&why);
    }
    for note in different_token(ctx, best) {
        detail.push(' ');
        detail.push_str(&note);
    }
    if !e.applied.is_empty() {
        detail.push_str(&format!(
            " Expectations taken from the message: {}.",
            e.applied.join(", ")
        ));
    }
    for other in e.matches.iter().skip(1).take(3) {
        detail.push_str(&format!(
            " Also matched: {} \"{}\".",
            other.entry.library,
            clip(&other.matched_text, 80)
        ));
    }
    out.push(Finding::new(&ERROR_TEXT_MATCHED, detail).evidence(json!({
        "library": entry.library,
        "id": entry.id,
        "source": entry.source,
        "line": best.line,
        "codes": best.codes(),
        "explained_by": explaining.iter().map(|f| f.code()).collect::<Vec<_>>(),
    })));
}

/// Why the library's error and this token's findings disagree.
fn disagreement(ctx: &Context, m: &ErrorMatch, found: &[Finding]) -> Option<String> {
    let topic = m.entry.topic();
    let mut why = Vec::new();
    let now = crate::clock::utc(ctx.expect.now);
    match topic {
        Topic::Expiry | Topic::NotBefore | Topic::IssuedAt => why.push(format!(
            "But at now ({now}) this token has no such problem: the server's clock differs from this one (check NTP on the server, or pass --now with the time of the failure), or a different (older) token reached the server."
        )),
        Topic::Audience | Topic::Issuer if ctx.expect.aud.is_empty() && ctx.expect.iss.is_empty() => why.push(
            "Pass the expected value (--aud / --iss) to compare; the message quotes none.".to_string(),
        ),
        Topic::Audience | Topic::Issuer => why.push(
            "But this token matches the expected value given: the server is configured with another value than you think, or a different token reached it.".to_string(),
        ),
        Topic::Signature | Topic::Kid | Topic::Algorithm | Topic::Key
            if !found.iter().any(|f| f.code() == "signature-valid") =>
        {
            why.push("Pass the key the server uses (--secret-file, --key, --jwks-uri) so jwtai can check the signature.".to_string())
        }
        Topic::Other => {}
        _ => why.push("But jwtai finds no such problem in this token: a different token, or a different configuration than the flags given, reached the server.".to_string()),
    }
    if found.iter().all(|f| f.severity() != Severity::Error) && why.is_empty() {
        return None;
    }
    Some(why.join(" "))
}

/// Values the message quotes *from the token* that this token does not have:
/// the server saw a different token.
fn different_token(ctx: &Context, m: &ErrorMatch) -> Vec<String> {
    let mut notes = Vec::new();
    let x = &m.expected;
    if let Some(c) = ctx.token.claims() {
        let token_aud: Vec<String> = c.get("aud").map(super::strings).unwrap_or_default();
        if !x.found_aud.is_empty() && !x.found_aud.iter().any(|a| token_aud.contains(a)) {
            notes.push(format!(
                "The message quotes the token audience {} but this token's is {}: the server saw a different token.",
                x.found_aud.join(", "),
                if token_aud.is_empty() { "absent".to_string() } else { token_aud.join(", ") }
            ));
        }
        let token_iss = c.get("iss").and_then(|v| v.as_str());
        if !x.found_iss.is_empty() && !x.found_iss.iter().any(|i| Some(i.as_str()) == token_iss) {
            notes.push(format!(
                "The message quotes the token issuer {} but this token's is {}: the server saw a different token.",
                x.found_iss.join(", "),
                token_iss.unwrap_or("absent")
            ));
        }
    }
    if let (Some(quoted), token_kid) = (x.kid.as_deref(), ctx.token.kid()) {
        if Some(quoted) != token_kid {
            notes.push(format!(
                "The message is about kid \"{quoted}\" but this token's kid is {}: the server saw a different token.",
                token_kid.map_or("absent".to_string(), |k| format!("\"{k}\""))
            ));
        }
    }
    notes
}

fn clip(s: &str, n: usize) -> String {
    let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > n {
        format!("{}…", one_line.chars().take(n).collect::<String>())
    } else {
        one_line
    }
}
