//! On-disk cache of successful (2xx) fetches, one JSON file per URL.
//!
//! The file is named by the SHA-256 hex of the requested URL and holds
//! `{url, final_url, redirects, fetched_at, max_age, status, content_type, body}`.
//! Every failure here (unreadable, unwritable, corrupt, full disk) is silent:
//! the cache is an optimisation and must never fail a fetch or print body bytes.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::Fetched;

/// Upper bound on any `max-age`, whatever the server says.
pub const MAX_MAX_AGE: u64 = 86_400;
/// Cache files larger than this are ignored (a 1 MiB body can at most ~6x in JSON).
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// What `Cache-Control` says about storing a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// `no-store`, or no usable `max-age`: never write it to disk. A
    /// response the server did not mark cacheable is not kept on a guess:
    /// the same URL may serve another set on the next run (a local mock
    /// JWKS being edited, a port reused by another server).
    NoStore,
    /// Store it, fresh for this many seconds (already bounded to [0, 86400]).
    MaxAge(u64),
}

/// Parses one or more `Cache-Control` header values (joined or separate).
pub fn policy<'a>(values: impl IntoIterator<Item = &'a str>) -> Policy {
    let mut max_age = None;
    for value in values {
        for directive in value.split(',') {
            let directive = directive.trim();
            let (name, arg) = match directive.split_once('=') {
                Some((n, a)) => (n.trim(), Some(a.trim().trim_matches('"'))),
                None => (directive, None),
            };
            if name.eq_ignore_ascii_case("no-store") {
                return Policy::NoStore;
            }
            if name.eq_ignore_ascii_case("max-age") && max_age.is_none() {
                max_age = arg.and_then(parse_seconds);
            }
        }
    }
    match max_age {
        Some(secs) => Policy::MaxAge(secs.min(MAX_MAX_AGE)),
        None => Policy::NoStore,
    }
}

/// Delta-seconds per RFC 9111: digits only; overflow saturates.
fn parse_seconds(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.parse::<u64>().unwrap_or(u64::MAX))
}

/// The key-set cache: `jwks/` under jwtai's cache root (`cachedir::root`).
pub fn default_dir() -> Option<PathBuf> {
    crate::cachedir::root().map(|r| r.join("jwks"))
}

/// SHA-256 hex of the URL: the cache file stem.
pub fn key(url: &str) -> String {
    crate::cachedir::key(url.as_bytes())
}

fn file_for(dir: &Path, url: &str) -> PathBuf {
    dir.join(format!("{}.json", key(url)))
}

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Reads the entry for `url`, fresh or stale. `None` on any problem.
pub fn load(dir: &Path, url: &str) -> Option<Fetched> {
    let started = std::time::Instant::now();
    let file = fs::File::open(file_for(dir, url)).ok()?;
    if file.metadata().ok()?.len() > MAX_FILE_BYTES {
        return None;
    }
    let mut text = String::new();
    file.take(MAX_FILE_BYTES).read_to_string(&mut text).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    // Guards against a corrupt file or a (theoretical) hash collision.
    if v.get("url")?.as_str()? != url {
        return None;
    }
    let fetched_at = v.get("fetched_at")?.as_u64()?;
    let max_age = v.get("max_age")?.as_u64()?.min(MAX_MAX_AGE);
    let status = u16::try_from(v.get("status")?.as_u64()?).ok()?;
    if !(200..300).contains(&status) {
        return None;
    }
    let body = v.get("body")?.as_str()?.as_bytes().to_vec();
    let content_type = v
        .get("content_type")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let final_url = v
        .get("final_url")
        .and_then(Value::as_str)
        .unwrap_or(url)
        .to_owned();
    let redirects = v
        .get("redirects")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Some(Fetched {
        url: final_url,
        status,
        body,
        content_type,
        redirects,
        from_cache: true,
        cache_age_secs: Some(now_secs().saturating_sub(fetched_at)),
        max_age_secs: Some(max_age),
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    })
}

/// Writes a successful response for `url`. Silently does nothing if the
/// response is not 2xx, has no `max_age_secs` (no-store), is not UTF-8, or
/// the directory cannot be created or written.
pub fn store(dir: &Path, url: &str, fetched: &Fetched) {
    let _ = try_store(dir, url, fetched);
}

fn try_store(dir: &Path, url: &str, fetched: &Fetched) -> Option<()> {
    if !(200..300).contains(&fetched.status) {
        return None;
    }
    let max_age = fetched.max_age_secs?;
    let body = std::str::from_utf8(&fetched.body).ok()?;
    let entry = json!({
        "url": url,
        "final_url": fetched.url,
        "redirects": fetched.redirects,
        "fetched_at": now_secs(),
        "max_age": max_age,
        "status": fetched.status,
        "content_type": fetched.content_type,
        "body": body,
    });
    let text = serde_json::to_vec(&entry).ok()?;
    crate::cachedir::write_private(dir, &format!("{}.json", key(url)), &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_parses_max_age_and_bounds_it() {
        assert_eq!(policy(["max-age=60"]), Policy::MaxAge(60));
        assert_eq!(policy(["public, Max-Age=\"120\""]), Policy::MaxAge(120));
        assert_eq!(policy(["max-age=999999999"]), Policy::MaxAge(MAX_MAX_AGE));
        assert_eq!(
            policy(["max-age=99999999999999999999999"]),
            Policy::MaxAge(MAX_MAX_AGE)
        );
        assert_eq!(policy(["max-age=0"]), Policy::MaxAge(0));
        assert_eq!(policy(["max-age=-5"]), Policy::NoStore);
        assert_eq!(policy(["max-age=abc"]), Policy::NoStore);
        assert_eq!(policy(Vec::<&str>::new()), Policy::NoStore);
        assert_eq!(policy(["public"]), Policy::NoStore);
        assert_eq!(policy(["public", "max-age=30"]), Policy::MaxAge(30));
    }

    #[test]
    fn policy_no_store_wins() {
        assert_eq!(policy(["max-age=60, no-store"]), Policy::NoStore);
        assert_eq!(policy(["NO-STORE"]), Policy::NoStore);
    }

    #[test]
    fn key_is_sha256_hex() {
        assert_eq!(
            key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
