//! The "Signature and keys" family of `findings.md`, and the header codes about
//! keys (`alg-key-mismatch`, `algorithm-confusion`, `kid-missing`,
//! `kid-not-found`), through the real binary.
//!
//! Every token and key is made here with `jwtai::sign` (throwaway keys), except
//! a 1024-bit RSA signature: aws-lc-rs cannot generate or load RSA keys under
//! 2048 bits (`SigningKey::generate_rsa` returns `RsaSize(1024)`), so that case
//! uses the OpenSSL-made fixture `tests/data/keys/rsa1024-*`.
//!
//! Besides the findings, every run is checked for what must never be printed:
//! the token's signature segment (all runs) and the secret (runs given one).

mod signature_support;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jwtai::alg::{Alg, Family};
use jwtai::sign::{SigningKey, sign_token};
use serde_json::json;
use signature_support::*;

// ---------------------------------------------------------------------------
// 1. Round trip for every algorithm, with every way of giving the key.
// ---------------------------------------------------------------------------

macro_rules! round_trip {
    ($($name:ident: $alg:ident,)*) => {
        $(
            #[test]
            fn $name() {
                match Alg::$alg.family() {
                    Family::Hmac => round_trip_hmac(Alg::$alg),
                    _ => round_trip_public(Alg::$alg),
                }
            }
        )*
    };
}

round_trip! {
    round_trip_hs256: HS256,
    round_trip_hs384: HS384,
    round_trip_hs512: HS512,
    round_trip_rs256: RS256,
    round_trip_rs384: RS384,
    round_trip_rs512: RS512,
    round_trip_ps256: PS256,
    round_trip_ps384: PS384,
    round_trip_ps512: PS512,
    round_trip_es256: ES256,
    round_trip_es384: ES384,
    round_trip_es512: ES512,
    round_trip_eddsa: EdDSA,
}

const SECRET_VAR: &str = "JWTAI_SIGNATURE_TEST_SECRET";
const WRONG_VAR: &str = "JWTAI_SIGNATURE_TEST_WRONG";

/// HS*: `--secret-file`, `--secret`, `--secret-env`, and a binary secret file;
/// then three wrong secrets at once.
fn round_trip_hmac(alg: Alg) {
    let ws = Workspace::new();
    // As long as the hash output, so no key-too-weak.
    let secret = text_secret(64);
    let tok = token(&hmac_key(alg, secret.as_bytes()), None);
    let file = ws.file("hs.secret", &secret);

    type Way<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>);
    let ways: [Way; 3] = [
        (vec!["--secret-file", &file], vec![]),
        (vec!["--secret", &secret], vec![]),
        (
            vec!["--secret-env", SECRET_VAR],
            vec![(SECRET_VAR, &secret)],
        ),
    ];
    for (args, env) in &ways {
        let out = ws.diagnose_with(&tok, args, NOW, env);
        out.assert_accepted().assert_hidden(secret.as_bytes());
    }

    // 64 random bytes, not text: only a file can hold them.
    let binary = key(alg);
    let bin_secret = binary.hmac_secret().expect("HMAC secret").to_vec();
    let bin_file = ws.file("binary.secret", &bin_secret);
    ws.diagnose(&token(&binary, None), &["--secret-file", &bin_file])
        .assert_accepted()
        .assert_hidden(&bin_secret);

    // The same token, three wrong secrets: each one is listed as tried.
    let wrong = [text_secret(64), text_secret(64), text_secret(64)];
    let wrong_file = ws.file("wrong.secret", &wrong[0]);
    let out = ws.diagnose_with(
        &tok,
        &[
            "--secret-file",
            &wrong_file,
            "--secret",
            &wrong[1],
            "--secret-env",
            WRONG_VAR,
        ],
        NOW,
        &[(WRONG_VAR, &wrong[2])],
    );
    out.assert_signature_codes(&["signature-invalid"])
        .assert_exit(1, "rejected")
        .assert_detail(
            "signature-invalid",
            &[
                "3 key(s)",
                &wrong_file,
                "--secret",
                &format!("${WRONG_VAR}"),
            ],
        )
        .assert_hidden(secret.as_bytes());
    for w in &wrong {
        out.assert_hidden(w.as_bytes());
    }
}

/// RS*/PS*/ES*/EdDSA: SPKI PEM (LF and CRLF), PKCS#1 PEM (RSA), JWK, JWK Set;
/// then another key of the same type as PEM and as JWK Set.
fn round_trip_public(alg: Alg) {
    let ws = Workspace::new();
    let k = key(alg);
    let tok = token(&k, Some("k1"));

    let mut files = vec![
        ws.file("pub.pem", spki_pem(&k)),
        ws.file("pub-crlf.pem", k.public_pem().expect("PEM")),
        ws.file("pub.jwk.json", k.public_jwk("k1").to_string()),
        ws.file("jwks.json", jwks(&[(&k, "k1")])),
    ];
    if matches!(alg.family(), Family::Rsa | Family::RsaPss) {
        let pkcs1 = lf(&k.public_pem_pkcs1().expect("PKCS#1 PEM"));
        assert!(pkcs1.starts_with("-----BEGIN RSA PUBLIC KEY-----"));
        files.push(ws.file("pub-pkcs1.pem", pkcs1));
    }
    for path in &files {
        ws.diagnose(&tok, &["--key", path])
            .assert_accepted()
            .assert_detail("signature-valid", &[path.as_str()]);
    }

    let other = key(alg);
    let wrong_pem = ws.file("other.pem", spki_pem(&other));
    let wrong_set = ws.file("other-jwks.json", jwks(&[(&other, "k1")]));
    ws.diagnose(&tok, &["--key", &wrong_pem, "--key", &wrong_set])
        .assert_signature_codes(&["signature-invalid"])
        .assert_exit(1, "rejected")
        .assert_detail("signature-invalid", &["2 key(s)", &wrong_pem, &wrong_set]);
}

// ---------------------------------------------------------------------------
// 2. One test per code.
// ---------------------------------------------------------------------------

#[test]
fn signature_valid_names_the_key_it_verified_with() {
    let ws = Workspace::new();
    let k = key(Alg::ES256);
    let set = ws.file("jwks.json", jwks(&[(&k, "prod-2024")]));
    ws.diagnose(&token(&k, Some("prod-2024")), &["--key", &set])
        .assert_accepted()
        .assert_detail("signature-valid", &[&set, "prod-2024"]);
}

/// A PEM whose line breaks became spaces (a one-line environment variable)
/// reads here as with PyJWT, but node and openssl refuse it: the verdict
/// stays, and the detail says why the server may fail to load the key.
#[test]
fn signature_valid_names_a_pem_layout_openssl_refuses() {
    let ws = Workspace::new();
    let k = key(Alg::RS256);
    let flat = ws.file("flat.pem", spki_pem(&k).trim().replace('\n', " "));
    ws.diagnose(&token(&k, None), &["--key", &flat])
        .assert_accepted()
        .assert_detail("signature-valid", &["line breaks", "DECODER routines"]);
    let pem = ws.file("pub.pem", spki_pem(&k));
    let out = ws.diagnose(&token(&k, None), &["--key", &pem]);
    assert!(!out.detail("signature-valid").contains("DECODER"));
}

#[test]
fn signature_not_checked_without_key_material() {
    let ws = Workspace::new();
    for k in [
        key(Alg::ES256),
        hmac_key(Alg::HS256, text_secret(40).as_bytes()),
    ] {
        let out = ws.diagnose(&token(&k, None), &[]);
        out.assert_signature_codes(&["signature-not-checked"])
            .assert_exit(0, "unverified");
        let fix = out.finding("signature-not-checked")["fix"]
            .as_str()
            .expect("fix");
        assert!(
            fix.contains("--key") || fix.contains("--secret"),
            "fix: {fix}"
        );
    }
}

