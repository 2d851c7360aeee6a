//! The whole offline pipeline on arbitrary text: extract, parse, every check
//! (with an HMAC secret and an RSA JWK to try, and expectations that make the
//! claim checks run), redaction and the JSON and human renderers.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;

use jwtai::checks::errortext::ErrorText;
use jwtai::checks::{Expectations, Keys};
use jwtai::{keys, pipeline, redact, render};

/// RFC 7515 Appendix A.2's RSA key (the seed corpus holds its RS256 token).
const RSA_JWK: &str = include_str!("../../tests/data/rfc/rfc7515-a2-rs256.json");

static KEYS: LazyLock<Keys> = LazyLock::new(|| {
    let doc: serde_json::Value = serde_json::from_str(RSA_JWK).expect("fixture");
    let jwk = serde_json::to_vec(&doc["jwk"]).expect("fixture");
    let mut candidates = keys::parse_key_bytes(&jwk, "rsa.jwk").expect("fixture");
    candidates.push(keys::secret_candidate(
        b"jwtai-fuzz-secret\n".to_vec(),
        "the fuzz secret".into(),
    ));
    Keys {
        candidates,
        attempted: true,
        ..Default::default()
    }
});

static EXPECT: LazyLock<Expectations> = LazyLock::new(|| Expectations {
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
    now: 1_700_000_000,
});

fuzz_target!(|text: &str| {
    // Pins the masking key so that Policy::new reads and writes no files.
    static INIT: std::sync::Once = std::sync::Once::new();
    // SAFETY: libFuzzer runs the target on one thread; nothing reads the
    // environment concurrently.
    INIT.call_once(|| unsafe { std::env::set_var("JWTAI_MASK_KEY", "fuzz") });

    let parsed = pipeline::parse(text);
    let report = pipeline::diagnose(&parsed, &EXPECT, &KEYS, &ErrorText::default());
    let scrub = pipeline::scrub_list(text, &parsed.token);
    let policy = redact::Policy::new(vec![], vec![], false, scrub);
    let redacted = redact::redact(report.clone(), &policy);
    let json = render::json::report(redacted.report());
    serde_json::from_str::<serde_json::Value>(&json).expect("the JSON report parses");
    let shown = redact::for_display(report, &policy);
    let _ = render::report(&shown, jwtai::cli::Format::Human, false);
});
