//! `jwtai scan`: every JWT in a log, each distinct one diagnosed once, and a
//! summary of which failure dominates.
//!
//! A log is read as a stream of lines in constant memory: a line is searched
//! where it lies in the read buffer, or gathered into one reused buffer of at
//! most [`MAX_LINE_BYTES`] (a longer line is counted and skipped without
//! being held), every JWT-shaped substring of it is
//! extracted, and tokens are diagnosed in bounded batches on every core while
//! the next batch is read. What grows with the log is only the dedup table:
//! one 16-byte digest and a 4-byte [`Slot`] per *distinct* token (21 to 48
//! bytes with the table's spare room), capped at `max_distinct` entries; past
//! the cap new tokens are still diagnosed and counted, each time they appear.
//!
//! Bad input is data, never fatal: blank, garbage, binary, invalid UTF-8 and
//! over-long lines are counted in [`LineCounts`]. Only an I/O error reading
//! the input stops the scan; a compressed input that is cut short or corrupt
//! simply ends there ([`source`]).
//!
//! Nothing here prints: reports and progress go to a [`Sink`], the summary is
//! plain data ([`summary::Summary`]) that `summary` renders.

pub mod keys;
pub mod source;
pub mod summary;

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{self, BufRead};
use std::sync::Arc;

use rayon::prelude::*;
use siphasher::sip128::{Hasher128, SipHasher13};

use crate::checks::{Expectations, Keys, errortext::ErrorText};
use crate::findings::Spec;
use crate::input::Wrapper;
use crate::jwks;
use crate::pipeline::{self, Parsed};
use crate::redact::{self, Policy, Redacted};
use crate::render;
use crate::report::{Report, Verdict};
use crate::token::{self, Members};

pub use source::Source;
pub use summary::{Aggregator, Covered, Logs, Stored, Summary};

/// Longest line read; a longer one is counted as too long and skipped. A JWT
/// over 8 KiB is already refused by most servers (`token-too-large`).
pub const MAX_LINE_BYTES: usize = 64 * 1024;
/// New (not yet seen) tokens per parallel batch. Small enough that the two
/// batches in flight stay a few MiB (at 4096 a 36k-token RS256 scan peaked at
/// 51 MiB and spent 2.5% of its time in page faults; at 1024, 23 MiB), large
/// enough that a batch is milliseconds of work for the pool.
pub const BATCH_TOKENS: usize = 1024;
/// Token text per batch, so a batch of large tokens stays small too.
pub const BATCH_BYTES: usize = 4 * 1024 * 1024;
/// Token occurrences per batch (repeats included): bounds the per-batch
/// record of repeats of already diagnosed tokens.
pub const BATCH_OCCURRENCES: usize = 64 * 1024;
/// Distinct tokens remembered for dedup by default: the most a table of 2^20
/// buckets holds (7/8 full), so it never doubles again: 22 MiB at most (and
/// 33 MiB for the moment it last grows, old and new table side by side).
pub const DEFAULT_MAX_DISTINCT: usize = (1 << 20) / 8 * 7;

/// Every JWT-shaped substring of a line, leftmost first, never overlapping:
/// a JWS (three segments, the signature possibly empty) or a JWE (five), as
/// the regex
/// `eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*`
/// finds them, hand-rolled on `memchr`'s substring search because this runs
/// on every line. Tokens start with `eyJ`, the base64url of `{"`.
///
/// Where the regex would cut a token, or miss it, at a `+`, `/`, `=` or `%`,
/// the token is taken whole if it is one in standard base64 (`+`, `/`, `=`
/// padding: AWS ALB's `x-amzn-oidc-data`) or URL-encoded (`%2E` between the
/// segments, `%3D` padding), so that its findings name what happened to it
/// (`base64-standard-alphabet`, `url-encoded`) instead of `truncated` or
/// nothing. A base64url token followed by `/path` stays as it is.
pub fn jwts(line: &[u8]) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        while at < line.len() {
            let start = at + EYJ.find(&line[at..])?;
            let found = match jwt_end(line, start) {
                Ok(end) if !line.get(end).is_some_and(|b| b"+/=%".contains(b)) => Ok(end),
                Ok(end) => Ok(lenient_end(line, start)
                    .ok()
                    .filter(|&e| e > end)
                    .unwrap_or(end)),
                Err(past) if line.get(past).is_some_and(|b| b"+/=%".contains(b)) => {
                    lenient_end(line, start).map_err(|read| read.max(past))
                }
                Err(past) => Err(past),
            };
            match found {
                Ok(end) if signed_cookie(&line[start..end]) => at = end,
                Ok(end) => {
                    at = end;
                    return Some(start..end);
                }
                Err(past) => at = past,
            }
        }
        None
    })
}

/// An itsdangerous signed value, as Flask keeps its session cookie
/// (base64url JSON) and Starlette's `SessionMiddleware` (FastAPI) its own
/// (standard base64 with padding): the data, a timestamp of 4 to 6 bytes,
/// an HMAC. JWT-shaped, but its first segment is the data, with no `alg`,
/// and its second is short: counting it as a broken JWT would invent a
/// dominant `invalid-json` or `base64-standard-alphabet`.
fn signed_cookie(t: &[u8]) -> bool {
    let Some((data, _)) = token::signed_cookie_shape(t) else {
        return false;
    };
    // A session cookie repeats on every request of its session: the last
    // data decoded, and what it was, are remembered.
    thread_local! {
        static LAST: std::cell::RefCell<(Vec<u8>, bool)> = const { std::cell::RefCell::new((Vec::new(), false)) };
    }
    LAST.with_borrow_mut(|(last, cookie)| {
        if last.as_slice() != data {
            *cookie = token::signed_cookie_data(data).is_some();
            last.clear();
            last.extend_from_slice(data);
        }
        *cookie
    })
}

/// The separator at `i`: `.`, or `%2E` URL-encoded; its length.
fn separator(line: &[u8], i: usize) -> Option<usize> {
    match line.get(i)? {
        b'.' => Some(1),
        b'%' if line.get(i + 1..i + 3)?.eq_ignore_ascii_case(b"2e") => Some(3),
        _ => None,
    }
}

/// End of a segment in standard base64 or base64url starting at `i`, with
/// `=` (or `%3D`) padding that completes it to a multiple of 4; and whether
/// it used `+`, `/` or padding.
fn lenient_segment(line: &[u8], i: usize) -> (usize, bool) {
    let mut end = run(line, i);
    let mut std = false;
    while matches!(line.get(end), Some(b'+' | b'/'))
        && line
            .get(end + 1)
            .is_some_and(|&b| token::is_b64url(b) || b == b'+' || b == b'/')
    {
        end = run(line, end + 1);
        std = true;
    }
    let (mut padded, mut pads) = (end, 0);
    while pads < 2 {
        match line.get(padded) {
            Some(b'=') => padded += 1,
            Some(b'%')
                if line
                    .get(padded + 1..padded + 3)
                    .is_some_and(|p| p.eq_ignore_ascii_case(b"3d")) =>
            {
                padded += 3
            }
            _ => break,
        }
        pads += 1;
    }
    if pads > 0 && (end - i + pads) % 4 == 0 {
        (padded, true)
    } else {
        (end, std)
    }
}

