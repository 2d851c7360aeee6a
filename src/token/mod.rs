//! Token parsing: from the extracted text to segments, decoded bytes and JSON.
//!
//! Parsing is lenient on purpose: a verifier stops at the first problem, jwtai
//! notes it as an [`Observation`] and keeps going (decoding a standard-base64
//! segment anyway, reading a cut payload as far as it goes) so the checks can
//! explain everything that is wrong at once. Observations are plain facts; the
//! checks turn them into findings with evidence and fixes.

pub mod json;

use base64::Engine;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use serde_json::{Map, Value};

pub use json::{JsonIssue, Members, Object};

/// Proxies and servers start refusing request headers around here.
pub const LARGE_TOKEN_BYTES: usize = 8 * 1024;

/// Segments decoded and observed. A JWE has five; past that the count alone
/// (`wrong-segment-count`) says what is wrong, and decoding every piece of a
/// megabyte of dots would only bury it under thousands of findings.
pub const MAX_DECODED_SEGMENTS: usize = 8;

const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// What the token looks like from its segment count and header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// header.payload.signature
    Jws,
    /// five segments: an encrypted JWT
    Jwe,
    /// one segment: not a JWT
    Opaque,
    /// two, four, six or more segments
    Malformed,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Jws => "jws",
            Kind::Jwe => "jwe",
            Kind::Opaque => "opaque",
            Kind::Malformed => "malformed",
        }
    }
}

/// Text that is no token at all, recognised for what it is. A verifier
/// calls all of these "jwt malformed"; each has its own cause, on the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Foreign {
    /// What a client's code wrote for a missing value: `undefined`, `null`,
    /// `None`, `[object Object]` (lower-cased here).
    Unset(&'static str),
    /// A template variable never filled in: `{{token}}`, `${TOKEN}`,
    /// `$TOKEN`, `<token>`, `YOUR_TOKEN`. Short by construction.
    Placeholder(String),
    /// Only the `Bearer` scheme, with no token after it.
    SchemeOnly,
    /// A Google OAuth 2.0 access token (`ya29.`): opaque, not a JWT.
    GoogleAccessToken,
    /// HTTP Basic credentials (`Basic base64(user:password)`), no JWT in them.
    BasicCredentials,
    /// An itsdangerous-signed session cookie (Flask's `session`, Starlette's
    /// `SessionMiddleware`): JWT-shaped, but data, timestamp and HMAC.
    SignedCookie(SignedCookie),
}

impl Foreign {
    /// Whether the text is a credential, so that no output may quote it.
    pub fn is_credential(&self) -> bool {
        matches!(
            self,
            Foreign::GoogleAccessToken | Foreign::BasicCredentials | Foreign::SignedCookie(_)
        )
    }
}

/// What an itsdangerous-signed cookie shows without its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCookie {
    /// The member names of its JSON data, in order.
    pub keys: Vec<String>,
    /// When it was signed (Unix seconds), from its timestamp segment.
    pub signed_at: Option<i64>,
}

/// The data segment of `t` if `t` has the shape of an itsdangerous-signed
/// value (`data.timestamp.mac`: a timestamp of 6 to 8 base64 characters, an
/// HMAC-SHA1 or -SHA256 of 27 or 43), and its timestamp segment. A few byte
/// compares from the end: the scan asks this of every token it finds.
pub fn signed_cookie_shape(t: &[u8]) -> Option<(&[u8], &[u8])> {
    let dot_before = |s: &[u8], tail: usize| s.len() > tail && s[s.len() - tail - 1] == b'.';
    let mac = [27, 43].into_iter().find(|&m| dot_before(t, m))?;
    let signed = &t[..t.len() - mac - 1];
    let stamp = (6..=8).find(|&n| dot_before(signed, n))?;
    let data = &signed[..signed.len() - stamp - 1];
    (!data.contains(&b'.')).then(|| (data, &signed[signed.len() - stamp..]))
}

