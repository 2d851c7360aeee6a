//! Remote key sets: `--jwks-uri` and `--discover`, resolved into key
//! candidates plus a plain-data account of what happened on the wire.
//!
//! Sits between token parsing and the checks: it needs the token (its `iss`
//! for discovery, its `kid` to decide on a re-fetch) and produces data the
//! checks turn into findings. A network failure is an outcome here, never an
//! error: the offline diagnosis always goes on.

use std::time::Duration;

use crate::fetch::{self, FetchError, FetchOptions, Fetched};
use crate::keys::{self, JwkSet};

/// How to fetch: from the flags.
#[derive(Debug, Clone)]
pub struct Plan {
    pub jwks_uri: Option<String>,
    pub discover: bool,
    /// `--iss` values: the issuer to discover from when the token has none.
    pub issuers: Vec<String>,
    pub timeout: Duration,
    pub use_cache: bool,
    pub spinner: bool,
}

/// A document fetched over HTTP and read: what went wrong, or what it held.
#[derive(Debug, Clone)]
pub enum Fetch<T> {
    Failed(FetchError),
    Http {
        status: u16,
        excerpt: String,
    },
    Invalid {
        kind: BodyKind,
        reason: String,
        excerpt: String,
    },
    Got(T),
}

/// What a 2xx body that could not be read is, for the advice that fits it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// gzip nobody asked for.
    Gzip,
    /// JSON behind a UTF-8 byte-order mark.
    Bom,
    /// An HTML page that looks like a login form (an SSO proxy).
    LoginPage,
    /// Another HTML page.
    Html,
    /// Nothing at all.
    Empty,
    /// Other bytes that are not JSON.
    NotJson,
    /// JSON, but not the document expected (no `keys`, no `jwks_uri`...).
    Shape,
}

impl BodyKind {
    /// Stable name for evidence: `gzip`, `bom`, `login-page`, `html`,
    /// `empty`, `not-json`, `shape`.
    pub fn as_str(self) -> &'static str {
        match self {
            BodyKind::Gzip => "gzip",
            BodyKind::Bom => "bom",
            BodyKind::LoginPage => "login-page",
            BodyKind::Html => "html",
            BodyKind::Empty => "empty",
            BodyKind::NotJson => "not-json",
            BodyKind::Shape => "shape",
        }
    }
}

/// The discovery step of `--discover`.
#[derive(Debug, Clone)]
pub struct Discovery {
    pub url: String,
    /// The issuer discovery started from (token `iss` or `--iss`).
    pub issuer: String,
    /// `None`: there was no issuer to start from.
    pub outcome: Option<Fetch<Found>>,
}

/// The discovery document's `issuer` and `jwks_uri`.
#[derive(Debug, Clone)]
pub struct Found {
    pub issuer: Option<String>,
    pub jwks_uri: String,
}

/// One fetched key set.
#[derive(Debug, Clone)]
pub struct Remote {
    pub url: String,
    pub outcome: Fetch<Loaded>,
    /// The cached copy lacked the token's kid; this is what the re-fetch found.
    pub refetch: Option<Refetch>,
}

#[derive(Debug, Clone)]
pub struct Loaded {
    pub set: JwkSet,
    pub from_cache: bool,
    pub age_secs: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct Refetch {
    pub stale_age_secs: Option<u64>,
    pub kid_now_present: bool,
}

/// Whose key set a fetched set is taken to be, and why: a token of another
/// issuer checked against it fails for that, not for a rotated key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetIssuer {
    pub issuer: String,
    pub from: IssuerFrom,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssuerFrom {
    /// `--discover` found the set through this issuer's discovery document.
    Discovery,
    /// The issuer `--iss` names (with `--jwks-uri`, or `--discover` for a
    /// token naming none).
    Flag,
    /// `scan --jwks-uri` without `--iss`: the set was fetched for the first
    /// token of the log that names an issuer.
    FirstInLog,
}

impl SetIssuer {
    /// How a finding says where the attribution comes from.
    pub fn why(&self) -> &'static str {
        match self.from {
            IssuerFrom::Discovery => "found through its discovery document",
            IssuerFrom::Flag => "the issuer --iss names",
            IssuerFrom::FirstInLog => {
                "the issuer of the log's first token, which jwtai fetched it for; --iss names it instead"
            }
        }
    }
}

