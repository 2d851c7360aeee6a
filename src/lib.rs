//! jwtai: tells a developer why a JSON Web Token is rejected, and how to fix it.
//!
//! The data flows one way through the modules:
//! argv (`cli`) → `input` → `token` → `checks` → `report` → `redact` → `render`.
//! [`run`] reads as that chain; `main` only maps its result to an exit status.

pub mod alg;
pub mod checks;
pub mod cli;
pub mod clock;
pub mod errortext;
pub mod fetch;
pub mod findings;
pub mod input;
pub mod jwks;
pub mod keys;
pub mod redact;
pub mod render;
pub mod report;
pub mod sensitive;
pub mod sign;
pub mod token;
pub mod verify;

use std::io::{IsTerminal, Write};

use anyhow::{Context as _, bail};
use secrecy::{ExposeSecret, SecretString};

use crate::checks::{Context, Expectations};
use crate::cli::{
    ColorChoice, Command, DecodeArgs, DiagnoseArgs, ExpectArgs, ExplainCodeArgs, Format, JwksArgs,
    KeyArgs, OutputArgs,
};
use crate::redact::Policy;
use crate::report::Report;

/// Exit statuses of `cli.md`, in one place.
pub mod exit {
    /// No error-severity finding.
    pub const OK: u8 = 0;
    /// At least one error finding.
    pub const FINDINGS: u8 = 1;
    /// Usage or input error.
    pub const USAGE: u8 = 2;
}

/// Runs one command; `Err` is a usage or input error (exit 2).
pub fn run(cli: cli::Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Diagnose(args) => diagnose(*args),
        Command::Decode(args) => decode(args),
        Command::ExplainCode(args) => explain_code(args),
        Command::Jwks(args) => jwks_command(args),
    }
}

fn diagnose(args: DiagnoseArgs) -> anyhow::Result<u8> {
    let mut expect = expectations(&args.expect)?;
    let error = error_text(&args, &mut expect)?;
    let mut keys = gather_keys(&args.keys)?;
    let plan = jwks_plan(&args.keys, &expect)?;
    let raw = input::read(&args.token)?;
    let extracted = input::extract(raw.expose_secret());
    let token = token::parse(&extracted.token);
    if let Some(plan) = plan {
        let iss = token
            .claims()
            .and_then(|c| c.get("iss"))
            .and_then(|v| v.as_str());
        let remote = jwks::resolve(&plan, iss, token.kid());
        keys.keys.candidates.extend(remote.candidates());
        keys.keys.remote = remote;
    }
    let findings = checks::run(&Context {
        token: &token,
        wrappers: &extracted.wrappers,
        expect: &expect,
        keys: &keys.keys,
        error: &error,
    });
    let report = Report::build(&token, findings, expect.now, &error.explaining_codes());
    let mut scrub = scrub_list(raw.expose_secret(), &token);
    scrub.extend(keys.secrets.iter().map(|s| s.expose_secret().to_string()));
    let policy = policy(&args.output, scrub);
    let shown = redact::for_display(report, &policy);
    emit(&render::report(
        &shown,
        args.output.format,
        use_color(&args.output),
    ))?;
    Ok(if shown.report().has_errors() {
        exit::FINDINGS
    } else {
        exit::OK
    })
}

fn decode(args: DecodeArgs) -> anyhow::Result<u8> {
    let now = clock::parse_now(args.now.as_deref())?;
    let raw = input::read(&args.token)?;
    let extracted = input::extract(raw.expose_secret());
    let token = token::parse(&extracted.token);
    // Decode shows only what parsing found: structure findings, never verification.
    let expect = Expectations {
        now,
        ..Default::default()
    };
    let keys = checks::Keys::default();
    let mut findings = Vec::new();
    checks::structure::check(
        &Context {
            token: &token,
            wrappers: &extracted.wrappers,
            expect: &expect,
            keys: &keys,
            error: &Default::default(),
        },
        &mut findings,
    );
    let report = Report::build(&token, findings, now, &[]);
    let policy = policy(&args.output, scrub_list(raw.expose_secret(), &token));
    let shown = redact::for_display(report, &policy);
    let text = match args.output.format {
        Format::Json => render::json::report(shown.report()),
        Format::Markdown => render::markdown::report(shown.report()),
        Format::Human => {
            let r = shown.report();
            let mut s = render::human::token_section(&r.token, r.now, use_color(&args.output));
            for f in &r.findings {
                s.push_str(&format!("  note: {} — {}\n", f.code(), f.detail));
            }
            if !args.output.reveal && r.token.claims.is_some() {
                s.push_str("  (personal data masked; --reveal shows it)\n");
            }
            s
        }
    };
    emit(&text)?;
    Ok(if shown.report().has_errors() {
        exit::FINDINGS
    } else {
        exit::OK
    })
}

