//! JWKS: what happened fetching the issuer's key set (`--jwks-uri`,
//! `--discover`) and what is wrong with the set itself.

use serde_json::json;

use super::Context;
use crate::findings::{Finding, Severity::*, Spec};
use crate::jwks::{BodyKind, Discovery, Fetch, Remote};
use crate::keys::ProblemKind;

pub static JWKS_FETCH_FAILED: Spec = Spec {
    code: "jwks-fetch-failed",
    severity: Error,
    title: "Could not fetch the JWK Set",
    doc: "DNS, connection, TLS or timeout failure on the JWKS (or discovery) URL. The verifier cannot get keys, so every token fails — typically egress rules, a proxy, a wrong host name or an expired certificate.",
    fix: "Check the URL and that this host can reach it (DNS, firewall/egress, proxy settings, CA bundle); verifiers should cache the last good set to ride out outages.",
    // After what the token itself shows (expired, wrong audience): a fetch
    // that failed from here says nothing of the token, and in a scan it
    // would otherwise be the root cause of every token in the log.
    rank: 32,
};
pub static JWKS_HTTP_ERROR: Spec = Spec {
    code: "jwks-http-error",
    severity: Error,
    title: "The JWKS URL answered with an HTTP error",
    doc: "A non-2xx status from the JWKS (or discovery) URL: a wrong path (404), the issuer is down (5xx), or access is blocked (401/403).",
    fix: "Take the exact `jwks_uri` from the issuer's `/.well-known/openid-configuration`; for 5xx retry later and keep a cached set.",
    rank: 6,
};
pub static JWKS_INVALID: Spec = Spec {
    code: "jwks-invalid",
    severity: Error,
    title: "The response is not a JWK Set",
    doc: "The body is not a JSON JWK Set (`{\"keys\": [...]}`): an HTML login page from an SSO proxy, an error page, or a single JWK / PEM at a JWKS URL.",
    fix: "Point the verifier at the real `jwks_uri` (from discovery) and make sure no auth proxy intercepts it.",
    rank: 6,
};
pub static JWKS_EMPTY: Spec = Spec {
    code: "jwks-empty",
    severity: Error,
    title: "The JWK Set has no keys",
    doc: "`{\"keys\": []}`: the issuer publishes no signing keys (a new tenant without a signing key, a misconfigured key store), so nothing can verify.",
    fix: "Create or publish a signing key at the identity provider (or fix the key store behind the JWKS endpoint).",
    rank: 6,
};
pub static JWKS_KEY_UNUSABLE: Spec = Spec {
    code: "jwks-key-unusable",
    severity: Warning,
    title: "A key in the set cannot verify signatures",
    doc: "A key marked `use: enc`, with an unsupported `kty`/`crv`, with `key_ops` that exclude `verify`, or missing members (`n`, `e`, `x`). Verifiers skip it; if it is the one the token names, verification fails.",
    fix: "Publish signing keys with `use: sig` and complete members; keep encryption keys out of the verification set or clearly marked.",
    rank: 58,
};
pub static JWKS_DUPLICATE_KID: Spec = Spec {
    code: "jwks-duplicate-kid",
    severity: Warning,
    title: "Two keys share one `kid`",
    doc: "Verifiers pick one of the keys with that kid; which one depends on the library, so tokens verify on some services and fail on others.",
    fix: "Give every key of the set a unique `kid` (the RFC 7638 thumbprint is a good choice).",
    rank: 58,
};
pub static JWKS_PRIVATE_KEY: Spec = Spec {
    code: "jwks-private-key",
    severity: Error,
    title: "The published key set holds a private key",
    doc: "A JWK Set is public by design: every client and verifier fetches it. A key in it that carries its private members (`d`, and `p`, `q`, `dp`, `dq`, `qi` for RSA) lets anyone who fetches the set sign tokens every verifier of this issuer accepts. Usually the issuer serialised its signing key instead of its public part.",
    fix: "Treat the key as compromised: remove the private members from the published set (publish only `kty`, `kid`, `use`, `alg` and the public members), rotate to a new signing key, and retire this kid.",
    rank: 2,
};
pub static DISCOVERY_ISSUER_MISMATCH: Spec = Spec {
    code: "discovery-issuer-mismatch",
    severity: Error,
    title: "Discovery document's issuer differs from the token's",
    doc: "OpenID Connect Discovery §4.3: the `issuer` in `/.well-known/openid-configuration` must equal the issuer it was fetched for, exactly. A mismatch means the wrong tenant or a proxy rewriting URLs, and OIDC libraries refuse it.",
    fix: "Use the issuer string the provider publishes (trailing slash included) both in tokens and in verifier configuration.",
    rank: 18,
};
pub static JWKS_CACHE_STALE: Spec = Spec {
    code: "jwks-cache-stale",
    severity: Info,
    title: "The cached key set was stale",
    doc: "jwtai's cached copy of the JWK Set lacked the token's kid; a fresh fetch was made, as well-behaved JWKS clients do on an unknown kid. Verifiers that never re-fetch fail after every key rotation.",
    fix: "Make the verifier re-fetch the JWKS on an unknown kid (rate-limited), not only when its cache expires.",
    rank: 86,
};

