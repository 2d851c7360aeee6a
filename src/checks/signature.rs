//! Signature and keys: the signature checked on its own, against every
//! candidate key, independent of the claims — and when nothing verifies, the
//! near misses that explain why (a trimmed secret, a base64 secret, another
//! key of the set, a public key used as an HMAC secret).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use secrecy::ExposeSecret;
use serde_json::json;

use super::Context;
use crate::alg::{Alg, Family};
use crate::findings::{Finding, Severity::*, Spec};
use crate::keys::{Candidate, KeyMaterial};
use crate::token::Kind;
use crate::verify::{self, VerifyError};

pub static SIGNATURE_VALID: Spec = Spec {
    code: "signature-valid",
    severity: Info,
    title: "Signature verified",
    doc: "The signature verifies with one of the keys given. Claims are judged separately.",
    fix: "Nothing to fix in the signature; if the server still rejects the token, the other findings say why.",
    rank: 80,
};
pub static SIGNATURE_NOT_CHECKED: Spec = Spec {
    code: "signature-not-checked",
    severity: Info,
    title: "Signature not checked",
    doc: "Without key material jwtai cannot tell a genuine token from a forged one; the other findings still hold.",
    fix: "Pass the key the server uses: `--secret-file PATH` (HS*), `--key public.pem` or a JWK/JWKS file, or `--jwks-uri URL` / `--discover`.",
    rank: 85,
};
pub static SIGNATURE_INVALID: Spec = Spec {
    code: "signature-invalid",
    severity: Error,
    title: "Signature does not verify with any key given",
    doc: "None of the candidate keys verifies the signature: the token was signed by another key (another environment or tenant, a rotated key), or it was altered after signing.",
    fix: "Verify with the key that signed the token: the issuer's current JWKS, the right environment's secret. If the key is right, the token was modified: get a fresh one from the issuer.",
    rank: 12,
};
pub static SECRET_WHITESPACE: Spec = Spec {
    code: "secret-whitespace",
    severity: Error,
    title: "Signer and verifier disagree on whitespace around the secret",
    doc: "One side's copy of the HMAC secret carries a trailing newline or spaces (a file written by `echo`, an env var from a .env file or a Kubernetes secret with a newline), the other's is trimmed.",
    fix: "Trim the secret where the verifier loads it (e.g. `secret.trim()`), or write the file without a newline (`printf %s`, `echo -n`); make signer and verifier read it the same way.",
    rank: 11,
};
pub static SECRET_ENCODING: Spec = Spec {
    code: "secret-encoding",
    severity: Error,
    title: "Secret verifies only in another encoding",
    doc: "The signer and verifier disagree on the secret's bytes: one uses the base64 (or hex) text as the key, the other decodes it first (Auth0's legacy 'secret base64 encoded', jjwt's base64 key parsers, `Buffer.from(s, 'base64')`).",
    fix: "Decide once whether the configured secret is text or base64, and make both sides use the same bytes.",
    rank: 11,
};
pub static WRONG_KID: Spec = Spec {
    code: "wrong-kid",
    severity: Error,
    title: "Signed by a different key than `kid` names",
    doc: "The signature verifies with another key of the set than the one the header's `kid` points to. Verifiers look keys up by `kid`, so they try the wrong key and fail. The issuer signs with a new key while still advertising the old `kid` (a botched rotation).",
    fix: "Make the issuer put the `kid` of the key it actually signs with in the header; check the key-rotation configuration.",
    rank: 11,
};
pub static SIGNATURE_LENGTH_MISMATCH: Spec = Spec {
    code: "signature-length-mismatch",
    severity: Error,
    title: "Signature length impossible for this algorithm or key",
    doc: "An RSA signature is exactly as long as the modulus (256 bytes for 2048-bit keys); HMAC and EdDSA signatures have fixed lengths. A mismatch means another key size or algorithm signed the token, or, when an RSA signature a byte or so short verifies once zero bytes are put back in front, a signer that drops leading zeros (an intermittent failure).",
    fix: "Verify with the key that signed the token (compare key sizes); make sure the issuer signs with the algorithm the header names.",
    rank: 12,
};
pub static ECDSA_DER_SIGNATURE: Spec = Spec {
    code: "ecdsa-der-signature",
    severity: Error,
    title: "ECDSA signature in ASN.1 DER instead of JOSE R||S",
    doc: "JWS ECDSA signatures are the fixed-size concatenation R||S (RFC 7518 §3.4). Generic crypto APIs (Java `Signature`, OpenSSL, .NET `SignData` with DER) emit ASN.1 DER; JWT libraries reject it.",
    fix: "Convert the DER signature to R||S at the signer (e.g. Java: `ECDSA.transcodeSignatureToConcat`, Node: `dsaEncoding: 'ieee-p1363'`), or sign with a JWT library.",
    rank: 11,
};
pub static PSYCHIC_SIGNATURE: Spec = Spec {
    code: "psychic-signature",
    severity: Error,
    title: "ECDSA signature with r = 0 or s = 0 (psychic signature)",
    doc: "A signature of zeros verifies on Java 15-18's broken ECDSA (CVE-2022-21449) for any message and key. This token is a forgery attempt.",
    fix: "Reject the token; update the JDK (17.0.3+, 18.0.1+) and any verifier that does not check 0 < r, s < n.",
    rank: 2,
};
pub static WEAK_SECRET: Spec = Spec {
    code: "weak-secret",
    severity: Error,
    title: "Signed with a well-known, guessable secret",
    doc: "The HMAC secret is on jwtai's built-in list of public, well-known secrets (documentation examples, framework defaults). Anyone can forge tokens the server accepts.",
    fix: "Generate a random secret of at least 32 bytes (`openssl rand -base64 32`), store it in a secret manager, rotate now, and invalidate tokens signed with the old one.",
    rank: 3,
};
pub static KEY_TOO_WEAK: Spec = Spec {
    code: "key-too-weak",
    severity: Warning,
    title: "Key is too weak",
    doc: "RSA keys under 2048 bits are breakable and refused by modern libraries; an HMAC secret shorter than the hash output (32 bytes for HS256) is below RFC 7518 §3.2's minimum.",
    fix: "Use RSA 2048 bits or more (or ES256/EdDSA); for HMAC, a random secret at least as long as the hash output.",
    rank: 55,
};
pub static PRIVATE_KEY_SUPPLIED: Spec = Spec {
    code: "private-key-supplied",
    severity: Warning,
    title: "A private key was given where the public key suffices",
    doc: "Verification needs only the public key. A private key in a verifier's config (or pasted into tools) can sign tokens: anyone who reads it can mint tokens.",
    fix: "Give the verifier the public key only (`openssl pkey -in private.pem -pubout`); if the private key was shared, rotate it.",
    rank: 56,
};
pub static ALG_KEY_MISMATCH: Spec = Spec {
    code: "alg-key-mismatch",
    severity: Error,
    title: "The key cannot verify this algorithm",
    doc: "The key material given does not fit the token's algorithm: an HS token with only an RSA key, an ES256 token with an RSA key or a P-384 key, an RS token with a shared secret. Verifiers refuse before checking the signature.",
    fix: "Configure the verifier with a key of the type the algorithm needs, or make the issuer sign with the algorithm your key is for.",
    rank: 7,
};
pub static ALGORITHM_CONFUSION: Spec = Spec {
    code: "algorithm-confusion",
    severity: Error,
    title: "Forged: HMAC token signed with the public key as secret",
    doc: "The HS* token verifies when the server's *public* key bytes are used as the HMAC secret. A verifier that takes the algorithm from the header and hands it the public key accepts this forgery (CVE-2015-9235, CVE-2016-10555).",
    fix: "Reject it, and pin the algorithms in the verifier (e.g. `algorithms: ['RS256']`); never let the header choose between HMAC and public-key algorithms for one key.",
    rank: 1,
};
pub static KID_MISSING: Spec = Spec {
    code: "kid-missing",
    severity: Warning,
    title: "No `kid` to pick the verification key by",
    doc: "Without `kid` the verifier must guess which key of the set to use; many libraries (jwks-rsa, jose's createRemoteJWKSet) refuse when the set has more than one key, and those that always look the key up by kid (PyJWT's PyJWKClient) refuse even with one.",
    fix: "Make the issuer put `kid` in the header, matching the `kid` of the signing key in the JWKS.",
    rank: 57,
};
pub static KID_NOT_FOUND: Spec = Spec {
    code: "kid-not-found",
    severity: Error,
    title: "`kid` matches no key in the key set",
    doc: "The header's `kid` names a key the set does not have: the key was rotated out, the verifier caches an old set, or the token comes from another tenant or environment whose keys are elsewhere.",
    fix: "Fetch the issuer's current JWKS (and refresh caches on an unknown kid); check the token's `iss` is the issuer whose JWKS you use.",
    rank: 9,
};