/// [`jwt_end`] for a JWS in standard base64 or with URL-encoded dots, if
/// one starts at `start`; if not, how far it read (no `eyJ` before that
/// starts one either, so the search goes on from there: a line of `eyJa+`
/// stays linear). The signature takes `+`, `/` and padding when the token
/// shows it is not base64url anyway; in a base64url token, only when its
/// base64url part has no signature's length and the whole one has its
/// `alg`'s: a base64url token followed by a path (`…/eyJ….sig/confirm`)
/// keeps its end, and so does a cut one followed by another token.
fn lenient_end(line: &[u8], start: usize) -> Result<usize, usize> {
    let (header, h_std) = lenient_segment(line, start);
    let h_sep = separator(line, header).ok_or(header)?;
    let (payload, p_std) = lenient_segment(line, header + h_sep);
    let p_sep = separator(line, payload).ok_or(payload)?;
    let sig_start = payload + p_sep;
    let plain = run(line, sig_start);
    let (third, _) = lenient_segment(line, sig_start);
    if third == plain || h_std || p_std || h_sep > 1 || p_sep > 1 {
        return Ok(third);
    }
    // A signature of some algorithm's length is whole, with no header to
    // decode (this runs for every token followed by `/`, `+` or `=` in a log).
    let unpadded = |end: usize| {
        let t = &line[start..end];
        let pads = t.iter().rev().take_while(|&&b| b == b'=').count();
        std::str::from_utf8(&t[..t.len() - pads]).ok()
    };
    let whole = plain > sig_start && crate::alg::is_signature_length(plain - sig_start);
    if !whole && unpadded(third).is_some_and(crate::alg::signature_fits) {
        return Ok(third);
    }
    Ok(plain)
}

/// The `Bearer` value of a line that holds no JWT, when it is a credential
/// or what a client sent instead of one: an opaque token (16 or more
/// token68 characters, RFC 7235), `undefined`, `null`, `[object Object]`, a
/// placeholder such as `{{token}}`, or `Authorization: Bearer` with nothing
/// after it (the range of `Bearer` itself). Prose (`Bearer tokens expire`)
/// and challenges (`Bearer realm="api"`) are not.
pub fn bearer_value(line: &[u8]) -> Option<std::ops::Range<usize>> {
    let mut from = 0;
    // Where the line first names `Authorization`, looked for once: every
    // `Bearer` asks, and asking each time made `Bearer,Bearer,…` quadratic.
    let mut authorization: Option<Option<usize>> = None;
    let mut named_before = |at: usize| {
        authorization
            .get_or_insert_with(|| {
                line.windows(13)
                    .position(|w| w.eq_ignore_ascii_case(b"authorization"))
            })
            .is_some_and(|a| a < at)
    };
    while let Some(i) = EARER.find(&line[from..]) {
        let at = from + i;
        from = at + 5;
        // `earer` preceded by `b` or `B`, as a word of its own.
        let Some(start) = at
            .checked_sub(1)
            .filter(|&s| line[s].eq_ignore_ascii_case(&b'b'))
        else {
            continue;
        };
        if start > 0 && line[start - 1].is_ascii_alphanumeric() {
            continue;
        }
        let scheme_end = at + 5;
        let mut v = scheme_end;
        while v < line.len() && line[v] == b' ' {
            v += 1;
        }
        let rest = &line[v..];
        // Closers are looked for nearby only, so that many unclosed
        // openers cost no more than one each.
        let near = &rest[..rest.len().min(256)];
        let end = if rest.starts_with(b"[object ") {
            memchr::memchr(b']', near).map(|e| v + e + 1)
        } else if rest.starts_with(b"{{") {
            memchr::memmem::find(near, b"}}").map(|e| v + e + 2)
        } else {
            None
        }
        .unwrap_or_else(|| {
            v + rest
                .iter()
                .position(|&b| {
                    b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b',' | b';' | b'\\')
                })
                .unwrap_or(rest.len())
        });
        let value = &line[v..end];
        if value.is_empty() {
            // Only where a header names it: a log line saying "Bearer" is no request.
            if named_before(start) {
                return Some(start..scheme_end);
            }
            continue;
        }
        // A `Bearer` inside this value is no scheme of its own: going on
        // after the value reads each byte once. One ending where the value
        // does may be (`bearerAuth=Bearer undefined`): its five letters are
        // read again.
        from = from.max(end.saturating_sub(5));
        let Ok(text) = std::str::from_utf8(value) else {
            continue;
        };
        if v == scheme_end {
            continue;
        }
        let token68 = value.len() >= 16
            && value.iter().all(|&b| {
                b.is_ascii_alphanumeric()
                    || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
            });
        if token68 {
            return Some(v..end);
        }
        match token::foreign(text) {
            // A bare word (`Bearer token is malformed`, `missing Bearer
            // token`) is a request's only where a header holds it: the
            // line names `Authorization` before it, or quotes enclose
            // `Bearer token` as a logged header value does.
            Some(token::Foreign::Placeholder(_))
                if value[0].is_ascii_alphanumeric()
                    && !quoted(line, start, end)
                    && !named_before(start) => {}
            Some(_) => return Some(v..end),
            None => {}
        }
    }
    None
}

/// Whether quotes enclose `Bearer …` from `start` to `end`, as a logged
/// header value is.
fn quoted(line: &[u8], start: usize, end: usize) -> bool {
    start > 0 && matches!(line[start - 1], b'"' | b'\'') && line.get(end) == Some(&line[start - 1])
}

/// What loggers put where they cut or mask a value, lower case.
const LOG_MASKS: &[&[u8]] = &[
    b"[redacted",
    b"<redacted",
    b"(redacted",
    b"redacted",
    b"[filtered",
    b"[masked",
    b"<masked",
    b"[hidden",
    b"[truncated",
    b"(truncated",
    b"[removed",
    b"***",
    b"...",
    "\u{2026}".as_bytes(),
];

/// Whether `after`, the bytes right after a JWT, is a logger's mask: the
/// token's remaining segments (or part of one) were replaced.
fn masked_by_log(after: &[u8]) -> bool {
    let starts = |s: &[u8]| {
        LOG_MASKS
            .iter()
            .any(|m| s.len() >= m.len() && s[..m.len()].eq_ignore_ascii_case(m))
    };
    starts(after) || after.strip_prefix(b".").is_some_and(starts)
}

/// [`masked_by_log`] for the JWT at `range`: a `...` may begin with the
/// dots the JWT's own range ended on (`eyJ….eyJhbGc...`).
fn jwt_masked_by_log(line: &[u8], range: &std::ops::Range<usize>) -> bool {
    // A whole token followed by `...` in a message is a whole token.
    let whole = |r: &[u8]| {
        std::str::from_utf8(r)
            .is_ok_and(|t| t.matches('.').count() == 2 && crate::alg::signature_fits(t))
    };
    if !masked_by_log(&line[range.end..]) && !line[..range.end].ends_with(b".") {
        return false;
    }
    if whole(&line[range.clone()]) {
        return false;
    }
    let mut from = range.end;
    while from > range.start && line[from - 1] == b'.' {
        from -= 1;
    }
    masked_by_log(&line[from..]) || masked_by_log(&line[range.end..])
}

