//! HTTP fetching for `--jwks-uri`, `--discover` and `jwtai jwks URL`.
//!
//! Returns plain data ([`Fetched`]) or a classified [`FetchError`]; it does not
//! parse JWKs and does not produce findings. Non-2xx statuses are *not* errors:
//! the caller decides what a 404 means. Successful responses are cached on disk
//! (see [`cache`]) honouring `Cache-Control: max-age` / `no-store`.

pub mod cache;

use crate::errchain::sources;
use std::io;
use std::path::PathBuf;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use regex::Regex;

use reqwest::Url;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};

/// User-Agent sent with every request.
pub const USER_AGENT: &str = concat!(
    "jwtai/",
    env!("CARGO_PKG_VERSION"),
    " (+https://github.com/jwtai/jwtai)"
);

/// How to fetch.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Overall deadline: connect + response + body, across redirects.
    pub timeout: Duration,
    /// Largest accepted body; larger is [`FetchError::TooLarge`].
    pub max_bytes: usize,
    /// Redirects followed before [`FetchError::TooManyRedirects`].
    pub max_redirects: usize,
    /// Read and write the on-disk cache.
    pub use_cache: bool,
    /// Cache directory; `None` disables the cache. [`Default`] fills it with
    /// [`default_cache_dir`] (`$JWTAI_CACHE_DIR`, else `<cache>/jwtai/jwks`).
    pub cache_dir: Option<PathBuf>,
    /// Show a spinner on stderr while waiting (pass `true` only for a terminal).
    pub spinner: bool,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            timeout: Duration::from_secs(10),
            max_bytes: 1024 * 1024,
            max_redirects: 5,
            use_cache: true,
            cache_dir: default_cache_dir(),
            spinner: false,
        }
    }
}

/// `$JWTAI_CACHE_DIR` if set and non-empty, else `<user cache dir>/jwtai/jwks`.
pub fn default_cache_dir() -> Option<PathBuf> {
    cache::default_dir()
}

/// A response (from the network or the cache).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// Final URL after redirects.
    pub url: String,
    pub status: u16,
    pub body: Vec<u8>,
    pub content_type: Option<String>,
    /// The URLs that answered with a redirect, in order (the first is the
    /// requested URL). The full chain is `redirects` followed by `url`.
    pub redirects: Vec<String>,
    pub from_cache: bool,
    /// Age of the cache entry; `None` for a network response.
    pub cache_age_secs: Option<u64>,
    /// Freshness lifetime from `Cache-Control` (bounded, default 300 s);
    /// `None` when the response said `no-store`.
    pub max_age_secs: Option<u64>,
    pub elapsed_ms: u64,
}

impl Fetched {
    /// A network response is always fresh; a cached one while its age does
    /// not exceed its max-age.
    pub fn is_fresh(&self) -> bool {
        match (self.from_cache, self.cache_age_secs, self.max_age_secs) {
            (false, _, _) => true,
            (true, Some(age), Some(max)) => age <= max,
            _ => false,
        }
    }
}

/// Why a fetch failed. `Display` is one line meant for a human.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FetchError {
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    #[error("could not resolve host {host}: {message} (is the hostname right? is DNS reachable?)")]
    Dns { host: String, message: String },
    #[error("connection refused by {addr} (is the server running? is the port right?)")]
    Refused { addr: String },
    /// `message` is a sentence for a human ([`tls_text`]), not rustls' debug text.
    #[error("TLS handshake failed: {message}")]
    Tls { message: String },
    #[error(
        "timed out after {after_secs}s {} (server slow or unreachable?)",
        phase_text(phase)
    )]
    Timeout {
        after_secs: f64,
        phase: &'static str,
    },
    #[error("gave up after following {count} redirects (redirect loop?)")]
    TooManyRedirects { count: usize },
    #[error("response body is larger than the {limit}-byte limit")]
    TooLarge { limit: usize },
    #[error("connection closed before the response was complete ({message})")]
    Interrupted { message: String },
    #[error("{message}")]
    Other { message: String },
}