#[test]
fn signature_not_checked_is_absent_once_a_key_is_given() {
    let ws = Workspace::new();
    let k = key(Alg::ES256);
    let pem = ws.file("pub.pem", spki_pem(&k));
    ws.diagnose(&token(&k, None), &["--key", &pem])
        .assert_accepted()
        .assert_absent("signature-not-checked");
}

#[test]
fn signature_invalid_when_the_payload_was_altered() {
    let ws = Workspace::new();
    let k = key(Alg::RS256);
    let pem = ws.file("pub.pem", spki_pem(&k));
    let tok = token(&k, None);
    let forged_claims = json!({"iss": ISS, "aud": AUD, "iat": 1_699_999_400, "exp": 1_800_000_000});
    let parts: Vec<&str> = tok.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64(forged_claims.to_string().as_bytes()),
        parts[2]
    );
    ws.diagnose(&forged, &["--key", &pem])
        .assert_signature_codes(&["signature-invalid"])
        .assert_exit(1, "rejected")
        .assert_detail("signature-invalid", &[&pem]);
}

/// The set holds a key under the token's kid, and it does not verify: the
/// finding says a stranger signed under a familiar kid (another
/// environment, a key rotated without a new kid) and what to check, rather
/// than "use the right key".
#[test]
fn signature_invalid_with_the_key_its_kid_names_says_another_key_shares_the_kid() {
    let ws = Workspace::new();
    let (production, staging) = (key(Alg::RS256), key(Alg::RS256));
    let set = ws.file("jwks.json", jwks(&[(&production, "k1")]));
    let out = ws.diagnose(&token(&staging, Some("k1")), &["--key", &set]);
    out.assert_signature_codes(&["signature-invalid"])
        .assert_exit(1, "rejected")
        .assert_detail(
            "signature-invalid",
            &[
                "kid \"k1\" names is among them",
                "another key signed the token under the same kid",
            ],
        );
    let fix = out.finding("signature-invalid")["fix"]
        .as_str()
        .unwrap_or_default();
    assert!(
        fix.contains("`iss`") && fix.contains("reusing \"k1\""),
        "{fix}"
    );

    // No kid, or a kid the set does not hold: not said.
    let pem = ws.file("pub.pem", spki_pem(&production));
    let out = ws.diagnose(&token(&staging, None), &["--key", &pem]);
    assert!(
        !out.detail("signature-invalid")
            .contains("names is among them")
    );
}

#[test]
fn microsoft_graph_token_is_not_a_stranger_under_the_kid() {
    // A Graph access token checked against the tenant's JWKS: the kid is
    // there, the key fits, and the signature fails by design (the header's
    // nonce). Not "another key signed it under the same kid".
    let ws = Workspace::new();
    let (tenant, graph) = (key(Alg::RS256), key(Alg::RS256));
    let set = ws.file("jwks.json", jwks(&[(&tenant, "k1")]));
    let mut head = header(Alg::RS256, Some("k1"));
    head["nonce"] = json!("AQABAAAAAAD-nonce");
    let mut body = claims();
    body["aud"] = json!("00000003-0000-0000-c000-000000000000");
    let t = sign_token(&head, &body, &graph).expect("sign");
    let out = ws.diagnose(&t, &["--key", &set]);
    out.assert_signature_codes(&["signature-invalid"])
        .assert_detail("signature-invalid", &["is Microsoft Graph", "`nonce`"]);
    assert!(
        !out.detail("signature-invalid")
            .contains("names is among them")
    );
    let fix = out.finding("signature-invalid")["fix"]
        .as_str()
        .unwrap_or_default();
    assert!(fix.contains("api://<api-app-id>/.default"), "{fix}");
}

/// Azure AD: an application with a custom signing key signs with a key the
/// tenant's set does not list; only the `?appid=` set has it.
#[test]
fn azure_kid_not_in_the_tenant_set_points_at_the_appid_set() {
    let ws = Workspace::new();
    let (tenant_key, app_key) = (key(Alg::RS256), key(Alg::RS256));
    let set = ws.file("jwks.json", jwks(&[(&tenant_key, "tenant-1")]));
    let mut body = claims();
    body["iss"] =
        json!("https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0");
    let t = sign_token(&header(Alg::RS256, Some("app-key")), &body, &app_key).expect("sign");
    let out = ws.diagnose(&t, &["--key", &set]);
    out.assert_code("kid-not-found")
        .assert_detail("kid-not-found", &["custom signing key", "`?appid=`"]);
    let fix = out.finding("kid-not-found")["fix"]
        .as_str()
        .unwrap_or_default();
    assert!(fix.contains("/discovery/v2.0/keys?appid="), "{fix}");
}

/// A signer that writes one `alg` and signs with a key of another type
/// (a KMS key, a key file of the wrong kind): the signature's length gives
/// it away, and verifying as the algorithm that length belongs to proves it.
#[test]
fn signature_made_with_another_alg_than_the_header_says() {
    let ws = Workspace::new();
    let (rsa, ec) = (key(Alg::RS256), key(Alg::ES256));
    let set = ws.file("jwks.json", jwks(&[(&rsa, "r1"), (&ec, "e1")]));
    // Header ES256, RSA signature.
    let t = sign_token(&header(Alg::ES256, Some("e1")), &claims(), &rsa).expect("sign");
    let out = ws.diagnose(&t, &["--key", &set]);
    out.assert_code("signature-length-mismatch")
        .assert_exit(1, "rejected")
        .assert_detail(
            "signature-length-mismatch",
            &[
                "verifies as RS256 with",
                "kid r1",
                "wrote ES256 into the header",
            ],
        );
    // Header RS256, ECDSA signature: the RSA key-size path says the same.
    let t = sign_token(&header(Alg::RS256, Some("r1")), &claims(), &ec).expect("sign");
    ws.diagnose(&t, &["--key", &set])
        .assert_code("signature-length-mismatch")
        .assert_detail(
            "signature-length-mismatch",
            &[
                "verifies as ES256 with",
                "kid e1",
                "wrote RS256 into the header",
            ],
        );
    // Shorter than the header's algorithm makes, yet whole: an HS256
    // signature under an HS512 header is no cut token.
    let secret = text_secret(64);
    let hs256 = hmac_key(Alg::HS256, secret.as_bytes());
    let t = sign_token(&header(Alg::HS512, None), &claims(), &hs256).expect("sign");
    let file = ws.file("hs-secret", &secret);
    let out = ws.diagnose(&t, &["--secret-file", &file]);
    out.assert_code("signature-length-mismatch")
        .assert_absent("truncated")
        .assert_detail(
            "signature-length-mismatch",
            &["32 bytes where HS512 makes 64", "verifies as HS256"],
        );
    // Same length, another padding: an RS256 header over a PS256 signature
    // by the key its kid names.
    let ps = rsa.with_alg(Alg::PS256).expect("same RSA key for PS256");
    let t = sign_token(&header(Alg::RS256, Some("r1")), &claims(), &ps).expect("sign");
    let out = ws.diagnose(&t, &["--key", &set]);
    out.assert_signature_codes(&["signature-invalid"])
        .assert_detail(
            "signature-invalid",
            &[
                "It does verify as PS256 with",
                "kid r1",
                "wrote RS256 into the header",
            ],
        );
    assert!(
        !out.detail("signature-invalid")
            .contains("another key signed the token under the same kid")
    );
    // No key verifies it: the length alone is named.
    let other = key(Alg::RS256);
    let t = sign_token(&header(Alg::HS256, None), &claims(), &other).expect("sign");
    let secret = ws.file("secret", text_secret(32));
    ws.diagnose(&t, &["--secret-file", &secret])
        .assert_code("signature-length-mismatch")
        .assert_detail(
            "signature-length-mismatch",
            &["256 bytes is the length of an RS256/PS256 signature"],
        );
}

