//! What identity providers put in `iss` and `aud`, to say *why* a token's
//! value differs from what the server expects, and what to change where.
//!
//! A near miss has a cause the two strings show: a v1.0 Azure AD token where
//! v2.0 is expected, a Keycloak reached as `localhost` by the browser and as
//! `keycloak` by the API, an Okta org authorization server, a token minted
//! for Microsoft Graph. Every hint here is drawn from the values themselves
//! (and the token's other claims); nothing is guessed from outside.

use serde_json::{Map, Value};

use crate::findings::Finding;
use crate::token::json::Members;

/// A near miss explained: text added to the finding's detail, and the fix
/// that replaces the finding's default one.
#[derive(Debug, Clone, PartialEq)]
pub struct Hint {
    pub detail: String,
    pub fix: Option<String>,
}

impl Hint {
    fn new(detail: String) -> Hint {
        Hint { detail, fix: None }
    }

    fn fix(mut self, fix: String) -> Hint {
        self.fix = Some(fix);
        self
    }
}

/// The finding with a near miss's explanation added to its detail, and the
/// hint's fix in place of its own when the hint has one.
pub fn hinted(mut f: Finding, hint: Option<Hint>) -> Finding {
    if let Some(hint) = hint {
        f.detail.push(' ');
        f.detail.push_str(&hint.detail);
        if let Some(fix) = hint.fix {
            f = f.fix(fix);
        }
    }
    f
}

/// What to do with a token minted for Microsoft Graph.
pub const GRAPH_FIX: &str = "Request a token for the API itself, with its own scope (`api://<api-app-id>/.default` or `api://<api-app-id>/<scope>`), separately from any Graph token; leave Graph tokens to Graph.";

/// Microsoft Graph's application id, the `aud` of tokens minted for Graph.
const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// The `aud` value, if any, that marks a token minted for Microsoft Graph.
pub fn graph_audience(claims: &Map<String, Value>) -> Option<String> {
    let aud = claims.member("aud")?;
    super::strings(aud).into_iter().find(|a| {
        a == GRAPH_APP_ID
            || a.trim_end_matches('/')
                .eq_ignore_ascii_case("https://graph.microsoft.com")
    })
}

/// A URL-shaped identifier split as far as comparing two of them needs:
/// no normalisation, since the verifier compares exact strings.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Parts<'a> {
    /// `https`, `http`, or `None` for a bare `host/path`.
    scheme: Option<&'a str>,
    /// Host with its port, as written.
    host: &'a str,
    /// The path without its trailing slashes (`""` for none).
    path: &'a str,
}

impl<'a> Parts<'a> {
    fn of(s: &'a str) -> Option<Parts<'a>> {
        let (scheme, rest) = match s.split_once("://") {
            Some((scheme, rest)) => (Some(scheme), rest),
            None => (None, s),
        };
        // A query or fragment is no part of what is compared here, and may
        // carry a credential (`?token=`), as userinfo (`user:pw@`) may: the
        // hints quote host and path, never those.
        let rest = rest.split(['?', '#']).next().unwrap_or(rest);
        let (host, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let host = host.rsplit('@').next().unwrap_or(host);
        // A bare word (a client id, `account`) is no URL.
        if host.is_empty() || (scheme.is_none() && !host.contains('.')) {
            return None;
        }
        Some(Parts {
            scheme,
            host,
            path: path.trim_end_matches('/'),
        })
    }

    /// The host without its port.
    fn hostname(&self) -> &'a str {
        match self.host.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(v6),
            None => self.host.split(':').next().unwrap_or(self.host),
        }
    }

    /// The port written after the host, if any.
    fn port(&self) -> Option<&'a str> {
        let after = match self.host.strip_prefix('[') {
            Some(v6) => v6.split_once(']')?.1,
            None => self.host,
        };
        after.rsplit_once(':').map(|(_, p)| p)
    }

    /// The same server as `other`, written with the scheme's default port
    /// on one side and without it on the other (`:443` for https).
    fn default_port_only(&self, other: &Parts) -> Option<&'a str> {
        let default = match self.scheme? {
            s if s.eq_ignore_ascii_case("https") => "443",
            s if s.eq_ignore_ascii_case("http") => "80",
            _ => return None,
        };
        let same = self.scheme == other.scheme
            && self.path == other.path
            && self.host != other.host
            && self.hostname().eq_ignore_ascii_case(other.hostname())
            && self.port().is_some() != other.port().is_some()
            && self.port().unwrap_or(default) == other.port().unwrap_or(default);
        same.then_some(default)
    }

    /// Reached only from the same machine or container network: `localhost`,
    /// a loopback address, Docker's host alias, or a single-label name such
    /// as a Compose service (`keycloak`).
    fn is_local(&self) -> bool {
        let h = self.hostname();
        h.eq_ignore_ascii_case("localhost")
            || h.starts_with("127.")
            || h == "::1"
            || h == "0.0.0.0"
            || h.eq_ignore_ascii_case("host.docker.internal")
            || !h.contains('.')
    }

    fn host_ends_with(&self, suffix: &str) -> bool {
        let h = self.hostname().to_ascii_lowercase();
        h == suffix || h.ends_with(&format!(".{suffix}"))
    }

    fn is_okta(&self) -> bool {
        [
            "okta.com",
            "oktapreview.com",
            "okta-emea.com",
            "okta-gov.com",
        ]
        .iter()
        .any(|d| self.host_ends_with(d))
    }

    /// `/realms/<name>` in a Keycloak issuer, and whether the legacy
    /// `/auth` context path comes before it.
    fn keycloak_realm(&self) -> Option<(bool, &'a str)> {
        let (before, realm) = self.path.split_once("/realms/")?;
        let legacy = match before {
            "" => false,
            "/auth" => true,
            _ => return None,
        };
        (!realm.is_empty() && !realm.contains('/')).then_some((legacy, realm))
    }
}

/// The tenant an Azure AD (Entra ID) issuer names, and its token version.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Azure<'a> {
    tenant: &'a str,
    v2: bool,
}

