//! The suite as people and tools read it: a table on the terminal, JSON
//! (`jwtai.suggest-tests/v1`, also written as fixtures.json), a README for the
//! fixture directory, and test code rendered from the templates in
//! `prompts/tests/` (embedded; deterministic: the only time in them is the
//! fixture instant).

use std::fmt::Write;

use serde_json::{Value, json};

use super::fixtures::{
    FIXTURES_FILE, HMAC_SECRET_FILE, JWKS_FILE, PRIVATE_PEM_FILE, PUBLIC_PEM_FILE, README_FILE,
};
use super::{Case, Suite};
use crate::alg::Family;
use crate::cli::Framework;
use crate::clock;

pub const SCHEMA: &str = "jwtai.suggest-tests/v1";

const PYTEST: &str = include_str!("../../prompts/tests/test_jwt.py.j2");
const JEST: &str = include_str!("../../prompts/tests/jest.test.js.j2");
const GO: &str = include_str!("../../prompts/tests/jwt_test.go.j2");
const RUST: &str = include_str!("../../prompts/tests/jwt_test.rs.j2");

/// The file a framework's tests are written to.
pub fn test_file_name(f: Framework) -> &'static str {
    match f {
        Framework::Jest => "jwt.test.js",
        Framework::Pytest => "test_jwt.py",
        Framework::Go => "jwt_test.go",
        Framework::Rust => "jwt_test.rs",
    }
}

fn utc_z(ts: i64) -> String {
    clock::rfc3339(ts).unwrap_or_else(|| ts.to_string())
}

fn family(s: &Suite) -> &'static str {
    match s.alg.family() {
        Family::Hmac => "hmac",
        Family::Rsa | Family::RsaPss => "rsa",
        Family::Ecdsa => "ec",
        Family::EdDsa => "okp",
    }
}

/// "an RS256", "a PS256": the article as the name is read aloud.
fn article(s: &Suite) -> &'static str {
    if s.alg.name().starts_with('P') {
        "a"
    } else {
        "an"
    }
}

fn is_hmac(s: &Suite) -> bool {
    s.alg.family() == Family::Hmac
}

/// The key files a verifier of this suite loads.
fn key_files(s: &Suite) -> Value {
    if is_hmac(s) {
        json!({"hmac_secret": HMAC_SECRET_FILE})
    } else {
        json!({"jwks": JWKS_FILE, "public_pem": PUBLIC_PEM_FILE})
    }
}

fn case_value(c: &Case) -> Value {
    json!({
        "id": c.id,
        "title": c.title,
        "why": c.why,
        "expect": c.expect.outcome(),
        "code": c.expect.code(),
        "verify_at": c.verify_at,
        "verify_at_utc": utc_z(c.verify_at),
        "from_diagnosis": c.from_diagnosis,
        "notes": c.notes,
        "token": c.token,
    })
}

/// The suite as JSON: `--format json` and fixtures.json.
pub fn document(s: &Suite) -> Value {
    let v = &s.verifier;
    let claims: serde_json::Map<String, Value> = v
        .claims
        .iter()
        .map(|(k, val)| (k.clone(), json!(val)))
        .collect();
    json!({
        "schema": SCHEMA,
        "generator": concat!("jwtai ", env!("CARGO_PKG_VERSION"), " suggest-tests"),
        "now": s.now,
        "now_utc": utc_z(s.now),
        "alg": s.alg.name(),
        "verifier": {
            "algorithms": v.algorithms,
            "issuer": v.issuer,
            "audience": v.audience,
            "leeway": v.leeway,
            "required_claims": v.required_claims,
            "scopes": v.scopes,
            "claims": claims,
            "keys": key_files(s),
        },
        "keys": {
            "kid": s.keys.kid,
            "jwks": s.keys.jwks,
            "public_pem": s.keys.public_pem,
            "hmac_secret": s.keys.hmac_secret,
        },
        "cases": s.cases.iter().map(case_value).collect::<Vec<_>>(),
        "not_applicable": s.not_applicable.iter().map(|n| json!({"id": n.id, "title": n.title, "why": n.why})).collect::<Vec<_>>(),
        "notes": s.notes,
    })
}

pub fn json(s: &Suite) -> String {
    let mut out = serde_json::to_string_pretty(&document(s)).unwrap_or_else(|_| "{}".into());
    out.push('\n');
    out
}

fn expect_label(c: &Case) -> String {
    match c.expect.code() {
        None => "accept".into(),
        Some(code) => format!("reject: {code}"),
    }
}

