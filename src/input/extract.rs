//! Pulls the JWT out of whatever the user pasted around it.
//!
//! Users paste what they have: a header line from a proxy log, `Bearer Bearer ...`
//! from a double-prefixing client, a cookie, a token endpoint's JSON response, a
//! whole curl command. Code that passes that string to `verify()` fails, so every
//! wrapper stripped is recorded and reported (`input-extracted`).
//! Whitespace *inside* the token is left in place: that is a finding of its own.

use std::sync::LazyLock;

use base64::Engine;
use regex::Regex;

/// One wrapper that was removed, outermost first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wrapper {
    /// A JSON body; the token was the string value of this field.
    JsonField(String),
    /// An `Authorization:` header line.
    AuthorizationHeader,
    /// A single `Bearer ` scheme prefix.
    BearerPrefix,
    /// `Bearer%20` / `Bearer+`: the scheme, URL-encoded, as written.
    EncodedBearer(String),
    /// `Bearer Bearer ...`: the prefix added twice.
    DuplicateBearer,
    /// A `Cookie:`/`Set-Cookie:` line or `name=value` pair; the cookie's name.
    Cookie(String),
    /// Surrounding quotes of this kind.
    Quotes(char),
    /// A curl command line.
    Curl,
    /// A URL query or fragment parameter, or a form field (`access_token=...&...`).
    UrlParameter(String),
    /// An `Authorization` scheme other than `Bearer` (`JWT`, `Token`), as written.
    OtherScheme(String),
    /// Text around a token-shaped substring (log line, sentence).
    SurroundingText,
    /// `Bearer` with no ordinary space before the token: glued
    /// (`BearereyJ…`) or separated by another space character; what it was.
    BearerSeparator(String),
    /// A header other than `Authorization` that carries a token
    /// (`X-Amzn-Oidc-Data`, `Cf-Access-Jwt-Assertion`...), as written.
    Header(String),
    /// A line of an env file or shell (`TOKEN=…`, `export TOKEN=…`).
    EnvVar(String),
    /// A Python bytes literal, `b'…'`: `str()` of bytes.
    BytesLiteral,
    /// E-mail quoting (`> ` at the start of every line).
    EmailQuote,
    /// Standard base64 around the whole token (a Kubernetes Secret's `data`,
    /// a value encoded twice).
    Base64Encoded,
    /// HTTP Basic credentials (`Basic base64(user:password)`) holding the token.
    BasicCredentials,
    /// Characters after the token's last segment (`.`, `,`, `";`...), as written.
    Trailing(String),
    /// Other JWTs in the input, not diagnosed: where each one is.
    OtherTokens(Vec<String>),
}

impl Wrapper {
    /// Whether this wrapper may be what the server's verifier received with
    /// the token (a prefix its code did not strip, quotes, a cookie or query
    /// parameter it does not read), rather than how the user copied it
    /// (a log line, a JSON response, a curl command).
    pub fn may_reach_verifier(&self) -> bool {
        matches!(
            self,
            Wrapper::BearerPrefix
                | Wrapper::EncodedBearer(_)
                | Wrapper::DuplicateBearer
                | Wrapper::Cookie(_)
                | Wrapper::Quotes(_)
                | Wrapper::UrlParameter(_)
                | Wrapper::OtherScheme(_)
                | Wrapper::BearerSeparator(_)
                | Wrapper::Header(_)
                | Wrapper::BytesLiteral
                | Wrapper::Base64Encoded
                | Wrapper::BasicCredentials
        )
    }

    /// A place the token was sent that a verifier may not read: a cookie, a
    /// query parameter, another header than `Authorization`.
    pub fn is_location(&self) -> bool {
        matches!(
            self,
            Wrapper::Cookie(_) | Wrapper::UrlParameter(_) | Wrapper::Header(_)
        )
    }

    pub fn describe(&self) -> String {
        match self {
            Wrapper::JsonField(f) => format!("a JSON body (field \"{f}\")"),
            Wrapper::AuthorizationHeader => "an `Authorization:` header name".into(),
            Wrapper::BearerPrefix => "the `Bearer ` scheme prefix".into(),
            Wrapper::DuplicateBearer => "a second `Bearer ` prefix".into(),
            Wrapper::EncodedBearer(written) => {
                format!("the URL-encoded scheme prefix `{written}`")
            }
            Wrapper::Cookie(name) => format!("a cookie (`{name}=`)"),
            Wrapper::Quotes(q) => {
                let close = match q {
                    '“' => '”',
                    '‘' => '’',
                    '«' => '»',
                    '„' => '“',
                    '<' => '>',
                    q => *q,
                };
                format!("surrounding quotes ({q}...{close})")
            }
            Wrapper::Curl => "a curl command".into(),
            Wrapper::UrlParameter(name) => format!("a URL or form parameter (`{name}=`)"),
            Wrapper::OtherScheme(scheme) => format!("the `{scheme} ` scheme prefix"),
            Wrapper::SurroundingText => "surrounding text".into(),
            Wrapper::BearerSeparator(sep) if sep.is_empty() => {
                "the `Bearer` scheme, glued to the token with no space".into()
            }
            Wrapper::BearerSeparator(sep) => {
                format!("the `Bearer` scheme, separated from the token by {sep}")
            }
            Wrapper::Header(name) => format!("a `{name}:` header name"),
            Wrapper::EnvVar(name) => format!("an environment variable line (`{name}=`)"),
            Wrapper::BytesLiteral => "a Python bytes literal (b'...')".into(),
            Wrapper::EmailQuote => "e-mail quoting (`> `)".into(),
            Wrapper::Base64Encoded => "a layer of standard base64 around the whole JWT".into(),
            Wrapper::BasicCredentials => {
                "HTTP Basic credentials (`Basic base64(user:password)`)".into()
            }
            Wrapper::Trailing(chars) => format!("`{chars}` after the token's last segment"),
            Wrapper::OtherTokens(others) => format!(
                "{} other JWT(s) in the input ({})",
                others.len(),
                others.join("; ")
            ),
        }
    }

    /// Whether this wrapper was text removed around the token (everything
    /// but the note about other tokens).
    pub fn removed(&self) -> bool {
        !matches!(self, Wrapper::OtherTokens(_))
    }
}