#[test]
fn secret_whitespace_trailing_newline_in_file() {
    let ws = Workspace::new();
    let secret = text_secret(40);
    let tok = token(&hmac_key(Alg::HS256, secret.as_bytes()), None);
    let file = ws.file("echo.secret", format!("{secret}\n"));
    ws.diagnose(&tok, &["--secret-file", &file])
        .assert_signature_codes(&["secret-whitespace"])
        .assert_exit(1, "rejected")
        .assert_detail("secret-whitespace", &["trailing newline", &file])
        .assert_hidden(format!("{secret}\n").as_bytes());
}

#[test]
fn secret_whitespace_trailing_crlf_in_env_var() {
    let ws = Workspace::new();
    let secret = text_secret(40);
    let tok = token(&hmac_key(Alg::HS384, secret.as_bytes()), None);
    let value = format!("{secret}\r\n");
    ws.diagnose_with(
        &tok,
        &["--secret-env", SECRET_VAR],
        NOW,
        &[(SECRET_VAR, &value)],
    )
    .assert_signature_codes(&["secret-whitespace"])
    .assert_exit(1, "rejected")
    .assert_detail("secret-whitespace", &["CRLF"])
    .assert_hidden(value.as_bytes());
}

/// The fix names the side to change: the signer's copy had the newline;
/// the signer decoded the base64 text; the file holds a whole env line.
#[test]
fn secret_variant_fixes_name_the_side_to_change() {
    let ws = Workspace::new();
    let secret = text_secret(40);
    let fix = |out: &Outcome, code: &str| out.finding(code)["fix"].as_str().unwrap().to_string();
    let tok = token(
        &hmac_key(Alg::HS256, format!("{secret}\n").as_bytes()),
        None,
    );
    let out = ws.diagnose(&tok, &["--secret-file", &ws.file("plain.secret", &secret)]);
    out.assert_signature_codes(&["secret-whitespace"]);
    assert!(
        fix(&out, "secret-whitespace").starts_with("Trim the secret where the signer loads it")
    );

    let raw = b"0123456789abcdef0123456789abcdef";
    let tok = token(&hmac_key(Alg::HS256, raw), None);
    let out = ws.diagnose(
        &tok,
        &[
            "--secret-file",
            &ws.file("b64.secret", STANDARD.encode(raw)),
        ],
    );
    out.assert_signature_codes(&["secret-encoding"]);
    let f = fix(&out, "secret-encoding");
    assert!(
        f.starts_with("The signer uses the secret's base64-decoded bytes"),
        "{f}"
    );

    let tok = token(&hmac_key(Alg::HS256, secret.as_bytes()), None);
    let env = ws.file("env.secret", format!("JWT_SECRET={secret}"));
    let out = ws.diagnose(&tok, &["--secret-file", &env]);
    out.assert_signature_codes(&["secret-encoding"]);
    assert!(fix(&out, "secret-encoding").starts_with("Give the verifier only the value"));
}

/// `JWT_SECRET="s3cr3t"` read literally (docker --env-file) on one side and
/// by a dotenv library (quotes stripped) on the other.
#[test]
fn secret_encoding_quotes_kept_on_one_side() {
    let ws = Workspace::new();
    let secret = text_secret(40);
    let quoted = format!("\"{secret}\"");
    // The verifier's value kept the quotes.
    let tok = token(&hmac_key(Alg::HS256, secret.as_bytes()), None);
    let file = ws.file("quoted.secret", &quoted);
    ws.diagnose(&tok, &["--secret-file", &file])
        .assert_signature_codes(&["secret-encoding"])
        .assert_detail(
            "secret-encoding",
            &[
                "its surrounding quotes removed",
                "the verifier's value kept the quotes",
            ],
        )
        .assert_hidden(secret.as_bytes());
    // The signer's did.
    let tok = token(&hmac_key(Alg::HS256, quoted.as_bytes()), None);
    let file = ws.file("plain.secret", &secret);
    ws.diagnose(&tok, &["--secret-file", &file])
        .assert_signature_codes(&["secret-encoding"])
        .assert_detail(
            "secret-encoding",
            &["quotes put around it", "the signer's value"],
        );
}

#[test]
fn secret_encoding_signer_decoded_the_base64_secret() {
    let ws = Workspace::new();
    let mut raw = [0u8; 32];
    aws_lc_rs::rand::fill(&mut raw).expect("random");
    let configured = STANDARD.encode(raw);
    let tok = token(&hmac_key(Alg::HS256, &raw), None);
    let file = ws.file("b64.secret", &configured);
    ws.diagnose(&tok, &["--secret-file", &file])
        .assert_signature_codes(&["secret-encoding"])
        .assert_exit(1, "rejected")
        .assert_detail("secret-encoding", &["base64 decoding"])
        .assert_hidden(configured.as_bytes())
        .assert_hidden(&raw);
}

#[test]
fn secret_encoding_signer_used_the_base64_text() {
    let ws = Workspace::new();
    let configured = text_secret(40);
    let encoded = STANDARD.encode(configured.as_bytes());
    let tok = token(&hmac_key(Alg::HS256, encoded.as_bytes()), None);
    ws.diagnose_with(
        &tok,
        &["--secret-env", SECRET_VAR],
        NOW,
        &[(SECRET_VAR, &configured)],
    )
    .assert_signature_codes(&["secret-encoding"])
    .assert_exit(1, "rejected")
    .assert_detail("secret-encoding", &["base64 encoding"])
    .assert_hidden(configured.as_bytes())
    .assert_hidden(encoded.as_bytes());
}

#[test]
fn wrong_kid_header_names_key_a_but_key_b_signed() {
    let ws = Workspace::new();
    let (a, b) = (key(Alg::RS256), key(Alg::RS256));
    let set = ws.file("jwks.json", jwks(&[(&a, "key-a"), (&b, "key-b")]));
    let tok = token(&b, Some("key-a"));
    ws.diagnose(&tok, &["--key", &set])
        .assert_code("wrong-kid")
        .assert_absent("signature-invalid")
        .assert_absent("kid-not-found")
        .assert_exit(1, "rejected")
        .assert_detail("wrong-kid", &["key-a", "key-b"]);
}

#[test]
fn wrong_kid_absent_when_kid_names_the_signing_key() {
    let ws = Workspace::new();
    let (a, b) = (key(Alg::RS256), key(Alg::RS256));
    let set = ws.file("jwks.json", jwks(&[(&a, "key-a"), (&b, "key-b")]));
    ws.diagnose(&token(&b, Some("key-b")), &["--key", &set])
        .assert_accepted()
        .assert_absent("wrong-kid");
}

/// RS256 signed by a 1024-bit key (128-byte signature), verified with a 2048-bit key.
#[test]
fn signature_length_mismatch_rsa_1024_bit_signer_2048_bit_key() {
    let ws = Workspace::new();
    let tok = std::fs::read_to_string(fixture("keys/rsa1024-rs256.jwt")).expect("fixture");
    let tok = tok.trim();
    assert_eq!(signature(tok).len(), 128);
    let pem = ws.file("pub2048.pem", spki_pem(&key(Alg::RS256)));
    ws.diagnose(tok, &["--key", &pem])
        .assert_signature_codes(&["signature-length-mismatch"])
        .assert_exit(1, "rejected")
        .assert_detail("signature-length-mismatch", &["128", "256", &pem]);
}

/// The same with keys made here: a 3072-bit signer (384-byte signature).
#[test]
fn signature_length_mismatch_rsa_3072_bit_signer_2048_bit_key() {
    let ws = Workspace::new();
    let signer = SigningKey::generate_rsa(Alg::RS256, 3072).expect("3072-bit key");
    let tok = token(&signer, None);
    assert_eq!(signature(&tok).len(), 384);
    let pem = ws.file("pub2048.pem", spki_pem(&key(Alg::RS256)));
    ws.diagnose(&tok, &["--key", &pem])
        .assert_signature_codes(&["signature-length-mismatch"])
        .assert_exit(1, "rejected")
        .assert_detail("signature-length-mismatch", &["384", "256"]);
}

