//! Header and algorithm: what the JOSE header asks the verifier to do, and
//! whether a careful verifier would agree. (The header codes that need key
//! material live with the signature checks.)

use serde_json::{Value, json};

use super::{Context, show};
use crate::alg::{Alg, JWE_ALGS};
use crate::findings::{Finding, Severity::*, Spec};
use crate::token::Kind;
use crate::token::json::Members;

pub static ALG_MISSING: Spec = Spec {
    code: "alg-missing",
    severity: Error,
    title: "No `alg` in the header",
    doc: "RFC 7515 §4.1.1 makes `alg` mandatory. Without it a verifier cannot pick an algorithm and rejects the token.",
    fix: "Sign with a JWT library that writes the header, or add `\"alg\"` with the algorithm actually used to sign.",
    rank: 5,
};
pub static ALG_UNKNOWN: Spec = Spec {
    code: "alg-unknown",
    severity: Error,
    title: "`alg` is not a registered JWS algorithm",
    doc: "`alg` values are case-sensitive names from the IANA JOSE registry (RFC 7518): `HS256`, `RS256`, `ES256`, `EdDSA`... A misspelled or mis-cased name, or a JWE algorithm in a signed token, is rejected.",
    fix: "Set `alg` to the exact registered name of the algorithm used to sign.",
    rank: 5,
};
pub static ALG_NONE: Spec = Spec {
    code: "alg-none",
    severity: Error,
    title: "Unsigned token (`alg: none`)",
    doc: "An unsecured JWT carries no signature: anyone can write any claims. A verifier must never accept it (CVE-2015-9235 and its many cousins); if yours does, it is a critical hole.",
    fix: "Reject `none`: pass an explicit allow-list of algorithms to verify() (e.g. `algorithms: ['RS256']`). Issue signed tokens only.",
    rank: 2,
};
pub static SIGNATURE_MISSING: Spec = Spec {
    code: "signature-missing",
    severity: Error,
    title: "Signature segment is empty",
    doc: "The header names a signing algorithm but the third segment is empty: the signature was stripped (a decode-only helper re-encoded it, or an attacker removed it hoping the verifier skips the check).",
    fix: "Send the token exactly as the issuer produced it; never build tokens by decoding and re-encoding. Verifiers must reject it.",
    rank: 2,
};
pub static ALG_NOT_ALLOWED: Spec = Spec {
    code: "alg-not-allowed",
    severity: Error,
    title: "Algorithm not in the server's allowed list",
    doc: "The server only accepts the algorithms it was configured with (`--alg`). A token signed with another one is rejected before its signature is checked — often the issuer switched algorithms, or the API was configured for HS256 while the identity provider signs with RS256.",
    fix: "Align the two ends: configure the API's allowed algorithms to what the issuer uses (and the matching key or JWKS), or change the signing algorithm at the issuer.",
    rank: 6,
};
pub static KID_SUSPICIOUS: Spec = Spec {
    code: "kid-suspicious",
    severity: Error,
    title: "`kid` looks like an injection attempt",
    doc: "The `kid` holds path traversal, SQL, shell or URL text. Servers that use `kid` to build a file path, a SQL query or a URL to fetch keys can be tricked into using an attacker-chosen key (e.g. `../../dev/null` → empty HMAC secret).",
    fix: "Treat `kid` as an opaque identifier: look it up in a fixed key set (JWKS) and never use it in a path, query, command or URL. Reject this token.",
    rank: 3,
};
pub static HEADER_KEY_INJECTION: Spec = Spec {
    code: "header-key-injection",
    severity: Error,
    title: "Header carries key material or a key URL",
    doc: "`jwk`, `jku`, `x5u` or `x5c` in the header offer the verifier a key chosen by whoever made the token. A server that trusts them verifies an attacker's signature with the attacker's key (CVE-2018-0114 and others).",
    fix: "Verify only with keys from your own configuration or the issuer's JWKS; ignore (or reject) header-supplied `jwk`/`jku`/`x5u`/`x5c`.",
    rank: 3,
};
pub static CRIT_UNSUPPORTED: Spec = Spec {
    code: "crit-unsupported",
    severity: Error,
    title: "`crit` lists extensions the verifier does not understand",
    doc: "RFC 7515 §4.1.11: a recipient that does not understand every header parameter named in `crit` must reject the token. Most libraries understand none (some know `b64`, RFC 7797).",
    fix: "Drop the `crit` header and the extension at the issuer, or use a verifier that implements that extension and declare it as understood.",
    rank: 7,
};
pub static ID_TOKEN_AS_ACCESS_TOKEN: Spec = Spec {
    code: "id-token-as-access-token",
    severity: Error,
    title: "An OIDC ID token sent as an access token",
    doc: "The token carries ID-token claims (`nonce`, `at_hash`, `c_hash`) and its audience is the client, not the API. ID tokens tell the client who logged in; APIs must only accept access tokens issued for them.",
    fix: "Send the `access_token` from the token response, not the `id_token` (e.g. `getAccessTokenSilently()` / `session.accessToken`), and request it for your API's audience.",
    rank: 4,
};

