//! Fixture tokens: the user's token structure with placeholder values, signed
//! by throwaway keys generated for this run.
//!
//! [`Mirror`] keeps the shape (claim names and order, `aud` string or array,
//! which time claims exist, the lifetime) and drops every value that could be
//! personal: `sub` becomes `user-123`, emails `user@example.com`, other strings
//! a placeholder of the same kind. Only `iss`, `aud` and scopes survive, as the
//! verifier's expected values. [`Throwaway`] holds the keys and makes the
//! tokens that need key tricks (algorithm confusion, an embedded `jwk`).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};

use super::Verifier;
use crate::alg::{Alg, Family};
use crate::keys::{self, Candidate};
use crate::sensitive::{self, Shape};
use crate::sign::{self, SignError, SigningKey};

pub const FIXTURES_FILE: &str = "fixtures.json";
pub const JWKS_FILE: &str = "jwks.json";
pub const PUBLIC_PEM_FILE: &str = "public.pem";
pub const PRIVATE_PEM_FILE: &str = "private.pem";
pub const HMAC_SECRET_FILE: &str = "hmac-secret.txt";
pub const README_FILE: &str = "README.md";

/// The kid of the throwaway key in jwks.json.
pub const FIXTURE_KID: &str = "fixture-key-1";
const ATTACKER_KID: &str = "attacker-key";
const ATTACKER_URL: &str = "https://attacker.example.com/keys.json";
/// Lifetime used when the token does not reveal one.
const DEFAULT_LIFETIME: i64 = 3600;
/// Longest lifetime mirrored (keeps every fixture time in range).
const MAX_LIFETIME: i64 = 100 * 365 * 86_400;
const MAX_ARRAY: usize = 20;
const MAX_DEPTH: usize = 16;

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `BASE64URL(header).BASE64URL(claims)`.
pub fn signing_input(header: &Map<String, Value>, claims: &Map<String, Value>) -> String {
    let h = serde_json::to_vec(header).unwrap_or_default();
    let c = serde_json::to_vec(claims).unwrap_or_default();
    format!("{}.{}", b64(&h), b64(&c))
}

pub fn sign(
    header: &Map<String, Value>,
    claims: &Map<String, Value>,
    key: &SigningKey,
) -> Result<String, SignError> {
    sign::sign_token(
        &Value::Object(header.clone()),
        &Value::Object(claims.clone()),
        key,
    )
}

/// The key files a run writes, as text.
#[derive(Debug, Clone)]
pub struct KeyFiles {
    pub kid: String,
    /// `{"keys": [...]}` with the fixture key (an `oct` key for HS).
    pub jwks: Value,
    /// SPKI PEM with LF line endings; `None` for HS.
    pub public_pem: Option<String>,
    /// PKCS#8 PEM, so teams can mint more fixtures; `None` for HS.
    pub private_pem: Option<String>,
    /// The HMAC secret as text (its bytes are the key); `None` unless HS.
    pub hmac_secret: Option<String>,
}

impl KeyFiles {
    pub fn jwks_text(&self) -> String {
        let mut s = serde_json::to_string_pretty(&self.jwks).unwrap_or_else(|_| "{}".into());
        s.push('\n');
        s
    }

    /// The keys a verifier holds, parsed from the file contents exactly as written:
    /// jwks.json plus public.pem, or the HMAC secret.
    pub fn candidates(&self) -> Vec<Candidate> {
        if let Some(secret) = &self.hmac_secret {
            return vec![keys::secret_candidate(
                secret.as_bytes().to_vec(),
                HMAC_SECRET_FILE.to_string(),
            )];
        }
        let mut out =
            keys::parse_key_bytes(self.jwks_text().as_bytes(), JWKS_FILE).unwrap_or_default();
        if let Some(pem) = &self.public_pem {
            out.extend(keys::parse_key_bytes(pem.as_bytes(), PUBLIC_PEM_FILE).unwrap_or_default());
        }
        out
    }
}

fn lf(pem: String) -> String {
    pem.replace("\r\n", "\n")
}

