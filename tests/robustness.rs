//! Robustness: whatever arrives as a token (arbitrary text, arbitrary bytes,
//! token-shaped strings, tokens around random JSON), the binary exits 0, 1 or 2,
//! never dies from a signal and never panics (the panic hook's "internal error"
//! counts as a panic). Binary runs are kept to 64 cases per property because a
//! process is spawned per case; the library itself is driven in-process on
//! 2000 inputs per property.

mod common;

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use common::*;
use proptest::prelude::*;
use serde_json::{Map, Value};

use jwtai::checks::errortext::ErrorText;
use jwtai::checks::{self, Context, Expectations, Keys};
use jwtai::redact::{self, Policy};
use jwtai::report::Report;

/// Runs the binary and checks the exit contract; returns the status for further checks.
fn check_binary(args: Vec<OsString>, stdin: Option<Vec<u8>>) -> Result<i32, TestCaseError> {
    let mut cmd = jwtai();
    cmd.args(&args);
    if let Some(input) = stdin {
        cmd.write_stdin(input);
    }
    let out = cmd
        .output()
        .map_err(|e| TestCaseError::fail(format!("could not run jwtai: {e}")))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let Some(code) = out.status.code() else {
        return Err(TestCaseError::fail(format!(
            "killed by a signal: {:?}\nstderr: {stderr}",
            out.status
        )));
    };
    prop_assert!(
        (0..=2).contains(&code),
        "exit {code}\nstdout: {stdout}\nstderr: {stderr}"
    );
    for bad in ["panicked", "internal error", "RUST_BACKTRACE"] {
        prop_assert!(
            !stderr.contains(bad) && !stdout.contains(bad),
            "{bad:?} in output\nstdout: {stdout}\nstderr: {stderr}"
        );
    }
    Ok(code)
}

fn diagnose_args(flags: &[&str], token: OsString) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["diagnose".into(), "--now".into(), NOW_ARG.into()];
    args.extend(flags.iter().map(OsString::from));
    // `--` so that a token starting with '-' is still the positional argument.
    args.push("--".into());
    args.push(token);
    args
}

/// Flags that make every claims check run.
const EXPECT: &[&str] = &[
    "--iss",
    ISS,
    "--aud",
    AUD,
    "--alg",
    "HS256,RS256",
    "--require",
    "sub",
    "--scope",
    "read",
    "--claim",
    "org.id=1",
    "--leeway",
    "30",
];

fn token_like() -> impl Strategy<Value = String> {
    "(eyJ)?[A-Za-z0-9_=+/%-]{0,60}(\\.[A-Za-z0-9_=+/%-]{0,60}){0,6}"
}

