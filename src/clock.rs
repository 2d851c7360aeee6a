//! Time: the instant the token is judged at (`--now` or the clock), and how
//! instants and durations are written for people ("2026-03-15 09:22:00 UTC",
//! "3 h 12 min").

use chrono::{DateTime, NaiveDateTime, Utc};

#[derive(Debug, thiserror::Error)]
#[error(
    "invalid --now '{0}': expected unix seconds (1700000000) or RFC 3339 (2026-03-15T12:34:00Z){1}"
)]
pub struct BadNow(pub String, String);

impl BadNow {
    fn new(raw: &str) -> BadNow {
        BadNow(raw.into(), String::new())
    }
}

/// The evaluation instant in unix seconds.
pub fn parse_now(arg: Option<&str>) -> Result<i64, BadNow> {
    let Some(raw) = arg else {
        return Ok(Utc::now().timestamp());
    };
    let s = raw.trim();
    if let Ok(n) = s.parse::<i64>() {
        return if (0..=253_402_300_799).contains(&n) {
            Ok(n)
        } else if (0..=253_402_300_799_999).contains(&n) {
            // `Date.now()`, `System.currentTimeMillis()`: milliseconds.
            Err(BadNow(
                raw.into(),
                format!(
                    "; it looks like milliseconds, i.e. --now {} ({})",
                    n / 1000,
                    utc(n / 1000)
                ),
            ))
        } else {
            Err(BadNow::new(raw))
        };
    }
    if let Ok(f) = s.parse::<f64>() {
        if f.is_finite() && (0.0..=253_402_300_799.0).contains(&f) {
            return Ok(f.floor() as i64);
        }
        return Err(BadNow::new(raw));
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Ok(dt.timestamp());
    }
    for fmt in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s.trim_end_matches(" UTC"), fmt) {
            return Ok(dt.and_utc().timestamp());
        }
    }
    Err(BadNow::new(raw))
}

/// "2026-03-15 09:22:00 UTC", or a note when the number is no real instant.
pub fn utc(ts: i64) -> String {
    match DateTime::from_timestamp(ts, 0) {
        Some(dt) => dt.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        None => format!("{ts} (out of range)"),
    }
}

/// RFC 3339 for machine-readable output.
pub fn rfc3339(ts: i64) -> Option<String> {
    DateTime::from_timestamp(ts, 0).map(|dt| dt.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// "3 h 12 min", "20 s", "2 d 4 h": two units at most, for an absolute duration.
pub fn duration(secs: i64) -> String {
    let s = secs.unsigned_abs();
    let (d, h, m, sec) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{sec} s"),
        (0, 0, m) if sec == 0 => format!("{m} min"),
        (0, 0, m) => format!("{m} min {sec} s"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        // A year on, hours and minutes are noise.
        (d, _, _) if d >= 365 => format!("{} years", d / 365),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// "3 h 12 min before now" / "5 min after now" / "exactly now", relative to `now`.
pub fn relative(ts: i64, now: i64) -> String {
    match ts.cmp(&now) {
        std::cmp::Ordering::Less => format!("{} before now", duration(now - ts)),
        std::cmp::Ordering::Greater => format!("{} after now", duration(ts - now)),
        std::cmp::Ordering::Equal => "exactly now".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_unix_and_rfc3339() {
        assert_eq!(parse_now(Some("1700000000")).unwrap(), 1_700_000_000);
        assert_eq!(
            parse_now(Some("2023-11-14T22:13:20Z")).unwrap(),
            1_700_000_000
        );
        assert_eq!(
            parse_now(Some("2023-11-14T23:13:20+01:00")).unwrap(),
            1_700_000_000
        );
        assert_eq!(
            parse_now(Some("2023-11-14 22:13:20")).unwrap(),
            1_700_000_000
        );
        assert!(parse_now(Some("yesterday")).is_err());
        assert!(parse_now(Some("-5")).is_err());
        let ms = parse_now(Some("1700000000123")).unwrap_err().to_string();
        assert!(
            ms.ends_with(
                "it looks like milliseconds, i.e. --now 1700000000 (2023-11-14 22:13:20 UTC)"
            ),
            "{ms}"
        );
        assert!(parse_now(Some("1e400")).is_err());
    }

    #[test]
    fn formats_for_people() {
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(duration(20), "20 s");
        assert_eq!(duration(11_520), "3 h 12 min");
        assert_eq!(duration(90), "1 min 30 s");
        assert_eq!(duration(3 * 86_400 + 7200), "3 d 2 h");
        assert_eq!(relative(100, 120), "20 s before now");
        assert_eq!(relative(400, 100), "5 min after now");
    }
}
