//! `jwtai scan` throughput, in-process over an in-memory log of distinct
//! tokens (no repeats, so every token is really diagnosed), in tokens/s.
//!
//! `scan/RS256/crypto-bound` is the ceiling for RS256: aws-lc-rs verifying
//! the same signatures with the key parsed once, on every core (rayon), and
//! nothing else. Run: `cargo bench --bench scan`; the two alternated round
//! by round, with their ratio: `cargo bench --bench scan -- --ratio`, and
//! on a log holding each token R times: `-- --ratio --repeats R`.

use std::hint::black_box;

// The allocator the jwtai binary ships with (src/main.rs), so the numbers are its numbers.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use aws_lc_rs::signature::{self, ParsedPublicKey, RsaPublicKeyComponents};
use criterion::{Criterion, Throughput, criterion_group};
use jwtai::alg::Alg;
use jwtai::checks::{Expectations, Keys};
use jwtai::keys::{self, KeyMaterial};
use jwtai::redact::Policy;
use jwtai::scan::{self, NoSink};
use jwtai::sign::{SigningKey, sign_token};
use rayon::prelude::*;
use serde_json::json;

const NOW: i64 = 1_767_225_600;

fn log(key: &SigningKey, alg: Alg, n: usize) -> (Vec<u8>, Vec<String>) {
    let tokens = tokens(key, alg, n);
    (lines(&tokens, 1), tokens)
}

fn tokens(key: &SigningKey, alg: Alg, n: usize) -> Vec<String> {
    // Signed on every core: 32k RSA signatures take a while on one.
    let tokens: Vec<String> = (0..n)
        .into_par_iter()
        .map(|i| {
            let claims = json!({
                "iss": "https://auth.example.com/", "sub": format!("auth0|{i:012}"),
                "aud": "https://api.example.com", "iat": NOW - 60, "exp": NOW + 3600,
                "scope": "read:orders", "jti": format!("{i:032x}"),
            });
            let header = json!({"alg": alg.name(), "typ": "JWT", "kid": "k1"});
            sign_token(&header, &claims, key).expect("signing")
        })
        .collect();
    tokens
}

/// Access-log shaped lines, as a proxy writes them: every token once, the
/// whole sequence `rounds` times (a token's repeats far apart, as a client
/// reusing its token between other clients' requests).
fn lines(tokens: &[String], rounds: usize) -> Vec<u8> {
    let mut text = Vec::new();
    for _ in 0..rounds {
        for t in tokens {
            text.extend_from_slice(
                format!("10.1.2.3 - - [01/Jan/2026:00:00:00 +0000] \"GET /orders HTTP/1.1\" 200 Authorization: Bearer {t}\n")
                    .as_bytes(),
            );
        }
    }
    text
}

fn options(key: &SigningKey) -> scan::Options {
    let candidates = match key.hmac_secret() {
        Some(s) => vec![keys::secret_candidate(
            s.to_vec(),
            "the bench secret".into(),
        )],
        None => keys::parse_key_bytes(key.public_pem().expect("pem").as_bytes(), "bench.pem")
            .expect("public key"),
    };
    scan::Options {
        expect: Expectations {
            iss: vec!["https://auth.example.com/".into()],
            aud: vec!["https://api.example.com".into()],
            now: NOW,
            ..Default::default()
        },
        keys: Keys {
            candidates,
            attempted: true,
            ..Default::default()
        },
        policy: Policy::new(vec![], vec![], false, vec![]),
        jwks: None,
        max_distinct: scan::DEFAULT_MAX_DISTINCT,
        reports: false,
    }
}

/// The RS256 ceiling: the tokens' signatures split off once, verified by
/// aws-lc-rs with the key parsed once, on every core, and nothing else.
struct CryptoBound {
    key: ParsedPublicKey,
    signed: Vec<(Vec<u8>, Vec<u8>)>,
}