/// The token text after unwrapping, and what was removed.
#[derive(Clone)]
pub struct Extracted {
    pub token: String,
    pub wrappers: Vec<Wrapper>,
}

impl std::fmt::Debug for Extracted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Extracted")
            .field("token", &"(redacted)")
            .field("wrappers", &self.wrappers)
            .finish()
    }
}

const JSON_FIELDS: &[&str] = &[
    "access_token",
    "id_token",
    "token",
    "jwt",
    "accessToken",
    "idToken",
    "refresh_token",
];

static JWT_LIKE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"eyJ[A-Za-z0-9_\-+/=%]*(?:\.|%2[Ee])[A-Za-z0-9_\-+/=%]*(?:(?:\.|%2[Ee])[A-Za-z0-9_\-+/=%]*){0,3}")
        .expect("static regex")
});

/// Unwraps `input` until no known wrapper is left (bounded: wrappers nest a few deep).
pub fn extract(input: &str) -> Extracted {
    let mut wrappers = Vec::new();
    let mut s = match unquote_email(input.trim()) {
        Some(inner) => {
            wrappers.push(Wrapper::EmailQuote);
            inner
        }
        None => input.trim().to_string(),
    };
    for _ in 0..8 {
        match unwrap_once(&s) {
            Some((inner, found)) => {
                wrappers.extend(found);
                s = inner.trim().to_string();
            }
            None => break,
        }
    }
    if let Some(clean) = strip_trailing_punctuation(&s) {
        wrappers.push(Wrapper::Trailing(s[clean.len()..].to_string()));
        s = clean;
    }
    let others = other_tokens(input, &s);
    if !others.is_empty() {
        wrappers.push(Wrapper::OtherTokens(others));
    }
    Extracted { token: s, wrappers }
}

/// Complete JWTs in a text: a JWS with a signature, or a JWE.
fn complete_jwts(text: &str) -> impl Iterator<Item = regex::Match<'_>> {
    JWT_LIKE
        .find_iter(text)
        .filter(|m| is_complete_jwt(m.as_str()))
}

fn is_complete_jwt(t: &str) -> bool {
    let parts: Vec<&str> = t.split('.').collect();
    t.starts_with("eyJ")
        && match parts.len() {
            3 => parts.iter().all(|p| !p.is_empty()),
            5 => !parts[0].is_empty() && !parts[4].is_empty(),
            _ => false,
        }
}

/// Where the other complete JWTs of `input` are, when it holds several:
/// the token diagnosed is one of them, and the user should know the rest
/// were not looked at (a request dump with a cookie and a header, a token
/// response with an access and an ID token).
fn other_tokens(input: &str, chosen: &str) -> Vec<String> {
    if chosen.contains(char::is_whitespace) {
        return Vec::new();
    }
    let mut seen: Vec<&str> = vec![chosen];
    let mut out = Vec::new();
    for m in complete_jwts(input) {
        if seen
            .iter()
            .any(|s| *s == m.as_str() || chosen.contains(m.as_str()))
        {
            continue;
        }
        seen.push(m.as_str());
        out.push(where_in(input, m.start()));
        if out.len() == 5 {
            break;
        }
    }
    out
}

