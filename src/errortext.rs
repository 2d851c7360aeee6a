//! Error-text knowledge base: which JWT library printed this message, and what it means.
//!
//! `jwtai diagnose TOKEN --error "TEXT"` (or `--error-file`) hands the text the user's JWT
//! library printed to [`match_error`]. The text is matched against `data/error-kb.json`, a list
//! of real error messages copied from the libraries' sources (each entry names its source
//! file). A match says which library produced the message, what it means, which jwtai
//! finding codes explain it, and which values the message quotes (the expected audience or
//! issuer, the kid that was not found, ...) so the report can compare them with the token.
//!
//! The knowledge base is embedded in the binary, parsed and compiled lazily the first time
//! it is needed (only when `--error` is used) and kept for the life of the process.
//!
//! Pattern conventions (see `data/error-kb.json`):
//! - patterns are Rust `regex` syntax and are always compiled case-insensitively;
//! - named groups carry values quoted by the message; the name without trailing digits
//!   says what the value is: `aud`, `iss`, `alg`, `claim`, `scope` (what the verifier
//!   expected or names), `kid` (the kid the message names), `got_aud`, `got_iss`,
//!   `got_alg` (what the message says the token carried); any other name (`x1`, ...) only
//!   marks variable text, which does not count as "fixed text" when ranking matches;
//!   a message that implies the value of its one claim without quoting it says it in
//!   the entry's `value` (flask-jwt-extended's "Only refresh tokens are allowed":
//!   `claims` `["type"]`, `value` "refresh"); a message saying its one claim is missing
//!   (first code `missing-claim`) without quoting the name requires the entry's claim;
//!   Four names carry instants the message quotes, parsed by [`QuotedTime`]: `got_exp`,
//!   `got_nbf`, `got_iat` (the token's exp / nbf / iat as the library printed them) and
//!   `now` (the verifier's clock when it rejected the token);
//! - `keys_tried` captures a list of the verifier's keys (IdentityModel's `Keys tried:`
//!   text); the `KeyId:` values in it fill [`Expected::keys_tried`];
//! - an entry may carry `priority` (default 0): wrappers around other messages use a
//!   negative priority so that the wrapped message wins when it is known too;
//! - a message printed word for word by several libraries (`Signature has expired`:
//!   PyJWT, python-jose, Ruby jwt) has one entry whose `library` names them all, and
//!   meaning that holds for all of them. Each library's own entry then needs evidence of
//!   that library: its exception class in the `pattern` (`JWT::ExpiredSignature`), or its
//!   namespace anywhere in the text through `context` (`Lcobucci\`, `Firebase\JWT`),
//!   a regex that must match the text for the entry to count at all. An entry whose
//!   context matched beats one without, at equal priority, so the namespace decides.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::OnceLock;

use regex::{Regex, RegexBuilder};
use serde::Deserialize;

mod prefilter;
use prefilter::Prefilter;

/// The knowledge base, embedded at build time.
const KB_JSON: &str = include_str!("../data/error-kb.json");

/// At most this many bytes of a pasted error are matched, so a huge log stays fast.
pub const MAX_INPUT_BYTES: usize = 64 * 1024;
/// When the input is longer than [`MAX_INPUT_BYTES`], this many bytes are kept from its end
/// (Java and .NET traces put the root cause, "Caused by: ...", last); the rest from its start.
const TAIL_BYTES: usize = 16 * 1024;

/// One known error message of one library.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Stable identifier, `<library>-<what>`.
    pub id: String,
    /// The library (or service) that prints the message.
    pub library: String,
    /// Where the message text comes from (repository and file).
    pub source: String,
    /// Rust `regex` pattern (compiled case-insensitively).
    pub pattern: String,
    /// A real message this pattern matches.
    pub example: String,
    /// What the message means, in one or two sentences.
    pub meaning: String,
    /// jwtai finding codes that explain the message, most specific first.
    pub codes: Vec<String>,
    /// Claims (or header parameters) the message is about, for disagreement checks.
    #[serde(default)]
    pub claims: Vec<String>,
    /// Ranking bias: a higher priority wins over more fixed text (default 0).
    #[serde(default)]
    pub priority: i32,
    /// The value the verifier requires of the entry's one claim, when the message
    /// implies it without quoting it (flask-jwt-extended's "Only refresh tokens are
    /// allowed": `type` "refresh"). A value the message quotes wins.
    #[serde(default)]
    pub value: Option<String>,
    /// A regex (compiled case-insensitively) that must match somewhere in the text for
    /// this entry to count: the library's namespace or exception class, for a message
    /// other libraries print word for word.
    #[serde(default)]
    pub context: Option<String>,
}

impl Entry {
    /// The topic of the entry's most specific code.
    pub fn topic(&self) -> Topic {
        self.codes
            .first()
            .map_or(Topic::Other, |code| Topic::of_code(code))
    }

    /// The topics of all the entry's codes, without duplicates, in code order.
    pub fn topics(&self) -> Vec<Topic> {
        let mut topics = Vec::new();
        for code in &self.codes {
            let topic = Topic::of_code(code);
            if !topics.contains(&topic) {
                topics.push(topic);
            }
        }
        topics
    }
}

/// What an error (or a finding code) is about; used to detect when the library's error and
/// jwtai's own findings disagree (the error says "expired", the token is not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// exp: expired, missing, lifetime.
    Expiry,
    /// nbf in the future.
    NotBefore,
    /// iat in the future.
    IssuedAt,
    /// Time claims with the wrong unit or type.
    Timestamp,
    Audience,
    Issuer,
    Signature,
    Kid,
    Algorithm,
    /// Key material: strength, private key given for verification.
    Key,
    /// Header parameters: crit, embedded keys.
    Header,
    /// The token's shape: segments, base64url, JSON, size.
    Malformed,
    /// How the token was taken from the request: prefixes, whitespace, URL-encoding.
    Input,
    Jwks,
    /// Other claims: required, exact value, scope, token type.
    Claims,
    Other,
}

impl Topic {
    /// The topic a jwtai finding code belongs to ([`Topic::Other`] for unknown codes).
    pub fn of_code(code: &str) -> Topic {
        match code {
            "expired" | "exp-missing" | "exp-before-iat" | "lifetime-too-long"
            | "token-too-old" => Topic::Expiry,
            "not-yet-valid" => Topic::NotBefore,
            "issued-in-future" => Topic::IssuedAt,
            "timestamp-in-milliseconds" | "timestamp-not-numeric" => Topic::Timestamp,
            "audience-mismatch" | "audience-missing" => Topic::Audience,
            "issuer-mismatch" | "issuer-trailing-slash" | "discovery-issuer-mismatch" => {
                Topic::Issuer
            }
            "signature-valid"
            | "signature-not-checked"
            | "signature-invalid"
            | "signature-missing"
            | "secret-whitespace"
            | "secret-encoding"
            | "signature-length-mismatch"
            | "ecdsa-der-signature"
            | "psychic-signature" => Topic::Signature,
            "kid-missing" | "kid-not-found" | "kid-suspicious" | "wrong-kid" => Topic::Kid,
            "alg-missing"
            | "alg-unknown"
            | "alg-none"
            | "alg-not-allowed"
            | "alg-key-mismatch"
            | "algorithm-confusion" => Topic::Algorithm,
            "weak-secret" | "key-too-weak" | "private-key-supplied" => Topic::Key,
            "crit-unsupported" | "header-key-injection" | "typ-mismatch" => Topic::Header,
            "opaque-token"
            | "wrong-segment-count"
            | "jwe-token"
            | "base64-standard-alphabet"
            | "invalid-base64url"
            | "truncated"
            | "invalid-json"
            | "duplicate-json-keys"
            | "token-too-large" => Topic::Malformed,
            "input-extracted"
            | "bearer-prefix-duplicated"
            | "whitespace-in-token"
            | "url-encoded" => Topic::Input,
            "jwks-fetch-failed" | "jwks-http-error" | "jwks-invalid" | "jwks-empty"
            | "jwks-key-unusable" | "jwks-duplicate-kid" | "jwks-cache-stale"
            | "jwks-private-key" => Topic::Jwks,
            "missing-claim" | "scope-missing" | "claim-mismatch" | "id-token-as-access-token" => {
                Topic::Claims
            }
            _ => Topic::Other,
        }
    }
}

/// Values an error message quotes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    /// Audiences the verifier expected.
    pub aud: Vec<String>,
    /// Issuers the verifier expected.
    pub iss: Vec<String>,
    /// The kid the message names (the one that was not found, or that was tried).
    pub kid: Option<String>,
    /// Algorithms the verifier allows.
    pub alg: Vec<String>,
    /// Claims the message names (missing, or with a wrong value).
    pub claims: Vec<String>,
    /// Scopes the verifier requires.
    pub scopes: Vec<String>,
    /// The value the verifier expects for the one claim the message is
    /// about (`jwt jwtid invalid. expected: abc`).
    pub value: Option<String>,
    /// Audiences the message says the token carried.
    pub found_aud: Vec<String>,
    /// Issuers the message says the token carried.
    pub found_iss: Vec<String>,
    /// The algorithm the message says the token used.
    pub found_alg: Vec<String>,
    /// Audiences the verifier expected given as JavaScript regular expressions
    /// (`/api.*/`, node jsonwebtoken prints a RegExp audience that way); kept apart from
    /// `aud` because they are patterns, not values.
    pub aud_patterns: Vec<String>,
    /// The token's exp as the message prints it.
    pub found_exp: Option<QuotedTime>,
    /// The token's nbf as the message prints it.
    pub found_nbf: Option<QuotedTime>,
    /// The token's iat as the message prints it.
    pub found_iat: Option<QuotedTime>,
    /// The verifier's clock when it rejected the token, as the message prints it.
    pub server_now: Option<QuotedTime>,
    /// The kids of the keys the verifier tried, as the message lists them
    /// (IdentityModel's `Keys tried: '..., KeyId: k1 ...'`): the server's keys, so a token
    /// whose kid is not among them was signed by a key the server does not have.
    pub keys_tried: Vec<String>,
}

impl Expected {
    /// True when the message quoted no usable value.
    pub fn is_empty(&self) -> bool {
        *self == Expected::default()
    }
}

/// An instant a message quotes, read the ways the libraries print instants: unix seconds,
/// RFC 3339 (`2024-01-15T10:30:00.000Z`), ISO 8601 with a `+0000` offset (PHP), a zoneless
/// ISO date-time, and .NET's `1/15/2024 10:30:00 AM` / `01/15/2024 10:30:00`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotedTime {
    /// The text as quoted.
    pub text: String,
    /// Unix seconds (for a .NET date, read month first).
    pub unix: i64,
    /// Another reading of the same text (a .NET date read day first), if there is one.
    pub other_reading: Option<i64>,
    /// True when the text says its time zone (a `Z`, an offset, or unix seconds); a
    /// zoneless text may be local time.
    pub zoned: bool,
}

