//! `jwtai suggest-tests` run as a binary: every fixture it writes is checked
//! against jwtai's own verifier with the key files it wrote, at the case's
//! `verify_at`; no personal value of the input token reaches any output; the
//! generated pytest file passes under PyJWT when Python has it.

use std::path::Path;
use std::process::Command as StdCommand;

use assert_cmd::Command;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwtai::alg::Alg;
use jwtai::checks::{Expectations, Keys};
use jwtai::findings::Severity;
use jwtai::keys::{self, Candidate};
use jwtai::sign::{SigningKey, sign_token};
use jwtai::{pipeline, verify};
use predicates::prelude::*;
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// 2026-03-15T12:34:00Z
const NOW: i64 = 1_773_578_040;
const EMAIL: &str = "alice.wonderland@example.org";
const NAME: &str = "Alice Wonderland";
const SUB: &str = "auth0|5f8a9b1c2d3e4f";
const ORG: &str = "org_acme_4711";
const KID: &str = "prod-signing-2026";

#[derive(Debug, Deserialize, PartialEq)]
struct Document {
    schema: String,
    now: i64,
    alg: String,
    verifier: VerifierDoc,
    cases: Vec<CaseDoc>,
    not_applicable: Vec<NotApplicableDoc>,
}

#[derive(Debug, Deserialize, PartialEq)]
struct VerifierDoc {
    algorithms: Vec<String>,
    issuer: Vec<String>,
    audience: Vec<String>,
    leeway: i64,
    required_claims: Vec<String>,
    scopes: Vec<String>,
    claims: Map<String, Value>,
}

#[derive(Debug, Deserialize, PartialEq)]
struct CaseDoc {
    id: String,
    title: String,
    expect: String,
    code: Option<String>,
    verify_at: i64,
    from_diagnosis: bool,
    token: String,
}

#[derive(Debug, Deserialize, PartialEq)]
struct NotApplicableDoc {
    id: String,
    why: String,
}

fn jwtai() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jwtai"));
    cmd.env("NO_COLOR", "1");
    cmd
}

/// A token with personal data in it, expired 3 h before NOW.
fn input_token(alg: Alg, key: &SigningKey, aud: Value) -> String {
    let header = json!({"alg": alg.name(), "typ": "JWT", "kid": KID});
    let claims = json!({
        "iss": "https://auth.example.com/",
        "sub": SUB,
        "aud": aud,
        "iat": NOW - 4 * 3600,
        "exp": NOW - 3 * 3600,
        "email": EMAIL,
        "name": NAME,
        "org_id": ORG,
        "scope": "read:orders write:orders",
    });
    sign_token(&header, &claims, key).expect("sign")
}

fn segment(token: &str, i: usize) -> Map<String, Value> {
    let part = token.split('.').nth(i).expect("segment");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("json")
}

fn keys_from(dir: &Path, hmac: bool) -> Vec<Candidate> {
    if hmac {
        let secret = std::fs::read(dir.join("hmac-secret.txt")).expect("secret");
        vec![keys::secret_candidate(secret, "hmac-secret.txt".into())]
    } else {
        let mut c = keys::load_key_file(&dir.join("jwks.json")).expect("jwks.json");
        c.extend(keys::load_key_file(&dir.join("public.pem")).expect("public.pem"));
        c
    }
}

fn expectations(v: &VerifierDoc, at: i64) -> Expectations {
    Expectations {
        algs: v.algorithms.clone(),
        iss: v.issuer.clone(),
        aud: v.audience.clone(),
        require: v.required_claims.clone(),
        scopes: v.scopes.clone(),
        claims: v
            .claims
            .iter()
            .map(|(k, val)| (k.clone(), val.as_str().unwrap_or_default().to_string()))
            .collect(),
        leeway: v.leeway,
        max_age: None,
        typ: None,
        crit: Vec::new(),
        now: at,
    }
}

fn all_text(dir: &Path) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(dir).expect("dir") {
        let path = entry.expect("entry").path();
        text.push_str(&String::from_utf8_lossy(
            &std::fs::read(&path).expect("read"),
        ));
    }
    text
}