/// Most keys tried against one signature. A key set has a handful; flags and
/// fetched sets together may bring thousands, and each try is a public-key
/// verification (plus, for an HS* token, a few HMACs per public key to detect
/// algorithm confusion). Keys whose `kid` matches the header go first.
pub const MAX_KEYS_TRIED: usize = 100;

pub static SPECS: &[&Spec] = &[
    &SIGNATURE_VALID,
    &SIGNATURE_NOT_CHECKED,
    &SIGNATURE_INVALID,
    &SECRET_WHITESPACE,
    &SECRET_ENCODING,
    &WRONG_KID,
    &SIGNATURE_LENGTH_MISMATCH,
    &ECDSA_DER_SIGNATURE,
    &PSYCHIC_SIGNATURE,
    &WEAK_SECRET,
    &KEY_TOO_WEAK,
    &PRIVATE_KEY_SUPPLIED,
    &ALG_KEY_MISMATCH,
    &ALGORITHM_CONFUSION,
    &KID_MISSING,
    &KID_NOT_FOUND,
];

pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let t = ctx.token;
    let keys = &ctx.keys.candidates;
    // A fetched set's private key is `jwks-private-key`: the issuer published
    // it, the user supplied nothing.
    let fetched = ctx.keys.remote.remote.as_ref().map(|r| r.url.as_str());
    for c in keys
        .iter()
        .filter(|c| c.from_private_key && Some(c.source.as_str()) != fetched)
    {
        out.push(
            Finding::new(
                &PRIVATE_KEY_SUPPLIED,
                format!("{} is a private key; jwtai used only its public part. Verifiers need only the public key.", c.label),
            )
            .evidence(json!({"key": c.label})),
        );
    }
    if t.kind != Kind::Jws {
        return;
    }
    let (Some(alg), Some(sig)) = (t.alg().and_then(Alg::from_name), t.signature.as_deref()) else {
        return;
    };
    if sig.is_empty() {
        return;
    }
    let input = &t.signing_input;

    // A key published for encryption must not verify signatures (RFC 7517 §4.2).
    let (usable, untried) = keys_to_try(keys, t.kid());

    // Shape problems visible without any key.
    let mut shape_explains_failure = false;
    if alg.family() == Family::Ecdsa {
        if psychic(alg, sig) {
            out.push(
                Finding::new(
                    &PSYCHIC_SIGNATURE,
                    format!("The {alg} signature is {} bytes with r = 0 or s = 0: it verifies on no correct implementation and on every key with CVE-2022-21449.", sig.len()),
                )
                .evidence(json!({"bytes": sig.len()})),
            );
            return;
        }
        if let Some(f) = der_signature(alg, sig, input, &usable) {
            out.push(f);
            shape_explains_failure = true;
        }
    }
    if alg == Alg::EdDSA && sig.len() == ED448_SIGNATURE_LEN {
        out.push(
            Finding::new(
                &SIGNATURE_NOT_CHECKED,
                format!("The EdDSA signature is {ED448_SIGNATURE_LEN} bytes: an Ed448 signature (RFC 8037), which jwtai cannot verify; many JWT libraries cannot either (they implement EdDSA with Ed25519 only), so check that the server's does."),
            )
            .fix("Verify it with a library that implements Ed448 (or have the issuer sign with EdDSA over Ed25519, ES256 or RS256, which every verifier supports).")
            .evidence(json!({"bytes": sig.len(), "curve": "Ed448"})),
        );
        return;
    }
    if let Some(need) = alg.fixed_signature_len() {
        if sig.len() > need && !shape_explains_failure {
            let detail = format!(
                "The {alg} signature is {} bytes; {alg} signatures are exactly {need} bytes.",
                sig.len()
            );
            out.push(relabelled(alg, input, sig, &usable, detail, need));
            shape_explains_failure = true;
        }
        // Shorter: the structure check calls the token `truncated`, which
        // already says why no key verifies a signature cut short; unless it
        // is whole, made with another algorithm (see `shorter_of_another_alg`).
        if !sig.is_empty() && sig.len() < need {
            if let Some(other) = signed_as(alg, input, sig, &usable) {
                out.push(relabelled_finding(alg, sig, other, need));
                return;
            }
            shape_explains_failure = true;
        }
    }

    let mut tried: Vec<Tried> = Vec::new();
    let mut verified: Option<&Candidate> = None;
    for c in &usable {
        // A key that declares another "alg" is not picked by jose, go-jose or Nimbus.
        if let Some(declared) = c.alg.as_deref().filter(|a| *a != alg.name()) {
            tried.push(Tried {
                key: c,
                error: VerifyError::DeclaredFor(declared.to_string()),
            });
            continue;
        }
        match verify::verify(alg, input, sig, &c.material) {
            Ok(()) => {
                verified = Some(c);
                break;
            }
            Err(e) => tried.push(Tried { key: c, error: e }),
        }
    }

    let weak = match (alg.family(), verified.map(|c| &c.material)) {
        // Verified with the user's secret: a lookup in the list answers, no HMAC needed.
        (Family::Hmac, Some(KeyMaterial::Hmac(s))) => {
            verify::weak_secret_equal_to(s.expose_secret())
        }
        (Family::Hmac, _) => verify::find_weak_secret(alg, input, sig),
        _ => None,
    };
    // The user's own secrets were tried and failed: their server's secret
    // is another one, and this token was made with a documentation or
    // test-tool secret (jwt.io's), not by their issuer.
    let own_secret_failed = verified.is_none()
        && usable
            .iter()
            .any(|c| matches!(c.material, KeyMaterial::Hmac(_)));
    if let Some(secret) = weak {
        let finding = if own_secret_failed {
            let mut f = Finding::new(
                &WEAK_SECRET,
                format!("The {alg} signature verifies with the well-known secret \"{secret}\" from jwtai's built-in list, not with the secret you gave: the token was made with a documentation or test-tool secret (jwt.io's example, a tutorial's), not by your issuer. A server with your secret rejects it (signature-invalid); a server that does use \"{secret}\" accepts tokens anyone can forge."),
            )
            .fix("Get the token from your real issuer, or sign test tokens with the server's own secret; if any of your services signs or verifies with this well-known secret, replace it with a random one of at least 32 bytes (`openssl rand -base64 32`).");
            f.secondary = true;
            f
        } else {
            Finding::new(
                &WEAK_SECRET,
                format!(
                    "The {alg} signature verifies with the well-known secret \"{secret}\" from jwtai's built-in list: anyone can forge tokens for this server."
                ),
            )
        };
        out.push(finding.evidence(json!({"secret": secret})));
    }

    if usable.is_empty() && !keys.is_empty() {
        if let Some(f) = no_key_fits(alg, input, sig, keys) {
            out.push(f);
            return;
        }
        let why: Vec<String> = keys
            .iter()
            .map(|c| match &c.material {
                KeyMaterial::Unusable { reason, .. } => format!("{} ({reason})", c.label),
                _ => format!("{} (marked \"use\": \"enc\")", c.label),
            })
            .collect();
        out.push(
            Finding::new(
                &SIGNATURE_NOT_CHECKED,
                format!("None of the keys given can verify signatures: {}. The {alg} signature was not checked.", why.join("; ")),
            )
            .evidence(json!({"keys": why})),
        );
        return;
    }
    if usable.is_empty() {
        if let Some(why) = ctx.keys.unavailable.as_deref().filter(|_| weak.is_none()) {
            out.push(
                Finding::new(
                    &SIGNATURE_NOT_CHECKED,
                    format!("{why}, so the {alg} signature ({} bytes) was not verified.", sig.len()),
                )
                .fix("Make the key set reachable from where jwtai runs (see the run's notice), or pass the issuer's key with `--key`."),
            );
            return;
        }
        if weak.is_none() && !ctx.keys.attempted {
            out.push(Finding::new(
                &SIGNATURE_NOT_CHECKED,
                format!("No key material was given, so the {alg} signature ({} bytes) was not verified.", sig.len()),
            ).fix(match alg.family() {
                Family::Hmac => "Pass the HMAC secret the server uses: `--secret-file PATH` or `--secret-env VAR`.".to_string(),
                _ => "Pass the issuer's public key (`--key public.pem`, a JWK/JWKS file) or its JWKS (`--jwks-uri URL`, `--discover`).".to_string(),
            }));
        }
        return;
    }

    if verified.is_none() && untried > 0 {
        out.push(
            Finding::new(
                &SIGNATURE_NOT_CHECKED,
                format!("{untried} more key(s) were not tried: jwtai tries at most {MAX_KEYS_TRIED} keys against one signature (those whose kid matches the header first)."),
            )
            .fix("Pass only the keys the server uses: its own key file, or the one JWKS whose kid matches the token.")
            .evidence(json!({"untried": untried, "limit": MAX_KEYS_TRIED})),
        );
    }

    let kid = t.kid();
    match verified {
        // A forgery is no verified signature: only `algorithm-confusion`.
        Some(c) if c.secret_is_key.is_some() => {
            let key = c.secret_is_key.as_deref().unwrap_or_default();
            out.push(
                Finding::new(
                    &ALGORITHM_CONFUSION,
                    format!(
                        "The {alg} signature verifies, but the HMAC secret ({}) is an {key}, not a secret: anyone holding the public key can sign tokens this verifier accepts. Either this token was forged from the public key, or the server uses its public key as HMAC secret.",
                        c.label
                    ),
                )
                .evidence(json!({"key": c.label, "secret_is": key})),
            );
        }
        Some(c) => {
            let mut detail = format!("The {alg} signature verifies with {}.", c.label);
            if let Some(layout) = c
                .pem_layout
                .filter(|&l| l == crate::keys::ESCAPED_LINE_BREAKS)
            {
                detail.push_str(&format!(
                    " jwtai reads that PEM although {layout}; verifiers given this text as it is fail to load the key (\"Could not deserialize key data\", \"DECODER routines::unsupported\", \"PEM routines:get_name:no start line\"). If the server loads the key from this text, turn the `\\n` into real line breaks where it reads it: `printf '%b' \"$(cat FILE)\" > key.pem`, or in code `key.replace(/\\\\n/g, '\\n')`."
                ));
            } else if let Some(layout) = c.pem_layout {
                detail.push_str(&format!(
                    " jwtai reads that PEM although {layout}; OpenSSL-based verifiers (node's crypto and jsonwebtoken, Ruby, PHP, the `openssl` command) refuse it (\"error:1E08010C:DECODER routines::unsupported\", \"PEM routines:get_name:no start line\"). If the server loads the key from this text, restore the layout: the `-----BEGIN …-----` line alone, the base64 in lines from the first column, then the `-----END …-----` line."
                ));
            }
            out.push(Finding::new(&SIGNATURE_VALID, detail).evidence(
                json!({"key": c.label, "kid": c.kid, "thumbprint": public_thumbprint(c)}),
            ));
            kid_after_success(ctx, kid, c, out);
            weak_key(alg, c, out);
        }
        None => {
            if shape_explains_failure {
                return;
            }
            explain_failure(ctx, alg, sig, &tried, out);
        }
    }
}