impl<'a> Azure<'a> {
    fn of(iss: &'a str) -> Option<Azure<'a>> {
        let single = |t: &'a str| (!t.is_empty() && !t.contains('/')).then_some(t);
        if let Some(rest) = iss.strip_prefix("https://sts.windows.net/") {
            return Some(Azure {
                tenant: single(rest.trim_end_matches('/'))?,
                v2: false,
            });
        }
        let rest = iss.strip_prefix("https://login.microsoftonline.com/")?;
        let tenant = rest.trim_end_matches('/').strip_suffix("/v2.0")?;
        Some(Azure {
            tenant: single(tenant)?,
            v2: true,
        })
    }

    /// The multi-tenant placeholder (`{tenantid}`) or endpoint alias
    /// (`common`, `organizations`) that never appears in a token.
    fn is_template(&self) -> bool {
        self.tenant.starts_with('{')
            || ["common", "organizations", "consumers"]
                .iter()
                .any(|a| self.tenant.eq_ignore_ascii_case(a))
    }

    fn version(&self) -> &'static str {
        if self.v2 { "v2.0" } else { "v1.0" }
    }

    fn issuer(tenant: &str, v2: bool) -> String {
        if v2 {
            format!("https://login.microsoftonline.com/{tenant}/v2.0")
        } else {
            format!("https://sts.windows.net/{tenant}/")
        }
    }
}

/// Why the token's `iss` is not the expected one, when the two show it.
/// Exact matches and trailing-slash differences are decided by the caller.
pub fn issuer(iss: &str, expected: &[String]) -> Option<Hint> {
    expected.iter().find_map(|e| issuer_pair(iss, e))
}

fn issuer_pair(iss: &str, e: &str) -> Option<Hint> {
    if e.eq_ignore_ascii_case(iss) {
        return Some(Hint::new(format!(
            "They differ only in letter case (\"{e}\"): issuers are compared as exact strings."
        ))
        .fix(format!(
            "Set the verifier's issuer to \"{iss}\" exactly, letter case included (copy it from the IdP's discovery document)."
        )));
    }
    if let (Some(t), Some(x)) = (Azure::of(iss), Azure::of(e)) {
        return Some(azure_issuer(t, x));
    }
    let (t, x) = (Parts::of(iss)?, Parts::of(e)?);
    if let Some(port) = t.default_port_only(&x) {
        return Some(default_port(iss, e, "iss", t, x, port));
    }
    if t.host == x.host && t.path == x.path {
        return Some(scheme_only(iss, t, x));
    }
    if t.path == x.path && t.scheme == x.scheme {
        return host_only(iss, t, x);
    }
    if t.host.eq_ignore_ascii_case(x.host) && t.scheme == x.scheme {
        return Some(path_only(iss, e, t, x));
    }
    None
}

fn azure_issuer(t: Azure, x: Azure) -> Hint {
    let (tv, xv) = (t.version(), x.version());
    if x.is_template() {
        return Hint::new(format!(
            "The server expects the multi-tenant form \"{}\" (from the `common` or `organizations` discovery document); Azure AD never puts that in a token: `iss` always names the signed-in user's tenant, here {} ({tv} token).",
            x.tenant, t.tenant
        ))
        .fix(format!(
            "For a multi-tenant API, validate `iss` by putting the token's `tid` into the issuer template (Microsoft.Identity.Web does) and admit only the tenants you serve; for a single-tenant API, expect \"{}\".",
            Azure::issuer(t.tenant, t.v2)
        ));
    }
    if t.tenant.eq_ignore_ascii_case(x.tenant) {
        let want = if x.v2 { 2 } else { 1 };
        return Hint::new(format!(
            "Same tenant, other token version: the token is an Azure AD {tv} access token, the server expects the {xv} issuer. Azure AD issues the version the API's app registration asks for (`accessTokenAcceptedVersion` in its manifest; unset means v1.0), whichever endpoint the client used."
        ))
        .fix(format!(
            "In the API's app registration manifest set `accessTokenAcceptedVersion` to {want} and get a new token; or also accept the {tv} issuer \"{}\".",
            Azure::issuer(t.tenant, t.v2)
        ));
    }
    Hint::new(format!(
        "The token is from Azure AD tenant {}, the server expects tenant {}: the user signed in to another directory (a guest account's home tenant, a sign-in through `common`, or a development tenant's token sent to production).",
        t.tenant, x.tenant
    ))
    .fix(format!(
        "Have the client sign in through the API's tenant (https://login.microsoftonline.com/{}/...) instead of `common`; if the API is meant to serve tenant {} too, add \"{}\" to its accepted issuers.",
        x.tenant,
        t.tenant,
        Azure::issuer(t.tenant, t.v2)
    ))
}

/// One server written with its default port on one side only: the same
/// origin, and still a different string.
fn default_port(have: &str, e: &str, claim: &str, t: Parts, x: Parts, port: &str) -> Hint {
    let (with, without) = if t.port().is_some() {
        (
            format!("the token's `{claim}` (\"{have}\")"),
            "the expected value".to_string(),
        )
    } else {
        (
            format!("the expected value (\"{e}\")"),
            format!("the token's `{claim}`"),
        )
    };
    let what = if claim == "iss" { "issuer" } else { "audience" };
    Hint::new(format!(
        "Same origin: {with} writes out {}'s default port {port} ({} vs {}), {without} does not. Both name the same server, but {what}s are compared as exact strings, so the comparison still fails.",
        t.scheme.unwrap_or_default(),
        t.host,
        x.host
    ))
    .fix(format!(
        "Set the verifier's {what} to \"{have}\" exactly, as the token carries it{}.",
        if t.port().is_some() { "" } else { ", without the port" }
    ))
}

