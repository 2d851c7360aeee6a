//! JSON Web Keys (RFC 7517, RFC 7518 §6, RFC 8037) and JWK Sets.
//!
//! Keys are read through jwtai's own, fully optional view of a JWK so that one
//! odd key (unknown `kty`, a number where a string belongs, a missing member)
//! becomes a problem on that key instead of failing the whole set.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use secrecy::SecretSlice;
use serde::Deserialize;
use serde_json::Value;

use super::der::{Extracted, MatErr, ec_material, ed25519_material, rsa_material, x5c_material};
use super::{
    Candidate, Curve, JwkProblem, JwkSet, KeyError, KeyMaterial, MAX_KEY_FILE_BYTES,
    MAX_KEYS_IN_SET, MAX_RSA_BITS, ProblemKind, sanitize, thumbprint,
};
use crate::alg::{Alg, Family, JWE_ALGS};

/// One JWK as found: every member optional and of any JSON type.
#[derive(Debug, Default, Deserialize)]
struct RawJwk {
    kty: Option<Value>,
    #[serde(rename = "use")]
    key_use: Option<Value>,
    key_ops: Option<Value>,
    alg: Option<Value>,
    kid: Option<Value>,
    crv: Option<Value>,
    n: Option<Value>,
    e: Option<Value>,
    x: Option<Value>,
    y: Option<Value>,
    d: Option<Value>,
    k: Option<Value>,
    x5c: Option<Value>,
}

/// Parse a JWK Set (`{"keys":[...]}`) from a file or an HTTP body.
///
/// Symmetric keys (`kty` `oct`) are listed as unusable: a published set must
/// not carry secrets. A local file given with `--key` is read with
/// [`super::load_key_file`], which accepts them.
pub fn parse_jwk_set(bytes: &[u8], source: &str) -> Result<JwkSet, KeyError> {
    if bytes.len() as u64 > MAX_KEY_FILE_BYTES {
        return Err(KeyError::TooLarge {
            origin: source.to_string(),
            size: bytes.len() as u64,
            limit: MAX_KEY_FILE_BYTES,
        });
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|e| KeyError::Invalid {
        origin: source.to_string(),
        detail: json_error_text(&e),
    })?;
    if let Some(set) = certificate_map(&value, source) {
        return set;
    }
    match &value {
        Value::Object(map) if map.contains_key("keys") => parse_json_value(value, source, false),
        Value::Object(map) if map.get("jwks_uri").is_some_and(Value::is_string) => {
            let jwks_uri = map
                .get("jwks_uri")
                .and_then(Value::as_str)
                .unwrap_or_default();
            Err(KeyError::Invalid {
                origin: source.to_string(),
                detail: format!(
                    "an OpenID Connect discovery document, not the JWK Set: its jwks_uri is {}; pass --jwks-uri {} (or --discover with the issuer)",
                    sanitize(jwks_uri, 200),
                    sanitize(jwks_uri, 200)
                ),
            })
        }
        Value::Object(map) if map.contains_key("kty") => Err(KeyError::Invalid {
            origin: source.to_string(),
            detail: "a single JWK, not a JWK Set; a set is {\"keys\": [ ... ]}".to_string(),
        }),
        _ => Err(KeyError::Invalid {
            origin: source.to_string(),
            detail: "not a JWK Set: expected a JSON object with a \"keys\" array".to_string(),
        }),
    }
}

/// `{"<kid>": "-----BEGIN CERTIFICATE-----…", …}`: Google's and Firebase's
/// `x509` key endpoints (firebase-admin and google-auth verify with them).
/// Each certificate's key, under its kid.
pub(crate) fn certificate_map(value: &Value, source: &str) -> Option<Result<JwkSet, KeyError>> {
    let map = value.as_object()?;
    let is_cert = |v: &Value| {
        v.as_str()
            .is_some_and(|s| s.trim_start().starts_with("-----BEGIN CERTIFICATE-----"))
    };
    if map.is_empty() || !map.values().all(is_cert) {
        return None;
    }
    let mut keys = Vec::with_capacity(map.len());
    for (kid, pem) in map.iter().take(MAX_KEYS_IN_SET) {
        let pem = pem.as_str().unwrap_or_default();
        let found = match super::der::parse_pem_file(pem.as_bytes(), source) {
            Ok(set) => set.keys,
            Err(e) => return Some(Err(e)),
        };
        for mut c in found {
            c.label = format!(
                "{source}: kid {} ({})",
                sanitize(kid, 64),
                c.material.describe()
            );
            c.kid = Some(kid.clone());
            c.from_set = true;
            keys.push(c);
        }
    }
    Some(Ok(JwkSet {
        keys,
        problems: Vec::new(),
    }))
}

