//! Report: the findings ranked root-cause first, the verdict, and a view of the
//! token (header, claims, signature *summary*) — never the raw token or the
//! signature bytes. Everything after this stage (redaction, rendering, the
//! model) works from a `Report`.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::findings::{Finding, Severity};
use crate::token::{Kind, Token};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The signature verified and no finding is an error.
    Accepted,
    /// At least one error finding.
    Rejected,
    /// No error, but no key checked the signature.
    Unverified,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Accepted => "accepted",
            Verdict::Rejected => "rejected",
            Verdict::Unverified => "unverified",
        }
    }
}

#[derive(Debug, Clone)]
pub struct SignatureSummary {
    pub present: bool,
    pub bytes: usize,
}

#[derive(Debug, Clone)]
pub struct TokenView {
    pub kind: Kind,
    pub length: usize,
    pub header: Option<Map<String, Value>>,
    pub claims: Option<Map<String, Value>>,
    pub signature: SignatureSummary,
}

impl TokenView {
    /// The view of a token that is no longer needed: header and claims move
    /// in instead of being copied.
    pub fn take(token: Token) -> TokenView {
        let signature = SignatureSummary {
            present: token.signature.as_ref().is_some_and(|s| !s.is_empty()),
            bytes: token.signature.as_ref().map_or(0, Vec::len),
        };
        TokenView {
            kind: token.kind,
            length: token.len,
            header: token.header.and_then(|p| p.object).map(|o| o.map),
            claims: token.payload.and_then(|p| p.object).map(|o| o.map),
            signature,
        }
    }

    pub fn of(token: &Token) -> TokenView {
        TokenView {
            kind: token.kind,
            length: token.len,
            header: token.header_map().cloned(),
            claims: token.claims().cloned(),
            signature: SignatureSummary {
                present: token.signature.as_ref().is_some_and(|s| !s.is_empty()),
                bytes: token.signature.as_ref().map_or(0, Vec::len),
            },
        }
    }
}

/// The model's explanation, merged beside the findings (never replacing them).
#[derive(Debug, Clone, Default)]
pub struct Explanation {
    pub model: String,
    pub text: String,
    /// The finding code the model names as the root cause, if it is in the report.
    pub root_cause_code: Option<String>,
    /// Finding codes of this report the text refers to.
    pub referenced_codes: Vec<String>,
    /// Code-like names the model cited that are NOT findings of this report:
    /// flagged, never shown as fact.
    pub unverified_codes: Vec<String>,
    /// Served from the response cache, not a new call.
    pub cached: bool,
    /// Why the text is not the model's whole answer (its length limit, an
    /// error mid-stream, the size cap, a cut connection); `None` when whole.
    pub incomplete: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub token: TokenView,
    /// Ranked: errors first, most likely root cause first within a severity.
    pub findings: Vec<Finding>,
    pub verdict: Verdict,
    /// The instant time claims were judged at (unix seconds).
    pub now: i64,
    /// Filled by `--explain`.
    pub explanation: Option<Explanation>,
}

impl Report {
    /// Ranks the findings: errors first; within a severity, the ones that explain
    /// the user's error message (`explains`), then by root-cause rank.
    pub fn build(token: &Token, findings: Vec<Finding>, now: i64, explains: &[&str]) -> Report {
        Report::rank(TokenView::of(token), findings, now, explains)
    }

    /// [`Report::build`] from the token's view, e.g. [`TokenView::take`].
    pub fn rank(
        token: TokenView,
        mut findings: Vec<Finding>,
        now: i64,
        explains: &[&str],
    ) -> Report {
        // Details and fixes quote the token's values: a control character
        // in them (ESC of a terminal sequence, a line break) is written as
        // an escape, so printing a report cannot clear, restyle or forge
        // lines of the terminal or log it goes to.
        for f in &mut findings {
            if let Cow::Owned(s) = crate::untrusted::one_line(&f.detail) {
                f.detail = s;
            }
            if let Some(Cow::Owned(s)) = f.fix.as_deref().map(crate::untrusted::one_line) {
                f.fix = Some(s);
            }
        }
        // Stable: equal-ranked findings keep the order the checks found them in.
        findings.sort_by_key(|f| {
            (
                std::cmp::Reverse(f.severity()),
                !explains.contains(&f.code()),
                f.secondary,
                f.spec.rank,
            )
        });
        let verdict = if findings.iter().any(|f| f.severity() == Severity::Error) {
            Verdict::Rejected
        } else if findings.iter().any(|f| f.code() == "signature-valid") {
            Verdict::Accepted
        } else {
            Verdict::Unverified
        };
        Report {
            token,
            findings,
            verdict,
            now,
            explanation: None,
        }
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity() == severity)
            .count()
    }

    /// The most likely root cause: the top-ranked error, if any.
    pub fn root_cause(&self) -> Option<&Finding> {
        self.findings
            .first()
            .filter(|f| f.severity() == Severity::Error)
    }

    pub fn has_errors(&self) -> bool {
        self.verdict == Verdict::Rejected
    }
}
