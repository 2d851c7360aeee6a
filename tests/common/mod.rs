//! Shared helpers for the integration tests: tokens built here (HS256, signed
//! with `aws_lc_rs::hmac`), the real `jwtai` binary with a pinned environment,
//! and `diagnose --format json` deserialised into a `serde_json::Value`.
//!
//! Every test judges time at [`NOW`] (2023-11-14 22:13:20 UTC), never at the clock.
#![allow(dead_code)]

use std::time::Duration;

use assert_cmd::Command;
use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// `--now` for every test: 2023-11-14 22:13:20 UTC.
pub const NOW: i64 = 1_700_000_000;
pub const NOW_ARG: &str = "1700000000";
/// The HMAC secret the test tokens are signed with.
pub const SECRET: &[u8] = b"jwtai-integration-tests-secret-0123456789";
pub const ISS: &str = "https://auth.example.com/";
pub const AUD: &str = "https://api.example.com";

/// Every code of the four offline families of `findings.md` that a token alone can trigger.
pub const STRUCTURE_CODES: &[&str] = &[
    "input-extracted",
    "bearer-prefix-duplicated",
    "whitespace-in-token",
    "opaque-token",
    "wrong-segment-count",
    "jwe-token",
    "base64-standard-alphabet",
    "url-encoded",
    "invalid-base64url",
    "truncated",
    "invalid-json",
    "duplicate-json-keys",
    "token-too-large",
];
pub const HEADER_CODES: &[&str] = &[
    "alg-missing",
    "alg-unknown",
    "alg-none",
    "signature-missing",
    "alg-not-allowed",
    "kid-suspicious",
    "header-key-injection",
    "crit-unsupported",
    "id-token-as-access-token",
];
pub const TIME_CODES: &[&str] = &[
    "expired",
    "not-yet-valid",
    "issued-in-future",
    "timestamp-in-milliseconds",
    "timestamp-not-numeric",
    "exp-before-iat",
    "exp-missing",
    "lifetime-too-long",
];
pub const CLAIMS_CODES: &[&str] = &[
    "issuer-mismatch",
    "issuer-trailing-slash",
    "audience-mismatch",
    "audience-missing",
    "missing-claim",
    "scope-missing",
    "claim-mismatch",
    "pii-in-claims",
    "secret-in-claims",
];

/// base64url without padding, as JOSE encodes every segment.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// HMAC-SHA256 of `signing_input` with [`SECRET`].
pub fn hs256_signature(signing_input: &[u8]) -> Vec<u8> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, SECRET);
    hmac::sign(&key, signing_input).as_ref().to_vec()
}

/// A compact JWS with these header and claims, signed HS256 with [`SECRET`]
/// (whatever the header's `alg` says).
pub fn token(header: Value, claims: Value) -> String {
    let signing_input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let sig = hs256_signature(signing_input.as_bytes());
    format!("{signing_input}.{}", b64(&sig))
}

/// An HS256 token with the usual header.
pub fn hs256(claims: Value) -> String {
    token(json!({"alg": "HS256", "typ": "JWT"}), claims)
}

/// A token from raw bytes (broken JSON, odd signatures): each part base64url-encoded.
pub fn raw_token(header: &[u8], payload: &[u8], sig: &[u8]) -> String {
    format!("{}.{}.{}", b64(header), b64(payload), b64(sig))
}

/// Claims of a token a correctly configured server accepts at [`NOW`]
/// with `--iss ISS --aud AUD`: issued a minute ago, valid one more hour.
pub fn valid_claims() -> Value {
    json!({
        "iss": ISS,
        "sub": "user-4821",
        "aud": AUD,
        "iat": NOW - 60,
        "exp": NOW + 3600,
        "scope": "read:orders",
    })
}

/// `valid_claims()` with some members replaced (a `null` value removes the member).
pub fn claims_with(changes: Value) -> Value {
    let mut claims = valid_claims();
    let map = claims.as_object_mut().expect("valid_claims is an object");
    for (k, v) in changes.as_object().expect("changes must be a JSON object") {
        if v.is_null() {
            map.remove(k);
        } else {
            map.insert(k.clone(), v.clone());
        }
    }
    claims
}