/// A line whose only token the log masked before it was complete:
/// `eyJhbGci…[REDACTED]`, `eyJ***`.
fn redacted_stub(line: &[u8]) -> bool {
    let mut from = 0;
    while let Some(i) = EYJ.find(&line[from..]) {
        let start = from + i;
        let mut end = run(line, start + 3);
        // Whole segments may come before the mask: `eyJ….eyJ….[REDACTED]`.
        while line.get(end) == Some(&b'.') && run(line, end + 1) > end + 1 {
            end = run(line, end + 1);
        }
        if masked_by_log(&line[end..]) {
            return true;
        }
        // Every `eyJ` inside the segments just walked ends its walk at the
        // same place: going on from there keeps a line of `eyJ.eyJ.…`
        // linear (from `start + 3` it was quadratic: 1.3 s for 64 KiB).
        from = end.max(start + 3);
    }
    false
}

static EARER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"earer"));

/// The searcher for `eyJ`, built once: building one per line cost as much
/// as the search itself.
static EYJ: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"eyJ"));

/// End of the run of base64url bytes starting at `i`.
fn run(line: &[u8], i: usize) -> usize {
    i + token::b64url_run(line.get(i..).unwrap_or_default())
}

/// End of the JWT starting at `start` (which holds `eyJ`), or, when none
/// starts there, where the search for the next one may go on: no `eyJ` in
/// the runs read here can start one either (each would end where this one
/// did), so skipping them keeps a line of `eyJeyJ…` linear.
fn jwt_end(line: &[u8], start: usize) -> Result<usize, usize> {
    let header = run(line, start + 3);
    if header == start + 3 || line.get(header) != Some(&b'.') {
        return Err(header);
    }
    let payload = run(line, header + 1);
    if line.get(payload) != Some(&b'.') {
        return Err(payload);
    }
    let third = run(line, payload + 1);
    // Five non-empty-tailed segments make a JWE (its encrypted key may be empty).
    if third > payload + 1 && line.get(third) == Some(&b'.') {
        let fourth = run(line, third + 1);
        if fourth > third + 1 && line.get(fourth) == Some(&b'.') {
            let fifth = run(line, fourth + 1);
            if fifth > fourth + 1 {
                return Ok(fifth);
            }
        }
    }
    Ok(third)
}

/// What scanning needs besides the input. Built from the flags once per run.
pub struct Options {
    pub expect: Expectations,
    pub keys: Keys,
    /// The base redaction policy: its scrub list holds the user's secrets; each
    /// token's own text and segments are added per token.
    pub policy: Policy,
    /// `--jwks-uri` (fetched once, for the first token that names an
    /// issuer) / `--discover` (once per issuer, see [`keys`]).
    pub jwks: Option<jwks::Plan>,
    pub max_distinct: usize,
    /// Hand every distinct token's redacted report, as a JSON line, to [`Sink::report`].
    pub reports: bool,
}

/// Where the scan's side output goes, on the calling thread, in input order.
pub trait Sink {
    /// A distinct token's redacted `jwtai.report/v1` report as one line of
    /// JSON (with `line`, its first occurrence, and `file` with several
    /// logs), rendered on a worker.
    fn report(&mut self, _json_line: &str) {}
    /// Another batch has been read: the moment to show progress (which
    /// [`Source::bytes_read`] measures against the files' sizes).
    fn progress(&mut self) {}
}

/// A sink that ignores everything.
pub struct NoSink;
impl Sink for NoSink {}

/// How the input's lines fared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LineCounts {
    pub lines: u64,
    pub bytes: u64,
    /// Empty or whitespace-only.
    pub blank: u64,
    /// Lines holding at least one JWT.
    pub with_token: u64,
    /// Non-blank lines with no JWT in them (garbage, other log lines).
    pub without_token: u64,
    /// Longer than [`MAX_LINE_BYTES`]: skipped unread.
    pub too_long: u64,
    /// Not valid UTF-8 or holding NUL bytes (still searched for tokens).
    pub binary: u64,
    /// JWTs the log itself masked or shortened (`[REDACTED]`, `***`, `...`
    /// where a segment should go on): counted, never diagnosed, since what
    /// is missing was removed by the logger, not by the client.
    pub redacted: u64,
}

/// Reads the input and diagnoses every token in it.
pub fn scan<R: BufRead + Send>(
    input: R,
    options: Options,
    sink: &mut (dyn Sink + Send),
) -> io::Result<Summary> {
    scan_logs(vec![(String::new(), input)], options, sink)
}

/// Reads several logs, in order, as one (one run of line numbers, one dedup
/// table), naming each in examples and reports. At least one.
pub fn scan_logs<R: BufRead + Send>(
    logs: Vec<(String, R)>,
    options: Options,
    sink: &mut (dyn Sink + Send),
) -> io::Result<Summary> {
    let (names, inputs): (Vec<String>, Vec<R>) = logs.into_iter().unzip();
    let names: Arc<[String]> = names.into();
    let Options {
        expect,
        keys: key_material,
        policy,
        jwks,
        max_distinct,
        reports,
    } = options;
    let Some(mut reader) = Reader::new(inputs, max_distinct) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "no log to read",
        ));
    };
    let mut agg = Aggregator::new(expect.now);
    let mut current = reader.fill(0)?;
    let mut resolver = keys::Resolver::new(jwks, key_material);
    resolver.prepare(&current.items);
    let shared = Shared {
        expect,
        policy,
        error: ErrorText::default(),
    };
    // A three-stage pipeline on the pool: while batch N is diagnosed on every
    // core, one task counts batch N-1 in (and hands its reports to the sink),
    // then reads batch N+1. Only two batches are ever pending at once.
    let mut done: Option<(Batch, Vec<Diagnosed>)> = None;
    loop {
        let seq = current.seq;
        // Taken before the previous batch is counted in: older, never wrong.
        let covered = agg.covered();
        // Every log the current batch's lines are in has been reached.
        let logs = Logs {
            names: Arc::clone(&names),
            starts: reader.starts.clone(),
        };
        // The key sets this batch's tokens need were fetched when it was read.
        let sets = resolver.sets();
        let (results, next) = rayon::join(
            || diagnose_batch(&current.items, &shared, &sets, &covered, &logs, reports),
            || -> io::Result<Batch> {
                if let Some((batch, results)) = done.take() {
                    settle(
                        &mut reader,
                        &mut agg,
                        &mut *sink,
                        batch,
                        results,
                        &shared.policy,
                    );
                }
                sink.progress();
                if current.is_empty() {
                    return Ok(Batch::empty(seq + 1));
                }
                let next = reader.fill(seq + 1)?;
                resolver.prepare(&next.items);
                Ok(next)
            },
        );
        let next = next?;
        if current.is_empty() {
            break;
        }
        done = Some((current, results));
        current = next;
    }
    let mut summary = agg.finish(reader.counts, reader.saturated);
    summary.keys = resolver.finish(&shared.policy);
    summary.stored = vec![Stored::default(); names.len()];
    summary.logs = Logs {
        names,
        starts: reader.starts,
    };
    Ok(summary)
}

