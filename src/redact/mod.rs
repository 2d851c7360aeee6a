//! Redaction: what of a report may be shown or sent (`redaction.md`).
//!
//! [`Redacted`] is the only report type that may leave the machine: claim
//! values that are personal data or secrets are masked as
//! `«masked:TYPE:LEN:HASH»` (the hash is keyed, so equal values still compare
//! equal within a run without being revealed), embedded header keys are
//! summarised, and every string is scrubbed of the raw token, its segments and
//! the user's secrets. [`Displayed`] is what local output renders: the same,
//! unless `--reveal` asked for claim values in the clear (the token, signature
//! and secrets are scrubbed either way).

use std::borrow::Cow;
use std::sync::{LazyLock, OnceLock};

use aho_corasick::{AhoCorasick, MatchKind};
use aws_lc_rs::hmac;
use regex::Regex;
use serde_json::{Map, Value, json};

use crate::findings::Finding;
use crate::report::Report;
use crate::sensitive::{self, Shape};

/// Claims kept as they are: needed for diagnosis, not personal.
const KEEP: &[&str] = &[
    "iss",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "azp",
    "scope",
    "scp",
    "roles",
    "typ",
    "auth_time",
    "amr",
    "acr",
    "client_id",
    "cid",
    "ver",
    "tid",
    "nonce",
    "at_hash",
    "c_hash",
    "permissions",
    "groups",
    "kid",
    "alg",
];
/// Claims naming the client a token was issued to: public identifiers.
const PUBLIC_ID_CLAIMS: &[&str] = &["client_id", "azp", "cid", "appid"];
/// Claims always masked, whatever they look like.
const ALWAYS_MASK: &[&str] = &["sub", "oid", "uid", "user_id", "userid"];

/// Strings to scrub (the token, its parts, the user's secrets) shorter than
/// this are not looked for: a secret of 1 to 3 characters would match inside
/// ordinary words and numbers everywhere (`weak-secret` says to replace it).
const MIN_SCRUBBED: usize = 4;
/// Strings to scrub shorter than this are replaced where they stand as a
/// whole word or value (`key=Zq9xP2w`, `'Zq9x'`), not inside longer words.
const MIN_SCRUBBED_ANYWHERE: usize = 8;

/// The redaction policy from the flags.
pub struct Policy {
    pub mask: Vec<String>,
    pub keep: Vec<String>,
    pub reveal: bool,
    /// Strings that must never appear in output: the token, its segments, secrets.
    pub scrub: Vec<String>,
    key: hmac::Key,
}

impl Policy {
    pub fn new(mask: Vec<String>, keep: Vec<String>, reveal: bool, scrub: Vec<String>) -> Policy {
        // A per-user secret key: equal values share a hash across reports (and
        // cached model answers hit), while nobody else can confirm a guessed
        // value from a pasted hash. JWTAI_MASK_KEY pins it for tests.
        let key_bytes = match std::env::var("JWTAI_MASK_KEY") {
            Ok(k) if !k.is_empty() => k.into_bytes(),
            _ => crate::cachedir::mask_key().unwrap_or_else(|| {
                let mut b = vec![0u8; 32];
                if getrandom::fill(&mut b).is_err() {
                    b = std::process::id().to_le_bytes().to_vec();
                }
                b
            }),
        };
        let mut scrub: Vec<String> = scrub
            .into_iter()
            .filter(|s| s.chars().count() >= MIN_SCRUBBED)
            .collect();
        scrub.sort_by_key(|s| std::cmp::Reverse(s.len()));
        scrub.dedup();
        Policy {
            mask,
            keep,
            reveal,
            scrub,
            key: hmac::Key::new(hmac::HMAC_SHA256, &key_bytes),
        }
    }

    /// The same policy, mask key included, with more strings to scrub: one
    /// per token of a scan, so masked values still compare equal across the
    /// whole run and the key is set up once.
    pub fn with_scrub(&self, extra: Vec<String>) -> Policy {
        let mut scrub: Vec<String> = self
            .scrub
            .iter()
            .cloned()
            .chain(
                extra
                    .into_iter()
                    .filter(|s| s.chars().count() >= MIN_SCRUBBED),
            )
            .collect();
        scrub.sort_by_key(|s| std::cmp::Reverse(s.len()));
        scrub.dedup();
        Policy {
            mask: self.mask.clone(),
            keep: self.keep.clone(),
            reveal: self.reveal,
            scrub,
            key: self.key.clone(),
        }
    }
}

/// A report safe to send anywhere: the only type the model client accepts.
#[derive(Debug, Clone)]
pub struct Redacted {
    report: Report,
    /// What was masked or scrubbed, so free text that travels with the report
    /// (the user's error message, follow-up questions) gets the same treatment.
    replacements: Scrubber,
    /// Public identifiers the report shows as they are (the token's `kid`,
    /// `iss`, `aud`, client ids; the audience and issuer the user expects):
    /// kept where a text quotes them, so the reader can compare.
    keep: Vec<String>,
}

impl Redacted {
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// Free text made safe to send beside this report: the same masked values
    /// and scrubbed strings, any JWT, and anything shaped like personal data
    /// or a secret. Says whether anything was changed.
    pub fn text(&self, text: &str) -> RedactedText {
        let keep: Vec<&str> = self.keep.iter().map(String::as_str).collect();
        let scrubbed = keeping(text, &keep, |t| {
            mask_free_text(&scrub_str(&mask_blocks(t), &self.replacements))
        });
        RedactedText {
            changed: scrubbed != text,
            text: scrubbed,
        }
    }

    /// Adds public values to keep in texts (`--aud`, `--iss`): those that
    /// are neither a person's nor a credential, nor scrubbed or masked.
    pub fn keeping<S: AsRef<str>>(mut self, values: &[S]) -> Redacted {
        for v in values {
            let v = v.as_ref();
            if self.replacements.may_keep(v) && !self.keep.iter().any(|k| k == v) {
                self.keep.push(v.to_string());
            }
        }
        self
    }
}

impl Scrubber {
    /// Whether `v` may be kept in text: a public identifier's shape, and
    /// neither a scrubbed string nor a masked value nor inside one.
    fn may_keep(&self, v: &str) -> bool {
        matches!(sensitive::classify(v), None | Some(Shape::HighEntropy))
            && !v.contains('«')
            && !self
                .credentials
                .iter()
                .chain(&self.masked)
                .any(|c| c.contains(v) || v.contains(c.as_str()))
    }
}

/// The token's public identifiers, as the redacted report shows them.
fn public_identifiers(report: &Report, scrubber: &Scrubber) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |v: &Value| match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => out.extend(a.iter().filter_map(Value::as_str).map(str::to_string)),
        _ => {}
    };
    if let Some(kid) = report.token.header.as_ref().and_then(|h| h.get("kid")) {
        add(kid);
    }
    if let Some(claims) = &report.token.claims {
        for name in ["iss", "aud", "azp", "client_id", "cid", "appid", "tid"] {
            if let Some(v) = claims.get(name) {
                add(v);
            }
        }
    }
    out.retain(|v| scrubber.may_keep(v));
    out
}

/// Free text that went through [`Redacted::text`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedactedText {
    pub text: String,
    pub changed: bool,
}

/// Free text with no report to match against (debug lines, error
/// messages): any JWT and anything shaped like personal data or a secret masked.
pub fn free_text(text: &str) -> String {
    let text = mask_blocks(text);
    mask_free_text(&scrub_str(&text, &Scrubber::new(&[], Vec::new())))
}

/// [`free_text`], keeping `keep` where it stands on its own (not inside a
/// longer run of base64url, as inside a token): values the report shows
/// anyway, such as the token's `kid`, which a message quotes and the reader
/// must be able to compare. Values under 4 characters are not kept apart.
pub fn free_text_keeping(text: &str, keep: &[&str]) -> String {
    keeping(text, keep, free_text)
}

/// `mask(text)`, keeping `keep` where it stands on its own (see
/// [`free_text_keeping`]).
fn keeping(text: &str, keep: &[&str], mask: impl Fn(&str) -> String) -> String {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    let mut kept: Vec<&str> = keep
        .iter()
        .copied()
        .filter(|k| k.len() >= 4 && !k.contains(['\u{E000}', '\u{E001}']) && text.contains(*k))
        .collect();
    if kept.is_empty() {
        return mask(text);
    }
    kept.sort_by_key(|k| std::cmp::Reverse(k.len()));
    kept.dedup();
    // Each kept value becomes a private-use marker no rule masks, and back.
    let mut marked = text.to_string();
    for (i, k) in kept.iter().enumerate() {
        let mut out = String::with_capacity(marked.len());
        let mut rest = marked.as_str();
        let mut consumed = 0;
        while let Some(at) = rest.find(k) {
            let b = marked.as_bytes();
            let (start, end) = (consumed + at, consumed + at + k.len());
            let alone = (start == 0 || !word(b[start - 1])) && b.get(end).is_none_or(|&c| !word(c));
            out.push_str(&rest[..at]);
            if alone {
                out.push_str(&format!("\u{E000}{i}\u{E001}"));
            } else {
                out.push_str(k);
            }
            rest = &rest[at + k.len()..];
            consumed = end;
        }
        out.push_str(rest);
        marked = out;
    }
    let mut masked = mask(&marked);
    for (i, k) in kept.iter().enumerate() {
        masked = masked.replace(&format!("\u{E000}{i}\u{E001}"), k);
    }
    masked
}