pub static SPECS: &[&Spec] = &[
    &JWKS_FETCH_FAILED,
    &JWKS_HTTP_ERROR,
    &JWKS_INVALID,
    &JWKS_EMPTY,
    &JWKS_KEY_UNUSABLE,
    &JWKS_DUPLICATE_KID,
    &JWKS_PRIVATE_KEY,
    &DISCOVERY_ISSUER_MISMATCH,
    &JWKS_CACHE_STALE,
];

pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let resolved = &ctx.keys.remote;
    if let Some(d) = &resolved.discovery {
        discovery(d, out);
    }
    if let Some(r) = &resolved.remote {
        remote(ctx, r, out);
    }
    // A local file holding a private key is `private-key-supplied`: the
    // user's own copy, not something published.
    for (source, p) in &ctx.keys.file_problems {
        if p.kind != ProblemKind::PrivateKey {
            out.push(problem(ctx, source, p));
        }
    }
}

/// Why `--jwks-uri` / `--discover` got no key set: the findings a
/// diagnosis would carry for a failed discovery or fetch, once. `scan`
/// reports them for the run instead of on every token (a fetch that failed
/// from here says nothing of the tokens), and leaves such tokens'
/// signatures "not checked" ([`crate::checks::Keys::unavailable`]).
pub fn unobtained(resolved: &crate::jwks::Resolved) -> Vec<Finding> {
    let mut out = Vec::new();
    if resolved.obtained() {
        return out;
    }
    if let Some(d) = &resolved.discovery {
        discovery(d, &mut out);
        // Its issuer mismatch only matters with a set to use.
        out.retain(|f| f.spec.code != DISCOVERY_ISSUER_MISMATCH.code);
    }
    if let Some(r) = &resolved.remote {
        // A set named by the discovery document: its failure blames the
        // provider's metadata, as in a diagnosis.
        if let Some(f) = failure(
            &format!("the JWK Set {}", r.url),
            &r.url,
            &r.outcome,
            Doc::Jwks,
            discovered_by(resolved, &r.url),
        ) {
            out.push(f);
        }
    }
    out
}

/// The discovery document that named this JWKS URL, if one did.
fn discovered_by<'a>(resolved: &'a crate::jwks::Resolved, url: &str) -> Option<&'a str> {
    resolved.discovery.as_ref().and_then(|d| match &d.outcome {
        Some(Fetch::Got(found)) if found.jwks_uri == url => Some(d.url.as_str()),
        _ => None,
    })
}

fn problem(ctx: &Context, source: &str, p: &crate::keys::JwkProblem) -> Finding {
    let spec = match p.kind {
        // Weak keys and suspicious kids of a `--key` file are judged by the
        // signature and header checks; `jwtai jwks` alone lists them here.
        ProblemKind::Unusable | ProblemKind::WeakKey | ProblemKind::SuspiciousKid => {
            &JWKS_KEY_UNUSABLE
        }
        ProblemKind::DuplicateKid => &JWKS_DUPLICATE_KID,
        ProblemKind::Format => &JWKS_INVALID,
        ProblemKind::PrivateKey => &JWKS_PRIVATE_KEY,
        ProblemKind::Empty => &JWKS_EMPTY,
    };
    if p.kind == ProblemKind::Empty {
        return Finding::new(
            spec,
            format!("{source} is a JWK Set with no keys, so no token can verify against it."),
        )
        .evidence(json!({"source": source}));
    }
    let who = p
        .kid
        .as_deref()
        .map_or(format!("key #{}", p.index + 1), |k| {
            format!("key #{} (kid \"{k}\")", p.index + 1)
        });
    let mut detail = format!("In {source}, {who}: {}.", p.message);
    if p.kid.is_some() && p.kid.as_deref() == ctx.token.kid() {
        detail.push_str(" That is the kid this token names.");
    }
    Finding::new(spec, detail).evidence(json!({"source": source, "index": p.index, "kid": p.kid}))
}