impl QuotedTime {
    /// Read `raw`; `None` when it is no instant jwtai can read.
    pub fn parse(raw: &str) -> Option<QuotedTime> {
        let text = raw
            .trim()
            .trim_matches(['\'', '"', '`'])
            .trim_end_matches(['.', ',', ';'])
            .trim();
        if text.is_empty() {
            return None;
        }
        let quoted = |unix: i64, other_reading: Option<i64>, zoned: bool| {
            Some(QuotedTime {
                text: text.to_string(),
                unix,
                other_reading: other_reading.filter(|&o| o != unix),
                zoned,
            })
        };
        if text.bytes().all(|b| b.is_ascii_digit()) {
            let n: i64 = text.parse().ok()?;
            // 13 digits: milliseconds.
            let secs = if text.len() >= 13 { n / 1000 } else { n };
            return quoted(secs, None, true);
        }
        if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(text) {
            return quoted(dt.timestamp(), None, true);
        }
        // `Tue, 24 Nov 2026 07:09:11 GMT`: an HTTP date, as Clerk prints them.
        if let Ok(dt) = chrono::DateTime::parse_from_rfc2822(text) {
            return quoted(dt.timestamp(), None, true);
        }
        for fmt in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z"] {
            if let Ok(dt) = chrono::DateTime::parse_from_str(text, fmt) {
                return quoted(dt.timestamp(), None, true);
            }
        }
        for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
            if let Ok(dt) = chrono::NaiveDateTime::parse_from_str(text, fmt) {
                return quoted(dt.and_utc().timestamp(), None, false);
            }
        }
        if let Some(unix) = go_time(text) {
            return quoted(unix, None, true);
        }
        let (month_first, day_first) = dotnet_date(text)?;
        match month_first {
            Some(m) => quoted(m, day_first, false),
            None => quoted(day_first?, None, false),
        }
    }

    /// Whether this quoted instant can be the token's `secs`: one reading within a second
    /// (the libraries print whole seconds), or, for a zoneless text, off by whole quarter
    /// hours up to 14 h (the verifier printed local time).
    pub fn can_be(&self, secs: i64) -> bool {
        let readings = std::iter::once(self.unix).chain(self.other_reading);
        readings.into_iter().any(|r| {
            let d = (r - secs).abs();
            d <= 1 || (!self.zoned && d <= 14 * 3600 && (d % 900 <= 1 || d % 900 >= 899))
        })
    }
}

/// Go's `time.Time` as `%v` prints it (go-oidc, Kubernetes): `2024-01-15 10:30:00 +0000 UTC`,
/// with fractional seconds, a zone name or a numeric one (`+03`), and the monotonic clock
/// reading of a `time.Now()` value (` m=+3600.000000001`), which says nothing of the instant.
fn go_time(text: &str) -> Option<i64> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    let re = RE
        .get_or_init(|| {
            Regex::new(
                r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? [+-]\d{4})(?: (?:[A-Za-z]{1,5}|[+-]\d\d))?(?: m=[+-][0-9.]+)?$",
            )
            .ok()
        })
        .as_ref()?;
    let instant = re.captures(text)?.get(1)?.as_str();
    chrono::DateTime::parse_from_str(instant, "%Y-%m-%d %H:%M:%S%.f %z")
        .ok()
        .map(|dt| dt.timestamp())
}

/// A .NET `M/d/yyyy h:mm:ss tt` or `MM/dd/yyyy HH:mm:ss` date-time: (month first, day
/// first) readings, either `None` when impossible.
fn dotnet_date(text: &str) -> Option<(Option<i64>, Option<i64>)> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    let re = RE
        .get_or_init(|| {
            Regex::new(
                r"^(\d{1,2})/(\d{1,2})/(\d{4}) (\d{1,2}):(\d{2}):(\d{2})(?:\.\d+)?(?: ?([AaPp][Mm]))?(?: ?(?:UTC|GMT|Z))?$",
            )
            .ok()
        })
        .as_ref()?;
    let caps = re.captures(text)?;
    let num = |i: usize| caps.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
    let (a, b, year) = (num(1)?, num(2)?, i32::try_from(num(3)?).ok()?);
    let (mut hour, minute, second) = (num(4)?, num(5)?, num(6)?);
    if let Some(ampm) = caps.get(7) {
        if !(1..=12).contains(&hour) {
            return None;
        }
        let pm = ampm.as_str().eq_ignore_ascii_case("pm");
        hour = match (hour, pm) {
            (12, false) => 0,
            (12, true) => 12,
            (h, true) => h + 12,
            (h, false) => h,
        };
    }
    let at = |month: u32, day: u32| {
        chrono::NaiveDate::from_ymd_opt(year, month, day)
            .and_then(|d| d.and_hms_opt(hour, minute, second))
            .map(|dt| dt.and_utc().timestamp())
    };
    let readings = (at(a, b), at(b, a));
    (readings.0.is_some() || readings.1.is_some()).then_some(readings)
}

/// Read a JavaScript regular expression literal (`/api.*/`, `/^api$/i`), as node
/// jsonwebtoken prints a RegExp audience; `None` for an ordinary value (a plain `/api/`
/// without any regex syntax is taken as a value).
pub fn js_regex(value: &str) -> Option<Regex> {
    js_regex_checked(value).ok().flatten()
}

/// [`js_regex`], telling a value that is no pattern (`Ok(None)`: a path-like
/// `/api` is a plain audience) from a pattern that does not compile (`Err`,
/// with the reason: `/[/` is a typo, not an audience).
pub fn js_regex_checked(value: &str) -> Result<Option<Regex>, String> {
    let Some(body_and_flags) = value.strip_prefix('/') else {
        return Ok(None);
    };
    let Some(close) = body_and_flags.rfind('/') else {
        return Ok(None);
    };
    let (body, flags) = (&body_and_flags[..close], &body_and_flags[close + 1..]);
    if body.is_empty() || !flags.chars().all(|c| "dgimsuyv".contains(c)) {
        return Ok(None);
    }
    if flags.is_empty() && !body.chars().any(|c| ".*+?[](){}|^$\\".contains(c)) {
        return Ok(None);
    }
    RegexBuilder::new(body)
        .case_insensitive(flags.contains('i'))
        .size_limit(1 << 20)
        .build()
        .map(Some)
        .map_err(|e| match e {
            regex::Error::Syntax(s) => {
                let last = s.lines().last().unwrap_or_default().trim();
                last.strip_prefix("error: ").unwrap_or(last).to_string()
            }
            other => other.to_string(),
        })
}

/// Text from an `--error-file`: UTF-8 (a BOM is dropped), or UTF-16 when the file starts
/// with a UTF-16 byte-order mark (PowerShell's `>` writes UTF-16LE) or is plainly UTF-16
/// without one (every other byte of ASCII text is zero).
pub fn decode_text(bytes: &[u8]) -> Cow<'_, str> {
    let utf16 = |body: &[u8], little: bool| {
        let units = body.chunks_exact(2).map(|pair| {
            if little {
                u16::from_le_bytes([pair[0], pair[1]])
            } else {
                u16::from_be_bytes([pair[0], pair[1]])
            }
        });
        Cow::Owned(
            char::decode_utf16(units)
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect(),
        )
    };
    match bytes {
        [0xFF, 0xFE, rest @ ..] => return utf16(rest, true),
        [0xFE, 0xFF, rest @ ..] => return utf16(rest, false),
        [0xEF, 0xBB, 0xBF, rest @ ..] => return String::from_utf8_lossy(rest),
        _ => {}
    }
    if bytes.len() >= 4 && bytes.len() % 2 == 0 {
        let pairs = bytes.len() / 2;
        let zero_at = |parity: usize| {
            bytes
                .iter()
                .skip(parity)
                .step_by(2)
                .filter(|&&b| b == 0)
                .count()
        };
        let (even, odd) = (zero_at(0), zero_at(1));
        // ASCII text as UTF-16: nearly every high byte is zero, no low byte is.
        if odd * 10 >= pairs * 9 && even == 0 {
            return utf16(bytes, true);
        }
        if even * 10 >= pairs * 9 && odd == 0 {
            return utf16(bytes, false);
        }
    }
    String::from_utf8_lossy(bytes)
}

/// One recognised message in the user's error text.
#[derive(Debug, Clone)]
pub struct ErrorMatch {
    pub entry: &'static Entry,
    /// The text the pattern matched (after ANSI codes were removed).
    pub matched_text: String,
    /// 1-based line of the cleaned, bounded input where the match starts.
    pub line: usize,
    pub expected: Expected,
}

impl ErrorMatch {
    pub fn codes(&self) -> &'static [String] {
        &self.entry.codes
    }

    pub fn library(&self) -> &'static str {
        &self.entry.library
    }
}

/// The embedded knowledge base could not be loaded (a bug in `data/error-kb.json`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KbError {
    #[error("the error-text knowledge base is not valid JSON: {0}")]
    Json(String),
    #[error("error-text knowledge base entry `{id}` has an invalid pattern: {message}")]
    Pattern { id: String, message: String },
    #[error("error-text knowledge base has the id `{0}` more than once")]
    DuplicateId(String),
    #[error("error-text knowledge base entry `{0}` lists no finding code")]
    NoCodes(String),
}

/// The knowledge base, parsed. A pattern is compiled the first time a text may match it
/// (see [`prefilter`]), so a diagnosis pays for a handful of regexes, not all of them.
struct Compiled {
    entries: Vec<Entry>,
    prefilter: Prefilter,
    regexes: Vec<OnceLock<Option<Regex>>>,
    contexts: Vec<OnceLock<Option<Regex>>>,
}

impl Compiled {
    /// The entry's pattern, compiled (`None` if it does not compile: the tests rule it out).
    fn regex(&self, index: usize) -> Option<&Regex> {
        self.regexes[index]
            .get_or_init(|| build(&self.entries[index].pattern).ok())
            .as_ref()
    }

    /// Whether the entry's context, if it has one, matches one of `texts`.
    fn context_matches(&self, index: usize, texts: &[&str]) -> Option<bool> {
        let context = self.entries[index].context.as_deref()?;
        let regex = self.contexts[index].get_or_init(|| build(context).ok());
        Some(
            regex
                .as_ref()
                .is_some_and(|r| texts.iter().any(|t| r.is_match(t))),
        )
    }
}

fn build(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern).case_insensitive(true).build()
}

static KB: OnceLock<Result<Compiled, KbError>> = OnceLock::new();

fn compiled() -> Result<&'static Compiled, KbError> {
    KB.get_or_init(|| compile(KB_JSON))
        .as_ref()
        .map_err(Clone::clone)
}

fn compile(json: &str) -> Result<Compiled, KbError> {
    let entries: Vec<Entry> =
        serde_json::from_str(json).map_err(|e| KbError::Json(e.to_string()))?;
    let mut seen = HashSet::new();
    for entry in &entries {
        if !seen.insert(entry.id.as_str()) {
            return Err(KbError::DuplicateId(entry.id.clone()));
        }
        if entry.codes.is_empty() {
            return Err(KbError::NoCodes(entry.id.clone()));
        }
    }
    // Parsed (not compiled) here, so that a broken pattern is reported on load; compiled
    // on first use, which the tests do for all of them.
    let mut required = Vec::with_capacity(entries.len());
    for entry in &entries {
        let parse = |pattern: &str, what: &str| {
            prefilter::parse(pattern).map_err(|e| KbError::Pattern {
                id: entry.id.clone(),
                message: format!("{what}{e}"),
            })
        };
        required.push(prefilter::required_literals(&parse(&entry.pattern, "")?));
        if let Some(context) = &entry.context {
            parse(context, "context: ")?;
        }
    }
    let prefilter = Prefilter::new(required);
    Ok(Compiled {
        regexes: entries.iter().map(|_| OnceLock::new()).collect(),
        contexts: entries.iter().map(|_| OnceLock::new()).collect(),
        prefilter,
        entries,
    })
}

/// All known messages. Parsed and compiled on first use, then cached.
pub fn knowledge_base() -> Result<&'static [Entry], KbError> {
    compiled().map(|kb| kb.entries.as_slice())
}

/// At most this many occurrences of one entry's pattern are weighed.
const MAX_OCCURRENCES: usize = 64;

/// Recognise the messages in `text` (one message, or a whole pasted log or stack trace).
///
/// Returns the best matches first: a higher entry priority first, then an entry whose
/// `context` (the library's namespace) matched, then the match with more fixed
/// (non-variable) text, which prefers the most specific message and the library whose
/// exception class name is in the message. Of the occurrences of one pattern the one with
/// most fixed text counts (the last of equals: a trace ends with the root cause, and a
/// Python traceback quotes the `raise` line before the exception). Matches overlapping a
/// better one are dropped, as are repetitions of a better match's text (the `raise` line,
/// a wrapper quoting its cause) and a second match of the same library on the same line;
/// each entry appears at most once. An empty vector means the text is unknown (or the
/// knowledge base is broken, which the tests rule out).
pub fn match_error(text: &str) -> Vec<ErrorMatch> {
    match_error_in(text, text)
}