fn settings_line(s: &Suite) -> String {
    let v = &s.verifier;
    let mut parts = vec![format!("algorithms {}", v.algorithms.join(", "))];
    if !v.issuer.is_empty() {
        parts.push(format!("issuer {}", v.issuer.join(" or ")));
    }
    if !v.audience.is_empty() {
        parts.push(format!("audience {}", v.audience.join(" or ")));
    }
    parts.push(format!("leeway {} s", v.leeway));
    if !v.required_claims.is_empty() {
        parts.push(format!("requires {}", v.required_claims.join(", ")));
    }
    if !v.scopes.is_empty() {
        parts.push(format!("scopes {}", v.scopes.join(" ")));
    }
    for (k, val) in &v.claims {
        parts.push(format!("{k} = {val}"));
    }
    parts.join(" · ")
}

/// The human table. `written` names the directory and files of `--out`.
pub fn human(s: &Suite, written: Option<(&std::path::Path, &[String])>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} test cases for {} {} verifier, fixtures made for {}",
        s.cases.len(),
        article(s),
        s.alg,
        clock::utc(s.now)
    );
    let _ = writeln!(out, "verifier: {}", settings_line(s));
    let _ = writeln!(out);
    let id_w = s
        .cases
        .iter()
        .map(|c| c.id.len() + 2)
        .max()
        .unwrap_or(4)
        .max(4);
    let ex_w = s
        .cases
        .iter()
        .map(|c| expect_label(c).len())
        .max()
        .unwrap_or(6)
        .max(6);
    let _ = writeln!(out, "  {:<id_w$}  {:<ex_w$}  WHAT", "CASE", "EXPECT");
    for c in &s.cases {
        let id = if c.from_diagnosis {
            format!("{} *", c.id)
        } else {
            c.id.clone()
        };
        let _ = writeln!(
            out,
            "  {id:<id_w$}  {:<ex_w$}  {}",
            expect_label(c),
            c.title
        );
    }
    if s.cases.iter().any(|c| c.from_diagnosis) {
        let _ = writeln!(out, "\n  * found by the diagnosis of your token");
    }
    if !s.not_applicable.is_empty() {
        let _ = writeln!(out, "\nNot applicable:");
        for n in &s.not_applicable {
            let _ = writeln!(out, "  {}: {}", n.id, n.why);
        }
    }
    if !s.notes.is_empty() {
        let _ = writeln!(out, "\nNotes:");
        for n in &s.notes {
            let _ = writeln!(out, "  - {n}");
        }
    }
    match written {
        Some((dir, files)) => {
            let _ = writeln!(out, "\nWrote {}: {}", dir.display(), files.join(", "));
        }
        None => {
            let _ = writeln!(
                out,
                "\nThe fixture tokens and keys are in --format json; --out DIR writes them (fixtures.json, jwks.json, keys, README), and --framework jest|pytest|go|rust adds test code."
            );
        }
    }
    out
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// README.md of the fixture directory.
pub fn readme(s: &Suite, framework: Option<Framework>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# JWT verifier test cases\n");
    let _ = writeln!(
        out,
        "Generated by `jwtai suggest-tests` for {} {} verifier. The fixtures are made for one fixed instant, **{}** (unix {}): verify each one at its `verify_at` time, not at the clock.\n",
        article(s),
        s.alg,
        clock::utc(s.now),
        s.now
    );
    let _ = writeln!(
        out,
        "The tokens mirror the structure of a real token (claim names, aud form, lifetime) with placeholder values; they were signed by keys generated for this run.\n"
    );
    let _ = writeln!(out, "## Files\n");
    let _ = writeln!(
        out,
        "- `{FIXTURES_FILE}`: the verifier settings and every case: fixture token, `verify_at`, expected outcome (`accept`, or `reject` with the jwtai finding code that explains it)."
    );
    if is_hmac(s) {
        let _ = writeln!(
            out,
            "- `{HMAC_SECRET_FILE}`: the throwaway HMAC secret (the file's bytes are the key, no trailing newline)."
        );
        let _ = writeln!(
            out,
            "- `{JWKS_FILE}`: the same secret as an `oct` JWK, for libraries that take JWKs. Never publish a real secret in a JWK Set."
        );
    } else {
        let _ = writeln!(
            out,
            "- `{JWKS_FILE}`: the throwaway public key as a JWK Set (kid `{}`).",
            s.keys.kid
        );
        let _ = writeln!(out, "- `{PUBLIC_PEM_FILE}`: the same public key, SPKI PEM.");
        let _ = writeln!(
            out,
            "- `{PRIVATE_PEM_FILE}`: the throwaway **private** key (PKCS#8), so you can mint more fixtures. It was generated for this run and protects nothing; never use it, or any key here, outside tests."
        );
    }
    if let Some(f) = framework {
        let _ = writeln!(
            out,
            "- `{}`: ready-to-run {} tests over these fixtures.",
            test_file_name(f),
            framework_name(f)
        );
    }
    let _ = writeln!(out, "\n## Verifier settings\n");
    let _ = writeln!(out, "{}\n", cell(&settings_line(s)));
    let _ = writeln!(out, "## Cases\n");
    let _ = writeln!(out, "| case | expect | what | why |");
    let _ = writeln!(out, "|---|---|---|---|");
    for c in &s.cases {
        let mut why = c.why.clone();
        for n in &c.notes {
            why.push(' ');
            why.push_str(n);
        }
        let id = if c.from_diagnosis {
            format!("`{}` (found in your token)", c.id)
        } else {
            format!("`{}`", c.id)
        };
        let _ = writeln!(
            out,
            "| {id} | {} | {} | {} |",
            expect_label(c),
            cell(&c.title),
            cell(&why)
        );
    }
    if !s.not_applicable.is_empty() {
        let _ = writeln!(out, "\n## Not applicable\n");
        for n in &s.not_applicable {
            let _ = writeln!(out, "- `{}`: {}", n.id, cell(&n.why));
        }
    }
    if !s.notes.is_empty() {
        let _ = writeln!(out, "\n## How the fixtures differ from your token\n");
        for n in &s.notes {
            let _ = writeln!(out, "- {n}");
        }
    }
    let _ = writeln!(out, "\n## Using the fixtures\n");
    let _ = writeln!(
        out,
        "Configure your verifier with the settings above and the key files, then for each case verify `token` with the clock at `verify_at` and compare with `expect`. Libraries without a clock option (PyJWT, the jsonwebtoken crate) need the time checks done against `verify_at` (the generated tests show how), or a frozen clock."
    );
    let _ = writeln!(out, "\n## Running generated tests\n");
    for f in [
        Framework::Pytest,
        Framework::Jest,
        Framework::Go,
        Framework::Rust,
    ] {
        let marker = if Some(f) == framework {
            " (written here)"
        } else {
            ""
        };
        let _ = writeln!(out, "- {}{marker}: {}", framework_name(f), how_to_run(f));
    }
    out
}

