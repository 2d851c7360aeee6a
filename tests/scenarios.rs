//! Diagnosis scenarios in the acceptance format (`tests/data/scenarios/cases.jsonl`,
//! the same shape as `../shared/acceptance/cases.jsonl`): one case per finding
//! code and a near miss for each, written from findings.md's wording, and
//! cases (`go-rt4-*`) recorded from real Go and Ruby libraries with their
//! exact error text, and (`py-rt5-*`, `node-rt5-*`) from djangorestframework-simplejwt,
//! flask-jwt-extended, express-oauth2-jwt-bearer, koa-jwt, jwt-decode and @nestjs/jwt, (`*-rt9-*`) from
//! NextAuth.js v4 / Auth.js v5 session cookies, passport-azure-ad, jwks-rsa, PyJWT 2.15, python-jose,
//! Authlib/joserfc and AuthX; run with the real binary, a temp dir for the case's files and a real HTTP server on
//! 127.0.0.1 for its routes.
//!
//! A case passes as the shared scorer says: the exit status, every `expect`
//! code, one code of each `accept_any` group, no `forbid` code, the
//! `detail_match` regexes, and none of `secrets` in stdout or stderr.

mod http_support;

use std::time::Duration;

use assert_cmd::Command;
use http_support::{BodyMode, Reply, Server};
use serde_json::Value;

const CASES: &str = include_str!("data/scenarios/cases.jsonl");

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Why `case` fails; empty when it passes.
fn run(case: &Value) -> Vec<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start();
    let base = server.base();
    let port = base.rsplit(':').next().unwrap_or_default().to_string();
    let subst = |s: &str| {
        s.replace("{dir}", &dir.path().to_string_lossy())
            .replace("{base}", &base)
            .replace("{port}", &port)
    };
    if let Some(files) = case["files"].as_object() {
        for (name, content) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, subst(content.as_str().unwrap_or_default())).expect("write");
        }
    }
    if let Some(routes) = case["http"].as_object() {
        for (path, r) in routes {
            let status = r["status"].as_u64().unwrap_or(200) as u16;
            let ctype = r["content_type"].as_str().unwrap_or("application/json");
            let mut reply = Reply::new(status, ctype, subst(r["body"].as_str().unwrap_or("")));
            if let Some(ms) = r["delay_ms"].as_u64() {
                reply = reply.delay(Duration::from_millis(ms));
            }
            if r["close"].as_bool() == Some(true) {
                reply = reply.mode(BodyMode::Close);
            }
            server.route(path, reply);
        }
    }
    let token = case["token"].as_str().unwrap_or_default();
    let mut cmd = Command::cargo_bin("jwtai").expect("the jwtai binary");
    cmd.current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env("JWTAI_CACHE_DIR", dir.path().join(".cache"))
        .env_remove("JWTAI_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .timeout(Duration::from_secs(30))
        .arg("diagnose");
    if case["stdin"].as_bool() == Some(true) {
        cmd.write_stdin(token.to_string());
    } else {
        cmd.arg(token);
    }
    cmd.args(strings(&case["args"]).iter().map(|a| subst(a)))
        .args(["--format", "json"]);
    if let Some(env) = case["env"].as_object() {
        for (k, v) in env {
            cmd.env(k, subst(v.as_str().unwrap_or_default()));
        }
    }
    let out = cmd.output().expect("run jwtai");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    let mut why = Vec::new();
    for s in strings(&case["secrets"]).iter().filter(|s| !s.is_empty()) {
        if stdout.contains(s.as_str()) || stderr.contains(s.as_str()) {
            why.push(format!("leaked a secret of {} chars", s.len()));
        }
    }
    let code = out.status.code().unwrap_or(-1);
    let exits: Vec<i64> = match &case["exit"] {
        Value::Array(a) => a.iter().filter_map(Value::as_i64).collect(),
        v => vec![v.as_i64().unwrap_or(1)],
    };
    if !exits.contains(&i64::from(code)) {
        why.push(format!("exit {code}, want {exits:?}"));
    }
    let Ok(report) = serde_json::from_str::<Value>(&stdout) else {
        why.push(format!(
            "stdout is not JSON; stderr: {}",
            stderr.lines().next().unwrap_or("")
        ));
        return why;
    };
    let findings = report["findings"].as_array().cloned().unwrap_or_default();
    let codes: Vec<&str> = findings.iter().filter_map(|f| f["code"].as_str()).collect();
    for want in strings(&case["expect"]) {
        if !codes.contains(&want.as_str()) {
            why.push(format!("missing {want} (got {codes:?})"));
        }
    }
    for group in case["accept_any"].as_array().into_iter().flatten() {
        let group = strings(group);
        if !group.iter().any(|c| codes.contains(&c.as_str())) {
            why.push(format!("none of {group:?} (got {codes:?})"));
        }
    }
    for no in strings(&case["forbid"]) {
        if codes.contains(&no.as_str()) {
            why.push(format!("forbidden {no}"));
        }
    }
    if let Some(matches) = case["detail_match"].as_object() {
        for (code, re) in matches {
            // Python's `re`, as the shared scorer uses: look-ahead included.
            let re = fancy_regex::Regex::new(re.as_str().unwrap_or_default()).expect("case regex");
            let hit = findings
                .iter()
                .filter(|f| f["code"] == code.as_str())
                .any(|f| {
                    ["title", "detail", "fix"].iter().any(|k| {
                        re.is_match(f[*k].as_str().unwrap_or_default())
                            .unwrap_or(false)
                    })
                });
            if !hit {
                why.push(format!("{code}: no title/detail/fix matches {re}"));
            }
        }
    }
    why
}

#[test]
fn every_scenario_is_diagnosed_as_findings_md_says() {
    let mut failures = Vec::new();
    let mut n = 0;
    for line in CASES.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).expect("a JSON case");
        n += 1;
        let why = run(&case);
        if !why.is_empty() {
            failures.push(format!("{}: {}", case["name"], why.join("; ")));
        }
    }
    assert!(n >= 200, "only {n} cases");
    assert!(
        failures.is_empty(),
        "{} of {n} cases fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
