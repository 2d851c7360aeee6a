//! Command-line surface: the flags of `../shared/spec/cli.md`, parsed by clap.
//!
//! Flags are only *parsed* here. Values that need checking beyond their type
//! (`--now`, `--claim`, files) are validated one step later, in `run`, so that
//! every usage error leaves through the same exit-2 path. The token and every
//! secret are `SecretString` from the moment clap hands them over, so
//! `{:?}` of the whole `Cli` is safe.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use secrecy::SecretString;

const EXAMPLES: &str = "\
Examples:
  jwtai diagnose --token-file examples/expired.jwt --now 2026-03-15T12:34:00Z
  jwtai diagnose \"$TOKEN\" --aud https://api.example.com --iss https://auth.example.com/
  pbpaste | jwtai diagnose - --secret-file .jwt-secret
  jwtai diagnose --token-file token.txt --key public.pem --format json
  jwtai decode --token-file examples/valid.jwt
  jwtai explain-code expired";

#[derive(Debug, Parser)]
#[command(
    name = "jwtai",
    version,
    about = "Tells you why a JSON Web Token is rejected, and how to fix it.",
    long_about = "jwtai reads a JWT (pasted, piped, from a file, or wrapped in a header, cookie, \
JSON body or curl command) and explains, offline and deterministically, why a server rejects it: \
every finding cites this token's own values and says what to change. Nothing leaves the machine.",
    after_help = EXAMPLES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Print what each stage did, and its timing, on stderr (redacted; also RUST_LOG=debug).
    #[arg(long, global = true)]
    pub debug: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decode a token: header, claims with human times, signature summary. Never verifies.
    #[command(
        after_help = "Examples:\n  jwtai decode eyJhbGciOi...\n  jwtai decode --token-file token.txt --format json",
        override_usage = "jwtai decode [OPTIONS] [TOKEN]"
    )]
    Decode(DecodeArgs),
    /// Run every deterministic check and explain why the token is rejected.
    // The usage line is spelled out: on a conflict (`--error` with
    // `--error-file`) clap would print the token as required (`<TOKEN>`).
    #[command(after_help = EXAMPLES, override_usage = "jwtai diagnose [OPTIONS] [TOKEN]")]
    Diagnose(Box<DiagnoseArgs>),
    /// Show the documentation of a finding code, or list every code.
    #[command(after_help = "Examples:\n  jwtai explain-code expired\n  jwtai explain-code --list")]
    ExplainCode(ExplainCodeArgs),
    /// List a JWK Set's keys: kid, kty, alg, use, size/curve, RFC 7638 thumbprint, problems.
    #[command(
        after_help = "Examples:\n  jwtai jwks https://example.eu.auth0.com/.well-known/jwks.json\n  jwtai jwks keys/jwks.json --format json"
    )]
    Jwks(JwksArgs),
    /// The test cases a verifier must pass, with fixture tokens shaped like this one,
    /// signed by a throwaway key.
    #[command(
        after_help = SUGGEST_EXAMPLES,
        override_usage = "jwtai suggest-tests [OPTIONS] [TOKEN]"
    )]
    SuggestTests(Box<SuggestTestsArgs>),
    /// Diagnose every JWT in a log and summarise which failure dominates.
    #[command(
        after_help = "Examples:\n  jwtai scan access.log --secret-file .jwt-secret --aud https://api.example.com\n  kubectl logs deploy/api | jwtai scan - --jwks-uri https://auth.example.com/.well-known/jwks.json\n  jwtai scan access.log --key public.pem --format json > reports.jsonl\n  jwtai scan access.log access.log.*.gz --key public.pem   # rotated logs, as one"
    )]
    Scan(Box<ScanArgs>),
}

const SUGGEST_EXAMPLES: &str = "\
Examples:
  jwtai suggest-tests --token-file token.txt --iss https://auth.example.com/ --aud https://api.example.com
  jwtai suggest-tests \"$TOKEN\" --alg RS256 --scope read:orders --out jwt-tests --framework pytest
  jwtai suggest-tests --token-file token.txt --format json --now 2026-03-15T12:34:00Z";

