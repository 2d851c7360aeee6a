use serde_json::json;

use super::*;
use crate::sign::{SigningKey, sign_token};

const NOW: i64 = 1_773_578_040;

fn suite_for(header: Value, claims: Value, expect: Expectations, key: &SigningKey) -> Suite {
    let token = sign_token(&header, &claims, key).expect("sign");
    let parsed = pipeline::parse(&token);
    let report = pipeline::diagnose(&parsed, &expect, &Default::default(), &Default::default());
    suggest(&parsed.token, &expect, &report).expect("suite")
}

fn at_now() -> Expectations {
    Expectations {
        max_age: None,
        typ: None,
        crit: Vec::new(),
        now: NOW,
        ..Default::default()
    }
}

fn left_out(s: &Suite) -> Vec<String> {
    s.not_applicable
        .iter()
        .filter(|n| n.why.starts_with("Left out"))
        .map(|n| format!("{}: {}", n.id, n.why))
        .collect()
}

#[test]
fn slugs_are_kebab_case() {
    assert_eq!(slug("read:orders"), "read-orders");
    assert_eq!(slug("realm_access.roles"), "realm-access-roles");
    assert_eq!(
        slug("https://example.com/tenant"),
        "https-example-com-tenant"
    );
    assert_eq!(slug("::"), "x");
}

#[test]
fn placeholders_keep_the_type_and_drop_the_value() {
    use fixtures::placeholder;
    assert_eq!(
        placeholder("contact", &json!("bob@corp.example"), 0),
        json!("user@example.com")
    );
    assert_eq!(
        placeholder("given_name", &json!("Robert"), 0),
        json!("Test User")
    );
    assert_eq!(placeholder("org", &json!("acme"), 0), json!("placeholder"));
    assert_eq!(placeholder("n", &json!(4711), 0), json!(123));
    assert_eq!(placeholder("n", &json!(0.25), 0), json!(1.5));
    assert_eq!(placeholder("b", &json!(true), 0), json!(true));
    assert_eq!(
        placeholder("realm_access", &json!({"roles": ["admin", "ops"]}), 0),
        json!({"roles": ["placeholder", "placeholder"]})
    );
    assert_eq!(
        placeholder("id", &json!("30aada55-3070-5f13-bfe6-19698e12e1df"), 0),
        json!("00000000-0000-4000-8000-000000000000")
    );
}

#[test]
fn the_token_alg_wins_unless_the_verifier_refuses_it() {
    assert_eq!(choose_alg(Some("ES256"), &[]).expect("alg"), Alg::ES256);
    assert_eq!(
        choose_alg(Some("HS256"), &["RS256".into(), "ES256".into()]).expect("alg"),
        Alg::RS256
    );
    assert!(matches!(
        choose_alg(Some("none"), &[]),
        Err(SuggestError::NoAlg(_))
    ));
    assert!(matches!(choose_alg(None, &[]), Err(SuggestError::NoAlg(_))));
}

#[test]
fn fixtures_mirror_the_shape_not_the_values() {
    let key = SigningKey::generate(Alg::ES256).expect("key");
    let s = suite_for(
        json!({"alg": "ES256", "kid": "prod-1", "typ": "at+jwt"}),
        json!({"iss": "https://idp.example.com/", "sub": "u-998877", "aud": ["api://orders", "api://billing"],
               "iat": NOW - 100, "exp": NOW + 500, "tenant": {"id": "t-42", "name": "Acme"}, "email": "zed@corp.example"}),
        at_now(),
        &key,
    );
    assert!(left_out(&s).is_empty(), "{:?}", left_out(&s));
    let valid = &s.cases[0];
    assert_eq!(valid.id, "valid");
    let parsed = pipeline::parse(&valid.token);
    let header = parsed.token.header_map().expect("header");
    assert_eq!(header["kid"], "fixture-key-1");
    assert_eq!(header["typ"], "at+jwt");
    let claims = parsed.token.claims().expect("claims");
    let names: Vec<&str> = claims.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["iss", "sub", "aud", "iat", "exp", "tenant", "email"]
    );
    assert_eq!(claims["aud"], json!(["api://orders", "api://billing"]));
    assert_eq!(
        claims["exp"].as_i64().unwrap_or(0) - claims["iat"].as_i64().unwrap_or(0),
        600
    );
    assert_eq!(
        claims["tenant"],
        json!({"id": "placeholder", "name": "Test User"})
    );
    let text = serde_json::to_string(claims).unwrap_or_default();
    for secret in ["u-998877", "t-42", "Acme", "zed@corp.example", "prod-1"] {
        assert!(!text.contains(secret), "{secret} leaked");
    }
    assert!(s.cases.iter().any(|c| c.id == "audience-string"));
}

