//! Input: get the raw text the user gave us and pull the JWT out of it.
//!
//! Owns every way a token can arrive (argument, `-`/pipe, `--token-file`, hidden
//! prompt) and the limits on that text. `extract` then strips wrappers such as
//! `Bearer `, header lines, cookies, quotes, JSON bodies and curl commands. The
//! result stays a `SecretString`: the raw token never leaves this machine.

pub mod extract;

use std::io::{IsTerminal, Read};
use std::path::Path;

use secrecy::{ExposeSecret, SecretString};

use crate::cli::TokenArgs;

pub use extract::{Extracted, Wrapper, extract};

/// Largest input accepted. A JWT over 8 KiB is already unusual (`token-too-large`);
/// a megabyte is certainly not one token, and reading more only wastes memory.
pub const MAX_INPUT_BYTES: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("no token: {origin} is empty")]
    Empty { origin: String },
    #[error(
        "no token: standard input is /dev/null (or was closed): pass the token as an argument, with --token-file, or piped in"
    )]
    StdinNull,
    #[error("{origin} is larger than {} KiB; a JWT is a few hundred bytes to a few KiB (pass one token; for a log of many, use `jwtai scan FILE`)", MAX_INPUT_BYTES / 1024)]
    TooLarge { origin: String },
    #[error(
        "{origin} is not text: invalid UTF-8 at byte {offset} (a JWT is plain ASCII; is this a binary file?)"
    )]
    NotUtf8 { origin: String, offset: usize },
    #[error("{origin} holds a NUL byte at byte {offset}: this is binary data, not a token")]
    Binary { origin: String, offset: usize },
    #[error("cannot read {origin}: {message}")]
    Io { origin: String, message: String },
    #[error("no token given: pass it as an argument, with --token-file, or on stdin")]
    Missing,
    #[error(
        "the TOKEN argument is the path of a file, {0}, not a token: pass the file with --token-file {0}"
    )]
    PathAsToken(String),
    #[error(
        "the terminal cut the pasted line at {0} bytes (its line limit in canonical mode), so the token is incomplete; pass it another way: `pbpaste | jwtai diagnose -`, `jwtai diagnose --token-file token.txt`, or `jwtai diagnose \"$TOKEN\"`"
    )]
    TerminalLimit(usize),
}

/// Longest line a Linux terminal hands a program in canonical mode (the
/// 4096-byte line buffer, less the newline): a pasted Azure AD token with
/// group claims is longer, and arrives cut to exactly this.
const TERMINAL_LINE_LIMIT: usize = 4095;

/// Reads the token text from wherever the flags say.
pub fn read(args: &TokenArgs) -> Result<SecretString, InputError> {
    if let Some(path) = &args.token_file {
        return read_file(path);
    }
    match &args.token {
        Some(t) if t.expose_secret() == "-" => read_stdin(),
        Some(t) if names_a_file(t.expose_secret()) => Err(InputError::PathAsToken(
            t.expose_secret().trim().to_string(),
        )),
        Some(t) => check_text(t.expose_secret().as_bytes(), "the TOKEN argument"),
        None if std::io::stdin().is_terminal() => prompt(),
        None => read_stdin(),
    }
}

/// The argument names an existing file and cannot be a token (no `eyJ`,
/// a short single word): the user meant `--token-file`.
fn names_a_file(arg: &str) -> bool {
    let t = arg.trim();
    !t.is_empty()
        && !t.contains("eyJ")
        && t.len() <= 4096
        && !t.contains(char::is_whitespace)
        && Path::new(t).is_file()
}

fn read_file(path: &Path) -> Result<SecretString, InputError> {
    let origin = format!("token file {}", path.display());
    let file = std::fs::File::open(path).map_err(|e| InputError::Io {
        origin: origin.clone(),
        message: io_message(&e, path),
    })?;
    read_bounded(file, &origin)
}

fn read_stdin() -> Result<SecretString, InputError> {
    if stdin_is_null() {
        return Err(InputError::StdinNull);
    }
    read_bounded(std::io::stdin().lock(), "standard input")
}