fn scheme_only(iss: &str, t: Parts, x: Parts) -> Hint {
    match (t.scheme, x.scheme) {
        (None, _) | (_, None) if t.host_ends_with("accounts.google.com") => Hint::new(
            "Google signs ID tokens with `iss` either \"accounts.google.com\" or \"https://accounts.google.com\"; both are genuine.".into(),
        )
        .fix("Accept both Google issuers, \"accounts.google.com\" and \"https://accounts.google.com\" (Google's own libraries do).".into()),
        (None, _) | (_, None) => Hint::new(
            "They differ only in the URL scheme: one of them has none.".into(),
        )
        .fix(format!("Set the verifier's issuer to \"{iss}\" exactly, as the IdP's discovery document spells it.")),
        (Some("http"), Some("https")) => Hint::new(
            "They differ only in the URL scheme: the IdP wrote http into the token. An IdP builds `iss` from the URL it is reached at; behind a proxy that ends TLS it sees plain http unless it trusts the forwarded headers.".into(),
        )
        .fix("Make the IdP know its public https URL (forward `X-Forwarded-Proto` and trust it; Keycloak: `KC_PROXY_HEADERS=xforwarded` or a full `KC_HOSTNAME=https://...`), then get a new token.".into()),
        _ => Hint::new(format!(
            "They differ only in the URL scheme ({} in the token, {} expected).",
            t.scheme.unwrap_or_default(),
            x.scheme.unwrap_or_default()
        ))
        .fix(format!("Set the verifier's issuer to \"{iss}\" exactly, as the IdP's discovery document spells it.")),
    }
}

fn host_only(iss: &str, t: Parts, x: Parts) -> Option<Hint> {
    if t.is_local() || x.is_local() {
        return Some(Hint::new(format!(
            "Same issuer path on another host ({} in the token, {} expected): one IdP reached under two names, as when the browser logs in through {} and the API reaches the IdP as {} (Docker Compose, a port-forward). The IdP writes into `iss` the URL the login went through.",
            t.host, x.host, t.host, x.host
        ))
        .fix("Give the IdP one public URL that the browser and the API both use (Keycloak: `KC_HOSTNAME`; the API may still fetch keys over the internal name), then get a new token; or accept the token's issuer if that URL is the public one.".into()));
    }
    let auth0 = |p: Parts| p.host_ends_with("auth0.com");
    if auth0(t) != auth0(x) {
        let (custom, tenant) = if auth0(t) {
            (x.host, t.host)
        } else {
            (t.host, x.host)
        };
        return Some(Hint::new(format!(
            "If {custom} is the custom domain of Auth0 tenant {tenant}: Auth0 writes into `iss` the domain the login went through, the custom domain or the tenant's auth0.com one."
        ))
        .fix("Use one domain in the client's login configuration and in the API's issuer (the custom domain, when one is set up), then get a new token.".into()));
    }
    let same_domain = base_domain(t.hostname()) == base_domain(x.hostname());
    if !same_domain && t.path.is_empty() {
        // Two unrelated hosts: nothing in the values says more than the detail does.
        return None;
    }
    Some(Hint::new(format!(
        "Same path, {} host ({} in the token, {} expected): a token from another environment or deployment of the IdP.",
        if same_domain { "same domain, different" } else { "different" },
        t.host,
        x.host
    ))
    .fix(format!(
        "Get the token from the environment the API trusts ({}), or add \"{iss}\" to the API's issuers if that environment should be trusted.",
        x.host
    )))
}

/// The last two labels of a host name (`example.com` of `auth.staging.example.com`).
fn base_domain(h: &str) -> String {
    h.rsplitn(3, '.').take(2).collect::<Vec<_>>().join(".")
}

fn path_only(iss: &str, e: &str, t: Parts, x: Parts) -> Hint {
    if let (Some((tl, tr)), Some((xl, xr))) = (t.keycloak_realm(), x.keycloak_realm()) {
        if tr == xr && tl != xl {
            let (with, without) = if tl {
                ("token", "server")
            } else {
                ("server", "token")
            };
            return Hint::new(format!(
                "Same Keycloak realm \"{tr}\"; the {with} has the `/auth` context path, the {without} does not. Keycloak 17 and later (Quarkus) serve without `/auth`; older ones, or `KC_HTTP_RELATIVE_PATH=/auth`, with it."
            ))
            .fix(format!(
                "Set the verifier's issuer to \"{iss}\", the path the running Keycloak serves (see its `/.well-known/openid-configuration`)."
            ));
        }
        return Hint::new(format!(
            "Same Keycloak server, another realm: \"{tr}\" in the token, \"{xr}\" expected."
        ))
        .fix(format!(
            "Log in through realm \"{xr}\" (the client's authority URL), or trust realm \"{tr}\" in the API if it should."
        ));
    }
    if t.is_okta() && t.path.is_empty() && x.path.starts_with("/oauth2/") {
        return Hint::new(format!(
            "The token comes from Okta's org authorization server ({iss}), the server expects the custom authorization server {e}. Org authorization server access tokens are meant for Okta's own APIs; your API cannot validate them."
        ))
        .fix(format!(
            "Have the client get its tokens from {e} (authorize and token endpoints under {}/v1/...).",
            e.trim_end_matches('/')
        ));
    }
    let what = if t.host_ends_with("amazonaws.com") && t.host.starts_with("cognito-idp.") {
        "another Cognito user pool"
    } else if t.is_okta() {
        "another Okta authorization server"
    } else {
        "another tenant, realm or authorization server of the same IdP"
    };
    Hint::new(format!(
        "Same host, other path (\"{}\" in the token, \"{}\" expected): {what}.",
        t.path, x.path
    ))
    .fix(format!(
        "Get the token from {e}, the issuer the API trusts; or add \"{iss}\" to its issuers if that one should be trusted."
    ))
}

