//! `--jwks-uri` and `--discover` against a real HTTP server on 127.0.0.1:0.
//!
//! Each test starts its own scripted server ([`http_support::Server`]), runs
//! the real `jwtai` binary with a fresh `JWTAI_CACHE_DIR`, and asserts on the
//! JSON report *and* on what the server received. Nothing leaves the machine.

mod http_support;

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use http_support::{BodyMode, Reply, Server, dead_port};
use jwtai::alg::Alg;
use jwtai::sign::{SigningKey, sign_token};
use serde_json::{Value, json};

/// Every time claim is judged at this instant (2023-11-14 22:13:20 UTC).
const NOW: &str = "1700000000";

// ------------------------------------------------------------------ helpers

fn key() -> SigningKey {
    SigningKey::generate(Alg::ES256).expect("ES256 key")
}

/// Valid at [`NOW`]: issued 1000 s before, expires an hour after.
fn valid_claims() -> Value {
    json!({
        "iss": "https://auth.example.com/",
        "sub": "user-1",
        "aud": "https://api.example.com",
        "iat": 1_699_999_000,
        "exp": 1_700_003_600,
    })
}

/// Expired 10 000 s before [`NOW`]: an offline finding that network
/// failures must not hide.
fn expired_claims() -> Value {
    json!({
        "iss": "https://auth.example.com/",
        "sub": "user-1",
        "aud": "https://api.example.com",
        "iat": 1_699_986_400,
        "exp": 1_699_990_000,
    })
}

fn token(key: &SigningKey, kid: Option<&str>, claims: &Value) -> String {
    let mut header = json!({"alg": key.alg().name(), "typ": "JWT"});
    if let Some(kid) = kid {
        header["kid"] = json!(kid);
    }
    sign_token(&header, claims, key).expect("sign")
}

fn set(keys: &[Value]) -> Value {
    json!({ "keys": keys })
}

fn jwtai(cache: &Path) -> Command {
    let mut cmd = Command::cargo_bin("jwtai").expect("the jwtai binary is built by cargo test");
    cmd.env("NO_COLOR", "1")
        .env("JWTAI_CACHE_DIR", cache)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .env_remove("JWTAI_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .timeout(Duration::from_secs(60));
    cmd
}

struct Out {
    code: i32,
    json: Value,
    stdout: String,
    stderr: String,
}

impl Out {
    fn codes(&self) -> Vec<&str> {
        self.json["findings"]
            .as_array()
            .map(|a| a.iter().filter_map(|f| f["code"].as_str()).collect())
            .unwrap_or_default()
    }

    fn has(&self, code: &str) -> bool {
        self.codes().contains(&code)
    }

    fn finding(&self, code: &str) -> &Value {
        self.json["findings"]
            .as_array()
            .and_then(|a| a.iter().find(|f| f["code"] == code))
            .unwrap_or_else(|| panic!("no `{code}` finding in {:?}\n{}", self.codes(), self.stdout))
    }

    fn detail(&self, code: &str) -> String {
        self.finding(code)["detail"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn assert_has(&self, code: &str) {
        assert!(
            self.has(code),
            "expected `{code}` in {:?}\nstdout: {}\nstderr: {}",
            self.codes(),
            self.stdout,
            self.stderr
        );
    }

    fn assert_lacks(&self, code: &str) {
        assert!(
            !self.has(code),
            "unexpected `{code}` in {:?}\nstdout: {}",
            self.codes(),
            self.stdout
        );
    }
}

fn diagnose_in(cache: &Path, token: &str, extra: &[&str]) -> Out {
    let mut cmd = jwtai(cache);
    cmd.args(["diagnose", token, "--now", NOW, "--format", "json"])
        .args(extra);
    let out = cmd.output().expect("run jwtai");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let code = out
        .status
        .code()
        .unwrap_or_else(|| panic!("jwtai killed by a signal\nstderr: {stderr}"));
    let json: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!("stdout is not JSON ({e}), exit {code}\nstdout: {stdout}\nstderr: {stderr}")
    });
    assert_eq!(json["schema"], "jwtai.report/v1");
    assert!(
        !stdout.contains(token),
        "the raw token appears in the report"
    );
    Out {
        code,
        json,
        stdout,
        stderr,
    }
}

/// `diagnose TOKEN --jwks-uri URL` with a fresh cache directory.
fn diagnose_uri(token: &str, url: &str, extra: &[&str]) -> Out {
    let cache = tempfile::tempdir().expect("tempdir");
    let mut args = vec!["--jwks-uri", url];
    args.extend_from_slice(extra);
    diagnose_in(cache.path(), token, &args)
}

/// A network failure: reported as `jwks-fetch-failed` of `kind`, and the
/// offline findings (the token is expired) still come through.
fn assert_fetch_failed(out: &Out, kind: &str) {
    out.assert_has("jwks-fetch-failed");
    let f = out.finding("jwks-fetch-failed");
    assert_eq!(f["severity"], "error");
    assert_eq!(f["evidence"]["kind"], kind, "{f}");
    out.assert_has("expired");
    out.assert_lacks("signature-valid");
    assert_eq!(out.code, 1);
    assert_eq!(out.json["verdict"], "rejected");
}

// ------------------------------------------------------------------ happy path

#[test]
fn jwks_uri_verifies_the_signature_and_sends_a_jwtai_user_agent() {
    let server = Server::start();
    let k = key();
    server.route("/jwks", Reply::json(&set(&[k.public_jwk("k1")])));
    let t = token(&k, Some("k1"), &valid_claims());

    let out = diagnose_uri(&t, &server.url("/jwks"), &[]);

    out.assert_has("signature-valid");
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert_eq!(out.json["verdict"], "accepted");
    assert!(out.detail("signature-valid").contains("k1"));
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].path, "/jwks");
    let ua = requests[0].header("user-agent").unwrap_or_default();
    assert!(ua.contains("jwtai/"), "User-Agent: {ua:?}");
}

/// jose's JWKSNoMatchingKey while the live set holds the kid and verifies:
/// the server's copy of the set is stale, not the token.
#[test]
fn a_no_matching_key_error_with_a_live_set_that_verifies_blames_the_servers_stale_copy() {
    let server = Server::start();
    let k = key();
    server.route("/jwks", Reply::json(&set(&[k.public_jwk("new")])));
    let t = token(&k, Some("new"), &valid_claims());
    let out = diagnose_uri(
        &t,
        &server.url("/jwks"),
        &[
            "--error",
            "JWKSNoMatchingKey: no applicable key found in the JSON Web Key Set",
        ],
    );
    out.assert_has("signature-valid");
    let d = out.detail("error-text-matched");
    assert!(d.contains("holds kid \"new\""), "{d}");
    assert!(d.contains("predates a key rotation"), "{d}");
    assert!(!d.contains("different token"), "{d}");
}

// ------------------------------------------------------------------ cache

