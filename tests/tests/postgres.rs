//! `PostgresStore` on a real PostgreSQL server that each test starts (initdb into a temp dir):
//! the acceptance suites, round trips counted by `pg_stat_statements`, concurrency, expiry and
//! pruning, corrupt rows, the server going away and coming back.

mod many_sessions;
mod sql_support;

use std::time::{Duration, Instant};

use actix_typed_session::{
    store::{
        start_pruning, ChangeSet, Keys, PostgresStore, Prune as _, SessionStore, SqlConfigError,
    },
    testing::{self, body, get, set_cookie, Capabilities},
    Clock, SessionId, SessionMiddleware, StoreError,
};
use actix_web::cookie::Key;
use session_tests::postgres_server::PostgresServer;
use sql_support::{middleware, HOUR, OPAQUE_503};

fn store(server: &PostgresServer) -> PostgresStore {
    PostgresStore::open(&server.url()).unwrap()
}

fn rows(server: &PostgresServer, table: &str) -> u64 {
    server
        .psql(&format!("SELECT count(*) FROM {table}"))
        .parse()
        .unwrap()
}

/// A store whose expiry follows a manual clock, and the clock.
fn on_a_manual_clock(server: &PostgresServer) -> (PostgresStore, Clock) {
    let clock = Clock::manual();
    let store = PostgresStore::builder(&server.url())
        .unwrap()
        .clock(clock.clone())
        .build()
        .unwrap();
    (store, clock)
}

#[actix_web::test]
async fn postgres_store_passes_the_store_suite() {
    let server = PostgresServer::start();
    let (store, clock) = on_a_manual_clock(&server);
    sql_support::store_suite_on_a_clock(&store, clock).await;
}

#[actix_web::test]
async fn postgres_expiry_follows_the_stores_clock() {
    let server = PostgresServer::start();
    let (store, clock) = on_a_manual_clock(&server);
    let rows = || rows(&server, "sessions");
    sql_support::expiry_follows_the_stores_clock(&store, &clock, rows).await;
}

#[actix_web::test]
async fn postgres_store_passes_the_http_suite() {
    let server = PostgresServer::start();
    let key = Key::generate();
    // Each check gets its own store (its own pool) on the same database.
    testing::http_suite(
        || SessionMiddleware::new(store(&server), key.clone()),
        Capabilities::server_side(),
    )
    .await;
}

/// Store calls per request stay within budget, and `pg_stat_statements` confirms that each
/// call is exactly one statement.
#[actix_web::test]
async fn postgres_round_trips_per_request_stay_within_budget() {
    let server = PostgresServer::start();
    server.psql("CREATE EXTENSION pg_stat_statements");
    let store = PostgresStore::builder(&server.url())
        .unwrap()
        .table("counted_sessions")
        .build()
        .unwrap();
    store.create_schema().await.unwrap();
    let statements = || {
        // Statements on the session table; the schema's are created above, before counting.
        let sql = "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements \
                   WHERE query LIKE '%counted_sessions%' \
                   AND query NOT LIKE '%pg_stat_statements%' \
                   AND query NOT LIKE '%CREATE%'";
        Some(server.psql(sql).parse::<u64>().unwrap())
    };
    sql_support::round_trips_stay_within_budget(store, statements).await;
}

#[actix_web::test]
async fn postgres_concurrent_changes_to_different_keys_are_all_kept() {
    let server = PostgresServer::start();
    sql_support::concurrent_changes_are_all_kept(store(&server)).await;
}

/// Two stores (two pools, as two app servers would have) change one session concurrently,
/// each its own keys: every change survives.
#[actix_web::test]
async fn postgres_stores_sharing_a_database_merge_concurrent_changes() {
    let server = PostgresServer::start();
    let (a, b) = (store(&server), store(&server));
    let id = SessionId::generate();
    a.save(&id, &ChangeSet::create().upsert("base", "0"), HOUR)
        .await
        .unwrap();
    let writes = (0..32).map(|i| {
        let (store, id) = (if i % 2 == 0 { &a } else { &b }, &id);
        async move {
            let changes = ChangeSet::update()
                .upsert(format!("k{i}"), i.to_string())
                .remove("base");
            store.save(id, &changes, HOUR).await.unwrap()
        }
    });
    futures_util::future::join_all(writes).await;
    let got = b.load(&id, Keys::All, None).await.unwrap().unwrap();
    assert_eq!(got.len(), 32, "{got:?}");
    assert!(!got.contains_key("base"));
}

#[actix_web::test]
async fn postgres_logout_beats_a_late_write() {
    let server = PostgresServer::start();
    let store = store(&server);
    store.create_schema().await.unwrap();
    sql_support::logout_beats_a_late_write(store.clone(), || rows(&server, "sessions")).await;
    sql_support::deleted_sessions_stay_deleted(&store).await;
}