/// The token whose issuer and kid the run's one `--jwks-uri` fetch is
/// for: the first of the first batch that names an issuer, so a JWT-shaped
/// fragment or an issuer-less token first in the log does not decide whose
/// set it is taken to be; else the first token.
fn key_finder(items: &[Pending]) -> Option<token::Token> {
    let mut parsed = items.iter().map(|p| token::parse(&p.text));
    let first = parsed.next()?;
    let names_issuer = |t: &token::Token| {
        t.claims()
            .and_then(|c| c.member("iss"))
            .is_some_and(|v| v.is_string())
    };
    if names_issuer(&first) {
        return Some(first);
    }
    Some(parsed.find(names_issuer).unwrap_or(first))
}

/// [`scan_logs`] of named [`Source`]s: the summary also says how each was
/// stored and whether it was read to its end.
pub fn scan_sources<R: io::Read + Send>(
    sources: &mut [(String, Source<R>)],
    options: Options,
    sink: &mut (dyn Sink + Send),
) -> io::Result<Summary> {
    let logs = sources
        .iter_mut()
        .map(|(name, source)| (name.clone(), source))
        .collect();
    let mut summary = scan_logs(logs, options, sink)?;
    summary.stored = sources
        .iter()
        .map(|(_, source)| Stored {
            compression: source.compression(),
            ended_early: source.ended_early().map(str::to_string),
        })
        .collect();
    Ok(summary)
}

/// Counts a diagnosed batch in, in input order, and remembers its outcomes.
fn settle<R: BufRead>(
    reader: &mut Reader<R>,
    agg: &mut Aggregator,
    sink: &mut dyn Sink,
    batch: Batch,
    results: Vec<Diagnosed>,
    policy: &Policy,
) {
    let occurrences = reader.take_occurrences(batch.seq);
    for &id in &batch.known_hits {
        agg.repeat(id);
    }
    for ((item, mut d), occ) in batch.items.iter().zip(results).zip(occurrences) {
        let interned = agg.intern(&d, occ);
        let example = if interned.needs_example {
            d.redacted(&item.text, policy)
        } else {
            None
        };
        let id = agg.record(item.line, interned, occ, example, item.digest.is_some());
        if let Some(json) = &d.json {
            sink.report(json);
        }
        reader.settle(item.digest, id);
    }
}

/// One token to diagnose: the first occurrence of a distinct token.
struct Pending {
    text: String,
    /// `Bearer Bearer ` right before it in the line.
    duplicate_bearer: bool,
    digest: Option<Digest>,
    line: u64,
}

struct Batch {
    seq: u64,
    items: Vec<Pending>,
    /// Outcome ids of repeats of tokens diagnosed in earlier batches.
    known_hits: Vec<u32>,
    /// Token occurrences read into this batch, repeats of still-pending
    /// tokens included: a batch of only those is no end of the input.
    occurrences: usize,
}

impl Batch {
    fn empty(seq: u64) -> Batch {
        Batch {
            seq,
            items: Vec::new(),
            known_hits: Vec::new(),
            occurrences: 0,
        }
    }

    /// Nothing read: `fill` stops early only at a token limit, so this is
    /// the end of the input.
    fn is_empty(&self) -> bool {
        self.occurrences == 0
    }
}

type Digest = [u8; 16];

/// A dedup table value in 32 bits, so an entry (digest and slot) is 20
/// bytes: the table is what grows with a log of distinct tokens. Either the
/// outcome id of a diagnosed token, or where a pending one waits: which of
/// the two batches in flight (the parity of its sequence number) and its
/// index in it.
#[derive(Clone, Copy)]
struct Slot(u32);

// A batch stops taking lines at BATCH_TOKENS items, but its last line may add
// one item per few bytes of it: indexes stay below this sum.
const _: () = assert!(BATCH_TOKENS + MAX_LINE_BYTES < Slot::ODD as usize);
const _: () = assert!(std::mem::size_of::<(Digest, Slot)>() == 20);

enum SlotIs {
    Known(u32),
    Pending { parity: usize, index: usize },
}

impl Slot {
    const PENDING: u32 = 1 << 31;
    const ODD: u32 = 1 << 30;

    /// `None` for an id past 31 bits (the token is then simply not remembered).
    fn known(id: u32) -> Option<Slot> {
        (id < Self::PENDING).then_some(Slot(id))
    }

    /// `index` is below [`BATCH_TOKENS`] + [`MAX_LINE_BYTES`].
    fn pending(seq: u64, index: usize) -> Slot {
        let odd = if seq % 2 == 1 { Self::ODD } else { 0 };
        Slot(Self::PENDING | odd | index as u32)
    }

    fn is(self) -> SlotIs {
        if self.0 & Self::PENDING == 0 {
            SlotIs::Known(self.0)
        } else {
            SlotIs::Pending {
                parity: usize::from(self.0 & Self::ODD != 0),
                index: (self.0 & (Self::ODD - 1)) as usize,
            }
        }
    }
}

/// Line reading, extraction and dedup: the sequential half of the scan.
struct Reader<R> {
    lines: LineReader<R>,
    /// The logs after the one being read.
    rest: VecDeque<R>,
    /// First line of each log reached (see [`Logs`]).
    starts: Vec<u64>,
    counts: LineCounts,
    seen: HashMap<Digest, Slot, BuildHasherDefault<DigestHasher>>,
    digester: Digester,
    max_distinct: usize,
    saturated: bool,
    /// Occurrence counts of the items of the two batches that can be
    /// pending at once (the one being diagnosed, the one being filled).
    occurrences: [Vec<u64>; 2],
}

impl<R: BufRead> Reader<R> {
    /// `None` without any input.
    fn new(inputs: Vec<R>, max_distinct: usize) -> Option<Self> {
        let mut rest: VecDeque<R> = inputs.into();
        Some(Reader {
            lines: LineReader::new(rest.pop_front()?, MAX_LINE_BYTES),
            rest,
            starts: vec![1],
            counts: LineCounts::default(),
            seen: HashMap::default(),
            digester: Digester::new(),
            max_distinct,
            saturated: false,
            occurrences: [Vec::new(), Vec::new()],
        })
    }