/// A short description of where a token starting at `at` sits.
fn where_in(input: &str, at: usize) -> String {
    static JSON_FIELD: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#""([A-Za-z0-9_.-]{1,40})"\s*:\s*"$"#).expect("static regex"));
    static NAME_EQ: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"([A-Za-z0-9_.-]{1,40})=$").expect("static regex"));
    let line_start = input[..at].rfind('\n').map_or(0, |i| i + 1);
    let line_no = input[..at].matches('\n').count() + 1;
    let before = &input[line_start..at];
    let header = before
        .trim_start()
        .split_once(':')
        .map(|(name, _)| name)
        .filter(|name| {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if let Some(c) = JSON_FIELD.captures(before) {
        format!("JSON field \"{}\", line {line_no}", &c[1])
    } else if let (Some(name), Some(c)) = (
        header.filter(|n| n.eq_ignore_ascii_case("cookie") || n.eq_ignore_ascii_case("set-cookie")),
        NAME_EQ.captures(before),
    ) {
        format!("the {name} `{}`, line {line_no}", &c[1])
    } else if let Some(name) = header {
        format!("the {name} header, line {line_no}")
    } else if let Some(c) = NAME_EQ.captures(before) {
        format!("`{}=`, line {line_no}", &c[1])
    } else {
        format!("line {line_no}")
    }
}

/// `eyJ….eyJ….sig,` / `…sig";` / a sentence's full stop: punctuation after
/// a complete JWT is no part of it.
fn strip_trailing_punctuation(s: &str) -> Option<String> {
    let core = s.trim_end_matches([
        ',', ';', '"', '\'', '`', ')', '>', ']', '}', '!', '?', '.', ':',
    ]);
    (core.len() < s.len() && is_complete_jwt(core)).then(|| core.to_string())
}

/// The text inside e-mail quoting: every non-blank line starts with `>`.
fn unquote_email(s: &str) -> Option<String> {
    let lines: Vec<&str> = s.lines().collect();
    let quoted = lines.len() >= 2
        && lines
            .iter()
            .filter(|l| !l.trim().is_empty())
            .all(|l| l.trim_start().starts_with('>'));
    quoted.then(|| {
        lines
            .iter()
            .map(|l| {
                let l = l.trim_start().trim_start_matches('>');
                l.strip_prefix(' ').unwrap_or(l)
            })
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// One unwrapping step: what it found inside and the wrappers it removed.
type Unwrap = fn(&str) -> Option<(String, Vec<Wrapper>)>;

/// The unwrappers, in the order they are tried: the first that recognises
/// its wrapper wins.
const UNWRAPPERS: &[Unwrap] = &[
    unwrap_several,
    unwrap_json,
    unwrap_header_line,
    unwrap_quotes,
    unwrap_bearer,
    unwrap_basic,
    unwrap_scheme,
    unwrap_url_parameter,
    unwrap_env_line,
    unwrap_cookie_pair,
    unwrap_base64,
    unwrap_surrounding,
];

fn unwrap_once(s: &str) -> Option<(String, Vec<Wrapper>)> {
    if s.starts_with("curl ") || s.starts_with("curl\t") {
        return unwrap_curl(s);
    }
    UNWRAPPERS.iter().find_map(|unwrap| unwrap(s))
}

/// Several complete JWTs and nothing else, one per line or word: the first
/// is diagnosed ([`other_tokens`] names the rest). Not a wrapped token:
/// each piece is a whole JWT on its own.
fn unwrap_several(s: &str) -> Option<(String, Vec<Wrapper>)> {
    let mut pieces = s.split_whitespace();
    let first = pieces.next()?;
    let mut rest = pieces.peekable();
    rest.peek()?;
    (is_complete_jwt(first) && rest.all(is_complete_jwt)).then(|| (first.to_string(), Vec::new()))
}

fn unwrap_curl(s: &str) -> Option<(String, Vec<Wrapper>)> {
    // The Authorization header, or a cookie, inside -H/--header/-b/--cookie arguments.
    let lower = s.to_ascii_lowercase();
    for needle in ["authorization:", "cookie:"] {
        if let Some(pos) = lower.find(needle) {
            let rest = &s[pos..];
            let end = rest.find(['\'', '"', '\n']).unwrap_or(rest.len());
            return Some((rest[..end].to_string(), vec![Wrapper::Curl]));
        }
    }
    for flag in [" -b ", " --cookie "] {
        if let Some(pos) = s.find(flag) {
            let rest = s[pos + flag.len()..].trim_start();
            let (quoted, body) = match rest.chars().next() {
                Some(q @ ('\'' | '"')) => (Some(q), &rest[1..]),
                _ => (None, rest),
            };
            let end = match quoted {
                Some(q) => body.find(q).unwrap_or(body.len()),
                None => body.find(char::is_whitespace).unwrap_or(body.len()),
            };
            return Some((body[..end].to_string(), vec![Wrapper::Curl]));
        }
    }
    let m = JWT_LIKE.find(s)?;
    // In the URL's query (`?access_token=eyJ…`): the server reads it there
    // only if its code looks there.
    let param = s[..m.start()]
        .rsplit(['?', '&', '#'])
        .next()
        .and_then(|p| p.strip_suffix('='))
        .filter(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    let mut wrappers = vec![Wrapper::Curl];
    if let Some(name) = param.filter(|_| s[..m.start()].contains("://")) {
        wrappers.push(Wrapper::UrlParameter(name.to_string()));
    }
    Some((m.as_str().to_string(), wrappers))
}

fn unwrap_json(s: &str) -> Option<(String, Vec<Wrapper>)> {
    if !s.starts_with('{') {
        return None;
    }
    let value: serde_json::Value = match serde_json::from_str(s) {
        Ok(v) => v,
        // A JSON body pasted as an escaped string (`{\"access_token\":…}`).
        Err(_) if s.contains("\\\"") => {
            serde_json::from_str(&s.replace("\\\"", "\"").replace("\\\\", "\\")).ok()?
        }
        // A body wrapped over lines by a terminal or mail client: the raw
        // line breaks inside the string make it invalid JSON. Keep them; the
        // parser reports the token as line-wrapped.
        Err(_) => return json_field_in_text(s),
    };
    json_token(&value, "", 0).map(|(path, t)| (t, vec![Wrapper::JsonField(path)]))
}

/// The token a JSON value holds: a known field first (at the top, then one
/// level down), then any string holding a JWT, also inside a string that is
/// itself JSON (a log line whose `body` is the escaped response).
fn json_token(value: &serde_json::Value, prefix: &str, depth: usize) -> Option<(String, String)> {
    let join = |name: &str| {
        if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}.{name}")
        }
    };
    let obj = value.as_object()?;
    for field in JSON_FIELDS {
        if let Some(serde_json::Value::String(t)) = obj.get(*field) {
            return Some((join(field), t.clone()));
        }
    }
    for (outer, inner) in obj {
        if let Some(inner) = inner.as_object() {
            for field in JSON_FIELDS {
                if let Some(serde_json::Value::String(t)) = inner.get(*field) {
                    return Some((format!("{}.{field}", join(outer)), t.clone()));
                }
            }
        }
    }
    if depth >= 4 {
        return None;
    }
    for (name, v) in obj {
        match v {
            serde_json::Value::Object(_) => {
                if let Some(found) = json_token(v, &join(name), depth + 1) {
                    return Some(found);
                }
            }
            serde_json::Value::String(text) if text.trim_start().starts_with('{') => {
                if let Ok(inner) = serde_json::from_str::<serde_json::Value>(text) {
                    if let Some(found) = json_token(&inner, &join(name), depth + 1) {
                        return Some(found);
                    }
                }
            }
            serde_json::Value::String(text) => {
                if let Some(m) = complete_jwts(text).next() {
                    return Some((join(name), m.as_str().to_string()));
                }
            }
            _ => {}
        }
    }
    None
}

/// A known token field's string value read from text that is not valid
/// JSON, line breaks and all.
fn json_field_in_text(s: &str) -> Option<(String, Vec<Wrapper>)> {
    for field in JSON_FIELDS {
        let key = format!("\"{field}\"");
        // Every occurrence: the first may be a value (`"token_type":"access_token"`).
        for (at, _) in s.match_indices(&key) {
            let Some(body) = s[at + key.len()..]
                .trim_start()
                .strip_prefix(':')
                .and_then(|r| r.trim_start().strip_prefix('"'))
            else {
                continue;
            };
            let Some(end) = body.find('"') else { continue };
            return Some((
                body[..end].to_string(),
                vec![Wrapper::JsonField((*field).to_string())],
            ));
        }
    }
    None
}

/// Headers other than `Authorization` that carry a JWT: load balancers and
/// identity-aware proxies (AWS ALB, Cloudflare Access, Google IAP, Azure App
/// Service, oauth2-proxy, Istio) and common custom ones.
const TOKEN_HEADERS: &[&str] = &[
    "x-amzn-oidc-data",
    "x-amzn-oidc-accesstoken",
    "cf-access-jwt-assertion",
    "x-goog-iap-jwt-assertion",
    "x-ms-token-aad-id-token",
    "x-ms-token-aad-access-token",
    "x-forwarded-access-token",
    "x-auth-request-access-token",
    "x-jwt-assertion",
    "x-jwt-payload",
    "x-access-token",
    "x-auth-token",
    "x-id-token",
    "proxy-authorization",
];

fn unwrap_header_line(s: &str) -> Option<(String, Vec<Wrapper>)> {
    // A pasted request dump may hold many header lines: the Authorization
    // header is what a server authenticates with, then other token
    // headers, then cookies.
    let lines: Vec<&str> = s.lines().collect();
    let header_value = |i: usize, name: &str| -> Option<String> {
        let line = lines[i].trim();
        let lower = line.to_ascii_lowercase();
        let rest = lower.strip_prefix(name)?.strip_prefix(':')?;
        let value = &line[line.len() - rest.len()..];
        Some(with_continuation(
            value.trim(),
            lines[i].len(),
            &lines[i + 1..],
        ))
    };
    if let Some(v) = (0..lines.len()).find_map(|i| header_value(i, "authorization")) {
        return Some((v, vec![Wrapper::AuthorizationHeader]));
    }
    for (i, line) in lines.iter().enumerate() {
        for name in TOKEN_HEADERS {
            if let Some(v) = header_value(i, name) {
                let written = &line.trim()[..name.len()];
                return Some((v, vec![Wrapper::Header(written.to_string())]));
            }
        }
    }
    for line in &lines {
        let line = line.trim();
        let lower = line.to_ascii_lowercase();
        for prefix in ["cookie:", "set-cookie:"] {
            if lower.starts_with(prefix) {
                let rest = &line[prefix.len()..];
                return cookie_value(rest)
                    .map(|(name, value)| (value, vec![Wrapper::Cookie(name)]));
            }
        }
    }
    None
}

/// `value` plus the lines after it that continue it: a token wrapped by a
/// terminal, a mail client or header folding goes on over lines of only
/// token characters, each as long as the first, the last one shorter. The
/// line breaks are kept: the parser reports them (`whitespace-in-token`).
fn with_continuation(value: &str, first_len: usize, next: &[&str]) -> String {
    let mut out = value.to_string();
    if !value.starts_with("eyJ") && !value.contains(" eyJ") {
        return out;
    }
    // Whole already (its signature as long as its alg makes it): the next
    // line is the next line ("OK", "Thanks", a status code), not more token.
    let last_word = value.rsplit(' ').next().unwrap_or(value);
    if is_complete_jwt(last_word) && crate::alg::signature_fits(last_word) {
        return out;
    }
    let token_line = |l: &str| {
        let t = l.trim();
        !t.is_empty()
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    for line in next {
        if !token_line(line) {
            break;
        }
        out.push('\n');
        out.push_str(line);
        // The wrap's last line is the short one.
        if line.trim_end().len() + 1 < first_len {
            break;
        }
    }
    out
}

/// Picks the cookie that holds a JWT from `a=1; session=eyJ...; Path=/`.
fn cookie_value(list: &str) -> Option<(String, String)> {
    let pairs: Vec<(String, String)> = list
        .split(';')
        .filter_map(|p| {
            let (n, v) = p.split_once('=')?;
            Some((n.trim().to_string(), v.trim().trim_matches('"').to_string()))
        })
        .collect();
    pairs
        .iter()
        .find(|(_, v)| v.starts_with("eyJ") || v.matches('.').count() >= 2)
        .or_else(|| pairs.first())
        .cloned()
}

fn unwrap_quotes(s: &str) -> Option<(String, Vec<Wrapper>)> {
    // `f"Bearer {token}"` with bytes: PyJWT 1.x's encode() returned bytes.
    for q in ['\'', '"'] {
        if let Some(inner) = s
            .strip_prefix('b')
            .and_then(|r| r.strip_prefix(q))
            .and_then(|r| r.strip_suffix(q))
        {
            if inner.starts_with("eyJ") {
                return Some((inner.to_string(), vec![Wrapper::BytesLiteral]));
            }
        }
    }
    if let Some(inner) = s.strip_prefix('<').and_then(|r| r.strip_suffix('>')) {
        if inner.starts_with("eyJ") {
            return Some((inner.to_string(), vec![Wrapper::Quotes('<')]));
        }
    }
    for q in ['"', '\'', '`'] {
        if s.len() >= 2 && s.starts_with(q) && s.ends_with(q) {
            return Some((s[1..s.len() - 1].to_string(), vec![Wrapper::Quotes(q)]));
        }
    }
    // Typographic quotes, as a word processor or chat app writes them.
    for (open, close) in [('“', '”'), ('‘', '’'), ('«', '»'), ('„', '“'), ('”', '”')]
    {
        if let Some(inner) = s.strip_prefix(open).and_then(|r| r.strip_suffix(close)) {
            return Some((inner.to_string(), vec![Wrapper::Quotes(open)]));
        }
    }
    None
}

fn strip_bearer(s: &str) -> Option<&str> {
    let head = s.get(..7)?;
    if head.eq_ignore_ascii_case("bearer ") || head.eq_ignore_ascii_case("bearer\t") {
        Some(s[7..].trim_start())
    } else {
        None
    }
}

fn unwrap_bearer(s: &str) -> Option<(String, Vec<Wrapper>)> {
    // `Bearer <token>` stored in a cookie or parameter, URL-encoded.
    for encoded in ["bearer%20", "bearer+"] {
        if s.len() > encoded.len()
            && s.is_char_boundary(encoded.len())
            && s[..encoded.len()].eq_ignore_ascii_case(encoded)
            && s[encoded.len()..].starts_with("eyJ")
        {
            return Some((
                s[encoded.len()..].to_string(),
                vec![Wrapper::EncodedBearer(s[..encoded.len()].to_string())],
            ));
        }
    }
    if let Some(found) = unwrap_odd_bearer(s) {
        return Some(found);
    }
    let rest = strip_bearer(s)?;
    let mut wrappers = vec![Wrapper::BearerPrefix];
    let mut rest = rest;
    // Listed once however often it repeats: a megabyte of `Bearer ` is one finding.
    while let Some(again) = strip_bearer(rest) {
        if wrappers.len() == 1 {
            wrappers.push(Wrapper::DuplicateBearer);
        }
        rest = again;
    }
    Some((rest.to_string(), wrappers))
}

/// `BearereyJ…` (no space), `Bearer\u{a0}eyJ…` (a no-break space from a
/// document or chat): RFC 6750 separates scheme and token by one or more
/// ordinary spaces, so the server finds no bearer token.
fn unwrap_odd_bearer(s: &str) -> Option<(String, Vec<Wrapper>)> {
    let head = s.get(..6)?;
    if !head.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let rest = &s[6..];
    if rest.starts_with("eyJ") {
        return Some((
            rest.to_string(),
            vec![Wrapper::BearerSeparator(String::new())],
        ));
    }
    let sep_len = rest.find("eyJ")?;
    let sep = &rest[..sep_len];
    let odd: Vec<char> = sep.chars().filter(|c| *c != ' ' && *c != '\t').collect();
    if sep.is_empty() || odd.is_empty() || !sep.chars().all(char::is_whitespace) {
        return None;
    }
    let named: Vec<String> = odd
        .iter()
        .map(|c| match *c {
            '\u{a0}' => "U+00A0 NO-BREAK SPACE".to_string(),
            '\u{2009}' => "U+2009 THIN SPACE".to_string(),
            '\u{202f}' => "U+202F NARROW NO-BREAK SPACE".to_string(),
            '\u{3000}' => "U+3000 IDEOGRAPHIC SPACE".to_string(),
            c => format!("U+{:04X}", c as u32),
        })
        .collect();
    Some((
        rest[sep_len..].to_string(),
        vec![Wrapper::BearerSeparator(named.join(", "))],
    ))
}

/// `Basic base64(user:token)`: a token sent as HTTP Basic credentials.
fn unwrap_basic(s: &str) -> Option<(String, Vec<Wrapper>)> {
    let decoded = crate::sensitive::basic_decoded(s)?;
    let text = String::from_utf8(decoded).ok()?;
    let m = complete_jwts(&text).next()?;
    Some((m.as_str().to_string(), vec![Wrapper::BasicCredentials]))
}

/// A JWT encoded once more with standard base64 (`ZXlK` is the base64 of
/// `eyJ`): a Kubernetes Secret's `data`, or a value encoded twice.
fn unwrap_base64(s: &str) -> Option<(String, Vec<Wrapper>)> {
    static ENCODED: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"ZXlK[A-Za-z0-9+/]{20,}={0,2}").expect("static regex"));
    if JWT_LIKE.is_match(s) {
        return None;
    }
    let m = ENCODED.find(s)?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(m.as_str())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let token = text.trim();
    if !token.starts_with("eyJ") || token.contains(char::is_whitespace) {
        return None;
    }
    let mut wrappers = vec![Wrapper::Base64Encoded];
    if m.as_str() != s {
        wrappers.insert(0, Wrapper::SurroundingText);
    }
    Some((token.to_string(), wrappers))
}

/// `TOKEN=eyJ…` lines of an env file or shell: the variable holding a JWT.
fn unwrap_env_line(s: &str) -> Option<(String, Vec<Wrapper>)> {
    static ENV_LINE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?:export\s+)?([A-Z_][A-Z0-9_]*)=(.*)$").expect("static regex")
    });
    s.lines().find_map(|line| {
        let c = ENV_LINE.captures(line.trim())?;
        let value = c[2].trim().trim_matches(['"', '\'']);
        value
            .starts_with("eyJ")
            .then(|| (value.to_string(), vec![Wrapper::EnvVar(c[1].to_string())]))
    })
}

