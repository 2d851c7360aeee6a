//! The key sets of a scan with `--jwks-uri` or `--discover`.
//!
//! `--jwks-uri` names one set: it is fetched once, for the first token that
//! names an issuer, and every token is checked against it. `--discover`
//! fetches one set per issuer the log's tokens name (each once, and at most
//! [`MAX_ISSUERS`] per run, since each costs up to two network round trips
//! of `--timeout`, and the issuers are whatever the logged tokens claim;
//! with `--iss`, only the issuers it names): a token is checked against its
//! own issuer's keys, never another's.
//!
//! A set that could not be fetched is reported once for the run
//! ([`KeyReport::findings`]), not as a finding of each token: a fetch that
//! failed from here says nothing of the tokens, and on every token it would
//! be the root cause of the whole log. The tokens it applies to have their
//! signature "not checked" ([`Keys::unavailable`]), with their own findings
//! ranked as they are.
//!
//! Resolution runs on the sequential side of the scan, for each batch
//! before it is diagnosed, in input order (so which issuers get a set does
//! not depend on thread timing); workers read an immutable snapshot
//! ([`KeySets`]) and pick a token's keys by its `iss` with a few string
//! comparisons, no allocation. Without `--discover` the pick is one branch.

use std::collections::HashSet;
use std::sync::Arc;

use rayon::prelude::*;

use super::Pending;
use crate::checks::{self, Keys};
use crate::findings::Finding;
use crate::jwks::{self, IssuerFrom, Plan, Resolved, SetIssuer};
use crate::redact::{self, Policy};
use crate::token::{self, Token};

/// Issuers whose key set one `scan --discover` fetches. Tokens of further
/// issuers are not checked against any set (and the run says so).
pub const MAX_ISSUERS: usize = 8;
/// Issuers without a set remembered by name, so each is counted once and a
/// batch does not parse their tokens' issuers again for nothing.
const SKIPPED_REMEMBERED: usize = 1024;
/// Issuers without a set named in the summary.
const SKIPPED_LISTED: usize = 20;

/// Which keys each token is checked against: a snapshot, taken for each
/// batch, that workers share.
pub struct KeySets {
    /// Every token's keys without `--discover`: the flags' keys, plus the
    /// `--jwks-uri` set.
    default: Arc<Keys>,
    discover: bool,
    /// `--discover`: each issuer's own keys (or why it has none).
    by_issuer: Vec<(String, Arc<Keys>)>,
    /// Tokens naming no issuer: the set of `--iss`'s first issuer, else of
    /// the first issuer discovered, else none.
    no_issuer: Arc<Keys>,
    /// Tokens of an issuer that got no set: past [`MAX_ISSUERS`] ...
    past_cap: Arc<Keys>,
    /// ... or not one `--iss` names.
    unexpected: Arc<Keys>,
    /// `--iss` values.
    expected: Arc<[String]>,
}

impl KeySets {
    /// The keys `token` is checked against.
    pub fn for_token(&self, token: &Token) -> &Keys {
        if !self.discover {
            return &self.default;
        }
        let Some(iss) = issuer(token) else {
            return &self.no_issuer;
        };
        if let Some((_, keys)) = self.by_issuer.iter().find(|(i, _)| i == iss) {
            return keys;
        }
        if !self.expected.is_empty() && !self.expected.iter().any(|e| e == iss) {
            &self.unexpected
        } else {
            &self.past_cap
        }
    }
}

fn issuer(token: &Token) -> Option<&str> {
    token.claims()?.get("iss")?.as_str()
}

/// What the run fetched, for the summary.
#[derive(Debug, Clone, Default)]
pub struct KeyReport {
    /// Each set fetched (or tried), in order.
    pub sets: Vec<SetReport>,
    /// Why sets could not be had (`jwks-fetch-failed`, `jwks-http-error`,
    /// …): once each for the run, redacted.
    pub findings: Vec<Finding>,
    /// Issuers whose tokens were checked against no set.
    pub not_fetched: NotFetched,
}

#[derive(Debug, Clone)]
pub struct SetReport {
    /// The issuer the set is for (redacted as the summary shows `iss`).
    pub issuer: Option<serde_json::Value>,
    /// The JWKS URL, when known (given, or found by discovery).
    pub url: Option<String>,
    /// Keys in the set; `None` when it was not obtained.
    pub keys: Option<usize>,
}

#[derive(Debug, Clone, Default)]
pub struct NotFetched {
    /// Distinct issuers past [`MAX_ISSUERS`].
    pub past_cap: u64,
    /// Distinct issuers `--iss` does not name.
    pub unexpected: u64,
    /// Some of them (redacted), first seen first.
    pub issuers: Vec<serde_json::Value>,
    /// More issuers than could be remembered: the counts are lower bounds.
    pub more: bool,
}

