//! The chat-completions call through async-openai, against any
//! OpenAI-compatible endpoint (OpenAI, Azure-style gateways, Ollama,
//! llama.cpp's server, vLLM).
//!
//! The request body is plain JSON built here, so `--show-prompt` prints the
//! exact bytes that are sent, and a response cache can key on them. Failures
//! are classified into a clear [`AiError`]; rate limits are retried a bounded
//! number of times.

use std::time::Duration;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::middleware::ReqwestService;
use futures::StreamExt;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use super::{Message, Settings, cache};

/// Attempts in all for a rate-limited (429) request.
const ATTEMPTS: u32 = 3;
/// Longest answer accepted, in characters: a runaway model is cut here.
const MAX_ANSWER_CHARS: usize = 64 * 1024;

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
    #[error("no answer from {base} within {secs} s (--timeout)")]
    Timeout { base: String, secs: u64 },
    #[error(
        "cannot connect to {base}: is the model server running? (for a local one: scripts/local-model.sh)"
    )]
    Connect { base: String },
    #[error("the model endpoint sent a malformed answer: {0}")]
    Malformed(String),
    #[error("the model answered with no text")]
    Empty,
    #[error("{0}")]
    Other(String),
}

/// What the model said.
#[derive(Debug, Clone)]
pub struct Answer {
    pub model: String,
    pub text: String,
    pub cached: bool,
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
/// whole text at once when not streaming or served from the cache).
pub async fn complete(
    settings: &Settings,
    messages: &[Message],
    stream: bool,
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
            });
        }
    }
    if settings.api_key.is_none() && !settings.is_local() {
        return Err(AiError::NoKey {
            base: settings.api_base.clone(),
        });
    }
    let client = client(settings)?;
    let body = request_body(settings, messages, stream);
    let mut attempt = 0;
    let answer = loop {
        attempt += 1;
        let result = if stream {
            streamed(&client, settings, &body, &mut on_text).await
        } else {
            whole(&client, settings, &body)
                .await
                .inspect(|a| on_text(&a.text))
        };
        match result {
            Err(AiError::RateLimited { .. }) if attempt < ATTEMPTS => {
                tokio::time::sleep(settings.retry_base * 2u32.pow(attempt - 1)).await;
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
    if settings.use_cache {
        cache::store(settings, &key, &answer.text);
    }
    Ok(answer)
}

fn client(settings: &Settings) -> Result<Client<OpenAIConfig>, AiError> {
    let http = reqwest::Client::builder()
        .connect_timeout(settings.timeout)
        .read_timeout(settings.timeout)
        .user_agent(concat!("jwtai/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| AiError::Other(format!("cannot set up the HTTP client: {e}")))?;
    let key = settings
        .api_key
        .as_ref()
        .map(|k| k.expose_secret().to_string())
        .unwrap_or_default();
    let config = OpenAIConfig::new()
        .with_api_base(settings.api_base.trim_end_matches('/'))
        .with_api_key(key);
    // async-openai's default executor retries 429/5xx/connect errors on its own
    // (and honours any Retry-After): swap in the plain transport so the one,
    // bounded retry policy is ours.
    Ok(Client::build(http.clone(), config).with_http_service(ReqwestService::new(http)))
}

async fn whole(
    client: &Client<OpenAIConfig>,
    settings: &Settings,
    body: &Value,
) -> Result<Answer, AiError> {
    let response: Value = client
        .chat()
        .create_byot(body)
        .await
        .map_err(|e| classify(e, settings))?;
    let text = response
        .pointer("/choices/0/message/content")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            AiError::Malformed("no choices[0].message.content in the response".into())
        })?;
    Ok(Answer {
        model: response
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or(&settings.model)
            .to_string(),
        text: clip(text).to_string(),
        cached: false,
    })
}

async fn streamed(
    client: &Client<OpenAIConfig>,
    settings: &Settings,
    body: &Value,
    on_text: &mut impl FnMut(&str),
) -> Result<Answer, AiError> {
    let mut stream = client
        .chat()
        .create_stream_byot::<&Value, Value>(body)
        .await
        .map_err(|e| classify(e, settings))?;
    let mut text = String::new();
    let mut model = settings.model.clone();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| classify(e, settings))?;
        if let Some(m) = chunk.get("model").and_then(Value::as_str) {
            model = m.to_string();
        }
        if let Some(piece) = chunk
            .pointer("/choices/0/delta/content")
            .and_then(Value::as_str)
        {
            if text.len() + piece.len() > MAX_ANSWER_CHARS {
                break;
            }
            text.push_str(piece);
            on_text(piece);
        }
    }
    Ok(Answer {
        model,
        text,
        cached: false,
    })
}

fn clip(text: &str) -> &str {
    if text.len() <= MAX_ANSWER_CHARS {
        return text;
    }
    let mut end = MAX_ANSWER_CHARS;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn classify(e: OpenAIError, settings: &Settings) -> AiError {
    let short = |text: &str| clean(text, settings);
    let base = settings.api_base.clone();
    match e {
        OpenAIError::ApiError(api) => {
            let status = api.status_code.as_u16();
            let message = short(&api.api_error.message);
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
        OpenAIError::Reqwest(r) => reqwest_error(&r, settings),
        OpenAIError::JSONDeserialize(err, _) => AiError::Malformed(err.to_string()),
        OpenAIError::StreamError(s) => {
            let text = s.to_string().to_ascii_lowercase();
            // A stalled stream surfaces as a transport error decoding the body
            // once reqwest's read timeout fires.
            if text.contains("timed out")
                || text.contains("timeout")
                || text.contains("transport error")
                || text.contains("error decoding response body")
            {
                AiError::Timeout {
                    base,
                    secs: settings.timeout.as_secs(),
                }
            } else {
                AiError::Malformed(short(&s.to_string()))
            }
        }
        other => AiError::Other(short(&other.to_string())),
    }
}

fn reqwest_error(r: &reqwest::Error, settings: &Settings) -> AiError {
    let short = |text: &str| clean(text, settings);
    let base = settings.api_base.clone();
    if r.is_timeout() {
        AiError::Timeout {
            base,
            secs: settings.timeout.as_secs().max(1),
        }
    } else if r.is_connect() {
        AiError::Connect { base }
    } else if r.is_decode() || r.is_body() {
        AiError::Malformed(short(&r.to_string()))
    } else {
        AiError::Other(short(&r.to_string()))
    }
}

/// An endpoint's error text made safe to print: an endpoint that echoes the
/// request would echo the API key (removed by value, whatever its shape) and
/// anything token- or secret-shaped (masked like all free text).
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
