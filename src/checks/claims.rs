//! Claims: what the server expects of `iss`, `aud`, scopes and other claims,
//! and what the payload should never carry (personal data, secrets).

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::{Context, idp, show};
use crate::findings::{Finding, Severity::*, Spec};
use crate::sensitive::{self, Shape};
use crate::token::json::Members;

pub static ISSUER_MISMATCH: Spec = Spec {
    code: "issuer-mismatch",
    severity: Error,
    title: "Issuer does not match",
    doc: "`iss` must equal one of the issuers the server trusts, character for character. A different value means a token from another tenant, environment (staging vs production) or identity provider.",
    fix: "Configure the verifier's issuer to exactly the token issuer's `iss` (copy it from the IdP's discovery document), or obtain the token from the issuer the API trusts.",
    rank: 20,
};
pub static ISSUER_TRAILING_SLASH: Spec = Spec {
    code: "issuer-trailing-slash",
    severity: Error,
    title: "Issuer differs only by a trailing slash",
    doc: "Issuers are compared as exact strings. Auth0 issuers end with `/` (`https://tenant.auth0.com/`), many configurations omit it, and the comparison fails.",
    fix: "Copy `issuer` from the provider's `/.well-known/openid-configuration` into the verifier's config exactly, trailing slash included.",
    rank: 19,
};
pub static AUDIENCE_MISMATCH: Spec = Spec {
    code: "audience-mismatch",
    severity: Error,
    title: "Audience does not match",
    doc: "None of the token's `aud` values equals an audience the API accepts. The token was issued for another API or client (wrong `audience` requested, a token from another environment).",
    fix: "Request the token for this API's audience (Auth0 `audience`, Azure AD `scope=api://<app>/.default`, Okta authorization server audience), or add the token's audience to the verifier if the API really is that audience.",
    rank: 21,
};
pub static AUDIENCE_MISSING: Spec = Spec {
    code: "audience-missing",
    severity: Error,
    title: "Token has no `aud` but one is expected",
    doc: "The verifier requires an audience and the token carries none: typically a token minted without requesting an API audience, or by a custom issuer that never sets `aud`.",
    fix: "Request the token for the API's audience, or make the issuer set `aud` to the API identifier.",
    rank: 21,
};
pub static MISSING_CLAIM: Spec = Spec {
    code: "missing-claim",
    severity: Error,
    title: "A required claim is absent",
    doc: "The verifier requires a claim the token does not carry (e.g. `sub`, `exp`, a tenant id).",
    fix: "Add the claim at the issuer (an Auth0 Action, an Okta claim mapping, the token builder), or stop requiring it.",
    rank: 22,
};
pub static SCOPE_MISSING: Spec = Spec {
    code: "scope-missing",
    severity: Error,
    title: "A required scope is not granted",
    doc: "The endpoint requires a scope that is not in `scope` (space-separated string) or `scp` (string or array). Usually the client never requested it, or the user/app was never granted it.",
    fix: "Request the scope in the authorization request and grant it to the client (Auth0: API permissions; Azure AD: API permissions + admin consent); then get a new token.",
    rank: 23,
};
pub static CLAIM_MISMATCH: Spec = Spec {
    code: "claim-mismatch",
    severity: Error,
    title: "A claim has the wrong value",
    doc: "A claim the server checks (`--claim NAME=VALUE`) holds another value: another tenant, organisation, role or environment.",
    fix: "Obtain a token for the expected tenant/organisation, or correct the claim mapping at the issuer.",
    rank: 24,
};
pub static PII_IN_CLAIMS: Spec = Spec {
    code: "pii-in-claims",
    severity: Warning,
    title: "Personal data in the payload",
    doc: "A JWT payload is only base64url-encoded, not encrypted: anyone who holds the token (logs, browser storage, proxies) reads it. Personal data there leaks wherever the token goes.",
    fix: "Keep personal data out of access tokens: carry a stable opaque `sub` and look the rest up server-side, or encrypt the token (JWE).",
    rank: 70,
};
pub static SECRET_IN_CLAIMS: Spec = Spec {
    code: "secret-in-claims",
    severity: Error,
    title: "A secret in the payload",
    doc: "Passwords, API keys, card numbers or other tokens inside the claims are readable by anyone holding the token. Treat them as leaked.",
    fix: "Remove the secret from the claims at the issuer, rotate the exposed secret now, and purge logs that stored these tokens.",
    rank: 25,
};
pub static SERVICE_ROLE_KEY: Spec = Spec {
    code: "service-role-key",
    severity: Warning,
    title: "Supabase service_role key: bypasses Row Level Security",
    doc: "A Supabase project's service_role key is a JWT with `role` \"service_role\". Supabase's APIs give it full access and skip Row Level Security, so whoever holds it reads and writes every table. It belongs on trusted servers only; in a browser, app or request from a client it is a leaked admin credential, and an API that accepts it from clients grants admin to anyone who finds it.",
    fix: idp::SERVICE_ROLE_FIX,
    rank: 26,
};