/// Why an issuer's key set lacks the token's kid, when the issuer is one
/// that publishes some keys elsewhere: Azure AD signs tokens of an
/// application with a custom signing key (claims mapping, SAML-style apps)
/// with a key listed only at the JWKS URI with `?appid=`.
pub fn unlisted_kid(claims: &Map<String, Value>) -> Option<Hint> {
    let iss = claims.member("iss")?.as_str()?;
    let azure = Azure::of(iss)?;
    let client = ["appid", "azp"]
        .iter()
        .find_map(|c| Some((c, claims.member(c)?.as_str()?)))
        .map(|(c, v)| format!(" (the token's `{c}`, the client, is \"{v}\"; for an access token the application is the API's)"))
        .unwrap_or_default();
    let keys = if azure.v2 {
        format!(
            "https://login.microsoftonline.com/{}/discovery/v2.0/keys",
            azure.tenant
        )
    } else {
        format!(
            "https://login.microsoftonline.com/{}/discovery/keys",
            azure.tenant
        )
    };
    Some(Hint::new(
        "Azure AD signs the tokens of an application with a custom signing key (a claims-mapping policy, an app set up for SAML) with a key it lists only in that application's key set, `?appid=` added to the JWKS URI.".into(),
    )
    .fix(format!(
        "If the application has a custom signing key, verify with {keys}?appid=<its application id>{client}; the metadata URL takes `?appid=` too. Otherwise get the token from the tenant whose keys you use."
    )))
}

/// The claims that name the client a token was issued to, not the API it
/// is for.
const CLIENT_CLAIMS: [&str; 4] = ["azp", "client_id", "cid", "appid"];

/// Why none of the token's audiences is the expected one, when the values
/// (and the token's client claims) show it.
pub fn audience(auds: &[String], expected: &[String], claims: &Map<String, Value>) -> Option<Hint> {
    if let Some(graph) = graph_audience(claims) {
        return Some(graph_hint(&graph));
    }
    for a in auds {
        for e in expected {
            if let Some(h) = audience_pair(a, e, claims) {
                return Some(h);
            }
        }
    }
    let keycloak = auds.iter().any(|a| a == "account")
        && claims
            .member("iss")
            .and_then(Value::as_str)
            .and_then(Parts::of)
            .is_some_and(|p| p.keycloak_realm().is_some());
    const KEYCLOAK_ACCOUNT: &str = " `account` is Keycloak's default audience (its account console); Keycloak adds another audience only through an Audience mapper.";
    const KEYCLOAK_FIX: &str = "In Keycloak, add an Audience mapper to the client's dedicated client scope (Included Client Audience: the API's client), then get a new token. Do not make the API expect `account`: every token of the realm carries it.";
    let Some((name, value)) = client_claim(claims, expected) else {
        if keycloak {
            let hint = Hint::new(KEYCLOAK_ACCOUNT.trim_start().into());
            return Some(hint.fix(KEYCLOAK_FIX.into()));
        }
        return known_audience(auds);
    };
    let mut hint = Hint::new(format!(
        "The server expects \"{value}\", which is the token's `{name}`: the client the token was issued to, not the API it is for."
    ));
    if keycloak {
        hint.detail.push_str(KEYCLOAK_ACCOUNT);
        Some(hint.fix(KEYCLOAK_FIX.into()))
    } else {
        Some(hint.fix(format!(
            "Set the API's expected audience to its own identifier, the one the issuer puts in `aud` ({}), and check `{name}` separately if only that client may call it.",
            auds.join(", ")
        )))
    }
}

/// Audiences an identity provider gives tokens meant for something else.
fn known_audience(auds: &[String]) -> Option<Hint> {
    if let Some(a) = auds.iter().find(|a| {
        Parts::of(a).is_some_and(|p| p.host_ends_with("auth0.com") && p.path == "/api/v2")
    }) {
        return Some(Hint::new(format!(
            "\"{a}\" is the Auth0 Management API: the client asked for a Management API token (`audience={a}`, or a machine-to-machine application authorized only for it), not for this API."
        ))
        .fix("Request the token with `audience` set to this API's identifier (Auth0 dashboard, Applications > APIs), and authorize the client for that API.".into()));
    }
    if auds.iter().any(|a| a == "api://default") {
        return Some(Hint::new(
            "\"api://default\" is the audience of Okta's `default` authorization server: the token comes from /oauth2/default, whose audience the API does not accept.".into(),
        )
        .fix("Get the token from the authorization server whose audience is this API's, or set the API's expected audience to `api://default` if it trusts that server.".into()));
    }
    None
}

/// The claims that make a token an OpenID Connect ID token: `nonce`,
/// `at_hash`, `c_hash`, or Amazon Cognito's `token_use` "id" (its own
/// sign-in API's ID tokens carry none of the others).
pub fn id_token_markers(claims: &Map<String, Value>) -> Vec<&'static str> {
    let mut markers: Vec<&'static str> = ["nonce", "at_hash", "c_hash"]
        .into_iter()
        .filter(|k| claims.has(k))
        .collect();
    if claims.member("token_use").and_then(Value::as_str) == Some("id") {
        markers.push("token_use");
    }
    // Google issues no JWT access tokens (they are opaque `ya29.`): a JWT
    // from accounts.google.com for an OAuth client id is an ID token.
    let google = matches!(
        claims.member("iss").and_then(Value::as_str),
        Some("https://accounts.google.com" | "accounts.google.com")
    );
    let client_aud = claims
        .member("aud")
        .and_then(Value::as_str)
        .is_some_and(|a| a.ends_with(".apps.googleusercontent.com"));
    if markers.is_empty() && google && client_aud {
        markers.push("aud");
    }
    markers
}

/// The verifier's job is checking ID tokens, not access tokens: it
/// demands the ID-token marker itself (`token_use` "id", aws-jwt-verify's
/// `tokenUse: "id"`), or it expects the token's own client-id audience from
/// an issuer that has no JWT access tokens to send instead (Google Sign-In,
/// Sign in with Apple: their backends verify the ID token by design). An
/// Azure AD or Keycloak API expects its client id too, and an ID token of
/// the same registration carries it: there the finding stands.
pub fn verifies_id_tokens(
    expected_aud: &[String],
    expected_claims: &[(String, String)],
    claims: &Map<String, Value>,
) -> bool {
    let iss = claims.member("iss").and_then(Value::as_str).unwrap_or("");
    let id_token_issuer = matches!(
        iss.trim_end_matches('/'),
        "https://accounts.google.com" | "accounts.google.com" | "https://appleid.apple.com"
    );
    let own_audience = id_token_issuer
        && claims
            .member("aud")
            .map(super::strings)
            .is_some_and(|auds| {
                auds.iter()
                    .any(|a| !a.contains("://") && expected_aud.contains(a))
            });
    let demands_id = expected_claims.iter().any(|(name, value)| {
        (name == "token_use" && value == "id")
            || (name == "typ" && value.eq_ignore_ascii_case("id"))
    });
    own_audience || demands_id
}