impl CryptoBound {
    /// `None` for a key that is not RSA.
    fn new(key: &SigningKey, tokens: &[String]) -> Option<CryptoBound> {
        let KeyMaterial::Rsa { n, e } = key.public_material() else {
            return None;
        };
        let key = RsaPublicKeyComponents { n: &n, e: &e }
            .to_parsed_public_key(&signature::RSA_PKCS1_2048_8192_SHA256)
            .expect("key");
        let signed = tokens
            .iter()
            .map(|t| {
                let (input, _) = t.rsplit_once('.').expect("jws");
                let sig = jwtai::token::parse(t).signature.unwrap_or_default();
                (input.as_bytes().to_vec(), sig)
            })
            .collect();
        Some(CryptoBound { key, signed })
    }

    /// How many signatures verify (all of them).
    fn verify_all(&self) -> usize {
        self.signed
            .par_iter()
            .filter(|(input, sig)| self.key.verify_sig(input, sig).is_ok())
            .count()
    }
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("scan");
    group.sample_size(10);
    // Enough tokens for many batches (`scan::BATCH_TOKENS`), so the numbers
    // are the steady state of the pipeline, not its start and end.
    for (alg, n) in [(Alg::HS256, 100_000), (Alg::RS256, 32_768)] {
        let key = SigningKey::generate(alg).expect("key");
        let (text, tokens) = log(&key, alg, n);
        let check = scan::scan(&text[..], options(&key), &mut NoSink).expect("scan");
        assert_eq!(check.total.distinct, n as u64);
        assert!(
            !check.has_errors(),
            "the bench log must be all valid tokens"
        );
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(format!("{alg}/tokens"), |b| {
            b.iter(|| black_box(scan::scan(&text[..], options(&key), &mut NoSink).expect("scan")))
        });
        if let Some(bound) = CryptoBound::new(&key, &tokens) {
            group.bench_function(format!("{alg}/crypto-bound"), |b| {
                b.iter(|| black_box(bound.verify_all()))
            });
        }
    }
    group.finish();
}

/// `cargo bench --bench scan -- --ratio [--repeats R]`: RS256 scan against
/// the crypto-bound rate, alternating the two for several rounds, so that
/// both see the same machine. On a shared machine each alone swings by tens
/// of percent between minutes; their ratio, taken round by round, does not.
///
/// With `--repeats R` the log holds every token R times (the whole sequence
/// repeated, so repeats are 32,768 lines apart), as an access log holds a
/// client's token once per request: the scan rate counts every line's
/// token, the crypto-bound rate is still one verification per token.
fn ratio(repeats: usize) {
    let rounds = 9;
    let n = 32_768;
    let key = SigningKey::generate(Alg::RS256).expect("key");
    let tokens = tokens(&key, Alg::RS256, n);
    let text = lines(&tokens, repeats);
    let bound = CryptoBound::new(&key, &tokens).expect("an RSA key");
    let rate = |count: usize, secs: f64| count as f64 / secs;
    let (mut scans, mut bounds, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..=rounds {
        let t = std::time::Instant::now();
        let summary = scan::scan(&text[..], options(&key), &mut NoSink).expect("scan");
        let scan_rate = rate(n * repeats, t.elapsed().as_secs_f64());
        assert_eq!(summary.total.distinct, n as u64);
        assert_eq!(summary.total.tokens, (n * repeats) as u64);
        let t = std::time::Instant::now();
        let ok = bound.verify_all();
        let bound_rate = rate(n, t.elapsed().as_secs_f64());
        assert_eq!(ok, n);
        if round == 0 {
            continue; // warm-up
        }
        println!(
            "round {round}: scan {scan_rate:>7.0} tokens/s, crypto-bound {bound_rate:>7.0} tokens/s, ratio {:.3}",
            scan_rate / bound_rate
        );
        scans.push(scan_rate);
        bounds.push(bound_rate);
        ratios.push(scan_rate / bound_rate);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "median of {rounds} (each token {repeats}x): scan {:.0} tokens/s, crypto-bound {:.0} tokens/s, scan/crypto-bound {:.3}",
        median(&mut scans),
        median(&mut bounds),
        median(&mut ratios)
    );
}

criterion_group!(benches, bench);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--ratio") {
        let repeats = args
            .iter()
            .position(|a| a == "--repeats")
            .and_then(|i| args.get(i + 1)?.parse().ok())
            .unwrap_or(1);
        ratio(repeats);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
