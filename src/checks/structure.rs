//! Input and structure: is this text a well-formed compact JWT at all?
//!
//! These outrank every other finding: a verifier that cannot split and decode
//! the token says "jwt malformed" and never looks at alg, exp or aud.

use serde_json::json;

use super::Context;
use crate::findings::{Finding, Severity::*, Spec};
use crate::input::Wrapper;
use crate::token::json::Members;
use crate::token::{Foreign, JsonIssue, Kind, LARGE_TOKEN_BYTES, Observation};

pub static INPUT_EXTRACTED: Spec = Spec {
    code: "input-extracted",
    severity: Info,
    title: "Token was pulled out of surrounding text",
    doc: "The input held more than the compact JWT: a Bearer prefix, a header line, a cookie, quotes, a JSON body or a curl command. jwtai diagnosed the token inside; code that passes the whole string to verify() fails with 'jwt malformed'.",
    fix: "Pass only `header.payload.signature` to the verifier: strip the `Bearer ` scheme and read the token out of its header, cookie or JSON field first.",
    rank: 90,
};
pub static BEARER_PREFIX_DUPLICATED: Spec = Spec {
    code: "bearer-prefix-duplicated",
    severity: Error,
    title: "`Bearer` prefix sent twice",
    doc: "The Authorization value reads `Bearer Bearer <token>`: one layer (an HTTP client interceptor, a gateway) adds the scheme to a value that already carries it. The server strips one prefix and fails to parse the rest.",
    fix: "Add `Bearer ` in exactly one place: store the raw token, and let the one interceptor or gateway that builds the Authorization header prepend the scheme.",
    rank: 1,
};
pub static WHITESPACE_IN_TOKEN: Spec = Spec {
    code: "whitespace-in-token",
    severity: Error,
    title: "Whitespace inside the token",
    doc: "Spaces, tabs or line breaks inside the compact token: a copy from a line-wrapped terminal or log, an email client, or a folded header. No base64url character is whitespace, so the verifier rejects the token as malformed.",
    fix: "Copy the token as one line (e.g. `tr -d ' \\n\\t'`), and make sure the header value is not folded or wrapped on its way (config templates, YAML block scalars, proxies).",
    rank: 2,
};
pub static OPAQUE_TOKEN: Spec = Spec {
    code: "opaque-token",
    severity: Error,
    title: "Not a JWT: an opaque token",
    doc: "One segment without dots is not a JWT. Identity providers issue opaque access tokens (random strings, validated by introspection) when the request names no API: Auth0 without an `audience`, Okta's org authorization server, Google OAuth access tokens.",
    fix: "Request a JWT access token for your API (Auth0: pass `audience=<API identifier>` to /authorize or the token endpoint; Okta: use a custom authorization server), or validate opaque tokens with token introspection (RFC 7662) instead of a JWT library.",
    rank: 0,
};
pub static WRONG_SEGMENT_COUNT: Spec = Spec {
    code: "wrong-segment-count",
    severity: Error,
    title: "Wrong number of segments",
    doc: "A signed JWT has three dot-separated segments (header.payload.signature), an encrypted one five. Any other count is rejected as malformed.",
    fix: "Copy the whole token, including the signature after the second dot; check that nothing appends or joins tokens (string concatenation, a trailing '.').",
    rank: 1,
};
pub static JWE_TOKEN: Spec = Spec {
    code: "jwe-token",
    severity: Info,
    title: "Encrypted JWT (JWE)",
    doc: "Five segments: the claims are encrypted (RFC 7516). Only the protected header is readable; the holder of the private key named by the header decrypts it. A verifier that expects a signed JWT (JWS) rejects it as malformed.",
    fix: "Decrypt with the recipient's private key (the one matching the header's `kid`) before verifying the nested signed JWT, or switch off access-token encryption at the identity provider if the API expects plain signed JWTs.",
    rank: 5,
};
pub static BASE64_STANDARD_ALPHABET: Spec = Spec {
    code: "base64-standard-alphabet",
    severity: Error,
    title: "Standard base64 instead of base64url",
    doc: "JWS segments are base64url without padding (RFC 7515 §2): `-` and `_` instead of `+` and `/`, no `=`. A token built by hand with standard base64 is rejected by strict decoders and its signature never matches.",
    fix: "Build tokens with a JWT library, or encode with base64url and strip padding (Node: `buf.toString('base64url')`; Python: `base64.urlsafe_b64encode(b).rstrip(b'=')`; Java: `Base64.getUrlEncoder().withoutPadding()`).",
    rank: 3,
};
pub static URL_ENCODED: Spec = Spec {
    code: "url-encoded",
    severity: Error,
    title: "Token is URL-encoded",
    doc: "Percent-escapes such as `%2E` (a dot) or `%3D` inside the token: it was URL-encoded on its way (a query parameter, `encodeURIComponent` on a header value, a cookie library) and never decoded.",
    fix: "Send the token unencoded in the Authorization header; if it travels in a URL or cookie, URL-decode it exactly once before verifying.",
    rank: 2,
};
pub static INVALID_BASE64URL: Spec = Spec {
    code: "invalid-base64url",
    severity: Error,
    title: "Segment is not valid base64url",
    doc: "A segment holds characters outside the base64url alphabet (A-Z a-z 0-9 - _) or has a length no encoding produces (length % 4 == 1). The token was altered or corrupted in transit.",
    fix: "Copy the token again from its source, byte for byte; look for the marked character being added by a template, logger or shell (quotes, `*`, `\\`).",
    rank: 3,
};
pub static TRUNCATED: Spec = Spec {
    code: "truncated",
    severity: Error,
    title: "Token was cut off",
    doc: "Evidence that the token is incomplete: the payload JSON ends before it closes, the last segment has an impossible length, or the signature is shorter than the algorithm produces. Usual causes: a column width in a database, a log line limit, a header size limit, a copy from a terminal.",
    fix: "Take the token from its source, not from a log; widen the storage column (tokens grow with claims: use TEXT) or the header limit that cut it.",
    rank: 1,
};
pub static INVALID_JSON: Spec = Spec {
    code: "invalid-json",
    severity: Error,
    title: "Header or payload is not a JSON object",
    doc: "The segment decodes, but not to a JSON object: a Python dict repr, a JSON string holding JSON (encoded twice), an array or plain text. Every verifier rejects it.",
    fix: "Serialise the header and claims with a JSON encoder (`json.dumps`, `JSON.stringify`) exactly once, or let a JWT library build the token.",
    rank: 4,
};
pub static DUPLICATE_JSON_KEYS: Spec = Spec {
    code: "duplicate-json-keys",
    severity: Warning,
    title: "A member name appears twice",
    doc: "RFC 7515 §5.2 / RFC 7519 §4 require unique member names or rejection. Parsers disagree: JavaScript and serde keep the last value, some Java and Go parsers the first, strict ones reject. Two services can read different claims from the same token — a known privilege-escalation trick.",
    fix: "Build claims as a map so each name occurs once; configure the verifier to reject duplicate members where it can.",
    rank: 40,
};
pub static TOKEN_TOO_LARGE: Spec = Spec {
    code: "token-too-large",
    severity: Warning,
    title: "Token is larger than 8 KiB",
    doc: "Proxies and servers cap request headers (nginx 8 KiB per line by default, Node.js 16 KiB for all headers, many load balancers 8-16 KiB). Past that the request fails with 431 or 400 before your code runs.",
    fix: "Keep bulky data (permissions, groups, profile) out of the token: look it up by `sub`, or use coarse scopes; or raise the header limit on every hop.",
    rank: 30,
};