/// Fetches the sets, on the sequential side of the scan.
pub(super) struct Resolver {
    plan: Option<Plan>,
    base: Keys,
    sets: Arc<KeySets>,
    /// Issuers with a set (or a failed attempt at one), in order.
    resolved: Vec<String>,
    skipped: HashSet<String>,
    /// `no_issuer` is final: `--iss`'s set, or the first issuer's.
    fallback_settled: bool,
    report: KeyReport,
    /// Redacted, unredacted issuers for [`NotFetched::issuers`].
    listed: Vec<String>,
}

impl Resolver {
    pub(super) fn new(plan: Option<Plan>, base: Keys) -> Resolver {
        let discover = plan
            .as_ref()
            .is_some_and(|p| p.discover && p.jwks_uri.is_none());
        let expected: Arc<[String]> = plan
            .as_ref()
            .map_or_else(Vec::new, |p| p.issuers.clone())
            .into();
        let without = |why: String| {
            let mut keys = base.clone();
            keys.unavailable = Some(why);
            Arc::new(keys)
        };
        let sets = KeySets {
            default: Arc::new(base.clone()),
            discover,
            by_issuer: Vec::new(),
            no_issuer: without(
                "The token names no issuer (`iss`) and no --iss was given, so --discover had no issuer to fetch its keys from".into(),
            ),
            past_cap: without(format!(
                "jwtai fetches the key sets of at most {MAX_ISSUERS} issuers per scan and this token's issuer is past them"
            )),
            unexpected: without(
                "The token's issuer is not one --iss names, and --discover fetches keys only for those".into(),
            ),
            expected,
        };
        Resolver {
            plan,
            base,
            sets: Arc::new(sets),
            resolved: Vec::new(),
            skipped: HashSet::new(),
            fallback_settled: false,
            report: KeyReport::default(),
            listed: Vec::new(),
        }
    }

    /// The snapshot the next batch is diagnosed with.
    pub(super) fn sets(&self) -> Arc<KeySets> {
        Arc::clone(&self.sets)
    }

    /// Fetches what the tokens of a batch need before it is diagnosed:
    /// with `--jwks-uri`, the one set (on the first batch); with
    /// `--discover`, the set of each issuer not seen before.
    pub(super) fn prepare(&mut self, items: &[Pending]) {
        let Some(plan) = self.plan.clone() else {
            return;
        };
        if !self.sets.discover {
            if self.report.sets.is_empty() {
                if let Some(first) = super::key_finder(items) {
                    self.fetch_once(&plan, &first);
                }
            }
            return;
        }
        let full = self.resolved.len() >= MAX_ISSUERS && self.skipped.len() >= SKIPPED_REMEMBERED;
        if full && self.fallback_settled {
            return;
        }
        // Issuers not seen before, in input order (`None`: a token naming
        // none, while the fallback is not settled). Parsing is parallel: the
        // other half of the pool is diagnosing the previous batch.
        let known =
            |iss: &str| self.resolved.iter().any(|r| r == iss) || self.skipped.contains(iss);
        let new: Vec<Option<(String, Option<String>)>> = items
            .par_iter()
            .with_min_len(64)
            .filter_map(|p| {
                let t = token::parse(&p.text);
                match issuer(&t) {
                    None => (!self.fallback_settled).then_some(None),
                    Some(iss) if known(iss) => None,
                    Some(iss) => Some(Some((iss.to_string(), t.kid().map(str::to_string)))),
                }
            })
            .collect();
        let mut sets = None;
        for found in new {
            match found {
                Some((iss, kid)) => self.issuer(&plan, iss, kid.as_deref(), &mut sets),
                None => self.no_issuer(&plan, &mut sets),
            }
        }
        if !self.fallback_settled {
            // Without --iss, tokens naming no issuer take the first
            // issuer's set (with --iss, `no_issuer` fetches its set).
            if let (Some(first), true) = (self.resolved.first(), plan.issuers.is_empty()) {
                let sets = sets.get_or_insert_with(|| clone_sets(&self.sets));
                if let Some((_, keys)) = sets.by_issuer.iter().find(|(i, _)| i == first) {
                    sets.no_issuer = Arc::clone(keys);
                }
                self.fallback_settled = true;
            }
        }
        if let Some(sets) = sets {
            self.sets = Arc::new(sets);
        }
    }

    /// A token of an issuer not seen before.
    fn issuer(&mut self, plan: &Plan, iss: String, kid: Option<&str>, sets: &mut Option<KeySets>) {
        if self.resolved.contains(&iss) || self.skipped.contains(&iss) {
            return;
        }
        let expected = plan.issuers.is_empty() || plan.issuers.contains(&iss);
        if !expected || self.resolved.len() >= MAX_ISSUERS {
            let not = &mut self.report.not_fetched;
            if expected {
                not.past_cap += 1;
            } else {
                not.unexpected += 1;
            }
            if self.listed.len() < SKIPPED_LISTED {
                self.listed.push(iss.clone());
            }
            if self.skipped.len() < SKIPPED_REMEMBERED {
                self.skipped.insert(iss);
            } else {
                not.more = true;
            }
            return;
        }
        let keys = Arc::new(self.fetch(plan, Some(&iss), kid));
        self.resolved.push(iss.clone());
        sets.get_or_insert_with(|| clone_sets(&self.sets))
            .by_issuer
            .push((iss, keys));
    }