pub static TYP_MISMATCH: Spec = Spec {
    code: "typ-mismatch",
    severity: Error,
    title: "`typ` header is not the one the verifier requires",
    doc: "A verifier may require a `typ` header to tell token kinds apart: RFC 9068 access tokens carry `at+jwt`, and RFC 8725 §3.11 recommends explicit typing (jose's `typ` option, Microsoft.IdentityModel's ValidTypes). RFC 7515 §4.1.9: compared without case, `application/` optional.",
    fix: "Issue the token with the `typ` the verifier requires (e.g. `at+jwt` for access tokens), or send the kind of token it expects.",
    rank: 5,
};

pub static SPECS: &[&Spec] = &[
    &TYP_MISMATCH,
    &ALG_MISSING,
    &ALG_UNKNOWN,
    &ALG_NONE,
    &SIGNATURE_MISSING,
    &ALG_NOT_ALLOWED,
    &KID_SUSPICIOUS,
    &HEADER_KEY_INJECTION,
    &CRIT_UNSUPPORTED,
    &ID_TOKEN_AS_ACCESS_TOKEN,
];

/// Header parameters RFC 7797 defines and some verifiers understand.
const UNDERSTOOD_CRIT: &[&str] = &[];

pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let t = ctx.token;
    let Some(header) = t.header_map() else { return };
    if t.kind == Kind::Jwe || t.kind == Kind::Opaque {
        return;
    }

    match header.member("alg") {
        None => out.push(Finding::new(
            &ALG_MISSING,
            format!(
                "The header {} has no `alg` member.",
                show(&Value::Object(header.clone()))
            ),
        )),
        Some(Value::String(alg)) => alg_checks(ctx, alg, out),
        Some(other) => out.push(
            Finding::new(
                &ALG_UNKNOWN,
                format!(
                    "`alg` is {}, not a string naming an algorithm.",
                    show(other)
                ),
            )
            .evidence(json!({"alg": other})),
        ),
    }

    if let Some(kid) = header.member("kid") {
        kid_check(kid, out);
    }
    if let Some(want) = &ctx.expect.typ {
        typ_check(header.member("typ"), want, out);
    }

    let injected: Vec<&str> = ["jwk", "jku", "x5u", "x5c"]
        .into_iter()
        .filter(|k| header.has(k))
        .collect();
    if !injected.is_empty() {
        let urls: Vec<String> = ["jku", "x5u"]
            .into_iter()
            .filter_map(|k| {
                header
                    .member(k)
                    .and_then(Value::as_str)
                    .map(|u| format!("{k} → {u}"))
            })
            .collect();
        let mut detail = format!(
            "The header carries {}: key material chosen by whoever built the token.",
            injected
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if !urls.is_empty() {
            detail.push_str(&format!(" It points the verifier at {}.", urls.join(", ")));
        }
        detail.push_str(" jwtai never uses it; a server that does accepts forged tokens.");
        out.push(
            Finding::new(&HEADER_KEY_INJECTION, detail).evidence(json!({"parameters": injected})),
        );
    }

    if let Some(crit) = header.member("crit") {
        crit_check(crit, header, &ctx.expect.crit, out);
    }

    id_token_check(ctx, out);
}

