//! Pulls the JWT out of whatever the user pasted around it.
//!
//! Users paste what they have: a header line from a proxy log, `Bearer Bearer ...`
//! from a double-prefixing client, a cookie, a token endpoint's JSON response, a
//! whole curl command. Code that passes that string to `verify()` fails, so every
//! wrapper stripped is recorded and reported (`input-extracted`).
//! Whitespace *inside* the token is left in place: that is a finding of its own.

use std::sync::LazyLock;

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
}

impl Wrapper {
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
                    q => *q,
                };
                format!("surrounding quotes ({q}...{close})")
            }
            Wrapper::Curl => "a curl command".into(),
            Wrapper::UrlParameter(name) => format!("a URL or form parameter (`{name}=`)"),
            Wrapper::OtherScheme(scheme) => format!("the `{scheme} ` scheme prefix"),
            Wrapper::SurroundingText => "surrounding text".into(),
        }
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
    let mut s = input.trim().to_string();
    let mut wrappers = Vec::new();
    for _ in 0..8 {
        match unwrap_once(&s) {
            Some((inner, found)) => {
                wrappers.extend(found);
                s = inner.trim().to_string();
            }
            None => break,
        }
    }
    Extracted { token: s, wrappers }
}

fn unwrap_once(s: &str) -> Option<(String, Vec<Wrapper>)> {
    if s.starts_with("curl ") || s.starts_with("curl\t") {
        return unwrap_curl(s);
    }
    if s.starts_with('{') {
        if let Some(found) = unwrap_json(s) {
            return Some(found);
        }
    }
    if let Some(found) = unwrap_header_line(s) {
        return Some(found);
    }
    if let Some(found) = unwrap_quotes(s) {
        return Some(found);
    }
    if let Some(found) = unwrap_bearer(s) {
        return Some(found);
    }
    if let Some(found) = unwrap_scheme(s) {
        return Some(found);
    }
    if let Some(found) = unwrap_url_parameter(s) {
        return Some(found);
    }
    if let Some(found) = unwrap_cookie_pair(s) {
        return Some(found);
    }
    unwrap_surrounding(s)
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
    Some((m.as_str().to_string(), vec![Wrapper::Curl]))
}

fn unwrap_json(s: &str) -> Option<(String, Vec<Wrapper>)> {
    let value: serde_json::Value = serde_json::from_str(s).ok()?;
    let obj = value.as_object()?;
    for field in JSON_FIELDS {
        if let Some(serde_json::Value::String(t)) = obj.get(*field) {
            return Some((t.clone(), vec![Wrapper::JsonField((*field).to_string())]));
        }
    }
    // One level down: {"data": {"access_token": ...}}, {"tokens": {...}}
    for (outer, inner) in obj {
        if let Some(inner) = inner.as_object() {
            for field in JSON_FIELDS {
                if let Some(serde_json::Value::String(t)) = inner.get(*field) {
                    return Some((
                        t.clone(),
                        vec![Wrapper::JsonField(format!("{outer}.{field}"))],
                    ));
                }
            }
        }
    }
    None
}

fn unwrap_header_line(s: &str) -> Option<(String, Vec<Wrapper>)> {
    // A pasted request dump may hold many header lines: find the interesting one.
    for line in s.lines() {
        let line = line.trim();
        let lower = line.to_ascii_lowercase();
        if let Some(rest) = lower
            .strip_prefix("authorization:")
            .map(|r| &line[line.len() - r.len()..])
        {
            return Some((rest.trim().to_string(), vec![Wrapper::AuthorizationHeader]));
        }
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
    if value.is_empty() {
        return None;
    }
    Some((value, vec![Wrapper::Cookie(name)]))
}

fn unwrap_surrounding(s: &str) -> Option<(String, Vec<Wrapper>)> {
    // A token wrapped over lines is only token characters and whitespace: leave it
    // to the parser, which reports `whitespace-in-token`.
    // One word is the token itself, however damaged: the parser reports what is wrong.
    let token_chars =
        |c: char| c.is_ascii_alphanumeric() || "-_.+/=%".contains(c) || c.is_whitespace();
    if s.chars().all(token_chars) || s.split_whitespace().count() < 2 {
        return None;
    }
    let m = JWT_LIKE.find(s)?;
    if m.as_str() == s {
        return None;
    }
    Some((m.as_str().to_string(), vec![Wrapper::SurroundingText]))
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
    fn token_inside_a_log_line() {
        let line = format!("2024-01-01T00:00:00Z WARN auth failed token={T} reason=expired");
        assert_eq!(ex(&line).0, T);
    }
}