/// Secrets that span lines, masked whole before the text is looked at line
/// by line and word by word: a PEM private key (its last, short line of
/// base64 looks like nothing on its own), and a JWT folded over lines of
/// one width (`fold -w 64`, a wrapped log), whose last line is the end of
/// its signature.
fn mask_blocks(text: &str) -> Cow<'_, str> {
    static PRIVATE_KEY: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?s:.*?)(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\z)")
            .expect("static regex")
    });
    // A private JWK's members, pasted as JSON (escaped too: `\"d\":\"…\"`).
    static JWK_PRIVATE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(\\?"(?:d|p|q|dp|dq|qi|k)\\?"\s*:\s*\\?")[A-Za-z0-9_-]{8,}"#)
            .expect("static regex")
    });
    let mut text = Cow::Borrowed(text);
    if text.contains("PRIVATE KEY")
        && let Cow::Owned(masked) = PRIVATE_KEY.replace_all(&text, "«masked:privatekey»")
    {
        text = Cow::Owned(masked);
    }
    if text.contains("kty")
        && let Cow::Owned(masked) = JWK_PRIVATE.replace_all(&text, "${1}«masked:privatekey»")
    {
        text = Cow::Owned(masked);
    }
    if !text.contains("eyJ") || !text.contains('\n') {
        return text;
    }
    // A folded token runs to the end of its first line: the one start to
    // try on a line is the first `eyJ` of the line's last base64url run (so
    // each line is read once, however many `eyJ` it holds).
    let b64 = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.');
    let mut out = String::with_capacity(text.len());
    let (mut copied, mut line_start) = (0, 0);
    while line_start < text.len() {
        let line_end = text[line_start..]
            .find('\n')
            .map_or(text.len(), |i| line_start + i);
        let line = text[line_start..line_end].trim_end_matches('\r');
        let run = line.bytes().rposition(|c| !b64(c)).map_or(0, |i| i + 1);
        let folded = line[run..].find("eyJ").and_then(|at| {
            let start = run + at;
            folded_jwt_end(&text[line_start..], start).map(|len| (start, len))
        });
        match folded {
            Some((start, len)) => {
                out.push_str(&text[copied..line_start + start]);
                out.push_str("«redacted:jwt»");
                copied = line_start + len;
                line_start = copied;
            }
            None => line_start = line_end + 1,
        }
    }
    if copied == 0 {
        return text;
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// Where a JWT that starts at `start` of the first of `lines` ends, when it
/// goes on over the next lines: each continuation only base64url and dots,
/// all as long as the first of them but the last (no longer), and the whole
/// holding a JWT's two dots. `None` for a token on one line.
fn folded_jwt_end(lines: &str, start: usize) -> Option<usize> {
    let b64 = |l: &str| {
        !l.is_empty()
            && l.bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
    };
    let mut parts = lines.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let first = parts.next()?;
    if first.len() < start + 16 || !b64(&first[start..]) {
        return None;
    }
    let mut end = first.len();
    let mut dots = first[start..].matches('.').count();
    let mut continued = false;
    let mut width = None;
    let mut offset = lines.find('\n')? + 1;
    for line in parts {
        let width = *width.get_or_insert(line.len());
        if width < 16 || !b64(line) || line.len() > width {
            break;
        }
        // A whole token on its line is followed by a line of its own,
        // unless both have a fold's width.
        if !continued && dots >= 2 && first.len() != width {
            break;
        }
        continued = true;
        dots += line.matches('.').count();
        end = offset + line.len();
        offset += lines[offset..]
            .find('\n')
            .map_or(lines.len() - offset, |i| i + 1);
        if line.len() < width {
            break;
        }
    }
    (continued && dots >= 2).then_some(end)
}

/// Masks words in free text that are shaped like personal data or secrets.
///
/// (Word boundaries in these rules are ASCII ones, `(?-u:\b)`: a Unicode
/// `\b` makes the regex engine give up its fast automaton on any text with
/// a non-ASCII character, `«` of a placeholder included, and a text of many
/// placeholders took a second per megabyte.)
///
/// Logs glue values to names (`user=alice@example.com`, `"ip":"203.0.113.7"`),
/// so each whitespace-separated word is also looked at piece by piece,
/// between `=`, quotes, commas and brackets; a piece is masked, never the
/// whole word (`expired","time":"2025-10-09T08:53:20Z"` keeps `expired`).
/// Values that span words are found first: card numbers written in groups,
/// and values of fields named like a password or a person's name.
fn mask_free_text(text: &str) -> String {
    let text = mask_named_values(text);
    let text = mask_emails(&text);
    let text = mask_grouped_numbers(&text);
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while !rest.is_empty() {
        let start = rest
            .find(|c: char| !c.is_whitespace())
            .unwrap_or(rest.len());
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        mask_word(&rest[..end], &mut out);
        rest = &rest[end..];
    }
    out
}

/// Characters that separate a log word into name and value pieces: `=`
/// and quotes only, so a generated password with `,` or `(` in it stays
/// one piece, long enough to be seen as a secret.
const PIECE_DELIMITERS: &str = "=\"'`";

fn mask_word(word: &str, out: &mut String) {
    let mut piece_start = 0;
    // The last piece that named something (`exp` in `exp=…`, `x5t#S256`
    // in `"x5t#S256":"…"`): what the value after it is.
    let mut name = "";
    for (i, c) in word.char_indices() {
        if PIECE_DELIMITERS.contains(c) {
            let piece = &word[piece_start..i];
            if !masked_core(piece, name, out) {
                out.push_str(piece);
            }
            if piece.contains(|c: char| c.is_alphanumeric()) {
                name = piece;
            }
            out.push(c);
            piece_start = i + c.len_utf8();
        }
    }
    let last = &word[piece_start..];
    if !masked_core(last, name, out) {
        out.push_str(last);
    }
}

/// Names whose values are public key identifiers: a certificate's
/// thumbprint, a key id.
fn names_public_id(name: &str) -> bool {
    let n = name
        .trim_matches(|c: char| !c.is_alphanumeric() && c != '#')
        .to_ascii_lowercase();
    ["x5t", "x5t#s256", "thumbprint", "kid", "keyid", "key_id"]
        .iter()
        .any(|id| n == *id || n.ends_with(&format!(".{id}")))
}

/// Pushes `piece` with its sensitive core masked, if it has one. `name` is
/// the piece before it in the same word, if any.
fn masked_core(piece: &str, name: &str, out: &mut String) -> bool {
    let core = piece.trim_matches(|c: char| "\"'`()[]{}<>,;:.!?".contains(c));
    // Absolute and relative file paths name files, they are not secrets.
    let path = core.starts_with('/') || core.starts_with("./") || core.starts_with("~/");
    // A hex id in a message (a kid, a trace id, a hash it compares) is
    // what the user needs to see; hex claims are masked by the claim rules.
    let hex = core.len() >= 32 && core.bytes().all(|b| b.is_ascii_hexdigit());
    match sensitive::classify(core) {
        // `x5t#S256=…`: a public thumbprint; `exp=1773500000014`: a time.
        Some(Shape::HighEntropy) if names_public_id(name) => false,
        Some(Shape::Card) if sensitive::is_time_name(name) && sensitive::plausible_time(core) => {
            false
        }
        Some(shape) if !core.is_empty() && !path && !hex => {
            out.push_str(&piece.replace(core, &format!("«masked:{}»", shape.label())));
            true
        }
        // An address inside a path or URL: `/users/ann@example.com/orders`.
        _ if core.contains('@') && core.contains('/') => {
            let mut changed = false;
            let masked: Vec<String> = piece
                .split('/')
                .map(|segment| {
                    if sensitive::classify(segment) == Some(Shape::Email) {
                        changed = true;
                        "«masked:email»".to_string()
                    } else {
                        segment.to_string()
                    }
                })
                .collect();
            if changed {
                out.push_str(&masked.join("/"));
            }
            changed
        }
        _ => false,
    }
}

/// Whether a value may hold an email address among other text: an `@`,
/// fullwidth or URL-encoded (`carol%40example.org`).
fn may_hold_email(s: &str) -> bool {
    s.contains('@') || s.contains('＠') || s.contains("%40")
}

/// Email addresses wherever they are in a word: in a list
/// (`a@x.org,b@x.org`), an element (`<saml:NameID>g@x.org</saml:NameID>`),
/// a parameter list (`upn=o@x.org;tid=…`), URL-encoded (`carol%40x.org`).
/// Addresses that are a word on their own are found word by word too; an
/// address glued to letters beyond ASCII (`jörg@…`) is left to that rule,
/// which sees all of it. Google service accounts are workloads, kept.
fn mask_emails(text: &str) -> Cow<'_, str> {
    if !(text.contains('@') || text.contains("%40")) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(outside_placeholders(text, &EMAIL_IN_TEXT, |c| {
        let m = c.get(0).expect("whole match");
        let before = text[..m.start()].chars().next_back();
        let glued = before.is_some_and(|b| b.is_alphanumeric() && !b.is_ascii());
        let local = m.as_str().split(['@', '%']).next().unwrap_or_default();
        let workload = m
            .as_str()
            .to_ascii_lowercase()
            .ends_with(".gserviceaccount.com");
        if glued || workload || local.trim_matches(['.', '+', '-', '_']).is_empty() {
            m.as_str().to_string()
        } else {
            "«masked:email»".to_string()
        }
    }))
}

