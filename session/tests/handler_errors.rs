//! Errors a handler meets work with `?`: each answers the same opaque 500 (503 with
//! `Retry-After` for an outage) as the middleware's own failures, with the cause in the log and
//! none of it in the body.

mod support;

use actix_typed_session::testing::serve;
use actix_typed_session::{
    store::MemoryStore,
    testing::{body, get},
    SessionMiddleware, StoreError,
};
use actix_web::{cookie::Key, http::StatusCode, web, HttpResponse};
use support::Logs;

/// What a handler's own call to a store (a `RedisPool::get`, a `SqliteStore::prune`) may
/// return; the cause quotes something the client must not see.
fn backend_call() -> Result<(), StoreError> {
    Err(StoreError::unavailable(
        "connection refused by 10.0.0.7:6379",
    ))
}

fn routes(cfg: &mut web::ServiceConfig) {
    async fn admin() -> Result<HttpResponse, StoreError> {
        backend_call()?;
        Ok(HttpResponse::Ok().finish())
    }
    async fn mixed() -> actix_web::Result<HttpResponse> {
        backend_call()?; // converted into actix_web::Error through ResponseError
        Ok(HttpResponse::Ok().finish())
    }
    async fn other() -> Result<HttpResponse, StoreError> {
        Err(StoreError::Other("disk full at /var/lib/secret".into()))
    }
    cfg.route("/admin", web::get().to(admin))
        .route("/mixed", web::get().to(mixed))
        .route("/other", web::get().to(other));
}

#[actix_web::test]
async fn a_store_error_returned_by_a_handler_is_opaque_with_the_cause_in_the_log() {
    let (logs, _guard) = Logs::capture();
    let app = serve(
        routes,
        SessionMiddleware::new(MemoryStore::new(), Key::generate()),
    )
    .await;
    for uri in ["/admin", "/mixed"] {
        let res = get(&app, uri, None).await;
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE, "{uri}");
        assert_eq!(res.headers().get("retry-after").unwrap(), "5", "{uri}");
        assert_eq!(body(res).await, "Service Unavailable", "{uri}");
    }
    let res = get(&app, "/other", None).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(res.headers().get("retry-after").is_none());
    assert_eq!(body(res).await, "Internal Server Error");
    let text = logs.text();
    assert!(
        text.contains("the session store is unavailable: connection refused by 10.0.0.7:6379"),
        "the whole cause chain is logged: {text}"
    );
}
