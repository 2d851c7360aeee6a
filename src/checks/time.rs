//! Time: `exp`, `nbf` and `iat` (RFC 7519 §4.1.4-6) judged at `--now` with
//! `--leeway`, and the shapes of time claims that break verifiers.

use serde_json::{Value, json};

use super::{Context, show};
use crate::clock::{duration, relative, utc};
use crate::findings::{Finding, Severity::*, Spec};
use crate::token::json::Members;

/// The last second of the year 9999 (.NET `DateTime.MaxValue`, Python's
/// `datetime.max`): a NumericDate up to here is seconds, however far away,
/// since verifiers take it as such (`exp` 253402300799 means "never").
const MAX_SECONDS: f64 = 253_402_300_799.0;
/// The first second of the year 1: below it no library holds a date.
const MIN_SECONDS: f64 = -62_135_596_800.0;
/// Where a value written in a finer unit than seconds lands once converted
/// (1990 to 2200): any later token's time. The windows of the finer units
/// do not overlap, so at most one unit fits.
const PLAUSIBLE: std::ops::RangeInclusive<f64> = 631_152_000.0..=7_258_118_400.0;
/// Units finer than seconds that issuers write by mistake: name, divisor,
/// the calls that produce it.
const FINER_UNITS: [(&str, f64, &str); 3] = [
    (
        "milliseconds",
        1e3,
        "JavaScript `Date.now()`, Java `System.currentTimeMillis()`",
    ),
    (
        "microseconds",
        1e6,
        "Python `time.time_ns() // 1000`, PostgreSQL/ClickHouse microsecond timestamps",
    ),
    (
        "nanoseconds",
        1e9,
        "Go `time.Now().UnixNano()`, Python `time.time_ns()`",
    ),
];
/// Expired by less than this: clock skew or a missed refresh, not a stale token.
const SKEW_WINDOW: i64 = 300;
const MAX_ACCESS_LIFETIME: i64 = 24 * 3600;

pub static EXPIRED: Spec = Spec {
    code: "expired",
    severity: Error,
    title: "Token has expired",
    doc: "RFC 7519 §4.1.4: the token must not be accepted on or after `exp` (plus the verifier's leeway).",
    fix: "Get a fresh token (refresh before `exp`, e.g. when less than a minute is left); if it expired by seconds, the clocks disagree: sync them (NTP) and allow a small leeway (30-60 s).",
    rank: 10,
};
pub static NOT_YET_VALID: Spec = Spec {
    code: "not-yet-valid",
    severity: Error,
    title: "Token is not valid yet (`nbf`)",
    doc: "RFC 7519 §4.1.5: the token must not be accepted before `nbf` (minus leeway). Usually the issuer's clock runs ahead of the server's, or `nbf` was set in the future on purpose.",
    fix: "Sync the clocks of issuer and server (NTP) and allow a small leeway; if `nbf` is deliberately in the future, wait for it.",
    rank: 10,
};
pub static ISSUED_IN_FUTURE: Spec = Spec {
    code: "issued-in-future",
    severity: Warning,
    title: "Issued in the future (`iat`)",
    doc: "`iat` is later than now: the issuer's clock is ahead of this machine's. Some libraries (PyJWT, IdentityModel, jose) reject such tokens outright.",
    fix: "Sync the clocks (NTP) on the issuer and the API hosts; allow a leeway of 30-60 s in the verifier.",
    rank: 50,
};
pub static TIMESTAMP_IN_MILLISECONDS: Spec = Spec {
    code: "timestamp-in-milliseconds",
    severity: Error,
    title: "Time claim in milliseconds (or a finer unit), not seconds",
    doc: "NumericDate is seconds since the epoch (RFC 7519 §2). A value in milliseconds (JavaScript `Date.now()`, Java `System.currentTimeMillis()`), or in microseconds or nanoseconds (Go `UnixNano()`), lands tens of thousands of years in the future or more: `exp` never expires, `nbf`/`iat` are never reached.",
    fix: "Write seconds: `Math.floor(Date.now() / 1000)`, `Instant.now().getEpochSecond()`, `int(time.time())`.",
    rank: 8,
};
pub static TIMESTAMP_NOT_NUMERIC: Spec = Spec {
    code: "timestamp-not-numeric",
    severity: Error,
    title: "Time claim is not a NumericDate",
    doc: "`exp`, `nbf` and `iat` must be JSON numbers of seconds since the epoch (RFC 7519 §2). Strings (even of digits), ISO dates or booleans are rejected or ignored depending on the library.",
    fix: "Emit the claim as a JSON number of seconds, e.g. `\"exp\": 1700003000`, not `\"exp\": \"2023-11-14T23:13:20Z\"`.",
    rank: 8,
};
pub static EXP_BEFORE_IAT: Spec = Spec {
    code: "exp-before-iat",
    severity: Error,
    title: "`exp` is earlier than `iat` or `nbf`",
    doc: "The token's validity window is empty: it expires before it was issued or became valid. The issuer computes `exp` wrongly (a negative or mis-unit lifetime, a time-zone offset subtracted).",
    fix: "Compute `exp = iat + lifetime` in seconds at the issuer, from one clock reading.",
    rank: 9,
};
pub static EXP_MISSING: Spec = Spec {
    code: "exp-missing",
    severity: Warning,
    title: "No `exp`: the token never expires",
    doc: "Without `exp` a stolen token works forever. Many verifiers accept it silently; some (with required claims) reject it.",
    fix: "Issue tokens with a short `exp` (minutes to an hour for access tokens) and require `exp` in the verifier.",
    rank: 60,
};
pub static LIFETIME_TOO_LONG: Spec = Spec {
    code: "lifetime-too-long",
    severity: Warning,
    title: "Lifetime longer than 24 hours",
    doc: "Access tokens are bearer credentials; a long lifetime means a leaked token stays usable for long. Refresh tokens exist so access tokens can be short.",
    fix: "Shorten the access-token lifetime (5-60 min is usual) and use refresh tokens for long sessions.",
    rank: 65,
};