/// The test frameworks `suggest-tests` writes code for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Framework {
    /// Jest with the `jose` package (Node.js).
    Jest,
    /// pytest with PyJWT.
    Pytest,
    /// `go test` with github.com/golang-jwt/jwt/v5.
    Go,
    /// `cargo test` with the `jsonwebtoken` crate.
    Rust,
}

/// Output of commands that list things rather than report findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ListFormat {
    #[default]
    Human,
    Json,
}

#[derive(Debug, Args)]
pub struct SuggestTestsArgs {
    #[command(flatten)]
    pub token: TokenArgs,
    #[command(flatten)]
    pub expect: ExpectArgs,
    #[command(flatten)]
    pub keys: KeyArgs,
    /// Also write ready-to-run test code for this framework into --out DIR.
    #[arg(long, value_enum, requires = "out")]
    pub framework: Option<Framework>,
    /// Write fixtures.json, jwks.json, the throwaway keys and a README (and the test file) here.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Overwrite files in --out DIR that jwtai did not write (a README, a secret file of yours).
    #[arg(long, requires = "out")]
    pub force: bool,
    /// Output format of the case list.
    #[arg(long, value_enum, default_value_t = ListFormat::Human)]
    pub format: ListFormat,
    /// Describe your verifier for --ai (framework, middleware, how keys are loaded).
    #[arg(long, value_name = "TEXT", requires = "ai")]
    pub context: Option<String>,
    /// Ask the model to adapt the generated tests to your code (sends the redacted report only).
    #[arg(long, requires = "framework")]
    pub ai: bool,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Debug, Args)]
pub struct JwksArgs {
    /// An http(s) URL to fetch, or a path to a JWK Set / JWK / PEM file.
    #[arg(value_name = "URL|PATH")]
    pub source: String,
    /// Output format: a table (human), `jwtai.jwks/v1` JSON for scripts (json), or a
    /// Markdown table for a ticket (markdown).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Bound for the network call: seconds, or a duration like 5s, 500ms, 1m.
    #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = seconds_arg)]
    pub timeout: f64,
    /// Neither read nor write the JWKS cache.
    #[arg(long)]
    pub no_cache: bool,
}