pub static SPECS: &[&Spec] = &[
    &INPUT_EXTRACTED,
    &BEARER_PREFIX_DUPLICATED,
    &WHITESPACE_IN_TOKEN,
    &OPAQUE_TOKEN,
    &WRONG_SEGMENT_COUNT,
    &JWE_TOKEN,
    &BASE64_STANDARD_ALPHABET,
    &URL_ENCODED,
    &INVALID_BASE64URL,
    &TRUNCATED,
    &INVALID_JSON,
    &DUPLICATE_JSON_KEYS,
    &TOKEN_TOO_LARGE,
];

pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    wrappers(ctx.wrappers, out);
    let t = ctx.token;

    let cut = truncation(ctx);
    match t.kind {
        Kind::Opaque => out.push(opaque(ctx)),
        Kind::Malformed if cut.is_none() => out.push(segment_count(t)),
        Kind::Jwe => out.push(jwe(ctx)),
        _ => {}
    }

    let mut alb_said = false;
    for o in &t.observations {
        match o {
            Observation::WhitespaceInside { newlines, spaces, tabs } => {
                let mut parts = Vec::new();
                if *newlines > 0 {
                    parts.push(format!("{newlines} line break(s)"));
                }
                if *spaces > 0 {
                    parts.push(format!("{spaces} space(s)"));
                }
                if *tabs > 0 {
                    parts.push(format!("{tabs} tab(s)"));
                }
                out.push(
                    Finding::new(
                        &WHITESPACE_IN_TOKEN,
                        format!(
                            "The token holds {} between its characters; with them removed it has {} segment(s). A line-wrapped copy (terminal, log viewer, email) is the usual cause.",
                            parts.join(", "),
                            t.segment_count
                        ),
                    )
                    .evidence(json!({"newlines": newlines, "spaces": spaces, "tabs": tabs})),
                );
            }
            Observation::UrlEncoded { escapes } => out.push(
                Finding::new(
                    &URL_ENCODED,
                    {
                        let said: Vec<String> = escapes.iter().filter_map(|e| describe_escape(e)).collect();
                        format!(
                            "The token contains percent-escapes {}{} It was URL-encoded and never decoded.",
                            escapes.join(", "),
                            if said.is_empty() { ".".to_string() } else { format!(": {}.", said.join(", ")) }
                        )
                    },
                )
                .evidence(json!({"escapes": escapes})),
            ),
            Observation::StandardAlphabet { segment, plus_slash, padding } => {
                let mut what = Vec::new();
                if *plus_slash > 0 {
                    what.push(format!("{plus_slash} '+'/'/' character(s)"));
                }
                if *padding > 0 {
                    what.push(format!("{padding} '=' padding character(s)"));
                }
                let mut f = Finding::new(
                    &BASE64_STANDARD_ALPHABET,
                    format!(
                        "The {} segment has {}: it was encoded with standard base64, but JWS requires base64url without padding.",
                        segment.name(),
                        what.join(" and ")
                    ),
                )
                .evidence(json!({"segment": segment.name(), "plus_or_slash": plus_slash, "padding": padding}));
                if alb_signer(t).is_some() && !alb_said {
                    alb_said = true;
                    f.detail.push_str(
                        " The header's `signer` is a load balancer's ARN: this is the JWT an AWS Application Load Balancer puts in `x-amzn-oidc-data`, and the ALB itself adds the padding, which cannot be turned off.",
                    );
                    f = f.fix("Verify it as AWS documents for ALB user claims: strip the trailing `=` from each segment (or use a decoder that accepts padding), fetch the ES256 public key by the header's `kid` from `https://public-keys.auth.elb.<region>.amazonaws.com/<kid>`, and check that `signer` is your load balancer's ARN.");
                }
                out.push(f);
            }
            Observation::Invisible { names, count } => out.push(
                Finding::new(
                    &INVALID_BASE64URL,
                    format!(
                        "The token holds {count} invisible character(s) ({}): they show as nothing, yet no base64url segment may contain them, so every verifier rejects the token. A chat app, web page or document inserts them when text is copied through it. jwtai removed them to read on.",
                        names.join(", ")
                    ),
                )
                .fix("Copy the token from its source (the HTTP response, the browser's storage, the token endpoint), not through chat or a document; or strip the characters (`perl -CSD -pe 's/[\\x{200B}-\\x{200D}\\x{2060}\\x{FEFF}\\x{AD}]//g'`).")
                .evidence(json!({"invisible": names, "count": count})),
            ),
            Observation::InvalidChar { segment, ch, offset } => {
                let mut f = Finding::new(
                    &INVALID_BASE64URL,
                    format!(
                        "The {} segment has {} at offset {}: not a base64url character, so the segment cannot be decoded.",
                        segment.name(),
                        describe_char(*ch),
                        offset
                    ),
                )
                .evidence(json!({"segment": segment.name(), "char": ch.to_string(), "offset": offset}));
                // `…sig\n`, `…\/…`: an escape copied from a JSON string.
                if *ch == '\\' {
                    f.detail.push_str(" A backslash in a token is an escape copied with it (`\\n`, `\\\"`, `\\/` of a JSON string or a log line).");
                    f = f.fix("Read the value with a JSON parser (or unescape it) instead of copying it out of the JSON text, so `\\n` and `\\/` do not travel with the token.");
                }
                out.push(f)
            }
            Observation::ImpossibleLength { segment, len, last: false } => out.push(
                Finding::new(
                    &INVALID_BASE64URL,
                    format!(
                        "The {} segment is {len} characters long; no base64url encoding has a length of 4n+1, so a character was lost or added.",
                        segment.name()
                    ),
                )
                .evidence(json!({"segment": segment.name(), "length": len})),
            ),
            Observation::Json { segment, issue } if !matches!(issue, JsonIssue::EndsEarly { .. }) => {
                let mut f = Finding::new(&INVALID_JSON, format!("The {} {}.", segment.name(), issue))
                    .evidence(json!({"segment": segment.name()}));
                if *segment == crate::token::Segment::Payload && nested_jwt(t) {
                    f.detail = format!(
                        "The payload is not a JSON object but another JWT{}: a nested JWT (RFC 7519 §5.2), signed again around an inner token. A verifier must verify this token, then verify and read the inner one; most libraries do neither and report a malformed payload.",
                        if t.header_str("cty").is_some_and(|c| c.eq_ignore_ascii_case("JWT")) { " (the header says `cty: JWT`)" } else { "" }
                    );
                    f = f.fix("Verify the outer token, then pass its payload (the inner JWT) to the verifier again; or make the issuer sign the claims once, without nesting.");
                }
                out.push(f)
            }
            Observation::DuplicateKeys { segment, names } => out.push(
                Finding::new(
                    &DUPLICATE_JSON_KEYS,
                    format!(
                        "In the {}, {} appear(s) more than once. This token is read as the last occurrence by JavaScript and serde, the first by some other parsers.",
                        segment.name(),
                        names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
                    ),
                )
                .evidence(json!({"segment": segment.name(), "names": names})),
            ),
            _ => {}
        }
    }

    if let Some(f) = cut {
        out.push(f);
    }

    if t.len > LARGE_TOKEN_BYTES {
        out.push(too_large(ctx));
    }
}

