//! Regressions from fuzzing (`fuzz/README.md`).
//!
//! Every input saved under `tests/data/fuzz/<target>/` goes through the same
//! library calls as the fuzz target of that name, so a crash the fuzzer found
//! stays fixed. The worst cases found while measuring the pipeline on hostile
//! megabyte inputs are too large to keep as files: they are built here, one
//! test per bug, and checked structurally (no wall-clock assertions; the
//! quadratic versions took seconds to minutes, see each test).

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use jwtai::checks::errortext::ErrorText;
use jwtai::checks::{Expectations, Keys};
use jwtai::input::{self, Wrapper};
use jwtai::token::{self, MAX_DECODED_SEGMENTS, Observation, b64url};
use jwtai::{keys, pipeline, redact, render};

const NOW: i64 = 1_700_000_000;

/// The saved inputs of one fuzz target, sorted.
fn saved(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fuzz")
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// What the `diagnose` fuzz target runs: the whole offline pipeline, with an
/// RSA JWK and an HMAC secret to try and expectations that run every check.
fn whole_pipeline(text: &str) -> Value {
    let doc: Value =
        serde_json::from_str(include_str!("data/rfc/rfc7515-a2-rs256.json")).expect("fixture");
    let jwk = serde_json::to_vec(&doc["jwk"]).expect("fixture");
    let mut candidates = keys::parse_key_bytes(&jwk, "rsa.jwk").expect("fixture");
    candidates.push(keys::secret_candidate(
        b"jwtai-fuzz-secret\n".to_vec(),
        "the fuzz secret".into(),
    ));
    let keys = Keys {
        candidates,
        attempted: true,
        ..Default::default()
    };
    let expect = Expectations {
        algs: vec!["HS256".into(), "RS256".into()],
        iss: vec!["https://auth.example.com/".into()],
        aud: vec!["https://api.example.com".into()],
        require: vec!["sub".into()],
        scopes: vec!["read".into()],
        claims: vec![("org.id".into(), "1".into())],
        leeway: 30,
        max_age: None,
        typ: None,
        crit: Vec::new(),
        now: NOW,
    };
    let parsed = pipeline::parse(text);
    let report = pipeline::diagnose(&parsed, &expect, &keys, &ErrorText::default());
    let policy = redact::Policy::new(
        vec![],
        vec![],
        false,
        pipeline::scrub_list(text, &parsed.token),
    );
    let redacted = redact::redact(report.clone(), &policy);
    let shown = redact::for_display(report, &policy);
    let _ = render::report(&shown, jwtai::cli::Format::Human, false);
    serde_json::from_str(&render::json::report(redacted.report())).expect("JSON report")
}

#[test]
fn saved_inputs_run_through_their_targets() {
    for path in saved("extract") {
        let bytes = std::fs::read(&path).expect("saved input");
        if let Ok(text) = std::str::from_utf8(&bytes) {
            input::extract(text);
        }
    }
    for path in saved("parse") {
        let bytes = std::fs::read(&path).expect("saved input");
        if let Ok(text) = std::str::from_utf8(&bytes) {
            token::parse(text);
        }
    }
    for path in saved("json") {
        let _ = token::json::parse_object(&std::fs::read(&path).expect("saved input"));
    }
    for path in saved("keys") {
        let bytes = std::fs::read(&path).expect("saved input");
        let _ = keys::parse_key_bytes_with_problems(&bytes, "fuzz.key");
        let _ = keys::parse_jwk_set(&bytes, "https://fuzz.example/jwks");
    }
    for path in saved("diagnose") {
        let bytes = std::fs::read(&path).expect("saved input");
        if let Ok(text) = std::str::from_utf8(&bytes) {
            whole_pipeline(text);
        }
    }
}

fn hs256_shaped(header: &[u8], payload: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64url(header),
        b64url(payload),
        b64url(&[1; 32])
    )
}

/// Was 2.8 s for 750 KB: each repeated name was looked up in a Vec of the
/// repeated names so far.
#[test]
fn repeated_member_names_are_listed_in_linear_time() {
    let members: Vec<String> = (0..9_000).map(|i| format!("\"{}\":0", i % 4_500)).collect();
    let payload = format!("{{{}}}", members.join(","));
    let t = token::parse(&hs256_shaped(br#"{"alg":"HS256"}"#, payload.as_bytes()));
    let names = t.observations.iter().find_map(|o| match o {
        Observation::DuplicateKeys { names, .. } => Some(names.len()),
        _ => None,
    });
    assert_eq!(names, Some(4_500));
}

/// Was 71 s for one megabyte: every masked value was replaced in turn over
/// every finding text, and the audience-mismatch finding quotes them all.
#[test]
fn thousands_of_masked_values_are_redacted_in_one_pass() {
    let emails: Vec<String> = (0..20_000).map(|i| format!("u{i}@example.org")).collect();
    let payload = json!({"aud": emails, "sub": "u1"}).to_string();
    let report = whole_pipeline(&hs256_shaped(br#"{"alg":"HS256"}"#, payload.as_bytes()));
    let text = report.to_string();
    assert!(text.contains("audience-mismatch"));
    for e in [&emails[0], &emails[9_999], &emails[19_999]] {
        assert!(!text.contains(e.as_str()), "{e} leaked");
    }
    assert!(text.contains("«masked:email:"));
}

/// Was 350,000 invalid-base64url findings and a 180 MB JSON report for a
/// megabyte of `a*.`: every segment was decoded and observed.
#[test]
fn a_megabyte_of_segments_makes_a_handful_of_findings() {
    let text = "a*.".repeat(input::MAX_INPUT_BYTES / 3);
    let t = token::parse(&text);
    let invalid = t
        .observations
        .iter()
        .filter(|o| matches!(o, Observation::InvalidChar { .. }))
        .count();
    assert_eq!(invalid, MAX_DECODED_SEGMENTS);
    let report = whole_pipeline(&text);
    assert!(report["findings"].as_array().expect("findings").len() < 20);
    assert!(report.to_string().contains("349526 dot-separated segments"));
}

/// Was one wrapper per repetition: a megabyte of `Bearer ` made a 10 MB report.
#[test]
fn a_repeated_bearer_prefix_is_one_wrapper() {
    let t = hs256_shaped(br#"{"alg":"HS256"}"#, b"{}");
    let text = format!("{}{t}", "Bearer ".repeat(input::MAX_INPUT_BYTES / 8));
    let e = input::extract(&text);
    assert_eq!(e.token, t);
    assert_eq!(
        e.wrappers,
        vec![Wrapper::BearerPrefix, Wrapper::DuplicateBearer]
    );
}