    /// Reads lines until the batch is full or the input ends.
    fn fill(&mut self, seq: u64) -> io::Result<Batch> {
        let mut batch = Batch::empty(seq);
        let slot = (seq % 2) as usize;
        self.occurrences[slot].clear();
        let (mut text_bytes, mut occurrences) = (0usize, 0usize);
        while batch.items.len() < BATCH_TOKENS
            && text_bytes < BATCH_BYTES
            && occurrences < BATCH_OCCURRENCES
        {
            self.counts.bytes = self.lines.bytes_read;
            let Some(line) = self.lines.next_line()? else {
                // The end of a log: on to the next, its first line next.
                match self.rest.pop_front() {
                    Some(next) => {
                        self.lines.switch(next);
                        self.starts.push(self.counts.lines + 1);
                        continue;
                    }
                    None => break,
                }
            };
            self.counts.lines += 1;
            let line_no = self.counts.lines;
            let text = match line {
                Line::TooLong => {
                    self.counts.too_long += 1;
                    continue;
                }
                Line::Text(t) => t,
            };
            if text.iter().all(u8::is_ascii_whitespace) {
                self.counts.blank += 1;
                continue;
            }
            if memchr::memchr(0, text).is_some() || std::str::from_utf8(text).is_err() {
                self.counts.binary += 1;
            }
            let mut found = false;
            let mut ranges = jwts(text).peekable();
            // No JWT: one the log masked whole, or what the client sent
            // instead, if a `Bearer` says.
            let instead = match ranges.peek() {
                None if redacted_stub(text) => {
                    self.counts.redacted += 1;
                    found = true;
                    None
                }
                None => bearer_value(text),
                Some(_) => None,
            };
            for range in ranges.chain(instead) {
                found = true;
                if jwt_masked_by_log(text, &range) {
                    self.counts.redacted += 1;
                    continue;
                }
                let jwt = &text[range.clone()];
                occurrences += 1;
                let duplicate_bearer = preceded_by_double_bearer(&text[..range.start]);
                let digest = self.digester.digest(jwt, duplicate_bearer);
                match self.seen.get(&digest).map(|slot| slot.is()) {
                    Some(SlotIs::Known(id)) => batch.known_hits.push(id),
                    Some(SlotIs::Pending { parity, index }) => {
                        if let Some(n) = self.occurrences[parity].get_mut(index) {
                            *n += 1;
                        }
                    }
                    None => {
                        let tracked = if self.seen.len() < self.max_distinct {
                            let index = batch.items.len();
                            self.seen.insert(digest, Slot::pending(seq, index));
                            Some(digest)
                        } else {
                            self.saturated = true;
                            None
                        };
                        text_bytes += jwt.len();
                        batch.items.push(Pending {
                            // ASCII by construction.
                            text: std::str::from_utf8(jwt).map_or_else(
                                |_| String::from_utf8_lossy(jwt).into_owned(),
                                str::to_owned,
                            ),
                            duplicate_bearer,
                            digest: tracked,
                            line: line_no,
                        });
                        self.occurrences[slot].push(1);
                    }
                }
            }
            if found {
                self.counts.with_token += 1;
            } else {
                self.counts.without_token += 1;
            }
        }
        self.counts.bytes = self.lines.bytes_read;
        batch.occurrences = occurrences;
        Ok(batch)
    }

    fn take_occurrences(&mut self, seq: u64) -> Vec<u64> {
        std::mem::take(&mut self.occurrences[(seq % 2) as usize])
    }

    /// Records a diagnosed token's outcome, so its repeats are only counted.
    fn settle(&mut self, digest: Option<Digest>, id: u32) {
        if let Some(d) = digest {
            if let Entry::Occupied(mut e) = self.seen.entry(d) {
                match Slot::known(id) {
                    Some(slot) => {
                        e.insert(slot);
                    }
                    None => {
                        e.remove();
                    }
                }
            }
        }
    }
}

/// The dedup key of a token: SipHash-1-3 with 128-bit output under a
/// per-run random key. A keyed PRF (what Rust's own hash tables use against
/// hash flooding), so table positions cannot be predicted from the log and
/// colliding tokens cannot be crafted without the key, which never leaves
/// the process; 128 bits make an accidental collision among even 2^32
/// distinct tokens a 2^-65 event. Every occurrence of every token is hashed
/// on the sequential half of the scan: this is 3x cheaper than the keyed
/// SHA-256 it replaces (160 vs 480 ns for a 650-byte RS256 token), which
/// took a quarter of a scan of a real, repetitive log.
struct Digester {
    key: (u64, u64),
}

impl Digester {
    fn new() -> Self {
        let mut key = [0u8; 16];
        if getrandom::fill(&mut key).is_err() {
            // Still correct, only predictable.
            key = [0x5a; 16];
        }
        let (k0, k1) = key.split_at(8);
        let word = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap_or_default());
        Digester {
            key: (word(k0), word(k1)),
        }
    }

    fn digest(&self, token: &[u8], duplicate_bearer: bool) -> Digest {
        let mut h = SipHasher13::new_with_keys(self.key.0, self.key.1);
        h.write(&[u8::from(duplicate_bearer)]);
        h.write(token);
        h.finish128().as_bytes()
    }
}

/// Hashes a [`Digest`] by its first bytes: it is already a keyed hash.
#[derive(Default)]
struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut word = [0u8; 8];
        let n = bytes.len().min(8);
        word[..n].copy_from_slice(&bytes[..n]);
        self.0 = self.0.rotate_left(17) ^ u64::from_le_bytes(word);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

fn preceded_by_double_bearer(before: &[u8]) -> bool {
    let trimmed = before.trim_ascii_end();
    let Some(rest) = strip_suffix_ci(trimmed, b"bearer") else {
        return false;
    };
    let rest = rest.trim_ascii_end();
    rest.len() < trimmed.len() - 6 && strip_suffix_ci(rest, b"bearer").is_some()
}

fn strip_suffix_ci<'a>(s: &'a [u8], suffix: &[u8]) -> Option<&'a [u8]> {
    let at = s.len().checked_sub(suffix.len())?;
    s[at..].eq_ignore_ascii_case(suffix).then_some(&s[..at])
}

/// Read-only state every worker shares (keys come per batch, [`keys::KeySets`]).
struct Shared {
    expect: Expectations,
    policy: Policy,
    error: ErrorText,
}

/// One token's diagnosis: what the summary counts, and the report. The
/// report is redacted in the worker when every report is written out;
/// otherwise only when it becomes an example (few tokens), in [`settle`],
/// and dropped in the worker when it cannot ([`Covered`]).
pub struct Diagnosed {
    pub codes: Vec<&'static Spec>,
    pub root: Option<&'static Spec>,
    pub verdict: Verdict,
    /// kid, iss, aud, alg ([`summary::Dim::ALL`] order), as redaction shows them.
    pub dims: [Option<serde_json::Value>; 4],
    raw: Option<Report>,
    redacted: Option<Redacted>,
    /// The JSON line for [`Sink::report`], when reports are written.
    json: Option<String>,
}

impl Diagnosed {
    /// The redacted report, made now if it was not yet. `text` is the token.
    fn redacted(&mut self, text: &str, policy: &Policy) -> Option<&Redacted> {
        if self.redacted.is_none() {
            if let Some(report) = self.raw.take() {
                let scrub = pipeline::scrub_list(text, &token::parse(text));
                self.redacted = Some(redact::redact(report, &policy.with_scrub(scrub)));
            }
        }
        self.redacted.as_ref()
    }
}

fn diagnose_batch(
    items: &[Pending],
    shared: &Shared,
    sets: &keys::KeySets,
    covered: &Covered,
    logs: &Logs,
    reports: bool,
) -> Vec<Diagnosed> {
    items
        .par_iter()
        .with_min_len(16)
        .map_init(DimCache::default, |dims, p| {
            diagnose_one(p, shared, sets, covered, logs, reports, dims)
        })
        .collect()
}

/// The summary dimensions (kid, iss, aud, alg) as redaction shows them, for
/// the few raw values a log repeats on almost every token: redacting a value
/// (classifying it, masking personal data) costs more than looking it up.
/// One per piece of a batch a worker takes, so never shared, and never
/// outliving the scan's policy.
#[derive(Default)]
struct DimCache(Vec<(usize, serde_json::Value, serde_json::Value)>);

impl DimCache {
    /// Distinct raw values remembered; past this, values are redacted each time.
    const CAPACITY: usize = 32;