fn wrappers(wrappers: &[Wrapper], out: &mut Vec<Finding>) {
    let others = wrappers.iter().find_map(|w| match w {
        Wrapper::OtherTokens(o) => Some(o),
        _ => None,
    });
    let removed: Vec<&Wrapper> = wrappers.iter().filter(|w| w.removed()).collect();
    if removed.is_empty() && others.is_none() {
        return;
    }
    let list: Vec<String> = removed.iter().map(|w| w.describe()).collect();
    let mut detail = if list.is_empty() {
        String::new()
    } else {
        format!(
            "Removed {} before diagnosing the token.",
            list.join(", then ")
        )
    };
    let has = |want: fn(&Wrapper) -> bool| removed.iter().any(|w| want(w));
    let scheme = removed.iter().find_map(|w| match w {
        Wrapper::OtherScheme(s) => Some(s.as_str()),
        _ => None,
    });
    let separator = removed.iter().find_map(|w| match w {
        Wrapper::BearerSeparator(s) => Some(s.as_str()),
        _ => None,
    });
    let encoded_bearer = has(|w| matches!(w, Wrapper::EncodedBearer(_)));
    // What the removed wrapper does to a server (only when one was removed).
    if !removed.is_empty() {
        if wrappers.contains(&Wrapper::DuplicateBearer) {
            detail.push_str(" The value carries the `Bearer ` scheme twice.");
        } else if encoded_bearer {
            detail.push_str(" The value held `Bearer <token>`, URL-encoded: a cookie or parameter that stored the whole header value. A verifier handed the decoded value gets `Bearer eyJ...` and finds no JWT in it.");
        } else if let Some(sep) = separator {
            detail.push_str(&if sep.is_empty() {
                " Without the space, the header's value is one word: a server looking for the scheme `Bearer` followed by a space (RFC 6750) finds no bearer token and answers 401 as if none was sent.".to_string()
            } else {
                format!(" RFC 6750 separates the scheme from the token with ordinary spaces; with {sep} (typical of text copied from a document or chat) a server finds no bearer token and answers 401 as if none was sent.")
            });
        } else if let Some(scheme) = scheme {
            detail.push_str(&format!(
                " The header's scheme is `{scheme}`, not `Bearer`: a server that reads bearer tokens as RFC 6750 defines them (OAuth 2.0 resource servers, ASP.NET JwtBearer, Spring Security, most JWT middleware) finds no token in it and answers 401. Only servers set up for that scheme accept it (`JWT` was djangorestframework-jwt's default)."
            ));
        } else if has(|w| matches!(w, Wrapper::BytesLiteral)) {
            detail.push_str(" `b'...'` is Python's rendering of bytes: the client formatted a bytes token into a string (`f\"Bearer {token}\"`; PyJWT before 2.0 returned bytes from `jwt.encode`), so the server received the `b'` and `'` as part of the token.");
        } else if has(|w| matches!(w, Wrapper::Base64Encoded)) {
            detail.push_str(" The whole JWT was base64-encoded once more (a Kubernetes Secret's `data` holds values that way; `kubectl get secret -o yaml` shows them encoded): decoded once, it is the token below.");
        } else if has(|w| matches!(w, Wrapper::BasicCredentials)) {
            detail.push_str(" The token was sent as the user name or password of HTTP Basic authentication: a server that expects `Authorization: Bearer <token>` finds no bearer token.");
        } else {
            detail.push_str(
                " A verifier given the whole string fails with 'jwt malformed' or 'invalid token'.",
            );
        }
    }
    if let Some(others) = others {
        detail.push_str(&format!(
            "{}The input holds {} more JWT(s), not diagnosed here: {}. The server authenticates with one token: pass that one alone (or use `jwtai scan` for many).",
            if detail.is_empty() { "" } else { " " },
            others.len(),
            others.join("; ")
        ));
    }
    let fix = match removed.first() {
        Some(Wrapper::JsonField(f)) if f.ends_with("_token") => format!(
            "Read `{f}` from the token response and send only its value; the JSON body itself is not a token."
        ),
        Some(Wrapper::JsonField(f)) => format!(
            "Read `{f}` out of the JSON and pass only its value; the JSON itself is not a token."
        ),
        Some(Wrapper::Quotes(_)) => "Pass the token without its quotes: it was taken from a JSON or shell string whole (`JSON.stringify(token)`, a quoted env value, a copied log field); read it with a parser, or strip the quotes before building the Authorization header.".to_string(),
        Some(Wrapper::Cookie(name)) => format!(
            "Read the `{name}` cookie's value (URL-decoded once) and pass only that to the verifier."
        ),
        Some(Wrapper::UrlParameter(name)) => format!(
            "Read the `{name}` parameter's value (URL-decoded once) and pass only that to the verifier."
        ),
        Some(Wrapper::EnvVar(name)) => format!(
            "Pass only the value of `{name}` to the verifier (e.g. `jwtai diagnose \"${name}\"`)."
        ),
        _ if encoded_bearer => "Store only the token in the cookie or parameter and add `Bearer ` only when building the Authorization header (or strip it after URL-decoding the value).".to_string(),
        _ if separator.is_some() => "Build the header as `\"Bearer \" + token`, with one ordinary ASCII space.".to_string(),
        _ if scheme.is_some() => format!(
            "Send `Authorization: Bearer <token>`, unless the server is configured for the `{}` scheme.",
            scheme.unwrap_or_default()
        ),
        _ if has(|w| matches!(w, Wrapper::BytesLiteral)) => "Decode the token to a string before formatting it (`token.decode()`), or upgrade to PyJWT 2, whose `jwt.encode` returns `str`.".to_string(),
        _ if has(|w| matches!(w, Wrapper::Base64Encoded)) => "Decode the value once before use (`kubectl get secret NAME -o jsonpath='{.data.token}' | base64 -d`); mount the Secret as a file or env var, where Kubernetes decodes it.".to_string(),
        _ if has(|w| matches!(w, Wrapper::BasicCredentials)) => "Send the token as `Authorization: Bearer <token>`.".to_string(),
        None => "Diagnose each token on its own: pass the one the server received (the Authorization header's).".to_string(),
        _ => INPUT_EXTRACTED.fix.to_string(),
    };
    let mut finding = Finding::new(&INPUT_EXTRACTED, detail)
        .fix(fix)
        .evidence(json!({"removed": list, "other_tokens": others}));
    // A wrapper no copy adds, that the client itself sent broken (`Bearer`
    // glued to the token or after an odd space, `Bearer <token>` stored
    // URL-encoded, a Python bytes literal): a correctly configured server
    // rejects the request, so the verdict must not read ACCEPTED.
    finding.raised =
        separator.is_some() || encoded_bearer || has(|w| matches!(w, Wrapper::BytesLiteral));
    out.push(finding);
    if wrappers.contains(&Wrapper::DuplicateBearer) {
        out.push(Finding::new(
            &BEARER_PREFIX_DUPLICATED,
            "The Authorization value reads `Bearer Bearer <token>`: the server strips one `Bearer ` and tries to parse `Bearer <token>` as the JWT.",
        ));
    }
}