/// Whether standard input is `/dev/null`: the process was started without
/// one (a closed descriptor 0, which Rust's runtime reopens on `/dev/null`,
/// or a service or cron job that gives none), or with `</dev/null`. Reading
/// it gives nothing, and "empty" would hide why.
pub fn stdin_is_null() -> bool {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{FileType, fstat, major, minor};
        use std::os::fd::AsFd;
        fstat(std::io::stdin().as_fd()).is_ok_and(|st| {
            FileType::from_raw_mode(st.st_mode) == FileType::CharacterDevice
                && major(st.st_rdev) == 1
                && minor(st.st_rdev) == 3
        })
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

fn read_bounded(reader: impl Read, origin: &str) -> Result<SecretString, InputError> {
    let mut buf = Vec::new();
    reader
        .take(MAX_INPUT_BYTES as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| InputError::Io {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
    if buf.len() > MAX_INPUT_BYTES {
        return Err(InputError::TooLarge {
            origin: origin.to_string(),
        });
    }
    check_text(&buf, origin)
}

/// Validates raw bytes as token text: bounded, UTF-8, no NUL, not blank.
pub fn check_text(bytes: &[u8], origin: &str) -> Result<SecretString, InputError> {
    let origin = origin.to_string();
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(InputError::TooLarge { origin });
    }
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(InputError::Binary { origin, offset });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| InputError::NotUtf8 {
        origin: origin.clone(),
        offset: e.valid_up_to(),
    })?;
    if text.trim().is_empty() {
        return Err(InputError::Empty { origin });
    }
    Ok(SecretString::from(text))
}

fn prompt() -> Result<SecretString, InputError> {
    let text = SecretString::from(read_hidden_paste("Paste the token (input hidden)")?);
    if text.expose_secret().trim().is_empty() {
        return Err(InputError::Missing);
    }
    check_text(text.expose_secret().as_bytes(), "the pasted token")
}

/// How long to wait for the next line of a paste: the lines of one paste
/// arrive together, a person typing is far slower.
const PASTE_LINE_GAP_MS: i64 = 150;

/// Reads a paste from the terminal with echo off: its first line, and the
/// lines that follow it at once (a token copied from a wrapped log, a curl
/// command with `\` continuations), up to an empty line or a pause, joined
/// with line breaks as `--token-file` would read them. A terminal line
/// reader (dialoguer's, used before) reads one line and flushes the rest, so a
/// multi-line paste was diagnosed from its first line only.
fn read_hidden_paste(prompt: &str) -> Result<String, InputError> {
    use std::io::Write;

    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    use rustix::termios::{LocalModes, OptionalActions, Termios, tcgetattr, tcsetattr};

    /// Echo comes back however the read ends; what was typed after the
    /// paste is dropped, not handed to the shell.
    struct Restore(std::io::Stdin, Termios);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = tcsetattr(&self.0, OptionalActions::Flush, &self.1);
        }
    }
    let io = |e: std::io::Error| InputError::Io {
        origin: "the terminal".into(),
        message: e.to_string(),
    };
    let stdin = std::io::stdin();
    let original = tcgetattr(&stdin).map_err(|e| io(e.into()))?;
    let mut hidden = original.clone();
    hidden.local_modes.remove(LocalModes::ECHO);
    tcsetattr(&stdin, OptionalActions::Now, &hidden).map_err(|e| io(e.into()))?;
    let restore = Restore(std::io::stdin(), original);
    let mut err = std::io::stderr();
    let _ = write!(err, "{prompt}: ");
    let _ = err.flush();
    let mut text: Vec<u8> = Vec::new();
    let mut line = [0u8; TERMINAL_LINE_LIMIT + 2];
    let result = loop {
        // A canonical-mode terminal hands over one line per read.
        let n = match rustix::io::read(&stdin, &mut line) {
            Ok(n) => n,
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => break Err(io(e.into())),
        };
        let content = line[..n].trim_ascii_end();
        if n == 0 || content.is_empty() {
            break Ok(());
        }
        if content.len() >= TERMINAL_LINE_LIMIT {
            break Err(InputError::TerminalLimit(content.len()));
        }
        if !text.is_empty() {
            text.push(b'\n');
        }
        text.extend_from_slice(content);
        if text.len() > MAX_INPUT_BYTES {
            break Ok(());
        }
        let mut fds = [PollFd::new(&stdin, PollFlags::IN)];
        let gap = Timespec {
            tv_sec: 0,
            tv_nsec: PASTE_LINE_GAP_MS * 1_000_000,
        };
        if !poll(&mut fds, Some(&gap)).is_ok_and(|n| n > 0) {
            break Ok(());
        }
    };
    drop(restore);
    // The Enter the user pressed was not echoed.
    let _ = writeln!(err);
    result?;
    String::from_utf8(text).map_err(|e| InputError::NotUtf8 {
        origin: "the pasted token".into(),
        offset: e.utf8_error().valid_up_to(),
    })
}

/// Reads a small text file given by a flag (secret file, error file), bounded.
pub fn read_small_file(path: &Path, what: &str, limit: usize) -> Result<Vec<u8>, InputError> {
    let origin = format!("{what} {}", path.display());
    let file = std::fs::File::open(path).map_err(|e| InputError::Io {
        origin: origin.clone(),
        message: io_message(&e, path),
    })?;
    let mut buf = Vec::new();
    file.take(limit as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| InputError::Io {
            origin: origin.clone(),
            message: e.to_string(),
        })?;
    if buf.len() > limit {
        return Err(InputError::Io {
            origin,
            message: format!("larger than {} KiB", limit / 1024),
        });
    }
    Ok(buf)
}

fn io_message(e: &std::io::Error, path: &Path) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ if path.is_dir() => "it is a directory".into(),
        _ => e.to_string(),
    }
}
