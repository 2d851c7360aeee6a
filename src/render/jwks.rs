//! `jwtai jwks`: a key set as a table for people, or JSON for tooling.

use std::fmt::Write;

use serde_json::{Value, json};

use crate::keys::{Candidate, JwkSet, KeyMaterial};

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

fn problems_of(set: &JwkSet, index: usize) -> Vec<String> {
    set.problems
        .iter()
        .filter(|p| p.index == index)
        .map(|p| p.message.clone())
        .collect()
}

pub fn json(source: &str, set: &JwkSet) -> String {
    let keys: Vec<Value> = set
        .keys
        .iter()
        .enumerate()
        .map(|(i, c)| {
            json!({
                "kid": c.kid, "kty": c.material.kty(), "alg": c.alg, "use": c.key_use,
                "size": size(c), "thumbprint": c.thumbprint, "usable": c.is_usable(),
                "problems": problems_of(set, i),
            })
        })
        .collect();
    let v = json!({"schema": "jwtai.jwks/v1", "source": source, "keys": keys});
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

fn who(p: &crate::keys::JwkProblem) -> String {
    if p.kind == crate::keys::ProblemKind::Empty {
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
            let _ = writeln!(out, "- {}: {}", who(p), cell(&p.message));
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
            let _ = writeln!(out, "  ! {}: {}", who(p), p.message);
        }
    }
    out
}
