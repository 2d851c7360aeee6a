//! The no-leak promise under faults (`redaction.md`): whatever fails — the
//! model endpoint, the JWKS endpoint, the disk, the command line — no byte
//! jwtai writes (stdout, stderr, cache files) and no request a test server
//! receives holds the token, its signature or payload, a secret, the API key,
//! private key material or unmasked personal data. `--reveal` may show claim
//! values on stdout, nowhere else. Cache entries are user-only (mode & 0o077
//! == 0). Every case runs twice: with `--debug`, and with `RUST_LOG=debug`.
//!
//! One fixture ([`no_leak_support::Fixture`]) carries all the sensitive
//! values; each test runs one family of commands and failure paths and
//! reports every leak it finds at once. `NO_LEAK_DUMP=1` prints each run's
//! exit status, stderr and stdout (with `--nocapture`) to review the paths taken.

#[path = "http_support/mod.rs"]
mod http_support;
mod no_leak_support;
#[path = "openai_support/mod.rs"]
mod openai_support;

use std::path::PathBuf;
use std::time::Duration;

use no_leak_support::{
    API_KEY, AUD, Cache, Debug, Echo, EchoServer, Fixture, Forbidden, NOW_ARG, Outcome, PII_EMAIL,
    PII_NAME, Run, SECRET, SECRET_VAR, WRONG_SECRET, run,
};

// ---------------------------------------------------------------- harness

/// One command line. `{OUT}` in an argument becomes a fresh directory whose
/// files are scanned too.
struct Case {
    name: String,
    args: Vec<String>,
    stdin: Option<Vec<u8>>,
}

fn case(name: &str, args: &[&str]) -> Case {
    Case {
        name: name.to_string(),
        args: args.iter().map(|s| s.to_string()).collect(),
        stdin: None,
    }
}

fn case_stdin(name: &str, args: &[&str], stdin: &str) -> Case {
    Case {
        stdin: Some(stdin.as_bytes().to_vec()),
        ..case(name, args)
    }
}

/// Runs every case under each cache condition, in both debug modes; returns
/// every problem found.
fn sweep(fx: &Fixture, cases: &[Case], caches: &[Cache]) -> Vec<String> {
    let mut problems = Vec::new();
    for c in cases {
        for &cache in caches {
            for debug in [Debug::Flag, Debug::Env] {
                let out_dir = tempfile::tempdir().expect("out dir");
                let out = out_dir.path().join("out");
                let mut scan_dirs = Vec::new();
                let args: Vec<String> = c
                    .args
                    .iter()
                    .map(|a| {
                        if a.contains("{OUT}") {
                            scan_dirs.push(out.clone());
                            a.replace("{OUT}", &out.display().to_string())
                        } else {
                            a.clone()
                        }
                    })
                    .collect();
                let o = run(&Run {
                    args: args.clone(),
                    stdin: c.stdin.clone(),
                    cache,
                    debug,
                    scan_dirs,
                    env: Vec::new(),
                });
                if matches!(cache, Cache::Full | Cache::IsFile) {
                    for e in o.cache_entries.iter().filter(|e| e.path != o.cache_root) {
                        if !e.is_dir && !e.bytes.is_empty() {
                            problems.push(format!(
                                "[{} | {cache:?}] the disk fault did not hold: {} was written",
                                c.name,
                                e.path.display()
                            ));
                        }
                    }
                }
                let reveal = args.iter().any(|a| a == "--reveal");
                let label = format!("[{} | {cache:?} | {debug:?}]", c.name);
                if std::env::var_os("NO_LEAK_DUMP").is_some() && debug == Debug::Flag {
                    eprintln!(
                        "=== {label} exit {:?}\n{}\n--- stdout\n{}",
                        o.code,
                        o.stderr_text(),
                        o.stdout_text()
                    );
                }
                problems.extend(check(&fx.forbidden, &o, reveal, &label));
            }
        }
    }
    problems
}

/// Every forbidden string in everything the run wrote; non-private cache
/// entries; a panic, or a panic message that carries more than its location.
fn check(f: &Forbidden, o: &Outcome, reveal: bool, label: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let mut report = |place: &str, hits: Vec<(String, String)>| {
        for (what, excerpt) in hits {
            problems.push(format!("{label} {what} in {place}: …{excerpt:?}…"));
        }
    };
    report("stdout", f.find_in(&o.stdout, reveal));
    report("stderr", f.find_in(&o.stderr, false));
    for e in o.cache_entries.iter().chain(&o.other_entries) {
        let place = e.path.display().to_string();
        report(
            &format!("the name of {place}"),
            f.find_in(place.as_bytes(), false),
        );
        report(&place, f.find_in(&e.bytes, false));
    }
    for e in &o.cache_entries {
        if e.mode & 0o077 != 0 {
            problems.push(format!(
                "{label} cache entry {} has mode {:o} (not user-only)",
                e.path.display(),
                e.mode
            ));
        }
    }
    let stderr = o.stderr_text();
    if o.code.is_none() {
        problems.push(format!("{label} killed by a signal; stderr: {stderr}"));
    }
    for bad in ["panicked", "RUST_BACKTRACE", "stack backtrace"] {
        if stderr.contains(bad) || o.stdout_text().contains(bad) {
            problems.push(format!("{label} output mentions {bad:?}: {stderr}"));
        }
    }
    for line in stderr.lines().filter(|l| l.contains("internal error")) {
        let ok = line.starts_with("jwtai: internal error at src/")
            && line.ends_with("; please report it (no token data is included in this message)");
        problems.push(format!(
            "{label} panicked{}: {line:?}",
            if ok {
                ""
            } else {
                " and the message carries data"
            }
        ));
    }
    problems
}

/// What the model endpoint received: the API key only in `Authorization`,
/// nothing else forbidden (claim values neither, `--reveal` or not).
fn check_model_requests(f: &Forbidden, raws: &[Vec<u8>], label: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, raw) in raws.iter().enumerate() {
        let text = String::from_utf8_lossy(raw);
        let mut auth = Vec::new();
        let without_auth: String = text
            .split("\r\n")
            .filter(|l| {
                let is_auth = l.to_ascii_lowercase().starts_with("authorization:");
                if is_auth {
                    auth.push(l.to_string());
                }
                !is_auth
            })
            .collect::<Vec<_>>()
            .join("\r\n");
        for (what, excerpt) in f.find_in(without_auth.as_bytes(), false) {
            problems.push(format!(
                "{label} {what} in model request #{i}: …{excerpt:?}…"
            ));
        }
        for a in auth {
            if a.split_once(':').map(|(_, v)| v.trim()) != Some(&format!("Bearer {API_KEY}")) {
                problems.push(format!("{label} unexpected Authorization header: {a:?}"));
            }
        }
    }
    problems
}

