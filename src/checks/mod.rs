//! Checks: every deterministic rule of `findings.md`, one file per family.
//!
//! Each family file defines its [`Spec`]s next to the code that emits them and
//! exposes `SPECS` (for the registry) and `check` (to run). A check reads the
//! parsed token, the input wrappers and the expectations, and appends
//! findings; it never prints and never touches the network or disk.

pub mod claims;
pub mod errortext;
pub mod header;
pub mod idp;
pub mod jwks;
pub mod signature;
pub mod structure;
pub mod time;

use crate::findings::{Finding, Spec};
use crate::input::Wrapper;
use crate::keys::Candidate;
use crate::token::Token;

/// What the server expects, from the flags (and, later, the error text).
#[derive(Debug, Clone, Default)]
pub struct Expectations {
    pub algs: Vec<String>,
    pub iss: Vec<String>,
    pub aud: Vec<String>,
    pub require: Vec<String>,
    pub scopes: Vec<String>,
    pub claims: Vec<(String, String)>,
    pub leeway: i64,
    /// Largest token age (`now - iat`) the server accepts, seconds.
    pub max_age: Option<i64>,
    /// The `typ` header the server requires.
    pub typ: Option<String>,
    /// `crit` extensions the server implements.
    pub crit: Vec<String>,
    /// Evaluation instant, unix seconds.
    pub now: i64,
}

/// The key material gathered for this diagnosis, every candidate to try.
#[derive(Debug, Clone, Default)]
pub struct Keys {
    pub candidates: Vec<Candidate>,
    /// Some key source was given (even if it yielded nothing usable), so
    /// "no key given" is not the explanation.
    pub attempted: bool,
    /// Problems of keys in `--key` files (JWK Sets): source, problem.
    pub file_problems: Vec<(String, crate::keys::JwkProblem)>,
    /// What `--jwks-uri` / `--discover` fetched.
    pub remote: crate::jwks::Resolved,
    /// Why the remote key set that applies to this token is missing, when
    /// that was reported once for a whole run (`scan`) instead of as a
    /// finding of each token: the signature is then "not checked".
    pub unavailable: Option<String>,
}

impl Keys {
    /// Takes what `--jwks-uri` / `--discover` fetched: its keys become candidates.
    pub fn add_remote(&mut self, remote: crate::jwks::Resolved) {
        self.candidates.extend(remote.candidates());
        self.remote = remote;
    }
}

/// Everything a check may read.
pub struct Context<'a> {
    pub token: &'a Token,
    pub wrappers: &'a [Wrapper],
    pub expect: &'a Expectations,
    pub keys: &'a Keys,
    pub error: &'a errortext::ErrorText,
}

/// Every finding code jwtai can report, in catalogue order.
pub fn registry() -> impl Iterator<Item = &'static Spec> {
    [
        structure::SPECS,
        header::SPECS,
        signature::SPECS,
        time::SPECS,
        claims::SPECS,
        jwks::SPECS,
        errortext::SPECS,
    ]
    .into_iter()
    .flatten()
    .copied()
}

pub fn spec(code: &str) -> Option<&'static Spec> {
    registry().find(|s| s.code == code)
}

/// Runs every family and returns the findings in the order they were found.
pub fn run(ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    structure::check(ctx, &mut out);
    header::check(ctx, &mut out);
    signature::check(ctx, &mut out);
    time::check(ctx, &mut out);
    claims::check(ctx, &mut out);
    jwks::check(ctx, &mut out);
    // Last: it weighs the error text against everything found so far.
    errortext::check(ctx, &mut out);
    out
}

/// A claim that may be a string or an array of them (`aud`, `crit`, `scp`),
/// as strings; non-string members as their JSON text.
pub(crate) fn strings(v: &serde_json::Value) -> Vec<String> {
    let text = |v: &serde_json::Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
    match v {
        serde_json::Value::Array(a) => a.iter().map(text).collect(),
        other => vec![text(other)],
    }
}

/// Longest JSON text [`show`] quotes whole.
pub const SHOW_MAX_CHARS: usize = 120;
/// How many characters of a longer one it keeps: a string's opening quote
/// and its first `SHOW_CUT_CHARS - 1` characters. Redaction masks these
/// prefixes too (`redact`), since a cut value no longer matches whole.
pub const SHOW_CUT_CHARS: usize = 117;

/// Short, quoted rendering of a JSON value for details ("\"abc\"", "[1, 2]", "42").
pub(crate) fn show(v: &serde_json::Value) -> String {
    let s = v.to_string();
    if s.chars().count() > SHOW_MAX_CHARS {
        let cut: String = s.chars().take(SHOW_CUT_CHARS).collect();
        format!("{cut}...")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_kebab_case_and_documented() {
        let mut seen = HashSet::new();
        for s in registry() {
            assert!(seen.insert(s.code), "duplicate code {}", s.code);
            assert!(
                s.code
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{}",
                s.code
            );
            assert!(
                !s.title.is_empty() && !s.doc.is_empty() && !s.fix.is_empty(),
                "{}",
                s.code
            );
        }
    }
}