/// What a fetched document is, for the finding's title and advice.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Doc {
    /// `<iss>/.well-known/openid-configuration`.
    Discovery,
    /// The JWK Set.
    Jwks,
}

impl Doc {
    fn name(self) -> &'static str {
        match self {
            Doc::Discovery => "discovery",
            Doc::Jwks => "jwks",
        }
    }
}

// The same codes as above for the discovery step, titled for it: a 404 on
// `/.well-known/openid-configuration` is no "JWKS URL" error, and its fix is
// not "take jwks_uri from the discovery document".
static DISCOVERY_FETCH_FAILED: Spec = Spec {
    title: "Could not fetch the discovery document",
    doc: "DNS, connection, TLS or timeout failure on the issuer's `/.well-known/openid-configuration`, so the JWK Set it names could not be found.",
    fix: "Check that this host can reach the issuer (DNS, firewall/egress, proxy, CA bundle), and that `iss` names the right host; or skip discovery and pass the key set with `--jwks-uri URL`.",
    ..JWKS_FETCH_FAILED
};
static DISCOVERY_NO_ISSUER: Spec = Spec {
    title: "No issuer to discover the key set from",
    doc: "`--discover` fetches `<iss>/.well-known/openid-configuration`; without an `iss` claim or `--iss` there is nothing to fetch.",
    fix: "Pass the issuer with `--iss https://your-issuer/`, or the key set with `--jwks-uri URL`.",
    ..JWKS_FETCH_FAILED
};
static DISCOVERY_HTTP_ERROR: Spec = Spec {
    title: "The discovery document answered with an HTTP error",
    doc: "A non-2xx status from `<iss>/.well-known/openid-configuration`: a wrong issuer URL (realm, tenant, authorization server path), an identity provider that publishes no discovery document (404), access blocked (401/403) or the provider failing (5xx).",
    fix: "Check the issuer URL in `iss` (or `--iss`): realm, tenant or authorization-server path included. If the provider publishes no discovery document, skip discovery and pass the key set with `--jwks-uri URL`.",
    ..JWKS_HTTP_ERROR
};
static DISCOVERY_INVALID: Spec = Spec {
    title: "The discovery document is not usable",
    doc: "The body at `<iss>/.well-known/openid-configuration` is not an OpenID Connect discovery document with a `jwks_uri`: an HTML page, an error page, or metadata without keys.",
    fix: "Check that the issuer URL is the provider's exact issuer; if it publishes no usable discovery document, pass the key set with `--jwks-uri URL`.",
    ..JWKS_INVALID
};

fn discovery(d: &Discovery, out: &mut Vec<Finding>) {
    let Some(outcome) = &d.outcome else {
        out.push(
            Finding::new(
                &DISCOVERY_NO_ISSUER,
                "--discover needs an issuer, but the token has no `iss` claim and no --iss was given.",
            )
            .evidence(json!({"document": "discovery"})),
        );
        return;
    };
    let what = format!("the discovery document {}", d.url);
    if let Some(f) = failure(&what, &d.url, outcome, Doc::Discovery, None) {
        return out.push(f);
    }
    let Fetch::Got(found) = outcome else { return };
    if found.issuer.as_deref() != Some(d.issuer.as_str()) {
        out.push(
            Finding::new(
                &DISCOVERY_ISSUER_MISMATCH,
                format!(
                    "Discovery for \"{}\" returned issuer {}; they must be identical. jwtai used its jwks_uri {} anyway.",
                    d.issuer,
                    found.issuer.as_deref().map_or("(none)".to_string(), |i| format!("\"{i}\"")),
                    found.jwks_uri
                ),
            )
            .evidence(json!({"expected": d.issuer, "found": found.issuer, "url": d.url})),
        );
    }
}

