//! Time findings (findings.md, "Time"): `exp`, `nbf`, `iat` judged at
//! `--now 1700000000` (2023-11-14 22:13:20 UTC) with `--leeway`.

mod common;

use common::*;
use serde_json::json;

fn diagnose(changes: serde_json::Value, extra: &[&str]) -> (serde_json::Value, i32) {
    let t = hs256(claims_with(changes));
    let mut args = vec![t.as_str()];
    args.extend_from_slice(extra);
    report(&args)
}

#[test]
fn expired_by_20_seconds_points_at_clock_skew() {
    let (r, code) = diagnose(json!({"exp": NOW - 20, "iat": NOW - 3620}), &[]);
    assert_finding(&r, "expired", "error");
    assert_detail(
        &r,
        "expired",
        &[
            "2023-11-14 22:13:00 UTC",
            "20 s",
            "2023-11-14 22:13:20 UTC",
            "clock skew",
            "leeway",
        ],
    );
    let ev = &finding(&r, "expired")["evidence"];
    assert_eq!(ev["seconds"], 20, "{ev:#}");
    assert_eq!(ev["exp"], NOW - 20, "{ev:#}");
    assert_eq!(ev["now"], NOW, "{ev:#}");
    assert_exit(&r, code, 1);
}

#[test]
fn expired_exactly_at_exp() {
    // RFC 7519: the current time must be *before* exp.
    let (r, code) = diagnose(json!({"exp": NOW}), &[]);
    assert_finding(&r, "expired", "error");
    assert_detail(&r, "expired", &["0 s"]);
    assert_exit(&r, code, 1);
}

#[test]
fn expired_by_3_days_points_at_a_stale_token() {
    let exp = NOW - 3 * 86_400;
    let (r, code) = diagnose(json!({"exp": exp, "iat": exp - 3600}), &[]);
    assert_finding(&r, "expired", "error");
    let d = detail(&r, "expired");
    for n in ["2023-11-11 22:13:20 UTC", "3 d", "lifetime of 1 h"] {
        assert!(d.contains(n), "detail lacks {n:?}: {d}");
    }
    assert!(!d.contains("clock skew"), "3 days is not skew: {d}");
    assert_exit(&r, code, 1);
}

#[test]
fn expired_leeway_accepts_it() {
    let (r, code) = diagnose(json!({"exp": NOW - 20}), &["--leeway", "30"]);
    assert_absent(&r, "expired");
    assert_exit(&r, code, 0);
}

/// `--leeway 2m` as jose writes `clockTolerance: '2m'`.
#[test]
fn leeway_takes_a_duration_with_a_unit() {
    let (r, code) = diagnose(json!({"exp": NOW - 20}), &["--leeway", "1m"]);
    assert_absent(&r, "expired");
    assert_exit(&r, code, 0);
    let (_, code) = diagnose(json!({"exp": NOW - 20}), &["--leeway", "20s"]);
    assert_eq!(code, 1, "exp + 20 s = now is expired");
}

#[test]
fn expired_leeway_equal_to_the_delay_still_rejects() {
    let (r, code) = diagnose(json!({"exp": NOW - 20}), &["--leeway", "20"]);
    assert_finding(&r, "expired", "error");
    assert_detail(&r, "expired", &["leeway 20 s"]);
    assert_exit(&r, code, 1);
}

#[test]
fn now_as_rfc3339_is_the_same_instant() {
    let t = hs256(claims_with(json!({"exp": NOW - 20})));
    let r = run(
        &[
            "diagnose",
            &t,
            "--now",
            "2023-11-14T22:13:20Z",
            "--format",
            "json",
        ],
        None,
    );
    let v: serde_json::Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("no JSON report ({e}): {}\n{}", r.stdout, r.stderr));
    assert_eq!(v["now"], NOW);
    assert_eq!(finding(&v, "expired")["evidence"]["seconds"], 20);
}

#[test]
fn not_yet_valid() {
    let (r, code) = diagnose(json!({"nbf": NOW + 600}), &[]);
    assert_finding(&r, "not-yet-valid", "error");
    assert_detail(&r, "not-yet-valid", &["2023-11-14 22:23:20 UTC", "10 min"]);
    assert_eq!(finding(&r, "not-yet-valid")["evidence"]["seconds"], 600);
    assert_exit(&r, code, 1);

    let (r, code) = diagnose(json!({"nbf": NOW + 600}), &["--leeway", "600"]);
    assert_absent(&r, "not-yet-valid");
    assert_exit(&r, code, 0);
}

#[test]
fn issued_in_future() {
    let (r, code) = diagnose(json!({"iat": NOW + 120}), &[]);
    assert_finding(&r, "issued-in-future", "warning");
    assert_detail(
        &r,
        "issued-in-future",
        &[
            "2023-11-14 22:15:20 UTC",
            "2 min",
            // Accepted here, so the verifiers that reject it are named.
            "PyJWT (\"The token is not yet valid (iat)\")",
        ],
    );
    assert_exit(&r, code, 0);
}

