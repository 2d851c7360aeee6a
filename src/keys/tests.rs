use std::sync::OnceLock;

use secrecy::ExposeSecret;
use serde_json::{Value, json};

use super::*;
use crate::alg::Alg;
use crate::sign::SigningKey;

fn rsa_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::generate(Alg::RS256).expect("test key"))
}

fn one(bytes: &[u8], source: &str) -> Candidate {
    let mut keys = parse_key_bytes(bytes, source).expect("parses");
    assert_eq!(keys.len(), 1, "{source}: expected one key");
    keys.remove(0)
}

fn same_material(a: &KeyMaterial, b: &KeyMaterial) -> bool {
    match (a, b) {
        (KeyMaterial::Rsa { n, e }, KeyMaterial::Rsa { n: n2, e: e2 }) => n == n2 && e == e2,
        (
            KeyMaterial::Ec { curve, point },
            KeyMaterial::Ec {
                curve: c2,
                point: p2,
            },
        ) => curve == c2 && point == p2,
        (KeyMaterial::Ed25519 { x }, KeyMaterial::Ed25519 { x: x2 }) => x == x2,
        (KeyMaterial::Hmac(a), KeyMaterial::Hmac(b)) => a.expose_secret() == b.expose_secret(),
        _ => false,
    }
}

const SIGNING_ALGS: [Alg; 5] = [Alg::RS256, Alg::ES256, Alg::ES384, Alg::ES512, Alg::EdDSA];

fn generated(alg: Alg) -> SigningKey {
    SigningKey::generate(alg).expect("key")
}

#[test]
fn spki_pem_for_every_key_type() {
    for alg in SIGNING_ALGS {
        let key = if alg == Alg::RS256 {
            None
        } else {
            Some(generated(alg))
        };
        let key = key.as_ref().unwrap_or_else(|| rsa_key());
        let pem = key.public_pem().expect("public pem");
        let c = one(pem.as_bytes(), "pub.pem");
        assert!(same_material(&c.material, &key.public_material()), "{alg}");
        assert!(!c.from_private_key);
        assert!(!c.from_set);
        assert_eq!(c.raw_text.as_deref(), Some(pem.as_bytes()));
        assert_eq!(c.spki_der, key.public_spki_der());
        assert!(c.thumbprint.is_some());
        assert!(c.label.starts_with("pub.pem ("), "{}", c.label);
        assert!(c.label.contains("public key"), "{}", c.label);
    }
    let c = one(rsa_key().public_pem().expect("pem").as_bytes(), "pub.pem");
    assert_eq!(c.label, "pub.pem (RSA 2048-bit public key)");
    assert_eq!(c.material.describe(), "RSA 2048-bit");
    assert_eq!(c.material.rsa_bits(), Some(2048));
}

#[test]
fn pkcs1_rsa_public_key() {
    let key = rsa_key();
    let pem = key.public_pem_pkcs1().expect("pkcs1");
    assert!(pem.starts_with("-----BEGIN RSA PUBLIC KEY-----"));
    let c = one(pem.as_bytes(), "rsa.pem");
    assert!(same_material(&c.material, &key.public_material()));
    // The SPKI is re-encoded from n and e and equals the generated one.
    assert_eq!(c.spki_der, key.public_spki_der());
    assert!(c.label.contains("PKCS#1"), "{}", c.label);
}

