//! `suggest-tests`: the test matrix a JWT verifier must pass, derived from one
//! real token's shape, the server's expectations and the diagnosis of that token.
//!
//! Teams fix an auth bug and ship no test for it. This module owns the case list
//! as plain data ([`Case`]): what to send, what the verifier must answer, and
//! why. [`fixtures`] builds the tokens (the user's structure with placeholder
//! values, signed by throwaway keys); [`render`] turns the suite into a table,
//! JSON, a README and test code.
//!
//! Every case is judged by jwtai's own checks before it is handed out: a
//! fixture that does not produce its stated outcome is listed as not
//! applicable, with the reason, rather than shipped with a wrong expectation.

pub mod fixtures;
pub mod render;

use serde_json::{Map, Value, json};

use crate::alg::{Alg, Family};
use crate::checks::{self, Expectations};
use crate::findings::Severity;
use crate::report::Report;
use crate::sign::SignError;
use crate::token::{Kind, Token};
use crate::{clock, pipeline};
use fixtures::{KeyFiles, Mirror, Throwaway};

/// What the verifier under test is configured to accept.
#[derive(Debug, Clone, Default)]
pub struct Verifier {
    pub algorithms: Vec<String>,
    pub issuer: Vec<String>,
    pub audience: Vec<String>,
    pub leeway: i64,
    pub required_claims: Vec<String>,
    pub scopes: Vec<String>,
    pub claims: Vec<(String, String)>,
}

impl Verifier {
    /// The same settings as jwtai's expectations, judged at `at`.
    pub fn expectations(&self, at: i64) -> Expectations {
        Expectations {
            algs: self.algorithms.clone(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            require: self.required_claims.clone(),
            scopes: self.scopes.clone(),
            claims: self.claims.clone(),
            leeway: self.leeway,
            max_age: None,
            typ: None,
            crit: Vec::new(),
            now: at,
        }
    }
}

/// The outcome a verifier must produce for a fixture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Accept,
    /// Rejected; `code` is the jwtai finding that explains why.
    Reject {
        code: &'static str,
    },
}

impl Expect {
    pub fn outcome(self) -> &'static str {
        match self {
            Expect::Accept => "accept",
            Expect::Reject { .. } => "reject",
        }
    }

    pub fn code(self) -> Option<&'static str> {
        match self {
            Expect::Accept => None,
            Expect::Reject { code } => Some(code),
        }
    }
}

/// One test case: a fixture token and what the verifier must do with it.
#[derive(Debug, Clone)]
pub struct Case {
    /// Stable kebab-case id, usable as a test name.
    pub id: String,
    pub title: String,
    pub why: String,
    pub expect: Expect,
    /// The fixture as the verifier receives it (usually a compact JWS).
    pub token: String,
    /// The instant to verify at, unix seconds.
    pub verify_at: i64,
    pub notes: Vec<String>,
    /// The diagnosis of the user's token found this problem.
    pub from_diagnosis: bool,
}

/// A case of the standard matrix that does not apply to this token, and why.
#[derive(Debug, Clone)]
pub struct NotApplicable {
    pub id: String,
    pub title: String,
    pub why: String,
}

/// Everything `suggest-tests` produces.
#[derive(Debug)]
pub struct Suite {
    /// The fixed instant the fixtures were made for, unix seconds.
    pub now: i64,
    /// The algorithm of the fixtures (and of the throwaway key).
    pub alg: Alg,
    pub verifier: Verifier,
    pub keys: KeyFiles,
    pub cases: Vec<Case>,
    pub not_applicable: Vec<NotApplicable>,
    /// How the fixtures differ from the user's token, and which settings were derived.
    pub notes: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SuggestError {
    #[error(
        "suggest-tests needs a signed JWT (header.payload.signature) whose header and payload decode; this input is {0}: run `jwtai diagnose` on it first"
    )]
    NotAJws(&'static str),
    #[error(
        "cannot tell which algorithm your verifier uses: the token's alg is {0}; pass --alg with the algorithm the server accepts (e.g. --alg RS256)"
    )]
    NoAlg(String),
    #[error("--leeway {0} is over a year; no verifier should tolerate that much clock skew")]
    Leeway(i64),
    #[error("cannot make the fixtures: {0}")]
    Sign(#[from] SignError),
}