pub static TOKEN_TOO_OLD: Spec = Spec {
    code: "token-too-old",
    severity: Error,
    title: "Older than the verifier's maximum token age",
    doc: "Some verifiers also bound a token's age from `iat`, whatever its `exp` (node jsonwebtoken's `maxAge`, jose's `maxTokenAge`, fast-jwt's `maxAge`); they reject an older token, or one without `iat`.",
    fix: "Send a freshly issued token (refresh it), or raise the verifier's maximum age to the access-token lifetime.",
    rank: 31,
};

pub static SPECS: &[&Spec] = &[
    &EXPIRED,
    &TOKEN_TOO_OLD,
    &NOT_YET_VALID,
    &ISSUED_IN_FUTURE,
    &TIMESTAMP_IN_MILLISECONDS,
    &TIMESTAMP_NOT_NUMERIC,
    &EXP_BEFORE_IAT,
    &EXP_MISSING,
    &LIFETIME_TOO_LONG,
];

/// A time claim as read from the token.
enum Read {
    Absent,
    Seconds(i64),
    /// Unusable: the finding was already reported.
    Bad,
}

pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let Some(claims) = ctx.token.claims() else {
        return;
    };
    let now = ctx.expect.now;
    let leeway = ctx.expect.leeway;
    let exp = read(claims.member("exp"), "exp", now, out);
    let nbf = read(claims.member("nbf"), "nbf", now, out);
    let iat = read(claims.member("iat"), "iat", now, out);

    let empty_window = match (&exp, &iat, &nbf) {
        (Read::Seconds(e), Read::Seconds(i), _) if e < i => Some(("iat", *i, *e)),
        (Read::Seconds(e), _, Read::Seconds(n)) if e < n => Some(("nbf", *n, *e)),
        _ => None,
    };
    if let Some((other, start, e)) = empty_window {
        out.push(
            Finding::new(
                &EXP_BEFORE_IAT,
                format!(
                    "exp {} is {} before {other} {}: the token was never valid. At now ({}) it is {}.",
                    utc(e),
                    duration(start - e),
                    utc(start),
                    utc(now),
                    if now >= e.saturating_add(leeway) { "also past exp" } else { "inside exp but still malformed" }
                ),
            )
            .evidence(json!({"exp": e, other: start, "now": now})),
        );
    }

    match exp {
        Read::Absent => out.push(super::idp::hinted(
            Finding::new(
                &EXP_MISSING,
                "The payload has no `exp` claim: this token is valid forever unless the verifier requires `exp`.",
            ),
            super::idp::token_kind(claims, &ctx.expect.aud),
        )),
        Read::Seconds(e) if empty_window.is_none() && now >= e.saturating_add(leeway) => {
            let late = now - e;
            let mut detail = format!(
                "exp {}, {} before now ({}){}.",
                utc(e),
                duration(late),
                utc(now),
                leeway_note(leeway)
            );
            if late <= SKEW_WINDOW {
                detail.push_str(&format!(
                    " Expired by only {}: clock skew between issuer and server, or a token refreshed too late. A leeway of {} s would accept it; refreshing before expiry is the real fix.",
                    duration(late),
                    (late + 1).max(30)
                ));
            } else if let Read::Seconds(i) = iat {
                detail.push_str(&format!(" It was issued {} ago with a lifetime of {}: a cached or stored token is being reused instead of refreshed.", duration(now - i), duration(e - i)));
            }
            let mut f = Finding::new(&EXPIRED, detail);
            // Shifted by a time zone, was the token fresh? Not asked when it
            // just ran out its lifetime: a 1 h token that expired seconds ago
            // has an iat 1 h ago with no time zone involved.
            if let (&Read::Seconds(i), true) = (&iat, late > SKEW_WINDOW) {
                if let Some(zone) = time_zone(now - i).filter(|z| e + z.shift > now) {
                    f.detail.push_str(&format!(
                        " If it was issued just now, though, an iat almost exactly {} h ago is {}",
                        zone.hours, zone.said
                    ));
                    f = f.fix(format!(
                        "{} If the token was fresh, the issuer's time zone is the cause. {TIME_ZONE_FIX}",
                        EXPIRED.fix
                    ));
                }
            }
            out.push(f.evidence(json!({"exp": e, "now": now, "seconds": late, "leeway": leeway})));
        }
        _ => {}
    }

    if let Read::Seconds(n) = nbf {
        if now < n.saturating_sub(leeway) {
            let mut detail = format!(
                "nbf {}, {} after now ({}){}: the token only becomes valid then.",
                utc(n),
                duration(n - now),
                utc(now),
                leeway_note(leeway)
            );
            let zone = time_zone(n - now);
            if let Some(zone) = &zone {
                detail.push_str(&format!(
                    " That is almost exactly {} h: {}",
                    zone.hours, zone.said
                ));
            }
            out.push(
                with_zone_fix(Finding::new(&NOT_YET_VALID, detail), zone.is_some())
                    .evidence(json!({"nbf": n, "now": now, "seconds": n - now, "leeway": leeway})),
            );
        }
    }

    if let Read::Seconds(i) = iat {
        if i > now.saturating_add(leeway) {
            let zone = time_zone(i - now);
            let mut detail = format!(
                "iat {}, {} after now ({}){}",
                utc(i),
                duration(i - now),
                utc(now),
                leeway_note(leeway)
            );
            match &zone {
                Some(zone) => detail.push_str(&format!(
                    ". That is almost exactly {} h: {}",
                    zone.hours, zone.said
                )),
                None => detail.push_str(": the issuer's clock is ahead of this one."),
            }
            // A warning because many verifiers ignore `iat`; the ones that
            // do not reject the token, so say which.
            detail.push_str(" Some verifiers reject such a token outright: PyJWT (\"The token is not yet valid (iat)\"), go-jose, firebase/php-jwt, lcobucci/jwt, PostgREST, Hasura, Clerk; pass the server's message with --error to have it judged as the rejection.");
            out.push(
                with_zone_fix(Finding::new(&ISSUED_IN_FUTURE, detail), zone.is_some())
                    .evidence(json!({"iat": i, "now": now, "seconds": i - now})),
            );
        }
    }

    if let Some(max) = ctx.expect.max_age {
        max_age(&iat, max, now, leeway, out);
    }

    let start = match (&iat, &nbf) {
        (Read::Seconds(i), _) => Some(("iat", *i)),
        (_, Read::Seconds(n)) => Some(("nbf", *n)),
        _ => None,
    };
    if let (Read::Seconds(e), Some((name, s))) = (&exp, start) {
        if e - s > MAX_ACCESS_LIFETIME {
            out.push(super::idp::hinted(
                Finding::new(
                    &LIFETIME_TOO_LONG,
                    format!(
                        "exp - {name} = {}: {} to {}.",
                        duration(e - s),
                        utc(s),
                        utc(*e)
                    ),
                )
                .evidence(json!({"lifetime_seconds": e - s})),
                super::idp::token_kind(claims, &ctx.expect.aud),
            ));
        }
    }
}

