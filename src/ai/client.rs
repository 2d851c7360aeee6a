//! The chat-completions call through async-openai, against any
//! OpenAI-compatible endpoint (OpenAI, Azure-style gateways, Ollama,
//! llama.cpp's server, vLLM). async-openai builds the request and reads the
//! server-sent events (its byot calls, so the body is ours); jwtai's reqwest
//! client runs underneath as its custom tower service, which also reads a
//! plain JSON completion sent to a streaming request (some gateways ignore
//! `stream`).
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

use crate::errchain::sources;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::error::{OpenAIError, WrappedError};
use async_openai::middleware::HttpRequestFactory;
use futures::StreamExt;
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
    /// A `finish_reason` arrived: the model said it had finished.
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

/// One request and its whole answer, through async-openai.
async fn once(
    http: &reqwest::Client,
    settings: &Settings,
    body: &Value,
    stream: bool,
    progress: &mut Progress,
    on_text: &mut impl FnMut(&str),
) -> Result<Answer, AiError> {
    let tap = Arc::new(Mutex::new(Tap::default()));
    let client = openai_client(http, settings, stream, &tap)?;
    // Opened as a stream whether `stream` was asked or not: what the server
    // sends decides. Events are read as they come; a whole JSON completion
    // (asked for, or sent by a gateway that ignores `stream`) comes back from
    // the transport as `Intercepted::Whole`.
    let mut events = match client
        .chat()
        .create_stream_byot::<&Value, Value>(body)
        .await
    {
        Ok(events) => events,
        Err(OpenAIError::Boxed(b)) => {
            return match b.downcast::<Intercepted>() {
                Ok(i) => match *i {
                    Intercepted::Whole { content_type, body } => {
                        let response = serde_json::from_slice::<Value>(&body)
                            .map_err(|e| not_json(&body, &content_type, &e))?;
                        completion(&response, settings, progress, on_text)
                    }
                    other => Err(intercepted(other, settings)),
                },
                Err(b) => Err(classify(OpenAIError::Boxed(b), settings)),
            };
        }
        Err(e) => return Err(classify(e, settings)),
    };
    loop {
        match events.next().await {
            Some(Ok(chunk)) => {
                if chunk_over(&chunk, settings, progress, on_text)? {
                    break;
                }
            }
            Some(Err(OpenAIError::JSONDeserialize(e, _))) => {
                return Err(AiError::Malformed(format!(
                    "a stream event is not JSON ({e})"
                )));
            }
            Some(Err(OpenAIError::StreamError(s))) => {
                // The transport error behind it, as reqwest reported it (the
                // stream only carries its text).
                let Some(r) = lock(&tap).error.take() else {
                    return Err(AiError::Malformed(clean(&s.to_string(), settings)));
                };
                match transport(&r, settings, true) {
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
                }
            }
            Some(Err(e)) => return Err(classify(e, settings)),
            None => {
                end_of_stream(lock(&tap).cut(), settings, progress)?;
                break;
            }
        }
    }
    Ok(progress.take(settings))
}

/// async-openai's client for one attempt: its request (URL, headers, JSON
/// body), its SSE reading, with jwtai's HTTP client and policy underneath.
fn openai_client(
    http: &reqwest::Client,
    settings: &Settings,
    stream: bool,
    tap: &Arc<Mutex<Tap>>,
) -> Result<Client<OpenAIConfig>, AiError> {
    let key = settings
        .api_key
        .as_ref()
        .map(|k| k.expose_secret().to_string())
        .unwrap_or_default();
    // async-openai builds the Authorization header with `parse().unwrap()`:
    // a key no header can carry is refused here, not a panic there.
    if reqwest::header::HeaderValue::from_str(&format!("Bearer {key}")).is_err() {
        return Err(AiError::Other(
            "the API key holds characters an HTTP header cannot carry (a line break?): check JWTAI_API_KEY / OPENAI_API_KEY".into(),
        ));
    }
    // Org and project ids are not jwtai settings: none is read from the
    // environment and sent to whatever --api-base names.
    let mut config = OpenAIConfig::new()
        .with_api_base(settings.api_base.trim_end_matches('/'))
        .with_api_key(key)
        .with_org_id("")
        .with_project_id("");
    if stream {
        config = config
            .with_header(reqwest::header::ACCEPT, "text/event-stream")
            .map_err(|e| AiError::Other(e.to_string()))?;
    }
    // The plain transport, not async-openai's default executor: that one
    // retries 429/5xx/connect errors on its own (honouring any Retry-After),
    // and the one, bounded retry policy is ours.
    let service = {
        let http = http.clone();
        let tap = Arc::clone(tap);
        tower::service_fn(move |factory: HttpRequestFactory| {
            let http = http.clone();
            let tap = Arc::clone(&tap);
            async move {
                let mut request = factory.build().await?;
                // No key (a local model): no `Authorization: Bearer ` at all.
                let auth = reqwest::header::AUTHORIZATION;
                if request
                    .headers()
                    .get(&auth)
                    .is_some_and(|v| v.as_bytes().trim_ascii() == b"Bearer")
                {
                    request.headers_mut().remove(&auth);
                }
                let response = http.execute(request).await?;
                inspect(response, &tap).await
            }
        })
    };
    Ok(Client::build(http.clone(), config).with_http_service(service))
}

