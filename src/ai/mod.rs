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
        let rest = self
            .api_base
            .trim_start_matches("http://")
            .trim_start_matches("https://");
        let host = rest.split(['/', ':']).next().unwrap_or("");
        host == "localhost" || host == "[::1]" || host.starts_with("127.") || host == "0.0.0.0"
    }
}
