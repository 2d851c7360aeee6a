//! Writes a synthetic access log of signed JWTs, for `scripts/bench-process.sh`.
//!
//! `cargo run --release --example gen-log -- DIR LINES DISTINCT [ALG]` writes
//! `DIR/access.log` (LINES lines, cycling through DISTINCT distinct tokens,
//! every token valid at 2026-01-01T00:00:00Z for audience
//! https://api.example.com) plus `DIR/secret` (HS*) or `DIR/public.pem`
//! (other algorithms). Lines mix plain `Authorization: Bearer` access-log
//! lines and JSON log lines, with one unrelated line in ten.

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use jwtai::alg::Alg;
use jwtai::sign::{SigningKey, sign_token};
use serde_json::json;

const NOW: i64 = 1_767_225_600;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, lines, distinct, rest @ ..] = args.as_slice() else {
        return Err("usage: gen-log DIR LINES DISTINCT [ALG]".into());
    };
    let dir = PathBuf::from(dir);
    let lines: usize = lines.parse()?;
    let distinct: usize = distinct.parse::<usize>()?.max(1);
    let alg = Alg::from_name(rest.first().map_or("HS256", String::as_str)).ok_or("unknown alg")?;
    std::fs::create_dir_all(&dir)?;
    let key = SigningKey::generate(alg)?;
    match key.hmac_secret() {
        Some(secret) => std::fs::write(dir.join("secret"), secret)?,
        None => std::fs::write(
            dir.join("public.pem"),
            key.public_pem().ok_or("no public key")?,
        )?,
    }
    let tokens: Vec<String> = (0..distinct.min(lines.max(1)))
        .map(|i| {
            let claims = json!({
                "iss": "https://auth.example.com/", "sub": format!("auth0|{i:012}"),
                "aud": "https://api.example.com", "iat": NOW - 60, "exp": NOW + 3600,
                "scope": "read:orders", "jti": format!("{i:032x}"),
            });
            let header = json!({"alg": alg.name(), "typ": "JWT", "kid": "k1"});
            sign_token(&header, &claims, &key)
        })
        .collect::<Result<_, _>>()?;
    let mut out = BufWriter::new(std::fs::File::create(dir.join("access.log"))?);
    for i in 0..lines {
        let t = &tokens[i % tokens.len()];
        match i % 10 {
            9 => writeln!(out, "2026-01-01T00:00:00Z INFO healthcheck ok id={i}")?,
            n if n % 2 == 0 => writeln!(
                out,
                "10.1.2.3 - - [01/Jan/2026:00:00:00 +0000] \"GET /orders/{i} HTTP/1.1\" 200 Authorization: Bearer {t}"
            )?,
            _ => writeln!(
                out,
                "{}",
                json!({"ts": "2026-01-01T00:00:00Z", "level": "info", "path": format!("/orders/{i}"),
                       "headers": {"authorization": format!("Bearer {t}")}})
            )?,
        }
    }
    out.flush()?;
    Ok(())
}
