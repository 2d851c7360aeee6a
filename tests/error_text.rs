//! `--error` / `--error-file`: the library's message, matched against the
//! knowledge base, weighed against this token's findings.
//!
//! The whole knowledge base is checked in-process through
//! `jwtai::errortext::match_error`; the real binary runs for a representative
//! entry of each major library and for every behaviour of the report
//! (extracted expectations, ranking, disagreement, redaction, exit status).

use std::collections::BTreeSet;
use std::time::Duration;

use assert_cmd::Command;
use jwtai::alg::Alg;
use jwtai::errortext::{self, match_error};
use jwtai::sign::{SigningKey, sign_token};
use serde_json::{Value, json};

/// Every time claim is judged at this instant (2023-11-14 22:13:20 UTC).
const NOW: &str = "1700000000";

// ------------------------------------------------------------------ helpers

fn hs256() -> SigningKey {
    SigningKey::generate(Alg::HS256).expect("HS256 key")
}

fn claims(exp: i64) -> Value {
    json!({
        "iss": "https://auth.example.com/",
        "sub": "user-1",
        "aud": "https://api.example.com",
        "iat": exp - 3600,
        "exp": exp,
    })
}

/// Valid at [`NOW`].
fn valid_claims() -> Value {
    claims(1_700_003_600)
}

/// Expired 10 000 s before [`NOW`].
fn expired_claims() -> Value {
    claims(1_699_990_000)
}

fn token(claims: &Value) -> String {
    let key = hs256();
    sign_token(&json!({"alg": "HS256", "typ": "JWT"}), claims, &key).expect("sign")
}