fn opaque(ctx: &Context) -> Finding {
    let t = ctx.token;
    if let Some(f) = &t.foreign {
        return foreign(f);
    }
    let mut detail = format!(
        "The input is one segment of {} characters with no dots: a JWT has three segments (header.payload.signature).",
        t.len
    );
    if t.header.as_ref().is_some_and(|h| h.object.is_some()) {
        detail.push_str(" It decodes to a JSON object: only one segment (the header or payload) of a JWT was copied.");
    } else if t.len <= 64 {
        detail.push_str(" A short random string like this is an opaque access token, typical of an authorization request without an API audience.");
    }
    Finding::new(&OPAQUE_TOKEN, detail).evidence(json!({"length": t.len}))
}

/// The client's fix for a token variable that held nothing.
const SEND_THE_TOKEN: &str = "Fix the client, not the server: read the token from where the login put it (the right storage key or response field: `access_token` of the token response), make the call wait until login or refresh has finished, and send no `Authorization` header at all while there is no token.";

fn foreign(f: &Foreign) -> Finding {
    let (detail, fix) = match f {
        Foreign::Unset("[object object]") => (
            "The token is the text `[object Object]`: JavaScript's rendering of an object put where the token string belongs, typically the whole token response or a token wrapper instead of its `access_token`.".to_string(),
            "Send the token string: `Bearer ${tokens.access_token}`, not `Bearer ${tokens}`; then check the header in the browser's network tab.".to_string(),
        ),
        Foreign::Unset(word) => (
            format!(
                "The token is the text `{word}`, not a token: the client built the `Authorization` header from a variable that held no token, and its language wrote the missing value out as `{word}`. The server's JWT library can only call it malformed."
            ),
            SEND_THE_TOKEN.to_string(),
        ),
        Foreign::SchemeOnly => (
            "The `Authorization` value is the scheme `Bearer` with no token after it: the client's token variable was empty when the header was built.".to_string(),
            SEND_THE_TOKEN.to_string(),
        ),
        Foreign::Placeholder(text) => {
            let mut detail = format!(
                "The token is `{text}`, a placeholder that was never filled in: an unset environment variable, a Postman or Insomnia variable without a value, or an example copied as is."
            );
            if text.starts_with('$') {
                detail.push_str(" A shell leaves `$NAME` unexpanded inside single quotes (`-H 'Authorization: Bearer $TOKEN'`).");
            }
            (
                detail,
                "Give the variable its value before sending (`export TOKEN=...` and double quotes in a shell; the current environment's variable in Postman or Insomnia), or paste the real token.".to_string(),
            )
        }
        Foreign::BasicCredentials => (
            "The `Authorization` value is HTTP Basic credentials (`Basic` and base64 of `user:password`), not a bearer token: the client authenticated with a user name and password where the server expects `Bearer <JWT>`.".to_string(),
            "Send `Authorization: Bearer <token>` with the access token the login returned; Basic credentials belong only to endpoints that take them (a token endpoint's client authentication, for one).".to_string(),
        ),
        Foreign::SignedCookie(cookie) => {
            let mut detail = "This is no JWT but an itsdangerous-signed session cookie, as Flask's `session` and Starlette's (FastAPI's) `SessionMiddleware` write it: JSON data".to_string();
            if !cookie.keys.is_empty() {
                let shown: Vec<String> = cookie.keys.iter().take(8).map(|k| format!("`{k}`")).collect();
                let more = cookie.keys.len().saturating_sub(shown.len());
                detail.push_str(&format!(
                    " (members {}{})",
                    shown.join(", "),
                    if more > 0 { format!(" and {more} more") } else { String::new() }
                ));
            }
            detail.push_str(", a timestamp");
            if let Some(at) = cookie.signed_at {
                detail.push_str(&format!(" (signed {})", crate::clock::utc(at)));
            }
            detail.push_str(" and an HMAC made with the web app's secret key. Its first segment starts like a JWT header, so a JWT library calls it malformed: it has no `alg`.");
            (
                detail,
                "Send the access token, not the session cookie: an API that verifies JWTs expects the `access_token` of the login or token response in `Authorization: Bearer`. The session cookie only signs the browser in to the web app that set it, which checks it with its own `SECRET_KEY`.".to_string(),
            )
        }
        Foreign::GoogleAccessToken => (
            "The token starts with `ya29.`: a Google OAuth 2.0 access token. Google issues these as opaque strings for Google's own APIs; they are not JWTs and no JWT library can verify them.".to_string(),
            "To sign users in to your own API with Google, send the Google ID token (`id_token` of the token response, a JWT whose `aud` is your client id) and verify it with Google's keys; an access token can only be checked with Google's tokeninfo endpoint.".to_string(),
        ),
    };
    Finding::new(&OPAQUE_TOKEN, detail).fix(fix)
}