/// Derives the suite from the user's token, their expectations (flags) and the
/// diagnosis of the token under those expectations.
pub fn suggest(
    token: &Token,
    expect: &Expectations,
    report: &Report,
) -> Result<Suite, SuggestError> {
    let (Some(header), Some(claims)) = (token.header_map(), token.claims()) else {
        return Err(SuggestError::NotAJws(describe_kind(token)));
    };
    if token.kind != Kind::Jws {
        return Err(SuggestError::NotAJws(describe_kind(token)));
    }
    if !(0..=MAX_LEEWAY).contains(&expect.leeway) {
        return Err(SuggestError::Leeway(expect.leeway));
    }
    let mut notes = Vec::new();
    let alg = choose_alg(token.alg(), &expect.algs)?;
    let verifier = derive_verifier(alg, claims, expect, &mut notes);
    let keys = Throwaway::generate(alg)?;
    let mirror = Mirror::new(header, claims, &verifier, &keys, expect.now);
    notes.extend(mirror.notes.iter().cloned());
    let mut b = Builder {
        mirror: &mirror,
        keys: &keys,
        verifier: &verifier,
        now: expect.now,
        cases: Vec::new(),
        not_applicable: Vec::new(),
    };
    b.standard()?;
    b.diagnosed(token, report)?;
    let files = keys.files();
    let Builder {
        mut cases,
        mut not_applicable,
        ..
    } = b;
    self_check(&mut cases, &mut not_applicable, &verifier, &files);
    Ok(Suite {
        now: expect.now,
        alg,
        verifier,
        keys: files,
        cases,
        not_applicable,
        notes,
    })
}

fn describe_kind(token: &Token) -> &'static str {
    match token.kind {
        Kind::Opaque => "an opaque token (one segment)",
        Kind::Jwe => "an encrypted JWT (JWE)",
        Kind::Malformed => "not three segments",
        Kind::Jws => "a JWT whose header or payload does not decode to a JSON object",
    }
}

/// The fixtures' algorithm: the token's, when the verifier accepts it; else the
/// first one the verifier accepts.
fn choose_alg(token_alg: Option<&str>, allowed: &[String]) -> Result<Alg, SuggestError> {
    let allowed: Vec<Alg> = allowed.iter().filter_map(|a| Alg::from_name(a)).collect();
    match token_alg.and_then(Alg::from_name) {
        Some(a) if allowed.is_empty() || allowed.contains(&a) => Ok(a),
        _ => allowed.first().copied().ok_or_else(|| {
            SuggestError::NoAlg(match token_alg {
                Some(a) => format!("\"{}\"", crate::keys::sanitize(a, 20)),
                None => "missing".to_string(),
            })
        }),
    }
}

fn derive_verifier(
    alg: Alg,
    claims: &Map<String, Value>,
    expect: &Expectations,
    notes: &mut Vec<String>,
) -> Verifier {
    let mut algorithms: Vec<String> = expect
        .algs
        .iter()
        .filter(|a| Alg::from_name(a).is_some())
        .cloned()
        .collect();
    if algorithms.is_empty() {
        algorithms.push(alg.name().to_string());
        notes.push(format!(
            "Algorithms: {alg}, the token's own (pass --alg to pin what your server accepts)."
        ));
    }
    let mut issuer = expect.iss.clone();
    if issuer.is_empty() {
        if let Some(iss) = claims.get("iss").and_then(Value::as_str) {
            issuer.push(iss.to_string());
            notes.push(format!(
                "Issuer: \"{iss}\", taken from the token (pass --iss to set the one your server expects)."
            ));
        }
    }
    let mut audience = expect.aud.clone();
    if audience.is_empty() {
        let first = match claims.get("aud") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Array(a)) => a.iter().find_map(|v| v.as_str().map(str::to_string)),
            _ => None,
        };
        if let Some(aud) = first {
            notes.push(format!(
                "Audience: \"{aud}\", taken from the token (pass --aud to set the one your server expects)."
            ));
            audience.push(aud);
        }
    }
    Verifier {
        algorithms,
        issuer,
        audience,
        leeway: expect.leeway,
        required_claims: expect.require.clone(),
        scopes: expect.scopes.clone(),
        claims: expect.claims.clone(),
    }
}

/// Largest `--leeway` the fixtures are made for (one year).
const MAX_LEEWAY: i64 = 365 * 86_400;
/// Bound on how far the found-expired / found-not-yet-valid fixtures reach.
const MAX_REACH: i64 = 100 * 365 * 86_400;
/// Seconds an expired fixture is past its `exp` (beyond the leeway).
const LATE: i64 = 3600;
/// Seconds a not-yet-valid fixture's `nbf` lies ahead (beyond the leeway).
const EARLY: i64 = 3600;

struct Builder<'a> {
    mirror: &'a Mirror,
    keys: &'a Throwaway,
    verifier: &'a Verifier,
    now: i64,
    cases: Vec<Case>,
    not_applicable: Vec<NotApplicable>,
}