/// Length of an Ed448 signature (RFC 8032 §5.2.6).
const ED448_SIGNATURE_LEN: usize = 114;

/// When no key given can verify signatures: the error a server using those
/// keys fails with, if jwtai can name it. Keys published for encryption
/// (`use: enc`) are skipped by verifiers that honour `use`: whether one
/// would verify this signature says what to change. A key of a kind no JWS
/// algorithm verifies with (X25519, DSA) cannot verify this token at all.
/// Keys jwtai merely does not support (Ed448, secp256k1) are left to
/// `signature-not-checked`.
fn no_key_fits(alg: Alg, input: &[u8], sig: &[u8], keys: &[Candidate]) -> Option<Finding> {
    let enc: Vec<&Candidate> = keys
        .iter()
        .filter(|c| c.is_usable() && c.key_use.as_deref() == Some("enc"))
        .collect();
    if !enc.is_empty() {
        let verifying = enc
            .iter()
            .find(|c| verify::verify(alg, input, sig, &c.material).is_ok());
        let mut detail = format!(
            "Every key given that could verify {alg} is marked `\"use\": \"enc\"` (for encryption): {}. Verifiers that honour `use` (jose, jwks-rsa, Nimbus, Microsoft.IdentityModel) skip such keys, find none to verify with, and reject the token.",
            enc.iter()
                .map(|c| c.label.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        );
        let fix = match verifying {
            Some(c) => {
                detail.push_str(&format!(
                    " With `use` ignored, {} verifies the signature: it is the signing key, published with the wrong `use`.",
                    c.label
                ));
                "Publish the signing key with `\"use\": \"sig\"` (or without `use`) in the issuer's JWK Set."
            }
            None => {
                detail.push_str(" With `use` ignored, none of them verifies the signature either.");
                "Publish the issuer's signing key (`\"use\": \"sig\"`) in the JWK Set the server reads."
            }
        };
        return Some(
            Finding::new(&ALG_KEY_MISMATCH, detail)
                .fix(fix)
                .evidence(json!({"enc_keys": enc.iter().map(|c| &c.label).collect::<Vec<_>>(), "verifies_ignoring_use": verifying.map(|c| &c.label)})),
        );
    }
    let never: Vec<String> = keys
        .iter()
        .filter_map(|c| match &c.material {
            KeyMaterial::Unusable { .. } => Some(c.label.clone()),
            _ => None,
        })
        .collect();
    (never.len() == keys.len()).then(|| {
        Finding::new(
            &ALG_KEY_MISMATCH,
            format!(
                "The token is {alg}, and no key given can verify it: {}.",
                never.join("; ")
            ),
        )
        .evidence(json!({"keys": never}))
    })
}

/// The usable keys to try, at most [`MAX_KEYS_TRIED`] (those whose `kid`
/// matches first when there are more), and how many were left out.
fn keys_to_try<'a>(keys: &'a [Candidate], kid: Option<&str>) -> (Vec<&'a Candidate>, usize) {
    let mut usable: Vec<&Candidate> = keys
        .iter()
        .filter(|c| c.is_usable() && c.key_use.as_deref() != Some("enc"))
        .collect();
    if usable.len() <= MAX_KEYS_TRIED {
        return (usable, 0);
    }
    if kid.is_some() {
        // Stable: otherwise in the order given.
        usable.sort_by_key(|c| c.kid.as_deref() != kid);
    }
    let untried = usable.len() - MAX_KEYS_TRIED;
    usable.truncate(MAX_KEYS_TRIED);
    (usable, untried)
}

struct Tried<'a> {
    key: &'a Candidate,
    error: VerifyError,
}