/// serde_json messages for type errors can quote the offending value: keep
/// only the category and position.
fn json_error_text(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    if e.to_string().starts_with("recursion limit exceeded") {
        return format!(
            "JSON nested too deep (over {} levels of arrays and objects) at line {} column {}",
            crate::token::json::MAX_DEPTH,
            e.line(),
            e.column()
        );
    }
    let what = match e.classify() {
        Category::Io => "I/O error while reading JSON",
        Category::Syntax => "invalid JSON",
        Category::Data => "unexpected JSON structure",
        Category::Eof => "JSON ends too early",
    };
    format!("{what} at line {} column {}", e.line(), e.column())
}

/// A parsed JSON document from a key file: a JWK Set, a bare array of JWKs,
/// or a single JWK.
pub(crate) fn parse_json_value(
    value: Value,
    source: &str,
    allow_secrets: bool,
) -> Result<JwkSet, KeyError> {
    match value {
        Value::Object(mut map) => {
            if let Some(keys) = map.remove("keys") {
                let Value::Array(items) = keys else {
                    return Err(KeyError::Invalid {
                        origin: source.to_string(),
                        detail: "\"keys\" is not an array".to_string(),
                    });
                };
                parse_items(items, source, allow_secrets, Vec::new())
            } else if map.contains_key("kty") {
                let (candidate, messages) =
                    jwk_candidate(Value::Object(map), 0, source, None, allow_secrets)?;
                let problems = messages
                    .into_iter()
                    .map(|message| JwkProblem {
                        kind: ProblemKind::Unusable,
                        index: 0,
                        kid: candidate.kid.clone(),
                        message,
                    })
                    .collect();
                Ok(JwkSet {
                    keys: vec![candidate],
                    problems,
                })
            } else {
                Err(KeyError::NotAKey {
                    origin: source.to_string(),
                    detail: "JSON, but neither a JWK (no \"kty\") nor a JWK Set (no \"keys\")"
                        .to_string(),
                })
            }
        }
        Value::Array(items) => {
            let note = JwkProblem {
                kind: ProblemKind::Format,
                index: 0,
                kid: None,
                message: "top-level JSON array of keys; a JWK Set is {\"keys\": [ ... ]}"
                    .to_string(),
            };
            parse_items(items, source, allow_secrets, vec![note])
        }
        _ => Err(KeyError::NotAKey {
            origin: source.to_string(),
            detail: "JSON, but not a JWK or a JWK Set".to_string(),
        }),
    }
}

fn parse_items(
    items: Vec<Value>,
    source: &str,
    allow_secrets: bool,
    mut problems: Vec<JwkProblem>,
) -> Result<JwkSet, KeyError> {
    if items.len() > MAX_KEYS_IN_SET {
        return Err(KeyError::TooManyKeys {
            origin: source.to_string(),
            count: items.len(),
            limit: MAX_KEYS_IN_SET,
        });
    }
    let mut keys = Vec::with_capacity(items.len());
    let mut seen_kids: HashMap<String, usize> = HashMap::new();
    for (index, item) in items.into_iter().enumerate() {
        // A set member never fails the set: errors become unusable entries.
        let (candidate, messages) =
            match jwk_candidate(item, index, source, Some(index), allow_secrets) {
                Ok(pair) => pair,
                Err(e) => {
                    let reason = e.to_string();
                    let candidate = unusable_candidate(index, source, None, "unknown", &reason);
                    (candidate, vec![reason])
                }
            };
        for message in messages {
            problems.push(JwkProblem {
                kind: ProblemKind::Unusable,
                index,
                kid: candidate.kid.clone(),
                message,
            });
        }
        if candidate.from_private_key {
            problems.push(JwkProblem {
                kind: ProblemKind::PrivateKey,
                index,
                kid: candidate.kid.clone(),
                message: "the entry holds the private key (\"d\"): whoever reads this set can sign tokens"
                    .to_string(),
            });
        }
        if let Some(kid) = &candidate.kid {
            if let Some(first) = seen_kids.get(kid) {
                problems.push(JwkProblem {
                    kind: ProblemKind::DuplicateKid,
                    index,
                    kid: Some(kid.clone()),
                    message: format!(
                        "duplicate kid \"{}\" (also key #{}); a verifier picks one of them",
                        sanitize(kid, 64),
                        first + 1
                    ),
                });
            } else {
                seen_kids.insert(kid.clone(), index);
            }
        }
        keys.push(candidate);
    }
    Ok(JwkSet { keys, problems })
}

