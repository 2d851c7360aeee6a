//! PEM and DER key structures: SubjectPublicKeyInfo, PKCS#1, PKCS#8, SEC1,
//! X.509 certificates and CSRs.
//!
//! ASN.1 framing is read with `asn1-rs` (via `x509-parser`); every key
//! operation (validating an EC point, deriving a public key from a private
//! one, encoding a SubjectPublicKeyInfo) goes through `aws-lc-rs`.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, EcdsaSigningAlgorithm, Ed25519KeyPair, KeyPair, ParsedPublicKey,
    RsaPublicKeyComponents,
};
use x509_parser::asn1_rs::{Any, Class, FromDer, Tag};
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::x509::SubjectPublicKeyInfo;

use super::{
    Candidate, Curve, JwkSet, KeyError, KeyMaterial, MAX_KEYS_IN_SET, MAX_RSA_BITS, bit_len,
    sanitize, strip_leading_zeros, thumbprint,
};

const OID_RSA: &str = "1.2.840.113549.1.1.1";
const OID_RSA_PSS: &str = "1.2.840.113549.1.1.10";
const OID_EC: &str = "1.2.840.10045.2.1";
const OID_ED25519: &str = "1.3.101.112";
const OID_X25519: &str = "1.3.101.110";
const OID_X448: &str = "1.3.101.111";
const OID_ED448: &str = "1.3.101.113";
const OID_DSA: &str = "1.2.840.10040.4.1";
const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_P384: &str = "1.3.132.0.34";
const OID_P521: &str = "1.3.132.0.35";
const OID_SECP256K1: &str = "1.3.132.0.10";
const OID_PBES2: &str = "1.2.840.113549.1.5.13";

/// Why a structure could not become usable key material.
#[derive(Debug)]
pub(crate) enum MatErr {
    /// The structure is broken.
    Invalid(String),
    /// RSA modulus over [`MAX_RSA_BITS`].
    RsaTooLarge(usize),
}

impl MatErr {
    fn into_key_error(self, origin: &str, what: &str) -> KeyError {
        match self {
            MatErr::Invalid(detail) => KeyError::Invalid {
                origin: origin.to_string(),
                detail: format!("{what}: {detail}"),
            },
            MatErr::RsaTooLarge(bits) => KeyError::RsaTooLarge {
                origin: origin.to_string(),
                bits,
                limit: MAX_RSA_BITS,
            },
        }
    }
}

/// Public key material extracted from a structure, with its SPKI encoding.
pub(crate) struct Extracted {
    pub material: KeyMaterial,
    pub spki_der: Option<Vec<u8>>,
}

impl Extracted {
    fn unusable(kty: &str, reason: impl Into<String>) -> Self {
        Extracted {
            material: KeyMaterial::Unusable {
                kty: kty.to_string(),
                reason: reason.into(),
            },
            spki_der: None,
        }
    }
}

// ---------------------------------------------------------------------------
// Minimal DER reading on top of asn1-rs
// ---------------------------------------------------------------------------

/// One DER element and what follows it.
fn element(input: &[u8]) -> Option<(Any<'_>, &[u8])> {
    Any::from_der(input).ok().map(|(rest, any)| (any, rest))
}

/// One DER element that must fill `input` entirely.
fn whole(input: &[u8]) -> Option<Any<'_>> {
    match element(input) {
        Some((any, [])) => Some(any),
        _ => None,
    }
}

fn is_universal(any: &Any<'_>, tag: Tag) -> bool {
    any.header.class() == Class::Universal && any.header.tag() == tag
}

fn is_context(any: &Any<'_>, number: u32) -> bool {
    any.header.class() == Class::ContextSpecific && any.header.tag().0 == number
}

/// Children of a SEQUENCE.
fn sequence<'a>(any: &Any<'a>) -> Option<Vec<Any<'a>>> {
    if !is_universal(any, Tag::Sequence) || !any.header.is_constructed() {
        return None;
    }
    let mut items = Vec::new();
    let mut rest = any.data;
    while !rest.is_empty() {
        let (item, next) = element(rest)?;
        items.push(item);
        rest = next;
    }
    Some(items)
}