pub(super) fn psychic(alg: Alg, sig: &[u8]) -> bool {
    let Some(len) = alg.fixed_signature_len() else {
        return false;
    };
    // The classic proof of concept is DER: `MAYCAQACAQA` (r = 0, s = 0).
    if let Some((r, s)) = der_integers(sig) {
        return r.iter().all(|b| *b == 0) || s.iter().all(|b| *b == 0);
    }
    if sig.len() != len {
        return false;
    }
    let (r, s) = sig.split_at(len / 2);
    r.iter().all(|b| *b == 0) || s.iter().all(|b| *b == 0)
}

/// An ASN.1 DER `SEQUENCE { INTEGER r, INTEGER s }` where JOSE wants R||S.
fn der_signature(alg: Alg, sig: &[u8], input: &[u8], keys: &[&Candidate]) -> Option<Finding> {
    if !looks_like_der_ecdsa(sig) {
        return None;
    }
    let with = keys
        .iter()
        .find(|c| verify::ecdsa_der_verifies(alg, input, sig, &c.material));
    let mut detail = format!(
        "The {alg} signature is {} bytes and parses as an ASN.1 DER SEQUENCE of two INTEGERs; JOSE requires the {}-byte R||S form.",
        sig.len(),
        alg.fixed_signature_len().unwrap_or(64)
    );
    if let Some(c) = with {
        detail.push_str(&format!(
            " Read as DER it verifies with {}: the signer forgot the JOSE conversion.",
            c.label
        ));
    }
    Some(
        Finding::new(&ECDSA_DER_SIGNATURE, detail)
            .evidence(json!({"bytes": sig.len(), "verifies_as_der": with.is_some()})),
    )
}

/// The contents of r and s of a DER `SEQUENCE { INTEGER r, INTEGER s }`.
fn der_integers(sig: &[u8]) -> Option<(&[u8], &[u8])> {
    if !looks_like_der_ecdsa(sig) {
        return None;
    }
    let mut i = if sig[1] < 0x80 { 2 } else { 3 };
    let mut ints = [&sig[..0], &sig[..0]];
    for int in &mut ints {
        let len = *sig.get(i + 1)? as usize;
        *int = sig.get(i + 2..i + 2 + len)?;
        i += 2 + len;
    }
    Some((ints[0], ints[1]))
}

fn looks_like_der_ecdsa(sig: &[u8]) -> bool {
    // 30 len 02 rlen r.. 02 slen s..
    if sig.len() < 8 || sig[0] != 0x30 {
        return false;
    }
    let (body_len, mut i) = match sig[1] {
        n if n < 0x80 => (n as usize, 2),
        0x81 if sig.len() > 2 => (sig[2] as usize, 3),
        _ => return false,
    };
    if i + body_len != sig.len() {
        return false;
    }
    for _ in 0..2 {
        if sig.get(i) != Some(&0x02) {
            return false;
        }
        let Some(&len) = sig.get(i + 1) else {
            return false;
        };
        i += 2 + len as usize;
    }
    i == sig.len()
}

fn kid_after_success(ctx: &Context, kid: Option<&str>, c: &Candidate, out: &mut Vec<Finding>) {
    let set: Vec<&Candidate> = ctx
        .keys
        .candidates
        .iter()
        .filter(|k| k.from_set && k.source == c.source)
        .collect();
    match kid {
        Some(kid) if c.from_set && c.kid.as_deref() != Some(kid) => {
            if set.iter().any(|k| k.kid.as_deref() == Some(kid)) {
                out.push(
                    Finding::new(
                        &WRONG_KID,
                        format!(
                            "The header names kid \"{kid}\", but the signature verifies with {} instead; the key \"{kid}\" does not verify it. A verifier that looks up \"{kid}\" fails.",
                            c.label
                        ),
                    )
                    .evidence(json!({"kid": kid, "verified_with": c.kid, "thumbprint": public_thumbprint(c)})),
                );
            } else {
                out.push(
                    Finding::new(
                        &KID_NOT_FOUND,
                        format!(
                            "The header names kid \"{kid}\", which {} does not contain (it has {}); the signature does verify with {}, so the issuer signs with that key under another kid.",
                            c.source,
                            kid_list(&set),
                            c.label
                        ),
                    )
                    .evidence(json!({"kid": kid, "available": set.iter().map(|k| k.kid.clone()).collect::<Vec<_>>()})),
                );
            }
        }
        None if set.iter().filter(|k| k.is_usable()).count() > 1 => out.push(
            Finding::new(
                &KID_MISSING,
                format!(
                    "The header has no kid and {} holds {} keys ({}); jwtai found the right one by trying each, a verifier that looks keys up by kid cannot.",
                    c.source,
                    set.len(),
                    kid_list(&set)
                ),
            )
            .evidence(json!({"keys": set.len()})),
        ),
        _ => {}
    }
}

fn weak_key(alg: Alg, c: &Candidate, out: &mut Vec<Finding>) {
    match &c.material {
        KeyMaterial::Rsa { .. } => {
            if let Some(bits) = c.material.rsa_bits() {
                if bits < 2048 {
                    out.push(
                        Finding::new(&KEY_TOO_WEAK, format!("{} is a {bits}-bit RSA key; 2048 bits is the minimum (RFC 7518 §3.3), and libraries such as jose and Java 17+ refuse smaller keys.", c.label))
                            .evidence(json!({"bits": bits})),
                    );
                }
            }
        }
        KeyMaterial::Hmac(secret) => {
            let len = secret.expose_secret().len();
            let need = alg.fixed_signature_len().unwrap_or(32);
            if len < need {
                out.push(
                    Finding::new(&KEY_TOO_WEAK, format!("The {alg} secret is {len} bytes; RFC 7518 §3.2 requires at least {need} bytes (the hash output size), and strict libraries reject shorter keys."))
                        .evidence(json!({"bytes": len, "minimum": need})),
                );
            }
        }
        _ => {}
    }
}

/// RSA signature lengths of the key sizes in use (1024 to 8192 bits).
const RSA_SIGNATURE_BYTES: [usize; 7] = [128, 192, 256, 384, 512, 768, 1024];

/// An RSA signature shorter than the key's modulus that verifies once zero
/// bytes are put back in front: the signer drops leading zeros instead of
/// writing the signature at the modulus length (I2OSP, RFC 8017 §5.2.1;
/// RFC 7518 §3.3). Fails for the few tokens in a few hundred whose
/// signature happens to start with a zero byte: an intermittent 401.
fn leading_zeros_dropped(
    alg: Alg,
    input: &[u8],
    sig: &[u8],
    sizes: &[(usize, &Candidate)],
) -> Option<Finding> {
    sizes.iter().find_map(|&(bytes, key)| {
        let missing = bytes.checked_sub(sig.len()).filter(|m| (1..=8).contains(m))?;
        let mut padded = vec![0; missing];
        padded.extend_from_slice(sig);
        verify::verify(alg, input, &padded, &key.material).ok()?;
        Some(
            Finding::new(
                &SIGNATURE_LENGTH_MISMATCH,
                format!(
                    "The {alg} signature is {} bytes, {missing} short of the {bytes} bytes {} produces, and with {missing} zero byte(s) put back in front it verifies: the signer drops the leading zeros of the signature instead of writing it at the key's full length (RFC 8017 I2OSP, RFC 7518 §3.3). Strict verifiers reject it; only the few tokens in a few hundred whose signature starts with a zero byte fail, so the 401s look random.",
                    sig.len(),
                    key.label,
                ),
            )
            .fix("Fix the signer to left-pad each RSA signature with zero bytes to the modulus length (a maintained JWT library does); until then, expect roughly one token in 200 to 256 to fail.")
            .evidence(json!({"bytes": sig.len(), "expected": bytes, "leading_zeros_dropped": missing, "key": key.label})),
        )
    })
}

