//! JWKS: what happened fetching the issuer's key set (`--jwks-uri`,
//! `--discover`) and what is wrong with the set itself.

use serde_json::json;

use super::Context;
use crate::findings::{Finding, Severity::*, Spec};
use crate::jwks::{Discovery, Fetch, Remote};
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

fn problem(ctx: &Context, source: &str, p: &crate::keys::JwkProblem) -> Finding {
    let spec = match p.kind {
        ProblemKind::Unusable => &JWKS_KEY_UNUSABLE,
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

fn discovery(d: &Discovery, out: &mut Vec<Finding>) {
    let Some(outcome) = &d.outcome else {
        out.push(
            Finding::new(
                &JWKS_FETCH_FAILED,
                "--discover needs an issuer, but the token has no `iss` claim and no --iss was given.",
            )
            .fix("Pass --iss https://your-issuer/ or --jwks-uri URL."),
        );
        return;
    };
    let what = format!("the discovery document {}", d.url);
    if let Some(f) = failure(&what, &d.url, outcome) {
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
fn failure<T>(what: &str, url: &str, outcome: &Fetch<T>) -> Option<Finding> {
    match outcome {
        Fetch::Got(_) => None,
        Fetch::Failed(e) => Some(
            Finding::new(
                &JWKS_FETCH_FAILED,
                format!("Fetching {what} failed ({}): {e}.", e.kind()),
            )
            .evidence(json!({"kind": e.kind(), "url": url})),
        ),
        Fetch::Http { status, excerpt } => {
            let hint = match status {
                404 => " The path is wrong: take `jwks_uri` from the issuer's discovery document.",
                401 | 403 => " Access is blocked: the JWKS endpoint must be public.",
                s if *s >= 500 => {
                    " The issuer's endpoint is failing: retry later; verifiers should keep the last good set."
                }
                _ => "",
            };
            Some(
                Finding::new(
                    &JWKS_HTTP_ERROR,
                    format!("Fetching {what} returned HTTP {status}.{hint} Body starts: {excerpt}"),
                )
                .evidence(json!({"status": status, "url": url})),
            )
        }
        Fetch::Invalid { reason, excerpt } => Some(
            Finding::new(
                &JWKS_INVALID,
                format!("{url} answered, but {reason}. Body starts: {excerpt}"),
            )
            .evidence(json!({"url": url})),
        ),
    }
}

fn remote(ctx: &Context, r: &Remote, out: &mut Vec<Finding>) {
    if let Some(f) = failure(&format!("the JWK Set {}", r.url), &r.url, &r.outcome) {
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
