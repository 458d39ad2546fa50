//! The OpenAPI document is true: real answers (serde's output) are checked against the
//! schemas the document declares (utoipa's derive), two paths that can disagree. Every key an
//! answer holds must be declared (stricter than JSON Schema, which allows extra keys: a
//! generated client would drop them), every required key present, every value of its type,
//! and every status a route answers documented for that route.

use axum::body::Body;
use axum::http::{Method, Request, header};
use qualify_server::Config;
use qualify_server::config::{Challenger, Token};
use serde_json::Value;

use crate::common::*;

fn document() -> Value {
    serde_json::from_str(&qualify_server::openapi::document_json()).expect("valid JSON")
}

/// `schema`, or the schema its `$ref` names.
fn resolve<'d>(doc: &'d Value, schema: &'d Value) -> &'d Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let name = reference
                .strip_prefix("#/components/schemas/")
                .expect("local reference");
            &doc["components"]["schemas"][name]
        }
        None => schema,
    }
}

/// Problems of `value` against `schema`, with JSON paths.
fn check(doc: &Value, schema: &Value, value: &Value, path: &str, problems: &mut Vec<String>) {
    if schema.get("$ref").is_some() {
        let target = resolve(doc, schema);
        assert!(
            target.is_object(),
            "{schema} names no schema in the document"
        );
        return check(doc, target, value, path, problems);
    }
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let matching = options
            .iter()
            .filter(|option| {
                let mut p = Vec::new();
                check(doc, option, value, path, &mut p);
                p.is_empty()
            })
            .count();
        if matching != 1 {
            problems.push(format!(
                "{path}: {value} matches {matching} of oneOf {schema}"
            ));
        }
        return;
    }
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        // Each part declares some of the keys (a flattened struct): check each part's keys
        // and types, and the keys against all parts together.
        let mut declared = Vec::new();
        for part in parts {
            let part = resolve(doc, part);
            let mut p = Vec::new();
            check(doc, part, value, path, &mut p);
            problems.extend(
                p.into_iter()
                    .filter(|p| !p.contains("is not in the document")),
            );
            declared.extend(
                part["properties"]
                    .as_object()
                    .into_iter()
                    .flat_map(|o| o.keys()),
            );
        }
        for key in value.as_object().into_iter().flat_map(|o| o.keys()) {
            if !declared.contains(&key) {
                problems.push(format!("{path}: key {key:?} is not in the document"));
            }
        }
        return;
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        problems.push(format!("{path}: {value} is not one of {allowed:?}"));
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let is = |t: &str| match t {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "number" => value.is_number(),
        "integer" => value.as_f64().is_some_and(|v| v.fract() == 0.0),
        other => panic!("type {other} in the document"),
    };
    if !types.is_empty() && !types.iter().any(|t| is(t)) {
        problems.push(format!("{path}: {value} is not of type {types:?}"));
        return;
    }
    if let (Some(min), Some(v)) = (
        schema.get("minimum").and_then(Value::as_f64),
        value.as_f64(),
    ) && v < min
    {
        problems.push(format!("{path}: {v} < minimum {min}"));
    }
    if let Value::Object(map) = value {
        let properties = schema.get("properties").and_then(Value::as_object);
        for required in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = required.as_str().expect("key");
            if !map.contains_key(key) {
                problems.push(format!("{path}: required key {key:?} missing"));
            }
        }
        // A schema that declares no properties (`type: object` alone) says nothing of keys.
        if let Some(properties) = properties {
            for (key, v) in map {
                match properties.get(key) {
                    Some(s) => check(doc, s, v, &format!("{path}.{key}"), problems),
                    None => problems.push(format!("{path}: key {key:?} is not in the document")),
                }
            }
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            check(doc, item_schema, item, &format!("{path}[{i}]"), problems);
        }
    }
}

/// Sends `request` and checks its status is documented for `route` and its JSON body is
/// what the document says for that status.
pub(crate) async fn conforms(router: &axum::Router, route: &str, request: Request<Body>) -> Value {
    let doc = document();
    let method = request.method().as_str().to_ascii_lowercase();
    let (status, headers, body) = send(router, request).await;
    let operation = &doc["paths"][route][&method];
    assert!(operation.is_object(), "{method} {route} is not documented");
    let response = &operation["responses"][status.as_str()];
    assert!(
        response.is_object(),
        "{method} {route} answered {status}, which its documentation does not list"
    );
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    if !is_json {
        return Value::Null;
    }
    let value: Value = serde_json::from_slice(&body).expect("JSON body");
    let schema = &response["content"]["application/json"]["schema"];
    assert!(
        schema.is_object(),
        "{method} {route} {status}: no JSON schema"
    );
    let mut problems = Vec::new();
    check(&doc, schema, &value, "$", &mut problems);
    assert!(
        problems.is_empty(),
        "{method} {route} {status}:\n{}",
        problems.join("\n")
    );
    value
}

