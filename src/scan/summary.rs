//! The scan summary: counts per finding code, root cause, verdict, `kid`,
//! `iss`, `aud` and `alg`, each with one redacted example; and its rendering
//! as a human table or `jwtai.scan/v1` JSON.
//!
//! Aggregation works on *outcomes*: the distinct combinations of (codes, root
//! cause, verdict, kid, iss, aud, alg) seen in the log. A distinct token maps
//! to one outcome id; its repeats only bump that outcome's counter, so the
//! work per repeated line is one hash lookup. Every count exists twice:
//! `tokens` counts occurrences in the log (requests), `distinct` counts
//! distinct tokens.
//!
//! Values per dimension are bounded by a frequency-ordered compaction (the
//! pruning step of lossy counting): a dimension's table takes every new
//! value until it holds `2 ×` [`MAX_VALUES`], then keeps the [`MAX_VALUES`]
//! with the most occurrences (ties: the newer, which has had the least time
//! to add up) and folds the rest into `(other)`, once more at the end for
//! the last rows. Outcomes that referenced a folded value are re-keyed and
//! merged with the outcomes whose keys they now equal; the dedup table holds
//! outcome *handles*, which a forwarding table maps to their outcome, so an
//! id handed out before a compaction still counts into the right row, and a
//! repeat costs that one hop. Memory is constant in the log's size: at most
//! `2 ×` [`MAX_VALUES`] values per dimension, a fixed-size Bloom filter of
//! folded values per dimension, and one handle per token the dedup table
//! remembers (which it caps). A compaction walks the outcomes and handles
//! once, for at least [`MAX_VALUES`] new values, i.e. new distinct tokens.
//!
//! Counts of a value never folded are exact; a value that was folded and
//! comes back is counted from its return, a lower bound (`"exact": false`,
//! `≥` in the table). The Bloom filter tells which values were folded: a
//! false positive only marks an exact count as a lower bound, never the
//! reverse. `(other)` counts every occurrence not counted in a listed row,
//! which includes the earlier occurrences of such returning values. A
//! folded value loses its example, and the [`Covered`] snapshot is rebuilt
//! without it, so it takes a new one when it comes back.
//!
//! Every value shown (kid, iss, aud, alg, examples) is taken from the
//! *redacted* report, so it has already been masked and scrubbed.

use crate::render::human::{Paint, mark};
use std::borrow::Cow;
// Looked up for every distinct token: a fast seeded hash, not SipHash.
use foldhash::{HashMap, HashMapExt, HashSet};
use std::fmt::Write as _;
use std::hash::BuildHasher as _;
use std::sync::Arc;

use owo_colors::Style;
use serde_json::{Map, Value, json};

use super::LineCounts;
use super::source::Compression;
use crate::findings::{Finding, Severity, Spec};
use crate::redact::Redacted;
use crate::render;
use crate::report::Verdict;

pub const SCHEMA: &str = "jwtai.scan/v1";
/// Distinct values listed per dimension (kid, iss, aud, alg): the ones with
/// the most occurrences; a table holds up to twice this between compactions.
pub const MAX_VALUES: usize = 1000;
/// Rows per dimension in the human table (JSON lists every kept value).
const HUMAN_ROWS: usize = 20;
/// Values are cut to this many characters in the summary.
const MAX_VALUE_CHARS: usize = 200;

/// The dimensions a summary breaks tokens down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    Kid,
    Iss,
    Aud,
    Alg,
}

impl Dim {
    pub const ALL: [Dim; 4] = [Dim::Kid, Dim::Iss, Dim::Aud, Dim::Alg];

    pub fn name(self) -> &'static str {
        match self {
            Dim::Kid => "kid",
            Dim::Iss => "iss",
            Dim::Aud => "aud",
            Dim::Alg => "alg",
        }
    }
}

/// Occurrences in the log and distinct tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Count {
    pub tokens: u64,
    pub distinct: u64,
}

impl Count {
    fn add(&mut self, other: Count) {
        self.tokens += other.tokens;
        self.distinct += other.distinct;
    }
}

/// A redacted example: where it is in the log and what it looks like.
#[derive(Debug, Clone)]
pub struct Example {
    /// 1-based line of its first occurrence.
    pub line: u64,
    /// The redacted token view (header, claims, signature summary).
    pub token: Value,
    /// For a finding row: that finding's redacted detail.
    pub detail: Option<String>,
    /// For a finding row: its fix for this token (redacted).
    pub fix: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CodeRow {
    pub spec: &'static Spec,
    pub count: Count,
    pub example: Option<Example>,
}

/// One value of a dimension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DimValue {
    /// The token has no such header field or claim.
    Absent,
    /// Every occurrence not counted in a listed row: values folded for
    /// being rarer than [`MAX_VALUES`] others.
    Other,
    Text(String),
}

impl DimValue {
    fn json(&self) -> Value {
        match self {
            DimValue::Absent => Value::Null,
            DimValue::Other => Value::String("(other)".into()),
            DimValue::Text(s) => Value::String(s.clone()),
        }
    }

    fn human(&self) -> &str {
        match self {
            DimValue::Absent => "(none)",
            DimValue::Other => "(other)",
            DimValue::Text(s) => s,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ValueRow {
    pub value: DimValue,
    pub count: Count,
    /// Occurrences whose verdict is `rejected`.
    pub rejected: u64,
    /// The most frequent root cause among them.
    pub top_root_cause: Option<&'static str>,
    pub example: Option<Example>,
    /// False when the value was folded into `(other)` earlier in the log
    /// and came back: its counts are then lower bounds.
    pub exact: bool,
}

/// Everything `jwtai scan` reports.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The instant time claims were judged at.
    pub now: i64,
    pub lines: LineCounts,
    /// The logs read, and where each begins in the line numbering.
    pub logs: Logs,
    /// How each log was stored, and whether it was read to its end.
    pub stored: Vec<Stored>,
    pub total: Count,
    /// False when the dedup table hit its cap: past it, repeats of new
    /// tokens are counted as distinct.
    pub distinct_exact: bool,
    pub verdicts: Vec<(Verdict, Count)>,
    /// Rejected tokens by their top-ranked error.
    pub root_causes: Vec<CodeRow>,
    /// Every finding code, counted once per token that has it.
    pub findings: Vec<CodeRow>,
    pub by: Vec<(Dim, Vec<ValueRow>)>,
    /// With `--jwks-uri` / `--discover`: the key sets fetched, and what
    /// failed, once for the run.
    pub keys: Option<super::keys::KeyReport>,
}

/// The logs a scan read, in order, and where each begins in the scan's one
/// run of line numbers across them all.
#[derive(Debug, Clone, Default)]
pub struct Logs {
    pub names: Arc<[String]>,
    /// First line of each log reached so far (1 for the first).
    pub starts: Vec<u64>,
}

impl Logs {
    /// A line of the scan as the log it is in and its line there; the log
    /// is named only when there are several.
    pub fn locate(&self, line: u64) -> (Option<&str>, u64) {
        if self.names.len() < 2 {
            return (None, line);
        }
        let i = self
            .starts
            .partition_point(|&s| s <= line)
            .saturating_sub(1);
        let start = self.starts.get(i).copied().unwrap_or(1);
        (
            self.names.get(i).map(String::as_str),
            line.saturating_sub(start) + 1,
        )
    }

    /// A line for people: `line N`, or `LOG:N` when there are several logs.
    pub fn at(&self, line: u64) -> String {
        match self.locate(line) {
            (Some(name), n) => format!("{name}:{n}"),
            (None, n) => format!("line {n}"),
        }
    }

    /// Lines of log `i`, out of `total` lines in all.
    fn lines_of(&self, i: usize, total: u64) -> u64 {
        let start = self.starts.get(i).copied().unwrap_or(total + 1);
        let end = self.starts.get(i + 1).copied().unwrap_or(total + 1);
        end.saturating_sub(start)
    }
}

/// How a log was stored, and whether it was read to its end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stored {
    pub compression: Compression,
    /// Why the input stopped before its end (compressed data cut short or
    /// corrupt): the summary covers only its lines before that.
    pub ended_early: Option<String>,
}

impl Summary {
    /// At least one token has an error finding, or the run has one (a key
    /// set that could not be fetched, [`Summary::run_findings`]).
    pub fn has_errors(&self) -> bool {
        self.verdicts
            .iter()
            .any(|(v, c)| *v == Verdict::Rejected && c.tokens > 0)
            || self
                .run_findings()
                .iter()
                .any(|f| f.severity() == Severity::Error)
    }