/// [`match_error`] on `text`, with entries' `context` looked up in `evidence` instead:
/// the text as the user gave it, before secrets and personal data were masked in `text`.
/// Masking can hide a namespace (a dotted exception class looks like a random string),
/// and a context only decides which library printed the message: nothing of `evidence`
/// reaches the matches.
pub fn match_error_in(text: &str, evidence: &str) -> Vec<ErrorMatch> {
    match_with(text, evidence, true)
}

/// [`match_error_in`], trying only the patterns the prefilter allows, or (for the tests
/// that show it changes nothing) every pattern.
fn match_with(text: &str, evidence: &str, prefiltered: bool) -> Vec<ErrorMatch> {
    let Ok(kb) = compiled() else {
        return Vec::new();
    };
    let cleaned = prepare(text);
    // The evidence as given too (bounded, escapes kept): a namespace is evidence however
    // the log spelled it.
    let raw = bound(evidence);
    let evidence = if evidence == text {
        Cow::Borrowed(cleaned.as_str())
    } else {
        Cow::Owned(prepare(evidence))
    };

    struct Candidate<'h> {
        index: usize,
        start: usize,
        end: usize,
        fixed: usize,
        in_context: bool,
        caps: regex::Captures<'h>,
    }

    let mut candidates = Vec::new();
    let possible = if prefiltered {
        kb.prefilter.candidates(&cleaned)
    } else {
        vec![true; kb.entries.len()]
    };
    for index in (0..kb.entries.len()).filter(|&i| possible[i]) {
        let in_context = match kb.context_matches(index, &[&evidence, &raw]) {
            Some(false) => continue,
            Some(true) => true,
            None => false,
        };
        let Some(regex) = kb.regex(index) else {
            continue;
        };
        let mut best: Option<Candidate> = None;
        for caps in regex.captures_iter(&cleaned).take(MAX_OCCURRENCES) {
            let Some(whole) = caps.get(0) else {
                continue;
            };
            if whole.is_empty() {
                continue;
            }
            let variable: usize = regex
                .capture_names()
                .flatten()
                .filter_map(|name| caps.name(name))
                .map(|m| m.len())
                .sum();
            let fixed = whole.len().saturating_sub(variable);
            if best.as_ref().is_some_and(|b| b.fixed > fixed) {
                continue;
            }
            best = Some(Candidate {
                index,
                start: whole.start(),
                end: whole.end(),
                fixed,
                in_context,
                caps,
            });
        }
        candidates.extend(best);
    }
    candidates.sort_by(|a, b| {
        let pa = kb.entries[a.index].priority;
        let pb = kb.entries[b.index].priority;
        pb.cmp(&pa)
            .then(b.in_context.cmp(&a.in_context))
            .then(b.fixed.cmp(&a.fixed))
            .then(a.index.cmp(&b.index))
    });

    let mut taken: Vec<(usize, usize)> = Vec::new();
    let mut taken_texts: Vec<String> = Vec::new();
    let mut library_lines: HashSet<(&str, usize)> = HashSet::new();
    let mut matches = Vec::new();
    for candidate in candidates {
        if taken
            .iter()
            .any(|&(start, end)| candidate.start < end && start < candidate.end)
        {
            continue;
        }
        let matched = &cleaned[candidate.start..candidate.end];
        let lower = matched.to_lowercase();
        if taken_texts.iter().any(|t| t.contains(&lower)) {
            continue;
        }
        let entry = &kb.entries[candidate.index];
        let line = 1 + cleaned[..candidate.start].matches('\n').count();
        if !library_lines.insert((entry.library.as_str(), line)) {
            continue;
        }
        taken.push((candidate.start, candidate.end));
        taken_texts.push(lower);
        let Some(regex) = kb.regex(candidate.index) else {
            continue;
        };
        matches.push(ErrorMatch {
            entry,
            matched_text: matched.to_string(),
            line,
            expected: extract(regex, &candidate.caps),
        });
    }
    matches
}

/// Bound the input, undo JSON string escapes, remove terminal colour codes and normalise
/// line ends.
fn prepare(text: &str) -> String {
    let bounded = bound(text);
    let unescaped = json_unescape(&bounded);
    let stripped = strip_ansi(&unescaped);
    if stripped.contains('\r') {
        stripped.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        stripped
    }
}

/// Undo JSON string escapes (`\u0027`, `\"`, `\n`, `\t`, `\\`, `\/`) when the text was
/// copied out of a JSON log: a message quoted there reads like the plain one. Text is
/// taken as JSON-escaped only when it holds an escaped quote or a `\uXXXX` escape, so a
/// plain trace with a Windows path (`C:\new\tmp`) is left alone. An escape that does not
/// decode (a lone surrogate) is kept as written.
fn json_unescape(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let hex4 = |at: usize| -> Option<u32> {
        let digits = text.get(at..at + 4)?;
        if digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            u32::from_str_radix(digits, 16).ok()
        } else {
            None
        }
    };
    let escaped = bytes.windows(2).enumerate().any(|(i, pair)| {
        pair[0] == b'\\' && (pair[1] == b'"' || (pair[1] == b'u' && hex4(i + 2).is_some()))
    });
    if !escaped {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        let (decoded, used): (Option<char>, usize) = match bytes[i + 1] {
            b'"' => (Some('"'), 2),
            b'\\' => (Some('\\'), 2),
            b'/' => (Some('/'), 2),
            b'n' => (Some('\n'), 2),
            b't' => (Some('\t'), 2),
            b'r' => (Some('\r'), 2),
            b'u' => match hex4(i + 2) {
                Some(high @ 0xD800..=0xDBFF) => {
                    let low = (text.get(i + 6..i + 8) == Some("\\u"))
                        .then(|| hex4(i + 8))
                        .flatten()
                        .filter(|low| (0xDC00..=0xDFFF).contains(low));
                    match low {
                        Some(low) => (
                            char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)),
                            12,
                        ),
                        None => (None, 0),
                    }
                }
                Some(unit) => (char::from_u32(unit), 6),
                None => (None, 0),
            },
            _ => (None, 0),
        };
        match decoded {
            Some(c) => {
                out.push_str(&text[rest..i]);
                out.push(c);
                i += used;
                rest = i;
            }
            // Not an escape: keep the backslash and what follows it.
            None => i += if bytes[i + 1] == b'\\' { 2 } else { 1 },
        }
    }
    out.push_str(&text[rest..]);
    Cow::Owned(out)
}

fn floor_boundary(text: &str, mut index: usize) -> usize {
    while index > 0 && !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

fn ceil_boundary(text: &str, mut index: usize) -> usize {
    while index < text.len() && !text.is_char_boundary(index) {
        index += 1;
    }
    index
}

fn bound(text: &str) -> Cow<'_, str> {
    if text.len() <= MAX_INPUT_BYTES {
        return Cow::Borrowed(text);
    }
    let head_end = floor_boundary(text, MAX_INPUT_BYTES - TAIL_BYTES);
    let tail_start = ceil_boundary(text, text.len() - TAIL_BYTES);
    let mut out = String::with_capacity(MAX_INPUT_BYTES + 1);
    out.push_str(&text[..head_end]);
    out.push('\n');
    out.push_str(&text[tail_start..]);
    Cow::Owned(out)
}

/// Colour codes that were escaped into text (JSON logs: `\u001b[31m`, shell: `^[[31m`).
fn escaped_ansi() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"(?:\\u001[bB]|\\x1[bB]|\\033|\\e|\^\[)\[[0-9;]*[A-Za-z]").ok())
        .as_ref()
}

/// Remove ANSI escape sequences: CSI (`ESC [ ... final`), OSC (`ESC ] ... BEL|ST`) and
/// two-byte escapes, plus their escaped spellings.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('[') => {
                // Parameters and intermediates, then one final byte in @..~.
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            Some(']') => {
                while let Some(c) = chars.next() {
                    if c == '\u{7}' {
                        break;
                    }
                    if c == '\u{1b}' {
                        if chars.peek() == Some(&'\\') {
                            chars.next();
                        }
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    let replaced = escaped_ansi().and_then(|re| match re.replace_all(&out, "") {
        Cow::Owned(replaced) => Some(replaced),
        Cow::Borrowed(_) => None,
    });
    replaced.unwrap_or(out)
}

/// What a named capture group holds.
enum Slot {
    Aud,
    Iss,
    Kid,
    Alg,
    Claim,
    Value,
    Scope,
    FoundAud,
    FoundIss,
    FoundAlg,
    FoundExp,
    FoundNbf,
    FoundIat,
    Now,
    KeysTried,
}

fn slot(name: &str) -> Option<Slot> {
    match name.trim_end_matches(|c: char| c.is_ascii_digit()) {
        "aud" => Some(Slot::Aud),
        "iss" => Some(Slot::Iss),
        "kid" => Some(Slot::Kid),
        "alg" => Some(Slot::Alg),
        "claim" => Some(Slot::Claim),
        "value" => Some(Slot::Value),
        "scope" => Some(Slot::Scope),
        "got_aud" => Some(Slot::FoundAud),
        "got_iss" => Some(Slot::FoundIss),
        "got_alg" => Some(Slot::FoundAlg),
        "got_exp" => Some(Slot::FoundExp),
        "got_nbf" => Some(Slot::FoundNbf),
        "got_iat" => Some(Slot::FoundIat),
        "now" => Some(Slot::Now),
        "keys_tried" => Some(Slot::KeysTried),
        _ => None,
    }
}

fn extract(regex: &Regex, caps: &regex::Captures<'_>) -> Expected {
    let mut expected = Expected::default();
    for name in regex.capture_names().flatten() {
        let (Some(slot), Some(value)) = (slot(name), caps.name(name)) else {
            continue;
        };
        let value = value.as_str();
        match slot {
            Slot::Aud => {
                let (patterns, values): (Vec<String>, Vec<String>) = split_list(value, false)
                    .into_iter()
                    .partition(|v| js_regex(v).is_some());
                push_all(&mut expected.aud, values);
                push_all(&mut expected.aud_patterns, patterns);
            }
            Slot::Iss => push_all(&mut expected.iss, split_list(value, false)),
            Slot::Alg => push_all(&mut expected.alg, split_list(value, false)),
            Slot::Claim => push_all(&mut expected.claims, split_list(value, false)),
            Slot::Value => {
                if expected.value.is_none() {
                    expected.value = clean_value(value);
                }
            }
            Slot::Scope => push_all(&mut expected.scopes, split_list(value, true)),
            Slot::FoundAud => push_all(&mut expected.found_aud, split_list(value, false)),
            Slot::FoundIss => push_all(&mut expected.found_iss, split_list(value, false)),
            Slot::FoundAlg => push_all(&mut expected.found_alg, split_list(value, false)),
            Slot::Kid => {
                if expected.kid.is_none() {
                    expected.kid = clean_value(value);
                }
            }
            Slot::FoundExp => set_once(&mut expected.found_exp, value),
            Slot::FoundNbf => set_once(&mut expected.found_nbf, value),
            Slot::FoundIat => set_once(&mut expected.found_iat, value),
            Slot::Now => set_once(&mut expected.server_now, value),
            Slot::KeysTried => push_all(&mut expected.keys_tried, key_ids(value)),
        }
    }
    expected
}

/// The `KeyId:` values of an IdentityModel `Keys tried:` list: `KeyId: 'k1'` (the key's
/// own text) and `KeyId: k1` (the summary after it); empty and placeholder ids are
/// dropped.
fn key_ids(list: &str) -> Vec<String> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    let Some(re) = RE
        .get_or_init(|| Regex::new(r"(?i)\bKeyId: (?:'([^'\r\n]*)'|([^\s',]+))").ok())
        .as_ref()
    else {
        return Vec::new();
    };
    let mut ids = Vec::new();
    for caps in re.captures_iter(list) {
        let raw = caps
            .get(1)
            .or_else(|| caps.get(2))
            .map_or("", |m| m.as_str());
        if let Some(id) = clean_value(raw)
            && !ids.contains(&id)
        {
            ids.push(id);
        }
    }
    ids
}

fn set_once(into: &mut Option<QuotedTime>, value: &str) {
    if into.is_none() {
        *into = QuotedTime::parse(value);
    }
}

fn push_all(into: &mut Vec<String>, values: Vec<String>) {
    for value in values {
        if !into.contains(&value) {
            into.push(value);
        }
    }
}

/// Split a quoted list the way the libraries print them: `a or b` (node jsonwebtoken),
/// `a, b` (IdentityModel, aws-jwt-verify, Nimbus), `a,b` (JavaScript arrays), `[a, b]`
/// (Java collections), `["a" "b"]` (Go's `%q` of a `[]string`: go-oidc, Kubernetes) and,
/// for scopes, `a b`.
fn split_list(raw: &str, split_whitespace: bool) -> Vec<String> {
    let without_pii = remove_pii_placeholders(raw);
    let trimmed = without_pii.trim();
    let inner = trimmed
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(trimmed);
    let mut values = Vec::new();
    for part in split_or(inner) {
        for piece in part.split(',') {
            if let Some(items) = go_quoted_list(piece) {
                values.extend(items.into_iter().filter_map(clean_value));
            } else if split_whitespace {
                values.extend(piece.split_whitespace().filter_map(clean_value));
            } else if let Some(value) = clean_value(piece) {
                values.push(value);
            }
        }
    }
    values
}

/// The items of a Go `%q` list body, `"a" "b"`: two or more double-quoted strings
/// separated by spaces (a quoted value may hold a backslash escape); `None` for
/// anything else, a single quoted value included.
fn go_quoted_list(text: &str) -> Option<Vec<&str>> {
    let mut items = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let body = rest.strip_prefix('"')?;
        let mut end = None;
        let mut escaped = false;
        for (i, c) in body.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let end = end?;
        items.push(&body[..end]);
        let after = &body[end + 1..];
        rest = after.trim_start();
        if !rest.is_empty() && rest.len() == after.len() {
            // Two quoted values with nothing between them: not a Go list.
            return None;
        }
    }
    (items.len() >= 2).then_some(items)
}