/// A fixed-length signature (ES256, HS256, EdDSA) cut short: `truncated`
/// says it all; no `signature-invalid` beside it for the key that cannot
/// verify a cut signature.
#[test]
fn fixed_length_signature_cut_short_is_only_truncated() {
    let ws = Workspace::new();
    for alg in [Alg::ES256, Alg::HS256, Alg::EdDSA] {
        let k = key(alg);
        let tok = token(&k, None);
        let key_args: Vec<String> = match k.hmac_secret() {
            Some(secret) => vec!["--secret-file".into(), ws.file("s", secret)],
            None => vec!["--key".into(), ws.file("pub.pem", spki_pem(&k))],
        };
        let args: Vec<&str> = key_args.iter().map(String::as_str).collect();
        // Ten base64url characters fewer, a length base64url allows.
        let cut = &tok[..tok.len() - 12];
        let out = ws.diagnose(cut, &args);
        out.assert_exit(1, "rejected")
            .assert_absent("signature-invalid")
            .assert_absent("signature-valid");
        assert!(out.has("truncated"), "{alg}: {:?}", out.codes());
        assert_eq!(out.report["findings"][0]["code"], "truncated", "{alg}");
    }
}

/// A signer that drops the leading zero byte of an RSA signature (instead of
/// writing it at the modulus length): the token fails on strict verifiers,
/// and only when its signature happens to start with zero. Said as such,
/// not as "another key signed this token".
#[test]
fn rsa_signature_with_its_leading_zero_dropped_is_named_as_such() {
    let ws = Workspace::new();
    let signer = key(Alg::RS256);
    // About one signature in 200 starts with a zero byte.
    let tok = (0..5000)
        .map(|i| {
            let mut claims = claims();
            claims["jti"] = serde_json::json!(i);
            sign_token(&header(Alg::RS256, None), &claims, &signer).expect("sign")
        })
        .find(|t| signature(t)[0] == 0)
        .expect("a signature starting with a zero byte");
    let stripped = with_signature(&tok, &signature(&tok)[1..]);
    let pem = ws.file("pub.pem", spki_pem(&signer));
    let out = ws.diagnose(&stripped, &["--key", &pem]);
    out.assert_signature_codes(&["signature-length-mismatch"])
        .assert_exit(1, "rejected")
        .assert_detail(
            "signature-length-mismatch",
            &[
                "255 bytes",
                "1 short of the 256",
                "zero byte(s) put back",
                "verifies",
            ],
        );
    assert!(
        out.finding("signature-length-mismatch")["fix"]
            .as_str()
            .is_some_and(|f| f.contains("left-pad"))
    );
    assert!(!out.has("truncated"));
    // The unmodified token verifies.
    ws.diagnose(&tok, &["--key", &pem]).assert_accepted();
}

/// A token cut inside its RS256 signature (a log line limit): the signature
/// is shorter than the key's and of a length no RSA key produces, so it is
/// `truncated`, not `signature-length-mismatch`.
#[test]
fn rsa_signature_cut_short_is_truncated_not_another_key() {
    let ws = Workspace::new();
    let signer = key(Alg::RS256);
    let tok = token(&signer, None);
    let pem = ws.file("pub.pem", spki_pem(&signer));
    // 330 of its 342 base64url characters (a valid length): 247 of 256 bytes.
    let cut = &tok[..signing_input(&tok).len() + 1 + 330];
    let out = ws.diagnose(cut, &["--key", &pem]);
    out.assert_exit(1, "rejected")
        .assert_absent("signature-length-mismatch")
        .assert_absent("signature-valid");
    assert!(out.has("truncated"), "{:#}", out.report);
    let d = out.detail("truncated");
    assert!(d.contains("247 bytes, 9 bytes short of the 256"), "{d}");
    assert_eq!(
        out.report["findings"][0]["code"], "truncated",
        "the root cause comes first: {:#}",
        out.report
    );

    // Cut to a length the structure already proves impossible (len % 4 == 1):
    // said once, by the structure check.
    let cut = &tok[..signing_input(&tok).len() + 1 + 329];
    let out = ws.diagnose(cut, &["--key", &pem]);
    let n = out.codes().iter().filter(|c| *c == "truncated").count();
    assert_eq!(n, 1, "{:?}", out.codes());
    out.assert_absent("signature-length-mismatch");
}

#[test]
fn signature_length_mismatch_hs256_with_40_byte_signature() {
    let ws = Workspace::new();
    let secret = text_secret(40);
    let tok = token(&hmac_key(Alg::HS256, secret.as_bytes()), None);
    let mut sig = signature(&tok);
    sig.extend_from_slice(&[0x5a; 8]);
    let long = with_signature(&tok, &sig);
    let file = ws.file("hs.secret", &secret);

    ws.diagnose(&long, &["--secret-file", &file])
        .assert_signature_codes(&["signature-length-mismatch"])
        .assert_exit(1, "rejected")
        .assert_detail("signature-length-mismatch", &["40", "32"])
        .assert_hidden(secret.as_bytes());

    // No key needed to see it.
    ws.diagnose(&long, &[])
        .assert_code("signature-length-mismatch")
        .assert_absent("signature-valid")
        .assert_absent("signature-invalid")
        .assert_exit(1, "rejected");
}

/// ASN.1 DER `INTEGER` of a big-endian unsigned value.
fn der_integer(be: &[u8]) -> Vec<u8> {
    let start = be.iter().position(|&b| b != 0).unwrap_or(be.len() - 1);
    let mut v = be[start..].to_vec();
    if v[0] & 0x80 != 0 {
        v.insert(0, 0);
    }
    let mut out = vec![0x02, v.len() as u8];
    out.extend(v);
    out
}

/// JOSE `R || S` to ASN.1 DER `SEQUENCE { INTEGER r, INTEGER s }`.
fn rs_to_der(sig: &[u8]) -> Vec<u8> {
    let (r, s) = sig.split_at(sig.len() / 2);
    let mut body = der_integer(r);
    body.extend(der_integer(s));
    let mut out = vec![0x30];
    if body.len() >= 0x80 {
        out.push(0x81);
    }
    out.push(body.len() as u8);
    out.extend(body);
    out
}

#[test]
fn der_encoder_of_this_test_is_sound() {
    assert_eq!(der_integer(&[0, 0, 1]), [0x02, 1, 1]);
    assert_eq!(der_integer(&[0x80]), [0x02, 2, 0, 0x80]);
    assert_eq!(der_integer(&[0, 0]), [0x02, 1, 0]);
    let der = rs_to_der(&[[0x7f; 32], [0x01; 32]].concat());
    assert_eq!(&der[..4], &[0x30, 68, 0x02, 32]);
    assert_eq!(der.len(), 70);
    let long = rs_to_der(&[0xff; 132]);
    assert_eq!(&long[..3], &[0x30, 0x81, 2 * (2 + 67)]);
}

#[test]
fn ecdsa_der_signature_es256_and_es512() {
    let ws = Workspace::new();
    for alg in [Alg::ES256, Alg::ES512] {
        let k = key(alg);
        let tok = token(&k, None);
        let der = with_signature(&tok, &rs_to_der(&signature(&tok)));
        let pem = ws.file(&format!("{alg}.pem"), spki_pem(&k));
        ws.diagnose(&der, &["--key", &pem])
            .assert_signature_codes(&["ecdsa-der-signature"])
            .assert_exit(1, "rejected")
            .assert_detail("ecdsa-der-signature", &["DER", &pem]);
        ws.diagnose(&der, &[])
            .assert_code("ecdsa-der-signature")
            .assert_absent("signature-valid")
            .assert_absent("signature-invalid")
            .assert_absent("signature-length-mismatch")
            .assert_exit(1, "rejected");
    }
}

