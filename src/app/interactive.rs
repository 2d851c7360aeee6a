//! `diagnose --explain --interactive`: follow-up questions after the
//! explanation, each sent with the conversation so far (redacted report,
//! earlier answers) through the `followup` prompt template.
//!
//! The prompt is a small line editor on `console` (dialoguer's terminal layer)
//! rather than `dialoguer::Input`, because Input ignores Ctrl-D: here Ctrl-D
//! and Ctrl-C leave cleanly, Up/Down walk the session's history. Everything
//! the user types goes through `Redacted::text` before it is sent, and the
//! user is told when something was masked.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use console::{Key, Term};

use super::explain;
use crate::ai::{Message, Role, Settings, Templates};
use crate::redact::Redacted;
use crate::report::Explanation;

/// Earlier turns kept verbatim; older ones are summarised by their questions.
const KEEP_TURNS: usize = 6;
/// Upper bound on the characters of history sent with a question.
const HISTORY_CHARS: usize = 12_000;

/// How the session ended.
pub enum End {
    /// `/quit` or Ctrl-D.
    Quit,
    /// Ctrl-C.
    Interrupted,
}

/// One finished question and its answer.
struct Turn {
    question: String,
    answer: String,
    /// Why the answer stopped early, if it did.
    incomplete: Option<String>,
}

/// Ctrl-C outside the line editor. The first press while an answer streams
/// stops that answer (the call watches [`CtrlC::flag`]) and the session goes
/// back to the prompt; a second press before it has stopped leaves at once,
/// with 130. At the prompt Ctrl-C is read as a key and ends the session.
pub struct CtrlC {
    flag: Arc<AtomicBool>,
    presses: Arc<AtomicUsize>,
}

impl CtrlC {
    /// Installs the handler (once per process; later calls share the first).
    pub fn install() -> CtrlC {
        let flag = Arc::new(AtomicBool::new(false));
        let presses = Arc::new(AtomicUsize::new(0));
        let (f, p) = (flag.clone(), presses.clone());
        let _ = ctrlc::set_handler(move || {
            f.store(true, Ordering::SeqCst);
            if p.fetch_add(1, Ordering::SeqCst) >= 1 {
                let _ = Term::stdout().show_cursor();
                let _ = Term::stderr().show_cursor();
                eprintln!();
                std::process::exit(130);
            }
        });
        CtrlC { flag, presses }
    }

    pub fn flag(&self) -> &AtomicBool {
        &self.flag
    }

    fn pressed(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// After an answer (finished or stopped): the next press counts as a first.
    pub fn reset(&self) {
        self.flag.store(false, Ordering::SeqCst);
        self.presses.store(0, Ordering::SeqCst);
    }
}

pub struct Session<'a> {
    pub settings: &'a Settings,
    pub templates: &'a Templates,
    pub redacted: &'a Redacted,
    /// The human report as printed, for `/findings` and `/save`.
    pub report_text: String,
    pub report_markdown: String,
    pub explanation: Option<Explanation>,
}