/// The finding for a fetch that failed; `None` when it got its document.
/// `discovery_url`: the discovery document a JWKS URL came from.
fn failure<T>(
    what: &str,
    url: &str,
    outcome: &Fetch<T>,
    doc: Doc,
    discovery_url: Option<&str>,
) -> Option<Finding> {
    let is_discovery = doc == Doc::Discovery;
    match outcome {
        Fetch::Got(_) => None,
        Fetch::Failed(e) => {
            let spec = if is_discovery {
                &DISCOVERY_FETCH_FAILED
            } else {
                &JWKS_FETCH_FAILED
            };
            // A TLS failure's message says what to do about a private CA.
            Some(
                Finding::new(spec, format!("Fetching {what} failed ({}): {e}.", e.kind()))
                    .evidence(json!({"kind": e.kind(), "url": url, "document": doc.name()})),
            )
        }
        Fetch::Http { status, excerpt } => {
            let (spec, hint, fix) = if is_discovery {
                http_advice_discovery(*status)
            } else {
                http_advice_jwks(*status, discovery_url)
            };
            let mut f = Finding::new(
                spec,
                format!("Fetching {what} returned HTTP {status}.{hint} Body starts: {excerpt}"),
            )
            .evidence(json!({"status": status, "url": url, "document": doc.name()}));
            if let Some(fix) = fix {
                f = f.fix(fix);
            }
            Some(f)
        }
        Fetch::Invalid {
            kind,
            reason,
            excerpt,
        } => {
            let spec = if is_discovery {
                &DISCOVERY_INVALID
            } else {
                &JWKS_INVALID
            };
            let named = if is_discovery {
                format!("The discovery document {url} answered, but {reason}.")
            } else {
                format!("{url} answered, but {reason}.")
            };
            let mut f = Finding::new(spec, format!("{named} Body starts: {excerpt}"))
                .evidence(json!({"url": url, "document": doc.name(), "body": kind.as_str()}));
            if let Some(fix) = body_fix(*kind, doc) {
                f = f.fix(fix);
            }
            Some(f)
        }
    }
}

/// Hint in the detail, and fix, for an HTTP error on the discovery document.
fn http_advice_discovery(status: u16) -> (&'static Spec, String, Option<String>) {
    let spec = &DISCOVERY_HTTP_ERROR;
    let (hint, fix) = match status {
        404 | 410 => (
            " Nothing is published at that address: the issuer URL is not the provider's exact issuer (a wrong realm, tenant or authorization-server path, a missing or extra path segment), or the identity provider publishes no OpenID Connect discovery document.",
            Some(
                "Compare `iss` (or `--iss`) with the provider's issuer, path included: Keycloak `https://HOST/realms/REALM` (`/auth/realms/REALM` before Keycloak 17), Azure AD `https://login.microsoftonline.com/TENANT/v2.0`, Okta `https://ORG.okta.com/oauth2/default` or the org server `https://ORG.okta.com`. If the provider publishes no discovery document, skip discovery: pass its key set with `--jwks-uri URL`.",
            ),
        ),
        401 | 403 => (
            " Access is blocked: discovery documents are public, so a proxy or gateway in front of the issuer refuses the request.",
            Some(
                "Make `/.well-known/openid-configuration` reachable without credentials (exempt it at the proxy or gateway), or pass the key set with `--jwks-uri URL`.",
            ),
        ),
        s if s >= 500 => (
            " The identity provider is failing.",
            Some(
                "Retry later; verifiers should keep the last good discovery document and key set. To diagnose now, pass the key set with `--jwks-uri URL` if you know it.",
            ),
        ),
        _ => ("", None),
    };
    (spec, hint.to_string(), fix.map(str::to_string))
}

