//! Helpers for `tests/signature.rs`: throwaway keys and tokens made with the
//! crate's own `jwtai::sign`, key files in a temporary directory, and the real
//! binary run as `diagnose TOKEN --now 1700000000 --format json`.
//!
//! Every run is checked for the two things no report may ever hold: a panic,
//! and the token's signature segment. Runs that used a secret are checked for
//! it with [`Outcome::assert_hidden`].
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use assert_cmd::Command;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwtai::alg::Alg;
use jwtai::sign::{SigningKey, sign_token};
use serde_json::{Value, json};
use tempfile::TempDir;

/// `--now` of every run: 2023-11-14 22:13:20 UTC, inside the claims' lifetime.
pub const NOW: &str = "1700000000";
pub const ISS: &str = "https://auth.example.com/";
pub const AUD: &str = "https://api.example.com";

/// The codes of the "Signature and keys" family, plus the four header codes
/// about keys, with the severity `findings.md` gives each.
pub const SIGNATURE_CODES: &[(&str, &str)] = &[
    ("signature-valid", "info"),
    ("signature-not-checked", "info"),
    ("signature-invalid", "error"),
    ("secret-whitespace", "error"),
    ("secret-encoding", "error"),
    ("wrong-kid", "error"),
    ("signature-length-mismatch", "error"),
    ("ecdsa-der-signature", "error"),
    ("psychic-signature", "error"),
    ("weak-secret", "error"),
    ("key-too-weak", "warning"),
    ("private-key-supplied", "warning"),
    ("alg-key-mismatch", "error"),
    ("algorithm-confusion", "error"),
    ("kid-missing", "warning"),
    ("kid-not-found", "error"),
];

/// Claims valid at [`NOW`]: issued ten minutes before, expiring fifty minutes after.
pub fn claims() -> Value {
    json!({"iss": ISS, "aud": AUD, "iat": 1_699_999_400, "exp": 1_700_003_000})
}

pub fn header(alg: Alg, kid: Option<&str>) -> Value {
    let mut h = json!({"alg": alg.name(), "typ": "JWT"});
    if let Some(kid) = kid {
        h["kid"] = json!(kid);
    }
    h
}

/// A fresh key for `alg` (RSA 2048, the alg's curve, Ed25519, 64 random HMAC bytes).
pub fn key(alg: Alg) -> SigningKey {
    SigningKey::generate(alg).unwrap_or_else(|e| panic!("generate {alg}: {e}"))
}

pub fn hmac_key(alg: Alg, secret: &[u8]) -> SigningKey {
    SigningKey::from_hmac_secret(alg, secret).expect("HMAC key")
}

/// A token for [`claims`], signed by `key` under its algorithm.
pub fn token(key: &SigningKey, kid: Option<&str>) -> String {
    sign_token(&header(key.alg(), kid), &claims(), key).expect("sign")
}

/// A printable secret of `len` random characters (base64url), so it can go
/// through `--secret` and an environment variable, and be searched for in output.
pub fn text_secret(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    aws_lc_rs::rand::fill(&mut bytes).expect("random bytes");
    let mut s = URL_SAFE_NO_PAD.encode(&bytes);
    s.truncate(len);
    // A leading '-' would make `--secret VALUE` parse as a flag (a flaky test,
    // not a product bug): start with a letter.
    s.replace_range(..1, "k");
    s
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The decoded signature of a compact token.
pub fn signature(token: &str) -> Vec<u8> {
    let seg = token.rsplit('.').next().expect("segments");
    URL_SAFE_NO_PAD.decode(seg).expect("base64url signature")
}

/// The same token with another signature.
pub fn with_signature(token: &str, sig: &[u8]) -> String {
    let (input, _) = token.rsplit_once('.').expect("three segments");
    format!("{input}.{}", b64(sig))
}

/// `header.payload` of a compact token: the bytes a signature covers.
pub fn signing_input(token: &str) -> &str {
    token.rsplit_once('.').expect("three segments").0
}

/// PEM text with LF line endings (`pem::encode` writes CRLF), as most PEM files are.
pub fn lf(pem: &str) -> String {
    pem.replace("\r\n", "\n")
}

pub fn spki_pem(key: &SigningKey) -> String {
    lf(&key.public_pem().expect("public PEM"))
}

/// `{"keys": [...]}` of these keys' public JWKs.
pub fn jwks(keys: &[(&SigningKey, &str)]) -> String {
    let keys: Vec<Value> = keys.iter().map(|(k, kid)| k.public_jwk(kid)).collect();
    json!({ "keys": keys }).to_string()
}

/// A checked-in fixture under `tests/data/`.
pub fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(path)
}