#[tokio::test]
async fn answers_are_what_the_document_says() {
    let f = fixture();
    let challenger = f.tmp.path().join("challenger");
    copy_dir(&bundled_version(), &challenger.join("v1"));
    let (router, _) = open(Config {
        admin_token: Some(Token::new("admin-secret")),
        challenger: Challenger {
            model: Some(challenger),
            fraction: 1.0,
            in_response: true,
        },
        ..f.config
    });
    let mut lead = sample_leads(1).remove(0);
    lead["favourite_colour"] = "teal".into();
    lead["industry"] = "underwater basket weaving".into();
    let answer = conforms(&router, "/v1/score", post("/v1/score", lead.to_string())).await;
    // The parts most likely to drift are all there to be checked.
    for key in ["explanation", "shadow", "warnings", "rules"] {
        assert!(answer.get(key).is_some(), "{key} missing: {answer}");
    }
    assert!(
        answer["rules"]["reasons"]
            .as_array()
            .is_some_and(|r| !r.is_empty()),
        "{answer}"
    );
    conforms(&router, "/v1/score", post("/v1/score?explain=false", "{}")).await;
    let batch = Value::Array(sample_leads(3)).to_string();
    conforms(&router, "/v1/score/batch", post("/v1/score/batch", batch)).await;

    for (route, uri) in [
        ("/v1/models", "/v1/models"),
        ("/v1/models/{name}", "/v1/models/default"),
        ("/v1/models/{name}", "/v1/models/challenger"),
        ("/healthz", "/healthz"),
        ("/readyz", "/readyz"),
        ("/info", "/info"),
    ] {
        conforms(&router, route, get(uri)).await;
    }
    let reload = with_token(post("/v1/admin/reload", ""), "Bearer admin-secret");
    conforms(&router, "/v1/admin/reload", reload).await;
}

#[tokio::test]
async fn errors_are_documented_for_the_routes_that_answer_them() {
    let f = fixture();
    let (router, state) = open(Config {
        max_body_bytes: 4096,
        max_batch: 2,
        max_queued_leads: 2,
        ..f.config.clone()
    });
    let cases: Vec<(&str, Request<Body>)> = vec![
        ("/v1/score", post("/v1/score", "{")),
        ("/v1/score", post("/v1/score", r#"{"employees": "many"}"#)),
        ("/v1/score", post("/v1/score?model=nope", "{}")),
        ("/v1/score", post("/v1/score?as_of=soon", "{}")),
        ("/v1/score", post("/v1/score", "x".repeat(5000))),
        (
            "/v1/score",
            Request::builder()
                .method(Method::POST)
                .uri("/v1/score")
                .header(header::CONTENT_TYPE, "text/csv")
                .body(Body::from("id\n1"))
                .expect("request"),
        ),
        ("/v1/score/batch", post("/v1/score/batch", "[{}, {}, {}]")),
        (
            "/v1/score/batch",
            post("/v1/score/batch", r#"[{"employees": -1}]"#),
        ),
        ("/v1/models/{name}", get("/v1/models/nope")),
        ("/v1/admin/reload", post("/v1/admin/reload", "")),
    ];
    for (route, request) in cases {
        let answer = conforms(&router, route, request).await;
        assert!(answer["error"]["code"].is_string(), "{answer}");
    }
    let (router, _) = open(Config {
        api_token: Some(Token::new("score-secret")),
        admin_token: Some(Token::new("admin-secret")),
        ..f.config
    });
    conforms(&router, "/v1/score", post("/v1/score", "{}")).await;
    conforms(&router, "/v1/score/batch", post("/v1/score/batch", "[]")).await;
    conforms(&router, "/v1/admin/reload", post("/v1/admin/reload", "")).await;
    // Draining: /readyz answers its documented 503.
    state
        .draining
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let router = qualify_server::app(state);
    let ready = conforms(&router, "/readyz", get("/readyz")).await;
    assert_eq!(ready["status"], "draining");
}

/// The two `Reason` types: an explanation's (column, value, contribution) and a rule's (rule,
/// kind, description, points). Sharing a schema name made the rules' reasons point at the
/// explanation's schema; the answer checks above would catch that, this names it.
#[test]
fn rule_reasons_and_explanation_reasons_are_different_schemas() {
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    let rule_reason = schemas["RuleOutcome"]["properties"]["reasons"]["items"]["$ref"]
        .as_str()
        .expect("a reference");
    let name = rule_reason.rsplit('/').next().expect("name");
    assert!(
        schemas[name]["properties"]["points"].is_object(),
        "{name}: {}",
        schemas[name]
    );
    let explained = schemas["ExplanationView"]["properties"]["top_positive"]["items"]["$ref"]
        .as_str()
        .expect("a reference");
    let name = explained.rsplit('/').next().expect("name");
    assert!(
        schemas[name]["properties"]["contribution"].is_object(),
        "{name}: {}",
        schemas[name]
    );
    assert_ne!(rule_reason, explained);
}

/// The metrics label every route by its template: the router's routes and the document's
/// paths are the same set.
#[test]
fn every_documented_path_is_a_labelled_route() {
    let doc = document();
    let mut paths: Vec<&str> = doc["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .map(String::as_str)
        .collect();
    paths.sort_unstable();
    let mut routes = qualify_server::ROUTES.to_vec();
    routes.sort_unstable();
    assert_eq!(paths, routes);
}