    /// Findings of the run itself, tied to no token.
    pub fn run_findings(&self) -> &[Finding] {
        self.keys.as_ref().map_or(&[], |k| k.findings.as_slice())
    }

    pub fn by(&self, dim: Dim) -> &[ValueRow] {
        self.by
            .iter()
            .find(|(d, _)| *d == dim)
            .map_or(&[], |(_, rows)| rows.as_slice())
    }
}

/// Per dimension value while finishing: its count, rejected occurrences,
/// and rejected occurrences per root-cause code id.
type ValueTally = (Count, u64, HashMap<u16, u64>);

/// A token's place in the summary, before it is counted.
pub struct Interned {
    key: OutcomeKey,
    pub needs_example: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct OutcomeKey {
    /// Sorted, distinct code ids.
    codes: Box<[u16]>,
    root: Option<u16>,
    verdict: u8,
    dims: [u32; 4],
}

struct Outcome {
    key: OutcomeKey,
    count: Count,
    /// The handle [`Aggregator::record`] gave out for it, if any.
    handle: u32,
}

/// No handle: [`Outcome::handle`] of an outcome only transient tokens had,
/// and what [`Aggregator::record`] returns for them.
pub const NO_HANDLE: u32 = u32::MAX;

/// Distinct values of one dimension: up to `2 ×` [`MAX_VALUES`], then
/// compacted to the [`MAX_VALUES`] most frequent ([`ValueTable::compact`]).
struct ValueTable {
    ids: HashMap<String, u32>,
    /// id 0 is "absent", id 1 "(other)", then one per value.
    values: Vec<DimValue>,
    examples: Vec<Option<Example>>,
    /// Per id: the value was never folded before (its counts are exact).
    exact: Vec<bool>,
    /// The values folded so far.
    folded: Bloom,
}

impl ValueTable {
    fn new() -> Self {
        ValueTable {
            ids: HashMap::new(),
            values: vec![DimValue::Absent, DimValue::Other],
            examples: vec![None, None],
            exact: vec![true, true],
            folded: Bloom::default(),
        }
    }

    /// Values held (absent and `(other)` aside).
    fn len(&self) -> usize {
        self.ids.len()
    }

    /// The value's id, and whether it has just been admitted to a table
    /// that was already full ([`MAX_VALUES`] held): such a value is listed
    /// only if it outgrows others, so its first token is not worth an
    /// example unless it repeats ([`Aggregator::intern`]).
    fn id(&mut self, v: Option<&Value>) -> (u32, bool) {
        let Some(v) = v else { return (0, false) };
        let text = value_text(v);
        if let Some(id) = self.ids.get(text.as_ref()) {
            return (*id, false);
        }
        let text = text.into_owned();
        let full = self.len() >= MAX_VALUES;
        let id = self.values.len() as u32;
        let hash = self.ids.hasher().hash_one(text.as_str());
        self.exact.push(!self.folded.contains(hash));
        self.values.push(DimValue::Text(text.clone()));
        self.examples.push(None);
        self.ids.insert(text, id);
        (id, full)
    }

    /// Keeps the `keep` values with the most occurrences (`tallies`, per
    /// id; ties: the one with an example, then the newer) and folds the rest into `(other)`, which takes
    /// the earliest of their examples if it has none. Returns the new id
    /// of every old one (1 for a folded value); kept values keep their
    /// order.
    fn compact(&mut self, tallies: &[Count], keep: usize) -> Vec<u32> {
        let n = self.values.len();
        // Best first; selecting the top `keep` is linear, no sort.
        let mut ranked: Vec<_> = (2..n)
            .map(|v| {
                let c = tallies[v];
                std::cmp::Reverse((c.tokens, c.distinct, self.examples[v].is_some(), v))
            })
            .collect();
        if keep < ranked.len() {
            ranked.select_nth_unstable(keep);
            ranked.truncate(keep);
        }
        let mut kept = vec![false; n];
        for std::cmp::Reverse((.., v)) in ranked {
            kept[v] = true;
        }
        let mut remap = vec![1u32; n];
        remap[0] = 0;
        let values = std::mem::replace(&mut self.values, Vec::with_capacity(2 * keep + 2));
        let examples = std::mem::replace(&mut self.examples, Vec::with_capacity(2 * keep + 2));
        let exact = std::mem::replace(&mut self.exact, Vec::with_capacity(2 * keep + 2));
        let mut other_example: Option<Example> = None;
        for (old, ((value, example), exact)) in
            values.into_iter().zip(examples).zip(exact).enumerate()
        {
            if old < 2 || kept[old] {
                remap[old] = self.values.len() as u32;
                self.values.push(value);
                self.examples.push(example);
                self.exact.push(exact);
                continue;
            }
            if let DimValue::Text(text) = &value {
                self.folded
                    .insert(self.ids.hasher().hash_one(text.as_str()));
            }
            if let Some(e) = example {
                if other_example.as_ref().is_none_or(|o| e.line < o.line) {
                    other_example = Some(e);
                }
            }
        }
        if self.examples[1].is_none() {
            self.examples[1] = other_example;
        }
        self.ids.retain(|_, id| {
            *id = remap[*id as usize];
            *id != 1
        });
        remap
    }
}

/// A Bloom filter of 64-bit hashes, allocated on its first insert: 2^21
/// bits (256 KiB), 3 probes. Wrong positives stay under 1% up to about
/// 100,000 values and pass 40% near a million; it never misses a value.
#[derive(Default)]
struct Bloom {
    bits: Vec<u64>,
}

impl Bloom {
    const BITS: u64 = 1 << 21;

    fn probes(hash: u64) -> impl Iterator<Item = u64> {
        let (h1, h2) = (hash & 0xffff_ffff, (hash >> 32) | 1);
        (0..3u64).map(move |i| h1.wrapping_add(i.wrapping_mul(h2)) % Self::BITS)
    }