fn jwtai() -> Command {
    let mut cmd = Command::cargo_bin("jwtai").expect("the jwtai binary is built by cargo test");
    let cache = std::env::temp_dir().join("jwtai-error-text-tests-unused-cache");
    cmd.env("NO_COLOR", "1")
        .env("JWTAI_CACHE_DIR", cache)
        .env_remove("JWTAI_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .timeout(Duration::from_secs(60));
    cmd
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Out {
    let out = jwtai().args(args).output().expect("run jwtai");
    Out {
        code: out
            .status
            .code()
            .unwrap_or_else(|| panic!("jwtai {args:?} killed by a signal")),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

struct Report {
    code: i32,
    json: Value,
    stdout: String,
}

impl Report {
    fn findings(&self) -> &[Value] {
        self.json["findings"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    fn codes(&self) -> Vec<&str> {
        self.findings()
            .iter()
            .filter_map(|f| f["code"].as_str())
            .collect()
    }

    fn has(&self, code: &str) -> bool {
        self.codes().contains(&code)
    }

    fn finding(&self, code: &str) -> &Value {
        self.findings()
            .iter()
            .find(|f| f["code"] == code)
            .unwrap_or_else(|| panic!("no `{code}` in {:?}\n{}", self.codes(), self.stdout))
    }

    fn detail(&self, code: &str) -> &str {
        self.finding(code)["detail"].as_str().unwrap_or_default()
    }

    /// Codes of the error-severity findings, in report order.
    fn errors(&self) -> Vec<&str> {
        self.findings()
            .iter()
            .filter(|f| f["severity"] == "error")
            .filter_map(|f| f["code"].as_str())
            .collect()
    }
}

/// `diagnose TOKEN --now NOW --format json EXTRA...`, stdout parsed.
fn diagnose(token: &str, extra: &[&str]) -> Report {
    let mut args = vec!["diagnose", token, "--now", NOW, "--format", "json"];
    args.extend_from_slice(extra);
    let out = run(&args);
    let json: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}), exit {}\nstdout: {}\nstderr: {}",
            out.code, out.stdout, out.stderr
        )
    });
    Report {
        code: out.code,
        json,
        stdout: out.stdout,
    }
}

// ------------------------------------------------------------------ the server's word

/// PyJWT refuses an `iat` in the future, which most libraries accept (a
/// warning): given PyJWT's message, the warning is this server's rejection.
#[test]
fn a_warning_the_servers_error_names_is_raised_to_error() {
    let mut c = valid_claims();
    c["iat"] = json!(1_700_000_300);
    let t = token(&c);
    let plain = diagnose(&t, &[]);
    assert_eq!(plain.finding("issued-in-future")["severity"], "warning");
    assert_eq!(plain.code, 0);
    let r = diagnose(
        &t,
        &[
            "--error",
            "jwt.exceptions.ImmatureSignatureError: The token is not yet valid (iat)",
        ],
    );
    assert_eq!(
        r.finding("issued-in-future")["severity"],
        "error",
        "{}",
        r.stdout
    );
    assert!(r.detail("issued-in-future").contains("PyJWT rejects"));
    assert_eq!(r.json["verdict"], "rejected");
    assert_eq!(r.code, 1);
    assert_eq!(
        r.finding("error-text-matched")["evidence"]["raised"],
        json!(["issued-in-future"])
    );
}

/// A well-formed token given as `Bearer …` and a "malformed" error: the
/// verifier got the prefix too.
#[test]
fn a_malformed_error_on_a_well_formed_token_blames_what_was_stripped() {
    let t = token(&valid_claims());
    let bearer = format!("Bearer {t}");
    let r = diagnose(&bearer, &["--error", "JsonWebTokenError: jwt malformed"]);
    assert_eq!(
        r.finding("input-extracted")["severity"],
        "error",
        "{}",
        r.stdout
    );
    assert!(
        r.detail("input-extracted").contains("Bearer"),
        "{}",
        r.detail("input-extracted")
    );
    assert_eq!(r.code, 1);
    // Pasted from a log line, the text around it never reached the verifier.
    let logged = format!("2024-01-01 INFO request token={t} path=/api");
    let r = diagnose(&logged, &["--error", "JsonWebTokenError: jwt malformed"]);
    assert_eq!(
        r.finding("input-extracted")["severity"],
        "info",
        "{}",
        r.stdout
    );
}

/// ruby-jwt's `jwks:` option always looks the key up by kid: a token without
/// one is refused, which only the message can tell (no key set given here).
#[test]
fn ruby_jwt_refusing_a_token_without_kid_raises_kid_missing() {
    let t = token(&valid_claims());
    let r = diagnose(
        &t,
        &[
            "--error",
            "JWT::DecodeError: No key id (kid) found from token headers",
        ],
    );
    assert_eq!(
        r.finding("kid-missing")["severity"],
        "error",
        "{}",
        r.stdout
    );
    assert_eq!(r.json["verdict"], "rejected");
    assert_eq!(r.code, 1);
    let m = &r.finding("error-text-matched")["evidence"];
    assert_eq!(m["library"], "Ruby jwt");
    assert_eq!(m["raised"], json!(["kid-missing"]));
    // The class alone (a Rails log of `e.class.name`) is Ruby's, not Rust's.
    let r = diagnose(
        &token(&expired_claims()),
        &["--error", "JWT::ExpiredSignature"],
    );
    assert_eq!(
        r.finding("error-text-matched")["evidence"]["library"],
        "Ruby jwt"
    );
    assert!(r.errors().contains(&"expired"), "{:?}", r.errors());
}

/// go-oidc reads a missing `exp` as year 1 and calls the token expired: the
/// cause is the missing claim, not a clock. And its verifier is an ID-token
/// verifier (the Kubernetes API server takes kubectl's ID token), so an ID
/// token there is no misuse.
#[test]
fn go_oidc_zero_expiry_is_a_missing_exp_and_its_id_tokens_are_no_misuse() {
    let mut c = valid_claims();
    c.as_object_mut().expect("claims").remove("exp");
    let r = diagnose(
        &token(&c),
        &[
            "--error",
            "oidc: token is expired (Token Expiry: 0001-01-01 00:00:00 +0000 UTC)",
        ],
    );
    assert_eq!(r.errors().first(), Some(&"exp-missing"), "{}", r.stdout);
    assert_eq!(r.json["verdict"], "rejected");
    assert!(!r.has("expired"), "{}", r.stdout);
    let mut c = expired_claims();
    c["nonce"] = json!("n-0S6_WzA2Mj");
    c["aud"] = json!("kubernetes");
    let args = [
        "--aud",
        "kubernetes",
        "--error",
        "oidc: token is expired (Token Expiry: 2023-11-14 21:13:20 +0000 UTC)",
    ];
    let r = diagnose(&token(&c), &args);
    assert!(r.has("expired"), "{}", r.stdout);
    assert!(!r.has("id-token-as-access-token"), "{}", r.stdout);
    // The same ID token with another library's message is still misuse.
    let r = diagnose(
        &token(&c),
        &["--aud", "kubernetes", "--error", "jwt expired"],
    );
    assert!(r.has("id-token-as-access-token"), "{}", r.stdout);
}

/// go-jose refuses an iat in the future ("validation field" is its typo),
/// which most libraries accept: its message raises the warning.
#[test]
fn go_jose_iat_in_the_future_raises_issued_in_future() {
    let mut c = valid_claims();
    c["iat"] = json!(1_700_000_300);
    let t = token(&c);
    for text in [
        "square/go-jose/jwt: validation field, token issued in the future (iat)",
        "go-jose/go-jose/jwt: validation field, token issued in the future (iat)",
    ] {
        let r = diagnose(&t, &["--error", text]);
        assert_eq!(
            r.finding("issued-in-future")["severity"],
            "error",
            "{}",
            r.stdout
        );
        assert!(r.detail("issued-in-future").contains("go-jose rejects"));
        assert_eq!(r.json["verdict"], "rejected");
        assert_eq!(r.code, 1);
        assert_eq!(
            r.finding("error-text-matched")["evidence"]["library"],
            "go-jose"
        );
    }
}

/// Go's base64 error on a token pasted with `Bearer ` or quotes around it:
/// the verifier got the wrapper too, and that is the rejection.
#[test]
fn go_illegal_base64_on_a_wrapped_token_blames_the_wrapper() {
    let t = token(&valid_claims());
    for (given, text) in [
        (format!("Bearer {t}"), "illegal base64 data at input byte 6"),
        (format!("\"{t}\""), "illegal base64 data at input byte 0"),
    ] {
        let r = diagnose(&given, &["--error", text]);
        assert_eq!(
            r.finding("input-extracted")["severity"],
            "error",
            "{}",
            r.stdout
        );
        assert_eq!(r.json["verdict"], "rejected");
        assert_eq!(r.code, 1);
        let lib = r.finding("error-text-matched")["evidence"]["library"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            lib.contains("golang-jwt") && lib.contains("go-jose"),
            "{lib}"
        );
    }
    // The bare token: no wrapper to blame, the server got something else.
    let r = diagnose(&t, &["--error", "illegal base64 data at input byte 6"]);
    assert!(!r.has("input-extracted"), "{:?}", r.codes());
    assert!(
        r.detail("error-text-matched").contains("well-formed"),
        "{}",
        r.stdout
    );
}

/// `exp-before-iat` replaces `expired` (it is the more specific code), so it
/// explains "jwt expired": no clock is to blame.
#[test]
fn a_more_specific_code_explains_the_generic_message() {
    let t = token(&json!({"sub": "u", "iat": 1_699_990_000, "exp": 1_699_980_000}));
    let r = diagnose(&t, &["--error", "TokenExpiredError: jwt expired"]);
    assert!(r.has("exp-before-iat"), "{:?}", r.codes());
    let d = r.detail("error-text-matched");
    assert!(d.contains("Explained by: `exp-before-iat`"), "{d}");
    assert!(!d.contains("NTP"), "{d}");
}

// ------------------------------------------------------------------ knowledge base

#[test]
fn every_knowledge_base_example_is_attributed_to_its_library() {
    let kb = errortext::knowledge_base().expect("the knowledge base loads");
    assert!(kb.len() >= 90, "only {} entries", kb.len());
    let mut wrong = Vec::new();
    for entry in kb {
        match match_error(&entry.example).first() {
            None => wrong.push(format!("{}: no match for its own example", entry.id)),
            Some(m) if m.library() != entry.library => wrong.push(format!(
                "{} ({}): matched {} ({}) first",
                entry.id,
                entry.library,
                m.entry.id,
                m.library()
            )),
            Some(_) => {}
        }
    }
    assert!(
        wrong.is_empty(),
        "{} entries:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn representative_examples_are_matched_by_the_binary() {
    let kb = errortext::knowledge_base().expect("the knowledge base loads");
    let libraries = [
        "node jsonwebtoken",
        "PyJWT",
        "golang-jwt",
        "jose (panva)",
        "Microsoft.IdentityModel",
        "jjwt",
        "Rust jsonwebtoken",
        "Nimbus JOSE+JWT",
        "aws-jwt-verify (Cognito)",
        "auth0 java-jwt",
        "Firebase Admin SDK (Node)",
        "Spring Security",
    ];
    let t = token(&valid_claims());
    let mut seen = BTreeSet::new();
    for library in libraries {
        let Some(entry) = kb.iter().find(|e| e.library == library) else {
            panic!("no knowledge base entry for {library}");
        };
        let report = diagnose(&t, &["--error", &entry.example]);
        assert!(
            report.has("error-text-matched"),
            "{}: {:?}",
            entry.id,
            report.codes()
        );
        assert!(!report.has("error-text-unknown"), "{}", entry.id);
        let evidence = &report.finding("error-text-matched")["evidence"];
        assert_eq!(evidence["library"], library, "{}: {evidence}", entry.id);
        assert!(
            report.detail("error-text-matched").contains(library),
            "{}: {}",
            entry.id,
            report.detail("error-text-matched")
        );
        seen.insert(library);
    }
    assert_eq!(seen.len(), libraries.len());
}

// ------------------------------------------------------------------ values taken from the message

#[test]
fn expected_audience_is_taken_from_the_message_and_ranked_first() {
    let mut c = expired_claims();
    c["aud"] = json!("https://api.example.org");
    let t = token(&c);

    // Without the message: no audience expectation, `expired` leads.
    let plain = diagnose(&t, &[]);
    assert!(!plain.has("audience-mismatch"), "{:?}", plain.codes());

    let report = diagnose(
        &t,
        &[
            "--error",
            "JsonWebTokenError: jwt audience invalid. expected: https://api.example.com",
        ],
    );
    assert!(report.has("audience-mismatch"), "{:?}", report.codes());
    assert!(report.has("expired"), "{:?}", report.codes());
    assert_eq!(
        report.errors().first(),
        Some(&"audience-mismatch"),
        "{:?}",
        report.errors()
    );
    let aud = report.detail("audience-mismatch");
    assert!(aud.contains("https://api.example.com"), "{aud}");
    let matched = report.finding("error-text-matched");
    assert_eq!(matched["evidence"]["library"], "node jsonwebtoken");
    assert!(
        matched["evidence"]["explained_by"]
            .as_array()
            .is_some_and(|a| a.contains(&json!("audience-mismatch"))),
        "{matched}"
    );
    let detail = report.detail("error-text-matched");
    assert!(detail.contains("--aud https://api.example.com"), "{detail}");
    assert_eq!(report.code, 1);
}

#[test]
fn expected_issuer_is_taken_from_the_message_and_ranked_first() {
    let mut c = expired_claims();
    c["iss"] = json!("https://login.other.example.net/");
    let t = token(&c);

    let report = diagnose(
        &t,
        &[
            "--error",
            "JsonWebTokenError: jwt issuer invalid. expected: https://auth.example.com/",
        ],
    );
    assert!(report.has("issuer-mismatch"), "{:?}", report.codes());
    assert_eq!(
        report.errors().first(),
        Some(&"issuer-mismatch"),
        "{:?}",
        report.errors()
    );
    assert!(
        report
            .detail("error-text-matched")
            .contains("--iss https://auth.example.com/"),
        "{}",
        report.detail("error-text-matched")
    );
    assert_eq!(report.code, 1);
}

#[test]
fn an_explicit_aud_flag_wins_over_the_message() {
    let t = token(&valid_claims());
    let report = diagnose(
        &t,
        &[
            "--aud",
            "https://api.example.com",
            "--error",
            "JsonWebTokenError: jwt audience invalid. expected: https://elsewhere.example.com",
        ],
    );
    assert!(!report.has("audience-mismatch"), "{:?}", report.codes());
    let detail = report.detail("error-text-matched");
    assert!(
        !detail.contains("Expectations taken from the message"),
        "{detail}"
    );
    assert!(
        detail.contains("different token") || detail.contains("another value"),
        "{detail}"
    );
}

#[test]
fn every_audience_the_message_lists_is_expected() {
    let t = token(&valid_claims());
    let report = diagnose(
        &t,
        &[
            "--error",
            "JsonWebTokenError: jwt audience invalid. expected: api://other or https://api.example.com",
        ],
    );
    assert!(!report.has("audience-mismatch"), "{:?}", report.codes());
    assert!(
        report
            .detail("error-text-matched")
            .contains("--aud api://other, https://api.example.com"),
        "{}",
        report.detail("error-text-matched")
    );
}

// ------------------------------------------------------------------ agreement and disagreement

#[test]
fn expiry_error_on_a_valid_token_points_at_the_clock_or_another_token() {
    let t = token(&valid_claims());
    let report = diagnose(&t, &["--error", "TokenExpiredError: jwt expired"]);

    assert!(!report.has("expired"), "{:?}", report.codes());
    let detail = report.detail("error-text-matched");
    assert!(detail.contains("clock"), "{detail}");
    assert!(detail.contains("different"), "{detail}");
    let matched = report.finding("error-text-matched");
    assert_eq!(matched["evidence"]["library"], "node jsonwebtoken");
    assert_eq!(matched["evidence"]["explained_by"], json!([]));
    assert_eq!(report.code, 0, "{}", report.stdout);
}

#[test]
fn agreeing_error_ranks_the_explaining_finding_first() {
    let t = token(&expired_claims());
    // `--alg RS256` adds alg-not-allowed, which normally outranks `expired`.
    let plain = diagnose(&t, &["--alg", "RS256"]);
    assert_eq!(
        plain.errors().first(),
        Some(&"alg-not-allowed"),
        "baseline: {:?}",
        plain.errors()
    );

    let report = diagnose(&t, &["--alg", "RS256", "--error", "Signature has expired"]);

    assert_eq!(
        report.errors().first(),
        Some(&"expired"),
        "{:?}",
        report.errors()
    );
    let matched = report.finding("error-text-matched");
    // Without its exception class the message is PyJWT's, python-jose's or Ruby jwt's.
    assert_eq!(
        matched["evidence"]["library"],
        "PyJWT, python-jose or Ruby jwt"
    );
    assert!(
        matched["evidence"]["explained_by"]
            .as_array()
            .is_some_and(|a| a.contains(&json!("expired"))),
        "{matched}"
    );
    assert!(report.detail("error-text-matched").contains("`expired`"));
    assert_eq!(report.code, 1);
}

#[test]

fn a_message_quoting_another_token_audience_says_a_different_token_reached_the_server() {
    let t = token(&valid_claims());
    let report = diagnose(
        &t,
        &[
            "--error",
            "IDX10214: Audience validation failed. Audiences: 'api://wrong'. Did not match: validationParameters.ValidAudience: 'api://my-api' or validationParameters.ValidAudiences: 'null'.",
        ],
    );
    let detail = report.detail("error-text-matched");
    assert!(detail.contains("different token"), "{detail}");
}

#[test]

fn a_message_quoting_another_kid_says_a_different_token_reached_the_server() {
    let key = hs256();
    let t = sign_token(
        &json!({"alg": "HS256", "typ": "JWT", "kid": "xyz"}),
        &valid_claims(),
        &key,
    )
    .expect("sign");
    let report = diagnose(
        &t,
        &[
            "--error",
            "SigningKeyNotFoundError: Unable to find a signing key that matches 'abc'",
        ],
    );
    assert_eq!(
        report.finding("error-text-matched")["evidence"]["library"],
        "jwks-rsa"
    );
    let detail = report.detail("error-text-matched");
    assert!(detail.contains("different token"), "{detail}");
}

/// The error-text-matched detail for TOKEN with --error TEXT.
fn matched_detail(token: &str, text: &str) -> String {
    diagnose(token, &["--error", text])
        .detail("error-text-matched")
        .to_string()
}

#[test]
fn the_class_name_in_a_real_traceback_decides_the_library() {
    let trace = r#"Traceback (most recent call last):
  File "/srv/venv/lib/python3.11/site-packages/jwt/api_jws.py", line 446, in _verify_signature
    raise InvalidSignatureError("Signature verification failed")
jwt.exceptions.InvalidSignatureError: Signature verification failed
"#;
    let t = token(&valid_claims());
    let report = diagnose(&t, &["--error", trace]);
    let matched = report.finding("error-text-matched");
    assert_eq!(matched["evidence"]["library"], "PyJWT", "{matched}");
    assert_eq!(matched["evidence"]["line"], 4, "{matched}");

    for (text, library) in [
        ("JWT::ExpiredSignature: Signature has expired", "Ruby jwt"),
        (
            "authlib.jose.errors.ExpiredTokenError: expired_token: The token is expired",
            "Authlib or joserfc",
        ),
        (
            "Lcobucci\\JWT\\Validation\\RequiredConstraintsViolated: The token violates some mandatory constraints, details:\n- The token is expired",
            "lcobucci/jwt",
        ),
        (
            "token has invalid claims: token is missing required claim: exp claim is required",
            "golang-jwt",
        ),
        ("Invalid audience. Expected api, received other", "Ruby jwt"),
        ("Signature has expired", "PyJWT, python-jose or Ruby jwt"),
        ("Jwt is expired", "Envoy/Istio jwt_authn or njwt"),
    ] {
        let report = diagnose(&t, &["--error", text]);
        assert_eq!(
            report.finding("error-text-matched")["evidence"]["library"],
            library,
            "{text}"
        );
    }
}

#[test]
fn an_exp_error_for_a_token_without_exp_is_certainly_another_token() {
    let mut c = valid_claims();
    c.as_object_mut().expect("object").remove("exp");
    let detail = matched_detail(&token(&c), "TokenExpiredError: jwt expired");
    assert!(detail.contains("has no exp"), "{detail}");
    assert!(detail.contains("certainly"), "{detail}");
    assert!(!detail.contains("clock differs"), "{detail}");
}

#[test]
fn an_nbf_error_for_a_token_without_nbf_is_certainly_another_token() {
    let detail = matched_detail(&token(&valid_claims()), "NotBeforeError: jwt not active");
    assert!(detail.contains("has no nbf"), "{detail}");
    assert!(detail.contains("certainly"), "{detail}");
    assert!(!detail.contains("clock differs"), "{detail}");
}

#[test]
fn a_missing_exp_error_for_a_token_with_exp_is_certainly_another_token() {
    let t = token(&valid_claims());
    for text in [
        "IDX10225: Lifetime validation failed. The token is missing an Expiration Time. Tokentype: 'System.IdentityModel.Tokens.Jwt.JwtSecurityToken'.",
        "token has invalid claims: token is missing required claim: exp claim is required",
    ] {
        let detail = matched_detail(&t, text);
        assert!(detail.contains("this token has exp"), "{detail}");
        assert!(detail.contains("certainly"), "{detail}");
    }
}

#[test]
fn a_max_age_error_gives_the_token_age() {
    let mut c = valid_claims();
    c["iat"] = json!(1_700_000_000 - 10_000);
    let t = token(&c);
    for text in [
        "TokenExpiredError: maxAge exceeded",
        "JWTExpired: \"iat\" claim timestamp check failed (too far in the past)",
    ] {
        // The message proves a maximum age below the token's: an error
        // of its own, not "no such problem".
        let r = diagnose(&t, &["--error", text]);
        let detail = r.detail("token-too-old");
        assert!(detail.contains("2 h 46 min"), "{detail}");
        assert!(detail.contains("below"), "{detail}");
        assert_eq!(r.code, 1);
        let matched = r.detail("error-text-matched");
        assert!(
            matched.contains("Explained by: `token-too-old`"),
            "{matched}"
        );
    }
    // Given the bound, jwtai checks it itself; with no iat, nothing to measure.
    let r = diagnose(&t, &["--max-age", "2h"]);
    assert!(
        r.detail("token-too-old")
            .contains("over the maximum age 2 h"),
        "{}",
        r.stdout
    );
    assert!(!diagnose(&t, &["--max-age", "3h"]).has("token-too-old"));
    let mut c = valid_claims();
    c.as_object_mut().expect("object").remove("iat");
    let r = diagnose(
        &token(&c),
        &[
            "--error",
            "JsonWebTokenError: iat required when maxAge is specified",
        ],
    );
    assert!(
        r.detail("token-too-old").contains("no `iat`"),
        "{}",
        r.stdout
    );
}

/// jose's `typ` option, RFC 9068 access tokens: by flag, or told by the message.
#[test]
fn a_required_typ_by_flag_or_by_the_message() {
    let t = token(&valid_claims());
    let r = diagnose(&t, &["--typ", "at+jwt"]);
    assert!(r.detail("typ-mismatch").contains("\"JWT\""), "{}", r.stdout);
    assert_eq!(r.code, 1);
    assert!(!diagnose(&t, &["--typ", "application/jwt"]).has("typ-mismatch"));
    let r = diagnose(
        &t,
        &[
            "--error",
            "JWTClaimValidationFailed: unexpected \"typ\" JWT header value",
        ],
    );
    assert!(r.detail("typ-mismatch").contains("at+jwt"), "{}", r.stdout);
    assert_eq!(r.code, 1);
}

/// The first sentence of an IdentityModel message, its code alone, names it.
#[test]
fn an_identitymodel_code_alone_is_recognised() {
    let t = token(&valid_claims());
    for (text, id) in [
        (
            "IDX10214: Audience validation failed.",
            "identitymodel-idx10214-short",
        ),
        (
            "IDX10503: Signature validation failed.",
            "identitymodel-idx10503-short",
        ),
    ] {
        let r = diagnose(&t, &["--error", text]);
        assert_eq!(
            r.finding("error-text-matched")["evidence"]["id"],
            id,
            "{text}"
        );
    }
}

/// Checks only some libraries make, told by their message: PyJWT 2.10's
/// string `sub`, `strict_aud`, PyJWKClient's lookup by kid; and a
/// "malformed" error on a well-formed token, IdentityModel's keys tried.
#[test]
fn what_only_the_servers_library_checks_is_told_by_its_message() {
    let mut c = valid_claims();
    c["sub"] = json!(42);
    let r = diagnose(
        &token(&c),
        &[
            "--error",
            "jwt.exceptions.InvalidSubjectError: Subject must be a string",
        ],
    );
    // Said by type: a claim's value is never quoted (`sub` is always masked).
    assert!(
        r.detail("claim-mismatch")
            .contains("`sub` is a JSON number, not a string"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains(" 42"), "{}", r.stdout);
    let mut c = valid_claims();
    c["aud"] = json!(["https://api.example.com"]);
    let r = diagnose(
        &token(&c),
        &[
            "--aud",
            "https://api.example.com",
            "--error",
            "jwt.exceptions.InvalidAudienceError: Invalid claim format in token (strict)",
        ],
    );
    assert!(
        r.detail("audience-mismatch").contains("strict_aud"),
        "{}",
        r.stdout
    );
    assert!(
        r.detail("error-text-matched")
            .contains("Explained by: `audience-mismatch`")
    );
    let t = token(&valid_claims());
    let r = diagnose(
        &t,
        &[
            "--error",
            "jwt.exceptions.PyJWKClientError: Unable to find a signing key that matches: \"None\"",
        ],
    );
    assert_eq!(
        r.finding("kid-missing")["severity"],
        "error",
        "{}",
        r.stdout
    );
    assert!(!r.detail("error-text-matched").contains("different token"));
    let r = diagnose(
        &t,
        &[
            "--error",
            "jwt.exceptions.DecodeError: Invalid header padding",
        ],
    );
    assert!(
        r.detail("error-text-matched").contains("well-formed"),
        "{}",
        r.stdout
    );
}

/// Review of the first version: an age message about a token without iat,
/// a copied trailing comma, "Invalid audience (strict)" (the server's
/// audience list, not the token's aud) raise nothing.
#[test]
fn the_servers_message_raises_only_what_it_is_about() {
    let t = token(&valid_claims());
    let r = diagnose(
        &t,
        &[
            "--error",
            "JsonWebTokenError: iat required when maxAge is specified",
        ],
    );
    assert!(!r.has("token-too-old"), "{}", r.stdout);
    let r = diagnose(
        &format!("{t},"),
        &["--error", "JsonWebTokenError: jwt malformed"],
    );
    assert_eq!(
        r.finding("input-extracted")["severity"],
        "info",
        "{}",
        r.stdout
    );
    let mut c = valid_claims();
    c["aud"] = json!(["https://api.example.com", "web"]);
    let r = diagnose(
        &token(&c),
        &[
            "--error",
            "jwt.exceptions.InvalidAudienceError: Invalid audience (strict)",
        ],
    );
    assert!(!r.has("audience-mismatch"), "{}", r.stdout);
}

/// `jwt jwtid invalid. expected: xyz`: the message says the value.
#[test]
fn a_claim_value_the_message_expects_is_compared() {
    let mut c = valid_claims();
    c["jti"] = json!("abc");
    let r = diagnose(
        &token(&c),
        &[
            "--error",
            "JsonWebTokenError: jwt jwtid invalid. expected: xyz",
        ],
    );
    assert!(
        r.detail("claim-mismatch").contains("`jti` = \"xyz\""),
        "{}",
        r.stdout
    );
    assert!(r.detail("error-text-matched").contains("--claim jti=xyz"));
}

#[test]
fn a_quoted_exp_of_another_token_proves_a_different_token() {
    // This token expires 2023-11-14 23:13:20 UTC; the message quotes 2025-10-08.
    let detail = matched_detail(
        &token(&valid_claims()),
        "IDX10223: Lifetime validation failed. The token is expired. ValidTo: '10/8/2025 6:06:40 AM', Current time: '10/9/2025 8:53:20 AM'.",
    );
    assert!(detail.contains("10/8/2025 6:06:40 AM"), "{detail}");
    assert!(detail.contains("different token"), "{detail}");
    assert!(!detail.contains("clock differs"), "{detail}");
}

#[test]
fn the_current_time_in_the_message_is_the_server_clock() {
    // exp 2023-11-14 23:13:20; the server's time 2023-11-14 23:20:00 is 6 min 40 s later,
    // and 1 h 6 min 40 s after jwtai's now.
    let detail = matched_detail(
        &token(&valid_claims()),
        "IDX10223: Lifetime validation failed. The token is expired. ValidTo (UTC): '11/14/2023 11:13:20 PM', Current time (UTC): '11/14/2023 11:20:00 PM'.",
    );
    assert!(detail.contains("server's time"), "{detail}");
    assert!(detail.contains("6 min 40 s"), "{detail}");
    assert!(detail.contains("ahead"), "{detail}");
    assert!(detail.contains("--now 1700004000"), "{detail}");
    assert!(!detail.contains("different token"), "{detail}");
}

#[test]
fn an_audience_message_quoting_only_the_token_audience_says_so() {
    let t = token(&valid_claims());
    for text in [
        "The audience 'other' is invalid",
        "com.nimbusds.jwt.proc.BadJWTException: JWT audience rejected: [other]",
    ] {
        let detail = matched_detail(&t, text);
        assert!(!detail.contains("quotes none"), "{detail}");
        assert!(detail.contains("does not say which audience"), "{detail}");
        assert!(detail.contains("different token"), "{detail}");
    }
    // Quoting this token's own audience: the server expects another one.
    let detail = matched_detail(&t, "The audience 'https://api.example.com' is invalid");
    assert!(detail.contains("expects a different one"), "{detail}");
    assert!(!detail.contains("different token"), "{detail}");
}

#[test]
fn a_regular_expression_audience_matching_the_token_is_no_audience_mismatch() {
    let t = token(&valid_claims());
    let report = diagnose(
        &t,
        &[
            "--error",
            "JsonWebTokenError: jwt audience invalid. expected: /api.*/",
        ],
    );
    assert!(!report.has("audience-mismatch"), "{:?}", report.codes());
    let detail = report.detail("error-text-matched");
    assert!(detail.contains("/api.*/"), "{detail}");
    assert!(detail.contains("matches this token's audience"), "{detail}");

    let detail = matched_detail(
        &t,
        "JsonWebTokenError: jwt audience invalid. expected: /^web$/",
    );
    assert!(detail.contains("matches none"), "{detail}");

    // A pattern beside a plain value: the plain value alone is no
    // expectation, since the token passes by the pattern.
    let report = diagnose(
        &t,
        &[
            "--error",
            "JsonWebTokenError: jwt audience invalid. expected: /api.*/ or https://b.example.com",
        ],
    );
    assert!(!report.has("audience-mismatch"), "{:?}", report.codes());
}

/// With only `--iss` given, an audience error is weighed as one whose
/// expected audience nobody stated, not as "the token matches the
/// expected value given".
#[test]
fn an_audience_error_is_weighed_against_the_audience_flag_alone() {
    let t = token(&valid_claims());
    let report = diagnose(
        &t,
        &[
            "--iss",
            "https://auth.example.com/",
            "--error",
            "jwt.exceptions.InvalidAudienceError: Invalid audience",
        ],
    );
    let detail = report.detail("error-text-matched");
    assert!(
        !detail.contains("matches the expected value given"),
        "{detail}"
    );
}

#[test]
fn unknown_text_is_error_text_unknown() {
    let t = token(&valid_claims());
    let report = diagnose(
        &t,
        &[
            "--error",
            "upstream connect error or disconnect/reset before headers",
        ],
    );
    assert!(report.has("error-text-unknown"), "{:?}", report.codes());
    assert!(!report.has("error-text-matched"), "{:?}", report.codes());
    assert_eq!(report.finding("error-text-unknown")["severity"], "info");
    assert_eq!(report.code, 0);
}

// ------------------------------------------------------------------ --error-file and usage errors

#[test]
fn error_file_with_a_coloured_node_stack_trace_is_matched() {
    let trace = "\
2024-01-15T10:30:00.123Z ERROR [api] request failed: GET /v1/orders 401
\u{1b}[31mTokenExpiredError: jwt expired\u{1b}[39m
    at /app/node_modules/jsonwebtoken/verify.js:190:21
    at getSecret (/app/node_modules/jsonwebtoken/verify.js:97:14)
    at authenticate (/app/src/middleware/auth.js:22:9) {
  expiredAt: 2023-11-14T19:26:40.000Z
}
";
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("trace.log");
    std::fs::write(&path, trace).expect("write trace");
    let t = token(&expired_claims());

    let report = diagnose(&t, &["--error-file", path.to_str().expect("utf-8 path")]);

    let matched = report.finding("error-text-matched");
    assert_eq!(matched["evidence"]["library"], "node jsonwebtoken");
    assert_eq!(matched["evidence"]["line"], 2);
    assert!(!report.stdout.contains('\u{1b}'), "colour codes leaked");
    assert_eq!(report.errors().first(), Some(&"expired"));
}

#[test]
fn error_file_with_crlf_and_non_utf8_bytes_is_matched() {
    let mut bytes = b"caf\xe9 log line\r\n".to_vec();
    bytes.extend_from_slice(b"jwt.exceptions.ExpiredSignatureError: Signature has expired\r\n");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("trace.log");
    std::fs::write(&path, bytes).expect("write trace");
    let t = token(&expired_claims());

    let report = diagnose(&t, &["--error-file", path.to_str().expect("utf-8 path")]);

    let matched = report.finding("error-text-matched");
    assert_eq!(matched["evidence"]["library"], "PyJWT");
    assert_eq!(matched["evidence"]["line"], 2);
}

#[test]
fn a_utf16_error_file_from_powershell_is_matched() {
    let text = "IDX10223: Lifetime validation failed. The token is expired.\r\n";
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("err.txt");
    std::fs::write(&path, bytes).expect("write error file");
    let t = token(&expired_claims());

    let report = diagnose(&t, &["--error-file", path.to_str().expect("utf-8 path")]);

    assert!(!report.has("error-text-unknown"), "{:?}", report.codes());
    let matched = report.finding("error-text-matched");
    assert_eq!(matched["evidence"]["library"], "Microsoft.IdentityModel");
}

#[test]
fn error_and_error_file_together_are_a_usage_error() {
    let t = token(&valid_claims());
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("trace.log");
    std::fs::write(&path, "TokenExpiredError: jwt expired").expect("write trace");
    let out = run(&[
        "diagnose",
        &t,
        "--now",
        NOW,
        "--error",
        "jwt expired",
        "--error-file",
        path.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(out.code, 2, "{}", out.stderr);
}

#[test]
fn an_error_file_that_is_a_directory_is_a_usage_error() {
    let t = token(&valid_claims());
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run(&[
        "diagnose",
        &t,
        "--now",
        NOW,
        "--error-file",
        dir.path().to_str().expect("utf-8 path"),
    ]);
    assert_eq!(out.code, 2, "{}", out.stderr);
}

#[test]
fn a_missing_error_file_is_a_usage_error() {
    let t = token(&valid_claims());
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("no-such-trace.log");
    let out = run(&[
        "diagnose",
        &t,
        "--now",
        NOW,
        "--format",
        "json",
        "--error-file",
        missing.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(
        out.code, 2,
        "stdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
    assert!(!out.stderr.trim().is_empty());
    assert!(!out.stderr.contains(&t) && !out.stdout.contains(&t));
}

#[test]
fn an_empty_error_is_a_usage_error() {
    let t = token(&valid_claims());
    for empty in ["", "   \n"] {
        let out = run(&[
            "diagnose", &t, "--now", NOW, "--format", "json", "--error", empty,
        ]);
        assert_eq!(
            out.code, 2,
            "{empty:?}: stdout: {}\nstderr: {}",
            out.stdout, out.stderr
        );
        assert!(out.stderr.contains("--error"), "{}", out.stderr);
    }
}

// ------------------------------------------------------------------ secrets

/// Neither the token nor its signature segment may appear in any output.
fn assert_absent(token: &str, out: &str, what: &str) {
    let signature = token.rsplit('.').next().unwrap_or(token);
    assert!(!out.contains(token), "{what}: the token leaked:\n{out}");
    assert!(
        !out.contains(signature),
        "{what}: the signature segment leaked:\n{out}"
    );
}

#[test]
fn the_diagnosed_token_pasted_in_the_error_text_never_appears_in_the_output() {
    let t = token(&valid_claims());
    let error = format!(
        "JsonWebTokenError: invalid signature\n    at verify (/app/auth.js:10:3)\n  token: {t}\n"
    );
    for format in ["json", "human", "markdown"] {
        let out = run(&[
            "diagnose", &t, "--now", NOW, "--format", format, "--error", &error,
        ]);
        assert_ne!(out.code, 2, "{}", out.stderr);
        assert_absent(&t, &out.stdout, format);
        assert_absent(&t, &out.stderr, format);
    }
}

#[test]

fn another_token_quoted_by_the_error_text_never_appears_in_the_output() {
    let t = token(&valid_claims());
    let other = token(&expired_claims());
    // A message whose quoted value (the "expected audience") is a token.
    let error = format!("JsonWebTokenError: jwt audience invalid. expected: {other}");
    for format in ["json", "human", "markdown"] {
        let out = run(&[
            "diagnose", &t, "--now", NOW, "--format", format, "--error", &error,
        ]);
        assert_ne!(out.code, 2, "{}", out.stderr);
        assert_absent(&other, &out.stdout, format);
        assert_absent(&other, &out.stderr, format);
    }
}

/// A detail quotes a long claim value cut short; the cut value is masked
/// like the whole one, in every format (it used to print 116 characters of
/// an API key in a claim the error text names).
#[test]
fn a_long_secret_quoted_cut_short_is_still_masked() {
    let mut claims = valid_claims();
    let key = format!("sk_live_{}", "Ab3dEf9hIj".repeat(20));
    claims["api_key"] = json!(key);
    let t = token(&claims);
    for format in ["json", "human", "markdown"] {
        let out = run(&[
            "diagnose",
            &t,
            "--now",
            NOW,
            "--format",
            format,
            "--error",
            "Token is missing the \"api_key\" claim",
        ]);
        assert!(
            !out.stdout.contains("Ab3dEf9hIj"),
            "{format}: {}",
            out.stdout
        );
        assert!(
            out.stdout.contains("«masked:apikey"),
            "{format}: {}",
            out.stdout
        );
    }
}

// ------------------------------------------------------------------ attribution, escapes, keys tried

/// The evidence of the error-text-matched finding for TOKEN with --error TEXT.
fn matched_evidence(token: &str, text: &str) -> Value {
    diagnose(token, &["--error", text]).finding("error-text-matched")["evidence"].clone()
}

#[test]
fn the_python_jose_namespace_kong_body_and_fast_jwt_text_name_their_library() {
    let t = token(&valid_claims());
    for (text, library, id) in [
        (
            "jose.exceptions.JWTClaimsError: Invalid issuer",
            "python-jose",
            "python-jose-invalid-issuer",
        ),
        (
            "jose.exceptions.JWTClaimsError: Invalid audience",
            "python-jose",
            "python-jose-invalid-audience",
        ),
        (
            "jose.exceptions.JWTClaimsError: The token is not yet valid (nbf)",
            "python-jose",
            "python-jose-not-yet-valid-nbf",
        ),
        (
            "jose.exceptions.JWTError: The specified alg value is not allowed",
            "python-jose",
            "python-jose-alg-not-allowed",
        ),
        (
            "jose.exceptions.ExpiredSignatureError: Signature has expired.",
            "python-jose",
            "python-jose-signature-expired",
        ),
        // The same texts under PyJWT's namespace stay PyJWT's.
        (
            "jwt.exceptions.InvalidIssuerError: Invalid issuer",
            "PyJWT",
            "pyjwt-invalid-issuer",
        ),
        (
            "jwt.exceptions.InvalidAlgorithmError: The specified alg value is not allowed",
            "PyJWT",
            "pyjwt-alg-not-allowed",
        ),
        (
            r#"{"message":"Invalid signature"}"#,
            "Kong jwt plugin",
            "kong-invalid-signature",
        ),
        (
            "2025/01/15 10:30:00 [kong] handler.lua: Invalid signature",
            "Kong jwt plugin",
            "kong-invalid-signature",
        ),
        // node jsonwebtoken prints it in lower case, also inside a JSON body.
        (
            r#"{"message":"invalid signature"}"#,
            "node jsonwebtoken",
            "node-jsonwebtoken-invalid-signature",
        ),
        (
            "Error: The token signature is invalid.",
            "fast-jwt",
            "fast-jwt-invalid-signature",
        ),
        (
            "token signature is invalid: signature is invalid",
            "golang-jwt",
            "golang-jwt-signature-invalid",
        ),
    ] {
        let evidence = matched_evidence(&t, text);
        assert_eq!(evidence["library"], library, "{text}: {evidence}");
        assert_eq!(evidence["id"], id, "{text}: {evidence}");
    }
}

#[test]
fn pyjwt_invalid_audience_means_decode_got_no_audience() {
    let t = token(&valid_claims());
    let evidence = matched_evidence(&t, "jwt.exceptions.InvalidAudienceError: Invalid audience");
    assert_eq!(evidence["id"], "pyjwt-invalid-audience", "{evidence}");
    let kb = errortext::knowledge_base().expect("the knowledge base loads");
    let entry = kb
        .iter()
        .find(|e| e.id == "pyjwt-invalid-audience")
        .expect("entry");
    assert!(
        entry.meaning.contains("without audience="),
        "{}",
        entry.meaning
    );
    assert!(!entry.codes.iter().any(|c| c == "audience-missing"));
    // A wrong audience and strict mode have messages of their own.
    for (text, id) in [
        (
            "jwt.exceptions.InvalidAudienceError: Audience doesn't match",
            "pyjwt-audience-doesnt-match",
        ),
        (
            "jwt.exceptions.InvalidAudienceError: Invalid audience (strict)",
            "pyjwt-invalid-audience-strict",
        ),
        (
            "jwt.exceptions.InvalidAudienceError: Invalid claim format in token (strict)",
            "pyjwt-invalid-claim-format-strict",
        ),
    ] {
        assert_eq!(matched_evidence(&t, text)["id"], id, "{text}");
    }
}

#[test]
fn identitymodel_keys_tried_are_the_server_kids() {
    let text = "Microsoft.IdentityModel.Tokens.SecurityTokenSignatureKeyNotFoundException: IDX10503: Signature validation failed. The token's kid is: 'k9', but did not match any keys in TokenValidationParameters or Configuration. Keys tried: 'Microsoft.IdentityModel.Tokens.RsaSecurityKey, KeyId: 'k1', InternalId: 'i1'. , KeyId: k1\nMicrosoft.IdentityModel.Tokens.RsaSecurityKey, KeyId: 'k2', InternalId: 'i2'. , KeyId: k2\n'. Number of keys in TokenValidationParameters: '0'. \nNumber of keys in Configuration: '2'.";
    let m = match_error(text).into_iter().next().expect("a match");
    assert_eq!(m.entry.id, "identitymodel-idx10503-kid-not-matched");
    assert_eq!(m.expected.kid.as_deref(), Some("k9"));
    assert_eq!(m.expected.keys_tried, ["k1", "k2"]);

    let older = "IDX10503: Signature validation failed. Keys tried: 'Microsoft.IdentityModel.Tokens.SymmetricSecurityKey, KeyId: '', InternalId: 'x'. , KeyId: \n'.";
    let m = match_error(older).into_iter().next().expect("a match");
    assert!(m.expected.keys_tried.is_empty(), "{:?}", m.expected);

    let t = token(&valid_claims());
    let evidence = matched_evidence(&t, text);
    assert_eq!(evidence["library"], "Microsoft.IdentityModel", "{evidence}");
}

#[test]
fn json_escaped_error_text_matches_like_the_plain_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A Serilog line: the quotes are \u0027.
    let serilog = r#"{"Level":"Information","Properties":{"FailureMessage":"IDX10214: Audience validation failed. Audiences: \u0027https://api.example.com\u0027. Did not match: validationParameters.ValidAudience: \u0027api://orders-api\u0027 or validationParameters.ValidAudiences: \u0027null\u0027.","SourceContext":"Microsoft.AspNetCore.Authentication.JwtBearer.JwtBearerHandler"}}"#;
    let path = dir.path().join("net.log");
    std::fs::write(&path, serilog).expect("write");
    let t = token(&valid_claims());
    let report = diagnose(&t, &["--error-file", path.to_str().expect("utf-8 path")]);
    let matched = report.finding("error-text-matched");
    assert_eq!(matched["evidence"]["id"], "identitymodel-idx10214-audience");
    assert!(report.has("audience-mismatch"), "{:?}", report.codes());
    assert!(
        report
            .detail("audience-mismatch")
            .contains("api://orders-api"),
        "{}",
        report.detail("audience-mismatch")
    );

    // A Python JSON log: \" and \n inside the traceback.
    let python = r#"{"levelname": "ERROR", "exc_info": "Traceback (most recent call last):\n  File \"/app/auth.py\", line 42, in verify\njwt.exceptions.PyJWKClientError: Unable to find a signing key that matches: \"k2\""}"#;
    let m = match_error(python).into_iter().next().expect("a match");
    assert_eq!(m.entry.id, "pyjwt-jwks-kid-not-found");
    assert_eq!(m.library(), "PyJWT");
    assert_eq!(m.expected.kid.as_deref(), Some("k2"));
    assert_eq!(m.line, 3, "\\n counts as a line break");
}

// ------------------------------------------------------------------ platform components

/// The Kubernetes API server logs go-oidc's reason inside its own wrapper:
/// go-oidc is named, the token's exp is compared with the quoted expiry, and
/// `expired` leads the report.
#[test]
fn kubernetes_api_server_log_of_an_expired_oidc_token() {
    let t = token(&expired_claims());
    // 1 699 990 000 = 2023-11-14 19:26:40 UTC, printed by Go in the server's zone.
    let log = r#"E1114 22:13:20.000000       1 authentication.go:74] "Unable to authenticate the request" err="[invalid bearer token, oidc: verify token: oidc: token is expired (Token Expiry: 2023-11-14 20:26:40 +0100 CET)]""#;
    let r = diagnose(&t, &["--error", log]);
    assert_eq!(r.errors().first(), Some(&"expired"), "{:?}", r.errors());
    let matched = r.finding("error-text-matched");
    assert_eq!(matched["evidence"]["library"], "go-oidc", "{matched}");
    assert_eq!(matched["evidence"]["id"], "go-oidc-token-expired");
    let d = r.detail("error-text-matched");
    assert!(d.contains("Explained by: `expired`"), "{d}");
    assert!(d.contains("Also matched: Kubernetes API server"), "{d}");
    assert!(!d.contains("different token"), "{d}");
    assert_eq!(r.code, 1);

    // The same line quoting another expiry: the server saw another token.
    let other = log.replace("20:26:40 +0100 CET", "20:26:40 +0000 UTC");
    let r = diagnose(&t, &["--error", &other]);
    let d = r.detail("error-text-matched");
    assert!(d.contains("different token"), "{d}");
}

/// Kubernetes' own audience check quotes its audiences as a Go list inside a
/// klog line; they become the expectation and `audience-mismatch` leads.
#[test]
fn kubernetes_api_server_log_of_a_wrong_audience() {
    let t = token(&valid_claims());
    let log = r#"E1114 22:13:20.000000       1 authentication.go:74] "Unable to authenticate the request" err="[invalid bearer token, oidc: verify token: oidc: expected audience in [\"kubernetes\" \"k8s-prod\"] got [\"https://api.example.com\"]]""#;
    let r = diagnose(&t, &["--error", log]);
    assert_eq!(
        r.errors().first(),
        Some(&"audience-mismatch"),
        "{:?}",
        r.errors()
    );
    let matched = r.finding("error-text-matched");
    assert_eq!(
        matched["evidence"]["library"], "Kubernetes API server (OIDC)",
        "{matched}"
    );
    let d = r.detail("error-text-matched");
    assert!(d.contains("--aud kubernetes, k8s-prod"), "{d}");
    assert!(!d.contains("different token"), "{d}");
    assert_eq!(r.code, 1);
}

/// PostgREST's PGRST301 for a token signed with another secret than its
/// jwt-secret: `signature-invalid` leads and PostgREST is named.
#[test]
fn postgrest_invalid_signature_with_the_servers_secret() {
    let t = token(&valid_claims());
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("jwt-secret.json");
    // base64url of "another-secret-another-secret-32": not the key that signed.
    std::fs::write(
        &key,
        r#"{"kty":"oct","k":"YW5vdGhlci1zZWNyZXQtYW5vdGhlci1zZWNyZXQtMzI"}"#,
    )
    .expect("write key");
    let body = r#"{"code":"PGRST301","details":null,"hint":null,"message":"JWT cryptographic operation failed"}"#;
    let r = diagnose(
        &t,
        &["--key", key.to_str().expect("utf-8 path"), "--error", body],
    );
    assert_eq!(
        r.errors().first(),
        Some(&"signature-invalid"),
        "{:?}",
        r.errors()
    );
    let matched = r.finding("error-text-matched");
    assert_eq!(matched["evidence"]["library"], "PostgREST", "{matched}");
    assert!(
        matched["evidence"]["explained_by"]
            .as_array()
            .is_some_and(|a| a.contains(&json!("signature-invalid"))),
        "{matched}"
    );
    assert_eq!(r.code, 1);
}

/// djangorestframework-simplejwt and flask-jwt-extended name the claim in
/// words ("Token has no id") or imply the value they want ("Only
/// non-refresh tokens are allowed"): the entry says which claim and value,
/// and the token is checked against them.
#[test]
fn a_claim_or_value_the_message_implies_is_checked() {
    let mut c = valid_claims();
    c["token_type"] = json!("access");
    let r = diagnose(
        &token(&c),
        &[
            "--error",
            r#"{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":[{"token_class":"AccessToken","token_type":"access","message":"Token has no id"}]}"#,
        ],
    );
    assert!(r.detail("missing-claim").contains("`jti`"), "{}", r.stdout);
    assert!(r.detail("error-text-matched").contains("--require jti"));
    assert_eq!(r.code, 1);

    let mut c = valid_claims();
    c["type"] = json!("refresh");
    let r = diagnose(
        &token(&c),
        &[
            "--error",
            r#"{"msg":"Only non-refresh tokens are allowed"}"#,
        ],
    );
    assert!(
        r.detail("claim-mismatch")
            .contains("`type` = \"access\"; the token has \"refresh\""),
        "{}",
        r.stdout
    );
    assert_eq!(r.code, 1);
    c["type"] = json!("access");
    let r = diagnose(
        &token(&c),
        &[
            "--error",
            r#"{"msg":"Only non-refresh tokens are allowed"}"#,
        ],
    );
    assert!(!r.has("claim-mismatch"), "{}", r.stdout);
}

/// simplejwt's bare "Token has wrong type" quotes no value: the token's
/// `token_type` says which token of the pair went to the wrong place.
#[test]
fn a_wrong_token_type_names_the_other_token_of_the_pair() {
    let text = r#"{"detail":"Token has wrong type","code":"token_not_valid"}"#;
    let mut c = valid_claims();
    c["token_type"] = json!("access");
    let r = diagnose(&token(&c), &["--error", text]);
    assert!(
        r.detail("claim-mismatch")
            .contains("This is an access token"),
        "{}",
        r.stdout
    );
    assert_eq!(r.errors().first(), Some(&"claim-mismatch"));
    c["token_type"] = json!("refresh");
    let r = diagnose(&token(&c), &["--error", text]);
    assert!(
        r.detail("claim-mismatch")
            .contains("This is a refresh token")
    );
    // Quoted by the message: the value it requires is compared instead.
    let quoted = r#"{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":[{"token_class":"AccessToken","token_type":"access","message":"Token has wrong type"}]}"#;
    let r = diagnose(&token(&c), &["--error", quoted]);
    assert!(
        r.detail("claim-mismatch")
            .contains("`token_type` = \"access\""),
        "{}",
        r.stdout
    );
    // A token without the claim is not what the message is about.
    let r = diagnose(&token(&valid_claims()), &["--error", text]);
    assert!(!r.has("claim-mismatch"), "{}", r.stdout);
}

/// A message quoting the token's own kid (Auth0's base64 kids look like
/// secrets) keeps it: the kid is in the report anyway, and masking it in the
/// message made jwtai say the server saw another token. Another kid is
/// still masked, and still told apart.
#[test]
fn the_tokens_own_kid_in_a_message_stays_comparable() {
    let kid = "NjVBRjY5MDlCMUIwNzU4RTA2QzZFMDQ4QzQ2MDAyQjVDNjk1RTM2Qg";
    let t = sign_token(
        &json!({"alg": "HS256", "typ": "JWT", "kid": kid}),
        &valid_claims(),
        &hs256(),
    )
    .expect("sign");
    let message =
        format!("SigningKeyNotFoundError: Unable to find a signing key that matches '{kid}'");
    let r = diagnose(&t, &["--error", &message]);
    let detail = r.detail("error-text-matched");
    assert!(detail.contains(&format!("matches '{kid}'")), "{detail}");
    assert!(!detail.contains("different token"), "{detail}");
    let other = message.replace("NjVB", "XjVB");
    let r = diagnose(&t, &["--error", &other]);
    let detail = r.detail("error-text-matched");
    assert!(!detail.contains("XjVB"), "{detail}");
    assert!(detail.contains("different token"), "{detail}");
}
