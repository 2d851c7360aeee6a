//! In-process cost of diagnosing one token, against the raw crypto cost.
//!
//! `diagnose/*` is the whole per-token flow `jwtai scan` runs (parse, every
//! check, ranking) with the key given; `raw-verify/*` is aws-lc-rs verifying
//! the same signature with the same key, parsed once outside the loop (the
//! strictest baseline), so the ratio is jwtai's overhead.
//! Run: `cargo bench --bench diagnose`.

use std::hint::black_box;

// The allocator the jwtai binary ships with (src/main.rs), so the numbers are its numbers.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use aws_lc_rs::signature::{self, ParsedPublicKey, RsaPublicKeyComponents};
use criterion::{Criterion, criterion_group, criterion_main};
use jwtai::alg::Alg;
use jwtai::checks::{Expectations, Keys};
use jwtai::keys::{self, KeyMaterial};
use jwtai::pipeline;
use jwtai::sign::{SigningKey, sign_token};
use serde_json::json;

const NOW: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

fn claims() -> serde_json::Value {
    json!({
        "iss": "https://auth.example.com/",
        "sub": "auth0|6551e2a9c0ffee",
        "aud": "https://api.example.com",
        "iat": NOW - 60,
        "exp": NOW + 3600,
        "scope": "read:orders write:orders",
        "jti": "8f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b",
    })
}

fn expect() -> Expectations {
    Expectations {
        algs: vec![],
        iss: vec!["https://auth.example.com/".into()],
        aud: vec!["https://api.example.com".into()],
        now: NOW,
        ..Default::default()
    }
}

struct Case {
    token: String,
    keys: Keys,
    key: SigningKey,
}

fn case(alg: Alg) -> Case {
    let key = SigningKey::generate(alg).expect("key generation");
    let header = json!({"alg": alg.name(), "typ": "JWT", "kid": "k1"});
    let token = sign_token(&header, &claims(), &key).expect("signing");
    let candidates = match key.hmac_secret() {
        Some(secret) => vec![keys::secret_candidate(
            secret.to_vec(),
            "the bench secret".into(),
        )],
        None => keys::parse_key_bytes(
            key.public_pem().expect("public pem").as_bytes(),
            "bench.pem",
        )
        .expect("public key parses"),
    };
    Case {
        token,
        keys: Keys {
            candidates,
            attempted: true,
            ..Default::default()
        },
        key,
    }
}

fn bench(c: &mut Criterion) {
    let expect = expect();
    let none = Default::default();
    for alg in [Alg::HS256, Alg::RS256, Alg::ES256] {
        let case = case(alg);
        // The flow must be the one measured: verified, no error finding.
        let report = pipeline::diagnose(&pipeline::parse(&case.token), &expect, &case.keys, &none);
        assert!(!report.has_errors(), "{alg}: {:?}", report.findings);
        c.bench_function(&format!("diagnose/{alg}"), |b| {
            b.iter(|| {
                let parsed = pipeline::parse(black_box(&case.token));
                black_box(pipeline::diagnose(&parsed, &expect, &case.keys, &none))
            })
        });
        let Some((input, _)) = case.token.rsplit_once('.') else {
            continue;
        };
        // The decoded signature bytes.
        let sig = jwtai::token::parse(&case.token)
            .signature
            .unwrap_or_default();
        match case.key.public_material() {
            KeyMaterial::Rsa { n, e } => {
                let parsed = RsaPublicKeyComponents { n: &n, e: &e }
                    .to_parsed_public_key(&signature::RSA_PKCS1_2048_8192_SHA256)
                    .expect("key");
                c.bench_function(&format!("raw-verify/{alg}"), |b| {
                    b.iter(|| black_box(parsed.verify_sig(input.as_bytes(), &sig).is_ok()))
                });
                c.bench_function(&format!("raw-verify-with-key-parse/{alg}"), |b| {
                    b.iter(|| {
                        let parsed = RsaPublicKeyComponents { n: &n, e: &e }
                            .to_parsed_public_key(&signature::RSA_PKCS1_2048_8192_SHA256)
                            .expect("key");
                        black_box(parsed.verify_sig(input.as_bytes(), &sig).is_ok())
                    })
                });
            }
            KeyMaterial::Ec { point, .. } => {
                let parsed =
                    ParsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, &point).expect("key");
                c.bench_function(&format!("raw-verify/{alg}"), |b| {
                    b.iter(|| black_box(parsed.verify_sig(input.as_bytes(), &sig).is_ok()))
                });
            }
            KeyMaterial::Hmac(_) => {
                let secret = case.key.hmac_secret().unwrap_or_default().to_vec();
                c.bench_function(&format!("raw-verify/{alg}"), |b| {
                    b.iter(|| {
                        black_box(jwtai::verify::hmac_verify(
                            alg,
                            input.as_bytes(),
                            &sig,
                            &secret,
                        ))
                    })
                });
            }
            _ => {}
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