#[test]
fn timestamp_in_milliseconds() {
    let exp_ms = (NOW + 3600) * 1000;
    let (r, code) = diagnose(json!({"exp": exp_ms, "iat": (NOW - 60) * 1000}), &[]);
    assert_finding(&r, "timestamp-in-milliseconds", "error");
    let f = finding(&r, "timestamp-in-milliseconds");
    let d = f["detail"].as_str().unwrap_or("");
    assert!(d.contains(&exp_ms.to_string()), "{d}");
    assert!(d.contains("2023-11-14 23:13:20 UTC"), "{d}");
    let fix = f["fix"].as_str().unwrap_or("");
    assert!(
        fix.contains(&(NOW + 3600).to_string()),
        "fix gives the seconds: {fix}"
    );
    // A millisecond exp is not also "never expires" or "expired".
    for c in [
        "expired",
        "exp-missing",
        "not-yet-valid",
        "issued-in-future",
        "lifetime-too-long",
    ] {
        assert_absent(&r, c);
    }
    assert_exit(&r, code, 1);
}

#[test]
fn timestamp_not_numeric_iso_string() {
    let (r, code) = diagnose(json!({"exp": "2023-11-14T23:13:20Z"}), &[]);
    assert_finding(&r, "timestamp-not-numeric", "error");
    assert_detail(
        &r,
        "timestamp-not-numeric",
        &[
            "\"2023-11-14T23:13:20Z\"",
            "2023-11-14 23:13:20 UTC",
            "1700003600",
        ],
    );
    assert_absent(&r, "exp-missing");
    assert_exit(&r, code, 1);
}

#[test]
fn timestamp_not_numeric_digit_string() {
    let (r, code) = diagnose(json!({"nbf": "1699999000"}), &[]);
    assert_finding(&r, "timestamp-not-numeric", "error");
    assert_detail(&r, "timestamp-not-numeric", &["nbf", "\"1699999000\""]);
    assert_exit(&r, code, 1);
}

#[test]
fn exp_before_iat() {
    let (r, code) = diagnose(json!({"iat": NOW - 60, "exp": NOW - 3660}), &[]);
    assert_finding(&r, "exp-before-iat", "error");
    assert_detail(
        &r,
        "exp-before-iat",
        &[
            "2023-11-14 21:12:20 UTC",
            "1 h before iat",
            "2023-11-14 22:12:20 UTC",
        ],
    );
    assert_exit(&r, code, 1);
}

#[test]
fn exp_missing() {
    let (r, code) = diagnose(json!({"exp": null}), &["--iss", ISS, "--aud", AUD]);
    assert_finding(&r, "exp-missing", "warning");
    assert_detail(&r, "exp-missing", &["`exp`"]);
    assert_exit(&r, code, 0);
}

#[test]
fn lifetime_too_long() {
    let iat = NOW - 60;
    let (r, code) = diagnose(json!({"iat": iat, "exp": iat + 30 * 86_400}), &[]);
    assert_finding(&r, "lifetime-too-long", "warning");
    assert_detail(
        &r,
        "lifetime-too-long",
        &["30 d", "2023-11-14 22:12:20 UTC"],
    );
    assert_eq!(
        finding(&r, "lifetime-too-long")["evidence"]["lifetime_seconds"],
        30 * 86_400
    );
    assert_exit(&r, code, 0);
}

#[test]
fn one_hour_lifetime_is_fine() {
    let (r, code) = diagnose(json!({}), &[]);
    for c in TIME_CODES {
        assert_absent(&r, c);
    }
    assert_exit(&r, code, 0);
}

#[test]
fn huge_leeway_is_not_an_internal_error() {
    let t = hs256(valid_claims());
    let r = run(
        &[
            "diagnose",
            &t,
            "--now",
            NOW_ARG,
            "--leeway",
            "9223372036854775807",
        ],
        None,
    );
    assert_no_crash(&r);
    assert!(
        r.code == 0 || (r.code == 2 && r.stderr.contains("--leeway")),
        "a huge leeway either accepts the token or is a usage error naming --leeway: exit {}\n{}",
        r.code,
        r.stderr
    );
}