/// Remove IdentityModel's `[PII of type '...' is hidden. For more details, see ...]`
/// placeholders, which contain commas and quotes of their own.
fn remove_pii_placeholders(raw: &str) -> Cow<'_, str> {
    let lower = raw.to_ascii_lowercase();
    if !lower.contains("[pii") {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = 0;
    while let Some(found) = lower[rest..].find("[pii") {
        let start = rest + found;
        out.push_str(&raw[rest..start]);
        match lower[start..].find(']') {
            Some(close) => rest = start + close + 1,
            None => {
                rest = raw.len();
                break;
            }
        }
    }
    out.push_str(&raw[rest..]);
    Cow::Owned(out)
}

/// Split on the word "or" surrounded by spaces, case-insensitively.
fn split_or(text: &str) -> Vec<&str> {
    let lower = text.to_ascii_lowercase();
    let mut parts = Vec::new();
    let mut start = 0;
    let mut search = 0;
    while let Some(found) = lower[search..].find(" or ") {
        let at = search + found;
        parts.push(&text[start..at]);
        start = at + 4;
        search = start;
    }
    parts.push(&text[start..]);
    parts
}

const OPENERS: [char; 4] = ['[', '(', '{', '<'];
const CLOSERS: [char; 4] = [']', ')', '}', '>'];