/// A non-negative INTEGER as big-endian bytes without leading zeros.
fn unsigned(any: &Any<'_>) -> Option<Vec<u8>> {
    if !is_universal(any, Tag::Integer) || any.data.is_empty() || any.data[0] & 0x80 != 0 {
        return None;
    }
    Some(strip_leading_zeros(any.data))
}

fn small_int(any: &Any<'_>) -> Option<u64> {
    let v = unsigned(any)?;
    if v.len() > 8 {
        return None;
    }
    Some(v.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

fn oid_string(any: &Any<'_>) -> Option<String> {
    if !is_universal(any, Tag::Oid) {
        return None;
    }
    any.clone().oid().ok().map(|oid| oid.to_id_string())
}

fn octets<'a>(any: &Any<'a>) -> Option<&'a [u8]> {
    if is_universal(any, Tag::OctetString) {
        Some(any.data)
    } else {
        None
    }
}

/// (algorithm OID, parameters element) of an AlgorithmIdentifier.
fn algorithm_identifier<'a>(any: &Any<'a>) -> Option<(String, Option<Any<'a>>)> {
    let items = sequence(any)?;
    let oid = oid_string(items.first()?)?;
    Some((oid, items.get(1).cloned()))
}

fn curve_from_oid(oid: &str) -> Option<Curve> {
    match oid {
        OID_P256 => Some(Curve::P256),
        OID_P384 => Some(Curve::P384),
        OID_P521 => Some(Curve::P521),
        _ => None,
    }
}

fn curve_oid_name(oid: &str) -> String {
    match oid {
        OID_SECP256K1 => "secp256k1 (ES256K)".to_string(),
        other => format!("curve {other}"),
    }
}

// ---------------------------------------------------------------------------
// Building material
// ---------------------------------------------------------------------------

/// RSA material from modulus and exponent (any leading zeros allowed).
pub(crate) fn rsa_material(n: &[u8], e: &[u8]) -> Result<Extracted, MatErr> {
    let n = strip_leading_zeros(n);
    let e = strip_leading_zeros(e);
    if n.is_empty() {
        return Err(MatErr::Invalid("the RSA modulus is zero".into()));
    }
    if e.is_empty() {
        return Err(MatErr::Invalid("the RSA exponent is zero".into()));
    }
    let bits = bit_len(&n);
    if bits > MAX_RSA_BITS {
        return Err(MatErr::RsaTooLarge(bits));
    }
    if e.len() > n.len() {
        return Err(MatErr::Invalid(
            "the RSA exponent is larger than the modulus".into(),
        ));
    }
    let spki_der = RsaPublicKeyComponents {
        n: n.as_slice(),
        e: e.as_slice(),
    }
    .as_der()
    .ok()
    .map(|d| d.as_ref().to_vec());
    Ok(Extracted {
        material: KeyMaterial::Rsa { n, e },
        spki_der,
    })
}

fn ecdsa_verify_alg(curve: Curve) -> &'static signature::EcdsaVerificationAlgorithm {
    match curve {
        Curve::P256 => &signature::ECDSA_P256_SHA256_FIXED,
        Curve::P384 => &signature::ECDSA_P384_SHA384_FIXED,
        Curve::P521 => &signature::ECDSA_P521_SHA512_FIXED,
    }
}

fn ecdsa_signing_alg(curve: Curve) -> &'static EcdsaSigningAlgorithm {
    match curve {
        Curve::P256 => &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        Curve::P384 => &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
        Curve::P521 => &signature::ECDSA_P521_SHA512_FIXED_SIGNING,
    }
}

/// Validate an EC point (compressed or uncompressed) on `curve` with aws-lc-rs
/// and return it uncompressed together with its SPKI.
pub(crate) fn ec_material(curve: Curve, point: &[u8]) -> Result<Extracted, MatErr> {
    let parsed = ParsedPublicKey::new(ecdsa_verify_alg(curve), point)
        .map_err(|_| MatErr::Invalid(format!("the EC point is not a valid {curve} point")))?;
    let spki = parsed
        .as_der()
        .map_err(|_| MatErr::Invalid(format!("cannot encode the {curve} public key")))?;
    let spki = spki.as_ref().to_vec();
    // aws-lc encodes SubjectPublicKeyInfo with the uncompressed point.
    let point = spki_point(&spki)
        .filter(|p| p.len() == 1 + 2 * curve.coordinate_len() && p[0] == 4)
        .ok_or_else(|| MatErr::Invalid(format!("cannot read back the {curve} point")))?;
    Ok(Extracted {
        material: KeyMaterial::Ec { curve, point },
        spki_der: Some(spki),
    })
}