pub static SPECS: &[&Spec] = &[
    &ISSUER_MISMATCH,
    &ISSUER_TRAILING_SLASH,
    &AUDIENCE_MISMATCH,
    &AUDIENCE_MISSING,
    &MISSING_CLAIM,
    &SCOPE_MISSING,
    &CLAIM_MISMATCH,
    &PII_IN_CLAIMS,
    &SECRET_IN_CLAIMS,
    &SERVICE_ROLE_KEY,
];

pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let Some(claims) = ctx.token.claims() else {
        return;
    };
    issuer(ctx, claims, out);
    audience(ctx, claims, out);
    for name in &ctx.expect.require {
        required_claim(claims, name, out);
    }
    scopes(ctx, claims, out);
    for (name, want) in &ctx.expect.claims {
        expected_claim(claims, name, want, out);
    }
    sensitive_claims(claims, out);
    service_role(claims, out);
}

/// A Supabase service_role key, which bypasses Row Level Security.
fn service_role(claims: &Map<String, Value>, out: &mut Vec<Finding>) {
    let text = |name: &str| claims.member(name).and_then(Value::as_str);
    let Some(iss) = text("iss") else { return };
    if !super::idp::is_supabase(iss) || text("role") != Some("service_role") {
        return;
    }
    let project = text("ref")
        .map(|r| format!(", project \"{r}\""))
        .unwrap_or_default();
    out.push(
        Finding::new(
            &SERVICE_ROLE_KEY,
            format!(
                "`role` is \"service_role\" (`iss` \"{iss}\"{project}): this is the project's service_role key. Supabase gives it full access and skips Row Level Security; whoever holds it reads and writes every table. It must never reach a client, and an API must not accept it from one."
            ),
        )
        .evidence(json!({"iss": iss, "role": "service_role", "ref": text("ref")})),
    );
}

fn issuer(ctx: &Context, claims: &Map<String, Value>, out: &mut Vec<Finding>) {
    let expected = &ctx.expect.iss;
    if expected.is_empty() {
        return;
    }
    let want = expected_list(expected);
    let Some(iss) = claims.member("iss") else {
        out.push(
            Finding::new(
                &ISSUER_MISMATCH,
                format!("The token has no `iss` claim; the server expects {want}."),
            )
            .evidence(json!({"expected": expected})),
        );
        return;
    };
    let Some(iss) = iss.as_str() else {
        out.push(Finding::new(
            &ISSUER_MISMATCH,
            format!(
                "`iss` is {}, not a string; the server expects {want}.",
                show(iss)
            ),
        ));
        return;
    };
    if expected.iter().any(|e| e == iss) {
        return;
    }
    if let Some(e) = expected.iter().find(|e| e.trim() == iss.trim()) {
        let (detail, fix) = whitespace_only("iss", "issuer", iss, e);
        out.push(
            Finding::new(&ISSUER_MISMATCH, detail)
                .fix(fix)
                .evidence(json!({"iss": iss, "expected": expected})),
        );
        return;
    }
    if let Some(e) = expected
        .iter()
        .find(|e| e.trim_end_matches('/') == iss.trim_end_matches('/'))
    {
        let (with, without) = if iss.ends_with('/') {
            ("token", "server")
        } else {
            ("server", "token")
        };
        out.push(
            Finding::new(
                &ISSUER_TRAILING_SLASH,
                format!("The token's iss is \"{iss}\", the server expects \"{e}\": the {with} has a trailing slash, the {without} does not. Issuers are compared as exact strings."),
            )
            .fix(format!("Set the verifier's issuer to \"{iss}\" exactly (copy it from the IdP's discovery document)."))
            .evidence(json!({"iss": iss, "expected": e})),
        );
        return;
    }
    let mut detail = format!("The token's iss is \"{iss}\"; the server expects {want}.");
    detail.push_str(&stray_whitespace(expected));
    out.push(idp::hinted(
        Finding::new(&ISSUER_MISMATCH, detail).evidence(json!({"iss": iss, "expected": expected})),
        idp::token_kind(claims, &ctx.expect.aud).or_else(|| match idp::graph_audience(claims) {
            Some(graph) => Some(idp::graph_issuer(&graph, claims)),
            None => idp::issuer(iss, &trimmed(expected)),
        }),
    ));
}