/// `JWT eyJ...`, `Token eyJ...`: one word, a space, then the token. Servers
/// that implement RFC 6750 take only `Bearer`.
fn unwrap_scheme(s: &str) -> Option<(String, Vec<Wrapper>)> {
    let (scheme, rest) = s.split_once([' ', '\t'])?;
    let rest = rest.trim_start();
    let word = !scheme.is_empty()
        && scheme.len() <= 16
        && scheme.chars().all(|c| c.is_ascii_alphabetic())
        && !scheme.eq_ignore_ascii_case("bearer");
    (word && rest.starts_with("eyJ") && !rest.contains(char::is_whitespace)).then(|| {
        (
            rest.to_string(),
            vec![Wrapper::OtherScheme(scheme.to_string())],
        )
    })
}

/// The token parameter of a URL (an implicit-flow redirect's fragment, a
/// query string) or of a form body: up to the next `&` or `#`.
fn unwrap_url_parameter(s: &str) -> Option<(String, Vec<Wrapper>)> {
    let url = s.starts_with("http://") || s.starts_with("https://") || s.starts_with(['?', '#']);
    if !url && !s.contains('&') {
        return None;
    }
    for name in ["access_token", "id_token", "token", "jwt"] {
        let key = format!("{name}=");
        let at = s.match_indices(&key).find_map(|(i, _)| {
            let before = s[..i].chars().next_back();
            matches!(before, None | Some('?' | '#' | '&')).then_some(i + key.len())
        });
        if let Some(start) = at {
            let rest = &s[start..];
            let end = rest.find(['&', '#']).unwrap_or(rest.len());
            let value = rest[..end].trim();
            if !value.is_empty() {
                return Some((
                    value.to_string(),
                    vec![Wrapper::UrlParameter(name.to_string())],
                ));
            }
        }
    }
    None
}