/// What resolution produced.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    pub discovery: Option<Discovery>,
    pub remote: Option<Remote>,
    /// The issuer the fetched set belongs to, when known.
    pub issuer: Option<SetIssuer>,
}

impl Resolved {
    /// The usable and unusable keys of the fetched set, for the checks.
    pub fn candidates(&self) -> Vec<keys::Candidate> {
        match &self.remote {
            Some(Remote {
                outcome: Fetch::Got(loaded),
                ..
            }) => loaded.set.keys.clone(),
            _ => Vec::new(),
        }
    }

    /// A key set was fetched and read (possibly empty); false when
    /// discovery or the fetch failed, or there was nothing to fetch.
    pub fn obtained(&self) -> bool {
        matches!(
            &self.remote,
            Some(Remote {
                outcome: Fetch::Got(_),
                ..
            })
        )
    }
}

/// [`resolve`] for this token's `iss` claim and `kid` header.
pub fn resolve_for(plan: &Plan, token: &crate::token::Token) -> Resolved {
    let iss = token
        .claims()
        .and_then(|c| c.get("iss"))
        .and_then(|v| v.as_str());
    resolve(plan, iss, token.kid())
}

/// Runs discovery and the JWKS fetch the plan asks for.
pub fn resolve(plan: &Plan, token_iss: Option<&str>, token_kid: Option<&str>) -> Resolved {
    let opts = FetchOptions {
        timeout: plan.timeout,
        use_cache: plan.use_cache,
        spinner: plan.spinner,
        ..FetchOptions::default()
    };
    let mut resolved = Resolved::default();
    let mut uri = plan.jwks_uri.clone();
    if plan.discover && uri.is_none() {
        let issuer = token_iss
            .map(str::to_string)
            .or_else(|| plan.issuers.first().cloned());
        resolved.issuer = issuer.clone().map(|issuer| SetIssuer {
            issuer,
            from: if token_iss.is_some() {
                IssuerFrom::Discovery
            } else {
                IssuerFrom::Flag
            },
        });
        let discovery = discover(issuer, &opts);
        if let Some(Fetch::Got(found)) = &discovery.outcome {
            uri = Some(found.jwks_uri.clone());
        }
        resolved.discovery = Some(discovery);
    }
    if let Some(url) = uri {
        resolved.remote = Some(fetch_set(&url, &opts, token_kid));
    }
    resolved
}

fn discover(issuer: Option<String>, opts: &FetchOptions) -> Discovery {
    let Some(issuer) = issuer else {
        return Discovery {
            url: String::new(),
            issuer: String::new(),
            outcome: None,
        };
    };
    let url = fetch::discovery_url(&issuer);
    let outcome = read(fetch::get(&url, opts), |f| {
        let doc: serde_json::Value =
            serde_json::from_slice(&f.body).map_err(|_| not_json_reason(f))?;
        let jwks_uri = doc
            .get("jwks_uri")
            .and_then(|v| v.as_str())
            .ok_or_else(|| {
                (
                    BodyKind::Shape,
                    "the document has no \"jwks_uri\"".to_string(),
                )
            })?;
        Ok(Found {
            issuer: doc
                .get("issuer")
                .and_then(|v| v.as_str())
                .map(str::to_string),
            jwks_uri: jwks_uri.to_string(),
        })
    });
    Discovery {
        url,
        issuer,
        outcome: Some(outcome),
    }
}

fn fetch_set(url: &str, opts: &FetchOptions, kid: Option<&str>) -> Remote {
    let first = load(url, fetch::get(url, opts));
    // A well-behaved JWKS client re-fetches once when a cached set lacks the kid.
    if let (
        Fetch::Got(Loaded {
            set,
            from_cache: true,
            age_secs,
        }),
        Some(kid),
    ) = (&first, kid)
    {
        if !has_kid(set, kid) {
            let again = load(url, fetch::get_fresh(url, opts));
            let kid_now_present = matches!(&again, Fetch::Got(l) if has_kid(&l.set, kid));
            return Remote {
                url: url.to_string(),
                outcome: again,
                refetch: Some(Refetch {
                    stale_age_secs: *age_secs,
                    kid_now_present,
                }),
            };
        }
    }
    Remote {
        url: url.to_string(),
        outcome: first,
        refetch: None,
    }
}