/// Trim quotes, brackets and trailing punctuation from a quoted value; drop placeholders
/// (`null`, IdentityModel's `[PII ... is hidden]`, .NET type names).
fn clean_value(raw: &str) -> Option<String> {
    if raw.to_ascii_lowercase().contains("[pii") {
        return None;
    }
    let mut value = raw.trim();
    loop {
        let before = value;
        if let (Some(first), Some(last)) = (value.chars().next(), value.chars().last())
            && let Some(kind) = OPENERS.iter().position(|&c| c == first)
            && CLOSERS[kind] == last
            && value.len() >= 2
        {
            value = &value[first.len_utf8()..value.len() - last.len_utf8()];
        }
        value = value
            .trim_start_matches(['\'', '"', '`'])
            .trim_end_matches(['.', '\'', '"', '`', ',', ';', '\\'])
            .trim();
        if let Some(last) = value.chars().last()
            && let Some(kind) = CLOSERS.iter().position(|&c| c == last)
        {
            let opener = OPENERS[kind];
            if value.matches(opener).count() < value.matches(last).count() {
                value = &value[..value.len() - last.len_utf8()];
            }
        }
        if let Some(first) = value.chars().next()
            && let Some(kind) = OPENERS.iter().position(|&c| c == first)
        {
            let closer = CLOSERS[kind];
            if value.matches(closer).count() < value.matches(first).count() {
                value = &value[first.len_utf8()..];
            }
        }
        if value == before {
            break;
        }
    }
    let lower = value.to_ascii_lowercase();
    let placeholder = matches!(
        lower.as_str(),
        "" | "null" | "(null)" | "undefined" | "none" | "nil" | "<nil>" | "empty" | "[]"
    ) || lower.starts_with("pii of type")
        || lower.starts_with("system.");
    (!placeholder).then(|| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every finding code jwtai defines: the checks' registry is the one source.
    fn finding_codes() -> Vec<&'static str> {
        crate::checks::registry().map(|s| s.code).collect()
    }

    fn kb() -> &'static [Entry] {
        match knowledge_base() {
            Ok(entries) => entries,
            Err(e) => panic!("knowledge base does not load: {e}"),
        }
    }

    fn first(text: &str) -> ErrorMatch {
        match match_error(text).into_iter().next() {
            Some(m) => m,
            None => panic!("no match for {text:?}"),
        }
    }

    #[test]
    fn knowledge_base_loads_with_enough_entries() {
        let entries = kb();
        assert!(entries.len() >= 80, "only {} entries", entries.len());
        assert!(entries.len() >= 90, "only {} entries", entries.len());
    }

    #[test]
    fn entries_are_complete() {
        for entry in kb() {
            assert!(!entry.library.trim().is_empty(), "{}: no library", entry.id);
            assert!(!entry.source.trim().is_empty(), "{}: no source", entry.id);
            assert!(!entry.meaning.trim().is_empty(), "{}: no meaning", entry.id);
            assert!(entry.pattern.starts_with("(?i)"), "{}: not (?i)", entry.id);
            assert!(
                entry
                    .id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{}: id is not kebab-case",
                entry.id
            );
        }
    }

    #[test]
    fn every_code_is_a_finding_code() {
        for entry in kb() {
            for code in &entry.codes {
                assert!(
                    finding_codes().contains(&code.as_str()),
                    "{}: unknown code {code}",
                    entry.id
                );
            }
            let mut unique = entry.codes.clone();
            unique.dedup();
            assert_eq!(
                unique.len(),
                entry.codes.len(),
                "{}: repeated code",
                entry.id
            );
        }
    }

    #[test]
    fn every_finding_code_has_a_topic() {
        for code in finding_codes() {
            let topic = Topic::of_code(code);
            let expected_other = matches!(
                code,
                "pii-in-claims"
                    | "secret-in-claims"
                    | "service-role-key"
                    | "error-text-matched"
                    | "error-text-unknown"
            );
            assert_eq!(topic == Topic::Other, expected_other, "{code}: {topic:?}");
        }
    }

    #[test]
    fn every_example_matches_its_own_pattern() {
        let compiled = match compiled() {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        for (index, entry) in compiled.entries.iter().enumerate() {
            let regex = match build(&entry.pattern) {
                Ok(regex) => regex,
                Err(e) => panic!("{}: {e}", entry.id),
            };
            if let Some(context) = &entry.context
                && let Err(e) = build(context)
            {
                panic!("{}: context: {e}", entry.id);
            }
            assert!(
                compiled.prefilter.candidates(&entry.example)[index],
                "{}: the prefilter skips the entry's own example",
                entry.id
            );
            assert!(
                regex.is_match(&entry.example),
                "{}: example does not match its pattern",
                entry.id
            );
        }
    }

    /// The prefilter only saves time: on every example, on examples run together, in
    /// other cases and with the characters that case-fold onto ASCII letters, the matches
    /// are those of trying every pattern.
    #[test]
    fn the_prefilter_changes_no_match() {
        let summary = |matches: Vec<ErrorMatch>| -> Vec<(String, String, usize)> {
            matches
                .into_iter()
                .map(|m| (m.entry.id.clone(), m.matched_text, m.line))
                .collect()
        };
        let examples: Vec<&str> = kb().iter().map(|e| e.example.as_str()).collect();
        let mut texts: Vec<String> = Vec::new();
        for example in &examples {
            texts.push(example.to_string());
            texts.push(example.to_uppercase());
            texts.push(
                example
                    .replace(['k', 'K'], "\u{212A}")
                    .replace(['s', 'S'], "\u{017F}"),
            );
        }
        for group in examples.chunks(7) {
            texts.push(group.join("\n"));
        }
        texts.push("Caused by: something else entirely".to_string());
        let mut matched = 0;
        for text in &texts {
            let filtered = summary(match_with(text, text, true));
            matched += usize::from(!filtered.is_empty());
            assert_eq!(filtered, summary(match_with(text, text, false)), "{text}");
        }
        assert!(
            matched > 2 * examples.len(),
            "{matched} of {} texts matched",
            texts.len()
        );
    }

    #[test]
    fn every_example_is_recognised_as_its_entry() {
        for entry in kb() {
            let best = first(&entry.example);
            assert!(
                best.entry.id == entry.id || best.entry.codes == entry.codes,
                "{}: example matched {} first ({:?} vs {:?})",
                entry.id,
                best.entry.id,
                best.entry.codes,
                entry.codes
            );
        }
    }

    #[test]
    fn every_example_names_its_own_library() {
        // A shared message's entry names every library that prints it, so a library's
        // own example is never attributed to another library.
        let mut wrong = Vec::new();
        for entry in kb() {
            let best = first(&entry.example);
            if best.entry.library != entry.library {
                wrong.push(format!(
                    "{} ({}) -> {} ({})",
                    entry.id, entry.library, best.entry.id, best.entry.library
                ));
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn a_shared_message_without_its_class_names_every_library_that_prints_it() {
        let cases: &[(&str, &[&str])] = &[
            (
                "Signature verification failed",
                &[
                    "PyJWT",
                    "python-jose",
                    "Ruby jwt",
                    "firebase/php-jwt",
                    "jose (panva)",
                ],
            ),
            (
                "error: signature verification failed",
                &[
                    "PyJWT",
                    "python-jose",
                    "Ruby jwt",
                    "firebase/php-jwt",
                    "jose (panva)",
                ],
            ),
            (
                "Signature has expired",
                &["PyJWT", "python-jose", "Ruby jwt"],
            ),
            ("Jwt is expired", &["Envoy", "njwt"]),
            ("The token is expired", &["lcobucci/jwt", "Authlib"]),
            ("Expired token", &["firebase/php-jwt", "hapi-auth-jwt2"]),
        ];
        for (text, libraries) in cases {
            let m = first(text);
            for library in *libraries {
                assert!(m.library().contains(library), "{text}: {}", m.library());
            }
        }
    }

    #[test]
    fn the_exception_class_or_namespace_decides_the_library() {
        let cases: &[(&str, &str)] = &[
            ("JWT::ExpiredSignature: Signature has expired", "Ruby jwt"),
            (
                "E, [2025-10-09T08:53:20 #1] ERROR -- : JWT::ExpiredSignature (Signature has expired):",
                "Ruby jwt",
            ),
            (
                "JWT::VerificationError: Signature verification failed",
                "Ruby jwt",
            ),
            (
                "jwt.exceptions.ExpiredSignatureError: Signature has expired",
                "PyJWT",
            ),
            ("ExpiredSignatureError: Signature has expired", "PyJWT"),
            (
                "jose.exceptions.ExpiredSignatureError: Signature has expired.",
                "python-jose",
            ),
            (
                "jwt.exceptions.InvalidSignatureError: Signature verification failed",
                "PyJWT",
            ),
            (
                "Firebase\\JWT\\SignatureInvalidException: Signature verification failed",
                "firebase/php-jwt",
            ),
            (
                "Firebase\\JWT\\ExpiredException: Expired token",
                "firebase/php-jwt",
            ),
            (
                "authlib.jose.errors.ExpiredTokenError: expired_token: The token is expired",
                "Authlib or joserfc",
            ),
            (
                "authlib.jose.errors.InvalidTokenError: invalid_token: The token is not valid yet",
                "Authlib",
            ),
            (
                "PHP Fatal error:  Uncaught Lcobucci\\JWT\\Validation\\RequiredConstraintsViolated: The token violates some mandatory constraints, details:\n- The token is expired in /var/www/vendor/lcobucci/jwt/src/Validation/RequiredConstraintsViolated.php:24",
                "lcobucci/jwt",
            ),
            (
                "2025-10-09T08:53:20.123Z\tdebug\tenvoy jwt\tjwt_authn: Jwt authentication completed with: Jwt is expired",
                "Envoy/Istio jwt_authn",
            ),
            ("JwtParseError: Jwt is expired", "njwt"),
            (
                "token has invalid claims: token is missing required claim: exp claim is required",
                "golang-jwt",
            ),
            ("Invalid audience. Expected api, received other", "Ruby jwt"),
        ];
        for (text, library) in cases {
            assert_eq!(first(text).library(), *library, "{text}");
        }
        // ASP.NET Core JwtBearer prints "The token expired at '...'", never the Authlib or
        // lcobucci texts.
        assert_ne!(
            first("The token is expired").library(),
            "ASP.NET Core JwtBearer"
        );
        assert_ne!(
            first("invalid_token: The token is not valid yet").library(),
            "ASP.NET Core JwtBearer"
        );
        let m = first(
            "token has invalid claims: token is missing required claim: exp claim is required",
        );
        assert_eq!(m.expected.claims, ["exp"]);
        let m = first(
            "JWT::InvalidAudError: Invalid audience. Expected [\"api\", \"web\"], received <none>",
        );
        assert_eq!(m.expected.aud, ["api", "web"]);
        assert!(m.expected.found_aud.is_empty(), "{:?}", m.expected);
        let m = first("Invalid audience. Expected api, received other");
        assert_eq!(m.expected.aud, ["api"]);
        assert_eq!(m.expected.found_aud, ["other"]);
    }

    #[test]
    fn a_masked_namespace_still_decides_through_the_original_text() {
        // Masking secrets turns the dotted class name into a placeholder; the context is
        // looked up in the text as given, and nothing of it reaches the match.
        let masked = "«masked:secret»: Signature has expired";
        let given = "jwt.exceptions.ExpiredSignatureError: Signature has expired";
        assert_eq!(
            first(masked).library(),
            "PyJWT, python-jose or Ruby jwt",
            "without evidence the message is shared"
        );
        let m = match match_error_in(masked, given).into_iter().next() {
            Some(m) => m,
            None => panic!("no match"),
        };
        assert_eq!(m.library(), "PyJWT");
        assert!(
            !m.matched_text.contains("jwt.exceptions"),
            "{}",
            m.matched_text
        );
    }

    #[test]
    fn go_jose_texts_name_go_jose_not_pyjwt_or_golang_jwt() {
        // v2 (square/go-jose), v3/v4 (go-jose/go-jose), and the bare text an app
        // gets after trimming the prefix; "validation field" is go-jose's typo.
        let cases: &[(&str, &str)] = &[
            (
                "square/go-jose/jwt: validation failed, token is expired (exp)",
                "expired",
            ),
            (
                "go-jose/go-jose/jwt: validation failed, token is expired (exp)",
                "expired",
            ),
            (
                "square/go-jose/jwt: validation failed, invalid issuer claim (iss)",
                "issuer-mismatch",
            ),
            ("invalid issuer claim (iss)", "issuer-mismatch"),
            (
                "expected claims not validated: go-jose/go-jose/jwt: validation failed, invalid audience claim (aud)",
                "audience-mismatch",
            ),
            (
                "square/go-jose/jwt: validation failed, token not valid yet (nbf)",
                "not-yet-valid",
            ),
            (
                "square/go-jose/jwt: validation field, token issued in the future (iat)",
                "issued-in-future",
            ),
            (
                "go-jose/go-jose/jwt: validation field, token issued in the future (iat)",
                "issued-in-future",
            ),
            (
                "square/go-jose: error in cryptographic primitive",
                "signature-invalid",
            ),
            (
                "square/go-jose: compact JWS format must have three parts",
                "jwe-token",
            ),
            (
                "square/go-jose/jwt: expected number value to unmarshal NumericDate",
                "timestamp-not-numeric",
            ),
            (
                "square/go-jose/jwt: expected string or array value to unmarshal to Audience",
                "claim-mismatch",
            ),
            (
                "go-jose/go-jose: JWK with matching kid not found in JWK Set",
                "kid-not-found",
            ),
        ];
        for (text, code) in cases {
            let m = first(text);
            assert_eq!(m.library(), "go-jose", "{text}: {}", m.entry.id);
            assert_eq!(m.codes()[0], *code, "{text}");
        }
        // The other libraries keep their own texts.
        assert_eq!(
            first("token has invalid claims: token is expired").library(),
            "golang-jwt"
        );
        assert_eq!(
            first("jwt.exceptions.InvalidIssuerError: Invalid issuer").library(),
            "PyJWT"
        );
        let m =
            first(r#"go-jose/go-jose: unexpected signature algorithm "HS256"; expected ["RS256"]"#);
        assert_eq!(m.expected.found_alg, ["HS256"]);
        assert_eq!(m.expected.alg, ["RS256"]);
        let m = first(r#"unexpected signature algorithm "HS512"; expected ["RS256" "ES256"]"#);
        assert_eq!(m.expected.found_alg, ["HS512"]);
        assert!(m.expected.alg.is_empty(), "{:?}", m.expected.alg);
    }

    #[test]
    fn the_ruby_jwt_namespace_decides_over_rust_jsonwebtoken() {
        // A Rails app logging `e.class.name` prints the class alone.
        let cases: &[(&str, &str)] = &[
            ("JWT::ExpiredSignature", "expired"),
            ("JWT::ImmatureSignature", "not-yet-valid"),
            ("JWT::VerificationError", "signature-invalid"),
            ("JWT::InvalidIssuerError", "issuer-mismatch"),
            ("JWT::InvalidAudError", "audience-mismatch"),
            ("JWT::InvalidIatError", "issued-in-future"),
            ("JWT::InvalidIatError: Invalid iat", "issued-in-future"),
            (
                "JWT::DecodeError: No key id (kid) found from token headers",
                "kid-missing",
            ),
            (
                "JWT::DecodeError: HMAC key expected to be a String",
                "alg-key-mismatch",
            ),
            (
                "JWT::IncorrectAlgorithm: payload algorithm is ES384 but ES256 verification key was provided",
                "alg-key-mismatch",
            ),
        ];
        for (text, code) in cases {
            let m = first(text);
            assert_eq!(m.library(), "Ruby jwt", "{text}: {}", m.entry.id);
            assert_eq!(m.codes()[0], *code, "{text}");
        }
        // Rust's Debug output keeps its attribution.
        assert_eq!(
            first("Error(ExpiredSignature)").library(),
            "Rust jsonwebtoken"
        );
        assert_eq!(
            first("ErrorKind::ImmatureSignature").library(),
            "Rust jsonwebtoken"
        );
        let m = first("JWT::DecodeError: Could not find public key for kid k9");
        assert_eq!(m.expected.kid.as_deref(), Some("k9"));
        assert_eq!(m.codes()[0], "kid-not-found");
        let m = first("JWT::MissingRequiredClaim: Missing required claim exp");
        assert_eq!(m.library(), "Ruby jwt");
        assert_eq!(m.expected.claims, ["exp"]);
        // Rust jsonwebtoken's own wording has a colon.
        let m = first("Missing required claim: exp");
        assert_eq!(m.library(), "Rust jsonwebtoken");
        let m = first("JWT::DecodeError: Invalid segment encoding");
        assert!(
            m.codes().iter().any(|c| c == "input-extracted"),
            "{:?}",
            m.codes()
        );
    }

    #[test]
    fn json_jwt_classes_are_recognised() {
        let cases: &[(&str, &str)] = &[
            (
                "JSON::JWS::VerificationFailed: JSON::JWS::VerificationFailed",
                "signature-invalid",
            ),
            (
                "JSON::JWS::UnexpectedAlgorithm: Unexpected alg header",
                "alg-not-allowed",
            ),
            (
                "JSON::JWS::UnexpectedAlgorithm: JSON::JWS::UnexpectedAlgorithm",
                "alg-none",
            ),
            (
                "JSON::JWT::InvalidFormat: Invalid JWT Format. JWT should include 3 or 5 segments.",
                "wrong-segment-count",
            ),
            (
                "JSON::JWK::Set::KidNotFound: JSON::JWK::Set::KidNotFound",
                "kid-not-found",
            ),
            (
                "JSON::JWT::InvalidFormat: Invalid JSON Format",
                "invalid-base64url",
            ),
        ];
        for (text, code) in cases {
            let m = first(text);
            assert_eq!(m.library(), "json-jwt", "{text}: {}", m.entry.id);
            assert_eq!(m.codes()[0], *code, "{text}");
        }
    }

    #[test]
    fn go_standard_library_texts_do_not_steal_the_libraries_own() {
        let m = first("illegal base64 data at input byte 56");
        assert!(
            m.library().starts_with("Go standard library"),
            "{}",
            m.library()
        );
        assert!(m.library().contains("golang-jwt") && m.library().contains("go-jose"));
        assert_eq!(m.entry.topic(), Topic::Malformed);
        assert!(m.codes().iter().any(|c| c == "input-extracted"));
        // golang-jwt's wrapper names the segment: it stays golang-jwt's.
        let m = first(
            "token is malformed: could not base64 decode header: illegal base64 data at input byte 6",
        );
        assert_eq!(m.entry.id, "golang-jwt-b64-header");
        assert_eq!(first("unexpected EOF").codes()[0], "invalid-json");
        assert_eq!(
            first("unexpected end of JSON input").codes()[0],
            "invalid-json"
        );
        assert_eq!(
            first("invalid character 'x' looking for beginning of value").codes()[0],
            "invalid-json"
        );
        // HTML where JSON was expected is a key set (or discovery) answer.
        assert_eq!(
            first("invalid character '<' looking for beginning of value").codes()[0],
            "jwks-invalid"
        );
        // The Go texts are the inner cause: any library text wins.
        let m =
            first("oidc: malformed jwt: square/go-jose: compact JWS format must have three parts");
        assert_eq!(m.library(), "go-jose");
    }

    #[test]
    fn a_python_traceback_is_attributed_by_its_last_line_once() {
        let trace = r#"Traceback (most recent call last):
  File "/app/venv/lib/python3.11/site-packages/jwt/api_jws.py", line 446, in _verify_signature
    raise InvalidSignatureError("Signature verification failed")
jwt.exceptions.InvalidSignatureError: Signature verification failed
"#;
        let matches = match_error(trace);
        assert_eq!(matches.len(), 1, "{matches:?}");
        assert_eq!(matches[0].library(), "PyJWT");
        assert_eq!(matches[0].line, 4);
    }

    #[test]
    fn lcobucci_reports_every_violated_constraint() {
        let text = "Lcobucci\\JWT\\Validation\\RequiredConstraintsViolated: The token violates some mandatory constraints, details:\n- The token was not issued by the given issuers\n- The token is not allowed to be used by this audience";
        let ids: Vec<&str> = match_error(text)
            .iter()
            .map(|m| m.entry.id.as_str())
            .collect();
        assert!(ids.contains(&"lcobucci-issued-by"), "{ids:?}");
        assert!(ids.contains(&"lcobucci-permitted-for"), "{ids:?}");
        assert_ne!(ids[0], "lcobucci-constraints-violated", "{ids:?}");
    }

    #[test]
    fn common_gateway_and_library_messages_are_recognised() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "jwt.exceptions.InvalidAudienceError: Audience doesn't match",
                "PyJWT",
                "audience-mismatch",
            ),
            (
                "Jwt issuer is not configured",
                "Envoy/Istio jwt_authn",
                "issuer-mismatch",
            ),
            (
                "Audiences in Jwt are not allowed",
                "Envoy/Istio jwt_authn",
                "audience-mismatch",
            ),
            (
                "Jwt verification fails",
                "Envoy/Istio jwt_authn",
                "signature-invalid",
            ),
            ("Jwt is missing", "Envoy/Istio jwt_authn", "input-extracted"),
            (
                "Jwt not yet valid",
                "Envoy/Istio jwt_authn",
                "not-yet-valid",
            ),
            (
                "Jwks doesn't have key to match kid or alg from Jwt",
                "Envoy/Istio jwt_authn",
                "kid-not-found",
            ),
            (
                "IDX10503: Signature validation failed. Token does not have a kid. Keys tried: 'x'. Number of keys in TokenValidationParameters: '1'.",
                "Microsoft.IdentityModel",
                "signature-invalid",
            ),
            (
                "IDX10516: Signature validation failed. Unable to match key: \nkid: 'k1'.",
                "Microsoft.IdentityModel",
                "kid-not-found",
            ),
            (
                "IDX10204: Unable to validate issuer. validationParameters.ValidIssuer is null or whitespace AND validationParameters.ValidIssuers is null or empty.",
                "Microsoft.IdentityModel",
                "error-text-matched",
            ),
            (
                "IDX10603: The algorithm: 'HS256' requires the SecurityKey.KeySize to be greater than '128' bits. KeySize reported: '96'.",
                "Microsoft.IdentityModel",
                "key-too-weak",
            ),
            (
                "UnexpectedValueException: Wrong number of segments",
                "firebase/php-jwt",
                "wrong-segment-count",
            ),
            (
                "Firebase\\JWT\\BeforeValidException: Cannot handle token with nbf prior to 2024-01-15T10:30:00+0000",
                "firebase/php-jwt",
                "not-yet-valid",
            ),
            (
                "\"kid\" invalid, unable to lookup correct key",
                "firebase/php-jwt",
                "kid-not-found",
            ),
            (
                "{\"message\":\"No credentials found for given 'iss'\"}",
                "Kong jwt plugin",
                "issuer-mismatch",
            ),
            ("{\"exp\":\"token expired\"}", "Kong jwt plugin", "expired"),
            (
                "authlib.jose.errors.InvalidClaimError: invalid_claim: Invalid claim \"aud\"",
                "Authlib or joserfc",
                "audience-mismatch",
            ),
            (
                "authlib.jose.errors.MissingClaimError: missing_claim: Missing \"exp\" claim",
                "Authlib or joserfc",
                "missing-claim",
            ),
            (
                "authlib.jose.errors.BadSignatureError: bad_signature: ",
                "Authlib or joserfc",
                "signature-invalid",
            ),
            (
                "- The token cannot be used yet",
                "lcobucci/jwt",
                "not-yet-valid",
            ),
            (
                "- Token signature mismatch",
                "lcobucci/jwt",
                "signature-invalid",
            ),
            (
                "JWT::DecodeError: Not enough or too many segments",
                "Ruby jwt",
                "wrong-segment-count",
            ),
            (
                "JWT::ImmatureSignature: Signature nbf has not been reached",
                "Ruby jwt",
                "not-yet-valid",
            ),
            (
                "JWT::IncorrectAlgorithm: Expected a different algorithm",
                "Ruby jwt",
                "alg-not-allowed",
            ),
            (
                "NotAuthorizedException: Access Token has expired",
                "Amazon Cognito API",
                "expired",
            ),
            (
                "{\"message\":\"The incoming token has expired\"}",
                "AWS API Gateway (Cognito authorizer)",
                "expired",
            ),
            (
                "{\"message\":\"Unauthorized\"}",
                "AWS API Gateway or Kong",
                "error-text-matched",
            ),
            ("JwtExpiredError", "aws-jwt-verify (Cognito)", "expired"),
            ("code: 'ERR_JWT_EXPIRED'", "jose (panva)", "expired"),
            (
                "code: 'ERR_JWKS_NO_MATCHING_KEY'",
                "jose (panva)",
                "kid-not-found",
            ),
            ("exp not satisfied", "lestrrat-go/jwx", "expired"),
            ("iss not satisfied", "lestrrat-go/jwx", "issuer-mismatch"),
        ];
        for (text, library, code) in cases {
            let m = first(text);
            assert_eq!(m.library(), *library, "{text}");
            assert_eq!(m.codes()[0], *code, "{text}");
        }
        let m = first("{\"message\":\"Unauthorized\"}");
        assert!(m.entry.meaning.contains("logs"), "{}", m.entry.meaning);
    }

    #[test]
    fn quoted_instants_are_read_in_the_libraries_formats() {
        let at = |raw: &str| match QuotedTime::parse(raw) {
            Some(q) => q,
            None => panic!("{raw} is not read"),
        };
        // 2024-01-15T10:30:00Z
        let t = 1_705_314_600;
        assert_eq!(at("2024-01-15T10:30:00Z").unix, t);
        assert_eq!(at("2024-01-15T10:30:00.000Z.").unix, t);
        assert_eq!(at("2024-01-15T10:30:00+0000").unix, t);
        assert_eq!(at("2024-01-15T11:30:00+01:00").unix, t);
        assert_eq!(at("1705314600").unix, t);
        assert_eq!(at("1705314600000").unix, t);
        assert!(at("2024-01-15T10:30:00Z").zoned);
        // An HTTP date (Clerk).
        assert_eq!(at("Mon, 15 Jan 2024 10:30:00 GMT").unix, t);
        // .NET: invariant culture and en-US.
        assert_eq!(at("01/15/2024 10:30:00").unix, t);
        assert_eq!(at("1/15/2024 10:30:00 AM").unix, t);
        assert_eq!(at("1/15/2024 10:30:00 PM").unix, t + 12 * 3600);
        assert_eq!(at("1/15/2024 12:05:00 AM").unix, t - 10 * 3600 - 25 * 60);
        assert!(!at("01/15/2024 10:30:00").zoned);
        // Day and month both under 13: either reading may be the one.
        let q = at("10/8/2025 6:06:40 AM");
        assert_eq!(q.unix, 1_759_903_600);
        assert_eq!(q.other_reading, Some(1_754_806_000));
        assert!(q.can_be(1_754_806_000));
        assert!(q.can_be(1_759_903_600));
        assert!(!q.can_be(1_760_003_600));
        // A zoneless text may be local time: whole quarter hours away is no proof.
        assert!(at("01/15/2024 10:30:00").can_be(t + 2 * 3600));
        assert!(!at("2024-01-15T10:30:00Z").can_be(t + 2 * 3600));
        assert!(QuotedTime::parse("Mon Jan 15 10:30:00 UTC 2024").is_none());
        assert!(QuotedTime::parse("").is_none());
    }

    #[test]
    fn messages_quoting_times_fill_them_in() {
        let m = first(
            "IDX10223: Lifetime validation failed. The token is expired. ValidTo (UTC): '10/8/2025 6:06:40 AM', Current time (UTC): '10/9/2025 8:53:20 AM'.",
        );
        let x = &m.expected;
        assert_eq!(x.found_exp.as_ref().map(|q| q.unix), Some(1_759_903_600));
        assert_eq!(
            x.server_now.as_ref().map(|q| q.unix),
            Some(1_759_999_999 + 1)
        );
        let m = first(
            "io.jsonwebtoken.ExpiredJwtException: JWT expired 37255119 milliseconds ago at 2021-09-10T21:36:54.000Z. Current time: 2021-09-11T07:57:49.119Z. Allowed clock skew: 0 milliseconds.",
        );
        assert_eq!(
            m.expected.found_exp.as_ref().map(|q| q.unix),
            Some(1_631_309_814)
        );
        assert_eq!(
            m.expected.server_now.as_ref().map(|q| q.unix),
            Some(1_631_347_069)
        );
        let m = first(
            "Bearer error=\"invalid_token\", error_description=\"The token expired at '01/15/2024 10:30:00'\"",
        );
        assert_eq!(
            m.expected.found_exp.as_ref().map(|q| q.unix),
            Some(1_705_314_600)
        );
        let m = first("Cannot handle token with nbf prior to 2024-01-15T10:30:00+0000");
        assert_eq!(
            m.expected.found_nbf.as_ref().map(|q| q.unix),
            Some(1_705_314_600)
        );
        let m = first("Jwt expired at 2024-01-15T10:30:00Z");
        assert_eq!(
            m.expected.found_exp.as_ref().map(|q| q.unix),
            Some(1_705_314_600)
        );
    }

    #[test]
    fn a_regular_expression_audience_is_a_pattern_not_a_value() {
        let m = first(
            "JsonWebTokenError: jwt audience invalid. expected: /api.*/ or https://b.example.com",
        );
        assert_eq!(m.expected.aud, ["https://b.example.com"]);
        assert_eq!(m.expected.aud_patterns, ["/api.*/"]);
        let re = match js_regex("/^API$/i") {
            Some(re) => re,
            None => panic!("not read"),
        };
        assert!(re.is_match("api"));
        assert!(js_regex("/api/").is_none(), "a plain path is a value");
        assert!(js_regex("https://api.example.com/").is_none());
        assert!(js_regex("/api.*/x").is_none(), "x is no RegExp flag");
    }

    #[test]
    fn utf16_error_files_are_decoded() {
        let text = "IDX10223: Lifetime validation failed. The token is expired.\r\n";
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let with_bom = |bom: &[u8], body: &[u8]| [bom, body].concat();
        assert_eq!(decode_text(&with_bom(&[0xFF, 0xFE], &le)), text);
        assert_eq!(decode_text(&with_bom(&[0xFE, 0xFF], &be)), text);
        assert_eq!(decode_text(&le), text, "UTF-16LE without a BOM");
        assert_eq!(decode_text(&be), text, "UTF-16BE without a BOM");
        assert_eq!(
            decode_text(&with_bom(&[0xEF, 0xBB, 0xBF], text.as_bytes())),
            text
        );
        assert_eq!(decode_text(text.as_bytes()), text);
        assert_eq!(decode_text(b"caf\xe9"), "caf\u{fffd}");
        let m = first(&decode_text(&with_bom(&[0xFF, 0xFE], &le)));
        assert_eq!(m.entry.id, "identitymodel-idx10223-expired");
    }

    #[test]
    fn node_audience_single() {
        let m = first("JsonWebTokenError: jwt audience invalid. expected: https://api.example.com");
        assert_eq!(m.entry.id, "node-jsonwebtoken-audience-invalid");
        assert_eq!(m.expected.aud, ["https://api.example.com"]);
        assert_eq!(m.entry.codes[0], "audience-mismatch");
        assert_eq!(m.entry.topic(), Topic::Audience);
    }

    #[test]
    fn node_audience_list_is_split_on_or() {
        let m = first(
            "JsonWebTokenError: jwt audience invalid. expected: api://a or https://b.example.com/",
        );
        assert_eq!(m.expected.aud, ["api://a", "https://b.example.com/"]);
    }

    #[test]
    fn node_issuer_keeps_trailing_slash_and_drops_quotes() {
        let m = first(
            r#"{"level":"error","msg":"jwt issuer invalid. expected: https://auth.example.com/","code":401}"#,
        );
        assert_eq!(m.entry.id, "node-jsonwebtoken-issuer-invalid");
        assert_eq!(m.expected.iss, ["https://auth.example.com/"]);
        let m = first(
            "JsonWebTokenError: jwt issuer invalid. expected: https://a.example.com,https://b.example.com.",
        );
        assert_eq!(
            m.expected.iss,
            ["https://a.example.com", "https://b.example.com"]
        );
    }

    #[test]
    fn pyjwt_messages() {
        let m = first("jwt.exceptions.InvalidAudienceError: Invalid audience");
        assert_eq!(m.entry.id, "pyjwt-invalid-audience");
        assert!(m.expected.aud.is_empty());
        let m =
            first(r#"jwt.exceptions.MissingRequiredClaimError: Token is missing the "exp" claim"#);
        assert_eq!(m.expected.claims, ["exp"]);
        let m = first(
            r#"jwt.exceptions.PyJWKClientError: Unable to find a signing key that matches: "k-2024""#,
        );
        assert_eq!(m.entry.id, "pyjwt-jwks-kid-not-found");
        assert_eq!(m.expected.kid.as_deref(), Some("k-2024"));
        let m = first("jwt.exceptions.InvalidIssuerError: Invalid issuer");
        assert_eq!(m.entry.codes[0], "issuer-mismatch");
    }

    #[test]
    fn identitymodel_audiences_are_split() {
        let m = first(
            "Microsoft.IdentityModel.Tokens.SecurityTokenInvalidAudienceException: IDX10214: Audience validation failed. Audiences: 'api://wrong'. Did not match: validationParameters.ValidAudience: 'api://my-api' or validationParameters.ValidAudiences: 'api://my-api-2, https://api.example.com'.",
        );
        assert_eq!(m.entry.id, "identitymodel-idx10214-audience");
        assert_eq!(
            m.expected.aud,
            ["api://my-api", "api://my-api-2", "https://api.example.com"]
        );
        assert_eq!(m.expected.found_aud, ["api://wrong"]);
    }

    #[test]
    fn identitymodel_hidden_pii_and_null_are_dropped() {
        let m = first(
            "IDX10214: Audience validation failed. Audiences: '[PII of type 'System.String' is hidden. For more details, see https://aka.ms/IdentityModel/PII.]'. Did not match: validationParameters.ValidAudience: '[PII of type 'System.String' is hidden. For more details, see https://aka.ms/IdentityModel/PII.]' or validationParameters.ValidAudiences: 'null'.",
        );
        assert_eq!(m.entry.id, "identitymodel-idx10214-audience");
        assert!(m.expected.is_empty(), "{:?}", m.expected);
        let m = first(
            "IDX10205: Issuer validation failed. Issuer: 'https://sts.windows.net/t/'. Did not match: validationParameters.ValidIssuer: 'https://login.microsoftonline.com/t/v2.0' or validationParameters.ValidIssuers: 'null' or validationParameters.ConfigurationManager.CurrentConfiguration.Issuer: 'Null'.",
        );
        assert_eq!(m.expected.iss, ["https://login.microsoftonline.com/t/v2.0"]);
        assert_eq!(m.expected.found_iss, ["https://sts.windows.net/t/"]);
    }

    #[test]
    fn identitymodel_kid() {
        let m = first(
            "IDX10503: Signature validation failed. The token's kid is: 'nOo3ZDrODXEK1jKWhXslHR_KXEg', but did not match any keys in TokenValidationParameters or Configuration.",
        );
        assert_eq!(
            m.expected.kid.as_deref(),
            Some("nOo3ZDrODXEK1jKWhXslHR_KXEg")
        );
        assert_eq!(m.entry.codes[0], "kid-not-found");
    }

    #[test]
    fn jwks_rsa_kid() {
        let m = first("SigningKeyNotFoundError: Unable to find a signing key that matches 'abc'");
        assert_eq!(m.entry.id, "jwks-rsa-signing-key-not-found");
        assert_eq!(m.expected.kid.as_deref(), Some("abc"));
        assert_eq!(m.entry.topic(), Topic::Kid);
    }

    #[test]
    fn issuer_examples_from_several_libraries() {
        let cases: &[(&str, &[&str], &[&str])] = &[
            (
                "JWT iss claim has value https://a.example.com, must be https://a.example.com/",
                &["https://a.example.com/"],
                &["https://a.example.com"],
            ),
            (
                "issuer https://dev-1.okta.com does not match expected issuer: https://dev-1.okta.com/oauth2/default",
                &["https://dev-1.okta.com/oauth2/default"],
                &["https://dev-1.okta.com"],
            ),
            (
                "Issuer (iss) claim value (http://localhost:8080/realms/a) doesn't match expected value of http://keycloak:8080/realms/a]",
                &["http://keycloak:8080/realms/a"],
                &["http://localhost:8080/realms/a"],
            ),
            (
                "JwtInvalidIssuerError: Issuer not allowed: https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_x. Expected one of: https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_a, https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_b",
                &[
                    "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_a",
                    "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_b",
                ],
                &["https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_x"],
            ),
            (
                r#"Firebase ID token has incorrect "iss" (issuer) claim. Expected "https://securetoken.google.com/p1" but got "https://securetoken.google.com/p2"."#,
                &["https://securetoken.google.com/p1"],
                &["https://securetoken.google.com/p2"],
            ),
        ];
        for (text, iss, found) in cases {
            let m = first(text);
            assert_eq!(m.entry.topic(), Topic::Issuer, "{text}");
            assert_eq!(&m.expected.iss, iss, "{text}");
            assert_eq!(&m.expected.found_iss, found, "{text}");
        }
    }

    #[test]
    fn scopes_are_split() {
        let m = first(
            "JwtInvalidScopeError: Scope not allowed: openid. Expected one of: api/read, api/write",
        );
        assert_eq!(m.expected.scopes, ["api/read", "api/write"]);
        assert_eq!(m.entry.codes, ["scope-missing"]);
    }

    #[test]
    fn stack_trace_with_noise_matches_expiry() {
        let trace = "\
2024-01-15T10:30:00.123Z ERROR [api] request failed: GET /v1/orders 401
\u{1b}[31mTokenExpiredError: jwt expired\u{1b}[39m
    at /app/node_modules/jsonwebtoken/verify.js:190:21
    at getSecret (/app/node_modules/jsonwebtoken/verify.js:97:14)
    at Object.module.exports [as verify] (/app/node_modules/jsonwebtoken/verify.js:101:10)
    at authenticate (/app/src/middleware/auth.js:22:9) {
  expiredAt: 2024-01-15T09:00:00.000Z
}
";
        let matches = match_error(trace);
        assert_eq!(matches.len(), 1, "{matches:?}");
        let m = &matches[0];
        assert_eq!(m.entry.id, "node-jsonwebtoken-jwt-expired");
        assert_eq!(m.entry.topic(), Topic::Expiry);
        assert_eq!(m.line, 2);
        assert_eq!(m.matched_text, "TokenExpiredError: jwt expired");
    }

    #[test]
    fn escaped_colour_codes_are_removed() {
        let m = first(r#"{"msg":"\u001b[31mjwt audience invalid. expected: api://x\u001b[0m"}"#);
        assert_eq!(m.expected.aud, ["api://x"]);
    }

    #[test]
    fn java_trace_reports_wrapper_and_cause_once_each() {
        let trace = "\
org.springframework.security.oauth2.server.resource.InvalidBearerTokenException: An error occurred while attempting to decode the Jwt: Signed JWT rejected: Another algorithm expected, or no matching key(s) found
\tat org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationProvider.getJwt(JwtAuthenticationProvider.java:103)
Caused by: org.springframework.security.oauth2.jwt.BadJwtException: An error occurred while attempting to decode the Jwt: Signed JWT rejected: Another algorithm expected, or no matching key(s) found
\tat org.springframework.security.oauth2.jwt.NimbusJwtDecoder.createJwt(NimbusJwtDecoder.java:180)
Caused by: com.nimbusds.jose.proc.BadJOSEException: Signed JWT rejected: Another algorithm expected, or no matching key(s) found
";
        let matches = match_error(trace);
        assert_eq!(matches[0].entry.id, "nimbus-no-matching-key");
        let ids: Vec<&str> = matches.iter().map(|m| m.entry.id.as_str()).collect();
        let mut unique = ids.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), ids.len(), "{ids:?}");
    }

    #[test]
    fn several_errors_in_one_log() {
        let log = "\
[12:00:01] jwt.exceptions.ExpiredSignatureError: Signature has expired
[12:00:02] jwt.exceptions.InvalidAudienceError: Invalid audience
";
        let ids: Vec<&str> = match_error(log)
            .iter()
            .map(|m| m.entry.id.as_str())
            .collect();
        assert!(ids.contains(&"pyjwt-signature-expired"), "{ids:?}");
        assert!(ids.contains(&"pyjwt-invalid-audience"), "{ids:?}");
    }

    #[test]
    fn more_specific_message_wins() {
        // "The token is expired" contains golang-jwt's "token is expired".
        let m = first(
            "IDX10223: Lifetime validation failed. The token is expired. ValidTo (UTC): '1/1/2024'",
        );
        assert_eq!(m.entry.library, "Microsoft.IdentityModel");
        // The class name decides between identical messages of two libraries.
        let m = first("JWSSignatureVerificationFailed: signature verification failed");
        assert_eq!(m.entry.library, "jose (panva)");
        let m = first("jose.exceptions.JWTError: Signature verification failed.");
        assert_eq!(m.entry.library, "python-jose");
        // A known inner message beats the Spring wrapper.
        let m = first(
            "An error occurred while attempting to decode the Jwt: Jwt expired at 2024-01-15T10:30:00Z",
        );
        assert_eq!(m.entry.id, "spring-jwt-expired");
    }

    #[test]
    fn express_json_error_is_reported_once() {
        let body = r#"{"name":"UnauthorizedError","message":"jwt expired","code":"invalid_token","status":401,"inner":{"name":"TokenExpiredError","message":"jwt expired","expiredAt":"2024-01-15T09:00:00.000Z"}}"#;
        let matches = match_error(body);
        assert_eq!(matches.len(), 1, "{matches:?}");
        assert_eq!(matches[0].entry.id, "node-jsonwebtoken-jwt-expired");
    }

    #[test]
    fn advice_inside_a_message_is_not_another_error() {
        let text = r#"FirebaseAuthError: Firebase ID token has "kid" claim which does not correspond to a known public key. Most likely the ID token is expired, so get a fresh token from your client app and try again."#;
        let matches = match_error(text);
        assert_eq!(matches.len(), 1, "{matches:?}");
        assert_eq!(matches[0].entry.id, "firebase-kid-unknown");
    }

    #[test]
    fn golang_bearer_prefix_hint() {
        let m = first(
            "token is malformed: could not base64 decode header: illegal base64 data at input byte 6",
        );
        assert_eq!(m.entry.id, "golang-jwt-b64-header");
        assert!(m.entry.codes.iter().any(|c| c == "input-extracted"));
    }

    #[test]
    fn rust_identifiers_do_not_match_other_class_names() {
        let m = first("jwt.exceptions.ExpiredSignatureError: Signature has expired");
        assert_eq!(m.entry.library, "PyJWT");
        let m = first("Error: Error(ExpiredSignature)");
        assert_eq!(m.entry.library, "Rust jsonwebtoken");
    }

    #[test]
    fn unknown_text_matches_nothing() {
        assert!(match_error("the quick brown fox").is_empty());
        assert!(match_error("").is_empty());
        assert!(match_error("connection reset by peer while reading response").is_empty());
    }

    #[test]
    fn huge_input_is_bounded_but_keeps_head_and_tail() {
        let noise = "INFO request served in 3ms path=/health status=200\n".repeat(40_000);
        let head = format!("JsonWebTokenError: jwt malformed\n{noise}");
        let text = format!("{head}Caused by: com.nimbusds.jwt.proc.BadJWTException: Expired JWT\n");
        assert!(text.len() > 1_000_000);
        let started = std::time::Instant::now();
        let ids: Vec<String> = match_error(&text)
            .into_iter()
            .map(|m| m.entry.id.clone())
            .collect();
        assert!(
            started.elapsed().as_secs() < 20,
            "took {:?}",
            started.elapsed()
        );
        assert!(
            ids.contains(&"node-jsonwebtoken-malformed".to_string()),
            "{ids:?}"
        );
        assert!(ids.contains(&"nimbus-expired-jwt".to_string()), "{ids:?}");
        // Multi-byte characters at the cut points do not panic.
        let wide = "é".repeat(MAX_INPUT_BYTES);
        assert!(match_error(&wide).is_empty());
    }

    #[test]
    fn clean_value_trims_and_filters() {
        assert_eq!(clean_value(" 'api://x'. ").as_deref(), Some("api://x"));
        assert_eq!(
            clean_value("\"https://a/\\\"").as_deref(),
            Some("https://a/")
        );
        assert_eq!(clean_value("[api]").as_deref(), Some("api"));
        assert_eq!(clean_value("f(x)").as_deref(), Some("f(x)"));
        assert_eq!(clean_value("null"), None);
        assert_eq!(clean_value("[PII is hidden]"), None);
        assert_eq!(
            clean_value("System.Collections.Generic.List`1[System.String]"),
            None
        );
        assert_eq!(split_list("[a, b]", false), ["a", "b"]);
        assert_eq!(split_list("a OR b", false), ["a", "b"]);
        assert_eq!(split_list("read:a write:b", true), ["read:a", "write:b"]);
    }

    #[test]
    fn go_oidc_wrapped_by_the_kubernetes_api_server_is_attributed_to_go_oidc() {
        // The API server's klog line: the wrapper names Kubernetes, the reason is go-oidc's.
        let log = r#"E0115 10:31:02.123456       1 authentication.go:74] "Unable to authenticate the request" err="[invalid bearer token, oidc: verify token: oidc: token is expired (Token Expiry: 2024-01-15 10:30:00 +0000 UTC)]""#;
        let matches = match_error(log);
        let m = &matches[0];
        assert_eq!(m.entry.id, "go-oidc-token-expired", "{matches:?}");
        assert_eq!(m.library(), "go-oidc");
        assert_eq!(m.codes()[0], "expired");
        assert_eq!(
            m.expected.found_exp.as_ref().map(|q| q.unix),
            Some(1_705_314_600)
        );
        let ids: Vec<&str> = matches.iter().map(|m| m.entry.id.as_str()).collect();
        assert!(ids.contains(&"k8s-apiserver-oidc-verify-token"), "{ids:?}");
        // Kubernetes' own audience check: the lists are Go %q lists, escaped by klog.
        let log = r#""Unable to authenticate the request" err="[invalid bearer token, oidc: verify token: oidc: expected audience in [\"kubernetes\" \"k8s-dev\"] got [\"account\"]]""#;
        let m = first(log);
        assert_eq!(m.entry.id, "k8s-apiserver-oidc-audience");
        assert_eq!(m.library(), "Kubernetes API server (OIDC)");
        assert_eq!(m.expected.aud, ["kubernetes", "k8s-dev"]);
        assert_eq!(m.expected.found_aud, ["account"]);
        // Nothing but "invalid bearer token": no authenticator took the token (its iss).
        let m = first(r#""Unable to authenticate the request" err="[invalid bearer token]""#);
        assert_eq!(m.entry.id, "k8s-apiserver-invalid-bearer-token");
        assert_eq!(m.codes()[0], "issuer-mismatch");
        // A reason jwtai does not know still names Kubernetes.
        let m = first(
            r#""Unable to authenticate the request" err="[invalid bearer token, oidc: verify token: oidc: internal error, payload parsed did not match previous payload]""#,
        );
        assert_eq!(m.library(), "Kubernetes API server (OIDC)");
    }

    #[test]
    fn go_oidc_messages_fill_their_slots() {
        let m = first(r#"oidc: expected audience "my-client" got ["account" "broker"]"#);
        assert_eq!(m.expected.aud, ["my-client"]);
        assert_eq!(m.expected.found_aud, ["account", "broker"]);
        let m = first(r#"oidc: expected audience "my-client" got []"#);
        assert!(m.expected.found_aud.is_empty(), "{:?}", m.expected);
        let m = first(
            r#"oidc: id token signed with unsupported algorithm, expected ["RS256" "PS256"] got "ES256""#,
        );
        assert_eq!(m.expected.alg, ["RS256", "PS256"]);
        assert_eq!(m.expected.found_alg, ["ES256"]);
        let m = first(
            r#"oidc: id token issued by a different provider, expected "https://a.example.com" got "https://a.example.com/""#,
        );
        assert_eq!(m.expected.iss, ["https://a.example.com"]);
        assert_eq!(m.expected.found_iss, ["https://a.example.com/"]);
        let m = first(
            "oidc: current time 2024-01-15 10:30:00.5 +0000 UTC m=+3600.000000001 before the nbf (not before) time: 2024-01-15 11:40:00 +0100 CET",
        );
        assert_eq!(m.entry.id, "go-oidc-not-before");
        assert_eq!(
            m.expected.server_now.as_ref().map(|q| q.unix),
            Some(1_705_314_600)
        );
        assert_eq!(
            m.expected.found_nbf.as_ref().map(|q| q.unix),
            Some(1_705_315_200)
        );
        let m = first(
            "oidc: required claim hd value does not match. Got = other.com, want = example.com",
        );
        assert_eq!(m.expected.claims, ["hd"]);
        assert_eq!(m.expected.value.as_deref(), Some("example.com"));
    }

    #[test]
    fn go_time_values_are_read() {
        let at = |raw: &str| QuotedTime::parse(raw).map(|q| (q.unix, q.zoned));
        let t = 1_705_314_600;
        assert_eq!(at("2024-01-15 10:30:00 +0000 UTC"), Some((t, true)));
        assert_eq!(at("2024-01-15 11:30:00 +0100 CET"), Some((t, true)));
        assert_eq!(at("2024-01-15 13:30:00 +0300 +03"), Some((t, true)));
        assert_eq!(
            at("2024-01-15 10:30:00.123456789 +0000 UTC m=+12.5"),
            Some((t, true))
        );
        assert_eq!(at("2024-01-15 10:30:00 +0000 UTC m=bad"), None);
        // Not a Go list: one quoted value, or values without a space between them.
        assert_eq!(go_quoted_list(r#""a" "b c""#), Some(vec!["a", "b c"]));
        assert_eq!(go_quoted_list(r#""a""#), None);
        assert_eq!(go_quoted_list(r#""a""b""#), None);
        assert_eq!(split_list(r#"["a\"x" "b"]"#, false), [r#"a\"x"#, "b"]);
    }

    #[test]
    fn platform_messages_are_attributed_to_the_component_that_prints_them() {
        let cases: &[(&str, &str, &str)] = &[
            (
                r#"{"code":"PGRST303","details":null,"hint":null,"message":"JWT expired"}"#,
                "PostgREST",
                "expired",
            ),
            (
                "TokenExpiredError: jwt expired",
                "node jsonwebtoken",
                "expired",
            ),
            (
                r#"{"code":"PGRST301","details":null,"hint":null,"message":"JWSError JWSInvalidSignature"}"#,
                "PostgREST",
                "signature-invalid",
            ),
            (
                "JWSError JWSInvalidSignature",
                "PostgREST or Hasura",
                "signature-invalid",
            ),
            (
                r#"{"errors":[{"extensions":{"path":"$","code":"invalid-jwt"},"message":"Could not verify JWT: JWSError JWSInvalidSignature"}]}"#,
                "Hasura",
                "signature-invalid",
            ),
            (
                "Code: 400. Errors:\n\n* error validating token: error verifying token signature: no known key successfully validated the token signature",
                "Vault JWT auth (hashicorp/cap)",
                "signature-invalid",
            ),
            (
                "* error validating token: invalid expiration time (exp) claim: token is expired",
                "Vault JWT auth (hashicorp/cap)",
                "expired",
            ),
            (
                r#"{"code":403,"error_code":"bad_jwt","msg":"invalid JWT: unable to parse or verify signature, token has invalid claims: token is expired"}"#,
                "golang-jwt",
                "expired",
            ),
            (
                "io.smallrye.jwt.auth.principal.ParseException: SRJWT07000: Failed to verify a token\nCaused by: org.jose4j.jwt.consumer.InvalidJwtException: JWT (claims->{}) rejected due to invalid claims or other invalid content. Additional details: [[1] The JWT is no longer valid - the evaluation time NumericDate{1700000000 -> Nov 14, 2023} is on or after the Expiration Time (exp=NumericDate{1699990000 -> Nov 14, 2023}) claim value.]",
                "jose4j",
                "expired",
            ),
            (
                "[auth_openidc:error] oidc_proto_validate_exp: \"exp\" validation failure (1699990000): JWT expired 10000 seconds ago",
                "mod_auth_openidc",
                "expired",
            ),
        ];
        for (text, library, code) in cases {
            let m = first(text);
            assert_eq!(m.library(), *library, "{text}");
            assert_eq!(m.codes()[0], *code, "{text}");
        }
        let m = first(
            "[auth_openidc:error] oidc_proto_validate_exp: \"exp\" validation failure (1699990000): JWT expired 10000 seconds ago",
        );
        assert_eq!(
            m.expected.found_exp.as_ref().map(|q| q.unix),
            Some(1_699_990_000)
        );
        let m = first(
            "org.keycloak.common.VerificationException: Invalid token issuer. Expected 'http://keycloak:8080/realms/demo', but was 'http://localhost:8080/realms/demo'",
        );
        assert_eq!(m.expected.iss, ["http://keycloak:8080/realms/demo"]);
        assert_eq!(m.expected.found_iss, ["http://localhost:8080/realms/demo"]);
        let m = first("Didn't find publicKey for kid: k-2024");
        assert_eq!(m.expected.kid.as_deref(), Some("k-2024"));
        // GoTrue prints Go's <nil> for a missing kid: no kid is quoted.
        let m = first(
            "invalid JWT: unable to parse or verify signature, token is unverifiable: error while executing keyfunc: unrecognized JWT kid <nil> for algorithm ES256",
        );
        assert_eq!(m.entry.id, "gotrue-unrecognized-kid");
        assert_eq!(m.expected.kid, None);
        assert_eq!(m.expected.found_alg, ["ES256"]);
    }

    #[test]
    fn broken_knowledge_base_is_reported() {
        assert!(matches!(compile("{"), Err(KbError::Json(_))));
        let bad = r#"[{"id":"x","library":"l","source":"s","pattern":"(","example":"e","meaning":"m","codes":["expired"]}]"#;
        assert!(matches!(compile(bad), Err(KbError::Pattern { .. })));
        let dup = r#"[{"id":"x","library":"l","source":"s","pattern":"a","example":"a","meaning":"m","codes":["expired"]},
                      {"id":"x","library":"l","source":"s","pattern":"b","example":"b","meaning":"m","codes":["expired"]}]"#;
        assert_eq!(compile(dup).err(), Some(KbError::DuplicateId("x".into())));
        let none = r#"[{"id":"x","library":"l","source":"s","pattern":"a","example":"a","meaning":"m","codes":[]}]"#;
        assert_eq!(compile(none).err(), Some(KbError::NoCodes("x".into())));
    }
}
