//! Limits on every input: each one is explicit, and going over it gives a
//! clear message (a finding, or a one-line error with exit 2), never a crash
//! or a minutes-long run. One test per limit, at the boundary.

mod common;

use common::*;
use serde_json::{Value, json};

use jwtai::checks::errortext::ErrorText;
use jwtai::checks::signature::MAX_KEYS_TRIED;
use jwtai::checks::{Expectations, Keys};
use jwtai::input::{self, InputError, MAX_INPUT_BYTES};
use jwtai::keys::{
    self, KeyError, MAX_KEY_FILE_BYTES, MAX_KEYS_IN_SET, MAX_RSA_BITS, parse_jwk_set,
    parse_key_bytes,
};
use jwtai::token::json::{JsonIssue, MAX_DEPTH, MAX_MEMBERS, parse_object};
use jwtai::verify::{self, MAX_WEAK_SECRETS, WEAK_SECRET_SCAN_MAX_BYTES};
use jwtai::{fetch, pipeline};

fn expect() -> Expectations {
    Expectations {
        now: NOW,
        ..Default::default()
    }
}

/// The offline pipeline's findings as (code, detail).
fn diagnose(text: &str, keys: &Keys) -> Vec<(String, String)> {
    let parsed = pipeline::parse(text);
    pipeline::diagnose(&parsed, &expect(), keys, &ErrorText::default())
        .findings
        .iter()
        .map(|f| (f.code().to_string(), f.detail.clone()))
        .collect()
}

fn detail_of<'a>(findings: &'a [(String, String)], code: &str) -> &'a str {
    findings
        .iter()
        .find(|(c, _)| c == code)
        .map(|(_, d)| d.as_str())
        .unwrap_or_else(|| panic!("no {code} in {findings:?}"))
}

/// A JSON object with `n` members `"c0": 0, ...`.
fn object_with(n: usize) -> String {
    let members: Vec<String> = (0..n).map(|i| format!("\"c{i}\":0")).collect();
    format!("{{{}}}", members.join(","))
}

fn tempfile_with(bytes: &[u8]) -> tempfile::NamedTempFile {
    let f = tempfile::NamedTempFile::new().expect("a temp file");
    std::fs::write(f.path(), bytes).expect("write the temp file");
    f
}