#[test]
fn psychic_signature_es256_zeros() {
    let ws = Workspace::new();
    let k = key(Alg::ES256);
    let tok = token(&k, None);
    let pem = ws.file("pub.pem", spki_pem(&k));
    let zeros = with_signature(&tok, &[0u8; 64]);
    for args in [vec![], vec!["--key", pem.as_str()]] {
        ws.diagnose(&zeros, &args)
            .assert_signature_codes(&["psychic-signature"])
            .assert_exit(1, "rejected");
    }
    // r genuine, s = 0.
    let mut sig = signature(&tok);
    sig[32..].fill(0);
    ws.diagnose(&with_signature(&tok, &sig), &["--key", &pem])
        .assert_signature_codes(&["psychic-signature"])
        .assert_exit(1, "rejected");
    // The public proof of concept: DER `SEQUENCE { INTEGER 0, INTEGER 0 }`.
    let der = with_signature(&tok, &[0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00]);
    ws.diagnose(&der, &["--key", &pem])
        .assert_code("psychic-signature");
}

#[test]
fn weak_secret_found_without_any_key() {
    let ws = Workspace::new();
    for secret in ["secret", "your-256-bit-secret"] {
        let tok = token(&hmac_key(Alg::HS256, secret.as_bytes()), None);
        ws.diagnose(&tok, &[])
            .assert_signature_codes(&["weak-secret"])
            .assert_exit(1, "rejected")
            // Naming a public, well-known secret is allowed (findings.md).
            .assert_detail("weak-secret", &[&format!("\"{secret}\"")]);
    }
}

#[test]
fn weak_secret_also_when_the_user_passes_it() {
    let ws = Workspace::new();
    for secret in ["secret", "your-256-bit-secret"] {
        let tok = token(&hmac_key(Alg::HS256, secret.as_bytes()), None);
        let file = ws.file("weak.secret", secret);
        let out = ws.diagnose(&tok, &["--secret-file", &file]);
        out.assert_signature_codes(&["weak-secret", "signature-valid", "key-too-weak"])
            .assert_exit(1, "rejected");
        // "secret" is also a word of every secret finding's text: only a
        // secret of 8+ characters can be searched for.
        if secret.len() >= 8 {
            out.assert_hidden(secret.as_bytes());
        }
    }
}

/// A token made with jwt.io's example secret, at a server whose own secret
/// is another: it fails as signature-invalid; the well-known secret is the
/// evidence, not a claim that this server is forgeable.
#[test]
fn weak_secret_behind_signature_invalid_when_the_users_secret_differs() {
    let ws = Workspace::new();
    let tok = token(&hmac_key(Alg::HS256, b"your-256-bit-secret"), None);
    let file = ws.file("server.secret", text_secret(40));
    let out = ws.diagnose(&tok, &["--secret-file", &file]);
    out.assert_signature_codes(&["weak-secret", "signature-invalid"])
        .assert_exit(1, "rejected")
        .assert_detail(
            "weak-secret",
            &["not with the secret you gave", "test-tool secret"],
        );
    let codes = out.codes();
    let at = |c: &str| codes.iter().position(|x| x == c).unwrap();
    assert!(at("signature-invalid") < at("weak-secret"), "{codes:?}");
    assert!(
        !out.detail("weak-secret")
            .contains("anyone can forge tokens for this server"),
        "{}",
        out.detail("weak-secret")
    );
}

#[test]
fn key_too_weak_rsa_1024_bit_key_still_verifies() {
    let ws = Workspace::new();
    let tok = std::fs::read_to_string(fixture("keys/rsa1024-rs256.jwt")).expect("fixture");
    let pem = fixture("keys/rsa1024-pub.pem");
    let pem = pem.to_str().expect("UTF-8 path");
    ws.diagnose(tok.trim(), &["--key", pem])
        .assert_signature_codes(&["signature-valid", "key-too-weak"])
        .assert_exit(0, "accepted")
        .assert_detail("key-too-weak", &["1024"]);
}

#[test]
fn key_too_weak_hmac_secret_shorter_than_the_hash() {
    let ws = Workspace::new();
    for (alg, len, need) in [
        (Alg::HS256, 10, "32"),
        (Alg::HS384, 32, "48"),
        (Alg::HS512, 48, "64"),
    ] {
        let secret = text_secret(len);
        let tok = token(&hmac_key(alg, secret.as_bytes()), None);
        let file = ws.file("short.secret", &secret);
        ws.diagnose(&tok, &["--secret-file", &file])
            .assert_signature_codes(&["signature-valid", "key-too-weak"])
            .assert_exit(0, "accepted")
            .assert_detail("key-too-weak", &[&format!("{len} bytes"), need])
            .assert_hidden(secret.as_bytes());
    }
}

#[test]
fn private_key_supplied_pkcs8_and_traditional_pem() {
    let ws = Workspace::new();
    let rsa = key(Alg::RS256);
    let ec = key(Alg::ES256);
    let ed = key(Alg::EdDSA);
    let cases = [
        (&rsa, lf(&rsa.private_pem().expect("PKCS#8")), "PRIVATE KEY"),
        (
            &rsa,
            lf(&rsa.private_pem_traditional().expect("PKCS#1")),
            "RSA PRIVATE KEY",
        ),
        (&ec, lf(&ec.private_pem().expect("PKCS#8")), "PRIVATE KEY"),
        (
            &ec,
            lf(&ec.private_pem_traditional().expect("SEC1")),
            "EC PRIVATE KEY",
        ),
        (&ed, lf(&ed.private_pem().expect("PKCS#8")), "PRIVATE KEY"),
    ];
    for (i, (k, pem, label)) in cases.iter().enumerate() {
        assert!(
            pem.starts_with(&format!("-----BEGIN {label}-----")),
            "{pem}"
        );
        let path = ws.file(&format!("private-{i}.pem"), pem);
        let out = ws.diagnose(&token(k, None), &["--key", &path]);
        out.assert_signature_codes(&["signature-valid", "private-key-supplied"])
            .assert_exit(0, "accepted")
            .assert_detail("private-key-supplied", &[&path]);
        for line in pem
            .lines()
            .filter(|l| !l.starts_with("-----") && l.len() >= 16)
        {
            out.assert_hidden_text(line, "a line of the private key");
        }
    }
}

#[test]
fn alg_key_mismatch_es256_token_with_p384_key() {
    let ws = Workspace::new();
    let tok = token(&key(Alg::ES256), None);
    let pem = ws.file("p384.pem", spki_pem(&key(Alg::ES384)));
    ws.diagnose(&tok, &["--key", &pem])
        .assert_signature_codes(&["alg-key-mismatch"])
        .assert_exit(1, "rejected")
        .assert_detail("alg-key-mismatch", &["P-256", "P-384"]);
}

#[test]
fn alg_key_mismatch_hs256_token_with_only_an_rsa_key_and_no_forgery() {
    let ws = Workspace::new();
    let secret = text_secret(40);
    let tok = token(&hmac_key(Alg::HS256, secret.as_bytes()), None);
    let pem = ws.file("rsa.pem", spki_pem(&key(Alg::RS256)));
    ws.diagnose(&tok, &["--key", &pem])
        .assert_signature_codes(&["alg-key-mismatch"])
        .assert_exit(1, "rejected")
        .assert_detail("alg-key-mismatch", &["HMAC", &pem]);
}

#[test]
fn alg_key_mismatch_rs256_token_with_only_a_secret() {
    let ws = Workspace::new();
    let tok = token(&key(Alg::RS256), None);
    let secret = text_secret(40);
    ws.diagnose(&tok, &["--secret", &secret])
        .assert_signature_codes(&["alg-key-mismatch"])
        .assert_exit(1, "rejected")
        .assert_detail("alg-key-mismatch", &["RSA", "--secret"])
        .assert_hidden(secret.as_bytes());
}