/// `password: hunter2`, `"client_secret":"s3"`, `name='Alice Smith'`: the
/// value of a field whose name says what it holds, whatever its shape.
fn mask_named_values(text: &str) -> String {
    static SECRET: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r#"(?i)(?-u:\b)((?:[a-z0-9]+[_-])*(?:[a-z0-9]{1,8}(?:password|passwd|secret)|password|passwd|pwd|pass|passphrase|client_secret|secret|api[_-]?key|access[_-]?key|private[_-]?key)(?:\s+used|\s+was|\s+is)?"?\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s,;&"'}]+)"#,
        )
        .expect("static regex")
    });
    static PERSON: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r#"(?i)(?-u:\b)((?:user|username|user_name|login|email|e-mail|mail|phone|phone_number|mobile|given_name|family_name|first_?name|last_?name|full_?name|display_?name)"?\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s,;&"'}]+)"#,
        )
        .expect("static regex")
    });
    // `name` alone also names error classes (`name: 'TokenExpiredError'`):
    // only a value with a space in it is a person's name.
    static FULL_NAME: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?i)(?-u:\b)(name"?\s*[:=]\s*)("[^"]* [^"]*"|'[^']* [^']*')"#)
            .expect("static regex")
    });
    // Tokens and passwords in forms where a bare `token:` would be prose
    // (`invalid_token: The token is expired`): `name=value` and JSON members
    // for tokens, a `Bearer` credential, a password flag.
    static CREDENTIAL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r#"(?i)((?-u:\b)[a-z_]*token=|"[a-z_]*token"\s*:\s*"|(?-u:\b)(?:bearer|basic)\s+|--?(?:password|passwd|pass|secret)[= ]\s*)([A-Za-z0-9._~+/:-]{6,}=*)"#,
        )
        .expect("static regex")
    });
    // A key by a name that says it signs or encrypts, given in quotes.
    static KEY: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?i)(?-u:\b)((?:[a-z0-9]+[_-])*key"?\s*[:=]\s*)("[^"\s]{8,}"|'[^'\s]{8,}')"#)
            .expect("static regex")
    });
    // Every cookie value of a `Cookie:` or `Set-Cookie:` header, wherever
    // it is on its line (`GET /x Cookie: a=b; c=d`), or quoted as a
    // member (`"cookie":"sid=X"`, `'cookie': 'sid=X'`).
    static COOKIE_LINE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r#"(?i)((?-u:\b)(?:set-)?cookie\s*:\s*)([^\s;=]+=[^;\s]*(?:;\s*[^\s;=]+(?:=[^;\s]*)?)*)|((?:set-)?cookie["']\s*:\s*)("[^"\r\n]*"|'[^'\r\n]*')"#,
        )
        .expect("static regex")
    });
    // Any `Authorization` value (`Token …`, `Digest …`, a bare key): the
    // Bearer and Basic ones are found by their own rules too.
    // A value of parameters (`Digest username="…", response="…"`, AWS
    // SigV4's `Credential=…, Signature=…`) is masked whole, up to the last
    // parameter, so the rest of a JSON log line stays.
    static AUTHORIZATION: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r#"(?i)((?-u:\b)authorization["']?\s*[:=]\s*["']?(?:[a-z][a-z0-9-]*\s+)?)((?:[a-z][a-z0-9_-]*=(?:\\?"[^"\\\r\n]*\\?"|[^,\s"'\\]+)(?:,\s*)?)+|[A-Za-z0-9._~+/:=%-]{6,})"#,
        )
        .expect("static regex")
    });
    // Passwords on command lines that take them glued to or after a
    // short flag: `mysql -pX`, `sshpass -p X`, `redis-cli -a X`,
    // `docker login -p X`, `mongosh -p X`.
    static COMMAND_PASSWORD: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r#"((?-u:\b)(?i:mysql|mysqldump|mysqladmin|mariadb|mariadb-dump)(?-u:\b)[^\r\n|;&]*?\s-p|(?-u:\b)sshpass\s+-p\s*|(?-u:\b)redis-cli(?-u:\b)[^\r\n|;&]*?\s(?:-a|--pass)\s+|(?-u:\b)(?:docker|podman|nerdctl|buildah|helm\s+registry)\s+login(?-u:\b)[^\r\n|;&]*?\s-p\s+|(?-u:\b)(?:mongo|mongosh|mongodump|mongorestore)(?-u:\b)[^\r\n|;&]*?\s-p\s+)("[^"\r\n]*"|'[^'\r\n]*'|[^\s"']+)"#,
        )
        .expect("static regex")
    });
    // `client_secret Xk9fQ2mZp7`, `the password was hunter2`: a secret's
    // name and its value with only a space between; the value must look
    // generated (letters with digits or symbols), since prose follows such
    // names too (`password is incorrect`, `client secret expired`).
    static SECRET_SPACED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r#"(?i)(?-u:\b)((?:[a-z0-9]+[_-])*(?:password|passwd|pwd|passphrase|client_secret|secret|api[_ \t-]?key|access[_ \t-]?key)[ \t]+(?:(?:used|was|is|of|to)[ \t]+){0,2})([^\s,;&"'}«]{6,})"#,
        )
        .expect("static regex")
    });
    // A setting named like a signing secret in any case style, with the
    // value after `=` or `:` (`"IssuerSigningKey": "…"`, `app.jwtSecret=…`,
    // `jwt.secret-key=…`, `JWT_SIGNING_KEY=…`, `signingKey: …`): the name
    // is judged by `sensitive::is_secret_setting_name`.
    static CONFIG_SECRET: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?-u:\b)([A-Za-z0-9_.:-]*(?i:secret|password|passwd|pwd|passphrase|key))(["']?\s*[:=]\s*)("[^"\r\n]*"|'[^'\r\n]*'|[^\s,;&"'}]+)"#)
            .expect("static regex")
    });
    // A string literal passed as the key to a JWT library's call: the second
    // argument of `verify`/`sign`/`decode` (`jwt.verify(token, 'secret')`),
    // the first of a key constructor (`Algorithm.HMAC256("…")`,
    // `setSigningKey("…")`, `hmacShaKeyFor("…".getBytes())`,
    // `new SymmetricSecurityKey(Encoding.UTF8.GetBytes("…"))`).
    static CODE_SECRET: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r#"((?-u:\b)(?:verify|sign|decode|encode)\s*\(\s*[^,()\r\n]+,\s*|(?-u:\b)(?:HMAC256|HMAC384|HMAC512|setSigningKey|signWith|hmacShaKeyFor|SecretKeySpec|SymmetricSecurityKey|NewHS256|secret_key|secretOrKey|secretOrPublicKey)\s*[(:=]\s*(?:[A-Za-z0-9.]*GetBytes\s*\(\s*)?)("[^"\r\n]+"|'[^'\r\n]+'|`[^`\r\n]+`)"#,
        )
        .expect("static regex")
    });
    // An HTTP header named like a credential (`X-Auth-Token`,
    // `X-CSRF-Token`, `PRIVATE-TOKEN`, `Ocp-Apim-Subscription-Key`,
    // `X-Session-Id`): its value, whatever its shape (a 32-digit hex key
    // is no trace id under such a name).
    static HEADER_CREDENTIAL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?-u:\b)((?:[A-Za-z0-9]+-)+(?i:token|key|secret|password|session-?id|sid|apikey))(["']?\s*:\s*["']?)([^\s"',;]{4,})"#)
            .expect("static regex")
    });
    static COOKIE_VALUE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"([^\s;=]*)=([^;\s]+)").expect("static regex"));
    let mut text = outside_placeholders(text, &COOKIE_LINE, |c: &regex::Captures| {
        let (name, list) = match (c.get(1), c.get(2), c.get(3), c.get(4)) {
            (Some(n), Some(l), _, _) | (_, _, Some(n), Some(l)) => (n.as_str(), l.as_str()),
            _ => return c[0].to_string(),
        };
        // A quoted list is masked inside its quotes; one without `=` is
        // one cookie's value.
        let quote = if c.get(4).is_some() { &list[..1] } else { "" };
        let list = &list[quote.len()..list.len() - quote.len()];
        if !quote.is_empty() && !list.contains('=') {
            return format!("{name}{quote}«masked:cookie»{quote}");
        }
        let values = COOKIE_VALUE.replace_all(list, |v: &regex::Captures| {
            // A Set-Cookie attribute says how the cookie travels: the
            // evidence for a cookie the browser did not send.
            const ATTRIBUTES: [&str; 6] = [
                "path", "domain", "expires", "max-age", "samesite", "priority",
            ];
            let attribute = ATTRIBUTES.iter().any(|a| v[1].eq_ignore_ascii_case(a))
                || v[2].starts_with("«masked");
            if attribute {
                v[0].to_string()
            } else {
                format!("{}=«masked:cookie»", &v[1])
            }
        });
        format!("{name}{quote}{values}{quote}")
    });
    text = outside_placeholders(&text, &AUTHORIZATION, |c: &regex::Captures| {
        let value = &c[2];
        // A word (`authorization: missing`) is no credential.
        let word = value.len() < 20 && value.bytes().all(|b| b.is_ascii_alphabetic());
        if word || value.starts_with("eyJ") {
            c[0].to_string()
        } else {
            // The separator after a list of parameters is not part of it.
            let list = value.trim_end_matches([',', ' ', '\t']);
            format!("{}«masked:credential»{}", &c[1], &value[list.len()..])
        }
    });
    text = outside_placeholders(&text, &COMMAND_PASSWORD, |c: &regex::Captures| {
        format!("{}«masked:secret»", &c[1])
    });
    text = outside_placeholders(&text, &SECRET_SPACED, |c: &regex::Captures| {
        let value = c[2].trim_end_matches(['.', ')', ']']);
        let letters = value.bytes().any(|b| b.is_ascii_alphabetic());
        let other = value.bytes().any(|b| !b.is_ascii_alphabetic());
        if letters && other && !value.starts_with("eyJ") {
            format!("{}«masked:secret»{}", &c[1], &c[2][value.len()..])
        } else {
            c[0].to_string()
        }
    });
    // A value that is a placeholder already (`«redacted»` from a body
    // excerpt) stays as it is.
    let placeholder = |v: &str| v.trim_start_matches(['"', '\'']).starts_with('«');
    // `jwtSecret: undefined`, `secret=null`: what is wrong, no value to hide.
    let no_value = |v: &str| {
        ["", "undefined", "null", "none", "nil", "true", "false"]
            .contains(&v.trim_matches(['"', '\'']).to_ascii_lowercase().as_str())
    };
    text = outside_placeholders(&text, &KEY, |c: &regex::Captures| {
        if placeholder(&c[2]) {
            c[0].to_string()
        } else {
            format!("{}«masked:secret»", &c[1])
        }
    });
    text = outside_placeholders(&text, &SECRET, |c: &regex::Captures| {
        if placeholder(&c[2]) || no_value(&c[2]) {
            c[0].to_string()
        } else {
            format!("{}«masked:secret»", &c[1])
        }
    });
    text = outside_placeholders(&text, &CONFIG_SECRET, |c: &regex::Captures| {
        let value = c[3].trim_matches(['"', '\'']);
        // `${JWT_SECRET}` says where it comes from.
        let kept = no_value(value) || value.starts_with("${") || placeholder(value);
        if kept || !sensitive::is_secret_setting_name(&c[1]) {
            c[0].to_string()
        } else {
            let quote = &c[3][..c[3].len() - c[3].trim_start_matches(['"', '\'']).len()];
            format!("{}{}{quote}«masked:secret»{quote}", &c[1], &c[2])
        }
    });
    text = outside_placeholders(&text, &CODE_SECRET, |c: &regex::Captures| {
        let literal = &c[2];
        let quote = &literal[..1];
        format!("{}{quote}«masked:secret»{quote}", &c[1])
    });
    text = outside_placeholders(&text, &HEADER_CREDENTIAL, |c: &regex::Captures| {
        let name = c[1].to_ascii_lowercase();
        let value = &c[3];
        let credential_header = [
            "-token",
            "-key",
            "-secret",
            "-password",
            "-session-id",
            "-sessionid",
            "-sid",
            "-apikey",
        ]
        .iter()
        .any(|end| name.ends_with(end));
        // A word (`X-Api-Key: missing`) is no credential.
        let word = value.len() < 20 && value.bytes().all(|b| b.is_ascii_alphabetic());
        if credential_header && !word && !value.starts_with("eyJ") && !value.starts_with('«') {
            format!("{}{}«masked:credential»", &c[1], &c[2])
        } else {
            c[0].to_string()
        }
    });
    text = outside_placeholders(&text, &CREDENTIAL, |c: &regex::Captures| {
        if c[2].starts_with("«masked") || c[2].starts_with("eyJ") {
            c[0].to_string()
        } else {
            format!("{}«masked:secret»", &c[1])
        }
    });
    for (re, label) in [(&*PERSON, "personal"), (&*FULL_NAME, "name")] {
        text = outside_placeholders(&text, re, |c: &regex::Captures| {
            // A value already masked, or empty, stays as it is.
            if c[2].contains("«masked:") || c[2].trim_matches(['"', '\'']).is_empty() {
                c[0].to_string()
            } else {
                format!("{}«masked:{label}»", &c[1])
            }
        });
    }
    text
}

