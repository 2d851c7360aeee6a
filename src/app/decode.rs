//! `jwtai decode`: header, claims with human times, signature summary. Never
//! verifies; reports only what parsing found.

use secrecy::ExposeSecret;

use super::{emit, policy, use_color};
use crate::checks::{self, Context, Expectations};
use crate::cli::{DecodeArgs, Format};
use crate::report::Report;
use crate::{clock, exit, input, pipeline, redact, render};

pub fn run(args: DecodeArgs) -> anyhow::Result<u8> {
    let now = clock::parse_now(args.now.as_deref())?;
    let raw = input::read(&args.token)?;
    let parsed = pipeline::parse(raw.expose_secret());
    let token = &parsed.token;
    // Decode shows only what parsing found: structure findings, never verification.
    let expect = Expectations {
        max_age: None,
        typ: None,
        crit: Vec::new(),
        now,
        ..Default::default()
    };
    let keys = checks::Keys::default();
    let mut findings = Vec::new();
    let ctx = Context {
        token,
        wrappers: &parsed.wrappers,
        expect: &expect,
        keys: &keys,
        error: &Default::default(),
    };
    checks::structure::check(&ctx, &mut findings);
    // How the time claims are written (milliseconds, strings) is the token's
    // format too; whether it has expired is diagnose's question.
    let mut times = Vec::new();
    checks::time::check(&ctx, &mut times);
    findings.extend(times.into_iter().filter(|f| {
        matches!(
            f.code(),
            "timestamp-in-milliseconds" | "timestamp-not-numeric"
        )
    }));
    let report = Report::build(token, findings, now, &[]);
    let policy = policy(
        &args.output,
        pipeline::scrub_list(raw.expose_secret(), token),
    );
    let shown = redact::for_display(report, &policy);
    let text = match args.output.format {
        Format::Json => render::json::report(shown.report()),
        Format::Markdown => render::markdown::report(shown.report()),
        Format::Human => {
            let r = shown.report();
            let mut s = render::human::token_section(&r.token, r.now, use_color(&args.output));
            for f in &r.findings {
                s.push_str(&format!("  note: {} — {}\n", f.code(), f.detail));
            }
            if !args.output.reveal && r.token.claims.is_some() {
                s.push_str("  (personal data masked; --reveal shows it)\n");
            }
            s
        }
    };
    emit(&text)?;
    Ok(if shown.report().has_errors() {
        exit::FINDINGS
    } else {
        exit::OK
    })
}