    fn insert(&mut self, hash: u64) {
        if self.bits.is_empty() {
            self.bits = vec![0; (Self::BITS / 64) as usize];
        }
        for bit in Self::probes(hash) {
            self.bits[(bit / 64) as usize] |= 1 << (bit % 64);
        }
    }

    fn contains(&self, hash: u64) -> bool {
        !self.bits.is_empty()
            && Self::probes(hash).all(|bit| self.bits[(bit / 64) as usize] & (1 << (bit % 64)) != 0)
    }
}

/// How a value is shown and keyed in its dimension's rows: a string as is,
/// anything else as JSON, cut at [`MAX_VALUE_CHARS`].
fn value_text(v: &Value) -> Cow<'_, str> {
    let text = match v {
        Value::String(s) => Cow::Borrowed(s.as_str()),
        other => Cow::Owned(other.to_string()),
    };
    // Bytes bound chars: most values are short and need no counting.
    if text.len() > MAX_VALUE_CHARS && text.chars().count() > MAX_VALUE_CHARS {
        let mut cut: String = text.chars().take(MAX_VALUE_CHARS).collect();
        cut.push('…');
        Cow::Owned(cut)
    } else {
        text
    }
}

/// The rows that already have their example, as of some point of the scan.
/// A worker drops the report of a token whose every code and value is
/// covered at once, instead of holding it until its batch is counted in.
/// Examples are only added, except that a compaction drops those of the
/// values it folds (and rebuilds the snapshot): a token of such a value
/// that comes back in a batch judged against an older snapshot has lost
/// its report, and the value's example is taken from a later token.
#[derive(Clone, Default)]
pub struct Covered {
    codes: HashSet<&'static str>,
    /// Root causes that have their example (a token whose root cause it is).
    roots: HashSet<&'static str>,
    /// Per dimension ([`Dim::ALL`] order): "absent" has an example.
    absent: [bool; 4],
    /// Per dimension: the value texts ([`value_text`]) that have one.
    values: [HashSet<String>; 4],
}

impl Covered {
    /// True when a token with these codes and dimension values (as
    /// [`super::Diagnosed`] holds them) cannot be wanted as an example.
    pub fn covers(
        &self,
        codes: &[&'static Spec],
        root: Option<&'static Spec>,
        dims: &[Option<Value>; 4],
    ) -> bool {
        codes.iter().all(|s| self.codes.contains(s.code))
            && root.is_none_or(|r| self.roots.contains(r.code))
            && dims.iter().enumerate().all(|(i, v)| match v {
                None => self.absent[i],
                Some(v) => self.values[i].contains(value_text(v).as_ref()),
            })
    }
}

/// Builds a [`Summary`] one token at a time, in input order.
pub struct Aggregator {
    now: i64,
    /// Live outcomes: a compaction merges some and renumbers the rest.
    outcomes: Vec<Outcome>,
    index: HashMap<OutcomeKey, u32>,
    /// Per handle given out: its outcome's index in `outcomes`.
    forward: Vec<u32>,
    codes: Vec<&'static Spec>,
    code_ids: HashMap<&'static str, u16>,
    code_examples: Vec<Option<Example>>,
    /// Per code id: the first token whose root cause it is. A token's
    /// root cause is one of its findings, but its first token with that
    /// finding may have another root cause (an expired token first seen
    /// URL-encoded is `url-encoded` there).
    root_examples: Vec<Option<Example>>,
    dims: [ValueTable; 4],
    covered: Arc<Covered>,
}

fn verdict_id(v: Verdict) -> u8 {
    match v {
        Verdict::Accepted => 0,
        Verdict::Rejected => 1,
        Verdict::Unverified => 2,
    }
}

const VERDICTS: [Verdict; 3] = [Verdict::Rejected, Verdict::Unverified, Verdict::Accepted];

impl Aggregator {
    pub fn new(now: i64) -> Self {
        Aggregator {
            now,
            outcomes: Vec::new(),
            index: HashMap::new(),
            forward: Vec::new(),
            codes: Vec::new(),
            code_ids: HashMap::new(),
            code_examples: Vec::new(),
            root_examples: Vec::new(),
            dims: [
                ValueTable::new(),
                ValueTable::new(),
                ValueTable::new(),
                ValueTable::new(),
            ],
            covered: Arc::default(),
        }
    }

    /// A snapshot of the rows that have their example (cheap: shared until
    /// the next example is taken).
    pub fn covered(&self) -> Arc<Covered> {
        Arc::clone(&self.covered)
    }

    fn code_id(&mut self, spec: &'static Spec) -> u16 {
        if let Some(id) = self.code_ids.get(spec.code) {
            return *id;
        }
        let id = self.codes.len() as u16;
        self.codes.push(spec);
        self.code_examples.push(None);
        self.root_examples.push(None);
        self.code_ids.insert(spec.code, id);
        id
    }

    /// Interns a distinct token's codes and values, and tells whether it is
    /// the first in some row (so its redacted report is wanted as an
    /// example). A value new to a full table is not worth one on a token
    /// seen once so far (`occurrences`): in a log of one-off values that
    /// would redact every token, in the sequential half of the scan, for
    /// values that are folded. It takes one from its next distinct token,
    /// and its first if that one repeats early, and loses ties to values
    /// that have one ([`ValueTable::compact`]).
    pub fn intern(&mut self, d: &super::Diagnosed, occurrences: u64) -> Interned {
        let mut codes: Vec<u16> = d.codes.iter().map(|s| self.code_id(s)).collect();
        let root = d.root.map(|s| self.code_id(s));
        let mut dims = [0u32; 4];
        let mut wanted = false;
        for (i, v) in d.dims.iter().enumerate() {
            let (id, untried) = self.dims[i].id(v.as_ref());
            dims[i] = id;
            wanted |= matches!(self.dims[i].examples.get(id as usize), Some(None))
                && (!untried || occurrences > 1);
        }
        let needs_example = wanted
            || codes
                .iter()
                .any(|c| matches!(self.code_examples.get(*c as usize), Some(None)))
            || root.is_some_and(|r| matches!(self.root_examples.get(r as usize), Some(None)));
        codes.sort_unstable();
        codes.dedup();
        Interned {
            key: OutcomeKey {
                codes: codes.into_boxed_slice(),
                root,
                verdict: verdict_id(d.verdict),
                dims,
            },
            needs_example,
        }
    }