/// `re` replaced by `f` in `text`, except inside a placeholder jwtai wrote
/// (`«masked:email:17:3fa2»` holds `email:`, which is no field to mask).
fn outside_placeholders(text: &str, re: &Regex, f: impl Fn(&regex::Captures) -> String) -> String {
    // Where placeholders open and close, found once: a text of many matches
    // is not searched backwards from each.
    let opens: Vec<usize> = text.match_indices('«').map(|(i, _)| i).collect();
    let closes: Vec<usize> = text.match_indices('»').map(|(i, _)| i).collect();
    re.replace_all(text, |c: &regex::Captures| {
        let start = c.get(0).map_or(0, |m| m.start());
        let open = opens
            .partition_point(|&i| i < start)
            .checked_sub(1)
            .map(|k| opens[k]);
        let inside = open.is_some_and(|open| {
            let close = closes.partition_point(|&i| i < open);
            closes.get(close).is_none_or(|&i| i >= start)
        });
        if inside { c[0].to_string() } else { f(c) }
    })
    .into_owned()
}

/// `4111 1111 1111 1111`, `4111-1111-1111-1111`: a card number in groups
/// spans words; masked when its digits pass the Luhn check.
fn mask_grouped_numbers(text: &str) -> String {
    static GROUPED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?-u:\b)[0-9]{4}(?:[ -][0-9]{3,6}){2,4}(?-u:\b)").expect("static regex")
    });
    // `+1 415 555 0100`, `+44 (20) 7946-0958`: an international phone
    // number in groups.
    static PHONE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\+[0-9]{1,3}(?:[ .-]\(?[0-9]{1,4}\)?){2,5}").expect("static regex")
    });
    // `020 7946 0958`, `06 12 34 56 78`: a national one.
    static NATIONAL_PHONE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?-u:\b)0[1-9][0-9]{0,4}(?:[ .-][0-9]{2,8}){1,4}(?-u:\b)")
            .expect("static regex")
    });
    // `(020) 7946 0958`, `00 44 20 7946 0958`: a trunk code in brackets,
    // the international prefix dialled.
    static OTHER_PHONE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\(0[0-9]{1,4}\) ?[0-9]{3,4}[ -]?[0-9]{3,4}(?-u:\b)|(?-u:\b)00 ?[1-9][0-9]{0,2}(?:[ .-][0-9]{1,4}){2,5}(?-u:\b)")
            .expect("static regex")
    });
    // `DE89 3704 0044 0532 0130 00`: an IBAN as it is printed.
    static IBAN: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?-u:\b)[A-Z]{2}[0-9]{2}(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,3})?(?-u:\b)")
            .expect("static regex")
    });
    let mut text = Cow::Borrowed(text);
    // IBANs first: their digit groups also look like a national phone number.
    for (re, shape) in [
        (&*IBAN, Shape::Iban),
        (&*GROUPED, Shape::Card),
        (&*PHONE, Shape::Phone),
        (&*OTHER_PHONE, Shape::Phone),
        (&*NATIONAL_PHONE, Shape::Phone),
    ] {
        if let Cow::Owned(replaced) = re.replace_all(&text, |c: &regex::Captures| {
            if sensitive::classify(&c[0]) == Some(shape) {
                format!("«masked:{}»", shape.label())
            } else {
                c[0].to_string()
            }
        }) {
            text = Cow::Owned(replaced);
        }
    }
    text.into_owned()
}

/// A report for local output: masked unless `--reveal`.
#[derive(Debug, Clone)]
pub struct Displayed(Report);

impl Displayed {
    pub fn report(&self) -> &Report {
        &self.0
    }

    /// Adds the model's explanation; it was produced from the redacted report,
    /// so it holds nothing the display may not show.
    pub fn with_explanation(mut self, e: crate::report::Explanation) -> Displayed {
        self.0.explanation = Some(e);
        self
    }
}

pub fn redact(report: Report, policy: &Policy) -> Redacted {
    let (report, replacements) = apply(report, policy, true);
    let keep = public_identifiers(&report, &replacements);
    Redacted {
        report,
        replacements,
        keep,
    }
}

/// A finding of a whole run, tied to no token (`scan`'s failed JWKS
/// fetch): any JWT, URL credentials and the user's secrets taken out, as
/// from a report's findings.
pub fn run_finding(mut f: Finding, policy: &Policy) -> Finding {
    scrub_finding(&mut f, &Scrubber::new(&policy.scrub, Vec::new()));
    f
}

/// Text of a whole run (a URL it fetched), treated as [`run_finding`]'s.
pub fn run_text(text: &str, policy: &Policy) -> String {
    scrub_str(text, &Scrubber::new(&policy.scrub, Vec::new()))
}

/// One header field exactly as [`redact`] shows it, for callers that
/// summarise a field without redacting a whole report (`scan`).
pub fn header_value(policy: &Policy, name: &str, v: Value) -> Value {
    Masker {
        policy,
        replacements: Vec::new(),
    }
    .header_entry(name, v, true)
}

/// One claim exactly as [`redact`] shows it (see [`header_value`]).
pub fn claim_value(policy: &Policy, name: &str, v: Value) -> Value {
    Masker {
        policy,
        replacements: Vec::new(),
    }
    .claim(name, v)
}

pub fn for_display(report: Report, policy: &Policy) -> Displayed {
    Displayed(apply(report, policy, !policy.reveal).0)
}

fn apply(mut report: Report, policy: &Policy, mask: bool) -> (Report, Scrubber) {
    let mut masker = Masker {
        policy,
        replacements: Vec::new(),
    };
    if let Some(header) = report.token.header.take() {
        report.token.header = Some(masker.header(header, mask));
    }
    if mask {
        if let Some(claims) = report.token.claims.take() {
            report.token.claims = Some(masker.claims(claims));
        }
    }
    let replacements = Scrubber::new(&policy.scrub, masker.replacements);
    for f in &mut report.findings {
        if mask {
            // Addresses the finding quotes from elsewhere (an expected
            // value, a message): masked like a claim's, whole (not the
            // token's address inside a longer one, leaving its start).
            mask_finding_emails(f, &policy.key);
        }
        scrub_finding(f, &replacements);
    }
    (report, replacements)
}

/// `«masked:KIND:LEN:HASH»` for `v`: the hash keyed, so equal values
/// compare equal without being revealed.
fn masked_form(key: &hmac::Key, kind: &str, v: &Value) -> String {
    let len = match v {
        Value::String(s) => s.chars().count(),
        Value::Number(n) => n.to_string().len(),
        Value::Array(a) => a.len(),
        Value::Object(o) => o.len(),
        other => other.to_string().len(),
    };
    let tag = hmac::sign(key, v.to_string().as_bytes());
    let hash: String = tag.as_ref()[..2]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("«masked:{kind}:{len}:{hash}»")
}

fn mask_finding_emails(f: &mut Finding, key: &hmac::Key) {
    let mask = |text: &str| -> Option<String> {
        if !text.contains('@') {
            return None;
        }
        let masked = EMAIL_IN_TEXT.replace_all(text, |c: &regex::Captures| {
            let m = &c[0];
            if sensitive::classify(m) == Some(Shape::Email) {
                masked_form(key, "email", &Value::String(m.to_string()))
            } else {
                m.to_string()
            }
        });
        match masked {
            Cow::Owned(o) => Some(o),
            Cow::Borrowed(_) => None,
        }
    };
    if let Some(d) = mask(&f.detail) {
        f.detail = d;
    }
    if let Some(fix) = f.fix.as_deref().and_then(mask) {
        f.fix = Some(fix);
    }
    fn each_string(v: &mut Value, mask: &dyn Fn(&str) -> Option<String>) {
        match v {
            Value::String(s) => {
                if let Some(m) = mask(s) {
                    *s = m;
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| each_string(x, mask)),
            Value::Object(o) => o.values_mut().for_each(|x| each_string(x, mask)),
            _ => {}
        }
    }
    each_string(&mut f.evidence, &mask);
}

/// An address, ASCII, wherever it is, also URL-encoded (`carol%40x.org`)
/// ([`mask_emails`] says more).
static EMAIL_IN_TEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)[a-z0-9._%+-]+(?:@|%40)[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?-u:\b)")
        .expect("static regex")
});

/// Every string to take out of free text, and what replaces it.
///
/// The credentials (the token, its segments, the secrets: a handful of long
/// strings) are replaced first, longest first. Masked claim values can number
/// in the thousands for a hostile token, and a finding can quote all of them:
/// replacing them one after the other costs values × text length (over a
/// minute for a one-megabyte token), so they go in one Aho-Corasick pass,
/// leftmost-longest, linear in the text.
#[derive(Debug, Clone)]
struct Scrubber {
    /// Longest first; each becomes `«redacted»`.
    credentials: Vec<String>,
    /// Longest first, with the masked form of each at the same index.
    masked: Vec<String>,
    masked_to: Vec<String>,
    /// Finds every `masked` string in one pass. Built on first need only:
    /// most reports quote none of their masked values in any text, and
    /// building the automaton per report dominated writing every report of a
    /// scan. `None` inside when it cannot be built: then they are replaced
    /// one by one.
    finder: OnceLock<Option<AhoCorasick>>,
}

/// Up to this many masked strings, a text is first searched for each of them
/// (cheaper than building the automaton, which is then built only when one
/// is there); past it, the automaton is built at once.
const FEW_MASKED: usize = 32;

impl Scrubber {
    fn new(scrub: &[String], masked: Vec<(String, String)>) -> Scrubber {
        let long_enough = |s: &str| s.chars().count() >= 4;
        let mut credentials: Vec<String> =
            scrub.iter().filter(|s| long_enough(s)).cloned().collect();
        credentials.sort_by_key(|s| std::cmp::Reverse(s.len()));
        let mut masked: Vec<(String, String)> = masked
            .into_iter()
            .filter(|(from, _)| long_enough(from))
            .collect();
        // A detail quotes a long value cut short (`checks::show`): its
        // prefix must be masked as the whole value is.
        let cut = crate::checks::SHOW_CUT_CHARS - 1;
        let prefixes: Vec<(String, String)> = masked
            .iter()
            .filter(|(from, _)| from.chars().count() > cut)
            .map(|(from, to)| (from.chars().take(cut).collect(), to.clone()))
            .collect();
        masked.extend(prefixes);
        masked.sort_by_key(|(from, _)| std::cmp::Reverse(from.len()));
        let (masked, masked_to): (Vec<String>, Vec<String>) = masked.into_iter().unzip();
        Scrubber {
            credentials,
            masked,
            masked_to,
            finder: OnceLock::new(),
        }
    }
}

