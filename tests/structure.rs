//! Input and structure findings (findings.md, "Input and structure"): one test
//! per code, named after it, on tokens built here, judged at a fixed `--now`.
//! Also holds the shared negative test: a valid token triggers none of the
//! offline codes of the four families.

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::*;
use serde_json::{Value, json};

fn valid() -> String {
    hs256(valid_claims())
}

/// Asserts `input-extracted` (info, exit 0) whose detail names `stripped`, and
/// that the token inside was decoded.
fn assert_extracted(input: &str, stripped: &[&str]) -> Value {
    let (r, code) = report(&[input, "--iss", ISS, "--aud", AUD]);
    assert_finding(&r, "input-extracted", "info");
    assert_detail(&r, "input-extracted", stripped);
    assert_exit(&r, code, 0);
    assert_eq!(r["token"]["kind"], "jws", "{r:#}");
    assert_eq!(r["token"]["claims"]["iss"], ISS, "{r:#}");
    r
}

#[test]
fn valid_token_produces_none_of_the_offline_codes() {
    let (r, code) = report(&[&valid(), "--iss", ISS, "--aud", AUD, "--alg", "HS256"]);
    assert_exit(&r, code, 0);
    for family in [STRUCTURE_CODES, HEADER_CODES, TIME_CODES, CLAIMS_CODES] {
        for c in family {
            assert_absent(&r, c);
        }
    }
    assert_eq!(r["token"]["kind"], "jws");
    assert_eq!(r["token"]["header"]["alg"], "HS256");
    assert_eq!(
        r["token"]["signature"],
        json!({"present": true, "bytes": 32})
    );
}

