//! A recording OpenAI-compatible chat-completions server for the model tests,
//! on `std::net` only.
//!
//! It listens on 127.0.0.1:0, answers `POST /v1/chat/completions` with the
//! reply scripted for that request's index (the last script entry repeats),
//! and records every request it received byte for byte (request line,
//! headers, body), so tests assert on what jwtai actually sent: no token, no
//! signature, no secret, no personal data. One connection carries one request
//! (`Connection: close`).
//!
//! Also here: the environment every model test runs the binary in (no API key
//! unless the test sets one, a fresh cache dir, a pinned masking key, short
//! retry backoff), and the tokens the tests diagnose, signed with
//! `jwtai::sign`.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use jwtai::alg::Alg;
use jwtai::sign::{SigningKey, sign_token};
use serde_json::{Value, json};

/// `--now` for every test: 2023-11-14 22:13:20 UTC.
pub const NOW: i64 = 1_700_000_000;
pub const NOW_ARG: &str = "1700000000";
/// The HMAC secret the test tokens are signed with (48 bytes: no `key-too-weak`).
pub const SECRET: &str = "recording-server-tests-secret-0123456789-abcdefgh";
pub const ISS: &str = "https://auth.example.com/";
pub const AUD: &str = "https://api.example.com";
/// The model name the tests ask for.
pub const MODEL: &str = "fake-model";

/// Personal data carried by [`pii_token`]; none of it may reach the server.
pub const PII_EMAIL: &str = "jane.doe@example.org";
pub const PII_NAME: &str = "Jane Quincy Doe";
pub const PII_PHONE: &str = "+1 415 555 0142";
pub const PII_SUB: &str = "user-8f3a2c91-77";
pub const PII_IP: &str = "203.0.113.77";
pub const PII_CARD: &str = "4111 1111 1111 1111";
pub const PII_PASSWORD: &str = "hunter2-Sup3rSecret!";
pub const PII_VALUES: &[&str] = &[
    PII_EMAIL,
    PII_NAME,
    PII_PHONE,
    PII_SUB,
    PII_IP,
    PII_CARD,
    PII_PASSWORD,
];

// ---------------------------------------------------------------- tokens

fn hs256(claims: Value) -> String {
    let key = SigningKey::from_hmac_secret(Alg::HS256, SECRET.as_bytes()).expect("hmac key");
    sign_token(
        &json!({"alg": "HS256", "typ": "JWT", "kid": "k1"}),
        &claims,
        &key,
    )
    .expect("sign")
}

/// A token with these claims, signed with [`SECRET`].
pub fn token_with_claims(claims: Value) -> String {
    hs256(claims)
}

/// Valid at [`NOW`] with [`SECRET`]: no error finding, exit 0.
pub fn valid_token() -> String {
    hs256(json!({
        "iss": ISS, "aud": AUD, "sub": "svc-orders",
        "iat": NOW - 60, "exp": NOW + 3600, "scope": "read:orders",
    }))
}

/// Expired an hour before [`NOW`]: the `expired` error finding, exit 1.
pub fn expired_token() -> String {
    hs256(json!({
        "iss": ISS, "aud": AUD, "sub": "svc-orders",
        "iat": NOW - 7200, "exp": NOW - 3600, "scope": "read:orders",
    }))
}

/// Expired, and full of personal data and secrets.
pub fn pii_token() -> String {
    hs256(json!({
        "iss": ISS, "aud": AUD, "sub": PII_SUB,
        "email": PII_EMAIL, "name": PII_NAME, "phone_number": PII_PHONE,
        "ip": PII_IP, "card": PII_CARD, "password": PII_PASSWORD,
        "iat": NOW - 7200, "exp": NOW - 3600,
    }))
}

/// The signature segment of a compact JWS.
pub fn signature_of(token: &str) -> &str {
    token.rsplit('.').next().expect("three segments")
}

/// Writes [`SECRET`] to `dir/secret.txt` (no trailing newline) for `--secret-file`.
pub fn secret_file(dir: &Path) -> PathBuf {
    let path = dir.join("secret.txt");
    std::fs::write(&path, SECRET).expect("write secret file");
    path
}