/// The expected values as said in a detail: bare when plain, quoted and
/// escaped when whitespace or control characters would hide in them.
fn expected_list(expected: &[String]) -> String {
    expected
        .iter()
        .map(|e| {
            if e.is_empty() || e.chars().any(|c| c.is_whitespace() || c.is_control()) {
                Value::String(e.clone()).to_string()
            } else {
                e.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" or ")
}

/// Expected values without the whitespace at their ends, for the near-miss
/// hints (the whitespace is said separately).
fn trimmed(expected: &[String]) -> Vec<String> {
    expected.iter().map(|e| e.trim().to_string()).collect()
}

/// What whitespace a value starts or ends with, said so it can be seen:
/// `ends with "\n" (a newline)`.
fn edge_whitespace(s: &str) -> Option<String> {
    let name = |c: char| match c {
        ' ' => "a space",
        '\n' => "a newline",
        '\r' => "a carriage return",
        '\t' => "a tab",
        '\u{a0}' => "a no-break space",
        _ => "a whitespace character",
    };
    let said = |part: &str| {
        let mut names: Vec<&str> = Vec::new();
        for c in part.chars() {
            if !names.contains(&name(c)) {
                names.push(name(c));
            }
        }
        format!("{} ({})", Value::String(part.to_string()), names.join(", "))
    };
    let lead_len = s.len() - s.trim_start().len();
    let trail_len = s.len() - s.trim_end().len();
    let mut parts = Vec::new();
    if lead_len > 0 {
        parts.push(format!("starts with {}", said(&s[..lead_len])));
    }
    if trail_len > 0 && lead_len < s.len() {
        parts.push(format!("ends with {}", said(&s[s.len() - trail_len..])));
    }
    (!parts.is_empty()).then(|| parts.join(" and "))
}

/// A token value and an expected one equal but for whitespace at their ends.
fn whitespace_only(claim: &str, what: &str, have: &str, e: &str) -> (String, String) {
    let shown = |v: &str| Value::String(v.to_string()).to_string();
    let mut said = Vec::new();
    if let Some(w) = edge_whitespace(e) {
        said.push(format!("The expected {what} {} {w}", shown(e)));
    }
    if let Some(w) = edge_whitespace(have) {
        said.push(format!("the token's {claim} {} {w}", shown(have)));
    }
    let detail = format!(
        "The token's {claim} is {}; the server expects {}. {}; apart from that whitespace they are equal, but {what}s are compared as exact strings, whitespace included.",
        shown(have),
        shown(e),
        said.join(", and ")
    );
    let fix = if edge_whitespace(e).is_some() {
        format!(
            "Trim the configured {what}: a value read from an environment variable or a file often keeps a trailing newline or space (`.trim()` it, or fix the file), so the verifier expects {} exactly.",
            shown(have.trim())
        )
    } else {
        format!(
            "Fix the issuer's configuration so `{claim}` carries no whitespace, then get a new token; the verifier expects {}.",
            shown(e)
        )
    };
    (detail, fix)
}

/// A note on expected values that carry whitespace at their ends, which no
/// identity provider writes.
fn stray_whitespace(expected: &[String]) -> String {
    expected
        .iter()
        .filter_map(|e| {
            edge_whitespace(e).map(|w| {
                format!(
                    " The expected value {} {w}: a configuration value read with its trailing newline or space.",
                    Value::String(e.clone())
                )
            })
        })
        .collect()
}

/// An expected audience matches: the same string, or a `/regex/` (node
/// jsonwebtoken and fast-jwt take a RegExp audience) that matches it.
/// Each pattern is compiled once per thread (scan diagnoses many tokens
/// against the same `--aud`).
fn aud_matches(expected: &str, aud: &str) -> bool {
    thread_local! {
        static COMPILED: std::cell::RefCell<HashMap<String, Option<regex::Regex>>> =
            std::cell::RefCell::new(HashMap::new());
    }
    expected == aud
        || (expected.starts_with('/')
            && COMPILED.with(|c| {
                c.borrow_mut()
                    .entry(expected.to_string())
                    .or_insert_with(|| crate::errortext::js_regex(expected))
                    .as_ref()
                    .is_some_and(|re| re.is_match(aud))
            }))
}

fn audience(ctx: &Context, claims: &Map<String, Value>, out: &mut Vec<Finding>) {
    let expected = &ctx.expect.aud;
    if expected.is_empty() {
        return;
    }
    let want = expected_list(expected);
    let auds: Vec<String> = match claims.member("aud") {
        None | Some(Value::Null) => {
            out.push(idp::hinted(
                Finding::new(
                    &AUDIENCE_MISSING,
                    format!("The token has no `aud` claim; the server expects {want}."),
                )
                .evidence(json!({"expected": expected})),
                idp::token_kind(claims, expected)
                    .or_else(|| idp::audience_absent(expected, claims)),
            ));
            return;
        }
        Some(v) => match audience_strings(v) {
            Ok(auds) => auds,
            Err(bad) => {
                // A string member that matches passes node jsonwebtoken and
                // jose (they look for any match); only the type is off.
                let string_match = v.as_array().is_some_and(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .any(|s| expected.iter().any(|e| aud_matches(e, s)))
                });
                if !string_match {
                    out.push(audience_type(v, bad, expected, &want));
                }
                return;
            }
        },
    };
    if auds
        .iter()
        .any(|a| expected.iter().any(|e| aud_matches(e, a)))
    {
        return;
    }
    let shown = if auds.len() == 1 {
        format!("\"{}\"", auds[0])
    } else {
        format!(
            "[{}]",
            auds.iter()
                .map(|a| format!("\"{a}\""))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let near = auds
        .iter()
        .find_map(|a| Some((a, expected.iter().find(|e| e.trim() == a.trim())?)));
    if let Some((a, e)) = near {
        let (detail, fix) = whitespace_only("aud", "audience", a, e);
        out.push(
            Finding::new(&AUDIENCE_MISMATCH, detail)
                .fix(fix)
                .evidence(json!({"aud": auds, "expected": expected})),
        );
        return;
    }
    let mut detail = format!("The token's aud is {shown}; the server expects {want}.");
    detail.push_str(&stray_whitespace(expected));
    let hint = idp::token_kind(claims, expected)
        .or_else(|| idp::audience(&auds, &trimmed(expected), claims));
    if hint.is_none()
        && auds.iter().all(|a| !a.contains("://") && !a.contains(':'))
        && expected.iter().any(|e| e.contains("://"))
    {
        detail.push_str(" The token's audience looks like a client id, not an API identifier: it may be an ID token, or a token requested without an API audience.");
    }
    out.push(idp::hinted(
        Finding::new(&AUDIENCE_MISMATCH, detail)
            .evidence(json!({"aud": auds, "expected": expected})),
        hint,
    ));
}

/// `aud` as RFC 7519 §4.1.3 allows it, a string or an array of strings;
/// otherwise the first value of another JSON type.
fn audience_strings(v: &Value) -> Result<Vec<String>, &Value> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(a) => a
            .iter()
            .map(|x| x.as_str().map(str::to_string).ok_or(x))
            .collect(),
        other => Err(other),
    }
}

/// `aud` of a type RFC 7519 does not allow: verifiers reject it as
/// malformed, whatever its value.
fn audience_type(aud: &Value, bad: &Value, expected: &[String], want: &str) -> Finding {
    let what = if std::ptr::eq(aud, bad) {
        format!("`aud` is {}, {}", show(aud), crate::jsontype::phrase(aud))
    } else {
        format!(
            "`aud` is {}, which holds {}, {}",
            show(aud),
            show(bad),
            crate::jsontype::phrase(bad)
        )
    };
    let text = bad.as_str().map_or_else(|| bad.to_string(), str::to_string);
    let same = if expected.contains(&text) {
        format!(
            " Its text equals the expected {want}, but the type is wrong, and a verifier does not convert it."
        )
    } else {
        format!(" The server expects {want}.")
    };
    Finding::new(
        &AUDIENCE_MISMATCH,
        format!(
            "{what}: RFC 7519 §4.1.3 allows only a string or an array of strings, so the claim's type is wrong. Verifiers reject it as malformed (PyJWT: \"Invalid claim format in token\"; node jsonwebtoken compares with === and finds no match).{same}"
        ),
    )
    .fix(format!(
        "Make the issuer write `aud` as a string or an array of strings, e.g. \"aud\": {}.",
        Value::String(text)
    ))
    .evidence(json!({"aud": aud, "expected": expected}))
}

fn scopes(ctx: &Context, claims: &Map<String, Value>, out: &mut Vec<Finding>) {
    if ctx.expect.scopes.is_empty() {
        return;
    }
    let granted: Vec<String> = ["scope", "scp"]
        .iter()
        .filter_map(|k| claims.member(k))
        .flat_map(|v| match v {
            Value::String(s) => s.split_whitespace().map(str::to_string).collect::<Vec<_>>(),
            Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        })
        .collect();
    let permissions: Vec<String> = claims
        .member("permissions")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    for want in &ctx.expect.scopes {
        if granted.contains(want) {
            continue;
        }
        let mut detail = if granted.is_empty() {
            format!(
                "The endpoint requires scope `{want}`; the token grants no scopes (no `scope` or `scp` claim)."
            )
        } else {
            format!(
                "The endpoint requires scope `{want}`; the token grants {}.",
                granted
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        if permissions.contains(want) {
            detail.push_str(" It is in `permissions` (Auth0 RBAC) instead: check that claim, or enable \"Add Permissions in the Access Token\" and read the right one.");
        }
        out.push(idp::hinted(
            Finding::new(&SCOPE_MISSING, detail)
                .evidence(json!({"required": want, "granted": granted})),
            idp::scope_in_roles(want, claims),
        ));
    }
}

/// A claim by name, or by a dotted path into nested objects
/// (`realm_access.roles`). Names may themselves hold dots (`kubernetes.io`):
/// a literal member wins, then the longest prefix that names an object.
fn lookup<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    lookup_in(claims, name, 0)
}

fn lookup_in<'a>(obj: &'a Map<String, Value>, path: &str, depth: usize) -> Option<&'a Value> {
    if let Some(v) = obj.member(path) {
        return Some(v);
    }
    if depth > 16 {
        return None;
    }
    path.rmatch_indices('.').find_map(|(i, _)| {
        let (head, rest) = (&path[..i], &path[i + 1..]);
        match obj.member(head)? {
            Value::Object(inner) if !rest.is_empty() => lookup_in(inner, rest, depth + 1),
            _ => None,
        }
    })
}