/// An RSA signature shorter than every key's, of a length no RSA key size
/// in use produces: the token was cut off inside its signature (a log line
/// or column limit), not signed by another key.
fn rsa_signature_cut(
    ctx: &Context,
    alg: Alg,
    sig: &[u8],
    sizes: &[(usize, &Candidate)],
) -> Option<Finding> {
    let &(bytes, key) = sizes.iter().min_by_key(|(bytes, _)| *bytes)?;
    if sig.len() >= bytes || RSA_SIGNATURE_BYTES.contains(&sig.len()) {
        return None;
    }
    Some(
        Finding::new(
            &super::structure::TRUNCATED,
            format!(
                "The token looks cut off: the {alg} signature is {} bytes, {} bytes short of the {bytes} bytes {} produces, and no RSA key size in use produces {}-byte signatures.",
                sig.len(),
                bytes - sig.len(),
                key.label,
                sig.len()
            ),
        )
        .evidence(json!({"length": ctx.token.len, "segments": ctx.token.segment_count, "signature_bytes": sig.len(), "expected": bytes})),
    )
}

fn explain_failure(ctx: &Context, alg: Alg, sig: &[u8], tried: &[Tried], out: &mut Vec<Finding>) {
    let input = &ctx.token.signing_input;
    let fitting: Vec<&Tried> = tried
        .iter()
        .filter(|t| {
            !matches!(
                t.error,
                VerifyError::KeyTypeMismatch { .. }
                    | VerifyError::CurveMismatch { .. }
                    | VerifyError::DeclaredFor(_)
            )
        })
        .collect();

    if alg.family() == Family::Hmac {
        if let Some(f) = confusion(alg, input, sig, tried) {
            out.push(f);
            return;
        }
        if let Some(f) = secret_variants(alg, input, sig, tried) {
            out.push(f);
            return;
        }
    }

    if let Some(f) = declared_for_another_alg(alg, input, sig, tried, fitting.is_empty()) {
        out.push(f);
        return;
    }
    if fitting.is_empty() {
        let have: Vec<String> = tried
            .iter()
            .map(|t| {
                let what = t.key.material.describe();
                if t.key.label.contains(&what) {
                    t.key.label.clone()
                } else {
                    format!("{} ({what})", t.key.label)
                }
            })
            .collect();
        let need = tried.iter().find_map(|t| match &t.error {
            VerifyError::KeyTypeMismatch { need, .. } => Some(need.to_string()),
            VerifyError::CurveMismatch { need, .. } => Some(format!("an EC {need} key")),
            _ => None,
        });
        out.push(
            Finding::new(
                &ALG_KEY_MISMATCH,
                format!(
                    "The token is {alg}, which needs {}; the key material given is {}.",
                    need.unwrap_or_else(|| "another kind of key".into()),
                    have.join(", ")
                ),
            )
            .evidence(json!({"alg": alg.name(), "keys": have})),
        );
        return;
    }

    let kid = ctx.token.kid();
    let set_keys: Vec<&Candidate> = ctx.keys.candidates.iter().filter(|k| k.from_set).collect();
    // An HMAC token's kid names a shared secret, which a public key set
    // does not hold: with a secret given too, the set is not where its
    // key was to be found, and the secret's failure is the finding.
    let secret_applies = alg.family() == Family::Hmac
        && ctx
            .keys
            .candidates
            .iter()
            .any(|k| !k.from_set && matches!(k.material, KeyMaterial::Hmac(_)))
        && !set_keys
            .iter()
            .any(|k| matches!(k.material, KeyMaterial::Hmac(_)));
    if let Some(kid) = kid.filter(|_| !secret_applies) {
        if !set_keys.is_empty() && !set_keys.iter().any(|k| k.kid.as_deref() == Some(kid)) {
            let sources: Vec<&str> = dedup(set_keys.iter().map(|k| k.source.as_str()));
            let why = match other_issuer(ctx, &sources) {
                // Another issuer's set: no rotation to assume.
                Some(Issuers::Differ { token, set }) => format!(
                    "The token's issuer \"{token}\" is not \"{}\", the issuer that set is taken for ({}): an issuer signs with its own keys, so a kid of \"{token}\" is not expected in \"{}\"'s set. Check this token against its own issuer's key set (`--discover` fetches one per issuer); only if that set also serves \"{token}\" was the key rotated out of it.",
                    set.issuer,
                    set.why(),
                    set.issuer
                ),
                Some(Issuers::TokenNamesNone { set }) => format!(
                    "The token names no issuer (`iss`), so which issuer's keys apply is not known; that set is \"{}\"'s ({}). If the token is not from \"{}\", that is why; if it is, the key was rotated out of the set or the verifier reads a stale copy.",
                    set.issuer,
                    set.why(),
                    set.issuer
                ),
                None => "The key was rotated out of the set, the verifier reads a stale copy, or the token comes from another tenant or environment.".to_string(),
            };
            let finding = Finding::new(
                &KID_NOT_FOUND,
                format!(
                    "The header names kid \"{kid}\"; {} has {}. None of them verifies the signature either. {why}",
                    sources.join(", "),
                    kid_list(&set_keys)
                ),
            );
            let finding = super::idp::hinted(
                finding,
                ctx.token.claims().and_then(super::idp::unlisted_kid),
            );
            out.push(finding.evidence(json!({"kid": kid, "available": set_keys.iter().map(|k| k.kid.clone()).collect::<Vec<_>>()})));
            return;
        }
    }

    if matches!(alg.family(), Family::Rsa | Family::RsaPss) {
        let sizes: Vec<(usize, &Candidate)> = fitting
            .iter()
            .filter_map(|t| t.key.material.rsa_bits().map(|b| (b.div_ceil(8), t.key)))
            .collect();
        if !sizes.is_empty() && sizes.iter().all(|(bytes, _)| *bytes != sig.len()) {
            let keys: Vec<&Candidate> = tried.iter().map(|t| t.key).collect();
            if let Some(other) = signed_as(alg, input, sig, &keys) {
                out.push(relabelled_finding(alg, sig, other, sizes[0].0));
                return;
            }
            if let Some(f) = leading_zeros_dropped(alg, input, sig, &sizes) {
                out.push(f);
                return;
            }
            if let Some(f) = rsa_signature_cut(ctx, alg, sig, &sizes) {
                // The structure check has said so already when its evidence was enough.
                if super::structure::truncation(ctx).is_none() {
                    out.push(f);
                }
                return;
            }
            let (bytes, key) = sizes[0];
            out.push(
                Finding::new(
                    &SIGNATURE_LENGTH_MISMATCH,
                    format!(
                        "The {alg} signature is {} bytes ({}-bit key), but {} is a {}-bit key whose signatures are {bytes} bytes: another key signed this token.",
                        sig.len(),
                        sig.len() * 8,
                        key.label,
                        bytes * 8
                    ),
                )
                .evidence(json!({"bytes": sig.len(), "expected": bytes})),
            );
            return;
        }
    }

    let list: Vec<String> = tried.iter().map(describe_tried).collect();
    let mut detail = format!(
        "The {alg} signature verifies with none of the {} key(s) tried: {}.",
        tried.len(),
        list.join("; ")
    );
    let re_encoded = ctx.token.has_observation(|o| {
        matches!(
            o,
            crate::token::Observation::StandardAlphabet { .. }
                | crate::token::Observation::UrlEncoded { .. }
        )
    });
    if re_encoded {
        detail.push_str(
            " The token was re-encoded on its way (see above), which alone breaks the signature.",
        );
    }
    // A token minted for Microsoft Graph fails everywhere but at Graph: no
    // key to look for, whatever the kid says.
    let graph = ctx.token.claims().and_then(super::idp::graph_audience);
    if let Some(aud) = &graph {
        let nonce = if ctx.token.header_str("nonce").is_some() {
            " Its header carries a `nonce`, which Graph transforms before checking the signature, so no other verifier can check it."
        } else {
            ""
        };
        detail.push_str(&format!(
            " The token's audience \"{aud}\" is Microsoft Graph: the token was minted for Graph, not for this API, and is not meant to be verified here.{nonce}"
        ));
    }
    // The key the kid names was tried, fits the algorithm, and fails: a
    // stranger under a familiar kid, not a missing key.
    let kid = ctx.token.kid().filter(|kid| {
        graph.is_none()
            && !re_encoded
            && tried
                .iter()
                .any(|t| t.key.kid.as_deref() == Some(*kid) && t.error == VerifyError::Invalid)
    });
    // That key may have signed after all, under another algorithm of the
    // same signature length (PS256 for RS256: a KMS signing mode that does
    // not match the header). Only the kid's key is tried, so a scan of
    // tokens from a rotated key (no such kid) pays nothing for it.
    let named: Vec<&Candidate> = kid
        .map(|kid| {
            tried
                .iter()
                .filter(|t| t.key.kid.as_deref() == Some(kid) && t.error == VerifyError::Invalid)
                .map(|t| t.key)
                .collect()
        })
        .unwrap_or_default();
    if let Some((real, key)) = signed_as(alg, input, sig, &named) {
        let (why, fix) = relabel_said(alg, real, key);
        detail.push_str(&format!(" It does verify as {real} with {why}"));
        out.push(
            Finding::new(&SIGNATURE_INVALID, detail)
                .fix(fix)
                .evidence(json!({"verifies_as": real.name(), "key": key.label})),
        );
        return;
    }
    let sources: Vec<&str> = dedup(tried.iter().map(|t| t.key.source.as_str()));
    if let Some(Issuers::Differ { token, set }) = other_issuer(ctx, &sources) {
        detail.push_str(&format!(
            " The token's issuer \"{token}\" is not \"{}\", the issuer the fetched set is taken for ({}).",
            set.issuer,
            set.why()
        ));
    }
    if let Some(kid) = kid {
        detail.push_str(&format!(
            " The key the header's kid \"{kid}\" names is among them and fits {alg}, yet does not verify it: another key signed the token under the same kid (another environment's or tenant's issuer, a staging token checked against production's set; or a key rotated without a new kid), or the token was altered after signing."
        ));
    }
    let mut finding = Finding::new(&SIGNATURE_INVALID, detail);
    if graph.is_some() {
        finding = finding.fix(super::idp::GRAPH_FIX);
    }
    if let Some(kid) = kid {
        finding = finding.fix(format!(
            "Check that the token's `iss` is the issuer whose JWKS you verify against (same environment, same tenant); if it is, the issuer must give a new key a new `kid` instead of reusing \"{kid}\"."
        ));
    }
    out.push(
        finding
            .evidence(json!({"tried": tried.iter().map(|t| json!({"key": t.key.label, "kid": t.key.kid, "thumbprint": public_thumbprint(t.key), "result": t.error.to_string()})).collect::<Vec<_>>()})),
    );
}

