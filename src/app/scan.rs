//! `jwtai scan`: flags → expectations, keys, redaction policy (as diagnose
//! builds them) → the streaming scan of a log → summary (and, with
//! `--format json`, one redacted report per distinct token) on stdout.

use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context as _, bail};
use indicatif::{ProgressBar, ProgressStyle};
use secrecy::ExposeSecret;

use super::diagnose::{expectations, gather_keys, jwks_plan};
use super::emit;
use crate::cli::{ColorChoice, ScanArgs, ScanFormat};
use crate::debug;
use crate::exit;
use crate::redact::Policy;
use crate::scan::{self, summary};

pub fn run(args: ScanArgs) -> anyhow::Result<u8> {
    let expect = expectations(&args.expect)?;
    let gathered = gather_keys(&args.keys)?;
    let plan = jwks_plan(&args.keys, &expect)?;
    let logs = open_all(&args.input)?;
    // Against the files' sizes (when all are known), the progress bar shows
    // the bytes taken from them: compressed ones for a compressed file.
    let size: Option<u64> = logs.iter().map(|l| l.size).sum();
    let read: Vec<Arc<AtomicU64>> = logs.iter().map(|l| l.source.bytes_read()).collect();
    let origins: Vec<String> = logs.iter().map(|l| l.origin.clone()).collect();
    let mut sources: Vec<(String, scan::Source<Input>)> =
        logs.into_iter().map(|l| (l.name, l.source)).collect();
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
        read,
        state: Written::Fine,
    };
    debug::log("input", || {
        format!(
            "{} log(s), {} key(s) and secret(s), JWKS {}",
            sources.len(),
            options.keys.candidates.len(),
            match &options.jwks {
                Some(p) if p.discover && p.jwks_uri.is_none() => "to fetch once per issuer",
                Some(_) => "to fetch once",
                None => "none",
            }
        )
    });
    let scanned = {
        let _t = debug::Timer::start("scan");
        scan::scan_sources(&mut sources, options, &mut sink)
    };
    if let Ok(s) = &scanned {
        debug::log("scan", || {
            format!(
                "{} lines ({} bytes), {} tokens, {} distinct, {} root causes",
                s.lines.lines,
                s.lines.bytes,
                s.total.tokens,
                s.total.distinct,
                s.root_causes.len()
            )
        });
    }
    if let Some(bar) = &sink.progress {
        bar.finish_and_clear();
    }
    let summary = match scanned {
        // Found inside a compressed log once it was opened (UTF-16 in gzip).
        Err(e)
            if e.get_ref()
                .is_some_and(|i| i.is::<scan::source::Unsupported>()) =>
        {
            let file = match args.input.as_slice() {
                [one] if one.as_os_str() != "-" => Some(one.display().to_string()),
                _ => None,
            };
            return Err(refused(e, &origins.join(", "), file.as_deref()));
        }
        scanned => scanned.with_context(|| format!("cannot read {}", origins.join(", ")))?,
    };
    match args.format {
        ScanFormat::Json => {
            let mut line = serde_json::to_string(&summary::json(&summary))
                .context("cannot serialise the summary")?;
            line.push('\n');
            sink.write(super::escape_bidi(&line).as_bytes());
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
    // A key set that could not be fetched is said once for the run (and in
    // the summary), not as a finding of every token; the exit status counts
    // it as an error finding, as `diagnose` does.
    for f in summary.run_findings() {
        eprintln!(
            "jwtai: {}: {} Signatures that needed this key set were not checked.",
            f.code(),
            f.detail
        );
    }
    if let Some(k) = &summary.keys {
        let n = &k.not_fetched;
        if n.past_cap > 0 {
            eprintln!(
                "jwtai: {}{} issuer(s) past the {} whose key sets one scan fetches (--discover): their tokens' signatures were not checked",
                if n.more { "at least " } else { "" },
                n.past_cap,
                scan::keys::MAX_ISSUERS
            );
        }
    }
    let mut ended_early = false;
    for (origin, stored) in origins.iter().zip(&summary.stored) {
        if let Some(why) = &stored.ended_early {
            eprintln!(
                "jwtai: {origin}: input ended early: {why}; the rest of that log is not in the summary"
            );
            ended_early = true;
        }
    }
    Ok(if ended_early {
        exit::USAGE
    } else if summary.has_errors() {
        exit::FINDINGS
    } else {
        exit::OK
    })
}

/// A log opened and recognised, not read yet.
struct Log {
    /// As examples and reports name it (with several logs).
    name: String,
    /// As errors name it.
    origin: String,
    source: scan::Source<Input>,
    /// The file's size, when known.
    size: Option<u64>,
}

/// Every log given, opened and recognised before any is read, so that a
/// missing file or a format that cannot be read stops the run at once.
fn open_all(paths: &[PathBuf]) -> anyhow::Result<Vec<Log>> {
    let dash = |p: &&PathBuf| p.as_os_str() == "-";
    if paths.iter().filter(dash).count() > 1 {
        bail!("standard input (`-`) can be read only once");
    }
    let given: Vec<Option<&PathBuf>> = if paths.is_empty() {
        vec![None]
    } else {
        paths.iter().map(Some).collect()
    };
    given
        .into_iter()
        .map(|path| {
            let (input, size, origin) = open(path)?;
            let file = path.filter(|p| !dash(p)).map(|p| p.display().to_string());
            let source =
                scan::Source::open(input).map_err(|e| refused(e, &origin, file.as_deref()))?;
            Ok(Log {
                name: file.unwrap_or_else(|| "stdin".into()),
                origin,
                source,
                size,
            })
        })
        .collect()
}

/// A log as opened; [`scan::Source`] buffers it (once reading starts).
type Input = Box<dyn Read + Send>;

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
            Ok((Box::new(file), size, origin))
        }
        _ if crate::input::stdin_is_null() => {
            bail!(
                "no input: standard input is /dev/null (or was closed): pass a log file, or pipe one (`kubectl logs ... | jwtai scan -`)"
            )
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
/// `file` is the path given, `None` for standard input.
fn refused(e: io::Error, origin: &str, file: Option<&str>) -> anyhow::Error {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<scan::source::Unsupported>())
    {
        Some(u) => {
            let file = file.unwrap_or("FILE");
            anyhow::anyhow!(
                "{origin} is {}: convert it first, e.g. `{} | jwtai scan -` (gzip is read as it is)",
                u.format,
                u.command.replace("FILE", file)
            )
        }
        None => anyhow::Error::new(e).context(format!("cannot read {origin}")),
    }
}

fn stdin() -> Input {
    Box::new(io::stdin())
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
    /// The bytes taken from each log so far, which the bar shows.
    read: Vec<Arc<AtomicU64>>,
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
        self.write(super::escape_bidi(json_line).as_bytes());
    }

    fn progress(&mut self) {
        if let Some(bar) = &self.progress {
            bar.set_position(self.read.iter().map(|r| r.load(Ordering::Relaxed)).sum());
        }
    }
}
