//! `PostgresStore` over TLS (feature `postgres-rustls`) to a real PostgreSQL started with
//! `ssl=on` and a certificate signed by a CA the test makes: the store suite over a verified
//! connection, a client that does not trust the CA refused, and no plain-text fallback when
//! the URL asks for TLS.

use actix_typed_session::{
    store::PostgresStore,
    testing::{self, Capabilities},
    Clock, StoreError,
};
use session_tests::{postgres_server::PostgresServer, test_ca::TestCa};

/// `server`'s URL with `sslmode` and, given one, the CA file to trust (`sslrootcert`).
fn url(server: &PostgresServer, sslmode: &str, ca: Option<&TestCa>) -> String {
    let mut url = format!("{}?sslmode={sslmode}", server.url());
    if let Some(ca) = ca {
        url.push_str(&format!("&sslrootcert={}", ca.cert_path().display()));
    }
    url
}

/// The error and its sources, as one line.
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(err) = source {
        text.push_str(": ");
        text.push_str(&err.to_string());
        source = err.source();
    }
    text
}

/// What the store says when it cannot connect: an opaque `Unavailable` whose sources say why.
async fn refusal(url: &str) -> String {
    let store = PostgresStore::open(url).unwrap();
    match store.create_schema().await {
        Err(err @ StoreError::Unavailable(_)) => chain(&err),
        other => panic!("{url}: the connection is refused, got {other:?}"),
    }
}

#[actix_web::test]
async fn postgres_store_passes_the_store_suite_over_verified_tls() {
    let server = PostgresServer::start_tls();
    let ca = server.tls_ca().expect("a TLS server");
    // On a manual clock: the expiry checks advance it instead of sleeping.
    let clock = Clock::manual();
    let store = PostgresStore::builder(&url(&server, "verify-full", Some(ca)))
        .unwrap()
        .clock(clock.clone())
        .build()
        .unwrap();
    let caps = Capabilities::server_side()
        .lists_user_sessions(true)
        .clock(clock);
    testing::store_suite(&store, caps).await;
    // The store's own connections are the encrypted ones.
    let ssl: bool = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(ssl, "the store's connection uses TLS");
}

#[actix_web::test]
async fn a_client_that_does_not_trust_the_ca_is_refused() {
    let server = PostgresServer::start_tls();
    let other = tempfile::tempdir().unwrap();
    let stranger = TestCa::new(other.path(), "stranger");
    for (what, ca) in [
        ("the system's roots", None),
        ("another CA", Some(&stranger)),
    ] {
        for sslmode in ["verify-ca", "verify-full"] {
            let why = refusal(&url(&server, sslmode, ca)).await;
            assert!(why.contains("UnknownIssuer"), "{sslmode}, {what}: {why}");
        }
    }
}

/// `sslmode=require` and the `verify-*` modes never fall back to plain text: against a
/// server without TLS the store refuses to connect.
#[actix_web::test]
async fn tls_asked_for_is_never_plain_text() {
    let server = PostgresServer::start();
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new(dir.path(), "unused");
    for sslmode in ["require", "verify-ca", "verify-full"] {
        let why = refusal(&url(&server, sslmode, Some(&ca))).await;
        assert!(
            why.contains("server does not support TLS"),
            "{sslmode}: {why}"
        );
    }
    // Without a mode that asks for TLS, the same server is reachable.
    let store = PostgresStore::open(&url(&server, "prefer", None)).unwrap();
    store.create_schema().await.unwrap();
}