/// The throwaway keys of one run: the fixture key and a second key of the same
/// algorithm (the "wrong key", and the forger's key).
pub struct Throwaway {
    key: SigningKey,
    other: SigningKey,
    hmac_secret: Option<String>,
}

impl Throwaway {
    /// RSA 2048 for RS/PS, the algorithm's curve for ES, Ed25519 for EdDSA, a
    /// random 64-byte secret (as 86 base64url characters) for HS.
    pub fn generate(alg: Alg) -> Result<Throwaway, SignError> {
        let (key, hmac_secret) = if alg.family() == Family::Hmac {
            let mut bytes = vec![0u8; 64];
            aws_lc_rs::rand::fill(&mut bytes).map_err(|_| SignError::Generate(alg))?;
            let text = b64(&bytes);
            (
                SigningKey::from_hmac_secret(alg, text.as_bytes())?,
                Some(text),
            )
        } else {
            (SigningKey::generate(alg)?, None)
        };
        Ok(Throwaway {
            key,
            other: SigningKey::generate(alg)?,
            hmac_secret,
        })
    }

    pub fn alg(&self) -> Alg {
        self.key.alg()
    }

    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    pub fn other(&self) -> &SigningKey {
        &self.other
    }

    fn public_pem(&self) -> Option<String> {
        self.key.public_pem().map(lf)
    }

    pub fn files(&self) -> KeyFiles {
        KeyFiles {
            kid: FIXTURE_KID.to_string(),
            jwks: json!({"keys": [self.key.public_jwk(FIXTURE_KID)]}),
            public_pem: self.public_pem(),
            private_pem: self.key.private_pem().map(lf),
            hmac_secret: self.hmac_secret.clone(),
        }
    }

    /// HS256 over the same claims, keyed with the public PEM text (public.pem's bytes).
    pub fn confusion_token(
        &self,
        header: &Map<String, Value>,
        claims: &Map<String, Value>,
    ) -> Result<String, SignError> {
        let pem = self.public_pem().ok_or(SignError::WrongKey {
            alg: Alg::HS256,
            key: "HMAC",
        })?;
        let mut h = header.clone();
        h.insert("alg".into(), json!(Alg::HS256.name()));
        let input = signing_input(&h, claims);
        let sig = sign::hmac_sign(Alg::HS256, input.as_bytes(), pem.as_bytes());
        Ok(format!("{input}.{}", b64(&sig)))
    }

    /// An RS256 token (fresh RSA key) for an HS verifier.
    pub fn public_key_token(
        &self,
        header: &Map<String, Value>,
        claims: &Map<String, Value>,
    ) -> Result<(String, Alg), SignError> {
        Ok((self.token_with_alg(Alg::RS256, header, claims)?, Alg::RS256))
    }

    /// The claims signed by a fresh key of another algorithm.
    pub fn token_with_alg(
        &self,
        alg: Alg,
        header: &Map<String, Value>,
        claims: &Map<String, Value>,
    ) -> Result<String, SignError> {
        let key = SigningKey::generate(alg)?;
        let mut h = header.clone();
        h.insert("alg".into(), json!(alg.name()));
        sign(&h, claims, &key)
    }

    /// Signed by the other key, whose public JWK rides in the header.
    pub fn embedded_jwk_token(
        &self,
        header: &Map<String, Value>,
        claims: &Map<String, Value>,
    ) -> Result<String, SignError> {
        let mut h = header.clone();
        h.insert("jwk".into(), self.other.public_jwk(ATTACKER_KID));
        sign(&h, claims, &self.other)
    }

    /// The header with the key-carrying parameters the user's header had.
    pub fn injected_header(
        &self,
        header: &Map<String, Value>,
        user: Option<&Map<String, Value>>,
    ) -> Map<String, Value> {
        let mut h = header.clone();
        let present: Vec<&str> = ["jwk", "jku", "x5u", "x5c"]
            .into_iter()
            .filter(|k| user.is_some_and(|u| u.contains_key(*k)))
            .collect();
        for k in &present {
            let v = match *k {
                "jwk" if self.alg().family() != Family::Hmac => self.other.public_jwk(ATTACKER_KID),
                "jwk" => json!({"kty": "oct", "k": b64(b"placeholder")}),
                "x5c" => json!([STANDARD.encode(b"placeholder certificate")]),
                _ => json!(ATTACKER_URL),
            };
            h.insert((*k).to_string(), v);
        }
        if present.is_empty() {
            h.insert("jku".into(), json!(ATTACKER_URL));
        }
        h
    }