/// A NumericDate off by almost exactly a whole (or half) time-zone offset is
/// an issuer converting local time as if it were UTC, not a drifting clock.
#[test]
fn whole_hour_offsets_are_a_time_zone_not_clock_drift() {
    let fix_of = |r: &serde_json::Value, code: &str| -> String {
        finding(r, code)["fix"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    // UTC+2 issuer: iat and nbf two hours ahead (less a few seconds in transit).
    let (r, _) = diagnose(
        json!({"iat": NOW + 7200 - 3, "nbf": NOW + 7200 - 3, "exp": NOW + 10_800}),
        &[],
    );
    assert_detail(
        &r,
        "issued-in-future",
        &["almost exactly 2 h", "a time zone"],
    );
    assert_detail(&r, "not-yet-valid", &["almost exactly 2 h"]);
    assert!(fix_of(&r, "not-yet-valid").contains("Instant.now()"));
    // India (UTC+5:30).
    let (r, _) = diagnose(json!({"iat": NOW + 19_800 + 40}), &[]);
    assert_detail(&r, "issued-in-future", &["almost exactly 5:30 h"]);
    // UTC-5 issuer, a token issued just now: expired by four hours, and said so.
    let (r, _) = diagnose(
        json!({"iat": NOW - 18_000 + 2, "exp": NOW - 14_400 + 2}),
        &[],
    );
    assert_detail(
        &r,
        "expired",
        &["reused", "almost exactly 5 h ago is not a drifting clock"],
    );
    let fix = fix_of(&r, "expired");
    assert!(
        fix.contains("Get a fresh token") && fix.contains("time zone"),
        "{fix}"
    );
    // A 1 h token that expired 30 s ago: its iat is 1 h ago because it ran
    // out its lifetime, not because of a time zone.
    let (r, _) = diagnose(json!({"iat": NOW - 3630, "exp": NOW - 30}), &[]);
    assert_finding(&r, "expired", "error");
    assert!(!r.to_string().contains("time zone"), "{r:#}");
    // Issued 5 h 20 min ago: no time zone is that far off, so no zone.
    let (r, _) = diagnose(json!({"iat": NOW - 19_200, "exp": NOW - 15_600}), &[]);
    assert!(!r.to_string().contains("time zone"), "{r:#}");
    // Ahead by an uneven 47 minutes: a clock, said as before.
    let (r, _) = diagnose(json!({"iat": NOW + 2820}), &[]);
    assert_detail(&r, "issued-in-future", &["the issuer's clock is ahead"]);
}

#[test]
fn year_9999_is_seconds_not_milliseconds() {
    // .NET DateTime.MaxValue as a NumericDate: far away, but seconds.
    let (r, code) = diagnose(json!({"exp": 253_402_300_799i64}), &[]);
    assert_absent(&r, "timestamp-in-milliseconds");
    assert_absent(&r, "timestamp-not-numeric");
    assert_absent(&r, "expired");
    assert_detail(&r, "lifetime-too-long", &["9999-12-31 23:59:59 UTC"]);
    assert_exit(&r, code, 0);
}

#[test]
fn microseconds_and_nanoseconds_are_divided_by_their_unit() {
    let exp = NOW + 3600;
    for (unit, factor) in [
        ("microseconds", 1_000_000i64),
        ("nanoseconds", 1_000_000_000),
    ] {
        let value = exp * factor;
        let (r, code) = diagnose(json!({"exp": value}), &[]);
        assert_finding(&r, "timestamp-in-milliseconds", "error");
        assert_detail(
            &r,
            "timestamp-in-milliseconds",
            &[
                &value.to_string(),
                &format!("as {unit}"),
                "2023-11-14 23:13:20 UTC",
            ],
        );
        let f = finding(&r, "timestamp-in-milliseconds");
        let fix = f["fix"].as_str().unwrap_or("");
        assert!(fix.contains(&format!("{exp} instead of {value}")), "{fix}");
        assert_eq!(f["evidence"]["as_seconds"], exp, "{f:#}");
        assert_exit(&r, code, 1);
    }
}

#[test]
fn a_value_sensible_in_no_unit_is_said_so() {
    let (r, code) = diagnose(json!({"exp": 1e23}), &[]);
    assert_finding(&r, "timestamp-not-numeric", "error");
    assert_detail(
        &r,
        "timestamp-not-numeric",
        &["1e+23", "not a sensible NumericDate"],
    );
    assert_absent(&r, "timestamp-in-milliseconds");
    let f = finding(&r, "timestamp-not-numeric");
    let fix = f["fix"].as_str().unwrap_or("");
    assert!(!fix.contains(&i64::MAX.to_string()), "{fix}");
    assert!(fix.contains(&(NOW + 3600).to_string()), "{fix}");
    assert_exit(&r, code, 1);
}

#[test]
fn negative_exp_is_a_date_long_past() {
    let (r, code) = diagnose(json!({"exp": -1, "iat": null}), &[]);
    assert_absent(&r, "timestamp-not-numeric");
    assert_finding(&r, "expired", "error");
    assert_detail(&r, "expired", &["1969-12-31 23:59:59 UTC"]);
    assert_exit(&r, code, 1);
}