/// The JSON object in an itsdangerous value's data segment, if it is one
/// and no JWT header (no `alg`): base64url as Flask writes it, or standard
/// base64 with padding as Starlette does.
pub fn signed_cookie_data(data: &[u8]) -> Option<Map<String, Value>> {
    const EITHER_PADDING: GeneralPurposeConfig =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let alphabet = if data.iter().any(|b| matches!(b, b'+' | b'/')) {
        &base64::alphabet::STANDARD
    } else {
        &base64::alphabet::URL_SAFE
    };
    let decoded = GeneralPurpose::new(alphabet, EITHER_PADDING)
        .decode(data)
        .ok()?;
    serde_json::from_slice::<Map<String, Value>>(&decoded)
        .ok()
        .filter(|o| !o.contains_key("alg"))
}

fn signed_cookie(text: &str) -> Option<SignedCookie> {
    let (data, stamp) = signed_cookie_shape(text.as_bytes())?;
    let object = signed_cookie_data(data)?;
    let signed_at = general_purpose::URL_SAFE_NO_PAD
        .decode(stamp)
        .ok()
        .filter(|b| b.len() <= 8)
        .map(|b| b.iter().fold(0i64, |n, &d| (n << 8) | i64::from(d)));
    Some(SignedCookie {
        keys: object.keys().cloned().collect(),
        signed_at,
    })
}

/// What stringified missing values read as, in the languages clients are
/// written in (JavaScript, Python, Ruby, Go, PHP...).
const UNSET: [&str; 9] = [
    "undefined",
    "null",
    "none",
    "nil",
    "nan",
    "[object object]",
    "false",
    "<nil>",
    "(null)",
];

/// Recognises [`Foreign`] text. Cheap for a JWT: one look at its start.
pub fn foreign(text: &str) -> Option<Foreign> {
    if text.starts_with("eyJ") {
        return signed_cookie(text).map(Foreign::SignedCookie);
    }
    if crate::sensitive::basic_decoded(text).is_some_and(|d| d.contains(&b':')) {
        return Some(Foreign::BasicCredentials);
    }
    if text.len() > 64 {
        return None;
    }
    let text = text.trim();
    let lower = text.to_ascii_lowercase();
    if let Some(word) = UNSET.iter().find(|w| **w == lower) {
        return Some(Foreign::Unset(word));
    }
    if lower == "bearer" {
        return Some(Foreign::SchemeOnly);
    }
    if text.starts_with("ya29.") {
        return Some(Foreign::GoogleAccessToken);
    }
    let name = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b' '))
    };
    let wrapped = |open: &str, close: &str| {
        text.strip_prefix(open)
            .and_then(|r| r.strip_suffix(close))
            .is_some_and(|inner| name(inner.trim()))
    };
    let template = wrapped("{{", "}}")
        || wrapped("${", "}")
        || wrapped("<", ">")
        || wrapped("%", "%")
        || wrapped("$", "");
    // A bare word that names a token: `TOKEN`, `YOUR_ACCESS_TOKEN`, `jwt_here`.
    let word = lower
        .trim_start_matches("your")
        .trim_start_matches(['_', '-'])
        .trim_end_matches("here")
        .trim_end_matches(['_', '-']);
    let named = [
        "token",
        "jwt",
        "access_token",
        "access-token",
        "accesstoken",
        "id_token",
        "bearer_token",
        "auth_token",
    ]
    .contains(&word);
    (template || named).then(|| Foreign::Placeholder(text.to_string()))
}

/// The Unicode name of a character that renders as nothing.
fn invisible(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{200B}' => "U+200B ZERO WIDTH SPACE",
        '\u{200C}' => "U+200C ZERO WIDTH NON-JOINER",
        '\u{200D}' => "U+200D ZERO WIDTH JOINER",
        '\u{2060}' => "U+2060 WORD JOINER",
        '\u{FEFF}' => "U+FEFF BYTE ORDER MARK",
        '\u{00AD}' => "U+00AD SOFT HYPHEN",
        '\u{180E}' => "U+180E MONGOLIAN VOWEL SEPARATOR",
        _ => return None,
    })
}