/// `--max-age`: the token's age from `iat` against the verifier's bound.
fn max_age(iat: &Read, max: i64, now: i64, leeway: i64, out: &mut Vec<Finding>) {
    match iat {
        Read::Absent => out.push(
            Finding::new(
                &TOKEN_TOO_OLD,
                format!("The token has no `iat`, so its age cannot be checked against the maximum age {}: verifiers with a maximum age reject it (node jsonwebtoken: \"iat required when maxAge is specified\").", duration(max)),
            )
            .fix("Have the issuer set `iat`, or drop the maximum-age option and rely on `exp`.")
            .evidence(json!({"max_age": max})),
        ),
        Read::Seconds(i) if now.saturating_sub(*i) > max.saturating_add(leeway) => out.push(
            Finding::new(
                &TOKEN_TOO_OLD,
                format!(
                    "iat {}: the token is {} old at now ({}), over the maximum age {}{} by {}.",
                    utc(*i),
                    duration(now.saturating_sub(*i)),
                    utc(now),
                    duration(max),
                    leeway_note(leeway),
                    duration(now.saturating_sub(*i).saturating_sub(max))
                ),
            )
            .evidence(json!({"iat": i, "now": now, "age": now.saturating_sub(*i), "max_age": max})),
        ),
        _ => {}
    }
}

