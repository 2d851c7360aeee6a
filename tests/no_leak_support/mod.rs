//! The harness of `tests/no_leak.rs`: one sensitive fixture (tokens full of
//! personal data, a known HMAC secret, a known API key, a private key), the
//! list of byte strings that must never leave the process, and a runner that
//! executes the real binary under a chosen cache-dir fault and collects every
//! byte it wrote: stdout, stderr, every file under the cache dir (and an
//! `--out` dir), with each entry's permissions.
//!
//! Also here: an "echo" model endpoint whose error (or answer) repeats the raw
//! request it received, headers included, as a misbehaving gateway would.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use jwtai::alg::Alg;
use jwtai::sign::{SigningKey, sign_token};
use serde_json::{Value, json};

// ---------------------------------------------------------------- the secrets

/// `--now` for every run: 2023-11-14 22:13:20 UTC.
pub const NOW: i64 = 1_700_000_000;
pub const NOW_ARG: &str = "1700000000";
pub const AUD: &str = "https://api.example.com";

/// The HMAC secret the HS256 token is signed with: random-looking, as a
/// production secret is (38 bytes, no `weak-secret`).
pub const SECRET: &str = "hs256-Zq3xV9tLm2PwR7sKd8YhN4bC6fJ1gAeU";
/// A second secret that does not verify the token (the "wrong secret" path).
pub const WRONG_SECRET: &str = "wrong-Jk8sLq2Vn5Xr9Tz3Bw7Cy1Df4Gh6Mp0";
/// The environment variable `--secret-env` names; it holds [`SECRET`].
pub const SECRET_VAR: &str = "NO_LEAK_HS_SECRET";
/// The model API key, always in `JWTAI_API_KEY` for every run.
pub const API_KEY: &str = "sk-test-DO-NOT-LEAK-0123456789abcdef";

/// Personal data and secrets carried as claim values. With `--reveal` these
/// may appear on stdout (local display of claim values), nowhere else.
pub const PII_EMAIL: &str = "jane.doe@example.org";
pub const PII_NAME: &str = "Jane Quincy Doe";
pub const PII_PHONE: &str = "+1 415 555 0142";
pub const PII_SUB: &str = "user-8f3a2c91-77";
pub const PII_IP: &str = "203.0.113.77";
pub const PII_CARD: &str = "4111 1111 1111 1111";
pub const PII_PASSWORD: &str = "hunter2-Sup3rSecret!";
pub const PII_STRIPE: &str = "sk_live_51HqLyjWDarjtT1zdp7dcXYZ0123";
pub const PII_STREET: &str = "742 Evergreen Terrace";
/// A connection string with its password, as a claim.
pub const PII_DB_URL: &str = "postgres://admin:PgP4ss-Zq3xV9@db01.prod.internal:5432/app";
pub const PII_IBAN: &str = "DE89370400440532013000";
/// An email as one word of a kept claim's list (`scope`).
pub const PII_SCOPE_EMAIL: &str = "scope.owner@example.net";
/// Secrets in the error text given with `--error-file`, in the forms logs
/// print them.
pub const ERR_SECRETS: &[(&str, &str)] = &[
    ("connection string password", "Mg0Pa55-Kx7Wq2"),
    ("Basic credentials", "YWRtaW46aHVudGVyMi1aOHE="),
    ("Set-Cookie value", "8F3A2B1C9D0E7F6A5B4C3D2E1F0A9B8C"),
    ("env-file secret", "changeme-in-prod-Qw3rty"),
    ("quoted signing key", "hmac-shared-key-Zz91"),
];
pub const CLAIM_VALUES: &[(&str, &str)] = &[
    ("email", PII_EMAIL),
    ("name", PII_NAME),
    ("phone", PII_PHONE),
    ("sub", PII_SUB),
    ("ip", PII_IP),
    ("card", PII_CARD),
    ("password", PII_PASSWORD),
    ("api_key claim", PII_STRIPE),
    ("street", PII_STREET),
    ("connection string", PII_DB_URL),
    ("iban", PII_IBAN),
    ("email in scope", PII_SCOPE_EMAIL),
];

