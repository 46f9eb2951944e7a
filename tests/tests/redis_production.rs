//! The Redis store as production runs it: over TLS (feature `redis-rustls`), and as an ACL'd
//! user allowed exactly the commands the docs list.

use std::time::Duration;

use actix_typed_session::{
    store::{Prune as _, RedisPool, RedisPoolBuilder, RedisStore, SessionStore},
    testing::{self, Capabilities},
    SessionId, StoreError,
};
use session_tests::{
    redis_server::{RedisCluster, RedisServer},
    test_ca::TestCa,
};

fn builder(url: &str) -> RedisPoolBuilder {
    timeouts(RedisPool::builder(url))
}

/// Bounded, but generous: a TLS handshake in a debug build on a loaded 2-core machine has
/// taken over a second.
fn timeouts(builder: RedisPoolBuilder) -> RedisPoolBuilder {
    builder
        .connect_timeout(Duration::from_millis(3000))
        .response_timeout(Duration::from_millis(3000))
}

/// The acceptance suite, user-session listing included (its scripts use the most commands).
async fn passes_the_suite(store: &RedisStore) {
    testing::store_suite(store, Capabilities::server_side().lists_user_sessions(true)).await;
}

/// The error chain of a store error, as one line.
fn chain(err: &StoreError) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(err) = source {
        text.push_str(": ");
        text.push_str(&err.to_string());
        source = err.source();
    }
    text
}

/// The suite over TLS.
#[actix_web::test]
async fn sessions_round_trip_over_tls() {
    let server = RedisServer::start_tls();
    let ca = server.tls_ca().expect("a TLS server").cert_pem();
    assert!(server.url().starts_with("rediss://"), "{}", server.url());
    let pool = builder(&server.url())
        .tls_root_certificates(ca)
        .build()
        .unwrap();
    let store = RedisStore::new(pool);
    passes_the_suite(&store).await;
}

#[actix_web::test]
async fn tls_refuses_plain_text_and_unknown_cas() {
    let server = RedisServer::start_tls();
    let id = SessionId::generate();

    // A plain-text client cannot talk to the TLS port.
    let plain_url = server.url().replacen("rediss://", "redis://", 1);
    let plain = RedisStore::new(builder(&plain_url).build().unwrap());
    let err = plain
        .refresh(&id, Duration::from_secs(60))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Unavailable(_) | StoreError::Timeout),
        "{err:?}"
    );

    // Nor can a TLS client that does not trust the server's CA: it fails with a clear error.
    let elsewhere = tempfile::tempdir().unwrap();
    let other_ca = TestCa::new(elsewhere.path(), "other");
    let untrusting = builder(&server.url())
        .tls_root_certificates(other_ca.cert_pem())
        .build()
        .unwrap();
    let err = RedisStore::new(untrusting)
        .refresh(&id, Duration::from_secs(60))
        .await
        .unwrap_err();
    let text = chain(&err);
    assert!(matches!(err, StoreError::Unavailable(_)), "{text}");
    assert!(text.contains("UnknownIssuer"), "{text}");

    // Nor a client that trusts only the system's roots (the default).
    let system = RedisStore::new(builder(&server.url()).build().unwrap());
    let err = system
        .refresh(&id, Duration::from_secs(60))
        .await
        .unwrap_err();
    assert!(chain(&err).contains("UnknownIssuer"), "{}", chain(&err));

    // The right CA works on the same server: the failures above were the trust, not the server.
    let trusted = builder(&server.url())
        .tls_root_certificates(server.tls_ca().unwrap().cert_pem())
        .build()
        .unwrap();
    assert!(!RedisStore::new(trusted)
        .refresh(&id, Duration::from_secs(60))
        .await
        .unwrap());
}

#[test]
fn root_certificates_need_a_tls_url() {
    let err = RedisPool::builder("redis://127.0.0.1:6379")
        .tls_root_certificates(b"-----BEGIN CERTIFICATE-----".to_vec())
        .build()
        .unwrap_err();
    assert!(
        matches!(err, actix_typed_session::store::RedisConfigError::Url(_)),
        "{err:?}"
    );
}

