//! JWS signature verification (RFC 7515, RFC 7518 §3, RFC 8037) with aws-lc-rs,
//! and the built-in list of guessable HMAC secrets.

use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::LazyLock;

use aws_lc_rs::hmac;
use aws_lc_rs::signature::{self, ParsedPublicKey, RsaParameters, RsaPublicKeyComponents};
use secrecy::ExposeSecret;

use crate::alg::{Alg, Family};
use crate::keys::{Curve, KeyMaterial};

/// Why a signature did not verify with a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The algorithm needs another kind of key.
    #[error("the algorithm needs {need}, but the key is {have}")]
    KeyTypeMismatch { need: &'static str, have: String },
    /// The key's JWK `alg` names another algorithm: verifiers that honour
    /// it (jose, go-jose, Nimbus) do not use the key for this one.
    #[error("the key is declared for \"alg\": \"{0}\"")]
    DeclaredFor(String),
    /// Right key type, wrong curve.
    #[error("the algorithm needs an EC {need} key, but the key is on {have}")]
    CurveMismatch { need: Curve, have: Curve },
    /// The key fits the algorithm and the signature does not verify.
    #[error("the signature does not verify with this key")]
    Invalid,
    /// The key cannot be used by the verifier (out-of-range size, invalid
    /// point, ...). The message holds no key bytes.
    #[error("the key cannot be used: {0}")]
    BadKey(String),
}

/// What an algorithm needs, for [`VerifyError::KeyTypeMismatch`].
fn need(alg: Alg) -> &'static str {
    match alg.family() {
        Family::Hmac => "an HMAC secret",
        Family::Rsa | Family::RsaPss => "an RSA public key",
        Family::Ecdsa => match alg {
            Alg::ES384 => "an EC P-384 public key",
            Alg::ES512 => "an EC P-521 public key",
            _ => "an EC P-256 public key",
        },
        Family::EdDsa => "an Ed25519 public key",
    }
}

fn curve_for(alg: Alg) -> Option<Curve> {
    match alg {
        Alg::ES256 => Some(Curve::P256),
        Alg::ES384 => Some(Curve::P384),
        Alg::ES512 => Some(Curve::P521),
        _ => None,
    }
}

fn hmac_algorithm(alg: Alg) -> Option<hmac::Algorithm> {
    match alg {
        Alg::HS256 => Some(hmac::HMAC_SHA256),
        Alg::HS384 => Some(hmac::HMAC_SHA384),
        Alg::HS512 => Some(hmac::HMAC_SHA512),
        _ => None,
    }
}

/// RSA parameters for an algorithm. PKCS#1 v1.5 with SHA-256 and SHA-512
/// accepts 1024-bit keys (so a weak key still verifies and can be reported as
/// weak); aws-lc-rs has no such variant for RS384 or any PS*, which start at
/// 2048 bits.
fn rsa_parameters(alg: Alg) -> Option<&'static RsaParameters> {
    match alg {
        Alg::RS256 => Some(&signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY),
        Alg::RS384 => Some(&signature::RSA_PKCS1_2048_8192_SHA384),
        Alg::RS512 => Some(&signature::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY),
        Alg::PS256 => Some(&signature::RSA_PSS_2048_8192_SHA256),
        Alg::PS384 => Some(&signature::RSA_PSS_2048_8192_SHA384),
        Alg::PS512 => Some(&signature::RSA_PSS_2048_8192_SHA512),
        _ => None,
    }
}

fn ecdsa_fixed(curve: Curve) -> &'static signature::EcdsaVerificationAlgorithm {
    match curve {
        Curve::P256 => &signature::ECDSA_P256_SHA256_FIXED,
        Curve::P384 => &signature::ECDSA_P384_SHA384_FIXED,
        Curve::P521 => &signature::ECDSA_P521_SHA512_FIXED,
    }
}

fn ecdsa_asn1(curve: Curve) -> &'static signature::EcdsaVerificationAlgorithm {
    match curve {
        Curve::P256 => &signature::ECDSA_P256_SHA256_ASN1,
        Curve::P384 => &signature::ECDSA_P384_SHA384_ASN1,
        Curve::P521 => &signature::ECDSA_P521_SHA512_ASN1,
    }
}