fn assert_no_pii(what: &str, text: &str) {
    for pii in [EMAIL, NAME, SUB, ORG, KID] {
        assert!(!text.contains(pii), "{what} contains {pii:?}");
    }
}

fn pytest_available() -> bool {
    StdCommand::new("python3")
        .args(["-c", "import jwt, pytest, cryptography"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs suggest-tests on a token of `alg` and checks every fixture with jwtai's verifier.
fn check_alg(alg: Alg, aud: Value) {
    let key = SigningKey::generate(alg).expect("key");
    let token = input_token(alg, &key, aud);
    let tmp = tempfile::tempdir().expect("tempdir");
    let token_file = tmp.path().join("token.txt");
    std::fs::write(&token_file, &token).expect("write token");
    let out = tmp.path().join("fixtures");
    let output = jwtai()
        .arg("suggest-tests")
        .arg("--token-file")
        .arg(&token_file)
        .args(["--now", "2026-03-15T12:34:00Z", "--leeway", "30"])
        .args([
            "--iss",
            "https://auth.example.com/",
            "--scope",
            "read:orders",
        ])
        .args([
            "--require",
            "org_id",
            "--format",
            "json",
            "--framework",
            "pytest",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    assert_no_pii("stdout", &stdout);
    assert_no_pii("the fixture directory", &all_text(&out));
    let doc: Document = serde_json::from_str(&stdout).expect("stdout is the JSON document");
    let file: Document =
        serde_json::from_slice(&std::fs::read(out.join("fixtures.json")).expect("fixtures.json"))
            .expect("fixtures.json parses");
    assert_eq!(doc, file, "fixtures.json is what --format json prints");
    assert_eq!(doc.schema, "jwtai.suggest-tests/v1");
    assert_eq!(doc.now, NOW);
    assert_eq!(doc.alg, alg.name());
    assert_eq!(doc.verifier.audience, ["https://api.example.com"]);
    assert!(
        !doc.not_applicable
            .iter()
            .any(|n| n.why.starts_with("Left out")),
        "every generated fixture reproduces its outcome: {:?}",
        doc.not_applicable
    );

    let hmac = alg.name().starts_with("HS");
    let keys = Keys {
        candidates: keys_from(&out, hmac),
        attempted: true,
        ..Default::default()
    };
    for case in &doc.cases {
        let parsed = pipeline::parse(&case.token);
        let report = pipeline::diagnose(
            &parsed,
            &expectations(&doc.verifier, case.verify_at),
            &keys,
            &Default::default(),
        );
        let errors: Vec<&str> = report
            .findings
            .iter()
            .filter(|f| f.severity() == Severity::Error)
            .map(|f| f.code())
            .collect();
        match case.expect.as_str() {
            "accept" => {
                assert!(errors.is_empty(), "{alg} {}: {errors:?}", case.id);
                assert!(
                    report
                        .findings
                        .iter()
                        .any(|f| f.code() == "signature-valid"),
                    "{alg} {}: signature not verified",
                    case.id
                );
            }
            "reject" => {
                let code = case.code.as_deref().expect("reject cases name a code");
                assert!(
                    errors.contains(&code),
                    "{alg} {}: want {code}, got {errors:?}",
                    case.id
                );
            }
            other => panic!("unknown expectation {other}"),
        }
    }

    let case = |id: &str| {
        doc.cases
            .iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("{alg}: no case {id}"))
    };
    let leeway = doc.verifier.leeway;
    let exp = |id: &str| segment(&case(id).token, 1)["exp"].as_i64().expect("exp");
    assert!(
        exp("expired") + leeway <= case("expired").verify_at,
        "expired at its verify_at"
    );
    assert_eq!(
        exp("leeway-just-outside") + leeway,
        case("leeway-just-outside").verify_at
    );
    assert_eq!(
        exp("leeway-just-inside") + leeway - 1,
        case("leeway-just-inside").verify_at
    );
    assert!(exp("valid") > case("valid").verify_at);
    let nbf = segment(&case("not-yet-valid").token, 1)["nbf"]
        .as_i64()
        .expect("nbf");
    assert!(nbf - leeway > case("not-yet-valid").verify_at);
    assert!(exp("ms-timestamps") > 100_000_000_000);
    assert_eq!(segment(&case("alg-none").token, 0)["alg"], "none");
    assert!(case("signature-stripped").token.ends_with('.'));
    assert!(
        case("found-expired").from_diagnosis,
        "the input token's own problem is a case"
    );
    let valid = segment(&case("valid").token, 1);
    assert_eq!(valid["sub"], "user-123");
    assert_eq!(valid["email"], "user@example.com");
    assert!(valid["aud"].is_string() == doc.cases.iter().any(|c| c.id == "audience-array"));

    if hmac {
        let t = &case("public-key-token").token;
        assert_eq!(segment(t, 0)["alg"], "RS256");
        assert!(!out.join("private.pem").exists());
    } else {
        // The forgery really verifies with public.pem's bytes as the HMAC secret.
        let t = &case("algorithm-confusion").token;
        assert_eq!(segment(t, 0)["alg"], "HS256");
        let (input, sig) = t.rsplit_once('.').expect("jws");
        let sig = URL_SAFE_NO_PAD.decode(sig).expect("sig");
        let pem = std::fs::read(out.join("public.pem")).expect("public.pem");
        assert!(verify::hmac_verify(
            Alg::HS256,
            input.as_bytes(),
            &sig,
            &pem
        ));
        assert!(
            std::fs::read_to_string(out.join("private.pem"))
                .expect("private.pem")
                .contains("PRIVATE KEY")
        );
        assert_eq!(
            segment(&case("unknown-kid").token, 0)["kid"],
            "unknown-key-id"
        );
    }
    let readme = std::fs::read_to_string(out.join("README.md")).expect("README.md");
    for c in &doc.cases {
        assert!(
            readme.contains(&format!("`{}`", c.id)),
            "README lists {}",
            c.id
        );
    }

    assert!(out.join("test_jwt.py").is_file());
    if pytest_available() {
        let run = StdCommand::new("python3")
            .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
            .arg(&out)
            .output()
            .expect("pytest");
        assert!(
            run.status.success(),
            "generated pytest fails for {alg}:\n{}",
            String::from_utf8_lossy(&run.stdout)
        );
    } else {
        eprintln!(
            "note: python3 with PyJWT and pytest not found; skipping the generated pytest run"
        );
    }
}

#[test]
fn rs256_fixtures_hold_what_they_promise() {
    check_alg(Alg::RS256, json!("https://api.example.com"));
}

#[test]
fn es256_fixtures_hold_what_they_promise() {
    check_alg(
        Alg::ES256,
        json!([
            "https://api.example.com",
            "https://auth.example.com/userinfo"
        ]),
    );
}

#[test]
fn hs256_fixtures_hold_what_they_promise() {
    check_alg(Alg::HS256, json!("https://api.example.com"));
}

#[test]
fn human_table_lists_the_cases() {
    let key = SigningKey::generate(Alg::ES256).expect("key");
    let token = input_token(Alg::ES256, &key, json!("https://api.example.com"));
    let out = jwtai()
        .args(["suggest-tests", &token, "--now", "2026-03-15T12:34:00Z"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert_no_pii("human output", &text);
    assert!(text.contains("test cases for an ES256 verifier"), "{text}");
    assert!(text.contains("CASE"), "{text}");
    for id in [
        "valid",
        "expired",
        "algorithm-confusion",
        "wrong-key",
        "found-expired *",
    ] {
        assert!(text.contains(id), "{id} missing:\n{text}");
    }
    assert!(!text.contains("\u{1b}["), "no colour codes");
    assert!(!text.contains(&token), "never the input token");
}

#[test]
fn generated_code_is_deterministic_and_names_every_case() {
    let key = SigningKey::generate(Alg::HS256).expect("key");
    let token = input_token(Alg::HS256, &key, json!("https://api.example.com"));
    for (framework, file) in [
        ("pytest", "test_jwt.py"),
        ("jest", "jwt.test.js"),
        ("go", "jwt_test.go"),
        ("rust", "jwt_test.rs"),
    ] {
        let mut code = Vec::new();
        for _ in 0..2 {
            let dir = tempfile::tempdir().expect("tempdir");
            jwtai()
                .args([
                    "suggest-tests",
                    &token,
                    "--now",
                    "1773578040",
                    "--framework",
                    framework,
                ])
                .arg("--out")
                .arg(dir.path())
                .assert()
                .success();
            let text = std::fs::read_to_string(dir.path().join(file)).expect("test file");
            let doc: Document = serde_json::from_slice(
                &std::fs::read(dir.path().join("fixtures.json")).expect("fixtures"),
            )
            .expect("json");
            for c in &doc.cases {
                assert!(text.contains(&c.id), "{file} names {}", c.id);
            }
            assert!(
                text.contains("2026-03-15T12:34:00Z"),
                "{file} states the fixture instant"
            );
            code.push(text);
        }
        assert_eq!(
            code[0], code[1],
            "{file} is the same for the same token and instant"
        );
    }
}

#[test]
fn ai_needs_a_framework_to_adapt() {
    jwtai()
        .args([
            "suggest-tests",
            "x.y.z",
            "--ai",
            "--context",
            "express + passport-jwt",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--framework"));
}

#[test]
fn framework_needs_an_out_directory() {
    jwtai()
        .args(["suggest-tests", "x.y.z", "--framework", "pytest"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--out"));
}

#[test]
fn opaque_token_is_a_usage_error() {
    jwtai()
        .args(["suggest-tests", "abcdefghijklmnop"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("opaque token"));
}

#[test]
fn alg_none_token_needs_alg_flag() {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#);
    let claims = URL_SAFE_NO_PAD.encode(br#"{"sub":"x"}"#);
    let token = format!("{header}.{claims}.");
    jwtai()
        .args(["suggest-tests", &token])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("pass --alg"));
    jwtai()
        .args([
            "suggest-tests",
            &token,
            "--alg",
            "RS256",
            "--format",
            "json",
        ])
        .assert()
        .success()
        .stdout(
            predicates::str::contains("\"found-alg-none\"")
                .not()
                .and(predicates::str::contains("\"alg-none\"")),
        );
}

/// `--out .` in a repository must not replace its README or a secret file
/// of the same name: refused (exit 2, nothing written) unless the directory
/// is jwtai's own from an earlier run, or --force.
#[test]
fn out_refuses_to_overwrite_files_jwtai_did_not_write() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path();
    std::fs::write(repo.join("README.md"), "# My project\n").expect("write");
    std::fs::write(repo.join("hmac-secret.txt"), "the-team-secret").expect("write");
    let key = SigningKey::generate(Alg::HS256).expect("key");
    let token = input_token(Alg::HS256, &key, json!("https://api.example.com"));
    let run = |extra: &[&str]| {
        jwtai()
            .args(["suggest-tests", &token, "--now", "1700000000", "--out"])
            .arg(repo)
            .args(extra)
            .output()
            .expect("run")
    };
    let refused = run(&[]);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("README.md") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(repo.join("README.md")).unwrap(),
        "# My project\n"
    );
    assert_eq!(
        std::fs::read_to_string(repo.join("hmac-secret.txt")).unwrap(),
        "the-team-secret"
    );
    assert!(!repo.join("fixtures.json").exists());
    // --force overwrites; then the directory is jwtai's, and a rerun needs no flag.
    assert_eq!(run(&["--force"]).status.code(), Some(0));
    assert_eq!(run(&[]).status.code(), Some(0));
    // A file the team changed since is theirs: refused, named, kept.
    std::fs::write(repo.join("README.md"), "# Our notes on these tests\n").expect("write");
    let refused = run(&[]);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("README.md changed since jwtai wrote it"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(repo.join("README.md")).unwrap(),
        "# Our notes on these tests\n"
    );
    assert_eq!(run(&["--force"]).status.code(), Some(0));
    assert_ne!(
        std::fs::read_to_string(repo.join("README.md")).unwrap(),
        "# Our notes on these tests\n"
    );
}