#[test]
fn private_keys_give_their_public_part() {
    let key = rsa_key();
    for pem in [
        key.private_pem().expect("pkcs8"),
        key.private_pem_traditional().expect("pkcs1"),
    ] {
        let c = one(pem.as_bytes(), "key.pem");
        assert!(c.from_private_key);
        assert!(same_material(&c.material, &key.public_material()));
        assert_eq!(c.raw_text, None, "no private key text is kept");
        assert_eq!(c.spki_der, key.public_spki_der());
        assert!(
            c.label.contains("public part of RSA 2048-bit private key"),
            "{}",
            c.label
        );
    }
    for alg in [Alg::ES256, Alg::ES384, Alg::ES512] {
        let key = generated(alg);
        let sec1 = key.private_pem_traditional().expect("sec1");
        assert!(sec1.starts_with("-----BEGIN EC PRIVATE KEY-----"));
        for pem in [key.private_pem().expect("pkcs8"), sec1] {
            let c = one(pem.as_bytes(), "ec.pem");
            assert!(c.from_private_key, "{alg}");
            assert!(same_material(&c.material, &key.public_material()), "{alg}");
            assert_eq!(c.spki_der, key.public_spki_der());
        }
    }
    let ed = generated(Alg::EdDSA);
    let c = one(ed.private_pem().expect("pkcs8").as_bytes(), "ed.pem");
    assert!(c.from_private_key);
    assert!(same_material(&c.material, &ed.public_material()));
}

#[test]
fn openssl_made_keys_and_certificates() {
    let key = one(
        include_bytes!("../../tests/data/keys/rsa-key.pem"),
        "rsa-key.pem",
    );
    assert!(key.from_private_key);
    let cert = one(
        include_bytes!("../../tests/data/keys/rsa-cert.pem"),
        "rsa-cert.pem",
    );
    assert!(same_material(&cert.material, &key.material));
    assert!(!cert.from_private_key);
    assert!(
        cert.label.contains("certificate CN=jwtai test RSA"),
        "{}",
        cert.label
    );
    assert!(cert.raw_text.is_some());
    let der = one(
        include_bytes!("../../tests/data/keys/rsa-cert.der"),
        "rsa-cert.der",
    );
    assert!(same_material(&der.material, &key.material));
    assert_eq!(der.spki_der, cert.spki_der);
    let spki = one(
        include_bytes!("../../tests/data/keys/rsa-pub.der"),
        "rsa-pub.der",
    );
    assert!(same_material(&spki.material, &key.material));
    assert_eq!(
        spki.spki_der.as_deref(),
        Some(&include_bytes!("../../tests/data/keys/rsa-pub.der")[..])
    );
    assert_eq!(spki.thumbprint, key.thumbprint);

    // `openssl ecparam -genkey`: an EC PARAMETERS block, then EC PRIVATE KEY.
    let ec = one(
        include_bytes!("../../tests/data/keys/ec-p256-sec1.pem"),
        "ec.pem",
    );
    assert!(ec.from_private_key);
    assert!(matches!(
        ec.material,
        KeyMaterial::Ec {
            curve: Curve::P256,
            ..
        }
    ));
    let ec_cert = one(
        include_bytes!("../../tests/data/keys/ec-p256-cert.pem"),
        "ec-cert.pem",
    );
    assert!(same_material(&ec.material, &ec_cert.material));

    let ed = one(
        include_bytes!("../../tests/data/keys/ed25519-key.pem"),
        "ed.pem",
    );
    assert!(matches!(ed.material, KeyMaterial::Ed25519 { .. }));

    let weak = one(
        include_bytes!("../../tests/data/keys/rsa1024-pub.pem"),
        "weak.pem",
    );
    assert_eq!(weak.material.rsa_bits(), Some(1024));
}

#[test]
fn keys_that_cannot_verify_are_listed_as_unusable() {
    for (bytes, name, needle) in [
        (
            &include_bytes!("../../tests/data/keys/x25519-pub.pem")[..],
            "x.pem",
            "X25519",
        ),
        (
            &include_bytes!("../../tests/data/keys/secp256k1-pub.pem")[..],
            "k.pem",
            "secp256k1",
        ),
    ] {
        let c = one(bytes, name);
        match &c.material {
            KeyMaterial::Unusable { reason, .. } => assert!(reason.contains(needle), "{reason}"),
            other => panic!("{name}: expected unusable, got {}", other.describe()),
        }
        assert!(!c.is_usable());
        assert_eq!(c.thumbprint, None);
    }
}

#[test]
fn encrypted_private_key_is_a_clear_error() {
    let err = parse_key_bytes(
        include_bytes!("../../tests/data/keys/ec-encrypted.pem"),
        "enc.pem",
    )
    .expect_err("encrypted");
    assert!(matches!(err, KeyError::Encrypted { .. }));
    assert!(
        err.to_string()
            .contains("enc.pem: the private key is encrypted")
    );
}

