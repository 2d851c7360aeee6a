//! `jwtai scan` on generated logs, through the real binary: exact counts per
//! code, kid, iss, aud and alg; bad lines counted, never fatal; stdin; and
//! nothing secret in the output.

use std::collections::HashMap;
use std::path::Path;

use assert_cmd::Command;
use jwtai::alg::Alg;
use jwtai::sign::{SigningKey, sign_token};
use serde_json::{Value, json};

const NOW: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z
const SECRET: &[u8] = b"k7#Qz!9vLm2@Wp4$Rt6^Yx8&Nb0*Hc3%Ju5(Ge1)";
const API: &str = "https://api.example.com";
const ISS: &str = "https://auth.example.com/";
const EMAIL: &str = "alice.liddell@example.org";

fn key() -> SigningKey {
    SigningKey::from_hmac_secret(Alg::HS256, SECRET).expect("hmac key")
}

/// A distinct HS256 token: `n` makes it unique.
fn token(n: u32, kid: &str, aud: &str, exp: i64) -> String {
    let claims = json!({
        "iss": ISS, "sub": format!("user-{n}"), "aud": aud, "email": EMAIL,
        "iat": exp - 3600, "exp": exp, "jti": format!("jti-{n}"),
    });
    sign_token(
        &json!({"alg": "HS256", "typ": "JWT", "kid": kid}),
        &claims,
        &key(),
    )
    .expect("signing")
}

fn scan_cmd(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("jwtai").expect("binary");
    cmd.env("NO_COLOR", "1")
        .env("JWTAI_CACHE_DIR", dir.join("cache"))
        .env_remove("JWTAI_MASK_KEY")
        .arg("scan");
    cmd
}

fn secret_file(dir: &Path) -> String {
    let p = dir.join("secret");
    std::fs::write(&p, SECRET).expect("write secret");
    p.display().to_string()
}

/// The JSON Lines output: reports, then the summary as the last line.
fn parse_jsonl(stdout: &[u8]) -> (Vec<Value>, Value) {
    let text = std::str::from_utf8(stdout).expect("utf-8 output");
    let mut lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    let summary = lines.pop().expect("a summary line");
    assert_eq!(summary["schema"], "jwtai.scan/v1");
    (lines, summary)
}

fn rows_by(summary: &Value, key: &str, field: &str) -> HashMap<String, (u64, u64)> {
    summary[key]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            let name = match &r[field] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (
                name,
                (
                    r["tokens"].as_u64().expect("tokens"),
                    r["distinct"].as_u64().expect("distinct"),
                ),
            )
        })
        .collect()
}

struct Log {
    text: String,
    tokens: Vec<String>,
}

/// 7 expired (kid k-old), 3 for another audience (kid k1), 5 valid (kid k1),
/// in plain, `Authorization: Bearer` and JSON log lines, with repeats:
/// the first expired token 3 more times, the first valid one 2 more times.
fn known_log() -> Log {
    let mut lines = Vec::new();
    let mut tokens = Vec::new();
    let mut n = 0;
    let mut next = |kid: &str, aud: &str, exp: i64| {
        n += 1;
        token(n, kid, aud, exp)
    };
    let expired: Vec<String> = (0..7).map(|_| next("k-old", API, NOW - 7200)).collect();
    let wrong_aud: Vec<String> = (0..3)
        .map(|_| next("k1", "https://api.staging.example.com", NOW + 3600))
        .collect();
    let valid: Vec<String> = (0..5).map(|_| next("k1", API, NOW + 3600)).collect();
    for (i, t) in expired.iter().chain(&wrong_aud).chain(&valid).enumerate() {
        tokens.push(t.clone());
        lines.push(match i % 3 {
            0 => t.clone(),
            1 => format!("10.0.0.{i} - - [01/Jan/2026] \"GET /orders\" 401 Authorization: Bearer {t}"),
            _ => json!({"level": "warn", "msg": "auth failed", "headers": {"authorization": format!("Bearer {t}")}}).to_string(),
        });
        lines.push(format!(
            "2026-01-01T00:00:{:02}Z INFO request served",
            i % 60
        ));
    }
    for _ in 0..3 {
        lines.push(format!("Authorization: Bearer {}", expired[0]));
    }
    for _ in 0..2 {
        lines.push(json!({"token": valid[0]}).to_string());
    }
    Log {
        text: lines.join("\n") + "\n",
        tokens,
    }
}

