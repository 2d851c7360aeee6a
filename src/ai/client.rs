//! The chat-completions call against any OpenAI-compatible endpoint (OpenAI,
//! Azure-style gateways, Ollama, llama.cpp's server, vLLM): one POST over
//! reqwest, the answer read as server-sent events or as one JSON completion,
//! whichever the server sends (some gateways ignore `stream`).
//!
//! The request body is plain JSON built here, so `--show-prompt` prints the
//! exact bytes that are sent, and a response cache can key on them.
//!
//! Bounds: `--timeout` is the deadline of the whole call (connect, first
//! byte, every byte of a trickling stream, and the 429 retries), not only of
//! each read; a Ctrl-C flag stops the call at once; an answer over
//! [`MAX_ANSWER_CHARS`] is cut. Redirects are followed on the same origin
//! only: the request, and the key, go nowhere else. Failures are classified
//! into a clear [`AiError`]; an answer that stopped early (length limit, an
//! error event mid-stream, the cap, a connection cut mid-answer) is returned
//! marked [`Answer::incomplete`], never as if it were whole.

use std::error::Error as StdError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::Url;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use super::{Message, Settings, cache};

/// Attempts in all for a rate-limited (429) request.
const ATTEMPTS: u32 = 3;
/// Longest answer accepted, in bytes: a runaway model is cut here.
pub const MAX_ANSWER_CHARS: usize = 64 * 1024;
/// Largest non-streamed body read (a JSON completion, an error page).
const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Same-origin redirects followed at most.
const MAX_REDIRECTS: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum AiError {
    #[error(
        "no API key for {base}: set JWTAI_API_KEY (or OPENAI_API_KEY), or use a local model: scripts/local-model.sh, then --api-base http://127.0.0.1:8080/v1"
    )]
    NoKey { base: String },
    #[error(
        "the model endpoint refused the API key (HTTP {status}): check JWTAI_API_KEY / OPENAI_API_KEY"
    )]
    Unauthorized { status: u16 },
    #[error(
        "model '{model}' not found at {base} (HTTP 404): check --model / JWTAI_MODEL and --api-base (it usually ends in /v1)"
    )]
    NotFound { model: String, base: String },
    #[error(
        "rate limited by the model endpoint (HTTP 429) after {attempts} attempts: try again later"
    )]
    RateLimited { attempts: u32 },
    #[error("the model endpoint failed (HTTP {status}): {message}")]
    Server { status: u16, message: String },
    #[error("the model endpoint answered HTTP {status}: {message}")]
    Http { status: u16, message: String },
    #[error("{}", timeout_text(.base, *.secs, *.partial))]
    Timeout {
        base: String,
        secs: u64,
        /// Some text had arrived: the answer was slow, not the start.
        partial: bool,
    },
    #[error(
        "cannot connect to {base}: is the model server running? (for a local one: scripts/local-model.sh)"
    )]
    Connect { base: String },
    #[error(
        "the TLS handshake with {base} failed ({message}): if the server speaks plain HTTP, use http:// in --api-base"
    )]
    Tls { base: String, message: String },
    #[error(
        "the model endpoint {base} redirected to another host ({to}); jwtai does not follow that, so the request and the key go nowhere else: put the endpoint you mean in --api-base"
    )]
    Redirect { base: String, to: String },
    #[error("{base} closed the connection before sending an answer")]
    Closed { base: String },
    #[error("the model endpoint sent a malformed answer: {0}")]
    Malformed(String),
    #[error("the model answered with no text")]
    Empty,
    #[error("stopped (Ctrl-C)")]
    Cancelled,
    #[error("{0}")]
    Other(String),
}

fn timeout_text(base: &str, secs: u64, partial: bool) -> String {
    let more = (secs * 4).clamp(60, 3600);
    if partial {
        format!(
            "the answer from {base} did not finish within {secs} s (--timeout bounds the whole answer): for a slow model raise it, e.g. --timeout {more}"
        )
    } else {
        format!(
            "no answer from {base} within {secs} s (--timeout): the model may be slow to start (a local one loads its weights first); raise it, e.g. --timeout {more}"
        )
    }
}