    /// Counts an interned token seen `occurrences` times so far, taking
    /// `example` (its redacted report) for the rows that have none yet.
    /// Returns its outcome's handle for [`Aggregator::repeat`] when the
    /// token is `remembered` (by the dedup table: a handle costs 4 bytes
    /// for the whole scan), else [`NO_HANDLE`].
    pub fn record(
        &mut self,
        line: u64,
        interned: Interned,
        occurrences: u64,
        example: Option<&Redacted>,
        remembered: bool,
    ) -> u32 {
        let key = interned.key;
        if let Some(red) = example {
            let r = red.report();
            let mut view: Option<Value> = None;
            let mut example = |finding: Option<&Finding>| Example {
                line,
                token: view
                    .get_or_insert_with(|| render::json::token(&r.token))
                    .clone(),
                detail: finding.map(|f| f.detail.clone()),
                fix: finding.map(|f| f.fix_text().to_string()),
            };
            for f in &r.findings {
                let id = self.code_ids.get(f.spec.code).copied().unwrap_or(0) as usize;
                if let Some(slot @ None) = self.code_examples.get_mut(id) {
                    *slot = Some(example(Some(f)));
                    Arc::make_mut(&mut self.covered).codes.insert(f.spec.code);
                }
            }
            if let Some(root) = key.root {
                if let Some(slot @ None) = self.root_examples.get_mut(root as usize) {
                    let spec = self.codes[root as usize];
                    if let Some(f) = r.findings.iter().find(|f| f.spec.code == spec.code) {
                        *slot = Some(example(Some(f)));
                        Arc::make_mut(&mut self.covered).roots.insert(spec.code);
                    }
                }
            }
            for (i, id) in key.dims.iter().enumerate() {
                let table = &mut self.dims[i];
                if let Some(slot @ None) = table.examples.get_mut(*id as usize) {
                    *slot = Some(example(None));
                    let covered = Arc::make_mut(&mut self.covered);
                    match table.values.get(*id as usize) {
                        Some(DimValue::Absent) => covered.absent[i] = true,
                        Some(DimValue::Text(text)) => {
                            covered.values[i].insert(text.clone());
                        }
                        Some(DimValue::Other) | None => {}
                    }
                }
            }
        }
        let slot = match self.index.get(&key) {
            Some(slot) => *slot as usize,
            None => {
                let slot = self.outcomes.len();
                self.outcomes.push(Outcome {
                    key: key.clone(),
                    count: Count::default(),
                    handle: NO_HANDLE,
                });
                self.index.insert(key, slot as u32);
                slot
            }
        };
        let o = &mut self.outcomes[slot];
        o.count.add(Count {
            tokens: occurrences,
            distinct: 1,
        });
        let handle = match (remembered, o.handle) {
            (false, _) => NO_HANDLE,
            (true, NO_HANDLE) => {
                let handle = self.forward.len() as u32;
                self.forward.push(slot as u32);
                o.handle = handle;
                handle
            }
            (true, handle) => handle,
        };
        if self.dims.iter().any(|t| t.len() >= 2 * MAX_VALUES) {
            self.compact(2 * MAX_VALUES - 1);
        }
        handle
    }

    /// One more occurrence of an already diagnosed token, by its handle:
    /// one hop through the forwarding table.
    pub fn repeat(&mut self, handle: u32) {
        if let Some(&slot) = self.forward.get(handle as usize) {
            if let Some(o) = self.outcomes.get_mut(slot as usize) {
                o.count.tokens += 1;
            }
        }
    }

    /// Compacts every dimension holding more than `over` values down to
    /// [`MAX_VALUES`] ([`ValueTable::compact`]), re-keys the outcomes,
    /// merges those whose keys became equal (the first keeps its place and
    /// handle), points every handle at its outcome's new place, and
    /// rebuilds the [`Covered`] snapshot.
    fn compact(&mut self, over: usize) {
        let mut remaps: [Option<Vec<u32>>; 4] = Default::default();
        for (i, remap) in remaps.iter_mut().enumerate() {
            if self.dims[i].len() <= over {
                continue;
            }
            let mut tallies = vec![Count::default(); self.dims[i].values.len()];
            for o in &self.outcomes {
                tallies[o.key.dims[i] as usize].add(o.count);
            }
            *remap = Some(self.dims[i].compact(&tallies, MAX_VALUES));
        }
        if remaps.iter().all(Option::is_none) {
            return;
        }
        let live = self.outcomes.len();
        let old = std::mem::replace(&mut self.outcomes, Vec::with_capacity(live));
        self.index.clear();
        let mut moved = Vec::with_capacity(old.len());
        for mut o in old {
            for (d, remap) in o.key.dims.iter_mut().zip(&remaps) {
                if let Some(remap) = remap {
                    *d = remap[*d as usize];
                }
            }
            match self.index.get(&o.key) {
                Some(&slot) => {
                    let survivor = &mut self.outcomes[slot as usize];
                    survivor.count.add(o.count);
                    if survivor.handle == NO_HANDLE {
                        survivor.handle = o.handle;
                    }
                    moved.push(slot);
                }
                None => {
                    let slot = self.outcomes.len() as u32;
                    self.index.insert(o.key.clone(), slot);
                    self.outcomes.push(o);
                    moved.push(slot);
                }
            }
        }
        for slot in &mut self.forward {
            *slot = moved[*slot as usize];
        }
        // A new snapshot: the old one is shared with workers, and cloning it
        // would copy the sets about to be replaced.
        let old = &self.covered;
        let values = std::array::from_fn(|i| match &remaps[i] {
            None => old.values[i].clone(),
            Some(_) => {
                let table = &self.dims[i];
                table
                    .values
                    .iter()
                    .zip(&table.examples)
                    .filter_map(|(v, e)| match (v, e) {
                        (DimValue::Text(text), Some(_)) => Some(text.clone()),
                        _ => None,
                    })
                    .collect()
            }
        });
        self.covered = Arc::new(Covered {
            codes: old.codes.clone(),
            roots: old.roots.clone(),
            absent: old.absent,
            values,
        });
    }