#[test]
fn summary_counts_are_exact_on_a_generated_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = known_log();
    let path = dir.path().join("access.log");
    std::fs::write(&path, &log.text).expect("write log");
    let out = scan_cmd(dir.path())
        .arg(&path)
        .args(["--secret-file", &secret_file(dir.path())])
        .args(["--aud", API, "--iss", ISS, "--now", &NOW.to_string()])
        .args(["--format", "json"])
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (reports, s) = parse_jsonl(&out.stdout);

    // One report per distinct token, each tagged with its first line.
    assert_eq!(reports.len(), 15);
    assert!(
        reports
            .iter()
            .all(|r| r["schema"] == "jwtai.report/v1" && r["line"].is_u64())
    );

    assert_eq!(
        s["tokens"],
        json!({"total": 20, "distinct": 15, "duplicates": 5, "distinct_exact": true})
    );
    assert_eq!(
        s["verdicts"]["rejected"],
        json!({"tokens": 13, "distinct": 10})
    );
    assert_eq!(
        s["verdicts"]["accepted"],
        json!({"tokens": 7, "distinct": 5})
    );
    assert_eq!(
        s["verdicts"]["unverified"],
        json!({"tokens": 0, "distinct": 0})
    );

    let codes = rows_by(&s, "findings", "code");
    assert_eq!(codes["expired"], (10, 7));
    assert_eq!(codes["audience-mismatch"], (3, 3));
    assert_eq!(codes["signature-valid"], (20, 15));
    assert!(!codes.contains_key("signature-invalid"), "{codes:?}");
    let roots = rows_by(&s, "root_causes", "code");
    assert_eq!(roots.len(), 2, "{roots:?}");
    assert_eq!(roots["expired"], (10, 7));
    assert_eq!(roots["audience-mismatch"], (3, 3));
    assert_eq!(
        s["root_causes"][0]["code"], "expired",
        "the dominant failure comes first"
    );
    let example = &s["root_causes"][0]["example"];
    assert!(
        example["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("exp ")),
        "{example}"
    );
    assert!(
        example["fix"].as_str().is_some_and(|f| !f.is_empty()),
        "{example}"
    );

    let kids = rows_by(&s, "by_kid", "value");
    assert_eq!(
        kids,
        HashMap::from([("k-old".into(), (10, 7)), ("k1".into(), (10, 8))])
    );
    let auds = rows_by(&s, "by_aud", "value");
    assert_eq!(auds[API], (17, 12));
    assert_eq!(auds["https://api.staging.example.com"], (3, 3));
    assert_eq!(
        rows_by(&s, "by_iss", "value"),
        HashMap::from([(ISS.into(), (20, 15))])
    );
    assert_eq!(
        rows_by(&s, "by_alg", "value"),
        HashMap::from([("HS256".into(), (20, 15))])
    );
    let old = s["by_kid"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["value"] == "k-old")
        .unwrap();
    assert_eq!(old["rejected"], 10);
    assert_eq!(old["top_root_cause"], "expired");

    // Every row has a redacted example pointing at a line of the log.
    for key in [
        "findings",
        "root_causes",
        "by_kid",
        "by_iss",
        "by_aud",
        "by_alg",
    ] {
        for row in s[key].as_array().unwrap() {
            assert!(
                row["example"]["line"].as_u64().is_some_and(|l| l >= 1),
                "{key}: {row}"
            );
            assert_eq!(row["example"]["token"]["kind"], "jws");
        }
    }
    assert_eq!(s["input"]["lines"], 35);
    assert_eq!(s["input"]["lines_with_tokens"], 20);
    assert_eq!(s["input"]["lines_without_token"], 15);
}

#[test]
fn no_token_signature_secret_or_personal_data_in_any_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = known_log();
    let path = dir.path().join("access.log");
    std::fs::write(&path, &log.text).expect("write log");
    let secret = secret_file(dir.path());
    for format in ["human", "json"] {
        let out = scan_cmd(dir.path())
            .arg(&path)
            .args([
                "--secret-file",
                &secret,
                "--aud",
                API,
                "--now",
                &NOW.to_string(),
            ])
            .args(["--format", format])
            .output()
            .expect("run");
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(text.contains("expired"), "{format}: {text}");
        for t in &log.tokens {
            let (signing_input, signature) = t.rsplit_once('.').expect("three segments");
            assert!(!text.contains(t.as_str()), "{format}: raw token leaked");
            assert!(!text.contains(signature), "{format}: signature leaked");
            assert!(
                !text.contains(signing_input),
                "{format}: signing input leaked"
            );
        }
        assert!(!text.contains(EMAIL), "{format}: email leaked");
        assert!(!text.contains("user-1"), "{format}: sub leaked");
        assert!(
            !text.contains(std::str::from_utf8(SECRET).unwrap()),
            "{format}: secret leaked"
        );
        if format == "json" {
            assert!(text.contains("«masked:email:"), "the email is shown masked");
        }
    }
}

#[test]
fn garbage_huge_and_binary_lines_are_counted_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let valid = token(1, "k1", API, NOW + 3600);
    let expired = token(2, "k1", API, NOW - 60);
    let late = token(3, "k1", API, NOW + 3600);
    let mut log: Vec<u8> = Vec::new();
    log.extend_from_slice(format!("{valid}\n").as_bytes());
    log.extend_from_slice(b"not a token at all\n}{ [ broken json\neyJ.only-one-dot\n");
    // A 1 MB line, with a token in it: too long, skipped whole.
    log.extend_from_slice(&b"x".repeat(500_000));
    log.extend_from_slice(expired.as_bytes());
    log.extend_from_slice(&b"y".repeat(500_000));
    log.push(b'\n');
    // Binary bytes and invalid UTF-8, one line holding a token.
    log.extend_from_slice(b"\x00\x01\x02\xff\xfe\xc3\x28 garbage\n");
    log.extend_from_slice(b"\xff\xfe token=");
    log.extend_from_slice(expired.as_bytes());
    log.extend_from_slice(b" \x00\x9f\n\n   \n");
    log.extend_from_slice(late.as_bytes()); // last line, no newline
    let path = dir.path().join("mixed.log");
    std::fs::write(&path, &log).expect("write log");

    let out = scan_cmd(dir.path())
        .arg(&path)
        .args(["--secret-file", &secret_file(dir.path())])
        .args(["--now", &NOW.to_string(), "--format", "json"])
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (reports, s) = parse_jsonl(&out.stdout);
    assert_eq!(reports.len(), 3);
    assert_eq!(
        s["input"],
        json!({
            "lines": 10, "bytes": log.len(), "lines_with_tokens": 3, "lines_without_token": 4,
            "blank_lines": 2, "lines_too_long": 1, "binary_lines": 2, "tokens_masked_by_log": 0,
            "max_line_bytes": 65536,
            "compression": null, "ended_early": null,
            "files": [{"name": path.display().to_string(), "first_line": 1, "lines": 10,
                       "compression": null, "ended_early": null}]
        })
    );
    assert_eq!(s["tokens"]["total"], 3);
    let codes = rows_by(&s, "findings", "code");
    assert_eq!(codes["expired"], (1, 1));
    assert_eq!(codes["signature-valid"], (3, 3));
}