#[actix_web::test]
async fn postgres_expired_sessions_are_never_served() {
    let server = PostgresServer::start();
    let store = store(&server);
    sql_support::expired_sessions_are_never_served(&store).await;
    let id = SessionId::generate();
    store
        .save(&id, &ChangeSet::create().upsert("k", "1"), HOUR)
        .await
        .unwrap();
    server.psql("UPDATE sessions SET expires_at = now() - interval '1 second'");
    assert_eq!(store.load(&id, Keys::All, None).await.unwrap(), None);
    assert!(!store.refresh(&id, HOUR).await.unwrap());
}

#[actix_web::test]
async fn postgres_values_round_trip_exactly() {
    let server = PostgresServer::start();
    sql_support::values_round_trip_exactly(&store(&server)).await;
}

#[actix_web::test]
async fn postgres_prune_deletes_expired_rows_only() {
    let server = PostgresServer::start();
    let store = store(&server);
    let live = sql_support::one_live_two_expired(&store).await;
    assert_eq!(rows(&server, "sessions"), 3);
    assert_eq!(store.prune().await.unwrap().expired, 2);
    assert_eq!(rows(&server, "sessions"), 1);
    assert!(store.load(&live, Keys::All, None).await.unwrap().is_some());
    assert_eq!(store.prune().await.unwrap().expired, 0);
}

