//! Signing with throwaway keys, for tests and fixture generation.
//!
//! jwtai never signs tokens for users; this module exists so that tests and
//! fixtures can produce real tokens for every algorithm with aws-lc-rs.

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair, RsaPublicKeyComponents,
};
use aws_lc_rs::{hmac, rand};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretSlice};
use serde_json::{Value, json};

use crate::alg::{Alg, Family};
use crate::keys::{Curve, KeyMaterial};

/// Why signing or key generation failed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("key generation failed for {0}")]
    Generate(Alg),
    #[error("signing failed with {0}")]
    Sign(Alg),
    #[error("a {key} key cannot sign {alg}")]
    WrongKey { alg: Alg, key: &'static str },
    #[error("cannot serialize the token: {0}")]
    Json(String),
    #[error("unsupported RSA key size {0} (use 2048, 3072, 4096 or 8192)")]
    RsaSize(usize),
}

enum Inner {
    Hmac(SecretSlice<u8>),
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair, Curve),
    Ed(Ed25519KeyPair),
}

/// A generated throwaway key bound to one algorithm.
pub struct SigningKey {
    alg: Alg,
    inner: Inner,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

fn ec_curve(alg: Alg) -> Option<(Curve, &'static signature::EcdsaSigningAlgorithm)> {
    match alg {
        Alg::ES256 => Some((Curve::P256, &signature::ECDSA_P256_SHA256_FIXED_SIGNING)),
        Alg::ES384 => Some((Curve::P384, &signature::ECDSA_P384_SHA384_FIXED_SIGNING)),
        Alg::ES512 => Some((Curve::P521, &signature::ECDSA_P521_SHA512_FIXED_SIGNING)),
        _ => None,
    }
}

fn rsa_encoding(alg: Alg) -> Option<&'static dyn signature::RsaEncoding> {
    match alg {
        Alg::RS256 => Some(&signature::RSA_PKCS1_SHA256),
        Alg::RS384 => Some(&signature::RSA_PKCS1_SHA384),
        Alg::RS512 => Some(&signature::RSA_PKCS1_SHA512),
        Alg::PS256 => Some(&signature::RSA_PSS_SHA256),
        Alg::PS384 => Some(&signature::RSA_PSS_SHA384),
        Alg::PS512 => Some(&signature::RSA_PSS_SHA512),
        _ => None,
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl SigningKey {
    /// A fresh key for `alg`: HS* a random 64-byte secret, RS*/PS* RSA 2048,
    /// ES* the matching curve, EdDSA Ed25519.
    pub fn generate(alg: Alg) -> Result<SigningKey, SignError> {
        let inner = match alg.family() {
            Family::Hmac => {
                let mut secret = vec![0u8; 64];
                rand::fill(&mut secret).map_err(|_| SignError::Generate(alg))?;
                Inner::Hmac(SecretSlice::from(secret))
            }
            Family::Rsa | Family::RsaPss => Inner::Rsa(
                RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| SignError::Generate(alg))?,
            ),
            Family::Ecdsa => {
                let (curve, signing) = ec_curve(alg).ok_or(SignError::Generate(alg))?;
                Inner::Ec(
                    EcdsaKeyPair::generate(signing).map_err(|_| SignError::Generate(alg))?,
                    curve,
                )
            }
            Family::EdDsa => {
                Inner::Ed(Ed25519KeyPair::generate().map_err(|_| SignError::Generate(alg))?)
            }
        };
        Ok(SigningKey { alg, inner })
    }

    /// An RSA key of another size (2048, 3072, 4096 or 8192 bits) for an RS*/PS* algorithm.
    pub fn generate_rsa(alg: Alg, bits: usize) -> Result<SigningKey, SignError> {
        if !matches!(alg.family(), Family::Rsa | Family::RsaPss) {
            return Err(SignError::WrongKey { alg, key: "RSA" });
        }
        let size = match bits {
            2048 => KeySize::Rsa2048,
            3072 => KeySize::Rsa3072,
            4096 => KeySize::Rsa4096,
            8192 => KeySize::Rsa8192,
            other => return Err(SignError::RsaSize(other)),
        };
        let pair = RsaKeyPair::generate(size).map_err(|_| SignError::Generate(alg))?;
        Ok(SigningKey {
            alg,
            inner: Inner::Rsa(pair),
        })
    }

    /// An HMAC key with a chosen secret (for weak-secret fixtures).
    pub fn from_hmac_secret(alg: Alg, secret: &[u8]) -> Result<SigningKey, SignError> {
        if alg.family() != Family::Hmac {
            return Err(SignError::WrongKey { alg, key: "HMAC" });
        }
        Ok(SigningKey {
            alg,
            inner: Inner::Hmac(SecretSlice::from(secret.to_vec())),
        })
    }

    /// The same key material bound to another algorithm of the same family
    /// (e.g. an RS256 key used for PS256), for mismatch fixtures.
    pub fn with_alg(self, alg: Alg) -> Result<SigningKey, SignError> {
        let fits = match (&self.inner, alg.family()) {
            (Inner::Hmac(_), Family::Hmac) => true,
            (Inner::Rsa(_), Family::Rsa | Family::RsaPss) => true,
            (Inner::Ec(_, curve), Family::Ecdsa) => ec_curve(alg).is_some_and(|(c, _)| c == *curve),
            (Inner::Ed(_), Family::EdDsa) => true,
            _ => false,
        };
        if !fits {
            return Err(SignError::WrongKey {
                alg,
                key: self.kind(),
            });
        }
        Ok(SigningKey {
            alg,
            inner: self.inner,
        })
    }

    fn kind(&self) -> &'static str {
        match &self.inner {
            Inner::Hmac(_) => "HMAC",
            Inner::Rsa(_) => "RSA",
            Inner::Ec(..) => "EC",
            Inner::Ed(_) => "Ed25519",
        }
    }

    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// Sign `signing_input`; ECDSA signatures come out in JOSE `R || S` form.
    pub fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, SignError> {
        let alg = self.alg;
        match &self.inner {
            Inner::Hmac(secret) => {
                let algorithm = match alg {
                    Alg::HS256 => hmac::HMAC_SHA256,
                    Alg::HS384 => hmac::HMAC_SHA384,
                    Alg::HS512 => hmac::HMAC_SHA512,
                    _ => return Err(SignError::WrongKey { alg, key: "HMAC" }),
                };
                let key = hmac::Key::new(algorithm, secret.expose_secret());
                Ok(hmac::sign(&key, signing_input).as_ref().to_vec())
            }
            Inner::Rsa(pair) => {
                let encoding = rsa_encoding(alg).ok_or(SignError::WrongKey { alg, key: "RSA" })?;
                let mut sig = vec![0u8; pair.public_modulus_len()];
                pair.sign(encoding, &SystemRandom::new(), signing_input, &mut sig)
                    .map_err(|_| SignError::Sign(alg))?;
                Ok(sig)
            }
            Inner::Ec(pair, _) => {
                let sig = pair
                    .sign(&SystemRandom::new(), signing_input)
                    .map_err(|_| SignError::Sign(alg))?;
                Ok(sig.as_ref().to_vec())
            }
            Inner::Ed(pair) => Ok(pair.sign(signing_input).as_ref().to_vec()),
        }
    }