#[test]
fn dash_and_a_pipe_read_stdin_and_a_clean_log_exits_zero() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = format!(
        "Authorization: Bearer {}\n{}\n",
        token(1, "k1", API, NOW + 60),
        token(2, "k2", API, NOW + 60)
    );
    let secret = secret_file(dir.path());
    for dash in [true, false] {
        let mut cmd = scan_cmd(dir.path());
        if dash {
            cmd.arg("-");
        }
        let out = cmd
            .args(["--secret-file", &secret, "--now", &NOW.to_string()])
            .write_stdin(log.clone())
            .output()
            .expect("run");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.starts_with("SCAN  2 token(s), 2 distinct"), "{text}");
        assert!(
            !text.contains("jwtai.report/v1"),
            "no JSON reports in human output: {text}"
        );
        assert!(text.contains("accepted"), "{text}");
        assert!(text.contains("By kid"), "{text}");
    }
}

#[test]
fn a_missing_file_or_a_bad_flag_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    scan_cmd(dir.path())
        .arg(dir.path().join("nope.log"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no such file"));
    scan_cmd(dir.path())
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicates::str::contains("is a directory"));
    // Standard input twice.
    scan_cmd(dir.path())
        .args(["-", "-"])
        .write_stdin("")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("can be read only once"));
    scan_cmd(dir.path())
        .args(["-", "--now", "yesterday"])
        .write_stdin("")
        .assert()
        .code(2);
}

#[test]
fn an_empty_log_finds_nothing_and_exits_zero() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = scan_cmd(dir.path())
        .args(["-", "--format", "json"])
        .write_stdin("no tokens here\n")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let (reports, s) = parse_jsonl(&out.stdout);
    assert!(reports.is_empty());
    assert_eq!(s["tokens"]["total"], 0);
}

#[test]
fn dedup_cap_keeps_counts_exact_and_says_distinct_is_approximate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = token(1, "k1", API, NOW - 60);
    let b = token(2, "k1", API, NOW + 60);
    let log = format!("{a}\n{b}\n{b}\n{a}\n{b}\n");
    let out = scan_cmd(dir.path())
        .args(["-", "--max-distinct", "1", "--format", "json"])
        .args([
            "--secret-file",
            &secret_file(dir.path()),
            "--now",
            &NOW.to_string(),
        ])
        .write_stdin(log)
        .output()
        .expect("run");
    let (_, s) = parse_jsonl(&out.stdout);
    assert_eq!(s["tokens"]["total"], 5);
    assert_eq!(s["tokens"]["distinct_exact"], false);
    let codes = rows_by(&s, "findings", "code");
    assert_eq!(codes["expired"].0, 2);
    assert_eq!(codes["signature-valid"].0, 5);
}

#[test]
fn summary_values_are_redacted_like_the_reports() {
    let dir = tempfile::tempdir().expect("tempdir");
    let claims = json!({"iss": ISS, "sub": "u1", "aud": EMAIL, "exp": NOW + 60});
    let t = sign_token(&json!({"alg": "HS256", "kid": "k1"}), &claims, &key()).expect("signing");
    for format in ["human", "json"] {
        let out = scan_cmd(dir.path())
            .args(["-", "--now", &NOW.to_string(), "--format", format])
            .env("JWTAI_MASK_KEY", "pinned")
            .write_stdin(format!("{t}\n"))
            .output()
            .expect("run");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(!text.contains(EMAIL), "{format}: {text}");
        assert!(text.contains("«masked:email:"), "{format}: {text}");
        if format == "json" {
            let (reports, s) = parse_jsonl(&out.stdout);
            assert_eq!(
                s["by_aud"][0]["value"],
                reports[0]["token"]["claims"]["aud"]
            );
        }
    }
}

/// Each row's example is the first token in the log that belongs to it, also
/// when that token comes many batches in and the reports of the tokens
/// before it were dropped early (their rows already had examples).
#[test]
fn examples_are_first_occurrences_even_many_batches_in() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut lines = Vec::new();
    for n in 1..=12_000u32 {
        let t = match n {
            9_001 | 9_002 => token(n, "k1", API, NOW - 60),
            11_000 | 11_001 => token(n, "k2", API, NOW + 60),
            _ => token(n, "k1", API, NOW + 60),
        };
        lines.push(format!("Authorization: Bearer {t}"));
    }
    let out = scan_cmd(dir.path())
        .args(["-", "--color", "never"])
        .args([
            "--secret-file",
            &secret_file(dir.path()),
            "--now",
            &NOW.to_string(),
        ])
        .write_stdin(lines.join("\n"))
        .output()
        .expect("run");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let findings = text
        .split("Findings (once per token)")
        .nth(1)
        .expect("a findings table");
    // A finding row (severity mark, code, counts) and the example line under it.
    let after = |code: &str| -> String {
        let mut it = findings
            .lines()
            .skip_while(|l| l.split_whitespace().nth(1) != Some(code));
        let first = it
            .next()
            .unwrap_or_else(|| panic!("no row {code} in\n{text}"));
        format!("{first}\n{}", it.next().unwrap_or_default())
    };
    assert!(
        after("expired").contains("e.g. line 9001: exp "),
        "the example says what the finding found on that token: {}",
        after("expired")
    );
    // The root cause, then what it looks like on its first token and its fix.
    let roots = text
        .split("Root cause of rejection")
        .nth(1)
        .and_then(|t| t.split("Findings (once per token)").next())
        .expect("a root cause table");
    let rows: Vec<&str> = roots.lines().skip(1).take(3).collect();
    assert!(rows[0].contains("expired"), "{roots}");
    assert!(
        rows[1].trim_start().starts_with("line 9001: exp "),
        "{roots}"
    );
    assert!(rows[2].trim_start().starts_with("fix: "), "{roots}");
    assert!(
        after("signature-valid").contains("e.g. line 1:"),
        "{}",
        after("signature-valid")
    );
    let kid_rows = text
        .split("By kid")
        .nth(1)
        .expect("a kid table")
        .split("By iss")
        .next()
        .expect("rows");
    let k2 = kid_rows
        .lines()
        .find(|l| l.trim_start().starts_with("k2 "))
        .expect("a k2 row");
    assert!(k2.trim_end().ends_with("line 11000"), "{k2}");
}