/// A time claim off by (almost) a whole time-zone offset.
struct Zone {
    /// The offset, in seconds, signed like the distance it explains.
    shift: i64,
    /// The offset as said: `5`, `5:30`.
    hours: String,
    /// Its cause, as a sentence ending in `.`.
    said: String,
}

/// Within this of a whole or half hour, an offset is a time zone, not drift
/// (NTP keeps clocks within seconds; a token may take a minute to arrive).
const ZONE_SLACK: i64 = 90;

/// `distance` (seconds, either sign) as a time-zone offset of 1 to 14 hours,
/// whole or half, if it is one.
fn time_zone(distance: i64) -> Option<Zone> {
    let d = distance.abs();
    let half_hours = (d + 900) / 1800;
    if !(2..=28).contains(&half_hours) || (d - half_hours * 1800).abs() > ZONE_SLACK {
        return None;
    }
    let (h, m) = (half_hours / 2, if half_hours % 2 == 1 { ":30" } else { "" });
    Some(Zone {
        shift: distance.signum() * half_hours * 1800,
        hours: format!("{h}{m}"),
        said: format!(
            "not a drifting clock (NTP keeps clocks within seconds) but a time zone. The issuer turns a local date-time into epoch seconds as if it were UTC, on a machine {h}{m} h from UTC (e.g. Java `LocalDateTime.now().toEpochSecond(ZoneOffset.UTC)`, Python `datetime.utcnow().timestamp()`)."
        ),
    })
}

const TIME_ZONE_FIX: &str = "Make the issuer take NumericDates from the current instant, not from a local date-time: `Math.floor(Date.now() / 1000)`, Python `int(time.time())`, Java `Instant.now().getEpochSecond()`, Go `time.Now().Unix()`.";

fn with_zone_fix(f: Finding, zone: bool) -> Finding {
    if zone { f.fix(TIME_ZONE_FIX) } else { f }
}

fn leeway_note(leeway: i64) -> String {
    if leeway > 0 {
        format!(", leeway {leeway} s")
    } else {
        String::new()
    }
}