impl Session<'_> {
    pub fn run(&self, ctrl_c: Option<&CtrlC>) -> End {
        let term = Term::stdout();
        let own;
        let ctrl_c = match ctrl_c {
            Some(c) => c,
            None => {
                own = CtrlC::install();
                &own
            }
        };
        let mut history: Vec<String> = Vec::new();
        let mut turns: Vec<Turn> = Vec::new();
        println!(
            "\nAsk a follow-up question. Commands: /findings /prompt /save FILE /quit (Ctrl-D also quits)."
        );
        loop {
            // A Ctrl-C between prompts (not while an answer streams) ends the session.
            if ctrl_c.pressed() {
                let _ = term.show_cursor();
                return End::Interrupted;
            }
            let line = match read_line(&term, "? ", &history) {
                Read::Line(l) => l,
                Read::Eof => return End::Quit,
                Read::Interrupted => return End::Interrupted,
            };
            let line = line.trim().to_string();
            if line.is_empty() {
                continue;
            }
            if history.last() != Some(&line) {
                history.push(line.clone());
            }
            match line
                .split_once(' ')
                .map_or((line.as_str(), ""), |(c, r)| (c, r.trim()))
            {
                ("/quit" | "/exit", _) => return End::Quit,
                ("/findings", _) => print!("{}", super::escape_bidi(&self.report_text)),
                ("/help", _) => println!(
                    "Commands: /findings /prompt /save FILE /quit. Anything else is a question for the model."
                ),
                ("/prompt", rest) => {
                    let q = if rest.is_empty() {
                        "(your next question)"
                    } else {
                        rest
                    };
                    match self.messages(&turns, q) {
                        Ok((m, _)) => println!(
                            "{}",
                            serde_json::to_string_pretty(&crate::ai::client::request_body(
                                self.settings,
                                &m,
                                true
                            ))
                            .unwrap_or_default()
                        ),
                        Err(e) => eprintln!("jwtai: {e}"),
                    }
                }
                ("/save", "") => println!("usage: /save FILE"),
                ("/save", path) => match std::fs::write(path, self.markdown(&turns)) {
                    Ok(()) => println!("saved the session to {path}"),
                    Err(e) => eprintln!("jwtai: cannot write {path}: {e}"),
                },
                _ if line.starts_with('/') => println!("unknown command {line}; try /help"),
                _ => {
                    let answer = self.ask(&turns, &line, ctrl_c);
                    ctrl_c.reset();
                    if let Some((answer, incomplete)) = answer {
                        turns.push(Turn {
                            question: line,
                            answer,
                            incomplete,
                        });
                    }
                }
            }
        }
    }

    /// The followup conversation for `question`, with bounded history.
    fn messages(&self, turns: &[Turn], question: &str) -> Result<(Vec<Message>, bool), String> {
        let q = self.redacted.text(question);
        let (summary, kept) = bounded(turns);
        // The conversation so far starts with the explanation the user read.
        let explained = self.explanation.as_ref().map(|e| Message {
            role: Role::Assistant,
            content: e.text.trim().chars().take(HISTORY_CHARS).collect(),
        });
        let history: Vec<Message> = explained
            .into_iter()
            .chain(kept.iter().flat_map(|t| {
                [
                    Message {
                        role: Role::User,
                        content: self.redacted.text(&t.question).text,
                    },
                    Message {
                        role: Role::Assistant,
                        content: t.answer.clone(),
                    },
                ]
            }))
            .collect();
        let messages = self
            .templates
            .followup(self.redacted, &history, summary.as_deref(), &q)?;
        Ok((messages, q.changed))
    }

    fn ask(
        &self,
        turns: &[Turn],
        question: &str,
        ctrl_c: &CtrlC,
    ) -> Option<(String, Option<String>)> {
        let (messages, masked) = match self.messages(turns, question) {
            Ok(m) => m,
            Err(e) => {
                eprintln!("jwtai: {e}");
                return None;
            }
        };
        if masked {
            println!(
                "(jwtai masked a token, secret or personal data in your question before sending it)"
            );
        }
        match explain::run(
            self.settings,
            self.redacted,
            &messages,
            explain::Show::Stream { heading: None },
            Some(ctrl_c.flag()),
        ) {
            Ok(e) => {
                println!();
                if let Some(why) = &e.incomplete {
                    println!("(the answer is incomplete: {why})");
                }
                Some((e.text, e.incomplete))
            }
            Err(crate::ai::AiError::Cancelled) => {
                println!("\n(answer stopped)");
                None
            }
            Err(e) => {
                eprintln!("\njwtai: the model failed: {e}");
                None
            }
        }
    }

    fn markdown(&self, turns: &[Turn]) -> String {
        let mut out = self.report_markdown.clone();
        if let Some(e) = &self.explanation {
            if !out.contains("### Explanation") {
                out.push_str(&format!(
                    "\n### Explanation (model {})\n\n{}\n",
                    e.model,
                    e.text.trim()
                ));
                if let Some(why) = &e.incomplete {
                    out.push_str(&format!("\n> **Incomplete answer:** {why}.\n"));
                }
            }
        }
        if !turns.is_empty() {
            out.push_str("\n### Follow-up questions\n");
            for t in turns {
                let q = self.redacted.text(&t.question).text;
                out.push_str(&format!("\n**Q:** {q}\n\n{}\n", t.answer.trim()));
                if let Some(why) = &t.incomplete {
                    out.push_str(&format!("\n> **Incomplete answer:** {why}.\n"));
                }
            }
        }
        out
    }
}