/// A single line can hold more tokens than a batch takes (a batch stops at
/// a line boundary): thousands of tiny JWT-shaped strings on one line, then
/// each again on the next, are all counted, and each diagnosed once.
#[test]
fn a_line_with_more_tokens_than_a_batch_is_counted_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let n = 3_000;
    let line: Vec<String> = (0..n).map(|i| format!("eyJ{i:05}.e30.")).collect();
    let line = line.join(" ");
    assert!(line.len() < 64 * 1024, "one line under the line limit");
    let out = scan_cmd(dir.path())
        .args(["-", "--format", "json", "--now", &NOW.to_string()])
        .write_stdin(format!("{line}\n{line}\n"))
        .output()
        .expect("run");
    let (reports, s) = parse_jsonl(&out.stdout);
    assert_eq!(s["tokens"]["total"], 2 * n);
    assert_eq!(s["tokens"]["distinct"], n);
    assert_eq!(reports.len(), n);
    assert_eq!(s["input"]["lines_with_tokens"], 2);
}

/// `n` lines `Authorization: Bearer TOKEN`, each token distinct and valid.
/// After a frontend deploy, part of the 401s carry no JWT at all: the
/// client sent `Bearer undefined`, an object, an empty header, or an opaque
/// token. The scan counts what was sent instead, and names it.
#[test]
fn bearer_values_that_are_no_jwt_are_counted_and_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let opaque = "2YotnFZFEjr1zCsicMWpAA";
    let mut log = bearer_lines(5);
    for _ in 0..3 {
        log.push_str("10.0.0.9 \"GET /orders\" 401 Authorization: Bearer undefined\n");
    }
    log.push_str("{\"authorization\":\"Bearer [object Object]\",\"status\":401}\n");
    log.push_str("{\"authorization\":\"Bearer \",\"status\":401}\n");
    log.push_str(&format!("401 Authorization: Bearer {opaque}\n"));
    // Not requests: a challenge, prose, and a word after Bearer.
    log.push_str("WWW-Authenticate: Bearer realm=\"api\", error=\"invalid_token\"\n");
    log.push_str("Bearer tokens expire after an hour\n");
    log.push_str("WARN BearerTokenAuthenticationFilter : Bearer token is malformed\n");
    let path = dir.path().join("401.log");
    std::fs::write(&path, &log).expect("write log");
    let out = scan_cmd(dir.path())
        .arg(&path)
        .args(["--secret-file", &secret_file(dir.path())])
        .args(["--aud", API, "--now", &NOW.to_string(), "--format", "json"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let (reports, s) = parse_jsonl(&out.stdout);
    assert_eq!(s["input"]["lines_with_tokens"], 11, "{s:#}");
    assert_eq!(s["input"]["lines_without_token"], 3, "{s:#}");
    assert_eq!(s["tokens"]["total"], 11, "{s:#}");
    let codes = rows_by(&s, "findings", "code");
    assert_eq!(codes["opaque-token"], (6, 4), "{s:#}");
    assert_eq!(codes["signature-valid"], (5, 5), "{s:#}");
    assert!(!codes.contains_key("audience-missing"), "{s:#}");
    let details: Vec<String> = reports
        .iter()
        .filter_map(|r| r["findings"][0]["detail"].as_str().map(str::to_string))
        .collect();
    for said in [
        "the text `undefined`",
        "JavaScript's rendering of an object",
        "the scheme `Bearer` with no token",
        "22 characters",
    ] {
        assert!(
            details.iter().any(|d| d.contains(said)),
            "{said}: {details:#?}"
        );
    }
    // An opaque token is a credential: counted, never printed.
    assert!(!String::from_utf8_lossy(&out.stdout).contains(opaque));
}

fn bearer_lines(n: u32) -> String {
    (0..n)
        .map(|n| format!("Authorization: Bearer {}\n", token(n, "k1", API, NOW + 60)))
        .collect()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

/// A token re-encoded in standard base64 (ALB's `x-amzn-oidc-data` pads every
/// segment) or URL-encoded on the way is found whole and named for it, not
/// missed or cut into a `truncated` one.
#[test]
fn standard_base64_and_url_encoded_tokens_are_found_and_named() {
    use base64::Engine;
    let dir = tempfile::tempdir().expect("tempdir");
    let b64 = |seg: &str| {
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(seg)
            .expect("base64url");
        base64::engine::general_purpose::STANDARD.encode(raw)
    };
    let mut log = String::new();
    for n in 0..4 {
        let t = token(n, "k1", API, NOW + 600);
        let std: Vec<String> = t.split('.').map(b64).collect();
        log.push_str(&format!("x-amzn-oidc-data: {}\n", std.join(".")));
    }
    for n in 4..7 {
        let t = token(n, "k1", API, NOW + 600).replace('.', "%2E");
        log.push_str(&format!("GET /cb?access_token={t} HTTP/1.1\n"));
    }
    let path = dir.path().join("alb.log");
    std::fs::write(&path, &log).expect("write log");
    let (code, s, _) = scan_json(dir.path(), Some(&path), None);
    assert_eq!(code, 1);
    assert_eq!(s["tokens"]["total"], 7, "{s:#}");
    let roots = rows_by(&s, "root_causes", "code");
    assert_eq!(roots.get("url-encoded"), Some(&(3, 3)), "{s:#}");
    let codes = rows_by(&s, "findings", "code");
    assert!(codes["base64-standard-alphabet"].0 >= 4, "{s:#}");
    assert!(!codes.contains_key("truncated"), "{s:#}");
}

fn scan_json(dir: &Path, input: Option<&Path>, stdin: Option<Vec<u8>>) -> (i32, Value, String) {
    let mut cmd = scan_cmd(dir);
    cmd.arg(input.map_or("-".into(), |p| p.display().to_string()))
        .args(["--secret-file", &secret_file(dir)])
        .args(["--aud", API, "--iss", ISS, "--now", &NOW.to_string()])
        .args(["--format", "json"]);
    if let Some(bytes) = stdin {
        cmd.write_stdin(bytes);
    }
    let out = cmd.output().expect("run");
    let (_, summary) = parse_jsonl(&out.stdout);
    (
        out.status.code().expect("exit code"),
        summary,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The summary with the input's storage left out, to compare a compressed
/// scan with a plain one.
fn counts_only(mut s: Value) -> Value {
    let input = s["input"].as_object_mut().expect("input");
    input.remove("compression");
    input.remove("ended_early");
    input.remove("files");
    s
}

#[test]
fn a_gzip_log_file_or_pipe_is_scanned_as_its_text_would_be() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = known_log();
    let plain = dir.path().join("access.log");
    std::fs::write(&plain, &log.text).expect("write log");
    // Rotated logs concatenated (`cat access.log.2.gz access.log.1.gz`) too.
    let (first, second) = log.text.split_at(log.text.len() / 2);
    let mut gz = gzip(first.as_bytes());
    gz.extend(gzip(second.as_bytes()));
    let packed = dir.path().join("access.log.1.gz");
    std::fs::write(&packed, &gz).expect("write gz");

    let (code, want, _) = scan_json(dir.path(), Some(&plain), None);
    assert_eq!(code, 1);
    assert_eq!(want["input"]["compression"], Value::Null);
    assert_eq!(want["input"]["ended_early"], Value::Null);
    for (input, stdin) in [(Some(packed.as_path()), None), (None, Some(gz.clone()))] {
        let (code, got, stderr) = scan_json(dir.path(), input, stdin);
        assert_eq!(code, 1, "{stderr}");
        assert_eq!(got["input"]["compression"], "gzip");
        assert_eq!(got["input"]["ended_early"], Value::Null);
        assert_eq!(counts_only(got), counts_only(want.clone()));
    }

    let human = scan_cmd(dir.path())
        .arg(&packed)
        .args(["--secret-file", &secret_file(dir.path())])
        .args(["--aud", API, "--now", &NOW.to_string()])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.starts_with("SCAN  20 token(s), 15 distinct, in 35 line(s)")
            && text.contains("gzip-decompressed"),
        "{text}"
    );
}

#[test]
fn a_gzip_log_cut_short_is_summarised_up_to_the_cut_and_exits_two() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Enough distinct tokens that a cut through the compressed data falls
    // inside a token's line.
    let text = bearer_lines(400);
    let gz = gzip(text.as_bytes());
    let cut = dir.path().join("access.log.gz");
    std::fs::write(&cut, &gz[..gz.len() * 2 / 3]).expect("write");

    let (code, s, stderr) = scan_json(dir.path(), Some(&cut), None);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("input ended early: gzip data cut short"),
        "{stderr}"
    );
    let why = s["input"]["ended_early"].as_str().expect("ended_early");
    assert!(why.contains("cut short"), "{why}");
    let total = s["tokens"]["total"].as_u64().expect("total");
    assert!(total > 100 && total < 400, "{total}");
    // Every token read was whole: none was passed on cut.
    assert_eq!(s["verdicts"]["accepted"]["tokens"].as_u64(), Some(total));
    assert_eq!(s["input"]["lines"].as_u64(), Some(total));
}

