//! The model side of `diagnose`: settings from flags and environment, the
//! explain call with streaming to the terminal, and the merge.
//!
//! Takes only a `Redacted` report; prints nothing of the token.

use std::io::{IsTerminal, Write};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use secrecy::SecretString;

use crate::ai::{self, AiError, Message, Settings, Templates};
use crate::cli::ModelArgs;
use crate::redact::{Redacted, RedactedText};
use crate::report::Explanation;

/// Settings from flags and environment. The key is read here, straight into
/// a `SecretString`, never through clap (whose values can end up in Debug).
pub fn settings(a: &ModelArgs, timeout: Duration, use_cache: bool) -> anyhow::Result<Settings> {
    let api_base = a
        .api_base
        .clone()
        .or_else(|| {
            std::env::var("OPENAI_BASE_URL")
                .ok()
                .filter(|v| !v.is_empty())
        })
        .unwrap_or_else(|| ai::DEFAULT_API_BASE.to_string());
    ai::check_api_base(&api_base).map_err(anyhow::Error::msg)?;
    let api_key = ["JWTAI_API_KEY", "OPENAI_API_KEY"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|k| !k.is_empty()))
        .map(SecretString::from);
    Ok(Settings {
        api_base,
        model: a
            .model
            .clone()
            .unwrap_or_else(|| ai::DEFAULT_MODEL.to_string()),
        api_key,
        timeout,
        use_cache,
        cache_dir: crate::cachedir::root().map(|r| r.join("llm")),
        retry_base: ai::client::default_retry_base(),
    })
}

/// The explain conversation for this report.
pub fn messages(
    templates: &Templates,
    redacted: &Redacted,
    error_text: Option<&str>,
    expectations: &[String],
) -> anyhow::Result<(Vec<Message>, Option<RedactedText>)> {
    let error = error_text.map(|t| redacted.text(t));
    // Expectations quote user input (an audience taken from an error message
    // may be anything, even a token): redacted like every other text.
    let expectations: Vec<String> = expectations.iter().map(|l| redacted.text(l).text).collect();
    let messages = templates
        .explain(redacted, error.as_ref(), &expectations)
        .map_err(anyhow::Error::msg)?;
    Ok((messages, error))
}

/// How the answer is shown while it arrives.
pub enum Show {
    /// Stream pieces to stdout (a spinner on stderr until the first one when
    /// stderr is a terminal), `heading` just before the first piece: a call
    /// that fails before any text prints no empty heading.
    Stream { heading: Option<String> },
    /// Nothing until it is complete (JSON/Markdown output, `--no-stream`).
    Quiet,
}

/// Calls the model; the answer merged with the report's findings. A true
/// `cancel` (Ctrl-C) stops the call with [`AiError::Cancelled`].
pub fn run(
    settings: &Settings,
    redacted: &Redacted,
    messages: &[Message],
    show: Show,
    cancel: Option<&AtomicBool>,
) -> Result<Explanation, AiError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| AiError::Other(format!("cannot start the async runtime: {e}")))?;
    let (streaming, mut heading) = match show {
        Show::Stream { heading } => (true, heading),
        Show::Quiet => (false, None),
    };
    let spinner = (streaming && std::io::stderr().is_terminal()).then(|| {
        let pb = ProgressBar::new_spinner();
        pb.set_style(
            ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        pb.set_message(format!("asking {} ...", settings.model));
        pb.enable_steady_tick(Duration::from_millis(100));
        pb
    });
    let mut first = true;
    let mut out = std::io::stdout();
    let answer = runtime.block_on(ai::client::complete(
        settings,
        messages,
        streaming,
        cancel,
        |piece| {
            if !streaming || piece.is_empty() {
                return;
            }
            if first {
                if let Some(pb) = &spinner {
                    pb.finish_and_clear();
                }
                if let Some(h) = heading.take() {
                    let _ = out.write_all(h.as_bytes());
                }
                first = false;
            }
            let _ = out.write_all(super::escape_untrusted(piece).as_bytes());
            let _ = out.flush();
        },
    ));
    if let Some(pb) = &spinner {
        pb.finish_and_clear();
    }
    let answer = answer?;
    // Model text is untrusted: cleaned once here, so every place it is
    // written (terminal, JSON, Markdown, /save, a test file) gets it clean.
    let mut e = ai::merge::explanation(
        redacted.report(),
        &super::escape_untrusted(&answer.model),
        &super::escape_untrusted(&answer.text),
        answer.cached,
    );
    e.incomplete = answer.incomplete;
    Ok(e)
}
