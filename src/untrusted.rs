//! Text that came from outside (a token's values, a model's answer) made
//! safe to print: characters that would steer a terminal or forge output
//! lines are written as `\u001b`-style escapes, which read the same inside
//! JSON strings.

use std::borrow::Cow;

/// Bidirectional controls (U+202E RIGHT-TO-LEFT OVERRIDE…): they reorder
/// what a terminal shows around them.
pub fn is_bidi(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every character `escaped` says so written as `\uXXXX`;
/// carriage returns dropped when `drop_cr` (CR LF is a line end; a lone CR
/// would return to the start of the line and overwrite it).
pub fn escape(text: &str, escaped: impl Fn(char) -> bool, drop_cr: bool) -> Cow<'_, str> {
    if !text.chars().any(|c| escaped(c) || (drop_cr && c == '\r')) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if c == '\r' && drop_cr {
            continue;
        }
        if escaped(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// One line of prose quoting a token's values (a finding's detail or fix):
/// every control character, line breaks included, and bidi controls.
pub fn one_line(text: &str) -> Cow<'_, str> {
    escape(text, |c| c.is_control() || is_bidi(c), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_sequences_line_breaks_and_bidi_only() {
        assert_eq!(
            one_line("iss \"a\u{1b}[2J\nb\u{202e}c\" über"),
            "iss \"a\\u001b[2J\\u000ab\\u202ec\" über"
        );
        assert!(matches!(one_line("plain «masked» ✓"), Cow::Borrowed(_)));
        assert_eq!(escape("a\r\nb\u{7}", |c| c == '\u{7}', true), "a\nb\\u0007");
    }
}