fn explain_code(args: ExplainCodeArgs) -> anyhow::Result<u8> {
    let mut out = String::new();
    if args.list {
        for s in checks::registry() {
            out.push_str(&format!(
                "{:<28} {:<8} {}\n",
                s.code,
                s.severity.as_str(),
                s.title
            ));
        }
    } else if let Some(code) = args.code.as_deref() {
        let Some(s) = checks::spec(code) else {
            bail!("unknown finding code '{code}' (see `jwtai explain-code --list`)");
        };
        out.push_str(&format!(
            "{} ({})\n{}\n\n{}\n\nFix: {}\n",
            s.code,
            s.severity.as_str(),
            s.title,
            s.doc,
            s.fix
        ));
    }
    emit(&out)?;
    Ok(exit::OK)
}

fn jwks_command(args: JwksArgs) -> anyhow::Result<u8> {
    let is_url = args.source.starts_with("http://") || args.source.starts_with("https://");
    let set = if is_url {
        let plan = jwks::Plan {
            jwks_uri: Some(args.source.clone()),
            discover: false,
            issuers: Vec::new(),
            timeout: timeout(args.timeout)?,
            use_cache: !args.no_cache,
            spinner: std::io::stderr().is_terminal(),
        };
        match jwks::resolve(&plan, None, None).remote.map(|r| r.outcome) {
            Some(jwks::Outcome::Loaded { set, .. }) => set,
            Some(jwks::Outcome::Failed(e)) => bail!("cannot fetch {}: {e}", args.source),
            Some(jwks::Outcome::Http { status, excerpt }) => {
                bail!("{} answered HTTP {status}: {excerpt}", args.source)
            }
            Some(jwks::Outcome::Invalid { reason, .. }) => {
                bail!("{} is not a JWK Set: {reason}", args.source)
            }
            None => bail!("nothing fetched from {}", args.source),
        }
    } else {
        keys::load_key_file_with_problems(std::path::Path::new(&args.source))?
    };
    let text = match args.format {
        Format::Json => render::jwks::json(&args.source, &set),
        _ => render::jwks::human(&args.source, &set),
    };
    emit(&text)?;
    Ok(if set.keys.iter().any(|k| k.is_usable()) {
        exit::OK
    } else {
        exit::FINDINGS
    })
}

fn timeout(secs: f64) -> anyhow::Result<std::time::Duration> {
    if !(secs.is_finite() && secs > 0.0 && secs <= 3600.0) {
        bail!("invalid --timeout {secs}: expected seconds between 0 and 3600");
    }
    Ok(std::time::Duration::from_secs_f64(secs))
}

/// Validates the expectation flags before any input is read.
fn expectations(a: &ExpectArgs) -> anyhow::Result<Expectations> {
    let now = clock::parse_now(a.now.as_deref())?;
    let mut algs = Vec::new();
    for alg in a.alg.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        if alg::Alg::from_name(alg).is_none() && alg != "none" {
            match alg::Alg::from_name_loose(alg) {
                Some(known) => bail!(
                    "invalid --alg '{alg}': algorithm names are case-sensitive, did you mean {known}?"
                ),
                None => bail!(
                    "invalid --alg '{alg}': not a JWS algorithm (HS256, RS256, PS256, ES256, EdDSA, ...)"
                ),
            }
        }
        algs.push(alg.to_string());
    }
    let mut claims = Vec::new();
    for c in &a.claim {
        let Some((name, value)) = c.split_once('=') else {
            bail!("invalid --claim '{c}': expected NAME=VALUE, e.g. --claim org_id=org_123");
        };
        if name.trim().is_empty() {
            bail!("invalid --claim '{c}': the claim name is empty");
        }
        claims.push((name.trim().to_string(), value.to_string()));
    }
    let leeway = i64::try_from(a.leeway).context("--leeway is too large")?;
    Ok(Expectations {
        algs,
        iss: a.iss.clone(),
        aud: a.aud.clone(),
        require: a.require.clone(),
        scopes: a.scope.clone(),
        claims,
        leeway,
        now,
    })
}

/// Largest `--error-file` read: a long stack trace, not a log.
const MAX_ERROR_FILE_BYTES: usize = 1024 * 1024;