    /// SubjectPublicKeyInfo PEM (`PUBLIC KEY`); `None` for HMAC.
    pub fn public_pem(&self) -> Option<String> {
        let der = self.public_spki_der()?;
        Some(pem::encode(&pem::Pem::new("PUBLIC KEY", der)))
    }

    /// SubjectPublicKeyInfo DER; `None` for HMAC.
    pub fn public_spki_der(&self) -> Option<Vec<u8>> {
        let der = match &self.inner {
            Inner::Hmac(_) => return None,
            Inner::Rsa(pair) => pair.public_key().as_der().ok()?.as_ref().to_vec(),
            Inner::Ec(pair, _) => pair.public_key().as_der().ok()?.as_ref().to_vec(),
            Inner::Ed(pair) => pair.public_key().as_der().ok()?.as_ref().to_vec(),
        };
        Some(der)
    }

    /// PKCS#8 PEM (`PRIVATE KEY`); `None` for HMAC.
    pub fn private_pem(&self) -> Option<String> {
        let der = self.private_pkcs8_der()?;
        Some(pem::encode(&pem::Pem::new("PRIVATE KEY", der)))
    }

    fn private_pkcs8_der(&self) -> Option<Vec<u8>> {
        let der = match &self.inner {
            Inner::Hmac(_) => return None,
            Inner::Rsa(pair) => {
                let doc: Pkcs8V1Der<'static> = pair.as_der().ok()?;
                doc.as_ref().to_vec()
            }
            Inner::Ec(pair, _) => pair.to_pkcs8v1().ok()?.as_ref().to_vec(),
            Inner::Ed(pair) => pair.to_pkcs8v1().ok()?.as_ref().to_vec(),
        };
        Some(der)
    }