    pub fn finish(mut self, lines: LineCounts, saturated: bool) -> Summary {
        // The listed values: the MAX_VALUES most frequent.
        self.compact(MAX_VALUES);
        let n = self.codes.len();
        let mut per_code = vec![Count::default(); n];
        let mut per_root = vec![Count::default(); n];
        let mut verdicts = [Count::default(); 3];
        let mut total = Count::default();
        let mut per_value: Vec<Vec<ValueTally>> = self
            .dims
            .iter()
            .map(|t| vec![(Count::default(), 0, HashMap::new()); t.values.len()])
            .collect();
        for o in &self.outcomes {
            total.add(o.count);
            for &c in o.key.codes.iter() {
                per_code[c as usize].add(o.count);
            }
            if let Some(r) = o.key.root {
                per_root[r as usize].add(o.count);
            }
            verdicts[o.key.verdict as usize].add(o.count);
            let rejected = o.key.verdict == verdict_id(Verdict::Rejected);
            for (i, &v) in o.key.dims.iter().enumerate() {
                if let Some(row) = per_value[i].get_mut(v as usize) {
                    row.0.add(o.count);
                    if rejected {
                        row.1 += o.count.tokens;
                        if let Some(r) = o.key.root {
                            *row.2.entry(r).or_default() += o.count.tokens;
                        }
                    }
                }
            }
        }
        let rows = |counts: &[Count], examples: &[Option<Example>]| {
            let mut rows: Vec<CodeRow> = counts
                .iter()
                .enumerate()
                .filter(|(_, c)| c.distinct > 0)
                .map(|(i, c)| CodeRow {
                    spec: self.codes[i],
                    count: *c,
                    example: examples[i].clone(),
                })
                .collect();
            rows.sort_by(|a, b| {
                (
                    std::cmp::Reverse(a.spec.severity),
                    std::cmp::Reverse(a.count.tokens),
                    a.spec.code,
                )
                    .cmp(&(
                        std::cmp::Reverse(b.spec.severity),
                        std::cmp::Reverse(b.count.tokens),
                        b.spec.code,
                    ))
            });
            rows
        };
        let findings = rows(&per_code, &self.code_examples);
        // A root cause's example is a token whose root cause it is.
        let mut root_causes = rows(&per_root, &self.root_examples);
        root_causes.sort_by(|a, b| {
            b.count
                .tokens
                .cmp(&a.count.tokens)
                .then(a.spec.code.cmp(b.spec.code))
        });
        let by = Dim::ALL
            .iter()
            .enumerate()
            .map(|(i, dim)| {
                let table = &self.dims[i];
                let mut rows: Vec<ValueRow> = per_value[i]
                    .iter()
                    .enumerate()
                    .filter(|(_, (c, _, _))| c.distinct > 0)
                    .map(|(v, (c, rejected, roots))| ValueRow {
                        value: table.values[v].clone(),
                        count: *c,
                        rejected: *rejected,
                        top_root_cause: roots
                            .iter()
                            .max_by(|a, b| {
                                a.1.cmp(b.1).then(
                                    self.codes[*b.0 as usize]
                                        .code
                                        .cmp(self.codes[*a.0 as usize].code),
                                )
                            })
                            .map(|(r, _)| self.codes[*r as usize].code),
                        example: table.examples[v].clone(),
                        exact: table.exact[v],
                    })
                    .collect();
                rows.sort_by(|a, b| {
                    b.count
                        .tokens
                        .cmp(&a.count.tokens)
                        .then_with(|| a.value.human().cmp(b.value.human()))
                });
                (*dim, rows)
            })
            .collect();
        Summary {
            now: self.now,
            lines,
            logs: Logs::default(),
            stored: Vec::new(),
            total,
            distinct_exact: !saturated,
            verdicts: VERDICTS
                .iter()
                .map(|v| (*v, verdicts[verdict_id(*v) as usize]))
                .collect(),
            root_causes,
            findings,
            by,
            keys: None,
        }
    }
}

fn count_json(c: Count) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("tokens".into(), json!(c.tokens));
    m.insert("distinct".into(), json!(c.distinct));
    m
}

fn example_json(e: &Option<Example>, logs: &Logs) -> Value {
    match e {
        None => Value::Null,
        Some(e) => {
            let mut m = Map::new();
            let (file, line) = logs.locate(e.line);
            if let Some(file) = file {
                m.insert("file".into(), json!(file));
            }
            m.insert("line".into(), json!(line));
            m.insert("token".into(), e.token.clone());
            if let Some(d) = &e.detail {
                m.insert("detail".into(), json!(d));
            }
            if let Some(f) = &e.fix {
                m.insert("fix".into(), json!(f));
            }
            Value::Object(m)
        }
    }
}

/// The compression every log shares, if they share one.
fn shared_compression(stored: &[Stored]) -> Option<&'static str> {
    let first = stored.first()?.compression;
    stored
        .iter()
        .all(|st| st.compression == first)
        .then(|| first.name())
        .flatten()
}

/// Why logs ended early, each prefixed by its name when there are several.
fn ended_early(s: &Summary) -> impl Iterator<Item = String> + '_ {
    s.stored.iter().enumerate().filter_map(|(i, st)| {
        let why = st.ended_early.as_deref()?;
        Some(
            match s.logs.names.get(i).filter(|_| s.logs.names.len() > 1) {
                Some(name) => format!("{name}: {why}"),
                None => why.to_string(),
            },
        )
    })
}

fn files_json(s: &Summary) -> Value {
    let logs = &s.logs;
    let files: Vec<Value> = logs
        .names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let st = s.stored.get(i).cloned().unwrap_or_default();
            json!({
                "name": name,
                "first_line": logs.starts.get(i),
                "lines": logs.lines_of(i, s.lines.lines),
                "compression": st.compression.name(),
                "ended_early": st.ended_early,
            })
        })
        .collect();
    Value::Array(files)
}

fn code_row_json(r: &CodeRow, share_of: Option<u64>, logs: &Logs) -> Value {
    let mut m = Map::new();
    m.insert("code".into(), json!(r.spec.code));
    m.insert("severity".into(), json!(r.spec.severity));
    m.insert("title".into(), json!(r.spec.title));
    m.extend(count_json(r.count));
    if let Some(total) = share_of {
        m.insert("share".into(), json!(share(r.count.tokens, total)));
    }
    m.insert("example".into(), example_json(&r.example, logs));
    Value::Object(m)
}

fn share(part: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        (part as f64 / total as f64 * 10_000.0).round() / 10_000.0
    }
}

/// The `jwtai.scan/v1` summary object.
pub fn json(s: &Summary) -> Value {
    let rejected = s
        .verdicts
        .iter()
        .find(|(v, _)| *v == Verdict::Rejected)
        .map_or(0, |(_, c)| c.tokens);
    let mut verdicts = Map::new();
    for (v, c) in &s.verdicts {
        verdicts.insert(v.as_str().into(), Value::Object(count_json(*c)));
    }
    let l = &s.lines;
    let mut out = json!({
        "schema": SCHEMA,
        "now": s.now,
        "input": {
            "lines": l.lines,
            "bytes": l.bytes,
            "lines_with_tokens": l.with_token,
            "lines_without_token": l.without_token,
            "blank_lines": l.blank,
            "lines_too_long": l.too_long,
            "binary_lines": l.binary,
            "tokens_masked_by_log": l.redacted,
            "max_line_bytes": super::MAX_LINE_BYTES,
            // One log: its own; several: the compression they share (null
            // when it differs) and the first to end early, by name (`files`
            // has each).
            "compression": shared_compression(&s.stored),
            "ended_early": ended_early(s).next(),
            "files": files_json(s),
        },
        "tokens": {
            "total": s.total.tokens,
            "distinct": s.total.distinct,
            "duplicates": s.total.tokens.saturating_sub(s.total.distinct),
            "distinct_exact": s.distinct_exact,
        },
        "verdicts": verdicts,
        // Additive to v1: what failed once for the whole run (a key set
        // that could not be fetched), and the key sets fetched.
        "run_findings": s.run_findings().iter().map(render::json::finding).collect::<Vec<_>>(),
        "key_sets": s.keys.as_ref().map(key_sets_json),
        "root_causes": s.root_causes.iter().map(|r| code_row_json(r, Some(rejected), &s.logs)).collect::<Vec<_>>(),
        "findings": s.findings.iter().map(|r| code_row_json(r, None, &s.logs)).collect::<Vec<_>>(),
    });
    if let Value::Object(m) = &mut out {
        for (dim, rows) in &s.by {
            let rows: Vec<Value> = rows
                .iter()
                .map(|r| {
                    let mut m = Map::new();
                    m.insert("value".into(), r.value.json());
                    m.extend(count_json(r.count));
                    m.insert("rejected".into(), json!(r.rejected));
                    m.insert("top_root_cause".into(), json!(r.top_root_cause));
                    m.insert("example".into(), example_json(&r.example, &s.logs));
                    // Additive to v1: false when the counts are lower bounds.
                    m.insert("exact".into(), json!(r.exact));
                    Value::Object(m)
                })
                .collect();
            m.insert(format!("by_{}", dim.name()), Value::Array(rows));
        }
    }
    out
}

