//! `jwtai jwks`: a key set as a table for people, or JSON for tooling.

use std::fmt::Write;

use serde_json::{Value, json};

use crate::keys::{Candidate, Curve, JwkProblem, JwkSet, KeyMaterial, ProblemKind};

fn size(c: &Candidate) -> String {
    match &c.material {
        KeyMaterial::Rsa { .. } => c
            .material
            .rsa_bits()
            .map_or("?".into(), |b| format!("{b} bits")),
        KeyMaterial::Ec { curve, .. } => curve.name().to_string(),
        KeyMaterial::Ed25519 { .. } => "Ed25519".into(),
        KeyMaterial::Hmac(_) => "secret".into(),
        KeyMaterial::Unusable { .. } => "-".into(),
    }
}

fn problems_of(set: &JwkSet, index: usize) -> impl Iterator<Item = &JwkProblem> {
    set.problems
        .iter()
        .filter(move |p| p.index == index && p.kind != ProblemKind::Empty)
}

/// Whether the set can be used as it is: some key verifies, and none hands
/// out a private key. `jwtai jwks` exits 1 otherwise.
pub fn set_ok(set: &JwkSet) -> bool {
    set.keys.iter().any(Candidate::is_usable)
        && !set
            .problems
            .iter()
            .any(|p| p.kind == ProblemKind::PrivateKey)
}

/// Key size in bits, for scripts: the RSA modulus, the curve's size.
fn bits(c: &Candidate) -> Option<usize> {
    match &c.material {
        KeyMaterial::Rsa { .. } => c.material.rsa_bits(),
        KeyMaterial::Ec { curve, .. } => Some(match curve {
            Curve::P256 => 256,
            Curve::P384 => 384,
            Curve::P521 => 521,
        }),
        KeyMaterial::Ed25519 { .. } => Some(256),
        KeyMaterial::Hmac(_) | KeyMaterial::Unusable { .. } => None,
    }
}

fn curve(c: &Candidate) -> Option<&'static str> {
    match &c.material {
        KeyMaterial::Ec { curve, .. } => Some(curve.name()),
        KeyMaterial::Ed25519 { .. } => Some("Ed25519"),
        _ => None,
    }
}

/// A problem as JSON: its finding code (`jwtai explain-code CODE`), that
/// code's severity, and the message.
fn problem_json(p: &JwkProblem) -> Value {
    let code = p.kind.code();
    let severity = crate::checks::spec(code).map(|s| s.severity.as_str());
    json!({"code": code, "severity": severity, "message": p.message})
}

/// `jwtai.jwks/v1`. `size` (text such as "2048 bits") and `problems` (the
/// messages) are kept as they were; `bits`, `curve` and `findings` (code,
/// severity, message) are for scripts, and the set's own problems (no keys)
/// are at the top level, with `ok`, which the exit status follows.
pub fn json(source: &str, set: &JwkSet) -> String {
    let keys: Vec<Value> = set
        .keys
        .iter()
        .enumerate()
        .map(|(i, c)| {
            json!({
                "kid": c.kid, "kty": c.material.kty(), "alg": c.alg, "use": c.key_use,
                "size": size(c), "bits": bits(c), "curve": curve(c),
                "thumbprint": c.thumbprint, "usable": c.is_usable(),
                "problems": problems_of(set, i).map(|p| p.message.clone()).collect::<Vec<_>>(),
                "findings": problems_of(set, i).map(problem_json).collect::<Vec<_>>(),
            })
        })
        .collect();
    let own: Vec<&JwkProblem> = set
        .problems
        .iter()
        .filter(|p| p.kind == ProblemKind::Empty)
        .collect();
    let v = json!({
        "schema": "jwtai.jwks/v1",
        "source": source,
        "ok": set_ok(set),
        "keys": keys,
        "problems": own.iter().map(|p| p.message.clone()).collect::<Vec<_>>(),
        "findings": own.iter().map(|p| problem_json(p)).collect::<Vec<_>>(),
    });
    format!("{}\n", serde_json::to_string_pretty(&v).unwrap_or_default())
}

/// One row per key: kid, kty, alg, use, size, thumbprint.
fn rows(set: &JwkSet) -> Vec<[String; 6]> {
    set.keys
        .iter()
        .map(|c| {
            [
                c.kid.clone().unwrap_or_else(|| "(none)".into()),
                c.material.kty().to_string(),
                c.alg.clone().unwrap_or_else(|| "-".into()),
                c.key_use.clone().unwrap_or_else(|| "-".into()),
                size(c),
                c.thumbprint.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect()
}

const HEAD: [&str; 6] = ["KID", "KTY", "ALG", "USE", "SIZE", "THUMBPRINT (RFC 7638)"];

fn who(p: &JwkProblem) -> String {
    if p.kind == ProblemKind::Empty {
        return "the set".to_string();
    }
    p.kid
        .as_deref()
        .map_or(format!("key #{}", p.index + 1), |k| {
            format!("key #{} ({k})", p.index + 1)
        })
}

/// The listing as a Markdown table, for a ticket.
pub fn markdown(source: &str, set: &JwkSet) -> String {
    let cell = |c: &str| c.replace('|', "\\|");
    let mut out = String::new();
    let _ = writeln!(out, "### `{}`: {} key(s)\n", cell(source), set.keys.len());
    let _ = writeln!(out, "| {} |", HEAD.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(HEAD.len()));
    for r in rows(set) {
        let cells: Vec<String> = r.iter().map(|c| format!("`{}`", cell(c))).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    if !set.problems.is_empty() {
        let _ = writeln!(out, "\n**Problems**\n");
        for p in &set.problems {
            let _ = writeln!(
                out,
                "- {}: {} (`{}`)",
                who(p),
                cell(&p.message),
                p.kind.code()
            );
        }
    }
    out
}

pub fn human(source: &str, set: &JwkSet) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{source}: {} key(s)\n", set.keys.len());
    let rows = rows(set);
    let head = HEAD;
    let mut widths: Vec<usize> = head.iter().map(|h| h.len()).collect();
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let _ = writeln!(out, "{}", line(&head.map(String::from)));
    for r in &rows {
        let _ = writeln!(out, "{}", line(r));
    }
    if !set.problems.is_empty() {
        let _ = writeln!(out, "\nProblems:");
        for p in &set.problems {
            let _ = writeln!(out, "  ! {}: {} [{}]", who(p), p.message, p.kind.code());
        }
    }
    out
}