    /// Traditional PEM: PKCS#1 `RSA PRIVATE KEY` or SEC1 `EC PRIVATE KEY`;
    /// `None` for HMAC and Ed25519 (which have no traditional form).
    pub fn private_pem_traditional(&self) -> Option<String> {
        match &self.inner {
            Inner::Rsa(_) => {
                let pkcs8 = self.private_pkcs8_der()?;
                let pkcs1 = crate::keys::pkcs8_inner_private_key(&pkcs8)?;
                Some(pem::encode(&pem::Pem::new("RSA PRIVATE KEY", pkcs1)))
            }
            Inner::Ec(pair, _) => {
                let sec1 = pair.private_key().as_der().ok()?;
                Some(pem::encode(&pem::Pem::new(
                    "EC PRIVATE KEY",
                    sec1.as_ref().to_vec(),
                )))
            }
            Inner::Hmac(_) | Inner::Ed(_) => None,
        }
    }

    /// PKCS#1 `RSA PUBLIC KEY` PEM; `None` unless RSA.
    pub fn public_pem_pkcs1(&self) -> Option<String> {
        match &self.inner {
            Inner::Rsa(pair) => Some(pem::encode(&pem::Pem::new(
                "RSA PUBLIC KEY",
                pair.public_key().as_ref().to_vec(),
            ))),
            _ => None,
        }
    }

    /// The key as a JWK with `kid`, `alg` and `"use": "sig"`. For HMAC this is
    /// an `oct` JWK that holds the secret.
    pub fn public_jwk(&self, kid: &str) -> Value {
        let mut jwk = match &self.inner {
            Inner::Hmac(secret) => json!({"kty": "oct", "k": b64(secret.expose_secret())}),
            Inner::Rsa(pair) => {
                let components = RsaPublicKeyComponents::<Vec<u8>>::from(pair.public_key());
                json!({"kty": "RSA", "n": b64(&components.n), "e": b64(&components.e)})
            }
            Inner::Ec(pair, curve) => {
                let point = pair.public_key().as_ref();
                let len = curve.coordinate_len();
                let (x, y) = if point.len() == 1 + 2 * len {
                    (b64(&point[1..1 + len]), b64(&point[1 + len..]))
                } else {
                    (String::new(), String::new())
                };
                json!({"kty": "EC", "crv": curve.name(), "x": x, "y": y})
            }
            Inner::Ed(pair) => {
                json!({"kty": "OKP", "crv": "Ed25519", "x": b64(pair.public_key().as_ref())})
            }
        };
        if let Value::Object(map) = &mut jwk {
            map.insert("kid".into(), Value::String(kid.to_string()));
            map.insert("alg".into(), Value::String(self.alg.name().to_string()));
            map.insert("use".into(), Value::String("sig".to_string()));
        }
        jwk
    }

    /// The HMAC secret; `None` for asymmetric keys.
    pub fn hmac_secret(&self) -> Option<&[u8]> {
        match &self.inner {
            Inner::Hmac(secret) => Some(secret.expose_secret()),
            _ => None,
        }
    }

    /// The verification material for this key (public part, or the secret).
    pub fn public_material(&self) -> KeyMaterial {
        match &self.inner {
            Inner::Hmac(secret) => KeyMaterial::Hmac(secret.clone()),
            Inner::Rsa(pair) => {
                let c = RsaPublicKeyComponents::<Vec<u8>>::from(pair.public_key());
                KeyMaterial::Rsa { n: c.n, e: c.e }
            }
            Inner::Ec(pair, curve) => KeyMaterial::Ec {
                curve: *curve,
                point: pair.public_key().as_ref().to_vec(),
            },
            Inner::Ed(pair) => KeyMaterial::Ed25519 {
                x: pair.public_key().as_ref().to_vec(),
            },
        }
    }
}