fn unusable_candidate(
    index: usize,
    source: &str,
    kid: Option<String>,
    kty: &str,
    reason: &str,
) -> Candidate {
    Candidate {
        label: set_label(
            source,
            Some(index),
            kid.as_deref(),
            &format!("unusable: {reason}"),
        ),
        source: source.to_string(),
        kid,
        alg: None,
        key_use: None,
        thumbprint: None,
        from_private_key: false,
        from_set: true,
        raw_text: None,
        secret_is_key: None,
        pem_layout: None,
        spki_der: None,
        material: KeyMaterial::Unusable {
            kty: kty.to_string(),
            reason: reason.to_string(),
        },
    }
}

fn set_label(source: &str, index: Option<usize>, kid: Option<&str>, what: &str) -> String {
    match (index, kid) {
        (Some(_), Some(kid)) => format!("{source}: kid {} ({what})", sanitize(kid, 64)),
        (Some(i), None) => format!("{source}: key #{} ({what})", i + 1),
        (None, Some(kid)) => format!("{source} (JWK kid {}, {what})", sanitize(kid, 64)),
        (None, None) => format!("{source} (JWK, {what})"),
    }
}

/// A string member; a member of another JSON type is reported.
fn string_member(name: &str, value: &Option<Value>, messages: &mut Vec<String>) -> Option<String> {
    match value {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            messages.push(format!(
                "\"{name}\" is {}, not a string; ignored",
                crate::jsontype::phrase(other)
            ));
            None
        }
    }
}

/// Decode a base64url member, tolerating padding and the standard alphabet
/// (both reported).
fn decode_member(name: &str, text: &str, messages: &mut Vec<String>) -> Result<Vec<u8>, String> {
    let unpadded = text.trim_end_matches('=');
    if unpadded.len() != text.len() {
        messages.push(format!(
            "\"{name}\" has base64 padding; JWK uses unpadded base64url"
        ));
    }
    if let Ok(bytes) = URL_SAFE_NO_PAD.decode(unpadded) {
        return Ok(bytes);
    }
    if let Ok(bytes) = STANDARD_NO_PAD.decode(unpadded) {
        messages.push(format!(
            "\"{name}\" uses standard base64 (+ /); JWK uses base64url (- _)"
        ));
        return Ok(bytes);
    }
    Err(format!("\"{name}\" is not valid base64url"))
}

/// Turn one JWK into a candidate and the problems found with it.
fn jwk_candidate(
    item: Value,
    position: usize,
    source: &str,
    index: Option<usize>,
    allow_secrets: bool,
) -> Result<(Candidate, Vec<String>), KeyError> {
    let Value::Object(_) = &item else {
        let reason = format!(
            "the entry is {}, not an object",
            crate::jsontype::phrase(&item)
        );
        return Ok((
            unusable_candidate(position, source, None, "unknown", &reason),
            vec![reason],
        ));
    };
    let raw: RawJwk = serde_json::from_value(item).map_err(|e| KeyError::Invalid {
        origin: source.to_string(),
        detail: json_error_text(&e),
    })?;
    let mut messages = Vec::new();
    let kty = string_member("kty", &raw.kty, &mut messages);
    let kid = string_member("kid", &raw.kid, &mut messages);
    let alg = string_member("alg", &raw.alg, &mut messages);
    let key_use = string_member("use", &raw.key_use, &mut messages);
    let crv = string_member("crv", &raw.crv, &mut messages);
    let has_private = raw.d.as_ref().is_some_and(|d| !d.is_null());

    let result = material_for(
        &raw,
        kty.as_deref(),
        crv.as_deref(),
        allow_secrets,
        &mut messages,
    );
    let result = with_x5c(&raw, kty.as_deref(), result, &mut messages);
    let (extracted, from_private_key) = match result {
        Ok(ex) => {
            let private = has_private && !matches!(ex.material, KeyMaterial::Hmac(_));
            (ex, private)
        }
        Err(MatErr::Invalid(reason)) => (
            Extracted {
                material: KeyMaterial::Unusable {
                    kty: kty.clone().unwrap_or_else(|| "(missing)".to_string()),
                    reason,
                },
                spki_der: None,
            },
            false,
        ),
        Err(MatErr::RsaTooLarge(bits)) => {
            if index.is_none() {
                return Err(KeyError::RsaTooLarge {
                    origin: source.to_string(),
                    bits,
                    limit: MAX_RSA_BITS,
                });
            }
            (
                Extracted {
                    material: KeyMaterial::Unusable {
                        kty: "RSA".to_string(),
                        reason: format!(
                            "RSA modulus of {bits} bits is over the {MAX_RSA_BITS}-bit limit"
                        ),
                    },
                    spki_der: None,
                },
                false,
            )
        }
    };
    if let KeyMaterial::Unusable { reason, .. } = &extracted.material {
        messages.push(format!("unusable: {reason}"));
    }

    check_use_and_alg(
        &raw,
        key_use.as_deref(),
        alg.as_deref(),
        &extracted.material,
        from_private_key,
        &mut messages,
    );

    let what = match &extracted.material {
        KeyMaterial::Unusable { reason, .. } => format!("unusable: {reason}"),
        m if from_private_key => format!("public part of {} private key", m.describe()),
        m => m.describe(),
    };
    let candidate = Candidate {
        label: set_label(source, index, kid.as_deref(), &what),
        source: source.to_string(),
        thumbprint: thumbprint(&extracted.material),
        kid,
        alg,
        key_use,
        from_private_key,
        from_set: index.is_some(),
        raw_text: None,
        secret_is_key: None,
        pem_layout: None,
        spki_der: extracted.spki_der,
        material: extracted.material,
    };
    Ok((candidate, messages))
}