/// Hint in the detail, and fix, for an HTTP error on the JWK Set.
fn http_advice_jwks(
    status: u16,
    discovery_url: Option<&str>,
) -> (&'static Spec, String, Option<String>) {
    let spec = &JWKS_HTTP_ERROR;
    match (status, discovery_url) {
        (404 | 410, Some(d)) => (
            spec,
            format!(
                " This URL is the `jwks_uri` the discovery document {d} names: the provider's metadata points to a key set that is not there, or a proxy rewrites the host or path."
            ),
            Some("Report the broken `jwks_uri` to whoever runs the identity provider (or fix the proxy's URL rewriting); if you know the right key set URL, pass it with `--jwks-uri URL`.".to_string()),
        ),
        (404 | 410, None) => (
            spec,
            " The path is wrong: the issuer publishes its key set elsewhere.".to_string(),
            Some("Take the exact `jwks_uri` from the issuer's `/.well-known/openid-configuration` (`jwtai diagnose … --discover` does that from the token's `iss`).".to_string()),
        ),
        (401 | 403, _) => (
            spec,
            " Access is blocked: the JWKS endpoint must be public.".to_string(),
            None,
        ),
        (s, _) if s >= 500 => (
            spec,
            " The issuer's endpoint is failing: retry later; verifiers should keep the last good set."
                .to_string(),
            None,
        ),
        _ => (spec, String::new(), None),
    }
}

/// The fix for a body that is no JWK Set or discovery document, by what it is.
fn body_fix(kind: BodyKind, doc: Doc) -> Option<String> {
    let path = match doc {
        Doc::Discovery => "the discovery document",
        Doc::Jwks => "the key set",
    };
    Some(match kind {
        BodyKind::Gzip => format!(
            "Make the server (or the CDN in front of it) send gzip only to clients that ask for it with `Accept-Encoding: gzip`, and plain JSON otherwise; a stored `.json.gz` served as {path} needs the same. Verifiers whose HTTP client does not decompress unasked fail on this body too."
        ),
        BodyKind::Bom => format!(
            "Serve {path} as UTF-8 without a byte-order mark: save the file without it (\"UTF-8\", not \"UTF-8 with BOM\"), or strip it where the response is written."
        ),
        BodyKind::LoginPage => format!(
            "Exempt {path}'s URL from the SSO proxy or auth gateway: it must be public, since every verifier fetches it without credentials."
        ),
        BodyKind::Html if doc == Doc::Discovery => {
            "The issuer URL serves a web page, not OpenID Connect metadata: check the issuer (realm, tenant, path), or pass the key set with `--jwks-uri URL`.".to_string()
        }
        BodyKind::Html => {
            "The URL serves a web page, not the key set: take the exact `jwks_uri` from the issuer's discovery document (`--discover`).".to_string()
        }
        BodyKind::Empty => format!(
            "The endpoint answers 2xx with no content: check the key store or handler behind {path}."
        ),
        BodyKind::Shape if doc == Doc::Discovery => {
            "The document is no OpenID Connect discovery document with a `jwks_uri`: check the issuer URL, or pass the key set with `--jwks-uri URL`.".to_string()
        }
        BodyKind::NotJson | BodyKind::Shape => return None,
    })
}

fn remote(ctx: &Context, r: &Remote, out: &mut Vec<Finding>) {
    let discovered = discovered_by(&ctx.keys.remote, &r.url);
    if let Some(f) = failure(
        &format!("the JWK Set {}", r.url),
        &r.url,
        &r.outcome,
        Doc::Jwks,
        discovered,
    ) {
        out.push(f);
    }
    if let Fetch::Got(loaded) = &r.outcome {
        if loaded.set.keys.is_empty() {
            out.push(
                Finding::new(
                    &JWKS_EMPTY,
                    format!(
                        "{} returned a JWK Set with no keys, so no token can verify.",
                        r.url
                    ),
                )
                .evidence(json!({"url": r.url})),
            );
        }
        for p in &loaded.set.problems {
            out.push(problem(ctx, &r.url, p));
        }
    }
    if let Some(rf) = &r.refetch {
        let age = rf.stale_age_secs.map_or("an older".to_string(), |a| {
            format!("a {}-old", crate::clock::duration(a as i64))
        });
        out.push(Finding::new(
            &JWKS_CACHE_STALE,
            format!(
                "{age} cached copy of {} lacked kid \"{}\"; jwtai fetched it again, and the fresh set {} it. A verifier that caches the set without re-fetching on an unknown kid fails the same way.",
                r.url,
                ctx.token.kid().unwrap_or(""),
                if rf.kid_now_present { "has" } else { "still lacks" }
            ),
        ));
    }
}