fn required_claim(claims: &Map<String, Value>, name: &str, out: &mut Vec<Finding>) {
    match lookup(claims, name) {
        Some(Value::Null) => out.push(
            Finding::new(
                &MISSING_CLAIM,
                format!(
                    "The server requires `{name}`; the token has `{name}`: null. A null claim counts as absent (PyJWT's `require`, and any check that reads the value, sees none)."
                ),
            )
            .fix(format!(
                "Make the issuer put a value in `{name}` (or leave null claims out and stop requiring it); a null is no value."
            ))
            .evidence(json!({"claim": name, "actual": null})),
        ),
        Some(_) => {}
        None => out.push(
            Finding::new(
                &MISSING_CLAIM,
                format!(
                    "The server requires `{name}`; the payload has {}.",
                    list_names(claims)
                ),
            )
            .evidence(json!({"claim": name})),
        ),
    }
}

fn expected_claim(claims: &Map<String, Value>, name: &str, want: &str, out: &mut Vec<Finding>) {
    let Some(have) = lookup(claims, name) else {
        out.push(
            Finding::new(
                &CLAIM_MISMATCH,
                format!(
                    "The server expects `{name}` = \"{want}\"; the token has no `{name}` claim."
                ),
            )
            .evidence(json!({"claim": name, "expected": want})),
        );
        return;
    };
    if claim_matches(have, want) {
        return;
    }
    let mut detail = format!(
        "The server expects `{name}` = \"{want}\"; the token has {}.",
        show(have)
    );
    match have {
        Value::String(s) if s != want && s.split_whitespace().any(|w| w == want) => {
            detail.push_str(&format!(
                " \"{want}\" is one word of that string, but a claim value is compared as a whole string."
            ));
            if matches!(name, "scope" | "scp") {
                detail.push_str(&format!(
                    " To require one scope of a space-separated list, use `--scope {want}`."
                ));
            }
        }
        Value::String(s) if s.trim() == want.trim() => {
            detail.push_str(" They differ only in whitespace at the start or end, which a string comparison does not ignore.");
        }
        Value::Null => detail.push_str(" The claim is present but null: no value equals it."),
        _ => {}
    }
    let mut finding = Finding::new(&CLAIM_MISMATCH, detail)
        .evidence(json!({"claim": name, "expected": want, "actual": have}));
    if let Some(fix) = token_kind_fix(name, want) {
        finding = finding.fix(fix);
    }
    out.push(finding);
}

