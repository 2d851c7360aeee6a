//! The commands: each turns its parsed flags into the plain data the stages
//! need (expectations, keys, policy), runs the flow, and prints. Shared
//! output plumbing lives here.

pub mod decode;
pub mod diagnose;
pub mod explain;
pub mod explain_code;
pub mod interactive;
pub mod jwks;
pub mod scan;
pub mod suggest_tests;

use std::io::{IsTerminal, Write};

use anyhow::{Context as _, bail};

use crate::cli::{ColorChoice, Format, OutputArgs};
use crate::redact::Policy;

pub(crate) fn timeout(secs: f64) -> anyhow::Result<std::time::Duration> {
    if !(secs.is_finite() && secs > 0.0 && secs <= 3600.0) {
        bail!("invalid --timeout {secs}: expected seconds above 0, at most 3600");
    }
    Ok(std::time::Duration::from_secs_f64(secs))
}

pub(crate) fn policy(o: &OutputArgs, scrub: Vec<String>) -> Policy {
    Policy::new(o.mask.clone(), o.keep.clone(), o.reveal, scrub)
}

pub(crate) fn use_color(o: &OutputArgs) -> bool {
    match o.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            o.format == Format::Human
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// Bidirectional controls (U+202E RIGHT-TO-LEFT OVERRIDE…) from a token's
/// claims would reorder what a terminal shows around them: written as
/// `\u202e`, which is also a valid escape inside JSON strings (finding
/// texts have theirs escaped already: `untrusted::one_line`).
pub(crate) fn escape_bidi(text: &str) -> std::borrow::Cow<'_, str> {
    escape(text, false)
}

/// Text from a model, which nothing vouches for: bidi controls as in
/// [`escape_bidi`], and every C0/C1 control character but newline and tab
/// (ESC of CSI/OSC sequences, 0x9b CSI, BS, BEL, DEL...) written as `\u001b`,
/// so an answer cannot clear the screen, retitle the terminal, hide a link or
/// overwrite a line. A CR is dropped (CR LF is just a line end; a lone CR
/// would return to the start of the line and overwrite it).
pub(crate) fn escape_untrusted(text: &str) -> std::borrow::Cow<'_, str> {
    escape(text, true)
}

fn escape(text: &str, controls: bool) -> std::borrow::Cow<'_, str> {
    let control = |c: char| controls && (c.is_control() && c != '\n' && c != '\t');
    crate::untrusted::escape(
        text,
        |c| crate::untrusted::is_bidi(c) || control(c),
        controls,
    )
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
pub(crate) fn emit(text: &str) -> anyhow::Result<()> {
    let text = escape_bidi(text);
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to standard output"),
    }
}