/// A JWK's `x5c` certificate against its key members: the certificate's key
/// stands in for RSA or EC members that are missing (some verifiers build
/// keys from the certificate, so such sets work for some clients only), and
/// a certificate holding another key than the members is said.
fn with_x5c(
    raw: &RawJwk,
    kty: Option<&str>,
    result: Result<Extracted, MatErr>,
    messages: &mut Vec<String>,
) -> Result<Extracted, MatErr> {
    let Some(first) = raw
        .x5c
        .as_ref()
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_str)
    else {
        return result;
    };
    let members = if kty == Some("RSA") {
        "\"n\"/\"e\""
    } else {
        "\"x\"/\"y\""
    };
    match result {
        Err(MatErr::Invalid(reason))
            if matches!(kty, Some("RSA") | Some("EC")) && reason.starts_with("missing \"") =>
        {
            let cert = x5c_material(first)?;
            if cert.material.kty() != kty.unwrap_or_default() {
                return Err(MatErr::Invalid(format!(
                    "{reason}, and its \"x5c\" certificate holds an {} key",
                    cert.material.describe()
                )));
            }
            messages.push(format!(
                "{reason}; only its \"x5c\" certificate gives the key: verifiers that build keys from the certificate can use it, those that read the key members ({members}, which RFC 7518 §6 requires) find no key"
            ));
            Ok(cert)
        }
        Ok(ex) => {
            if let Ok(cert) = x5c_material(first) {
                if thumbprint(&cert.material) != thumbprint(&ex.material) {
                    messages.push(format!(
                        "its \"x5c\" certificate holds another key ({}) than its {members} members: verifiers that take the certificate and those that take the members check against different keys",
                        cert.material.describe()
                    ));
                }
            }
            Ok(ex)
        }
        other => other,
    }
}