#[actix_web::test]
async fn postgres_background_pruning_runs_until_stopped() {
    let server = PostgresServer::start();
    let store = store(&server);
    sql_support::one_live_two_expired(&store).await;
    let pruner = start_pruning(&store, Duration::from_millis(20)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while rows(&server, "sessions") != 1 {
        assert!(Instant::now() < deadline, "the pruner never ran");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    pruner.stop();
}

#[actix_web::test]
async fn postgres_corrupt_rows_are_a_fresh_session() {
    let server = PostgresServer::start();
    let store = store(&server);
    let id = SessionId::generate();
    store
        .save(&id, &ChangeSet::create().upsert("k", "1"), HOUR)
        .await
        .unwrap();
    for garbage in [
        "'[1,2]'",
        "'{\"k\": 1}'",
        "'\"k\"'",
        "'null'",
        "'{\"k\": {}}'",
    ] {
        server.psql(&format!("UPDATE sessions SET data = {garbage}"));
        sql_support::corrupt_row_is_reported(&store, &id).await;
    }

    // Through the middleware: a fresh session, not an error.
    let app = testing::serve(testing::routes, middleware(store.clone(), Key::generate())).await;
    let res = get(&app, "/counter", None).await;
    let cookie = set_cookie(&res).unwrap();
    server.psql("UPDATE sessions SET data = '[\"garbage\"]'");
    let res = get(&app, "/read", Some(&cookie)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(body(res).await, "0");
    let res = get(&app, "/counter", Some(&cookie)).await;
    assert_eq!(res.status(), 200);
    assert!(set_cookie(&res).is_some(), "a new session");
    assert_eq!(body(res).await, "1");
}

/// The server stops: session routes answer an opaque 503 within the timeout, others keep
/// working; once it is back (same data), requests work again without restarting the app.
#[actix_web::test]
async fn postgres_stopped_fails_only_session_routes_and_recovers_after_restart() {
    let mut server = PostgresServer::start();
    let timeout = Duration::from_secs(1);
    let store = PostgresStore::builder(&server.url())
        .unwrap()
        .timeout(timeout)
        .build()
        .unwrap();
    let app = testing::serve(testing::routes, middleware(store.clone(), Key::generate())).await;
    let res = get(&app, "/counter", None).await;
    let cookie = set_cookie(&res).unwrap();

    server.stop();
    for uri in ["/counter", "/read", "/set/a/b", "/renew", "/purge"] {
        let started = Instant::now();
        let res = get(&app, uri, Some(&cookie)).await;
        let took = started.elapsed();
        assert_eq!(res.status(), 503, "{uri} with PostgreSQL down");
        assert_eq!(res.headers().get("retry-after").unwrap(), "5", "{uri}");
        assert!(
            took < timeout + Duration::from_millis(500),
            "{uri} took {took:?}"
        );
        assert_eq!(body(res).await, OPAQUE_503, "{uri}: opaque 503");
    }
    let err = store
        .load(&SessionId::generate(), Keys::All, None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Unavailable(_) | StoreError::Timeout),
        "{err:?}"
    );
    let res = get(&app, "/noop", Some(&cookie)).await;
    assert_eq!(res.status(), 200, "routes without the session keep working");

    server.restart();
    // Recovery is the promise, not its first instant: on a loaded machine the pool may still
    // be replacing connections when the first request arrives. Bounded: 10 s.
    let deadline = Instant::now() + Duration::from_secs(10);
    let res = loop {
        let res = get(&app, "/read", Some(&cookie)).await;
        if res.status() == 200 || Instant::now() > deadline {
            break res;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(res.status(), 200, "works again without restarting the app");
    assert_eq!(body(res).await, "1", "the session survived the restart");
}

/// A server that accepts connections but never answers: calls time out within the timeout,
/// and work once it answers again.
#[actix_web::test]
async fn postgres_that_stops_answering_times_out() {
    let server = PostgresServer::start();
    let timeout = Duration::from_millis(500);
    let store = PostgresStore::builder(&server.url())
        .unwrap()
        .timeout(timeout)
        .build()
        .unwrap();
    let id = SessionId::generate();
    store.save(&id, &ChangeSet::create(), HOUR).await.unwrap();
    let pid = server.pid().unwrap().to_string();
    let signal = |signal: &str| {
        std::process::Command::new("kill")
            .args([signal, &pid])
            .status()
            .unwrap();
    };
    // A paused postmaster still lets the kernel accept connections but never answers them.
    signal("-STOP");
    let fresh = PostgresStore::builder(&server.url())
        .unwrap()
        .timeout(timeout)
        .build()
        .unwrap();
    let started = Instant::now();
    let err = fresh.load(&id, Keys::All, None).await.unwrap_err();
    let took = started.elapsed();
    signal("-CONT");
    assert!(matches!(err, StoreError::Timeout), "{err:?}");
    assert!(took < timeout + Duration::from_millis(500), "took {took:?}");
    assert!(fresh.load(&id, Keys::All, None).await.unwrap().is_some());
}

#[actix_web::test]
async fn postgres_table_names_are_checked_and_used() {
    let server = PostgresServer::start();
    let err = PostgresStore::builder(&server.url())
        .unwrap()
        .table("sessions; DROP TABLE x")
        .build()
        .unwrap_err();
    assert!(matches!(err, SqlConfigError::InvalidTable { .. }));
    assert!(matches!(
        PostgresStore::open("not a url"),
        Err(SqlConfigError::Url(_))
    ));
    let store = PostgresStore::builder(&server.url())
        .unwrap()
        .table("web_sessions")
        .build()
        .unwrap();
    store
        .save(&SessionId::generate(), &ChangeSet::create(), HOUR)
        .await
        .unwrap();
    assert_eq!(rows(&server, "web_sessions"), 1);
}

/// Many stores (as many processes) on a new database create the schema at once: none fails.
#[actix_web::test]
async fn postgres_schema_creation_is_safe_when_stores_start_at_once() {
    let server = PostgresServer::start();
    let stores: Vec<PostgresStore> = (0..8).map(|_| store(&server)).collect();
    let first = stores.iter().map(|s| s.create_schema());
    for result in futures_util::future::join_all(first).await {
        result.unwrap();
    }
}

/// A table made by the previous schema (no `user_id` column) gets the column, its index and
/// its signed-in rows' users when stores open it, several at once.
#[actix_web::test]
async fn postgres_previous_schema_is_migrated_for_user_listing() {
    let server = PostgresServer::start();
    server.psql(
        "CREATE TABLE sessions (id TEXT PRIMARY KEY, data JSONB NOT NULL, \
         expires_at TIMESTAMPTZ NOT NULL)",
    );
    let (ada, rows) = sql_support::previous_schema_rows();
    for (id, data) in &rows {
        let data = data.replace('\'', "''");
        server.psql(&format!(
            "INSERT INTO sessions VALUES ('{id}', '{data}'::jsonb, now() + interval '1 hour')"
        ));
    }
    let stores: Vec<PostgresStore> = (0..4).map(|_| store(&server)).collect();
    let schemas = stores.iter().map(|s| s.create_schema());
    for result in futures_util::future::join_all(schemas).await {
        result.unwrap();
    }
    let indexed =
        server.psql("SELECT count(*) FROM pg_indexes WHERE indexname = 'sessions_user_id'");
    assert_eq!(indexed, "1");
    sql_support::previous_schema_is_migrated(&stores[0], &ada).await;
}

/// A user with 5,000 sessions: listed and ended within the store's deadline (one statement
/// each, on the indexed `user_id` column), and a log out everywhere cut off and retried ends
/// them all.
#[actix_web::test]
async fn postgres_lists_and_ends_thousands_of_a_users_sessions_within_the_deadline() {
    let server = PostgresServer::start();
    many_sessions::thousands_of_sessions(&store(&server), 5_000, 5_000).await;
}