/// What the model said.
#[derive(Debug, Clone)]
pub struct Answer {
    pub model: String,
    pub text: String,
    pub cached: bool,
    /// Why the text is not the whole answer (length limit, an error event
    /// mid-stream, the size cap, a cut connection); `None` when it is.
    pub incomplete: Option<String>,
}

/// The exact JSON body of a chat-completions request.
pub fn request_body(settings: &Settings, messages: &[Message], stream: bool) -> Value {
    let mut body = json!({
        "model": settings.model,
        "messages": messages,
        "temperature": 0.2,
        "max_tokens": 800,
    });
    if stream {
        body["stream"] = json!(true);
    }
    body
}

/// Sends the request; `on_text` sees each piece of text as it arrives (the
/// whole text at once when not streaming or served from the cache). When
/// `cancel` turns true the call stops with [`AiError::Cancelled`].
pub async fn complete(
    settings: &Settings,
    messages: &[Message],
    stream: bool,
    cancel: Option<&AtomicBool>,
    mut on_text: impl FnMut(&str),
) -> Result<Answer, AiError> {
    let key = cache::key(settings, messages);
    if settings.use_cache {
        if let Some(text) = cache::load(settings, &key) {
            on_text(&text);
            return Ok(Answer {
                model: settings.model.clone(),
                text,
                cached: true,
                incomplete: None,
            });
        }
    }
    if settings.api_key.is_none() && !settings.is_local() {
        return Err(AiError::NoKey {
            base: settings.shown_base(),
        });
    }
    let client = http_client(settings)?;
    let body = request_body(settings, messages, stream);
    let deadline = tokio::time::Instant::now() + settings.timeout;
    let mut attempt = 0;
    let answer = loop {
        attempt += 1;
        let mut progress = Progress::new(settings);
        let outcome = {
            let call = once(
                &client,
                settings,
                &body,
                stream,
                &mut progress,
                &mut on_text,
            );
            tokio::select! {
                r = tokio::time::timeout_at(deadline, call) => Some(r),
                () = cancelled(cancel) => None,
            }
        };
        let result = match outcome {
            None => Err(AiError::Cancelled),
            Some(Err(_elapsed)) => Err(AiError::Timeout {
                base: settings.shown_base(),
                secs: settings.timeout.as_secs().max(1),
                partial: !progress.text.is_empty(),
            }),
            Some(Ok(r)) => r,
        };
        match result {
            Err(AiError::RateLimited { .. }) if attempt < ATTEMPTS => {
                let wait = settings.retry_base * 2u32.pow(attempt - 1);
                if tokio::time::Instant::now() + wait >= deadline {
                    return Err(AiError::RateLimited { attempts: attempt });
                }
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = cancelled(cancel) => return Err(AiError::Cancelled),
                }
            }
            Err(AiError::RateLimited { .. }) => {
                return Err(AiError::RateLimited { attempts: attempt });
            }
            other => break other?,
        }
    };
    if answer.text.trim().is_empty() {
        return Err(AiError::Empty);
    }
    // An answer cut short is shown as such, and asked again next time.
    if settings.use_cache && answer.incomplete.is_none() {
        cache::store(settings, &key, &answer.text);
    }
    Ok(answer)
}

/// Resolves when the flag turns true; never without a flag.
async fn cancelled(cancel: Option<&AtomicBool>) {
    match cancel {
        Some(flag) => {
            while !flag.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        }
        None => std::future::pending().await,
    }
}

/// The answer as it arrives, kept outside the call so a deadline can tell
/// "nothing came" from "it came too slowly".
struct Progress {
    text: String,
    model: String,
    incomplete: Option<String>,
    /// `[DONE]` or a `finish_reason` arrived: the model said it had finished.
    done: bool,
}

impl Progress {
    fn new(settings: &Settings) -> Progress {
        Progress {
            text: String::new(),
            model: settings.model.clone(),
            incomplete: None,
            done: false,
        }
    }