struct Masker<'a> {
    policy: &'a Policy,
    /// original string → its masked form, to scrub finding texts too.
    replacements: Vec<(String, String)>,
}

impl Masker<'_> {
    // Header and claims are rewritten in place: same order, no rebuilt map.
    fn header(&mut self, mut header: Map<String, Value>, mask: bool) -> Map<String, Value> {
        for (k, slot) in header.iter_mut() {
            let v = std::mem::take(slot);
            *slot = self.header_entry(k, v, mask);
        }
        header
    }

    fn header_entry(&mut self, name: &str, v: Value, mask: bool) -> Value {
        match name {
            "jwk" => summarise_jwk(&v),
            "x5c" => Value::String(format!(
                "«x5c: {} certificate(s) omitted»",
                v.as_array().map_or(1, Vec::len)
            )),
            _ if !mask => v,
            // Evidence too, but of fixed vocabularies (`JWT`, `b64`,
            // `A256GCM`, `DEF`): a value of any sensitive shape there, a
            // long random one included, is masked as in any claim.
            "alg" | "typ" | "cty" | "crit" | "enc" | "zip" => self.by_shape(v, 0),
            // Evidence, kept unless it is unmistakably a secret or a person's
            // (a token or a key pasted as `kid`, a key set's URL with its
            // password): the key id, a certificate's public thumbprint, a key
            // set's address.
            "kid" | "x5t" | "x5t#S256" | "jku" | "x5u" => self.strong_only(v),
            // Named like a secret or a person, as in the claims.
            _ if sensitive::is_secret_name(name) || sensitive::is_pii_name(name) => {
                self.mask(&v, None)
            }
            _ => self.by_shape(v, 0),
        }
    }

    fn claims(&mut self, claims: Map<String, Value>) -> Map<String, Value> {
        // A `sub` equal to the client's own id (client credentials: Cognito,
        // Auth0 `…@clients`) names a client, not a person: it is kept like
        // the public identifier it repeats, or masking it would mask that
        // identifier (and `--aud`) everywhere it is quoted.
        let client_sub = claims
            .get("sub")
            .and_then(Value::as_str)
            .is_some_and(|sub| {
                PUBLIC_ID_CLAIMS
                    .iter()
                    .any(|n| claims.get(*n).and_then(Value::as_str) == Some(sub))
            });
        let mut out = Map::with_capacity(claims.len());
        for (k, v) in claims {
            let v = if client_sub && k == "sub" && !self.policy.mask.contains(&k) {
                self.strong_only(v)
            } else {
                self.claim(&k, v)
            };
            let k = self.member_name(k, &out);
            out.insert(k, v);
        }
        out
    }

    /// A member's name that is itself personal data or a secret (a map
    /// keyed by users' addresses): masked like a value, and unique.
    fn member_name(&mut self, name: String, taken: &Map<String, Value>) -> String {
        match sensitive::classify(&name) {
            Some(shape) if Self::strong(shape) || shape == Shape::Iban => {
                let masked = self.mask(&Value::String(name), Some(shape));
                let masked = masked.as_str().unwrap_or_default();
                let mut unique = masked.to_string();
                let mut n = 1;
                while taken.contains_key(&unique) {
                    n += 1;
                    unique = format!("{masked}#{n}");
                }
                unique
            }
            _ => name,
        }
    }

    fn claim(&mut self, name: &str, v: Value) -> Value {
        let p = self.policy;
        if p.keep.iter().any(|k| k == name) {
            return v;
        }
        if p.mask.iter().any(|m| m == name)
            || ALWAYS_MASK.contains(&name)
            || sensitive::is_pii_name(name)
            || sensitive::is_secret_name(name)
        {
            return self.mask(&v, None);
        }
        if KEEP.contains(&name) {
            return self.strong_only(v);
        }
        if is_time(name, &v) {
            return v;
        }
        self.by_shape(v, 0)
    }

    /// Shapes masked even in claims kept for diagnosis.
    fn strong(shape: Shape) -> bool {
        !matches!(shape, Shape::Ip | Shape::HighEntropy | Shape::Iban)
    }

    /// Kept claims: mask only values that are unmistakably personal or secret.
    fn strong_only(&mut self, v: Value) -> Value {
        match v {
            Value::String(s) => match sensitive::classify(&s) {
                Some(shape) if Self::strong(shape) => self.mask(&Value::String(s), Some(shape)),
                // A word of a list (`scope: "read bob@example.com"`): that
                // word, so the rest still says what the token grants.
                _ if s.contains(char::is_whitespace) => {
                    let mut out = String::with_capacity(s.len());
                    for piece in s.split_inclusive(char::is_whitespace) {
                        let word = piece.trim_end_matches(char::is_whitespace);
                        match sensitive::classify(word) {
                            Some(shape) if Self::strong(shape) => {
                                let masked =
                                    self.mask(&Value::String(word.to_string()), Some(shape));
                                out.push_str(masked.as_str().unwrap_or_default());
                                out.push_str(&piece[word.len()..]);
                            }
                            _ => out.push_str(piece),
                        }
                    }
                    // A secret by its name (`scope: "read password=X"`), or
                    // a grouped phone number or card: the text's own rules.
                    // (Only for the signs of either: this runs on the scope
                    // of every token `scan` reads.)
                    let signs =
                        s.contains('=') || s.bytes().filter(u8::is_ascii_digit).count() >= 7;
                    if out == s && signs {
                        let text = mask_free_text(&s);
                        if text != s {
                            self.replacements.push((s, text.clone()));
                            return Value::String(text);
                        }
                    }
                    Value::String(out)
                }
                // An address in a URL's path (`…/users/ann@example.com/`):
                // that segment, so the URL still says which issuer it is.
                _ if s.contains('/') && s.contains('@') => {
                    let segments: Vec<String> = s
                        .split('/')
                        .map(|segment| {
                            if sensitive::classify(segment) == Some(Shape::Email) {
                                let masked = self
                                    .mask(&Value::String(segment.to_string()), Some(Shape::Email));
                                masked.as_str().unwrap_or_default().to_string()
                            } else {
                                segment.to_string()
                            }
                        })
                        .collect();
                    Value::String(segments.join("/"))
                }
                _ => Value::String(s),
            },
            // An address among names (`groups: ["admins", "203.0.113.7"]`)
            // is no group nor role.
            Value::Array(a) => Value::Array(
                a.into_iter()
                    .map(|x| match x {
                        Value::String(s) if sensitive::classify(&s) == Some(Shape::Ip) => {
                            self.mask(&Value::String(s), Some(Shape::Ip))
                        }
                        x => self.strong_only(x),
                    })
                    .collect(),
            ),
            // Nested objects are not "registered" anything: the full policy applies.
            obj @ Value::Object(_) => self.by_shape(obj, 1),
            other => other,
        }
    }

    /// Any other value: mask strings that look sensitive, and nested members
    /// whose names are sensitive, at any depth.
    fn by_shape(&mut self, v: Value, depth: usize) -> Value {
        if depth > 32 {
            return self.mask(&v, None);
        }
        match v {
            Value::String(s) => match sensitive::classify(&s) {
                Some(shape) => self.mask(&Value::String(s), Some(shape)),
                // The user's own secret as a claim value, or a sentence with
                // an email, phone or card number in it ("reach me at …").
                None if self.policy.scrub.contains(&s)
                    || (s.contains(char::is_whitespace)
                        && s.contains(|c: char| c == '@' || c.is_ascii_digit())
                        && mask_free_text(&s) != s)
                    || (may_hold_email(&s) && mask_free_text(&s) != s) =>
                {
                    self.mask(&Value::String(s), None)
                }
                None => Value::String(s),
            },
            Value::Number(n) => match sensitive::classify_number(&n) {
                Some(shape) => self.mask(&Value::Number(n), Some(shape)),
                None => Value::Number(n),
            },
            Value::Array(a) => {
                Value::Array(a.into_iter().map(|x| self.by_shape(x, depth + 1)).collect())
            }
            // A private JWK (`kty` with `d`, or a symmetric `k`): its private
            // members, which no claim name gives away.
            Value::Object(mut o) if o.contains_key("kty") => {
                for member in ["d", "p", "q", "dp", "dq", "qi", "k", "oth"] {
                    if let Some(x) = o.get_mut(member) {
                        *x = self.mask(x, Some(Shape::PrivateKey));
                    }
                }
                self.by_shape_members(o, depth)
            }
            Value::Object(o) => self.by_shape_members(o, depth),
            other => other,
        }
    }

    fn by_shape_members(&mut self, o: Map<String, Value>, depth: usize) -> Value {
        let mut out = Map::with_capacity(o.len());
        for (k, x) in o {
            let x = if sensitive::is_pii_name(&k)
                || sensitive::is_secret_name(&k)
                || self.policy.mask.contains(&k)
            {
                self.mask(&x, None)
            } else if is_time(&k, &x) {
                x
            } else {
                self.by_shape(x, depth + 1)
            };
            let k = self.member_name(k, &out);
            out.insert(k, x);
        }
        Value::Object(out)
    }

    fn mask(&mut self, v: &Value, shape: Option<Shape>) -> Value {
        let kind = match v {
            Value::String(s) => shape
                .or_else(|| sensitive::classify(s))
                .map_or("string", Shape::label),
            Value::Number(_) => "number",
            Value::Bool(_) => "bool",
            Value::Null => return Value::Null,
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let masked = masked_form(&self.policy.key, kind, v);
        self.collect(v, &masked);
        Value::String(masked)
    }

    /// Remembers every string inside a masked value, so finding texts that
    /// quote it are scrubbed too.
    fn collect(&mut self, v: &Value, masked: &str) {
        match v {
            Value::String(s) => {
                // Details quote values as JSON too ("Alice \"Al\""): scrub both forms.
                let escaped = serde_json::to_string(s).unwrap_or_default();
                let escaped = escaped.trim_matches('"');
                if escaped != s {
                    self.replacements
                        .push((escaped.to_string(), masked.to_string()));
                }
                self.replacements.push((s.clone(), masked.to_string()));
            }
            Value::Number(n) => {
                let s = n.to_string();
                if s.len() >= 6 {
                    self.replacements.push((s, masked.to_string()));
                }
            }
            Value::Array(a) => a.iter().for_each(|x| self.collect(x, masked)),
            Value::Object(o) => o.values().for_each(|x| self.collect(x, masked)),
            _ => {}
        }
    }
}