/// What a `kid` holds that a server building a path, query, URL or command
/// from it would execute: "path traversal", "SQL injection"...; none for an
/// ordinary kid. Shared with `jwtai jwks`, which lists a set's kids.
pub fn kid_injection(kid: &str) -> Vec<&'static str> {
    let lower = kid.to_ascii_lowercase();
    let patterns: &[(&str, &str)] = &[
        ("../", "path traversal"),
        ("..\\", "path traversal"),
        ("/dev/", "a device path"),
        ("/etc/", "a system path"),
        ("/proc/", "a system path"),
        ("file:", "a file URL"),
        ("http://", "a URL"),
        ("https://", "a URL"),
        ("' or ", "SQL injection"),
        ("\" or ", "SQL injection"),
        ("union select", "SQL injection"),
        ("'--", "SQL injection"),
        ("; drop", "SQL injection"),
        ("$(", "shell command substitution"),
        ("`", "shell command substitution"),
        ("|", "a shell pipe"),
        ("&&", "a shell command chain"),
        (";", "a command or statement separator"),
        ("sleep(", "SQL injection"),
        ("${", "a template or JNDI lookup"),
        ("\0", "a NUL byte"),
    ];
    let mut found: Vec<&'static str> = Vec::new();
    let mut add = |what: &'static str| {
        if !found.contains(&what) {
            found.push(what);
        }
    };
    for (p, what) in patterns {
        if lower.contains(p) {
            add(what);
        }
    }
    // `1 OR 1=1`: a condition that is always true.
    if lower.contains(" or ") && lower.contains('=') {
        add("SQL injection");
    }
    if kid.chars().any(|c| matches!(c, '\r' | '\n')) {
        add("a line break (header or log injection)");
    } else if kid.chars().any(|c| c == '\u{1b}' || c == '\u{9b}') {
        add("a terminal escape sequence (it would restyle or clear a terminal that prints it)");
    } else if kid.chars().any(|c| c.is_control() && c != '\0') {
        add("a control character (header or log injection)");
    }
    found
}

/// JWS algorithms in the IANA registry that jwtai does not verify, with
/// where they are defined.
fn registered_unsupported(alg: &str) -> Option<&'static str> {
    match alg {
        "ES256K" => Some("RFC 8812: ECDSA on secp256k1 with SHA-256"),
        "Ed25519" => Some("RFC 9864: EdDSA with Ed25519, named in full"),
        "Ed448" => Some("RFC 9864: EdDSA with Ed448"),
        _ => None,
    }
}