/// A temporary directory for key files and the JWKS cache.
pub struct Workspace {
    dir: TempDir,
}

impl Workspace {
    pub fn new() -> Workspace {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("cache")).expect("cache dir");
        Workspace { dir }
    }

    /// Writes `contents` to `name` in the workspace; returns the path as text.
    pub fn file(&self, name: &str, contents: impl AsRef<[u8]>) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).expect("write key file");
        path.to_str().expect("UTF-8 temp path").to_string()
    }

    pub fn path(&self, name: &str) -> String {
        self.dir
            .path()
            .join(name)
            .to_str()
            .expect("UTF-8 temp path")
            .to_string()
    }

    /// The real binary, hermetic: no colour, cache in the workspace, no AI keys.
    pub fn command(&self) -> Command {
        let mut cmd = Command::cargo_bin("jwtai").expect("the jwtai binary is built by cargo test");
        cmd.env("NO_COLOR", "1")
            .env("JWTAI_CACHE_DIR", self.dir.path().join("cache"))
            .env("JWTAI_MASK_KEY", "test-key")
            .env_remove("RUST_BACKTRACE")
            .env_remove("JWTAI_API_KEY")
            .env_remove("OPENAI_API_KEY")
            .timeout(Duration::from_secs(120));
        cmd
    }

    /// `jwtai ARGS` as given: status and output, no JSON expected.
    pub fn raw(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = self.command();
        cmd.args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd
            .output()
            .unwrap_or_else(|e| panic!("could not run jwtai {args:?}: {e}"));
        let run = Run {
            code: out.status.code().unwrap_or_else(|| {
                panic!("jwtai {args:?} was killed by a signal: {:?}", out.status)
            }),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        run.assert_no_crash();
        run
    }

    /// `jwtai diagnose TOKEN ARGS --now NOW --format json`.
    pub fn diagnose(&self, token: &str, args: &[&str]) -> Outcome {
        self.diagnose_with(token, args, NOW, &[])
    }

    /// Like [`Workspace::diagnose`], at another instant and with extra environment.
    pub fn diagnose_with(
        &self,
        token: &str,
        args: &[&str],
        now: &str,
        env: &[(&str, &str)],
    ) -> Outcome {
        let mut full = vec!["diagnose", token];
        full.extend_from_slice(args);
        full.extend_from_slice(&["--now", now, "--format", "json"]);
        let run = self.raw(&full, env);
        let report: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
            panic!(
                "jwtai diagnose {args:?} did not print a JSON report ({e}); exit {}\nstdout: {}\nstderr: {}",
                run.code, run.stdout, run.stderr
            )
        });
        assert_eq!(report["schema"], "jwtai.report/v1", "schema: {report:#}");
        let outcome = Outcome {
            run,
            report,
            args: args.iter().map(|s| s.to_string()).collect(),
        };
        if let Some(seg) = token.rsplit('.').next().filter(|s| s.len() >= 8) {
            if token.split('.').count() == 3 {
                outcome.assert_hidden_text(seg, "the signature segment");
            }
        }
        outcome
    }
}

/// One run of the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn assert_no_crash(&self) {
        for bad in ["panicked", "backtrace", "RUST_BACKTRACE", "internal error"] {
            assert!(
                !self.stderr.contains(bad) && !self.stdout.contains(bad),
                "output mentions {bad:?}\nstdout: {}\nstderr: {}",
                self.stdout,
                self.stderr
            );
        }
    }

    /// A usage or input error: exit 2, nothing on stdout, one line on stderr.
    pub fn assert_usage_error(&self) {
        assert_eq!(
            self.code, 2,
            "expected exit 2\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        assert!(
            self.stdout.trim().is_empty(),
            "a usage error prints no report: {}",
            self.stdout
        );
        let lines: Vec<&str> = self.stderr.trim().lines().collect();
        assert_eq!(lines.len(), 1, "one-line error expected: {:?}", self.stderr);
        assert!(!lines[0].trim().is_empty(), "empty error message");
    }
}

/// A `diagnose --format json` run with its parsed report.
pub struct Outcome {
    pub run: Run,
    pub report: Value,
    args: Vec<String>,
}

