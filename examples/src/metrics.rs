//! `/metrics` for the example apps (feature `metrics`): the session library's metrics in the
//! Prometheus text format, through metrics-exporter-prometheus's recorder built without its
//! own HTTP listener, so the app's own route serves it. Included by the binaries that serve it
//! (`#[path]`), as the examples package has no library.

use std::time::Duration;

use actix_web::{web, HttpResponse};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Store calls take from tens of microseconds (memory) to a second (a store's deadline).
const LATENCY_BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5,
];

/// Installs the process's recorder and answers the handle `/metrics` renders.
///
/// # Errors
/// When a recorder is already installed.
pub fn install() -> Result<PrometheusHandle, String> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
        .and_then(PrometheusBuilder::install_recorder)
        .map_err(|e| format!("cannot install the metrics recorder: {e}"))?;
    actix_typed_session::describe_metrics();
    // Without its HTTP listener the exporter leaves its periodic housekeeping (draining
    // histogram samples) to the app.
    let upkeep = handle.clone();
    std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || loop {
            std::thread::sleep(Duration::from_secs(5));
            upkeep.run_upkeep();
        })
        .map_err(|e| format!("cannot start the metrics upkeep thread: {e}"))?;
    Ok(handle)
}

/// The `/metrics` route, rendering `handle`.
pub fn routes(handle: PrometheusHandle) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(web::Data::new(handle))
            .route("/metrics", web::get().to(render));
    }
}

async fn render(handle: web::Data<PrometheusHandle>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(handle.render())
}
