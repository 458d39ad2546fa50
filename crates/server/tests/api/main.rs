//! The API through `oneshot` on the real router (no socket): every route and error status
//! (`routes`), what a client can cost the server (`limits`), reloads (`reload`), and the
//! OpenAPI document checked against real answers (`spec`), and the store routes on SQLite
//! and PostgreSQL (`store`, `stores`). The fixture copies the bundled
//! model into a temporary models directory, so reload tests can add and corrupt versions.

mod common;
mod limits;
mod monitor;
mod reload;
mod routes;
mod spec;
mod store;
mod stores;
