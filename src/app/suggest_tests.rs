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
    if args.ai {
        // A bad --api-base is a bad flag value: exit 2 before anything is written.
        super::explain::settings(&args.model, super::timeout(args.keys.timeout)?, false)?;
    }
    let parsed = pipeline::parse(raw.expose_secret());
    if let Some(plan) = plan {
        if let Some(message) = crate::jwks::missing_issuer(&plan, &parsed.token) {
            bail!(message);
        }
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
        // Like a failed model call, an answer without usable code leaves the
        // generated tests as they are and does not change the exit status.
        match adapt_with_model(&args, &redacted, &suite, framework) {
            Ok(Adapted::Refused(why)) => eprintln!(
                "jwtai: --ai: {why}, so {} was not written; the generated tests are unchanged",
                ai_file_name(framework)
            ),
            Ok(Adapted::Code(name, code)) => {
                let path = dir.join(&name);
                write_file(&path, code.as_bytes(), false)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                if let Some(w) = written.as_mut() {
                    w.push(name);
                }
            }
            Err(e) => eprintln!(
                "jwtai: --ai failed, the generated tests are unchanged: {}",
                crate::redact::free_text(&format!("{e:#}"))
            ),
        }
    }
    let text = match args.format {
        ListFormat::Json => render::json(&suite),
        ListFormat::Human => render::human(&suite, args.out.as_deref().zip(written.as_deref())),
    };
    emit(&text)?;
    Ok(exit::OK)
}

/// What became of the model's answer.
enum Adapted {
    /// The file name and the code to write.
    Code(String, String),
    /// Why nothing is written.
    Refused(String),
}

/// The adapted file, next to the generated one, named so the framework's
/// runner collects it and it imports cleanly (`test_jwt_ai.py`, not
/// `test_jwt.ai.py`).
fn ai_file_name(f: Framework) -> &'static str {
    match f {
        Framework::Jest => "jwt_ai.test.js",
        Framework::Pytest => "test_jwt_ai.py",
        Framework::Go => "jwt_ai_test.go",
        Framework::Rust => "jwt_ai_test.rs",
    }
}