/// An HS256 token forged with `hmac_secret` as key, checked against `--key key_file`.
fn assert_confusion(ws: &Workspace, alg: Alg, key_file: &str, hmac_secret: &[u8], form: &str) {
    let tok = token(&hmac_key(alg, hmac_secret), None);
    ws.diagnose(&tok, &["--key", key_file])
        .assert_signature_codes(&["algorithm-confusion"])
        .assert_exit(1, "rejected")
        .assert_detail("algorithm-confusion", &[key_file, form]);
}

#[test]
fn algorithm_confusion_exact_pem_text() {
    let ws = Workspace::new();
    let k = key(Alg::RS256);
    let pem = spki_pem(&k);
    assert!(pem.ends_with("-----\n"));
    let file = ws.file("rsa.pem", &pem);
    for alg in [Alg::HS256, Alg::HS384, Alg::HS512] {
        assert_confusion(&ws, alg, &file, pem.as_bytes(), "");
    }
}

#[test]
fn algorithm_confusion_pem_without_trailing_newline() {
    let ws = Workspace::new();
    let pem = spki_pem(&key(Alg::RS256));
    let file = ws.file("rsa.pem", &pem);
    assert_confusion(&ws, Alg::HS256, &file, pem.trim_end().as_bytes(), "without");
}

#[test]
fn algorithm_confusion_pem_with_trailing_newline_file_without() {
    let ws = Workspace::new();
    let pem = spki_pem(&key(Alg::RS256));
    let file = ws.file("rsa-no-newline.pem", pem.trim_end());
    assert_confusion(
        &ws,
        Alg::HS256,
        &file,
        pem.as_bytes(),
        "with a trailing newline",
    );
}

#[test]
fn algorithm_confusion_der_spki_bytes() {
    let ws = Workspace::new();
    let k = key(Alg::RS256);
    let file = ws.file("rsa.pem", spki_pem(&k));
    let der = k.public_spki_der().expect("DER");
    assert_confusion(&ws, Alg::HS256, &file, &der, "DER");
}

#[test]
fn algorithm_confusion_crlf_file_lf_secret() {
    let ws = Workspace::new();
    let k = key(Alg::RS256);
    let crlf = k.public_pem().expect("PEM");
    assert!(crlf.contains("\r\n"));
    let file = ws.file("rsa-crlf.pem", &crlf);
    assert_confusion(&ws, Alg::HS256, &file, lf(&crlf).as_bytes(), "LF");
}

#[test]
fn algorithm_confusion_ec_and_pkcs1_keys() {
    let ws = Workspace::new();
    let ec = spki_pem(&key(Alg::ES256));
    let ec_file = ws.file("ec.pem", &ec);
    assert_confusion(&ws, Alg::HS256, &ec_file, ec.as_bytes(), "");
    let pkcs1 = lf(&key(Alg::RS256).public_pem_pkcs1().expect("PKCS#1"));
    let pkcs1_file = ws.file("rsa-pkcs1.pem", &pkcs1);
    assert_confusion(&ws, Alg::HS256, &pkcs1_file, pkcs1.as_bytes(), "");
}

/// The server holds the key as a JWK; the attacker fetched it as SPKI PEM.
#[test]
fn algorithm_confusion_jwk_key_pem_secret() {
    let ws = Workspace::new();
    let k = key(Alg::RS256);
    let file = ws.file("rsa.jwk.json", k.public_jwk("k1").to_string());
    assert_confusion(&ws, Alg::HS256, &file, spki_pem(&k).as_bytes(), "PEM");
}

#[test]
fn kid_missing_two_keys_and_no_kid() {
    let ws = Workspace::new();
    let (a, b) = (key(Alg::RS256), key(Alg::RS256));
    let set = ws.file("jwks.json", jwks(&[(&a, "key-a"), (&b, "key-b")]));
    for signer in [&a, &b] {
        ws.diagnose(&token(signer, None), &["--key", &set])
            .assert_signature_codes(&["signature-valid", "kid-missing"])
            .assert_exit(0, "accepted")
            .assert_detail("kid-missing", &["key-a", "key-b"]);
    }
}

#[test]
fn kid_missing_absent_with_a_single_key() {
    let ws = Workspace::new();
    let k = key(Alg::RS256);
    let set = ws.file("jwks.json", jwks(&[(&k, "only")]));
    ws.diagnose(&token(&k, None), &["--key", &set])
        .assert_accepted()
        .assert_absent("kid-missing");
}

#[test]
fn kid_not_found_key_not_in_the_set() {
    let ws = Workspace::new();
    let (a, b, c) = (key(Alg::RS256), key(Alg::RS256), key(Alg::RS256));
    let set = ws.file("jwks.json", jwks(&[(&a, "key-a"), (&b, "key-b")]));
    ws.diagnose(&token(&c, Some("key-c")), &["--key", &set])
        .assert_signature_codes(&["kid-not-found"])
        .assert_exit(1, "rejected")
        .assert_detail("kid-not-found", &["\"key-c\"", "\"key-a\"", "\"key-b\""]);
}

#[test]
fn kid_not_found_even_when_a_key_of_the_set_verifies() {
    let ws = Workspace::new();
    let (a, b) = (key(Alg::ES256), key(Alg::ES256));
    let set = ws.file("jwks.json", jwks(&[(&a, "key-a"), (&b, "key-b")]));
    ws.diagnose(&token(&a, Some("key-old")), &["--key", &set])
        .assert_code("kid-not-found")
        .assert_absent("wrong-kid")
        .assert_absent("signature-invalid")
        .assert_exit(1, "rejected")
        .assert_detail("kid-not-found", &["\"key-old\"", "\"key-a\"", "\"key-b\""]);
}

// ---------------------------------------------------------------------------
// 4. Known answers: the RFC examples.
// ---------------------------------------------------------------------------

/// Before the RFC 7515 examples' `exp` (1300819380).
const RFC_NOW: &str = "1300819000";

fn rfc_vector(name: &str) -> (String, String, serde_json::Value) {
    let text = std::fs::read_to_string(fixture(&format!("rfc/{name}"))).expect("RFC vector");
    let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let compact = v["compact"].as_str().expect("compact").to_string();
    let alg = v["alg"].as_str().expect("alg").to_string();
    (compact, alg, v["jwk"].clone())
}

#[test]
fn rfc7515_a2_rs256_verifies_with_its_jwk() {
    let ws = Workspace::new();
    let (compact, alg, jwk) = rfc_vector("rfc7515-a2-rs256.json");
    assert_eq!(alg, "RS256");
    let file = ws.file("a2.jwk.json", jwk.to_string());
    let out = ws.diagnose_with(&compact, &["--key", &file], RFC_NOW, &[]);
    out.assert_code("signature-valid")
        .assert_absent("signature-invalid")
        .assert_absent("expired");
    assert_ne!(out.report["verdict"], "unverified");
}

#[test]
fn rfc_vectors_all_verify_with_their_jwk() {
    let ws = Workspace::new();
    for name in [
        "rfc7515-a1-hs256.json",
        "rfc7515-a2-rs256.json",
        "rfc7515-a3-es256.json",
        "rfc7515-a4-es512.json",
        "rfc7520-4.1-rs256.json",
        "rfc7520-4.2-ps384.json",
        "rfc7520-4.3-es512.json",
        "rfc7520-4.4-hs256.json",
        "rfc8037-a4-ed25519.json",
    ] {
        let (compact, _, jwk) = rfc_vector(name);
        let file = ws.file(&format!("{name}.jwk"), jwk.to_string());
        let out = ws.diagnose_with(&compact, &["--key", &file], RFC_NOW, &[]);
        assert!(
            out.has("signature-valid"),
            "{name}: expected signature-valid, got {:?}",
            out.codes()
        );
        out.assert_absent("signature-invalid");
        if let Some(k) = jwk["k"].as_str() {
            // The symmetric key, as the JWK holds it, never reaches the output.
            out.assert_hidden_text(k, "the JWK's k");
        }
    }
}