fn phase_text(phase: &str) -> &'static str {
    match phase {
        "connect" => "while connecting",
        "body" => "while reading the body",
        _ => "waiting for the response",
    }
}

impl FetchError {
    /// Stable short name: `invalid-url`, `dns`, `refused`, `tls`, `timeout`,
    /// `too-many-redirects`, `too-large`, `interrupted`, `other`.
    pub fn kind(&self) -> &'static str {
        match self {
            FetchError::InvalidUrl(_) => "invalid-url",
            FetchError::Dns { .. } => "dns",
            FetchError::Refused { .. } => "refused",
            FetchError::Tls { .. } => "tls",
            FetchError::Timeout { .. } => "timeout",
            FetchError::TooManyRedirects { .. } => "too-many-redirects",
            FetchError::TooLarge { .. } => "too-large",
            FetchError::Interrupted { .. } => "interrupted",
            FetchError::Other { .. } => "other",
        }
    }
}

/// `<iss without trailing slash>/.well-known/openid-configuration`.
pub fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

// ---------------------------------------------------------------- entry points

/// Blocking fetch: a fresh cache entry if allowed, else the network.
/// Safe to call from inside a tokio runtime (runs on a helper thread then).
pub fn get(url: &str, opts: &FetchOptions) -> Result<Fetched, FetchError> {
    block_on(get_async(url, opts))
}

/// Async fetch: a fresh cache entry if `use_cache`, else the network (and
/// the result is cached).
pub async fn get_async(url: &str, opts: &FetchOptions) -> Result<Fetched, FetchError> {
    if let Some(hit) = cached(url, opts).filter(Fetched::is_fresh) {
        return Ok(hit);
    }
    get_fresh_async(url, opts).await
}

/// Blocking fetch that skips the cache read but still writes the result
/// (used to re-fetch a JWKS when a `kid` is missing).
pub fn get_fresh(url: &str, opts: &FetchOptions) -> Result<Fetched, FetchError> {
    block_on(get_fresh_async(url, opts))
}

/// Async version of [`get_fresh`].
pub async fn get_fresh_async(url: &str, opts: &FetchOptions) -> Result<Fetched, FetchError> {
    let fetched = fetch_network(url, opts).await?;
    if opts.use_cache
        && let Some(dir) = &opts.cache_dir
    {
        cache::store(dir, url, &fetched);
    }
    Ok(fetched)
}

/// The cache entry for `url`, fresh or stale (check [`Fetched::is_fresh`]),
/// or `None` if caching is off, absent or unreadable.
pub fn cached(url: &str, opts: &FetchOptions) -> Option<Fetched> {
    if !opts.use_cache {
        return None;
    }
    cache::load(opts.cache_dir.as_deref()?, url)
}

fn block_on<T: Send>(
    fut: impl Future<Output = Result<T, FetchError>> + Send,
) -> Result<T, FetchError> {
    let run = move || match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(fut),
        Err(e) => Err(FetchError::Other {
            message: format!("could not start the async runtime: {e}"),
        }),
    };
    if tokio::runtime::Handle::try_current().is_ok() {
        // A runtime cannot block inside another one: use a helper thread.
        std::thread::scope(|s| s.spawn(run).join()).unwrap_or_else(|_| {
            Err(FetchError::Other {
                message: "the fetch thread panicked".into(),
            })
        })
    } else {
        run()
    }
}

// ---------------------------------------------------------------- network

/// Clears the spinner however the fetch ends.
struct Spinner(Option<indicatif::ProgressBar>);