    /// The first token naming no issuer: with `--iss`, that issuer's set
    /// is fetched for it (and for its tokens).
    fn no_issuer(&mut self, plan: &Plan, sets: &mut Option<KeySets>) {
        if self.fallback_settled {
            return;
        }
        let Some(first) = plan.issuers.first() else {
            return;
        };
        self.fallback_settled = true;
        let sets = sets.get_or_insert_with(|| clone_sets(&self.sets));
        if let Some((_, keys)) = sets.by_issuer.iter().find(|(i, _)| i == first) {
            sets.no_issuer = Arc::clone(keys);
            return;
        }
        if self.resolved.len() >= MAX_ISSUERS {
            return;
        }
        // Resolved as diagnose does for a token without `iss`: from --iss.
        let keys = Arc::new(self.fetch(plan, None, None));
        self.resolved.push(first.clone());
        sets.no_issuer = Arc::clone(&keys);
        sets.by_issuer.push((first.clone(), keys));
    }

    /// `--jwks-uri`: the one set, fetched for `token` (its kid decides a
    /// re-fetch of a stale cached copy), taken to be `--iss`'s issuer's, or
    /// else that token's issuer's.
    fn fetch_once(&mut self, plan: &Plan, token: &Token) {
        let mut keys = self.fetch(plan, issuer(token), token.kid());
        let set_issuer = match (plan.issuers.first(), issuer(token)) {
            (Some(i), _) => Some(SetIssuer {
                issuer: i.clone(),
                from: IssuerFrom::Flag,
            }),
            (None, Some(i)) => Some(SetIssuer {
                issuer: i.to_string(),
                from: IssuerFrom::FirstInLog,
            }),
            (None, None) => None,
        };
        keys.remote.issuer = set_issuer;
        if let Some(set) = self.report.sets.last_mut() {
            set.issuer = keys.remote.issuer.as_ref().map(|s| s.issuer.clone().into());
        }
        let sets = KeySets {
            default: Arc::new(keys),
            ..clone_sets(&self.sets)
        };
        self.sets = Arc::new(sets);
    }

    /// One resolution: the flags' keys plus the set, or, when it could not
    /// be had, why (said once for the run, in the report).
    fn fetch(&mut self, plan: &Plan, iss: Option<&str>, kid: Option<&str>) -> Keys {
        let resolved = jwks::resolve(plan, iss, kid);
        let failed = checks::jwks::unobtained(&resolved);
        self.report.sets.push(SetReport {
            issuer: resolved
                .issuer
                .as_ref()
                .map(|s| serde_json::Value::from(s.issuer.clone())),
            url: set_url(&resolved),
            keys: match &resolved.remote {
                Some(jwks::Remote {
                    outcome: jwks::Fetch::Got(loaded),
                    ..
                }) => Some(loaded.set.keys.len()),
                _ => None,
            },
        });
        let mut keys = self.base.clone();
        if failed.is_empty() {
            keys.add_remote(resolved);
            return keys;
        }
        let codes: Vec<&str> = failed.iter().map(|f| f.spec.code).collect();
        keys.unavailable = Some(match &resolved.issuer {
            Some(s) if self.sets.discover => format!(
                "The key set of issuer \"{}\" could not be fetched ({}, reported once for the run)",
                s.issuer,
                codes.join(", ")
            ),
            _ => format!(
                "The key set could not be fetched ({}, reported once for the run)",
                codes.join(", ")
            ),
        });
        self.report.findings.extend(failed);
        keys
    }

    /// What the run fetched, its values and texts redacted like the
    /// summary's.
    pub(super) fn finish(mut self, policy: &Policy) -> Option<KeyReport> {
        self.plan.as_ref()?;
        let iss = |v: serde_json::Value| redact::claim_value(policy, "iss", v);
        for set in &mut self.report.sets {
            set.issuer = set.issuer.take().map(iss);
            set.url = set.url.take().map(|u| redact::run_text(&u, policy));
        }
        self.report.findings = self
            .report
            .findings
            .into_iter()
            .map(|f| redact::run_finding(f, policy))
            .collect();
        self.report.not_fetched.issuers = self
            .listed
            .into_iter()
            .map(|i| iss(serde_json::Value::from(i)))
            .collect();
        Some(self.report)
    }
}

/// The JWKS URL of a resolution: given, or found by discovery.
fn set_url(resolved: &Resolved) -> Option<String> {
    resolved.remote.as_ref().map(|r| r.url.clone())
}

fn clone_sets(s: &KeySets) -> KeySets {
    KeySets {
        default: Arc::clone(&s.default),
        discover: s.discover,
        by_issuer: s.by_issuer.clone(),
        no_issuer: Arc::clone(&s.no_issuer),
        past_cap: Arc::clone(&s.past_cap),
        unexpected: Arc::clone(&s.unexpected),
        expected: Arc::clone(&s.expected),
    }
}