/// A NumericDate in seconds, however it was written: seconds up to the
/// year 9999, else the finer unit (ms, µs, ns) that lands between 1990
/// and 2200; `None` when no reading is a sensible date. For showing and
/// mirroring times; [`check`] reports the unit.
pub fn numeric_date_seconds(f: f64) -> Option<i64> {
    if !f.is_finite() {
        return None;
    }
    if (MIN_SECONDS..=MAX_SECONDS).contains(&f) {
        return Some(f.floor() as i64);
    }
    finer_unit(f).map(|(_, div, _)| (f / div).floor() as i64)
}

/// "milliseconds" when `f` is no date in seconds but one in a finer unit.
pub fn finer_unit_name(f: f64) -> Option<&'static str> {
    if (MIN_SECONDS..=MAX_SECONDS).contains(&f) {
        return None;
    }
    finer_unit(f).map(|(name, _, _)| *name)
}

/// The unit finer than seconds in which `f` is a date between 1990 and 2200.
fn finer_unit(f: f64) -> Option<&'static (&'static str, f64, &'static str)> {
    FINER_UNITS
        .iter()
        .find(|(_, div, _)| f > 0.0 && PLAUSIBLE.contains(&(f / div)))
}

fn read(value: Option<&Value>, name: &str, now: i64, out: &mut Vec<Finding>) -> Read {
    let Some(v) = value else { return Read::Absent };
    match v {
        Value::Number(n) => {
            let Some(f) = n.as_f64().filter(|f| f.is_finite()) else {
                return Read::Bad;
            };
            if (MIN_SECONDS..=MAX_SECONDS).contains(&f) {
                // Negative too: a date before 1970, long past, not a type error.
                return Read::Seconds(f.floor() as i64);
            }
            if let Some((unit, div, calls)) = finer_unit(f) {
                let secs = (f / div).floor() as i64;
                out.push(
                    Finding::new(
                        &TIMESTAMP_IN_MILLISECONDS,
                        format!(
                            "{name} is {n}: as seconds that lies beyond the year 9999; as {unit} it is {} ({}). The issuer wrote {unit} ({calls}).",
                            utc(secs),
                            relative(secs, now)
                        ),
                    )
                    .fix(format!(
                        "Write `{name}` in seconds: {secs} instead of {n} (the {unit} divided by {}), e.g. `Math.floor(Date.now() / 1000)`, `int(time.time())`, Go `time.Now().Unix()`.",
                        *div as i64
                    ))
                    .evidence(json!({"claim": name, "value": v, "unit": unit, "as_seconds": secs})),
                );
                return Read::Bad;
            }
            out.push(
                Finding::new(
                    &TIMESTAMP_NOT_NUMERIC,
                    format!(
                        "{name} is {n}: not a sensible NumericDate. As seconds it lies {} the year {}, and read as milliseconds, microseconds or nanoseconds it is no date between 1990 and 2200 either.",
                        if f < 0.0 { "before" } else { "beyond" },
                        if f < 0.0 { 1 } else { 9999 }
                    ),
                )
                .fix({
                    // `exp` lies ahead; `iat` and `nbf` are the moment of issue.
                    let (example, when) = if name == "exp" {
                        (now.saturating_add(3600), "one hour after now")
                    } else {
                        (now, "now")
                    };
                    format!(
                        "Emit `{name}` as whole seconds since 1970-01-01 UTC, e.g. {example} for {when} ({}).",
                        utc(example)
                    )
                })
                .evidence(json!({"claim": name, "value": v})),
            );
            Read::Bad
        }
        other => {
            let mut detail = format!("{name} is {}, not a JSON number of seconds.", show(other));
            if let Some(s) = other.as_str() {
                if let Ok(secs) = crate::clock::parse_now(Some(s)) {
                    detail.push_str(&format!(
                        " It reads as {}; write it as the number {secs}.",
                        utc(secs)
                    ));
                }
            }
            out.push(
                Finding::new(&TIMESTAMP_NOT_NUMERIC, detail)
                    .evidence(json!({"claim": name, "value": other})),
            );
            Read::Bad
        }
    }
}