    /// Adds a piece within the cap; false once the cap is reached.
    fn push(&mut self, piece: &str, on_text: &mut impl FnMut(&str)) -> bool {
        if piece.is_empty() {
            return true;
        }
        let room = MAX_ANSWER_CHARS.saturating_sub(self.text.len());
        if piece.len() <= room {
            self.text.push_str(piece);
            on_text(piece);
            return true;
        }
        let mut end = room;
        while !piece.is_char_boundary(end) {
            end -= 1;
        }
        self.text.push_str(&piece[..end]);
        on_text(&piece[..end]);
        self.incomplete = Some(format!(
            "the answer was longer than {} KiB and was cut there",
            MAX_ANSWER_CHARS / 1024
        ));
        false
    }

    fn take(&mut self, settings: &Settings) -> Answer {
        let p = std::mem::replace(self, Progress::new(settings));
        Answer {
            model: p.model,
            text: p.text,
            cached: false,
            incomplete: p.incomplete,
        }
    }
}

/// Why a `finish_reason` means the answer stopped early.
fn finish_note(reason: &str) -> Option<String> {
    match reason {
        "length" => {
            Some("the model stopped at its length limit (finish_reason \"length\")".to_string())
        }
        "content_filter" => Some("the endpoint's content filter stopped the answer".to_string()),
        _ => None,
    }
}

fn http_client(settings: &Settings) -> Result<reqwest::Client, AiError> {
    let origin = Url::parse(&settings.api_base).ok();
    let policy = reqwest::redirect::Policy::custom(move |attempt| {
        let same = origin.as_ref().is_some_and(|o| {
            let n = attempt.url();
            o.scheme() == n.scheme()
                && o.host_str() == n.host_str()
                && o.port_or_known_default() == n.port_or_known_default()
        });
        if !same {
            let to = attempt.url().host_str().unwrap_or("?").to_string();
            attempt.error(OffHost(to))
        } else if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error(OffHost(String::new()))
        } else {
            attempt.follow()
        }
    });
    reqwest::Client::builder()
        .connect_timeout(settings.timeout)
        .read_timeout(settings.timeout)
        .redirect(policy)
        .user_agent(concat!("jwtai/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| AiError::Other(format!("cannot set up the HTTP client: {e}")))
}

/// A redirect jwtai refuses: to another host (empty: too many redirects).
#[derive(Debug)]
struct OffHost(String);

impl std::fmt::Display for OffHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            f.write_str("too many redirects")
        } else {
            write!(f, "redirect to another host ({})", self.0)
        }
    }
}

impl StdError for OffHost {}

/// One request and its whole answer.
async fn once(
    client: &reqwest::Client,
    settings: &Settings,
    body: &Value,
    stream: bool,
    progress: &mut Progress,
    on_text: &mut impl FnMut(&str),
) -> Result<Answer, AiError> {
    let url = format!(
        "{}/chat/completions",
        settings.api_base.trim_end_matches('/')
    );
    let mut request = client.post(url).json(body);
    if let Some(key) = settings.api_key.as_ref() {
        request = request.bearer_auth(key.expose_secret());
    }
    if stream {
        request = request.header(reqwest::header::ACCEPT, "text/event-stream");
    }
    let mut response = request
        .send()
        .await
        .map_err(|e| transport(&e, settings, false))?;
    let status = response.status();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !status.is_success() {
        let body = read_body(&mut response, settings).await.unwrap_or_default();
        return Err(http_error(status.as_u16(), &body, settings));
    }
    if content_type.contains("text/event-stream") {
        return sse(&mut response, settings, progress, on_text).await;
    }
    let bytes = read_body(&mut response, settings).await?;
    // A gateway that ignores `stream` answers one JSON completion; one that
    // streams without the content type still sends `data:` lines.
    if bytes.trim_ascii_start().starts_with(b"data:") {
        let mut parser = SseParser::default();
        parser.feed(&bytes);
        if !drain(&mut parser, settings, progress, on_text)? {
            end_of_stream(&mut parser, settings, progress, on_text)?;
        }
        return Ok(progress.take(settings));
    }
    whole(&bytes, &content_type, settings, progress, on_text)
}