/// How the token's issuer compares with the issuer of the fetched key set it
/// was checked against.
enum Issuers<'a> {
    Differ {
        token: &'a str,
        set: &'a crate::jwks::SetIssuer,
    },
    TokenNamesNone {
        set: &'a crate::jwks::SetIssuer,
    },
}

/// When the fetched key set (one of `sources`) belongs to a known issuer
/// and the token names another, or none: the set is then not the token's
/// own, which explains a missing kid better than a rotation.
fn other_issuer<'a>(ctx: &'a Context, sources: &[&str]) -> Option<Issuers<'a>> {
    let resolved = &ctx.keys.remote;
    let url = resolved.remote.as_ref()?.url.as_str();
    let set = resolved.issuer.as_ref()?;
    if !sources.contains(&url) {
        return None;
    }
    match ctx.token.claims()?.get("iss") {
        Some(serde_json::Value::String(iss)) if *iss == set.issuer => None,
        Some(serde_json::Value::String(iss)) => Some(Issuers::Differ { token: iss, set }),
        _ => Some(Issuers::TokenNamesNone { set }),
    }
}

/// The algorithm (other than the header's) and key a signature verifies
/// with. Only algorithms whose signatures have this length are tried, so a
/// token whose signature length fits its header costs nothing here.
fn signed_as<'k>(
    alg: Alg,
    input: &[u8],
    sig: &[u8],
    keys: &[&'k Candidate],
) -> Option<(Alg, &'k Candidate)> {
    Alg::ALL
        .into_iter()
        .filter(|other| *other != alg)
        .filter(|other| other.fixed_signature_len().is_none_or(|n| n == sig.len()))
        .find_map(|other| {
            keys.iter()
                .filter(|c| {
                    c.material
                        .rsa_bits()
                        .is_none_or(|bits| bits.div_ceil(8) == sig.len())
                })
                .find(|c| verify::verify(other, input, sig, &c.material).is_ok())
                .map(|c| (other, *c))
        })
}

/// A fixed-length signature shorter than the header's algorithm makes
/// that verifies as another algorithm (an HS256 signature under HS512): not
/// cut short, so not `truncated`.
pub(super) fn shorter_of_another_alg(ctx: &Context) -> bool {
    let t = ctx.token;
    let (Some(alg), Some(sig)) = (t.alg().and_then(Alg::from_name), t.signature.as_deref()) else {
        return false;
    };
    let (usable, _) = keys_to_try(&ctx.keys.candidates, t.kid());
    signed_as(alg, &t.signing_input, sig, &usable).is_some()
}

/// `signature-length-mismatch` for a signature longer than the header's
/// algorithm makes: said with the algorithm it does verify as, if any.
fn relabelled(
    alg: Alg,
    input: &[u8],
    sig: &[u8],
    keys: &[&Candidate],
    detail: String,
    need: usize,
) -> Finding {
    match signed_as(alg, input, sig, keys) {
        Some(other) => relabelled_finding(alg, sig, other, need),
        None => {
            let mut detail = detail;
            if let Some(like) = length_like(sig.len()) {
                detail.push_str(&format!(" {} bytes is the length of {like}.", sig.len()));
            }
            Finding::new(&SIGNATURE_LENGTH_MISMATCH, detail)
                .evidence(json!({"bytes": sig.len(), "expected": need}))
        }
    }
}

fn relabelled_finding(
    alg: Alg,
    sig: &[u8],
    (real, key): (Alg, &Candidate),
    need: usize,
) -> Finding {
    let (why, fix) = relabel_said(alg, real, key);
    Finding::new(
        &SIGNATURE_LENGTH_MISMATCH,
        format!(
            "The signature is {} bytes where {alg} makes {need}, and it verifies as {real} with {why}",
            sig.len()
        ),
    )
    .fix(fix)
    .evidence(json!({"bytes": sig.len(), "expected": need, "verifies_as": real.name(), "key": key.label}))
}

/// The rest of "it verifies as `real` with …" for a header that says `alg`,
/// and the fix.
fn relabel_said(alg: Alg, real: Alg, key: &Candidate) -> (String, String) {
    (
        format!(
            "{}: the issuer signed with {real} and wrote {alg} into the header it signed. Its signer is misconfigured: the key or signing mode (a KMS or HSM key, a key file) is another than the `alg` it is told to write, or the library takes the algorithm and the key separately.",
            key.label
        ),
        format!(
            "Make the issuer's signer write the algorithm it signs with (\"alg\": \"{real}\") into the header, or sign with {alg}; verifiers rightly reject the token until then."
        ),
    )
}

/// What signatures have this length, when one kind is the likely one.
fn length_like(len: usize) -> Option<&'static str> {
    Some(match len {
        32 => "an HS256 signature",
        48 => "an HS384 signature",
        64 => "an ES256, EdDSA or HS512 signature",
        96 => "an ES384 signature",
        132 => "an ES512 signature",
        128 => "an RSA signature with a 1024-bit key",
        256 => "an RS256/PS256 signature with a 2048-bit RSA key",
        384 => "an RSA signature with a 3072-bit key",
        512 => "an RSA signature with a 4096-bit key",
        _ => return None,
    })
}