#[test]
fn other_compressions_are_refused_with_the_command_that_opens_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let xz = dir.path().join("access.log.xz");
    std::fs::write(&xz, b"\xfd7zXZ\x00\x00\x04\xe6\xd6\xb4\x46").expect("write");
    scan_cmd(dir.path())
        .arg(&xz)
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicates::str::contains(format!(
            "is xz-compressed: convert it first, e.g. `xzcat {} | jwtai scan -`",
            xz.display()
        )));
    scan_cmd(dir.path())
        .arg("-")
        .write_stdin(&b"\x28\xb5\x2f\xfd\x04\x58\x00\x00"[..])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "standard input is zstd-compressed: convert it first, e.g. `zstdcat FILE | jwtai scan -`",
        ));
}

#[test]
fn a_progress_bar_is_drawn_on_a_terminal_and_only_there() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = bearer_lines(2000);
    let plain = dir.path().join("access.log");
    std::fs::write(&plain, &text).expect("write");
    let packed = dir.path().join("access.log.gz");
    std::fs::write(&packed, gzip(text.as_bytes())).expect("write");
    let secret = secret_file(dir.path());
    let in_pty = |path: &Path, extra: &[&str]| -> String {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_jwtai"));
        cmd.env("NO_COLOR", "1")
            .env("TERM", "xterm")
            .env("JWTAI_CACHE_DIR", dir.path().join("cache"))
            .arg("scan")
            .arg(path)
            .args(["--secret-file", &secret, "--now", &NOW.to_string()])
            .args(extra);
        let mut pty = rexpect::session::spawn_command(cmd, Some(60_000)).expect("spawn in a pty");
        let before = pty.exp_string("SCAN  2000 token(s)").expect("the summary");
        pty.exp_eof().expect("exit");
        before
    };
    for path in [&plain, &packed] {
        let before = in_pty(path, &[]);
        assert!(before.contains("scanning"), "{path:?}: {before:?}");
        // The bar is cleared before the summary is printed.
        assert!(
            before.ends_with("\r\x1b[2K") || before.contains("\x1b[2K"),
            "{before:?}"
        );
    }
    let before = in_pty(&plain, &["--no-progress"]);
    assert!(!before.contains("scanning"), "{before:?}");
    // Not a terminal: nothing on stderr.
    scan_cmd(dir.path())
        .arg(&packed)
        .args(["--secret-file", &secret, "--now", &NOW.to_string()])
        .assert()
        .code(0)
        .stderr("");
}