/// The body of a non-streamed response, bounded.
async fn read_body(
    response: &mut reqwest::Response,
    settings: &Settings,
) -> Result<Vec<u8>, AiError> {
    let mut out = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(bytes)) => {
                let room = MAX_BODY_BYTES.saturating_sub(out.len());
                out.extend_from_slice(&bytes[..bytes.len().min(room)]);
                if out.len() >= MAX_BODY_BYTES {
                    return Ok(out);
                }
            }
            Ok(None) => return Ok(out),
            Err(e) => return Err(transport(&e, settings, true)),
        }
    }
}

fn whole(
    bytes: &[u8],
    content_type: &str,
    settings: &Settings,
    progress: &mut Progress,
    on_text: &mut impl FnMut(&str),
) -> Result<Answer, AiError> {
    let response: Value = serde_json::from_slice(bytes).map_err(|e| {
        if content_type.contains("html") || bytes.trim_ascii_start().starts_with(b"<") {
            AiError::Malformed(format!(
                "an HTML page ({}) instead of JSON: is --api-base the API itself (it usually ends in /v1)?",
                html_title(bytes)
            ))
        } else {
            AiError::Malformed(format!("not JSON ({e})"))
        }
    })?;
    if let Some(message) = error_message(&response) {
        return Err(AiError::Other(format!(
            "the model endpoint answered with an error: {}",
            clean(&message, settings)
        )));
    }
    if let Some(m) = response.get("model").and_then(Value::as_str) {
        progress.model = m.to_string();
    }
    let choice = response.pointer("/choices/0").ok_or_else(|| {
        AiError::Malformed("no choices[0].message.content in the response".into())
    })?;
    let text = match choice.pointer("/message/content") {
        Some(Value::String(s)) => s.as_str(),
        Some(Value::Null) => "",
        _ => {
            return Err(AiError::Malformed(
                "no choices[0].message.content in the response".into(),
            ));
        }
    };
    if let Some(note) = choice
        .get("finish_reason")
        .and_then(Value::as_str)
        .and_then(finish_note)
    {
        progress.incomplete = Some(note);
    }
    progress.push(text, on_text);
    Ok(progress.take(settings))
}

/// Server-sent events, read as they arrive.
async fn sse(
    response: &mut reqwest::Response,
    settings: &Settings,
    progress: &mut Progress,
    on_text: &mut impl FnMut(&str),
) -> Result<Answer, AiError> {
    let mut parser = SseParser::default();
    loop {
        match response.chunk().await {
            Ok(Some(bytes)) => {
                parser.feed(&bytes);
                if drain(&mut parser, settings, progress, on_text)? {
                    break;
                }
            }
            Ok(None) => {
                end_of_stream(&mut parser, settings, progress, on_text)?;
                break;
            }
            Err(e) => match transport(&e, settings, true) {
                AiError::Timeout { base, secs, .. } => {
                    return Err(AiError::Timeout {
                        base,
                        secs,
                        partial: !progress.text.is_empty(),
                    });
                }
                other if progress.text.is_empty() => return Err(other),
                _ => {
                    progress.incomplete =
                        Some("the connection closed in the middle of the answer".to_string());
                    break;
                }
            },
        }
    }
    Ok(progress.take(settings))
}

/// Handles every complete event; true once the answer is over.
fn drain(
    parser: &mut SseParser,
    settings: &Settings,
    progress: &mut Progress,
    on_text: &mut impl FnMut(&str),
) -> Result<bool, AiError> {
    while let Some(event) = parser.next_event() {
        if event.data.trim() == "[DONE]" {
            progress.done = true;
            return Ok(true);
        }
        let chunk: Value = match serde_json::from_str(&event.data) {
            Ok(v) => v,
            Err(_) if event.name == "error" => json!({"error": {"message": event.data}}),
            Err(e) => {
                return Err(AiError::Malformed(format!(
                    "a stream event is not JSON ({e})"
                )));
            }
        };
        if let Some(message) = error_message(&chunk) {
            let message = clean(&message, settings);
            if progress.text.is_empty() {
                return Err(AiError::Other(format!(
                    "the model endpoint reported an error: {message}"
                )));
            }
            progress.incomplete = Some(format!(
                "the model endpoint reported an error in the middle of the answer: {message}"
            ));
            return Ok(true);
        }
        if let Some(m) = chunk.get("model").and_then(Value::as_str) {
            progress.model = m.to_string();
        }
        if let Some(piece) = chunk
            .pointer("/choices/0/delta/content")
            .and_then(Value::as_str)
        {
            if !progress.push(piece, on_text) {
                return Ok(true);
            }
        }
        if let Some(reason) = chunk
            .pointer("/choices/0/finish_reason")
            .and_then(Value::as_str)
        {
            progress.done = true;
            if let Some(note) = finish_note(reason) {
                progress.incomplete = Some(note);
            }
        }
    }
    Ok(false)
}

