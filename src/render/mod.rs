//! Rendering: a displayed (redacted or revealed) report as human text,
//! `jwtai.report/v1` JSON, or Markdown for a ticket. Pure functions from a
//! report to a string; `run` decides where it goes.

pub mod human;
pub mod json;
pub mod jwks;
pub mod markdown;

use crate::cli::Format;
use crate::redact::Displayed;

pub fn report(shown: &Displayed, format: Format, color: bool) -> String {
    match format {
        Format::Human => human::report(shown.report(), color),
        Format::Json => json::report(shown.report()),
        Format::Markdown => markdown::report(shown.report()),
    }
}

/// Describes a claim's time value for people: "2023-11-14 23:13:20 UTC, 50 min after now".
pub(crate) fn time_note(name: &str, value: &serde_json::Value, now: i64) -> Option<String> {
    if !matches!(name, "exp" | "nbf" | "iat" | "auth_time" | "updated_at") {
        return None;
    }
    // As the time checks read it: `exp` 253402300799 is 9999-12-31, a
    // millisecond value is shown as the date it means.
    let secs = crate::checks::time::numeric_date_seconds(value.as_f64()?)?;
    let rel = if name == "exp" && secs <= now {
        format!("expired {} ago", crate::clock::duration(now - secs))
    } else {
        crate::clock::relative(secs, now)
    };
    // Said when the value is in a finer unit: the date shown is what it means.
    let unit = crate::checks::time::finer_unit_name(value.as_f64()?)
        .map_or(String::new(), |u| format!(" read as {u}"));
    Some(format!("{}{unit}, {rel}", crate::clock::utc(secs)))
}