/// The turns to send verbatim (the last few, within a character budget) and a
/// one-line summary of the dropped ones, so a long session never outgrows the
/// model's context.
fn bounded(turns: &[Turn]) -> (Option<String>, &[Turn]) {
    let mut start = turns.len().saturating_sub(KEEP_TURNS);
    while start < turns.len() {
        let size: usize = turns[start..]
            .iter()
            .map(|t| t.question.len() + t.answer.len())
            .sum();
        if size <= HISTORY_CHARS {
            break;
        }
        start += 1;
    }
    let dropped = &turns[..start];
    let summary = (!dropped.is_empty()).then(|| {
        let qs: Vec<String> = dropped
            .iter()
            .map(|t| t.question.chars().take(80).collect::<String>())
            .collect();
        format!("the user earlier asked: {}", qs.join(" | "))
    });
    (summary, &turns[start..])
}

enum Read {
    Line(String),
    Eof,
    Interrupted,
}

/// A one-line editor: typing, Backspace, Ctrl-U, Up/Down through this
/// session's history, Enter; Ctrl-D on an empty line ends, Ctrl-C interrupts.
/// The terminal stays in raw mode for the whole line ([`RawLine`]) and is
/// back in its normal mode when this returns.
fn read_line(term: &Term, prompt: &str, history: &[String]) -> Read {
    let _raw = RawLine::enter();
    let mut buf = String::new();
    let mut pos = history.len();
    let redraw = |buf: &str| {
        let _ = term.clear_line();
        let _ = term.write_str(&format!("{prompt}{buf}"));
        let _ = term.flush();
    };
    redraw(&buf);
    loop {
        match term.read_key_raw() {
            Ok(Key::Enter) => {
                let _ = term.write_line("");
                return Read::Line(buf);
            }
            Ok(Key::CtrlC) => {
                let _ = term.write_line("");
                return Read::Interrupted;
            }
            Ok(Key::Char('\u{4}')) if buf.is_empty() => {
                let _ = term.write_line("");
                return Read::Eof;
            }
            Ok(Key::Char('\u{15}')) => buf.clear(),
            Ok(Key::Backspace) => {
                buf.pop();
            }
            Ok(Key::ArrowUp) if pos > 0 => {
                pos -= 1;
                buf = history[pos].clone();
            }
            Ok(Key::ArrowDown) if pos < history.len() => {
                pos += 1;
                buf = history.get(pos).cloned().unwrap_or_default();
            }
            Ok(Key::Char(c)) if !c.is_control() => buf.push(c),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Read::Eof,
            Err(_) => return Read::Eof,
        }
        redraw(&buf);
    }
}

/// Raw mode held from a line's prompt to its end. console switches raw mode
/// on for each key it reads and off after it, so a key arriving in between
/// met the normal mode: Ctrl-C there became a SIGINT, which only sets the
/// flag checked between lines, and the editor went on waiting for a key
/// (seen as a session that ignored Ctrl-C). Held raw, Ctrl-C is always read
/// as a key. Output processing is kept, as console keeps it. Restored on drop.
#[cfg(unix)]
struct RawLine {
    tty: std::fs::File,
    normal: rustix::termios::Termios,
}

#[cfg(unix)]
impl RawLine {
    /// `None` when there is no terminal to set (console then reports EOF).
    fn enter() -> Option<RawLine> {
        use rustix::termios::{OptionalActions, tcgetattr, tcsetattr};
        let tty = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .ok()?;
        let normal = tcgetattr(&tty).ok()?;
        let mut raw = normal.clone();
        raw.make_raw();
        raw.output_modes = normal.output_modes;
        tcsetattr(&tty, OptionalActions::Drain, &raw).ok()?;
        Some(RawLine { tty, normal })
    }
}

#[cfg(unix)]
impl Drop for RawLine {
    fn drop(&mut self) {
        let _ = rustix::termios::tcsetattr(
            &self.tty,
            rustix::termios::OptionalActions::Drain,
            &self.normal,
        );
    }
}

#[cfg(not(unix))]
struct RawLine;

#[cfg(not(unix))]
impl RawLine {
    fn enter() -> Option<RawLine> {
        None
    }
}