/// The `ACL SETUSER` line of a document (one line, the password `password`).
fn acl_line(text: &str, what: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(|l| l.trim_start_matches("///").trim())
        .filter(|l| l.starts_with("ACL SETUSER "))
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "one `ACL SETUSER` line in {what}: {lines:?}"
    );
    lines[0].to_owned()
}

/// The ACL line README.md and `RedisStore`'s docs both give (checked to be the same).
fn documented_acl() -> String {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let docs = std::fs::read_to_string(format!("{root}/session/src/store/redis.rs")).unwrap();
    let acl = acl_line(&readme, "README.md");
    assert_eq!(
        acl,
        acl_line(&docs, "RedisStore's docs"),
        "the two lists agree"
    );
    acl
}

/// What the docs say a cluster needs on top of [`documented_acl`].
const CLUSTER_EXTRA: &str = "+cluster|slots +asking";

/// The suite as the documented user.
#[actix_web::test]
async fn the_documented_acl_is_enough() {
    let acl = documented_acl();
    let server = RedisServer::start();
    let args: Vec<&str> = acl.split_whitespace().collect();
    assert_eq!(server.cli(&args).trim(), "OK", "{acl}");
    add_admin(&server);
    // The default user may no longer run anything either: the store must log in.
    assert_eq!(
        server.cli(&["ACL", "SETUSER", "default", "off"]).trim(),
        "OK"
    );

    let url = format!("redis://sessions:password@127.0.0.1:{}", server.port());
    let store = RedisStore::new(builder(&url).build().unwrap());
    passes_the_suite(&store).await;
    // Idle connections are PINGed: that is on the list too.
    let mut conn = store.pool().get().await.unwrap();
    let pong: String = redis::cmd("PING").query_async(&mut conn).await.unwrap();
    assert_eq!(pong, "PONG");
    // And the list is a restriction: a command not on it is refused.
    let err = redis::cmd("KEYS")
        .arg("*")
        .query_async::<Vec<String>>(&mut conn)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("NOPERM"), "{err}");
    prunes_with_scan_only(&store, &[&server]).await;
}

/// Adds an ACL user `admin` (password `admin`) who may do anything, to change the store's user
/// after the default user is switched off.
fn add_admin(node: &RedisServer) {
    let ok = node.cli(&[
        "ACL", "SETUSER", "admin", "on", ">admin", "~*", "&*", "+@all",
    ]);
    assert_eq!(ok.trim(), "OK");
}

/// What the docs say pruning needs on top of the rest.
const PRUNE_EXTRA: &str = "+scan";

/// The sweep of users' lists is refused without [`PRUNE_EXTRA`] and works with it (granted
/// by an `admin` user that [`add_admin`] made on each of `nodes`).
async fn prunes_with_scan_only(store: &RedisStore, nodes: &[&RedisServer]) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    assert!(readme.contains(&format!("`{PRUNE_EXTRA}` to prune")));
    let err = store.prune().await.unwrap_err();
    assert!(
        matches!(err, actix_typed_session::StoreError::Unavailable(_)),
        "{err:?}"
    );
    for node in nodes {
        let admin = ["--user", "admin", "--pass", "admin"];
        let ok = node.cli(&[&admin[..], &["ACL", "SETUSER", "sessions", PRUNE_EXTRA]].concat());
        assert_eq!(ok.trim(), "OK");
    }
    store.prune().await.unwrap();
}

#[actix_web::test]
async fn the_documented_acl_is_enough_on_a_cluster() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    assert!(readme.contains(&format!("`{CLUSTER_EXTRA}` on a cluster")));
    let acl = format!("{} {CLUSTER_EXTRA}", documented_acl());
    let cluster = RedisCluster::start(3, 0);
    let args: Vec<&str> = acl.split_whitespace().collect();
    for node in cluster.nodes() {
        assert_eq!(node.cli(&args).trim(), "OK", "{acl}");
        add_admin(node);
    }
    let urls = cluster
        .nodes()
        .iter()
        .map(|node| format!("redis://sessions:password@127.0.0.1:{}", node.port()));
    let pool = timeouts(RedisPool::cluster_builder(urls)).build().unwrap();
    let store = RedisStore::new(pool);
    passes_the_suite(&store).await;
    prunes_with_scan_only(&store, &cluster.nodes().iter().collect::<Vec<_>>()).await;
}
