//! Error text: the message the user's library printed (`--error`), matched
//! against the knowledge base, and weighed against this token's findings.
//!
//! Runs after every other family, because its main job is to say whether
//! jwtai's own findings explain the error — and when they do not, that the
//! server saw a different token or a different clock.

use serde_json::{Value, json};

use super::Context;
use crate::clock::{duration, utc};
use crate::errortext::{ErrorMatch, QuotedTime, Topic};
use crate::findings::{Finding, Severity::*, Spec};
use crate::input::Wrapper;
use crate::token::json::Members;

pub static ERROR_TEXT_MATCHED: Spec = Spec {
    code: "error-text-matched",
    severity: Info,
    title: "Error message recognised",
    doc: "The `--error` text matches a known message of a JWT library; jwtai names the library, what the message means and which findings explain it.",
    fix: "Fix the findings listed as explaining the error; if none does, compare the token and clock the server actually saw with the ones given here.",
    rank: 0,
};
pub static ERROR_TEXT_UNKNOWN: Spec = Spec {
    code: "error-text-unknown",
    severity: Info,
    title: "Error message not recognised",
    doc: "The `--error` text matches no message in jwtai's knowledge base. The findings come from the token alone; no guess is made about what the message means.",
    fix: "Paste the library's exact message (the first line of the exception, not a wrapper), or diagnose from the findings.",
    rank: 0,
};

pub static SPECS: &[&Spec] = &[&ERROR_TEXT_MATCHED, &ERROR_TEXT_UNKNOWN];

/// The user's error text, matched; plain data from `run`.
#[derive(Debug, Default)]
pub struct ErrorText {
    /// The text as the user gave it (only ever sent after `Redacted::text`).
    pub text: Option<String>,
    pub given: bool,
    pub matches: Vec<ErrorMatch>,
    /// Expectations taken from the message, e.g. "--aud https://api (from the error text)".
    pub applied: Vec<String>,
}

impl ErrorText {
    /// The codes the best match says explain the error (for ranking).
    pub fn explaining_codes(&self) -> Vec<&str> {
        self.matches
            .first()
            .map(|m| m.codes().iter().map(String::as_str).collect())
            .unwrap_or_default()
    }
}

pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let e = ctx.error;
    if !e.given {
        return;
    }
    let Some(best) = e.matches.first() else {
        out.push(Finding::new(
            &ERROR_TEXT_UNKNOWN,
            "jwtai does not recognise this error message; the findings below come from the token alone.",
        ));
        return;
    };
    let entry = best.entry;
    let told = told_by_message(ctx, best, out);
    let told_code = told.as_ref().map(Finding::code);
    out.extend(told);
    let verified = out.iter().any(|f| f.code() == "signature-valid");
    let mut explaining: Vec<&'static str> = out
        .iter()
        .filter(|f| Some(f.code()) == told_code || explains(ctx, best, f, verified))
        .map(Finding::code)
        .collect();
    // One code may have several findings (two unusable keys): name it once.
    let mut seen = Vec::new();
    explaining.retain(|c| {
        let first = !seen.contains(c);
        seen.push(*c);
        first
    });
    let mut detail = format!(
        "{} says \"{}\": {}",
        entry.library,
        clip(&best.matched_text, 160),
        entry.meaning
    );
    let mut raised = Vec::new();
    if !explaining.is_empty() {
        detail.push_str(&format!(
            " Explained by: {}.",
            explaining
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        // The server rejects for what only a warning (or context) says
        // here: for this server it is the error.
        let rejected = out
            .iter()
            .any(|f| explaining.contains(&f.code()) && f.severity() == Error);
        if !rejected {
            for f in out.iter_mut().filter(|f| explaining.contains(&f.code())) {
                f.raised = true;
                // The code's usual severity is lower: say why it is an error here.
                if let Value::Object(e) = &mut f.evidence {
                    e.insert("raised_by_error_text".into(), Value::Bool(true));
                }
                f.detail.push(' ');
                f.detail.push_str(&raised_note(ctx, f.code(), best));
                raised.push(f.code());
            }
            detail.push_str(&format!(
                " Raised to error in this report: {} rejects the token for {}, although many verifiers accept it.",
                entry.library,
                if raised.len() == 1 { "it" } else { "them" }
            ));
        }
    } else if let Some(why) = disagreement(ctx, best, out, verified) {
        detail.push(' ');
        detail.push_str(&why);
    }
    for note in different_token(ctx, best) {
        detail.push(' ');
        detail.push_str(&note);
    }
    if !e.applied.is_empty() {
        detail.push_str(&format!(
            " Expectations taken from the message: {}.",
            e.applied.join(", ")
        ));
    }
    for other in e.matches.iter().skip(1).take(3) {
        detail.push_str(&format!(
            " Also matched: {} \"{}\".",
            other.entry.library,
            clip(&other.matched_text, 80)
        ));
    }
    out.push(Finding::new(&ERROR_TEXT_MATCHED, detail).evidence(json!({
        "library": entry.library,
        "id": entry.id,
        "source": entry.source,
        "line": best.line,
        "codes": best.codes(),
        "explained_by": explaining,
        "raised": raised,
    })));
}

/// Whether finding `f` explains the matched message: the entry names its
/// code (or a code it is a special case of), and it says something is wrong.
/// Context explains only where it is the cause: a JWE given to a JWS
/// verifier, or a wrapper the verifier may have received with the token.
fn explains(ctx: &Context, m: &ErrorMatch, f: &Finding, verified: bool) -> bool {
    // The token verifies with the set given: a problem of another key of
    // the set explains nothing about it.
    if verified && matches!(f.code(), "jwks-key-unusable" | "jwks-duplicate-kid") {
        return false;
    }
    let named = m
        .codes()
        .iter()
        .any(|c| c == f.code() || special_case(c, f.code()));
    // A code about one claim explains a message naming other claims only
    // if it names none (`missing required "aud"` is not about `exp`).
    let about = match f.code() {
        "exp-missing" => Some("exp"),
        "audience-missing" => Some("aud"),
        "issued-in-future" => Some("iat"),
        _ => None,
    };
    let names = &m.expected.claims;
    if about.is_some_and(|c| !names.is_empty() && !names.iter().any(|n| n == c)) {
        return false;
    }
    named
        && match f.code() {
            "jwe-token" => true,
            "input-extracted" => ctx
                .wrappers
                .iter()
                .any(|w| reaches_verifier(w, m.entry.topic())),
            _ => f.severity() != Info,
        }
}

/// Whether wrapper `w` may be what the verifier received, for a message
/// of `topic`: a prefix or quotes left on for "malformed"; a place it does
/// not read (cookie, query, another header or scheme) for "no token".
fn reaches_verifier(w: &Wrapper, topic: Topic) -> bool {
    match topic {
        Topic::Input => w.may_reach_verifier(),
        _ => w.may_reach_verifier() && !w.is_location(),
    }
}

/// A finding only the server's message can establish, because it names a
/// setting no flag gave: a maximum token age (`maxAge exceeded`), a
/// required `typ`. `None` when a flag already produced it, or when this
/// token cannot be what the message says.
fn told_by_message(ctx: &Context, m: &ErrorMatch, out: &[Finding]) -> Option<Finding> {
    use super::header::TYP_MISMATCH;
    use super::time::TOKEN_TOO_OLD;
    let first = m.entry.codes.first().map(String::as_str)?;
    let lib = &m.entry.library;
    let has = |code: &str| out.iter().any(|f| f.code() == code);
    match first {
        "token-too-old" if !has("token-too-old") && !has("expired") => {
            let now = ctx.expect.now;
            // "iat required when maxAge is specified" is about a token
            // without iat; only an age message measures this one.
            let age_message = measures_age(m);
            match claim_secs(ctx, "iat") {
                // `claim_secs` bounds iat, so `now - iat` cannot overflow.
                Some(iat) if iat < now && age_message => Some(
                    Finding::new(
                        &TOKEN_TOO_OLD,
                        format!(
                            "{lib} bounds a token's age from `iat` (a maximum-age option: maxAge, maxTokenAge, maxAgeSec), and this token is {} old at now ({}; iat {}): the verifier's maximum age is below {}.",
                            duration(now - iat),
                            utc(now),
                            utc(iat),
                            duration(now - iat)
                        ),
                    )
                    .evidence(json!({"iat": iat, "now": now, "age": now - iat})),
                ),
                None if !has_claim(ctx, "iat") => Some(
                    Finding::new(
                        &TOKEN_TOO_OLD,
                        format!("{lib} is configured with a maximum token age, and this token has no `iat` to measure it from."),
                    )
                    .fix("Have the issuer set `iat`, or drop the maximum-age option and rely on `exp`."),
                ),
                _ => None,
            }
        }
        "typ-mismatch" if !has("typ-mismatch") => {
            let typ = ctx.token.header_str("typ");
            let mut f = Finding::new(
                &TYP_MISMATCH,
                format!(
                    "{lib} requires a `typ` header this token does not carry: its typ is {}. Pass the required value with --typ to compare.",
                    typ.map_or("absent".to_string(), |t| format!("\"{t}\""))
                ),
            )
            .evidence(json!({"typ": typ}));
            if !typ.is_some_and(|t| super::header::typ_matches(t, "at+jwt")) {
                f.detail.push_str(" Verifiers of RFC 9068 access tokens require `at+jwt`; an ID token or a plain `JWT` is refused.");
            }
            Some(f)
        }
        "claim-mismatch" if !has("claim-mismatch") => type_told(ctx, m)
            .or_else(|| kind_told(ctx, m))
            .or_else(|| login_told(ctx, m)),
        "claim-mismatch" | "error-text-matched" => type_told(ctx, m),
        "kid-not-found" | "kid-missing" if !has("kid-missing") => kid_absent_told(ctx, m),
        "scope-missing" if !has("scope-missing") => scope_told(ctx, m),
        "wrong-segment-count" if !has("wrong-segment-count") => jwe_expected_told(ctx, m),
        _ => None,
    }
}

/// Type errors only some libraries check, told by the message: PyJWT 2.10
/// and python-jose want `sub` and `jti` as strings; PyJWT's `strict_aud`
/// wants `aud` as one string.
fn type_told(ctx: &Context, m: &ErrorMatch) -> Option<Finding> {
    use super::claims::{AUDIENCE_MISMATCH, CLAIM_MISMATCH};
    let lib = &m.entry.library;
    let claims = ctx.token.claims()?;
    // "Invalid audience (strict)" is about the server's audience= list;
    // only "Invalid claim format in token (strict)" is about the token's aud.
    if m.entry.id == "pyjwt-invalid-claim-format-strict" {
        let aud = claims.member("aud")?;
        if aud.is_string() {
            return None;
        }
        return Some(
            Finding::new(
                &AUDIENCE_MISMATCH,
                format!("{lib} is called with options={{'strict_aud': True}}, which accepts only an `aud` that is one string, and this token's aud is {}.", super::show(aud)),
            )
            .fix("Issue the token with `aud` as a single string, or call jwt.decode() without strict_aud.")
            .evidence(json!({"aud": aud, "strict": true})),
        );
    }
    if !m.entry.id.ends_with("-not-string") {
        return None;
    }
    let [name] = m.entry.claims.as_slice() else {
        return None;
    };
    let value = claims.member(name)?;
    if value.is_string() || value.is_null() {
        return None;
    }
    // An audience may be an array of strings (RFC 7519 §4.1.3).
    if name == "aud"
        && value
            .as_array()
            .is_some_and(|a| a.iter().all(Value::is_string))
    {
        return None;
    }
    Some(
        Finding::new(
            &CLAIM_MISMATCH,
            format!("`{name}` is {}, not a string: RFC 7519 makes it one, and {lib} refuses any other type (many other libraries let it pass).", crate::jsontype::phrase(value)),
        )
        .fix(format!("Issue `{name}` as a string (a JSON string, not a number or an object) at the issuer."))
        .evidence(json!({"claim": name, "type": crate::jsontype::name(value)})),
    )
}

/// Whether the message says the token is older than the verifier's maximum
/// age (jsonwebtoken's "maxAge exceeded", @hapi/jwt's "Token maximum age
/// exceeded"), not that it lacks the `iat` to measure it from.
fn measures_age(m: &ErrorMatch) -> bool {
    m.entry.codes.first().is_some_and(|c| c == "token-too-old")
        && !m.entry.codes.iter().any(|c| c == "missing-claim")
}

/// An OIDC client's "nonce" or "azp" mismatch that does not quote what it
/// expected (openid-client v5's "azp mismatch, got: X", oauth4webapi's
/// "unexpected ID Token 'nonce' claim value"). The expected values are the
/// client's own: the nonce it stored when the login started, and its
/// client_id. The token's value is what the message is about; for `azp` the
/// flags or the token's audiences say what it should have been.
fn login_told(ctx: &Context, m: &ErrorMatch) -> Option<Finding> {
    use super::claims::CLAIM_MISMATCH;
    if m.expected.value.is_some() || m.entry.value.is_some() {
        return None;
    }
    let [name] = m.entry.claims.as_slice() else {
        return None;
    };
    let lib = &m.entry.library;
    let value = ctx.token.claims()?.member(name)?.as_str()?;
    let finding = match name.as_str() {
        "nonce" => Finding::new(
            &CLAIM_MISMATCH,
            format!("{lib} compares an ID token's `nonce` with the one it stored when this login started (in a cookie or the session), and this token's nonce \"{value}\" is not that one: the ID token answers another authorization request. A second login in another tab overwrote the stored nonce, a callback URL was replayed (back button, a bookmarked or retried callback), or the stored nonce was lost (a cookie dropped by SameSite or another domain, a session not shared between instances)."),
        )
        .fix("Start the login again from the application (one login at a time per browser), and keep the cookie or session that holds the nonce across the redirect: SameSite=Lax, the callback on the same domain, a shared session store.")
        .evidence(json!({"claim": "nonce", "actual": value})),
        "azp" => {
            let expected = &ctx.expect.aud;
            // The client_id given with --aud is the token's azp: the
            // message is not about this token, or not with these flags.
            if expected.iter().any(|a| a == value) {
                return None;
            }
            let aud = claim_strings(ctx, "aud");
            let why = if !expected.is_empty() {
                format!("the client_id ({}, --aud)", expected.join(" or "))
            } else if !aud.is_empty() && !aud.iter().any(|a| a == value) {
                format!("any of the token's audiences ({}), one of which is the client's id since the audience check passed", aud.join(", "))
            } else {
                "the client's own client_id".to_string()
            };
            Finding::new(
                &CLAIM_MISMATCH,
                format!("{lib} requires an ID token's `azp` (authorized party) to be its own client_id, and this token's azp \"{value}\" is not {why}: the ID token was issued to another client of the same provider, which also named this client in `aud`."),
            )
            .fix("Log in through this application's own client (its client_id in the authorization request), or configure the provider not to issue ID tokens for several audiences to other clients.")
            .evidence(json!({"claim": "azp", "actual": value, "expected": expected}))
        }
        // Any other one claim the verifier compares with a value of its
        // configuration (PyJWT's subject=): the message establishes the
        // mismatch; the value is not repeated (sub may be personal data).
        _ => Finding::new(
            &CLAIM_MISMATCH,
            format!("{lib} compares this token's `{name}` with a value it is configured with, and they differ; the message does not say which value it wants: pass it with --claim {name}=VALUE to compare."),
        )
        .evidence(json!({"claim": name})),
    };
    Some(finding)
}

/// A scope message that does not quote the scopes the verifier wants
/// (passport-azure-ad's "none of the scopes 'User.Read' in token is
/// accepted", "scope is not found in token"): what this token carries.
fn scope_told(ctx: &Context, m: &ErrorMatch) -> Option<Finding> {
    use super::claims::SCOPE_MISSING;
    if !m.expected.scopes.is_empty() || !ctx.expect.scopes.is_empty() {
        return None;
    }
    let claims = ctx.token.claims()?;
    let lib = &m.entry.library;
    let granted: Vec<String> = ["scp", "scope"]
        .iter()
        .filter_map(|n| claims.member(n))
        .flat_map(|v| match v.as_str() {
            Some(s) => s.split_whitespace().map(str::to_string).collect(),
            None => super::strings(v),
        })
        .collect();
    let detail = if granted.is_empty() {
        let roles = claims.member("roles").map(super::show);
        format!(
            "{lib} requires a delegated scope, and this token carries none (no `scp` or `scope`){}.",
            roles.map_or(String::new(), |r| format!(
                "; its permissions are in `roles` ({r}): an app-only token (client credentials), which an API that only accepts user tokens refuses"
            ))
        )
    } else {
        format!(
            "{lib} accepts none of this token's scopes ({}); the message does not say which it wants: pass them with --scope to compare.",
            granted.join(" ")
        )
    };
    Some(Finding::new(&SCOPE_MISSING, detail).evidence(json!({"granted": granted})))
}

/// A message of a verifier that decrypts (jose's "Invalid Compact JWE",
/// about the JWE's `enc`) on a signed JWT: the token is not one it wrote.
fn jwe_expected_told(ctx: &Context, m: &ErrorMatch) -> Option<Finding> {
    use super::structure::WRONG_SEGMENT_COUNT;
    let t = ctx.token;
    if !m.entry.claims.iter().any(|c| c == "enc")
        || t.segment_count != 3
        || t.header_str("enc").is_some()
    {
        return None;
    }
    let alg = t.header_str("alg").unwrap_or("?");
    Some(
        Finding::new(
            &WRONG_SEGMENT_COUNT,
            format!(
                "{} decrypts encrypted JWTs (JWE, five segments), and this is a signed JWT (JWS, three segments, alg {alg}): not a token it wrote, however it verifies.",
                m.entry.library
            ),
        )
        .fix("Put only what the library's own encode() writes where it reads (for NextAuth.js / Auth.js the session cookie); send signed JWTs to an API's verifier instead.")
        .evidence(json!({"segments": 3, "expected": 5})),
    )
}

/// The claims that say which kind of token of a pair this is: simplejwt's
/// `token_type`, flask-jwt-extended's `type` ("access" or "refresh").
const KIND_CLAIMS: &[&str] = &["token_type", "type"];

/// "Token has wrong type" with no value quoted or implied: the server wants
/// the other token of the access/refresh pair than this one, whose kind claim
/// is no personal data and is quoted.
fn kind_told(ctx: &Context, m: &ErrorMatch) -> Option<Finding> {
    use super::claims::CLAIM_MISMATCH;
    if m.expected.value.is_some() || m.entry.value.is_some() {
        return None;
    }
    let [name] = m.entry.claims.as_slice() else {
        return None;
    };
    if !KIND_CLAIMS.contains(&name.as_str()) {
        return None;
    }
    let kind = ctx.token.claims()?.member(name)?.as_str()?;
    let lib = &m.entry.library;
    let which = match kind {
        "refresh" => {
            " This is a refresh token: it belongs only to the refresh endpoint, which trades it for a new access token; the API wants the access token."
        }
        "access" => {
            " This is an access token: the refresh endpoint takes the refresh token of the pair, not it."
        }
        _ => "",
    };
    Some(
        Finding::new(
            &CLAIM_MISMATCH,
            format!("{lib} wants another kind of token here than this one, whose `{name}` is \"{kind}\".{which}"),
        )
        .fix("Send each token of the pair where it belongs: the access token in `Authorization: Bearer`, the refresh token only to the refresh endpoint.")
        .evidence(json!({"claim": name, "actual": kind})),
    )
}

/// How libraries print a kid that is not there.
fn is_absent_kid(quoted: &str) -> bool {
    matches!(
        quoted.to_ascii_lowercase().as_str(),
        "none" | "null" | "undefined" | ""
    )
}

/// The token has no kid and the message is about one it lacks: the kid
/// quoted is the missing one ("None", "null", "undefined"), or the message
/// quotes none and its library looks keys up by kid (`kid-missing` among
/// its codes). A verifier that looks keys up by kid finds none for a token
/// without a kid, however many keys the set holds (PyJWKClient, ruby-jwt's
/// `jwks:`, json-jwt's JWK::Set).
fn kid_absent_told(ctx: &Context, m: &ErrorMatch) -> Option<Finding> {
    use super::signature::KID_MISSING;
    // A token whose header was read, and that has no kid.
    if ctx.token.header_map().is_none() || ctx.token.kid().is_some() {
        return None;
    }
    // PyJWT prints a missing kid as "None" (`clean_value` drops it as no
    // value), jwks-rsa as "undefined".
    let quoted = match m.expected.kid.as_deref() {
        Some(k) => Some(k),
        None if m.matched_text.contains("\"None\"") => Some("None"),
        None => None,
    };
    let lib = &m.entry.library;
    let detail = match quoted {
        Some(q) if !is_absent_kid(q) => return None,
        Some(q) => format!(
            "The token has no `kid`, and {lib} looks the key up by kid (the message's \"{q}\" is the missing kid): a token without one matches no key, however many the set holds."
        ),
        None if m.entry.codes.iter().any(|c| c == "kid-missing") => format!(
            "The token has no `kid`, and {lib} looks the key up by kid: a token without one matches no key, however many the set holds."
        ),
        None => return None,
    };
    Some(
        Finding::new(&KID_MISSING, detail)
        .fix("Have the issuer put `kid` in the header, or select the key without it (PyJWT: PyJWKClient(url).get_signing_keys()[0] or jwt.PyJWKSet; jwks-rsa: a single-key set; ruby-jwt and json-jwt: pass the key itself instead of the set).")
        .evidence(json!({"kid": null, "quoted": quoted})),
    )
}

/// `specific` is reported instead of `general` (findings.md: the more
/// specific code replaces the generic one), so it explains what `general` does.
fn special_case(general: &str, specific: &str) -> bool {
    matches!(
        (general, specific),
        ("expired", "exp-before-iat")
            | ("audience-mismatch", "audience-missing")
            | ("issuer-mismatch", "issuer-trailing-slash")
            | (
                "signature-invalid",
                "signature-length-mismatch"
                    | "psychic-signature"
                    | "ecdsa-der-signature"
                    | "secret-whitespace"
                    | "secret-encoding"
                    | "wrong-kid"
                    | "kid-not-found"
            )
    )
}

/// What a finding raised to error says about it.
fn raised_note(ctx: &Context, code: &str, m: &ErrorMatch) -> String {
    let library = &m.entry.library;
    let topic = m.entry.topic();
    if code == "input-extracted" {
        let what: Vec<String> = ctx
            .wrappers
            .iter()
            .filter(|w| reaches_verifier(w, topic))
            .map(|w| w.describe())
            .collect();
        let elsewhere = topic == Topic::Input
            && ctx
                .wrappers
                .iter()
                .any(|w| w.is_location() || matches!(w, Wrapper::OtherScheme(_)));
        if elsewhere {
            return format!(
                "The token inside is well-formed, but it came in {}, and {library}'s error fits a verifier that looks for it elsewhere (by default the `Authorization: Bearer` header): that is the rejection. Send it as `Authorization: Bearer <token>`, or make the verifier read it where it is (express-jwt `getToken`, passport-jwt `ExtractJwt.fromExtractors`, @fastify/jwt `cookie`, Envoy `from_headers`/`from_params`).",
                what.join(" and ")
            );
        }
        return format!(
            "The token inside is well-formed, and {library}'s error fits a verifier that received it with {} still around it, or looked for it elsewhere: that is the rejection. Pass the verifier the bare token.",
            what.join(" and ")
        );
    }
    format!("Raised to error: {library} rejects the token for this (the error message given).")
}

/// Why the library's error and this token's findings disagree.
/// `verified`: a `signature-valid` finding is among `found`.
fn disagreement(
    ctx: &Context,
    m: &ErrorMatch,
    found: &[Finding],
    verified: bool,
) -> Option<String> {
    if let Some(why) = missing_but_present(ctx, m) {
        return Some(why);
    }
    let topic = m.entry.topic();
    // An encrypted token's claims are not readable here: no claim can be
    // said absent, or a clock to blame.
    if ctx.token.claims().is_none()
        && ctx.token.header_str("enc").is_some()
        && matches!(
            topic,
            Topic::Expiry
                | Topic::NotBefore
                | Topic::IssuedAt
                | Topic::Timestamp
                | Topic::Audience
                | Topic::Issuer
                | Topic::Claims
        )
    {
        return Some(format!(
            "This token is encrypted (JWE): the claims {} judged are inside it, and jwtai cannot read them, so it can neither confirm nor rule this out.",
            m.entry.library
        ));
    }
    let mut why = Vec::new();
    match topic {
        Topic::Expiry | Topic::NotBefore | Topic::IssuedAt => why.extend(time_disagreement(ctx, m)),
        Topic::Audience if !m.expected.aud_patterns.is_empty() => {
            why.push(audience_patterns(ctx, m));
        }
        // Only the flag of this topic says what the server expects.
        Topic::Audience if ctx.expect.aud.is_empty() => {
            why.push(unquoted_expectation(ctx, m, topic));
        }
        Topic::Issuer if ctx.expect.iss.is_empty() => {
            why.push(unquoted_expectation(ctx, m, topic));
        }
        Topic::Audience | Topic::Issuer => why.push(
            "But this token matches the expected value given: the server is configured with another value than you think, or a different token reached it.".to_string(),
        ),
        Topic::Kid | Topic::Jwks
            if verified && ctx.keys.candidates.iter().any(|c| c.from_set && c.is_usable()) =>
        {
            why.push(format!(
                "But the key set given here {}verifies this token: the server's copy of the set predates a key rotation (a JWKS cache, or keys loaded at start-up), or it fetches another URL. Make the verifier refetch the set when a kid is unknown (jose's createRemoteJWKSet does after its cooldownDuration, 30 s; jwks-rsa: a short cacheMaxAge), or restart it.",
                ctx.token.kid().map_or(String::new(), |k| format!("holds kid \"{k}\" and "))
            ));
        }
        Topic::Jwks | Topic::Key if verified => why.push(
            "With the key material given here the token verifies: the server's own key lookup failed (an unset environment variable, a JWKS URL it cannot reach, a key callback that errors), not the token.".to_string(),
        ),
        Topic::Signature if verified => why.push(
            "With the key given here the signature verifies: the server verifies with another secret or key (another environment's, a rotated one, or this one read with a trailing newline or in another encoding), or it received a different token.".to_string(),
        ),
        Topic::Malformed | Topic::Input if !found.iter().any(|f| f.severity() == Error) => why.push(
            "But the token given here is well-formed: the verifier did not get it as given — most often the header value with `Bearer ` (or quotes, or a trailing newline) still on it, another value than the token, or no token at all (not sent, sent under another header, scheme, cookie or query parameter than the verifier reads, or dropped by a proxy).".to_string(),
        ),
        Topic::Signature | Topic::Kid | Topic::Algorithm | Topic::Key | Topic::Jwks
            if !verified && ctx.keys.attempted => {}
        Topic::Signature | Topic::Kid | Topic::Algorithm | Topic::Key | Topic::Jwks if !verified => {
            why.push("Pass the key the server uses (--secret-file, --key, --jwks-uri) so jwtai can check the signature.".to_string())
        }
        Topic::Other => {}
        _ => why.push("But jwtai finds no such problem in this token: a different token, or a different configuration than the flags given, reached the server.".to_string()),
    }
    if why.is_empty() {
        return None;
    }
    Some(why.join(" "))
}

/// A claim of the token as whole seconds, when it is a number.
fn claim_secs(ctx: &Context, name: &str) -> Option<i64> {
    ctx.token
        .claims()?
        .member(name)?
        .as_f64()
        // Beyond any date a clock reaches: no arithmetic on it can overflow.
        .filter(|f| f.is_finite() && f.abs() < 1e15)
        .map(|f| f.floor() as i64)
}

/// Whether the token carries the claim with a non-null value.
fn has_claim(ctx: &Context, name: &str) -> bool {
    ctx.token
        .claims()
        .and_then(|c| c.member(name))
        .is_some_and(|v| !v.is_null())
}

/// The message says a claim is missing, but this token has it: libraries report a
/// missing claim only for a token without it, so no clock or setting explains it.
fn missing_but_present(ctx: &Context, m: &ErrorMatch) -> Option<String> {
    let first = m.entry.codes.first()?.as_str();
    if !matches!(first, "missing-claim" | "exp-missing" | "audience-missing") {
        return None;
    }
    let names = if m.expected.claims.is_empty() {
        &m.entry.claims
    } else {
        &m.expected.claims
    };
    if names.is_empty() || !names.iter().all(|n| has_claim(ctx, n)) {
        return None;
    }
    let shown: Vec<String> = names
        .iter()
        .map(|n| match ctx.token.claims().and_then(|c| c.member(n)) {
            Some(v) => format!("{n} ({})", super::show(v)),
            None => n.clone(),
        })
        .collect();
    Some(format!(
        "But this token has {}: {} reports a claim missing only when the token has none, so the server certainly saw a different token than the one given here.",
        shown.join(", "),
        m.entry.library
    ))
}

/// The error is about exp, nbf or iat but jwtai, at its now, finds no such problem.
/// `None` when the message quotes the claim with another value than this token's:
/// [`different_token`] says so, and no clock is to blame.
fn time_disagreement(ctx: &Context, m: &ErrorMatch) -> Option<String> {
    let now = ctx.expect.now;
    let lib = &m.entry.library;
    let claims = &m.entry.claims;
    let first = m.entry.codes.first().map_or("", String::as_str);
    // maxAge: the token's age against an option jwtai cannot see.
    if measures_age(m) {
        // An iat before now is `token-too-old`, told by the message itself.
        return Some(match claim_secs(ctx, "iat") {
            Some(iat) if iat < now => return None,
            Some(iat) => format!(
                "But this token's iat ({}) is not before now ({}), so no maxAge rejects it here: the server's clock is ahead of this one, or it saw an older token.",
                utc(iat),
                utc(now)
            ),
            None if has_claim(ctx, "iat") => format!(
                "This token's iat is not a number of seconds, so its age cannot be computed; {lib} compares it with its maximum age option."
            ),
            None => format!(
                "But this token has no iat, and {lib} refuses a token without iat with another error when a maximum age is set: the server certainly saw a different token than the one given here."
            ),
        });
    }
    if first == "exp-missing" {
        return Some("But jwtai finds no such problem in this token: a different token, or a different configuration than the flags given, reached the server.".to_string());
    }
    if !claims.is_empty() && !claims.iter().any(|c| has_claim(ctx, c)) {
        return Some(format!(
            "But this token has no {} claim, and {lib} checks {} only when the token carries it: no clock can cause this error for this token, so the server certainly saw a different token than the one given here.",
            claims.join(" or "),
            if claims.len() == 1 { "it" } else { "them" }
        ));
    }
    let name = match m.entry.topic() {
        Topic::Expiry => "exp",
        Topic::NotBefore => "nbf",
        _ => "iat",
    };
    if has_claim(ctx, name) && claim_secs(ctx, name).is_none() {
        let how = if lib.contains("Ruby") {
            "reads it with to_i, so a string of digits counts as that number and anything else as 0"
        } else if lib.contains("golang-jwt") {
            "(v4 MapClaims) fails the check for any value that is not a JSON number"
        } else {
            "reads such a value its own way"
        };
        return Some(format!(
            "This token's {name} is not a number of seconds (`timestamp-not-numeric`), and {lib} {how}: that, not a clock, is why it rejects this token. Issue {name} as a JSON number."
        ));
    }
    if quoted_time_differs(ctx, m) {
        return None;
    }
    if let Some(note) = server_clock(ctx, m) {
        return Some(note);
    }
    Some(format!(
        "But at now ({}) this token has no such problem: the server's clock differs from this one (check NTP on the server, or pass --now with the time of the failure), or a different (older) token reached the server.",
        utc(now)
    ))
}

/// The message quotes this error's time claim with a value this token does not have.
fn quoted_time_differs(ctx: &Context, m: &ErrorMatch) -> bool {
    let x = &m.expected;
    let quoted = match m.entry.topic() {
        Topic::Expiry => &x.found_exp,
        Topic::NotBefore => &x.found_nbf,
        Topic::IssuedAt => &x.found_iat,
        _ => return false,
    };
    match (quoted, time_claim(ctx, m)) {
        (Some(q), Some((_, value))) => !q.can_be(value),
        _ => false,
    }
}

/// The claim an expiry / not-before / issued-at error is about, and the token's value.
fn time_claim(ctx: &Context, m: &ErrorMatch) -> Option<(&'static str, i64)> {
    let name = match m.entry.topic() {
        Topic::Expiry => "exp",
        Topic::NotBefore => "nbf",
        Topic::IssuedAt => "iat",
        _ => return None,
    };
    Some((name, claim_secs(ctx, name)?))
}

/// The reading of a quoted instant nearest to `anchor` (a .NET date may read two ways).
fn nearest(q: &QuotedTime, anchor: i64) -> i64 {
    match q.other_reading {
        Some(o) if (o - anchor).abs() < (q.unix - anchor).abs() => o,
        _ => q.unix,
    }
}

/// The message quotes the verifier's clock: judge the token at that instant.
fn server_clock(ctx: &Context, m: &ErrorMatch) -> Option<String> {
    let q = m.expected.server_now.as_ref()?;
    let (name, value) = time_claim(ctx, m)?;
    let server = nearest(q, value);
    let now = ctx.expect.now;
    let failing = match name {
        "exp" => server >= value,
        _ => server < value,
    };
    let at_server = match (name, failing) {
        ("exp", true) => format!(
            "this token had expired {} earlier",
            duration(server - value)
        ),
        ("exp", false) => format!(
            "this token still had {} before exp",
            duration(value - server)
        ),
        (_, true) => format!("this token's {name} was {} ahead", duration(value - server)),
        (_, false) => format!(
            "this token's {name} had passed {} earlier",
            duration(server - value)
        ),
    };
    let mut note = format!(
        "The message gives the server's time as {} ({}); at that time {at_server} ({name} {}).",
        q.text,
        utc(server),
        utc(value)
    );
    if !failing {
        note.push_str(&format!(
            " So by the server's own clock this token passes the {name} check: the server certainly rejected a different token than the one given here."
        ));
    } else if server != now {
        note.push_str(&format!(
            " jwtai judged at {} instead: the server's clock is {} {} that (if the error is fresh; check NTP), or the error is from {}; pass --now {server} to judge at the server's time.",
            utc(now),
            duration(server - now),
            if server > now { "ahead of" } else { "behind" },
            if server > now { "later" } else { "earlier" }
        ));
    }
    Some(note)
}

/// Audience or issuer error, no expectation given: say what the message does quote.
fn unquoted_expectation(ctx: &Context, m: &ErrorMatch, topic: Topic) -> String {
    let (what, flag, found, claim) = if topic == Topic::Audience {
        ("audience", "--aud", &m.expected.found_aud, "aud")
    } else {
        ("issuer", "--iss", &m.expected.found_iss, "iss")
    };
    let token = claim_strings(ctx, claim);
    let mut out = format!(
        "The message does not say which {what} the server expects; pass it with {flag} to compare."
    );
    if !found.is_empty() && found.iter().all(|f| token.contains(f)) {
        out.push_str(&format!(
            " It names this token's {what} ({}), so the server expects a different one.",
            found.join(", ")
        ));
    }
    out
}

/// This token's claim as strings (`aud` may be one or an array); none when absent.
fn claim_strings(ctx: &Context, claim: &str) -> Vec<String> {
    ctx.token
        .claims()
        .and_then(|c| c.member(claim))
        .map(super::strings)
        .unwrap_or_default()
}

/// node jsonwebtoken printed a RegExp audience: test it against this token's audiences.
fn audience_patterns(ctx: &Context, m: &ErrorMatch) -> String {
    let token = claim_strings(ctx, "aud");
    let mut notes = Vec::new();
    for pattern in &m.expected.aud_patterns {
        let Some(re) = crate::errortext::js_regex(pattern) else {
            continue;
        };
        match token.iter().find(|a| re.is_match(a)) {
            Some(hit) => notes.push(format!(
                "The verifier's audience is the regular expression {pattern}, and it matches this token's audience \"{hit}\": this token passes that check, so the server saw a different token, or is configured with another pattern."
            )),
            None if token.is_empty() => notes.push(format!(
                "The verifier's audience is the regular expression {pattern}, and this token has no aud: that is the rejection."
            )),
            None => notes.push(format!(
                "The verifier's audience is the regular expression {pattern}, which matches none of this token's audiences ({}): that is the rejection; issue the token with an audience the pattern accepts, or change the pattern.",
                token.join(", ")
            )),
        }
    }
    notes.join(" ")
}

/// Values the message quotes *from the token* that this token does not have:
/// the server saw a different token.
fn different_token(ctx: &Context, m: &ErrorMatch) -> Vec<String> {
    let mut notes = Vec::new();
    let x = &m.expected;
    if let Some(c) = ctx.token.claims() {
        let token_aud = claim_strings(ctx, "aud");
        if !x.found_aud.is_empty() && !x.found_aud.iter().any(|a| token_aud.contains(a)) {
            notes.push(format!(
                "The message quotes the token audience {} but this token's is {}: the server saw a different token.",
                x.found_aud.join(", "),
                if token_aud.is_empty() { "absent".to_string() } else { token_aud.join(", ") }
            ));
        }
        let token_iss = c.get("iss").and_then(|v| v.as_str());
        if !x.found_iss.is_empty() && !x.found_iss.iter().any(|i| Some(i.as_str()) == token_iss) {
            notes.push(format!(
                "The message quotes the token issuer {} but this token's is {}: the server saw a different token.",
                x.found_iss.join(", "),
                token_iss.unwrap_or("absent")
            ));
        }
    }
    for (name, quoted) in [
        ("exp", &x.found_exp),
        ("nbf", &x.found_nbf),
        ("iat", &x.found_iat),
    ] {
        let (Some(q), Some(value)) = (quoted, claim_secs(ctx, name)) else {
            continue;
        };
        if !q.can_be(value) {
            notes.push(format!(
                "The message gives the rejected token's {name} as {} ({}), but this token's {name} is {}: the server saw a different token.",
                q.text,
                utc(q.unix),
                utc(value)
            ));
        }
    }
    if let Some(kid) = ctx.token.kid() {
        if !x.keys_tried.is_empty() && !x.keys_tried.iter().any(|k| k == kid) {
            notes.push(format!(
                "The server tried the keys {}; this token's kid \"{kid}\" is not among them: the server lacks the key that signed it (metadata cached from before a rotation, or a token from another tenant or environment).",
                x.keys_tried.iter().map(|k| format!("\"{k}\"")).collect::<Vec<_>>().join(", ")
            ));
        }
    }
    if let (Some(quoted), token_kid) = (x.kid.as_deref(), ctx.token.kid()) {
        let absent_said = token_kid.is_none() && is_absent_kid(quoted);
        if Some(quoted) != token_kid && !absent_said {
            notes.push(format!(
                "The message is about kid \"{quoted}\" but this token's kid is {}: the server saw a different token.",
                token_kid.map_or("absent".to_string(), |k| format!("\"{k}\""))
            ));
        }
    }
    notes
}

fn clip(s: &str, n: usize) -> String {
    let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > n {
        format!("{}…", one_line.chars().take(n).collect::<String>())
    } else {
        one_line
    }
}