/// Claim names the checks look at, mixed with arbitrary ones.
fn claim_name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "exp", "nbf", "iat", "iss", "aud", "sub", "scope", "scp", "permissions", "org",
            "email", "name", "password", "nonce", "at_hash", "jti", "roles", "phone_number",
        ])
        .prop_map(str::to_string),
        1 => ".{0,12}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON has no NaN/inf", |f| f.is_finite())
            .prop_map(Value::from),
        (1_000_000_000i64..2_000_000_000_000i64).prop_map(Value::from),
        ".{0,40}".prop_map(Value::String),
        "[a-z0-9.+_-]{1,12}@[a-z]{1,8}\\.(com|org)".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((claim_name(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn json_object() -> impl Strategy<Value = Value> {
    prop::collection::vec((claim_name(), json_value()), 0..10)
        .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>()))
}

fn header() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(serde_json::json!({"alg": "HS256", "typ": "JWT"})),
        (
            prop::sample::select(vec![
                "HS256", "RS256", "ES256", "none", "hs256", "RSA-OAEP", ""
            ]),
            prop::option::of(".{0,20}"),
            prop::option::of(json_value()),
        )
            .prop_map(|(alg, kid, crit)| {
                let mut h = Map::new();
                h.insert("alg".into(), alg.into());
                if let Some(k) = kid {
                    h.insert("kid".into(), k.into());
                }
                if let Some(c) = crit {
                    h.insert("crit".into(), c);
                }
                Value::Object(h)
            }),
        json_object(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn binary_survives_arbitrary_text_argument(s in "\\PC{0,200}|.{0,200}") {
        // An argument cannot hold NUL; every other char is fair game.
        let s: String = s.chars().filter(|c| *c != '\0').collect();
        check_binary(diagnose_args(&[], s.into()), None)?;
    }

    #[test]
    fn binary_survives_arbitrary_bytes_argument(bytes in prop::collection::vec(1u8..=255, 0..200)) {
        check_binary(diagnose_args(&[], OsString::from_vec(bytes)), None)?;
    }

    #[test]
    fn binary_survives_arbitrary_bytes_on_stdin(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let args: Vec<OsString> = vec!["diagnose".into(), "--now".into(), NOW_ARG.into()];
        check_binary(args, Some(bytes))?;
    }

    #[test]
    fn binary_survives_token_like_strings(s in token_like()) {
        check_binary(diagnose_args(EXPECT, s.clone().into()), None)?;
        let decode: Vec<OsString> =
            vec!["decode".into(), "--now".into(), NOW_ARG.into(), "--".into(), s.into()];
        check_binary(decode, None)?;
    }

    #[test]
    fn binary_survives_random_json_payloads(h in header(), claims in json_object(), json_out in any::<bool>()) {
        let t = token(h, claims);
        let mut flags = EXPECT.to_vec();
        if json_out {
            flags.extend_from_slice(&["--format", "json"]);
        }
        let code = check_binary(diagnose_args(&flags, t.into()), None)?;
        prop_assert_ne!(code, 2, "a well-formed token is never a usage error");
    }

    #[test]
    fn binary_survives_random_json_bodies(body in json_object(), inner in json_object()) {
        // A token endpoint response around a token with random claims.
        let mut body = body;
        if let Value::Object(m) = &mut body {
            m.insert("access_token".into(), hs256(inner).into());
        }
        let args: Vec<OsString> = vec!["diagnose".into(), "--now".into(), NOW_ARG.into()];
        check_binary(args, Some(body.to_string().into_bytes()))?;
    }
}

/// The whole offline pipeline in-process: extract, parse, check (no keys, no
/// error text), report, redact, render. Returns the json, human and markdown text.
fn pipeline(input: &str, expect: &Expectations) -> [String; 3] {
    let extracted = jwtai::input::extract(input);
    let token = jwtai::token::parse(&extracted.token);
    let findings = checks::run(&Context {
        token: &token,
        wrappers: &extracted.wrappers,
        expect,
        keys: &Keys::default(),
        error: &ErrorText::default(),
    });
    let report = Report::build(&token, findings, expect.now, &[]);
    let policy = Policy::new(vec![], vec![], false, vec![input.to_string()]);
    let shown = redact::for_display(report, &policy);
    [
        jwtai::render::json::report(shown.report()),
        jwtai::render::human::report(shown.report(), false),
        jwtai::render::markdown::report(shown.report()),
    ]
}

fn strict() -> Expectations {
    Expectations {
        algs: vec!["RS256".into()],
        iss: vec![ISS.into()],
        aud: vec![AUD.into()],
        require: vec!["sub".into(), "org.id".into()],
        scopes: vec!["read".into()],
        claims: vec![("roles".into(), "admin".into())],
        leeway: 30,
        max_age: None,
        typ: None,
        crit: Vec::new(),
        now: NOW,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn library_survives_arbitrary_strings(s in "\\PC{0,300}|.{0,300}") {
        pipeline(&s, &Expectations::default());
    }

    #[test]
    fn library_survives_token_like_strings(s in token_like(), wrap in 0usize..5) {
        let s = match wrap {
            0 => s,
            1 => format!("Bearer {s}"),
            2 => format!("Authorization: Bearer Bearer {s}"),
            3 => format!("{{\"access_token\": \"{s}\"}}"),
            _ => format!("curl -H 'Authorization: Bearer {s}' https://api.example.com"),
        };
        pipeline(&s, &Expectations::default());
        pipeline(&s, &strict());
    }

    #[test]
    fn library_survives_random_json_tokens(h in header(), claims in json_object()) {
        let t = token(h, claims);
        pipeline(&t, &Expectations::default());
        pipeline(&t, &strict());
    }

    #[test]
    fn library_survives_raw_segments(
        h in prop::collection::vec(any::<u8>(), 0..80),
        p in prop::collection::vec(any::<u8>(), 0..200),
        s in prop::collection::vec(any::<u8>(), 0..70),
    ) {
        pipeline(&raw_token(&h, &p, &s), &strict());
    }
}

fn email() -> impl Strategy<Value = String> {
    "[a-z]{1,8}\\.[a-z]{1,8}@[a-z]{2,8}\\.(com|org|net)"
}

/// Where an email goes: a top-level claim, or nested in an object or array
/// (registered claims such as `groups` or `exp` included).
fn place(email: String, how: u8) -> Value {
    match how % 3 {
        0 => Value::String(email),
        1 => serde_json::json!({"contact": {"primary": email}}),
        _ => serde_json::json!(["x", email]),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// redaction.md: a value that looks like personal data is masked whatever
    /// its claim name and depth, and no finding text quotes it either.
    #[test]
    fn library_never_renders_email_values(
        claims in json_object(),
        placed in prop::collection::vec((claim_name(), email(), any::<u8>()), 1..4),
    ) {
        let mut claims = claims;
        let Value::Object(map) = &mut claims else { unreachable!("json_object") };
        let mut expect = strict();
        let mut emails = Vec::new();
        for (name, email, how) in placed {
            map.insert(name.clone(), place(email.clone(), how));
            // Make a finding quote the claim that holds it.
            expect.claims.push((name, "someone-else".into()));
            emails.push(email);
        }
        // A later insert may have replaced an earlier email's claim: check only what is in the token.
        let payload = claims.to_string();
        let emails: Vec<String> = emails.into_iter().filter(|e| payload.contains(e.as_str())).collect();
        let t = hs256(claims);
        for out in pipeline(&t, &expect) {
            for e in &emails {
                prop_assert!(!out.contains(e.as_str()), "email {e} rendered:\n{out}");
            }
        }
    }
}

/// A token's values carrying terminal sequences (clear screen, OSC retitle),
/// a line break and a bidi override: no human, Markdown or scan output
/// prints them raw, although details quote the values.
#[test]
fn terminal_sequences_in_a_token_are_escaped_in_every_output() {
    let evil = "https://auth.example.com/\u{1b}[2J\u{1b}]0;pwned\u{7}\nACCEPTED\u{202e}x";
    let t = token(
        serde_json::json!({"alg": "HS256", "kid": "k\u{1b}[1mX"}),
        claims_with(serde_json::json!({"iss": evil, "aud": evil})),
    );
    let iss = "--iss=https://auth.example.com/";
    let mut outputs = Vec::new();
    for format in ["human", "markdown"] {
        let r = run(&["diagnose", &t, iss, "--format", format], None);
        assert!(r.stdout.contains("issuer-mismatch"), "{}", r.all());
        outputs.push(r.all());
    }
    let r = run(&["scan", "-", iss, "--no-progress"], Some(t.as_bytes()));
    assert!(r.stdout.contains("By iss"), "{}", r.all());
    outputs.push(r.all());
    for out in outputs {
        for raw in ['\u{1b}', '\u{7}', '\u{202e}'] {
            assert!(!out.contains(raw), "{raw:?} printed raw:\n{out}");
        }
        assert!(!out.contains("\nACCEPTED"), "a forged line:\n{out}");
    }
}
