//! The JWS algorithm names jwtai understands (RFC 7518 §3.1, RFC 8037).
//!
//! Owned here, below both the header checks (which report unknown or disallowed
//! names) and signature verification (which maps each to a crypto primitive).

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alg {
    HS256,
    HS384,
    HS512,
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    ES512,
    EdDSA,
}

/// What kind of key an algorithm needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Hmac,
    Rsa,
    RsaPss,
    Ecdsa,
    EdDsa,
}

impl Alg {
    pub const ALL: [Alg; 13] = [
        Alg::HS256,
        Alg::HS384,
        Alg::HS512,
        Alg::RS256,
        Alg::RS384,
        Alg::RS512,
        Alg::PS256,
        Alg::PS384,
        Alg::PS512,
        Alg::ES256,
        Alg::ES384,
        Alg::ES512,
        Alg::EdDSA,
    ];

    /// Exact, case-sensitive lookup as RFC 7515 requires (`hs256` is not `HS256`).
    pub fn from_name(name: &str) -> Option<Alg> {
        Alg::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Case-insensitive lookup, to suggest the intended name for a mis-cased one.
    pub fn from_name_loose(name: &str) -> Option<Alg> {
        Alg::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name.trim()))
    }

    pub fn name(self) -> &'static str {
        match self {
            Alg::HS256 => "HS256",
            Alg::HS384 => "HS384",
            Alg::HS512 => "HS512",
            Alg::RS256 => "RS256",
            Alg::RS384 => "RS384",
            Alg::RS512 => "RS512",
            Alg::PS256 => "PS256",
            Alg::PS384 => "PS384",
            Alg::PS512 => "PS512",
            Alg::ES256 => "ES256",
            Alg::ES384 => "ES384",
            Alg::ES512 => "ES512",
            Alg::EdDSA => "EdDSA",
        }
    }

    pub fn family(self) -> Family {
        match self {
            Alg::HS256 | Alg::HS384 | Alg::HS512 => Family::Hmac,
            Alg::RS256 | Alg::RS384 | Alg::RS512 => Family::Rsa,
            Alg::PS256 | Alg::PS384 | Alg::PS512 => Family::RsaPss,
            Alg::ES256 | Alg::ES384 | Alg::ES512 => Family::Ecdsa,
            Alg::EdDSA => Family::EdDsa,
        }
    }

    /// The exact signature length in bytes where the algorithm fixes it
    /// (HMAC output, ECDSA R||S, Ed25519). RSA depends on the key size.
    pub fn fixed_signature_len(self) -> Option<usize> {
        match self {
            Alg::HS256 => Some(32),
            Alg::HS384 => Some(48),
            Alg::HS512 => Some(64),
            Alg::ES256 => Some(64),
            Alg::ES384 => Some(96),
            Alg::ES512 => Some(132),
            Alg::EdDSA => Some(64),
            _ => None,
        }
    }
}

/// Moduli of the RSA keys in common use, 1024 to 4096 bits, in bytes: an
/// RSA signature is exactly as long.
const RSA_KEY_BYTES: [usize; 4] = [128, 256, 384, 512];

/// Characters of `n` bytes in unpadded base64url.
fn b64_len(n: usize) -> usize {
    (n * 4).div_ceil(3)
}

/// Whether a base64url signature segment of `chars` characters has the
/// length of some JWS algorithm's signature (any fixed-length one, or an RSA
/// key of a common size), without knowing which: a whole signature, by its
/// length alone.
pub fn is_signature_length(chars: usize) -> bool {
    Alg::ALL
        .iter()
        .filter_map(|a| a.fixed_signature_len())
        .chain(RSA_KEY_BYTES)
        .any(|n| b64_len(n) == chars)
}

/// Whether a compact JWS (`header.payload.signature`, base64url) carries a
/// signature segment exactly as long as its header's `alg` makes it: a
/// fixed-length algorithm's, or an RSA key of a common size (1024 to 4096
/// bits). Such a token is whole; text after it (a log's `...`, the next line)
/// is not the rest of it.
pub fn signature_fits(token: &str) -> bool {
    use base64::Engine;
    let mut parts = token.split('.');
    let (Some(header), Some(_), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header) else {
        return false;
    };
    let Some(alg) = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|h| h.get("alg")?.as_str().and_then(Alg::from_name))
    else {
        return false;
    };
    alg.is_whole_signature(|bytes| sig.len() == b64_len(bytes))
}

impl Alg {
    /// Whether a signature of `len` bytes is as long as this algorithm's
    /// are: its fixed length, or an RSA key of a common size.
    pub fn signature_len_fits(self, len: usize) -> bool {
        self.is_whole_signature(|bytes| bytes == len)
    }

    /// Whether `has_length` holds for one of the lengths this algorithm's
    /// signatures have.
    fn is_whole_signature(self, has_length: impl Fn(usize) -> bool) -> bool {
        match (self.fixed_signature_len(), self.family()) {
            (Some(n), _) => has_length(n),
            (None, Family::Rsa | Family::RsaPss) => RSA_KEY_BYTES.into_iter().any(has_length),
            _ => false,
        }
    }
}

impl fmt::Display for Alg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// JWE key-management algorithms (RFC 7518 §4.1), to recognise an encrypted token.
pub const JWE_ALGS: &[&str] = &[
    "RSA1_5",
    "RSA-OAEP",
    "RSA-OAEP-256",
    "RSA-OAEP-384",
    "RSA-OAEP-512",
    "A128KW",
    "A192KW",
    "A256KW",
    "dir",
    "ECDH-ES",
    "ECDH-ES+A128KW",
    "ECDH-ES+A192KW",
    "ECDH-ES+A256KW",
    "A128GCMKW",
    "A192GCMKW",
    "A256GCMKW",
    "PBES2-HS256+A128KW",
    "PBES2-HS384+A192KW",
    "PBES2-HS512+A256KW",
];

#[cfg(test)]
mod tests {
    #[test]
    fn signature_lengths_are_those_of_the_algorithms_and_rsa_keys() {
        // HS256, ES256/HS512/EdDSA, ES384, ES512, RSA 1024 to 4096 bits.
        for chars in [43, 86, 128, 176, 171, 342, 512, 683] {
            assert!(super::is_signature_length(chars), "{chars}");
        }
        for chars in [0, 42, 100, 341, 344] {
            assert!(!super::is_signature_length(chars), "{chars}");
        }
    }
}