/// The JSON Lines of a scan of `paths` (and its exit code).
fn scan_paths_json(dir: &Path, paths: &[&Path]) -> (i32, Vec<Value>, Value, String) {
    let out = scan_cmd(dir)
        .args(paths)
        .args(["--secret-file", &secret_file(dir)])
        .args(["--aud", API, "--iss", ISS, "--now", &NOW.to_string()])
        .args(["--format", "json"])
        .output()
        .expect("run");
    let (reports, summary) = parse_jsonl(&out.stdout);
    (
        out.status.code().expect("exit code"),
        reports,
        summary,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn several_logs_are_scanned_as_one_and_examples_name_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = known_log();
    let lines: Vec<&str> = log.text.lines().collect();
    assert_eq!(lines.len(), 35);
    let whole = dir.path().join("all.log");
    std::fs::write(&whole, &log.text).expect("write");
    // Lines 1-12 plain, 13-25 gzip, 26-35 plain, the plain ones without a
    // final newline (a line never runs on into the next file); the repeats
    // at the end are of tokens first seen in the first file.
    let a = dir.path().join("a.log");
    std::fs::write(&a, lines[..12].join("\n")).expect("write");
    let b = dir.path().join("b.log.gz");
    std::fs::write(&b, gzip((lines[12..25].join("\n") + "\n").as_bytes())).expect("write");
    let c = dir.path().join("c.log");
    std::fs::write(&c, lines[25..].join("\n")).expect("write");

    let (code, _, want, _) = scan_paths_json(dir.path(), &[&whole]);
    let (got_code, reports, got, stderr) = scan_paths_json(dir.path(), &[&a, &b, &c]);
    assert_eq!((got_code, code), (1, 1), "{stderr}");
    // Dedup and every count across the files as in one log.
    assert_eq!(
        counts_only(got.clone())["tokens"],
        counts_only(want.clone())["tokens"]
    );
    assert_eq!(
        got["findings"].as_array().map(Vec::len),
        want["findings"].as_array().map(Vec::len)
    );
    assert_eq!(got["verdicts"], want["verdicts"]);
    let name = |p: &Path| p.display().to_string();
    assert_eq!(
        got["input"]["files"],
        json!([
            {"name": name(&a), "first_line": 1, "lines": 12, "compression": null, "ended_early": null},
            {"name": name(&b), "first_line": 13, "lines": 13, "compression": "gzip", "ended_early": null},
            {"name": name(&c), "first_line": 26, "lines": 10, "compression": null, "ended_early": null},
        ])
    );
    assert_eq!(got["input"]["lines"], 35);
    assert_eq!(got["input"]["compression"], Value::Null, "mixed");

    // Each report names the file and the line in it that holds its token.
    let texts: HashMap<String, Vec<&str>> = HashMap::from([
        (name(&a), lines[..12].to_vec()),
        (name(&b), lines[12..25].to_vec()),
        (name(&c), lines[25..].to_vec()),
    ]);
    assert_eq!(reports.len(), 15);
    for r in &reports {
        let file = r["file"].as_str().expect("file");
        let n = r["line"].as_u64().expect("line") as usize;
        let text = texts[file][n - 1];
        assert!(text.contains("eyJ"), "{file}:{n} is {text:?}");
    }
    // The first k1 token is line 15 of all: line 3 of the gzip file.
    let k1 = got["by_kid"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["value"] == "k1")
        .expect("k1");
    assert_eq!(k1["example"]["file"], name(&b));
    assert_eq!(k1["example"]["line"], 3);

    let human = scan_cmd(dir.path())
        .args([&a, &b, &c])
        .args(["--secret-file", &secret_file(dir.path())])
        .args(["--aud", API, "--now", &NOW.to_string()])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("in 35 line(s) of 3 logs"), "{text}");
    assert!(text.contains(&format!("{}:3", name(&b))), "{text}");
}