fn key_sets_json(k: &super::keys::KeyReport) -> Value {
    let n = &k.not_fetched;
    json!({
        "max_issuers": super::keys::MAX_ISSUERS,
        "sets": k.sets.iter().map(|s| json!({
            "issuer": s.issuer,
            "url": s.url,
            "fetched": s.keys.is_some(),
            "keys": s.keys,
        })).collect::<Vec<_>>(),
        "issuers_not_fetched": {
            "past_max_issuers": n.past_cap,
            "not_in_iss": n.unexpected,
            "exact": !n.more,
            "examples": n.issuers,
        },
    })
}

/// The human lines on the key sets: each fetched, what failed (once for the
/// run), and the issuers that got none.
fn key_sets_human(out: &mut String, k: &super::keys::KeyReport, p: &Paint) {
    if k.sets.len() > 1 || k.sets.iter().any(|s| s.issuer.is_some()) {
        for s in &k.sets {
            let issuer = s.issuer.as_ref().map_or("(no issuer)".to_string(), |v| {
                v.as_str().map_or_else(|| v.to_string(), str::to_string)
            });
            let what = match s.keys {
                Some(n) => format!("{n} key(s) from {}", s.url.as_deref().unwrap_or("?")),
                None => "not fetched (see below)".to_string(),
            };
            let _ = writeln!(
                out,
                "{}",
                p.dim(&format!("key set: {} — {what}", cut(&issuer, 80)))
            );
        }
    }
    for f in &k.findings {
        let _ = writeln!(
            out,
            "{}",
            p.sev(
                f.severity(),
                &format!(
                    "{} {}: {} The signatures this set was for are not checked; each token's own findings are ranked below.",
                    mark(f.severity()),
                    f.code(),
                    f.detail
                )
            )
        );
    }
    let n = &k.not_fetched;
    if n.past_cap + n.unexpected > 0 {
        let names: Vec<String> = n
            .issuers
            .iter()
            .take(5)
            .map(|v| {
                v.as_str()
                    .map_or_else(|| v.to_string(), |s| format!("\"{s}\""))
            })
            .collect();
        let _ = writeln!(
            out,
            "{}",
            p.sev(
                Severity::Warning,
                &format!(
                    "{}{} issuer(s) got no key set ({}): their tokens' signatures are not checked. E.g. {}",
                    if n.more { "≥" } else { "" },
                    n.past_cap + n.unexpected,
                    match (n.past_cap, n.unexpected) {
                        (0, _) => "not named by --iss".to_string(),
                        (_, 0) => format!("past the {} issuers one scan fetches", super::keys::MAX_ISSUERS),
                        (c, u) => format!("{c} past the {} issuers one scan fetches, {u} not named by --iss", super::keys::MAX_ISSUERS),
                    },
                    names.join(", ")
                )
            )
        );
    }
}

fn pct(part: u64, total: u64) -> String {
    format!("{:.1}%", share(part, total) * 100.0)
}

/// A finding row's example: what the finding says of its first token (or,
/// without a detail, the token's header and claims), cut to one line.
fn example_line(e: &Example, logs: &Logs) -> String {
    if let Some(detail) = &e.detail {
        return format!("e.g. {}: {}", logs.at(e.line), cut(detail, 200));
    }
    let mut m = Map::new();
    for k in ["header", "claims"] {
        if let Some(v) = e.token.get(k) {
            m.insert(k.into(), v.clone());
        }
    }
    format!(
        "e.g. {}: {}",
        logs.at(e.line),
        cut(&Value::Object(m).to_string(), 150)
    )
}

/// `text` cut to `max` characters, `…` marking the cut.
fn cut(text: &str, max: usize) -> Cow<'_, str> {
    if text.chars().count() > max {
        let kept: String = text.chars().take(max - 1).collect();
        Cow::Owned(format!("{kept}…"))
    } else {
        Cow::Borrowed(text)
    }
}

fn pad(s: &str, width: usize) -> String {
    let n = s.chars().count();
    if n >= width {
        s.to_string()
    } else {
        format!("{s}{}", " ".repeat(width - n))
    }
}