impl Outcome {
    pub fn codes(&self) -> Vec<String> {
        self.report["findings"]
            .as_array()
            .unwrap_or_else(|| panic!("no findings array: {:#}", self.report))
            .iter()
            .map(|f| f["code"].as_str().expect("finding code").to_string())
            .collect()
    }

    /// The codes of the signature family (and key-related header codes) present.
    pub fn signature_codes(&self) -> BTreeSet<String> {
        self.codes()
            .into_iter()
            .filter(|c| SIGNATURE_CODES.iter().any(|(s, _)| s == c))
            .collect()
    }

    pub fn has(&self, code: &str) -> bool {
        self.codes().iter().any(|c| c == code)
    }

    fn context(&self) -> String {
        format!(
            "args {:?}\ncodes {:?}\nexit {}\nreport: {:#}\nstderr: {}",
            self.args,
            self.codes(),
            self.run.code,
            self.report,
            self.run.stderr
        )
    }

    pub fn finding(&self, code: &str) -> &Value {
        self.report["findings"]
            .as_array()
            .and_then(|fs| fs.iter().find(|f| f["code"] == code))
            .unwrap_or_else(|| panic!("expected finding `{code}`\n{}", self.context()))
    }

    pub fn detail(&self, code: &str) -> &str {
        self.finding(code)["detail"]
            .as_str()
            .unwrap_or_else(|| panic!("`{code}` has no detail\n{}", self.context()))
    }

    /// The finding is absent.
    pub fn assert_lacks(&self, code: &str) -> &Self {
        assert!(
            !self.codes().iter().any(|c| c == code),
            "unexpected `{code}`\n{}",
            self.context()
        );
        self
    }

    /// The finding is present, with the severity `findings.md` gives it.
    pub fn assert_code(&self, code: &str) -> &Self {
        let expected = SIGNATURE_CODES
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, s)| *s)
            .unwrap_or_else(|| panic!("{code} is not a signature-family code"));
        let f = self.finding(code);
        assert_eq!(
            f["severity"],
            expected,
            "severity of `{code}`\n{}",
            self.context()
        );
        self
    }

    pub fn assert_absent(&self, code: &str) -> &Self {
        assert!(
            !self.has(code),
            "did not expect `{code}`\n{}",
            self.context()
        );
        self
    }

    /// Exactly these signature-family codes, no other.
    pub fn assert_signature_codes(&self, expected: &[&str]) -> &Self {
        let want: BTreeSet<String> = expected.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            self.signature_codes(),
            want,
            "signature-family codes\n{}",
            self.context()
        );
        for code in expected {
            self.assert_code(code);
        }
        self
    }

    pub fn assert_detail(&self, code: &str, needles: &[&str]) -> &Self {
        let d = self.detail(code);
        for n in needles {
            assert!(
                d.contains(n),
                "detail of `{code}` lacks {n:?}: {d}\n{}",
                self.context()
            );
        }
        self
    }

    /// Exit status and verdict.
    pub fn assert_exit(&self, code: i32, verdict: &str) -> &Self {
        assert_eq!(self.run.code, code, "exit status\n{}", self.context());
        assert_eq!(
            self.report["verdict"],
            verdict,
            "verdict\n{}",
            self.context()
        );
        self
    }

    /// The token verified: `signature-valid` and nothing else of the family,
    /// verdict `accepted`, exit 0.
    pub fn assert_accepted(&self) -> &Self {
        self.assert_signature_codes(&["signature-valid"]);
        self.assert_exit(0, "accepted")
    }

    /// `text` appears neither on stdout nor on stderr.
    pub fn assert_hidden_text(&self, text: &str, what: &str) -> &Self {
        assert!(!text.is_empty());
        for (stream, out) in [("stdout", &self.run.stdout), ("stderr", &self.run.stderr)] {
            assert!(
                !out.contains(text),
                "{what} appears on {stream}\n{}",
                self.context()
            );
        }
        self
    }

    /// A secret the run used appears nowhere in its output, neither as text
    /// nor base64url-encoded.
    pub fn assert_hidden(&self, secret: &[u8]) -> &Self {
        if let Ok(text) = std::str::from_utf8(secret) {
            self.assert_hidden_text(text, "the secret");
            let trimmed = text.trim();
            if !trimmed.is_empty() && trimmed != text {
                self.assert_hidden_text(trimmed, "the trimmed secret");
            }
        }
        self.assert_hidden_text(&b64(secret), "the secret (base64url)");
        self
    }
}
