//! `jwtai diagnose`: flags → expectations, keys, error text → the offline
//! pipeline (plus remote keys) → redacted report on stdout.

use std::io::IsTerminal;

use anyhow::{Context as _, bail};
use secrecy::{ExposeSecret, SecretString};

use super::{emit, explain, interactive, policy, timeout, use_color};
use crate::checks::{self, Expectations};
use crate::cli::{DiagnoseArgs, ExpectArgs, Format, KeyArgs};
use crate::{ai, alg, clock, debug, errortext, exit, input, jwks, keys, pipeline, redact, render};

pub fn run(args: DiagnoseArgs) -> anyhow::Result<u8> {
    if args.ai.interactive {
        if !(std::io::stdin().is_terminal() && std::io::stdout().is_terminal()) {
            bail!(
                "--interactive needs a terminal on stdin and stdout; without one, use --explain alone (and --format json or markdown to capture it)"
            );
        }
        if args.output.format != Format::Human {
            bail!("--interactive works with the human format only");
        }
    }
    let mut expect = expectations(&args.expect)?;
    let error_given = error_input(&args)?;
    let mut keys = gather_keys(&args.keys)?;
    let mut plan = jwks_plan(&args.keys, &expect)?;
    let raw = input::read(&args.token)?;
    let parsed = {
        let _t = debug::Timer::start("parse");
        pipeline::parse(raw.expose_secret())
    };
    // The error text is masked knowing the token: its key id and audience,
    // shown in the report anyway, stay comparable where the message quotes them.
    let error = error_text(
        error_given,
        &pipeline::public_values(&parsed.token),
        &mut expect,
    )?;
    if let Some(plan) = plan.as_mut() {
        plan.issuers = expect.iss.clone();
        if let Some(message) = jwks::missing_issuer(plan, &parsed.token) {
            bail!(message);
        }
    }
    debug::log("input", || {
        let w: Vec<String> = parsed.wrappers.iter().map(|w| w.describe()).collect();
        format!(
            "{} bytes read; wrappers removed: [{}]; token kind {}, {} segment(s), {} byte(s)",
            raw.expose_secret().len(),
            w.join(", "),
            parsed.token.kind.as_str(),
            parsed.token.segment_count,
            parsed.token.len
        )
    });
    if let Some(plan) = plan {
        let _t = debug::Timer::start("jwks");
        keys.keys
            .add_remote(jwks::resolve_for(&plan, &parsed.token));
    }
    debug::log("keys", || {
        let labels: Vec<&str> = keys
            .keys
            .candidates
            .iter()
            .map(|c| c.label.as_str())
            .collect();
        format!("{} candidate(s): [{}]", labels.len(), labels.join("; "))
    });
    let report = {
        let _t = debug::Timer::start("checks");
        pipeline::diagnose(&parsed, &expect, &keys.keys, &error)
    };
    debug::log("report", || {
        let codes: Vec<&str> = report.findings.iter().map(|f| f.code()).collect();
        format!(
            "verdict {}; findings [{}]",
            report.verdict.as_str(),
            codes.join(", ")
        )
    });
    let mut scrub = pipeline::scrub_list(raw.expose_secret(), &parsed.token);
    scrub.extend(keys.secrets.iter().map(|s| s.expose_secret().to_string()));
    let policy = policy(&args.output, scrub);
    let status = if report.has_errors() {
        exit::FINDINGS
    } else {
        exit::OK
    };
    if !(args.ai.explain || args.ai.interactive || args.ai.show_prompt) {
        let shown = redact::for_display(report, &policy);
        emit(&render::report(
            &shown,
            args.output.format,
            use_color(&args.output),
        ))?;
        return Ok(status);
    }

    // The model sees the redacted report only.
    // The audience and issuer the user expects are compared with the
    // token's in the findings: kept readable where texts quote them.
    let redacted = redact::redact(report.clone(), &policy)
        .keeping(&[expect.aud.as_slice(), expect.iss.as_slice()].concat());
    let templates =
        ai::Templates::load(args.ai.model.prompts.as_deref()).map_err(anyhow::Error::msg)?;
    let settings = explain::settings(
        &args.ai.model,
        timeout(args.keys.timeout)?,
        !args.keys.no_cache,
    )?;
    let (messages, _) = explain::messages(
        &templates,
        &redacted,
        error.text.as_deref(),
        &expectation_lines(&expect),
    )?;
    let stream = !args.ai.no_stream && args.output.format == Format::Human;
    debug::log("model", || {
        let bytes = serde_json::to_vec(&ai::client::request_body(&settings, &messages, stream))
            .map_or(0, |b| b.len());
        format!(
            "{} at {}; {} message(s), {bytes} request bytes; key {}",
            settings.model,
            settings.api_base,
            messages.len(),
            if settings.api_key.is_some() {
                "set"
            } else {
                "not set"
            }
        )
    });
    if args.ai.show_prompt {
        let body = ai::client::request_body(&settings, &messages, stream);
        emit(&format!("{}\n", serde_json::to_string(&body)?))?;
        return Ok(status);
    }

    let shown = redact::for_display(report, &policy);
    let color = use_color(&args.output);
    if args.output.format == Format::Human {
        // The deterministic report first, at once; the explanation below it.
        emit(&render::report(&shown, Format::Human, color))?;
        // In a session, Ctrl-C stops an answer and returns to the prompt.
        let ctrl_c = args.ai.interactive.then(interactive::CtrlC::install);
        let heading = render::human::explanation_heading(&settings.model, color);
        let show = if stream {
            explain::Show::Stream {
                heading: Some(heading.clone()),
            }
        } else {
            explain::Show::Quiet
        };
        let result = explain::run(
            &settings,
            &redacted,
            &messages,
            show,
            ctrl_c.as_ref().map(interactive::CtrlC::flag),
        );
        let explanation = match result {
            Ok(e) => {
                if !stream {
                    emit(&heading)?;
                    emit(&e.text)?;
                }
                emit(&render::human::explanation_footer(&e, color))?;
                incomplete_note(&e);
                Some(e)
            }
            Err(ai::AiError::Cancelled) => {
                emit("\n")?;
                eprintln!("jwtai: --explain stopped (Ctrl-C)");
                None
            }
            Err(e) => {
                if stream && matches!(e, ai::AiError::Timeout { partial: true, .. }) {
                    emit("\n")?;
                }
                eprintln!(
                    "jwtai: --explain failed: {}",
                    redact::free_text(&e.to_string())
                );
                None
            }
        };
        if let Some(c) = &ctrl_c {
            c.reset();
        }
        if args.ai.interactive {
            let mut markdown_view = shown.clone();
            if let Some(e) = explanation.clone() {
                markdown_view = markdown_view.with_explanation(e);
            }
            let session = interactive::Session {
                settings: &settings,
                templates: &templates,
                redacted: &redacted,
                report_text: render::report(&shown, Format::Human, color),
                report_markdown: render::report(&markdown_view, Format::Markdown, false),
                explanation,
            };
            return Ok(match session.run(ctrl_c.as_ref()) {
                // The session changes nothing about the token: its findings decide.
                interactive::End::Quit => status,
                interactive::End::Interrupted => 130,
            });
        }
        return Ok(status);
    }
    let text = match explain::run(&settings, &redacted, &messages, explain::Show::Quiet, None) {
        Ok(e) => {
            incomplete_note(&e);
            render::report(&shown.with_explanation(e), args.output.format, color)
        }
        Err(e) => {
            eprintln!(
                "jwtai: --explain failed: {}",
                redact::free_text(&e.to_string())
            );
            match args.output.format {
                Format::Json => {
                    render::json::report_with_error(shown.report(), Some(&e.to_string()))
                }
                format => render::report(&shown, format, color),
            }
        }
    };
    emit(&text)?;
    Ok(status)
}