/// Keys of the right type that the key set declares for another `alg`:
/// whether the signature verifies with one of them anyway tells a wrong
/// declaration (or signing algorithm) from a wrong key. Without such a
/// signer, a finding only when no other key could have been tried (`only`).
fn declared_for_another_alg(
    alg: Alg,
    input: &[u8],
    sig: &[u8],
    tried: &[Tried],
    only: bool,
) -> Option<Finding> {
    let declared: Vec<(&Tried, &str)> = tried
        .iter()
        .filter_map(|t| match &t.error {
            VerifyError::DeclaredFor(a) => Some((t, a.as_str())),
            _ => None,
        })
        .collect();
    let (first, first_alg) = *declared.first()?;
    let signer = declared
        .iter()
        .find(|(t, _)| verify::verify(alg, input, sig, &t.key.material).is_ok());
    if signer.is_none() && !only {
        return None;
    }
    let (detail, fix) = match signer {
        Some((t, declared)) => (
            format!(
                "{} is declared for \"alg\": \"{declared}\", so verifiers that honour a key's `alg` (jose, go-jose, Nimbus) will not use it for this {alg} token. Declaration aside, the {alg} signature verifies with it: the key is the right one, and the issuer signs with {alg} while its key set says {declared}.",
                t.key.label
            ),
            format!(
                "Make the two agree: publish the key with \"alg\": \"{alg}\" (or without `alg`), or have the issuer sign with {declared}."
            ),
        ),
        None => (
            format!(
                "{} is declared for \"alg\": \"{first_alg}\", not {alg}; declaration aside, the signature does not verify with {} either: another key signed this token.",
                first.key.label,
                if declared.len() == 1 {
                    "it"
                } else {
                    "any of them"
                }
            ),
            format!("Verify with the key that signed the token, and publish it for {alg}."),
        ),
    };
    Some(
        Finding::new(&ALG_KEY_MISMATCH, detail)
            .fix(fix)
            .evidence(json!({
                "alg": alg.name(),
                "declared": declared.iter().map(|(t, a)| json!({"key": t.key.label, "alg": a})).collect::<Vec<_>>(),
                "verifies_without_declaration": signer.is_some(),
            })),
    )
}

/// Thumbprints identify public keys; for a shared secret it would be an
/// unkeyed hash of the secret, so it is never shown.
fn public_thumbprint(c: &Candidate) -> Option<&str> {
    match c.material {
        KeyMaterial::Hmac(_) => None,
        _ => c.thumbprint.as_deref(),
    }
}

fn describe_tried(t: &Tried) -> String {
    let mut s = t.key.label.clone();
    if let Some(tp) = &t.key.thumbprint {
        if !matches!(t.key.material, KeyMaterial::Hmac(_)) {
            s.push_str(&format!(", thumbprint {}", &tp[..tp.len().min(12)]));
        }
    }
    format!("{s} ({})", t.error)
}

/// The kids of `keys` for a detail: the first [`KIDS_SHOWN`], then how many
/// more (the evidence lists them all), so a set of thousands stays readable.
fn kid_list(keys: &[&Candidate]) -> String {
    const KIDS_SHOWN: usize = 10;
    let kids: Vec<String> = keys
        .iter()
        .take(KIDS_SHOWN)
        .map(|k| {
            k.kid
                .as_deref()
                .map_or("(no kid)".to_string(), |k| format!("\"{k}\""))
        })
        .collect();
    match keys.len() {
        0 => "no keys".into(),
        n if n > KIDS_SHOWN => format!("kid {} and {} more", kids.join(", "), n - KIDS_SHOWN),
        _ => format!("kid {}", kids.join(", ")),
    }
}

fn dedup<'a>(it: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut v: Vec<&str> = Vec::new();
    for s in it {
        if !v.contains(&s) {
            v.push(s);
        }
    }
    v
}

/// An HS* token that verifies with an asymmetric key's public bytes as secret.
fn confusion(alg: Alg, input: &[u8], sig: &[u8], tried: &[Tried]) -> Option<Finding> {
    for t in tried
        .iter()
        .filter(|t| !matches!(t.key.material, KeyMaterial::Hmac(_)))
    {
        for (bytes, form) in public_key_forms(t.key) {
            if verify::hmac_verify(alg, input, sig, &bytes) {
                return Some(
                    Finding::new(
                        &ALGORITHM_CONFUSION,
                        format!(
                            "This {alg} token verifies with the public key {} used as the HMAC secret ({form}). It was forged by someone holding only the public key; a verifier that lets the header pick HMAC for this key accepts it.",
                            t.key.label
                        ),
                    )
                    .evidence(json!({"key": t.key.label, "form": form})),
                );
            }
        }
    }
    // Only asymmetric keys and no forgery: the key simply cannot verify HMAC.
    None
}

/// The byte strings an attacker may have used as "the public key".
fn public_key_forms(c: &Candidate) -> Vec<(Vec<u8>, &'static str)> {
    let mut forms = Vec::new();
    if let Some(raw) = &c.raw_text {
        forms.push((raw.clone(), "the PEM file's exact bytes"));
        let trimmed = raw.trim_ascii_end().to_vec();
        forms.push((trimmed.clone(), "the PEM text without its trailing newline"));
        let mut nl = trimmed.clone();
        nl.push(b'\n');
        forms.push((nl, "the PEM text with a trailing newline"));
        let lf: Vec<u8> = raw.iter().copied().filter(|b| *b != b'\r').collect();
        forms.push((lf, "the PEM text with LF line endings"));
    }
    if let Some(der) = &c.spki_der {
        forms.push((der.clone(), "the DER SubjectPublicKeyInfo bytes"));
        let body = STANDARD.encode(der);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .filter_map(|l| std::str::from_utf8(l).ok())
            .collect();
        let pem = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----",
            lines.join("\n")
        );
        forms.push((format!("{pem}\n").into_bytes(), "the SPKI PEM text"));
        forms.push((
            pem.into_bytes(),
            "the SPKI PEM text without trailing newline",
        ));
    }
    forms
}

/// A given secret that verifies only after trimming or re-encoding.
fn secret_variants(alg: Alg, input: &[u8], sig: &[u8], tried: &[Tried]) -> Option<Finding> {
    for t in tried {
        let KeyMaterial::Hmac(secret) = &t.key.material else {
            continue;
        };
        let s = secret.expose_secret();
        let trimmed = s.trim_ascii();
        if trimmed.len() != s.len() && verify::hmac_verify(alg, input, sig, trimmed) {
            let what = describe_whitespace(s);
            return Some(
                Finding::new(
                    &SECRET_WHITESPACE,
                    format!(
                        "The {alg} signature does not verify with {} as given ({} bytes), but does with {what} removed ({} bytes): the verifier reads the secret with surrounding whitespace, the signer without.",
                        t.key.label,
                        s.len(),
                        trimmed.len()
                    ),
                )
                .evidence(json!({"key": t.key.label, "bytes": s.len(), "trimmed_bytes": trimmed.len()})),
            );
        }
        // The other way round: the signer's copy ends in a newline (a file
        // written by `echo`, a heredoc), the verifier's was trimmed.
        for (added, what) in [
            (&b"\n"[..], "a trailing newline"),
            (b"\r\n", "a trailing CRLF"),
        ] {
            let longer = [trimmed, added].concat();
            if verify::hmac_verify(alg, input, sig, &longer) {
                return Some(
                    Finding::new(
                        &SECRET_WHITESPACE,
                        format!(
                            "The {alg} signature does not verify with {} as given, but does with {what} added: the signer reads the secret with {what} (a file written by `echo` or a heredoc, read whole), the verifier without.",
                            t.key.label
                        ),
                    )
                    .fix(format!("Trim the secret where the signer loads it (or write its file without {what}: `printf %s`, `echo -n`); make signer and verifier read it the same way."))
                    .evidence(json!({"key": t.key.label, "added": what})),
                );
            }
        }
        if let Some((how, whose)) = quote_variant(alg, input, sig, trimmed) {
            return Some(
                Finding::new(
                    &SECRET_ENCODING,
                    format!(
                        "The {alg} signature does not verify with {} as given, but does with {how}: the {whose} value kept the quotes of a line such as `JWT_SECRET=\"...\"`. `docker run --env-file` and Kubernetes secret data take such a line literally, quotes included; dotenv libraries and shells strip them.",
                        t.key.label
                    ),
                )
                .fix("Write the secret without quotes wherever it is read literally (an --env-file, a Kubernetes secret, a config map), so signer and verifier use the same bytes; then rotate it if the quoted form was ever shared.")
                .evidence(json!({"key": t.key.label, "variant": how})),
            );
        }
        for (variant, how, fix) in encodings(trimmed) {
            if verify::hmac_verify(alg, input, sig, &variant) {
                return Some(
                    Finding::new(
                        &SECRET_ENCODING,
                        format!(
                            "The {alg} signature does not verify with {} as given, but does with {how}: signer and verifier use different bytes for the same configured secret.",
                            t.key.label
                        ),
                    )
                    .fix(fix)
                    .evidence(json!({"key": t.key.label, "variant": how})),
                );
            }
        }
    }
    None
}