/// Verify `signature` over `signing_input` (`BASE64URL(header).BASE64URL(payload)`)
/// with `key` under `alg`. ECDSA signatures are JOSE `R || S`.
pub fn verify(
    alg: Alg,
    signing_input: &[u8],
    signature: &[u8],
    key: &KeyMaterial,
) -> Result<(), VerifyError> {
    if let KeyMaterial::Unusable { reason, .. } = key {
        return Err(VerifyError::BadKey(reason.clone()));
    }
    let mismatch = || VerifyError::KeyTypeMismatch {
        need: need(alg),
        have: key.describe(),
    };
    match alg.family() {
        Family::Hmac => match key {
            KeyMaterial::Hmac(secret) => {
                if hmac_verify(alg, signing_input, signature, secret.expose_secret()) {
                    Ok(())
                } else {
                    Err(VerifyError::Invalid)
                }
            }
            _ => Err(mismatch()),
        },
        Family::Rsa | Family::RsaPss => match key {
            KeyMaterial::Rsa { n, e } => verify_rsa(alg, signing_input, signature, n, e),
            _ => Err(mismatch()),
        },
        Family::Ecdsa => match (key, curve_for(alg)) {
            (KeyMaterial::Ec { curve, point }, Some(wanted)) => {
                if *curve != wanted {
                    return Err(VerifyError::CurveMismatch {
                        need: wanted,
                        have: *curve,
                    });
                }
                let parsed = ParsedPublicKey::new(ecdsa_fixed(wanted), point)
                    .map_err(|_| VerifyError::BadKey(format!("not a valid {wanted} public key")))?;
                parsed
                    .verify_sig(signing_input, signature)
                    .map_err(|_| VerifyError::Invalid)
            }
            _ => Err(mismatch()),
        },
        Family::EdDsa => match key {
            KeyMaterial::Ed25519 { x } => {
                let parsed = ParsedPublicKey::new(&signature::ED25519, x)
                    .map_err(|_| VerifyError::BadKey("not a valid Ed25519 public key".into()))?;
                parsed
                    .verify_sig(signing_input, signature)
                    .map_err(|_| VerifyError::Invalid)
            }
            _ => Err(mismatch()),
        },
    }
}

fn verify_rsa(
    alg: Alg,
    signing_input: &[u8],
    signature: &[u8],
    n: &[u8],
    e: &[u8],
) -> Result<(), VerifyError> {
    let params = rsa_parameters(alg).ok_or(VerifyError::KeyTypeMismatch {
        need: need(alg),
        have: "an RSA public key".to_string(),
    })?;
    let bits = crate::keys::bit_len(n);
    let (min, max) = (
        params.min_modulus_len() as usize,
        params.max_modulus_len() as usize,
    );
    if bits < min || bits > max {
        return Err(VerifyError::BadKey(format!(
            "a {bits}-bit RSA key is outside the {min}–{max} bits the verifier accepts for {alg}"
        )));
    }
    with_parsed_rsa(alg, params, n, e, |parsed| {
        parsed
            .verify_sig(signing_input, signature)
            .map_err(|_| VerifyError::Invalid)
    })
    .unwrap_or_else(|| Err(VerifyError::BadKey("not a valid RSA public key".into())))
}

/// Parsed RSA keys each thread keeps: a scan verifies thousands of tokens
/// with the same few keys, and parsing one costs half as much as a verify.
const PARSED_RSA_KEYS: usize = 8;

/// Runs `f` with the key parsed for `alg`, from this thread's cache or
/// freshly parsed (and then cached); `None` when the key does not parse.
fn with_parsed_rsa<T>(
    alg: Alg,
    params: &'static RsaParameters,
    n: &[u8],
    e: &[u8],
    f: impl FnOnce(&ParsedPublicKey) -> T,
) -> Option<T> {
    type Entry = (Alg, Vec<u8>, Vec<u8>, ParsedPublicKey);
    thread_local! {
        static CACHE: RefCell<Vec<Entry>> = const { RefCell::new(Vec::new()) };
    }
    CACHE.with(|cache| {
        let Ok(mut cache) = cache.try_borrow_mut() else {
            // Not reachable (verification does not re-enter); parse without the cache.
            let parsed = RsaPublicKeyComponents { n, e }
                .to_parsed_public_key(params)
                .ok()?;
            return Some(f(&parsed));
        };
        if let Some((.., parsed)) = cache
            .iter()
            .find(|(a, cn, ce, _)| *a == alg && cn.as_slice() == n && ce.as_slice() == e)
        {
            return Some(f(parsed));
        }
        let parsed = RsaPublicKeyComponents { n, e }
            .to_parsed_public_key(params)
            .ok()?;
        let out = f(&parsed);
        if cache.len() >= PARSED_RSA_KEYS {
            cache.remove(0);
        }
        cache.push((alg, n.to_vec(), e.to_vec(), parsed));
        Some(out)
    })
}