fn assert_usage_error(r: &Run, needle: &str) {
    assert_eq!(r.code, 2, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert!(r.stderr.contains(needle), "{needle:?} not in: {}", r.stderr);
    assert_eq!(r.stderr.trim().lines().count(), 1, "one line: {}", r.stderr);
}

// --- token text ------------------------------------------------------------

#[test]
fn token_text_is_capped_at_one_mebibyte() {
    let at_limit = "a".repeat(MAX_INPUT_BYTES);
    assert!(input::check_text(at_limit.as_bytes(), "stdin").is_ok());
    let over = "a".repeat(MAX_INPUT_BYTES + 1);
    let err = input::check_text(over.as_bytes(), "standard input").unwrap_err();
    assert!(matches!(err, InputError::TooLarge { .. }));
    assert!(err.to_string().contains("larger than 1024 KiB"), "{err}");

    let r = run(&["diagnose", "--now", NOW_ARG], Some(over.as_bytes()));
    assert_usage_error(&r, "standard input is larger than 1024 KiB");
}

// --- JSON of header and claims --------------------------------------------

#[test]
fn json_nesting_depth_is_named_in_the_finding() {
    let deep = format!(
        "{{\"a\":{}{}}}",
        "[".repeat(MAX_DEPTH),
        "]".repeat(MAX_DEPTH)
    );
    assert_eq!(
        parse_object(deep.as_bytes()).unwrap_err(),
        JsonIssue::TooDeep
    );
    let t = raw_token(br#"{"alg":"HS256"}"#, deep.as_bytes(), &[1; 32]);
    let (report, code) = report_stdin(t.as_bytes(), &[]);
    assert_eq!(code, 1);
    let d = detail(&report, "invalid-json");
    assert!(d.starts_with("The payload JSON is nested too deep"), "{d}");
    assert!(d.contains(&format!("more than {MAX_DEPTH} levels")), "{d}");
}

#[test]
fn number_of_claims_is_capped() {
    assert_eq!(
        parse_object(object_with(MAX_MEMBERS).as_bytes())
            .unwrap()
            .map
            .len(),
        MAX_MEMBERS
    );
    let over = object_with(MAX_MEMBERS + 1);
    assert_eq!(
        parse_object(over.as_bytes()).unwrap_err(),
        JsonIssue::TooManyMembers
    );
    let t = raw_token(br#"{"alg":"HS256"}"#, over.as_bytes(), &[1; 32]);
    let (report, code) = report_stdin(t.as_bytes(), &[]);
    assert_eq!(code, 1);
    let d = detail(&report, "invalid-json");
    assert!(
        d.contains("more than 10000 members; jwtai reads at most 10000"),
        "{d}"
    );
    // The header is held to the same cap.
    let t = raw_token(over.as_bytes(), b"{}", &[1; 32]);
    let (report, _) = report_stdin(t.as_bytes(), &[]);
    assert!(detail(&report, "invalid-json").starts_with("The header JSON object has more than"));
}

// --- key files, JWK Sets, RSA ---------------------------------------------

#[test]
fn key_file_size_is_capped() {
    let big = vec![b'a'; MAX_KEY_FILE_BYTES as usize + 1];
    assert!(matches!(
        parse_key_bytes(&big, "big.pem").unwrap_err(),
        KeyError::TooLarge { .. }
    ));
    let file = tempfile_with(&big);
    let path = file.path().to_str().expect("utf-8 path");
    let r = run(
        &[
            "diagnose",
            "--now",
            NOW_ARG,
            "--key",
            path,
            &hs256(valid_claims()),
        ],
        None,
    );
    assert_usage_error(&r, "over the 1048576-byte limit for key files");
}

#[test]
fn jwks_size_is_capped_for_files_and_fetches() {
    let big = format!(
        r#"{{"keys":[],"pad":"{}"}}"#,
        "a".repeat(MAX_KEY_FILE_BYTES as usize)
    );
    assert!(matches!(
        parse_jwk_set(big.as_bytes(), "https://idp/jwks").unwrap_err(),
        KeyError::TooLarge { .. }
    ));
    // A fetched body is cut off at the same size before it is parsed.
    assert_eq!(
        fetch::FetchOptions::default().max_bytes as u64,
        MAX_KEY_FILE_BYTES
    );
    assert_eq!(
        fetch::FetchError::TooLarge { limit: 1 << 20 }.to_string(),
        "response body is larger than the 1048576-byte limit"
    );
}

fn oct_set(n: usize) -> String {
    json!({"keys": vec![json!({"kty": "oct", "k": "c2VjcmV0"}); n]}).to_string()
}

#[test]
fn jwks_key_count_is_capped() {
    assert_eq!(
        parse_jwk_set(oct_set(MAX_KEYS_IN_SET).as_bytes(), "x")
            .unwrap()
            .keys
            .len(),
        MAX_KEYS_IN_SET
    );
    let file = tempfile_with(oct_set(MAX_KEYS_IN_SET + 1).as_bytes());
    let path = file.path().to_str().expect("utf-8 path");
    let r = run(
        &[
            "diagnose",
            "--now",
            NOW_ARG,
            "--key",
            path,
            &hs256(valid_claims()),
        ],
        None,
    );
    assert_usage_error(&r, "the JWK Set has 1001 keys; jwtai reads at most 1000");
}

#[test]
fn pem_block_count_is_capped() {
    let pem = std::fs::read("tests/data/keys/rsa1024-pub.pem").expect("fixture");
    assert!(parse_key_bytes(&pem.repeat(MAX_KEYS_IN_SET), "many.pem").is_ok());
    let err = parse_key_bytes(&pem.repeat(MAX_KEYS_IN_SET + 1), "many.pem").unwrap_err();
    assert_eq!(
        err.to_string(),
        "many.pem: the file has 1001 PEM blocks; jwtai reads at most 1000"
    );
}

#[test]
fn rsa_modulus_size_is_capped() {
    use base64::Engine;
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let jwk = |bytes: usize| json!({"kty": "RSA", "n": b64(&vec![0xC3; bytes]), "e": "AQAB"});
    let at_limit = jwk(MAX_RSA_BITS / 8).to_string();
    assert!(parse_key_bytes(at_limit.as_bytes(), "k.json").is_ok());
    let err =
        parse_key_bytes(jwk(MAX_RSA_BITS / 8 + 1).to_string().as_bytes(), "k.json").unwrap_err();
    assert_eq!(
        err.to_string(),
        "k.json: RSA modulus of 16392 bits is over the 16384-bit limit; refusing an absurd key"
    );
}

// --- flags -----------------------------------------------------------------

#[test]
fn error_file_size_is_capped() {
    let file = tempfile_with(&vec![b'x'; 1024 * 1024 + 1]);
    let path = file.path().to_str().expect("utf-8 path");
    let r = run(
        &[
            "diagnose",
            "--now",
            NOW_ARG,
            "--error-file",
            path,
            &hs256(valid_claims()),
        ],
        None,
    );
    assert_usage_error(&r, "larger than 1024 KiB");
}

#[test]
fn number_of_key_flags_is_capped() {
    let file = tempfile_with(br#"{"kty":"oct","k":"c2VjcmV0"}"#);
    let path = file.path().to_str().expect("utf-8 path").to_string();
    let token = hs256(valid_claims());
    let mut args = vec!["diagnose", "--now", NOW_ARG];
    for _ in 0..101 {
        args.extend(["--key", path.as_str()]);
    }
    args.push(&token);
    assert_usage_error(
        &run(&args, None),
        "--key is given 101 times; jwtai reads at most 100 key files",
    );
}

#[test]
fn keys_from_all_key_files_are_capped() {
    let file = tempfile_with(oct_set(600).as_bytes());
    let path = file.path().to_str().expect("utf-8 path");
    let token = hs256(valid_claims());
    let r = run(
        &[
            "diagnose", "--now", NOW_ARG, "--key", path, "--key", path, &token,
        ],
        None,
    );
    assert_usage_error(&r, "the --key files hold more than 1000 keys in all");
}

fn secret_keys(n: usize) -> Keys {
    let candidates = (0..n)
        .map(|i| {
            let mut c = keys::secret_candidate(format!("wrong-{i}").into_bytes(), format!("#{i}"));
            c.kid = Some(format!("k{i}"));
            c
        })
        .collect();
    Keys {
        candidates,
        attempted: true,
        ..Default::default()
    }
}

#[test]
fn keys_tried_against_one_signature_are_capped() {
    let n = MAX_KEYS_TRIED + 50;
    let findings = diagnose(&hs256(valid_claims()), &secret_keys(n));
    assert!(findings.iter().any(|(c, _)| c == "signature-invalid"));
    let d = detail_of(&findings, "signature-not-checked");
    assert!(
        d.starts_with("50 more key(s) were not tried: jwtai tries at most 100 keys"),
        "{d}"
    );
    assert!(detail_of(&findings, "signature-invalid").contains("none of the 100 key(s) tried"));

    // Past the cap, the key the header's kid names is tried first.
    let mut keys = secret_keys(n);
    keys.candidates[140] = keys::secret_candidate(SECRET.to_vec(), "the right one".into());
    keys.candidates[140].kid = Some("right".into());
    let t = token(json!({"alg": "HS256", "kid": "right"}), valid_claims());
    let findings = diagnose(&t, &keys);
    assert!(detail_of(&findings, "signature-valid").contains("the right one"));
    assert!(!findings.iter().any(|(c, _)| c == "signature-not-checked"));
}

// --- the weak-secret wordlist ----------------------------------------------

#[test]
fn weak_secret_wordlist_is_bounded() {
    let n = verify::weak_secrets().count();
    assert!(
        (1..=MAX_WEAK_SECRETS).contains(&n),
        "{n} entries, the bound is {MAX_WEAK_SECRETS}"
    );
    assert!(verify::weak_secrets().all(|s| s.len() <= 256));
}

#[test]
fn weak_secret_list_is_not_tried_on_huge_tokens() {
    let signed = |claims: Value| {
        let si = format!(
            "{}.{}",
            b64(br#"{"alg":"HS256"}"#),
            b64(claims.to_string().as_bytes())
        );
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, b"secret");
        let sig = aws_lc_rs::hmac::sign(&key, si.as_bytes());
        format!("{si}.{}", b64(sig.as_ref()))
    };
    let small = diagnose(&signed(json!({"x": "a".repeat(40_000)})), &Keys::default());
    assert!(small.iter().any(|(c, _)| c == "weak-secret"));
    assert!(!detail_of(&small, "token-too-large").contains("does not try"));

    let big = signed(json!({"x": "a".repeat(WEAK_SECRET_SCAN_MAX_BYTES)}));
    let findings = diagnose(&big, &Keys::default());
    assert!(!findings.iter().any(|(c, _)| c == "weak-secret"));
    assert!(
        detail_of(&findings, "token-too-large")
            .contains("Over 64 KiB, jwtai does not try its list of well-known HMAC secrets"),
        "{findings:?}"
    );
}