/// A Supabase issuer: a project's API keys (`supabase`, and
/// `supabase-demo` for the local development stack) or its Auth server
/// (`https://<ref>.supabase.co/auth/v1`).
pub fn is_supabase(iss: &str) -> bool {
    matches!(iss, "supabase" | "supabase-demo") || iss.contains(".supabase.co/")
}

/// Why a token carries no `aud` although one is expected.
pub fn audience_absent(expected: &[String], claims: &Map<String, Value>) -> Option<Hint> {
    let cognito_access = claims.member("token_use").and_then(Value::as_str) == Some("access");
    let client_id = claims.member("client_id").and_then(Value::as_str);
    if cognito_access {
        if let Some(id) = client_id {
            let same = if expected.iter().any(|e| e == id) {
                " (the expected value)"
            } else {
                ""
            };
            return Some(Hint::new(format!(
                "This is an Amazon Cognito access token (`token_use` \"access\"): Cognito puts no `aud` in access tokens; the app client id is in `client_id`, here \"{id}\"{same}."
            ))
            .fix("Check `client_id` instead of `aud` for Cognito access tokens (aws-jwt-verify: `tokenUse: \"access\"` with `clientId`).".into()));
        }
    }
    let (name, value) = client_claim(claims, expected)?;
    Some(Hint::new(format!(
        "The expected \"{value}\" is in `{name}`, the client the token was issued to."
    ))
    .fix(format!(
        "Check `{name}` for the client, and have the issuer set `aud` to the API's identifier if the API requires one."
    )))
}

/// A claim naming the client whose value is an expected audience.
fn client_claim<'c>(
    claims: &'c Map<String, Value>,
    expected: &[String],
) -> Option<(&'static str, &'c str)> {
    CLIENT_CLAIMS.iter().find_map(|name| {
        let v = claims.member(name)?.as_str()?;
        expected.iter().any(|e| e == v).then_some((*name, v))
    })
}

/// Why a token minted for Microsoft Graph has an issuer the API does not
/// expect: its version follows Graph's registration, not the API's.
pub fn graph_issuer(graph: &str, claims: &Map<String, Value>) -> Hint {
    let ver = claims
        .member("ver")
        .and_then(Value::as_str)
        .map(|v| format!(" (`ver` \"{v}\")"))
        .unwrap_or_default();
    Hint::new(format!(
        "The token's audience \"{graph}\" is Microsoft Graph: the token was minted for Graph, and Azure AD gives a token the version{ver} and issuer that the registration of the resource it is for asks for, Graph's here, not this API's. Changing this API's registration (`accessTokenAcceptedVersion`) or its issuer does not make a Graph token acceptable: the wrong audience is the cause."
    ))
    .fix(GRAPH_FIX.into())
}

/// The audience of a Firebase custom token: the Identity Toolkit API that
/// exchanges it for an ID token.
const FIREBASE_CUSTOM_AUD: &str =
    "https://identitytoolkit.googleapis.com/google.identity.identitytoolkit.v1.IdentityToolkit";

/// A token of a kind no API should take as a user's access token, known by
/// the claims its issuer always writes: a Keycloak refresh token, a
/// Firebase custom token, a Supabase project API key, a legacy Kubernetes
/// service-account token. `expected_aud` is what the API expects, if said.
pub fn token_kind(claims: &Map<String, Value>, expected_aud: &[String]) -> Option<Hint> {
    let text = |name: &str| claims.member(name).and_then(Value::as_str);
    let iss = text("iss").unwrap_or_default();
    let auds: Vec<String> = claims.member("aud").map(super::strings).unwrap_or_default();

    if let Some(typ @ ("Refresh" | "Offline")) = text("typ") {
        if let Some((_, realm)) = Parts::of(iss).and_then(|p| p.keycloak_realm()) {
            let aud = auds
                .iter()
                .map(|a| format!("\"{a}\""))
                .collect::<Vec<_>>()
                .join(", ");
            let what = if typ == "Offline" {
                "offline (refresh)"
            } else {
                "refresh"
            };
            return Some(Hint::new(format!(
                "This is a Keycloak {what} token of realm \"{realm}\" (`typ` \"{typ}\"), not an access token: its audience {aud} is the realm itself, because only Keycloak's token endpoint takes it, to issue new access tokens. The client sent the `refresh_token` of the token response."
            ))
            .fix("Send the `access_token` from the token response (keycloak-js: `keycloak.token`, not `keycloak.refreshToken`). Do not add the realm URL to the API's audiences: that would make the API accept refresh tokens.".into()));
        }
    }

    if auds.iter().any(|a| a == FIREBASE_CUSTOM_AUD) {
        let signer = if iss.ends_with(".iam.gserviceaccount.com") {
            format!(", signed by the service account \"{iss}\"")
        } else {
            String::new()
        };
        let uid = text("uid")
            .map(|u| format!(" for user `uid` \"{u}\""))
            .unwrap_or_default();
        return Some(Hint::new(format!(
            "This is a Firebase custom token{uid} (`aud` the Identity Toolkit API{signer}), made by the Admin SDK's `createCustomToken()`: it only signs the user in to Firebase, it is not the ID token an API verifies."
        ))
        .fix("On the client, exchange it with `signInWithCustomToken(auth, token)` and send the ID token that returns (`user.getIdToken()`) to the API, which verifies it with `verifyIdToken()`.".into()));
    }

    if is_supabase(iss) {
        let project = text("ref")
            .map(|r| format!(" of project \"{r}\""))
            .unwrap_or_default();
        let lifetime = match (
            claims.member("iat").and_then(Value::as_i64),
            claims.member("exp").and_then(Value::as_i64),
        ) {
            (Some(i), Some(e)) if e > i => format!(", valid for {}", crate::clock::duration(e - i)),
            _ => String::new(),
        };
        match text("role") {
            Some("anon") => {
                return Some(Hint::new(format!(
                    "This is the Supabase anon API key{project} (`iss` \"{iss}\", `role` \"anon\"{lifetime}): the public key every client of the project ships with, not a user's session. It names no user and has no `aud`."
                ))
                .fix("Send the signed-in user's `session.access_token` (supabase-js: `(await supabase.auth.getSession()).data.session.access_token`) in `Authorization`; the anon key belongs only in the `apikey` header.".into()));
            }
            Some("service_role") => {
                return Some(Hint::new(format!(
                    "This is the Supabase service_role API key{project} (`iss` \"{iss}\", `role` \"service_role\"{lifetime}), not a user's session: it bypasses Row Level Security."
                ))
                .fix(SERVICE_ROLE_FIX.into()));
            }
            _ => {}
        }
    }

    if iss == "kubernetes/serviceaccount" {
        let secret = text("kubernetes.io/serviceaccount/secret.name")
            .map(|s| format!(", stored in secret \"{s}\""))
            .unwrap_or_default();
        let account = text("kubernetes.io/serviceaccount/service-account.name")
            .unwrap_or("<service-account>");
        let audience = expected_aud
            .first()
            .map(|a| a.trim().to_string())
            .unwrap_or_else(|| "<audience>".into());
        let lacks: Vec<&str> = [
            ("aud", "no `aud` (valid for any audience)"),
            ("exp", "no `exp` (it never expires)"),
        ]
        .into_iter()
        .filter(|(c, _)| !claims.has(c))
        .map(|(_, said)| said)
        .collect();
        let lacks = if lacks.is_empty() {
            String::new()
        } else {
            format!(" It has {}.", lacks.join(" and "))
        };
        return Some(Hint::new(format!(
            "This is a legacy secret-based Kubernetes service-account token (`iss` \"kubernetes/serviceaccount\"{secret}), not a projected one.{lacks} Kubernetes no longer creates them (1.24+) and consumers that check `iss`/`aud` reject them."
        ))
        .fix(format!(
            "Use a projected service-account token with the audience the consumer expects (a `serviceAccountToken` volume projection with `audience: {audience}`, or `kubectl create token {account} --audience {audience}`), and delete the legacy token secret."
        )));
    }
    None
}