/// The fix when the claim says which kind of token of a login this is
/// (flask-jwt-extended's `type` and `fresh`, SimpleJWT's `token_type`):
/// another token of the same login is needed, not another tenant's.
fn token_kind_fix(name: &str, want: &str) -> Option<&'static str> {
    match (name, want) {
        ("fresh", "true") => Some(
            "Log in again: only a login issues a fresh token (flask-jwt-extended: `create_access_token(identity, fresh=True)` in the login view); a token made by refreshing is never fresh. Ask for the password (or re-authentication) before this endpoint.",
        ),
        ("type" | "token_type", "access") => Some(
            "Send the access token: the refresh token goes only to the refresh endpoint. Check which of the login response's two tokens the client stores under which name.",
        ),
        ("type" | "token_type", "refresh") => Some(
            "Send the refresh token to the refresh endpoint (the access token goes to the API): check which of the login response's two tokens the client sends here.",
        ),
        _ => None,
    }
}

/// Whether a claim value is the expected one, given as command-line text:
/// a string equals it exactly; a number equals it as a number (`42` and
/// `42.0`); a boolean as `true`/`false`; an array when one member equals it
/// (role and group lists) or when the text is that very JSON array; an
/// object only as equal JSON text.
fn claim_matches(have: &Value, want: &str) -> bool {
    // `--claim 'tenant="acme"'`: a JSON string literal means its content.
    if let Some(Value::String(inner)) = want
        .starts_with('"')
        .then(|| serde_json::from_str::<Value>(want).ok())
        .flatten()
    {
        return claim_matches(have, &inner);
    }
    let scalar = |v: &Value| match v {
        Value::String(s) => s == want,
        Value::Number(n) => {
            if let (Some(h), Ok(w)) = (n.as_i64(), want.parse::<i64>()) {
                return h == w;
            }
            if let (Some(h), Ok(w)) = (n.as_u64(), want.parse::<u64>()) {
                return h == w;
            }
            let w = want.parse::<f64>().ok().filter(|w| w.is_finite());
            w.zip(n.as_f64()).is_some_and(|(w, h)| w == h)
        }
        Value::Bool(b) => want == if *b { "true" } else { "false" },
        _ => false,
    };
    match have {
        Value::Array(a) => {
            a.iter().any(scalar) || serde_json::from_str::<Value>(want).is_ok_and(|w| w == *have)
        }
        Value::Object(_) => serde_json::from_str::<Value>(want).is_ok_and(|w| w == *have),
        v => scalar(v),
    }
}