#[test]
fn a_cut_gzip_log_among_several_ends_only_itself() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = bearer_lines(400);
    let lines: Vec<&str> = text.lines().collect();
    let a = dir.path().join("a.log");
    std::fs::write(&a, lines[..100].join("\n") + "\n").expect("write");
    let gz = gzip((lines[100..300].join("\n") + "\n").as_bytes());
    let cut = dir.path().join("b.log.gz");
    std::fs::write(&cut, &gz[..gz.len() / 2]).expect("write");
    let c = dir.path().join("c.log");
    std::fs::write(&c, lines[300..].join("\n") + "\n").expect("write");

    let (code, _, s, stderr) = scan_paths_json(dir.path(), &[&a, &cut, &c]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!("log file {}: input ended early", cut.display())),
        "{stderr}"
    );
    let files = s["input"]["files"].as_array().expect("files");
    assert!(files[0]["ended_early"].is_null() && files[2]["ended_early"].is_null());
    assert!(
        files[1]["ended_early"]
            .as_str()
            .is_some_and(|w| w.contains("cut short"))
    );
    assert_eq!(
        files[2]["lines"], 100,
        "the log after the cut one is read whole"
    );
    let total = s["tokens"]["total"].as_u64().expect("total");
    assert!(total > 200 && total < 400, "{total}");
    assert_eq!(s["verdicts"]["accepted"]["tokens"].as_u64(), Some(total));
}

/// Tokens the logger masked or shortened are counted apart and never
/// diagnosed: their missing signature is the logger's doing, and calling them
/// `signature-missing` or `truncated` would invent the dominant failure.
#[test]
fn tokens_masked_or_shortened_by_the_log_are_counted_not_diagnosed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = bearer_lines(3);
    for n in 10..14 {
        let t = token(n, "k1", API, NOW + 60);
        let (head, _sig) = t.rsplit_once('.').expect("three segments");
        log.push_str(&format!("authorization=\"Bearer {head}.[REDACTED]\"\n"));
        log.push_str(&format!("token={}... status=401\n", &t[..100]));
    }
    log.push_str("Authorization: Bearer eyJhbGci\u{2026}[REDACTED]\n");
    // A whole token followed by `...` in a message is a whole token.
    log.push_str(&format!(
        "WARN rejected token {}...\n",
        token(99, "k1", API, NOW + 60)
    ));
    log.push_str("{\"auth\":\"Bearer eyJ***\"}\n");
    let path = dir.path().join("masked.log");
    std::fs::write(&path, &log).expect("write log");
    let (code, s, _) = scan_json(dir.path(), Some(&path), None);
    assert_eq!(code, 0, "{s:#}");
    assert_eq!(s["input"]["tokens_masked_by_log"], 10, "{s:#}");
    assert_eq!(s["input"]["lines_with_tokens"], 14, "{s:#}");
    assert_eq!(s["tokens"]["total"], 4, "{s:#}");
    let codes = rows_by(&s, "findings", "code");
    assert_eq!(codes["signature-valid"], (4, 4), "{s:#}");
    for code in ["signature-missing", "truncated", "opaque-token"] {
        assert!(!codes.contains_key(code), "{code}: {s:#}");
    }
    let human = scan_cmd(dir.path())
        .arg(&path)
        .args(["--secret-file", &secret_file(dir.path())])
        .args(["--now", &NOW.to_string(), "--no-progress"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("10 token(s) were masked or shortened by the log"),
        "{text}"
    );
}

/// A log of few distinct tokens repeated many times: a whole batch may be
/// repeats of tokens still being diagnosed. Such a batch is no end of the
/// input; the scan used to stop there, at 131072 of 900000 tokens.
#[test]
fn a_batch_of_only_repeats_of_pending_tokens_does_not_end_the_scan() {
    let dir = tempfile::tempdir().expect("tempdir");
    let distinct = ["eyJ0.e30.", "eyJ1.e30.", "eyJ2.e30."];
    let per_line = 1_000;
    let lines = 200;
    let line: Vec<&str> = distinct.iter().copied().cycle().take(per_line).collect();
    let line = line.join(" ");
    let log = format!("{line}\n").repeat(lines);
    let out = scan_cmd(dir.path())
        .args(["-", "--format", "json", "--now", &NOW.to_string()])
        .write_stdin(log)
        .output()
        .expect("run");
    let (_, s) = parse_jsonl(&out.stdout);
    assert!(per_line * lines > 3 * 64 * 1024, "more than three batches");
    assert_eq!(s["tokens"]["total"], per_line * lines, "{s:#}");
    assert_eq!(s["tokens"]["distinct"], 3);
    assert_eq!(s["input"]["lines"], lines);
}

