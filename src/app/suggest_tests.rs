//! `jwtai suggest-tests`: flags → expectations and keys → the diagnosis of the
//! token → the test suite (cases, fixture tokens, throwaway keys) → a table or
//! JSON on stdout, and with `--out DIR` the fixture directory (fixtures, keys,
//! README, test code). No network code here: remote keys come through the same
//! path as `diagnose`.

use std::path::Path;

use anyhow::{Context as _, bail};
use secrecy::ExposeSecret;

use super::diagnose;
use super::emit;
use crate::cli::{Framework, ListFormat, SuggestTestsArgs};
use crate::suggest::fixtures::{
    FIXTURES_FILE, HMAC_SECRET_FILE, JWKS_FILE, PRIVATE_PEM_FILE, PUBLIC_PEM_FILE, README_FILE,
};
use crate::suggest::{self, Suite, render};
use crate::{exit, input, pipeline};

pub fn run(args: SuggestTestsArgs) -> anyhow::Result<u8> {
    let expect = diagnose::expectations(&args.expect)?;
    let mut keys = diagnose::gather_keys(&args.keys)?;
    let plan = diagnose::jwks_plan(&args.keys, &expect)?;
    let raw = input::read(&args.token)?;
    let parsed = pipeline::parse(raw.expose_secret());
    if let Some(plan) = plan {
        keys.keys
            .add_remote(crate::jwks::resolve_for(&plan, &parsed.token));
    }
    let report = pipeline::diagnose(&parsed, &expect, &keys.keys, &Default::default());
    let suite = suggest::suggest(&parsed.token, &expect, &report)?;
    let mut written = match &args.out {
        Some(dir) => Some(write_dir(dir, &suite, args.framework, args.force)?),
        None => None,
    };
    if let (true, Some(dir), Some(framework)) = (args.ai, &args.out, args.framework) {
        let mut scrub = pipeline::scrub_list(raw.expose_secret(), &parsed.token);
        scrub.extend(keys.secrets.iter().map(|s| s.expose_secret().to_string()));
        let policy = crate::redact::Policy::new(Vec::new(), Vec::new(), false, scrub);
        let redacted = crate::redact::redact(report, &policy);
        match adapt_with_model(&args, &redacted, &suite, framework) {
            Ok((name, code)) => {
                let path = dir.join(&name);
                write_file(&path, code.as_bytes(), false)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                if let Some(w) = written.as_mut() {
                    w.push(name);
                }
            }
            Err(e) => eprintln!("jwtai: --ai failed, the generated tests are unchanged: {e:#}"),
        }
    }
    let text = match args.format {
        ListFormat::Json => render::json(&suite),
        ListFormat::Human => render::human(&suite, args.out.as_deref().zip(written.as_deref())),
    };
    emit(&text)?;
    Ok(exit::OK)
}

/// Asks the model to adapt the rendered tests to `--context`; returns the file
/// name and the adapted code (the first fenced block of the answer).
fn adapt_with_model(
    args: &SuggestTestsArgs,
    redacted: &crate::redact::Redacted,
    suite: &Suite,
    framework: Framework,
) -> anyhow::Result<(String, String)> {
    let (name, code) = render::test_code(suite, framework).map_err(|e| anyhow::anyhow!("{e}"))?;
    let templates =
        crate::ai::Templates::load(args.model.prompts.as_deref()).map_err(anyhow::Error::msg)?;
    let settings = super::explain::settings(
        &args.model,
        super::timeout(args.keys.timeout)?,
        !args.keys.no_cache,
    )?;
    let context = redacted.text(args.context.as_deref().unwrap_or("(no description given)"));
    let doc = render::document(suite);
    let cases = doc.get("cases").cloned().unwrap_or_default();
    let messages = templates
        .tests(
            redacted,
            render::test_file_name(framework),
            &cases,
            &code,
            &context,
        )
        .map_err(anyhow::Error::msg)?;
    let e = super::explain::run(
        &settings,
        redacted,
        &messages,
        super::explain::Show::Quiet,
        None,
    )?;
    let adapted = fenced_block(&e.text).unwrap_or(&e.text).trim().to_string();
    let ai_name = match name.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}.ai.{ext}"),
        None => format!("{name}.ai"),
    };
    Ok((ai_name, format!("{adapted}\n")))
}

/// The body of the first ``` fenced block.
fn fenced_block(text: &str) -> Option<&str> {
    let start = text.find("```")?;
    let after = &text[start + 3..];
    let body_start = after.find('\n')? + 1;
    let body = &after[body_start..];
    let end = body.find("```").unwrap_or(body.len());
    Some(&body[..end])
}

/// Writes the fixture directory; returns the file names written.
fn write_dir(
    dir: &Path,
    suite: &Suite,
    framework: Option<Framework>,
    force: bool,
) -> anyhow::Result<Vec<String>> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create --out directory {}", dir.display()))?;
    let mut files: Vec<(&str, String, bool)> = vec![
        (FIXTURES_FILE, render::json(suite), false),
        (JWKS_FILE, suite.keys.jwks_text(), false),
    ];
    if let Some(pem) = &suite.keys.public_pem {
        files.push((PUBLIC_PEM_FILE, pem.clone(), false));
    }
    if let Some(pem) = &suite.keys.private_pem {
        files.push((PRIVATE_PEM_FILE, pem.clone(), true));
    }
    if let Some(secret) = &suite.keys.hmac_secret {
        files.push((HMAC_SECRET_FILE, secret.clone(), true));
    }
    files.push((README_FILE, render::readme(suite, framework), false));
    if let Some(f) = framework {
        let (name, code) = render::test_code(suite, f).map_err(|e| {
            anyhow::anyhow!(
                "cannot render the {name} test template: {e}",
                name = render::test_file_name(f)
            )
        })?;
        files.push((name, code, false));
    }
    // `--out .` in a repository would replace its README and a secret file
    // of the same name: only a directory jwtai wrote before is overwritten.
    let ours = std::fs::read_to_string(dir.join(FIXTURES_FILE))
        .is_ok_and(|t| t.contains(crate::suggest::render::SCHEMA));
    let taken: Vec<&str> = files
        .iter()
        .map(|(name, _, _)| *name)
        .filter(|name| dir.join(name).exists())
        .collect();
    if !taken.is_empty() && !ours && !force {
        bail!(
            "--out {} already holds {} that jwtai did not write; choose an empty directory (e.g. --out {}), or pass --force to overwrite",
            dir.display(),
            taken.join(", "),
            dir.join("jwt-tests").display()
        );
    }
    let mut names = Vec::new();
    for (name, text, private) in files {
        let path = dir.join(name);
        write_file(&path, text.as_bytes(), private)
            .with_context(|| format!("cannot write {}", path.display()))?;
        names.push(name.to_string());
    }
    Ok(names)
}

/// Key material is written readable by the owner only.
fn write_file(path: &Path, bytes: &[u8], private: bool) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(path)?;
    file.write_all(bytes)
}
