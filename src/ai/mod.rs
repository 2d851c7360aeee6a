//! The model: a redacted report → prompt → OpenAI-compatible chat endpoint →
//! an explanation merged beside the findings.
//!
//! Everything here takes a [`Redacted`](crate::redact::Redacted) report, never
//! a plain one: the type system, not discipline, keeps the token, signature,
//! secrets and personal data on this machine. The findings stay authoritative;
//! the model's text is added beside them and its claims are checked against
//! the report ([`merge`]).

pub mod cache;
pub mod client;
pub mod merge;
pub mod prompt;

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

pub use client::{AiError, Answer};
pub use prompt::{Message, Role, Templates};

/// The default model when neither `--model` nor `JWTAI_MODEL` names one.
pub const DEFAULT_MODEL: &str = "gpt-4o-mini";
/// The default endpoint when neither `--api-base` nor the env vars name one.
pub const DEFAULT_API_BASE: &str = "https://api.openai.com/v1";

/// Where and how to call the model: from flags and environment, built once.
pub struct Settings {
    pub api_base: String,
    pub model: String,
    /// From `JWTAI_API_KEY` / `OPENAI_API_KEY`; never printed (secrecy's Debug).
    pub api_key: Option<SecretString>,
    /// Connect and idle-read bound of every call.
    pub timeout: Duration,
    pub use_cache: bool,
    pub cache_dir: Option<PathBuf>,
    /// Backoff before the first retry of a 429; doubles, 3 attempts in all.
    pub retry_base: Duration,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("api_base", &self.api_base)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "(redacted)"))
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// A local endpoint (llama.cpp, Ollama, vLLM on this machine) needs no key.
    pub fn is_local(&self) -> bool {
        let Ok(url) = reqwest::Url::parse(&self.api_base) else {
            return false;
        };
        let host = url.host_str().unwrap_or("");
        let host = host.trim_start_matches('[').trim_end_matches(']');
        host.eq_ignore_ascii_case("localhost")
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified())
    }

    /// The endpoint as messages show it: never its `user:password@`.
    pub fn shown_base(&self) -> String {
        shown_base(&self.api_base)
    }
}

/// `--api-base` without `user:password@`, for every message.
pub fn shown_base(base: &str) -> String {
    match reqwest::Url::parse(base) {
        Ok(mut url) => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.as_str().trim_end_matches('/').to_string()
        }
        // Not a URL: drop anything up to an `@` before the path all the same.
        Err(_) => {
            let (scheme, rest) = base.split_once("://").unwrap_or(("", base));
            let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let rest = match rest[..auth_end].rfind('@') {
                Some(at) => &rest[at + 1..],
                None => rest,
            };
            if scheme.is_empty() {
                rest.to_string()
            } else {
                format!("{scheme}://{rest}")
            }
        }
    }
}

/// Checks `--api-base` before anything is sent: an http(s) URL with a host.
pub fn check_api_base(base: &str) -> Result<(), String> {
    const EXPECTED: &str =
        "expected an http(s) URL such as https://api.openai.com/v1 or http://127.0.0.1:8080/v1";
    if base.trim().is_empty() {
        return Err(format!("invalid --api-base: it is empty; {EXPECTED}"));
    }
    let shown = shown_base(base);
    let url = reqwest::Url::parse(base.trim())
        .map_err(|e| format!("invalid --api-base '{shown}': not a URL ({e}); {EXPECTED}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "invalid --api-base '{shown}': the scheme {}:// is not supported; {EXPECTED}",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("invalid --api-base '{shown}': no host; {EXPECTED}"));
    }
    Ok(())
}