#[test]
fn valid_token_is_accepted_with_its_secret() {
    // Proves the shared helper signs correctly: the binary verifies the HMAC.
    let secret = std::str::from_utf8(SECRET).expect("ASCII secret");
    let out = jwtai()
        .env("JWTAI_TEST_SECRET", secret)
        .args([
            "diagnose",
            &valid(),
            "--now",
            NOW_ARG,
            "--iss",
            ISS,
            "--aud",
            AUD,
            "--secret-env",
            "JWTAI_TEST_SECRET",
            "--format",
            "json",
        ])
        .output()
        .unwrap_or_else(|e| panic!("could not run jwtai: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}): {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(v["verdict"], "accepted", "{v:#}");
    assert_eq!(out.status.code(), Some(0));
    assert!(!stdout.contains(secret), "secret printed");
}

#[test]
fn input_extracted_from_bearer_prefix() {
    assert_extracted(&format!("Bearer {}", valid()), &["`Bearer ` scheme prefix"]);
}

#[test]
fn input_extracted_from_authorization_header_line() {
    assert_extracted(
        &format!("Authorization: Bearer {}", valid()),
        &["`Authorization:` header", "`Bearer ` scheme prefix"],
    );
}

#[test]
fn input_extracted_from_cookie_line() {
    let r = assert_extracted(
        &format!("Cookie: theme=dark; session={}; lang=en", valid()),
        &["cookie (`session=`)"],
    );
    let fix = finding(&r, "input-extracted")["fix"].as_str().unwrap_or("");
    assert!(
        fix.contains("`session` cookie"),
        "fix names the cookie: {fix}"
    );
}

#[test]
fn input_extracted_from_double_quotes() {
    assert_extracted(
        &format!("\"{}\"", valid()),
        &["surrounding quotes (\"...\")"],
    );
}

#[test]
fn input_extracted_from_single_quotes() {
    assert_extracted(&format!("'{}'", valid()), &["surrounding quotes ('...')"]);
}

#[test]
fn input_extracted_from_json_body() {
    let body = json!({"access_token": valid(), "token_type": "Bearer", "expires_in": 3600});
    let r = assert_extracted(&body.to_string(), &["JSON body (field \"access_token\")"]);
    let fix = finding(&r, "input-extracted")["fix"].as_str().unwrap_or("");
    assert!(fix.contains("access_token"), "fix names the field: {fix}");
}

/// Copying through chat, a web page or a document: invisible characters,
/// typographic quotes, a display's ellipsis.
#[test]
fn damage_from_copying_through_chat_or_a_document() {
    let t = valid();
    let zw = format!("{}\u{200B}{}", &t[..40], &t[40..]);
    let secret = std::str::from_utf8(SECRET).expect("ASCII secret");
    let (r, code) = report(&[&zw, "--secret", secret, "--iss", ISS, "--aud", AUD]);
    assert_finding(&r, "invalid-base64url", "error");
    assert_detail(
        &r,
        "invalid-base64url",
        &["1 invisible character(s) (U+200B ZERO WIDTH SPACE)"],
    );
    assert_finding(&r, "signature-valid", "info");
    assert_exit(&r, code, 1);

    let quoted = format!("\u{201C}{t}\u{201D}");
    let r = assert_extracted(&quoted, &["surrounding quotes (\u{201C}...\u{201D})"]);
    assert_absent(&r, "invalid-base64url");

    for cut in [format!("{}\u{2026}", &t[..60]), format!("{}...", &t[..60])] {
        let (r, _) = report(&[&cut]);
        assert_finding(&r, "truncated", "error");
        assert_detail(&r, "truncated", &["ends in an ellipsis"]);
        assert_absent(&r, "wrong-segment-count");
    }
}

#[test]
fn input_extracted_from_a_redirect_url_or_form() {
    let t = valid();
    let r = assert_extracted(
        &format!(
            "https://app.example.com/callback#access_token={t}&token_type=Bearer&expires_in=3600"
        ),
        &["a URL or form parameter (`access_token=`)"],
    );
    assert_absent(&r, "invalid-base64url");
    assert_extracted(&format!("id_token={t}&state=af0ifjsldkj"), &["`id_token=`"]);
}

#[test]
fn input_extracted_from_a_cookie_that_stored_the_url_encoded_header_value() {
    let t = valid();
    let (r, code) = report(&[
        &format!("Cookie: auth=Bearer%20{t}"),
        "--iss",
        ISS,
        "--aud",
        AUD,
    ]);
    // The client stored it broken: an error, although the token is fine.
    assert_finding(&r, "input-extracted", "error");
    assert_detail(
        &r,
        "input-extracted",
        &["`Bearer%20`", "stored the whole header value"],
    );
    assert_absent(&r, "url-encoded");
    assert_absent(&r, "invalid-base64url");
    assert_exit(&r, code, 1);
}

/// Wrappers the client sent broken (no copy adds them) are errors: the
/// server rejects the request although the token inside is valid.
#[test]
fn input_extracted_is_an_error_when_the_client_sent_the_token_broken() {
    let t = valid();
    for (input, says) in [
        (format!("Bearer{t}"), "with no space"),
        (format!("Authorization: Bearer\u{a0}{t}"), "U+00A0"),
        (format!("b'{t}'"), "Python bytes literal"),
    ] {
        let (r, code) = report(&[&input, "--iss", ISS, "--aud", AUD]);
        assert_finding(&r, "input-extracted", "error");
        assert_detail(&r, "input-extracted", &[says]);
        assert_eq!(r["verdict"], "rejected", "{input}: {r:#}");
        assert_exit(&r, code, 1);
    }
    // A base64 layer (a Kubernetes Secret copied as stored) and another
    // scheme (a server may be set up for it) stay information.
    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &t);
    assert_extracted(&b64, &["standard base64"]);
    assert_extracted(&format!("Authorization: JWT {t}"), &["`JWT ` scheme"]);
}

#[test]
fn input_extracted_from_another_scheme_says_servers_expect_bearer() {
    let t = valid();
    let r = assert_extracted(
        &format!("Authorization: JWT {t}"),
        &["the `JWT ` scheme prefix", "not `Bearer`"],
    );
    assert_absent(&r, "whitespace-in-token");
    let fix = finding(&r, "input-extracted")["fix"]
        .as_str()
        .unwrap_or_default();
    assert!(fix.contains("Authorization: Bearer <token>"), "{fix}");
}

/// Each wrapper's fix fits it: quotes are not a `Bearer ` scheme, a JSON
/// log line is no token response; an escape copied with the token is named.
#[test]
fn fixes_fit_the_wrapper_and_a_copied_escape_is_named() {
    let t = valid();
    let fix = |r: &Value| {
        finding(r, "input-extracted")["fix"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let r = assert_extracted(&format!("\"{t}\""), &["surrounding quotes"]);
    assert!(
        fix(&r).starts_with("Pass the token without its quotes"),
        "{}",
        fix(&r)
    );
    let line = json!({"level": "info", "token": t}).to_string();
    let r = assert_extracted(&line, &["field \"token\""]);
    assert!(fix(&r).contains("out of the JSON"), "{}", fix(&r));
    let (r, _) = report(&[&format!("{t}\\n")]);
    assert_finding(&r, "invalid-base64url", "error");
    assert_detail(&r, "invalid-base64url", &["an escape copied with it"]);
}

#[test]
fn input_extracted_from_curl_command() {
    assert_extracted(
        &format!(
            "curl -s -H 'Accept: application/json' -H 'Authorization: Bearer {}' https://api.example.com/orders",
            valid()
        ),
        &["curl command"],
    );
}

#[test]
fn input_extracted_from_stdin_is_the_same() {
    let (r, code) = report_stdin(format!("Bearer {}\n", valid()).as_bytes(), &["-"]);
    assert_finding(&r, "input-extracted", "info");
    assert_exit(&r, code, 0);
}

#[test]
fn plain_token_is_not_reported_as_extracted() {
    let (r, _) = report(&[&format!("  {}\n", valid())]);
    assert_absent(&r, "input-extracted");
}

#[test]
fn bearer_prefix_duplicated() {
    let (r, code) = report(&[&format!("Bearer Bearer {}", valid())]);
    assert_finding(&r, "bearer-prefix-duplicated", "error");
    assert_detail(&r, "bearer-prefix-duplicated", &["Bearer Bearer"]);
    assert_finding(&r, "input-extracted", "info");
    assert_detail(&r, "input-extracted", &["second `Bearer ` prefix"]);
    assert_exit(&r, code, 1);
    // The token inside is still diagnosed.
    assert_eq!(r["token"]["claims"]["iss"], ISS);
}

#[test]
fn whitespace_in_token_from_line_wrapped_copy() {
    let t = valid();
    let wrapped: Vec<String> = t
        .as_bytes()
        .chunks(40)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    let breaks = wrapped.len() - 1;
    let (r, code) = report(&[&wrapped.join("\n")]);
    assert_finding(&r, "whitespace-in-token", "error");
    assert_detail(
        &r,
        "whitespace-in-token",
        &[&format!("{breaks} line break(s)"), "3 segment(s)"],
    );
    assert_eq!(
        finding(&r, "whitespace-in-token")["evidence"]["newlines"],
        breaks
    );
    assert_exit(&r, code, 1);
    assert_eq!(
        r["token"]["claims"]["iss"], ISS,
        "decoded despite the wrapping"
    );
}

#[test]
fn whitespace_in_token_from_header_folding() {
    let t = valid();
    let folded = format!("{}\r\n\t{}", &t[..30], &t[30..]);
    let (r, code) = report(&[&folded]);
    assert_finding(&r, "whitespace-in-token", "error");
    assert_detail(&r, "whitespace-in-token", &["tab(s)"]);
    assert_exit(&r, code, 1);
}

#[test]
fn opaque_token() {
    let (r, code) = report(&["8xLOxBtZp8qW4Nv2", "--aud", AUD]);
    assert_finding(&r, "opaque-token", "error");
    assert_detail(&r, "opaque-token", &["16 characters", "no dots"]);
    assert_eq!(r["token"]["kind"], "opaque");
    assert_exit(&r, code, 1);
    for c in CLAIMS_CODES.iter().chain(TIME_CODES) {
        assert_absent(&r, c);
    }
}

/// Only `opaque-token`: decoding an opaque string as base64url says nothing.
fn assert_only_opaque(r: &Value) {
    let codes: Vec<&str> = r["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["severity"] != "info")
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert_eq!(codes, ["opaque-token"], "{r:#}");
}

#[test]
fn opaque_token_is_not_also_invalid_json() {
    // "2YotnFZFEjr1zCsicMWpAA" (RFC 6749's example) decodes to binary.
    let (r, _) = report(&["2YotnFZFEjr1zCsicMWpAA"]);
    assert_only_opaque(&r);
}

#[test]
fn opaque_token_that_a_client_wrote_for_a_missing_value() {
    for (input, said) in [
        ("undefined", "the text `undefined`"),
        ("Bearer null", "the text `null`"),
        ("None", "the text `none`"),
        ("[object Object]", "JavaScript's rendering of an object"),
        ("Bearer", "the scheme `Bearer` with no token"),
        ("Authorization: Bearer", "the scheme `Bearer` with no token"),
    ] {
        let (r, code) = report(&[input]);
        assert_only_opaque(&r);
        // Quoted as is, even in the redacted report: it is no credential.
        assert_detail(&r, "opaque-token", &[said]);
        assert!(
            !r.to_string().contains("opaque access token"),
            "{input}: {r:#}"
        );
        assert_exit(&r, code, 1);
    }
    let (r, _) = report(&["undefined"]);
    let fix = r["findings"][0]["fix"].as_str().unwrap_or_default();
    assert!(fix.contains("Fix the client"), "{fix}");
}

#[test]
fn opaque_token_that_is_a_placeholder_never_filled_in() {
    for input in [
        "{{token}}",
        "${ACCESS_TOKEN}",
        "<token>",
        "YOUR_TOKEN_HERE",
        "%TOKEN%",
    ] {
        let (r, _) = report(&[input]);
        assert_only_opaque(&r);
        assert_detail(
            &r,
            "opaque-token",
            &[&format!("`{input}`"), "never filled in"],
        );
    }
    let (r, _) = report(&["$TOKEN"]);
    assert_detail(&r, "opaque-token", &["inside single quotes"]);
}

#[test]
fn google_access_token_is_named_and_not_quoted() {
    let token = "ya29.a0AfH6SMBx3kLr9fQ-Zz8v4Wq";
    let (r, _) = report(&[token]);
    assert_only_opaque(&r);
    assert_detail(&r, "opaque-token", &["Google OAuth 2.0 access token"]);
    assert!(
        !r.to_string().contains(token),
        "a credential must not be echoed: {r:#}"
    );
}

#[test]
fn itsdangerous_session_cookie_is_named_and_not_quoted() {
    // Flask's session cookie (base64url data) and Starlette's (standard
    // base64, padded), as itsdangerous 2.2 signs them.
    for (cookie, members, signed) in [
        (
            "eyJ1c2VyX2lkIjowLCJfZnJlc2giOnRydWV9.ZVPxAA.kR6c1GQ9dTqv0Pq2cCvh4lJ2m0k",
            "`user_id`, `_fresh`",
            "2023-11-14 22:13:20 UTC",
        ),
        (
            "eyJ1c2VyIjogImIifQ==.awUuPA.wo1-fn0pV6ArgGUX-MzaEDYmRX0",
            "`user`",
            "2026-11-24",
        ),
    ] {
        let (r, code) = report(&[cookie]);
        assert_eq!(code, 1);
        assert_only_opaque(&r);
        assert_detail(
            &r,
            "opaque-token",
            &["itsdangerous-signed session cookie", members, signed],
        );
        assert!(
            !r.to_string().contains(cookie),
            "a credential must not be echoed: {r:#}"
        );
    }
    // Named however it was pasted: with its cookie name.
    let (r, _) = report(&[
        "session=eyJ1c2VyX2lkIjowLCJfZnJlc2giOnRydWV9.ZVPxAA.kR6c1GQ9dTqv0Pq2cCvh4lJ2m0k",
    ]);
    assert_detail(&r, "opaque-token", &["session cookie"]);
}

#[test]
fn wrong_segment_count_two_segments() {
    let t = valid();
    let two = t
        .rsplit_once('.')
        .map(|(hp, _)| hp.to_string())
        .unwrap_or_default();
    let (r, code) = report(&[&two]);
    assert_finding(&r, "wrong-segment-count", "error");
    assert_detail(
        &r,
        "wrong-segment-count",
        &["2 dot-separated segments", "signature segment is missing"],
    );
    assert_eq!(
        finding(&r, "wrong-segment-count")["evidence"]["segments"],
        2
    );
    assert_exit(&r, code, 1);
}

#[test]
fn wrong_segment_count_four_segments() {
    let (r, code) = report(&[&format!("{}.c2lnMg", valid())]);
    assert_finding(&r, "wrong-segment-count", "error");
    assert_detail(
        &r,
        "wrong-segment-count",
        &["4 dot-separated segments", "one segment too many"],
    );
    assert_exit(&r, code, 1);
}

#[test]
fn wrong_segment_count_six_segments() {
    let (r, code) = report(&[&format!("{}.{}", valid(), valid())]);
    assert_finding(&r, "wrong-segment-count", "error");
    assert_detail(
        &r,
        "wrong-segment-count",
        &["6 dot-separated segments", "joined"],
    );
    assert_exit(&r, code, 1);
}

#[test]
fn jwe_token() {
    let header = json!({"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": "enc-key-1", "cty": "JWT"});
    let jwe = format!(
        "{}.{}.{}.{}.{}",
        b64(header.to_string().as_bytes()),
        b64(&[0x5a; 256]),
        b64(&[0x11; 12]),
        b64(b"ciphertext, not claims"),
        b64(&[0x22; 16])
    );
    let (r, code) = report(&[&jwe, "--iss", ISS, "--aud", AUD, "--require", "sub"]);
    assert_finding(&r, "jwe-token", "info");
    assert_detail(
        &r,
        "jwe-token",
        &[
            "A256GCM",
            "RSA-OAEP-256",
            "`enc-key-1`",
            "cty: JWT",
            "the recipient's private RSA key decrypts it",
        ],
    );
    assert_eq!(r["token"]["kind"], "jwe");
    assert_eq!(
        r["token"]["claims"],
        Value::Null,
        "a JWE has no readable claims"
    );
    assert_eq!(r["token"]["header"]["enc"], "A256GCM");
    for c in CLAIMS_CODES.iter().chain(TIME_CODES).chain(HEADER_CODES) {
        assert_absent(&r, c);
    }
    assert_exit(&r, code, 0);
}

/// `dir` + A256GCM: an Auth.js / NextAuth session token, read with a JWT
/// library or sent to an API; the human verdict says why nothing was checked.
#[test]
fn jwe_session_token_with_a_shared_key() {
    let header = json!({"alg": "dir", "enc": "A256GCM"});
    let jwe = format!(
        "{}..{}.{}.{}",
        b64(header.to_string().as_bytes()),
        b64(&[0x11; 12]),
        b64(b"ciphertext, not claims"),
        b64(&[0x22; 16])
    );
    let (r, _) = report(&[&jwe]);
    assert_detail(
        &r,
        "jwe-token",
        &[
            "directly under a symmetric key",
            "NextAuth.js v4",
            "that shared key decrypts it",
        ],
    );
    let fix = r["findings"][0]["fix"].as_str().unwrap_or_default();
    assert!(fix.contains("getToken()"), "{fix}");
    let human = run(&["diagnose", &jwe, "--secret", "not-the-point"], None);
    assert!(
        human.stdout.contains("The token is encrypted (JWE)")
            && !human.stdout.contains("pass --secret-file"),
        "{}",
        human.stdout
    );
}

/// Standard base64 (with `+`, `/` and `=`) of claims chosen so that it holds all three.
fn standard_b64_payload() -> String {
    for pad in 0..6 {
        let claims = claims_with(json!({"note": "???>>>", "pad": "x".repeat(pad)}));
        let enc = STANDARD.encode(claims.to_string());
        if enc.contains('=') && (enc.contains('+') || enc.contains('/')) {
            return enc;
        }
    }
    panic!("no padding length produced '=' and '+'/'/'")
}

#[test]
fn base64_standard_alphabet() {
    let header = b64(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = standard_b64_payload();
    let input = format!("{header}.{payload}");
    let sig = b64(&hs256_signature(input.as_bytes()));
    let (r, code) = report(&[&format!("{input}.{sig}")]);
    assert_finding(&r, "base64-standard-alphabet", "error");
    assert_detail(
        &r,
        "base64-standard-alphabet",
        &["payload segment", "'=' padding", "base64url"],
    );
    assert_absent(&r, "invalid-base64url");
    assert_eq!(r["token"]["claims"]["iss"], ISS, "still decoded");
    assert_exit(&r, code, 1);
}

#[test]
fn url_encoded() {
    let (r, code) = report(&[&valid().replace('.', "%2E")]);
    assert_finding(&r, "url-encoded", "error");
    assert_detail(&r, "url-encoded", &["%2E", "'.'"]);
    assert_eq!(
        r["token"]["claims"]["iss"], ISS,
        "decoded after URL-decoding"
    );
    assert_exit(&r, code, 1);
}

#[test]
fn invalid_base64url_character() {
    let t = valid();
    let (h, rest) = t.split_once('.').expect("three segments");
    let (p, s) = rest.split_once('.').expect("three segments");
    let broken = format!("{h}.{}*{}.{s}", &p[..10], &p[10..]);
    let (r, code) = report(&[&broken]);
    assert_finding(&r, "invalid-base64url", "error");
    assert_detail(
        &r,
        "invalid-base64url",
        &["payload segment", "'*' at offset 10"],
    );
    assert_exit(&r, code, 1);
}

#[test]
fn invalid_base64url_impossible_length() {
    let t = valid();
    let (h, rest) = t.split_once('.').expect("three segments");
    let mut h = h.to_string();
    while h.len() % 4 != 1 {
        h.push('A');
    }
    let (r, code) = report(&[&format!("{h}.{rest}")]);
    assert_finding(&r, "invalid-base64url", "error");
    assert_detail(
        &r,
        "invalid-base64url",
        &["header segment", &format!("{} characters long", h.len())],
    );
    assert_exit(&r, code, 1);
}

#[test]
fn truncated_payload_json_cut_mid_object() {
    let full = valid_claims().to_string();
    let cut = &full[..full.len() / 2];
    let (r, code) = report(&[&raw_token(
        br#"{"alg":"HS256","typ":"JWT"}"#,
        cut.as_bytes(),
        &[7; 32],
    )]);
    assert_finding(&r, "truncated", "error");
    assert_detail(
        &r,
        "truncated",
        &[&format!("payload JSON ends after {} bytes", cut.len())],
    );
    assert_absent(&r, "invalid-json");
    assert_exit(&r, code, 1);
}

#[test]
fn truncated_token_cut_inside_the_payload() {
    let t = valid();
    let second_dot = t.rfind('.').expect("three segments");
    let first_dot = t.find('.').expect("three segments");
    let cut = &t[..first_dot + (second_dot - first_dot) / 2];
    let (r, code) = report(&[cut]);
    assert_finding(&r, "truncated", "error");
    assert_detail(
        &r,
        "truncated",
        &["payload JSON ends", "signature segment is missing"],
    );
    assert_absent(&r, "wrong-segment-count");
    assert_exit(&r, code, 1);
}

#[test]
fn truncated_signature_shorter_than_the_algorithm() {
    let t = valid();
    let (input, _) = t.rsplit_once('.').expect("three segments");
    let short = format!("{input}.{}", b64(&hs256_signature(input.as_bytes())[..16]));
    let (r, code) = report(&[&short]);
    assert_finding(&r, "truncated", "error");
    assert_detail(&r, "truncated", &["HS256 signature is 16 bytes", "32"]);
    assert_exit(&r, code, 1);
}

#[test]
fn invalid_json_python_repr_payload() {
    let (r, code) = report(&[&raw_token(
        br#"{"alg":"HS256","typ":"JWT"}"#,
        b"{'sub': 'user-4821', 'exp': 1700003600}",
        &[7; 32],
    )]);
    assert_finding(&r, "invalid-json", "error");
    assert_detail(
        &r,
        "invalid-json",
        &["payload", "line 1, column 2", "Python", "json.dumps"],
    );
    assert_exit(&r, code, 1);
}

#[test]
fn invalid_json_double_encoded_payload() {
    let twice = serde_json::to_string(&Value::String(valid_claims().to_string()))
        .expect("a string serialises");
    let (r, code) = report(&[&raw_token(
        br#"{"alg":"HS256","typ":"JWT"}"#,
        twice.as_bytes(),
        &[7; 32],
    )]);
    assert_finding(&r, "invalid-json", "error");
    assert_detail(
        &r,
        "invalid-json",
        &["payload", "JSON string", "encoded twice"],
    );
    assert_exit(&r, code, 1);
}

#[test]
fn invalid_json_header_is_an_array() {
    let (r, code) = report(&[&raw_token(
        br#"["HS256"]"#,
        valid_claims().to_string().as_bytes(),
        &[7; 32],
    )]);
    assert_finding(&r, "invalid-json", "error");
    assert_detail(&r, "invalid-json", &["header", "JSON array"]);
    assert_exit(&r, code, 1);
}

#[test]
fn duplicate_json_keys() {
    let payload = format!(
        r#"{{"iss":"{ISS}","sub":"user-4821","aud":"{AUD}","iat":{},"exp":{},"role":"user","role":"admin"}}"#,
        NOW - 60,
        NOW + 3600
    );
    let (r, code) = report(&[
        &raw_token(
            br#"{"alg":"HS256","typ":"JWT"}"#,
            payload.as_bytes(),
            &[7; 32],
        ),
        "--iss",
        ISS,
        "--aud",
        AUD,
    ]);
    assert_finding(&r, "duplicate-json-keys", "warning");
    assert_detail(&r, "duplicate-json-keys", &["payload", "`role`"]);
    assert_eq!(
        r["token"]["claims"]["role"], "admin",
        "last occurrence wins, as in serde/JS"
    );
    assert_exit(&r, code, 0);
}

#[test]
fn token_too_large() {
    let groups: Vec<String> = (0..400).map(|i| format!("group-{i:04}-readers")).collect();
    let t = hs256(claims_with(json!({ "groups": groups })));
    assert!(
        t.len() > 8 * 1024,
        "test token must exceed 8 KiB: {}",
        t.len()
    );
    let (r, code) = report(&[&t, "--iss", ISS, "--aud", AUD]);
    assert_finding(&r, "token-too-large", "warning");
    assert_detail(
        &r,
        "token-too-large",
        &[&format!("{} bytes", t.len()), "`groups`"],
    );
    assert_exit(&r, code, 0);
}

#[test]
fn base64_standard_alphabet_with_padded_spaced_header() {
    // `{ "alg": ... }` (spaced JSON) encodes to `eyAi...` with `=` padding.
    let header = STANDARD.encode(br#"{ "alg": "HS256", "typ": "JWT" }"#);
    assert!(
        header.ends_with('=') && !header.starts_with("eyJ"),
        "{header}"
    );
    let payload = STANDARD.encode(valid_claims().to_string());
    let input = format!("{header}.{payload}");
    let sig = b64(&hs256_signature(input.as_bytes()));
    let t = format!("{input}.{sig}");
    let r = run(
        &["diagnose", &t, "--now", NOW_ARG, "--format", "json"],
        None,
    );
    let v: Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("no JSON report ({e}): {}\n{}", r.stdout, r.stderr));
    assert_finding(&v, "base64-standard-alphabet", "error");
    assert_absent(&v, "input-extracted");
    assert_absent(&v, "wrong-segment-count");
    assert!(
        !r.stdout.contains(&payload),
        "payload segment printed: {}",
        r.stdout
    );
}

#[test]
fn five_segments_without_enc_header_is_not_a_jwe() {
    let (r, code) = report(&[&format!("{}.c2ln.c2ln", valid())]);
    assert_absent(&r, "jwe-token");
    assert_finding(&r, "wrong-segment-count", "error");
    assert_exit(&r, code, 1);
}

/// An RS256 signature cut to 225 bytes, no key given: no key has that
/// modulus, so the signature was cut.
#[test]
fn truncated_rsa_signature_without_a_key() {
    use jwtai::alg::Alg;
    use jwtai::sign::{SigningKey, sign_token};
    let key = SigningKey::generate(Alg::RS256).expect("key");
    let t = sign_token(
        &json!({"alg": "RS256", "typ": "JWT"}),
        &claims_with(json!({})),
        &key,
    )
    .expect("sign");
    let (head, sig) = t.rsplit_once('.').expect("three segments");
    let (r, code) = report(&[&format!("{head}.{}", &sig[..300])]);
    assert_detail(&r, "truncated", &["225 bytes", "modulus"]);
    assert_exit(&r, code, 1);
    let (r, _) = report(&[&t]);
    assert_absent(&r, "truncated");
}