/// The stream ended: a last event without its blank line is still read; an
/// event cut in the middle, or an end before the model finished, makes the
/// answer incomplete (or, with no text at all, a failure).
fn end_of_stream(
    parser: &mut SseParser,
    settings: &Settings,
    progress: &mut Progress,
    on_text: &mut impl FnMut(&str),
) -> Result<(), AiError> {
    let mut cut = false;
    if parser.pending() {
        parser.feed(b"\n\n");
        let mut rest = SseParser::default();
        std::mem::swap(&mut rest, parser);
        match drain(&mut rest, settings, progress, on_text) {
            Ok(_) => {}
            Err(AiError::Malformed(_)) => cut = true,
            Err(e) => return Err(e),
        }
    }
    if progress.done || progress.incomplete.is_some() {
        return Ok(());
    }
    if progress.text.is_empty() {
        return Err(if cut {
            AiError::Malformed("the stream was cut in the middle of an event".into())
        } else {
            AiError::Closed {
                base: settings.shown_base(),
            }
        });
    }
    progress.incomplete = Some(if cut {
        "the connection closed in the middle of the answer".to_string()
    } else {
        "the stream ended before the model said it had finished".to_string()
    });
    Ok(())
}

/// One server-sent event.
struct Event {
    name: String,
    data: String,
}

/// Splits bytes into server-sent events (`data:` lines up to a blank line).
#[derive(Default)]
struct SseParser {
    buf: Vec<u8>,
    name: String,
    data: String,
    has_data: bool,
}

impl SseParser {
    fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    fn next_event(&mut self) -> Option<Event> {
        loop {
            let nl = self.buf.iter().position(|&b| b == b'\n')?;
            let raw: Vec<u8> = self.buf.drain(..=nl).collect();
            let line = String::from_utf8_lossy(&raw);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                if self.has_data {
                    self.has_data = false;
                    return Some(Event {
                        name: std::mem::take(&mut self.name),
                        data: std::mem::take(&mut self.data),
                    });
                }
                self.name.clear();
                continue;
            }
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "data" => {
                    if self.has_data {
                        self.data.push('\n');
                    }
                    self.data.push_str(value);
                    self.has_data = true;
                }
                "event" => self.name = value.to_string(),
                // `id`, `retry` and `: comments` (keep-alives) say nothing here.
                _ => {}
            }
        }
    }

    /// Bytes or data of an event not yet complete.
    fn pending(&self) -> bool {
        self.has_data || !self.buf.iter().all(u8::is_ascii_whitespace)
    }
}

/// `{"error": {"message": ...}}`, `{"error": "..."}` or `{"message": ...}` with no choices.
fn error_message(v: &Value) -> Option<String> {
    match v.get("error")? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        e => Some(
            e.get("message")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| e.to_string()),
        ),
    }
}

/// An HTML error page's `<title>`, or a note that it was HTML.
fn html_title(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(8192)]);
    let lower = text.to_ascii_lowercase();
    lower
        .find("<title>")
        .and_then(|i| {
            let start = i + "<title>".len();
            let end = start + lower[start..].find("</title>")?;
            text.get(start..end).map(|t| short(t.trim()))
        })
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "no title".into())
}