fn alg_checks(ctx: &Context, alg: &str, out: &mut Vec<Finding>) {
    let t = ctx.token;
    let sig_empty = t.signature_segment.as_deref().is_some_and(str::is_empty);
    if alg.eq_ignore_ascii_case("none") {
        let mut detail = format!("The header says `\"alg\": \"{alg}\"`: the token is unsigned");
        if !sig_empty {
            detail.push_str(" (yet a signature segment is present)");
        }
        detail.push_str(". Anyone can mint such a token with any claims.");
        out.push(Finding::new(&ALG_NONE, detail).evidence(json!({"alg": alg})));
        return;
    }
    match Alg::from_name(alg) {
        Some(_) => {
            if sig_empty && t.kind == Kind::Jws {
                out.push(Finding::new(
                    &SIGNATURE_MISSING,
                    format!("The header says `{alg}` but the signature segment after the second dot is empty: the signature was stripped."),
                ));
            }
        }
        None => {
            let detail = if let Some(known) = Alg::from_name_loose(alg) {
                format!(
                    "`alg` is \"{alg}\"; the registered name is \"{known}\". Algorithm names are case-sensitive (RFC 7515 §4.1.1), so verifiers reject it."
                )
            } else if let Some(spec) = registered_unsupported(alg) {
                // Registered, just not verifiable here: no error of the token.
                out.push(
                    Finding::new(
                        &crate::checks::signature::SIGNATURE_NOT_CHECKED,
                        format!(
                            "`alg` is \"{alg}\", registered for JWS ({spec}), which jwtai cannot verify; many JWT libraries do not implement it either, so check that the server's does."
                        ),
                    )
                    .fix(format!("Verify it with a library that implements {alg}, or have the issuer sign with an algorithm every verifier supports (ES256, RS256, EdDSA)."))
                    .evidence(json!({"alg": alg})),
                );
                return;
            } else if JWE_ALGS.contains(&alg) {
                format!(
                    "`alg` is \"{alg}\", a JWE key-management algorithm, in a three-segment signed token: the header and the token format disagree."
                )
            } else {
                format!(
                    "`alg` is \"{alg}\", which is not a registered JWS algorithm (HS256/384/512, RS256/384/512, PS256/384/512, ES256/384/512, EdDSA)."
                )
            };
            out.push(Finding::new(&ALG_UNKNOWN, detail).evidence(json!({"alg": alg})));
        }
    }
    if !ctx.expect.algs.is_empty() && !ctx.expect.algs.iter().any(|a| a == alg) {
        let allowed = ctx.expect.algs.join(", ");
        let mut detail =
            format!("The token is signed with {alg}; the server accepts only {allowed}.");
        let token_family = Alg::from_name(alg).map(Alg::family);
        let hmac_only = ctx.expect.algs.iter().all(|a| a.starts_with("HS"));
        if hmac_only && token_family.is_some_and(|f| f != crate::alg::Family::Hmac) {
            detail.push_str(" The API is set up for a shared secret (HMAC) while the issuer signs with an asymmetric key: configure the API with the issuer's public key or JWKS and allow that algorithm.");
        } else if !hmac_only && token_family == Some(crate::alg::Family::Hmac) {
            detail.push_str(" An HMAC token where asymmetric algorithms are expected is also the shape of an algorithm-confusion forgery.");
        }
        let any_hmac = ctx.expect.algs.iter().any(|a| a.starts_with("HS"));
        let fix = if !any_hmac && token_family == Some(crate::alg::Family::Hmac) {
            // Allowing HMAC next to a public key is the hole itself.
            format!(
                "Keep {alg} out of the allowed list: a server that verifies with a public key and also accepts HMAC accepts tokens forged with that public key as the secret (algorithm confusion). Send a token from the issuer that signs with {allowed}; an HMAC token comes from another service, a test tool or an attacker."
            )
        } else {
            format!(
                "Either allow {alg} on the server (with the matching key), or make the issuer sign with {allowed}."
            )
        };
        out.push(
            Finding::new(&ALG_NOT_ALLOWED, detail)
                .fix(fix)
                .evidence(json!({"alg": alg, "allowed": ctx.expect.algs})),
        );
    }
}

fn kid_check(kid: &Value, out: &mut Vec<Finding>) {
    let Some(kid) = kid.as_str() else {
        return;
    };
    let hits = kid_injection(kid);
    if !hits.is_empty() {
        out.push(
            Finding::new(
                &KID_SUSPICIOUS,
                format!(
                    "`kid` is {}: it holds {}. A server that builds a file path, query or URL from `kid` would use a key the attacker chose.",
                    show(&Value::String(kid.to_string())),
                    hits.join(" and ")
                ),
            )
            .evidence(json!({"kid": kid, "patterns": hits})),
        );
    }
}

fn crit_check(
    crit: &Value,
    header: &serde_json::Map<String, Value>,
    understood: &[String],
    out: &mut Vec<Finding>,
) {
    let names: Vec<String> = match crit {
        Value::Array(a) if !a.is_empty() => super::strings(crit),
        other => {
            out.push(Finding::new(
                &CRIT_UNSUPPORTED,
                format!("`crit` is {}; RFC 7515 §4.1.11 requires a non-empty array of extension names, so the token must be rejected.", show(other)),
            ));
            return;
        }
    };
    let unknown: Vec<&String> = names
        .iter()
        .filter(|n| !UNDERSTOOD_CRIT.contains(&n.as_str()) && !understood.contains(n))
        .collect();
    if unknown.is_empty() {
        return;
    }
    let absent: Vec<&&String> = unknown.iter().filter(|n| !header.has(n.as_str())).collect();
    let mut detail = format!(
        "`crit` marks {} as critical; a verifier that does not implement {} must reject the token (RFC 7515 §4.1.11).",
        unknown
            .iter()
            .map(|n| format!("\"{n}\""))
            .collect::<Vec<_>>()
            .join(", "),
        if unknown.len() == 1 { "it" } else { "them" }
    );
    detail.push_str(" If the server does implement an extension (jose's `crit` option, RFC 7797 `b64`), pass it with --crit NAME.");
    if !absent.is_empty() {
        detail.push_str(" Some of them are not even present in the header.");
    }
    out.push(Finding::new(&CRIT_UNSUPPORTED, detail).evidence(json!({"crit": names})));
}