/// A test's own directory: the cache under `cache/`, and [`SECRET`] in a file.
pub struct Workdir {
    pub dir: tempfile::TempDir,
    pub secret: PathBuf,
}

impl Workdir {
    pub fn new() -> Workdir {
        let dir = tempfile::TempDir::new().expect("tempdir");
        let secret = secret_file(dir.path());
        Workdir { dir, secret }
    }

    pub fn cache(&self) -> PathBuf {
        self.dir.path().join("cache")
    }
}

// ---------------------------------------------------------------- the binary

/// The binary with a hermetic environment: no API key, no model or endpoint
/// from the environment, no colour, the cache under `cache_dir`, a pinned
/// masking key, a 10 ms retry backoff.
pub fn jwtai(cache_dir: &Path) -> assert_cmd::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_jwtai"));
    hermetic(&mut cmd, cache_dir);
    assert_cmd::Command::from_std(cmd)
}

/// The same environment for a `std::process::Command` (the pty tests).
pub fn hermetic(cmd: &mut std::process::Command, cache_dir: &Path) {
    for var in [
        "JWTAI_API_KEY",
        "OPENAI_API_KEY",
        "JWTAI_MODEL",
        "JWTAI_API_BASE",
        "OPENAI_BASE_URL",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("NO_COLOR", "1")
        .env("JWTAI_CACHE_DIR", cache_dir)
        .env("JWTAI_MASK_KEY", "test")
        .env("JWTAI_RETRY_BASE_MS", "10")
        .env("NO_PROXY", "*");
}

// ---------------------------------------------------------------- replies

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// The text as the request asked for it: SSE chunks when the body has
    /// `"stream": true`, one `chat.completion` JSON otherwise.
    Answer(String),
    /// Always one `chat.completion` JSON, whatever the request asked.
    Json(String),
    /// Always SSE, these pieces one chunk each.
    Sse(Vec<String>),
    /// An HTTP error with an OpenAI-style error body.
    Error {
        status: u16,
        message: String,
        kind: String,
        code: Option<String>,
    },
    /// A 429 `rate_limit_exceeded` with a `Retry-After: SECONDS` header.
    RetryAfter(u64),
    /// Sleep, then send the inner reply.
    Delay(Duration, Box<Reply>),
    /// SSE: these pieces, then a stall of this long (the connection stays open).
    SseThenStall(Vec<String>, Duration),
    /// 200 `application/json` with this body as is.
    Malformed(String),
    /// Any status, content type and body.
    Raw {
        status: u16,
        content_type: String,
        body: String,
    },
    /// SSE: these pieces one chunk each, this long apart (a trickling
    /// stream), then the end.
    Trickle(Vec<String>, Duration),
    /// `text/event-stream` with no length: these bytes as they are (whole
    /// events or a cut one), then the connection closes.
    SseRaw(Vec<String>),
    /// A redirect (301/302/307/308) to this location.
    Redirect(u16, String),
}

impl Reply {
    pub fn answer(text: &str) -> Reply {
        Reply::Answer(text.to_string())
    }

    pub fn error(status: u16, message: &str, kind: &str, code: Option<&str>) -> Reply {
        Reply::Error {
            status,
            message: message.to_string(),
            kind: kind.to_string(),
            code: code.map(str::to_string),
        }
    }