/// The secret with its surrounding quotes removed, or with quotes added,
/// if that verifies: how it was changed, and whose value kept the quotes.
fn quote_variant(
    alg: Alg,
    input: &[u8],
    sig: &[u8],
    s: &[u8],
) -> Option<(&'static str, &'static str)> {
    for q in [b'"', b'\''] {
        if s.len() >= 2 && s[0] == q && s[s.len() - 1] == q {
            if verify::hmac_verify(alg, input, sig, &s[1..s.len() - 1]) {
                return Some(("its surrounding quotes removed", "verifier's"));
            }
        } else {
            let quoted = [&[q], s, &[q]].concat();
            if verify::hmac_verify(alg, input, sig, &quoted) {
                return Some(("quotes put around it", "signer's"));
            }
        }
    }
    None
}

fn describe_whitespace(s: &[u8]) -> &'static str {
    match s.last() {
        Some(b'\n') if s.ends_with(b"\r\n") => "the trailing CRLF",
        Some(b'\n') => "the trailing newline",
        Some(b' ' | b'\t') => "trailing spaces",
        _ => "surrounding whitespace",
    }
}

/// Every form of a given secret that jwtai derives and may name or quote
/// (decoded from base64, base64url or hex, without its quotes or env-line
/// name, trimmed, encoded), as text: each is as secret as the secret
/// itself, and is scrubbed from output like it.
pub fn secret_forms(secret: &[u8]) -> Vec<String> {
    let trimmed = secret.trim_ascii();
    let mut forms: Vec<Vec<u8>> = vec![trimmed.to_vec()];
    for q in [b'"', b'\''] {
        if trimmed.len() >= 2 && trimmed[0] == q && trimmed[trimmed.len() - 1] == q {
            forms.push(trimmed[1..trimmed.len() - 1].to_vec());
        }
    }
    forms.extend(encodings(trimmed).into_iter().map(|(b, _, _)| b));
    let hex: String = trimmed.iter().map(|b| format!("{b:02x}")).collect();
    forms.push(hex.into_bytes());
    let mut out: Vec<String> = forms
        .into_iter()
        .filter_map(|b| String::from_utf8(b).ok())
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The secret's other readings: the bytes, how they were got from the
/// secret (for the detail), and what to change (the fix).
fn encodings(s: &[u8]) -> Vec<(Vec<u8>, &'static str, &'static str)> {
    let mut v = Vec::new();
    if let Ok(text) = std::str::from_utf8(s) {
        const B64: &str = "its base64 decoding (the secret is base64 text)";
        const B64_FIX: &str = "The signer uses the secret's base64-decoded bytes: decode it where the verifier loads it too (`Buffer.from(secret, 'base64')`, `base64.b64decode(secret)`, jjwt's `Decoders.BASE64`), or make the signer use the text as is; both sides must use the same bytes.";
        const B64URL: &str = "its base64url decoding (the secret is base64url text)";
        const B64URL_FIX: &str = "The signer uses the secret's base64url-decoded bytes: decode it where the verifier loads it too (`Buffer.from(secret, 'base64url')`, `base64.urlsafe_b64decode(secret)`, jjwt's `Decoders.BASE64URL`), or make the signer use the text as is; both sides must use the same bytes.";
        for (engine, how, fix) in [(&STANDARD, B64, B64_FIX), (&URL_SAFE, B64URL, B64URL_FIX)] {
            if let Ok(d) = engine.decode(text) {
                v.push((d, how, fix));
            }
        }
        for (engine, how, fix) in [
            (&STANDARD_NO_PAD, B64, B64_FIX),
            (&URL_SAFE_NO_PAD, B64URL, B64URL_FIX),
        ] {
            if let Ok(d) = engine.decode(text.trim_end_matches('=')) {
                v.push((d, how, fix));
            }
        }
        // Conventions that prefix the secret: Laravel's `base64:`, `0x` hex.
        if let Some(rest) = text.strip_prefix("base64:") {
            if let Ok(d) = STANDARD.decode(rest) {
                v.push((d, "its base64 decoding after the `base64:` prefix (Laravel's convention: the framework decodes it, other verifiers do not)",
                    "The signer reads `base64:` as Laravel does: make the verifier strip the prefix and base64-decode the rest too, or give both sides the same plain secret."));
            }
            v.push((
                rest.as_bytes().to_vec(),
                "the text after its `base64:` prefix",
                "The signer uses the text after `base64:` as the key: strip the prefix where the verifier loads it too, or make the signer keep it.",
            ));
        }
        if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
            if hex.len() % 2 == 0 && !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                let bytes: Option<Vec<u8>> = (0..hex.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
                    .collect();
                if let Some(b) = bytes {
                    v.push((b, "its hex decoding after the `0x` prefix",
                        "The signer uses the hex-decoded bytes: decode the hex after `0x` where the verifier loads it too (`Buffer.from(s.slice(2), 'hex')`, `bytes.fromhex(s[2:])`), or make the signer use the text as is."));
                }
            }
        }
        // A whole env line (`JWT_SECRET=...`) where only the value belongs.
        if let Some((name, value)) = text.split_once('=') {
            let is_name = !name.is_empty()
                && name.starts_with(|c: char| c.is_ascii_uppercase() || c == '_')
                && name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            if is_name && !value.is_empty() {
                v.push((
                    value.trim_matches(['"', '\'']).as_bytes().to_vec(),
                    "only the value of its `NAME=value` line (the secret file holds a whole env line)",
                    "Give the verifier only the value: the signer's key is what follows `=` (without quotes); load it as an environment variable or keep only the value in the file.",
                ));
            }
        }
        if text.len() % 2 == 0 && text.len() >= 16 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            let bytes: Option<Vec<u8>> = (0..text.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
                .collect();
            if let Some(b) = bytes {
                v.push((b, "its hex decoding (the secret is hex text)",
                    "The signer uses the secret's hex-decoded bytes: decode it where the verifier loads it too (`Buffer.from(secret, 'hex')`, `bytes.fromhex(secret)`), or make the signer use the text as is."));
            }
        }
    }
    v.push((
        STANDARD.encode(s).into_bytes(),
        "its base64 encoding as the key (the signer used the encoded text)",
        "The signer uses the base64 text of this secret as its key: make the verifier use that same text, or make the signer use the raw secret bytes (e.g. not the encoded string a secret store returns).",
    ));
    v.push((
        URL_SAFE_NO_PAD.encode(s).into_bytes(),
        "its base64url encoding as the key (the signer used the encoded text)",
        "The signer uses the base64url text of this secret as its key: make the verifier use that same text, or make the signer use the raw secret bytes.",
    ));
    v
}