/// Which segment an observation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment {
    Header,
    Payload,
    Signature,
    Other(usize),
}

impl Segment {
    fn at(index: usize) -> Segment {
        match index {
            0 => Segment::Header,
            1 => Segment::Payload,
            2 => Segment::Signature,
            n => Segment::Other(n + 1),
        }
    }

    pub fn name(self) -> String {
        match self {
            Segment::Header => "header".into(),
            Segment::Payload => "payload".into(),
            Segment::Signature => "signature".into(),
            Segment::Other(n) => format!("segment {n}"),
        }
    }
}

/// A fact noticed while parsing; see `checks::structure` for what each means.
#[derive(Debug, Clone, PartialEq)]
pub enum Observation {
    /// Whitespace inside the token: (line breaks, spaces, tabs) counts.
    WhitespaceInside {
        newlines: usize,
        spaces: usize,
        tabs: usize,
    },
    /// Invisible characters, removed before reading on: their names, how many.
    Invisible {
        names: Vec<&'static str>,
        count: usize,
    },
    /// The text ended in `…` or `...`, removed: shortened for display.
    Ellipsis,
    /// Empty segments (1-based positions) of a token with neither 3 nor 5
    /// segments: `..` inside it, or a `.` at an end.
    EmptySegments(Vec<usize>),
    /// Percent-escapes such as `%2E`; the distinct escapes seen.
    UrlEncoded { escapes: Vec<String> },
    /// Standard-base64 characters in a segment: `+`/`/` seen, `=` padding seen.
    StandardAlphabet {
        segment: Segment,
        plus_slash: usize,
        padding: usize,
    },
    /// A character outside base64url, at this 0-based offset in the segment.
    InvalidChar {
        segment: Segment,
        ch: char,
        offset: usize,
    },
    /// A segment length that no base64 encoding produces (len % 4 == 1).
    ImpossibleLength {
        segment: Segment,
        len: usize,
        last: bool,
    },
    /// Header or payload bytes that are not a JSON object.
    Json { segment: Segment, issue: JsonIssue },
    /// Member names that appear twice.
    DuplicateKeys {
        segment: Segment,
        names: Vec<String>,
    },
}

/// A decoded header or payload.
#[derive(Debug, Clone)]
pub struct Part {
    pub bytes: Vec<u8>,
    pub object: Option<Object>,
}

/// The parsed token. Holds signature bytes: never rendered, never serialised.
pub struct Token {
    pub kind: Kind,
    pub segment_count: usize,
    /// Length of the cleaned compact form in bytes.
    pub len: usize,
    pub header: Option<Part>,
    pub payload: Option<Part>,
    /// Raw signature segment text (for redaction) and its decoded bytes.
    pub signature_segment: Option<String>,
    pub signature: Option<Vec<u8>>,
    /// `BASE64URL(header) || '.' || BASE64URL(payload)` exactly as received.
    pub signing_input: Vec<u8>,
    pub observations: Vec<Observation>,
    /// Set when the text is no token at all; `kind` is then `Opaque` and
    /// nothing was decoded.
    pub foreign: Option<Foreign>,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("kind", &self.kind)
            .field("segment_count", &self.segment_count)
            .field("observations", &self.observations)
            .finish_non_exhaustive()
    }
}

impl Token {
    pub fn header_map(&self) -> Option<&Map<String, Value>> {
        self.header.as_ref()?.object.as_ref().map(|o| &o.map)
    }

    pub fn claims(&self) -> Option<&Map<String, Value>> {
        self.payload.as_ref()?.object.as_ref().map(|o| &o.map)
    }

    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header_map()?.member(name)?.as_str()
    }

    pub fn alg(&self) -> Option<&str> {
        self.header_str("alg")
    }

    pub fn kid(&self) -> Option<&str> {
        self.header_str("kid")
    }

    pub fn has_observation(&self, pred: impl Fn(&Observation) -> bool) -> bool {
        self.observations.iter().any(pred)
    }
}

