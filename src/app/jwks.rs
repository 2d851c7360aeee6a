//! `jwtai jwks URL|PATH`: list a key set's keys and their problems.

use std::io::IsTerminal;

use anyhow::bail;

use super::{emit, timeout};
use crate::cli::{Format, JwksArgs};
use crate::{exit, jwks, keys, render};

pub fn run(args: JwksArgs) -> anyhow::Result<u8> {
    let is_url = args.source.starts_with("http://") || args.source.starts_with("https://");
    let set = if is_url {
        let plan = jwks::Plan {
            jwks_uri: Some(args.source.clone()),
            discover: false,
            issuers: Vec::new(),
            timeout: timeout(args.timeout)?,
            use_cache: !args.no_cache,
            spinner: std::io::stderr().is_terminal(),
        };
        match jwks::resolve(&plan, None, None).remote.map(|r| r.outcome) {
            Some(jwks::Fetch::Got(loaded)) => loaded.set,
            Some(jwks::Fetch::Failed(e)) => bail!("cannot fetch {}: {e}", args.source),
            Some(jwks::Fetch::Http { status, excerpt }) => {
                bail!("{} answered HTTP {status}: {excerpt}", args.source)
            }
            Some(jwks::Fetch::Invalid { reason, .. }) => {
                bail!("{} is not a JWK Set: {reason}", args.source)
            }
            None => bail!("nothing fetched from {}", args.source),
        }
    } else {
        keys::load_key_file_with_problems(std::path::Path::new(&args.source))?
    };
    let mut set = set;
    set.note_if_empty();
    // What `diagnose` says of a key when a token meets it, said of the set.
    for (index, c) in set.keys.iter().enumerate() {
        let weak = match &c.material {
            keys::KeyMaterial::Rsa { .. } => c
                .material
                .rsa_bits()
                .filter(|&b| b < 2048)
                .map(|b| {
                    (
                        keys::ProblemKind::WeakKey,
                        format!("RSA {b}-bit: under the 2048 bits modern libraries require"),
                    )
                }),
            keys::KeyMaterial::Hmac(_) => Some((
                keys::ProblemKind::Unusable,
                "a shared HMAC secret (`oct`): whoever reads this set can sign tokens; publish only public keys"
                    .to_string(),
            )),
            _ => None,
        };
        let hits = c
            .kid
            .as_deref()
            .map(crate::checks::header::kid_injection)
            .unwrap_or_default();
        let weak = weak.or_else(|| {
            (!hits.is_empty()).then(|| {
                (
                    keys::ProblemKind::SuspiciousKid,
                    format!(
                        "the kid holds {}: a verifier that builds a file path, query or URL from the token's kid can be led to it",
                        hits.join(" and ")
                    ),
                )
            })
        });
        if let Some((kind, message)) = weak {
            set.problems.push(keys::JwkProblem {
                kind,
                index,
                kid: c.kid.clone(),
                message,
            });
        }
    }
    // A private key file (PEM, DER): only its public part is listed. A set
    // says so per key already (`keys::jwk`).
    for (index, c) in set.keys.iter().enumerate() {
        let said = set
            .problems
            .iter()
            .any(|p| p.index == index && p.kind == keys::ProblemKind::PrivateKey);
        if c.from_private_key && !said && !c.from_set {
            set.problems.push(keys::JwkProblem {
                kind: keys::ProblemKind::PrivateKey,
                index,
                kid: c.kid.clone(),
                message: "a private key: only its public part is listed; publish only that (`openssl pkey -in FILE -pubout`)".to_string(),
            });
        }
    }
    set.problems.sort_by_key(|p| p.index);
    let text = match args.format {
        Format::Json => render::jwks::json(&args.source, &set),
        Format::Markdown => render::jwks::markdown(&args.source, &set),
        Format::Human => render::jwks::human(&args.source, &set),
    };
    emit(&text)?;
    Ok(if render::jwks::set_ok(&set) {
        exit::OK
    } else {
        exit::FINDINGS
    })
}