/// Claims that carry personal data or secrets, by name or by value shape.
fn sensitive_claims(claims: &Map<String, Value>, out: &mut Vec<Finding>) {
    let mut pii: Vec<String> = Vec::new();
    let mut secrets: Vec<String> = Vec::new();
    for (name, value) in claims {
        if matches!(
            name.as_str(),
            "iss" | "aud" | "sub" | "jti" | "azp" | "scope" | "scp" | "exp" | "iat" | "nbf"
        ) {
            continue;
        }
        // `updated_at: 1773500000014`: a time, whatever the Luhn check says.
        if matches!(value, Value::Number(n) if sensitive::plausible_time(&n.to_string()))
            && sensitive::is_time_name(name)
        {
            continue;
        }
        // `has_password: true` is a flag, not a password.
        if sensitive::is_secret_name(name) && !matches!(value, Value::Null | Value::Bool(_)) {
            secrets.push(format!("`{name}`"));
            continue;
        }
        if let Some(path) = nested_secret_name(value, 0) {
            secrets.push(format!("`{name}.{path}`"));
            continue;
        }
        // `kubernetes.io/serviceaccount/service-account.name` names a
        // workload identity, not a person.
        if sensitive::is_pii_name(name)
            && !matches!(value, Value::Null | Value::Bool(_))
            && !name.starts_with("kubernetes.io/")
        {
            pii.push(format!("`{name}`"));
            continue;
        }
        // A claim named by a person's address (`{"ann@example.com": "admin"}`).
        if let Some(s) = sensitive::classify(name)
            .filter(|s| matches!(s, Shape::Email | Shape::Phone | Shape::Iban | Shape::Ssn))
        {
            pii.push(format!(
                "`{name}` (its name looks like {})",
                describe_shape(s)
            ));
            continue;
        }
        let mut shapes = Vec::new();
        collect_shapes(value, &mut shapes, 0);
        if let Some(s) = shapes.iter().find(|s| s.is_secret()) {
            secrets.push(format!("`{name}` (looks like {})", describe_shape(*s)));
        } else if let Some(s) = shapes.iter().find(|s| {
            matches!(
                s,
                Shape::Email | Shape::Phone | Shape::Ip | Shape::Iban | Shape::Ssn
            )
        }) {
            pii.push(format!("`{name}` (looks like {})", describe_shape(*s)));
        }
    }
    if !secrets.is_empty() {
        out.push(
            Finding::new(
                &SECRET_IN_CLAIMS,
                format!("The payload carries {}: readable by anyone who sees the token (logs, browser storage, proxies). Values are masked in this report.", secrets.join(", ")),
            )
            .evidence(json!({"claims": secrets})),
        );
    }
    if !pii.is_empty() {
        let mut f = Finding::new(
            &PII_IN_CLAIMS,
            format!("The payload carries personal data in {}; a JWT is encoded, not encrypted. Values are masked in this report.", pii.join(", ")),
        )
        .evidence(json!({"claims": pii}));
        // OIDC puts profile claims in ID tokens on purpose, for the client.
        let markers = super::idp::id_token_markers(claims);
        if !markers.is_empty() {
            f.detail.push_str(&format!(
                " This is an ID token ({}): OpenID Connect puts profile claims in it by design, for the client that signed the user in.",
                markers.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")
            ));
            f = f.fix("Keep the ID token with the client that received it: do not send it to APIs, store it in shared places or log it. Request only the scopes (`profile`, `email`) the client needs.");
        }
        out.push(f);
    }
}