/// RFC 7515 §4.1.9: `typ` compares without case, and `application/` may be
/// left out.
pub fn typ_matches(have: &str, want: &str) -> bool {
    let short = |t: &str| {
        let t = t.trim().to_ascii_lowercase();
        t.strip_prefix("application/")
            .map(str::to_string)
            .unwrap_or(t)
    };
    short(have) == short(want)
}

fn typ_check(have: Option<&Value>, want: &str, out: &mut Vec<Finding>) {
    let detail = match have {
        Some(Value::String(t)) if typ_matches(t, want) => return,
        Some(Value::String(t)) => {
            format!("The header's `typ` is \"{t}\"; the verifier requires \"{want}\".")
        }
        Some(other) => format!(
            "The header's `typ` is {}, not a string; the verifier requires \"{want}\".",
            show(other)
        ),
        None => format!("The header has no `typ`; the verifier requires \"{want}\"."),
    };
    let mut f =
        Finding::new(&TYP_MISMATCH, detail).evidence(json!({"typ": have, "expected": want}));
    if typ_matches(want, "at+jwt") {
        f = f.fix("Access tokens for this verifier must be RFC 9068 JWT access tokens, `typ: at+jwt`: enable that profile at the issuer (Auth0: 'RFC 9068' token dialect; Okta/Keycloak/Duende: JWT access token type), or send the access token, not an ID token.");
    }
    out.push(f);
}

fn id_token_check(ctx: &Context, out: &mut Vec<Finding>) {
    let Some(claims) = ctx.token.claims() else {
        return;
    };
    let typ = ctx.token.header_str("typ").unwrap_or("");
    if typ.eq_ignore_ascii_case("at+jwt") || typ.eq_ignore_ascii_case("application/at+jwt") {
        return;
    }
    let markers = super::idp::id_token_markers(claims);
    // Only an ID-token verifier checks `at_hash` or `nonce`: the server's
    // message about it says this is the client verifying its own ID token.
    // go-oidc's verifier is an IDTokenVerifier, and the Kubernetes API server
    // (its best-known user) takes the ID token kubectl sends, by design;
    // openid-client (v5's RPError, v6's ClientError wrapper) validates the ID
    // token of the relying party's own login callback.
    let checks_at_hash = ctx.error.matches.iter().any(|m| {
        m.entry
            .claims
            .iter()
            .any(|c| c == "at_hash" || c == "nonce")
            || [
                "google-auth",
                "go-oidc",
                "Kubernetes API server (OIDC)",
                "openid-client",
            ]
            .iter()
            .any(|l| m.entry.library.contains(l))
    });
    if markers.is_empty()
        || checks_at_hash
        || super::idp::verifies_id_tokens(&ctx.expect.aud, &ctx.expect.claims, claims)
    {
        return;
    }
    let aud = claims
        .member("aud")
        .map(show)
        .unwrap_or_else(|| "absent".into());
    let mut detail = if markers == ["aud"] {
        format!(
            "The token is a Google ID token: issued by accounts.google.com for the OAuth client {aud} (Google's access tokens are opaque `ya29.` strings, never JWTs)."
        )
    } else {
        format!(
            "The token carries {} — claims only OpenID Connect ID tokens have — and its audience is {aud}.",
            markers
                .iter()
                .map(|&m| match m {
                    "token_use" => "`token_use` \"id\" (Amazon Cognito's ID token)".to_string(),
                    m => format!("`{m}`"),
                })
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    if !ctx.expect.aud.is_empty() {
        detail.push_str(&format!(
            " The API expects audience {}.",
            ctx.expect.aud.join(" or ")
        ));
    }
    detail.push_str(" An API must not accept ID tokens; the client sent the wrong token from the token response.");
    out.push(Finding::new(&ID_TOKEN_AS_ACCESS_TOKEN, detail).evidence(json!({"claims": markers})));
}