/// A key-rotation incident after a long tail of one-off kids: 2,000 tokens
/// with a kid and audience each, then 3,000 (300 distinct) with the new kid.
/// The summary keeps the most frequent values, not the first 1,000, so the
/// dominant kid is a row of its own with its exact count, the rows add up
/// to the totals, and the human table shows only the top rows.
#[test]
fn a_late_dominant_kid_is_listed_with_its_exact_count() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = String::new();
    for i in 0..2000 {
        let t = token(i, &format!("kid-{i:05}"), &format!("api-{i:05}"), NOW - 10);
        log.push_str(&format!("Authorization: Bearer {t}\n"));
    }
    let rotated: Vec<String> = (0..300)
        .map(|i| token(10_000 + i, "rotated-2023-11", API, NOW + 1000))
        .collect();
    for i in 0..3000 {
        log.push_str(&format!("Authorization: Bearer {}\n", rotated[i % 300]));
    }
    let path = dir.path().join("latekid.log");
    std::fs::write(&path, &log).expect("write log");

    let (_, s, _) = scan_json(dir.path(), Some(&path), None);
    assert_eq!(s["tokens"]["total"], 5000);
    assert_eq!(s["tokens"]["distinct"], 2300);
    for (dim, top) in [("by_kid", "rotated-2023-11"), ("by_aud", API)] {
        let rows = s[dim].as_array().expect("rows");
        assert_eq!(rows[0]["value"], top, "{dim}");
        assert_eq!(rows[0]["tokens"], 3000, "{dim}");
        assert_eq!(rows[0]["distinct"], 300, "{dim}");
        assert_eq!(rows[0]["exact"], true, "{dim}");
        assert!(rows[0]["example"]["line"].as_u64() > Some(2000), "{dim}");
        // At most 1,000 values and (other), sorted by occurrences, adding up.
        assert!(rows.len() <= 1001, "{dim}: {} rows", rows.len());
        let tokens: Vec<u64> = rows
            .iter()
            .map(|r| r["tokens"].as_u64().expect("n"))
            .collect();
        assert!(tokens.is_sorted_by(|a, b| a >= b), "{dim}");
        assert_eq!(tokens.iter().sum::<u64>(), 5000, "{dim}");
        let distinct: u64 = rows
            .iter()
            .map(|r| r["distinct"].as_u64().expect("n"))
            .sum();
        assert_eq!(distinct, 2300, "{dim}");
        assert!(rows.iter().any(|r| r["value"] == "(other)"), "{dim}");
    }

    let out = scan_cmd(dir.path())
        .arg(&path)
        .args(["--secret-file", &secret_file(dir.path())])
        .args(["--aud", API, "--iss", ISS, "--now", &NOW.to_string()])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    let by_kid: Vec<&str> = text
        .split("By kid")
        .nth(1)
        .expect("a kid table")
        .lines()
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect();
    assert!(by_kid[0].starts_with("  rotated-2023-11 "), "{text}");
    assert!(by_kid[0].contains(" 3000 "), "{text}");
    // 20 values, (other), and how many more JSON lists.
    assert_eq!(by_kid.len(), 22, "{text}");
    assert!(
        by_kid[21].contains("980 more values (--format json lists up to 1000)"),
        "{text}"
    );
}

/// `--debug` says what the scan did and how long it took, on stderr, with
/// counts only: no token text.
#[test]
fn debug_output_tells_the_scan_stages_and_no_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let t = token(1, "k1", API, NOW + 600);
    let out = scan_cmd(dir.path())
        .args(["-", "--debug", "--no-progress", "--now", &NOW.to_string()])
        .write_stdin(format!(
            "Authorization: Bearer {t}\nAuthorization: Bearer {t}\n"
        ))
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("jwtai[debug] input: 1 log(s)"), "{stderr}");
    assert!(stderr.contains("jwtai[debug] scan: took "), "{stderr}");
    assert!(
        stderr.contains("2 lines (") && stderr.contains("2 tokens, 1 distinct"),
        "{stderr}"
    );
    assert!(!stderr.contains(&t[..20]), "{stderr}");
}

/// A root cause's example is a token whose root cause it is: an expired
/// token seen URL-encoded first (root cause `url-encoded` there) and then
/// whole in a cookie gives `expired` the cookie's line, not the first.
#[test]
fn a_root_cause_example_is_a_token_with_that_root_cause() {
    let dir = tempfile::tempdir().expect("tempdir");
    let expired = token(1, "k1", API, NOW - 7200);
    let encoded = expired.replace('.', "%2E");
    let text = format!(
        "GET /ws?token={encoded} HTTP/1.1\nINFO nothing here\nCookie: a=1; jwt={expired}\n"
    );
    let path = dir.path().join("misc.log");
    std::fs::write(&path, text).expect("write log");
    let out = scan_cmd(dir.path())
        .arg(&path)
        .args(["--secret-file", &secret_file(dir.path())])
        .args(["--aud", API, "--now", &NOW.to_string()])
        .args(["--format", "json"])
        .output()
        .expect("run");
    let (reports, summary) = parse_jsonl(&out.stdout);
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0]["root_cause"], "url-encoded", "{}", reports[0]);
    assert_eq!(reports[1]["root_cause"], "expired", "{}", reports[1]);
    let line_of = |rows: &str, code: &str| {
        summary[rows]
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["code"] == code)
            .map(|r| r["example"]["line"].clone())
    };
    assert_eq!(
        line_of("root_causes", "expired"),
        Some(json!(3)),
        "{summary}"
    );
    assert_eq!(
        line_of("root_causes", "url-encoded"),
        Some(json!(1)),
        "{summary}"
    );
    // A finding row's example may be any token with it: the first.
    assert_eq!(line_of("findings", "expired"), Some(json!(1)), "{summary}");

    let human = scan_cmd(dir.path())
        .arg(&path)
        .args(["--secret-file", &secret_file(dir.path())])
        .args(["--aud", API, "--now", &NOW.to_string()])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&human.stdout);
    let roots = text
        .split("Root cause of rejection")
        .nth(1)
        .and_then(|t| t.split("Findings (once per token)").next())
        .expect("a root-cause table");
    let after_expired = roots.split("✗ expired").nth(1).expect("an expired row");
    assert!(
        after_expired
            .trim_start()
            .lines()
            .nth(1)
            .is_some_and(|l| l.contains("line 3:")),
        "{roots}"
    );
}