fn spki_point(spki: &[u8]) -> Option<Vec<u8>> {
    let (_, parsed) = SubjectPublicKeyInfo::from_der(spki).ok()?;
    Some(parsed.subject_public_key.data.to_vec())
}

/// Validate an Ed25519 public key and return it with its SPKI.
pub(crate) fn ed25519_material(x: &[u8]) -> Result<Extracted, MatErr> {
    if x.len() != 32 {
        return Err(MatErr::Invalid(format!(
            "an Ed25519 public key is 32 bytes, this one is {}",
            x.len()
        )));
    }
    let parsed = ParsedPublicKey::new(&signature::ED25519, x)
        .map_err(|_| MatErr::Invalid("not a valid Ed25519 public key".into()))?;
    let spki = parsed.as_der().ok().map(|d| d.as_ref().to_vec());
    Ok(Extracted {
        material: KeyMaterial::Ed25519 { x: x.to_vec() },
        spki_der: spki,
    })
}

// ---------------------------------------------------------------------------
// Structures
// ---------------------------------------------------------------------------

/// SubjectPublicKeyInfo (PEM `PUBLIC KEY`, certificates, DER).
fn from_spki_parsed(spki: &SubjectPublicKeyInfo<'_>) -> Result<Extracted, MatErr> {
    let oid = spki.algorithm.algorithm.to_id_string();
    let key_bits: &[u8] = &spki.subject_public_key.data;
    let mut out = match oid.as_str() {
        OID_RSA | OID_RSA_PSS => {
            let (n, e) = rsa_public_pkcs1(key_bits)
                .ok_or_else(|| MatErr::Invalid("malformed RSA public key".into()))?;
            rsa_material(&n, &e)?
        }
        OID_EC => {
            let curve_oid = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(oid_string)
                .ok_or_else(|| {
                    MatErr::Invalid("EC key without a named curve (explicit parameters)".into())
                })?;
            match curve_from_oid(&curve_oid) {
                Some(curve) => ec_material(curve, key_bits)?,
                None => Extracted::unusable(
                    "EC",
                    format!(
                        "{} is not a JWS curve (P-256, P-384, P-521)",
                        curve_oid_name(&curve_oid)
                    ),
                ),
            }
        }
        OID_ED25519 => ed25519_material(key_bits)?,
        OID_X25519 | OID_X448 => Extracted::unusable(
            "OKP",
            "X25519/X448 is a key-agreement key; it cannot verify signatures",
        ),
        OID_ED448 => Extracted::unusable("OKP", "Ed448 is not supported"),
        OID_DSA => Extracted::unusable("DSA", "DSA keys are not used by JWS"),
        other => Extracted::unusable("unknown", format!("unknown key algorithm {other}")),
    };
    if !matches!(out.material, KeyMaterial::Unusable { .. }) {
        // Keep the exact SPKI as found, for algorithm-confusion detection.
        out.spki_der = Some(spki.raw.to_vec());
    }
    Ok(out)
}

fn from_spki(der: &[u8]) -> Option<Result<Extracted, MatErr>> {
    let (rest, spki) = SubjectPublicKeyInfo::from_der(der).ok()?;
    if !rest.is_empty() {
        return None;
    }
    Some(from_spki_parsed(&spki))
}

/// PKCS#1 RSAPublicKey: SEQUENCE { n INTEGER, e INTEGER }.
fn rsa_public_pkcs1(der: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let items = sequence(&whole(der)?)?;
    if items.len() != 2 {
        return None;
    }
    Some((unsigned(&items[0])?, unsigned(&items[1])?))
}

/// PKCS#1 RSAPrivateKey: SEQUENCE { version, n, e, d, p, q, dp, dq, qi, ... }.
fn rsa_private_pkcs1(der: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let items = sequence(&whole(der)?)?;
    if items.len() < 9 || items.iter().take(9).any(|i| unsigned(i).is_none()) {
        return None;
    }
    if small_int(&items[0])? > 1 {
        return None;
    }
    Some((unsigned(&items[1])?, unsigned(&items[2])?))
}