/// The real binary, hermetic: no colour, pinned mask hashes, a time limit.
pub fn jwtai() -> Command {
    let mut cmd = Command::cargo_bin("jwtai").expect("the jwtai binary is built by cargo test");
    cmd.env("NO_COLOR", "1")
        .env("JWTAI_MASK_KEY", "test-key")
        .env_remove("RUST_BACKTRACE")
        .env_remove("JWTAI_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .timeout(Duration::from_secs(60));
    cmd
}

/// What one run of the binary produced.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout and stderr together, for "never appears anywhere" assertions.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Runs `jwtai ARGS` with this stdin and returns status and output.
pub fn run(args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut cmd = jwtai();
    cmd.args(args);
    if let Some(input) = stdin {
        cmd.write_stdin(input.to_vec());
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("could not run jwtai {args:?}: {e}"));
    let code = out.status.code().unwrap_or_else(|| {
        panic!(
            "jwtai {args:?} was killed by a signal: {:?}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    });
    Run {
        code,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `jwtai diagnose ARGS --now NOW --format json`, deserialised, and the exit status.
/// `args` holds the token (or wrapped input) and any expectation flags.
pub fn report(args: &[&str]) -> (Value, i32) {
    let mut full = vec!["diagnose"];
    full.extend_from_slice(args);
    full.extend_from_slice(&["--now", NOW_ARG, "--format", "json"]);
    let r = run(&full, None);
    (parse_report(&r, &full), r.code)
}

/// Like [`report`], with the input on stdin.
pub fn report_stdin(input: &[u8], args: &[&str]) -> (Value, i32) {
    let mut full = vec!["diagnose"];
    full.extend_from_slice(args);
    full.extend_from_slice(&["--now", NOW_ARG, "--format", "json"]);
    let r = run(&full, Some(input));
    (parse_report(&r, &full), r.code)
}

fn parse_report(r: &Run, args: &[&str]) -> Value {
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| {
        panic!(
            "jwtai {} did not print a JSON report ({e}); exit {}\nstdout: {}\nstderr: {}",
            args.first().copied().unwrap_or(""),
            r.code,
            r.stdout,
            r.stderr
        )
    });
    assert_eq!(
        v["schema"], "jwtai.report/v1",
        "unexpected schema in report: {v:#}"
    );
    v
}

/// The finding codes of a report, in report order.
pub fn codes(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("report has no findings array: {report:#}"))
        .iter()
        .map(|f| {
            f["code"]
                .as_str()
                .unwrap_or_else(|| panic!("finding without a code: {f:#}"))
                .to_string()
        })
        .collect()
}

pub fn has(report: &Value, code: &str) -> bool {
    codes(report).iter().any(|c| c == code)
}

/// The (first) finding with this code; fails with the codes that were found.
pub fn finding<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .and_then(|fs| fs.iter().find(|f| f["code"] == code))
        .unwrap_or_else(|| {
            panic!(
                "expected finding `{code}`, got {:?}\nreport: {report:#}",
                codes(report)
            )
        })
}

/// The detail text of the finding with this code.
pub fn detail<'a>(report: &'a Value, code: &str) -> &'a str {
    finding(report, code)["detail"]
        .as_str()
        .unwrap_or_else(|| panic!("finding `{code}` has no detail string: {report:#}"))
}

/// Asserts the finding is there, with the severity findings.md gives it.
pub fn assert_finding(report: &Value, code: &str, severity: &str) {
    let f = finding(report, code);
    assert_eq!(f["severity"], severity, "severity of `{code}`: {f:#}");
}

pub fn assert_absent(report: &Value, code: &str) {
    assert!(
        !has(report, code),
        "did not expect `{code}`, got {:?}\nreport: {report:#}",
        codes(report)
    );
}

/// Asserts the detail of `code` contains every one of `needles`.
pub fn assert_detail(report: &Value, code: &str, needles: &[&str]) {
    let d = detail(report, code);
    for n in needles {
        assert!(d.contains(n), "detail of `{code}` lacks {n:?}: {d}");
    }
}

/// Exit 1 iff an error finding is present; checks the verdict agrees.
pub fn assert_exit(report: &Value, code: i32, expected: i32) {
    assert_eq!(
        code,
        expected,
        "exit status; findings {:?}\nreport: {report:#}",
        codes(report)
    );
    let verdict = report["verdict"].as_str().unwrap_or("");
    if expected == 1 {
        assert_eq!(verdict, "rejected", "verdict with exit 1");
    } else {
        assert_ne!(verdict, "rejected", "verdict with exit 0");
    }
}

/// A usage error: exit 2 and one line on stderr that is not a panic or backtrace.
pub fn assert_usage_error(r: &Run) {
    assert_eq!(
        r.code, 2,
        "expected exit 2\nstdout: {}\nstderr: {}",
        r.stdout, r.stderr
    );
    assert_no_crash(r);
    let lines: Vec<&str> = r.stderr.trim().lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "expected a one-line message on stderr, got: {:?}",
        r.stderr
    );
    assert!(!lines[0].trim().is_empty(), "empty error message");
}

/// No panic, no backtrace, no internal error (the panic hook's message).
pub fn assert_no_crash(r: &Run) {
    for bad in ["panicked", "backtrace", "RUST_BACKTRACE", "internal error"] {
        assert!(
            !r.stderr.contains(bad) && !r.stdout.contains(bad),
            "output mentions {bad:?}\nstdout: {}\nstderr: {}",
            r.stdout,
            r.stderr
        );
    }
}

/// A card number that passes the Luhn check, computed here (prefix + check digit).
pub fn luhn_card(prefix: &str) -> String {
    let digits: Vec<u32> = prefix.chars().filter_map(|c| c.to_digit(10)).collect();
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            // The check digit will sit at position 0 from the right, so the
            // prefix's last digit is doubled.
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    format!("{prefix}{}", (10 - sum % 10) % 10)
}