fn segment_count(t: &crate::token::Token) -> Finding {
    let n = t.segment_count;
    let empty = t.observations.iter().find_map(|o| match o {
        Observation::EmptySegments(e) => Some(e.as_slice()),
        _ => None,
    });
    // An empty segment says where the extra `.` is.
    if let Some(empty) = empty {
        let at: Vec<String> = empty
            .iter()
            .map(|&i| match i {
                1 => "a `.` before the first segment".to_string(),
                i if i == n => "a trailing `.` after the last segment".to_string(),
                i => format!("two dots in a row (`..`) before segment {}", i + 1),
            })
            .collect();
        let without = n - empty.len();
        return Finding::new(
            &WRONG_SEGMENT_COUNT,
            format!(
                "The token has {n} dot-separated segments, {} of them empty: {}. Without the empty one(s) it has {without} segment(s){}.",
                empty.len(),
                at.join(", "),
                if without == 3 { ", as a signed JWT should: a stray `.` was added around or inside it (string concatenation with a separator, a sentence's full stop)" } else { "" }
            ),
        )
        .evidence(json!({"segments": n, "empty": empty}));
    }
    let which = match n {
        2 => "the signature segment is missing (a signed JWT ends with `.signature`; an unsigned one still ends with a `.`)".to_string(),
        4 => "one segment too many for a signed JWT (3) and one too few for an encrypted one (5): two tokens joined, or a stray '.' inside a segment".to_string(),
        n if n > 5 => format!(
            "{} more than an encrypted JWT has: several tokens joined together, or values glued to the token with `.`",
            if n == 6 { "one segment".to_string() } else { format!("{} segments", n - 5) }
        ),
        5 => "the shape of an encrypted JWT (JWE), but its header is no JWE header (no `enc`): two tokens joined, or a stray `.`?".to_string(),
        _ => "segments are missing".to_string(),
    };
    let mut detail = format!("The token has {n} dot-separated segments: {which}.");
    // A signed token's header and a third segment as long as its `alg`'s
    // signature: the first three segments are the token, and what follows
    // was appended to it.
    let whole = t
        .alg()
        .and_then(crate::alg::Alg::from_name)
        .zip(t.signature.as_ref());
    if (n == 4 || n > 5)
        && t.header_str("enc").is_none()
        && let Some((alg, sig)) = whole
        && alg.signature_len_fits(sig.len())
    {
        detail.push_str(&format!(
            " The first three segments are a whole signed JWT (a {alg} header and a signature of {alg}'s length), and the {} after them {} appended (a second value joined with `.`, the rest of a URL or a file name): send the first three only.",
            if n == 4 { "segment".to_string() } else { format!("{} segments", n - 3) },
            if n == 4 { "was" } else { "were" }
        ));
    }
    Finding::new(&WRONG_SEGMENT_COUNT, detail).evidence(json!({"segments": n}))
}