/// PKCS#8 PrivateKeyInfo / OneAsymmetricKey. `None` when `der` is not one.
fn from_pkcs8(der: &[u8]) -> Option<Result<Extracted, MatErr>> {
    let items = sequence(&whole(der)?)?;
    if items.len() < 3 || small_int(&items[0])? > 1 {
        return None;
    }
    let (oid, params) = algorithm_identifier(&items[1])?;
    let private = octets(&items[2])?;
    Some(match oid.as_str() {
        OID_RSA | OID_RSA_PSS => match rsa_private_pkcs1(private) {
            Some((n, e)) => rsa_material(&n, &e),
            None => Err(MatErr::Invalid("malformed RSA private key".into())),
        },
        OID_EC => {
            let curve_oid = params.as_ref().and_then(oid_string);
            match curve_oid.as_deref().map(|o| (o, curve_from_oid(o))) {
                Some((_, Some(curve))) => {
                    match EcdsaKeyPair::from_pkcs8(ecdsa_signing_alg(curve), der) {
                        Ok(pair) => ec_material(curve, pair.public_key().as_ref()),
                        Err(_) => Err(MatErr::Invalid(format!("invalid {curve} private key"))),
                    }
                }
                Some((o, None)) => Ok(Extracted::unusable(
                    "EC",
                    format!(
                        "{} is not a JWS curve (P-256, P-384, P-521)",
                        curve_oid_name(o)
                    ),
                )),
                None => Err(MatErr::Invalid(
                    "EC private key without a named curve".into(),
                )),
            }
        }
        OID_ED25519 => match Ed25519KeyPair::from_pkcs8_maybe_unchecked(der) {
            Ok(pair) => ed25519_material(pair.public_key().as_ref()),
            Err(_) => Err(MatErr::Invalid("invalid Ed25519 private key".into())),
        },
        OID_X25519 | OID_X448 => Ok(Extracted::unusable(
            "OKP",
            "X25519/X448 is a key-agreement key; it cannot sign or verify",
        )),
        OID_ED448 => Ok(Extracted::unusable("OKP", "Ed448 is not supported")),
        OID_DSA => Ok(Extracted::unusable("DSA", "DSA keys are not used by JWS")),
        other => Ok(Extracted::unusable(
            "unknown",
            format!("unknown private key algorithm {other}"),
        )),
    })
}

/// PKCS#8 EncryptedPrivateKeyInfo: SEQUENCE { AlgorithmIdentifier, OCTET STRING }.
fn is_encrypted_pkcs8(der: &[u8]) -> bool {
    let Some(items) = whole(der).as_ref().and_then(sequence) else {
        return false;
    };
    items.len() == 2
        && octets(&items[1]).is_some()
        && algorithm_identifier(&items[0])
            .is_some_and(|(oid, _)| oid == OID_PBES2 || oid.starts_with("1.2.840.113549.1.12.1."))
}

/// SEC1 ECPrivateKey: SEQUENCE { 1, OCTET STRING, [0] curve OPTIONAL, [1] point OPTIONAL }.
fn from_sec1(der: &[u8]) -> Option<Result<Extracted, MatErr>> {
    let items = sequence(&whole(der)?)?;
    if items.len() < 2 || small_int(&items[0])? != 1 {
        return None;
    }
    let scalar = octets(&items[1])?;
    let curve_oid = items
        .iter()
        .skip(2)
        .find(|i| is_context(i, 0))
        .and_then(|tagged| element(tagged.data))
        .and_then(|(inner, _)| oid_string(&inner));
    let curve = match curve_oid.as_deref() {
        Some(oid) => match curve_from_oid(oid) {
            Some(c) => c,
            None => {
                return Some(Ok(Extracted::unusable(
                    "EC",
                    format!(
                        "{} is not a JWS curve (P-256, P-384, P-521)",
                        curve_oid_name(oid)
                    ),
                )));
            }
        },
        // No parameters: the scalar's length is the best hint there is.
        None => match scalar.len() {
            32 => Curve::P256,
            48 => Curve::P384,
            65 | 66 => Curve::P521,
            _ => {
                return Some(Err(MatErr::Invalid(
                    "EC private key without a named curve".into(),
                )));
            }
        },
    };
    Some(
        match EcdsaKeyPair::from_private_key_der(ecdsa_signing_alg(curve), der) {
            Ok(pair) => ec_material(curve, pair.public_key().as_ref()),
            Err(_) => Err(MatErr::Invalid(format!("invalid {curve} private key"))),
        },
    )
}

