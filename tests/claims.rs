//! Claims findings (findings.md, "Claims"): what the server expects of `iss`,
//! `aud`, scopes and named claims (`--iss`, `--aud`, `--require`, `--scope`,
//! `--claim`), and personal data or secrets in the payload.

mod common;

use common::*;
use serde_json::json;

fn diagnose(changes: serde_json::Value, flags: &[&str]) -> (serde_json::Value, i32) {
    let t = hs256(claims_with(changes));
    let mut args = vec![t.as_str()];
    args.extend_from_slice(flags);
    report(&args)
}

#[test]
fn issuer_mismatch() {
    let (r, code) = diagnose(
        json!({"iss": "https://auth.staging.example.com/"}),
        &["--iss", ISS],
    );
    assert_finding(&r, "issuer-mismatch", "error");
    assert_detail(
        &r,
        "issuer-mismatch",
        &[
            "\"https://auth.staging.example.com/\"",
            ISS,
            "different host",
        ],
    );
    assert_exit(&r, code, 1);
}

/// The fix a finding gives.
fn fix_of<'r>(r: &'r serde_json::Value, code: &str) -> &'r str {
    finding(r, code)["fix"].as_str().unwrap_or_default()
}

#[test]
fn azure_v1_token_for_a_v2_issuer_names_the_manifest_setting() {
    let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    let (r, code) = diagnose(
        json!({"iss": format!("https://sts.windows.net/{tenant}/"), "ver": "1.0"}),
        &[
            "--iss",
            &format!("https://login.microsoftonline.com/{tenant}/v2.0"),
        ],
    );
    assert_finding(&r, "issuer-mismatch", "error");
    assert_detail(
        &r,
        "issuer-mismatch",
        &["Azure AD v1.0 access token", "the v2.0 issuer"],
    );
    assert!(fix_of(&r, "issuer-mismatch").contains("`accessTokenAcceptedVersion` to 2"));
    assert_exit(&r, code, 1);
}

#[test]
fn keycloak_reached_under_two_names() {
    let (r, _) = diagnose(
        json!({"iss": "http://localhost:8080/realms/demo"}),
        &["--iss", "http://keycloak:8080/realms/demo"],
    );
    assert_detail(&r, "issuer-mismatch", &["one IdP reached under two names"]);
    assert!(fix_of(&r, "issuer-mismatch").contains("KC_HOSTNAME"));
}

#[test]
fn keycloak_account_audience_and_azp() {
    let (r, _) = diagnose(
        json!({"iss": "https://sso.example.com/realms/demo", "aud": "account", "azp": "orders-api"}),
        &["--aud", "orders-api"],
    );
    assert_detail(
        &r,
        "audience-mismatch",
        &["the token's `azp`", "Keycloak's default audience"],
    );
    assert!(fix_of(&r, "audience-mismatch").contains("Audience mapper"));
}

#[test]
fn graph_token_sent_to_an_api() {
    let (r, _) = diagnose(
        json!({"aud": "00000003-0000-0000-c000-000000000000"}),
        &["--aud", "api://orders"],
    );
    assert_detail(&r, "audience-mismatch", &["is Microsoft Graph"]);
    assert!(!r.to_string().contains("looks like a client id"), "{r}");
}

#[test]
fn cognito_access_token_without_aud() {
    let (r, _) = diagnose(
        json!({"aud": null, "token_use": "access", "client_id": "3n4b5urk1ft4fl3mg5e62d9ado"}),
        &["--aud", "3n4b5urk1ft4fl3mg5e62d9ado"],
    );
    assert_finding(&r, "audience-missing", "error");
    assert_detail(
        &r,
        "audience-missing",
        &["Cognito access token", "(the expected value)"],
    );
    assert!(fix_of(&r, "audience-missing").contains("`client_id` instead of `aud`"));
}

#[test]
fn issuer_mismatch_when_absent() {
    let (r, code) = diagnose(json!({"iss": null}), &["--iss", ISS]);
    assert_finding(&r, "issuer-mismatch", "error");
    assert_detail(&r, "issuer-mismatch", &["no `iss` claim", ISS]);
    assert_exit(&r, code, 1);
}

#[test]
fn issuer_matching_one_of_several_passes() {
    let (r, code) = diagnose(
        json!({}),
        &["--iss", "https://other.example.com/", "--iss", ISS],
    );
    assert_absent(&r, "issuer-mismatch");
    assert_exit(&r, code, 0);
}