/// A number under a time's name (`updated_at`, `event_ts`) that reads as a
/// time: no card number, whatever the Luhn check says.
fn is_time(name: &str, v: &Value) -> bool {
    matches!(v, Value::Number(n) if n.is_u64() && sensitive::plausible_time(&n.to_string()))
        && sensitive::is_time_name(name)
}

fn summarise_jwk(v: &Value) -> Value {
    let get = |k: &str| v.get(k).cloned().unwrap_or(Value::Null);
    json!({
        "kty": get("kty"),
        "kid": get("kid"),
        "crv": get("crv"),
        "note": "embedded key material omitted",
    })
}

fn scrub_finding(f: &mut Finding, replacements: &Scrubber) {
    f.detail = scrub_str(&f.detail, replacements);
    if let Some(fix) = &f.fix {
        f.fix = Some(scrub_str(fix, replacements));
    }
    scrub_value(&mut f.evidence, replacements);
}

/// Any JWT quoted anywhere (an error message, a claim holding a token) is a
/// credential, whether or not it is the token being diagnosed.
static ANY_JWT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{2,}(\.[A-Za-z0-9_-]*)?").expect("static regex")
});

fn scrub_str(s: &str, replacements: &Scrubber) -> String {
    // Every match starts with `eyJ`: most texts have none, and then the
    // regex is neither run nor built (building it is most of a short run).
    let mut out = if s.contains("eyJ") {
        ANY_JWT.replace_all(s, "«redacted:jwt»").into_owned()
    } else {
        s.to_string()
    };
    if out.contains("://")
        && let Cow::Owned(masked) = url_credentials(&out)
    {
        out = masked;
    }
    for from in &replacements.credentials {
        if out.contains(from.as_str()) {
            out = if from.chars().count() >= MIN_SCRUBBED_ANYWHERE {
                out.replace(from.as_str(), "«redacted»")
            } else {
                replace_standalone(&out, from, "«redacted»")
            };
        }
    }
    let masked = &replacements.masked;
    if masked.is_empty()
        || (masked.len() <= FEW_MASKED && !masked.iter().any(|m| out.contains(m.as_str())))
    {
        return out;
    }
    let finder = replacements.finder.get_or_init(|| {
        AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(masked)
            .ok()
    });
    match finder {
        Some(finder) => {
            if finder.is_match(&out) {
                out = finder.replace_all(&out, &replacements.masked_to);
            }
        }
        None => {
            for (from, to) in replacements.masked.iter().zip(&replacements.masked_to) {
                if out.contains(from.as_str()) {
                    out = out.replace(from.as_str(), to);
                }
            }
        }
    }
    out
}

/// `text` with `from` replaced where it stands alone: not glued to a letter,
/// digit, `_` or `-` on either side (a short secret inside a longer word is
/// that word, not the secret).
fn replace_standalone(text: &str, from: &str, to: &str) -> String {
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (at, _) in text.match_indices(from) {
        if at < copied {
            continue;
        }
        let end = at + from.len();
        let alone = !text[..at].chars().next_back().is_some_and(word)
            && !text[end..].chars().next().is_some_and(word);
        if alone {
            out.push_str(&text[copied..at]);
            out.push_str(to);
            copied = end;
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// A URL's credentials, wherever a finding quotes one (an issuer, the
/// `--jwks-uri` it fetched): its userinfo, and the values of query
/// parameters named like a secret. The rest of the URL is the evidence.
fn url_credentials(s: &str) -> Cow<'_, str> {
    static USERINFO: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)(?-u:\b)([a-z][a-z0-9+.-]*://)[^/\s?#@«»]+@").expect("static regex")
    });
    static PARAM: LazyLock<Regex> = LazyLock::new(|| {
        // A bare `key=` too: in a URL a finding quotes, it is never the evidence.
        Regex::new(&format!(
            r#"(?i)([?&;#](?:{}|key)=)[^&#\s"'«»]+"#,
            sensitive::SECRET_PARAMS
        ))
        .expect("static regex")
    });
    // Most quoted URLs have neither part: then no regex runs (this is on
    // the path of every report `scan --format json` writes).
    let out = if s.contains('@') {
        USERINFO.replace_all(s, "${1}«masked:credential»@")
    } else {
        Cow::Borrowed(s)
    };
    if !out.contains('=') {
        return out;
    }
    match PARAM.replace_all(&out, "${1}«masked:credential»") {
        Cow::Owned(o) => Cow::Owned(o),
        Cow::Borrowed(_) => out,
    }
}