    /// Signed with the first well-known secret of jwtai's list.
    pub fn weak_secret_token(
        &self,
        header: &Map<String, Value>,
        claims: &Map<String, Value>,
    ) -> Result<String, SignError> {
        let secret = crate::verify::weak_secrets().next().unwrap_or("secret");
        let key = SigningKey::from_hmac_secret(self.alg(), secret.as_bytes())?;
        sign(header, claims, &key)
    }
}

/// Which time claims the token has, and its lifetime.
#[derive(Debug, Clone, Copy, Default)]
pub struct Times {
    pub exp: bool,
    pub iat: bool,
    pub nbf: bool,
    pub auth_time: bool,
    /// exp − iat in seconds.
    pub lifetime: i64,
    /// iat − nbf in seconds (nbf slightly before iat to absorb skew).
    pub nbf_lead: i64,
}

impl Times {
    pub fn any(&self) -> bool {
        self.exp || self.iat || self.nbf
    }
}

/// The user's token shape, with placeholder values.
#[derive(Debug, Clone)]
pub struct Mirror {
    pub header: Map<String, Value>,
    /// Claims without time values (they are set per fixture).
    claims: Map<String, Value>,
    pub times: Times,
    pub aud_array: bool,
    /// The user's other `aud` values (array form), kept unless they look personal.
    aud_rest: Vec<Value>,
    /// ID-token claims (`nonce`, `at_hash`, `c_hash`) left out, with placeholders.
    pub id_markers: Vec<(String, Value)>,
    pub notes: Vec<String>,
    now: i64,
}

