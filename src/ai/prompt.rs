//! Prompt templates: Markdown files in `prompts/`, embedded in the binary,
//! overridable with `--prompts DIR`, rendered with minijinja.
//!
//! A template is one file holding every message of the conversation; lines
//! `<!-- role: system -->`, `<!-- role: user -->`, `<!-- role: assistant -->`
//! start a message. Other HTML comments are notes for template authors.

use std::path::Path;

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;
use serde_json::{Value, json};

use crate::redact::{Redacted, RedactedText};

const EXPLAIN: &str = include_str!("../../prompts/explain.md");
const FOLLOWUP: &str = include_str!("../../prompts/followup.md");
const TESTS: &str = include_str!("../../prompts/tests.md");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

/// One chat message, as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

/// The three prompt templates.
#[derive(Debug, Clone)]
pub struct Templates {
    explain: String,
    followup: String,
    tests: String,
}

impl Templates {
    /// The embedded templates, each replaced by `DIR/<name>.md` when present.
    pub fn load(dir: Option<&Path>) -> Result<Templates, String> {
        let read = |name: &str, builtin: &str| -> Result<String, String> {
            match dir {
                Some(d) => {
                    let path = d.join(format!("{name}.md"));
                    if path.exists() {
                        std::fs::read_to_string(&path).map_err(|e| {
                            format!("cannot read prompt template {}: {e}", path.display())
                        })
                    } else {
                        Ok(builtin.to_string())
                    }
                }
                None => Ok(builtin.to_string()),
            }
        };
        if let Some(d) = dir {
            if !d.is_dir() {
                return Err(format!("--prompts {}: not a directory", d.display()));
            }
        }
        Ok(Templates {
            explain: read("explain", EXPLAIN)?,
            followup: read("followup", FOLLOWUP)?,
            tests: read("tests", TESTS)?,
        })
    }

    /// The `explain` conversation for a redacted report.
    pub fn explain(
        &self,
        report: &Redacted,
        error_text: Option<&RedactedText>,
        expectations: &[String],
    ) -> Result<Vec<Message>, String> {
        let mut ctx = base_context(report);
        ctx["error_text"] = json!(error_text.map(|t| t.text.as_str()));
        ctx["expectations"] = json!(expectations);
        render("explain", &self.explain, &ctx)
    }

    /// The `followup` conversation: the report, earlier turns, the question.
    pub fn followup(
        &self,
        report: &Redacted,
        history: &[Message],
        summary: Option<&str>,
        question: &RedactedText,
    ) -> Result<Vec<Message>, String> {
        let mut ctx = base_context(report);
        ctx["history"] = json!(history);
        ctx["summary"] = json!(summary);
        ctx["question"] = json!(question.text);
        render("followup", &self.followup, &ctx)
    }

    /// The `tests` conversation (`suggest-tests --ai`).
    pub fn tests(
        &self,
        report: &Redacted,
        framework: &str,
        cases: &Value,
        code: &str,
        context: &RedactedText,
    ) -> Result<Vec<Message>, String> {
        let mut ctx = base_context(report);
        ctx["framework"] = json!(framework);
        ctx["cases"] = cases.clone();
        ctx["code"] = json!(code);
        ctx["context"] = json!(context.text);
        render("tests", &self.tests, &ctx)
    }
}

/// What every template sees: the redacted report and its findings with docs.
fn base_context(report: &Redacted) -> Value {
    // Details quote user input too (expected values, error text): everything
    // shaped like personal data or a secret is masked once more on the way out.
    let r = report.report();
    let findings: Vec<Value> = r
        .findings
        .iter()
        .map(|f| {
            json!({
                "code": f.code(), "severity": f.severity().as_str(), "title": f.spec.title,
                "detail": report.text(&f.detail).text, "fix": report.text(f.fix_text()).text,
                "doc": f.spec.doc,
            })
        })
        .collect();
    json!({
        "report": crate::render::json::value(r),
        "findings": findings,
        "now": crate::clock::utc(r.now),
    })
}

fn render(name: &str, source: &str, ctx: &Value) -> Result<Vec<Message>, String> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Lenient);
    let text = env
        .render_str(source, minijinja::Value::from(minijinja::value::Serde(ctx)))
        .map_err(|e| format!("prompt template {name}: {e}"))?;
    let messages = split_roles(&text);
    if messages.is_empty() {
        return Err(format!(
            "prompt template {name} has no `<!-- role: system|user -->` markers"
        ));
    }
    Ok(messages)
}

/// Splits rendered text at role markers; drops other comments and empty messages.
fn split_roles(text: &str) -> Vec<Message> {
    let mut out: Vec<Message> = Vec::new();
    let mut current: Option<(Role, Vec<&str>)> = None;
    for line in text.lines() {
        let t = line.trim();
        if let Some(role) = t
            .strip_prefix("<!-- role:")
            .and_then(|r| r.strip_suffix("-->"))
            .map(str::trim)
        {
            if let Some((r, lines)) = current.take() {
                push(&mut out, r, &lines);
            }
            let role = match role {
                "system" => Role::System,
                "assistant" => Role::Assistant,
                _ => Role::User,
            };
            current = Some((role, Vec::new()));
        } else if t.starts_with("<!--") && t.ends_with("-->") {
            continue;
        } else if let Some((_, lines)) = current.as_mut() {
            lines.push(line);
        }
    }
    if let Some((r, lines)) = current {
        push(&mut out, r, &lines);
    }
    out
}

fn push(out: &mut Vec<Message>, role: Role, lines: &[&str]) {
    let content = lines.join("\n").trim().to_string();
    if !content.is_empty() {
        out.push(Message { role, content });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_split_and_notes_dropped() {
        let m = split_roles(
            "<!-- note -->\n<!-- role: system -->\nbe brief\n<!-- role: user -->\nwhy?\n<!-- role: assistant -->\n\n",
        );
        assert_eq!(
            m,
            vec![
                Message {
                    role: Role::System,
                    content: "be brief".into()
                },
                Message {
                    role: Role::User,
                    content: "why?".into()
                },
            ]
        );
    }

    #[test]
    fn builtin_templates_have_roles() {
        let t = Templates::load(None).unwrap();
        for src in [&t.explain, &t.followup, &t.tests] {
            assert!(src.contains("<!-- role: system -->") && src.contains("<!-- role: user -->"));
        }
    }
}