/// Matches `--error`/`--error-file`, and takes the values the message quotes
/// (expected audience, issuer...) as expectations the user did not give.
fn error_text(
    args: &DiagnoseArgs,
    expect: &mut Expectations,
) -> anyhow::Result<checks::errortext::ErrorText> {
    let text = match (&args.error, &args.error_file) {
        (Some(t), _) => t.clone(),
        (None, Some(path)) => String::from_utf8_lossy(&input::read_small_file(
            path,
            "error file",
            MAX_ERROR_FILE_BYTES,
        )?)
        .into_owned(),
        (None, None) => return Ok(Default::default()),
    };
    if text.trim().is_empty() {
        bail!("--error is empty: paste the message the library printed");
    }
    errortext::knowledge_base()
        .map_err(|e| anyhow::anyhow!("the built-in error knowledge base is broken: {e}"))?;
    let matches = errortext::match_error(&text);
    let mut applied = Vec::new();
    if let Some(m) = matches.first() {
        let x = &m.expected;
        let mut take = |flag: &str, from: &[String], into: &mut Vec<String>| {
            if into.is_empty() && !from.is_empty() {
                into.extend(from.iter().cloned());
                applied.push(format!("{flag} {}", from.join(", ")));
            }
        };
        take("--aud", &x.aud, &mut expect.aud);
        take("--iss", &x.iss, &mut expect.iss);
        take("--require", &x.claims, &mut expect.require);
        take("--scope", &x.scopes, &mut expect.scopes);
        let algs: Vec<String> = x
            .alg
            .iter()
            .filter(|a| alg::Alg::from_name(a).is_some())
            .cloned()
            .collect();
        take("--alg", &algs, &mut expect.algs);
    }
    Ok(checks::errortext::ErrorText {
        given: true,
        matches,
        applied,
    })
}

/// Key material from the flags, and the secrets in text form for scrubbing.
struct Gathered {
    keys: checks::Keys,
    secrets: Vec<SecretString>,
}

/// Secret files and env vars are read byte for byte: a trailing newline is a
/// finding (`secret-whitespace`), not something to silently fix.
const MAX_SECRET_BYTES: usize = 64 * 1024;

fn gather_keys(k: &KeyArgs) -> anyhow::Result<Gathered> {
    let mut candidates = Vec::new();
    let mut secrets = Vec::new();
    let mut add_secret = |bytes: Vec<u8>, label: String| {
        if let Ok(text) = std::str::from_utf8(&bytes) {
            secrets.push(SecretString::from(text.trim()));
            secrets.push(SecretString::from(text));
        }
        candidates.push(keys::secret_candidate(bytes, label));
    };
    if let Some(s) = &k.secret {
        eprintln!(
            "jwtai: note: --secret lands in your shell history; prefer --secret-file or --secret-env"
        );
        add_secret(
            s.expose_secret().as_bytes().to_vec(),
            "the secret from --secret".into(),
        );
    }
    if let Some(path) = &k.secret_file {
        let bytes = input::read_small_file(path, "secret file", MAX_SECRET_BYTES)?;
        if bytes.is_empty() {
            bail!("secret file {} is empty", path.display());
        }
        add_secret(
            bytes,
            format!("the secret from --secret-file {}", path.display()),
        );
    }
    if let Some(var) = &k.secret_env {
        let value = std::env::var_os(var).with_context(|| {
            format!("environment variable {var} (from --secret-env) is not set")
        })?;
        let bytes = value.into_encoded_bytes();
        if bytes.is_empty() {
            bail!("environment variable {var} (from --secret-env) is empty");
        }
        add_secret(bytes, format!("the secret from ${var}"));
    }
    for path in &k.key {
        let set = keys::load_key_file_with_problems(path)?;
        candidates.extend(set.keys);
    }
    let attempted = !candidates.is_empty() || k.jwks_uri.is_some() || k.discover;
    Ok(Gathered {
        keys: checks::Keys {
            candidates,
            attempted,
            remote: Default::default(),
        },
        secrets,
    })
}

fn jwks_plan(k: &KeyArgs, expect: &Expectations) -> anyhow::Result<Option<jwks::Plan>> {
    if k.jwks_uri.is_none() && !k.discover {
        return Ok(None);
    }
    if !(k.timeout.is_finite() && k.timeout > 0.0 && k.timeout <= 3600.0) {
        bail!(
            "invalid --timeout {}: expected seconds between 0 and 3600",
            k.timeout
        );
    }
    Ok(Some(jwks::Plan {
        jwks_uri: k.jwks_uri.clone(),
        discover: k.discover,
        issuers: expect.iss.clone(),
        timeout: timeout(k.timeout)?,
        use_cache: !k.no_cache,
        spinner: std::io::stderr().is_terminal(),
    }))
}

fn policy(o: &OutputArgs, scrub: Vec<String>) -> Policy {
    Policy::new(o.mask.clone(), o.keep.clone(), o.reveal, scrub)
}

/// Strings that must never reach output: the input and the token's segments.
fn scrub_list(raw: &str, token: &token::Token) -> Vec<String> {
    let mut list = vec![raw.trim().to_string()];
    if let Some(sig) = &token.signature_segment {
        list.push(sig.clone());
    }
    list.push(String::from_utf8_lossy(&token.signing_input).into_owned());
    list
}

fn use_color(o: &OutputArgs) -> bool {
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

/// Writes to stdout; a closed pipe (`| head`) is not an error.
fn emit(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to standard output"),
    }
}