impl Mirror {
    pub fn new(
        header: &Map<String, Value>,
        claims: &Map<String, Value>,
        verifier: &Verifier,
        keys: &Throwaway,
        now: i64,
    ) -> Mirror {
        let mut notes = Vec::new();
        let alg = keys.alg();
        let mut h = Map::new();
        h.insert("alg".into(), json!(alg.name()));
        let mut dropped = Vec::new();
        for (k, v) in header {
            match k.as_str() {
                "alg" => {}
                "kid" => {
                    h.insert(k.clone(), json!(FIXTURE_KID));
                }
                "typ" | "cty" => {
                    h.insert(
                        k.clone(),
                        keep_short_text(v).unwrap_or_else(|| json!("JWT")),
                    );
                }
                "jwk" | "jku" | "x5u" | "x5c" | "x5t" | "x5t#S256" | "crit" => {
                    dropped.push(format!("`{k}`"));
                }
                _ => {
                    h.insert(k.clone(), placeholder(k, v, 0));
                }
            }
        }
        if !dropped.is_empty() {
            notes.push(format!(
                "Header parameters {} are left out of the fixtures: a verifier must not rely on them (see the found-* cases if jwtai flagged them).",
                dropped.join(", ")
            ));
        }

        let secs = |name: &str| {
            claims
                .get(name)
                .and_then(Value::as_f64)
                .and_then(crate::checks::time::numeric_date_seconds)
        };
        let (exp, iat, nbf) = (secs("exp"), secs("iat"), secs("nbf"));
        let mut lifetime = match (exp, iat.or(nbf)) {
            (Some(e), Some(start)) => e.saturating_sub(start),
            _ => DEFAULT_LIFETIME,
        };
        if lifetime > MAX_LIFETIME {
            notes.push(
                "Your token's lifetime is over 100 years; the fixtures use 100 years.".into(),
            );
            lifetime = MAX_LIFETIME;
        }
        if lifetime < 2 {
            notes.push(format!(
                "Your token's lifetime (exp − iat) is {lifetime} s; the fixtures use 1 h."
            ));
            lifetime = DEFAULT_LIFETIME;
        }
        let nbf_lead = match (iat, nbf) {
            (Some(i), Some(n)) => i
                .checked_sub(n)
                .filter(|lead| (0..=lifetime / 2).contains(lead))
                .unwrap_or(0),
            _ => 0,
        };
        let mut times = Times {
            exp: claims.contains_key("exp"),
            iat: claims.contains_key("iat"),
            nbf: claims.contains_key("nbf"),
            auth_time: claims.contains_key("auth_time"),
            lifetime,
            nbf_lead,
        };
        if times.exp && exp.is_none() || times.iat && iat.is_none() {
            notes.push(
                "Your token's time claims are not all numbers; the fixtures use NumericDate seconds (see found-timestamp-not-numeric).".into(),
            );
        }

        let aud_array = matches!(claims.get("aud"), Some(Value::Array(_)));
        let aud_rest: Vec<Value> = match claims.get("aud") {
            Some(Value::Array(a)) => a
                .iter()
                .filter(|v| {
                    v.as_str()
                        .is_some_and(|s| !verifier.audience.iter().any(|e| e == s))
                })
                .map(|v| keep_or_placeholder("aud", v))
                .take(MAX_ARRAY)
                .collect(),
            _ => Vec::new(),
        };

        let mut c = Map::new();
        let mut id_markers = Vec::new();
        let mut secrets = Vec::new();
        for (k, v) in claims {
            let value = match k.as_str() {
                "iss" => match verifier.issuer.first() {
                    Some(iss) => json!(iss),
                    None => keep_or_placeholder("iss", v),
                },
                "aud" => match verifier.audience.first() {
                    Some(aud) => aud_with(aud, aud_array, &aud_rest),
                    None => keep_or_placeholder("aud", v),
                },
                // Set per fixture; inserted here to keep the claim order.
                "exp" | "iat" | "nbf" | "auth_time" => json!(0),
                "sub" => json!("user-123"),
                "jti" => json!("fixture-jti-1"),
                "scope" | "scp" => scopes_placeholder(v),
                "typ" | "token_use" | "ver" => {
                    keep_short_text(v).unwrap_or_else(|| placeholder(k, v, 0))
                }
                "nonce" | "at_hash" | "c_hash" => {
                    id_markers.push((
                        k.clone(),
                        json!(format!("placeholder-{}", k.replace('_', "-"))),
                    ));
                    continue;
                }
                _ if sensitive::is_secret_name(k) && !v.is_null() && v != &Value::Bool(false) => {
                    secrets.push(format!("`{k}`"));
                    continue;
                }
                _ => placeholder(k, v, 0),
            };
            c.insert(k.clone(), value);
        }
        if !id_markers.is_empty() {
            notes.push(format!(
                "ID-token claims {} are left out: an API must not accept ID tokens.",
                id_markers
                    .iter()
                    .map(|(k, _)| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !secrets.is_empty() {
            notes.push(format!(
                "Claims named like secrets ({}) are left out: tokens must not carry secrets.",
                secrets.join(", ")
            ));
        }
        if let Some(iss) = verifier.issuer.first() {
            if !c.contains_key("iss") {
                c.insert("iss".into(), json!(iss));
                notes.push(
                    "The fixtures carry iss (your token has none): the verifier expects one."
                        .into(),
                );
            }
        }
        if let Some(aud) = verifier.audience.first() {
            if !c.contains_key("aud") {
                c.insert("aud".into(), json!(aud));
                notes.push(
                    "The fixtures carry aud (your token has none): the verifier expects one."
                        .into(),
                );
            }
        }
        for name in &verifier.required_claims {
            match name.as_str() {
                "exp" => times.exp = true,
                "iat" => times.iat = true,
                "nbf" => times.nbf = true,
                _ => {}
            }
            if lookup(&c, name).is_none() {
                let v = match name.as_str() {
                    "exp" | "iat" | "nbf" => json!(0),
                    "iss" => json!("https://issuer.example.com"),
                    "aud" => json!("https://api.example.com"),
                    "sub" => json!("user-123"),
                    _ => json!("placeholder"),
                };
                set_path(&mut c, name, v);
            }
        }
        for (name, want) in &verifier.claims {
            let typed = match lookup(claims, name) {
                Some(Value::Number(_) | Value::Bool(_)) => serde_json::from_str::<Value>(want)
                    .ok()
                    .filter(|v| v.is_number() || v.is_boolean()),
                _ => None,
            };
            set_path(&mut c, name, typed.unwrap_or_else(|| json!(want)));
        }
        add_scopes(&mut c, &verifier.scopes);
        if times.exp && !claims.contains_key("exp") || times.iat && !claims.contains_key("iat") {
            notes.push("Required time claims your token lacks are added to the fixtures.".into());
        }

        Mirror {
            header: h,
            claims: c,
            times,
            aud_array,
            aud_rest,
            id_markers,
            notes,
            now,
        }
    }

    /// The `iat` of the valid fixture: a little before the fixture instant.
    pub fn anchor(&self) -> i64 {
        self.now - (self.times.lifetime / 2).min(60)
    }

    /// The claims with every time claim placed relative to `iat` = `anchor`.
    pub fn claims_at(&self, anchor: i64) -> Map<String, Value> {
        let mut c = self.claims.clone();
        let t = &self.times;
        let mut set = |name: &str, present: bool, value: i64| {
            if present {
                c.insert(name.into(), json!(value));
            }
        };
        set("iat", t.iat, anchor);
        set("nbf", t.nbf, anchor - t.nbf_lead);
        set("auth_time", t.auth_time, anchor);
        set("exp", t.exp, anchor + t.lifetime);
        c
    }

    /// The same lifetime, shifted so that `exp` is `exp`.
    pub fn claims_with_exp(&self, exp: i64) -> Map<String, Value> {
        self.claims_at(exp - self.times.lifetime)
    }

    /// Valid claims with `nbf` set (added when the token has none); `exp` moves
    /// along so the window stays as long. The flag says whether nbf was added.
    pub fn claims_with_nbf(&self, nbf: i64) -> (Map<String, Value>, bool) {
        let mut c = self.claims_at(self.anchor());
        c.insert("nbf".into(), json!(nbf));
        if self.times.exp {
            c.insert("exp".into(), json!(nbf + self.times.lifetime));
        }
        (c, !self.times.nbf)
    }

    /// Valid claims with every time claim multiplied by 1000.
    pub fn claims_in_milliseconds(&self, anchor: i64) -> Map<String, Value> {
        let mut c = self.claims_at(anchor);
        for name in ["exp", "iat", "nbf", "auth_time"] {
            if let Some(v) = c.get(name).and_then(Value::as_i64) {
                c.insert(name.into(), json!(v.saturating_mul(1000)));
            }
        }
        c
    }

    /// Valid claims with the time claims that were not numbers in the user's
    /// token written as strings (digits if theirs were digits, else RFC 3339).
    pub fn claims_not_numeric(
        &self,
        user: Option<&Map<String, Value>>,
        anchor: i64,
    ) -> Map<String, Value> {
        let mut c = self.claims_at(anchor);
        let mut changed = false;
        for name in ["exp", "iat", "nbf"] {
            let Some(theirs) = user.and_then(|u| u.get(name)) else {
                continue;
            };
            if theirs.is_number() {
                continue;
            }
            let Some(ours) = c.get(name).and_then(Value::as_i64) else {
                continue;
            };
            let digits = theirs
                .as_str()
                .is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
            let text = if digits {
                ours.to_string()
            } else {
                crate::clock::rfc3339(ours).unwrap_or_else(|| ours.to_string())
            };
            c.insert(name.into(), json!(text));
            changed = true;
        }
        if !changed {
            let exp = c
                .get("exp")
                .and_then(Value::as_i64)
                .unwrap_or(anchor + self.times.lifetime);
            c.insert("exp".into(), json!(exp.to_string()));
        }
        c
    }

    /// An `aud` value in string or array form, first value `first`.
    pub fn aud_value(&self, first: &str, array: bool) -> Value {
        aud_with(first, array, &self.aud_rest)
    }
}

fn aud_with(first: &str, array: bool, rest: &[Value]) -> Value {
    if array {
        let mut v = vec![json!(first)];
        v.extend(rest.iter().filter(|r| r.as_str() != Some(first)).cloned());
        Value::Array(v)
    } else {
        json!(first)
    }
}

/// Short, non-personal text kept as is (`typ: "at+jwt"`); `None` otherwise.
fn keep_short_text(v: &Value) -> Option<Value> {
    let s = v.as_str()?;
    (s.len() <= 64 && sensitive::classify(s).is_none()).then(|| v.clone())
}

/// Keeps a value that identifies a party (iss, aud) unless it looks personal.
pub fn keep_or_placeholder(name: &str, v: &Value) -> Value {
    match v {
        Value::String(s) if sensitive::classify(s).is_none() => v.clone(),
        Value::Array(a) => Value::Array(
            a.iter()
                .take(MAX_ARRAY)
                .map(|x| keep_or_placeholder(name, x))
                .collect(),
        ),
        _ => placeholder(name, v, 0),
    }
}

fn scopes_placeholder(v: &Value) -> Value {
    let keep = |s: &str| {
        if sensitive::classify(s).is_none() {
            s.to_string()
        } else {
            "placeholder:scope".to_string()
        }
    };
    match v {
        Value::String(s) => json!(s.split_whitespace().map(keep).collect::<Vec<_>>().join(" ")),
        Value::Array(a) => Value::Array(
            a.iter()
                .take(MAX_ARRAY)
                .map(|x| match x.as_str() {
                    Some(s) => json!(keep(s)),
                    None => placeholder("scope", x, 1),
                })
                .collect(),
        ),
        other => placeholder("scope", other, 0),
    }
}

/// A value of the same JSON type that reveals nothing of the original.
pub fn placeholder(name: &str, v: &Value, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    match v {
        Value::String(s) => json!(placeholder_text(name, s)),
        Value::Number(n) if n.is_f64() => json!(1.5),
        Value::Number(_) => json!(123),
        Value::Bool(_) | Value::Null => v.clone(),
        Value::Array(a) => Value::Array(
            a.iter()
                .take(MAX_ARRAY)
                .map(|x| placeholder(name, x, depth + 1))
                .collect(),
        ),
        Value::Object(o) => Value::Object(
            o.iter()
                .enumerate()
                .map(|(i, (k, x))| {
                    let key = if sensitive::classify(k).is_some() {
                        format!("key-{}", i + 1)
                    } else {
                        k.clone()
                    };
                    (key, placeholder(k, x, depth + 1))
                })
                .collect(),
        ),
    }
}

fn placeholder_text(name: &str, s: &str) -> String {
    let lower = name.to_ascii_lowercase();
    match sensitive::classify(s) {
        Some(Shape::Email) => return "user@example.com".into(),
        Some(Shape::Phone) => return "+15555550100".into(),
        Some(Shape::Ip) => return "192.0.2.1".into(),
        _ => {}
    }
    if lower.contains("email") || lower == "upn" || lower == "mail" {
        "user@example.com".into()
    } else if crate::sensitive::is_uuid(s) {
        "00000000-0000-4000-8000-000000000000".into()
    } else if s.contains("://") {
        "https://example.com/placeholder".into()
    } else if sensitive::is_pii_name(name) {
        "Test User".into()
    } else {
        "placeholder".into()
    }
}

/// A claim by name, or by dotted path into nested objects (as `checks::claims` reads it).
pub fn lookup<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if let Some(v) = claims.get(name) {
        return Some(v);
    }
    let mut parts = name.split('.');
    let mut cur = claims.get(parts.next()?)?;
    for part in parts {
        cur = cur.get(part)?;
    }
    Some(cur)
}

/// Sets a claim by name, or by dotted path (creating objects on the way).
pub fn set_path(claims: &mut Map<String, Value>, name: &str, value: Value) {
    if claims.contains_key(name) || !name.contains('.') {
        claims.insert(name.to_string(), value);
        return;
    }
    let parts: Vec<&str> = name.split('.').collect();
    let mut cur = claims;
    for (i, part) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            cur.insert((*part).to_string(), value);
            return;
        }
        let entry = cur
            .entry((*part).to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Value::Object(next) = entry else { return };
        cur = next;
    }
}

/// Removes a claim by name, or the leaf of a dotted path.
pub fn remove_path(claims: &mut Map<String, Value>, name: &str) {
    if claims.shift_remove(name).is_some() {
        return;
    }
    let parts: Vec<&str> = name.split('.').collect();
    let Some((last, path)) = parts.split_last() else {
        return;
    };
    let mut cur = claims;
    for part in path {
        let Some(Value::Object(next)) = cur.get_mut(*part) else {
            return;
        };
        cur = next;
    }
    cur.shift_remove(*last);
}

/// Grants `scopes` in `scope` (or `scp`), in the token's form.
fn add_scopes(claims: &mut Map<String, Value>, scopes: &[String]) {
    if scopes.is_empty() {
        return;
    }
    let name = if claims.contains_key("scope") || !claims.contains_key("scp") {
        "scope"
    } else {
        "scp"
    };
    match claims.get_mut(name) {
        Some(Value::String(s)) => {
            for want in scopes {
                if !s.split_whitespace().any(|p| p == want) {
                    if !s.is_empty() {
                        s.push(' ');
                    }
                    s.push_str(want);
                }
            }
        }
        Some(Value::Array(a)) => {
            for want in scopes {
                if !a.iter().any(|v| v.as_str() == Some(want)) {
                    a.push(json!(want));
                }
            }
        }
        _ => {
            claims.insert(name.into(), json!(scopes.join(" ")));
        }
    }
}

/// Takes one scope out of `scope` and `scp`.
pub fn remove_scope(claims: &mut Map<String, Value>, scope: &str) {
    for name in ["scope", "scp"] {
        match claims.get_mut(name) {
            Some(Value::String(s)) => {
                *s = s
                    .split_whitespace()
                    .filter(|p| *p != scope)
                    .collect::<Vec<_>>()
                    .join(" ");
            }
            Some(Value::Array(a)) => a.retain(|v| v.as_str() != Some(scope)),
            _ => {}
        }
    }
}

/// The valid token with one claim changed and the original signature kept.
pub fn tamper(valid_token: &str, claims: &Map<String, Value>) -> String {
    let mut c = claims.clone();
    match c.get_mut("sub") {
        Some(sub) => *sub = json!("user-456"),
        None => {
            c.insert("admin".into(), json!(true));
        }
    }
    let parts: Vec<&str> = valid_token.split('.').collect();
    match parts.as_slice() {
        [header, _, sig] => format!(
            "{header}.{}.{sig}",
            b64(&serde_json::to_vec(&c).unwrap_or_default())
        ),
        _ => valid_token.to_string(),
    }
}

/// A line break inside the payload (part of the signed input).
pub fn with_whitespace(token: &str) -> String {
    let Some(dot) = token.find('.') else {
        return format!("{token}\n");
    };
    let at = dot + 1 + 10.min(token.len().saturating_sub(dot + 1) / 2);
    let mut s = token.to_string();
    s.insert(at.min(token.len()), '\n');
    s
}

/// Every segment re-encoded with the standard base64 alphabet and padding;
/// `None` when the signed part (header and payload) would not change, since
/// lenient decoders would then accept it.
pub fn standard_base64(token: &str) -> Option<String> {
    let segments: Vec<String> = token
        .split('.')
        .map(|seg| match URL_SAFE_NO_PAD.decode(seg) {
            Ok(bytes) => STANDARD.encode(bytes),
            Err(_) => seg.to_string(),
        })
        .collect();
    let original: Vec<&str> = token.split('.').collect();
    let changed = segments.iter().zip(&original).take(2).any(|(a, b)| a != b);
    changed.then(|| segments.join("."))
}

/// The extension names of the user's `crit`, or one placeholder name.
pub fn crit_names(user: Option<&Map<String, Value>>) -> Vec<String> {
    let names: Vec<String> = user
        .and_then(|h| h.get("crit"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .filter(|s| sensitive::classify(s).is_none())
                .map(|s| keys::sanitize(s, 40))
                .take(MAX_ARRAY)
                .collect()
        })
        .unwrap_or_default();
    if names.is_empty() {
        vec!["placeholder-extension".into()]
    } else {
        names
    }
}