#[test]
fn rfc7515_a2_fails_with_another_rsa_key() {
    let ws = Workspace::new();
    let (compact, _, _) = rfc_vector("rfc7515-a2-rs256.json");
    let (_, _, other) = rfc_vector("rfc7520-4.1-rs256.json");
    let file = ws.file("other.jwk.json", other.to_string());
    ws.diagnose_with(&compact, &["--key", &file], RFC_NOW, &[])
        .assert_code("signature-invalid")
        .assert_absent("signature-valid")
        .assert_exit(1, "rejected");
}

// ---------------------------------------------------------------------------
// 5. `--key` errors.
// ---------------------------------------------------------------------------

fn key_error(ws: &Workspace, path: &str) {
    let tok = token(&key(Alg::ES256), None);
    let run = ws.raw(
        &[
            "diagnose", &tok, "--key", path, "--now", NOW, "--format", "json",
        ],
        &[],
    );
    run.assert_usage_error();
    assert!(
        run.stderr.contains(path),
        "the message names the file: {}",
        run.stderr
    );
    let seg = tok.rsplit('.').next().expect("signature");
    assert!(!run.stderr.contains(seg), "signature segment on stderr");
}

#[test]
fn key_missing_file_is_a_usage_error() {
    let ws = Workspace::new();
    key_error(&ws, &ws.path("does-not-exist.pem"));
}

#[test]
fn key_garbage_file_is_a_usage_error() {
    let ws = Workspace::new();
    key_error(
        &ws,
        &ws.file("garbage.pem", "this is not a key, just some text\n"),
    );
    key_error(
        &ws,
        &ws.file("binary.bin", [0xffu8, 0x00, 0x13, 0x37, 0xde, 0xad]),
    );
    key_error(
        &ws,
        &ws.file(
            "truncated.pem",
            "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n",
        ),
    );
    key_error(
        &ws,
        &ws.file("broken.json", "{\"keys\": [ {\"kty\": \"RSA\", "),
    );
}

#[test]
fn key_empty_file_is_a_usage_error() {
    let ws = Workspace::new();
    key_error(&ws, &ws.file("empty.pem", ""));
    key_error(&ws, &ws.file("blank.pem", "\n \n"));
}

/// `sign_token` with a hand-made header still round-trips (sanity of the helpers).
#[test]
fn helpers_build_what_the_binary_accepts() {
    let ws = Workspace::new();
    let k = key(Alg::EdDSA);
    let tok = sign_token(&header(Alg::EdDSA, None), &claims(), &k).expect("sign");
    assert_eq!(signing_input(&tok).split('.').count(), 2);
    let pem = ws.file("ed.pem", spki_pem(&k));
    ws.diagnose(&tok, &["--key", &pem]).assert_accepted();
}

// ---------------------------------------------------------------------------
// Bugs found while writing these tests (ignored until fixed).
// ---------------------------------------------------------------------------

/// RFC 7638 thumbprint of an `oct` JWK holding `secret`: an unkeyed SHA-256 of
/// the secret, enough to confirm a guessed secret offline.
fn oct_thumbprint(secret: &[u8]) -> String {
    let canonical = format!(r#"{{"k":"{}","kty":"oct"}}"#, b64(secret));
    b64(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes()).as_ref())
}

#[test]
fn hmac_secret_thumbprint_is_not_in_the_report() {
    let ws = Workspace::new();
    let secret = text_secret(40);
    let tok = token(&hmac_key(Alg::HS256, secret.as_bytes()), None);
    let file = ws.file("hs.secret", &secret);
    let wrong = text_secret(40);
    for (s, f) in [(&secret, file), (&wrong, ws.file("wrong.secret", &wrong))] {
        ws.diagnose(&tok, &["--secret-file", &f])
            .assert_hidden(s.as_bytes())
            .assert_hidden_text(
                &oct_thumbprint(s.as_bytes()),
                "the secret's SHA-256 thumbprint",
            );
    }
}

#[test]
fn empty_secret_flag_is_a_usage_error() {
    let ws = Workspace::new();
    let tok = token(&hmac_key(Alg::HS256, text_secret(40).as_bytes()), None);
    let run = ws.raw(
        &[
            "diagnose", &tok, "--secret", "", "--now", NOW, "--format", "json",
        ],
        &[],
    );
    run.assert_usage_error();
}

/// The only key given cannot verify anything (`use: enc`, X25519): the report
/// must say so, not stay silent.
#[test]
fn unusable_key_is_not_silently_ignored() {
    let ws = Workspace::new();
    let rsa = key(Alg::RS256);
    let mut enc = rsa.public_jwk("k1");
    enc["use"] = json!("enc");
    let mut x = [0u8; 32];
    aws_lc_rs::rand::fill(&mut x).expect("random");
    let x25519 = json!({"kty": "OKP", "crv": "X25519", "x": b64(&x), "kid": "x"});
    let ed = key(Alg::EdDSA);
    for (tok, file) in [
        (
            token(&rsa, Some("k1")),
            ws.file("enc.json", json!({"keys": [enc]}).to_string()),
        ),
        (
            token(&ed, None),
            ws.file("x25519.json", json!({"keys": [x25519]}).to_string()),
        ),
    ] {
        let out = ws.diagnose(&tok, &["--key", &file]);
        out.assert_absent("signature-valid");
        assert!(
            [
                "signature-not-checked",
                "alg-key-mismatch",
                "jwks-key-unusable"
            ]
            .iter()
            .any(|c| out.has(c)),
            "an unusable key must be reported, got {:?}",
            out.codes()
        );
    }
}

/// A JWK's `alg` names the one algorithm the key is for (RFC 7517 §4.4);
/// verifiers that select keys from a set (jose, go-jose, Nimbus) skip it for
/// another alg, so a PS256 token does not verify with an `"alg": "RS256"` key.
#[test]
fn jwk_alg_other_than_the_token_alg_is_a_mismatch() {
    let ws = Workspace::new();
    let rs = key(Alg::RS256);
    let set = ws.file("jwks.json", jwks(&[(&rs, "k1")]));
    let ps = rs.with_alg(Alg::PS256).expect("same RSA key for PS256");
    let out = ws.diagnose(&token(&ps, Some("k1")), &["--key", &set]);
    out.assert_code("alg-key-mismatch")
        .assert_exit(1, "rejected")
        .assert_detail(
            "alg-key-mismatch",
            &[
                "declared for \"alg\": \"RS256\"",
                "Declaration aside, the PS256 signature verifies with it",
            ],
        );
    assert!(
        out.finding("alg-key-mismatch")["fix"]
            .as_str()
            .is_some_and(|f| f.contains("\"alg\": \"PS256\"")),
        "{:?}",
        out.finding("alg-key-mismatch")
    );

    // Another RSA key without `alg` beside it, tried and failing: the
    // declared key that verifies is still the explanation.
    let other = key(Alg::PS256);
    let written = std::fs::read_to_string(ws.path("jwks.json")).expect("set");
    let mut both: serde_json::Value = serde_json::from_str(&written).expect("json");
    both["keys"]
        .as_array_mut()
        .expect("keys")
        .push(other.public_jwk("k2"));
    both["keys"][1].as_object_mut().expect("jwk").remove("alg");
    let set = ws.file("both.json", both.to_string());
    ws.diagnose(&token(&ps, Some("k1")), &["--key", &set])
        .assert_code("alg-key-mismatch")
        .assert_absent("signature-invalid")
        .assert_detail("alg-key-mismatch", &["Declaration aside"]);

    // A declared key that does not verify either: said so, not "the right key".
    let stranger = key(Alg::PS256);
    ws.diagnose(
        &token(&stranger, Some("k1")),
        &["--key", &ws.path("jwks.json")],
    )
    .assert_code("alg-key-mismatch")
    .assert_detail("alg-key-mismatch", &["does not verify with it either"]);
}