/// What to do about a Supabase service_role key that reached a client or an API.
pub const SERVICE_ROLE_FIX: &str = "Keep the service_role key on trusted servers only (never in a browser, mobile app, repository or request from a client); if it reached one, rotate it (JWT secret / API keys in the project settings). Clients send the user's `session.access_token`, to which Row Level Security applies.";

/// A scope the API requires that an Azure AD token carries as an
/// application permission in `roles` (app-only tokens have no `scp`), or
/// any token carries as a role.
pub fn scope_in_roles(want: &str, claims: &Map<String, Value>) -> Option<Hint> {
    let roles: Vec<String> = claims
        .member("roles")
        .map(super::strings)
        .unwrap_or_default();
    let has = roles.iter().any(|r| r == want);
    let azure = claims
        .member("iss")
        .and_then(Value::as_str)
        .and_then(Azure::of)
        .is_some()
        || claims.has("tid");
    let idtyp = claims.member("idtyp").and_then(Value::as_str);
    let app_only = azure
        && (idtyp == Some("app") || (idtyp.is_none() && !claims.has("scp") && claims.has("roles")));
    let listed = if roles.is_empty() {
        "no `roles`".to_string()
    } else {
        format!(
            "`roles` {}",
            roles
                .iter()
                .map(|r| format!("\"{r}\""))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    if app_only {
        let marker = match idtyp {
            Some(t) => format!("`idtyp` \"{t}\""),
            None => "no `scp`".into(),
        };
        let hint = Hint::new(format!(
            "This is an Azure AD app-only token ({marker}; client credentials): application permissions arrive in `roles`, never as scopes, and client credentials can only request `/.default`. The token has {listed}{}",
            if has {
                format!(
                    ": `{want}` is granted, in `roles`; the API looks for it in the wrong claim."
                )
            } else {
                format!(", without `{want}`.")
            }
        ));
        return Some(if has {
            hint.fix(format!(
                "Make the API accept `{want}` from `roles` for app-only tokens (`idtyp` \"app\", or no `scp`) and from `scp` for delegated ones (Microsoft.Identity.Web: `[RequiredScopeOrAppPermission]`); requesting the scope cannot help, client credentials get no scopes."
            ))
        } else {
            hint.fix(format!(
                "Add `{want}` as an application permission (app role) to the client's API permissions in Azure AD, grant admin consent, get a new token, and have the API check `roles` for app-only tokens."
            ))
        });
    }
    has.then(|| {
        Hint::new(format!(
            "`{want}` is in the token's `roles` instead, a role granted to the caller, not a scope."
        ))
    })
}

fn graph_hint(graph: &str) -> Hint {
    Hint::new(format!(
        "The audience \"{graph}\" is Microsoft Graph: the token was minted for Graph, not for this API (the client asked for Graph scopes such as `User.Read`, or only `openid profile`). Graph tokens are for Graph alone; no other API can even validate their signature."
    ))
    .fix(GRAPH_FIX.into())
}

fn audience_pair(a: &str, e: &str, claims: &Map<String, Value>) -> Option<Hint> {
    if e.eq_ignore_ascii_case(a) {
        return Some(Hint::new(format!(
            "They differ only in letter case (\"{e}\"): audiences are compared as exact strings."
        )));
    }
    if e.trim_end_matches('/') == a.trim_end_matches('/') {
        return Some(
            Hint::new(format!("They differ only by a trailing slash (\"{e}\").")).fix(format!(
                "Set the API's expected audience to \"{a}\" exactly, as the issuer writes it."
            )),
        );
    }
    // Azure AD: the App ID URI in v1.0 tokens, the bare client id in v2.0.
    let guid = |s: &str| s.len() == 36 && s.bytes().filter(|&b| b == b'-').count() == 4;
    let (uri, id) = if guid(e) && a.ends_with(e) && a.len() > e.len() {
        (a, e)
    } else if guid(a) && e.ends_with(a) && e.len() > a.len() {
        (e, a)
    } else {
        ("", "")
    };
    if !uri.is_empty() {
        let ver = claims
            .member("ver")
            .and_then(Value::as_str)
            .map(|v| format!(" (`ver` \"{v}\")"))
            .unwrap_or_default();
        return Some(Hint::new(format!(
            "Same Azure AD application: \"{uri}\" is its Application ID URI, \"{id}\" its client id. v1.0 access tokens carry the URI in `aud`, v2.0 tokens the client id; this token{ver} carries \"{a}\"."
        ))
        .fix(format!(
            "Accept both \"{uri}\" and \"{id}\" as the API's audience, or set `accessTokenAcceptedVersion` in the API's app registration to the version whose form the API expects, then get a new token."
        )));
    }
    let (t, x) = (Parts::of(a)?, Parts::of(e)?);
    if let Some(port) = t.default_port_only(&x) {
        return Some(default_port(a, e, "aud", t, x, port));
    }
    if t.host == x.host && t.path == x.path {
        return Some(Hint::new(format!(
            "They differ only in the URL scheme (\"{e}\")."
        )));
    }
    if t.path == x.path
        && t.hostname() != x.hostname()
        && base_domain(t.hostname()) == base_domain(x.hostname())
    {
        return Some(Hint::new(format!(
            "Same domain, different host ({} in the token, {} expected): the token was requested for another API of the same domain, or for another environment's API.",
            t.host, x.host
        )));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().expect("object")
    }

    fn iss_hint(iss: &str, e: &str) -> Hint {
        issuer(iss, &[e.to_string()]).unwrap_or_else(|| panic!("no hint for {iss} vs {e}"))
    }

    const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

    #[test]
    fn azure_v1_token_where_v2_is_expected_names_the_manifest_setting() {
        let h = iss_hint(
            &format!("https://sts.windows.net/{TENANT}/"),
            &format!("https://login.microsoftonline.com/{TENANT}/v2.0"),
        );
        assert!(h.detail.contains("v1.0 access token"), "{}", h.detail);
        assert!(h.detail.contains("expects the v2.0 issuer"), "{}", h.detail);
        let fix = h.fix.expect("fix");
        assert!(fix.contains("`accessTokenAcceptedVersion` to 2"), "{fix}");
        assert!(
            fix.contains(&format!("\"https://sts.windows.net/{TENANT}/\"")),
            "{fix}"
        );
    }

    #[test]
    fn azure_v2_token_where_v1_is_expected_says_the_opposite() {
        let h = iss_hint(
            &format!("https://login.microsoftonline.com/{TENANT}/v2.0"),
            &format!("https://sts.windows.net/{TENANT}/"),
        );
        assert!(h.detail.contains("v2.0 access token"), "{}", h.detail);
        assert!(
            h.fix
                .expect("fix")
                .contains("`accessTokenAcceptedVersion` to 1")
        );
    }

    #[test]
    fn azure_other_tenant_and_multi_tenant_template() {
        let other = "11111111-2222-3333-4444-555555555555";
        let h = iss_hint(
            &format!("https://login.microsoftonline.com/{other}/v2.0"),
            &format!("https://login.microsoftonline.com/{TENANT}/v2.0"),
        );
        assert!(
            h.detail.contains(&format!(
                "tenant {other}, the server expects tenant {TENANT}"
            )),
            "{}",
            h.detail
        );
        for template in ["{tenantid}", "common", "organizations"] {
            let h = iss_hint(
                &format!("https://login.microsoftonline.com/{TENANT}/v2.0"),
                &format!("https://login.microsoftonline.com/{template}/v2.0"),
            );
            assert!(
                h.detail.contains("multi-tenant form"),
                "{template}: {}",
                h.detail
            );
            assert!(h.fix.expect("fix").contains("`tid`"), "{template}");
        }
    }

    #[test]
    fn google_issuer_without_scheme_is_genuine() {
        let h = iss_hint("accounts.google.com", "https://accounts.google.com");
        assert!(h.detail.contains("both are genuine"), "{}", h.detail);
        assert!(!h.detail.contains("http vs https"), "{}", h.detail);
        let h = iss_hint("https://accounts.google.com", "accounts.google.com");
        assert!(h.detail.contains("both are genuine"), "{}", h.detail);
    }

    #[test]
    fn http_issuer_behind_a_tls_proxy() {
        let h = iss_hint(
            "http://sso.example.com/realms/a",
            "https://sso.example.com/realms/a",
        );
        assert!(
            h.detail.contains("wrote http into the token"),
            "{}",
            h.detail
        );
        assert!(h.fix.expect("fix").contains("X-Forwarded-Proto"));
        // The other way round, the verifier is what is off.
        let h = iss_hint(
            "https://sso.example.com/realms/a",
            "http://sso.example.com/realms/a",
        );
        assert!(
            h.detail.contains("https in the token, http expected"),
            "{}",
            h.detail
        );
    }

    #[test]
    fn one_idp_under_two_names() {
        let h = iss_hint(
            "http://localhost:8080/realms/demo",
            "http://keycloak:8080/realms/demo",
        );
        assert!(
            h.detail.contains("one IdP reached under two names"),
            "{}",
            h.detail
        );
        assert!(h.fix.expect("fix").contains("KC_HOSTNAME"));
        let h = iss_hint(
            "https://login.example.com/",
            "https://example.eu.auth0.com/",
        );
        assert!(
            h.detail.contains(
                "If login.example.com is the custom domain of Auth0 tenant example.eu.auth0.com"
            ),
            "{}",
            h.detail
        );
        let h = iss_hint(
            "https://auth.staging.example.com/",
            "https://auth.example.com/",
        );
        assert!(
            h.detail.contains("same domain, different host"),
            "{}",
            h.detail
        );
    }

    #[test]
    fn keycloak_realm_and_context_path() {
        let h = iss_hint(
            "https://sso.example.com/realms/test",
            "https://sso.example.com/realms/prod",
        );
        assert!(
            h.detail
                .contains("another realm: \"test\" in the token, \"prod\" expected"),
            "{}",
            h.detail
        );
        let h = iss_hint(
            "https://sso.example.com/realms/prod",
            "https://sso.example.com/auth/realms/prod",
        );
        assert!(
            h.detail.contains("the server has the `/auth` context path"),
            "{}",
            h.detail
        );
        assert!(h.detail.contains("Keycloak 17"), "{}", h.detail);
    }

    #[test]
    fn okta_org_authorization_server_and_cognito_pools() {
        let h = iss_hint(
            "https://dev-1.okta.com",
            "https://dev-1.okta.com/oauth2/default",
        );
        assert!(
            h.detail.contains("org authorization server"),
            "{}",
            h.detail
        );
        assert!(
            h.fix
                .expect("fix")
                .contains("https://dev-1.okta.com/oauth2/default/v1/")
        );
        let h = iss_hint(
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_x",
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_a",
        );
        assert!(
            h.detail.contains("another Cognito user pool"),
            "{}",
            h.detail
        );
    }

    #[test]
    fn unrelated_issuers_get_no_hint() {
        assert_eq!(
            issuer(
                "https://a.example.com/x",
                &["https://b.example.org/y".into()]
            ),
            None
        );
        assert_eq!(issuer("issuer-a", &["issuer-b".into()]), None);
        assert_eq!(
            issuer("https://a.example.com/", &["https://b.example.org/".into()]),
            None
        );
    }

    #[test]
    fn graph_tokens_are_named() {
        let claims = map(json!({"aud": GRAPH_APP_ID}));
        let h = audience(&[GRAPH_APP_ID.into()], &["api://my-api".into()], &claims).expect("hint");
        assert!(h.detail.contains("Microsoft Graph"), "{}", h.detail);
        assert!(h.fix.expect("fix").contains("api://<api-app-id>/.default"));
        let claims = map(json!({"aud": ["https://graph.microsoft.com/"]}));
        assert!(graph_audience(&claims).is_some());
        assert_eq!(graph_audience(&map(json!({"aud": "api://x"}))), None);
    }

    #[test]
    fn azure_app_id_uri_and_client_id_are_one_app() {
        let id = "6e74172b-be56-4843-9ff4-e66a39bb12e3";
        let claims = map(json!({"ver": "1.0"}));
        let h = audience(&[format!("api://{id}")], &[id.into()], &claims).expect("hint");
        assert!(
            h.detail.contains("Same Azure AD application"),
            "{}",
            h.detail
        );
        assert!(h.detail.contains("(`ver` \"1.0\")"), "{}", h.detail);
        let h = audience(&[id.into()], &[format!("api://{id}")], &map(json!({}))).expect("hint");
        assert!(
            h.detail
                .contains(&format!("\"api://{id}\" is its Application ID URI")),
            "{}",
            h.detail
        );
    }

    #[test]
    fn expected_audience_that_is_the_client() {
        let claims = map(
            json!({"iss": "http://localhost:8080/realms/demo", "aud": "account", "azp": "web"}),
        );
        // Another API expected: still Keycloak's `account`, with its mapper.
        let h = audience(&["account".into()], &["orders-api".into()], &claims).expect("hint");
        assert!(
            h.detail.contains("Keycloak's default audience"),
            "{}",
            h.detail
        );
        assert!(h.fix.expect("fix").contains("Audience mapper"));
        let h = audience(&["account".into()], &["web".into()], &claims).expect("hint");
        assert!(h.detail.contains("the token's `azp`"), "{}", h.detail);
        assert!(
            h.detail.contains("Keycloak's default audience"),
            "{}",
            h.detail
        );
        assert!(h.fix.expect("fix").contains("Audience mapper"));
        let claims = map(json!({"aud": "api://default", "cid": "0oa1"}));
        let h = audience(&["api://default".into()], &["0oa1".into()], &claims).expect("hint");
        assert!(h.detail.contains("the token's `cid`"), "{}", h.detail);
        assert!(h.fix.expect("fix").contains("(api://default)"));
    }

    #[test]
    fn management_api_and_okta_default_audiences() {
        let mgmt = "https://acme.eu.auth0.com/api/v2/".to_string();
        let h = audience(
            std::slice::from_ref(&mgmt),
            &["https://api.acme.com".into()],
            &map(json!({})),
        )
        .expect("hint");
        assert!(h.detail.contains("Auth0 Management API"), "{}", h.detail);
        let h = audience(
            &["api://default".into()],
            &["https://api.acme.com".into()],
            &map(json!({})),
        )
        .expect("hint");
        assert!(
            h.detail.contains("Okta's `default` authorization server"),
            "{}",
            h.detail
        );
    }

    #[test]
    fn azure_kid_missing_from_the_tenant_set_points_at_appid_keys() {
        let claims = map(
            json!({"iss": format!("https://login.microsoftonline.com/{TENANT}/v2.0"), "azp": "c1"}),
        );
        let h = unlisted_kid(&claims).expect("hint");
        assert!(h.detail.contains("custom signing key"), "{}", h.detail);
        let fix = h.fix.expect("fix");
        assert!(
            fix.contains(&format!("{TENANT}/discovery/v2.0/keys?appid=")),
            "{fix}"
        );
        assert!(fix.contains("`azp`, the client, is \"c1\""), "{fix}");
        assert!(unlisted_kid(&map(json!({"iss": "https://auth.example.com/"}))).is_none());
    }

    #[test]
    fn cognito_access_tokens_have_client_id_not_aud() {
        let claims = map(json!({"token_use": "access", "client_id": "3abc"}));
        let h = audience_absent(&["3abc".into()], &claims).expect("hint");
        assert!(h.detail.contains("Cognito access token"), "{}", h.detail);
        assert!(
            h.detail.contains("\"3abc\" (the expected value)"),
            "{}",
            h.detail
        );
        assert!(audience_absent(&["x".into()], &map(json!({"sub": "u"}))).is_none());
    }
}