    /// Worth keeping: a scalar or a short list of short strings (a huge
    /// hostile `kid` is redacted each time rather than held).
    fn small(v: &serde_json::Value) -> bool {
        use serde_json::Value;
        match v {
            Value::String(s) => s.len() <= 1024,
            Value::Array(a) => {
                a.len() <= 16
                    && a.iter()
                        .all(|v| matches!(v, Value::String(s) if s.len() <= 1024))
            }
            Value::Object(_) => false,
            _ => true,
        }
    }

    fn get(
        &mut self,
        dim: usize,
        raw: Option<&serde_json::Value>,
        redact: impl FnOnce(serde_json::Value) -> serde_json::Value,
    ) -> Option<serde_json::Value> {
        let raw = raw?;
        if let Some((.., shown)) = self.0.iter().find(|(d, v, _)| *d == dim && v == raw) {
            return Some(shown.clone());
        }
        let shown = redact(raw.clone());
        if self.0.len() < Self::CAPACITY && Self::small(raw) {
            self.0.push((dim, raw.clone(), shown.clone()));
        }
        Some(shown)
    }
}

fn diagnose_one(
    p: &Pending,
    shared: &Shared,
    sets: &keys::KeySets,
    covered: &Covered,
    logs: &Logs,
    reports: bool,
    cache: &mut DimCache,
) -> Diagnosed {
    let wrappers = if p.duplicate_bearer {
        vec![Wrapper::BearerPrefix, Wrapper::DuplicateBearer]
    } else {
        Vec::new()
    };
    let parsed = Parsed {
        token: token::parse(&p.text),
        wrappers,
    };
    let scrub = reports.then(|| pipeline::scrub_list(&p.text, &parsed.token));
    let keys = sets.for_token(&parsed.token);
    let report = pipeline::diagnose_owned(parsed, &shared.expect, keys, &shared.error);
    let policy = &shared.policy;
    let header = |name: &str| report.token.header.as_ref()?.member(name);
    let claim = |name: &str| report.token.claims.as_ref()?.member(name);
    let dims = [
        cache.get(0, header("kid"), |v| redact::header_value(policy, "kid", v)),
        cache.get(1, claim("iss"), |v| redact::claim_value(policy, "iss", v)),
        cache.get(2, claim("aud"), |v| redact::claim_value(policy, "aud", v)),
        cache.get(3, header("alg"), |v| redact::header_value(policy, "alg", v)),
    ];
    let mut d = Diagnosed {
        codes: report.findings.iter().map(|f| f.spec).collect(),
        root: report.root_cause().map(|f| f.spec),
        verdict: report.verdict,
        dims,
        raw: None,
        redacted: None,
        json: None,
    };
    match scrub {
        Some(scrub) => {
            let redacted = redact::redact(report, &policy.with_scrub(scrub));
            let (file, line) = logs.locate(p.line);
            d.json = Some(render::json::line(redacted.report(), file, line));
            d.redacted = Some(redacted);
        }
        // Kept only while it may still become a summary example.
        None if covered.covers(&d.codes, d.root, &d.dims) => {}
        None => d.raw = Some(report),
    }
    d
}

/// One line as read.
pub enum Line<'a> {
    /// The line without its `\n` (and `\r`).
    Text(&'a [u8]),
    /// Longer than the limit; its bytes were skipped, not kept.
    TooLong,
}