impl Spinner {
    fn start(enabled: bool, url: &str) -> Spinner {
        if !enabled {
            return Spinner(None);
        }
        let bar =
            indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
        bar.set_style(indicatif::ProgressStyle::default_spinner());
        bar.set_message(format!("fetching {}", excerpt(url.as_bytes(), 200)));
        bar.enable_steady_tick(Duration::from_millis(100));
        Spinner(Some(bar))
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

fn parse_url(url: &str) -> Result<Url, FetchError> {
    let parsed = Url::parse(url.trim())
        .map_err(|e| FetchError::InvalidUrl(format!("{}: {e}", excerpt(url.as_bytes(), 200))))?;
    check_scheme(&parsed)?;
    Ok(parsed)
}

fn check_scheme(url: &Url) -> Result<(), FetchError> {
    match url.scheme() {
        "http" | "https" if url.host_str().is_some_and(|h| !h.is_empty()) => Ok(()),
        "http" | "https" => Err(FetchError::InvalidUrl(format!("{url}: no host"))),
        other => Err(FetchError::InvalidUrl(format!(
            "{}: scheme `{}` is not supported (use http:// or https://)",
            excerpt(url.as_str().as_bytes(), 200),
            excerpt(other.as_bytes(), 20)
        ))),
    }
}

fn ms_since(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}

async fn fetch_network(url: &str, opts: &FetchOptions) -> Result<Fetched, FetchError> {
    let start = Instant::now();
    let deadline = start + opts.timeout;
    let timeout_err = |phase: &'static str| FetchError::Timeout {
        after_secs: opts.timeout.as_secs_f64(),
        phase,
    };
    let mut current = parse_url(url)?;
    let _spinner = Spinner::start(opts.spinner, url);

    let client = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(opts.timeout)
        .timeout(opts.timeout)
        // Redirects are followed by hand below, to record each hop and to keep
        // one deadline across all of them.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| FetchError::Other {
            message: format!("could not build the HTTP client: {}", chain_text(&e)),
        })?;

    let mut redirects = Vec::new();
    let response = loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(timeout_err("response"));
        }
        let send = client.get(current.clone()).timeout(remaining).send();
        let response = match tokio::time::timeout_at(deadline.into(), send).await {
            Err(_) => return Err(timeout_err("response")),
            Ok(Err(e)) => return Err(classify(&e, &current, "response", opts.timeout)),
            Ok(Ok(r)) => r,
        };
        let status = response.status();
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let location = match location {
            Some(l) if status.is_redirection() && status != reqwest::StatusCode::NOT_MODIFIED => l,
            _ => break response,
        };
        if redirects.len() >= opts.max_redirects {
            return Err(FetchError::TooManyRedirects {
                count: redirects.len(),
            });
        }
        let next = current.join(&location).map_err(|e| {
            FetchError::InvalidUrl(format!(
                "redirect from {current} to {}: {e}",
                excerpt(location.as_bytes(), 200)
            ))
        })?;
        check_scheme(&next)?;
        redirects.push(current.to_string());
        current = next;
    };

    let status = response.status().as_u16();
    let final_url = response.url().to_string();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let max_age_secs = match cache::policy(
        response
            .headers()
            .get_all(CACHE_CONTROL)
            .iter()
            .filter_map(|v| v.to_str().ok()),
    ) {
        cache::Policy::NoStore => None,
        cache::Policy::MaxAge(n) => Some(n),
    };
    let limit = opts.max_bytes;
    if response
        .content_length()
        .is_some_and(|n| n > u64::try_from(limit).unwrap_or(u64::MAX))
    {
        return Err(FetchError::TooLarge { limit });
    }

    let mut response = response;
    let mut body = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline.into(), response.chunk()).await {
            Err(_) => return Err(timeout_err("body")),
            Ok(Err(e)) => return Err(classify(&e, &current, "body", opts.timeout)),
            Ok(Ok(None)) => break,
            Ok(Ok(Some(chunk))) => {
                if body.len().saturating_add(chunk.len()) > limit {
                    return Err(FetchError::TooLarge { limit });
                }
                body.extend_from_slice(&chunk);
            }
        }
    }

    Ok(Fetched {
        url: final_url,
        status,
        body,
        content_type,
        redirects,
        from_cache: false,
        cache_age_secs: None,
        max_age_secs,
        elapsed_ms: ms_since(start),
    })
}

