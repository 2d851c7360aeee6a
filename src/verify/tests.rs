use std::collections::HashSet;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::*;
use crate::keys::{Candidate, parse_key_bytes};
use crate::sign::{SigningKey, hmac_sign, sign_token};

/// (signing input, signature) of a compact JWS.
fn split(token: &str) -> (Vec<u8>, Vec<u8>) {
    let dot = token.rfind('.').expect("two dots");
    let sig = URL_SAFE_NO_PAD
        .decode(&token[dot + 1..])
        .expect("base64url");
    (token.as_bytes()[..dot].to_vec(), sig)
}

struct Vector {
    name: &'static str,
    alg: Alg,
    key: Candidate,
    input: Vec<u8>,
    sig: Vec<u8>,
}

fn vector(name: &'static str, text: &str) -> Vector {
    let v: Value = serde_json::from_str(text).expect("vector json");
    let alg = Alg::from_name(v["alg"].as_str().expect("alg")).expect("known alg");
    let mut keys = parse_key_bytes(v["jwk"].to_string().as_bytes(), name).expect("jwk loads");
    let (input, sig) = split(v["compact"].as_str().expect("compact"));
    Vector {
        name,
        alg,
        key: keys.remove(0),
        input,
        sig,
    }
}

fn rfc_vectors() -> Vec<Vector> {
    vec![
        vector(
            "RFC 7515 A.1",
            include_str!("../../tests/data/rfc/rfc7515-a1-hs256.json"),
        ),
        vector(
            "RFC 7515 A.2",
            include_str!("../../tests/data/rfc/rfc7515-a2-rs256.json"),
        ),
        vector(
            "RFC 7515 A.3",
            include_str!("../../tests/data/rfc/rfc7515-a3-es256.json"),
        ),
        vector(
            "RFC 7515 A.4",
            include_str!("../../tests/data/rfc/rfc7515-a4-es512.json"),
        ),
        vector(
            "RFC 7520 4.1",
            include_str!("../../tests/data/rfc/rfc7520-4.1-rs256.json"),
        ),
        vector(
            "RFC 7520 4.2",
            include_str!("../../tests/data/rfc/rfc7520-4.2-ps384.json"),
        ),
        vector(
            "RFC 7520 4.3",
            include_str!("../../tests/data/rfc/rfc7520-4.3-es512.json"),
        ),
        vector(
            "RFC 7520 4.4",
            include_str!("../../tests/data/rfc/rfc7520-4.4-hs256.json"),
        ),
        vector(
            "RFC 8037 A.4",
            include_str!("../../tests/data/rfc/rfc8037-a4-ed25519.json"),
        ),
    ]
}

#[test]
fn rfc_known_answers_verify() {
    for v in rfc_vectors() {
        assert_eq!(
            verify(v.alg, &v.input, &v.sig, &v.key.material),
            Ok(()),
            "{} ({})",
            v.name,
            v.alg
        );
        // One flipped bit anywhere breaks it.
        let mut sig = v.sig.clone();
        sig[0] ^= 1;
        assert_eq!(
            verify(v.alg, &v.input, &sig, &v.key.material),
            Err(VerifyError::Invalid),
            "{}",
            v.name
        );
        let mut input = v.input.clone();
        input.push(b'x');
        assert_eq!(
            verify(v.alg, &input, &v.sig, &v.key.material),
            Err(VerifyError::Invalid),
            "{}",
            v.name
        );
    }
}

#[test]
fn rfc_private_jwks_load_as_public_parts() {
    for v in rfc_vectors() {
        let private = !matches!(v.alg.family(), Family::Hmac);
        assert_eq!(v.key.from_private_key, private, "{}", v.name);
    }
}

#[test]
fn round_trip_every_algorithm() {
    let claims = json!({"sub": "round-trip", "iat": 1_700_000_000});
    let mut rsa: Option<SigningKey> = None;
    for alg in Alg::ALL {
        // Reuse one RSA key across RS*/PS* (generation is the slow part).
        let key = match (alg.family(), rsa.take()) {
            (Family::Rsa | Family::RsaPss, Some(k)) => k.with_alg(alg).expect("same family"),
            _ => SigningKey::generate(alg).expect("generate"),
        };
        let token =
            sign_token(&json!({"alg": alg.name(), "typ": "JWT"}), &claims, &key).expect("sign");
        let (input, sig) = split(&token);
        if let Some(len) = alg.fixed_signature_len() {
            assert_eq!(sig.len(), len, "{alg}");
        }
        let material = key.public_material();
        assert_eq!(verify(alg, &input, &sig, &material), Ok(()), "{alg}");

        let other = SigningKey::generate(alg).expect("generate");
        assert_eq!(
            verify(alg, &input, &sig, &other.public_material()),
            Err(VerifyError::Invalid),
            "{alg}: wrong key"
        );
        if matches!(alg.family(), Family::Rsa | Family::RsaPss) {
            rsa = Some(key);
        }
    }
}