#[test]
fn issuer_trailing_slash_on_the_token() {
    // Token: "https://auth.example.com/", server: without the slash.
    let (r, code) = diagnose(json!({}), &["--iss", "https://auth.example.com"]);
    assert_finding(&r, "issuer-trailing-slash", "error");
    assert_detail(
        &r,
        "issuer-trailing-slash",
        &[
            "\"https://auth.example.com/\"",
            "\"https://auth.example.com\"",
            "the token has a trailing slash",
        ],
    );
    assert_absent(&r, "issuer-mismatch");
    assert_exit(&r, code, 1);
}

#[test]
fn issuer_trailing_slash_on_the_server() {
    let (r, code) = diagnose(json!({"iss": "https://auth.example.com"}), &["--iss", ISS]);
    assert_finding(&r, "issuer-trailing-slash", "error");
    assert_detail(
        &r,
        "issuer-trailing-slash",
        &["the server has a trailing slash"],
    );
    assert_absent(&r, "issuer-mismatch");
    assert_exit(&r, code, 1);
}

#[test]
fn audience_mismatch_string() {
    let (r, code) = diagnose(
        json!({"aud": "https://api.other.example.com"}),
        &["--aud", AUD],
    );
    assert_finding(&r, "audience-mismatch", "error");
    assert_detail(
        &r,
        "audience-mismatch",
        &["\"https://api.other.example.com\"", AUD],
    );
    assert_exit(&r, code, 1);
}

#[test]
fn audience_mismatch_array() {
    let (r, code) = diagnose(
        json!({"aud": ["https://billing.example.com", "my-spa-client"]}),
        &["--aud", AUD],
    );
    assert_finding(&r, "audience-mismatch", "error");
    assert_detail(
        &r,
        "audience-mismatch",
        &["[\"https://billing.example.com\", \"my-spa-client\"]", AUD],
    );
    assert_exit(&r, code, 1);
}

#[test]
fn audience_mismatch_client_id_hint() {
    let (r, _) = diagnose(json!({"aud": "my-spa-client"}), &["--aud", AUD]);
    assert_detail(&r, "audience-mismatch", &["client id"]);
}

#[test]
fn audience_match_in_array_passes() {
    let (r, code) = diagnose(
        json!({"aud": ["https://billing.example.com", AUD]}),
        &["--aud", AUD],
    );
    assert_absent(&r, "audience-mismatch");
    assert_absent(&r, "audience-missing");
    assert_exit(&r, code, 0);
}

/// node jsonwebtoken and fast-jwt take a RegExp audience, written `/…/`.
#[test]
fn audience_as_a_regular_expression() {
    let (r, code) = diagnose(
        json!({"aud": "https://api.example.com/v2"}),
        &["--aud", r"/^https:\/\/api\.example\.com/"],
    );
    assert_absent(&r, "audience-mismatch");
    assert_exit(&r, code, 0);
    let (r, _) = diagnose(
        json!({"aud": "https://api.example.com/v2"}),
        &["--aud", "/^api$/"],
    );
    assert_finding(&r, "audience-mismatch", "error");
    // A pattern with a typo is a usage error, not an audience to compare;
    // a path-like audience is still plain text.
    let t = hs256(valid_claims());
    let bad = run(&["diagnose", &t, "--aud", "/[/"], None);
    assert_eq!(bad.code, 2, "{}", bad.all());
    assert!(
        bad.stderr.contains("invalid --aud '/[/'")
            && bad.stderr.contains("unclosed character class"),
        "{}",
        bad.stderr
    );
    let (r, _) = diagnose(json!({"aud": "/api"}), &["--aud", "/api"]);
    assert_absent(&r, "audience-mismatch");
}

#[test]
fn audience_missing() {
    let (r, code) = diagnose(json!({"aud": null}), &["--aud", AUD]);
    assert_finding(&r, "audience-missing", "error");
    assert_detail(&r, "audience-missing", &["no `aud` claim", AUD]);
    assert_absent(&r, "audience-mismatch");
    assert_exit(&r, code, 1);
}

#[test]
fn missing_claim() {
    let (r, code) = diagnose(json!({}), &["--require", "tenant_id", "--require", "sub"]);
    assert_finding(&r, "missing-claim", "error");
    assert_detail(&r, "missing-claim", &["`tenant_id`", "`iss`", "`scope`"]);
    assert_eq!(
        codes(&r).iter().filter(|c| *c == "missing-claim").count(),
        1,
        "sub is present"
    );
    assert_exit(&r, code, 1);
}

