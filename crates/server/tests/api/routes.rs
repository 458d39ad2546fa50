//! Every route and every error status.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use qualify_server::config::{Challenger, Token};
use qualify_server::{AppState, Config};
use serde_json::{Value, json};

use crate::common::*;

#[tokio::test]
async fn score_answers_propensity_grade_rules_and_warnings() {
    let f = fixture();
    let (router, state) = open(f.config.clone());
    let mut lead = sample_leads(1).remove(0);
    lead["shoe_size"] = json!(44);
    // One moment for both requests: the record's timestamps age with the clock.
    let at = "as_of=2026-06-30T00:00:00Z";
    let (status, headers, body) =
        send_json(&router, post(&format!("/v1/score?{at}"), lead.to_string())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(headers.contains_key("x-request-id"));
    assert_eq!(body["id"], lead["id"]);
    let p = body["propensity"].as_f64().expect("propensity");
    assert!((0.0..=1.0).contains(&p));
    let grade = f.config.grades.grade(p);
    assert_eq!(body["grade"], grade);
    assert_eq!(body["model"]["name"], "default");
    assert!(
        body["model"]["schema_hash"]
            .as_str()
            .is_some_and(|h| h.len() == 64)
    );
    for key in [
        "score",
        "fit_score",
        "engagement_score",
        "stage",
        "gates_failed",
        "reasons",
        "frameworks",
        "route",
    ] {
        assert!(
            body["rules"].get(key).is_some(),
            "rules.{key} missing: {body}"
        );
    }
    let warnings = body["warnings"].as_array().expect("warnings");
    assert!(
        warnings
            .iter()
            .any(|w| w["code"] == "unknown_field" && w["field"] == "shoe_size"),
        "{body}"
    );
    assert!(body.get("shadow").is_none());

    // The explanation explains this propensity: its raw score, calibrated, is the propensity
    // (tract's f32 logit vs the explanation's f64 sum), and reasons come sorted by size.
    let explanation = &body["explanation"];
    let raw = explanation["raw_score"].as_f64().expect("raw score");
    let calibrated = state
        .registry
        .current()
        .champion()
        .model
        .manifest()
        .calibrator
        .apply(raw);
    assert!((calibrated - p).abs() < 1e-5, "{calibrated} vs {p}");
    let ups: Vec<f64> = explanation["top_positive"]
        .as_array()
        .expect("top_positive")
        .iter()
        .map(|r| r["contribution"].as_f64().expect("contribution"))
        .collect();
    assert!(!ups.is_empty() && ups.len() <= 3, "{explanation}");
    assert!(
        ups.windows(2).all(|w| w[0] >= w[1]) && ups[0] > 0.0,
        "{explanation}"
    );
    assert!(
        explanation["top_negative"][0]["column"].is_string(),
        "{explanation}"
    );
    let (_, _, plain) = send_json(
        &router,
        post(&format!("/v1/score?explain=false&{at}"), lead.to_string()),
    )
    .await;
    assert!(plain.get("explanation").is_none());
    assert_eq!(plain["propensity"], body["propensity"]);
}

#[tokio::test]
async fn a_sparse_lead_is_scored_with_imputation_warnings_and_unseen_levels() {
    let f = fixture();
    let (router, _) = open(f.config);
    let (status, _, body) = send_json(
        &router,
        post(
            "/v1/score",
            r#"{"id": "x", "industry": "underwater basket weaving"}"#,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let codes: Vec<&str> = body["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .filter_map(|w| w["code"].as_str())
        .collect();
    assert!(codes.contains(&"imputed"), "{body}");
    assert!(codes.contains(&"unseen_category"), "{body}");
}

#[tokio::test]
async fn client_mistakes_get_the_error_shape_and_the_right_status() {
    let f = fixture();
    let config = Config {
        max_body_bytes: 4096,
        max_batch: 3,
        ..f.config.clone()
    };
    let (router, _) = open(config);
    let cases: Vec<(Request<Body>, StatusCode, &str, Option<&str>)> = vec![
        (
            post("/v1/score", "{\"id\": "),
            StatusCode::BAD_REQUEST,
            "malformed_json",
            None,
        ),
        (
            post("/v1/score", r#"{"employees": "many"}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("employees"),
        ),
        (
            post(
                "/v1/score",
                r#"{"activities": [{"type": "demo_request", "at": "soon"}]}"#,
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("activities[0].at"),
        ),
        (
            post("/v1/score", r#"{"annual_revenue": 1e300}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("annual_revenue"),
        ),
        (
            post("/v1/score", format!("{{\"id\": \"{}\"}}", "x".repeat(5000))),
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            None,
        ),
        (
            post("/v1/score/batch", "[{}, {}, {}, {}]"),
            StatusCode::PAYLOAD_TOO_LARGE,
            "batch_too_large",
            None,
        ),
        (
            post("/v1/score/batch", r#"[{}, {"employees": -1}]"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            Some("[1].employees"),
        ),
        (
            post("/v1/score?model=nope", "{}"),
            StatusCode::NOT_FOUND,
            "unknown_model",
            Some("model"),
        ),
        (
            post("/v1/score?as_of=yesterday", "{}"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_query",
            None,
        ),
        (
            Request::builder()
                .method(Method::POST)
                .uri("/v1/score")
                .header(header::CONTENT_TYPE, "text/csv")
                .body(Body::from("id\n1"))
                .expect("request"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            None,
        ),
        (get("/v2/nothing"), StatusCode::NOT_FOUND, "not_found", None),
        (
            get("/v1/score"),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            None,
        ),
        (
            get("/v1/models/nope"),
            StatusCode::NOT_FOUND,
            "unknown_model",
            None,
        ),
        // Admin routes are off without an admin token.
        (
            post("/v1/admin/reload", ""),
            StatusCode::FORBIDDEN,
            "admin_disabled",
            None,
        ),
    ];
    for (request, want, code, field) in cases {
        let what = format!("{} {}", request.method(), request.uri());
        let (status, _, body) = send_json(&router, request).await;
        assert_error(status, &body, want, code);
        assert_eq!(body["error"]["field"].as_str(), field, "{what}: {body}");
    }
    // Activity types are the CRM's own, free text (docs/history.md): a type the model does
    // not read is scored, not refused.
    let (status, _, body) = send_json(
        &router,
        post(
            "/v1/score",
            r#"{"activities": [{"type": "telepathy", "at": "2026-01-01T00:00:00Z"}]}"#,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn bearer_tokens_guard_scoring_and_admin_routes() {
    let f = fixture();
    let (router, _) = open(Config {
        api_token: Some(Token::new("score-secret")),
        admin_token: Some(Token::new("admin-secret")),
        ..f.config
    });
    let (status, headers, body) = send_json(&router, post("/v1/score", "{}")).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(
        headers.get(header::WWW_AUTHENTICATE).map(|v| v.as_bytes()),
        Some(&b"Bearer"[..])
    );
    for wrong in [
        "Bearer score-secreT",
        "Bearer score-secret2",
        "Basic score-secret",
        "score-secret",
    ] {
        let (status, _, body) =
            send_json(&router, with_token(post("/v1/score", "{}"), wrong)).await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
    }
    // The scheme is case-insensitive (RFC 9110).
    for right in [
        "Bearer score-secret",
        "bearer score-secret",
        "BEARER  score-secret ",
    ] {
        let (status, _, body) =
            send_json(&router, with_token(post("/v1/score", "{}"), right)).await;
        assert_eq!(status, StatusCode::OK, "{right}: {body}");
    }
    // The scoring token does not open admin routes, and vice versa.
    let (status, _, body) = send_json(
        &router,
        with_token(post("/v1/admin/reload", ""), "Bearer score-secret"),
    )
    .await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
    let (status, _, body) = send_json(
        &router,
        with_token(post("/v1/score", "{}"), "Bearer admin-secret"),
    )
    .await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
    let (status, _, body) = send_json(
        &router,
        with_token(post("/v1/admin/reload", ""), "bearer admin-secret"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Read-only routes stay open, and say nothing about where files live.
    assert_eq!(send(&router, get("/v1/models")).await.0, StatusCode::OK);
    let (_, _, detail) = send_json(&router, get("/v1/models/default")).await;
    let (_, _, info) = send_json(&router, get("/info")).await;
    let tmp = f.tmp.path().to_string_lossy().into_owned();
    let repo = repo()
        .canonicalize()
        .expect("repo")
        .to_string_lossy()
        .into_owned();
    for body in [detail.to_string(), info.to_string()] {
        assert!(
            !body.contains(&tmp) && !body.contains(&repo),
            "a path leaks: {body}"
        );
    }
}

#[tokio::test]
async fn batch_answers_in_input_order_as_json_and_ndjson() {
    let f = fixture();
    let (router, _) = open(f.config);
    let leads = sample_leads(5);
    let as_of = "?as_of=2026-06-30T00:00:00Z";
    let (status, _, array) = send_json(
        &router,
        post(
            &format!("/v1/score/batch{as_of}"),
            Value::Array(leads.clone()).to_string(),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{array}");
    let array = array.as_array().expect("array").clone();
    assert_eq!(array.len(), 5);
    for (lead, result) in leads.iter().zip(&array) {
        assert_eq!(result["id"], lead["id"]);
        // The same lead alone gives the same answer.
        let (_, _, single) = send_json(
            &router,
            post(&format!("/v1/score{as_of}"), lead.to_string()),
        )
        .await;
        assert_eq!(&single, result);
    }

    let mut ndjson = String::new();
    for (i, lead) in leads.iter().enumerate() {
        if i == 2 {
            ndjson.push_str("{\"employees\": \"lots\"}\n\n");
        }
        ndjson.push_str(&lead.to_string());
        ndjson.push('\n');
    }
    ndjson.pop(); // the last line may lack its newline
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/v1/score/batch{as_of}"))
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .body(Body::from(ndjson))
        .expect("request");
    let (status, headers, body) = send(&router, request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/x-ndjson");
    let lines: Vec<Value> = String::from_utf8(body.to_vec())
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 6);
    assert_eq!(lines[2]["line"], 3);
    assert_eq!(lines[2]["error"]["code"], "invalid_field");
    assert_eq!(lines[2]["error"]["field"], "employees");
    let ok: Vec<&Value> = lines.iter().filter(|l| l.get("error").is_none()).collect();
    assert_eq!(ok.len(), 5);
    for (result, expected) in ok.iter().zip(&array) {
        assert_eq!(*result, expected);
    }
}

#[tokio::test]
async fn models_health_readiness_info_metrics_and_openapi() {
    let f = fixture();
    let (router, _) = open(f.config);
    let (status, _, list) = send_json(&router, get("/v1/models")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list[0]["name"], "default");
    assert_eq!(list[0]["role"], "champion");
    assert!(
        list[0]["test_metrics"]["roc_auc"].as_f64().is_some(),
        "{list}"
    );
    let (status, _, detail) = send_json(&router, get("/v1/models/default")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(detail["columns"].as_array().is_some_and(|c| !c.is_empty()));
    assert_eq!(detail["version"], list[0]["version"]);

    let (status, _, health) = send_json(&router, get("/healthz")).await;
    assert_eq!(
        (status, health["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
    let (status, _, ready) = send_json(&router, get("/readyz")).await;
    assert_eq!(
        (status, ready["status"].as_str()),
        (StatusCode::OK, Some("ready"))
    );
    let (status, _, info) = send_json(&router, get("/info")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["default_model"], "default");
    assert_eq!(info["rules"]["sha256"].as_str().map(str::len), Some(64));

    send(&router, post("/v1/score", "{}")).await;
    send(&router, post("/v1/score", "{")).await;
    let (status, headers, metrics) = send(&router, get("/metrics")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .is_ok_and(|t| t.starts_with("text/plain"))
    );
    let metrics = String::from_utf8(metrics.to_vec()).expect("utf-8");
    for needle in [
        r#"qualify_http_requests_total{route="/v1/score",method="POST",status="200"} 1"#,
        r#"qualify_http_requests_total{route="/v1/score",method="POST",status="400"} 1"#,
        r#"qualify_http_request_duration_seconds_bucket{le="#,
        r#"qualify_propensity_count{model="default""#,
        r#"qualify_model_info{model="default""#,
    ] {
        assert!(metrics.contains(needle), "{needle} not in\n{metrics}");
    }

    let (status, _, doc) = send_json(&router, get("/openapi.json")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["paths"]["/v1/score"]["post"].is_object());
}

#[tokio::test]
async fn request_ids_are_made_or_echoed() {
    let f = fixture();
    let (router, _) = open(f.config);
    let (_, headers, _) = send(&router, get("/healthz")).await;
    let made = headers["x-request-id"].to_str().expect("ascii").to_string();
    let (_, headers, _) = send(&router, get("/healthz")).await;
    assert_ne!(headers["x-request-id"].to_str().expect("ascii"), made);
    let request = Request::builder()
        .uri("/healthz")
        .header("x-request-id", "caller-42")
        .body(Body::empty())
        .expect("request");
    let (_, headers, _) = send(&router, request).await;
    assert_eq!(headers["x-request-id"], "caller-42");
}

/// Sampling and what the answer shows; that the champion decides and the challenger does not
/// is shown with two different models in the end-to-end test (tests/serve.rs).
#[tokio::test]
async fn the_challenger_is_sampled_and_shown_only_as_configured() {
    let f = fixture();
    let challenger = f.tmp.path().join("challenger");
    copy_bundle_as(&challenger.join("v1"), "default");
    let shadow = |fraction: f64, in_response: bool| Config {
        challenger: Challenger {
            model: Some(challenger.clone()),
            fraction,
            in_response,
        },
        ..f.config.clone()
    };
    let (router, _) = open(shadow(1.0, true));
    let (_, _, body) = send_json(&router, post("/v1/score", r#"{"id": "lead-1"}"#)).await;
    assert!(body["shadow"]["propensity"].is_number(), "{body}");
    assert_eq!(body["shadow"]["model"]["name"], "default", "{body}");
    let text = metrics(&router).await;
    assert!(text.contains("qualify_shadow_propensity_count"), "{text}");
    assert!(text.contains(r#"role="challenger""#), "{text}");
    let (_, _, list) = send_json(&router, get("/v1/models")).await;
    assert_eq!(list.as_array().map(Vec::len), Some(2));
    assert_eq!(list[1]["role"], "challenger");

    // A fraction of 0 never samples; without in_response the score stays in metrics and logs.
    let (router, _) = open(shadow(0.0, true));
    let (_, _, body) = send_json(&router, post("/v1/score", r#"{"id": "lead-1"}"#)).await;
    assert!(body.get("shadow").is_none(), "{body}");
    let (router, _) = open(shadow(1.0, false));
    let (_, _, body) = send_json(&router, post("/v1/score", r#"{"id": "lead-1"}"#)).await;
    assert!(body.get("shadow").is_none(), "{body}");
    assert!(
        metrics(&router)
            .await
            .contains("qualify_shadow_propensity_count")
    );

    // About a fraction of ids are sampled, and the same id always the same way.
    let (router, _) = open(shadow(0.3, true));
    let mut sampled = 0;
    for i in 0..200 {
        let lead = format!(r#"{{"id": "lead-{i}"}}"#);
        let (_, _, first) = send_json(&router, post("/v1/score", lead.clone())).await;
        let (_, _, again) = send_json(&router, post("/v1/score", lead)).await;
        assert_eq!(first.get("shadow").is_some(), again.get("shadow").is_some());
        sampled += usize::from(first.get("shadow").is_some());
    }
    assert!(
        (30..=90).contains(&sampled),
        "{sampled} of 200 sampled at 0.3"
    );
}

#[test]
fn startup_refuses_a_missing_model_directory_or_rules_file() {
    let f = fixture();
    let err = AppState::open(Config {
        models: f.models.join("nothing-here"),
        ..f.config.clone()
    })
    .expect_err("no models");
    assert!(format!("{err:#}").contains("nothing-here"), "{err:#}");
    let err = AppState::open(Config {
        rules: f.models.join("no-rules.toml"),
        ..f.config.clone()
    })
    .expect_err("no rules");
    assert!(format!("{err:#}").contains("no-rules.toml"), "{err:#}");
    let err = AppState::open(Config {
        default_model: "other".into(),
        ..f.config
    });
    // One model only: it is the default whatever the name says.
    assert!(err.is_ok());
}
