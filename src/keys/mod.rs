//! Key material loading: PEM, DER, certificates, JWK and JWK Sets.
//!
//! Every way a user can hand jwtai a verification key ends up here and comes
//! out as a list of [`Candidate`]s: the key material plus safe-to-print
//! metadata. The format is detected from the structure of the bytes (PEM
//! framing and labels, JSON shape, DER parse), never from what the user typed.
//!
//! Nothing in this module puts key bytes or secrets into an error message or a
//! label.

mod der;
mod jwk;

use std::fmt;
use std::io::Read;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretSlice};

pub use der::ESCAPED_LINE_BREAKS;
pub(crate) use der::pkcs8_inner_private_key;
pub use jwk::parse_jwk_set;

/// Largest key file read, in bytes.
pub const MAX_KEY_FILE_BYTES: u64 = 1024 * 1024;
/// Most keys read from one JWK Set or PEM file, and from all `--key` files together.
pub const MAX_KEYS_IN_SET: usize = 1000;
/// Largest RSA modulus accepted, in bits.
pub const MAX_RSA_BITS: usize = 16384;

/// The public (or, for HMAC, secret) part of a key, ready for verification.
#[derive(Clone, Debug)]
pub enum KeyMaterial {
    /// A shared secret for HS256/384/512. Debug output is redacted.
    Hmac(SecretSlice<u8>),
    /// RSA public key: big-endian unsigned, no leading zeros.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// EC public key: uncompressed SEC1 point `0x04 || X || Y`.
    Ec { curve: Curve, point: Vec<u8> },
    /// Ed25519 public key (32 bytes).
    Ed25519 { x: Vec<u8> },
    /// A key jwtai understood well enough to list, but which cannot verify a
    /// JWS signature (secret in a public set, X25519, secp256k1, missing
    /// members, ...).
    Unusable { kty: String, reason: String },
}

/// The NIST curves JWS uses with ECDSA (RFC 7518 §3.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    /// The JWK `crv` name.
    pub fn name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
        }
    }

    /// Lookup by JWK `crv` name (exact).
    pub fn from_name(name: &str) -> Option<Curve> {
        match name {
            "P-256" => Some(Curve::P256),
            "P-384" => Some(Curve::P384),
            "P-521" => Some(Curve::P521),
            _ => None,
        }
    }

    /// Length in bytes of one coordinate (and of the private scalar).
    pub fn coordinate_len(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
            Curve::P521 => 66,
        }
    }

    /// The ECDSA JWS algorithm name that uses this curve.
    pub fn jws_alg(self) -> &'static str {
        match self {
            Curve::P256 => "ES256",
            Curve::P384 => "ES384",
            Curve::P521 => "ES512",
        }
    }
}

impl fmt::Display for Curve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One key jwtai may try a signature against.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// Safe to print, never secret bytes, e.g. `pub.pem (RSA 2048-bit public key)`.
    pub label: String,
    /// File path or flag name the key came from.
    pub source: String,
    pub kid: Option<String>,
    pub alg: Option<String>,
    pub key_use: Option<String>,
    /// RFC 7638 SHA-256 thumbprint, base64url.
    pub thumbprint: Option<String>,
    /// The public part was derived from a private key the user supplied.
    pub from_private_key: bool,
    /// The key came from a JWK Set.
    pub from_set: bool,
    /// Exact bytes of the PEM text as read (whole file for a single-block file,
    /// the block's own text otherwise), for algorithm-confusion detection.
    /// Only for public keys and certificates; `None` for private keys and JWK.
    pub raw_text: Option<Vec<u8>>,
    /// For a shared secret: what asymmetric key its bytes are (a PEM or JWK
    /// passed as "the secret"), e.g. `RSA 2048-bit public key`. HMAC with it
    /// is algorithm confusion: the public key is no secret.
    pub secret_is_key: Option<String>,
    /// How the PEM text this key came from is laid out in a way jwtai reads
    /// but OpenSSL-based verifiers reject (line breaks turned into spaces,
    /// indented lines, blank lines), e.g. `its line breaks were turned into
    /// spaces`; `None` for well-formed PEM and every other source.
    pub pem_layout: Option<&'static str>,
    /// SubjectPublicKeyInfo DER for asymmetric keys.
    pub spki_der: Option<Vec<u8>>,
    pub material: KeyMaterial,
}