fn unwrap_cookie_pair(s: &str) -> Option<(String, Vec<Wrapper>)> {
    // `access_token=eyJ...` or `a=1; jwt=eyJ...` — but in a standard-base64
    // token the `=` is padding: followed by more `=`, a `.` or the end.
    let (name, value) = s.split_once('=')?;
    if matches!(value.chars().next(), None | Some('=' | '.')) {
        return None;
    }
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        || name.starts_with("eyJ")
    {
        return None;
    }
    let (name, value) = cookie_value(s)?;
    // A cookie value holds no whitespace (RFC 6265 cookie-octet): `level=info
    // token=eyJ…` is a log line's fields.
    if value.is_empty() || value.contains(char::is_whitespace) {
        return None;
    }
    Some((value, vec![Wrapper::Cookie(name)]))
}

/// Where a token that runs to the end of its line and goes on over the next
/// lines starts and where its first line ends.
fn wrapped_start(s: &str) -> Option<(usize, usize)> {
    static LINE_END_TOKEN: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?m)eyJ[A-Za-z0-9_.-]*\r?$").expect("static regex"));
    LINE_END_TOKEN.find_iter(s).find_map(|m| {
        let end = m.start() + m.as_str().trim_end_matches('\r').len();
        let next = s[m.end()..].lines().nth(1)?;
        let t = next.trim();
        let continues = !t.is_empty()
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        (continues && !is_complete_jwt(&s[m.start()..end])).then_some((m.start(), end))
    })
}

