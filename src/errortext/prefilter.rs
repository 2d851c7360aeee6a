//! Which knowledge-base patterns can match a text at all, without compiling them.
//!
//! Compiling all of the knowledge base's regexes costs about 85 ms of CPU, 30 times what the
//! rest of a diagnosis takes, while a pasted message matches a handful of them. Each pattern
//! is read once (parsed, not compiled) for literals that every match of it must contain;
//! one Aho-Corasick pass over the text then names the patterns worth compiling, and the
//! others are never built. A pattern without such literals is always tried.
//!
//! Patterns are compiled case-insensitively, so literals and text are compared in lower
//! case. The literals are ASCII (a run stops at the first other character), and the two
//! characters outside ASCII that case-fold onto an ASCII letter (KELVIN SIGN onto `k`,
//! LONG S onto `s`, Unicode simple case folding as `regex` applies it) are folded in the
//! text too. So a text whose lowered form lacks all of a pattern's literals cannot match
//! it: skipping it changes nothing but the time.

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use regex_syntax::ast::{self, Ast, RepetitionKind, RepetitionRange};

/// A literal shorter than this selects too little to be worth a pattern's place in the
/// automaton: the pattern is then always tried.
const MIN_LITERAL: usize = 3;
/// A pattern whose every match holds one of more literals than this (a long alternation)
/// is always tried.
const MAX_LITERALS: usize = 32;

/// Names the patterns a text may match.
pub struct Prefilter {
    automaton: Option<AhoCorasick>,
    /// For each literal in the automaton, the pattern it belongs to.
    owner: Vec<usize>,
    /// Patterns without required literals: always candidates.
    always: Vec<usize>,
    patterns: usize,
}

impl Prefilter {
    /// From each pattern's [`required_literals`] (`None`: always tried).
    pub fn new(required: Vec<Option<Vec<String>>>) -> Prefilter {
        let patterns = required.len();
        let mut literals = Vec::new();
        let mut owner = Vec::new();
        let mut always = Vec::new();
        for (index, set) in required.into_iter().enumerate() {
            match set {
                Some(set) => {
                    owner.extend(std::iter::repeat_n(index, set.len()));
                    literals.extend(set);
                }
                None => always.push(index),
            }
        }
        // Building fails only past the automaton's size limits; then every pattern is tried.
        // A non-contiguous NFA builds fastest, and a pasted message is short to search.
        let automaton = AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::NoncontiguousNFA))
            .build(&literals)
            .ok();
        if automaton.is_none() {
            always = (0..patterns).collect();
        }
        Prefilter {
            automaton,
            owner,
            always,
            patterns,
        }
    }

    /// For each pattern, whether `text` can match it.
    pub fn candidates(&self, text: &str) -> Vec<bool> {
        let mut out = vec![false; self.patterns];
        for &index in &self.always {
            out[index] = true;
        }
        if let Some(automaton) = &self.automaton {
            for found in automaton.find_overlapping_iter(&lowered(text)) {
                out[self.owner[found.pattern().as_usize()]] = true;
            }
        }
        out
    }

    /// How many patterns are always tried (no required literal was found in them).
    #[cfg(test)]
    pub fn always_tried(&self) -> usize {
        self.always.len()
    }
}