fn jwe(ctx: &Context) -> Finding {
    let h = ctx.token.header_map();
    let get = |k: &str| {
        h.and_then(|m| m.member(k))
            .and_then(|v| v.as_str())
            .unwrap_or("?")
            .to_string()
    };
    let (alg, enc) = (get("alg"), get("enc"));
    let kid = h.and_then(|m| m.member("kid")).and_then(|v| v.as_str());
    let nested = h
        .and_then(|m| m.member("cty"))
        .and_then(|v| v.as_str())
        .is_some_and(|c| c.eq_ignore_ascii_case("JWT"));
    let mut detail = if alg == "dir" {
        format!(
            "Five segments and an `enc` header: the claims are encrypted with {enc} directly under a symmetric key shared with the issuer (`alg` dir)"
        )
    } else {
        format!(
            "Five segments and an `enc` header: the claims are encrypted with {enc}, the content key wrapped with {alg}"
        )
    };
    if let Some(kid) = kid {
        detail.push_str(&format!(" for the recipient key `{kid}`"));
    }
    // Who can decrypt, from the key management algorithm (RFC 7518 §4).
    let decrypts = match alg.as_str() {
        "dir" => "that shared key",
        a if a.starts_with("RSA") => "the recipient's private RSA key",
        a if a.starts_with("ECDH-ES") => "the recipient's private EC or X25519 key",
        a if a.starts_with("PBES2") => "a password (PBES2)",
        a if a.ends_with("KW") => "a symmetric key-wrapping key shared with the issuer",
        _ => "the recipient's key",
    };
    detail.push_str(&format!(
        ". Only the protected header is readable; {decrypts} decrypts it."
    ));
    let session = alg == "dir" && (enc == "A256GCM" || enc == "A256CBC-HS512");
    if session {
        detail.push_str(" `dir` with A256GCM (NextAuth.js v4) or A256CBC-HS512 (Auth.js v5) is the shape of their session tokens: a session cookie sent where an access token belongs, or read with a JWT library's verify().");
    }
    if nested {
        detail.push_str(
            " `cty: JWT` says a signed JWT is nested inside: verify that one after decrypting.",
        );
    }
    let f = Finding::new(&JWE_TOKEN, detail)
        .evidence(json!({"alg": alg, "enc": enc, "kid": kid, "nested": nested}));
    if session {
        f.fix("Read an Auth.js/NextAuth session token with the library's own `getToken()` / `decode()` (same secret and salt); to call an API, send it an access token from the identity provider, not the session cookie.")
    } else {
        f
    }
}