/// `JWT_SECRET` holding the public key PEM (node's jsonwebtoken takes key and
/// secret through one parameter): an HS256 token that verifies with it is a
/// forgery, however it is passed; an RS256 token verifies with it as a key.
#[test]
fn public_key_pem_passed_as_the_hmac_secret() {
    let ws = Workspace::new();
    let k = key(Alg::RS256);
    let pem = spki_pem(&k);
    let file = ws.file("public.pem", &pem);
    let forged = token(&hmac_key(Alg::HS256, pem.as_bytes()), None);
    ws.diagnose(&forged, &["--secret-file", &file])
        .assert_signature_codes(&["algorithm-confusion"])
        .assert_exit(1, "rejected")
        .assert_detail("algorithm-confusion", &["RSA 2048-bit key", &file]);
    // The forger kept the newline; `$(cat public.pem)` drops it.
    ws.diagnose_with(
        &forged,
        &["--secret-env", "PEM"],
        NOW,
        &[("PEM", pem.trim_end())],
    )
    .assert_signature_codes(&["algorithm-confusion"])
    .assert_detail("algorithm-confusion", &["with a trailing newline"]);
    let genuine = token(&k, None);
    ws.diagnose(&genuine, &["--secret-file", &file])
        .assert_signature_codes(&["signature-valid"])
        .assert_exit(0, "accepted")
        .assert_detail("signature-valid", &["RSA 2048-bit public key", &file]);
}

/// Keys given that cannot verify this token are a rejection with the reason,
/// never "no key given": a key-agreement key, a JWK whose `kty` is written in
/// the wrong case, a set holding no key, and a signing key published with
/// `use: enc` (said to verify once `use` is ignored).
#[test]
fn keys_given_that_cannot_verify_say_why_instead_of_no_key_given() {
    let ws = Workspace::new();
    let k = key(Alg::RS256);
    let tok = token(&k, Some("k1"));
    // X25519: a key-agreement key, as an SPKI PEM (RFC 8410).
    let x25519 = ws.file(
        "x25519.pem",
        "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VuAyEAQ5yMcWcTpebpbKCQXzrsy2JO9WRwNivHbY9MYj2zU0I=\n-----END PUBLIC KEY-----\n",
    );
    ws.diagnose(&tok, &["--key", &x25519])
        .assert_signature_codes(&["alg-key-mismatch"])
        .assert_exit(1, "rejected")
        .assert_detail("alg-key-mismatch", &["key-agreement"]);

    let mut lower = k.public_jwk("k1");
    lower["kty"] = json!("rsa");
    let lower = ws.file("lower.json", json!({"keys": [lower]}).to_string());
    ws.diagnose(&tok, &["--key", &lower])
        .assert_code("alg-key-mismatch")
        .assert_exit(1, "rejected")
        .assert_detail("alg-key-mismatch", &["must be written \"RSA\""]);

    let empty = ws.file("empty.json", r#"{"keys": []}"#);
    let out = ws.diagnose(&tok, &["--key", &empty]);
    assert_eq!(out.finding("jwks-empty")["severity"], "error");
    out.assert_exit(1, "rejected")
        .assert_lacks("signature-not-checked");

    let mut enc = k.public_jwk("k1");
    enc["use"] = json!("enc");
    let enc = ws.file("enc.json", json!({"keys": [enc]}).to_string());
    ws.diagnose(&tok, &["--key", &enc])
        .assert_code("alg-key-mismatch")
        .assert_exit(1, "rejected")
        .assert_detail(
            "alg-key-mismatch",
            &["\"use\": \"enc\"", "verifies the signature"],
        );
}

/// Algorithms the registry has and jwtai does not verify are named as such,
/// not as unregistered or malformed.
#[test]
fn registered_algorithms_jwtai_cannot_verify_are_unchecked_not_malformed() {
    let ws = Workspace::new();
    let b64 = |v: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let payload = b64(&json!({"sub": "1"}));
    for (alg, sig_len, says) in [("ES256K", 64, "RFC 8812"), ("EdDSA", 114, "Ed448")] {
        let header = b64(&json!({"alg": alg}));
        let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(vec![7u8; sig_len]);
        let tok = format!("{header}.{payload}.{sig}");
        ws.diagnose(&tok, &[])
            .assert_code("signature-not-checked")
            .assert_lacks("alg-unknown")
            .assert_lacks("signature-length-mismatch")
            .assert_detail("signature-not-checked", &[says]);
    }
}

/// Secrets written down in a convention one side undoes and the other does
/// not: the signer's copy with a trailing newline, Laravel's `base64:`
/// prefix, `0x` hex, and a secret file holding a whole env line.
#[test]
fn secret_conventions_one_side_undoes_are_named() {
    let ws = Workspace::new();
    let raw: Vec<u8> = (0u8..32).map(|b| b.wrapping_mul(37) ^ 0x5a).collect();
    let text = "a-configured-secret-of-forty-bytes-long!";
    let cases: Vec<(Vec<u8>, String, &str, &str)> = vec![
        (
            format!("{text}\n").into_bytes(),
            text.to_string(),
            "secret-whitespace",
            "trailing newline added",
        ),
        (
            raw.clone(),
            format!("base64:{}", STANDARD.encode(&raw)),
            "secret-encoding",
            "`base64:` prefix",
        ),
        (
            raw.clone(),
            format!(
                "0x{}",
                raw.iter().map(|b| format!("{b:02x}")).collect::<String>()
            ),
            "secret-encoding",
            "`0x` prefix",
        ),
        (
            text.as_bytes().to_vec(),
            format!("JWT_SECRET={text}"),
            "secret-encoding",
            "`NAME=value` line",
        ),
    ];
    for (signed_with, file_text, code, says) in cases {
        let tok = token(&hmac_key(Alg::HS256, &signed_with), None);
        let file = ws.file("secret", &file_text);
        ws.diagnose(&tok, &["--secret-file", &file])
            .assert_signature_codes(&[code])
            .assert_exit(1, "rejected")
            .assert_detail(code, &[says]);
    }
}

/// An `oct` JWK given as the secret file: its `k` is the secret.
#[test]
fn an_oct_jwk_given_as_the_secret_file_verifies_with_its_k() {
    let ws = Workspace::new();
    let secret = text_secret(40);
    let tok = token(&hmac_key(Alg::HS256, secret.as_bytes()), None);
    let k = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret.as_bytes());
    let jwk = ws.file("oct.json", json!({"kty": "oct", "k": k}).to_string());
    ws.diagnose(&tok, &["--secret-file", &jwk])
        .assert_signature_codes(&["signature-valid"])
        .assert_exit(0, "accepted");
}

/// A large key set is named by its first kids and how many more, in the
/// detail; the evidence keeps every kid.
#[test]
fn a_large_key_sets_kids_are_shortened_in_the_detail() {
    let ws = Workspace::new();
    let k = key(Alg::RS256);
    let names: Vec<String> = (0..25).map(|i| format!("kid-{i:02}")).collect();
    let entries: Vec<(&SigningKey, &str)> = names.iter().map(|n| (&k, n.as_str())).collect();
    let set = ws.file("jwks.json", jwks(&entries));
    let t = sign_token(
        &header(Alg::RS256, Some("gone")),
        &claims(),
        &key(Alg::RS256),
    )
    .expect("sign");
    let out = ws.diagnose(&t, &["--key", &set]);
    out.assert_code("kid-not-found")
        .assert_detail("kid-not-found", &["\"kid-09\" and 15 more"]);
    assert!(!out.detail("kid-not-found").contains("kid-10"));
    let available = &out.finding("kid-not-found")["evidence"]["available"];
    assert_eq!(available.as_array().map(Vec::len), Some(25));
}