fn claims(iss: &str) -> Value {
    json!({
        "iss": iss,
        "aud": AUD,
        "sub": PII_SUB,
        "email": PII_EMAIL,
        "name": PII_NAME,
        "phone_number": PII_PHONE,
        "ip": PII_IP,
        "card": PII_CARD,
        "password": PII_PASSWORD,
        "api_key": PII_STRIPE,
        "address": {"street_address": PII_STREET, "country": "US"},
        "scope": format!("read:orders {PII_SCOPE_EMAIL}"),
        "db": PII_DB_URL,
        "iban": PII_IBAN,
        "iat": NOW - 7200,
        "exp": NOW - 3600,
    })
}

/// [`SECRET`] base64url-encoded, as an `oct` JWK's `k` holds it.
pub fn secret_k() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(SECRET)
}

// ---------------------------------------------------------------- the fixture

/// Every file a run may be pointed at, in one private temp dir.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    /// HS256, signed with [`SECRET`], kid `hs-1`, expired an hour before [`NOW`].
    pub hs: String,
    /// RS256, signed with [`Fixture::key_pem`]'s key, kid `rs-1`, same claims.
    pub rs: String,
    pub rsa: SigningKey,
    /// The public JWK Set of the RS256 key.
    pub jwks: Value,
    pub iss: String,
    pub forbidden: Forbidden,
}

impl Fixture {
    /// Tokens whose `iss` is `iss` (a test server's base for `--discover`).
    pub fn new(iss: &str) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let hmac = SigningKey::from_hmac_secret(Alg::HS256, SECRET.as_bytes()).expect("hmac key");
        let hs = sign_token(
            &json!({"alg": "HS256", "typ": "JWT", "kid": "hs-1"}),
            &claims(iss),
            &hmac,
        )
        .expect("sign HS256");
        let rsa = SigningKey::generate_rsa(Alg::RS256, 2048).expect("RSA key");
        let rs = sign_token(
            &json!({"alg": "RS256", "typ": "JWT", "kid": "rs-1"}),
            &claims(iss),
            &rsa,
        )
        .expect("sign RS256");
        let jwks = json!({"keys": [rsa.public_jwk("rs-1")]});
        let private_pem = rsa.private_pem().expect("private PEM");
        let fx = Fixture {
            forbidden: Forbidden::new(&[&hs, &rs], &private_pem),
            dir,
            hs,
            rs,
            rsa,
            jwks,
            iss: iss.to_string(),
        };
        fx.write("secret.txt", SECRET.as_bytes());
        fx.write("secret-newline.txt", format!("{SECRET}\n").as_bytes());
        fx.write("wrong-secret.txt", WRONG_SECRET.as_bytes());
        fx.write("rsa-private.pem", private_pem.as_bytes());
        fx.write(
            "rsa-private-broken.pem",
            private_pem.replacen("MII", "M*I", 1).as_bytes(),
        );
        fx.write(
            "rsa-public.pem",
            fx.rsa.public_pem().expect("pem").as_bytes(),
        );
        fx.write("jwks.json", fx.jwks.to_string().as_bytes());
        fx.write(
            "jwk-oct.json",
            json!({"keys": [{"kty": "oct", "kid": "hs-1", "alg": "HS256", "k": secret_k()}]})
                .to_string()
                .as_bytes(),
        );
        fx.write("hs.jwt", fx.hs.as_bytes());
        fx.write("rs.jwt", fx.rs.as_bytes());
        fx.write(
            "error.txt",
            format!(
                "JsonWebTokenError: jwt expired\n  at verify (token {tok}, secret {SECRET}, user {PII_EMAIL})\n\
                 DATABASE_URL=mongodb+srv://root:{db}@cluster0.internal/test\n\
                 Authorization: Basic {basic}\n\
                 Set-Cookie: JSESSIONID={cookie}; Path=/; HttpOnly\n\
                 JWT_SECRET={env}\n\
                 signing key: \"{key}\"\n",
                tok = fx.hs,
                db = ERR_SECRETS[0].1,
                basic = ERR_SECRETS[1].1,
                cookie = ERR_SECRETS[2].1,
                env = ERR_SECRETS[3].1,
                key = ERR_SECRETS[4].1,
            )
            .as_bytes(),
        );
        fx
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The path as an argument.
    pub fn arg(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, bytes).expect("write fixture file");
        p
    }

    /// A `curl` command that carries the token, the API key in another header,
    /// and personal data in the URL.
    pub fn curl(&self) -> String {
        format!(
            "curl -sS 'https://api.example.com/orders?email={PII_EMAIL}' \\\n  -H 'Authorization: Bearer {}' \\\n  -H 'X-Api-Key: {API_KEY}'\n",
            self.hs
        )
    }
}