/// What the transport saw of a streamed body, for what async-openai's SSE
/// stream does not say: the transport error behind a `StreamError` (it keeps
/// only the text), and whether the body ended inside an event (the SSE reader
/// drops a half event at the end without a word).
#[derive(Default)]
struct Tap {
    error: Option<reqwest::Error>,
    /// A non-blank line since the last blank one: an event not yet closed.
    open: bool,
    /// The current line has bytes.
    line: bool,
}

impl Tap {
    /// Tracks line ends only; the events themselves are async-openai's.
    fn observe(&mut self, bytes: &[u8]) {
        for &b in bytes {
            match b {
                b'\n' => {
                    self.open = self.line;
                    self.line = false;
                }
                b'\r' => {}
                _ => self.line = true,
            }
        }
    }

    /// The body ended inside an event.
    fn cut(&self) -> bool {
        self.open || self.line
    }
}

fn lock(tap: &Mutex<Tap>) -> std::sync::MutexGuard<'_, Tap> {
    tap.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What the transport answers instead of a response async-openai would
/// misread.
#[derive(Debug)]
enum Intercepted {
    /// A 4xx whose body is not `{"error": {...}}` (async-openai would report a
    /// JSON error and lose the status).
    Status { status: u16, body: Vec<u8> },
    /// A whole (non-SSE) answer: async-openai's SSE reader would find no
    /// event in it; it is read as one completion.
    Whole { content_type: String, body: Vec<u8> },
    /// Reading a body failed.
    Body(reqwest::Error),
}

impl std::fmt::Display for Intercepted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Intercepted::Status { status, .. } => write!(f, "HTTP {status}"),
            Intercepted::Whole { .. } => f.write_str("a whole answer, not a stream"),
            Intercepted::Body(_) => f.write_str("reading the answer failed"),
        }
    }
}

impl StdError for Intercepted {}

fn intercepted(i: Intercepted, settings: &Settings) -> AiError {
    match i {
        Intercepted::Status { status, body } => http_error(status, &body, settings),
        Intercepted::Whole { .. } => AiError::Malformed("a whole answer, not a stream".into()),
        Intercepted::Body(r) => transport(&r, settings, true),
    }
}

/// The response handed to async-openai: an event stream as it arrives
/// (watched by the [`Tap`]); anything else read here, bounded, and handed on
/// as it is unless async-openai would misread it ([`Intercepted`]).
async fn inspect(
    mut response: reqwest::Response,
    tap: &Arc<Mutex<Tap>>,
) -> Result<reqwest::Response, OpenAIError> {
    let status = response.status();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let headers = response.headers().clone();
    if status.is_success() && content_type.contains("text/event-stream") {
        let tap = Arc::clone(tap);
        let body = response.bytes_stream().map(move |item| match item {
            Ok(bytes) => {
                lock(&tap).observe(&bytes);
                Ok(bytes)
            }
            Err(e) => {
                let text = e.to_string();
                lock(&tap).error = Some(e);
                Err(std::io::Error::other(text))
            }
        });
        return Ok(rebuilt(status, headers, reqwest::Body::wrap_stream(body)));
    }
    let body = match read_body(&mut response).await {
        Ok(body) => body,
        Err(e) if status.is_success() => return Err(boxed(Intercepted::Body(e))),
        // An error status says enough without its body.
        Err(_) => Vec::new(),
    };
    if status.is_client_error() && serde_json::from_slice::<WrappedError>(&body).is_err() {
        return Err(boxed(Intercepted::Status {
            status: status.as_u16(),
            body,
        }));
    }
    if status.is_success() {
        // One that streams without the content type still sends `data:` lines.
        if !body.trim_ascii_start().starts_with(b"data:") {
            return Err(boxed(Intercepted::Whole { content_type, body }));
        }
        lock(tap).observe(&body);
    }
    Ok(rebuilt(status, headers, reqwest::Body::from(body)))
}