/// The human table.
pub fn human(s: &Summary, color: bool) -> String {
    let p = Paint { on: color };
    let mut out = String::new();
    let l = &s.lines;
    let rejected = s
        .verdicts
        .iter()
        .find(|(v, _)| *v == Verdict::Rejected)
        .map_or(0, |(_, c)| c.tokens);
    let _ = writeln!(
        out,
        "{}  {} token(s), {} distinct{}, in {} line(s){} ({} bytes{})  (judged at {})",
        p.bold("SCAN"),
        s.total.tokens,
        s.total.distinct,
        if s.distinct_exact {
            ""
        } else {
            " (dedup table full: repeats past it counted as distinct)"
        },
        l.lines,
        match s.logs.names.len() {
            0 | 1 => String::new(),
            n => format!(" of {n} logs"),
        },
        l.bytes,
        shared_compression(&s.stored).map_or(String::new(), |c| format!(", {c}-decompressed")),
        crate::clock::utc(s.now)
    );
    let _ = writeln!(
        out,
        "{}",
        p.dim(&format!(
            // Binary lines are searched too, so they are among the first two.
            "lines: {} with tokens, {} without, {} blank, {} too long (> {} KiB, skipped); of those searched, {} binary/not UTF-8",
            l.with_token,
            l.without_token,
            l.blank,
            l.too_long,
            super::MAX_LINE_BYTES / 1024,
            l.binary
        ))
    );
    if l.redacted > 0 {
        let _ = writeln!(
            out,
            "{}",
            p.sev(
                Severity::Warning,
                &format!(
                    "{} token(s) were masked or shortened by the log itself (`[REDACTED]`, `***`, `...` in place of a segment): not diagnosed, since the logger removed what is missing. Log whole tokens, or their header and claims, to diagnose them.",
                    l.redacted
                )
            )
        );
    }
    if let Some(k) = &s.keys {
        key_sets_human(&mut out, k, &p);
    }
    for why in ended_early(s) {
        let _ = writeln!(
            out,
            "{}",
            p.sev(
                Severity::Error,
                &format!("input ended early: {why}; the rest of that log is not counted")
            )
        );
    }
    if s.total.tokens == 0 {
        let _ = writeln!(
            out,
            "\n{}",
            if l.redacted > 0 {
                "No JWT left to diagnose: the log masked every one."
            } else {
                "No JWT found in the input."
            }
        );
        if l.binary * 2 > l.lines {
            let _ = writeln!(
                out,
                "Most lines are binary: is the log compressed (gzip is read as is) or in another encoding?"
            );
        }
        return out;
    }

    let _ = writeln!(
        out,
        "\n{}",
        p.bold("Verdicts                tokens     share   distinct")
    );
    for (v, c) in &s.verdicts {
        let name = match v {
            Verdict::Rejected => p.sev(Severity::Error, &pad("rejected", 20)),
            Verdict::Unverified => p.sev(Severity::Warning, &pad("unverified", 20)),
            Verdict::Accepted => p.style(&pad("accepted", 20), Style::new().green().bold()),
        };
        let _ = writeln!(
            out,
            "  {name}{:>10}  {:>8}  {:>9}",
            c.tokens,
            pct(c.tokens, s.total.tokens),
            c.distinct
        );
    }

    let code_width = s
        .findings
        .iter()
        .map(|r| r.spec.code.len())
        .max()
        .unwrap_or(0)
        .max(24);
    if !s.root_causes.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            p.bold(&format!(
                "{}  tokens  of rejected   distinct",
                pad("Root cause of rejection", code_width + 2)
            ))
        );
        for r in &s.root_causes {
            let _ = writeln!(
                out,
                "  {} {}{:>8}  {:>11}  {:>9}  {}",
                p.sev(r.spec.severity, mark(r.spec.severity)),
                p.sev(r.spec.severity, &pad(r.spec.code, code_width)),
                r.count.tokens,
                pct(r.count.tokens, rejected),
                r.count.distinct,
                p.dim(r.spec.title)
            );
            // What this failure looks like on its first token, and what to do.
            if let Some(e) = &r.example {
                if let Some(detail) = &e.detail {
                    let _ = writeln!(out, "      {}: {detail}", s.logs.at(e.line));
                }
                if let Some(fix) = &e.fix {
                    let _ = writeln!(out, "      {} {fix}", p.bold("fix:"));
                }
            }
        }
    }

    let _ = writeln!(
        out,
        "\n{}",
        p.bold(&format!(
            "{}  tokens   distinct",
            pad("Findings (once per token)", code_width + 2)
        ))
    );
    for r in &s.findings {
        let _ = writeln!(
            out,
            "  {} {}{:>8}  {:>9}  {}",
            p.sev(r.spec.severity, mark(r.spec.severity)),
            p.sev(r.spec.severity, &pad(r.spec.code, code_width)),
            r.count.tokens,
            r.count.distinct,
            p.dim(r.spec.title)
        );
        if let Some(e) = &r.example {
            let _ = writeln!(out, "      {}", p.dim(&example_line(e, &s.logs)));
        }
    }

    for (dim, rows) in &s.by {
        let _ = writeln!(
            out,
            "\n{}",
            p.bold(&format!(
                "By {:<36}  tokens   distinct   rejected  top root cause            example",
                dim.name()
            ))
        );
        // The HUMAN_ROWS most frequent values, and `(none)` and `(other)`
        // wherever their counts put them.
        let mut listed = 0;
        let mut inexact = false;
        for r in rows {
            if matches!(r.value, DimValue::Text(_)) {
                listed += 1;
                if listed > HUMAN_ROWS {
                    continue;
                }
            }
            inexact |= !r.exact;
            let at_least = if r.exact { "" } else { "≥" };
            // A token's own value: no terminal sequence or line break in it.
            let value = crate::untrusted::one_line(r.value.human());
            let value = cut(&value, 38);
            let _ = writeln!(
                out,
                "  {}{:>8}  {:>9}  {:>9}  {}  {}",
                pad(&value, 38),
                format!("{at_least}{}", r.count.tokens),
                format!("{at_least}{}", r.count.distinct),
                format!("{at_least}{}", r.rejected),
                pad(r.top_root_cause.unwrap_or("-"), 24),
                p.dim(
                    &r.example
                        .as_ref()
                        .map_or(String::new(), |e| s.logs.at(e.line))
                )
            );
        }
        if listed > HUMAN_ROWS {
            let _ = writeln!(
                out,
                "  {}",
                p.dim(&format!(
                    "… {} more values (--format json lists up to {MAX_VALUES})",
                    listed - HUMAN_ROWS
                ))
            );
        }
        if inexact {
            let _ = writeln!(
                out,
                "  {}",
                p.dim("≥ a lower bound: the value was rare early on, counted in (other), and counted here from its return")
            );
        }
    }
    let _ = writeln!(
        out,
        "\n{}",
        p.dim("Examples are redacted; `--format json` gives every example in full and one report per distinct token.")
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::time::EXPIRED;
    use crate::scan::Diagnosed;

    /// A rejected, expired token of this `kid` (iss and alg shared).
    fn diagnosed(kid: &str) -> Diagnosed {
        Diagnosed {
            codes: vec![&EXPIRED],
            root: Some(&EXPIRED),
            verdict: Verdict::Rejected,
            dims: [
                Some(json!(kid)),
                Some(json!("https://issuer/")),
                None,
                Some(json!("HS256")),
            ],
            raw: None,
            redacted: None,
            json: None,
        }
    }

    /// Counts a distinct token of `kid` seen `occurrences` times; its handle.
    fn distinct(agg: &mut Aggregator, line: u64, kid: &str, occurrences: u64) -> u32 {
        let interned = agg.intern(&diagnosed(kid), occurrences);
        agg.record(line, interned, occurrences, None, true)
    }

    fn row<'a>(s: &'a Summary, dim: Dim, text: &str) -> Option<&'a ValueRow> {
        s.by(dim)
            .iter()
            .find(|r| r.value == DimValue::Text(text.into()))
    }

    /// Rows of a dimension add up to the totals: every token is in one row.
    fn assert_rows_add_up(s: &Summary) {
        for dim in Dim::ALL {
            let mut sum = Count::default();
            for r in s.by(dim) {
                sum.add(r.count);
            }
            assert_eq!(sum, s.total, "{}", dim.name());
            let texts = s
                .by(dim)
                .iter()
                .filter(|r| matches!(r.value, DimValue::Text(_)))
                .count();
            assert!(texts <= MAX_VALUES, "{}: {texts} rows", dim.name());
        }
    }

    #[test]
    fn a_late_dominant_value_is_kept_with_its_exact_count() {
        let mut agg = Aggregator::new(0);
        let mut line = 0;
        for i in 0..2 * MAX_VALUES {
            line += 1;
            distinct(&mut agg, line, &format!("kid-{i:05}"), 1);
        }
        for _ in 0..300 {
            line += 1;
            let h = distinct(&mut agg, line, "rotated-2023-11", 1);
            for _ in 0..9 {
                agg.repeat(h);
            }
        }
        let s = agg.finish(LineCounts::default(), false);
        let first = &s.by(Dim::Kid)[0];
        assert_eq!(first.value, DimValue::Text("rotated-2023-11".into()));
        assert_eq!(
            first.count,
            Count {
                tokens: 3000,
                distinct: 300
            }
        );
        assert_eq!(first.rejected, 3000);
        assert!(first.exact);
        let other = row(&s, Dim::Kid, "kid-00000").map(|r| r.count);
        assert_eq!(other, None, "the oldest one-off is folded");
        let other = s.by(Dim::Kid).iter().find(|r| r.value == DimValue::Other);
        assert!(other.is_some_and(|r| r.count.tokens == 1001 && r.exact));
        assert_eq!(
            s.total,
            Count {
                tokens: 5000,
                distinct: 2300
            }
        );
        assert_rows_add_up(&s);
        // The shared iss and alg were never at risk.
        assert!(row(&s, Dim::Iss, "https://issuer/").is_some_and(|r| r.count == s.total));
    }

    #[test]
    fn handles_from_before_a_compaction_count_into_the_right_row() {
        let mut agg = Aggregator::new(0);
        // Folded at the first compaction (one occurrence, the oldest) and
        // kept (five), then the one-offs that fill the table.
        let rare = distinct(&mut agg, 1, "rare", 1);
        let kept = distinct(&mut agg, 2, "kept", 5);
        for i in 0..2 * MAX_VALUES - 2 {
            distinct(&mut agg, 3 + i as u64, &format!("kid-{i:05}"), 1);
        }
        assert!(agg.dims[0].len() <= MAX_VALUES, "compacted");
        for _ in 0..10 {
            agg.repeat(kept);
        }
        for _ in 0..7 {
            agg.repeat(rare);
        }
        // "rare" comes back as another token: a new row, a lower bound.
        let back = distinct(&mut agg, 5000, "rare", 1);
        agg.repeat(back);
        let s = agg.finish(LineCounts::default(), false);
        let kept = row(&s, Dim::Kid, "kept").expect("kept");
        assert_eq!(
            (kept.count.tokens, kept.count.distinct, kept.exact),
            (15, 1, true)
        );
        let rare = row(&s, Dim::Kid, "rare").expect("back");
        assert_eq!(
            (rare.count.tokens, rare.count.distinct, rare.exact),
            (2, 1, false)
        );
        let other = s.by(Dim::Kid).iter().find(|r| r.value == DimValue::Other);
        // 999 + 1 one-offs folded (at the compaction and at the end), and
        // "rare" with its 7 repeats.
        assert_eq!(other.map(|r| r.count.tokens), Some(1000 + 8));
        assert_rows_add_up(&s);
        let total = 1 + 7 + 15 + (2 * MAX_VALUES as u64 - 2) + 2;
        assert_eq!(s.total.tokens, total);
        let text = human(&s, false);
        assert!(text.contains("≥2 "), "{text}");
        assert!(text.contains("… 980 more values"), "{text}");
        assert!(text.lines().count() < 100, "{text}");
        let j = json(&s);
        let by_kid = j["by_kid"].as_array().expect("rows");
        assert!(
            by_kid
                .iter()
                .any(|r| r["value"] == "rare" && r["exact"] == false)
        );
        assert!(
            by_kid
                .iter()
                .any(|r| r["value"] == "kept" && r["exact"] == true)
        );
    }

    #[test]
    fn merged_outcomes_keep_every_handle() {
        let mut agg = Aggregator::new(0);
        // Many one-off outcomes whose kids are folded into one (other)
        // outcome: each handle still counts its repeats.
        let handles: Vec<u32> = (0..3 * MAX_VALUES)
            .map(|i| distinct(&mut agg, i as u64 + 1, &format!("kid-{i:05}"), 1))
            .collect();
        for h in &handles {
            agg.repeat(*h);
        }
        assert!(agg.outcomes.len() <= 2 * MAX_VALUES + 1);
        let s = agg.finish(LineCounts::default(), false);
        assert_eq!(
            s.total,
            Count {
                tokens: 6 * MAX_VALUES as u64,
                distinct: 3 * MAX_VALUES as u64
            }
        );
        assert_rows_add_up(&s);
        // The newest kept, each with both occurrences.
        let last = row(&s, Dim::Kid, &format!("kid-{:05}", 3 * MAX_VALUES - 1));
        assert_eq!(last.map(|r| (r.count.tokens, r.exact)), Some((2, true)));
    }

    #[test]
    fn transient_tokens_take_no_handle() {
        let mut agg = Aggregator::new(0);
        let interned = agg.intern(&diagnosed("k"), 1);
        assert_eq!(agg.record(1, interned, 1, None, false), NO_HANDLE);
        assert!(agg.forward.is_empty());
        let h = distinct(&mut agg, 2, "k", 1);
        assert_eq!(h, 0);
        agg.repeat(h);
        let s = agg.finish(LineCounts::default(), false);
        assert_eq!(row(&s, Dim::Kid, "k").map(|r| r.count.tokens), Some(3));
    }

    /// Through a real scan: examples come from redacted reports, and a
    /// folded value that comes back takes a new one (the [`Covered`]
    /// snapshot forgot it, so workers keep its reports again).
    #[test]
    fn kept_and_returning_values_have_examples() {
        use crate::alg::Alg;
        use crate::checks::{Expectations, Keys};
        use crate::sign::{SigningKey, sign_token};
        let secret = b"a-test-secret-that-is-long-enough-0123456789";
        let key = SigningKey::from_hmac_secret(Alg::HS256, secret).expect("key");
        let token = |n: usize, kid: &str| {
            sign_token(
                &json!({"alg": "HS256", "kid": kid}),
                &json!({"iss": "https://issuer/", "sub": format!("u{n}"), "exp": 2_000_000_000}),
                &key,
            )
            .expect("signed")
        };
        let mut log = String::new();
        // "back" takes its example, then is outranked by kids seen twice
        // and folded when the table fills up.
        log.push_str(&token(0, "back"));
        log.push('\n');
        for i in 0..2 * MAX_VALUES - 1 {
            let t = token(i + 1, &format!("kid-{i:05}"));
            log.push_str(&format!("{t}\n{t}\n"));
        }
        // Two batches more, so the return is judged against a snapshot
        // taken after the compaction.
        let filler = 2 * crate::scan::BATCH_TOKENS;
        for i in 0..filler {
            log.push_str(&token(5_000 + i, "filler"));
            log.push('\n');
        }
        for i in 0..30 {
            let t = token(100_000 + i, "back");
            log.push_str(&format!("{t}\n{t}\n"));
        }
        let options = crate::scan::Options {
            expect: Expectations {
                now: 1_700_000_000,
                ..Default::default()
            },
            keys: Keys {
                candidates: vec![crate::keys::secret_candidate(
                    secret.to_vec(),
                    "test".into(),
                )],
                attempted: true,
                ..Default::default()
            },
            policy: crate::redact::Policy::new(vec![], vec![], false, vec![]),
            jwks: None,
            max_distinct: crate::scan::DEFAULT_MAX_DISTINCT,
            reports: false,
        };
        let s = crate::scan::scan(log.as_bytes(), options, &mut crate::scan::NoSink).expect("scan");
        assert_rows_add_up(&s);
        let back = row(&s, Dim::Kid, "back").expect("back");
        assert_eq!((back.count.tokens, back.count.distinct), (60, 30));
        assert!(!back.exact);
        let first_return = (4 * MAX_VALUES + filler) as u64;
        assert!(
            back.example
                .as_ref()
                .is_some_and(|e| e.line >= first_return),
            "{:?}",
            back.example.as_ref().map(|e| e.line)
        );
        for r in s.by(Dim::Kid) {
            assert!(r.example.is_some(), "{:?} has no example", r.value);
        }
    }
}