// ---------------------------------------------------------------- forbidden bytes

/// What a forbidden string is, which decides where it may still appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Token, signature, payload, secret, API key, private key: nowhere.
    Credential,
    /// A claim value: on stdout with `--reveal` only.
    Claim,
}

#[derive(Debug, Clone)]
pub struct Item {
    pub label: String,
    pub bytes: String,
    pub class: Class,
}

/// Every byte string that must not leave the process.
#[derive(Debug, Clone)]
pub struct Forbidden {
    pub items: Vec<Item>,
}

impl Forbidden {
    fn new(tokens: &[&str], private_pem: &str) -> Forbidden {
        let mut items = Vec::new();
        let mut add = |label: String, bytes: &str, class: Class| {
            items.push(Item {
                label,
                bytes: bytes.to_string(),
                class,
            });
        };
        for (i, t) in tokens.iter().enumerate() {
            let segs: Vec<&str> = t.split('.').collect();
            assert_eq!(segs.len(), 3, "a compact JWS");
            let sig = segs[2];
            add(format!("token #{i}"), t, Class::Credential);
            add(format!("signature of token #{i}"), sig, Class::Credential);
            let mid = sig.len() / 2 - 10;
            add(
                format!("20-char slice of signature #{i}"),
                &sig[mid..mid + 20],
                Class::Credential,
            );
            add(
                format!("20-char head of signature #{i}"),
                &sig[..20],
                Class::Credential,
            );
            add(
                format!("payload segment of token #{i}"),
                segs[1],
                Class::Credential,
            );
            let pmid = segs[1].len() / 2;
            add(
                format!("24-char slice of payload #{i}"),
                &segs[1][pmid..pmid + 24],
                Class::Credential,
            );
        }
        add("the HMAC secret".into(), SECRET, Class::Credential);
        add(
            "the wrong HMAC secret".into(),
            WRONG_SECRET,
            Class::Credential,
        );
        add("the API key".into(), API_KEY, Class::Credential);
        add(
            "the HMAC secret as a JWK `k`".into(),
            &secret_k(),
            Class::Credential,
        );
        for (n, line) in private_pem
            .lines()
            .filter(|l| !l.starts_with("-----") && l.len() >= 32)
            .enumerate()
        {
            add(
                format!("private key line {n}"),
                line.trim(),
                Class::Credential,
            );
        }
        for (label, v) in ERR_SECRETS {
            add(format!("error text {label}"), v, Class::Credential);
        }
        for (label, v) in CLAIM_VALUES {
            add(format!("claim value ({label})"), v, Class::Claim);
        }
        Forbidden { items }
    }