impl Builder<'_> {
    fn case(
        &mut self,
        id: impl Into<String>,
        title: impl Into<String>,
        why: impl Into<String>,
        expect: Expect,
        token: String,
    ) -> &mut Case {
        self.cases.push(Case {
            id: id.into(),
            title: title.into(),
            why: why.into(),
            expect,
            token,
            verify_at: self.now,
            notes: Vec::new(),
            from_diagnosis: false,
        });
        let last = self.cases.len() - 1;
        &mut self.cases[last]
    }

    fn not_applicable(
        &mut self,
        id: impl Into<String>,
        title: impl Into<String>,
        why: impl Into<String>,
    ) {
        self.not_applicable.push(NotApplicable {
            id: id.into(),
            title: title.into(),
            why: why.into(),
        });
    }

    fn sign(
        &self,
        header: &Map<String, Value>,
        claims: &Map<String, Value>,
    ) -> Result<String, SignError> {
        fixtures::sign(header, claims, self.keys.key())
    }

    fn valid_claims(&self) -> Map<String, Value> {
        self.mirror.claims_at(self.mirror.anchor())
    }

    /// The matrix every verifier needs, adapted to this token's shape.
    fn standard(&mut self) -> Result<(), SignError> {
        let m = self.mirror;
        let header = m.header.clone();
        let valid = self.valid_claims();
        let valid_token = self.sign(&header, &valid)?;
        self.case(
            "valid",
            "Valid token is accepted",
            "A token shaped like yours, signed by the right key, inside its lifetime, for the right issuer and audience: the verifier must accept it (a verifier that rejects everything passes every other case).",
            Expect::Accept,
            valid_token.clone(),
        );
        self.time_cases(&header)?;
        self.issuer_cases(&header, &valid)?;
        self.audience_cases(&header, &valid)?;
        self.claim_cases(&header, &valid)?;
        self.signature_cases(&header, &valid, &valid_token)?;
        Ok(())
    }

    fn time_cases(&mut self, header: &Map<String, Value>) -> Result<(), SignError> {
        let m = self.mirror;
        let (now, leeway) = (self.now, self.verifier.leeway);
        if m.times.exp {
            let expired = m.claims_with_exp(now - leeway - LATE);
            let token = self.sign(header, &expired)?;
            self.case(
                "expired",
                "Expired token is rejected",
                format!(
                    "exp is {} before the verification time, beyond the {leeway} s leeway. RFC 7519 §4.1.4: the token must not be accepted on or after exp.",
                    clock::duration(leeway + LATE)
                ),
                Expect::Reject { code: "expired" },
                token,
            );
            let inside = m.claims_with_exp(now - leeway + 1);
            let token = self.sign(header, &inside)?;
            let title = if leeway > 0 {
                format!(
                    "Expired {} s ago, inside the {leeway} s leeway: accepted",
                    leeway - 1
                )
            } else {
                "Expires 1 s after the verification time: accepted".to_string()
            };
            self.case(
                "leeway-just-inside",
                title,
                "The last second the verifier may accept: a verifier that drops the leeway, or compares with the wrong operator, fails here.",
                Expect::Accept,
                token,
            );
            let outside = m.claims_with_exp(now - leeway);
            let token = self.sign(header, &outside)?;
            let title = if leeway > 0 {
                format!("Expired exactly {leeway} s ago, the end of the leeway: rejected")
            } else {
                "exp equals the verification time: rejected".to_string()
            };
            self.case(
                "leeway-just-outside",
                title,
                "The first second the token is invalid: the time must be before exp + leeway (RFC 7519 §4.1.4). A verifier that uses `>` instead of `>=`, or a leeway larger than configured, accepts it.",
                Expect::Reject { code: "expired" },
                token,
            );
        } else {
            let why = "Your token has no `exp`, so there is no expiry to test. Tokens without exp are valid forever: issue them with exp and make the verifier require it.";
            self.not_applicable("expired", "Expired token is rejected", why);
            self.not_applicable("leeway-just-inside", "Expiry inside the leeway", why);
            self.not_applicable("leeway-just-outside", "Expiry just outside the leeway", why);
        }

        let nbf = now + leeway + EARLY;
        let (early, added) = m.claims_with_nbf(nbf);
        let token = self.sign(header, &early)?;
        let case = self.case(
            "not-yet-valid",
            "Token not valid yet (nbf in the future) is rejected",
            format!(
                "nbf is {} after the verification time, beyond the {leeway} s leeway. RFC 7519 §4.1.5: the token must not be accepted before nbf.",
                clock::duration(EARLY)
            ),
            Expect::Reject { code: "not-yet-valid" },
            token,
        );
        if added {
            case.notes.push(
                "Your token has no nbf; this fixture adds one. Verifiers must check nbf whenever it is present.".into(),
            );
        }

        if m.times.any() {
            let ms = m.claims_in_milliseconds(m.anchor());
            let token = self.sign(header, &ms)?;
            self.case(
                "ms-timestamps",
                "Time claims in milliseconds are rejected",
                "exp/iat/nbf written with Date.now() or currentTimeMillis(): the token seems valid for 50,000 years. NumericDate is seconds (RFC 7519 §2); most libraries do not notice, so the verifier must check.",
                Expect::Reject { code: "timestamp-in-milliseconds" },
                token,
            );
        } else {
            self.not_applicable(
                "ms-timestamps",
                "Time claims in milliseconds are rejected",
                "Your token has no time claims (exp, nbf, iat).",
            );
        }
        Ok(())
    }

    fn issuer_cases(
        &mut self,
        header: &Map<String, Value>,
        valid: &Map<String, Value>,
    ) -> Result<(), SignError> {
        let Some(expected) = self.verifier.issuer.first().cloned() else {
            let why = "There is no issuer to check: the token has no `iss` and no --iss was given. Pass --iss with your issuer; a verifier should always pin it.";
            self.not_applicable("wrong-issuer", "Token from another issuer is rejected", why);
            self.not_applicable(
                "issuer-trailing-slash",
                "Issuer differing by a trailing slash is rejected",
                why,
            );
            self.not_applicable("missing-issuer", "Token without iss is rejected", why);
            return Ok(());
        };
        let mut c = valid.clone();
        c.insert("iss".into(), json!(WRONG_ISSUER));
        let token = self.sign(header, &c)?;
        self.case(
            "wrong-issuer",
            "Token from another issuer is rejected",
            format!("iss is \"{WRONG_ISSUER}\"; the verifier expects \"{expected}\". A verifier that skips the issuer check accepts tokens from any tenant or environment that shares keys."),
            Expect::Reject { code: "issuer-mismatch" },
            token,
        );
        let toggled = match expected.strip_suffix('/') {
            Some(without) => without.to_string(),
            None => format!("{expected}/"),
        };
        if !self.verifier.issuer.contains(&toggled) {
            let mut c = valid.clone();
            c.insert("iss".into(), json!(toggled));
            let token = self.sign(header, &c)?;
            self.case(
                "issuer-trailing-slash",
                "Issuer differing by a trailing slash is rejected",
                format!("iss is \"{toggled}\", the expected one is \"{expected}\". Issuers are compared as exact strings; the fix for this bug is configuring the exact issuer, not loosening the comparison."),
                Expect::Reject { code: "issuer-trailing-slash" },
                token,
            );
        }
        let mut c = valid.clone();
        c.shift_remove("iss");
        let token = self.sign(header, &c)?;
        self.case(
            "missing-issuer",
            "Token without iss is rejected",
            "Some verifiers only compare iss when it is present; an expected issuer makes iss required.",
            Expect::Reject { code: "issuer-mismatch" },
            token,
        );
        Ok(())
    }

    fn audience_cases(
        &mut self,
        header: &Map<String, Value>,
        valid: &Map<String, Value>,
    ) -> Result<(), SignError> {
        let Some(expected) = self.verifier.audience.first().cloned() else {
            let why = "There is no audience to check: the token has no `aud` and no --aud was given. Pass --aud with your API's identifier; a verifier should always pin it.";
            self.not_applicable(
                "wrong-audience",
                "Token for another audience is rejected",
                why,
            );
            self.not_applicable("audience-array", "Audience as an array is accepted", why);
            self.not_applicable("missing-audience", "Token without aud is rejected", why);
            return Ok(());
        };
        let array = self.mirror.aud_array;
        let mut c = valid.clone();
        c.insert("aud".into(), self.mirror.aud_value(WRONG_AUDIENCE, array));
        let token = self.sign(header, &c)?;
        self.case(
            "wrong-audience",
            "Token for another audience is rejected",
            format!("aud is \"{WRONG_AUDIENCE}\"; the verifier expects \"{expected}\". A token minted for another API must not work on this one."),
            Expect::Reject { code: "audience-mismatch" },
            token,
        );
        let mut c = valid.clone();
        let flipped = if array {
            json!(expected)
        } else {
            json!([expected, ANOTHER_API])
        };
        c.insert("aud".into(), flipped);
        let token = self.sign(header, &c)?;
        if array {
            self.case(
                "audience-string",
                "Audience as a single string is accepted",
                format!("aud is the string \"{expected}\" instead of an array. RFC 7519 §4.1.3 allows both forms; verifiers that only handle one of them break when the issuer changes."),
                Expect::Accept,
                token,
            );
        } else {
            self.case(
                "audience-array",
                "Audience as an array is accepted",
                format!("aud is an array holding \"{expected}\" and another API. RFC 7519 §4.1.3 allows both forms; a verifier that compares aud as one string rejects valid tokens."),
                Expect::Accept,
                token,
            );
        }
        let mut c = valid.clone();
        c.shift_remove("aud");
        let token = self.sign(header, &c)?;
        self.case(
            "missing-audience",
            "Token without aud is rejected",
            "An expected audience makes aud required; a verifier that only checks aud when present accepts tokens meant for anyone.",
            Expect::Reject { code: "audience-missing" },
            token,
        );
        Ok(())
    }

    fn claim_cases(
        &mut self,
        header: &Map<String, Value>,
        valid: &Map<String, Value>,
    ) -> Result<(), SignError> {
        let v = self.verifier;
        if v.required_claims.is_empty() {
            self.not_applicable(
                "missing-claim",
                "Token without a required claim is rejected",
                "No --require given: name the claims your server needs (e.g. --require sub --require tenant_id) to get a case for each.",
            );
        }
        for name in &v.required_claims {
            let mut c = valid.clone();
            fixtures::remove_path(&mut c, name);
            let token = self.sign(header, &c)?;
            self.case(
                format!("missing-claim-{}", slug(name)),
                format!("Token without required claim `{name}` is rejected"),
                format!("The server needs `{name}`; a verifier that reads it without checking it exists fails open or crashes."),
                Expect::Reject { code: "missing-claim" },
                token,
            );
        }
        if v.scopes.is_empty() {
            self.not_applicable(
                "missing-scope",
                "Token without a required scope is rejected",
                "No --scope given: name the scopes your endpoint requires (e.g. --scope read:orders) to get a case for each.",
            );
        }
        for scope in &v.scopes {
            let mut c = valid.clone();
            fixtures::remove_scope(&mut c, scope);
            let token = self.sign(header, &c)?;
            self.case(
                format!("missing-scope-{}", slug(scope)),
                format!("Token without scope `{scope}` is rejected"),
                format!("The endpoint requires `{scope}`; the token grants the other scopes only. Authentication passing is not authorization."),
                Expect::Reject { code: "scope-missing" },
                token,
            );
        }
        for (name, want) in &v.claims {
            let mut c = valid.clone();
            fixtures::set_path(&mut c, name, json!(OTHER_VALUE));
            let token = self.sign(header, &c)?;
            self.case(
                format!("claim-mismatch-{}", slug(name)),
                format!("Token whose `{name}` is not \"{want}\" is rejected"),
                format!("`{name}` is \"{OTHER_VALUE}\"; the server requires \"{want}\"."),
                Expect::Reject {
                    code: "claim-mismatch",
                },
                token,
            );
        }
        Ok(())
    }

    fn signature_cases(
        &mut self,
        header: &Map<String, Value>,
        valid: &Map<String, Value>,
        valid_token: &str,
    ) -> Result<(), SignError> {
        let alg = self.keys.alg();
        let mut none = header.clone();
        none.insert("alg".into(), json!("none"));
        let token = format!("{}.", fixtures::signing_input(&none, valid));
        self.case(
            "alg-none",
            "Unsigned token (alg none) is rejected",
            "alg \"none\" with an empty signature: anyone can write such a token. Verifiers must pin the algorithms they accept (CVE-2015-9235).",
            Expect::Reject { code: "alg-none" },
            token,
        );
        let stripped = match valid_token.rsplit_once('.') {
            Some((input, _)) => format!("{input}."),
            None => valid_token.to_string(),
        };
        self.case(
            "signature-stripped",
            "Token with its signature stripped is rejected",
            format!("The header still says {alg}, the signature segment is empty. Some code paths skip verification when there is nothing to verify."),
            Expect::Reject { code: "signature-missing" },
            stripped,
        );

        if alg.family() == Family::Hmac {
            let (token, other) = self.keys.public_key_token(header, valid)?;
            self.case(
                "public-key-token",
                format!("{other} token sent to the {alg} verifier is rejected"),
                format!("A verifier set up for a shared secret must refuse public-key algorithms outright, or a forger picks the algorithm. (The classic algorithm confusion, an HS token signed with the server's public key, needs a verifier that holds a public key: {alg} verifiers hold a secret.)"),
                Expect::Reject { code: "alg-key-mismatch" },
                token,
            );
            self.not_applicable(
                "algorithm-confusion",
                "HS256 token signed with the public key as secret",
                format!("Your verifier uses {alg} with a shared secret; there is no public key to confuse. The case public-key-token covers the reverse."),
            );
        } else {
            let token = self.keys.confusion_token(header, valid)?;
            self.case(
                "algorithm-confusion",
                "HS256 token signed with the public key as HMAC secret is rejected",
                format!("The forger takes the server's public key (public.pem, byte for byte) as an HMAC secret. A verifier that lets the header choose the algorithm for its {alg} key accepts it (CVE-2016-10555)."),
                Expect::Reject { code: "algorithm-confusion" },
                token,
            );
        }

        let tampered = fixtures::tamper(valid_token, valid);
        self.case(
            "tampered-payload",
            "Token with a modified payload is rejected",
            "One claim changed after signing, the original signature kept. A verifier that decodes without verifying, or verifies a re-encoded payload, accepts it.",
            Expect::Reject { code: "signature-invalid" },
            tampered,
        );

        if alg.family() == Family::Hmac {
            self.not_applicable(
                "unknown-kid",
                "Token naming an unknown kid is rejected",
                format!("An {alg} verifier holds one shared secret and does not pick keys by kid."),
            );
        } else {
            let mut h = header.clone();
            h.insert("kid".into(), json!(UNKNOWN_KID));
            let token = self.sign(&h, valid)?;
            let case = self.case(
                "unknown-kid",
                "Token naming an unknown kid is rejected",
                format!("kid \"{UNKNOWN_KID}\" is not in the key set. The verifier must not fall back to another key, and should refetch the JWKS at most at a limited rate."),
                Expect::Reject { code: "kid-not-found" },
                token,
            );
            if !header.contains_key("kid") {
                case.notes
                    .push("Your token has no kid; this fixture adds one.".into());
            }
        }

        let token = fixtures::sign(header, valid, self.keys.other())?;
        self.case(
            "wrong-key",
            "Token signed by another key is rejected",
            format!("Same header and claims, signed by a different {alg} key (another environment, tenant or a rotated key)."),
            Expect::Reject { code: "signature-invalid" },
            token,
        );

        if alg.family() != Family::Hmac {
            let token = self.keys.embedded_jwk_token(header, valid)?;
            self.case(
                "embedded-jwk",
                "Token carrying its own key in the header (jwk) is rejected",
                "The forger signs with their own key and puts its public half in the header. A verifier that takes keys from the token accepts anything (CVE-2018-0114).",
                Expect::Reject { code: "header-key-injection" },
                token,
            );
        }
        Ok(())
    }

    /// Cases for what the diagnosis of the user's token found.
    fn diagnosed(&mut self, token: &Token, report: &Report) -> Result<(), SignError> {
        let mut seen: Vec<&str> = Vec::new();
        for f in report
            .findings
            .iter()
            .filter(|f| f.severity() == Severity::Error)
        {
            let code = f.code();
            if seen.contains(&code) {
                continue;
            }
            seen.push(code);
            self.regression(code, f, token)?;
        }
        Ok(())
    }

    fn mark(&mut self, id: &str, code: &str, title: &str) {
        if let Some(c) = self.cases.iter_mut().find(|c| c.id == id) {
            c.from_diagnosis = true;
            return;
        }
        self.not_applicable(
            format!("found-{code}"),
            title.to_string(),
            format!("jwtai found `{code}` in your token, but the case that tests it ({id}) does not apply here."),
        );
    }

    fn found(&mut self, code: &'static str, title: String, why: String, token: String) {
        self.cases.push(Case {
            id: format!("found-{code}"),
            title,
            why,
            expect: Expect::Reject { code },
            token,
            verify_at: self.now,
            notes: Vec::new(),
            from_diagnosis: true,
        });
    }

    fn regression(
        &mut self,
        code: &'static str,
        f: &crate::findings::Finding,
        token: &Token,
    ) -> Result<(), SignError> {
        let m = self.mirror;
        let header = m.header.clone();
        let valid = self.valid_claims();
        let title = f.spec.title;
        let ev = &f.evidence;
        let seconds = ev.get("seconds").and_then(Value::as_i64);
        match code {
            "expired" if m.times.exp => {
                let late = seconds.unwrap_or(LATE).clamp(self.verifier.leeway, MAX_REACH);
                let claims = m.claims_with_exp(self.now - late);
                let t = self.sign(&header, &claims)?;
                self.found(code, format!("Expired {} ago, like your token: rejected", clock::duration(late)), "Your token was rejected as expired; this fixture is expired by the same amount.".into(), t);
            }
            "not-yet-valid" => {
                let ahead = seconds.unwrap_or(EARLY).clamp(1, MAX_REACH);
                let (claims, _) = m.claims_with_nbf(self.now + self.verifier.leeway + ahead);
                let t = self.sign(&header, &claims)?;
                self.found(code, format!("nbf {} ahead, like your token: rejected", clock::duration(ahead)), "Your token's nbf lay in the future; so does this fixture's.".into(), t);
            }
            "timestamp-in-milliseconds" => self.mark("ms-timestamps", code, title),
            "timestamp-not-numeric" => {
                let claims = m.claims_not_numeric(token.claims(), m.anchor());
                let t = self.sign(&header, &claims)?;
                self.found(code, "Time claims as strings, like your token: rejected".into(), "Your token's time claims are not JSON numbers; this fixture writes them the same way.".into(), t);
            }
            "exp-before-iat" if m.times.exp && m.times.iat => {
                let anchor = m.anchor();
                let mut claims = m.claims_at(anchor);
                claims.insert("exp".into(), json!(anchor - LATE));
                let t = self.sign(&header, &claims)?;
                self.found(code, "exp before iat, like your token: rejected".into(), "Your token's validity window is empty; this fixture's too.".into(), t);
            }
            "issuer-mismatch" => match token.claims().and_then(|c| c.get("iss")) {
                None => self.mark("missing-issuer", code, title),
                Some(iss) => {
                    let mut claims = valid.clone();
                    claims.insert("iss".into(), fixtures::keep_or_placeholder("iss", iss));
                    let t = self.sign(&header, &claims)?;
                    self.found(code, "Your token's issuer: rejected".into(), format!("iss as in your token; the verifier expects {}.", self.verifier.issuer.join(" or ")), t);
                }
            },
            "issuer-trailing-slash" => self.mark("issuer-trailing-slash", code, title),
            "audience-mismatch" => {
                let aud = token.claims().and_then(|c| c.get("aud")).cloned().unwrap_or(Value::Null);
                let mut claims = valid.clone();
                claims.insert("aud".into(), fixtures::keep_or_placeholder("aud", &aud));
                let t = self.sign(&header, &claims)?;
                self.found(code, "Your token's audience: rejected".into(), format!("aud as in your token; the verifier expects {}.", self.verifier.audience.join(" or ")), t);
            }
            "audience-missing" => self.mark("missing-audience", code, title),
            "missing-claim" => match ev.get("claim").and_then(Value::as_str) {
                Some(name) => self.mark(&format!("missing-claim-{}", slug(name)), code, title),
                None => self.mark("missing-claim", code, title),
            },
            "scope-missing" => match ev.get("required").and_then(Value::as_str) {
                Some(s) => self.mark(&format!("missing-scope-{}", slug(s)), code, title),
                None => self.mark("missing-scope", code, title),
            },
            "claim-mismatch" => match ev.get("claim").and_then(Value::as_str) {
                Some(name) => self.mark(&format!("claim-mismatch-{}", slug(name)), code, title),
                None => self.mark("claim-mismatch", code, title),
            },
            "alg-none" => self.mark("alg-none", code, title),
            "signature-missing" => self.mark("signature-stripped", code, title),
            "signature-invalid" => self.mark("wrong-key", code, title),
            "algorithm-confusion" => self.mark("algorithm-confusion", code, title),
            "kid-not-found" => self.mark("unknown-kid", code, title),
            "alg-not-allowed" => match token.alg().and_then(Alg::from_name) {
                Some(user_alg) if user_alg != self.keys.alg() => {
                    let t = self.keys.token_with_alg(user_alg, &header, &valid)?;
                    self.found(code, format!("{user_alg} token, like yours: rejected"), format!("Your token is {user_alg}; the verifier accepts only {}.", self.verifier.algorithms.join(", ")), t);
                }
                _ => self.generic(code, title),
            },
            "alg-unknown" => {
                let name = token.alg().map(|a| crate::keys::sanitize(a, 20)).unwrap_or_else(|| "unknown".into());
                let mut h = header.clone();
                h.insert("alg".into(), json!(name));
                let input = fixtures::signing_input(&h, &valid);
                let sig = self.keys.key().sign(input.as_bytes())?;
                self.found(code, format!("alg \"{name}\", like your token: rejected"), "Algorithm names are case-sensitive registered names (RFC 7515 §4.1.1).".into(), format!("{input}.{}", fixtures::b64(&sig)));
            }
            "alg-missing" => {
                let mut h = header.clone();
                h.shift_remove("alg");
                let input = fixtures::signing_input(&h, &valid);
                let sig = self.keys.key().sign(input.as_bytes())?;
                self.found(code, "Header without alg, like your token: rejected".into(), "A JWS header must name its algorithm.".into(), format!("{input}.{}", fixtures::b64(&sig)));
            }
            "kid-suspicious" => {
                let mut h = header.clone();
                h.insert("kid".into(), json!(SUSPICIOUS_KID));
                let t = self.sign(&h, &valid)?;
                self.found(code, "kid holding a path traversal: rejected".into(), "Your token's kid holds injection text; a verifier that builds a path, query or URL from kid uses a key the attacker chose.".into(), t);
            }
            "header-key-injection" => {
                let h = self.keys.injected_header(&header, token.header_map());
                let t = self.sign(&h, &valid)?;
                self.found(code, "Header carrying key material (jwk/jku/x5u/x5c), like your token: rejected".into(), "A verifier must never take keys from the token; rejecting such tokens outright is the safe choice.".into(), t);
            }
            "crit-unsupported" => {
                let mut h = header.clone();
                let names = fixtures::crit_names(token.header_map());
                for n in &names {
                    h.insert(n.clone(), json!("placeholder"));
                }
                h.insert("crit".into(), json!(names));
                let t = self.sign(&h, &valid)?;
                self.found(code, "Critical header extension the verifier does not know: rejected".into(), "RFC 7515 §4.1.11: a verifier that does not implement an extension listed in crit must reject the token.".into(), t);
            }
            "id-token-as-access-token" => {
                let mut claims = valid.clone();
                for (k, v) in &m.id_markers {
                    claims.insert(k.clone(), v.clone());
                }
                let t = self.sign(&header, &claims)?;
                self.found(code, "ID token sent as an access token: rejected".into(), "Your token carries ID-token claims (nonce/at_hash/c_hash); APIs must accept only access tokens.".into(), t);
            }
            "weak-secret" if self.keys.alg().family() == Family::Hmac => {
                let t = self.keys.weak_secret_token(&header, &valid)?;
                self.found(code, "Token signed with a well-known secret: rejected".into(), "Your token verifies with a public, guessable secret. With the real (random) secret configured, such a token must fail.".into(), t);
            }
            "psychic-signature" if self.keys.alg().family() == Family::Ecdsa => {
                let input = fixtures::signing_input(&header, &valid);
                let zeros = vec![0u8; self.keys.alg().fixed_signature_len().unwrap_or(64)];
                self.found(code, "ECDSA signature of zeros: rejected".into(), "r = s = 0 verifies on Java 15-18 (CVE-2022-21449) for any message.".into(), format!("{input}.{}", fixtures::b64(&zeros)));
            }
            "whitespace-in-token" => {
                let t = fixtures::with_whitespace(&self.sign(&header, &valid)?);
                self.found(code, "Token with a line break inside: rejected".into(), "Your token arrived with whitespace inside (a wrapped copy, a folded header). Verifiers must not accept it silently; fix the transport.".into(), t);
            }
            "url-encoded" => {
                let t = self.sign(&header, &valid)?.replace('.', "%2E");
                self.found(code, "URL-encoded token: rejected".into(), "Your token arrived percent-encoded; decode it where it is read, once.".into(), t);
            }
            "bearer-prefix-duplicated" => {
                let t = format!("Bearer Bearer {}", self.sign(&header, &valid)?);
                self.found(code, "Bearer Bearer prefix: rejected".into(), "The client added `Bearer ` to a value that already had it.".into(), t);
            }
            "base64-standard-alphabet" => match fixtures::standard_base64(&self.sign(&header, &valid)?) {
                Some(t) => self.found(
                    code,
                    "Token in standard base64 (+, /, =): rejected".into(),
                    "JWTs are base64url without padding (RFC 7515 §2); a re-encoded token no longer matches its signature.".into(),
                    t,
                ),
                None => self.generic(code, title),
            },
            "secret-in-claims" | "pii-in-claims" => self.not_applicable(
                format!("found-{code}"),
                title.to_string(),
                "An issuer problem: the issuer must stop putting it in the token. A verifier test cannot catch it.",
            ),
            _ => self.generic(code, title),
        }
        Ok(())
    }

    fn generic(&mut self, code: &str, title: &str) {
        self.not_applicable(
            format!("found-{code}"),
            title.to_string(),
            format!("jwtai found `{code}` in your token, but it comes from your setup (keys, key set, secret handling, transport), not from a token a test can send: see `jwtai explain-code {code}`."),
        );
    }
}