/// Evidence that the token was cut; `None` when there is none.
pub(super) fn truncation(ctx: &Context) -> Option<Finding> {
    let t = ctx.token;
    let mut reasons = Vec::new();
    for o in &t.observations {
        match o {
            Observation::Json { segment, issue: JsonIssue::EndsEarly { len } } => {
                reasons.push(format!("the {} JSON ends after {len} bytes, before the object closes", segment.name()))
            }
            // Cut inside its last segment: a JWS (three segments, or two if
            // cut in the payload) or a JWE (five, or four if cut in its
            // ciphertext: its header has `enc`). A fourth segment after a
            // JWS, or a sixth, was added, not cut: `wrong-segment-count`.
            Observation::ImpossibleLength { segment, len, last: true }
                if t.segment_count <= 3
                    || t.segment_count == 5
                    || (t.segment_count == 4 && t.header_str("enc").is_some()) =>
            {
                reasons.push(format!(
                    "the last segment ({}) is {len} characters, a length no base64url encoding produces",
                    segment.name()
                ))
            }
            _ => {}
        }
    }
    if t.observations.contains(&Observation::Ellipsis) {
        reasons.push("it ends in an ellipsis (`…` or `...`): a display shortened it (a log viewer, a UI column, a chat preview), and the rest of the token is not in the text".into());
    }
    if t.kind == Kind::Malformed && t.segment_count == 2 && !reasons.is_empty() {
        reasons.push("the signature segment is missing".into());
    }
    if let (Some(sig), Some(alg)) = (&t.signature, t.alg().and_then(crate::alg::Alg::from_name)) {
        // The third segment is the signature only when there are three.
        if let Some(need) = alg.fixed_signature_len().filter(|_| t.segment_count == 3) {
            if !sig.is_empty()
                && sig.len() < need
                && !super::signature::shorter_of_another_alg(ctx)
                && !super::signature::psychic(alg, sig)
            {
                reasons.push(format!(
                    "the {alg} signature is {} bytes, {alg} signatures are {need}",
                    sig.len()
                ));
            }
        }
    }
    if let (Some(sig), Some(alg)) = (&t.signature, t.alg().and_then(crate::alg::Alg::from_name)) {
        use crate::alg::Family;
        // An RSA signature is exactly as long as the key's modulus
        // (RFC 7518 §3.3, I2OSP); keys come in 128-bit steps.
        let rsa = matches!(alg.family(), Family::Rsa | Family::RsaPss);
        let odd = sig.len() % 16 != 0;
        // With an RSA key, the signature check compares with its modulus.
        let keyed = ctx
            .keys
            .candidates
            .iter()
            .any(|c| c.material.rsa_bits().is_some());
        // Only a three-segment token's third segment is its signature: with
        // more segments (two tokens glued), `wrong-segment-count` says why.
        if rsa && odd && !keyed && !sig.is_empty() && t.segment_count == 3 {
            reasons.push(format!(
                "the {alg} signature is {} bytes, and an RSA signature is exactly as long as the key's modulus: 256 bytes for a 2048-bit key, and always a whole number of 16-byte steps",
                sig.len()
            ));
        }
    }
    if reasons.is_empty() {
        return None;
    }
    Some(
        Finding::new(
            &TRUNCATED,
            format!("The token looks cut off: {}.", reasons.join("; ")),
        )
        .evidence(json!({"length": t.len, "segments": t.segment_count})),
    )
}