#[test]
fn several_pem_blocks_give_several_candidates() {
    let ec = generated(Alg::ES256);
    let first = rsa_key().public_pem().expect("pem");
    let second = ec.public_pem().expect("pem");
    let text = format!("# two keys\n{first}\n{second}");
    let keys = parse_key_bytes(text.as_bytes(), "both.pem").expect("parses");
    assert_eq!(keys.len(), 2);
    assert!(
        keys[0].label.starts_with("both.pem #1 (RSA"),
        "{}",
        keys[0].label
    );
    assert!(
        keys[1].label.starts_with("both.pem #2 (EC P-256"),
        "{}",
        keys[1].label
    );
    assert_eq!(keys[0].raw_text.as_deref(), Some(first.as_bytes()));
    assert_eq!(keys[1].raw_text.as_deref(), Some(second.as_bytes()));
}

#[test]
fn single_jwk_public_and_private() {
    let key = generated(Alg::ES384);
    let jwk = key.public_jwk("ec-1");
    let c = one(jwk.to_string().as_bytes(), "jwk.json");
    assert!(same_material(&c.material, &key.public_material()));
    assert_eq!(c.kid.as_deref(), Some("ec-1"));
    assert_eq!(c.alg.as_deref(), Some("ES384"));
    assert_eq!(c.key_use.as_deref(), Some("sig"));
    assert!(!c.from_set);
    assert!(!c.from_private_key);
    assert_eq!(c.raw_text, None);
    assert_eq!(c.spki_der, key.public_spki_der());
    assert_eq!(c.label, "jwk.json (JWK kid ec-1, EC P-384)");

    // A private JWK (RFC 7515 A.3 carries "d") yields its public part.
    let a3: Value =
        serde_json::from_str(include_str!("../../tests/data/rfc/rfc7515-a3-es256.json"))
            .expect("json");
    let c = one(a3["jwk"].to_string().as_bytes(), "a3.json");
    assert!(c.from_private_key);
    assert!(matches!(
        c.material,
        KeyMaterial::Ec {
            curve: Curve::P256,
            ..
        }
    ));

    // An oct JWK given with --key is a usable secret.
    let a1: Value =
        serde_json::from_str(include_str!("../../tests/data/rfc/rfc7515-a1-hs256.json"))
            .expect("json");
    let c = one(a1["jwk"].to_string().as_bytes(), "a1.json");
    assert_eq!(c.material.describe(), "HMAC secret (64 bytes)");
    assert!(!c.label.contains("AyM1"), "no secret in labels");
}

#[test]
fn rfc7638_thumbprint() {
    let v: Value = serde_json::from_str(include_str!(
        "../../tests/data/rfc/rfc7638-3.1-thumbprint.json"
    ))
    .expect("json");
    let c = one(v["jwk"].to_string().as_bytes(), "rfc7638.json");
    assert_eq!(c.thumbprint.as_deref(), v["thumbprint"].as_str());
    assert_eq!(
        c.thumbprint.as_deref(),
        Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
    );
    assert_eq!(thumbprint(&c.material), c.thumbprint);
    assert_eq!(c.kid.as_deref(), Some("2011-04-29"));
}