#[test]
fn scope_missing_from_scope_string() {
    let (r, code) = diagnose(
        json!({"scope": "read:orders profile"}),
        &["--scope", "write:orders", "--scope", "read:orders"],
    );
    assert_finding(&r, "scope-missing", "error");
    assert_detail(
        &r,
        "scope-missing",
        &["`write:orders`", "`read:orders`, `profile`"],
    );
    assert_eq!(
        codes(&r).iter().filter(|c| *c == "scope-missing").count(),
        1
    );
    assert_exit(&r, code, 1);
}

#[test]
fn scope_missing_when_no_scope_claim() {
    let (r, code) = diagnose(json!({"scope": null}), &["--scope", "read:orders"]);
    assert_finding(&r, "scope-missing", "error");
    assert_detail(&r, "scope-missing", &["grants no scopes"]);
    assert_exit(&r, code, 1);
}

#[test]
fn scope_missing_from_scp_array() {
    let (r, code) = diagnose(
        json!({"scope": null, "scp": ["Orders.Read"]}),
        &["--scope", "Orders.Write"],
    );
    assert_finding(&r, "scope-missing", "error");
    assert_detail(&r, "scope-missing", &["`Orders.Write`", "`Orders.Read`"]);
    assert_exit(&r, code, 1);
}

#[test]
fn scope_granted_by_scp_array_passes() {
    let (r, code) = diagnose(
        json!({"scope": null, "scp": ["Orders.Read", "Orders.Write"]}),
        &["--scope", "Orders.Write"],
    );
    assert_absent(&r, "scope-missing");
    assert_exit(&r, code, 0);
}

#[test]
fn scope_in_permissions_is_pointed_out() {
    let (r, _) = diagnose(
        json!({"permissions": ["write:orders"]}),
        &["--scope", "write:orders"],
    );
    assert_detail(&r, "scope-missing", &["`permissions`"]);
}

#[test]
fn claim_mismatch() {
    let (r, code) = diagnose(json!({"org_id": "org_456"}), &["--claim", "org_id=org_123"]);
    assert_finding(&r, "claim-mismatch", "error");
    assert_detail(
        &r,
        "claim-mismatch",
        &["`org_id`", "\"org_123\"", "\"org_456\""],
    );
    assert_exit(&r, code, 1);
}