/// The `signer` header of an AWS ALB `x-amzn-oidc-data` token: the load
/// balancer's ARN.
fn alb_signer(t: &crate::token::Token) -> Option<&str> {
    t.header_str("signer")
        .filter(|s| s.starts_with("arn:aws") && s.contains(":elasticloadbalancing:"))
}

/// The payload is itself a compact JWT (`eyJ…` with two or four dots).
fn nested_jwt(t: &crate::token::Token) -> bool {
    t.payload.as_ref().is_some_and(|p| {
        let b = p.bytes.trim_ascii();
        b.starts_with(b"eyJ") && matches!(b.iter().filter(|&&c| c == b'.').count(), 2 | 4)
    })
}

fn too_large(ctx: &Context) -> Finding {
    let t = ctx.token;
    let mut biggest: Vec<(String, usize)> = ctx
        .token
        .claims()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.to_string().len()))
                .collect()
        })
        .unwrap_or_default();
    biggest.sort_by_key(|b| std::cmp::Reverse(b.1));
    biggest.truncate(3);
    let mut detail = format!(
        "The token is {} bytes ({:.1} KiB), over the 8 KiB many proxies and servers allow for one header.",
        t.len,
        t.len as f64 / 1024.0
    );
    let header_len = t.header.as_ref().map_or(0, |h| h.bytes.len());
    let payload_len = t.payload.as_ref().map_or(0, |p| p.bytes.len());
    if header_len > payload_len {
        detail.push_str(&format!(
            " The header is the large part ({header_len} bytes of JSON, the claims {payload_len}): an embedded key or certificate chain (`jwk`, `x5c`) or custom header members."
        ));
    } else if !biggest.is_empty() {
        let list: Vec<String> = biggest
            .iter()
            .map(|(k, n)| format!("`{k}` ({n} bytes of JSON)"))
            .collect();
        detail.push_str(&format!(" Largest claims: {}.", list.join(", ")));
    }
    if t.signing_input.len() > crate::verify::WEAK_SECRET_SCAN_MAX_BYTES {
        detail.push_str(&format!(
            " Over {} KiB, jwtai does not try its list of well-known HMAC secrets on it.",
            crate::verify::WEAK_SECRET_SCAN_MAX_BYTES / 1024
        ));
    }
    Finding::new(&TOKEN_TOO_LARGE, detail)
        .evidence(json!({"bytes": t.len, "limit": LARGE_TOKEN_BYTES}))
}

fn describe_escape(e: &str) -> Option<String> {
    let byte = u8::from_str_radix(e.get(1..3)?, 16).ok()?;
    let c = byte as char;
    match c {
        ' ' => Some(format!("{e} is a space")),
        c => c.is_ascii_graphic().then(|| format!("{e} is '{c}'")),
    }
}

fn describe_char(c: char) -> String {
    if c.is_control() {
        format!("the control character U+{:04X}", c as u32)
    } else {
        format!("'{c}'")
    }
}
