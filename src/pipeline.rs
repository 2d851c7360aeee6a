//! The offline diagnosis of one token, as the CLI and `scan` share it:
//! extracted text → parsed token → findings → ranked report.
//!
//! Key material and expectations arrive ready-made (the caller builds them
//! from flags once, however many tokens follow); nothing here reads files,
//! the network or the terminal.

use crate::checks::{self, Context, Expectations, Keys, errortext::ErrorText};
use crate::input::{self, Wrapper};
use crate::report::{Report, TokenView};
use crate::token::{self, Members, Token};

/// A token unwrapped and parsed.
pub struct Parsed {
    pub token: Token,
    pub wrappers: Vec<Wrapper>,
}

/// Unwraps and parses token text. Never fails: problems become findings.
pub fn parse(text: &str) -> Parsed {
    let extracted = input::extract(text);
    Parsed {
        token: token::parse(&extracted.token),
        wrappers: extracted.wrappers,
    }
}

/// Runs every check and ranks the findings.
pub fn diagnose(parsed: &Parsed, expect: &Expectations, keys: &Keys, error: &ErrorText) -> Report {
    let findings = checks::run(&Context {
        token: &parsed.token,
        wrappers: &parsed.wrappers,
        expect,
        keys,
        error,
    });
    Report::build(
        &parsed.token,
        findings,
        expect.now,
        &error.explaining_codes(),
    )
}

/// [`diagnose`] when the parsed token is not needed afterwards (`scan`):
/// its header and claims move into the report instead of being copied.
pub fn diagnose_owned(
    parsed: Parsed,
    expect: &Expectations,
    keys: &Keys,
    error: &ErrorText,
) -> Report {
    let findings = checks::run(&Context {
        token: &parsed.token,
        wrappers: &parsed.wrappers,
        expect,
        keys,
        error,
    });
    Report::rank(
        TokenView::take(parsed.token),
        findings,
        expect.now,
        &error.explaining_codes(),
    )
}

/// The token's values that every report shows as they are (its `kid`, and
/// the `aud`, `azp`, client and tenant ids it names) when they are neither a
/// secret nor a person's: error text quoting them may keep them, so that the
/// message and the token can be compared.
pub fn public_values(token: &Token) -> Vec<&str> {
    let mut out = Vec::new();
    if let Some(kid) = token.header_str("kid") {
        out.push(kid);
    }
    if let Some(claims) = token.claims() {
        for name in ["aud", "azp", "client_id", "cid", "tid"] {
            match claims.member(name) {
                Some(serde_json::Value::String(s)) => out.push(s.as_str()),
                Some(serde_json::Value::Array(a)) => {
                    out.extend(a.iter().filter_map(serde_json::Value::as_str))
                }
                _ => {}
            }
        }
    }
    out.retain(|v| {
        matches!(
            crate::sensitive::classify(v),
            None | Some(crate::sensitive::Shape::HighEntropy)
        )
    });
    out
}

/// Strings that must never reach output: the input and the token's segments.
pub fn scrub_list(raw: &str, token: &Token) -> Vec<String> {
    let raw = raw.trim();
    // An input that is only `undefined`, `Bearer` or `{{token}}` is no
    // credential, and the finding must be able to quote it.
    let quotable = matches!(
        crate::token::foreign(raw),
        Some(f) if !f.is_credential()
    );
    let mut list = if quotable {
        Vec::new()
    } else {
        vec![raw.to_string()]
    };
    if let Some(sig) = &token.signature_segment {
        list.push(sig.clone());
    }
    // The signature as a library may print it instead: hex, or standard
    // base64 (short ones say too little to be searched for).
    if let Some(bytes) = token.signature.as_ref().filter(|b| b.len() >= 16) {
        use base64::Engine;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        list.push(hex.to_ascii_uppercase());
        list.push(hex);
        list.push(base64::engine::general_purpose::STANDARD.encode(bytes));
    }
    list.push(String::from_utf8_lossy(&token.signing_input).into_owned());
    list
}