/// Which bytes are base64url characters (`A-Z a-z 0-9 - _`), by value.
const B64URL: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        table[i] = b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
        i += 1;
    }
    table
};

/// True for a base64url character (`A-Z a-z 0-9 - _`): one table lookup,
/// for the loops that run over every byte of a log.
#[inline]
pub fn is_b64url(b: u8) -> bool {
    B64URL[b as usize]
}

/// [`is_b64url`] as range tests instead of the table, for the block loops
/// below: compilers turn these into vector compares.
#[inline(always)]
fn is_b64url_lanes(b: u8) -> bool {
    ((b | 0x20).wrapping_sub(b'a') < 26) | (b.wrapping_sub(b'0') < 10) | (b == b'-') | (b == b'_')
}

/// True when `bytes` hold only base64url characters and dots: the compact
/// form as issuers write it. Checked in branch-free blocks, as this runs on
/// every token of a scan.
fn only_b64url_and_dots(bytes: &[u8]) -> bool {
    bytes.chunks(32).all(|block| {
        block
            .iter()
            .fold(true, |all, &b| all & (is_b64url_lanes(b) | (b == b'.')))
    })
}

/// Length of the run of base64url characters `bytes` starts with, a 32-byte
/// block at a time: a scan measures every segment of every token in a log
/// this way.
pub fn b64url_run(bytes: &[u8]) -> usize {
    let mut blocks = bytes.chunks_exact(32);
    let mut at = 0;
    let first_other = |block: &[u8]| block.iter().position(|&b| !is_b64url(b));
    for block in &mut blocks {
        // The whole block checked branch-free (vector compares); the byte
        // found only in the one block that holds it.
        if !block.iter().fold(true, |all, &b| all & is_b64url_lanes(b)) {
            return at + first_other(block).unwrap_or(block.len());
        }
        at += 32;
    }
    let rest = blocks.remainder();
    at + first_other(rest).unwrap_or(rest.len())
}

/// Parses extracted token text. Never fails: what cannot be read is observed.
pub fn parse(text: &str) -> Token {
    if let Some(f) = foreign(text) {
        // Decoding `undefined` as base64, or its spaces, would only add noise.
        return Token {
            kind: Kind::Opaque,
            segment_count: text.split('.').count(),
            len: text.len(),
            header: None,
            payload: None,
            signature_segment: None,
            signature: None,
            signing_input: Vec::new(),
            observations: Vec::new(),
            foreign: Some(f),
        };
    }
    let mut observations = Vec::new();
    // The common case, checked in one pass: only base64url and dots, so no
    // whitespace, escapes or foreign characters to observe.
    let plain = only_b64url_and_dots(text.as_bytes()) && !text.ends_with("...");
    if plain {
        return split(text, observations, true);
    }

    let (newlines, spaces, tabs) = text.chars().fold((0, 0, 0), |(n, s, t), c| match c {
        '\n' | '\r' => (n + 1, s, t),
        '\t' => (n, s, t + 1),
        c if c.is_whitespace() => (n, s + 1, t),
        _ => (n, s, t),
    });
    let mut cleaned: String = if newlines + spaces + tabs > 0 {
        observations.push(Observation::WhitespaceInside {
            newlines,
            spaces,
            tabs,
        });
        text.chars().filter(|c| !c.is_whitespace()).collect()
    } else {
        text.to_string()
    };

    // Invisible characters a chat app, web page or document slipped in: no
    // verifier sees them, every verifier chokes on them.
    if cleaned.chars().any(|c| invisible(c).is_some()) {
        let mut names: Vec<&'static str> = Vec::new();
        let mut count = 0;
        cleaned = cleaned
            .chars()
            .filter(|&c| match invisible(c) {
                Some(name) => {
                    count += 1;
                    if !names.contains(&name) {
                        names.push(name);
                    }
                    false
                }
                None => true,
            })
            .collect();
        observations.push(Observation::Invisible { names, count });
    }
    // Shortened for display (a log viewer, a UI column, a chat preview).
    for ellipsis in ["\u{2026}", "..."] {
        if let Some(kept) = cleaned.strip_suffix(ellipsis) {
            if ellipsis != "..." || kept.matches('.').count() <= 2 {
                let kept = kept.trim_end_matches('.').to_string();
                observations.push(Observation::Ellipsis);
                cleaned = kept;
                break;
            }
        }
    }

    let escapes = percent_escapes(&cleaned);
    if !escapes.is_empty() {
        observations.push(Observation::UrlEncoded { escapes });
        cleaned = percent_encoding::percent_decode_str(&cleaned)
            .decode_utf8_lossy()
            .into_owned();
    }
    split(&cleaned, observations, false)
}