impl Candidate {
    /// Whether this candidate can verify anything at all.
    pub fn is_usable(&self) -> bool {
        !matches!(self.material, KeyMaterial::Unusable { .. })
    }
}

/// A parsed JWK Set (or any key source, see [`load_key_file_with_problems`]).
#[derive(Clone, Debug, Default)]
pub struct JwkSet {
    /// Every key, usable or not, in source order.
    pub keys: Vec<Candidate>,
    /// Problems with individual keys: unusable keys, `use` = `enc`, duplicate
    /// `kid`, odd encodings.
    pub problems: Vec<JwkProblem>,
}

impl JwkSet {
    /// Records that the set holds no key at all (`jwks-empty`).
    pub fn note_if_empty(&mut self) {
        if self.keys.is_empty() && !self.problems.iter().any(|p| p.kind == ProblemKind::Empty) {
            self.problems.push(JwkProblem {
                kind: ProblemKind::Empty,
                index: 0,
                kid: None,
                message: "the set has no keys, so no token can verify against it".to_string(),
            });
        }
    }
}

/// A problem with one key of a set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JwkProblem {
    pub kind: ProblemKind,
    /// Position of the key in the set (0-based).
    pub index: usize,
    pub kid: Option<String>,
    pub message: String,
}

/// What sort of problem a [`JwkProblem`] is, for the findings it maps to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProblemKind {
    /// The key cannot (or must not) verify signatures: `use: enc`, unsupported
    /// `kty`/`crv`, missing members, `key_ops` without `verify`.
    Unusable,
    /// Another key of the set has the same `kid`.
    DuplicateKid,
    /// The set's own shape is off (a bare array instead of `{"keys": [...]}`).
    Format,
    /// The set holds no key at all (`{"keys": []}`).
    Empty,
    /// A member of the set carries private key members (`d`, `p`, `q`...):
    /// a published set that holds one hands out the signing key.
    PrivateKey,
    /// An RSA key under 2048 bits (`jwtai jwks` only).
    WeakKey,
    /// A `kid` that would inject into a path, query or URL (`jwtai jwks` only).
    SuspiciousKid,
}

impl ProblemKind {
    /// The finding code (`findings.md`) that says the same of a token's key.
    pub fn code(self) -> &'static str {
        match self {
            ProblemKind::Unusable => "jwks-key-unusable",
            ProblemKind::DuplicateKid => "jwks-duplicate-kid",
            ProblemKind::Format => "jwks-invalid",
            ProblemKind::Empty => "jwks-empty",
            ProblemKind::PrivateKey => "jwks-private-key",
            ProblemKind::WeakKey => "key-too-weak",
            ProblemKind::SuspiciousKid => "kid-suspicious",
        }
    }
}

/// Why a key source could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{origin}: cannot read: {reason}")]
    Read { origin: String, reason: String },
    #[error("{origin}: file is {size} bytes, over the {limit}-byte limit for key files")]
    TooLarge {
        origin: String,
        size: u64,
        limit: u64,
    },
    #[error("{origin}: not a key: {detail}")]
    NotAKey { origin: String, detail: String },
    #[error("{origin}: {detail}")]
    Invalid { origin: String, detail: String },
    #[error("{origin}: {detail}")]
    Unsupported { origin: String, detail: String },
    #[error(
        "{origin}: the private key is encrypted; decrypt it first (e.g. `openssl pkey -in FILE -out plain.pem`)"
    )]
    Encrypted { origin: String },
    #[error("{origin}: the JWK Set has {count} keys; jwtai reads at most {limit}")]
    TooManyKeys {
        origin: String,
        count: usize,
        limit: usize,
    },
    #[error("{origin}: the file has {count} PEM blocks; jwtai reads at most {limit}")]
    TooManyPemBlocks {
        origin: String,
        count: usize,
        limit: usize,
    },
    #[error(
        "{origin}: RSA modulus of {bits} bits is over the {limit}-bit limit; refusing an absurd key"
    )]
    RsaTooLarge {
        origin: String,
        bits: usize,
        limit: usize,
    },
}

