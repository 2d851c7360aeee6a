//! Output snapshots (insta): the human, JSON and Markdown reports of one token
//! that expired 3 h 12 min ago and was issued for another API. Judged at a fixed
//! `--now`, with mask hashes pinned by `JWTAI_MASK_KEY`, so the snapshots are
//! byte-stable. Review every snapshot diff like code: a snapshot freezes bugs too.

mod common;

use common::*;
use serde_json::json;

fn expired_wrong_audience() -> String {
    let exp = NOW - (3 * 3600 + 12 * 60);
    token(
        json!({"alg": "HS256", "typ": "JWT", "kid": "test-key-1"}),
        json!({
            "iss": ISS,
            "sub": "user-4821",
            "aud": "https://billing.example.com",
            "iat": exp - 3600,
            "exp": exp,
            "scope": "read:orders",
        }),
    )
}

fn diagnose(format: &str) -> String {
    let t = expired_wrong_audience();
    let r = run(
        &[
            "diagnose", &t, "--now", NOW_ARG, "--iss", ISS, "--aud", AUD, "--format", format,
            "--color", "never",
        ],
        None,
    );
    assert_eq!(
        r.code, 1,
        "expired + wrong audience is rejected: {}",
        r.stderr
    );
    assert_no_crash(&r);
    assert!(r.stderr.is_empty(), "nothing on stderr: {}", r.stderr);
    assert!(!r.stdout.contains(&t), "raw token in output");
    r.stdout
}

#[test]
fn diagnose_expired_wrong_audience_human() {
    insta::assert_snapshot!(diagnose("human"));
}

#[test]
fn diagnose_expired_wrong_audience_json() {
    let out = diagnose("json");
    let v: serde_json::Value = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("--format json printed invalid JSON ({e}):\n{out}"));
    insta::assert_json_snapshot!(v);
}

#[test]
fn diagnose_expired_wrong_audience_markdown() {
    insta::assert_snapshot!(diagnose("markdown"));
}