fn has_kid(set: &JwkSet, kid: &str) -> bool {
    set.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
}

fn load(url: &str, got: Result<Fetched, FetchError>) -> Fetch<Loaded> {
    read(got, |f| match keys::parse_jwk_set(&f.body, url) {
        Ok(set) => Ok(Loaded {
            set,
            from_cache: f.from_cache,
            age_secs: f.cache_age_secs,
        }),
        Err(_) if serde_json::from_slice::<serde_json::Value>(&f.body).is_err() => {
            Err(not_json_reason(f))
        }
        Err(e) => Err((BodyKind::Shape, e.to_string())),
    })
}

/// Network failure, HTTP status, then `parse` on a 2xx body.
fn read<T>(
    got: Result<Fetched, FetchError>,
    parse: impl FnOnce(&Fetched) -> Result<T, (BodyKind, String)>,
) -> Fetch<T> {
    let f = match got {
        Err(e) => return Fetch::Failed(e),
        Ok(f) => f,
    };
    if !(200..300).contains(&f.status) {
        return Fetch::Http {
            status: f.status,
            excerpt: fetch::excerpt(&f.body, 160),
        };
    }
    match parse(&f) {
        Ok(v) => Fetch::Got(v),
        Err((kind, reason)) => Fetch::Invalid {
            kind,
            reason,
            excerpt: fetch::excerpt(&f.body, 160),
        },
    }
}

fn not_json_reason(f: &Fetched) -> (BodyKind, String) {
    let head = String::from_utf8_lossy(&f.body[..f.body.len().min(512)]).to_ascii_lowercase();
    let ct = f.content_type.as_deref().unwrap_or("no content type");
    if f.body.starts_with(&[0x1f, 0x8b]) {
        return (
            BodyKind::Gzip,
            format!(
                "the body is gzip-compressed ({ct}) although jwtai asked for no compression: a server or CDN that sends gzip unasked breaks every verifier that does not decompress"
            ),
        );
    }
    if f.body.starts_with(b"\xEF\xBB\xBF")
        && serde_json::from_slice::<serde_json::Value>(&f.body[3..]).is_ok()
    {
        return (
            BodyKind::Bom,
            format!(
                "the body starts with a UTF-8 byte-order mark ({ct}): the JSON after it is fine, but strict parsers (Go's encoding/json, JavaScript's JSON.parse) reject the whole body"
            ),
        );
    }
    if head.contains("<html") || head.contains("<!doctype") {
        let login = ["login", "sign in", "password", "signin"]
            .iter()
            .any(|w| head.contains(w));
        let kind = if login {
            BodyKind::LoginPage
        } else {
            BodyKind::Html
        };
        let text = format!(
            "the body is an HTML page ({ct}){}, not JSON",
            if login {
                " that looks like a login page: an SSO proxy or auth gateway intercepts the request"
            } else {
                ""
            }
        );
        (kind, text)
    } else if f.body.is_empty() {
        (BodyKind::Empty, format!("the body is empty ({ct})"))
    } else {
        (BodyKind::NotJson, format!("the body is not JSON ({ct})"))
    }
}

/// `--discover` with no issuer to start from: the token's claims are read,
/// hold no `iss` string, and no `--iss` was given. That is a usage error
/// (exit 2) with this message, not a failed fetch; `None` when discovery
/// can start, is not asked for, or the token is too broken to say (the
/// diagnosis reports that).
pub fn missing_issuer(plan: &Plan, token: &crate::token::Token) -> Option<String> {
    if !plan.discover || plan.jwks_uri.is_some() || !plan.issuers.is_empty() {
        return None;
    }
    let iss = token.claims()?.get("iss");
    let what = match iss {
        Some(v) if v.is_string() => return None,
        Some(_) => "the token's `iss` claim is not a string".to_string(),
        None => "the token has no `iss` claim".to_string(),
    };
    Some(format!(
        "--discover needs the issuer to fetch <iss>/.well-known/openid-configuration from, but {what}: pass the issuer with --iss https://your-issuer/ (discovery starts from it), or the key set itself with --jwks-uri URL"
    ))
}