fn unwrap_surrounding(s: &str) -> Option<(String, Vec<Wrapper>)> {
    // A token wrapped over lines is only token characters and whitespace: leave it
    // to the parser, which reports `whitespace-in-token`.
    // A whole token among words ("The token is eyJ… and it fails", a log
    // line, a PEM block beside it): that token, whatever the words are.
    if s.split_whitespace().nth(1).is_some() {
        let whole: Vec<(bool, &str)> = s
            .split_whitespace()
            .filter_map(|w| {
                let w = w.trim_matches(|c: char| "\"'`()[]{}<>,;:!?".contains(c));
                // A log field's value: `token=eyJ…`, `jwt:eyJ…`, `"token":"eyJ…"`.
                let access = w
                    .get(..12)
                    .is_some_and(|p| p.eq_ignore_ascii_case("access_token"));
                let w = match w.find("eyJ") {
                    Some(i) if i > 0 && w[..i].ends_with(['=', ':', '"', '\'']) => {
                        w[i..].trim_end_matches(['"', '\'', ',', '}'])
                    }
                    _ => w,
                };
                // A full stop or a `...` after it.
                let w = w.trim_end_matches(['.', '\u{2026}']);
                (is_complete_jwt(w) && crate::alg::signature_fits(w)).then_some((access, w))
            })
            .collect();
        // A log line with an ID and an access token: the access token, as a
        // form or query string is read.
        let whole = whole
            .iter()
            .find(|(access, _)| *access)
            .or_else(|| whole.first())
            .map(|(_, w)| *w);
        if let Some(w) = whole {
            return Some((w.to_string(), vec![Wrapper::SurroundingText]));
        }
    }
    let token_chars =
        |c: char| c.is_ascii_alphanumeric() || "-_.+/=%".contains(c) || c.is_whitespace();
    if s.chars().all(token_chars) {
        return None;
    }
    // A token wrapped inside its first segment: no dot on its first line.
    if let Some((start, end)) = wrapped_start(s) {
        if JWT_LIKE.find(s).is_none_or(|m| start <= m.start()) {
            let line_start = s[..start].rfind('\n').map_or(0, |i| i + 1);
            let next: Vec<&str> = s[end..].lines().skip(1).collect();
            let token = with_continuation(&s[start..end], end - line_start, &next);
            return Some((token, vec![Wrapper::SurroundingText]));
        }
    }
    let m = JWT_LIKE.find(s)?;
    if m.as_str() == s {
        return None;
    }
    // One word is the token itself, however damaged (the parser reports
    // what is wrong), unless text that is no token comes before it
    // (`{"a":"eyJ…`).
    // A word that starts as a JWT is one, whatever stray character (`*`,
    // `!`) made the match begin later.
    if s.split_whitespace().count() < 2
        && (m.start() == 0 || s.starts_with("eyJ") || s[..m.start()].chars().all(token_chars))
    {
        return None;
    }
    // A sentence's full stop is not a fourth segment.
    let mut token = m.as_str();
    if token.ends_with('.') && is_complete_jwt(&token[..token.len() - 1]) {
        token = &token[..token.len() - 1];
    }
    let line_start = s[..m.start()].rfind('\n').map_or(0, |i| i + 1);
    let line_end = s[m.end()..].find('\n').map_or(s.len(), |i| m.end() + i);
    let token = if m.end() == line_end && !is_complete_jwt(token) {
        let next: Vec<&str> = s[line_end..].lines().skip(1).collect();
        with_continuation(token, line_end - line_start, &next)
    } else {
        token.to_string()
    };
    Some((token, vec![Wrapper::SurroundingText]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln";

    fn ex(s: &str) -> (String, Vec<Wrapper>) {
        let e = extract(s);
        (e.token, e.wrappers)
    }

    #[test]
    fn plain_token_is_untouched() {
        assert_eq!(ex(&format!("  {T}\n")), (T.to_string(), vec![]));
    }

    #[test]
    fn bearer_and_duplicate_bearer() {
        assert_eq!(
            ex(&format!("Bearer {T}")),
            (T.into(), vec![Wrapper::BearerPrefix])
        );
        assert_eq!(
            ex(&format!("Bearer Bearer {T}")),
            (
                T.into(),
                vec![Wrapper::BearerPrefix, Wrapper::DuplicateBearer]
            )
        );
        assert_eq!(ex(&format!("bearer {T}")).0, T);
        // Repeated prefixes are one wrapper, not one per repetition.
        assert_eq!(
            ex(&format!("{}{T}", "Bearer ".repeat(10_000))),
            (
                T.into(),
                vec![Wrapper::BearerPrefix, Wrapper::DuplicateBearer]
            )
        );
    }

    #[test]
    fn authorization_header_line() {
        assert_eq!(
            ex(&format!("Authorization: Bearer {T}")),
            (
                T.into(),
                vec![Wrapper::AuthorizationHeader, Wrapper::BearerPrefix]
            )
        );
        let dump =
            format!("GET /orders HTTP/1.1\nHost: api\nauthorization: Bearer {T}\nAccept: */*");
        assert_eq!(ex(&dump).0, T);
    }

    #[test]
    fn cookie_line_and_pair() {
        let (t, w) = ex(&format!("Cookie: theme=dark; session={T}; lang=en"));
        assert_eq!(t, T);
        assert_eq!(w, vec![Wrapper::Cookie("session".into())]);
        assert_eq!(
            ex(&format!("jwt={T}")).1,
            vec![Wrapper::Cookie("jwt".into())]
        );
    }

    #[test]
    fn quotes_and_json() {
        assert_eq!(
            ex(&format!("\"{T}\"")),
            (T.into(), vec![Wrapper::Quotes('"')])
        );
        let body = format!("{{\n  \"access_token\": \"{T}\",\n  \"token_type\": \"Bearer\"\n}}");
        assert_eq!(
            ex(&body),
            (T.into(), vec![Wrapper::JsonField("access_token".into())])
        );
        let nested = format!("{{\"data\": {{\"id_token\": \"{T}\"}}}}");
        assert_eq!(
            ex(&nested).1,
            vec![Wrapper::JsonField("data.id_token".into())]
        );
    }

    #[test]
    fn curl_command() {
        let cmd = format!(
            "curl -s https://api.example.com/orders -H 'Authorization: Bearer {T}' -H 'Accept: application/json'"
        );
        let (t, w) = ex(&cmd);
        assert_eq!(t, T);
        assert_eq!(
            w,
            vec![
                Wrapper::Curl,
                Wrapper::AuthorizationHeader,
                Wrapper::BearerPrefix
            ]
        );
        let cookie = format!("curl -b \"session={T}\" https://x");
        assert_eq!(ex(&cookie).0, T);
    }

    #[test]
    fn line_wrapped_token_is_left_for_the_parser() {
        let wrapped = format!("{}\n{}", &T[..20], &T[20..]);
        assert_eq!(ex(&wrapped), (wrapped.clone(), vec![]));
    }

    #[test]
    fn url_and_form_parameters() {
        let redirect = format!(
            "https://app.example.com/cb#access_token={T}&token_type=Bearer&expires_in=3600"
        );
        assert_eq!(
            ex(&redirect),
            (
                T.to_string(),
                vec![Wrapper::UrlParameter("access_token".into())]
            )
        );
        let query = format!("https://api.example.com/x?a=1&token={T}");
        assert_eq!(ex(&query).0, T);
        let form = format!("id_token={T}&state=xyz");
        assert_eq!(
            ex(&form),
            (
                T.to_string(),
                vec![Wrapper::UrlParameter("id_token".into())]
            )
        );
        // `my_token=` is another parameter's name.
        assert_ne!(
            ex(&format!("https://x.example/?my_token={T}")).1,
            vec![Wrapper::UrlParameter("token".into())]
        );
    }

    #[test]
    fn url_encoded_bearer_prefix() {
        assert_eq!(
            ex(&format!("token=Bearer%20{T}")),
            (
                T.to_string(),
                vec![
                    Wrapper::Cookie("token".into()),
                    Wrapper::EncodedBearer("Bearer%20".into())
                ]
            )
        );
        assert_eq!(
            ex(&format!("bearer+{T}")).1,
            [Wrapper::EncodedBearer("bearer+".into())]
        );
    }

    #[test]
    fn schemes_other_than_bearer() {
        let (token, wrappers) = ex(&format!("Authorization: JWT {T}"));
        assert_eq!(token, T);
        assert_eq!(
            wrappers,
            [
                Wrapper::AuthorizationHeader,
                Wrapper::OtherScheme("JWT".into())
            ]
        );
        assert_eq!(
            ex(&format!("Token {T}")).1,
            [Wrapper::OtherScheme("Token".into())]
        );
        // A wrapped token is no scheme: left for the parser.
        assert_eq!(ex("eyJhbGciOiJIUzI1NiJ9 .eyJzdWIiOiIxIn0.c2ln").1, []);
    }

    #[test]
    fn a_stray_character_in_the_header_keeps_the_whole_word() {
        for bad in [
            "eyJhb*ciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln",
            "eyJhbGciOiJIUzI1NiJ9!.eyJzdWIiOiIxIn0.c2ln",
        ] {
            assert_eq!(ex(bad), (bad.to_string(), vec![]), "{bad}");
        }
    }

    #[test]
    fn a_token_in_a_curl_commands_query_names_its_parameter() {
        let (t, w) = ex(&format!(
            "curl 'https://api.example.com/orders?access_token={T}&x=1'"
        ));
        assert_eq!(t, T);
        assert_eq!(
            w,
            vec![Wrapper::Curl, Wrapper::UrlParameter("access_token".into())]
        );
    }

    #[test]
    fn token_as_a_log_field_among_words() {
        let whole =
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        for line in [
            format!("2024-01-01 INFO request token={whole} path=/api"),
            format!("level=info token={whole}"),
            format!("msg=rejected jwt:{whole} status=401"),
            format!(r#"{{"level":"info","token":"{whole}"}} extra words"#),
            format!(
                "level=info id_token=eyJhbGciOiJIUzI1NiJ9.eyJub25jZSI6IjEifQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk access_token={whole} status=401"
            ),
        ] {
            assert_eq!(ex(&line).0, whole, "{line}");
        }
    }

    #[test]
    fn token_inside_a_log_line() {
        let line = format!("2024-01-01T00:00:00Z WARN auth failed token={T} reason=expired");
        assert_eq!(ex(&line).0, T);
    }

    const U: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIyIn0.b3RoZXI";

    #[test]
    fn the_authorization_header_wins_and_other_tokens_are_named() {
        let dump = format!("Cookie: theme=dark; session={U}\nAuthorization: Bearer {T}\n");
        let (t, w) = ex(&dump);
        assert_eq!(t, T);
        assert_eq!(
            w,
            [
                Wrapper::AuthorizationHeader,
                Wrapper::BearerPrefix,
                Wrapper::OtherTokens(vec!["the Cookie `session`, line 1".into()])
            ]
        );
        let body = format!("{{\"access_token\":\"{T}\",\"id_token\":\"{U}\"}}");
        assert_eq!(
            ex(&body).1.last(),
            Some(&Wrapper::OtherTokens(vec![
                "JSON field \"id_token\", line 1".into()
            ]))
        );
        // Two bare tokens, one per line: the first, and the second named.
        assert_eq!(
            ex(&format!("{T}\n{U}\n")),
            (
                T.to_string(),
                vec![Wrapper::OtherTokens(vec!["line 2".into()])]
            )
        );
        // The same token twice is one token.
        assert_eq!(ex(&format!("{T}\n{T}")).0, T);
    }

    #[test]
    fn a_token_wrapped_after_its_header_name_keeps_its_continuation_lines() {
        let (a, b) = T.split_at(30);
        let (t, _) = ex(&format!("Authorization: Bearer {a}\n{b}\nAccept: */*"));
        assert_eq!(t, format!("{a}\n{b}"));
        // Header folding: the continuation starts with a space.
        assert_eq!(
            ex(&format!("Authorization: Bearer {a}\r\n {b}")).0,
            format!("{a}\n {b}")
        );
        // A JSON body wrapped inside its string.
        let (t, w) = ex(&format!("{{\"access_token\": \"{a}\n{b}\"}}"));
        assert_eq!(
            (t, w),
            (
                format!("{a}\n{b}"),
                vec![Wrapper::JsonField("access_token".into())]
            )
        );
        // E-mail quoting, a sentence before and a word after the token.
        let lines: Vec<&str> = T
            .as_bytes()
            .chunks(16)
            .map(|c| std::str::from_utf8(c).expect("ASCII"))
            .collect();
        let quoted: Vec<String> = lines.iter().map(|l| format!("> {l}")).collect();
        let mail = format!("> Here is the token:\n{}\n> thanks", quoted.join("\n"));
        let (t, w) = ex(&mail);
        assert_eq!(t, lines.join("\n"));
        assert_eq!(w, [Wrapper::EmailQuote, Wrapper::SurroundingText]);
    }

    #[test]
    fn punctuation_after_a_complete_token_is_not_part_of_it() {
        let sentence = format!("Hi team, the API rejects this token: {T}. Any idea?");
        assert_eq!(
            ex(&sentence),
            (T.to_string(), vec![Wrapper::SurroundingText])
        );
        assert_eq!(
            ex(&format!("{T}.")),
            (T.to_string(), vec![Wrapper::Trailing(".".into())])
        );
        assert_eq!(
            ex(&format!("token={T},")),
            (
                T.to_string(),
                vec![
                    Wrapper::Cookie("token".into()),
                    Wrapper::Trailing(",".into())
                ]
            )
        );
        // An unsigned token's final dot belongs to it.
        assert_eq!(ex("eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.").1, []);
    }

    #[test]
    fn bearer_glued_or_separated_by_an_odd_space() {
        assert_eq!(
            ex(&format!("Authorization:Bearer{T}")),
            (
                T.to_string(),
                vec![
                    Wrapper::AuthorizationHeader,
                    Wrapper::BearerSeparator(String::new())
                ]
            )
        );
        assert_eq!(
            ex(&format!("Bearer\u{a0}{T}")).1,
            [Wrapper::BearerSeparator("U+00A0 NO-BREAK SPACE".into())]
        );
    }

    #[test]
    fn language_and_encoding_wrappers() {
        assert_eq!(
            ex(&format!("b'{T}'")),
            (T.to_string(), vec![Wrapper::BytesLiteral])
        );
        assert_eq!(
            ex(&format!("<{T}>")),
            (T.to_string(), vec![Wrapper::Quotes('<')])
        );
        let escaped = format!("\"{{\\\"access_token\\\":\\\"{T}\\\"}}\"");
        assert_eq!(ex(&escaped).0, T);
        let log =
            format!("{{\"level\":\"info\",\"body\":\"{{\\\"access_token\\\":\\\"{T}\\\"}}\"}}");
        assert_eq!(
            ex(&log),
            (
                T.to_string(),
                vec![Wrapper::JsonField("body.access_token".into())]
            )
        );
        let b64 = base64::engine::general_purpose::STANDARD.encode(T);
        assert_eq!(ex(&b64), (T.to_string(), vec![Wrapper::Base64Encoded]));
        let secret = format!("apiVersion: v1\nkind: Secret\ndata:\n  token: {b64}\n");
        assert_eq!(
            ex(&secret),
            (
                T.to_string(),
                vec![Wrapper::SurroundingText, Wrapper::Base64Encoded]
            )
        );
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("user:{T}"));
        assert_eq!(
            ex(&format!("Authorization: Basic {basic}")).1,
            [Wrapper::AuthorizationHeader, Wrapper::BasicCredentials]
        );
        assert_eq!(
            ex(&format!(
                "API_URL=https://api.example.com\nexport TOKEN=\"{T}\"\n"
            )),
            (T.to_string(), vec![Wrapper::EnvVar("TOKEN".into())])
        );
        assert_eq!(
            ex(&format!("x-amzn-oidc-data: {T}")),
            (
                T.to_string(),
                vec![Wrapper::Header("x-amzn-oidc-data".into())]
            )
        );
    }

    /// A whole HS256 token: its signature is as long as HS256 makes it.
    fn whole() -> String {
        let sig = "A".repeat(43);
        format!("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.{sig}")
    }

    #[test]
    fn a_whole_token_takes_no_following_line_and_no_neighbouring_words() {
        let t = whole();
        for next in ["OK", "Thanks", "200", "abc.def", "--"] {
            assert_eq!(
                ex(&format!("Authorization: Bearer {t}\n{next}\n")).0,
                t,
                "{next}"
            );
        }
        for text in [
            format!("The token is {t} and it fails"),
            format!("INFO validating token {t}..."),
            format!("2025-10-09\tapi\t{t}\t401"),
            format!(
                "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n{t}"
            ),
        ] {
            assert_eq!(
                ex(&text),
                (t.clone(), vec![Wrapper::SurroundingText]),
                "{text}"
            );
        }
    }

    #[test]
    fn basic_credentials_without_a_jwt_are_left_for_the_parser_to_name() {
        let basic = "Authorization: Basic YWxpY2U6aHVudGVyMg==";
        assert_eq!(
            ex(basic),
            (
                "Basic YWxpY2U6aHVudGVyMg==".to_string(),
                vec![Wrapper::AuthorizationHeader]
            )
        );
        assert_eq!(
            crate::token::foreign("Basic YWxpY2U6aHVudGVyMg=="),
            Some(crate::token::Foreign::BasicCredentials)
        );
    }

    #[test]
    fn a_wrapped_json_body_is_read_past_a_field_name_used_as_a_value() {
        let (a, b) = T.split_at(20);
        let body = format!("{{\"token_type\": \"access_token\", \"access_token\": \"{a}\n{b}\"}}");
        assert_eq!(ex(&body).0, format!("{a}\n{b}"));
    }
}