#[test]
fn jwk_set_with_problems() {
    let good = rsa_key().public_jwk("prod-2024-01");
    let dup = generated(Alg::ES256).public_jwk("prod-2024-01");
    let mut enc = generated(Alg::ES256).public_jwk("enc-1");
    enc["use"] = json!("enc");
    let set = json!({"keys": [
        good,
        {"kty": "XYZ", "kid": "weird"},
        dup,
        enc,
        {"kty": "oct", "kid": "shared", "k": "c2VjcmV0"},
        {"kty": "OKP", "crv": "X25519", "kid": "x", "x": "AAAA"},
        {"kty": "EC", "crv": "secp256k1", "kid": "k1", "x": "AAAA", "y": "AAAA"},
        {"kty": "RSA", "kid": "no-n", "e": "AQAB"},
        {"kty": 7, "kid": "num"},
        "not an object",
    ]});
    let bytes = set.to_string();
    let parsed = parse_jwk_set(bytes.as_bytes(), "jwks.json").expect("set parses");
    assert_eq!(parsed.keys.len(), 10);
    assert!(parsed.keys.iter().all(|k| k.from_set));
    assert_eq!(
        parsed.keys[0].label,
        "jwks.json: kid prod-2024-01 (RSA 2048-bit)"
    );
    let usable: Vec<&str> = parsed
        .keys
        .iter()
        .filter(|k| k.is_usable())
        .filter_map(|k| k.kid.as_deref())
        .collect();
    assert_eq!(usable, ["prod-2024-01", "prod-2024-01", "enc-1"]);
    let has = |index: usize, needle: &str| {
        parsed
            .problems
            .iter()
            .any(|p| p.index == index && p.message.contains(needle))
    };
    assert!(has(1, "unknown kty"));
    assert!(has(2, "duplicate kid"));
    assert!(has(3, "\"use\": \"enc\""));
    assert!(has(4, "symmetric secret"));
    assert!(has(5, "X25519"));
    assert!(has(6, "secp256k1"));
    assert!(has(7, "missing \"n\""));
    assert!(has(8, "\"kty\" is a JSON number"));
    assert!(has(9, "not an object"));
    assert_eq!(parsed.keys[3].key_use.as_deref(), Some("enc"));
    assert_eq!(
        parsed.keys[9].label,
        "jwks.json: key #10 (unusable: the entry is a JSON string, not an object)"
    );
    for p in &parsed.problems {
        assert!(!p.message.contains("c2VjcmV0"), "no secret in problems");
    }

    // The same set from a local --key file accepts the oct key.
    let local = parse_key_bytes_with_problems(bytes.as_bytes(), "local.json").expect("parses");
    assert!(matches!(local.keys[4].material, KeyMaterial::Hmac(_)));
    assert!(
        local
            .problems
            .iter()
            .any(|p| p.index == 2 && p.message.contains("duplicate kid"))
    );
}

#[test]
fn jwk_set_shape_errors() {
    let err = parse_jwk_set(b"{\"keys\": 5}", "jwks.json").expect_err("not an array");
    assert_eq!(err.to_string(), "jwks.json: \"keys\" is not an array");
    let err = parse_jwk_set(b"{\"kty\": \"RSA\"}", "jwks.json").expect_err("single");
    assert!(err.to_string().contains("a single JWK, not a JWK Set"));
    let err = parse_jwk_set(b"{\"keys\": [", "jwks.json").expect_err("bad json");
    assert!(err.to_string().starts_with("jwks.json: "), "{err}");
    let many = json!({"keys": vec![json!({"kty": "oct", "k": "AA"}); MAX_KEYS_IN_SET + 1]});
    let err = parse_jwk_set(many.to_string().as_bytes(), "big.json").expect_err("too many");
    assert!(matches!(err, KeyError::TooManyKeys { count: 1001, .. }));
}