/// What the JWKS endpoint received: nothing forbidden, no credentials at all.
fn check_jwks_requests(f: &Forbidden, reqs: &[http_support::Request], label: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, r) in reqs.iter().enumerate() {
        let mut text = format!("{} {}\n", r.method, r.path);
        for (k, v) in &r.headers {
            text.push_str(&format!("{k}: {v}\n"));
            if k == "authorization" || k == "cookie" {
                problems.push(format!("{label} JWKS request #{i} sent {k}: {v:?}"));
            }
        }
        for (what, excerpt) in f.find_in(text.as_bytes(), false) {
            problems.push(format!(
                "{label} {what} in JWKS request #{i}: …{excerpt:?}…"
            ));
        }
    }
    problems
}

fn assert_clean(problems: Vec<String>) {
    assert!(
        problems.is_empty(),
        "{} leak(s) or fault(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Common diagnose arguments: judged at NOW against the expected audience.
fn diag<'a>(token: &'a str, more: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["diagnose", token, "--now", NOW_ARG, "--aud", AUD];
    v.extend_from_slice(more);
    v
}

fn view(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn fixture() -> Fixture {
    Fixture::new("https://auth.example.com/")
}

// ---------------------------------------------------------------- decode

#[test]
fn decode_never_leaks() {
    let fx = fixture();
    let rs_file = fx.arg("rs.jwt");
    let cases = vec![
        case("decode hs human", &["decode", &fx.hs, "--now", NOW_ARG]),
        case("decode hs json", &["decode", &fx.hs, "--format", "json"]),
        case(
            "decode hs markdown",
            &["decode", &fx.hs, "--format", "markdown"],
        ),
        case(
            "decode rs token-file",
            &["decode", "--token-file", &rs_file],
        ),
        case("decode hs reveal", &["decode", &fx.hs, "--reveal"]),
        case(
            "decode rs reveal json",
            &["decode", &fx.rs, "--reveal", "--format", "json"],
        ),
        case_stdin(
            "decode bearer stdin",
            &["decode", "-"],
            &format!("Bearer {}\n", fx.hs),
        ),
        case_stdin("decode curl stdin", &["decode"], &fx.curl()),
        case_stdin(
            "decode json body stdin",
            &["decode", "--format", "json"],
            &format!(
                r#"{{"access_token":"{}","refresh_token":"{}","token_type":"Bearer"}}"#,
                fx.hs, fx.rs
            ),
        ),
        case_stdin(
            "decode cookie stdin",
            &["decode"],
            &format!("Cookie: session={}; other=1\n", fx.rs),
        ),
    ];
    assert_clean(sweep(&fx, &cases, &[Cache::Fresh]));
}

// ---------------------------------------------------------------- diagnose, offline

#[test]
fn diagnose_offline_never_leaks() {
    let fx = fixture();
    let (secret, wrong, newline) = (
        fx.arg("secret.txt"),
        fx.arg("wrong-secret.txt"),
        fx.arg("secret-newline.txt"),
    );
    let (pem, public, jwks, oct, broken) = (
        fx.arg("rsa-private.pem"),
        fx.arg("rsa-public.pem"),
        fx.arg("jwks.json"),
        fx.arg("jwk-oct.json"),
        fx.arg("rsa-private-broken.pem"),
    );
    let (hs, rs) = (fx.hs.as_str(), fx.rs.as_str());
    let error_file = fx.arg("error.txt");
    let error_with_token = format!("JsonWebTokenError: invalid signature for token {hs}");
    let aud_is_token = format!("jwt audience invalid. expected: {hs}");
    let error_with_secret = format!(
        "JsonWebTokenError: invalid signature (secret {SECRET}) for {PII_EMAIL}, {PII_NAME}"
    );
    let mut cases = Vec::new();
    for format in ["human", "json", "markdown"] {
        cases.push(case(
            &format!("secret-file {format}"),
            &diag(hs, &["--secret-file", &secret, "--format", format]),
        ));
        cases.push(case(
            &format!("all secrets {format}"),
            &diag(
                hs,
                &[
                    "--secret",
                    SECRET,
                    "--secret-env",
                    SECRET_VAR,
                    "--secret-file",
                    &secret,
                    "--format",
                    format,
                ],
            ),
        ));
        cases.push(case(
            &format!("wrong secret {format}"),
            &diag(
                hs,
                &[
                    "--secret-file",
                    &wrong,
                    "--secret",
                    WRONG_SECRET,
                    "--format",
                    format,
                ],
            ),
        ));
        cases.push(case(
            &format!("rs private key {format}"),
            &diag(rs, &["--key", &pem, "--format", format]),
        ));
        cases.push(case(
            &format!("error text holds the token {format}"),
            &diag(
                hs,
                &[
                    "--secret-file",
                    &secret,
                    "--error",
                    &error_with_token,
                    "--format",
                    format,
                ],
            ),
        ));
    }
    cases.extend([
        case("secret-env", &diag(hs, &["--secret-env", SECRET_VAR])),
        case("secret arg", &diag(hs, &["--secret", SECRET])),
        case(
            "secret with newline",
            &diag(hs, &["--secret-file", &newline, "--format", "json"]),
        ),
        case(
            "reveal with secret",
            &diag(
                hs,
                &["--secret-file", &secret, "--reveal", "--format", "json"],
            ),
        ),
        case(
            "reveal markdown",
            &diag(rs, &["--key", &pem, "--reveal", "--format", "markdown"]),
        ),
        case(
            "rs public + jwks + oct",
            &diag(rs, &["--key", &public, "--key", &jwks, "--key", &oct]),
        ),
        case(
            "hs with oct jwk",
            &diag(hs, &["--key", &oct, "--format", "json"]),
        ),
        case(
            "hs with rsa public (confusion)",
            &diag(hs, &["--key", &public, "--key", &pem]),
        ),
        case(
            "rs with the secret",
            &diag(rs, &["--secret-file", &secret, "--format", "json"]),
        ),
        case("broken private pem", &diag(rs, &["--key", &broken])),
        case("secret file as a key", &diag(hs, &["--key", &secret])),
        case(
            "token file as a key",
            &diag(hs, &["--key", &fx.arg("hs.jwt")]),
        ),
        case(
            "error expects the token as audience",
            &[
                "diagnose",
                hs,
                "--now",
                NOW_ARG,
                "--error",
                &aud_is_token,
                "--format",
                "json",
            ],
        ),
        case(
            "error holds secret and pii",
            &diag(
                hs,
                &["--secret-file", &secret, "--error", &error_with_secret],
            ),
        ),
        case(
            "error file",
            &diag(hs, &["--secret-file", &secret, "--error-file", &error_file]),
        ),
        case(
            "token as the secret",
            &diag(hs, &["--secret", hs, "--format", "json"]),
        ),
        case(
            "secret as the token",
            &["diagnose", SECRET, "--now", NOW_ARG],
        ),
        case(
            "secret as the token, json",
            &[
                "diagnose",
                SECRET,
                "--secret-file",
                &secret,
                "--format",
                "json",
            ],
        ),
        case_stdin(
            "curl on stdin",
            &["diagnose", "--now", NOW_ARG, "--secret-file", &secret],
            &fx.curl(),
        ),
        case_stdin(
            "bearer twice on stdin",
            &["diagnose", "-", "--now", NOW_ARG, "--format", "json"],
            &format!("Authorization: Bearer Bearer {hs}"),
        ),
        case(
            "expectations",
            &diag(
                hs,
                &[
                    "--iss",
                    "https://other.example.com/",
                    "--alg",
                    "RS256",
                    "--require",
                    "azp",
                    "--scope",
                    "write:orders",
                    "--claim",
                    "email=someone@example.net",
                    "--leeway",
                    "30",
                ],
            ),
        ),
    ]);
    assert_clean(sweep(&fx, &cases, &[Cache::Fresh]));
}

// ---------------------------------------------------------------- JWKS endpoint faults

fn jwks_server(fx_jwks: &serde_json::Value) -> http_support::Server {
    use http_support::{BodyMode, Reply};
    let s = http_support::Server::start();
    let body = fx_jwks.to_string();
    s.route(
        "/jwks",
        Reply::json(fx_jwks).header("Cache-Control", "max-age=600"),
    );
    s.route(
        "/404",
        Reply::new(404, "text/html", "<html><h1>Not Found</h1></html>"),
    );
    s.route(
        "/html",
        Reply::new(
            200,
            "text/html",
            "<!doctype html><html><body>Sign in</body></html>",
        ),
    );
    s.route(
        "/cut",
        Reply::new(200, "application/json", body.clone()).mode(BodyMode::CutAfter(40)),
    );
    s.route("/slow", Reply::json(fx_jwks).delay(Duration::from_secs(3)));
    s.route(
        "/stall",
        Reply::new(200, "application/json", body)
            .mode(BodyMode::StallAfter(30, Duration::from_secs(3))),
    );
    s
}

#[test]
fn jwks_endpoint_faults_never_leak() {
    // The token's issuer is this server: --discover finds the set through it.
    let server = http_support::Server::start();
    let fx = Fixture::new(&server.base());
    let jwks_routes = jwks_server(&fx.jwks);
    server.route(
        "/.well-known/openid-configuration",
        http_support::Reply::json(&serde_json::json!({
            "issuer": server.base(),
            "jwks_uri": jwks_routes.url("/jwks"),
        })),
    );
    let secret = fx.arg("secret.txt");
    let dead = format!("http://127.0.0.1:{}/jwks", http_support::dead_port());
    let mut cases = Vec::new();
    for path in ["/jwks", "/404", "/html", "/cut", "/slow", "/stall"] {
        let url = jwks_routes.url(path);
        for format in ["human", "json"] {
            cases.push(case(
                &format!("rs --jwks-uri {path} {format}"),
                &diag(
                    &fx.rs,
                    &["--jwks-uri", &url, "--timeout", "1", "--format", format],
                ),
            ));
        }
        cases.push(case(
            &format!("hs --jwks-uri {path} with secret"),
            &diag(
                &fx.hs,
                &[
                    "--jwks-uri",
                    &url,
                    "--timeout",
                    "1",
                    "--secret-file",
                    &secret,
                ],
            ),
        ));
        cases.push(case(
            &format!("jwks {path}"),
            &["jwks", &url, "--timeout", "1"],
        ));
    }
    cases.extend([
        case(
            "rs --jwks-uri refused",
            &diag(&fx.rs, &["--jwks-uri", &dead, "--format", "json"]),
        ),
        case("jwks refused", &["jwks", &dead, "--format", "json"]),
        case(
            "rs --discover",
            &diag(&fx.rs, &["--discover", "--timeout", "1"]),
        ),
        case(
            "rs --discover json reveal",
            &diag(
                &fx.rs,
                &[
                    "--discover",
                    "--timeout",
                    "1",
                    "--format",
                    "json",
                    "--reveal",
                ],
            ),
        ),
    ]);
    let mut problems = sweep(&fx, &cases, &[Cache::Fresh]);
    problems.extend(check_jwks_requests(
        &fx.forbidden,
        &server.requests(),
        "[discovery server]",
    ));
    problems.extend(check_jwks_requests(
        &fx.forbidden,
        &jwks_routes.requests(),
        "[jwks server]",
    ));
    assert_clean(problems);
}

#[test]
fn discovery_faults_never_leak() {
    use http_support::{BodyMode, Reply};
    let server = http_support::Server::start();
    let fx = Fixture::new(&server.base());
    let doc = "/.well-known/openid-configuration";
    let mut problems = Vec::new();
    for (name, reply) in [
        (
            "500 html",
            Reply::new(500, "text/html", "<html>Internal Server Error</html>"),
        ),
        (
            "not json",
            Reply::new(200, "application/json", "{\"issuer\": "),
        ),
        (
            "cut",
            Reply::new(
                200,
                "application/json",
                "{\"issuer\": \"x\", \"jwks_uri\": \"http://127.0.0.1:1/jwks\"}",
            )
            .mode(BodyMode::CutAfter(12)),
        ),
        (
            "slow",
            Reply::new(200, "application/json", "{}").delay(Duration::from_secs(3)),
        ),
        (
            "jwks_uri refused",
            Reply::json(&serde_json::json!({
                "issuer": server.base(),
                "jwks_uri": format!("http://127.0.0.1:{}/jwks", http_support::dead_port()),
            })),
        ),
    ] {
        server.route(doc, reply);
        let cases = vec![case(
            &format!("--discover {name}"),
            &diag(
                &fx.rs,
                &["--discover", "--timeout", "1", "--format", "json"],
            ),
        )];
        problems.extend(sweep(&fx, &cases, &[Cache::Fresh]));
    }
    problems.extend(check_jwks_requests(
        &fx.forbidden,
        &server.requests(),
        "[discovery server]",
    ));
    assert_clean(problems);
}

// ---------------------------------------------------------------- model endpoint faults

fn explain_args<'a>(
    fx: &'a Fixture,
    secret: &'a str,
    base: &'a str,
    more: &[&'a str],
) -> Vec<&'a str> {
    let mut v = diag(
        &fx.hs,
        &[
            "--secret-file",
            secret,
            "--explain",
            "--api-base",
            base,
            "--model",
            "fake-model",
        ],
    );
    v.extend_from_slice(more);
    v
}

#[test]
fn model_endpoint_faults_never_leak() {
    use openai_support::{OpenAiServer, Reply};
    let fx = fixture();
    let secret = fx.arg("secret.txt");
    let answer = "The token expired an hour ago (`expired`): refresh it before `exp`.";
    let scripted: Vec<(&str, Vec<Reply>, Vec<&str>)> = vec![
        (
            "401",
            vec![Reply::error(
                401,
                &format!("Incorrect API key provided: {API_KEY}."),
                "invalid_request_error",
                Some("invalid_api_key"),
            )],
            vec![],
        ),
        ("429 x3", vec![Reply::RetryAfter(0)], vec![]),
        (
            "500",
            vec![Reply::error(500, "boom", "server_error", None)],
            vec![],
        ),
        (
            "404 model",
            vec![Reply::error(
                404,
                "The model does not exist",
                "invalid_request_error",
                Some("model_not_found"),
            )],
            vec![],
        ),
        (
            "malformed json",
            vec![Reply::Malformed("{\"choices\": [ {\"message\": ".into())],
            vec!["--no-stream"],
        ),
        (
            "malformed json streaming",
            vec![Reply::Malformed("{\"choices\": [".into())],
            vec![],
        ),
        ("empty answer", vec![Reply::answer("")], vec![]),
        (
            "timeout",
            vec![Reply::answer(answer).delayed(Duration::from_secs(3))],
            vec!["--timeout", "1"],
        ),
        (
            "stall mid-stream",
            vec![Reply::SseThenStall(
                vec!["The token ".into()],
                Duration::from_secs(3),
            )],
            vec!["--timeout", "1"],
        ),
        ("success streaming", vec![Reply::answer(answer)], vec![]),
        (
            "success no-stream",
            vec![Reply::answer(answer)],
            vec!["--no-stream"],
        ),
        (
            "success json",
            vec![Reply::answer(answer)],
            vec!["--format", "json"],
        ),
        (
            "success markdown reveal",
            vec![Reply::answer(answer)],
            vec!["--format", "markdown", "--reveal"],
        ),
        (
            "success reveal",
            vec![Reply::answer(answer)],
            vec!["--reveal"],
        ),
    ];
    let mut problems = Vec::new();
    for (name, script, more) in scripted {
        let server = OpenAiServer::start(script);
        let base = server.base();
        let mut cases = vec![case(
            &format!("explain {name}"),
            &explain_args(&fx, &secret, &base, &more),
        )];
        if !more.contains(&"--format") {
            cases.push(case(
                &format!("explain {name} json"),
                &explain_args(
                    &fx,
                    &secret,
                    &base,
                    &[&more[..], &["--format", "json"]].concat(),
                ),
            ));
        }
        problems.extend(sweep(&fx, &cases, &[Cache::Fresh]));
        let raws: Vec<Vec<u8>> = server.requests().into_iter().map(|r| r.raw).collect();
        problems.extend(check_model_requests(
            &fx.forbidden,
            &raws,
            &format!("[model {name}]"),
        ));
    }
    // Refused, and a dry run that must send nothing.
    let dead = openai_support::dead_port_base();
    let server = OpenAiServer::answering(answer);
    let base = server.base();
    let error_with_token = format!("invalid token {} for {PII_EMAIL}", fx.hs);
    let cases = vec![
        case("explain refused", &explain_args(&fx, &secret, &dead, &[])),
        case(
            "explain refused json",
            &explain_args(&fx, &secret, &dead, &["--format", "json"]),
        ),
        case(
            "show-prompt",
            &explain_args(&fx, &secret, &base, &["--show-prompt"]),
        ),
        case(
            "show-prompt with error text",
            &explain_args(
                &fx,
                &secret,
                &base,
                &["--show-prompt", "--error", &error_with_token, "--reveal"],
            ),
        ),
        case(
            "explain with error text",
            &explain_args(
                &fx,
                &secret,
                &base,
                &["--error", &error_with_token, "--reveal"],
            ),
        ),
    ];
    problems.extend(sweep(&fx, &cases, &[Cache::Fresh]));
    let raws: Vec<Vec<u8>> = server.requests().into_iter().map(|r| r.raw).collect();
    problems.extend(check_model_requests(
        &fx.forbidden,
        &raws,
        "[model success server]",
    ));
    assert_clean(problems);
}

/// Runs `explain` against an echoing endpoint in each mode; every problem found.
fn echo_sweep(fx: &Fixture, modes: &[(&str, Echo)]) -> Vec<String> {
    let secret = fx.arg("secret.txt");
    let mut problems = Vec::new();
    for &(name, mode) in modes {
        let server = EchoServer::start(mode);
        let base = server.base();
        let cases = vec![
            case(
                &format!("echo {name}"),
                &explain_args(fx, &secret, &base, &[]),
            ),
            case(
                &format!("echo {name} no-stream"),
                &explain_args(fx, &secret, &base, &["--no-stream"]),
            ),
            case(
                &format!("echo {name} json"),
                &explain_args(fx, &secret, &base, &["--format", "json"]),
            ),
        ];
        problems.extend(sweep(fx, &cases, &[Cache::Fresh]));
        problems.extend(check_model_requests(
            &fx.forbidden,
            &server.requests(),
            &format!("[echo {name}]"),
        ));
    }
    problems
}

/// A gateway whose broken answer repeats the request it got (headers with
/// the API key, and the body): the parse error must not quote it.
#[test]
fn model_endpoint_echoing_the_request_in_a_broken_answer_never_leaks() {
    let fx = fixture();
    assert_clean(echo_sweep(
        &fx,
        &[("bad json", Echo::BadJson), ("bad sse", Echo::BadSse)],
    ));
}

/// A gateway whose HTTP error repeats the request it got, `Authorization`
/// header first. jwtai prints the first 200 characters of the error body on
/// stderr (`AiError::Server` / `AiError::Http` carry `short(message)` as is,
/// and `diagnose` prints `--explain failed: {e}` without redaction), so the
/// API key from `JWTAI_API_KEY` reaches the terminal or CI log.
#[test]
fn model_endpoint_echoing_the_request_in_an_error_never_leaks() {
    let fx = fixture();
    assert_clean(echo_sweep(
        &fx,
        &[
            ("500", Echo::Error(500)),
            ("400", Echo::Error(400)),
            ("502", Echo::Error(502)),
        ],
    ));
}

/// Same fault through `suggest-tests --ai`: `--ai failed, ...: {e:#}`.
#[test]
fn suggest_tests_ai_echoing_endpoint_never_leaks() {
    let fx = fixture();
    let secret = fx.arg("secret.txt");
    let echo = EchoServer::start(Echo::Error(500));
    let base = echo.base();
    let cases = vec![case(
        "suggest --ai echo 500",
        &[
            "suggest-tests",
            &fx.hs,
            "--now",
            NOW_ARG,
            "--secret-file",
            &secret,
            "--out",
            "{OUT}",
            "--framework",
            "rust",
            "--ai",
            "--api-base",
            &base,
            "--model",
            "fake-model",
        ],
    )];
    let mut problems = sweep(&fx, &cases, &[Cache::Fresh]);
    problems.extend(check_model_requests(
        &fx.forbidden,
        &echo.requests(),
        "[suggest echo]",
    ));
    assert_clean(problems);
}

// ---------------------------------------------------------------- suggest-tests

#[test]
fn suggest_tests_never_leaks() {
    use openai_support::{OpenAiServer, Reply};
    let fx = fixture();
    let secret = fx.arg("secret.txt");
    let pem = fx.arg("rsa-private.pem");
    let good = OpenAiServer::answering("```python\ndef test_expired():\n    assert True\n```\n");
    let failing = OpenAiServer::start(vec![Reply::error(500, "boom", "server_error", None)]);
    let context = format!(
        "express-jwt; token {} for {PII_EMAIL}; secret {SECRET}",
        fx.hs
    );
    let (gb, fb) = (good.base(), failing.base());
    let st = |name: &str, token: &str, more: &[&str]| {
        let mut v = vec!["suggest-tests", token, "--now", NOW_ARG, "--aud", AUD];
        v.extend_from_slice(more);
        case(name, &v)
    };
    let ai = |base: &str, framework: &str| -> Vec<String> {
        [
            "--secret-file",
            &secret,
            "--out",
            "{OUT}",
            "--framework",
            framework,
            "--ai",
            "--context",
            &context,
            "--api-base",
            base,
            "--model",
            "fake-model",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let (ai_good, ai_fail) = (ai(&gb, "go"), ai(&fb, "rust"));
    let cases = vec![
        st("suggest hs human", &fx.hs, &["--secret-file", &secret]),
        st(
            "suggest hs json",
            &fx.hs,
            &["--secret-file", &secret, "--format", "json"],
        ),
        st(
            "suggest rs out jest",
            &fx.rs,
            &["--key", &pem, "--out", "{OUT}", "--framework", "jest"],
        ),
        st(
            "suggest hs out pytest",
            &fx.hs,
            &[
                "--secret",
                SECRET,
                "--out",
                "{OUT}",
                "--framework",
                "pytest",
            ],
        ),
        st("suggest --ai success", &fx.hs, &view(&ai_good)),
        st("suggest --ai 500", &fx.hs, &view(&ai_fail)),
        st(
            "suggest --out is a file",
            &fx.hs,
            &["--secret-file", &secret, "--out", &secret],
        ),
    ];
    let mut problems = sweep(&fx, &cases, &[Cache::Fresh]);
    for (name, s) in [("good", &good), ("failing", &failing)] {
        let raws: Vec<Vec<u8>> = s.requests().into_iter().map(|r| r.raw).collect();
        problems.extend(check_model_requests(
            &fx.forbidden,
            &raws,
            &format!("[suggest model {name}]"),
        ));
    }
    assert_clean(problems);
}

// ---------------------------------------------------------------- jwks on files

#[test]
fn jwks_command_on_files_never_leaks() {
    let fx = fixture();
    let mut cases = Vec::new();
    for file in [
        "jwks.json",
        "rsa-private.pem",
        "rsa-private-broken.pem",
        "jwk-oct.json",
        "secret.txt",
        "hs.jwt",
        "error.txt",
    ] {
        let path = fx.arg(file);
        cases.push(case(&format!("jwks {file}"), &["jwks", &path]));
        cases.push(case(
            &format!("jwks {file} json"),
            &["jwks", &path, "--format", "json"],
        ));
    }
    assert_clean(sweep(&fx, &cases, &[Cache::Fresh]));
}

// ---------------------------------------------------------------- usage errors

#[test]
fn usage_errors_never_echo_credentials() {
    let fx = fixture();
    let (hs, rs) = (fx.hs.as_str(), fx.rs.as_str());
    let secret = fx.arg("secret.txt");
    let dir_as_file = fx.dir.path().display().to_string();
    let unreadable = fx.write("unreadable.jwt", hs.as_bytes());
    std::fs::set_permissions(
        &unreadable,
        std::os::unix::fs::PermissionsExt::from_mode(0o000),
    )
    .expect("chmod 000");
    let unreadable = unreadable.display().to_string();
    let missing: PathBuf = fx.path("no-such-dir").join(hs);
    let missing = missing.display().to_string();
    let cases = vec![
        case("token twice", &["diagnose", hs, hs]),
        case("two tokens", &["diagnose", hs, rs, "--now", NOW_ARG]),
        case("decode token twice", &["decode", hs, rs]),
        case(
            "secret then unknown flag",
            &["diagnose", hs, "--secret", SECRET, "--bogus"],
        ),
        case(
            "unknown flag then secret",
            &["diagnose", "--bogus", SECRET, hs],
        ),
        case("secret as a second positional", &["diagnose", hs, SECRET]),
        case(
            "secret where a flag goes",
            &["diagnose", hs, SECRET, "--secret-file", &secret],
        ),
        case(
            "token-file and token",
            &["diagnose", "--token-file", &secret, hs],
        ),
        case("secret as --format", &["diagnose", hs, "--format", SECRET]),
        case("token as --format", &["decode", hs, "--format", rs]),
        case(
            "secret as --timeout",
            &[
                "diagnose",
                hs,
                "--timeout",
                SECRET,
                "--jwks-uri",
                "http://127.0.0.1:9/",
            ],
        ),
        case("token as --leeway", &["diagnose", hs, "--leeway", rs]),
        case("secret as --now", &["diagnose", hs, "--now", SECRET]),
        case("token as --now", &["decode", hs, "--now", rs]),
        case("secret as --claim", &["diagnose", hs, "--claim", SECRET]),
        case("secret as --alg", &["diagnose", hs, "--alg", SECRET]),
        case(
            "secret value given to --secret-env",
            &["diagnose", hs, "--secret-env", SECRET],
        ),
        case(
            "secret value given to --secret-file",
            &["diagnose", hs, "--secret-file", SECRET],
        ),
        case(
            "token given to --token-file",
            &["diagnose", "--token-file", hs],
        ),
        case("token given to --key", &["diagnose", rs, "--key", rs]),
        case(
            "token given to --error-file",
            &["diagnose", hs, "--error-file", rs],
        ),
        case(
            "token given to --jwks-uri",
            &["diagnose", rs, "--jwks-uri", rs],
        ),
        case(
            "token given to --api-base",
            &["diagnose", hs, "--explain", "--api-base", rs],
        ),
        case(
            "token given to --prompts",
            &["diagnose", hs, "--show-prompt", "--prompts", rs],
        ),
        case("jwks given the token", &["jwks", hs]),
        case("jwks given the secret", &["jwks", SECRET]),
        case("explain-code given the token", &["explain-code", hs]),
        case("explain-code given the secret", &["explain-code", SECRET]),
        case(
            "token-file is a directory",
            &["diagnose", "--token-file", &dir_as_file],
        ),
        case(
            "token-file unreadable",
            &["diagnose", "--token-file", &unreadable, "--secret", SECRET],
        ),
        case(
            "token-file under a missing dir",
            &["decode", "--token-file", &missing],
        ),
        case("empty secret", &["diagnose", hs, "--secret", ""]),
        case(
            "interactive without a terminal",
            &["diagnose", hs, "--explain", "-i", "--secret", SECRET],
        ),
        case(
            "--ai without --framework",
            &["suggest-tests", hs, "--ai", "--secret", SECRET],
        ),
        case("--secret missing its value", &["diagnose", hs, "--secret"]),
        case("subcommand typo", &["diagnoze", hs, "--secret", SECRET]),
        case("token as the subcommand", &[hs]),
    ];
    assert_clean(sweep(&fx, &cases, &[Cache::Fresh]));
}

// ---------------------------------------------------------------- disk faults

#[test]
fn cache_dir_faults_never_leak() {
    use openai_support::OpenAiServer;
    let fx = fixture();
    let secret = fx.arg("secret.txt");
    let model = OpenAiServer::answering("Refresh the token before `exp` (`expired`).");
    let jwks = jwks_server(&fx.jwks);
    let (base, jwks_url) = (model.base(), jwks.url("/jwks"));
    let cases = vec![
        case("decode", &["decode", &fx.hs, "--reveal"]),
        case(
            "diagnose jwks",
            &diag(&fx.rs, &["--jwks-uri", &jwks_url, "--format", "json"]),
        ),
        case("diagnose explain", &explain_args(&fx, &secret, &base, &[])),
        case(
            "diagnose explain json",
            &explain_args(&fx, &secret, &base, &["--format", "json"]),
        ),
        case("jwks url", &["jwks", &jwks_url]),
        case(
            "suggest-tests out",
            &[
                "suggest-tests",
                &fx.hs,
                "--secret-file",
                &secret,
                "--now",
                NOW_ARG,
                "--out",
                "{OUT}",
                "--framework",
                "jest",
            ],
        ),
    ];
    let mut problems = sweep(
        &fx,
        &cases,
        &[
            Cache::Fresh,
            Cache::Default,
            Cache::ReadOnly,
            Cache::IsFile,
            Cache::Full,
        ],
    );
    let raws: Vec<Vec<u8>> = model.requests().into_iter().map(|r| r.raw).collect();
    problems.extend(check_model_requests(&fx.forbidden, &raws, "[model]"));
    problems.extend(check_jwks_requests(
        &fx.forbidden,
        &jwks.requests(),
        "[jwks]",
    ));
    assert_clean(problems);
}

/// The cache is written where the contract says, user-only: a mask key, the
/// fetched set and the model's answer, each file 0600 in 0700 directories.
#[test]
fn cache_entries_are_user_only() {
    use openai_support::OpenAiServer;
    let fx = fixture();
    let secret = fx.arg("secret.txt");
    let model = OpenAiServer::answering("Refresh the token (`expired`).");
    let jwks = jwks_server(&fx.jwks);
    let args: Vec<String> = explain_args(
        &fx,
        &secret,
        &model.base(),
        &["--jwks-uri", &jwks.url("/jwks")],
    )
    .into_iter()
    .map(str::to_string)
    .collect();
    for cache in [Cache::Fresh, Cache::Default] {
        let o = run(&Run {
            args: args.clone(),
            stdin: None,
            cache,
            debug: Debug::Flag,
            scan_dirs: Vec::new(),
            env: Vec::new(),
        });
        assert_clean(check(
            &fx.forbidden,
            &o,
            false,
            &format!("[cache {cache:?}]"),
        ));
        let files: Vec<String> = o
            .cache_entries
            .iter()
            .filter(|e| !e.is_dir)
            .map(|e| {
                e.path
                    .strip_prefix(&o.cache_root)
                    .unwrap_or(&e.path)
                    .display()
                    .to_string()
            })
            .collect();
        assert!(
            files.iter().any(|f| f == "mask.key"),
            "no mask.key in {files:?}"
        );
        assert!(
            files.iter().any(|f| f.starts_with("jwks/")),
            "no jwks entry in {files:?}"
        );
        assert!(
            files.iter().any(|f| f.starts_with("llm/")),
            "no llm entry in {files:?}"
        );
        for e in &o.cache_entries {
            let want = if e.is_dir { 0o700 } else { 0o600 };
            if e.path.starts_with(&o.cache_root) {
                assert_eq!(e.mode, want, "{} has mode {:o}", e.path.display(), e.mode);
            }
        }
    }
}

// ---------------------------------------------------------------- user text quoted back

/// `--error` holding the API key jwtai itself holds (`JWTAI_API_KEY`) and an
/// e-mail address that is not a claim. The message is matched, its quoted
/// "expected" values become expectations, and the `audience-mismatch` and
/// `error-text-matched` details quote it verbatim. Those details are scrubbed
/// only of the token, secrets and masked claim values — not free-text masked
/// — so the API key lands in the pasteable report, and the key and the
/// address are sent to the model inside the findings (the separate `error`
/// field of the prompt *is* masked).
#[test]
fn error_text_quoted_in_findings_is_masked() {
    use openai_support::OpenAiServer;
    const OTHER_EMAIL: &str = "ops.oncall@corp.example";
    let fx = fixture();
    let secret = fx.arg("secret.txt");
    let server = OpenAiServer::answering("Check the audience (`audience-mismatch`).");
    let base = server.base();
    let error =
        format!("jwt audience invalid. expected: {AUD} (client key {API_KEY}, user {OTHER_EMAIL})");
    let cases = vec![
        case(
            "error with api key",
            &diag(&fx.hs, &["--secret-file", &secret, "--error", &error]),
        ),
        case(
            "error with api key json",
            &diag(
                &fx.hs,
                &[
                    "--secret-file",
                    &secret,
                    "--error",
                    &error,
                    "--format",
                    "json",
                ],
            ),
        ),
        case(
            "error with api key explain",
            &explain_args(&fx, &secret, &base, &["--error", &error]),
        ),
    ];
    let mut problems = sweep(&fx, &cases, &[Cache::Fresh]);
    let mut sent = fx.forbidden.clone();
    sent.items.push(no_leak_support::Item {
        label: "an e-mail address from --error".into(),
        bytes: OTHER_EMAIL.into(),
        class: no_leak_support::Class::Credential,
    });
    let raws: Vec<Vec<u8>> = server.requests().into_iter().map(|r| r.raw).collect();
    assert!(!raws.is_empty(), "the model was not called");
    problems.extend(check_model_requests(&sent, &raws, "[model]"));
    assert_clean(problems);
}

/// A human-chosen secret (not high-entropy), given where it belongs: scrubbed
/// from every output, `weak-secret` included.
#[test]
fn weak_secret_given_in_place_never_leaks() {
    use jwtai::alg::Alg;
    use jwtai::sign::{SigningKey, sign_token};
    const WEAK: &str = "my team signing secret";
    let fx = fixture();
    let key = SigningKey::from_hmac_secret(Alg::HS256, WEAK.as_bytes()).expect("key");
    let claims: serde_json::Value = {
        use base64::Engine;
        let payload = fx.hs.split('.').nth(1).expect("payload");
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .expect("b64"),
        )
        .expect("json")
    };
    let token = sign_token(
        &serde_json::json!({"alg": "HS256", "typ": "JWT"}),
        &claims,
        &key,
    )
    .expect("sign");
    let weak_file = fx.write("weak.txt", format!("{WEAK}\n").as_bytes());
    let weak_file = weak_file.display().to_string();
    let mut forbidden = fx.forbidden.clone();
    for (label, bytes) in [
        ("the weak secret", WEAK.to_string()),
        ("the weak-secret token", token.clone()),
        (
            "its signature",
            token.rsplit('.').next().expect("sig").to_string(),
        ),
    ] {
        forbidden.items.push(no_leak_support::Item {
            label: label.into(),
            bytes,
            class: no_leak_support::Class::Credential,
        });
    }
    let fx2 = Fixture { forbidden, ..fx };
    let cases = vec![
        case("weak --secret", &diag(&token, &["--secret", WEAK])),
        case(
            "weak --secret json",
            &diag(&token, &["--secret", WEAK, "--format", "json"]),
        ),
        case(
            "weak --secret-file with newline",
            &diag(
                &token,
                &["--secret-file", &weak_file, "--format", "markdown"],
            ),
        ),
        case(
            "weak secret, other token",
            &diag(&fx2.hs, &["--secret", WEAK, "--format", "json"]),
        ),
        case(
            "weak secret, show-prompt",
            &diag(
                &token,
                &[
                    "--secret",
                    WEAK,
                    "--show-prompt",
                    "--api-base",
                    "http://127.0.0.1:9/v1",
                ],
            ),
        ),
    ];
    assert_clean(sweep(&fx2, &cases, &[Cache::Fresh]));
}

/// The same human-chosen secret given in the wrong place: jwtai cannot know
/// it is a secret by its shape, and quotes it back — clap's "unexpected
/// argument '...'" and jwtai's own "environment variable ... (from
/// --secret-env) is not set" / "cannot read secret file ...". A value with
/// spaces is no variable name nor a plausible path; jwtai could decline to
/// quote such values.
#[test]
#[ignore = "limitation: a low-entropy secret passed to --secret-env/--secret-file or as an extra positional is echoed on stderr"]
fn weak_secret_in_the_wrong_place_is_not_echoed() {
    const WEAK: &str = "my team signing secret";
    let fx = fixture();
    let mut forbidden = fx.forbidden.clone();
    forbidden.items.push(no_leak_support::Item {
        label: "the weak secret".into(),
        bytes: WEAK.into(),
        class: no_leak_support::Class::Credential,
    });
    let fx2 = Fixture { forbidden, ..fx };
    let hs = fx2.hs.clone();
    let cases = vec![
        case("weak secret as a positional", &["diagnose", &hs, WEAK]),
        case(
            "weak secret to --secret-env",
            &["diagnose", &hs, "--secret-env", WEAK],
        ),
        case(
            "weak secret to --secret-file",
            &["diagnose", &hs, "--secret-file", WEAK],
        ),
    ];
    assert_clean(sweep(&fx2, &cases, &[Cache::Fresh]));
}

// ---------------------------------------------------------------- the harness itself

/// The scanner finds what it must: `--reveal` puts claim values on stdout,
/// which is a leak anywhere but there; a planted secret in a cache file is found.
#[test]
fn harness_detects_a_leak() {
    let fx = fixture();
    let o = run(&Run {
        args: vec!["decode".into(), fx.hs.clone(), "--reveal".into()],
        stdin: None,
        cache: Cache::Fresh,
        debug: Debug::Flag,
        scan_dirs: Vec::new(),
        env: Vec::new(),
    });
    assert_eq!(o.code, Some(0), "{}", o.stderr_text());
    assert!(
        o.stdout_text().contains(PII_EMAIL),
        "--reveal shows the e-mail"
    );
    assert!(check(&fx.forbidden, &o, true, "[reveal]").is_empty());
    let flagged = check(&fx.forbidden, &o, false, "[no reveal]");
    assert!(
        flagged
            .iter()
            .any(|p| p.contains("claim value (email) in stdout")),
        "{flagged:?}"
    );
    let mut planted = o;
    planted.cache_entries.push(no_leak_support::Entry {
        path: PathBuf::from("/planted"),
        mode: 0o644,
        is_dir: false,
        bytes: format!("x{SECRET}x").into_bytes(),
    });
    let flagged = check(&fx.forbidden, &planted, true, "[planted]");
    assert!(
        flagged
            .iter()
            .any(|p| p.contains("the HMAC secret in /planted")),
        "{flagged:?}"
    );
    assert!(
        flagged.iter().any(|p| p.contains("mode 644")),
        "{flagged:?}"
    );
}

// ---------------------------------------------------------------- red team, round 3

/// Values the third red-team round got past redaction, each through the
/// channel it took: a nested token longer than 4096 bytes, signing secrets
/// in pasted config and code, the decoded form of a base64 `--secret`, a
/// secret under 8 characters, credentials in URL claims and in HTTP headers
/// of error text, addresses inside words (lists, XML, URL-encoded), personal
/// data by newer claim names and formats, header fields other than `kid`, and
/// an expected address quoted by a finding. Checked on stdout (human, JSON,
/// `--show-prompt`) and stderr, in both debug modes.
#[test]
fn red_team_round_three_values_never_leak() {
    use jwtai::alg::Alg;
    use jwtai::sign::{SigningKey, sign_token};
    let fx = fixture();
    let sign = |header: serde_json::Value, claims: serde_json::Value, secret: &[u8]| {
        let key = SigningKey::from_hmac_secret(Alg::HS256, secret).expect("key");
        sign_token(&header, &claims, &key).expect("sign")
    };
    let hs = |claims: serde_json::Value| {
        sign(
            serde_json::json!({"alg": "HS256", "kid": "k1"}),
            claims,
            b"supersecretkey-ABCDEFGH-12345678",
        )
    };
    let inner = sign(
        serde_json::json!({"alg": "HS256"}),
        serde_json::json!({"sub": "INNERSUB", "g": (0..600).map(|i| format!("g{i:03}")).collect::<Vec<_>>()}),
        b"inner-secret-0123456789abcdef",
    );
    assert!(inner.len() > 4096);
    let long = hs(
        serde_json::json!({"iss": "https://a.example/", "exp": 1_800_000_000, "upstream": inner}),
    );
    let urls = hs(serde_json::json!({
        "iss": "https://auth.example.com/", "exp": 1_800_000_000,
        "redirect": "https://app.example.com/cb#access_token=FRAGtok9x8y7z6&token_type=Bearer",
        "cb2": "https://app.example.com/cb?accessToken=CAMELtok9x8y7z6",
        "cb3": "https://gitlab.example.com/api/v4/user?private_token=PRIVtok9x8y7z6",
        "cb4": "https://maps.example.com/api?key=AIzaSyKEYVALUE0123456789abcdefghijklmn",
    }));
    let mail = hs(serde_json::json!({
        "iss": "https://auth.example.com/", "exp": 1_800_000_000,
        "cc": "alice.list@example.org,bob.list@example.org",
        "hint": "https://idp.example.com/authorize?login_hint=carol.enc%40example.org",
        "owner": "<kim.lt@example.org>", "meta": "{\"mail\":\"jo.json@example.io\"}",
        "customer_name": "Dora Customer", "contactName": "Quinn Contact",
        "accountHolder": "Sam Holder", "passport_number": "X12345678",
        "national_id_number": "NATID-998877", "tax_ref": "987-65-4321",
        "p1": "1-415-555-0199", "p2": "(020) 7946 0958", "p3": "00 44 20 7946 0958",
        "scope": "read password=ScopePw123",
    }));
    let header = sign(
        serde_json::json!({"alg": "HS256", "kid": "k1", "typ": "alice.typ@example.org",
            "cty": "sk_live_CTYSECRET0123456789", "crit": ["x-ghp_abcdefghijklmnopqrstuvwxyz0123456789"]}),
        serde_json::json!({"iss": "https://auth.example.com/", "exp": 1_800_000_000}),
        b"supersecretkey-ABCDEFGH-12345678",
    );
    let plain = hs(
        serde_json::json!({"iss": "https://auth.example.com/", "aud": "api", "exp": 1_800_000_000, "email": "alice.own@example.org"}),
    );
    // Signed with the decoded bytes of the base64 secret the user gives.
    let encoded = sign(
        serde_json::json!({"alg": "HS256"}),
        serde_json::json!({"iss": "https://auth.example.com/", "exp": 1_800_000_000}),
        b"my-hmac-signing-secret-2024",
    );
    let short = sign(
        serde_json::json!({"alg": "HS256"}),
        serde_json::json!({"iss": "https://auth.example.com/", "exp": 1_800_000_000}),
        b"Zq9xP2w",
    );
    let config = fx.write(
        "config.txt",
        br#""IssuerSigningKey": "this-is-my-super-secret-signing-key-for-jwt"
"SecretKey": "my_very_long_and_secure_secret_key_for_hmac"
app.jwtSecret=mySuperSecretJwtSigningValueForTheApp
jwt.secret-key=change-me-in-production-please-secret
JWT_SIGNING_KEY=supercalifragilisticexpialidociousKey
signingKey: averylongsigningkeyvaluewithoutdigits
jwt.verify(token, 'CodeSecretLit123')
> X-Auth-Token: 9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a49
> X-Access-Token: XAccessTokVal0033
> X-CSRF-Token: CsrfTokVal0066
> PRIVATE-TOKEN: PrivTokHdr0088
> Ocp-Apim-Subscription-Key: 3f9a1c2b7d8e4f60a1b2c3d4e5f60718
> X-Session-Id: 7f3a9b2c1d4e5f60718293a4b5c6d7e8
<saml:NameID>gina.saml@example.org</saml:NameID>
upn=oscar.upn@example.org;tid=abc
notify=erin.list@example.org,frank.list@example.org
GET /authorize?login_hint=dave.enc%40example.org HTTP/1.1
ssn 123-45-6789
"#,
    );
    let config = config.display().to_string();
    let mut forbidden = fx.forbidden.clone();
    let inner_payload = inner.split('.').nth(1).expect("payload");
    let leaks: Vec<&str> = vec![
        &inner_payload[100..140],
        "this-is-my-super",
        "my_very_long_and_secure",
        "mySuperSecretJwtSigningValue",
        "change-me-in-production",
        "supercalifragilistic",
        "averylongsigningkeyvalue",
        "CodeSecretLit123",
        "9c8b7a6f",
        "XAccessTokVal",
        "CsrfTokVal",
        "PrivTokHdr",
        "3f9a1c2b",
        "7f3a9b2c",
        "FRAGtok",
        "CAMELtok",
        "PRIVtok",
        "AIzaSyKEYVALUE",
        "my-hmac-signing-secret-2024",
        "Zq9xP2w",
        "list@example",
        "carol.enc",
        "dave.enc",
        "kim.lt",
        "jo.json",
        "gina.saml",
        "oscar.upn",
        "Dora Customer",
        "Quinn Contact",
        "Sam Holder",
        "X12345678",
        "NATID-998877",
        "987-65-4321",
        "123-45-6789",
        "415-555-0199",
        "7946 0958",
        "ScopePw123",
        "alice.typ",
        "CTYSECRET",
        "ghp_abcdef",
        "bob.expected@example.org",
        "alice.own@example.org",
        "ops.alice",
    ];
    for leak in leaks {
        forbidden.items.push(no_leak_support::Item {
            label: format!("red-team value {leak:?}"),
            bytes: leak.to_string(),
            class: no_leak_support::Class::Credential,
        });
    }
    let fx2 = Fixture { forbidden, ..fx };
    let now = "--now=2026-03-15T12:34:00Z";
    let prompt = ["--show-prompt", "--api-base", "http://127.0.0.1:9/v1"];
    let mut cases = Vec::new();
    for (name, token, more) in [
        ("nested long token", &long, vec![]),
        ("urls", &urls, vec![]),
        ("mail and pii", &mail, vec![]),
        ("header fields", &header, vec![]),
        (
            "config and headers",
            &plain,
            vec!["--error-file", config.as_str()],
        ),
        (
            "base64 secret",
            &encoded,
            vec![
                "--secret",
                "bXktaG1hYy1zaWduaW5nLXNlY3JldC0yMDI0",
                "--error",
                "loaded signing material my-hmac-signing-secret-2024 from vault",
            ],
        ),
        (
            "short secret",
            &short,
            vec![
                "--secret",
                "Zq9xP2w",
                "--error",
                "HMAC verify ok with key=Zq9xP2w",
            ],
        ),
        (
            "expected address",
            &plain,
            vec!["--claim", "email=bob.expected@example.org"],
        ),
        (
            "expected longer address",
            &plain,
            vec!["--claim", "email=ops.alice.own@example.org"],
        ),
    ] {
        for format in [&["--format", "human"][..], &["--format", "json"], &prompt] {
            let mut args = vec!["diagnose", token.as_str(), now];
            args.extend(more.iter().copied());
            args.extend_from_slice(format);
            cases.push(case(&format!("{name} {}", format[1]), &args));
        }
    }
    assert_clean(sweep(&fx2, &cases, &[Cache::Fresh]));
}