/// HMAC check in constant time (aws-lc-rs `hmac::verify`). `false` for a
/// non-HMAC algorithm.
pub fn hmac_verify(alg: Alg, signing_input: &[u8], signature: &[u8], secret: &[u8]) -> bool {
    let Some(algorithm) = hmac_algorithm(alg) else {
        return false;
    };
    let key = hmac::Key::new(algorithm, secret);
    hmac::verify(&key, signing_input, signature).is_ok()
}

/// True when `signature` is an ASN.1 DER ECDSA signature (instead of the JOSE
/// `R || S` form) that verifies with `key` under `alg`: the token was signed
/// by a library that forgot the JOSE conversion.
pub fn ecdsa_der_verifies(
    alg: Alg,
    signing_input: &[u8],
    signature: &[u8],
    key: &KeyMaterial,
) -> bool {
    let (Some(wanted), KeyMaterial::Ec { curve, point }) = (curve_for(alg), key) else {
        return false;
    };
    if *curve != wanted || signature.first() != Some(&0x30) {
        return false;
    }
    match ParsedPublicKey::new(ecdsa_asn1(wanted), point) {
        Ok(parsed) => parsed.verify_sig(signing_input, signature).is_ok(),
        Err(_) => false,
    }
}

/// The built-in list of well-known and guessable HMAC secrets.
const WEAK_SECRETS: &str = include_str!("../data/weak-secrets.txt");

/// Every entry of the built-in weak-secret list, in file order. Lines starting
/// with `#` and empty lines are skipped; nothing is allocated.
pub fn weak_secrets() -> impl Iterator<Item = &'static str> {
    WEAK_SECRETS
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
}

/// Longest signing input the weak-secret list is tried on. Each entry is one
/// HMAC over the whole input: on a one-megabyte token the list costs a third
/// of a second, and no server takes a token of this size in a header anyway
/// (`token-too-large` says so, and that the list was not tried).
pub const WEAK_SECRET_SCAN_MAX_BYTES: usize = 64 * 1024;

/// Most entries the built-in list may hold (checked by a test): with
/// [`WEAK_SECRET_SCAN_MAX_BYTES`], this bounds the work of one guess.
pub const MAX_WEAK_SECRETS: usize = 1000;

/// The built-in weak secret equal to `secret`, if any: a hash lookup, for a
/// secret that already verified (no HMAC needed). The set is built on first
/// use, never at start-up.
pub fn weak_secret_equal_to(secret: &[u8]) -> Option<&'static str> {
    static SET: LazyLock<HashSet<&'static str>> = LazyLock::new(|| weak_secrets().collect());
    let text = std::str::from_utf8(secret).ok()?;
    SET.get(text).copied()
}

/// HMAC keys for every weak secret, in file order, built once per algorithm
/// on first use: the key schedule is half the cost of an HMAC of a token.
fn weak_keys(alg: Alg) -> Option<&'static [(&'static str, hmac::Key)]> {
    fn build(algorithm: hmac::Algorithm) -> Vec<(&'static str, hmac::Key)> {
        weak_secrets()
            .map(|s| (s, hmac::Key::new(algorithm, s.as_bytes())))
            .collect()
    }
    static HS256: LazyLock<Vec<(&str, hmac::Key)>> = LazyLock::new(|| build(hmac::HMAC_SHA256));
    static HS384: LazyLock<Vec<(&str, hmac::Key)>> = LazyLock::new(|| build(hmac::HMAC_SHA384));
    static HS512: LazyLock<Vec<(&str, hmac::Key)>> = LazyLock::new(|| build(hmac::HMAC_SHA512));
    match alg {
        Alg::HS256 => Some(&HS256),
        Alg::HS384 => Some(&HS384),
        Alg::HS512 => Some(&HS512),
        _ => None,
    }
}

/// The first built-in weak secret that produces `signature` under `alg`
/// (an HS* algorithm), if any. `None` without trying over
/// [`WEAK_SECRET_SCAN_MAX_BYTES`] of signing input.
pub fn find_weak_secret(alg: Alg, signing_input: &[u8], signature: &[u8]) -> Option<&'static str> {
    let algorithm = hmac_algorithm(alg)?;
    if signature.len() != algorithm.digest_algorithm().output_len()
        || signing_input.len() > WEAK_SECRET_SCAN_MAX_BYTES
    {
        return None;
    }
    weak_keys(alg)?
        .iter()
        .find(|(_, key)| hmac::verify(key, signing_input, signature).is_ok())
        .map(|(secret, _)| *secret)
}

#[cfg(test)]
mod tests;