/// Where the token comes from.
#[derive(Debug, Args, Clone)]
pub struct TokenArgs {
    /// The token (or a Bearer header, cookie, JSON body, curl command). `-` or a pipe reads
    /// stdin; omitted on a terminal, jwtai asks for it without echo (keeps it out of shell history).
    #[arg(value_name = "TOKEN", value_parser = secret_arg)]
    pub token: Option<SecretString>,
    /// Read the token from a file.
    #[arg(long, value_name = "PATH", conflicts_with = "token")]
    pub token_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    #[default]
    Human,
    Json,
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

/// How the report is shown and what it reveals.
#[derive(Debug, Args, Clone)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Colour in human output (auto: only on a terminal, and never with NO_COLOR set).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Show unmasked claim values in local output (never in what is sent to a model).
    #[arg(long)]
    pub reveal: bool,
    /// Also mask this claim (repeatable).
    #[arg(long, value_name = "CLAIM")]
    pub mask: Vec<String>,
    /// Never mask this claim (repeatable); it is then shown as is, everywhere.
    #[arg(long, value_name = "CLAIM")]
    pub keep: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DecodeArgs {
    #[command(flatten)]
    pub token: TokenArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Evaluate relative times at this instant (unix seconds or RFC 3339) instead of the clock.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
}

/// What the server expects of a token.
#[derive(Debug, Args, Clone, Default)]
pub struct ExpectArgs {
    /// Algorithms the server accepts (repeatable or comma list), e.g. --alg RS256,ES256.
    #[arg(long, value_name = "ALG", value_delimiter = ',')]
    pub alg: Vec<String>,
    /// Expected issuer (repeatable).
    #[arg(long, value_name = "ISS")]
    pub iss: Vec<String>,
    /// Expected audience (repeatable): the token passes when one of its aud values is one of these; `/regex/` for a pattern (node jsonwebtoken, fast-jwt).
    #[arg(long, value_name = "AUD")]
    pub aud: Vec<String>,
    /// A claim the token must carry (repeatable).
    #[arg(long, value_name = "CLAIM")]
    pub require: Vec<String>,
    /// A scope the token must grant in `scope`/`scp` (repeatable).
    #[arg(long, value_name = "SCOPE")]
    pub scope: Vec<String>,
    /// A claim that must have this value, NAME=VALUE (repeatable; dotted names reach nested claims).
    #[arg(long, value_name = "NAME=VALUE")]
    pub claim: Vec<String>,
    /// Clock skew tolerated on exp/nbf/iat: seconds, or a duration like 30s, 2m, 1h.
    #[arg(long, value_name = "SECONDS", default_value = "0", value_parser = duration_arg)]
    pub leeway: u64,
    /// Largest token age the server accepts, from `iat` (jsonwebtoken's maxAge,
    /// jose's maxTokenAge): seconds, or a duration like 15m, 1h, 7d.
    #[arg(long, value_name = "DURATION", value_parser = duration_arg)]
    pub max_age: Option<u64>,
    /// The `typ` header the server requires, e.g. at+jwt (RFC 9068 access tokens).
    #[arg(long, value_name = "TYP")]
    pub typ: Option<String>,
    /// A `crit` header extension the server implements (repeatable), e.g. jose's `crit` option.
    #[arg(long, value_name = "NAME")]
    pub crit: Vec<String>,
    /// Evaluate time claims at this instant: unix seconds or RFC 3339 (default: the clock).
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
}

/// Key material to verify the signature with. Every candidate is tried.
#[derive(Debug, Args, Clone, Default)]
pub struct KeyArgs {
    /// HMAC secret (lands in shell history: prefer --secret-file or --secret-env).
    #[arg(long, value_name = "TEXT", value_parser = secret_arg)]
    pub secret: Option<SecretString>,
    /// Read the HMAC secret from a file (used byte for byte; a trailing newline is diagnosed).
    #[arg(long, value_name = "PATH")]
    pub secret_file: Option<PathBuf>,
    /// Read the HMAC secret from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub secret_env: Option<String>,
    /// Public key, certificate, private key (public part used), JWK or JWK Set file (repeatable).
    #[arg(long, value_name = "PATH")]
    pub key: Vec<PathBuf>,
    /// Fetch the JWK Set from this URL.
    #[arg(long, value_name = "URL")]
    pub jwks_uri: Option<String>,
    /// Find the JWK Set through `<iss>/.well-known/openid-configuration` (the token's `iss`,
    /// else --iss); not with --jwks-uri, which names the set itself.
    #[arg(long, conflicts_with = "jwks_uri")]
    pub discover: bool,
    /// Bound for every network call: seconds, or a duration like 5s, 500ms, 1m.
    #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = seconds_arg)]
    pub timeout: f64,
    /// Neither read nor write the caches (fetched key sets, model answers).
    #[arg(long)]
    pub no_cache: bool,
}

#[derive(Debug, Args)]
pub struct DiagnoseArgs {
    #[command(flatten)]
    pub token: TokenArgs,
    #[command(flatten)]
    pub expect: ExpectArgs,
    #[command(flatten)]
    pub keys: KeyArgs,
    /// The error message the server or library printed.
    #[arg(long, value_name = "TEXT")]
    pub error: Option<String>,
    /// Read that error message (or a whole stack trace) from a file.
    #[arg(long, value_name = "PATH", conflicts_with = "error")]
    pub error_file: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub ai: AiArgs,
}

/// Which model, where, with which prompts.
#[derive(Debug, Args, Clone, Default)]
pub struct ModelArgs {
    /// Model name (default gpt-4o-mini).
    #[arg(long, env = "JWTAI_MODEL", value_name = "NAME")]
    pub model: Option<String>,
    /// OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1 (also OPENAI_BASE_URL).
    #[arg(long, env = "JWTAI_API_BASE", value_name = "URL")]
    pub api_base: Option<String>,
    /// Read prompt templates (explain.md, followup.md, tests.md) from this directory.
    #[arg(long, value_name = "DIR")]
    pub prompts: Option<PathBuf>,
}

/// The model: only the redacted report is ever sent.
#[derive(Debug, Args, Clone, Default)]
pub struct AiArgs {
    /// Send the redacted report to the model and merge its explanation with the findings.
    #[arg(long)]
    pub explain: bool,
    /// After the explanation, answer follow-up questions (needs a terminal; implies --explain).
    #[arg(long, short = 'i')]
    pub interactive: bool,
    /// Print exactly the request body that would be sent to the model; send nothing.
    #[arg(long)]
    pub show_prompt: bool,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Print the explanation when complete instead of streaming it.
    #[arg(long)]
    pub no_stream: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ScanFormat {
    /// A summary table.
    #[default]
    Human,
    /// One redacted `jwtai.report/v1` report per distinct token (JSON Lines),
    /// then the `jwtai.scan/v1` summary as the last line.
    Json,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The logs to read: plain tokens, `Authorization: Bearer` lines, JSON logs, any text,
    /// gzip-compressed or not (`access.log.2.gz`). Several are read in order as one log
    /// (`access.log*`), examples then naming the file (`access.log.1:120`). `-` (or nothing,
    /// with a pipe) reads standard input.
    #[arg(value_name = "FILE|-")]
    pub input: Vec<PathBuf>,
    #[command(flatten)]
    pub expect: ExpectArgs,
    #[command(flatten)]
    pub keys: KeyArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ScanFormat::Human)]
    pub format: ScanFormat,
    /// Colour in human output (auto: only on a terminal, and never with NO_COLOR set).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Also mask this claim (repeatable).
    #[arg(long, value_name = "CLAIM")]
    pub mask: Vec<String>,
    /// Never mask this claim (repeatable).
    #[arg(long, value_name = "CLAIM")]
    pub keep: Vec<String>,
    /// Distinct tokens remembered to diagnose each only once (the default table
    /// tops out at 22 MiB); past it, new tokens are diagnosed every time they appear.
    #[arg(long, value_name = "N", default_value_t = crate::scan::DEFAULT_MAX_DISTINCT)]
    pub max_distinct: usize,
    /// No progress bar on standard error.
    #[arg(long)]
    pub no_progress: bool,
}