/// Lines of at most `max` bytes from a reader: straight from the reader's
/// buffer when a line lies whole in it (the common case, no copy), else
/// gathered in one reused buffer. A huge line costs time, never memory.
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    max: usize,
    pub bytes_read: u64,
    /// Length (with its `\n`) of the last line handed out from the reader's
    /// buffer: consumed on the next call, once the caller is done with it.
    handed_out: usize,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(inner: R, max: usize) -> Self {
        LineReader {
            inner,
            buf: Vec::new(),
            max,
            bytes_read: 0,
            handed_out: 0,
        }
    }

    /// Goes on reading from `inner`, the previous input having ended (its
    /// last line, even without a newline, has been handed out).
    pub fn switch(&mut self, inner: R) {
        self.inner = inner;
        self.handed_out = 0;
    }

    /// The next line, `None` at the end of the input.
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        self.inner.consume(std::mem::take(&mut self.handed_out));
        let whole = loop {
            match self.inner.fill_buf() {
                Ok(available) => {
                    break memchr::memchr(b'\n', available).filter(|&end| end <= self.max);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        if let Some(end) = whole {
            // The same buffered bytes again: a buffer that is not empty is
            // returned without reading.
            let available = self.inner.fill_buf()?;
            self.handed_out = end + 1;
            self.bytes_read += end as u64 + 1;
            let line = &available[..end];
            return Ok(Some(Line::Text(line.strip_suffix(b"\r").unwrap_or(line))));
        }
        self.buf.clear();
        let (mut any, mut too_long) = (false, false);
        loop {
            let available = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                if !any {
                    return Ok(None);
                }
                break;
            }
            any = true;
            let (chunk, used, done) = match memchr::memchr(b'\n', available) {
                Some(i) => (&available[..i], i + 1, true),
                None => (available, available.len(), false),
            };
            if !too_long {
                if self.buf.len() + chunk.len() > self.max {
                    too_long = true;
                    self.buf = Vec::new();
                } else {
                    self.buf.extend_from_slice(chunk);
                }
            }
            self.inner.consume(used);
            self.bytes_read += used as u64;
            if done {
                break;
            }
        }
        if too_long {
            return Ok(Some(Line::TooLong));
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        Ok(Some(Line::Text(&self.buf)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], max: usize) -> Vec<Option<Vec<u8>>> {
        let mut r = LineReader::new(input, max);
        let mut out = Vec::new();
        while let Some(line) = r.next_line().unwrap() {
            out.push(match line {
                Line::Text(t) => Some(t.to_vec()),
                Line::TooLong => None,
            });
        }
        out
    }

    #[test]
    fn line_reader_caps_lines_and_strips_terminators() {
        let got = lines(b"ab\r\n0123456789\n\nlast", 5);
        assert_eq!(
            got,
            vec![
                Some(b"ab".to_vec()),
                None,
                Some(vec![]),
                Some(b"last".to_vec())
            ]
        );
    }

    #[test]
    fn line_reader_spans_buffer_refills() {
        let data = [b"x".repeat(10_000), b"y".repeat(3)].join(&b'\n');
        let reader = io::BufReader::with_capacity(7, &data[..]);
        let mut r = LineReader::new(reader, 20_000);
        let mut n = Vec::new();
        while let Some(Line::Text(t)) = r.next_line().unwrap() {
            n.push(t.len());
        }
        assert_eq!(n, vec![10_000, 3]);
        assert_eq!(r.bytes_read, 10_004);
    }

    #[test]
    fn lines_whole_in_the_buffer_and_lines_across_refills_read_the_same() {
        // Lines of 0 to 40 bytes, some ending in CRLF, some over the limit,
        // through buffers smaller and larger than a line.
        let mut text = Vec::new();
        let mut want = Vec::new();
        for i in 0..500usize {
            let line: Vec<u8> = (0..(i * 7) % 41).map(|j| b'a' + (j % 26) as u8).collect();
            text.extend_from_slice(&line);
            text.extend_from_slice(if i % 3 == 0 { b"\r\n" } else { b"\n" });
            want.push((line.len() <= 30).then_some(line));
        }
        for capacity in [1, 2, 16, 41, 64, 1 << 16] {
            let mut r = LineReader::new(io::BufReader::with_capacity(capacity, &text[..]), 30);
            let mut got = Vec::new();
            while let Some(line) = r.next_line().unwrap() {
                got.push(match line {
                    Line::Text(t) => Some(t.to_vec()),
                    Line::TooLong => None,
                });
            }
            // A CR-terminated line counts its CR against the limit.
            let want: Vec<_> = want
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    w.clone()
                        .filter(|l| l.len() + usize::from(i % 3 == 0) <= 30)
                })
                .collect();
            assert_eq!(got, want, "buffer of {capacity}");
            assert_eq!(r.bytes_read, text.len() as u64);
        }
    }

    #[test]
    fn extraction_finds_jws_jwe_and_stops_at_sentence_end() {
        let line = b"a=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln. b=eyJhbGciOiJkaXIifQ..aXY.Y3Q.dGFn c=eyJub25lIjoxfQ.e30.";
        let found: Vec<&[u8]> = jwts(line).map(|r| &line[r]).collect();
        assert_eq!(
            found,
            vec![
                &b"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"[..],
                &b"eyJhbGciOiJkaXIifQ..aXY.Y3Q.dGFn"[..],
                &b"eyJub25lIjoxfQ.e30."[..],
            ]
        );
    }

    #[test]
    fn extraction_agrees_with_the_documented_regex() {
        let re = regex::bytes::Regex::new(concat!(
            r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+",
            r"|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*",
        ))
        .unwrap();
        let cases: &[&[u8]] = &[
            b"",
            b"eyJ",
            b"eyJ.a.b",
            b"eyJa.b",
            b"eyJa..",
            b"eyJa.b.c.d",
            b"eyJa.b.c.d.e.f",
            b"eyJa..c.d.e",
            b"eyJa.b..d.e",
            b"xeyJeyJa.b.c eyJz.y.x.",
            b"eyJa.eyJb.c.d",
            b"\xffeyJ\x00a.b.c eyJ-_.A9.z9-\teyJq.w.e.r.t.y",
            b"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln, next",
        ];
        for case in cases {
            let want: Vec<_> = re.find_iter(case).map(|m| m.range()).collect();
            let got: Vec<_> = jwts(case).collect();
            assert_eq!(got, want, "{}", String::from_utf8_lossy(case));
        }
    }

    #[test]
    fn standard_base64_and_url_encoded_tokens_are_taken_whole() {
        use base64::Engine;
        let std = |v: &[u8]| base64::engine::general_purpose::STANDARD.encode(v);
        let url = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        // ALB's x-amzn-oidc-data: padded standard base64 in every segment.
        let header = std(br#"{"alg":"ES256","kid":"k1","typ":"JWT"}"#);
        let payload = std(br#"{"sub":"1","exp":1700000000,"iss":"https://x"}"#);
        let sig = std(&[0xfb; 64]);
        assert!(header.ends_with('=') && sig.contains('+') && sig.contains('/'));
        let alb = format!("{header}.{payload}.{sig}");
        let line = format!("x-amzn-oidc-data: {alb} next");
        let found: Vec<&str> = jwts(line.as_bytes()).map(|r| &line[r]).collect();
        assert_eq!(found, [alb.as_str()]);
        // Base64url header and payload, only the signature in standard base64:
        // its base64url part is too short for RS256.
        let (h, p) = (url(br#"{"alg":"RS256"}"#), url(br#"{"sub":"1"}"#));
        let mut raw = vec![0xfb; 256];
        raw[0] = 0x10; // a signature that starts in base64url, as 31 in 32 do
        let sig = std(&raw);
        let token = format!("{h}.{p}.{sig}");
        let line = format!("Bearer {token}");
        let found: Vec<&str> = jwts(line.as_bytes()).map(|r| &line[r]).collect();
        assert_eq!(found, [token.as_str()]);
        // URL-encoded dots.
        let enc = format!("{h}%2E{p}%2e{}", url(&[7; 256]));
        let line = format!("GET /cb?access_token={enc} HTTP/1.1");
        let found: Vec<&str> = jwts(line.as_bytes()).map(|r| &line[r]).collect();
        assert_eq!(found, [enc.as_str()]);
        // A whole base64url token in a path keeps its end.
        let whole = format!("{h}.{p}.{}", url(&[7; 256]));
        let line = format!("GET /verify/{whole}/confirm");
        let found: Vec<&str> = jwts(line.as_bytes()).map(|r| &line[r]).collect();
        assert_eq!(found, [whole.as_str()]);
        // A cut token followed by a path and another token: both stay.
        let cut = format!("{h}.{p}.{}", &url(&[7; 256])[..100]);
        let line = format!("GET /a/{cut}/{whole} x");
        let found: Vec<&str> = jwts(line.as_bytes()).map(|r| &line[r]).collect();
        assert_eq!(found, [cut.as_str(), whole.as_str()]);
        // And an unsigned one too: an empty signature takes no path.
        let none = format!("{}.{p}.", url(br#"{"alg":"none"}"#));
        let line = format!("GET /verify/{none}/confirm");
        let found: Vec<&str> = jwts(line.as_bytes()).map(|r| &line[r]).collect();
        assert_eq!(found, [none.as_str()]);
    }

    #[test]
    fn itsdangerous_session_cookies_are_no_jwts() {
        let cookie = b"session=eyJ1c2VyX2lkIjowLCJfZnJlc2giOnRydWV9.ZVPxAA.kR6c1GQ9dTqv0Pq2cCvh4lJ2m0k; Path=/";
        assert_eq!(jwts(cookie).count(), 0);
        // Starlette's (FastAPI's) session cookie: standard base64, padded.
        let cookie = b"Cookie: session=eyJ1c2VyIjogImJvYiIsICJyb2xlcyI6IFsiYWRtaW4iXSwgIngiOiAiPz8+PiJ9.awUuJg.MemLEIlFMfAh-4Kl66kfWccokfI";
        assert_eq!(jwts(cookie).count(), 0);
        for padded in [
            &b"session=eyJ1c2VyIjogImJvIn0=.awUuPA.YndFv_69_M_b7VXY-wyTOSUjY2Q; path=/"[..],
            b"session=eyJ1c2VyIjogImIifQ==.awUuPA.wo1-fn0pV6ArgGUX-MzaEDYmRX0",
        ] {
            assert_eq!(jwts(padded).count(), 0);
        }
        // A JWT with a tiny payload still is one: its header has `alg`.
        let tiny = b"eyJhbGciOiJIUzI1NiJ9.eyIiOjF9.ZVPxAAkR6c1GQ9dTqv0Pq2cCvh4lJ2m0kAbCdEfGhIj";
        assert_eq!(jwts(tiny).count(), 1);
    }

    #[test]
    fn a_failed_start_skips_the_runs_it_read() {
        // What keeps a line of `eyJeyJ…` or `eyJa.eyJb.…` linear: a start
        // that makes no token says how far no other start can either, and
        // the search goes on from there (it used to go on from the next
        // byte and read the same run again: quadratic in the line).
        let line = b"eyJ".repeat(1000);
        assert_eq!(jwt_end(&line, 0), Err(line.len()));
        let line = b"eyJa.eyJb ".repeat(1000);
        assert_eq!(jwt_end(&line, 0), Err(9));
        // The skip loses no token: one after a long failed run is found.
        let mut line = b"eyJ".repeat(1000);
        line.extend_from_slice(b" eyJa.b.c");
        let found: Vec<&[u8]> = jwts(&line).map(|r| &line[r]).collect();
        assert_eq!(found, [&b"eyJa.b.c"[..]]);
        // Standard-base64 runs too: a start whose `+`/`/` chain leads to no
        // token says where the chain ended.
        let line = b"eyJa+".repeat(1000);
        assert_eq!(lenient_end(&line, 0), Err(line.len() - 1));
        let line = b"eyJa.eyJb/".repeat(1000);
        assert!(lenient_end(&line, 0).is_ok());
        // A stub masked after many segments is still a stub.
        let mut line = b"eyJa.".repeat(1000);
        line.extend_from_slice(b"[REDACTED]");
        assert!(redacted_stub(&line));
    }

    #[test]
    fn many_bearers_on_a_line_are_each_read_once() {
        // `Bearer,Bearer,…` looked for `Authorization` before each one, and a
        // value holding `-bearer-…` was read again from each inner `bearer`:
        // both quadratic in the line (1.4 s and 6 s for 64 lines of 64 KiB).
        // The answers stay what they were.
        let mut line = b"Bearer,".repeat(9000);
        assert_eq!(bearer_value(&line), None);
        line.extend_from_slice(b" Authorization: Bearer\t");
        let at = line.len() - 7;
        assert_eq!(bearer_value(&line), Some(at..at + 6));
        let mut line = b"Bearer x".to_vec();
        line.extend_from_slice(&b"-bearer".repeat(9000));
        assert_eq!(bearer_value(&line), Some(7..line.len()));
        let line = b"Bearer [object ".repeat(4000);
        assert_eq!(bearer_value(&line), None);
        // A `Bearer` right after a name holding "bearer" keeps its value.
        let value = |l: &[u8]| bearer_value(l).map(|r| l[r].to_vec());
        assert_eq!(
            value(b"headers: bearerAuth=Bearer undefined"),
            Some(b"undefined".to_vec())
        );
        assert_eq!(value(b"Bearer x-Bearer null"), Some(b"null".to_vec()));
    }

    proptest::proptest! {
        #[test]
        fn lenient_extraction_finds_ordered_tokens_that_start_as_jwts(s in "[eyJa.\\-_ %2E3D=+/]{0,60}") {
            let line = s.as_bytes();
            let mut last = 0;
            for r in jwts(line) {
                proptest::prop_assert!(r.start >= last && r.end > r.start && r.end <= line.len());
                proptest::prop_assert!(line[r.start..].starts_with(b"eyJ"));
                last = r.end;
            }
        }

        #[test]
        fn extraction_agrees_with_the_regex_on_random_text(s in "[eyJa.\\-_ ]{0,40}") {
            let re = regex::bytes::Regex::new(concat!(
                r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+",
                r"|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*",
            ))
            .unwrap();
            let want: Vec<_> = re.find_iter(s.as_bytes()).map(|m| m.range()).collect();
            let got: Vec<_> = jwts(s.as_bytes()).collect();
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn digests_are_keyed_per_run_and_tell_tokens_and_bearer_duplication_apart() {
        let (a, b) = (Digester::new(), Digester::new());
        let t = b"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig";
        assert_eq!(a.digest(t, false), a.digest(t, false));
        assert_ne!(a.digest(t, false), a.digest(t, true));
        assert_ne!(a.digest(t, false), a.digest(&t[..t.len() - 1], false));
        // Another run, another key: positions cannot be predicted from the log.
        assert_ne!(a.digest(t, false), b.digest(t, false));
        // No two of many near-identical tokens share a digest.
        let mut seen = std::collections::HashSet::new();
        for i in 0..100_000u32 {
            let token = format!("eyJ{i}.x.y");
            assert!(seen.insert(a.digest(token.as_bytes(), false)));
        }
    }

    #[test]
    fn slots_round_trip_ids_and_pending_places() {
        for id in [0, 1, 12_345, Slot::PENDING - 1] {
            assert!(matches!(Slot::known(id).map(Slot::is), Some(SlotIs::Known(got)) if got == id));
        }
        assert!(Slot::known(Slot::PENDING).is_none());
        assert!(Slot::known(u32::MAX).is_none());
        for seq in [0u64, 1, 2, 7, u64::MAX] {
            for index in [0, 1, BATCH_TOKENS - 1] {
                match Slot::pending(seq, index).is() {
                    SlotIs::Pending { parity, index: got } => {
                        assert_eq!((parity, got), ((seq % 2) as usize, index));
                    }
                    SlotIs::Known(_) => panic!("pending read back as known"),
                }
            }
        }
    }

    #[test]
    fn bearer_values_that_are_no_jwt() {
        let value = |line: &str| bearer_value(line.as_bytes()).map(|r| line[r].to_string());
        assert_eq!(
            value("Authorization: Bearer undefined").as_deref(),
            Some("undefined")
        );
        assert_eq!(
            value("\"authorization\":\"bearer null\"").as_deref(),
            Some("null")
        );
        assert_eq!(
            value("Bearer [object Object] 401").as_deref(),
            Some("[object Object]")
        );
        assert_eq!(value("Bearer {{ token }},").as_deref(), Some("{{ token }}"));
        // The same word where a header holds it was sent as the token.
        assert_eq!(
            value("-H 'Authorization: Bearer TOKEN'").as_deref(),
            Some("TOKEN")
        );
        assert_eq!(
            value("1.2.3.4 \"GET /\" 401 \"Bearer token\"").as_deref(),
            Some("token")
        );
        assert_eq!(value("Authorization: Bearer\t").as_deref(), Some("Bearer"));
        assert_eq!(
            value("{\"authorization\":\"Bearer \"}").as_deref(),
            Some("Bearer")
        );
        assert_eq!(
            value("auth=Bearer 2YotnFZFEjr1zCsicMWpAA;").as_deref(),
            Some("2YotnFZFEjr1zCsicMWpAA")
        );
        for line in [
            "WWW-Authenticate: Bearer realm=\"api\"",
            "Bearer tokens expire",
            "a Bearer",
            "expected \"Bearer \" prefix",
            "XBearer undefined",
            "Bearerundefined",
            // Log prose about tokens, not a request's (a 401 log is full of it).
            "WARN BearerTokenAuthenticationFilter : Bearer token is malformed",
            "DEBUG missing Bearer token for /api/v1/items",
            "rejected: invalid Bearer token (expired)",
            "level=warn msg=\"Bearer token required\" path=/v1/x",
            "Expected header format is Authorization: Bearer [token]",
        ] {
            assert_eq!(value(line), None, "{line}");
        }
    }

    #[test]
    fn double_bearer_is_noticed() {
        assert!(preceded_by_double_bearer(b"Authorization: Bearer Bearer "));
        assert!(preceded_by_double_bearer(b"bearer\tBEARER "));
        assert!(!preceded_by_double_bearer(b"Authorization: Bearer "));
        assert!(!preceded_by_double_bearer(b"xbearer "));
    }
}