impl KeyMaterial {
    /// Short, safe description: "RSA 2048-bit", "EC P-256", "Ed25519",
    /// "HMAC secret (32 bytes)".
    pub fn describe(&self) -> String {
        match self {
            KeyMaterial::Hmac(s) => format!("HMAC secret ({} bytes)", s.expose_secret().len()),
            KeyMaterial::Rsa { n, .. } => format!("RSA {}-bit", bit_len(n)),
            KeyMaterial::Ec { curve, .. } => format!("EC {curve}"),
            KeyMaterial::Ed25519 { .. } => "Ed25519".to_string(),
            KeyMaterial::Unusable { kty, .. } => format!("unusable {kty} key"),
        }
    }

    /// RSA modulus size in bits.
    pub fn rsa_bits(&self) -> Option<usize> {
        match self {
            KeyMaterial::Rsa { n, .. } => Some(bit_len(n)),
            _ => None,
        }
    }

    /// The JWK `kty` of this material.
    pub fn kty(&self) -> &str {
        match self {
            KeyMaterial::Hmac(_) => "oct",
            KeyMaterial::Rsa { .. } => "RSA",
            KeyMaterial::Ec { .. } => "EC",
            KeyMaterial::Ed25519 { .. } => "OKP",
            KeyMaterial::Unusable { kty, .. } => kty,
        }
    }
}

/// Number of significant bits of a big-endian unsigned integer.
pub(crate) fn bit_len(be: &[u8]) -> usize {
    let mut i = 0;
    while i < be.len() && be[i] == 0 {
        i += 1;
    }
    match be.get(i) {
        None => 0,
        Some(&first) => (be.len() - i - 1) * 8 + (8 - first.leading_zeros() as usize),
    }
}

/// Strip leading zero bytes (keeps at least nothing: zero becomes empty).
pub(crate) fn strip_leading_zeros(be: &[u8]) -> Vec<u8> {
    let start = be.iter().position(|&b| b != 0).unwrap_or(be.len());
    be[start..].to_vec()
}

/// RFC 7638 JWK thumbprint (SHA-256, base64url) of the material's required
/// members. `None` for unusable keys.
pub fn thumbprint(material: &KeyMaterial) -> Option<String> {
    let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
    // Members in lexicographic order, no whitespace (RFC 7638 §3.2). Every
    // value is base64url or a fixed name, so no JSON escaping is needed.
    let canonical = match material {
        KeyMaterial::Rsa { n, e } => {
            format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, b64(e), b64(n))
        }
        KeyMaterial::Ec { curve, point } => {
            let len = curve.coordinate_len();
            if point.len() != 1 + 2 * len {
                return None;
            }
            format!(
                r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
                curve.name(),
                b64(&point[1..1 + len]),
                b64(&point[1 + len..])
            )
        }
        KeyMaterial::Ed25519 { x } => {
            format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, b64(x))
        }
        KeyMaterial::Hmac(k) => {
            format!(r#"{{"k":"{}","kty":"oct"}}"#, b64(k.expose_secret()))
        }
        KeyMaterial::Unusable { .. } => return None,
    };
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes());
    Some(b64(digest.as_ref()))
}

/// A candidate for a shared secret given directly (`--secret`, `--secret-file`).
/// `label` must not contain the secret.
pub fn secret_candidate(bytes: Vec<u8>, label: String) -> Candidate {
    let material = KeyMaterial::Hmac(SecretSlice::from(bytes));
    Candidate {
        // An unkeyed hash of a secret lets anyone test guesses offline: none.
        thumbprint: None,
        source: label.clone(),
        label,
        kid: None,
        alg: None,
        key_use: None,
        from_private_key: false,
        from_set: false,
        raw_text: None,
        secret_is_key: None,
        pem_layout: None,
        spki_der: None,
        material,
    }
}