fn boxed(i: Intercepted) -> OpenAIError {
    OpenAIError::Boxed(Box::new(i))
}

fn rebuilt(
    status: reqwest::StatusCode,
    headers: reqwest::header::HeaderMap,
    body: reqwest::Body,
) -> reqwest::Response {
    let mut r = http::Response::new(body);
    *r.status_mut() = status;
    *r.headers_mut() = headers;
    reqwest::Response::from(r)
}

/// The body of a non-streamed response, bounded.
async fn read_body(response: &mut reqwest::Response) -> Result<Vec<u8>, reqwest::Error> {
    let mut out = Vec::new();
    while let Some(bytes) = response.chunk().await? {
        let room = MAX_BODY_BYTES.saturating_sub(out.len());
        out.extend_from_slice(&bytes[..bytes.len().min(room)]);
        if out.len() >= MAX_BODY_BYTES {
            break;
        }
    }
    Ok(out)
}

/// A success body that is not JSON, said usefully.
fn not_json(bytes: &[u8], content_type: &str, e: &serde_json::Error) -> AiError {
    if content_type.contains("html") || bytes.trim_ascii_start().starts_with(b"<") {
        AiError::Malformed(format!(
            "an HTML page ({}) instead of JSON: is --api-base the API itself (it usually ends in /v1)?",
            html_title(bytes)
        ))
    } else {
        AiError::Malformed(format!("not JSON ({e})"))
    }
}

/// A whole `chat.completion`.
fn completion(
    response: &Value,
    settings: &Settings,
    progress: &mut Progress,
    on_text: &mut impl FnMut(&str),
) -> Result<Answer, AiError> {
    if let Some(message) = error_message(response) {
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

/// One `chat.completion.chunk` of the stream; true once the answer is over
/// (an error event, the size cap).
fn chunk_over(
    chunk: &Value,
    settings: &Settings,
    progress: &mut Progress,
    on_text: &mut impl FnMut(&str),
) -> Result<bool, AiError> {
    if let Some(message) = error_message(chunk) {
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
    Ok(false)
}

/// The stream ended (`[DONE]` or the connection's end): an end inside an
/// event, or before the model gave a `finish_reason`, makes the answer
/// incomplete (or, with no text at all, a failure).
fn end_of_stream(cut: bool, settings: &Settings, progress: &mut Progress) -> Result<(), AiError> {
    if progress.incomplete.is_some() || (progress.done && !cut) {
        return Ok(());
    }
    if progress.text.is_empty() {
        if progress.done {
            return Ok(());
        }
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
        "the stream ended before the model gave a finish_reason".to_string()
    });
    Ok(())
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

/// An async-openai failure, classified.
fn classify(e: OpenAIError, settings: &Settings) -> AiError {
    match e {
        // For a 5xx the message is the whole body (an HTML page, JSON): read
        // like any error body.
        OpenAIError::ApiError(api) => http_error(
            api.status_code.as_u16(),
            api.api_error.message.as_bytes(),
            settings,
        ),
        OpenAIError::Reqwest(r) => transport(&r, settings, false),
        OpenAIError::Boxed(b) => match b.downcast::<Intercepted>() {
            Ok(i) => intercepted(*i, settings),
            Err(b) => AiError::Other(clean(&b.to_string(), settings)),
        },
        OpenAIError::JSONDeserialize(e, _) => AiError::Malformed(format!("not JSON ({e})")),
        OpenAIError::StreamError(s) => AiError::Malformed(clean(&s.to_string(), settings)),
        other => AiError::Other(clean(&other.to_string(), settings)),
    }
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