fn scrub_value(v: &mut Value, replacements: &Scrubber) {
    match v {
        Value::String(s) => *s = scrub_str(s, replacements),
        Value::Array(a) => a.iter_mut().for_each(|x| scrub_value(x, replacements)),
        Value::Object(o) => o.values_mut().for_each(|x| scrub_value(x, replacements)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::{self, Context, Expectations};
    use crate::token::{b64url, parse};

    fn report_for(claims: Value) -> Report {
        let t = format!(
            "{}.{}.{}",
            b64url(br#"{"alg":"HS256","kid":"k1"}"#),
            b64url(claims.to_string().as_bytes()),
            b64url(&[7; 32])
        );
        let token = parse(&t);
        let expect = Expectations {
            max_age: None,
            typ: None,
            crit: Vec::new(),
            now: 1_700_000_000,
            ..Default::default()
        };
        let keys = checks::Keys::default();
        let findings = checks::run(&Context {
            token: &token,
            wrappers: &[],
            expect: &expect,
            keys: &keys,
            error: &Default::default(),
        });
        Report::build(&token, findings, 1_700_000_000, &[])
    }

    fn policy() -> Policy {
        Policy::new(vec![], vec![], false, vec![])
    }

    #[test]
    fn personal_data_is_masked_everywhere_and_registered_claims_kept() {
        let r = report_for(json!({
            "iss": "https://auth.example.com/", "sub": "auth0|6551e2a9", "aud": "https://api",
            "exp": 1_700_003_000, "email": "alice@example.org", "name": "Alice W",
            "profile": {"contact": {"phone_number": "+14155550199"}, "tags": ["ok", "bob@example.org"]},
            "password": "hunter2-hunter2"
        }));
        let red = redact(r, &policy());
        let text = format!("{:?}", red.report());
        for leaked in [
            "alice@example.org",
            "Alice W",
            "+14155550199",
            "bob@example.org",
            "hunter2",
            "6551e2a9",
        ] {
            assert!(!text.contains(leaked), "{leaked} leaked: {text}");
        }
        let claims = red.report().token.claims.as_ref().unwrap();
        assert_eq!(claims["iss"], "https://auth.example.com/");
        assert_eq!(claims["exp"], 1_700_003_000);
        assert!(
            claims["email"]
                .as_str()
                .unwrap()
                .starts_with("«masked:email:17:")
        );
        assert!(
            claims["sub"]
                .as_str()
                .unwrap()
                .starts_with("«masked:string:14:")
        );
    }

    #[test]
    fn claim_names_that_are_personal_data_are_masked_in_claims_and_findings() {
        let r = report_for(json!({
            "sub": "u1", "exp": 1_700_003_000,
            "ann.leak@example.com": "admin",
            "roles": {"bob.leak@corp.io": ["admin"], "carol.leak@corp.io": ["read"]},
        }));
        assert!(
            r.findings.iter().any(|f| f.spec.code == "pii-in-claims"
                && f.detail.contains("its name looks like an email address")),
            "{:?}",
            r.findings
        );
        let red = redact(r, &policy());
        let text = format!("{:?}", red.report());
        assert!(!text.contains("leak@"), "{text}");
        let claims = red.report().token.claims.as_ref().unwrap();
        assert!(claims.keys().any(|k| k.starts_with("«masked:email:20:")));
        // Two masked names in one object stay two members.
        assert_eq!(claims["roles"].as_object().unwrap().len(), 2);
        assert_eq!(claims["exp"], 1_700_003_000);
    }

    #[test]
    fn masked_values_quoted_in_text_are_replaced_with_few_or_many_values() {
        let pairs = |n: usize| -> Vec<(String, String)> {
            let mut v = vec![
                ("alice".to_string(), "«A»".to_string()),
                ("alice@example.org".to_string(), "«E»".to_string()),
            ];
            v.extend((0..n).map(|i| (format!("filler-{i:04}"), format!("«F{i}»"))));
            v
        };
        for n in [0, FEW_MASKED, 10 * FEW_MASKED] {
            let scrub = Scrubber::new(&["secret-value".to_string()], pairs(n));
            // Leftmost-longest: the email is one value, not "alice" inside it.
            assert_eq!(
                scrub_str("to alice@example.org and alice, key secret-value", &scrub),
                "to «E» and «A», key «redacted»",
                "{n} filler values"
            );
            assert_eq!(scrub_str("nothing to hide", &scrub), "nothing to hide");
            if n > 0 {
                assert_eq!(scrub_str("filler-0000", &scrub), "«F0»");
            }
        }
    }

    #[test]
    fn equal_values_share_a_hash() {
        let r = report_for(json!({"email": "a@example.org", "contact": "a@example.org"}));
        let red = redact(r, &policy());
        let c = red.report().token.claims.as_ref().unwrap();
        assert_eq!(c["email"], c["contact"]);
    }

    #[test]
    fn keep_mask_and_reveal() {
        let p = Policy::new(vec!["org".into()], vec!["sub".into()], true, vec![]);
        let r = report_for(json!({"sub": "u1", "org": "acme", "email": "a@example.org"}));
        let red = redact(r.clone(), &p);
        let c = red.report().token.claims.as_ref().unwrap();
        assert_eq!(c["sub"], "u1");
        assert!(c["org"].as_str().unwrap().starts_with("«masked"));
        let shown = for_display(r, &p);
        assert_eq!(
            shown.report().token.claims.as_ref().unwrap()["email"],
            "a@example.org"
        );
    }

    #[test]
    fn claims_holding_personal_data_inside_text_or_the_users_secret_are_masked() {
        let report = report_for(json!({
            "contact": "reach carol.pii@example.net anytime",
            "card_last": "card 4111-1111-1111-1111 exp 12/29",
            "team": "acmeteam2024",
            "motto": "ship it on time",
        }));
        let policy = Policy::new(vec![], vec![], false, vec!["acmeteam2024".into()]);
        let r = redact(report, &policy);
        let claims = r.report().token.claims.as_ref().expect("claims");
        for name in ["contact", "card_last", "team"] {
            assert!(
                claims[name].as_str().unwrap_or("").starts_with("«masked:"),
                "{name}: {claims:?}"
            );
        }
        assert_eq!(claims["motto"], "ship it on time");
    }

    #[test]
    fn free_text_masks_values_glued_to_names_and_keeps_the_message() {
        let logfmt = "level=error msg=\"jwt expired\" user=alice.smith@contoso.com client_ip=203.0.113.57 phone=+14155550132";
        let masked = free_text(logfmt);
        for leak in ["alice", "203.0.113.57", "4155550132"] {
            assert!(!masked.contains(leak), "{leak} in {masked}");
        }
        assert!(
            masked.starts_with("level=error msg=\"jwt expired\" user=«masked:"),
            "{masked}"
        );
        // A JSON log's timestamp sits in the same word as the message's last
        // word: only a sensitive piece is masked, never the word around it.
        let json = r#"{"msg":"jwt expired","time":"2025-10-09T08:53:20Z","ip":"198.51.100.4"}"#;
        assert_eq!(
            free_text(json),
            r#"{"msg":"jwt expired","time":"2025-10-09T08:53:20Z","ip":"«masked:ip»"}"#
        );
    }

    #[test]
    fn free_text_masks_named_secrets_people_and_grouped_cards() {
        let masked = free_text(
            "login failed password: hunter2 for name='Alice Smith' card 4111 1111 1111 1111 \"client_secret\":\"s3\"",
        );
        for leak in ["hunter2", "Alice", "Smith", "4111", "s3\""] {
            assert!(!masked.contains(leak), "{leak} in {masked}");
        }
        let creds = free_text(
            "refresh_token=1//0gAbCdEfGhIjKlMnOpQrStUvWxYz {\"id_token\":\"v1.MjQ3NzQ2\"} 'Bearer abcdef123456opaque' --password hunter22 ya29.a0AfB_byC1234567890abcdefGHIJKLmnop call +1 415 555 0100",
        );
        for leak in [
            "0gAbCd",
            "v1.MjQ3",
            "abcdef123456",
            "hunter22",
            "ya29",
            "555 0100",
        ] {
            assert!(!creds.contains(leak), "{leak} in {creds}");
        }
        // A generated password with punctuation in it is one secret.
        let pw = free_text("db login failed with Xy9,k;3(zQ7pL2vB8nM4tR6wE1aS5dF0gH");
        assert!(!pw.contains("zQ7pL2"), "{pw}");
        // Prose about tokens, and library error codes, stay.
        let prose =
            "invalid_token: The token is not valid yet; jwt.exceptions.InvalidSignatureError";
        assert_eq!(free_text(prose), prose);
        // An error class under `name`, and digits that fail Luhn, stay.
        let node = "{ name: 'TokenExpiredError', message: 'jwt expired', at 1234 5678 9012 }";
        assert_eq!(free_text(node), node);
        assert_eq!(free_text("see /var/log/app.log"), "see /var/log/app.log");
    }

    #[test]
    fn free_text_masks_cookies_anywhere_and_any_authorization_value() {
        for text in [
            "Cookie: sid=SESSIONLEAK123",
            "GET /x Cookie: sid=SESSIONLEAK123; theme=dark",
            "request failed; Cookie: sid=SESSIONLEAK123",
            "Authorization: Bearer abc ; Cookie: sid=SESSIONLEAK123",
            "{'cookie': 'sid=SESSIONLEAK123'}",
            r#"{"headers":{"cookie":"sid=SESSIONLEAK123","authorization":"Token abcLEAKdef1234567890"}}"#,
            r#"{"cookie":"SESSIONLEAK123"}"#,
            "Authorization: Token abcLEAKdef1234567890",
            "authorization=Digest abcLEAKdef1234567890",
            "Authorization: abcLEAKdef1234567890",
            "GET /x?Authorization=Bearer%20abcLEAKdef1234567890",
            "GET https://api.example.com/users/LEAK.user@example.com/orders 401",
            "user jörg.LEAK@bücher.de not allowed",
        ] {
            let masked = free_text(text);
            assert!(!masked.contains("LEAK"), "{text}\n  became {masked}");
        }
        // The rest of the line, and words after `authorization`, stay.
        let masked = free_text("GET /x Cookie: sid=SESSIONLEAK123 401 jwt expired");
        assert!(masked.ends_with(" 401 jwt expired"), "{masked}");
        assert!(masked.contains("sid=«masked:cookie»"), "{masked}");
        let set = free_text(
            "Set-Cookie: session=SECRETVALUE1; Domain=api.example.com; Path=/; SameSite=None; Secure",
        );
        assert_eq!(
            set,
            "Set-Cookie: session=«masked:cookie»; Domain=api.example.com; Path=/; SameSite=None; Secure"
        );
        let json = free_text(r#"{"cookie":"a=SECRETVALUE1; b=SECRETVALUE2","msg":"jwt expired"}"#);
        assert_eq!(
            json,
            r#"{"cookie":"a=«masked:cookie»; b=«masked:cookie»","msg":"jwt expired"}"#
        );
        for prose in [
            "authorization: missing",
            "Authorization header is malformed",
        ] {
            assert_eq!(free_text(prose), prose);
        }
    }

    #[test]
    fn free_text_masks_parameter_credentials_command_passwords_and_spaced_secrets() {
        for text in [
            r#"Authorization: Digest username="LEAKuser", realm="api", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/x", response="6629fae49393a05397450978507c4ef1LEAK""#,
            "Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20250101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024LEAK",
            "mysql -h db -u app -pS3cr3tLEAK! app",
            "mysqldump --user=app -p'S3cr3t LEAK' app",
            "sshpass -p hunter2LEAK ssh host",
            "redis-cli -h r -a Sup3rLEAK ping",
            "docker login -u bob -p dckr_pat_abc123LEAK registry.example.com",
            "mongosh --host h -u app -p Pa55LEAK",
            "invalid client_secret Xk9fQ2mZpLEAK",
            "the password was hunter2LEAK.",
            "PGPASSWORD=hunter2LEAK psql -h db",
            "export APPSECRET=\"x LEAK\"",
            "The secret used is sec_12345LEAK",
            "API key sk-abc123LEAK rejected",
        ] {
            let masked = free_text(text);
            assert!(!masked.contains("LEAK"), "{text}\n  became {masked}");
        }
        // The rest of a JSON log line after a parameter list stays.
        let json = free_text(
            r#"{"authorization":"Digest username=\"bob\", response=\"6629fae49393a05397450978507c4ef1\"","msg":"jwt expired"}"#,
        );
        assert_eq!(
            json,
            r#"{"authorization":"Digest «masked:credential»","msg":"jwt expired"}"#
        );
        // Prose after such names, and a port flag, stay.
        for prose in [
            "password is incorrect for user",
            "client secret expired",
            "the secret key is wrong",
            "mysql -h db -P 3306 -u app -p app",
        ] {
            assert_eq!(free_text(prose), prose);
        }
    }

    #[test]
    fn free_text_masks_signing_secrets_in_pasted_config_and_code() {
        for text in [
            r#""IssuerSigningKey": "this-is-my-LEAK-secret-signing-key-for-jwt""#,
            r#""SecretKey": "my_very_long_LEAK_secret_key_for_hmac""#,
            "app.jwtSecret=mySuperLEAKJwtSigningValueForTheApp",
            "jwt.secret-key=change-me-LEAK-production-please-secret",
            "JWT_SIGNING_KEY=supercalifragilisticLEAKKey",
            "signingKey: averylongLEAKkeyvaluewithoutdigits",
            "Jwt:Key=averylongLEAKkeyvalue",
            "jwt.verify(token, 'CodeLEAKLit123')",
            "const decoded = jwt.verify(req.headers.token, \"LEAKsecret\");",
            "jwt.sign({ sub: 1 }, `LEAKtemplate`)",
            "jwt.decode(token, 'LEAK', algorithms=['HS256'])",
            "JWT.require(Algorithm.HMAC256(\"LEAKjava\")).build()",
            "new SymmetricSecurityKey(Encoding.UTF8.GetBytes(\"LEAKdotnet\"))",
        ] {
            let masked = free_text(text);
            assert!(!masked.contains("LEAK"), "{text}\n  became {masked}");
        }
        // What is wrong stays said.
        for prose in [
            "jwtSecret: undefined",
            "signingKey: ${JWT_SECRET}",
            "invalid_token: The token is expired",
            "jwt.verify(token, secret)",
        ] {
            assert_eq!(free_text(prose), prose);
        }
    }

    #[test]
    fn free_text_masks_credential_headers_whatever_the_value_looks_like() {
        for text in [
            "> X-Auth-Token: 9c8b7a6f5e4d3c2b1a0f9e8d7c6b5aLEAK",
            "> X-Access-Token: XAccessLEAK0033",
            "X-CSRF-Token: CsrfLEAK0066",
            "PRIVATE-TOKEN: PrivLEAK0088",
            "Ocp-Apim-Subscription-Key: 3f9a1c2b7d8e4f60a1b2c3d4e5f6LEAK",
            r#"{"X-Session-Id": "7f3a9b2c1d4e5f60718293a4b5c6LEAK"}"#,
        ] {
            let masked = free_text(text);
            assert!(!masked.contains("LEAK"), "{text}\n  became {masked}");
        }
        // A trace id under its own name stays; a header saying what is missing too.
        for kept in [
            "X-Request-Id: 4bf92f3577b34da6a3ce929d0e0e4736",
            "X-CSRF-Token: missing",
        ] {
            assert_eq!(free_text(kept), kept);
        }
    }

    #[test]
    fn free_text_masks_addresses_inside_words() {
        for text in [
            "<saml:NameID>gina.LEAK@example.org</saml:NameID>",
            "upn=oscar.LEAK@example.org;tid=abc",
            "notify=erin.LEAK@example.org,frank.LEAK@example.org",
            "GET /authorize?login_hint=dave.LEAK%40example.org HTTP/1.1",
            "owner <kim.LEAK@example.org>",
            "to ann@LEAK。example.org",
        ] {
            let masked = free_text(text);
            assert!(!masked.contains("LEAK"), "{text}\n  became {masked}");
        }
        assert_eq!(
            free_text("<saml:NameID>gina@example.org</saml:NameID>"),
            "<saml:NameID>«masked:email»</saml:NameID>"
        );
        // A workload's address, a package version: kept.
        for kept in [
            "signer sa@my-project.iam.gserviceaccount.com",
            "npm i @azure/msal-node@2.6.0",
        ] {
            assert_eq!(free_text(kept), kept);
        }
    }

    #[test]
    fn free_text_masks_ssn_and_phone_formats_and_keeps_dates_and_times() {
        for text in [
            "ssn 123-45-LEAK",
            "call (020) 7946 0958 now",
            "call 00 44 20 7946 0958 now",
            "call 1-415-555-0199 now",
        ] {
            let masked = free_text(&text.replace("LEAK", "6789"));
            assert!(
                !masked.contains("6789") && !masked.contains("0958") && !masked.contains("0199"),
                "{text}\n  became {masked}"
            );
        }
        let idx = "IDX10223: Lifetime validation failed. The token is expired. ValidTo (UTC): '05.03.2026 10:15:22', Current time (UTC): '06.03.2026 11:00:00'.";
        assert_eq!(free_text(idx), idx);
        // 1773500000014 passes the Luhn check; it is a time in ms.
        for kept in [
            "exp=1773500000014",
            "\"updated_at\":1773500000014",
            "ts=1773500000014000006",
        ] {
            assert_eq!(free_text(kept), kept);
        }
    }

    #[test]
    fn free_text_keeps_public_key_identifiers() {
        let text = "IDX10503: Signature validation failed. Keys tried: 'Microsoft.IdentityModel.Tokens.X509SecurityKey, KeyId: 'nOo3ZDrODXEK1jKWhXslHR_KXEg'' x5t#S256=Zs0n5aD9m0kzZ9Y6iE6xJ3m1l1o8Qm2yQ0kG2eWf5bA Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress\"";
        assert_eq!(free_text(text), text);
        // The same random run under a secret's name is masked.
        assert!(!free_text("secret=Zs0n5aD9m0kzZ9Y6iE6xJ3m1l1o8Qm2yQ0kG2eWf5bA").contains("Zs0n5"));
    }

    #[test]
    fn short_secrets_are_scrubbed_where_they_stand_alone() {
        let scrub = Scrubber::new(&["Zq9xP2w".to_string(), "abcd".to_string()], Vec::new());
        assert_eq!(
            scrub_str(
                "HMAC verify ok with key=Zq9xP2w; 'abcd' abcdef xabcd",
                &scrub
            ),
            "HMAC verify ok with key=«redacted»; '«redacted»' abcdef xabcd"
        );
        let p = Policy::new(vec![], vec![], false, vec!["Zq9xP2w".into(), "abc".into()]);
        assert_eq!(p.scrub, vec!["Zq9xP2w".to_string()]);
    }

    #[test]
    fn header_fields_get_the_check_kid_gets() {
        let t = format!(
            "{}.{}.{}",
            b64url(br#"{"alg":"HS256","typ":"alice.typ@example.org","cty":"sk_live_CTYSECRET0123456789","crit":["ghp_abcdefghijklmnopqrstuvwxyz0123456789"],"zip":"DEF"}"#),
            b64url(br#"{"exp":1700003000}"#),
            b64url(&[7; 32])
        );
        let token = parse(&t);
        let r = Report::build(&token, Vec::new(), 1_700_000_000, &[]);
        let red = redact(r, &policy());
        let text = serde_json::to_string(&red.report().token.header).unwrap();
        for leak in ["alice.typ", "CTYSECRET", "ghp_"] {
            assert!(!text.contains(leak), "{leak}: {text}");
        }
        assert!(
            text.contains(r#""alg":"HS256""#) && text.contains(r#""zip":"DEF""#),
            "{text}"
        );
    }

    #[test]
    fn a_sub_equal_to_the_client_id_is_a_client_and_kept() {
        let r = report_for(
            json!({"sub": "3n4b5urk1ft4fl3mg5e62d9ado", "client_id": "3n4b5urk1ft4fl3mg5e62d9ado", "exp": 1_700_003_000}),
        );
        let red = redact(r, &policy());
        let c = red.report().token.claims.as_ref().unwrap();
        assert_eq!(c["sub"], "3n4b5urk1ft4fl3mg5e62d9ado");
        assert_eq!(c["client_id"], "3n4b5urk1ft4fl3mg5e62d9ado");
        // A person's sub is still masked.
        let r = report_for(json!({"sub": "user-1234", "client_id": "3n4b5urk1ft4fl3mg5e62d9ado"}));
        let red = redact(r, &policy());
        assert!(
            red.report().token.claims.as_ref().unwrap()["sub"]
                .as_str()
                .unwrap()
                .starts_with("«masked")
        );
    }

    #[test]
    fn claims_mask_addresses_inside_values_and_secrets_inside_kept_ones() {
        let r = report_for(json!({
            "cc": "alice.list@example.org,bob.list@example.org",
            "hint": "https://idp.example.com/authorize?login_hint=carol.enc%40example.org",
            "owner": "<kim.lt@example.org>",
            "meta": "{\"mail\":\"jo@example.io\"}",
            "scope": "read password=ScopePw123",
            "groups": ["admins", "203.0.113.77"],
            "updated_at": 1_773_500_000_014u64,
            "customer_name": "Dora Customer",
            "tax_ref": "987-65-4321",
        }));
        let red = redact(r, &policy());
        let text = serde_json::to_string(&red.report().token.claims).unwrap();
        for leak in [
            "list@",
            "carol",
            "kim.lt",
            "jo@",
            "ScopePw123",
            "203.0.113.77",
            "Dora",
            "987-65",
        ] {
            assert!(!text.contains(leak), "{leak}: {text}");
        }
        let c = red.report().token.claims.as_ref().unwrap();
        assert_eq!(c["updated_at"], 1_773_500_000_014u64);
        assert!(
            c["scope"].as_str().unwrap().starts_with("read password="),
            "{text}"
        );
        assert_eq!(c["groups"][0], "admins");
    }

    #[test]
    fn texts_keep_the_tokens_public_identifiers_and_the_expected_ones() {
        let kid = "5mmGbpsuAxvLuWGbBBjQbxJaRMBvRTxKW0TKRTB7mTk";
        let t = format!(
            "{}.{}.{}",
            b64url(format!(r#"{{"alg":"RS256","kid":"{kid}"}}"#).as_bytes()),
            b64url(br#"{"aud":"407408718192-9pqkd3u2ob8n6k5v1a7c0a9mbr4t2c1e.apps.googleusercontent.com"}"#),
            b64url(&[7; 32])
        );
        let r = Report::build(&parse(&t), Vec::new(), 1_700_000_000, &[]);
        let expected = "5550001111-abcdefghijklmnopqrstuvwx0123456.apps.googleusercontent.com";
        let red = redact(r, &policy()).keeping(&[expected, "bob@example.org"]);
        let text = format!(
            "no key names kid \"{kid}\"; aud 407408718192-9pqkd3u2ob8n6k5v1a7c0a9mbr4t2c1e.apps.googleusercontent.com, expected {expected}"
        );
        assert_eq!(red.text(&text).text, text);
        // An address is never kept.
        assert_eq!(red.text("to bob@example.org").text, "to «masked:email»");
    }

    #[test]
    fn addresses_quoted_in_findings_are_masked_whole_like_claims() {
        let r = report_for(json!({"email": "alice@example.org"}));
        let mut r2 = r.clone();
        for f in &mut r2.findings {
            f.detail = "expects \"ops.alice@example.org\", has \"alice@example.org\"".into();
            f.evidence = json!({"expected": "ops.alice@example.org"});
        }
        let red = redact(r2, &policy());
        let c = red.report().token.claims.as_ref().unwrap();
        let own = c["email"].as_str().unwrap().to_string();
        for f in &red.report().findings {
            assert!(
                !f.detail.contains("ops.") && !f.detail.contains("alice"),
                "{}",
                f.detail
            );
            assert!(f.detail.contains(&format!("has \"{own}\"")), "{}", f.detail);
            assert!(f.detail.contains("«masked:email:21:"), "{}", f.detail);
            assert!(
                f.evidence["expected"]
                    .as_str()
                    .unwrap()
                    .starts_with("«masked:email:21:")
            );
        }
        assert!(!red.report().findings.is_empty());
    }

    #[test]
    fn a_folded_token_after_many_token_starts_is_still_found() {
        // The one start tried per line is the first `eyJ` of its last run.
        let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSJ9.cOax0DiIUp3jDVAdiAx2Xo8QmXh8v6Jz4lQ";
        let (a, b) = token.split_at(30);
        let text = format!("{} x{a}\n{b}\nnext line", "eyJ ".repeat(1000));
        let masked = free_text(&text);
        assert!(
            masked.ends_with(" x«redacted:jwt»\nnext line"),
            "{}",
            &masked[masked.len() - 60..]
        );
    }

    #[test]
    fn kept_values_stay_only_where_they_stand_alone() {
        let kid = "NjVBRjY5MDlCMUIwNzU4RTA2QzZFMDQ4QzQ2MDAyQjVDNjk1RTM2Qg";
        let text = format!("no key matches '{kid}' password={kid}9 x{kid}");
        let kept = free_text_keeping(&text, &[kid]);
        assert!(
            kept.starts_with(&format!("no key matches '{kid}' ")),
            "{kept}"
        );
        // Glued into a longer run (a secret that contains it) it is masked.
        assert!(!kept.contains(&format!("{kid}9")), "{kept}");
        assert!(!kept.contains(&format!("x{kid}")), "{kept}");
        assert_eq!(
            free_text_keeping("no kid here", &[kid]),
            free_text("no kid here")
        );
    }

    #[test]
    fn free_text_masks_a_private_key_and_a_folded_token_whole() {
        let key = "failed to load key\n-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\nMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\n/lcD2mABQ41RnJx+KHnS9CXm\n-----END PRIVATE KEY-----\nat line 3";
        let masked = free_text(key);
        assert_eq!(masked, "failed to load key\n«masked:privatekey»\nat line 3");
        // Cut before its end: masked to the end of the text.
        let cut = free_text("key: -----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nsowBwKMNoWgm");
        assert_eq!(cut, "key: «masked:privatekey»");

        let token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1MSIsImV4cCI6MTc3MzU3ODY0MH0.cOax0DiIUp3jDVAdiAx2Xo8QmXh8v6Jz4lQyW1p9-diA";
        let folded: Vec<&str> = token
            .as_bytes()
            .chunks(32)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let text = format!("verify failed for token:\n{}\nnext line", folded.join("\n"));
        let masked = free_text(&text);
        assert_eq!(
            masked,
            "verify failed for token:\n«redacted:jwt»\nnext line"
        );
        // With CRLF line ends, and indented under a prefix on its first line.
        let text = format!("token: {}\r\n", folded.join("\r\n"));
        assert!(!free_text(&text).contains("diA"), "{}", free_text(&text));
        assert_eq!(
            free_text("refund to DE89 3704 0044 0532 0130 00 failed"),
            "refund to «masked:iban» failed"
        );
        // A token on one line keeps the next line, however it looks.
        let next = free_text(&format!("{token}\nERROR"));
        assert_eq!(next, "«redacted:jwt»\nERROR");
        let next = free_text(&format!("{token}\nTokenExpiredError_at_line_7"));
        assert_eq!(next, "«redacted:jwt»\nTokenExpiredError_at_line_7");
    }
}