/// Splits the cleaned compact form into segments and decodes them. `plain`:
/// the text is known to hold only base64url characters and dots.
fn split(cleaned: &str, mut observations: Vec<Observation>, plain: bool) -> Token {
    // `split('.')` by memchr: the dots found in vector steps.
    let mut segments: Vec<&str> = Vec::with_capacity(5);
    let mut start = 0;
    for dot in memchr::memchr_iter(b'.', cleaned.as_bytes()) {
        segments.push(&cleaned[start..dot]);
        start = dot + 1;
    }
    segments.push(&cleaned[start..]);
    let segment_count = segments.len();
    if segment_count != 3 && segment_count != 5 {
        let empty: Vec<usize> = (1..=segment_count)
            .filter(|&i| segments[i - 1].is_empty())
            .collect();
        if !empty.is_empty() && segment_count > 1 {
            observations.push(Observation::EmptySegments(empty));
        }
    }
    // One segment that is no JSON's base64url (`{"` encodes to `eyJ`): a
    // genuine opaque token, whose decoding would say nothing. Decoded only
    // when it could be one copied segment of a JWT.
    let opaque = segment_count == 1 && !segments[0].starts_with("ey");
    let decodable = if opaque { 0 } else { MAX_DECODED_SEGMENTS };
    let mut decoded: Vec<Option<Vec<u8>>> = Vec::with_capacity(segment_count.min(decodable));
    for (i, seg) in segments.iter().take(decodable).enumerate() {
        let last = i + 1 == segment_count;
        decoded.push(if plain {
            decode_plain_segment(seg, Segment::at(i), last, &mut observations)
        } else {
            decode_segment(seg, Segment::at(i), last, &mut observations)
        });
    }

    // Each decoded segment is used once: moved out, not cloned.
    let mut take = |i: usize| decoded.get_mut(i).and_then(Option::take);
    let header = take(0).map(|bytes| part(bytes, Segment::Header, &mut observations));
    let is_jwe_header = header
        .as_ref()
        .and_then(|h| h.object.as_ref())
        .is_some_and(|o| o.map.has("enc"));

    let kind = match segment_count {
        1 => Kind::Opaque,
        3 if !is_jwe_header => Kind::Jws,
        5 if is_jwe_header => Kind::Jwe,
        _ => Kind::Malformed,
    };

    // The payload of a JWE is ciphertext: only a JWS (or a malformed JWS) has claims.
    let payload = match kind {
        Kind::Jws | Kind::Malformed if !is_jwe_header => {
            take(1).map(|bytes| part(bytes, Segment::Payload, &mut observations))
        }
        _ => None,
    };
    let (signature_segment, signature) = match kind {
        Kind::Jws => (segments.get(2).map(|s| s.to_string()), take(2)),
        Kind::Malformed if segment_count > 2 => (segments.get(2).map(|s| s.to_string()), take(2)),
        _ => (None, None),
    };
    let signing_input = if segment_count >= 2 {
        // The first two segments and the dot between them, as received.
        cleaned.as_bytes()[..segments[0].len() + 1 + segments[1].len()].to_vec()
    } else {
        Vec::new()
    };

    Token {
        kind,
        segment_count,
        len: cleaned.len(),
        header,
        payload,
        signature_segment,
        signature,
        signing_input,
        observations,
        foreign: None,
    }
}