/// The framework's language: its name for people, and the fence tags it goes by.
fn language(f: Framework) -> (&'static str, &'static [&'static str]) {
    match f {
        Framework::Jest => (
            "JavaScript",
            &["javascript", "js", "jsx", "mjs", "cjs", "node", "nodejs"],
        ),
        Framework::Pytest => ("Python", &["python", "py", "python3"]),
        Framework::Go => ("Go", &["go", "golang"]),
        Framework::Rust => ("Rust", &["rust", "rs"]),
    }
}

/// Asks the model to adapt the rendered tests to `--context`; the code of
/// the answer's fenced block in the framework's language, or why there is none.
fn adapt_with_model(
    args: &SuggestTestsArgs,
    redacted: &crate::redact::Redacted,
    suite: &Suite,
    framework: Framework,
) -> anyhow::Result<Adapted> {
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
    let (lang, _) = language(framework);
    let messages = templates
        .tests(
            redacted,
            render::test_file_name(framework),
            &cases,
            &code,
            &context,
            lang,
            ai_file_name(framework),
        )
        .map_err(anyhow::Error::msg)?;
    let e = super::explain::run(
        &settings,
        redacted,
        &messages,
        super::explain::Show::Quiet,
        None,
    )?;
    if let Some(why) = &e.incomplete {
        return Ok(Adapted::Refused(format!(
            "the model's answer is incomplete ({why})"
        )));
    }
    let Some(adapted) = code_block(&e.text, framework) else {
        return Ok(Adapted::Refused(format!(
            "the model's answer holds no fenced {lang} code block"
        )));
    };
    if framework == Framework::Go {
        if let Err(why) = go_fits_beside(&adapted, &code, name) {
            return Ok(Adapted::Refused(why));
        }
    }
    Ok(Adapted::Code(
        ai_file_name(framework).to_string(),
        format!("{}\n", adapted.trim_end()),
    ))
}

/// Fenced blocks of Markdown: (the info string's first word, lowercased; body).
/// A block left open (a cut answer) is not a block.
fn fenced_blocks(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut open: Option<(String, &str, Vec<&str>)> = None;
    for line in text.lines() {
        let t = line.trim_start();
        match open.as_mut() {
            None => {
                for fence in ["```", "~~~"] {
                    if let Some(info) = t.strip_prefix(fence) {
                        let info = info.trim_start_matches(fence.chars().next().unwrap_or('`'));
                        let tag = info
                            .split(|c: char| c.is_whitespace() || c == '{' || c == ',')
                            .next()
                            .unwrap_or("")
                            .to_ascii_lowercase();
                        open = Some((tag, fence, Vec::new()));
                        break;
                    }
                }
            }
            Some((tag, fence, lines)) => {
                if t.starts_with(*fence)
                    && t.trim_start_matches(fence.chars().next().unwrap_or('`'))
                        .trim()
                        .is_empty()
                {
                    out.push((std::mem::take(tag), lines.join("\n")));
                    open = None;
                } else {
                    lines.push(line);
                }
            }
        }
    }
    out
}

/// The first block tagged with the framework's language; else the first
/// untagged block that plainly is that language. A block in another
/// language is never taken.
fn code_block(text: &str, framework: Framework) -> Option<String> {
    let (_, tags) = language(framework);
    let blocks = fenced_blocks(text);
    let has_line = |code: &str, starts: &[&str]| {
        code.lines()
            .any(|l| starts.iter().any(|s| l.trim_start().starts_with(s)))
    };
    let looks_like = |code: &str| match framework {
        Framework::Go => has_line(code, &["package "]),
        Framework::Rust => code.contains("#[test]"),
        Framework::Pytest => {
            has_line(code, &["def test"]) && !code.contains("=>") && !has_line(code, &["package "])
        }
        Framework::Jest => {
            (code.contains("test(") || code.contains("it(") || code.contains("describe("))
                && !has_line(code, &["def ", "package ", "fn "])
        }
    };
    blocks
        .iter()
        .find(|(tag, code)| tags.contains(&tag.as_str()) && !code.trim().is_empty())
        .or_else(|| {
            blocks
                .iter()
                .find(|(tag, code)| tag.is_empty() && looks_like(code))
        })
        .map(|(_, code)| code.clone())
}

/// Go compiles every `_test.go` file of a directory as one package: the
/// adapted file must declare the generated file's package and redeclare
/// none of its top-level names.
fn go_fits_beside(adapted: &str, generated: &str, generated_name: &str) -> Result<(), String> {
    let package = |code: &str| {
        code.lines()
            .find_map(|l| l.trim().strip_prefix("package "))
            .map(|p| p.trim().to_string())
    };
    let want = package(generated).unwrap_or_default();
    match package(adapted) {
        Some(p) if p == want => {}
        Some(p) => {
            return Err(format!(
                "the model's Go code is package {p}, not {want} like {generated_name}, so it would not compile beside it"
            ));
        }
        None => return Err("the model's Go code declares no package".to_string()),
    }
    let ours = go_top_level_names(generated);
    let clash: Vec<String> = go_top_level_names(adapted)
        .into_iter()
        .filter(|n| ours.contains(n))
        .collect();
    if clash.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the model's Go code redeclares {} of {generated_name}, so the package would not compile",
            clash.join(", ")
        ))
    }
}

