//! `jwtai scan`: flags → expectations, keys, redaction policy (as diagnose
//! builds them) → the streaming scan of a log → summary (and, with
//! `--format json`, one redacted report per distinct token) on stdout.

use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context as _, bail};
use indicatif::{ProgressBar, ProgressStyle};
use secrecy::ExposeSecret;

use super::diagnose::{expectations, gather_keys, jwks_plan};
use super::emit;
use crate::cli::{ColorChoice, ScanArgs, ScanFormat};
use crate::exit;
use crate::redact::Policy;
use crate::scan::{self, summary};

/// Read buffer: large enough that a line rarely spans two reads.
const READ_BUFFER: usize = 256 * 1024;

pub fn run(args: ScanArgs) -> anyhow::Result<u8> {
    if !args.more.is_empty() {
        bail!(
            "scan reads one log; to scan {} logs as one, concatenate them: `zcat -f {} | jwtai scan - ...` (zcat -f passes plain files through)",
            args.more.len() + 1,
            args.input
                .iter()
                .chain(&args.more)
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    let expect = expectations(&args.expect)?;
    let gathered = gather_keys(&args.keys)?;
    let plan = jwks_plan(&args.keys, &expect)?;
    let (input, size, origin) = open(args.input.as_ref())?;
    let mut source = scan::Source::open(input).map_err(|e| refused(e, &origin, &args))?;
    // A compressed file's progress is the compressed bytes read, against its size.
    let compressed_read = source.compressed_read();
    let scrub = gathered
        .secrets
        .iter()
        .map(|s| s.expose_secret().to_string())
        .collect();
    let options = scan::Options {
        expect,
        keys: gathered.keys,
        policy: Policy::new(args.mask.clone(), args.keep.clone(), false, scrub),
        jwks: plan,
        max_distinct: args.max_distinct,
        reports: args.format == ScanFormat::Json,
    };
    let progress = (!args.no_progress && io::stderr().is_terminal()).then(|| progress_bar(size));
    let mut sink = Output {
        out: io::BufWriter::new(io::stdout()),
        progress,
        compressed_read,
        state: Written::Fine,
    };
    let scanned = scan::scan_source(&mut source, options, &mut sink);
    if let Some(bar) = &sink.progress {
        bar.finish_and_clear();
    }
    let summary = scanned.with_context(|| format!("cannot read {origin}"))?;
    match args.format {
        ScanFormat::Json => {
            let mut line = serde_json::to_string(&summary::json(&summary))
                .context("cannot serialise the summary")?;
            line.push('\n');
            sink.write(line.as_bytes());
            sink.flush();
        }
        ScanFormat::Human => {
            sink.flush();
            if let Written::Fine = sink.state {
                emit(&summary::human(&summary, use_color(&args)))?;
            }
        }
    }
    if let Written::Failed(e) = sink.state {
        return Err(e).context("cannot write to standard output");
    }
    if let Some(why) = &summary.stored.ended_early {
        eprintln!(
            "jwtai: {origin}: input ended early: {why}; the summary covers only the lines before it"
        );
        return Ok(exit::USAGE);
    }
    Ok(if summary.has_errors() {
        exit::FINDINGS
    } else {
        exit::OK
    })
}

type Input = Box<dyn BufRead + Send>;

/// The log to read, its size when known (for the progress bar), and its name for errors.
fn open(path: Option<&PathBuf>) -> anyhow::Result<(Input, Option<u64>, String)> {
    match path {
        Some(p) if p.as_os_str() != "-" => {
            let origin = format!("log file {}", p.display());
            if p.is_dir() {
                bail!("{origin} is a directory");
            }
            let file = File::open(p).map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => anyhow::anyhow!("{origin}: no such file"),
                io::ErrorKind::PermissionDenied => anyhow::anyhow!("{origin}: permission denied"),
                _ => anyhow::anyhow!("cannot open {origin}: {e}"),
            })?;
            let size = file
                .metadata()
                .ok()
                .filter(|m| m.is_file())
                .map(|m| m.len());
            Ok((
                Box::new(BufReader::with_capacity(READ_BUFFER, file)),
                size,
                origin,
            ))
        }
        Some(_) => Ok((stdin(), None, "standard input".into())),
        None if io::stdin().is_terminal() => {
            bail!("no input: pass a log file, or pipe one (`kubectl logs ... | jwtai scan -`)")
        }
        None => Ok((stdin(), None, "standard input".into())),
    }
}

/// The error for an input that cannot be scanned as it is: a compression
/// other than gzip, UTF-16 text, or an I/O error reading its first bytes.
fn refused(e: io::Error, origin: &str, args: &ScanArgs) -> anyhow::Error {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<scan::source::Unsupported>())
    {
        Some(u) => {
            let file = match args.input.as_ref() {
                Some(p) if p.as_os_str() != "-" => p.display().to_string(),
                _ => "FILE".into(),
            };
            anyhow::anyhow!(
                "{origin} is {}: convert it first, e.g. `{} {file} | jwtai scan -` (gzip is read as it is)",
                u.format,
                u.command
            )
        }
        None => anyhow::Error::new(e).context(format!("cannot read {origin}")),
    }
}

fn stdin() -> Input {
    Box::new(BufReader::with_capacity(READ_BUFFER, io::stdin()))
}

fn progress_bar(size: Option<u64>) -> ProgressBar {
    match size {
        Some(total) => {
            let bar = ProgressBar::new(total);
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} scanning {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            ) {
                bar.set_style(style);
            }
            bar
        }
        None => {
            let bar = ProgressBar::new_spinner();
            if let Ok(style) =
                ProgressStyle::with_template("{spinner} scanning {bytes} read, {bytes_per_sec}")
            {
                bar.set_style(style);
            }
            bar
        }
    }
}

fn use_color(args: &ScanArgs) -> bool {
    match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            args.format == ScanFormat::Human
                && io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// Reports as JSON Lines on stdout, progress on stderr. A closed pipe
/// (`| head`) silently stops the output; the scan still finishes.
struct Output {
    out: io::BufWriter<io::Stdout>,
    progress: Option<ProgressBar>,
    /// For a compressed input: the compressed bytes read, which the bar shows.
    compressed_read: Option<Arc<AtomicU64>>,
    state: Written,
}

enum Written {
    Fine,
    /// The reader went away: nothing more to write, not an error.
    Closed,
    Failed(io::Error),
}

impl Output {
    fn write(&mut self, bytes: &[u8]) {
        if let Written::Fine = self.state {
            if let Err(e) = self.out.write_all(bytes) {
                self.failed(e);
            }
        }
    }

    fn flush(&mut self) {
        if let Written::Fine = self.state {
            if let Err(e) = self.out.flush() {
                self.failed(e);
            }
        }
    }

    fn failed(&mut self, e: io::Error) {
        self.state = if e.kind() == io::ErrorKind::BrokenPipe {
            Written::Closed
        } else {
            Written::Failed(e)
        };
    }
}

impl scan::Sink for Output {
    fn report(&mut self, json_line: &str) {
        self.write(json_line.as_bytes());
    }

    fn progress(&mut self, bytes: u64) {
        if let Some(bar) = &self.progress {
            let read = self
                .compressed_read
                .as_ref()
                .map_or(bytes, |c| c.load(Ordering::Relaxed));
            bar.set_position(read);
        }
    }
}