#[test]
fn claim_mismatch_on_the_kind_of_token_says_which_token_to_send() {
    for (claims, flag, fix) in [
        (json!({"fresh": false}), "fresh=true", "Log in again"),
        (
            json!({"type": "refresh"}),
            "type=access",
            "Send the access token",
        ),
        (
            json!({"token_type": "access"}),
            "token_type=refresh",
            "Send the refresh token",
        ),
    ] {
        let (r, _) = diagnose(claims, &["--claim", flag]);
        let f = finding(&r, "claim-mismatch");
        assert!(
            f["fix"].as_str().is_some_and(|s| s.starts_with(fix)),
            "{f:#}"
        );
    }
    // Another claim keeps the tenant's fix.
    let (r, _) = diagnose(json!({"org_id": "org_456"}), &["--claim", "org_id=org_123"]);
    let fix = finding(&r, "claim-mismatch")["fix"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(fix.contains("tenant"), "{fix}");
}

#[test]
fn claim_mismatch_when_claim_absent() {
    let (r, code) = diagnose(json!({}), &["--claim", "org_id=org_123"]);
    assert_finding(&r, "claim-mismatch", "error");
    assert_detail(&r, "claim-mismatch", &["no `org_id` claim"]);
    assert_exit(&r, code, 1);
}

#[test]
fn claim_mismatch_dotted_path_into_array() {
    let (r, code) = diagnose(
        json!({"realm_access": {"roles": ["user", "auditor"]}}),
        &["--claim", "realm_access.roles=admin"],
    );
    assert_finding(&r, "claim-mismatch", "error");
    assert_detail(
        &r,
        "claim-mismatch",
        &["`realm_access.roles`", "\"admin\"", "auditor"],
    );
    assert_exit(&r, code, 1);
}

#[test]
fn claim_dotted_path_array_membership_passes() {
    let (r, code) = diagnose(
        json!({"realm_access": {"roles": ["user", "admin"]}, "tenant": 42, "beta": true}),
        &[
            "--claim",
            "realm_access.roles=admin",
            "--claim",
            "tenant=42",
            "--claim",
            "beta=true",
        ],
    );
    assert_absent(&r, "claim-mismatch");
    assert_exit(&r, code, 0);
}

#[test]
fn pii_in_claims() {
    let email = "alice.liddell@example.org";
    let phone = "+14155550123";
    let (r, code) = diagnose(
        json!({"email": email, "phone_number": phone, "name": "Alice Liddell", "contact": "bob.w@example.net"}),
        &[],
    );
    assert_finding(&r, "pii-in-claims", "warning");
    assert_detail(
        &r,
        "pii-in-claims",
        &[
            "`email`",
            "`phone_number`",
            "`name`",
            "`contact` (looks like an email address)",
        ],
    );
    let d = detail(&r, "pii-in-claims");
    for v in [email, phone, "Alice Liddell", "bob.w@example.net"] {
        assert!(!d.contains(v), "value {v} in detail: {d}");
    }
    assert_exit(&r, code, 0);
}

#[test]
fn secret_in_claims() {
    let aws_key = format!("AKIA{}", "JWTAITESTKEY0001");
    let (r, code) = diagnose(
        json!({"password": "correct-horse-battery", "note": aws_key}),
        &[],
    );
    assert_finding(&r, "secret-in-claims", "error");
    assert_detail(
        &r,
        "secret-in-claims",
        &["`password`", "`note` (looks like an API key)"],
    );
    let all = r.to_string();
    for v in ["correct-horse-battery", aws_key.as_str()] {
        assert!(!all.contains(v), "secret {v} in the report: {all}");
    }
    assert_exit(&r, code, 1);
}

#[test]
fn secret_in_claims_card_number() {
    let card = luhn_card("400000000000000");
    let (r, code) = diagnose(json!({"billing": {"pan": card}}), &[]);
    assert_finding(&r, "secret-in-claims", "error");
    assert_detail(
        &r,
        "secret-in-claims",
        &["`billing` (looks like a payment card number)"],
    );
    assert!(!r.to_string().contains(&card), "card number in the report");
    assert_exit(&r, code, 1);
}

/// A card number as a JSON number, a private key nested in a debug object,
/// a secret-named member deeper down: secrets; `has_password: true` is a
/// flag, not a password.
#[test]
fn secret_in_claims_whatever_its_type_or_depth_and_not_for_a_flag() {
    let card: u64 = luhn_card("400000000000000").parse().expect("digits");
    let pem = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n";
    let (r, code) = diagnose(
        json!({"payment": {"pan": card}, "debug": {"signer": pem}, "ctx": {"db": {"password": "hunter2-hunter2"}}}),
        &[],
    );
    assert_detail(
        &r,
        "secret-in-claims",
        &[
            "`payment` (looks like a payment card number)",
            "`debug` (looks like a private key)",
            "`ctx.db.password`",
        ],
    );
    let all = r.to_string();
    for v in [
        card.to_string().as_str(),
        "MIGHAgEAMBMGByqGSM49",
        "hunter2-hunter2",
    ] {
        assert!(!all.contains(v), "{v} in the report: {all}");
    }
    assert_exit(&r, code, 1);
    let (r, code) = diagnose(
        json!({"has_password": true, "mfa": true, "plan": "Basic Professional", "api": "https://api.example.com/v1?key=tenant42"}),
        &[],
    );
    assert!(
        r.to_string().contains("tenant42"),
        "an ordinary URL is not masked: {r}"
    );
    assert!(!r.to_string().contains("secret-in-claims"), "{r}");
    assert_exit(&r, code, 0);
}

#[test]
fn claim_string_is_compared_whole_not_word_by_word() {
    let claims = json!({"org_name": "Acme Corp"});
    // The whole value, space included, is a match.
    let (r, code) = diagnose(claims.clone(), &["--claim", "org_name=Acme Corp"]);
    assert_absent(&r, "claim-mismatch");
    assert_exit(&r, code, 0);
    // One word of it is not.
    let (r, code) = diagnose(claims, &["--claim", "org_name=Acme"]);
    assert_finding(&r, "claim-mismatch", "error");
    assert_detail(
        &r,
        "claim-mismatch",
        &[
            "`org_name`",
            "\"Acme\"",
            "\"Acme Corp\"",
            "compared as a whole string",
        ],
    );
    assert_exit(&r, code, 1);
}

#[test]
fn claim_scope_word_points_at_the_scope_flag() {
    let (r, _) = diagnose(json!({}), &["--claim", "scope=read:orders"]);
    assert_absent(&r, "claim-mismatch");
    let (r, _) = diagnose(
        json!({"scope": "read:orders write:orders"}),
        &["--claim", "scope=read:orders"],
    );
    assert_detail(&r, "claim-mismatch", &["`--scope read:orders`"]);
}

#[test]
fn claim_numbers_booleans_and_arrays() {
    let claims = json!({
        "tenant": 42,
        "big": 9007199254740993u64,
        "beta": false,
        "groups": ["Acme Corp", "staff"],
        "org": "42",
    });
    // Numbers compare as numbers, booleans as true/false, arrays by member.
    let (r, code) = diagnose(
        claims.clone(),
        &[
            "--claim",
            "tenant=42.0",
            "--claim",
            "big=9007199254740993",
            "--claim",
            "beta=false",
            "--claim",
            "groups=Acme Corp",
            "--claim",
            "groups=[\"Acme Corp\",\"staff\"]",
            "--claim",
            "org=42",
        ],
    );
    assert_absent(&r, "claim-mismatch");
    assert_exit(&r, code, 0);
    for flag in [
        "tenant=4",
        "big=9007199254740992",
        "beta=0",
        "groups=Acme",
        "org=42.0",
    ] {
        let (r, code) = diagnose(claims.clone(), &["--claim", flag]);
        assert_finding(&r, "claim-mismatch", "error");
        let name = flag.split('=').next().unwrap_or_default();
        assert_detail(&r, "claim-mismatch", &[&format!("`{name}`")]);
        assert_exit(&r, code, 1);
    }
}

#[test]
fn require_null_claim_counts_as_missing() {
    let mut claims = claims_with(json!({}));
    claims["tenant"] = serde_json::Value::Null;
    let (r, code) = report(&[&hs256(claims), "--require", "tenant"]);
    assert_finding(&r, "missing-claim", "error");
    assert_detail(&r, "missing-claim", &["`tenant`: null", "counts as absent"]);
    assert_exit(&r, code, 1);
}

#[test]
fn claim_names_holding_dots_are_reached() {
    let claims = json!({
        "kubernetes.io": {"namespace": "payments", "serviceaccount": {"name": "builder"}},
        "https://example.com/roles": ["admin"],
    });
    let (r, code) = diagnose(
        claims.clone(),
        &[
            "--claim",
            "kubernetes.io.namespace=payments",
            "--claim",
            "kubernetes.io.serviceaccount.name=builder",
            "--claim",
            "https://example.com/roles=admin",
            "--require",
            "kubernetes.io.namespace",
        ],
    );
    assert_absent(&r, "claim-mismatch");
    assert_absent(&r, "missing-claim");
    assert_exit(&r, code, 0);
    let (r, _) = diagnose(claims, &["--claim", "kubernetes.io.namespace=billing"]);
    assert_detail(
        &r,
        "claim-mismatch",
        &["`kubernetes.io.namespace`", "\"billing\"", "\"payments\""],
    );
}

#[test]
fn numeric_audience_is_the_wrong_type_even_when_its_text_matches() {
    let (r, code) = diagnose(json!({"aud": 12345}), &["--aud", "12345"]);
    assert_finding(&r, "audience-mismatch", "error");
    assert_detail(
        &r,
        "audience-mismatch",
        &["`aud` is 12345, a JSON number", "RFC 7519", "type is wrong"],
    );
    assert!(fix_of(&r, "audience-mismatch").contains("\"aud\": \"12345\""));
    assert_exit(&r, code, 1);
    // A number inside the array, with no string member matching.
    let (r, code) = diagnose(
        json!({"aud": ["https://other.example", 7]}),
        &["--aud", "7"],
    );
    assert_detail(&r, "audience-mismatch", &["which holds 7, a JSON number"]);
    assert_exit(&r, code, 1);
    // A string member that matches passes node jsonwebtoken and jose.
    let (r, _) = diagnose(json!({"aud": [AUD, 7]}), &["--aud", AUD]);
    assert!(!codes(&r).contains(&"audience-mismatch".to_string()), "{r}");
}

#[test]
fn whitespace_in_an_expected_value_is_named() {
    let (r, code) = diagnose(json!({}), &["--iss", &format!("{ISS} ")]);
    assert_finding(&r, "issuer-mismatch", "error");
    assert_detail(
        &r,
        "issuer-mismatch",
        &[&format!("\"{ISS} \""), "ends with \" \" (a space)"],
    );
    assert!(!detail(&r, "issuer-mismatch").contains("other path"));
    assert!(fix_of(&r, "issuer-mismatch").contains("Trim the configured issuer"));
    assert_exit(&r, code, 1);

    let (r, code) = diagnose(json!({}), &["--aud", &format!("{AUD}\n")]);
    assert_finding(&r, "audience-mismatch", "error");
    assert_detail(
        &r,
        "audience-mismatch",
        &[&format!("\"{AUD}\\n\""), "ends with \"\\n\" (a newline)"],
    );
    assert!(fix_of(&r, "audience-mismatch").contains("Trim the configured audience"));
    assert_exit(&r, code, 1);

    // Another issuer, read with a newline: both are said.
    let (r, _) = diagnose(
        json!({"iss": "https://auth.staging.example.com/"}),
        &["--iss", &format!("{ISS}\n")],
    );
    assert_detail(
        &r,
        "issuer-mismatch",
        &["different host", "ends with \"\\n\" (a newline)"],
    );
}

#[test]
fn default_port_written_out_is_the_same_origin_but_another_string() {
    let (r, code) = diagnose(json!({}), &["--iss", "https://auth.example.com:443/"]);
    assert_finding(&r, "issuer-mismatch", "error");
    assert_detail(
        &r,
        "issuer-mismatch",
        &["Same origin", "default port 443", "exact strings"],
    );
    let d = detail(&r, "issuer-mismatch");
    assert!(!d.contains("another environment"), "{d}");
    assert!(fix_of(&r, "issuer-mismatch").contains(&format!("\"{ISS}\" exactly")));
    assert_exit(&r, code, 1);

    let (r, _) = diagnose(
        json!({"aud": "https://api.example.com:443"}),
        &["--aud", AUD],
    );
    assert_detail(
        &r,
        "audience-mismatch",
        &["Same origin", "default port 443"],
    );
}

#[test]
fn graph_token_issuer_defers_to_its_audience() {
    let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    let (r, code) = diagnose(
        json!({
            "aud": "00000003-0000-0000-c000-000000000000",
            "iss": format!("https://sts.windows.net/{tenant}/"),
            "ver": "1.0",
            "tid": tenant,
        }),
        &[
            "--iss",
            &format!("https://login.microsoftonline.com/{tenant}/v2.0"),
            "--aud",
            "6e74172b-be56-4843-9ff4-e66a39bb12e3",
        ],
    );
    assert_finding(&r, "issuer-mismatch", "error");
    assert_detail(
        &r,
        "issuer-mismatch",
        &[
            "\"00000003-0000-0000-c000-000000000000\" is Microsoft Graph",
            "(`ver` \"1.0\")",
        ],
    );
    let fix = fix_of(&r, "issuer-mismatch");
    assert!(!fix.contains("accessTokenAcceptedVersion"), "{fix}");
    assert!(fix.contains("api://<api-app-id>/.default"), "{fix}");
    assert_exit(&r, code, 1);
}

#[test]
fn azure_app_only_permission_is_in_roles() {
    let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    let app_only = json!({
        "iss": format!("https://login.microsoftonline.com/{tenant}/v2.0"),
        "tid": tenant,
        "idtyp": "app",
        "roles": ["Orders.Read.All"],
        "scope": null,
    });
    let (r, code) = diagnose(app_only.clone(), &["--scope", "Orders.Read.All"]);
    assert_finding(&r, "scope-missing", "error");
    assert_detail(
        &r,
        "scope-missing",
        &[
            "app-only token (`idtyp` \"app\"",
            "`roles` \"Orders.Read.All\"",
            "is granted, in `roles`",
        ],
    );
    let fix = fix_of(&r, "scope-missing");
    assert!(fix.contains("from `roles` for app-only tokens"), "{fix}");
    assert!(!fix.starts_with("Request the scope"), "{fix}");
    assert_exit(&r, code, 1);
    // A permission the app was not granted: grant it as an application permission.
    let (r, _) = diagnose(app_only, &["--scope", "Orders.Write"]);
    assert_detail(&r, "scope-missing", &["without `Orders.Write`"]);
    assert!(fix_of(&r, "scope-missing").contains("application permission"));
}

#[test]
fn id_token_checked_by_a_verifier_of_id_tokens_is_not_misused() {
    let google = json!({
        "iss": "https://accounts.google.com",
        "aud": "1234567890-android.apps.googleusercontent.com",
        "azp": "1234567890-web.apps.googleusercontent.com",
        "at_hash": "HK6E_P6Dh8Y93mRNtsDB1Q",
    });
    // The backend verifies Google ID tokens for its own client id.
    let (r, code) = diagnose(
        google.clone(),
        &["--aud", "1234567890-android.apps.googleusercontent.com"],
    );
    assert_absent(&r, "id-token-as-access-token");
    assert_exit(&r, code, 0);
    // An API that expects its own audience still gets told.
    let (r, code) = diagnose(google, &["--aud", AUD]);
    assert_finding(&r, "id-token-as-access-token", "error");
    assert_exit(&r, code, 1);
    // aws-jwt-verify with tokenUse "id".
    let cognito = json!({"aud": "4k2h8a1b2c3d4e5f6g7h8i9j0k", "token_use": "id"});
    let (r, code) = diagnose(cognito, &["--claim", "token_use=id"]);
    assert_absent(&r, "id-token-as-access-token");
    assert_exit(&r, code, 0);
    // An Azure AD API expects its client id, which an ID token of the same
    // registration carries too: still an ID token sent to an API.
    let app = "6e74172b-be56-4843-9ff4-e66a39bb12e3";
    let azure_id = json!({
        "iss": "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
        "aud": app,
        "nonce": "n-0S6_WzA2Mj",
    });
    let (r, code) = diagnose(azure_id, &["--aud", app]);
    assert_finding(&r, "id-token-as-access-token", "error");
    assert_exit(&r, code, 1);
}

#[test]
fn keycloak_refresh_token_is_named_and_its_audience_not_recommended() {
    let realm = "https://sso.example.com/realms/acme";
    let (r, code) = diagnose(
        json!({"iss": realm, "aud": realm, "typ": "Refresh", "azp": "frontend", "scope": "openid"}),
        &["--iss", realm, "--aud", "orders-api"],
    );
    assert_finding(&r, "audience-mismatch", "error");
    assert_detail(
        &r,
        "audience-mismatch",
        &[
            "Keycloak refresh token of realm \"acme\"",
            "`typ` \"Refresh\"",
            realm,
        ],
    );
    let fix = fix_of(&r, "audience-mismatch");
    assert!(fix.contains("Send the `access_token`"), "{fix}");
    assert!(
        !fix.contains("add the token's audience to the verifier"),
        "{fix}"
    );
    assert_exit(&r, code, 1);
}

#[test]
fn firebase_custom_token_is_to_be_exchanged() {
    let sa = "firebase-adminsdk-abcde@my-proj-123.iam.gserviceaccount.com";
    let (r, code) = report(&[
        &hs256(json!({
            "iss": sa,
            "sub": sa,
            "aud": "https://identitytoolkit.googleapis.com/google.identity.identitytoolkit.v1.IdentityToolkit",
            "uid": "user-42",
            "iat": NOW - 60,
            "exp": NOW + 3600,
        })),
        "--iss",
        "https://securetoken.google.com/my-proj-123",
        "--aud",
        "my-proj-123",
        "--reveal",
    ]);
    for code in ["issuer-mismatch", "audience-mismatch"] {
        assert_detail(
            &r,
            code,
            &["Firebase custom token", "`createCustomToken()`"],
        );
        assert!(fix_of(&r, code).contains("signInWithCustomToken"), "{code}");
    }
    assert_exit(&r, code, 1);
}

#[test]
fn supabase_anon_key_is_not_a_session() {
    let (r, code) = report(&[
        &hs256(json!({
            "iss": "supabase",
            "ref": "abcdefghijklmnop",
            "role": "anon",
            "iat": NOW - 86_400,
            "exp": NOW + 10 * 365 * 86_400,
        })),
        "--iss",
        "https://abcdefghijklmnop.supabase.co/auth/v1",
        "--aud",
        "authenticated",
    ]);
    assert_finding(&r, "audience-missing", "error");
    for code in ["issuer-mismatch", "audience-missing", "lifetime-too-long"] {
        assert_detail(
            &r,
            code,
            &[
                "Supabase anon API key of project \"abcdefghijklmnop\"",
                "`role` \"anon\"",
            ],
        );
        assert!(fix_of(&r, code).contains("session.access_token"), "{code}");
    }
    assert_absent(&r, "service-role-key");
    assert_exit(&r, code, 1);
}

#[test]
fn supabase_service_role_key_is_warned_about() {
    let (r, code) = report(&[&hs256(json!({
        "iss": "supabase",
        "ref": "abcdefghijklmnop",
        "role": "service_role",
        "iat": NOW - 60,
        "exp": NOW + 3600,
    }))]);
    assert_finding(&r, "service-role-key", "warning");
    assert_detail(
        &r,
        "service-role-key",
        &[
            "\"service_role\"",
            "project \"abcdefghijklmnop\"",
            "Row Level Security",
        ],
    );
    assert!(fix_of(&r, "service-role-key").contains("rotate"));
    assert_exit(&r, code, 0);
    // A user's session token is no service key.
    let (r, _) = diagnose(
        json!({"iss": "https://abcdefghijklmnop.supabase.co/auth/v1", "role": "authenticated"}),
        &[],
    );
    assert_absent(&r, "service-role-key");
}

#[test]
fn legacy_kubernetes_service_account_token() {
    let (r, code) = report(&[
        &hs256(json!({
            "iss": "kubernetes/serviceaccount",
            "kubernetes.io/serviceaccount/namespace": "payments",
            "kubernetes.io/serviceaccount/secret.name": "builder-token-x7k2p",
            "kubernetes.io/serviceaccount/service-account.name": "builder",
            "kubernetes.io/serviceaccount/service-account.uid": "5f4c2e1a-0000-1111-2222-333344445555",
            "sub": "system:serviceaccount:payments:builder",
        })),
        "--iss",
        "https://kubernetes.default.svc.cluster.local",
        "--aud",
        "vault",
        "--reveal",
    ]);
    for code in ["issuer-mismatch", "audience-missing", "exp-missing"] {
        assert_detail(
            &r,
            code,
            &[
                "legacy secret-based Kubernetes service-account token",
                "\"builder-token-x7k2p\"",
            ],
        );
        assert!(
            fix_of(&r, code).contains("kubectl create token builder --audience vault"),
            "{code}: {}",
            fix_of(&r, code)
        );
    }
    // Service-account and secret names are no personal data.
    assert_absent(&r, "pii-in-claims");
    assert_exit(&r, code, 1);
}

/// Hints that must not fire: a host differing only in case has no port to
/// blame, and a timestamp fix for `iat` is "now", not an hour ahead.
#[test]
fn near_miss_hints_only_where_their_evidence_is() {
    let (r, _) = diagnose(
        json!({"iss": "https://Auth.example.com/"}),
        &["--iss", "https://auth.example.com/"],
    );
    assert!(!detail(&r, "issuer-mismatch").contains("port"), "{r}");
    let (r, _) = diagnose(json!({"iat": 1e30}), &[]);
    let fix = fix_of(&r, "timestamp-not-numeric");
    assert!(fix.contains("for now"), "{fix}");
    assert!(!fix.contains("one hour after now"), "{fix}");
}

/// Profile claims in an ID token are there by design; the fix is about
/// where the ID token goes, not about taking them out.
#[test]
fn personal_data_in_an_id_token_gets_the_id_token_fix() {
    let (r, _) = diagnose(json!({"nonce": "n-0S6", "email": "alice@example.org"}), &[]);
    assert_detail(&r, "pii-in-claims", &["This is an ID token (`nonce`)"]);
    assert!(fix_of(&r, "pii-in-claims").starts_with("Keep the ID token with the client"));
    let (r, _) = diagnose(json!({"email": "alice@example.org"}), &[]);
    assert!(fix_of(&r, "pii-in-claims").contains("access tokens"));
}

/// A JSON string literal as the expected value means its content.
#[test]
fn a_quoted_expected_claim_value_is_its_string() {
    let (r, code) = diagnose(
        json!({"tenant": "acme", "org": {"id": "42"}}),
        &["--claim", "tenant=\"acme\"", "--claim", "org.id=\"42\""],
    );
    assert_absent(&r, "claim-mismatch");
    assert_exit(&r, code, 0);
}