/// The key of a JWK's first `x5c` certificate (base64 DER, RFC 7517 §4.7).
pub(crate) fn x5c_material(first: &str) -> Result<Extracted, MatErr> {
    use base64::Engine;
    let der = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(first.trim_end_matches('='))
        .map_err(|_| MatErr::Invalid("its \"x5c\" certificate is not base64".into()))?;
    match from_certificate(&der) {
        Some(r) => r.map(|(ex, _)| ex),
        None => Err(MatErr::Invalid(
            "its \"x5c\" entry is not an X.509 certificate".into(),
        )),
    }
}

/// An X.509 certificate: the key and a printable subject.
fn from_certificate(der: &[u8]) -> Option<Result<(Extracted, String), MatErr>> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let subject = sanitize(&cert.subject().to_string(), 80);
    Some(from_spki_parsed(cert.public_key()).map(|ex| (ex, subject)))
}

fn from_csr(der: &[u8]) -> Option<Result<Extracted, MatErr>> {
    let (_, csr) = X509CertificationRequest::from_der(der).ok()?;
    Some(from_spki_parsed(
        &csr.certification_request_info.subject_pki,
    ))
}

// ---------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------

/// What kind of structure a candidate came from, for its label.
enum Form {
    PublicKey,
    Pkcs1Public,
    Certificate(String),
    Csr,
    PrivateKey,
}

fn candidate(
    ex: Extracted,
    form: Form,
    source: &str,
    tag: &str,
    raw_text: Option<Vec<u8>>,
) -> Candidate {
    let desc = ex.material.describe();
    let what = match (&ex.material, &form) {
        (KeyMaterial::Unusable { reason, .. }, _) => format!("unusable key: {reason}"),
        (_, Form::PublicKey) => format!("{desc} public key"),
        (_, Form::Pkcs1Public) => format!("{desc} public key, PKCS#1"),
        (_, Form::Certificate(subject)) => format!("certificate {subject}, {desc}"),
        (_, Form::Csr) => format!("certificate request, {desc}"),
        (_, Form::PrivateKey) => format!("public part of {desc} private key"),
    };
    let from_private_key = matches!(form, Form::PrivateKey);
    Candidate {
        label: format!("{source}{tag} ({what})"),
        source: source.to_string(),
        kid: None,
        alg: None,
        key_use: None,
        thumbprint: thumbprint(&ex.material),
        from_private_key,
        from_set: false,
        raw_text: if from_private_key { None } else { raw_text },
        secret_is_key: None,
        pem_layout: None,
        spki_der: ex.spki_der,
        material: ex.material,
    }
}

/// Try every DER structure jwtai knows. `None` if nothing matches.
pub(crate) fn parse_der_file(der: &[u8], source: &str) -> Option<Result<Candidate, KeyError>> {
    let wrap = |r: Result<Extracted, MatErr>, form: Form, what: &str| {
        r.map(|ex| candidate(ex, form, source, "", None))
            .map_err(|e| e.into_key_error(source, what))
    };
    if let Some(r) = from_certificate(der) {
        return Some(
            r.map(|(ex, subject)| candidate(ex, Form::Certificate(subject), source, "", None))
                .map_err(|e| e.into_key_error(source, "certificate")),
        );
    }
    if let Some(r) = from_spki(der) {
        return Some(wrap(r, Form::PublicKey, "public key"));
    }
    if let Some(r) = from_pkcs8(der) {
        return Some(wrap(r, Form::PrivateKey, "PKCS#8 private key"));
    }
    if is_encrypted_pkcs8(der) {
        return Some(Err(KeyError::Encrypted {
            origin: source.to_string(),
        }));
    }
    if let Some((n, e)) = rsa_public_pkcs1(der) {
        return Some(wrap(
            rsa_material(&n, &e),
            Form::Pkcs1Public,
            "RSA public key",
        ));
    }
    if let Some((n, e)) = rsa_private_pkcs1(der) {
        return Some(wrap(
            rsa_material(&n, &e),
            Form::PrivateKey,
            "RSA private key",
        ));
    }
    if let Some(r) = from_sec1(der) {
        return Some(wrap(r, Form::PrivateKey, "EC private key"));
    }
    if let Some(r) = from_csr(der) {
        return Some(wrap(r, Form::Csr, "certificate request"));
    }
    None
}