    /// `(label, excerpt)` of every forbidden string in `hay`.
    /// `claims_ok`: claim values are allowed here (stdout with `--reveal`).
    pub fn find_in(&self, hay: &[u8], claims_ok: bool) -> Vec<(String, String)> {
        let mut found = Vec::new();
        for item in &self.items {
            if claims_ok && item.class == Class::Claim {
                continue;
            }
            if let Some(pos) = find(hay, item.bytes.as_bytes()) {
                let from = pos.saturating_sub(60);
                let to = (pos + item.bytes.len() + 60).min(hay.len());
                found.push((
                    item.label.clone(),
                    String::from_utf8_lossy(&hay[from..to]).into_owned(),
                ));
            }
        }
        found
    }
}

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > hay.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

// ---------------------------------------------------------------- the runner

/// What the cache dir (`JWTAI_CACHE_DIR`) looks like before the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cache {
    /// Does not exist yet: jwtai creates it.
    Fresh,
    /// `JWTAI_CACHE_DIR` unset: the default under `$HOME/.cache` (HOME is a fresh dir).
    Default,
    /// Exists, mode 0500 (no writes, unless running as root).
    ReadOnly,
    /// A regular file stands where the directory should be.
    IsFile,
    /// Fresh, but every file write fails (RLIMIT_FSIZE 0, SIGXFSZ ignored):
    /// the disk is full. Applies to `--out` writes too.
    Full,
}

/// How debug output is switched on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Debug {
    /// `jwtai --debug ...`
    Flag,
    /// `RUST_LOG=debug`
    Env,
}

pub struct Run<'a> {
    pub args: Vec<String>,
    pub stdin: Option<Vec<u8>>,
    pub cache: Cache,
    pub debug: Debug,
    /// Directories (besides the cache) whose every file is scanned (`--out`).
    pub scan_dirs: Vec<PathBuf>,
    pub env: Vec<(&'a str, String)>,
}

/// A file or directory jwtai left behind.
#[derive(Debug)]
pub struct Entry {
    pub path: PathBuf,
    pub mode: u32,
    pub is_dir: bool,
    pub bytes: Vec<u8>,
}

pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Everything under the cache root (and the root itself when jwtai made it).
    pub cache_entries: Vec<Entry>,
    pub other_entries: Vec<Entry>,
    pub cache_root: PathBuf,
}