/// `BASE64URL(header).BASE64URL(claims).BASE64URL(signature)`, no padding.
/// The header is used as given (set `alg` yourself, or leave it wrong on
/// purpose for fixtures).
pub fn sign_token(header: &Value, claims: &Value, key: &SigningKey) -> Result<String, SignError> {
    let header = serde_json::to_vec(header).map_err(|e| SignError::Json(e.to_string()))?;
    let claims = serde_json::to_vec(claims).map_err(|e| SignError::Json(e.to_string()))?;
    let signing_input = format!("{}.{}", b64(&header), b64(&claims));
    let signature = key.sign(signing_input.as_bytes())?;
    Ok(format!("{signing_input}.{}", b64(&signature)))
}

/// HMAC of `signing_input` with `secret` under an HS* algorithm; an empty
/// vector for any other algorithm.
pub fn hmac_sign(alg: Alg, signing_input: &[u8], secret: &[u8]) -> Vec<u8> {
    let algorithm = match alg {
        Alg::HS256 => hmac::HMAC_SHA256,
        Alg::HS384 => hmac::HMAC_SHA384,
        Alg::HS512 => hmac::HMAC_SHA512,
        _ => return Vec::new(),
    };
    let key = hmac::Key::new(algorithm, secret);
    hmac::sign(&key, signing_input).as_ref().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_shape_and_header() {
        let key = SigningKey::generate(Alg::EdDSA).expect("key");
        let token = sign_token(&json!({"alg": "EdDSA"}), &json!({"sub": "a"}), &key).expect("sign");
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert!(!token.contains('='));
        let header = URL_SAFE_NO_PAD.decode(parts[0]).expect("b64");
        assert_eq!(header, br#"{"alg":"EdDSA"}"#);
        assert_eq!(URL_SAFE_NO_PAD.decode(parts[2]).expect("b64").len(), 64);
    }

    #[test]
    fn keys_only_bind_to_their_family() {
        let ec = SigningKey::generate(Alg::ES256).expect("key");
        assert!(matches!(
            ec.with_alg(Alg::ES384),
            Err(SignError::WrongKey {
                alg: Alg::ES384,
                key: "EC"
            })
        ));
        assert!(SigningKey::from_hmac_secret(Alg::RS256, b"x").is_err());
        assert!(matches!(
            SigningKey::generate_rsa(Alg::RS256, 1024),
            Err(SignError::RsaSize(1024))
        ));
        let hs = SigningKey::from_hmac_secret(Alg::HS256, b"k").expect("key");
        assert_eq!(hs.public_pem(), None);
        assert_eq!(hs.private_pem(), None);
        assert_eq!(hs.public_jwk("h")["kty"], "oct");
        let secret = SigningKey::from_hmac_secret(Alg::HS256, b"hunter2").expect("key");
        assert!(!format!("{secret:?}").contains("hunter2"));
    }

    #[test]
    fn jwk_members() {
        let ed = SigningKey::generate(Alg::EdDSA).expect("key");
        let jwk = ed.public_jwk("ed-1");
        assert_eq!(jwk["kty"], "OKP");
        assert_eq!(jwk["crv"], "Ed25519");
        assert_eq!(jwk["kid"], "ed-1");
        assert_eq!(jwk["alg"], "EdDSA");
        assert_eq!(jwk["use"], "sig");
        assert!(jwk.get("d").is_none());
        let ec = SigningKey::generate(Alg::ES512).expect("key");
        let jwk = ec.public_jwk("ec");
        let x = URL_SAFE_NO_PAD
            .decode(jwk["x"].as_str().expect("x"))
            .expect("b64");
        assert_eq!(x.len(), 66);
        assert!(
            ec.private_pem()
                .expect("pem")
                .starts_with("-----BEGIN PRIVATE KEY-----")
        );
        assert!(
            ec.public_pem()
                .expect("pem")
                .starts_with("-----BEGIN PUBLIC KEY-----")
        );
    }
}