#[test]
fn absurd_rsa_keys_are_refused() {
    let n = URL_SAFE_NO_PAD.encode(vec![0xC3u8; MAX_RSA_BITS / 8 + 1]);
    let jwk = json!({"kty": "RSA", "n": n, "e": "AQAB"}).to_string();
    let err = parse_key_bytes(jwk.as_bytes(), "huge.json").expect_err("too large");
    assert!(
        matches!(err, KeyError::RsaTooLarge { bits: 16392, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("refusing an absurd key"));
    // Inside a set it only makes that key unusable.
    let set = json!({"keys": [{"kty": "RSA", "n": n, "e": "AQAB"}]}).to_string();
    let parsed = parse_jwk_set(set.as_bytes(), "set.json").expect("set");
    assert!(!parsed.keys[0].is_usable());
}

#[test]
fn garbage_and_limits() {
    let err = parse_key_bytes(b"hello, this is not a key\n", "pub.pem").expect_err("garbage");
    assert_eq!(
        err.to_string(),
        "pub.pem: not a key: no PEM block, not JSON, not DER"
    );
    let err = parse_key_bytes(b"  \n", "empty.pem").expect_err("empty");
    assert_eq!(err.to_string(), "empty.pem: not a key: the file is empty");
    let err = parse_key_bytes(b"{\"a\": 1}", "x.json").expect_err("json");
    assert!(err.to_string().contains("neither a JWK"));
    let big = vec![b'a'; MAX_KEY_FILE_BYTES as usize + 1];
    let err = parse_key_bytes(&big, "big.pem").expect_err("large");
    assert!(matches!(err, KeyError::TooLarge { .. }));

    // A broken block reports where, and never echoes the key bytes.
    let body = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo";
    let text = format!("-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n");
    let err = parse_key_bytes(text.as_bytes(), "cut.pem").expect_err("truncated");
    let msg = err.to_string();
    assert!(
        msg.starts_with("cut.pem: PEM block 1 (PUBLIC KEY)"),
        "{msg}"
    );
    assert!(!msg.contains(&body[..20]));
    let err = parse_key_bytes(
        b"-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n",
        "crl.pem",
    )
    .expect_err("no key");
    assert!(
        err.to_string()
            .contains("no key in its PEM blocks (found X509 CRL)")
    );
}

#[test]
fn load_key_file_reads_from_disk() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("pub.pem");
    std::fs::write(&path, rsa_key().public_pem().expect("pem")).expect("write");
    let keys = load_key_file(&path).expect("loads");
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].source, path.display().to_string());
    let missing = dir.path().join("missing.pem");
    let err = load_key_file(&missing).expect_err("missing");
    assert!(matches!(err, KeyError::Read { .. }));
}

#[test]
fn secret_candidates_keep_the_secret_out_of_labels() {
    let c = secret_candidate(
        b"hunter2".to_vec(),
        "secret from --secret-file s.txt".into(),
    );
    assert_eq!(c.material.describe(), "HMAC secret (7 bytes)");
    assert!(!format!("{c:?}").contains("hunter2"), "Debug is redacted");
    assert!(
        c.thumbprint.is_none(),
        "an unkeyed hash of a secret is never computed"
    );
}

#[test]
fn bit_lengths() {
    assert_eq!(bit_len(&[]), 0);
    assert_eq!(bit_len(&[0, 0]), 0);
    assert_eq!(bit_len(&[1]), 1);
    assert_eq!(bit_len(&[0x80, 0]), 16);
    assert_eq!(bit_len(&[0, 0x7f, 0]), 15);
}

#[test]
fn compressed_ec_point_in_spki_is_expanded() {
    use aws_lc_rs::encoding::{AsBigEndian, EcPublicKeyCompressedBin};
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("generate");
    let compressed: EcPublicKeyCompressedBin<'_> =
        pair.public_key().as_be_bytes().expect("compressed");
    assert_eq!(compressed.as_ref().len(), 33);
    // SubjectPublicKeyInfo { id-ecPublicKey, prime256v1 } with a 33-byte BIT STRING.
    let mut der = vec![
        0x30, 0x39, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
        0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x22, 0x00,
    ];
    der.extend_from_slice(compressed.as_ref());
    let c = one(&der, "compressed.der");
    match &c.material {
        KeyMaterial::Ec { curve, point } => {
            assert_eq!(*curve, Curve::P256);
            assert_eq!(point.as_slice(), pair.public_key().as_ref());
        }
        other => panic!("expected EC, got {}", other.describe()),
    }
}

