//! Prometheus metrics (`GET /metrics`, text exposition format): requests and latency per route
//! and status, which model versions serve, the work queued, and the distribution of scores —
//! the signals an operator needs to see a slow route, a failed reload, an overload or a
//! drifting model.
//!
//! Every label that a request can influence comes from a closed set: the method is one of the
//! standard ones or `other`, the route is a route template or `unmatched`. A series per
//! made-up method or path would let any client grow `/metrics` and memory without limit.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use axum::http::Method;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets, linear_buckets};
use prometheus_client::registry::Registry;

use crate::registry::{Role, Served};

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// A route template (`/v1/models/{name}`) or `unmatched`.
    pub route: &'static str,
    /// A standard method or `other`.
    pub method: &'static str,
    pub status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: &'static str,
}

/// The label for a request's method: the standard methods by name, anything else `other`.
pub fn method_label(method: &Method) -> &'static str {
    const KNOWN: [(Method, &str); 9] = [
        (Method::GET, "GET"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::DELETE, "DELETE"),
        (Method::PATCH, "PATCH"),
        (Method::HEAD, "HEAD"),
        (Method::OPTIONS, "OPTIONS"),
        (Method::CONNECT, "CONNECT"),
        (Method::TRACE, "TRACE"),
    ];
    KNOWN
        .iter()
        .find(|(known, _)| known == method)
        .map_or("other", |(_, label)| label)
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ModelLabels {
    pub model: String,
    pub version: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ModelInfoLabels {
    pub model: String,
    pub version: String,
    pub kind: String,
    pub schema_hash: String,
    /// `champion` (serves decisions) or `challenger` (shadow only).
    pub role: String,
}

/// One headline figure of the latest monitoring report (`qualify_monitor_<figure>` in
/// qualify-monitor's `Headline::gauges`, without the prefix): a closed set, fixed by the
/// report's type.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FigureLabels {
    pub figure: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// All metrics, registered once.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: HistogramFamily<RouteLabels>,
    propensity: HistogramFamily<ModelLabels>,
    shadow_propensity: HistogramFamily<ModelLabels>,
    shadow_difference: HistogramFamily<ModelLabels>,
    shadow_failures: Family<ModelLabels, Counter>,
    model_info: Family<ModelInfoLabels, Gauge>,
    reloads: Family<OutcomeLabels, Counter>,
    queued_leads: Gauge,
    requests_in_flight: Gauge,
    score_log_written: Counter,
    score_log_dropped: Counter,
    score_log_queue: Gauge,
    monitor: Family<FigureLabels, Gauge<f64, AtomicU64>>,
}

fn latency_histogram() -> Histogram {
    // 25 µs … ~0.8 s
    Histogram::new(exponential_buckets(25e-6, 2.0, 16))
}

fn score_histogram() -> Histogram {
    Histogram::new(linear_buckets(0.05, 0.05, 19))
}

fn difference_histogram() -> Histogram {
    Histogram::new([0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5])
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("qualify");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route, method and status",
            requests.clone(),
        );
        let latency: HistogramFamily<RouteLabels> =
            Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer (to the response head), by route",
            latency.clone(),
        );
        let propensity: HistogramFamily<ModelLabels> =
            Family::new_with_constructor(score_histogram as fn() -> Histogram);
        registry.register(
            "propensity",
            "Calibrated propensities returned, by model version",
            propensity.clone(),
        );
        let shadow_propensity: HistogramFamily<ModelLabels> =
            Family::new_with_constructor(score_histogram as fn() -> Histogram);
        registry.register(
            "shadow_propensity",
            "Challenger propensities computed in shadow",
            shadow_propensity.clone(),
        );
        let shadow_difference: HistogramFamily<ModelLabels> =
            Family::new_with_constructor(difference_histogram as fn() -> Histogram);
        registry.register(
            "shadow_abs_difference",
            "|challenger - champion| propensity for shadow-scored leads",
            shadow_difference.clone(),
        );
        let shadow_failures = Family::<ModelLabels, Counter>::default();
        registry.register(
            "shadow_failures",
            "Leads the challenger could not score",
            shadow_failures.clone(),
        );
        let model_info = Family::<ModelInfoLabels, Gauge>::default();
        registry.register(
            "model_info",
            "Model versions being served",
            model_info.clone(),
        );
        let reloads = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "reloads",
            "Reloads, by outcome (ok: everything loaded; problems: something kept its old version)",
            reloads.clone(),
        );
        let queued_leads = Gauge::default();
        registry.register(
            "queued_leads",
            "Leads admitted for scoring: waiting for a core or being scored (max_queued_leads)",
            queued_leads.clone(),
        );
        let requests_in_flight = Gauge::default();
        registry.register(
            "scoring_requests_in_flight",
            "Scoring requests and NDJSON streams in flight (max_concurrency)",
            requests_in_flight.clone(),
        );
        let score_log_written = Counter::default();
        registry.register(
            "score_log_written",
            "Score log entries written to the store",
            score_log_written.clone(),
        );
        let score_log_dropped = Counter::default();
        registry.register(
            "score_log_dropped",
            "Score log entries dropped: the queue was full, or the store refused their batch",
            score_log_dropped.clone(),
        );
        let score_log_queue = Gauge::default();
        registry.register(
            "score_log_queue_depth",
            "Score log entries waiting to be written",
            score_log_queue.clone(),
        );
        let monitor = Family::<FigureLabels, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "monitor",
            "Headline figures of the latest monitoring report (GET /v1/monitor or /monitor; \
             docs/monitoring.md), by figure; a figure without a value has no series",
            monitor.clone(),
        );
        Metrics {
            registry,
            monitor,
            score_log_written,
            score_log_dropped,
            score_log_queue,
            queued_leads,
            requests_in_flight,
            requests,
            latency,
            propensity,
            shadow_propensity,
            shadow_difference,
            shadow_failures,
            model_info,
            reloads,
        }
    }
}