#[test]
fn key_type_and_curve_mismatches() {
    let rsa = SigningKey::generate(Alg::RS256).expect("rsa");
    let es256 = SigningKey::generate(Alg::ES256).expect("ec");
    let p384 = SigningKey::generate(Alg::ES384).expect("ec");
    let input = b"a.b";
    let sig = es256.sign(input).expect("sign");

    assert_eq!(
        verify(Alg::ES256, input, &sig, &rsa.public_material()),
        Err(VerifyError::KeyTypeMismatch {
            need: "an EC P-256 public key",
            have: "RSA 2048-bit".to_string()
        })
    );
    assert_eq!(
        verify(Alg::ES256, input, &sig, &p384.public_material()),
        Err(VerifyError::CurveMismatch {
            need: Curve::P256,
            have: Curve::P384
        })
    );
    let hmac = crate::keys::secret_candidate(b"secret".to_vec(), "s".into()).material;
    assert!(matches!(
        verify(Alg::RS256, input, &sig, &hmac),
        Err(VerifyError::KeyTypeMismatch {
            need: "an RSA public key",
            ..
        })
    ));
    assert!(matches!(
        verify(Alg::HS256, input, &sig, &rsa.public_material()),
        Err(VerifyError::KeyTypeMismatch {
            need: "an HMAC secret",
            ..
        })
    ));
    assert!(matches!(
        verify(Alg::EdDSA, input, &sig, &es256.public_material()),
        Err(VerifyError::KeyTypeMismatch { .. })
    ));
    let unusable = KeyMaterial::Unusable {
        kty: "OKP".into(),
        reason: "X25519".into(),
    };
    assert_eq!(
        verify(Alg::EdDSA, input, &sig, &unusable),
        Err(VerifyError::BadKey("X25519".into()))
    );
}

#[test]
fn weak_1024_bit_rsa_still_verifies_rs256() {
    let keys = parse_key_bytes(
        include_bytes!("../../tests/data/keys/rsa1024-pub.pem"),
        "weak.pem",
    )
    .expect("loads");
    let token = include_str!("../../tests/data/keys/rsa1024-rs256.jwt").trim();
    let (input, sig) = split(token);
    assert_eq!(verify(Alg::RS256, &input, &sig, &keys[0].material), Ok(()));
    // aws-lc-rs has no 1024-bit variant for PS*: a clear BadKey, not Invalid.
    match verify(Alg::PS256, &input, &sig, &keys[0].material) {
        Err(VerifyError::BadKey(msg)) => assert!(msg.contains("1024-bit"), "{msg}"),
        other => panic!("expected BadKey, got {other:?}"),
    }
}

#[test]
fn der_ecdsa_signature_is_detected() {
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).expect("generate");
    let key = KeyMaterial::Ec {
        curve: Curve::P256,
        point: pair.public_key().as_ref().to_vec(),
    };
    let input = b"eyJhbGciOiJFUzI1NiJ9.e30";
    let der = pair
        .sign(&SystemRandom::new(), input)
        .expect("sign")
        .as_ref()
        .to_vec();
    assert_eq!(der[0], 0x30);
    assert_eq!(
        verify(Alg::ES256, input, &der, &key),
        Err(VerifyError::Invalid)
    );
    assert!(ecdsa_der_verifies(Alg::ES256, input, &der, &key));
    assert!(!ecdsa_der_verifies(Alg::ES256, b"other input", &der, &key));
    assert!(!ecdsa_der_verifies(Alg::ES384, input, &der, &key));

    let jose = SigningKey::generate(Alg::ES256).expect("generate");
    let sig = jose.sign(input).expect("sign");
    assert!(!ecdsa_der_verifies(
        Alg::ES256,
        input,
        &sig,
        &jose.public_material()
    ));
}

#[test]
fn hmac_helpers() {
    let sig = hmac_sign(Alg::HS384, b"in", b"k");
    assert_eq!(sig.len(), 48);
    assert!(hmac_verify(Alg::HS384, b"in", &sig, b"k"));
    assert!(!hmac_verify(Alg::HS384, b"in", &sig, b"K"));
    assert!(!hmac_verify(Alg::HS256, b"in", &sig, b"k"));
    assert!(!hmac_verify(Alg::RS256, b"in", &sig, b"k"));
    assert!(hmac_sign(Alg::ES256, b"in", b"k").is_empty());
}

#[test]
fn weak_secret_list_is_sane() {
    let all: Vec<&str> = weak_secrets().collect();
    assert!(all.len() >= 300, "only {} entries", all.len());
    let unique: HashSet<&str> = all.iter().copied().collect();
    assert_eq!(
        unique.len(),
        all.len(),
        "duplicates in data/weak-secrets.txt"
    );
    for s in &all {
        assert!(!s.starts_with('#'));
        assert!(!s.ends_with('\r'), "CRLF line endings in the list");
    }
    for expected in [
        "secret",
        "your-256-bit-secret",
        "your-384-bit-secret",
        "your-512-bit-secret",
        "shhhhh",
        "changeme",
    ] {
        assert!(unique.contains(expected), "{expected} missing");
    }
}

#[test]
fn weak_secret_is_found() {
    for (alg, secret) in [
        (Alg::HS256, "your-256-bit-secret"),
        (Alg::HS384, "your-384-bit-secret"),
        (Alg::HS512, "your-512-bit-secret"),
        (Alg::HS256, "keyboard cat"),
    ] {
        let key = SigningKey::from_hmac_secret(alg, secret.as_bytes()).expect("key");
        let token =
            sign_token(&json!({"alg": alg.name()}), &json!({"sub": "x"}), &key).expect("sign");
        let (input, sig) = split(&token);
        assert_eq!(find_weak_secret(alg, &input, &sig), Some(secret), "{alg}");
        // The wrong algorithm finds nothing.
        assert_eq!(find_weak_secret(Alg::RS256, &input, &sig), None);
    }
    let strong = SigningKey::generate(Alg::HS256).expect("random 64-byte secret");
    assert_eq!(strong.hmac_secret().map(<[u8]>::len), Some(64));
    let token = sign_token(&json!({"alg": "HS256"}), &json!({}), &strong).expect("sign");
    let (input, sig) = split(&token);
    assert_eq!(find_weak_secret(Alg::HS256, &input, &sig), None);
}