// ---------------------------------------------------------------- error classification

/// "a: b: c" from the error chain, skipping the reqwest wrapper (it repeats
/// the URL) and messages already contained in the previous one.
fn chain_text(err: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for e in sources(err) {
        let msg = e.to_string();
        if msg.is_empty() || parts.last().is_some_and(|p| p.contains(&msg)) {
            continue;
        }
        parts.push(msg);
    }
    if parts.is_empty() {
        parts.push(err.to_string());
    }
    excerpt(parts.join(": ").as_bytes(), 300)
}

fn addr_of(url: &Url) -> String {
    let host = url.host_str().unwrap_or("?");
    match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

fn classify(err: &reqwest::Error, url: &Url, phase: &'static str, timeout: Duration) -> FetchError {
    let chain = sources(err);
    if err.is_timeout() {
        let phase = if err.is_connect() { "connect" } else { phase };
        return FetchError::Timeout {
            after_secs: timeout.as_secs_f64(),
            phase,
        };
    }
    let io_kind = |kinds: &[io::ErrorKind]| {
        chain.iter().any(|e| {
            e.downcast_ref::<io::Error>()
                .is_some_and(|io| kinds.contains(&io.kind()))
        })
    };
    if io_kind(&[io::ErrorKind::ConnectionRefused]) {
        return FetchError::Refused { addr: addr_of(url) };
    }
    if let Some(tls) = chain.iter().find_map(|e| e.downcast_ref::<rustls::Error>()) {
        return FetchError::Tls {
            message: tls_text(tls),
        };
    }
    if err.is_dns() {
        return FetchError::Dns {
            host: url.host_str().unwrap_or("?").to_owned(),
            message: chain_text(err),
        };
    }
    let closed = io_kind(&[
        io::ErrorKind::UnexpectedEof,
        io::ErrorKind::ConnectionReset,
        io::ErrorKind::ConnectionAborted,
        io::ErrorKind::BrokenPipe,
    ]) || chain
        .iter()
        .any(|e| e.to_string().contains("connection closed"));
    if phase == "body" || err.is_body() || closed {
        let root = chain
            .last()
            .map(|e| excerpt(e.to_string().as_bytes(), 200))
            .unwrap_or_else(|| chain_text(err));
        let during = if phase == "body" {
            "while reading the body"
        } else {
            "before the response headers"
        };
        return FetchError::Interrupted {
            message: format!("{during}: {root}"),
        };
    }
    if err.is_connect() {
        return FetchError::Other {
            message: format!("could not connect to {}: {}", addr_of(url), chain_text(err)),
        };
    }
    FetchError::Other {
        message: format!("request to {} failed: {}", addr_of(url), chain_text(err)),
    }
}

/// What to do about a certificate this machine does not trust.
const PRIVATE_CA: &str = "if it comes from a private or corporate CA, point jwtai to that CA with SSL_CERT_FILE=/path/to/ca.pem";

/// A rustls failure as a sentence: rustls' own `Display` prints debug
/// names (`invalid peer certificate: Other(OtherError(CaUsedAsEndEntity))`).
pub(crate) fn tls_text(err: &rustls::Error) -> String {
    use rustls::{CertificateError as C, Error as E};
    match err {
        E::InvalidCertificate(cert) => match cert {
            C::UnknownIssuer => format!(
                "the server's certificate is issued by a CA this machine does not trust, or is self-signed; {PRIVATE_CA}"
            ),
            C::Expired | C::ExpiredContext { .. } => {
                "the server's certificate has expired (renew it on the server; if it looks valid, check this machine's clock)".to_string()
            }
            C::NotValidYet | C::NotValidYetContext { .. } => {
                "the server's certificate is not valid yet (check this machine's clock, and the certificate's start date)".to_string()
            }
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                "the server's certificate is not issued for this host name (use the host name the certificate names, or reissue it with this name)".to_string()
            }
            C::Revoked => "the server's certificate has been revoked".to_string(),
            C::BadSignature => {
                "the server's certificate has a signature that does not verify".to_string()
            }
            C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
                "the server's certificate is not issued for TLS server authentication".to_string()
            }
            C::BadEncoding => "the server's certificate cannot be parsed".to_string(),
            C::Other(other) => match other.to_string().as_str() {
                "CaUsedAsEndEntity" => format!(
                    "the server presents a CA certificate as its own certificate: it needs a server certificate for its host name, issued by that CA (and {PRIVATE_CA})"
                ),
                "UnknownIssuer" => format!(
                    "the server's certificate is issued by a CA this machine does not trust; {PRIVATE_CA}"
                ),
                "CertExpired" => "the server's certificate has expired".to_string(),
                "CertNotValidForName" => {
                    "the server's certificate is not issued for this host name".to_string()
                }
                name => format!(
                    "the server's certificate was refused ({}); {PRIVATE_CA}",
                    excerpt(name.as_bytes(), 80)
                ),
            },
            other => format!(
                "the server's certificate was refused ({}); {PRIVATE_CA}",
                excerpt(format!("{other:?}").as_bytes(), 80)
            ),
        },
        E::InvalidMessage(_) | E::InappropriateMessage { .. } => {
            "the server did not answer with TLS (plain HTTP on an https port? use http:// for it)".to_string()
        }
        E::AlertReceived(alert) => format!(
            "the server ended the handshake (TLS alert {}): it may require a client certificate or a TLS version or cipher this client does not offer",
            excerpt(format!("{alert:?}").as_bytes(), 40)
        ),
        E::NoCertificatesPresented => "the server presented no certificate".to_string(),
        other => excerpt(other.to_string().as_bytes(), 200),
    }
}