/// Byte spans of the PEM blocks in `text`, in order.
fn pem_block_spans(text: &[u8]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut pos = 0;
    while let Some(start) = find(&text[pos..], b"-----BEGIN ").map(|i| i + pos) {
        let Some(end_marker) = find(&text[start..], b"-----END ").map(|i| i + start) else {
            break;
        };
        // The END line closes with "-----" after its label.
        let after_label = end_marker + b"-----END ".len();
        let Some(close) = find(&text[after_label..], b"-----").map(|i| i + after_label + 5) else {
            break;
        };
        let mut end = close;
        if text.get(end) == Some(&b'\r') {
            end += 1;
        }
        if text.get(end) == Some(&b'\n') {
            end += 1;
        }
        spans.push((start, end));
        pos = end;
    }
    spans
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A file with one or more PEM blocks.
pub(crate) fn parse_pem_file(bytes: &[u8], source: &str) -> Result<JwkSet, KeyError> {
    // Copied from an environment variable, a JSON string or a .env file: the
    // key is all there, so it is read, and the layout is named with the fix
    // (`pem_layout`) rather than the whole diagnosis refused.
    if let Some(unescaped) = unescape_line_breaks(bytes) {
        let mut set = parse_pem_file(&unescaped, source)?;
        for key in &mut set.keys {
            key.pem_layout = Some(ESCAPED_LINE_BREAKS);
            if let Some(open) = key.label.strip_suffix(')') {
                key.label = format!("{open}; its line breaks written as `\\n`)");
            }
        }
        return Ok(set);
    }
    let blocks = pem::parse_many(bytes).map_err(|e| KeyError::Invalid {
        origin: source.to_string(),
        detail: if let Some(layout) = pem_layout(bytes) {
            format!("malformed PEM: {layout}; OpenSSL-based verifiers refuse it too. Restore the layout: the `-----BEGIN …-----` line alone, the base64 in lines from the first column, then the `-----END …-----` line")
        } else {
            format!("malformed PEM: {}", pem_error_text(&e))
        },
    })?;
    if blocks.is_empty() {
        return Err(KeyError::Invalid {
            origin: source.to_string(),
            detail: "has a -----BEGIN line but no complete PEM block".to_string(),
        });
    }
    if blocks.len() > MAX_KEYS_IN_SET {
        return Err(KeyError::TooManyPemBlocks {
            origin: source.to_string(),
            count: blocks.len(),
            limit: MAX_KEYS_IN_SET,
        });
    }
    let spans = pem_block_spans(bytes);
    let spans_match = spans.len() == blocks.len();
    let key_blocks = blocks.iter().filter(|b| is_key_label(b.tag())).count();
    let mut keys = Vec::new();
    let mut skipped = Vec::new();
    let mut key_index = 0;
    for (i, block) in blocks.iter().enumerate() {
        let label = block.tag();
        if !is_key_label(label) {
            if label == "OPENSSH PRIVATE KEY" {
                // Not `ssh-keygen -p -m PKCS8 -f FILE`: that rewrites the
                // user's private key in place. `-e` only reads it (the public
                // part, which is stored unencrypted, needs no passphrase).
                let kind = openssh_key_type(block.contents()).unwrap_or_default();
                let kind_note = if kind.is_empty() {
                    String::new()
                } else {
                    format!(" (`{kind}`)")
                };
                let how = if kind.contains("ed25519") {
                    super::ssh_public_to_pem(&kind, "FILE")
                } else {
                    "`ssh-keygen -e -m PKCS8 -f FILE > public.pem` writes it as PEM (it reads FILE and leaves it as it is), then pass --key public.pem".to_string()
                };
                return Err(KeyError::Unsupported {
                    origin: source.to_string(),
                    detail: format!(
                        "an OpenSSH private key{kind_note}, a format jwtai does not read; verifying needs only its public key: {how}"
                    ),
                });
            }
            if label == "ENCRYPTED PRIVATE KEY" {
                return Err(KeyError::Encrypted {
                    origin: source.to_string(),
                });
            }
            skipped.push(sanitize(label, 40));
            continue;
        }
        key_index += 1;
        let tag = if key_blocks > 1 {
            format!(" #{key_index}")
        } else {
            String::new()
        };
        let what = format!("PEM block {} ({})", i + 1, label);
        let encrypted = block
            .headers()
            .get("Proc-Type")
            .is_some_and(|v| v.contains("ENCRYPTED"));
        if encrypted {
            return Err(KeyError::Encrypted {
                origin: source.to_string(),
            });
        }
        let raw = if blocks.len() == 1 {
            Some(bytes.to_vec())
        } else if spans_match {
            let (s, e) = spans[i];
            Some(bytes[s..e].to_vec())
        } else {
            None
        };
        let der = block.contents();
        let invalid = |detail: &str| KeyError::Invalid {
            origin: source.to_string(),
            detail: format!("{what}: {detail}"),
        };
        let made = match label {
            "PUBLIC KEY" => from_spki(der)
                .ok_or_else(|| invalid("not a valid SubjectPublicKeyInfo"))?
                .map(|ex| candidate(ex, Form::PublicKey, source, &tag, raw)),
            "RSA PUBLIC KEY" => {
                let (n, e) = rsa_public_pkcs1(der)
                    .ok_or_else(|| invalid("not a valid PKCS#1 RSAPublicKey"))?;
                rsa_material(&n, &e).map(|ex| candidate(ex, Form::Pkcs1Public, source, &tag, raw))
            }
            "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => from_certificate(der)
                .ok_or_else(|| invalid("not a valid X.509 certificate"))?
                .map(|(ex, subject)| candidate(ex, Form::Certificate(subject), source, &tag, raw)),
            "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => from_csr(der)
                .ok_or_else(|| invalid("not a valid certificate request"))?
                .map(|ex| candidate(ex, Form::Csr, source, &tag, raw)),
            "PRIVATE KEY" => from_pkcs8(der)
                .ok_or_else(|| invalid("not a valid PKCS#8 private key"))?
                .map(|ex| candidate(ex, Form::PrivateKey, source, &tag, None)),
            "RSA PRIVATE KEY" => {
                let (n, e) = rsa_private_pkcs1(der)
                    .ok_or_else(|| invalid("not a valid PKCS#1 RSAPrivateKey"))?;
                rsa_material(&n, &e).map(|ex| candidate(ex, Form::PrivateKey, source, &tag, None))
            }
            "EC PRIVATE KEY" => from_sec1(der)
                .ok_or_else(|| invalid("not a valid SEC1 ECPrivateKey"))?
                .map(|ex| candidate(ex, Form::PrivateKey, source, &tag, None)),
            _ => continue,
        };
        keys.push(made.map_err(|e| e.into_key_error(source, &what))?);
    }
    if keys.is_empty() {
        let found = if skipped.is_empty() {
            "nothing".to_string()
        } else {
            skipped.join(", ")
        };
        return Err(KeyError::NotAKey {
            origin: source.to_string(),
            detail: format!("no key in its PEM blocks (found {found})"),
        });
    }
    if let Some(layout) = pem_layout(bytes) {
        for key in &mut keys {
            key.pem_layout = Some(layout);
        }
    }
    Ok(JwkSet {
        keys,
        problems: Vec::new(),
    })
}

/// The [`pem_layout`] of PEM text whose line breaks were written as `\n`.
pub const ESCAPED_LINE_BREAKS: &str = "its line breaks are written as `\\n` (a backslash and an n, as an environment variable, a JSON string or a .env file carries them)";

/// PEM text with its line breaks written as `\n` (or `\r\n`, or `\\n`
/// escaped twice), and `\/` for `/` as some JSON encoders write it: the
/// text with real line breaks. `None` when the text has real ones.
fn unescape_line_breaks(bytes: &[u8]) -> Option<Vec<u8>> {
    // `-----`, then one or more backslashes, then `n` or `r`.
    let escaped = bytes.windows(5).enumerate().any(|(i, w)| {
        w == b"-----" && {
            let rest = &bytes[i + 5..];
            let slashes = rest.iter().take_while(|&&b| b == b'\\').count();
            slashes > 0 && matches!(rest.get(slashes), Some(b'n' | b'r'))
        }
    });
    let begin = find(bytes, b"-----BEGIN ")?;
    let end = find(bytes, b"-----END ")?;
    // Real line breaks inside the block: not this case.
    if !escaped || bytes[begin..end].contains(&b'\n') {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let mut j = i;
        while bytes.get(j) == Some(&b'\\') {
            j += 1;
        }
        match bytes.get(j) {
            Some(b'n') => out.push(b'\n'),
            Some(b'r') => {}
            Some(b'/') => out.push(b'/'),
            _ => {
                out.extend_from_slice(&bytes[i..j]);
                i = j;
                continue;
            }
        }
        i = j + 1;
    }
    Some(out)
}

/// What is off in how a PEM file is laid out, when the pem crate reads it
/// but OpenSSL (node's crypto, Ruby, PHP, the `openssl` command) does not:
/// OpenSSL wants the `-----BEGIN …-----` line on its own, then base64 lines
/// starting at the first column, with no blank line until `-----END …-----`.
fn pem_layout(bytes: &[u8]) -> Option<&'static str> {
    let text = String::from_utf8_lossy(bytes);
    let mut inside = false;
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("-----BEGIN ") {
            // Whatever follows the BEGIN line's closing dashes on the same
            // line is the body: its line breaks are gone.
            let closed = rest.find("-----").map_or(rest.len(), |i| i + 5);
            if !rest[closed..].trim().is_empty() {
                return Some(
                    "its line breaks were turned into spaces or removed (as a one-line environment variable or config value carries it)",
                );
            }
            inside = true;
        } else if trimmed.starts_with("-----END ") {
            inside = false;
        } else if inside && trimmed.is_empty() {
            return Some("it has blank lines inside the PEM block");
        }
        if (inside || trimmed.starts_with("-----")) && line.starts_with([' ', '\t']) {
            return Some("its lines are indented (as copied from an indented YAML or code block)");
        }
    }
    None
}