impl Outcome {
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// Runs the binary with a hermetic environment: fresh HOME and cache, the API
/// key and the secret variable always set, no proxy, no colour.
pub fn run(r: &Run) -> Outcome {
    let home = tempfile::tempdir().expect("home");
    let cache_root = match r.cache {
        Cache::Default => home.path().join(".cache").join("jwtai"),
        _ => home.path().join("cache"),
    };
    match r.cache {
        Cache::ReadOnly => {
            std::fs::create_dir(&cache_root).expect("mkdir cache");
            std::fs::set_permissions(&cache_root, std::fs::Permissions::from_mode(0o500))
                .expect("chmod 0500");
        }
        Cache::IsFile => {
            std::fs::write(&cache_root, b"not a directory").expect("write file");
            std::fs::set_permissions(&cache_root, std::fs::Permissions::from_mode(0o600))
                .expect("chmod 0600");
        }
        _ => {}
    }
    let bin = env!("CARGO_BIN_EXE_jwtai");
    let mut cmd = if r.cache == Cache::Full {
        let mut c = std::process::Command::new("/bin/sh");
        c.arg("-c")
            .arg(r#"trap '' XFSZ; ulimit -f 0; exec "$0" "$@""#)
            .arg(bin);
        c
    } else {
        std::process::Command::new(bin)
    };
    if r.debug == Debug::Flag {
        cmd.arg("--debug");
    }
    cmd.args(&r.args);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("NO_COLOR", "1")
        .env("NO_PROXY", "*")
        .env("no_proxy", "*")
        .env("JWTAI_RETRY_BASE_MS", "10")
        .env("JWTAI_API_KEY", API_KEY)
        .env(SECRET_VAR, SECRET);
    if r.cache != Cache::Default {
        cmd.env("JWTAI_CACHE_DIR", &cache_root);
    }
    if r.debug == Debug::Env {
        cmd.env("RUST_LOG", "debug");
    }
    for (k, v) in &r.env {
        cmd.env(k, v);
    }
    let mut cmd = assert_cmd::Command::from_std(cmd);
    cmd.timeout(Duration::from_secs(60));
    if let Some(input) = &r.stdin {
        cmd.write_stdin(input.clone());
    }
    let out = cmd.output().expect("run jwtai");
    // Let a read-only root be walked and cleaned up.
    let cache_entries = if r.cache == Cache::Default {
        // Everything jwtai made under HOME (HOME itself is the test's).
        walk(&home.path().join(".cache"))
    } else {
        walk(&cache_root)
    };
    let mut other_entries = Vec::new();
    for d in &r.scan_dirs {
        other_entries.extend(walk(d));
    }
    if cache_root.is_dir() {
        let _ = std::fs::set_permissions(&cache_root, std::fs::Permissions::from_mode(0o700));
    }
    Outcome {
        code: out.status.code(),
        stdout: out.stdout,
        stderr: out.stderr,
        cache_entries,
        other_entries,
        cache_root,
    }
}

/// The entry at `root` (if any) and everything below it.
fn walk(root: &Path) -> Vec<Entry> {
    let mut out = Vec::new();
    let Ok(meta) = std::fs::symlink_metadata(root) else {
        return out;
    };
    let is_dir = meta.is_dir();
    out.push(Entry {
        path: root.to_path_buf(),
        mode: meta.permissions().mode() & 0o7777,
        is_dir,
        bytes: if meta.is_file() {
            std::fs::read(root).unwrap_or_default()
        } else {
            Vec::new()
        },
    });
    if is_dir {
        if let Ok(rd) = std::fs::read_dir(root) {
            let mut children: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
            children.sort();
            for c in children {
                out.extend(walk(&c));
            }
        }
    }
    out
}

// ---------------------------------------------------------------- the echo endpoint

/// How the echo endpoint answers: each repeats the raw request it got.
#[derive(Debug, Clone, Copy)]
pub enum Echo {
    /// This status with an OpenAI-style error whose message is the raw request.
    Error(u16),
    /// 200 `text/event-stream` whose one event's data is the raw request (not JSON).
    BadSse,
    /// 200 `application/json`, body: the raw request (not JSON).
    BadJson,
}

/// A model endpoint that echoes what it received, and records it.
pub struct EchoServer {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Vec<u8>>>>,
    stop: Arc<AtomicBool>,
}

impl EchoServer {
    pub fn start(mode: Echo) -> EchoServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, s) = (Arc::clone(&requests), Arc::clone(&stop));
        thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let r = Arc::clone(&r);
                thread::spawn(move || echo(conn, mode, &r));
            }
        });
        EchoServer {
            addr,
            requests,
            stop,
        }
    }

    pub fn base(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn requests(&self) -> Vec<Vec<u8>> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

fn echo(mut conn: TcpStream, mode: Echo, requests: &Mutex<Vec<Vec<u8>>>) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(p) = find(&raw, b"\r\n\r\n") {
            break p + 4;
        }
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while raw.len() < head_end + len {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
    requests.lock().unwrap().push(raw.clone());
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (status, ctype, body) = match mode {
        Echo::Error(status) => (
            status,
            "application/json",
            json!({"error": {"message": format!("upstream rejected: {text}"), "type": "server_error", "param": null, "code": null}})
                .to_string(),
        ),
        Echo::BadSse => (
            200,
            "text/event-stream",
            format!("data: {}\n\n", text.replace(['\r', '\n'], " ")),
        ),
        Echo::BadJson => (200, "application/json", text),
    };
    let reply = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = conn.write_all(reply.as_bytes());
    let _ = conn.flush();
    let _ = conn.shutdown(Shutdown::Write);
    let mut sink = [0u8; 256];
    let _ = conn.set_read_timeout(Some(Duration::from_millis(200)));
    let _ = conn.read(&mut sink);
}