#[test]
fn rotation_refetches_once_when_the_cached_set_lacks_the_kid() {
    let server = Server::start();
    let old = key();
    let new = key();
    server.route(
        "/jwks",
        Reply::json(&set(&[old.public_jwk("k-old")])).header("Cache-Control", "max-age=600"),
    );
    let t = token(&new, Some("k-new"), &valid_claims());
    let cache = tempfile::tempdir().expect("tempdir");
    let url = server.url("/jwks");

    // First run fills the cache with the pre-rotation set.
    let first = diagnose_in(cache.path(), &t, &["--jwks-uri", &url]);
    first.assert_has("kid-not-found");
    first.assert_lacks("jwks-cache-stale");
    assert_eq!(server.hits("/jwks"), 1);

    // The issuer rotates: the set now holds the new key too.
    server.route(
        "/jwks",
        Reply::json(&set(&[old.public_jwk("k-old"), new.public_jwk("k-new")]))
            .header("Cache-Control", "max-age=600"),
    );
    let second = diagnose_in(cache.path(), &t, &["--jwks-uri", &url]);
    second.assert_has("jwks-cache-stale");
    second.assert_has("signature-valid");
    second.assert_lacks("kid-not-found");
    assert!(
        second.detail("jwks-cache-stale").contains("k-new"),
        "{}",
        second.detail("jwks-cache-stale")
    );
    assert_eq!(second.code, 0, "{}", second.stdout);
    assert_eq!(server.hits("/jwks"), 2, "exactly one re-fetch on kid miss");

    // The re-fetched set was cached: a third run needs no request.
    let third = diagnose_in(cache.path(), &t, &["--jwks-uri", &url]);
    third.assert_has("signature-valid");
    third.assert_lacks("jwks-cache-stale");
    assert_eq!(server.hits("/jwks"), 2);
}

#[test]
fn a_fresh_cached_set_is_reused_without_a_request() {
    let server = Server::start();
    let k = key();
    server.route(
        "/jwks",
        Reply::json(&set(&[k.public_jwk("k1")])).header("Cache-Control", "max-age=600"),
    );
    let t = token(&k, Some("k1"), &valid_claims());
    let cache = tempfile::tempdir().expect("tempdir");
    let url = server.url("/jwks");

    for _ in 0..2 {
        let out = diagnose_in(cache.path(), &t, &["--jwks-uri", &url]);
        out.assert_has("signature-valid");
        out.assert_lacks("jwks-cache-stale");
    }
    assert_eq!(server.hits("/jwks"), 1);
}