#[derive(Debug, Args)]
pub struct ExplainCodeArgs {
    /// The finding code, e.g. `expired`.
    #[arg(value_name = "CODE", required_unless_present = "list")]
    pub code: Option<String>,
    /// List every code with its severity and title.
    #[arg(long)]
    pub list: bool,
}

fn secret_arg(s: &str) -> Result<SecretString, String> {
    Ok(SecretString::from(s))
}

/// A timeout: seconds (`5`, `2.5`), or a number with a unit (`5s`,
/// `500ms`, `1m`, `1h`), the units `--leeway` takes plus milliseconds.
fn seconds_arg(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let bad = || format!("'{text}' is not a duration: use seconds (10, 2.5) or 5s, 500ms, 1m");
    let n: f64 = number.parse().map_err(|_| bad())?;
    let scale = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        "ms" => 0.001,
        "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
        other => {
            return Err(format!(
                "unknown unit '{other}' in '{text}': use ms, s, m or h (e.g. 5s, 500ms, 1m)"
            ));
        }
    };
    Ok(n * scale)
}

/// A duration flag: whole seconds, or a number with a unit (`30s`, `2m`,
/// `1h`, `7d`), as jose and vercel/ms write them.
fn duration_arg(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration: use seconds (30) or 30s, 2m, 1h, 7d"))?;
    let scale = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "s" | "sec" | "secs" | "second" | "seconds" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" => 60,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600,
        "d" | "day" | "days" => 86_400,
        "w" | "week" | "weeks" => 604_800,
        other => {
            return Err(format!(
                "unknown unit '{other}' in '{text}': use s, m, h, d or w (e.g. 30s, 2m, 1h)"
            ));
        }
    };
    n.checked_mul(scale)
        .ok_or_else(|| format!("'{text}' is too large"))
}