/// Top-level functions (not methods), types, vars and consts of Go source.
fn go_top_level_names(code: &str) -> Vec<String> {
    let ident = |s: &str| -> Option<String> {
        let name: String = s
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        (!name.is_empty() && name != "_").then_some(name)
    };
    let mut names = Vec::new();
    let mut group = false;
    for line in code.lines() {
        if group {
            if line.starts_with(')') {
                group = false;
            } else if let Some(rest) = line
                .strip_prefix('\t')
                .or_else(|| line.strip_prefix("    "))
            {
                if !rest.starts_with([' ', '\t']) {
                    names.extend(ident(rest));
                }
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("func ") {
            if !rest.starts_with('(') {
                names.extend(ident(rest));
            }
        } else if let Some(rest) = ["var ", "const ", "type "]
            .iter()
            .find_map(|k| line.strip_prefix(k))
        {
            if rest.trim_start().starts_with('(') {
                group = true;
            } else {
                names.extend(ident(rest));
            }
        }
    }
    names
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
    // of the same name: only a directory jwtai wrote before is overwritten,
    // and in it only the files as jwtai wrote them (a test the team added to
    // the generated file is theirs).
    let ours = std::fs::read_to_string(dir.join(FIXTURES_FILE))
        .is_ok_and(|t| t.contains(crate::suggest::render::SCHEMA));
    let written = written_digests(dir);
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
    let edited: Vec<&str> = taken
        .iter()
        .copied()
        .filter(|name| {
            let recorded = written.iter().find(|(n, _)| n == name).map(|(_, d)| d);
            let now = std::fs::read(dir.join(name))
                .ok()
                .map(|b| crate::cachedir::key(&b));
            recorded.is_some_and(|r| now.as_ref() != Some(r))
        })
        .collect();
    if !edited.is_empty() && !force {
        bail!(
            "--out {}: {} changed since jwtai wrote {}; move the changes elsewhere or choose another directory, or pass --force to overwrite",
            dir.display(),
            edited.join(", "),
            if edited.len() == 1 { "it" } else { "them" }
        );
    }
    let mut names = Vec::new();
    let mut manifest = String::new();
    for (name, text, private) in files {
        let path = dir.join(name);
        write_file(&path, text.as_bytes(), private)
            .with_context(|| format!("cannot write {}", path.display()))?;
        manifest.push_str(&format!(
            "{}  {name}\n",
            crate::cachedir::key(text.as_bytes())
        ));
        names.push(name.to_string());
    }
    let path = dir.join(MANIFEST_FILE);
    write_file(&path, manifest.as_bytes(), false)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(names)
}

/// What jwtai wrote into an `--out` directory, as `sha256sum` prints it, so
/// that a rerun can tell the files the team has changed since.
const MANIFEST_FILE: &str = ".jwtai-written";

/// The recorded (file name, digest) pairs; none for a directory written
/// before there was a record.
fn written_digests(dir: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(dir.join(MANIFEST_FILE))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once("  "))
        .map(|(d, n)| (n.to_string(), d.to_string()))
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_in_the_frameworks_language_is_taken_another_is_not() {
        let t = "Here:\n```js\ntest('x', () => {});\n```\nand\n```python\ndef test_x():\n    pass\n```\n";
        assert_eq!(
            code_block(t, Framework::Pytest).as_deref(),
            Some("def test_x():\n    pass")
        );
        assert_eq!(
            code_block(t, Framework::Jest).as_deref(),
            Some("test('x', () => {});")
        );
        assert_eq!(code_block(t, Framework::Go), None);
        assert_eq!(code_block("no code at all", Framework::Pytest), None);
        assert_eq!(
            code_block("```python\ndef test_cut():\n", Framework::Pytest),
            None,
            "a block left open is cut"
        );
        assert_eq!(
            code_block("```\npackage jwtfixtures\n```", Framework::Go).as_deref(),
            Some("package jwtfixtures")
        );
        assert_eq!(
            code_block("```\ndef test_x(): pass\n```", Framework::Go),
            None
        );
    }

    #[test]
    fn go_code_must_fit_beside_the_generated_file() {
        let generated = "package jwtfixtures\n\ntype settings struct {\n}\n\nvar (\n\tkeyHeaders = 1\n)\n\nfunc verify() {}\n\nfunc TestFixtures(t *testing.T) {}\n";
        assert!(
            go_fits_beside(
                "package jwtfixtures\n\nfunc TestAIExpired(t *testing.T) { verify() }\n",
                generated,
                "jwt_test.go"
            )
            .is_ok()
        );
        let e = go_fits_beside(
            "package jwtfixtures\n\nfunc verify() {}\nvar keyHeaders = 2\n",
            generated,
            "jwt_test.go",
        )
        .unwrap_err();
        assert!(e.contains("verify, keyHeaders"), "{e}");
        let e = go_fits_beside("package main\n", generated, "jwt_test.go").unwrap_err();
        assert!(e.contains("package main"), "{e}");
    }
}