#[test]
fn no_cache_fetches_every_time_and_writes_nothing() {
    let server = Server::start();
    let k = key();
    server.route(
        "/jwks",
        Reply::json(&set(&[k.public_jwk("k1")])).header("Cache-Control", "max-age=600"),
    );
    let t = token(&k, Some("k1"), &valid_claims());
    let cache = tempfile::tempdir().expect("tempdir");
    let url = server.url("/jwks");

    for _ in 0..2 {
        let out = diagnose_in(cache.path(), &t, &["--jwks-uri", &url, "--no-cache"]);
        out.assert_has("signature-valid");
    }
    assert_eq!(server.hits("/jwks"), 2);
    // Key sets are cached under `jwks/` in jwtai's cache root.
    let written: Vec<_> = std::fs::read_dir(cache.path().join("jwks"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(written.is_empty(), "--no-cache wrote {written:?}");
}

// ------------------------------------------------------------------ kid

#[test]
fn kid_not_in_the_set_is_kid_not_found_naming_the_available_kids() {
    let server = Server::start();
    let (signer, a, b) = (key(), key(), key());
    server.route(
        "/jwks",
        Reply::json(&set(&[a.public_jwk("k-alpha"), b.public_jwk("k-beta")])),
    );
    let t = token(&signer, Some("k-gamma"), &valid_claims());

    let out = diagnose_uri(&t, &server.url("/jwks"), &[]);

    out.assert_has("kid-not-found");
    let detail = out.detail("kid-not-found");
    for kid in ["k-gamma", "k-alpha", "k-beta"] {
        assert!(detail.contains(kid), "{kid} not in {detail}");
    }
    out.assert_lacks("signature-valid");
    assert_eq!(out.code, 1);
}

#[test]
fn no_kid_with_two_keys_is_kid_missing() {
    let server = Server::start();
    let (signer, other) = (key(), key());
    server.route(
        "/jwks",
        Reply::json(&set(&[
            other.public_jwk("k-other"),
            signer.public_jwk("k-signer"),
        ])),
    );
    let t = token(&signer, None, &valid_claims());

    let out = diagnose_uri(&t, &server.url("/jwks"), &[]);

    out.assert_has("kid-missing");
    out.assert_has("signature-valid");
    assert_eq!(out.finding("kid-missing")["severity"], "warning");
    assert_eq!(out.code, 0, "{}", out.stdout);
}

// ------------------------------------------------------------------ HTTP and body problems

#[test]
fn http_404_is_jwks_http_error() {
    let server = Server::start();
    let t = token(&key(), Some("k1"), &expired_claims());
    // No route: the server answers 404.
    let out = diagnose_uri(&t, &server.url("/wrong/jwks"), &[]);

    out.assert_has("jwks-http-error");
    assert!(out.detail("jwks-http-error").contains("404"));
    assert_eq!(out.finding("jwks-http-error")["evidence"]["status"], 404);
    out.assert_has("expired");
    assert_eq!(out.code, 1);
    assert_eq!(server.hits("/wrong/jwks"), 1);
}

#[test]
fn http_500_is_jwks_http_error() {
    let server = Server::start();
    server.route("/jwks", Reply::new(500, "text/plain", "upstream exploded"));
    let t = token(&key(), Some("k1"), &expired_claims());

    let out = diagnose_uri(&t, &server.url("/jwks"), &[]);

    out.assert_has("jwks-http-error");
    assert!(out.detail("jwks-http-error").contains("500"));
    out.assert_has("expired");
    assert_eq!(out.code, 1);
}

#[test]
fn an_html_login_page_is_jwks_invalid() {
    let server = Server::start();
    server.route(
        "/jwks",
        Reply::new(
            200,
            "text/html; charset=utf-8",
            "<!DOCTYPE html><html><head><title>Sign in</title></head><body><form action=\"/login\"><input name=\"username\"><input type=\"password\" name=\"password\"></form></body></html>",
        ),
    );
    let t = token(&key(), Some("k1"), &valid_claims());

    let out = diagnose_uri(&t, &server.url("/jwks"), &[]);

    out.assert_has("jwks-invalid");
    let detail = out.detail("jwks-invalid");
    assert!(detail.contains("HTML"), "{detail}");
    assert!(detail.contains("login"), "{detail}");
    out.assert_lacks("signature-valid");
    assert_eq!(out.code, 1);
}

#[test]
fn invalid_json_is_jwks_invalid() {
    let server = Server::start();
    server.route(
        "/jwks",
        Reply::new(200, "application/json", "{\"keys\": [ {\"kty\": \"EC\", "),
    );
    let t = token(&key(), Some("k1"), &valid_claims());

    let out = diagnose_uri(&t, &server.url("/jwks"), &[]);

    out.assert_has("jwks-invalid");
    out.assert_lacks("jwks-empty");
    assert_eq!(out.code, 1);
}

#[test]
fn an_empty_set_is_jwks_empty() {
    let server = Server::start();
    server.route("/jwks", Reply::json(&json!({"keys": []})));
    let t = token(&key(), Some("k1"), &valid_claims());

    let out = diagnose_uri(&t, &server.url("/jwks"), &[]);

    out.assert_has("jwks-empty");
    out.assert_lacks("jwks-invalid");
    out.assert_lacks("signature-valid");
    assert_eq!(out.code, 1);
}

#[test]
fn an_encryption_key_in_the_set_is_unusable_but_the_signing_key_verifies() {
    let server = Server::start();
    let (signer, enc) = (key(), key());
    let mut enc_jwk = enc.public_jwk("k-enc");
    enc_jwk["use"] = json!("enc");
    enc_jwk["alg"] = json!("ECDH-ES");
    server.route(
        "/jwks",
        Reply::json(&set(&[signer.public_jwk("k-sig"), enc_jwk])),
    );
    let t = token(&signer, Some("k-sig"), &valid_claims());

    let out = diagnose_uri(&t, &server.url("/jwks"), &[]);

    out.assert_has("jwks-key-unusable");
    out.assert_has("signature-valid");
    assert!(out.detail("jwks-key-unusable").contains("k-enc"));
    assert_eq!(out.finding("jwks-key-unusable")["severity"], "warning");
    assert_eq!(out.code, 0, "{}", out.stdout);
}

#[test]
fn two_keys_with_one_kid_are_jwks_duplicate_kid() {
    let server = Server::start();
    let (signer, other) = (key(), key());
    server.route(
        "/jwks",
        Reply::json(&set(&[other.public_jwk("k1"), signer.public_jwk("k1")])),
    );
    let t = token(&signer, Some("k1"), &valid_claims());

    let out = diagnose_uri(&t, &server.url("/jwks"), &[]);

    out.assert_has("jwks-duplicate-kid");
    assert!(out.detail("jwks-duplicate-kid").contains("k1"));
    assert_eq!(out.finding("jwks-duplicate-kid")["severity"], "warning");
}

// ------------------------------------------------------------------ network failures

#[test]
fn a_slow_server_times_out_and_the_offline_findings_remain() {
    let server = Server::start();
    let k = key();
    server.route(
        "/jwks",
        Reply::json(&set(&[k.public_jwk("k1")])).delay(Duration::from_secs(3)),
    );
    let t = token(&k, Some("k1"), &expired_claims());

    // The process ending at all (within the harness timeout) and reporting
    // the timeout is the assertion; no wall-clock bound that could flake.
    let out = diagnose_uri(&t, &server.url("/jwks"), &["--timeout", "1"]);

    assert_fetch_failed(&out, "timeout");
    let detail = out.detail("jwks-fetch-failed");
    assert!(detail.contains("timed out"), "{detail}");
}

#[test]
fn a_body_that_stalls_times_out_while_reading_the_body() {
    let server = Server::start();
    let k = key();
    server.route(
        "/jwks",
        Reply::json(&set(&[k.public_jwk("k1")]))
            .mode(BodyMode::StallAfter(10, Duration::from_secs(3))),
    );
    let t = token(&k, Some("k1"), &expired_claims());

    let out = diagnose_uri(&t, &server.url("/jwks"), &["--timeout", "1"]);

    assert_fetch_failed(&out, "timeout");
    let detail = out.detail("jwks-fetch-failed");
    assert!(detail.contains("body"), "{detail}");
}

#[test]
fn a_connection_closed_mid_body_is_jwks_fetch_failed() {
    let server = Server::start();
    let k = key();
    server.route(
        "/jwks",
        Reply::json(&set(&[k.public_jwk("k1")])).mode(BodyMode::CutAfter(20)),
    );
    let t = token(&k, Some("k1"), &expired_claims());

    let out = diagnose_uri(&t, &server.url("/jwks"), &[]);

    assert_fetch_failed(&out, "interrupted");
    assert!(out.detail("jwks-fetch-failed").contains("closed"));
}

fn oversize_body() -> Vec<u8> {
    // 2 MiB of syntactically plausible JSON, over the 1 MiB limit.
    let mut body = b"{\"keys\": [], \"padding\": \"".to_vec();
    body.resize(2 * 1024 * 1024, b'a');
    body.extend_from_slice(b"\"}");
    body
}

#[test]
fn an_oversize_body_with_content_length_is_too_large() {
    let server = Server::start();
    server.route(
        "/jwks",
        Reply::new(200, "application/json", oversize_body()),
    );
    let t = token(&key(), Some("k1"), &expired_claims());

    let out = diagnose_uri(&t, &server.url("/jwks"), &[]);

    assert_fetch_failed(&out, "too-large");
    assert!(out.detail("jwks-fetch-failed").contains("larger than"));
}

#[test]
fn an_oversize_body_without_content_length_is_too_large() {
    let server = Server::start();
    server.route(
        "/jwks",
        Reply::new(200, "application/json", oversize_body()).mode(BodyMode::UntilClose),
    );
    let t = token(&key(), Some("k1"), &expired_claims());

    let out = diagnose_uri(&t, &server.url("/jwks"), &[]);

    assert_fetch_failed(&out, "too-large");
}

#[test]
fn connection_refused_is_jwks_fetch_failed() {
    let port = dead_port();
    let t = token(&key(), Some("k1"), &expired_claims());

    let out = diagnose_uri(&t, &format!("http://127.0.0.1:{port}/jwks"), &[]);

    assert_fetch_failed(&out, "refused");
    assert!(out.detail("jwks-fetch-failed").contains(&port.to_string()));
}

#[test]
fn a_302_redirect_to_the_set_is_followed() {
    let server = Server::start();
    let k = key();
    server.route("/old/jwks", Reply::redirect("/jwks"));
    server.route("/jwks", Reply::json(&set(&[k.public_jwk("k1")])));
    let t = token(&k, Some("k1"), &valid_claims());

    let out = diagnose_uri(&t, &server.url("/old/jwks"), &[]);

    out.assert_has("signature-valid");
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert_eq!(server.hits("/old/jwks"), 1);
    assert_eq!(server.hits("/jwks"), 1);
}

// ------------------------------------------------------------------ discovery

/// An issuer at the server's base whose discovery document points to
/// `/keys`, a set holding the returned key as `k1`.
fn discovery_server() -> (Server, SigningKey) {
    let server = Server::start();
    let k = key();
    server.route(
        "/.well-known/openid-configuration",
        Reply::json(&json!({"issuer": server.base(), "jwks_uri": server.url("/keys")})),
    );
    server.route("/keys", Reply::json(&set(&[k.public_jwk("k1")])));
    (server, k)
}

fn discovery_token(server: &Server, k: &SigningKey) -> String {
    let mut claims = valid_claims();
    claims["iss"] = json!(server.base());
    token(k, Some("k1"), &claims)
}

#[test]
fn discover_follows_the_issuer_document_to_the_set() {
    let (server, k) = discovery_server();
    let t = discovery_token(&server, &k);
    let cache = tempfile::tempdir().expect("tempdir");

    let out = diagnose_in(cache.path(), &t, &["--discover"]);

    out.assert_has("signature-valid");
    out.assert_lacks("discovery-issuer-mismatch");
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert_eq!(server.hits("/.well-known/openid-configuration"), 1);
    assert_eq!(server.hits("/keys"), 1);
}

#[test]
fn discover_with_another_issuer_in_the_document_is_discovery_issuer_mismatch() {
    let server = Server::start();
    let k = key();
    server.route(
        "/.well-known/openid-configuration",
        Reply::json(&json!({
            "issuer": "https://login.other-tenant.example.com",
            "jwks_uri": server.url("/keys"),
        })),
    );
    server.route("/keys", Reply::json(&set(&[k.public_jwk("k1")])));
    let t = discovery_token(&server, &k);
    let cache = tempfile::tempdir().expect("tempdir");

    let out = diagnose_in(cache.path(), &t, &["--discover"]);

    out.assert_has("discovery-issuer-mismatch");
    let f = out.finding("discovery-issuer-mismatch");
    assert_eq!(f["evidence"]["expected"], json!(server.base()));
    assert_eq!(
        f["evidence"]["found"],
        "https://login.other-tenant.example.com"
    );
    assert_eq!(out.code, 1);
}

/// A 404 on `/.well-known/openid-configuration` is the discovery document's
/// failure, not the JWKS URL's: titled so, with advice about the issuer URL
/// and `--jwks-uri`, never "take jwks_uri from the discovery document".
#[test]
fn discover_with_a_missing_document_is_jwks_http_error() {
    let server = Server::start();
    let k = key();
    let t = discovery_token(&server, &k);
    let cache = tempfile::tempdir().expect("tempdir");

    let out = diagnose_in(cache.path(), &t, &["--discover"]);

    out.assert_has("jwks-http-error");
    let f = out.finding("jwks-http-error");
    assert!(
        out.detail("jwks-http-error")
            .contains("openid-configuration")
    );
    assert_eq!(
        f["title"],
        "The discovery document answered with an HTTP error"
    );
    assert_eq!(f["evidence"]["document"], "discovery");
    let fix = f["fix"].as_str().unwrap_or_default();
    assert!(fix.contains("--jwks-uri"), "{fix}");
    assert!(fix.contains("realms"), "{fix}");
    assert!(
        !out.stdout.contains("take `jwks_uri` from"),
        "{}",
        out.stdout
    );
    assert!(
        !out.stdout.contains("The JWKS URL answered"),
        "{}",
        out.stdout
    );
    assert_eq!(server.hits("/.well-known/openid-configuration"), 1);
    assert_eq!(out.code, 1);
}

/// The discovery document names a jwks_uri that answers 404: the provider's
/// metadata is wrong; "take jwks_uri from discovery" would send the user in
/// a circle.
#[test]
fn a_missing_set_named_by_discovery_blames_the_providers_metadata() {
    let server = Server::start();
    let k = key();
    server.route(
        "/.well-known/openid-configuration",
        Reply::json(&json!({"issuer": server.base(), "jwks_uri": server.url("/gone")})),
    );
    let t = discovery_token(&server, &k);
    let cache = tempfile::tempdir().expect("tempdir");

    let out = diagnose_in(cache.path(), &t, &["--discover"]);

    let f = out.finding("jwks-http-error");
    assert_eq!(f["evidence"]["document"], "jwks");
    let detail = out.detail("jwks-http-error");
    assert!(detail.contains("the discovery document"), "{detail}");
    assert!(detail.contains("names"), "{detail}");
    let fix = f["fix"].as_str().unwrap_or_default();
    assert!(!fix.contains("openid-configuration"), "{fix}");
    assert_eq!(server.hits("/gone"), 1);
}

/// `--discover` and `--jwks-uri` together: one would be ignored, so it is a
/// usage error, not a silent choice.
#[test]
fn discover_with_a_jwks_uri_is_a_usage_error() {
    let t = token(&key(), Some("k1"), &valid_claims());
    let cache = tempfile::tempdir().expect("tempdir");
    let out = jwtai(cache.path())
        .args(["diagnose", &t, "--now", NOW, "--discover"])
        .args(["--jwks-uri", "http://127.0.0.1:9/jwks"])
        .output()
        .expect("run jwtai");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--discover"), "{stderr}");
    assert!(stderr.contains("--jwks-uri"), "{stderr}");
    assert!(out.stdout.is_empty());
}

/// `--timeout` takes the duration syntax `--leeway` takes (`5s`), plus ms.
#[test]
fn timeout_takes_a_duration_with_a_unit() {
    let server = Server::start();
    let k = key();
    server.route("/jwks", Reply::json(&set(&[k.public_jwk("k1")])));
    let t = token(&k, Some("k1"), &valid_claims());
    for timeout in ["5s", "2500ms", "1m", "5"] {
        let out = diagnose_uri(&t, &server.url("/jwks"), &["--timeout", timeout]);
        out.assert_has("signature-valid");
    }
    let cache = tempfile::tempdir().expect("tempdir");
    let listed = jwtai(cache.path())
        .args(["jwks", &server.url("/jwks"), "--timeout", "5s"])
        .output()
        .expect("run jwtai jwks");
    assert_eq!(listed.status.code(), Some(0));
}

// ------------------------------------------------------------------ more cache behaviour

#[test]
fn a_re_fetch_that_still_lacks_the_kid_says_so() {
    let server = Server::start();
    let (old, new) = (key(), key());
    server.route(
        "/jwks",
        Reply::json(&set(&[old.public_jwk("k-old")])).header("Cache-Control", "max-age=600"),
    );
    let t = token(&new, Some("k-new"), &valid_claims());
    let cache = tempfile::tempdir().expect("tempdir");
    let url = server.url("/jwks");

    diagnose_in(cache.path(), &t, &["--jwks-uri", &url]).assert_has("kid-not-found");
    let second = diagnose_in(cache.path(), &t, &["--jwks-uri", &url]);

    second.assert_has("jwks-cache-stale");
    second.assert_has("kid-not-found");
    assert!(
        second.detail("jwks-cache-stale").contains("still lacks"),
        "{}",
        second.detail("jwks-cache-stale")
    );
    assert_eq!(server.hits("/jwks"), 2);
    assert_eq!(second.code, 1);
}

#[test]
fn a_no_store_response_is_not_cached() {
    let server = Server::start();
    let k = key();
    server.route(
        "/jwks",
        Reply::json(&set(&[k.public_jwk("k1")])).header("Cache-Control", "no-store"),
    );
    let t = token(&k, Some("k1"), &valid_claims());
    let cache = tempfile::tempdir().expect("tempdir");
    let url = server.url("/jwks");

    for _ in 0..2 {
        diagnose_in(cache.path(), &t, &["--jwks-uri", &url]).assert_has("signature-valid");
    }
    assert_eq!(server.hits("/jwks"), 2);
}

#[test]
fn an_error_response_is_not_cached() {
    let server = Server::start();
    let k = key();
    server.route(
        "/jwks",
        Reply::new(500, "text/plain", "down").header("Cache-Control", "max-age=600"),
    );
    let t = token(&k, Some("k1"), &valid_claims());
    let cache = tempfile::tempdir().expect("tempdir");
    let url = server.url("/jwks");

    diagnose_in(cache.path(), &t, &["--jwks-uri", &url]).assert_has("jwks-http-error");
    server.route("/jwks", Reply::json(&set(&[k.public_jwk("k1")])));
    diagnose_in(cache.path(), &t, &["--jwks-uri", &url]).assert_has("signature-valid");
    assert_eq!(server.hits("/jwks"), 2);
}

#[cfg(unix)]
#[test]
fn cache_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let server = Server::start();
    let k = key();
    server.route(
        "/jwks",
        Reply::json(&set(&[k.public_jwk("k1")])).header("Cache-Control", "max-age=600"),
    );
    let t = token(&k, Some("k1"), &valid_claims());
    let root = tempfile::tempdir().expect("tempdir");
    let cache = root.path().join("nested").join("jwks");

    diagnose_in(&cache, &t, &["--jwks-uri", &server.url("/jwks")]).assert_has("signature-valid");

    let cache = cache.join("jwks");
    let dir_mode = std::fs::metadata(&cache)
        .expect("cache dir")
        .permissions()
        .mode();
    assert_eq!(dir_mode & 0o077, 0, "cache dir mode {dir_mode:o}");
    let files: Vec<_> = std::fs::read_dir(&cache)
        .expect("read cache dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let mode = std::fs::metadata(&files[0])
        .expect("cache file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "cache file mode {mode:o}");
}

// ------------------------------------------------------------------ more failures

#[test]
fn a_redirect_loop_gives_up() {
    let server = Server::start();
    server.route("/a", Reply::redirect("/b"));
    server.route("/b", Reply::redirect("/a"));
    let t = token(&key(), Some("k1"), &expired_claims());

    let out = diagnose_uri(&t, &server.url("/a"), &[]);

    assert_fetch_failed(&out, "too-many-redirects");
    assert!(server.hits("/a") + server.hits("/b") <= 10);
}

#[test]
fn a_redirect_to_another_scheme_is_refused() {
    let server = Server::start();
    server.route("/jwks", Reply::redirect("file:///etc/passwd"));
    let t = token(&key(), Some("k1"), &expired_claims());

    let out = diagnose_uri(&t, &server.url("/jwks"), &[]);

    assert_fetch_failed(&out, "invalid-url");
    assert!(!out.stdout.contains("root:"), "{}", out.stdout);
}

#[test]
fn a_jwks_uri_that_is_no_http_url_is_a_bad_flag_value() {
    let t = token(&key(), Some("k1"), &expired_claims());
    let cache = tempfile::tempdir().expect("tempdir");
    let file = cache.path().join("jwks.json");
    std::fs::write(&file, "{\"keys\":[]}").expect("write");
    let file = file.display().to_string();
    for (uri, says) in [
        ("file:///etc/passwd", "the scheme is `file`"),
        ("notaurl", "add the scheme"),
        ("http://", "http:// or https://"),
        (file.as_str(), "pass it with --key"),
    ] {
        let out = jwtai(cache.path())
            .args(["diagnose", &t, "--now", NOW, "--jwks-uri", uri])
            .output()
            .expect("run jwtai");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{uri}: {stderr}");
        assert!(stderr.contains(says), "{uri}: {stderr}");
        assert!(out.stdout.is_empty(), "{uri}");
    }
    // And a URL given to --key names the flag that fetches it.
    let out = jwtai(cache.path())
        .args([
            "diagnose",
            &t,
            "--now",
            NOW,
            "--key",
            "https://issuer.example/jwks",
        ])
        .output()
        .expect("run jwtai");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--jwks-uri https://issuer.example/jwks")
    );
}

#[test]
fn a_single_jwk_at_the_jwks_url_is_jwks_invalid() {
    let server = Server::start();
    let k = key();
    server.route("/jwks", Reply::json(&k.public_jwk("k1")));
    let t = token(&k, Some("k1"), &valid_claims());

    let out = diagnose_uri(&t, &server.url("/jwks"), &[]);

    out.assert_has("jwks-invalid");
    assert!(
        out.detail("jwks-invalid").contains("single JWK"),
        "{}",
        out.detail("jwks-invalid")
    );
}

#[test]
fn error_body_excerpts_redact_tokens_and_secrets() {
    let server = Server::start();
    let leaked = token(&key(), Some("leak"), &valid_claims());
    let secret = "Zq3vT9xK2mW8pL5nR7bY4cF6hJ1dG0sAeU";
    server.route(
        "/jwks",
        Reply::new(
            404,
            "text/plain",
            format!("not found; debug: token={leaked} client_secret={secret}"),
        ),
    );
    let t = token(&key(), Some("k1"), &valid_claims());

    let out = diagnose_uri(&t, &server.url("/jwks"), &[]);

    let detail = out.detail("jwks-http-error");
    assert!(detail.contains("not found"), "{detail}");
    assert!(!out.stdout.contains(&leaked), "{detail}");
    assert!(
        !out.stdout
            .contains(leaked.rsplit('.').next().unwrap_or("-")),
        "{detail}"
    );
    assert!(!out.stdout.contains(secret), "{detail}");
}

#[test]
fn invalid_timeouts_are_usage_errors() {
    let t = token(&key(), Some("k1"), &valid_claims());
    let cache = tempfile::tempdir().expect("tempdir");
    for bad in ["0", "-1", "abc", "NaN", "inf"] {
        let out = jwtai(cache.path())
            .args(["diagnose", &t, "--now", NOW, "--format", "json"])
            .args(["--jwks-uri", "http://127.0.0.1:9/jwks", "--timeout", bad])
            .output()
            .expect("run jwtai");
        assert_eq!(out.status.code(), Some(2), "--timeout {bad}");
    }
}

// ------------------------------------------------------------------ more discovery

/// `--discover` with no issuer to start from is a usage error (exit 2)
/// that names both ways out, not a failed fetch.
#[test]
fn discover_without_any_issuer_is_a_usage_error() {
    let k = key();
    let mut c = valid_claims();
    c.as_object_mut().expect("object").remove("iss");
    let t = token(&k, Some("k1"), &c);
    let cache = tempfile::tempdir().expect("tempdir");

    for command in ["diagnose", "suggest-tests"] {
        let out = jwtai(cache.path())
            .args([command, &t, "--now", NOW, "--discover"])
            .output()
            .expect("run jwtai");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command}: {stderr}");
        assert!(stderr.contains("no `iss` claim"), "{stderr}");
        assert!(stderr.contains("--iss"), "{stderr}");
        assert!(stderr.contains("--jwks-uri"), "{stderr}");
        assert!(out.stdout.is_empty(), "{command}");
    }
}

#[test]
fn discover_falls_back_to_the_iss_flag() {
    let (server, k) = discovery_server();
    let mut c = valid_claims();
    c.as_object_mut().expect("object").remove("iss");
    let t = token(&k, Some("k1"), &c);
    let cache = tempfile::tempdir().expect("tempdir");

    let out = diagnose_in(cache.path(), &t, &["--discover", "--iss", &server.base()]);

    out.assert_has("signature-valid");
    assert_eq!(server.hits("/keys"), 1);
}

#[test]
fn discover_keeps_the_issuer_trailing_slash_for_the_comparison() {
    let server = Server::start();
    let k = key();
    let issuer = format!("{}/", server.base());
    server.route(
        "/.well-known/openid-configuration",
        Reply::json(&json!({"issuer": issuer, "jwks_uri": server.url("/keys")})),
    );
    server.route("/keys", Reply::json(&set(&[k.public_jwk("k1")])));
    let mut c = valid_claims();
    c["iss"] = json!(issuer);
    let t = token(&k, Some("k1"), &c);
    let cache = tempfile::tempdir().expect("tempdir");

    let out = diagnose_in(cache.path(), &t, &["--discover"]);

    out.assert_lacks("discovery-issuer-mismatch");
    out.assert_has("signature-valid");
    assert_eq!(server.hits("/.well-known/openid-configuration"), 1);
}

#[test]
fn a_discovery_document_without_jwks_uri_is_jwks_invalid() {
    let server = Server::start();
    let k = key();
    server.route(
        "/.well-known/openid-configuration",
        Reply::json(&json!({"issuer": server.base()})),
    );
    let t = discovery_token(&server, &k);
    let cache = tempfile::tempdir().expect("tempdir");

    let out = diagnose_in(cache.path(), &t, &["--discover"]);

    out.assert_has("jwks-invalid");
    assert!(out.detail("jwks-invalid").contains("jwks_uri"));
}

// ------------------------------------------------------------------ scan

/// `scan --jwks-uri`: the set is fetched once for the whole log (not once
/// per token), its keys verify every token, and a token signed by a key
/// outside the set is told apart.
#[test]
fn scan_fetches_the_jwks_once_per_run_and_verifies_every_token_with_it() {
    let server = Server::start();
    let k = key();
    let stranger = key();
    server.route("/jwks", Reply::json(&set(&[k.public_jwk("k1")])));
    let mut lines: Vec<String> = (0..40)
        .map(|i| {
            let mut claims = valid_claims();
            claims["jti"] = json!(format!("t-{i}"));
            format!("Authorization: Bearer {}", token(&k, Some("k1"), &claims))
        })
        .collect();
    lines.push(token(&stranger, Some("k2"), &valid_claims()));
    let (summary, code) = scan_json(&lines, &["--jwks-uri", &server.url("/jwks")]);
    assert_eq!(server.hits("/jwks"), 1, "one fetch for 41 tokens");
    assert_eq!(summary["tokens"]["total"], 41);
    assert_eq!(
        tokens_with(&summary, "signature-valid"),
        40,
        "{}",
        summary["findings"]
    );
    assert_eq!(
        tokens_with(&summary, "kid-not-found"),
        1,
        "{}",
        summary["findings"]
    );
    assert_eq!(code, Some(1));
}

/// `jwtai scan - --format json ARGS` over `lines`: the summary (last line) and the exit code.
fn scan_json(lines: &[String], args: &[&str]) -> (Value, Option<i32>) {
    let cache = tempfile::tempdir().expect("tempdir");
    let out = Command::cargo_bin("jwtai")
        .expect("binary")
        .env("JWTAI_CACHE_DIR", cache.path())
        .args(["scan", "-", "--format", "json", "--now", NOW])
        .args(args)
        .write_stdin(lines.join("\n"))
        .output()
        .expect("run");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let summary = serde_json::from_str(text.lines().last().expect("a summary line")).expect("JSON");
    (summary, out.status.code())
}

/// Tokens of a scan summary that have the finding `code`.
fn tokens_with(summary: &Value, code: &str) -> u64 {
    summary["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["code"] == code)
        .map_or(0, |f| f["tokens"].as_u64().unwrap_or(0))
}

/// `scan --discover` discovers from the first token that names an issuer: a
/// JWT-shaped fragment or an issuer-less token first in the log does not
/// leave the whole run without keys.
#[test]
fn scan_discovers_from_the_first_token_that_names_an_issuer() {
    let (server, k) = discovery_server();
    let mut no_iss = valid_claims();
    no_iss.as_object_mut().expect("claims").remove("iss");
    let lines = [
        "GET /health eyJhbGciOiJub25lIn0.e30. 200".to_string(),
        format!("Authorization: Bearer {}", token(&k, Some("k1"), &no_iss)),
        format!("Authorization: Bearer {}", discovery_token(&server, &k)),
    ];
    let (summary, _) = scan_json(&lines, &["--discover"]);
    assert_eq!(server.hits("/.well-known/openid-configuration"), 1);
    assert_eq!(server.hits("/keys"), 1);
    assert_eq!(
        tokens_with(&summary, "signature-valid"),
        2,
        "both signed tokens verify with the discovered set: {summary}"
    );
}

/// An issuer that serialised its signing key into the published set: the
/// set's fault (`jwks-private-key`, an error), not the user's
/// (`private-key-supplied`), and `jwtai jwks` lists it and exits 1.
#[test]
fn a_published_set_holding_a_private_key_is_an_error_of_the_issuer() {
    let server = Server::start();
    let k = key();
    let mut jwk = k.public_jwk("k1");
    // The scalar's value does not matter to the finding; its presence does.
    jwk["d"] = json!("dGhpcy1pcy1hLTMyLWJ5dGUtcHJpdmF0ZS1zY2FsYXI");
    server.route("/jwks", Reply::json(&set(&[jwk])));
    let t = token(&k, Some("k1"), &valid_claims());

    let out = diagnose_uri(&t, &server.url("/jwks"), &[]);
    out.assert_has("jwks-private-key");
    out.assert_has("signature-valid");
    out.assert_lacks("private-key-supplied");
    assert_eq!(out.finding("jwks-private-key")["severity"], "error");
    assert!(out.detail("jwks-private-key").contains("kid \"k1\""));
    assert!(
        !out.stdout.contains("dGhpcy1pcy1h"),
        "the private member leaked"
    );
    assert_eq!(out.code, 1);

    let cache = tempfile::tempdir().expect("tempdir");
    let listed = jwtai(cache.path())
        .args(["jwks", &server.url("/jwks")])
        .output()
        .expect("run jwtai jwks");
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(text.contains("holds the private key"), "{text}");
    assert!(!text.contains("dGhpcy1pcy1h"), "{text}");
    assert_eq!(listed.status.code(), Some(1), "{text}");
}

/// What JWKS URLs answer in practice besides a JWK Set: a discovery
/// document (its jwks_uri named), gzip nobody asked for, a byte-order mark
/// strict parsers reject.
#[test]
fn discovery_documents_gzip_and_a_bom_at_the_jwks_url() {
    let server = Server::start();
    let k = SigningKey::generate(Alg::RS256).expect("RSA key");
    let t = token(&k, Some("k1"), &valid_claims());
    let jwks = set(&[k.public_jwk("k1")]).to_string();
    server.route(
        "/discovery",
        Reply::json(
            &json!({"issuer": "https://auth.example.com/", "jwks_uri": server.url("/jwks")}),
        ),
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, jwks.as_bytes()).expect("gzip");
    server.route(
        "/gzip",
        Reply::new(200, "application/json", gz.finish().expect("gzip"))
            .header("Content-Encoding", "gzip"),
    );
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(jwks.as_bytes());
    server.route("/bom", Reply::new(200, "application/json", bom));

    let out = diagnose_uri(&t, &server.url("/discovery"), &[]);
    assert!(
        out.detail("jwks-invalid")
            .contains(&format!("pass --jwks-uri {}", server.url("/jwks"))),
        "{}",
        out.detail("jwks-invalid")
    );
    let out = diagnose_uri(&t, &server.url("/gzip"), &[]);
    let detail = out.detail("jwks-invalid");
    assert!(detail.contains("gzip-compressed"), "{detail}");
    assert!(detail.contains("bytes of binary data"), "{detail}");
    // The fix fits the body: compression, not an auth proxy.
    let f = out.finding("jwks-invalid");
    let fix = f["fix"].as_str().unwrap_or_default();
    assert!(fix.contains("Accept-Encoding"), "{fix}");
    assert!(!fix.contains("proxy"), "{fix}");
    assert_eq!(f["evidence"]["body"], "gzip");
    let out = diagnose_uri(&t, &server.url("/bom"), &[]);
    assert!(out.detail("jwks-invalid").contains("byte-order mark"));
    let fix = out.finding("jwks-invalid")["fix"]
        .as_str()
        .unwrap_or_default();
    assert!(fix.contains("without a byte-order mark"), "{fix}");
}

/// `jwtai jwks --format json` for scripts: what the human listing says of
/// the set (no keys) is in the JSON too, every problem carries its finding
/// code and severity, `bits` is a number, and `ok` matches the exit status.
/// `size` and the `problems` messages stay for existing readers.
#[test]
fn jwks_json_carries_codes_bits_and_the_sets_own_problems() {
    let server = Server::start();
    server.route("/empty", Reply::json(&json!({"keys": []})));
    let rsa = SigningKey::generate(Alg::RS256).expect("RSA key");
    let ec = key();
    let mut enc = ec.public_jwk("e1");
    enc["use"] = json!("enc");
    server.route(
        "/mixed",
        Reply::json(&set(&[rsa.public_jwk("r1"), enc, ec.public_jwk("r1")])),
    );
    let list = |path: &str| {
        let cache = tempfile::tempdir().expect("tempdir");
        let out = jwtai(cache.path())
            .args(["jwks", &server.url(path), "--format", "json"])
            .output()
            .expect("run jwtai jwks");
        let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        (v, out.status.code())
    };

    let (v, code) = list("/empty");
    assert_eq!(code, Some(1));
    assert_eq!(v["schema"], "jwtai.jwks/v1");
    assert_eq!(v["ok"], false);
    assert_eq!(v["findings"][0]["code"], "jwks-empty", "{v}");
    assert_eq!(v["findings"][0]["severity"], "error", "{v}");
    assert!(
        v["problems"][0]
            .as_str()
            .is_some_and(|m| m.contains("no keys"))
    );

    let (v, code) = list("/mixed");
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["ok"], true);
    let keys = v["keys"].as_array().expect("keys");
    assert_eq!(keys[0]["bits"], 2048);
    assert_eq!(keys[0]["size"], "2048 bits");
    assert_eq!(keys[1]["curve"], "P-256");
    assert_eq!(keys[1]["bits"], 256);
    let codes = |k: &Value| -> Vec<String> {
        k["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| f["code"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(codes(&keys[1]), ["jwks-key-unusable"], "{v}");
    assert_eq!(codes(&keys[2]), ["jwks-duplicate-kid"], "{v}");
    assert_eq!(keys[2]["findings"][0]["severity"], "warning");
    assert_eq!(
        keys[2]["problems"][0], keys[2]["findings"][0]["message"],
        "the v1 messages are kept"
    );
}

/// [`scan_json`], with standard error too.
fn scan_json_err(lines: &[String], args: &[&str]) -> (Value, Option<i32>, String) {
    let cache = tempfile::tempdir().expect("tempdir");
    let out = jwtai(cache.path())
        .args([
            "scan",
            "-",
            "--format",
            "json",
            "--now",
            NOW,
            "--no-progress",
        ])
        .args(args)
        .write_stdin(lines.join("\n"))
        .output()
        .expect("run");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let summary = serde_json::from_str(text.lines().last().expect("a summary line")).expect("JSON");
    (
        summary,
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The `example.detail` of a summary row (`root_causes` or `findings`) of `code`.
fn row_detail(summary: &Value, rows: &str, code: &str) -> String {
    summary[rows]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["code"] == code)
        .and_then(|r| r["example"]["detail"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// `n` distinct valid tokens of the discovery server's issuer, signed by `k` under `kid`.
fn issuer_lines(server: &Server, k: &SigningKey, kid: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let mut claims = valid_claims();
            claims["iss"] = json!(server.base());
            claims["jti"] = json!(format!("{kid}-{i}"));
            format!("Authorization: Bearer {}", token(k, Some(kid), &claims))
        })
        .collect()
}

/// A discovery server whose set holds `k` under `kid`.
fn issuer_server(kid: &str) -> (Server, SigningKey) {
    let server = Server::start();
    let k = key();
    server.route(
        "/.well-known/openid-configuration",
        Reply::json(&json!({"issuer": server.base(), "jwks_uri": server.url("/keys")})),
    );
    server.route("/keys", Reply::json(&set(&[k.public_jwk(kid)])));
    (server, k)
}

/// `scan --discover` on a log of two issuers: each issuer's tokens are
/// checked against its own key set, fetched once each; none is blamed on a
/// key rotated out of the other's set.
#[test]
fn scan_discover_checks_each_issuer_against_its_own_key_set() {
    let (a, ka) = issuer_server("a1");
    let (b, kb) = issuer_server("b1");
    let mut lines = issuer_lines(&a, &ka, "a1", 5);
    lines.extend(issuer_lines(&b, &kb, "b1", 5));
    lines.extend(issuer_lines(&a, &ka, "a1", 2));
    let (summary, code, stderr) = scan_json_err(&lines, &["--discover"]);
    for s in [&a, &b] {
        assert_eq!(s.hits("/.well-known/openid-configuration"), 1);
        assert_eq!(s.hits("/keys"), 1, "each issuer's set fetched once");
    }
    assert_eq!(tokens_with(&summary, "signature-valid"), 12, "{summary}");
    assert_eq!(tokens_with(&summary, "kid-not-found"), 0, "{summary}");
    assert_eq!(code, Some(0), "{summary}\n{stderr}");
    let sets = summary["key_sets"]["sets"].as_array().expect("key sets");
    assert_eq!(sets.len(), 2, "{summary}");
    assert_eq!(sets[1]["issuer"], json!(b.base()));
    assert_eq!(sets[1]["keys"], 1);
    assert_eq!(summary["run_findings"], json!([]));
}

/// A token checked against another issuer's set (one `--jwks-uri` for a
/// log of two issuers) is said to be so, not blamed on a rotation.
#[test]
fn scan_names_the_other_issuer_instead_of_a_rotation() {
    let (a, ka) = issuer_server("a1");
    let (b, kb) = issuer_server("b1");
    let mut lines = issuer_lines(&a, &ka, "a1", 3);
    lines.extend(issuer_lines(&b, &kb, "b1", 3));
    for args in [
        vec!["--jwks-uri".to_string(), a.url("/keys")],
        vec![
            "--jwks-uri".to_string(),
            a.url("/keys"),
            "--iss".to_string(),
            a.base(),
        ],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (summary, _, _) = scan_json_err(&lines, &args);
        assert_eq!(tokens_with(&summary, "signature-valid"), 3, "{summary}");
        assert_eq!(tokens_with(&summary, "kid-not-found"), 3, "{summary}");
        let detail = row_detail(&summary, "findings", "kid-not-found");
        assert!(
            detail.contains(&format!(
                "The token's issuer \"{}\" is not \"{}\"",
                b.base(),
                a.base()
            )),
            "{detail}"
        );
        assert!(!detail.contains("The key was rotated out"), "{detail}");
    }
}

/// More issuers than one scan fetches sets for: the first
/// `MAX_ISSUERS` (8) are fetched, once each; the tokens of the next are
/// not checked against any set, and the summary and stderr say so.
#[test]
fn scan_discover_fetches_at_most_eight_issuers_and_says_so() {
    let servers: Vec<(Server, SigningKey)> = (0..9).map(|_| issuer_server("k1")).collect();
    let lines: Vec<String> = servers
        .iter()
        .flat_map(|(s, k)| issuer_lines(s, k, "k1", 2))
        .collect();
    let (summary, code, stderr) = scan_json_err(&lines, &["--discover"]);
    for (s, _) in &servers[..8] {
        assert_eq!(s.hits("/keys"), 1);
    }
    assert_eq!(servers[8].0.hits("/.well-known/openid-configuration"), 0);
    assert_eq!(tokens_with(&summary, "signature-valid"), 16, "{summary}");
    assert_eq!(
        tokens_with(&summary, "signature-not-checked"),
        2,
        "{summary}"
    );
    assert!(
        row_detail(&summary, "findings", "signature-not-checked").contains("at most 8 issuers"),
        "{summary}"
    );
    let not = &summary["key_sets"]["issuers_not_fetched"];
    assert_eq!(not["past_max_issuers"], 1, "{summary}");
    assert_eq!(not["examples"], json!([servers[8].0.base()]));
    assert!(stderr.contains("1 issuer(s) past the 8"), "{stderr}");
    assert_eq!(code, Some(0), "{stderr}");
}

/// A JWKS that cannot be fetched is reported once for the run (stderr and
/// `run_findings`), not as every token's root cause: tokens keep their own
/// causes, their signatures are "not checked", and the exit status is 1,
/// as `diagnose` exits on `jwks-fetch-failed`.
#[test]
fn scan_reports_a_failed_jwks_fetch_once_for_the_run() {
    let k = key();
    let mut lines: Vec<String> = (0..4)
        .map(|i| {
            let mut claims = expired_claims();
            claims["jti"] = json!(i);
            format!("Authorization: Bearer {}", token(&k, Some("k1"), &claims))
        })
        .collect();
    lines.push(format!(
        "Authorization: Bearer {}",
        token(&k, Some("k1"), &valid_claims())
    ));
    lines.push("Authorization: Bearer undefined".to_string());
    let dead = format!("http://127.0.0.1:{}/jwks", dead_port());
    let (summary, code, stderr) = scan_json_err(&lines, &["--jwks-uri", &dead]);
    let roots: Vec<&str> = summary["root_causes"]
        .as_array()
        .expect("root causes")
        .iter()
        .filter_map(|r| r["code"].as_str())
        .collect();
    assert!(roots.contains(&"expired"), "{roots:?}");
    assert!(!roots.contains(&"jwks-fetch-failed"), "{roots:?}");
    assert_eq!(tokens_with(&summary, "jwks-fetch-failed"), 0, "{summary}");
    assert_eq!(
        tokens_with(&summary, "signature-not-checked"),
        5,
        "{summary}"
    );
    assert!(
        row_detail(&summary, "findings", "signature-not-checked").contains("could not be fetched"),
        "{summary}"
    );
    let run = summary["run_findings"].as_array().expect("run findings");
    assert_eq!(run.len(), 1, "{summary}");
    assert_eq!(run[0]["code"], "jwks-fetch-failed");
    assert_eq!(summary["key_sets"]["sets"][0]["fetched"], false);
    assert_eq!(stderr.matches("jwks-fetch-failed").count(), 1, "{stderr}");
    assert_eq!(code, Some(1));

    // Only valid tokens: nothing rejected, but the run failed to get keys.
    let (summary, code, _) = scan_json_err(&lines[4..5], &["--jwks-uri", &dead]);
    assert_eq!(summary["verdicts"]["rejected"]["tokens"], 0, "{summary}");
    assert_eq!(summary["verdicts"]["unverified"]["tokens"], 1, "{summary}");
    assert_eq!(
        code,
        Some(1),
        "a key set that could not be fetched is an error"
    );
}