#[test]
fn every_finding_generator_reproduces_its_code() {
    let key = SigningKey::generate(Alg::RS256).expect("key");
    let expect = Expectations {
        algs: vec!["RS256".into()],
        iss: vec!["https://idp.example.com".into()],
        aud: vec!["https://api.example.com".into()],
        require: vec!["tenant.id".into()],
        scopes: vec!["orders:read".into()],
        claims: vec![("org".into(), "acme".into())],
        ..at_now()
    };
    let s = suite_for(
        json!({"alg": "RS256", "kid": "../../etc/passwd", "jku": "https://evil.example/jwks", "crit": ["exp-ext"]}),
        json!({"iss": "https://idp.example.com/", "aud": "https://other.example.com", "sub": "u1",
               "iat": (NOW - 60) * 1000, "nbf": NOW + 900, "exp": "2026-03-15T13:00:00Z",
               "nonce": "abc", "org": "globex", "password": "hunter2"}),
        expect,
        &key,
    );
    assert!(left_out(&s).is_empty(), "{:?}", left_out(&s));
    let ids: Vec<&str> = s.cases.iter().map(|c| c.id.as_str()).collect();
    for id in [
        "found-kid-suspicious",
        "found-header-key-injection",
        "found-crit-unsupported",
        "found-id-token-as-access-token",
        "found-audience-mismatch",
        "found-not-yet-valid",
        "found-timestamp-not-numeric",
        "missing-claim-tenant-id",
        "missing-scope-orders-read",
        "claim-mismatch-org",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    for marked in [
        "issuer-trailing-slash",
        "ms-timestamps",
        "claim-mismatch-org",
    ] {
        assert!(
            s.cases.iter().any(|c| c.id == marked && c.from_diagnosis),
            "{marked} not marked as found"
        );
    }
    assert!(
        s.not_applicable
            .iter()
            .any(|n| n.id == "found-secret-in-claims")
    );
    let valid = pipeline::parse(&s.cases[0].token);
    let claims = valid.token.claims().expect("claims");
    assert!(!claims.contains_key("password") && !claims.contains_key("nonce"));
    assert_eq!(claims["org"], "acme");
    assert_eq!(claims["scope"], "orders:read");
}

#[test]
fn hs_generators_reproduce_their_codes() {
    let key = SigningKey::from_hmac_secret(Alg::HS256, b"secret").expect("key");
    let token = sign_token(
        &json!({"alg": "HS256"}),
        &json!({"sub": "u1", "exp": NOW + 60}),
        &key,
    )
    .expect("sign");
    for text in [
        format!("Bearer Bearer {token}"),
        token.replace('.', "%2E"),
        format!("{}\n{}", &token[..20], &token[20..]),
    ] {
        let parsed = pipeline::parse(&text);
        let expect = at_now();
        let report = pipeline::diagnose(&parsed, &expect, &Default::default(), &Default::default());
        let s = suggest(&parsed.token, &expect, &report).expect("suite");
        assert!(left_out(&s).is_empty(), "{:?}", left_out(&s));
        assert!(
            s.cases.iter().any(|c| c.id == "found-weak-secret"),
            "weak secret"
        );
        assert!(
            s.cases
                .iter()
                .filter(|c| c.id.starts_with("found-"))
                .count()
                >= 2,
            "{:?}",
            s.cases.iter().map(|c| &c.id).collect::<Vec<_>>()
        );
    }
}

#[test]
fn judgement_rules() {
    let ok = Judgement {
        errors: vec![],
        signature_valid: true,
    };
    assert!(ok.agrees(Expect::Accept));
    assert!(!ok.agrees(Expect::Reject { code: "expired" }));
    let unverified = Judgement {
        errors: vec![],
        signature_valid: false,
    };
    assert!(!unverified.agrees(Expect::Accept));
    let bad = Judgement {
        errors: vec!["alg-not-allowed", "algorithm-confusion"],
        signature_valid: false,
    };
    assert!(bad.agrees(Expect::Reject {
        code: "algorithm-confusion"
    }));
}