fn part(bytes: Vec<u8>, segment: Segment, observations: &mut Vec<Observation>) -> Part {
    let object = match json::parse_object(&bytes) {
        Ok(obj) => {
            if !obj.duplicates.is_empty() {
                observations.push(Observation::DuplicateKeys {
                    segment,
                    names: obj.duplicates.clone(),
                });
            }
            Some(obj)
        }
        Err(issue) => {
            observations.push(Observation::Json { segment, issue });
            None
        }
    };
    Part { bytes, object }
}

fn percent_escapes(s: &str) -> Vec<String> {
    let b = s.as_bytes();
    let mut found: Vec<String> = Vec::new();
    for i in 0..b.len().saturating_sub(2) {
        if b[i] == b'%' && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit() {
            let esc = s[i..i + 3].to_ascii_uppercase();
            if !found.contains(&esc) {
                found.push(esc);
            }
        }
    }
    found
}

/// [`decode_segment`] for a segment of base64url characters only: nothing
/// to observe but an impossible length.
fn decode_plain_segment(
    seg: &str,
    which: Segment,
    last: bool,
    obs: &mut Vec<Observation>,
) -> Option<Vec<u8>> {
    if seg.len() % 4 == 1 {
        obs.push(Observation::ImpossibleLength {
            segment: which,
            len: seg.len(),
            last,
        });
        return URL_SAFE_LENIENT.decode(&seg[..seg.len() - 1]).ok();
    }
    // Strict canonical base64url in SIMD first (every well-formed token);
    // what it refuses (non-zero trailing bits) is read leniently.
    base64_simd::URL_SAFE_NO_PAD
        .decode_to_vec(seg)
        .ok()
        .or_else(|| URL_SAFE_LENIENT.decode(seg).ok())
}

/// Decodes one segment as leniently as makes sense, observing every deviation.
fn decode_segment(
    seg: &str,
    which: Segment,
    last: bool,
    obs: &mut Vec<Observation>,
) -> Option<Vec<u8>> {
    let plus_slash = seg.bytes().filter(|b| *b == b'+' || *b == b'/').count();
    let padding = seg.bytes().filter(|b| *b == b'=').count();
    if plus_slash + padding > 0 {
        obs.push(Observation::StandardAlphabet {
            segment: which,
            plus_slash,
            padding,
        });
    }
    if let Some((offset, ch)) = seg
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '/' | '=')))
    {
        obs.push(Observation::InvalidChar {
            segment: which,
            ch,
            offset,
        });
        return None;
    }
    let unpadded = seg.trim_end_matches('=');
    if unpadded.len() % 4 == 1 {
        obs.push(Observation::ImpossibleLength {
            segment: which,
            len: unpadded.len(),
            last,
        });
        // Read what can be read: the last partial character carries under a byte.
        let usable = &unpadded[..unpadded.len() - 1];
        return decode_any(usable);
    }
    decode_any(unpadded)
}

fn decode_any(s: &str) -> Option<Vec<u8>> {
    if s.contains(['+', '/']) && !s.contains(['-', '_']) {
        STANDARD_LENIENT.decode(s).ok()
    } else if s.contains(['+', '/']) {
        // Mixed alphabets: map standard characters onto base64url and read on.
        let mapped: String = s
            .chars()
            .map(|c| match c {
                '+' => '-',
                '/' => '_',
                c => c,
            })
            .collect();
        URL_SAFE_LENIENT.decode(mapped).ok()
    } else {
        URL_SAFE_LENIENT.decode(s).ok()
    }
}