/// The key type (`ssh-rsa`, `ssh-ed25519`, `ecdsa-sha2-nistp256`) of an
/// `openssh-key-v1` private key: the public key blob after the cipher, KDF,
/// KDF options and key count is stored unencrypted and starts with it.
fn openssh_key_type(blob: &[u8]) -> Option<String> {
    /// An SSH wire `string`: a big-endian u32 length, then that many bytes.
    fn string(rest: &mut &[u8]) -> Option<Vec<u8>> {
        let len = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let value = rest.get(4..4usize.checked_add(len)?)?.to_vec();
        *rest = &rest[4 + len..];
        Some(value)
    }
    let mut rest = blob.strip_prefix(b"openssh-key-v1\0")?;
    for _ in 0..3 {
        string(&mut rest)?; // cipher, KDF name, KDF options
    }
    rest = rest.get(4..)?; // the number of keys
    let public = string(&mut rest)?;
    let mut public = public.as_slice();
    let kind = string(&mut public)?;
    Some(sanitize(std::str::from_utf8(&kind).ok()?, 40))
}

fn is_key_label(label: &str) -> bool {
    matches!(
        label,
        "PUBLIC KEY"
            | "RSA PUBLIC KEY"
            | "CERTIFICATE"
            | "X509 CERTIFICATE"
            | "TRUSTED CERTIFICATE"
            | "CERTIFICATE REQUEST"
            | "NEW CERTIFICATE REQUEST"
            | "PRIVATE KEY"
            | "RSA PRIVATE KEY"
            | "EC PRIVATE KEY"
    )
}

/// The pem crate's error text never contains the data, but keep it short.
fn pem_error_text(e: &pem::PemError) -> String {
    sanitize(&e.to_string(), 120)
}

/// The PKCS#1 RSAPrivateKey inside a PKCS#8 RSA key (for writing traditional
/// `RSA PRIVATE KEY` PEM in tests and fixtures).
pub(crate) fn pkcs8_inner_private_key(der: &[u8]) -> Option<Vec<u8>> {
    let items = sequence(&whole(der)?)?;
    Some(octets(items.get(2)?)?.to_vec())
}