#[test]
fn x5c_certificate_gives_missing_members_and_disagreeing_members_are_said() {
    // The OpenSSL-made certificate and its private key (tests/data/keys).
    let pem_cert = include_str!("../../tests/data/keys/rsa-cert.pem");
    let body: String = pem_cert
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let key = one(
        include_bytes!("../../tests/data/keys/rsa-key.pem"),
        "rsa-key.pem",
    );
    let mut other = rsa_key().public_jwk("k1");
    other["x5c"] = json!([body]);
    let set = json!({"keys": [
        {"kty": "RSA", "kid": "only-x5c", "use": "sig", "x5c": [body]},
        other,
        {"kty": "RSA", "kid": "bad-x5c", "x5c": ["not base64!"]},
        {"kty": "EC", "kid": "ec-with-rsa-cert", "crv": "P-256", "x5c": [body]},
    ]});
    let parsed = parse_jwk_set(set.to_string().as_bytes(), "jwks.json").expect("set parses");
    let has = |index: usize, needle: &str| {
        parsed
            .problems
            .iter()
            .any(|p| p.index == index && p.message.contains(needle))
    };
    assert!(parsed.keys[0].is_usable());
    assert!(same_material(&parsed.keys[0].material, &key.material));
    assert!(has(0, "only its \"x5c\" certificate gives the key"));
    assert!(parsed.keys[1].is_usable());
    assert!(has(
        1,
        "holds another key (RSA 2048-bit) than its \"n\"/\"e\""
    ));
    assert!(!parsed.keys[2].is_usable());
    assert!(has(2, "not base64"));
    assert!(!parsed.keys[3].is_usable());
    assert!(has(3, "certificate holds an RSA 2048-bit key"));
}

/// A PEM copied out of an environment variable, a JSON string or a .env
/// file (`\n` written as a backslash and an n): the key is all there, so it
/// is read, and marked so `signature-valid` can say what verifiers make of
/// it, instead of the whole diagnosis ending with exit 2.
#[test]
fn pem_with_escaped_line_breaks_is_read_and_marked() {
    let pem = rsa_key().public_pem().expect("pem");
    let plain = one(pem.as_bytes(), "key.pem");
    assert_eq!(plain.pem_layout, None);
    let escaped = pem.replace("\r\n", "\n").replace('\n', "\\n");
    let json_string = format!("\"{}\"", escaped.replace('/', "\\/"));
    let crlf = pem.replace("\r\n", "\n").replace('\n', "\\r\\n");
    let twice = pem.replace("\r\n", "\n").replace('\n', "\\\\n");
    for text in [&escaped, &json_string, &crlf, &twice] {
        let c = one(text.as_bytes(), "key.env");
        assert_eq!(c.spki_der, plain.spki_der, "{text}");
        assert_eq!(c.pem_layout, Some(ESCAPED_LINE_BREAKS), "{text}");
        assert!(c.label.contains("written as `\\n`"), "{}", c.label);
    }
    // Real line breaks read as before; other damage keeps the PEM parser's words.
    let broken = pem.replacen("MII", "M!I", 1);
    let text = parse_key_bytes(broken.as_bytes(), "key.pem")
        .expect_err("broken")
        .to_string();
    assert!(!text.contains("written as"), "{text}");
}

/// An OpenSSH private key: the way out derives the public key (`-e`, which
/// only reads the file), never `ssh-keygen -p`, which rewrites the user's
/// private key in place. Ed25519, which ssh-keygen cannot write as PEM, says so.
#[test]
fn openssh_private_keys_get_a_command_that_leaves_them_alone() {
    // `ssh-keygen -t rsa -b 1024 -N ''`, and `-t ed25519 -N ''`: throwaway keys.
    let rsa = include_str!("../../tests/data/keys/openssh-rsa.key");
    let ed = include_str!("../../tests/data/keys/openssh-ed25519.key");
    let err = |text: &str| {
        parse_key_bytes(text.as_bytes(), "id")
            .expect_err("not read")
            .to_string()
    };
    let rsa_err = err(rsa);
    assert!(rsa_err.contains("`ssh-rsa`"), "{rsa_err}");
    assert!(
        rsa_err.contains("ssh-keygen -e -m PKCS8 -f FILE > public.pem"),
        "{rsa_err}"
    );
    assert!(!rsa_err.contains("-p "), "{rsa_err}");
    let ed_err = err(ed);
    assert!(ed_err.contains("`ssh-ed25519`"), "{ed_err}");
    assert!(ed_err.contains("not Ed25519"), "{ed_err}");
    assert!(!ed_err.contains("-m PKCS8"), "{ed_err}");
}