/// An answer that stopped early is said so on stderr too (it is marked in
/// the output).
fn incomplete_note(e: &crate::report::Explanation) {
    if let Some(why) = &e.incomplete {
        eprintln!("jwtai: note: the model's answer is incomplete: {why}");
    }
}

/// What the server expects, as lines for the prompt.
fn expectation_lines(e: &Expectations) -> Vec<String> {
    let mut lines = Vec::new();
    let mut add = |what: &str, v: &[String]| {
        if !v.is_empty() {
            lines.push(format!("{what}: {}", v.join(", ")));
        }
    };
    add("issuer", &e.iss);
    add("audience", &e.aud);
    add("algorithms", &e.algs);
    add("required claims", &e.require);
    add("required scopes", &e.scopes);
    let claims: Vec<String> = e.claims.iter().map(|(k, v)| format!("{k}={v}")).collect();
    add("claim values", &claims);
    if e.leeway > 0 {
        lines.push(format!("leeway: {} s", e.leeway));
    }
    if let Some(m) = e.max_age {
        lines.push(format!("maximum token age: {m} s"));
    }
    if let Some(t) = &e.typ {
        lines.push(format!("required typ: {t}"));
    }
    lines
}

/// Validates the expectation flags before any input is read.
pub fn expectations(a: &ExpectArgs) -> anyhow::Result<Expectations> {
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
    for aud in &a.aud {
        if let Err(why) = crate::errortext::js_regex_checked(aud) {
            bail!("invalid --aud '{aud}': a /pattern/ that is no valid regular expression: {why}");
        }
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
    let max_age = a
        .max_age
        .map(|m| i64::try_from(m).context("--max-age is too large"))
        .transpose()?;
    let typ = a.typ.as_deref().map(str::trim).filter(|t| !t.is_empty());
    Ok(Expectations {
        max_age,
        typ: typ.map(str::to_string),
        crit: a.crit.clone(),
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
/// The text of `--error` or `--error-file`, read and checked before the
/// token is (a mistake in it is a usage error, reported first).
fn error_input(args: &DiagnoseArgs) -> anyhow::Result<Option<String>> {
    let text = match (&args.error, &args.error_file) {
        (Some(t), _) => t.clone(),
        (None, Some(path)) => {
            let bytes = input::read_small_file(path, "error file", MAX_ERROR_FILE_BYTES)?;
            let text = errortext::decode_text(&bytes).into_owned();
            if let Some(why) = not_text(&bytes, &text) {
                bail!(
                    "error file {} is not text: {why}; pass the message or stack trace the library printed, as text (--error-file trace.txt, or --error \"TEXT\")",
                    path.display()
                );
            }
            text
        }
        (None, None) => return Ok(None),
    };
    if text.trim().is_empty() {
        bail!("--error is empty: paste the message the library printed");
    }
    Ok(Some(text))
}

/// Why an error file's bytes are no text, as `--token-file` refuses binary
/// input: a NUL byte, or mostly bytes that are no UTF-8 (or UTF-16) text.
/// A log with a few Latin-1 bytes or ANSI colours is still text.
fn not_text(bytes: &[u8], decoded: &str) -> Option<String> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Some("it is gzip-compressed (decompress it first: `zcat FILE > trace.txt`)".into());
    }
    if decoded.contains('\0') {
        return Some("it holds NUL bytes: binary data".into());
    }
    let total = decoded.chars().count().max(1);
    let odd = decoded
        .chars()
        .filter(|&c| {
            c == char::REPLACEMENT_CHARACTER
                || (c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\x0c' | '\x1b'))
        })
        .count();
    (odd * 10 > total).then(|| {
        format!("{odd} of its {total} characters are no text (invalid UTF-8 or control bytes): binary data")
    })
}

fn error_text(
    given: Option<String>,
    keep: &[&str],
    expect: &mut Expectations,
) -> anyhow::Result<checks::errortext::ErrorText> {
    let Some(text) = given else {
        return Ok(Default::default());
    };
    // A pasted error or trace may quote tokens, keys or people: mask them at
    // the source, so nothing taken from it (expectations, quotes) carries them.
    let (raw, text) = (text.clone(), redact::free_text_keeping(&text, keep));
    errortext::knowledge_base()
        .map_err(|e| anyhow::anyhow!("the built-in error knowledge base is broken: {e}"))?;
    let matches = errortext::match_error_in(&text, &raw);
    let mut applied = Vec::new();
    if let Some(m) = matches.first() {
        let x = &m.expected;
        let mut take = |flag: &str, from: &[String], into: &mut Vec<String>| {
            if into.is_empty() && !from.is_empty() {
                into.extend(from.iter().cloned());
                applied.push(format!("{flag} {}", from.join(", ")));
            }
        };
        // With a /regex/ among the audiences, the plain values alone are no
        // expectation: a token matching the pattern passes the verifier.
        if x.aud_patterns.is_empty() {
            take("--aud", &x.aud, &mut expect.aud);
        }
        take("--iss", &x.iss, &mut expect.iss);
        take("--require", &x.claims, &mut expect.require);
        // "Token has no id": the message names its one missing claim in words
        // (simplejwt's `jti`, @hapi/jwt's "Token missing payload aud value"),
        // the entry says which.
        if let ("missing-claim" | "audience-missing", [name]) = (
            m.entry.codes.first().map_or("", String::as_str),
            m.entry.claims.as_slice(),
        ) {
            take("--require", std::slice::from_ref(name), &mut expect.require);
        }
        take("--scope", &x.scopes, &mut expect.scopes);
        let algs: Vec<String> = x
            .alg
            .iter()
            .filter(|a| alg::Alg::from_name(a).is_some())
            .cloned()
            .collect();
        take("--alg", &algs, &mut expect.algs);
        // `jwt subject invalid. expected: svc-a`: the value of the one claim
        // the message is about.
        let names = if x.claims.is_empty() {
            &m.entry.claims
        } else {
            &x.claims
        };
        if let (Some(value), [name]) = (
            x.value.as_ref().or(m.entry.value.as_ref()),
            names.as_slice(),
        ) {
            if !expect.claims.iter().any(|(n, _)| n == name) {
                expect.claims.push((name.clone(), value.clone()));
                applied.push(format!("--claim {name}={value}"));
            }
        }
    }
    Ok(checks::errortext::ErrorText {
        text: Some(text),
        given: true,
        matches,
        applied,
    })
}

/// Key material from the flags, and the secrets in text form for scrubbing.
pub struct Gathered {
    pub keys: checks::Keys,
    pub secrets: Vec<SecretString>,
}

/// Most `--key` flags: each file may hold a JWK Set, and every key in it is
/// parsed; together they may hold [`keys::MAX_KEYS_IN_SET`] keys.
const MAX_KEY_FILES: usize = 100;

/// Secret files and env vars are read byte for byte: a trailing newline is a
/// finding (`secret-whitespace`), not something to silently fix.
const MAX_SECRET_BYTES: usize = 64 * 1024;

pub fn gather_keys(k: &KeyArgs) -> anyhow::Result<Gathered> {
    let mut candidates = Vec::new();
    let mut secrets = Vec::new();
    let mut add_secret = |bytes: Vec<u8>, label: String| {
        if let Ok(text) = std::str::from_utf8(&bytes) {
            secrets.push(SecretString::from(text.trim()));
            secrets.push(SecretString::from(text));
        }
        // Its decoded, unquoted, re-encoded forms: jwtai tries each, and
        // one that verifies is as secret as the flag's value.
        secrets.extend(
            checks::signature::secret_forms(&bytes)
                .into_iter()
                .map(SecretString::from),
        );
        // A PEM or JWK in the secret flag: node's jsonwebtoken takes the key
        // and the secret through one parameter, so JWT_SECRET often holds the
        // public key. It verifies RS/ES tokens, and HMAC with it is a forgery.
        let as_keys = secret_as_keys(&bytes, &label);
        let mut secret = keys::secret_candidate(bytes, label);
        secret.secret_is_key = as_keys
            .iter()
            .find(|c| !matches!(c.material, keys::KeyMaterial::Hmac(_)))
            .map(|c| c.material.describe() + " key");
        candidates.push(secret);
        candidates.extend(as_keys);
    };
    if let Some(s) = &k.secret {
        if s.expose_secret().is_empty() {
            bail!("--secret is empty");
        }
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
    if k.key.len() > MAX_KEY_FILES {
        bail!(
            "--key is given {} times; jwtai reads at most {MAX_KEY_FILES} key files (pass the server's key, or its JWK Set)",
            k.key.len()
        );
    }
    let mut file_problems = Vec::new();
    let mut from_files = 0;
    for path in &k.key {
        let text = path.to_string_lossy();
        if (text.starts_with("http://") || text.starts_with("https://")) && !path.exists() {
            bail!("--key takes a file; to fetch a JWK Set from {text}, pass --jwks-uri {text}");
        }
        let mut set = keys::load_key_file_with_problems(path)?;
        set.note_if_empty();
        from_files += set.keys.len();
        if from_files > keys::MAX_KEYS_IN_SET {
            bail!(
                "the --key files hold more than {} keys in all; jwtai reads at most {} (pass the server's key, or its JWK Set)",
                keys::MAX_KEYS_IN_SET,
                keys::MAX_KEYS_IN_SET
            );
        }
        candidates.extend(set.keys);
        file_problems.extend(
            set.problems
                .into_iter()
                .map(|p| (path.display().to_string(), p)),
        );
    }
    let attempted =
        !candidates.is_empty() || !k.key.is_empty() || k.jwks_uri.is_some() || k.discover;
    Ok(Gathered {
        keys: checks::Keys {
            candidates,
            attempted,
            file_problems,
            remote: Default::default(),
            unavailable: None,
        },
        secrets,
    })
}

/// The keys a secret's bytes hold when they are a PEM block or a JWK (an
/// `oct` JWK's `k` included), labelled by the flag they came from; none for
/// an ordinary secret.
fn secret_as_keys(bytes: &[u8], label: &str) -> Vec<keys::Candidate> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    if !(text.contains("-----BEGIN") || text.starts_with('{')) {
        return Vec::new();
    }
    let source = label.strip_prefix("the secret from ").unwrap_or(label);
    keys::parse_key_bytes(bytes, source)
        .map(|found| {
            found
                .into_iter()
                .filter(keys::Candidate::is_usable)
                .collect()
        })
        .unwrap_or_default()
}

/// `--jwks-uri` must be an http(s) URL with a host: anything else is a bad
/// flag value (exit 2), with the flag that takes what was given.
fn check_jwks_uri(uri: &str) -> anyhow::Result<()> {
    let parsed = reqwest::Url::parse(uri);
    let ok = parsed
        .as_ref()
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
    if ok {
        return Ok(());
    }
    let hint = if std::path::Path::new(uri).is_file() {
        format!(" `{uri}` is a file: pass it with --key {uri} (it reads JWK Sets, JWKs and PEM)")
    } else if let Ok(u) = parsed {
        format!(" (the scheme is `{}`)", u.scheme())
    } else {
        " (add the scheme, e.g. https://issuer.example.com/.well-known/jwks.json)".to_string()
    };
    bail!("invalid --jwks-uri {uri:?}: expected an http:// or https:// URL{hint}")
}

pub fn jwks_plan(k: &KeyArgs, expect: &Expectations) -> anyhow::Result<Option<jwks::Plan>> {
    if k.jwks_uri.is_none() && !k.discover {
        return Ok(None);
    }
    if let Some(uri) = &k.jwks_uri {
        check_jwks_uri(uri)?;
    }
    if !(k.timeout.is_finite() && k.timeout > 0.0 && k.timeout <= 3600.0) {
        bail!(
            "invalid --timeout {}: expected seconds above 0, at most 3600",
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