/// `text` in ASCII lower case, with the two other characters that case-fold to an ASCII
/// letter folded to it.
fn lowered(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{212A}' => 'k',
            '\u{017F}' => 's',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// The pattern's syntax tree (Rust `regex` syntax), which is cheap to build: compiling
/// is what costs.
pub fn parse(pattern: &str) -> Result<Ast, String> {
    ast::parse::Parser::new()
        .parse(pattern)
        .map_err(|e| e.to_string())
}

/// Lower-case literals of which every match of the pattern holds at least one, or `None`
/// when the pattern has no such set worth searching for.
pub fn required_literals(ast: &Ast) -> Option<Vec<String>> {
    let set = required(ast)?;
    let shortest = set.iter().map(String::len).min()?;
    (shortest >= MIN_LITERAL && set.len() <= MAX_LITERALS).then_some(set)
}

/// Literals of which every match of `ast` holds one (`None`: nothing is required).
fn required(ast: &Ast) -> Option<Vec<String>> {
    match ast {
        Ast::Literal(literal) => ascii_run(&[literal.c]),
        Ast::Group(group) => required(&group.ast),
        Ast::Repetition(repetition) => {
            let at_least_once = match &repetition.op.kind {
                RepetitionKind::OneOrMore => true,
                RepetitionKind::ZeroOrOne | RepetitionKind::ZeroOrMore => false,
                RepetitionKind::Range(range) => match *range {
                    RepetitionRange::Exactly(n)
                    | RepetitionRange::AtLeast(n)
                    | RepetitionRange::Bounded(n, _) => n >= 1,
                },
            };
            if at_least_once {
                required(&repetition.ast)
            } else {
                None
            }
        }
        Ast::Alternation(alternation) => {
            let mut union = Vec::new();
            for branch in &alternation.asts {
                union.extend(required(branch)?);
            }
            union.sort();
            union.dedup();
            Some(union)
        }
        Ast::Concat(concat) => {
            // Consecutive literals are one run (a repetition applies to its own atom
            // only); of the runs and the other parts' sets, the most selective is kept.
            let mut best: Option<Vec<String>> = None;
            let mut consider = |set: Option<Vec<String>>| {
                if let Some(set) = set
                    && best.as_ref().is_none_or(|b| better(&set, b))
                {
                    best = Some(set);
                }
            };
            let mut run = Vec::new();
            for part in &concat.asts {
                if let Ast::Literal(literal) = part {
                    run.push(literal.c);
                    continue;
                }
                consider(ascii_run(&run));
                run.clear();
                consider(required(part));
            }
            consider(ascii_run(&run));
            best
        }
        // Classes, `.`, assertions, flags and the empty pattern require no literal.
        _ => None,
    }
}

/// Whether requiring one of `a` is more selective than requiring one of `b`: a longer
/// shortest literal, then fewer literals.
fn better(a: &[String], b: &[String]) -> bool {
    let shortest = |set: &[String]| set.iter().map(String::len).min().unwrap_or(0);
    (shortest(a), std::cmp::Reverse(a.len())) > (shortest(b), std::cmp::Reverse(b.len()))
}

/// The longest lower-case ASCII piece of a run of literal characters, as a one-literal set
/// (`None` when there is none). Any piece of a required run is required too.
fn ascii_run(chars: &[char]) -> Option<Vec<String>> {
    chars
        .split(|c| !c.is_ascii())
        .max_by_key(|piece| piece.len())
        .filter(|piece| !piece.is_empty())
        .map(|piece| vec![piece.iter().map(|c| c.to_ascii_lowercase()).collect()])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lits(pattern: &str) -> Option<Vec<String>> {
        required_literals(&parse(pattern).ok()?)
    }

    fn filter(patterns: &[&str]) -> Prefilter {
        Prefilter::new(patterns.iter().map(|p| lits(p)).collect())
    }

    #[test]
    fn literals_every_match_must_hold() {
        assert_eq!(
            lits(r"(?i)(?:TokenExpiredError: )?\bjwt expired\b"),
            Some(vec!["jwt expired".to_string()])
        );
        // The longest run of a concatenation; an escaped character is a literal.
        assert_eq!(
            lits(r"(?i)jwt audience invalid\. expected: (?P<aud>[^\r\n]+)"),
            Some(vec!["jwt audience invalid. expected: ".to_string()])
        );
        // A run is cut at a repetition, which applies to its own atom only (`s?`).
        assert_eq!(
            lits(r"(?i)tokens?\s+has expired"),
            Some(vec!["has expired".to_string()])
        );
        // An alternation needs a literal in every branch.
        assert_eq!(
            lits(r"(?i)(?:signature|mac) check failed|bad signature"),
            Some(vec![
                " check failed".to_string(),
                "bad signature".to_string()
            ])
        );
        assert_eq!(lits(r"(?i)(?:invalid token|\w+)"), None);
        // Optional parts require nothing; a group repeated at least once does.
        assert_eq!(lits(r"(?i)(?:kid )?[a-z]+"), None);
        assert_eq!(lits(r"(?i)(?:nope){2,}x"), Some(vec!["nope".to_string()]));
        // Too short to be worth it, and not ASCII: the ASCII part only.
        assert_eq!(lits(r"(?i)ab\d+"), None);
        assert_eq!(
            lits(r"(?i)jeton expiré"),
            Some(vec!["jeton expir".to_string()])
        );
        assert_eq!(lits(r"(?i)(unclosed"), None);
    }

    #[test]
    fn text_is_compared_in_lower_case_with_unicode_folds() {
        let filter = filter(&[r"(?i)jwt expired", r"(?i)kid mismatch", r"(?i)\w+"]);
        assert_eq!(filter.candidates("JWT Expired"), vec![true, false, true]);
        // KELVIN SIGN matches (?i)k in regex, so it must here too.
        assert_eq!(
            filter.candidates("\u{212A}ID mismatch"),
            vec![false, true, true]
        );
        assert!(
            regex::Regex::new(r"(?i)kid mismatch")
                .unwrap()
                .is_match("\u{212A}ID mismatch")
        );
        assert_eq!(filter.always_tried(), 1);
    }
}