/// A PuTTY key file is named, with puttygen's export of the public key.
#[test]
fn putty_key_files_are_named_with_the_puttygen_export() {
    let ppk = b"PuTTY-User-Key-File-3: ssh-rsa\nEncryption: none\nComment: rsa-key\nPublic-Lines: 1\nAAAAB3NzaC1yc2EAAAADAQABAAABAQC\n";
    let text = parse_key_bytes(ppk, "key.ppk")
        .expect_err("not read")
        .to_string();
    assert!(text.contains("PuTTY private key file"), "{text}");
    assert!(
        text.contains("puttygen FILE -O public-openssh -o key.pub"),
        "{text}"
    );
    assert!(
        text.contains("ssh-keygen -e -m PKCS8 -f key.pub > public.pem"),
        "{text}"
    );
    let ed = b"PuTTY-User-Key-File-3: ssh-ed25519\r\nEncryption: aes256-cbc\r\n";
    let text = parse_key_bytes(ed, "key.ppk")
        .expect_err("not read")
        .to_string();
    assert!(text.contains("`ssh-ed25519`"), "{text}");
    assert!(text.contains("not Ed25519"), "{text}");
}

/// Key files in formats jwtai does not read name the format and the
/// command that converts them, instead of "not DER".
#[test]
fn foreign_key_formats_are_named_with_their_conversion() {
    let err = |bytes: &[u8]| {
        parse_key_bytes(bytes, "f")
            .expect_err("not read")
            .to_string()
    };
    let ssh = b"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC user@host\n";
    assert!(err(ssh).contains("ssh-keygen -e -m PKCS8"), "{}", err(ssh));
    // ssh-keygen -e -m PKCS8 refuses Ed25519 ("unsupported key type ED25519").
    let ssh = b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl user@host\n";
    assert!(!err(ssh).contains("-m PKCS8"), "{}", err(ssh));
    assert!(err(ssh).contains("not Ed25519"), "{}", err(ssh));
    let p12 = include_bytes!("../../tests/data/keys/rsa-cert.p12");
    assert!(err(p12).contains("PKCS#12"), "{}", err(p12));
    let pem = include_str!("../../tests/data/keys/rsa-cert.pem");
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(pem.encode_utf16().flat_map(u16::to_le_bytes));
    assert!(err(&utf16).contains("UTF-16"), "{}", err(&utf16));
    let secret = b"supersecret-value-that-is-long-enough-32b";
    assert!(err(secret).contains("--secret-file"), "{}", err(secret));
}

#[test]
fn pem_layout_openssl_refuses_is_named_and_a_clean_layout_is_not() {
    let pem = rsa_key().public_pem().expect("public pem");
    let lines: Vec<&str> = pem.lines().collect();
    let body = lines[1..lines.len() - 1].join("");
    let last = lines[lines.len() - 1];
    let clean = [
        pem.clone(),
        pem.replace('\n', "\r\n"),
        format!("{}\n{body}\n{last}\n", lines[0]),
        pem.lines().map(|l| format!("{l}  \n")).collect(),
    ];
    for text in &clean {
        assert_eq!(one(text.as_bytes(), "pub.pem").pem_layout, None, "{text:?}");
    }
    let flattened = pem.replace('\n', " ");
    let joined = format!("{}{body}{last}", lines[0]);
    let indented: String = pem.lines().map(|l| format!("    {l}\n")).collect();
    for (text, says) in [
        (flattened.as_str(), "line breaks"),
        (joined.as_str(), "line breaks"),
        (indented.as_str(), "indented"),
    ] {
        let layout = one(text.as_bytes(), "pub.pem").pem_layout;
        assert!(
            layout.is_some_and(|l| l.contains(says)),
            "{text:?}: {layout:?}"
        );
    }
    let blank = pem.replace('\n', "\n\n");
    let err = parse_key_bytes(blank.as_bytes(), "pub.pem").expect_err("pem refuses blank lines");
    assert!(err.to_string().contains("blank lines"), "{err}");
}