/// Load every key in a `--key PATH` file.
pub fn load_key_file(path: &Path) -> Result<Vec<Candidate>, KeyError> {
    load_key_file_with_problems(path).map(|set| set.keys)
}

/// Like [`load_key_file`], keeping the per-key problems (JWK Sets: `use`=`enc`,
/// duplicate `kid`, unusable keys).
pub fn load_key_file_with_problems(path: &Path) -> Result<JwkSet, KeyError> {
    let origin = path.display().to_string();
    let bytes = read_limited(path, &origin)?;
    parse_key_bytes_with_problems(&bytes, &origin)
}

/// Parse key bytes from any supported format. `source` names them in labels
/// and errors.
pub fn parse_key_bytes(bytes: &[u8], source: &str) -> Result<Vec<Candidate>, KeyError> {
    parse_key_bytes_with_problems(bytes, source).map(|set| set.keys)
}

/// Like [`parse_key_bytes`], keeping the per-key problems.
pub fn parse_key_bytes_with_problems(bytes: &[u8], source: &str) -> Result<JwkSet, KeyError> {
    if bytes.len() as u64 > MAX_KEY_FILE_BYTES {
        return Err(KeyError::TooLarge {
            origin: source.to_string(),
            size: bytes.len() as u64,
            limit: MAX_KEY_FILE_BYTES,
        });
    }
    let trimmed = trim_ascii_and_bom(bytes);
    if trimmed.is_empty() {
        return Err(KeyError::NotAKey {
            origin: source.to_string(),
            detail: "the file is empty".to_string(),
        });
    }
    if trimmed.first() == Some(&b'{') || trimmed.first() == Some(&b'[') {
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(trimmed) {
            if let Some(set) = jwk::certificate_map(&value, source) {
                return set;
            }
            return jwk::parse_json_value(value, source, true);
        }
    }
    if contains(bytes, b"-----BEGIN ") {
        return der::parse_pem_file(bytes, source);
    }
    if let Some(result) = der::parse_der_file(bytes, source) {
        return result.map(|c| JwkSet {
            keys: vec![c],
            problems: Vec::new(),
        });
    }
    let mut detail = String::from("no PEM block, not JSON, not DER");
    if trimmed.first() == Some(&b'{') || trimmed.first() == Some(&b'[') {
        detail = "looks like JSON but does not parse as JSON".to_string();
    } else if let Some(what) = foreign_key_format(bytes, trimmed) {
        detail = what;
    } else if looks_like_bare_base64(trimmed) {
        detail.push_str(
            " (it looks like base64 without the -----BEGIN/END----- lines; add them, or pass the secret with --secret-file)",
        );
    } else if (8..=512).contains(&trimmed.len()) && trimmed.iter().all(u8::is_ascii_graphic) {
        detail.push_str(": one word of text; if it is the HMAC secret, pass it with --secret-file");
    }
    Err(KeyError::NotAKey {
        origin: source.to_string(),
        detail,
    })
}

