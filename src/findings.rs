//! Findings: the unit of diagnosis every check produces.
//!
//! A [`Spec`] is the definition of one stable finding code (code, severity, title,
//! docs, default fix). Specs are written next to the check that emits them
//! (`checks/<family>.rs`) and collected in one registry (`checks::REGISTRY`), so a
//! code is defined exactly once. A [`Finding`] is one occurrence in one report:
//! the spec plus the evidence from this token.

use serde::Serialize;
use serde_json::Value;

/// How bad a finding is. Ordered so that `Error > Warning > Info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// The definition of a finding code. Written once, next to its check.
#[derive(Debug)]
pub struct Spec {
    /// Stable kebab-case code; never renamed once shipped.
    pub code: &'static str,
    pub severity: Severity,
    /// One-line title shown next to the code.
    pub title: &'static str,
    /// What the finding means and why it matters (docs, prompt context).
    pub doc: &'static str,
    /// The default concrete fix; a check may give a more specific one.
    pub fix: &'static str,
    /// Root-cause rank inside a severity: lower comes first. Structural problems
    /// that stop every verifier outrank signature problems, which outrank claims.
    pub rank: u8,
}

/// One finding in one report.
#[derive(Debug, Clone)]
pub struct Finding {
    pub spec: &'static Spec,
    /// Evidence-backed explanation citing this token's values.
    pub detail: String,
    /// A fix specific to this token, when the default one is not precise enough.
    pub fix: Option<String>,
    /// Machine-readable evidence (claim values, deltas, keys tried).
    pub evidence: Value,
    /// Raised to `error` for this report: the server's own error message
    /// shows it rejects the token for what this finding says, although the
    /// code's usual severity is lower (PyJWT refuses an `iat` in the future,
    /// which most libraries accept), or the input shows the client sent the
    /// token broken (`Bearer` glued to it: `input-extracted`).
    pub raised: bool,
    /// Ranked after the other findings of its severity: in this report it
    /// is evidence for another finding rather than the cause (a token made
    /// with a documentation secret, at a server whose own secret differs,
    /// fails as `signature-invalid`).
    pub secondary: bool,
}

impl Finding {
    pub fn new(spec: &'static Spec, detail: impl Into<String>) -> Self {
        Finding {
            spec,
            detail: detail.into(),
            fix: None,
            evidence: Value::Object(Default::default()),
            raised: false,
            secondary: false,
        }
    }

    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    pub fn evidence(mut self, evidence: Value) -> Self {
        self.evidence = evidence;
        self
    }

    pub fn code(&self) -> &'static str {
        self.spec.code
    }

    pub fn severity(&self) -> Severity {
        if self.raised {
            Severity::Error
        } else {
            self.spec.severity
        }
    }

    pub fn fix_text(&self) -> &str {
        self.fix.as_deref().unwrap_or(self.spec.fix)
    }
}