const WRONG_ISSUER: &str = "https://wrong-issuer.example.com";
const WRONG_AUDIENCE: &str = "https://other-api.example.com";
const ANOTHER_API: &str = "https://another-api.example.com";
const OTHER_VALUE: &str = "other-value";
const UNKNOWN_KID: &str = "unknown-key-id";
const SUSPICIOUS_KID: &str = "../../../../dev/null";

/// Kebab-case fragment for case ids: `read:orders` → `read-orders`.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-').to_string();
    if out.is_empty() { "x".into() } else { out }
}

/// What jwtai's checks say about one fixture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    pub errors: Vec<&'static str>,
    pub signature_valid: bool,
}

impl Judgement {
    /// Accept: no error and a verified signature. Reject: the stated code is among the errors.
    pub fn agrees(&self, expect: Expect) -> bool {
        match expect {
            Expect::Accept => self.errors.is_empty() && self.signature_valid,
            Expect::Reject { code } => self.errors.contains(&code),
        }
    }
}

/// Runs jwtai's checks on a fixture as a verifier with `keys` would see it.
pub fn judge(token: &str, verifier: &Verifier, keys: &checks::Keys, at: i64) -> Judgement {
    let parsed = pipeline::parse(token);
    let report = pipeline::diagnose(
        &parsed,
        &verifier.expectations(at),
        keys,
        &Default::default(),
    );
    Judgement {
        errors: report
            .findings
            .iter()
            .filter(|f| f.severity() == Severity::Error)
            .map(|f| f.code())
            .collect(),
        signature_valid: report
            .findings
            .iter()
            .any(|f| f.code() == "signature-valid"),
    }
}

fn self_check(
    cases: &mut Vec<Case>,
    not_applicable: &mut Vec<NotApplicable>,
    verifier: &Verifier,
    files: &KeyFiles,
) {
    let keys = checks::Keys {
        candidates: files.candidates(),
        attempted: true,
        ..Default::default()
    };
    cases.retain(|c| {
        let j = judge(&c.token, verifier, &keys, c.verify_at);
        if j.agrees(c.expect) {
            return true;
        }
        let found = if j.errors.is_empty() {
            "no error".to_string()
        } else {
            j.errors.join(", ")
        };
        not_applicable.push(NotApplicable {
            id: c.id.clone(),
            title: c.title.clone(),
            why: format!(
                "Left out: jwtai's own checks report {found} on this fixture instead of the intended {}{}, so it would test the wrong thing (please report this).",
                c.expect.outcome(),
                c.expect.code().map(|code| format!(" ({code})")).unwrap_or_default()
            ),
        });
        false
    });
}

#[cfg(test)]
mod tests;