fn framework_name(f: Framework) -> &'static str {
    match f {
        Framework::Jest => "Jest",
        Framework::Pytest => "pytest",
        Framework::Go => "Go",
        Framework::Rust => "Rust",
    }
}

fn how_to_run(f: Framework) -> &'static str {
    match f {
        Framework::Pytest => {
            "`pip install \"PyJWT[crypto]\" pytest`, then `pytest -q` in this directory."
        }
        Framework::Jest => {
            "`npm install --save-dev jest jose@5`, then `npx jest` in this directory."
        }
        Framework::Go => {
            "`go mod init jwtfixtures && go get github.com/golang-jwt/jwt/v5`, then `go test ./...` in this directory."
        }
        Framework::Rust => {
            "copy this directory into `tests/` of a crate with dev-dependencies `jsonwebtoken = { version = \"10\", features = [\"rust_crypto\"] }` and `serde_json = \"1\"`, then `cargo test --test jwt_test` (or set JWT_FIXTURES_DIR to this directory)."
        }
    }
}

/// One line, no control characters: safe inside a code comment.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn template_context(s: &Suite, f: Framework) -> Value {
    let cases: Vec<Value> = s
        .cases
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "ident": c.id.replace('-', "_"),
                "title": one_line(&c.title),
                "expect": c.expect.outcome(),
                "code": c.expect.code(),
            })
        })
        .collect();
    json!({
        "alg": s.alg.name(),
        "family": family(s),
        "hmac": is_hmac(s),
        "now": s.now,
        "now_utc": utc_z(s.now),
        "file": test_file_name(f),
        "files": {
            "fixtures": FIXTURES_FILE,
            "jwks": JWKS_FILE,
            "public_pem": PUBLIC_PEM_FILE,
            "secret": HMAC_SECRET_FILE,
            "readme": README_FILE,
        },
        "cases": cases,
    })
}

/// Renders the test file for `f`: (file name, contents).
pub fn test_code(s: &Suite, f: Framework) -> Result<(&'static str, String), minijinja::Error> {
    let source = match f {
        Framework::Pytest => PYTEST,
        Framework::Jest => JEST,
        Framework::Go => GO,
        Framework::Rust => RUST,
    };
    let mut env = minijinja::Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()?,
    );
    let name = test_file_name(f);
    let template = env.template_from_named_str(name, source)?;
    let code = template.render(minijinja::Value::from(minijinja::value::Serde(
        template_context(s, f),
    )))?;
    Ok((name, code))
}
