//! The OpenAPI document, generated from the handlers' `#[utoipa::path]` attributes and the
//! types' `ToSchema` derives — one source, so it cannot drift from the code. A copy is
//! committed as `docs/openapi.json`; a test fails when the two differ (run it with
//! `QUALIFY_UPDATE_OPENAPI=1` to rewrite the copy).

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{admin, ingest, leads, models, monitor, ops, score};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "qualify",
        description = "Calibrated lead-conversion propensity next to the rule-based qualification stage. Every error answers `{\"error\": {\"code\", \"message\", \"field\"?}}`."
    ),
    paths(
        score::score,
        score::batch,
        leads::put,
        leads::get,
        leads::score,
        leads::scores,
        ingest::events,
        ingest::outcomes,
        monitor::report,
        monitor::page,
        models::list,
        models::detail,
        admin::reload,
        ops::healthz,
        ops::readyz,
        ops::metrics,
        ops::info,
        ops::openapi
    ),
    modifiers(&BearerAuth, &LeadAttributes),
    tags(
        (name = "scoring", description = "Propensity, rule score and stage for leads"),
        (name = "store", description = "The lead store: ingestion, stored leads scored, score history, monitoring (off with `--store none`)"),
        (name = "models", description = "What is served"),
        (name = "admin", description = "Reloads (on only when an admin token is configured)"),
        (name = "operations", description = "Health, readiness, metrics, info")
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// `PUT /v1/leads/{id}` takes a lead record *without* `activities` (those are events) and
/// without an `id` of its own (the path names the lead): the schema `LeadAttributes`, made
/// here from `LeadRecord` so the two cannot drift apart.
struct LeadAttributes;

impl Modify for LeadAttributes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{RefOr, Schema};
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        let Some(RefOr::T(Schema::Object(record))) = components.schemas.get("LeadRecord") else {
            return;
        };
        let mut attributes = record.clone();
        for name in ["activities", "id"] {
            attributes.properties.remove(name);
            attributes.required.retain(|r| r != name);
        }
        attributes.description = Some(
            "A lead's attributes: a canonical lead record without `activities` (send those as events) and without `id` (the path names the lead)."
                .into(),
        );
        components.schemas.insert(
            "LeadAttributes".into(),
            RefOr::T(Schema::Object(attributes)),
        );
        let body = openapi
            .paths
            .paths
            .get_mut("/v1/leads/{id}")
            .and_then(|item| item.put.as_mut())
            .and_then(|put| put.request_body.as_mut())
            .and_then(|body| match body {
                RefOr::T(body) => body.content.get_mut("application/json"),
                RefOr::Ref(_) => None,
            });
        if let Some(RefOr::T(content)) = body {
            content.schema = Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                "LeadAttributes",
            )));
        }
    }
}

/// The document as pretty JSON (what `/openapi.json` serves and `docs/openapi.json` holds).
pub fn document_json() -> String {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    doc.to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"openapi: {e}\"}}"))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn committed_document_is_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
        let generated = super::document_json() + "\n";
        if std::env::var_os("QUALIFY_UPDATE_OPENAPI").is_some() {
            std::fs::write(&path, &generated).expect("write docs/openapi.json");
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/openapi.json is out of date: run `QUALIFY_UPDATE_OPENAPI=1 cargo test -p qualify-server openapi`"
        );
    }

    #[test]
    fn document_lists_every_route() {
        let doc: serde_json::Value =
            serde_json::from_str(&super::document_json()).expect("valid JSON");
        for route in crate::ROUTES {
            assert!(doc["paths"].get(route).is_some(), "{route} missing");
        }
        assert!(doc["components"]["schemas"].get("LeadRecord").is_some());
        assert!(doc["components"]["schemas"].get("ScoreResponse").is_some());
    }
}