fn read_limited(path: &Path, origin: &str) -> Result<Vec<u8>, KeyError> {
    let read_err = |e: std::io::Error| KeyError::Read {
        origin: origin.to_string(),
        reason: e.to_string(),
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    if let Ok(meta) = file.metadata() {
        if meta.is_file() && meta.len() > MAX_KEY_FILE_BYTES {
            return Err(KeyError::TooLarge {
                origin: origin.to_string(),
                size: meta.len(),
                limit: MAX_KEY_FILE_BYTES,
            });
        }
    }
    let mut bytes = Vec::new();
    file.take(MAX_KEY_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    if bytes.len() as u64 > MAX_KEY_FILE_BYTES {
        return Err(KeyError::TooLarge {
            origin: origin.to_string(),
            size: bytes.len() as u64,
            limit: MAX_KEY_FILE_BYTES,
        });
    }
    Ok(bytes)
}

/// Key files in a format jwtai does not read, with the command that
/// converts them to one it does.
fn foreign_key_format(bytes: &[u8], trimmed: &[u8]) -> Option<String> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Some(
            "the file is UTF-16 text (PowerShell's `>` writes it); convert it: `iconv -f UTF-16 -t UTF-8 FILE > key.pem`"
                .to_string(),
        );
    }
    for prefix in ["ssh-rsa ", "ssh-ed25519 ", "ecdsa-sha2-nistp"] {
        if trimmed.starts_with(prefix.as_bytes()) {
            let kind = prefix.trim_end();
            return Some(format!(
                "an OpenSSH public key (`{kind}`); {}",
                ssh_public_to_pem(kind, "FILE")
            ));
        }
    }
    if let Some(rest) = trimmed.strip_prefix(b"PuTTY-User-Key-File-") {
        // `PuTTY-User-Key-File-3: ssh-rsa`: the version, then the key type.
        let line = rest.split(|&b| b == b'\n').next().unwrap_or_default();
        let line = String::from_utf8_lossy(line);
        let kind = line
            .split_once(':')
            .map(|(_, k)| sanitize(k.trim(), 40))
            .unwrap_or_default();
        let what = if kind.is_empty() {
            "a PuTTY private key file (.ppk)".to_string()
        } else {
            format!("a PuTTY private key file (.ppk, `{kind}`)")
        };
        if kind.contains("ed25519") {
            return Some(format!("{what}; {}", ssh_public_to_pem(&kind, "key.pub")));
        }
        return Some(format!(
            "{what}; verifying needs only its public key, as PEM: export it with puttygen (package putty-tools), `puttygen FILE -O public-openssh -o key.pub`, then {}",
            ssh_public_to_pem(&kind, "key.pub")
        ));
    }
    // PFX: SEQUENCE { INTEGER 3, SEQUENCE { OID pkcs7-data ... } }.
    const PKCS7_DATA: &[u8] = &[
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01,
    ];
    let head = &bytes[..bytes.len().min(32)];
    if bytes.first() == Some(&0x30)
        && contains(head, &[0x02, 0x01, 0x03])
        && contains(head, PKCS7_DATA)
    {
        return Some(
            "a PKCS#12 bundle (.p12/.pfx); extract the certificate: `openssl pkcs12 -in FILE -nokeys -clcerts -out cert.pem`"
                .to_string(),
        );
    }
    None
}

/// How to turn an OpenSSH public key file (`ssh-rsa AAAA…`) of `kind` into
/// the PEM jwtai reads. ssh-keygen converts RSA and ECDSA keys only
/// ("do_convert_to_pkcs8: unsupported key type ED25519").
pub(crate) fn ssh_public_to_pem(kind: &str, file: &str) -> String {
    if kind.contains("ed25519") {
        // No standard command does it: say so rather than guess.
        return "ssh-keygen converts only RSA and ECDSA keys to PEM, not Ed25519: take the public key as PEM (`-----BEGIN PUBLIC KEY-----`) or as a JWK (`\"kty\": \"OKP\", \"crv\": \"Ed25519\"`) from where the key pair was made, and pass that with --key".to_string();
    }
    format!(
        "convert it: `ssh-keygen -e -m PKCS8 -f {file} > public.pem`, then pass --key public.pem"
    )
}

fn trim_ascii_and_bom(bytes: &[u8]) -> &[u8] {
    let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    b.trim_ascii()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn looks_like_bare_base64(text: &[u8]) -> bool {
    text.len() >= 64
        && text
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"+/=\r\n".contains(&b))
}

/// Make untrusted text (kid, certificate subject) safe for a label: no control
/// characters, bounded length.
pub(crate) fn sanitize(text: &str, max_chars: usize) -> String {
    let mut out: String = text
        .chars()
        .take(max_chars)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if text.chars().count() > max_chars {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests;