fn material_for(
    raw: &RawJwk,
    kty: Option<&str>,
    crv: Option<&str>,
    allow_secrets: bool,
    messages: &mut Vec<String>,
) -> Result<Extracted, MatErr> {
    let mut required = |name: &str, value: &Option<Value>| -> Result<Vec<u8>, MatErr> {
        let text = string_member(name, value, messages)
            .ok_or_else(|| MatErr::Invalid(format!("missing \"{name}\"")))?;
        decode_member(name, &text, messages).map_err(MatErr::Invalid)
    };
    match kty {
        None => Err(MatErr::Invalid("missing \"kty\"".into())),
        Some("RSA") => {
            let n = required("n", &raw.n)?;
            let e = required("e", &raw.e)?;
            if n.first() == Some(&0) {
                messages
                    .push("\"n\" has leading zero bytes (RFC 7518 §6.3.1.1 forbids them)".into());
            }
            rsa_material(&n, &e)
        }
        Some("EC") => {
            let crv = crv.ok_or_else(|| MatErr::Invalid("missing \"crv\"".into()))?;
            let Some(curve) = Curve::from_name(crv) else {
                let reason = if crv == "secp256k1" {
                    "curve secp256k1 (ES256K) is not supported".to_string()
                } else {
                    format!("unknown curve \"{}\"", sanitize(crv, 32))
                };
                return Err(MatErr::Invalid(reason));
            };
            let x = required("x", &raw.x)?;
            let y = required("y", &raw.y)?;
            let len = curve.coordinate_len();
            let mut point = Vec::with_capacity(1 + 2 * len);
            point.push(4);
            for (name, coord) in [("x", &x), ("y", &y)] {
                if coord.len() > len {
                    return Err(MatErr::Invalid(format!(
                        "\"{name}\" is {} bytes, longer than a {curve} coordinate ({len})",
                        coord.len()
                    )));
                }
                if coord.len() < len {
                    messages.push(format!(
                        "\"{name}\" is {} bytes; RFC 7518 §6.2.1.2 requires the full {len} bytes",
                        coord.len()
                    ));
                }
                point.extend(std::iter::repeat_n(0u8, len - coord.len()));
                point.extend_from_slice(coord);
            }
            ec_material(curve, &point)
        }
        Some("OKP") => match crv {
            Some("Ed25519") => ed25519_material(&required("x", &raw.x)?),
            Some("X25519") | Some("X448") => Err(MatErr::Invalid(
                "X25519/X448 is a key-agreement key; it cannot verify signatures".into(),
            )),
            Some("Ed448") => Err(MatErr::Invalid("Ed448 is not supported".into())),
            Some(other) => Err(MatErr::Invalid(format!(
                "unknown OKP curve \"{}\"",
                sanitize(other, 32)
            ))),
            None => Err(MatErr::Invalid("missing \"crv\"".into())),
        },
        Some("oct") => {
            if !allow_secrets {
                return Err(MatErr::Invalid(
                    "a symmetric secret (kty \"oct\") published in a JWK Set; a JWKS must only hold public keys".into(),
                ));
            }
            let k = required("k", &raw.k)?;
            Ok(Extracted {
                material: KeyMaterial::Hmac(SecretSlice::from(k)),
                spki_der: None,
            })
        }
        Some(other) => {
            let known = ["RSA", "EC", "OKP", "oct"]
                .into_iter()
                .find(|k| k.eq_ignore_ascii_case(other));
            Err(MatErr::Invalid(match known {
                Some(k) => format!(
                    "kty \"{}\" must be written \"{k}\": member values are case-sensitive (RFC 7517 §4.1)",
                    sanitize(other, 32)
                ),
                None => format!("unknown kty \"{}\"", sanitize(other, 32)),
            }))
        }
    }
}

fn check_use_and_alg(
    raw: &RawJwk,
    key_use: Option<&str>,
    alg: Option<&str>,
    material: &KeyMaterial,
    private: bool,
    messages: &mut Vec<String>,
) {
    match key_use {
        None | Some("sig") => {}
        Some("enc") => messages.push(
            "marked \"use\": \"enc\" (encryption); a verifier must not use it for signatures"
                .to_string(),
        ),
        Some(other) => messages.push(format!("unknown \"use\" value \"{}\"", sanitize(other, 32))),
    }
    if let Some(Value::Array(ops)) = &raw.key_ops {
        let allows = ops
            .iter()
            .filter_map(Value::as_str)
            .any(|op| op == "verify" || (private && op == "sign"));
        if !allows {
            messages.push("\"key_ops\" does not allow \"verify\"".to_string());
        }
    }
    let Some(alg) = alg else { return };
    match Alg::from_name(alg) {
        Some(a) => {
            let fits = match (a.family(), material) {
                (Family::Hmac, KeyMaterial::Hmac(_)) => true,
                (Family::Rsa | Family::RsaPss, KeyMaterial::Rsa { .. }) => true,
                (Family::Ecdsa, KeyMaterial::Ec { curve, .. }) => curve.jws_alg() == a.name(),
                (Family::EdDsa, KeyMaterial::Ed25519 { .. }) => true,
                (_, KeyMaterial::Unusable { .. }) => true,
                _ => false,
            };
            if !fits {
                messages.push(format!(
                    "\"alg\": \"{a}\" does not fit this {} key",
                    material.describe()
                ));
            }
        }
        None if JWE_ALGS.contains(&alg) => messages.push(format!(
            "\"alg\": \"{}\" is an encryption algorithm, not a signature algorithm",
            sanitize(alg, 32)
        )),
        None => messages.push(format!("unknown \"alg\" \"{}\"", sanitize(alg, 32))),
    }
}