/// base64url without padding, as JOSE encodes every segment.
pub fn b64url(bytes: &[u8]) -> String {
    general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_check_agrees_with_the_alphabet_for_every_byte_and_position() {
        for b in 0..=255u8 {
            let want = is_b64url(b) || b == b'.';
            assert_eq!(
                is_b64url(b),
                b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
            );
            // The odd byte first, at a block boundary and last, in a long token.
            for at in [0, 31, 32, 63, 99] {
                let mut text = vec![b'a'; 100];
                text[at] = b;
                assert_eq!(only_b64url_and_dots(&text), want, "byte {b:#x} at {at}");
            }
        }
    }

    #[test]
    fn run_length_stops_at_the_first_other_byte_wherever_it_is() {
        for b in 0..=255u8 {
            for len in [0, 1, 31, 32, 33, 64, 100] {
                for at in [0, 5, 31, 32, 33, 63, 64, 99] {
                    let mut text = vec![b'x'; len];
                    if let Some(slot) = text.get_mut(at) {
                        *slot = b;
                    }
                    let want = text.iter().position(|&c| !is_b64url(c)).unwrap_or(len);
                    assert_eq!(b64url_run(&text), want, "byte {b:#x} at {at} of {len}");
                }
            }
        }
    }

    fn tok(h: &str, p: &str, sig: &[u8]) -> String {
        format!(
            "{}.{}.{}",
            b64url(h.as_bytes()),
            b64url(p.as_bytes()),
            b64url(sig)
        )
    }

    #[test]
    fn clean_jws() {
        let t = parse(&tok(r#"{"alg":"HS256"}"#, r#"{"sub":"1"}"#, &[1; 32]));
        assert_eq!(t.kind, Kind::Jws);
        assert!(t.observations.is_empty(), "{:?}", t.observations);
        assert_eq!(t.alg(), Some("HS256"));
        assert_eq!(t.signature.as_deref(), Some(&[1u8; 32][..]));
    }

    #[test]
    fn foreign_text_is_recognised_and_jwts_never_are() {
        for (text, want) in [
            ("undefined", Some(Foreign::Unset("undefined"))),
            ("NULL", Some(Foreign::Unset("null"))),
            (" None ", Some(Foreign::Unset("none"))),
            ("[object Object]", Some(Foreign::Unset("[object object]"))),
            ("Bearer", Some(Foreign::SchemeOnly)),
            ("{{token}}", Some(Foreign::Placeholder("{{token}}".into()))),
            (
                "${ACCESS_TOKEN}",
                Some(Foreign::Placeholder("${ACCESS_TOKEN}".into())),
            ),
            ("$TOKEN", Some(Foreign::Placeholder("$TOKEN".into()))),
            (
                "your-jwt-here",
                Some(Foreign::Placeholder("your-jwt-here".into())),
            ),
            ("ya29.a0AfH6SMBx3kLr9", Some(Foreign::GoogleAccessToken)),
            ("2YotnFZFEjr1zCsicMWpAA", None),
            ("tokenizer", None),
            ("eyJhbGciOiJIUzI1NiJ9.e30.", None),
            // A JWT whose payload and signature have a signed cookie's lengths.
            (
                "eyJhbGciOiJIUzI1NiJ9.eyIiOjF9.ZVPxAAkR6c1GQ9dTqv0Pq2cCvh4lJ2m0kAbCdEfGhIj",
                None,
            ),
            (
                "eyJ1c2VyX2lkIjowLCJfZnJlc2giOnRydWV9.ZVPxAA.kR6c1GQ9dTqv0Pq2cCvh4lJ2m0k",
                Some(Foreign::SignedCookie(SignedCookie {
                    keys: vec!["user_id".into(), "_fresh".into()],
                    signed_at: Some(1_700_000_000),
                })),
            ),
        ] {
            assert_eq!(foreign(text), want, "{text}");
        }
        let t = parse("[object Object]");
        assert_eq!(t.kind, Kind::Opaque);
        assert!(t.observations.is_empty(), "{:?}", t.observations);
    }

    #[test]
    fn an_opaque_token_is_not_decoded_but_its_copy_damage_is_observed() {
        // RFC 6749's example token, with a zero-width space copied into it.
        let t = parse("2YotnFZFEjr1zC\u{200B}sicMWpAA");
        assert_eq!(t.kind, Kind::Opaque);
        assert!(t.header.is_none());
        assert_eq!(
            t.observations,
            [Observation::Invisible {
                names: vec!["U+200B ZERO WIDTH SPACE"],
                count: 1
            }]
        );
        // One copied segment of a JWT is still decoded.
        assert!(parse("eyJhbGciOiJIUzI1NiJ9").header.is_some());
    }

    #[test]
    fn opaque_jwe_malformed() {
        assert_eq!(parse("abcdef").kind, Kind::Opaque);
        let jwe = format!(
            "{}.a.b.c.d",
            b64url(br#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#)
        );
        assert_eq!(parse(&jwe).kind, Kind::Jwe);
        assert_eq!(parse("a.b.c.d").kind, Kind::Malformed);
    }

    #[test]
    fn only_the_first_segments_are_decoded() {
        let t = parse(&"a*.".repeat(10_000));
        assert_eq!(t.segment_count, 10_001);
        assert_eq!(t.kind, Kind::Malformed);
        let invalid = t
            .observations
            .iter()
            .filter(|o| matches!(o, Observation::InvalidChar { .. }))
            .count();
        assert_eq!(invalid, MAX_DECODED_SEGMENTS);
    }

    #[test]
    fn whitespace_and_url_encoding_are_observed_and_undone() {
        let t = tok(r#"{"alg":"HS256"}"#, r#"{"sub":"1"}"#, &[1; 32]);
        let wrapped = format!("{}\n{}", &t[..10], &t[10..]);
        let p = parse(&wrapped);
        assert_eq!(
            p.observations[0],
            Observation::WhitespaceInside {
                newlines: 1,
                spaces: 0,
                tabs: 0
            }
        );
        assert_eq!(p.kind, Kind::Jws);
        let p = parse(&t.replace('.', "%2E"));
        assert!(
            matches!(&p.observations[0], Observation::UrlEncoded { escapes } if escapes == &["%2E"])
        );
        assert_eq!(p.alg(), Some("HS256"));
    }

    #[test]
    fn standard_alphabet_still_decodes() {
        use base64::engine::general_purpose::STANDARD;
        let h = STANDARD.encode(br#"{"alg":"HS256","x":"??>"}"#);
        let p = parse(&format!("{h}.e30.AAAA"));
        assert!(
            p.observations
                .iter()
                .any(|o| matches!(o, Observation::StandardAlphabet { .. }))
        );
        assert_eq!(p.alg(), Some("HS256"));
    }

    #[test]
    fn invalid_char_and_impossible_length() {
        let p = parse("eyJhbGciOiJIUzI1NiJ9.ey*.sig");
        assert!(p.observations.iter().any(|o| matches!(
            o,
            Observation::InvalidChar {
                ch: '*',
                offset: 2,
                ..
            }
        )));
        let p = parse("eyJhbGciOiJIUzI1NiJ9.e30.abcde");
        assert!(p.observations.iter().any(|o| matches!(
            o,
            Observation::ImpossibleLength {
                len: 5,
                last: true,
                ..
            }
        )));
    }

    proptest::proptest! {
        #[test]
        fn plain_fast_path_decodes_like_the_general_one(seg in "[A-Za-z0-9_-]{0,40}", last: bool) {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            let fast = decode_plain_segment(&seg, Segment::Payload, last, &mut a);
            let general = decode_segment(&seg, Segment::Payload, last, &mut b);
            proptest::prop_assert_eq!(fast, general);
            proptest::prop_assert_eq!(a, b);
        }
    }
}