/// A member with a secret's name (`password`, `client_secret`...) inside
/// a nested object, as a dotted path: redaction masks it by that name.
fn nested_secret_name(v: &Value, depth: usize) -> Option<String> {
    let Value::Object(o) = v else {
        return None;
    };
    if depth > 16 {
        return None;
    }
    o.iter().find_map(|(k, x)| {
        if sensitive::is_secret_name(k) && !matches!(x, Value::Null | Value::Bool(_)) {
            Some(k.clone())
        } else {
            nested_secret_name(x, depth + 1).map(|p| format!("{k}.{p}"))
        }
    })
}

fn collect_shapes(v: &Value, shapes: &mut Vec<Shape>, depth: usize) {
    if depth > 16 {
        return;
    }
    match v {
        Value::String(s) => shapes.extend(sensitive::classify(s)),
        Value::Number(n) => shapes.extend(sensitive::classify_number(n)),
        Value::Array(a) => a.iter().for_each(|x| collect_shapes(x, shapes, depth + 1)),
        // Member names too: a map keyed by users' addresses.
        Value::Object(o) => o.iter().for_each(|(k, x)| {
            shapes.extend(sensitive::classify(k));
            collect_shapes(x, shapes, depth + 1)
        }),
        _ => {}
    }
}

fn describe_shape(s: Shape) -> &'static str {
    match s {
        Shape::Email => "an email address",
        Shape::Phone => "a phone number",
        Shape::Ip => "an IP address",
        Shape::Card => "a payment card number",
        Shape::Jwt => "another token",
        Shape::ApiKey => "an API key",
        Shape::HighEntropy => "a secret",
        Shape::PrivateKey => "a private key",
        Shape::Credential => "a URL or header value with credentials in it",
        Shape::Iban => "a bank account number (IBAN)",
        Shape::Ssn => "a social security number",
    }
}

fn list_names(claims: &Map<String, Value>) -> String {
    if claims.is_empty() {
        return "no claims".into();
    }
    claims
        .keys()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