// ---------------------------------------------------------------- excerpt

/// Replacement for secret-looking strings in excerpts.
pub const REDACTED: &str = "«redacted»";

/// A short, printable, single-line excerpt of a body for finding details:
/// control and invisible format characters removed, whitespace collapsed,
/// JWT-looking strings and long high-entropy strings replaced by «redacted»,
/// then cut to `max_chars` characters (ending in `…` when cut).
pub fn excerpt(body: &[u8], max_chars: usize) -> String {
    let text = String::from_utf8_lossy(body);
    // Compressed or binary: quoting it shows only replacement characters.
    let unreadable = text.chars().filter(|&c| c == '\u{FFFD}').count();
    if unreadable * 10 > text.chars().count() {
        return format!("({} bytes of binary data)", body.len());
    }
    let cleaned: String = text
        .chars()
        .map(|c| if is_invisible(c) { ' ' } else { c })
        .collect();
    let collapsed = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    let redacted = redact(&redact_named(&collapsed));
    // And what free text is masked of (addresses, keys by shape, `api_key:`
    // values), on the part that can be shown: the excerpt is in local
    // output too, not only in what a model is sent.
    let head: String = redacted
        .chars()
        .take(max_chars.saturating_add(200))
        .collect();
    let redacted = crate::redact::free_text(&head);
    let count = redacted.chars().count();
    if count <= max_chars {
        return redacted;
    }
    if max_chars == 0 {
        return String::new();
    }
    let mut out: String = redacted.chars().take(max_chars - 1).collect();
    out.push('…');
    out
}

fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}')
}

