//! `POST /v1/admin/reload`: pick up new bundle versions and rules changes (also on SIGHUP).

use axum::Json;
use axum::extract::State;

use crate::app::AppState;
use crate::error::ErrorBody;
use crate::registry::ReloadReport;

/// Reload models and rules. A new version serves only after its golden check; one that fails
/// leaves the old one serving and is listed in `problems` (and in `/readyz`). A reload runs
/// to the end (or to `reload_timeout_ms`) and is logged even if the caller disconnects.
#[utoipa::path(post, path = "/v1/admin/reload", tag = "admin",
    responses(
        (status = 200, description = "What the reload did", body = ReloadReport),
        (status = 401, description = "Missing or wrong admin token", body = ErrorBody),
        (status = 403, description = "Admin routes are off (no admin token configured)", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn reload(State(state): State<AppState>) -> Json<ReloadReport> {
    Json(state.reload().await)
}