fn http_error(status: u16, body: &[u8], settings: &Settings) -> AiError {
    let base = settings.shown_base();
    let message = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| {
            error_message(&v)
                .or_else(|| v.get("message").and_then(Value::as_str).map(str::to_string))
        })
        .map(|m| clean(&m, settings))
        .unwrap_or_else(|| {
            if body.trim_ascii_start().starts_with(b"<") {
                format!("an HTML page ({})", html_title(body))
            } else {
                clean(&String::from_utf8_lossy(body), settings)
            }
        });
    match status {
        401 | 403 => AiError::Unauthorized { status },
        404 => AiError::NotFound {
            model: settings.model.clone(),
            base,
        },
        429 => AiError::RateLimited { attempts: 1 },
        s if s >= 500 => AiError::Server { status, message },
        _ => AiError::Http { status, message },
    }
}

/// Every error in the chain below `err`. `io::Error` hides its payload from
/// `source()` (a rustls error inside an io error), so it is stepped into.
fn sources<'a>(err: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    fn next<'a>(e: &'a (dyn StdError + 'static)) -> Option<&'a (dyn StdError + 'static)> {
        match e.downcast_ref::<std::io::Error>() {
            Some(io) => match io.get_ref() {
                Some(inner) => Some(inner),
                None => e.source(),
            },
            None => e.source(),
        }
    }
    let mut out = Vec::new();
    let mut cur = next(err);
    while let Some(e) = cur {
        out.push(e);
        if out.len() > 32 {
            break;
        }
        cur = next(e);
    }
    out
}

/// A transport failure, classified. `body`: while reading the answer.
fn transport(r: &reqwest::Error, settings: &Settings, body: bool) -> AiError {
    let base = settings.shown_base();
    let chain = sources(r);
    if r.is_timeout() {
        return AiError::Timeout {
            base,
            secs: settings.timeout.as_secs().max(1),
            partial: false,
        };
    }
    if let Some(off) = chain.iter().find_map(|e| e.downcast_ref::<OffHost>()) {
        return if off.0.is_empty() {
            AiError::Other(format!(
                "the model endpoint {base} redirected more than {MAX_REDIRECTS} times"
            ))
        } else {
            AiError::Redirect {
                base,
                to: off.0.clone(),
            }
        };
    }
    if let Some(tls) = chain.iter().find_map(|e| e.downcast_ref::<rustls::Error>()) {
        return AiError::Tls {
            base,
            message: short(&tls.to_string()),
        };
    }
    // Messages below quote the error chain, never reqwest's own line (it
    // repeats the URL, user:password@ included).
    let mut parts: Vec<String> = Vec::new();
    for e in &chain {
        let msg = e.to_string();
        if !msg.is_empty() && !parts.last().is_some_and(|p| p.contains(&msg)) {
            parts.push(msg);
        }
    }
    let detail = clean(&parts.join(": "), settings);
    if body {
        return AiError::Other(format!(
            "the connection to {base} failed while reading the answer: {detail}"
        ));
    }
    if r.is_connect() {
        return AiError::Connect { base };
    }
    if r.is_redirect() {
        return AiError::Other(format!("a redirect from {base} failed: {detail}"));
    }
    AiError::Other(format!("the request to {base} failed: {detail}"))
}

/// An endpoint's error text made safe to print: an endpoint that echoes the
/// request would echo the API key and the --api-base password (removed by
/// value, whatever their shape) and anything token- or secret-shaped (masked
/// like all free text).
fn clean(text: &str, settings: &Settings) -> String {
    let mut t = text.to_string();
    if let Some(key) = settings
        .api_key
        .as_ref()
        .map(|k| k.expose_secret())
        .filter(|k| !k.is_empty())
    {
        t = t.replace(key, "«redacted:api-key»");
    }
    if let Some(pw) = Url::parse(&settings.api_base)
        .ok()
        .and_then(|u| u.password().map(str::to_string))
        .filter(|p| !p.is_empty())
    {
        t = t.replace(&pw, "«redacted:password»");
    }
    short(&crate::redact::free_text(&t))
}

/// One line, bounded: error bodies can be whole HTML pages.
fn short(s: &str) -> String {
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 200 {
        format!("{}…", one.chars().take(200).collect::<String>())
    } else {
        one
    }
}

/// The retry delay for tests and impatient users: `JWTAI_RETRY_BASE_MS`.
pub fn default_retry_base() -> Duration {
    std::env::var("JWTAI_RETRY_BASE_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_millis)
        .unwrap_or(Duration::from_millis(500))
}