fn is_b64url(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// Characters of a base64/base64url run (`=` padding is handled separately,
/// so that `name=value` splits at the `=`).
fn is_secretish(c: char) -> bool {
    is_b64url(c) || c == '+' || c == '/'
}

/// JSON members and `name=value` pairs whose name says the value is secret:
/// a JWK's private and symmetric members (`k`, `d`, `p`, `q`, `dp`, `dq`,
/// `qi`), and passwords, secrets, API keys and tokens of any length. Their
/// values are replaced whatever they look like: `"k":"aHVudGVyMg"` is short
/// and still the whole HMAC key.
fn redact_named(text: &str) -> String {
    static JSON_MEMBER: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r#"(?i)("(?:k|d|p|q|dp|dq|qi|[a-z_-]*(?:password|passwd|secret|api_?key|token|private_?key|credential)[a-z_-]*)"\s*:\s*)"(?:[^"\\]|\\.)*("|$)"#,
        )
        .expect("static regex")
    });
    static PAIR: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?i)\b([a-z_-]*(?:password|passwd|secret|api_?key|token|private_?key|credential)[a-z_-]*=)[^&\s;,]+",
        )
        .expect("static regex")
    });
    // `token_endpoint`, `jwks_uri`: a discovery document's URLs are no secret.
    let text = JSON_MEMBER.replace_all(text, |c: &regex::Captures| {
        let name = c[1].trim_end_matches(|ch: char| ch == ':' || ch == '"' || ch.is_whitespace());
        if name.ends_with("_endpoint") || name.ends_with("_uri") || name.ends_with("_url") {
            c[0].to_string()
        } else {
            format!("{}\"{REDACTED}\"", &c[1])
        }
    });
    PAIR.replace_all(&text, format!("${{1}}{REDACTED}").as_str())
        .into_owned()
}

/// Replaces JWTs (`eyJ…` with at least two dots) and long high-entropy runs.
fn redact(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if let Some(end) = jwt_at(&chars, i) {
            out.push_str(REDACTED);
            i = end;
            continue;
        }
        if is_secretish(chars[i]) && (i == 0 || !is_secretish(chars[i - 1])) {
            let mut end = (i..chars.len())
                .find(|&j| !is_secretish(chars[j]))
                .unwrap_or(chars.len());
            // Up to two `=` of base64 padding belong to the run.
            for _ in 0..2 {
                if chars.get(end) == Some(&'=') {
                    end += 1;
                }
            }
            let run = &chars[i..end];
            // A JWT may start inside the run (`token=eyJ…`): only copy up to it.
            let jwt_start = (i..end).find(|&j| jwt_at(&chars, j).is_some());
            let stop = jwt_start.unwrap_or(end);
            let run = &run[..stop - i];
            if looks_random(run) {
                out.push_str(REDACTED);
            } else {
                out.extend(run);
            }
            i = stop;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// If a JWT/JWE-looking token starts at `i`, the index just past it.
fn jwt_at(chars: &[char], i: usize) -> Option<usize> {
    if chars.get(i..i + 3)? != ['e', 'y', 'J'] || (i > 0 && is_b64url(chars[i - 1])) {
        return None;
    }
    let mut j = i + 3;
    let mut dots = 0;
    loop {
        while j < chars.len() && is_b64url(chars[j]) {
            j += 1;
        }
        if dots < 4 && chars.get(j) == Some(&'.') {
            dots += 1;
            j += 1;
        } else {
            break;
        }
    }
    (dots >= 2 && j - i >= 10).then_some(j)
}

/// At least 32 characters, at least two of lower/upper/digit, and a Shannon
/// entropy of at least 3 bits per character.
fn looks_random(run: &[char]) -> bool {
    if run.len() < 32 {
        return false;
    }
    let classes = [
        run.iter().any(char::is_ascii_lowercase),
        run.iter().any(char::is_ascii_uppercase),
        run.iter().any(char::is_ascii_digit),
    ]
    .iter()
    .filter(|&&b| b)
    .count();
    if classes < 2 {
        return false;
    }
    let mut counts = std::collections::HashMap::new();
    for c in run {
        *counts.entry(*c).or_insert(0usize) += 1;
    }
    let n = run.len() as f64;
    let entropy: f64 = counts
        .values()
        .map(|&k| {
            let p = k as f64 / n;
            -p * p.log2()
        })
        .sum();
    entropy >= 3.0
}

#[cfg(test)]
mod tests;