    pub fn delayed(self, d: Duration) -> Reply {
        Reply::Delay(d, Box::new(self))
    }
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The request line, headers and body, exactly as read.
    pub raw: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("the request body is JSON")
    }

    pub fn raw_text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// `messages[i].content` of the body.
    pub fn messages(&self) -> Vec<(String, String)> {
        self.json()["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .map(|m| {
                (
                    m["role"].as_str().unwrap_or_default().to_string(),
                    m["content"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }
}

struct Shared {
    script: Mutex<Vec<Reply>>,
    requests: Mutex<Vec<Recorded>>,
    /// Requests accepted (read or not), to tell "nothing arrived" from "still reading".
    connections: Mutex<usize>,
    stop: AtomicBool,
}

/// The server; stops accepting when dropped.
pub struct OpenAiServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl OpenAiServer {
    /// Starts with a script: request `i` gets `script[i]`, later ones the last entry.
    pub fn start(script: Vec<Reply>) -> OpenAiServer {
        assert!(!script.is_empty(), "a script needs at least one reply");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Shared {
            script: Mutex::new(script),
            requests: Mutex::new(Vec::new()),
            connections: Mutex::new(0),
            stop: AtomicBool::new(false),
        });
        let s = Arc::clone(&shared);
        thread::spawn(move || {
            for stream in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                *s.connections.lock().unwrap() += 1;
                let s = Arc::clone(&s);
                thread::spawn(move || handle(stream, &s));
            }
        });
        OpenAiServer { addr, shared }
    }

    /// Answers every request with this text (streamed or not, as asked).
    pub fn answering(text: &str) -> OpenAiServer {
        OpenAiServer::start(vec![Reply::answer(text)])
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/v1`, for `--api-base`.
    pub fn base(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.shared.requests.lock().unwrap().len()
    }

    pub fn connections(&self) -> usize {
        *self.shared.connections.lock().unwrap()
    }

    /// Waits until `n` requests were recorded (a pty session runs concurrently).
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Recorded> {
        let start = Instant::now();
        loop {
            let r = self.requests();
            if r.len() >= n || start.elapsed() > timeout {
                return r;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for OpenAiServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

/// A port on 127.0.0.1 with nothing listening (bound, then released).
pub fn dead_port_base() -> String {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    drop(l);
    format!("http://{addr}/v1")
}

// ---------------------------------------------------------------- wire

fn handle(mut stream: TcpStream, s: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Some(req) = read_request(&mut stream) else {
        return;
    };
    let reply = if req.method == "POST" && req.path.ends_with("/chat/completions") {
        let mut requests = s.requests.lock().unwrap();
        let index = requests.len();
        let wants_stream = serde_json::from_slice::<Value>(&req.body)
            .ok()
            .and_then(|v| v.get("stream").and_then(Value::as_bool))
            .unwrap_or(false);
        let model = serde_json::from_slice::<Value>(&req.body)
            .ok()
            .and_then(|v| v.get("model").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_else(|| MODEL.to_string());
        requests.push(req);
        drop(requests);
        let script = s.script.lock().unwrap();
        let reply = script
            .get(index)
            .or_else(|| script.last())
            .cloned()
            .expect("script");
        Some((reply, wants_stream, model))
    } else {
        s.requests.lock().unwrap().push(req);
        None
    };
    match reply {
        Some((reply, wants_stream, model)) => send(&mut stream, &reply, wants_stream, &model),
        None => write_response(
            &mut stream,
            404,
            "application/json",
            &error_body("no such route", "invalid_request_error", None),
        ),
    }
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Write);
    // Let the client read to the end before the socket goes away.
    let mut sink = [0u8; 256];
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let _ = stream.read(&mut sink);
}

fn read_request(stream: &mut TcpStream) -> Option<Recorded> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(p) = find(&raw, b"\r\n\r\n") {
            break p + 4;
        }
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while raw.len() < head_end + len {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    let body = raw[head_end..].to_vec();
    Some(Recorded {
        method,
        path,
        headers,
        body,
        raw,
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn error_body(message: &str, kind: &str, code: Option<&str>) -> String {
    json!({"error": {"message": message, "type": kind, "param": null, "code": code}}).to_string()
}

fn completion(model: &str, text: &str) -> String {
    json!({
        "id": "chatcmpl-test-1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": text},
            "finish_reason": "stop"
        }],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}
    })
    .to_string()
}

fn chunk(model: &str, delta: Value, finish: Option<&str>) -> String {
    let c = json!({
        "id": "chatcmpl-test-1",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]
    });
    format!("data: {c}\n\n")
}

/// Splits text into a few pieces, at char boundaries, so SSE really streams.
fn pieces(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, ch) in text.chars().enumerate() {
        cur.push(ch);
        if i % 17 == 16 {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn write_response(stream: &mut TcpStream, status: u16, content_type: &str, body: &str) {
    write_response_with(stream, status, content_type, "", body);
}

/// `extra` is zero or more `Name: value\r\n` header lines.
fn write_response_with(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    extra: &str,
    body: &str,
) {
    let head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
        reason(status),
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
}

fn write_sse(stream: &mut TcpStream, model: &str, parts: &[String], done: bool) -> bool {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n";
    if stream.write_all(head.as_bytes()).is_err() {
        return false;
    }
    let mut events = vec![chunk(
        model,
        json!({"role": "assistant", "content": ""}),
        None,
    )];
    events.extend(
        parts
            .iter()
            .map(|p| chunk(model, json!({"content": p}), None)),
    );
    if done {
        events.push(chunk(model, json!({}), Some("stop")));
        events.push("data: [DONE]\n\n".to_string());
    }
    for e in events {
        if stream.write_all(e.as_bytes()).is_err() || stream.flush().is_err() {
            return false;
        }
        thread::sleep(Duration::from_millis(3));
    }
    true
}

/// A `chat.completion.chunk` event with this delta text, or a finish reason.
pub fn sse_event(text: Option<&str>, finish: Option<&str>) -> String {
    let delta = match text {
        Some(t) => json!({"content": t}),
        None => json!({}),
    };
    chunk(MODEL, delta, finish)
}

fn send(stream: &mut TcpStream, reply: &Reply, wants_stream: bool, model: &str) {
    match reply {
        Reply::Trickle(parts, gap) => {
            let head =
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";
            if stream.write_all(head.as_bytes()).is_err() {
                return;
            }
            for p in parts {
                let e = chunk(model, json!({"content": p}), None);
                if stream.write_all(e.as_bytes()).is_err() || stream.flush().is_err() {
                    return;
                }
                thread::sleep(*gap);
            }
            let _ = stream.write_all(chunk(model, json!({}), Some("stop")).as_bytes());
            let _ = stream.write_all(b"data: [DONE]\n\n");
        }
        Reply::SseRaw(events) => {
            let head =
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";
            if stream.write_all(head.as_bytes()).is_err() {
                return;
            }
            for e in events {
                if stream.write_all(e.as_bytes()).is_err() || stream.flush().is_err() {
                    return;
                }
                thread::sleep(Duration::from_millis(3));
            }
        }
        Reply::Redirect(status, location) => write_response_with(
            stream,
            *status,
            "text/plain",
            &format!("Location: {location}\r\n"),
            "",
        ),
        Reply::Answer(text) if wants_stream => {
            write_sse(stream, model, &pieces(text), true);
        }
        Reply::Answer(text) | Reply::Json(text) => {
            write_response(stream, 200, "application/json", &completion(model, text));
        }
        Reply::Sse(parts) => {
            write_sse(stream, model, parts, true);
        }
        Reply::SseThenStall(parts, stall) => {
            if write_sse(stream, model, parts, false) {
                thread::sleep(*stall);
            }
        }
        Reply::Error {
            status,
            message,
            kind,
            code,
        } => write_response(
            stream,
            *status,
            "application/json",
            &error_body(message, kind, code.as_deref()),
        ),
        Reply::RetryAfter(secs) => write_response_with(
            stream,
            429,
            "application/json",
            &format!("Retry-After: {secs}\r\n"),
            &error_body(
                "Rate limit reached",
                "requests",
                Some("rate_limit_exceeded"),
            ),
        ),
        Reply::Delay(d, inner) => {
            thread::sleep(*d);
            send(stream, inner, wants_stream, model);
        }
        Reply::Malformed(body) => write_response(stream, 200, "application/json", body),
        Reply::Raw {
            status,
            content_type,
            body,
        } => write_response(stream, *status, content_type, body),
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