impl Metrics {
    pub fn new(served: &Served) -> Arc<Metrics> {
        let metrics = Metrics::default();
        metrics.set_served(served);
        Arc::new(metrics)
    }

    pub fn record_request(
        &self,
        route: &'static str,
        method: &Method,
        status: u16,
        elapsed: Duration,
    ) {
        self.requests
            .get_or_create(&RequestLabels {
                route,
                method: method_label(method),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels { route })
            .observe(elapsed.as_secs_f64());
    }

    /// The load gauges, read at scrape time.
    pub fn set_load(&self, queued_leads: usize, requests_in_flight: usize) {
        self.queued_leads
            .set(i64::try_from(queued_leads).unwrap_or(i64::MAX));
        self.requests_in_flight
            .set(i64::try_from(requests_in_flight).unwrap_or(i64::MAX));
    }

    pub fn score_log_written(&self, n: u64) {
        self.score_log_written.inc_by(n);
    }

    pub fn score_log_dropped(&self, n: u64) {
        self.score_log_dropped.inc_by(n);
    }

    /// The headline figures of a monitoring report just computed: the previous report's
    /// series are replaced, so a figure that has no value now has no series.
    pub fn set_monitor(&self, headline: &qualify_monitor::Headline) {
        self.monitor.clear();
        for (name, _help, value) in headline.gauges() {
            let figure = name.strip_prefix("qualify_monitor_").unwrap_or(name);
            self.monitor
                .get_or_create(&FigureLabels { figure })
                .set(value);
        }
    }

    /// The score log's queue depth, read at scrape time.
    pub fn set_score_log_queue(&self, depth: usize) {
        self.score_log_queue
            .set(i64::try_from(depth).unwrap_or(i64::MAX));
    }

    pub fn record_score(&self, model: &str, version: &str, propensity: f64) {
        self.propensity
            .get_or_create(&ModelLabels {
                model: model.to_string(),
                version: version.to_string(),
            })
            .observe(propensity);
    }

    pub fn record_shadow(
        &self,
        model: &str,
        version: &str,
        champion: f64,
        challenger: Option<f64>,
    ) {
        let labels = ModelLabels {
            model: model.to_string(),
            version: version.to_string(),
        };
        match challenger {
            Some(p) => {
                self.shadow_propensity.get_or_create(&labels).observe(p);
                self.shadow_difference
                    .get_or_create(&labels)
                    .observe((p - champion).abs());
            }
            None => {
                self.shadow_failures.get_or_create(&labels).inc();
            }
        }
    }

    pub fn record_reload(&self, served: &Served) {
        let outcome = if served.problems.is_empty() {
            "ok"
        } else {
            "problems"
        };
        self.reloads
            .get_or_create(&OutcomeLabels {
                outcome: outcome.into(),
            })
            .inc();
        self.set_served(served);
    }

    fn set_served(&self, served: &Served) {
        self.model_info.clear();
        let info = |m: &crate::registry::LoadedModel, role: Role| {
            let manifest = m.model.manifest();
            self.model_info
                .get_or_create(&ModelInfoLabels {
                    model: manifest.name.clone(),
                    version: manifest.version.clone(),
                    kind: manifest.model.kind.to_string(),
                    schema_hash: manifest.schema_hash.clone(),
                    role: role.as_str().into(),
                })
                .set(1);
        };
        for (name, m) in &served.models {
            info(m, Role::of(served, name));
        }
        if let Some(c) = &served.challenger {
            info(c, Role::Challenger);
        }
    }

    /// The text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_up_methods_share_one_label() {
        assert_eq!(method_label(&Method::POST), "POST");
        let made_up = Method::from_bytes(b"FROBNICATE").expect("a valid token");
        assert_eq!(method_label(&made_up), "other");
    }
}
