//! `SqliteStore` on real database files: the acceptance suites, round trips, concurrency,
//! expiry and pruning, corrupt rows, a locked database, several stores on one file.

mod many_sessions;
mod sql_support;

use std::{
    path::Path,
    time::{Duration, Instant},
};

use actix_typed_session::{
    store::{
        start_pruning, ChangeSet, Keys, Prune as _, SaveOutcome, SessionStore, SqlConfigError,
        SqliteStore, USER_KEY,
    },
    testing::{self, body, get, set_cookie, Capabilities},
    Clock, SessionId, SessionMiddleware, StoreError,
};
use actix_web::cookie::Key;
use sql_support::{middleware, HOUR, OPAQUE_503};

fn store(dir: &Path) -> SqliteStore {
    SqliteStore::open(dir.join("sessions.db")).unwrap()
}

/// A store in `dir` whose expiry follows a manual clock, and the clock.
fn on_a_manual_clock(dir: &Path) -> (SqliteStore, Clock) {
    let clock = Clock::manual();
    let store = SqliteStore::builder(dir.join("sessions.db"))
        .clock(clock.clone())
        .build()
        .unwrap();
    (store, clock)
}

/// A connection of its own to the database file at `path`, as another process would have.
fn connect(path: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    conn
}

/// Runs one SQL statement on the store's database, outside the store.
async fn exec(store: &SqliteStore, sql: &str) -> u64 {
    connect(store.path()).execute(sql, []).unwrap() as u64
}

/// One number a query answers, outside the store.
fn scalar(store: &SqliteStore, sql: &str) -> i64 {
    connect(store.path())
        .query_row(sql, [], |row| row.get(0))
        .unwrap()
}

/// Counts the rows of the `sessions` table, outside the store, each time it is called.
fn row_counter(store: &SqliteStore) -> impl Fn() -> u64 {
    let store = store.clone();
    move || scalar(&store, "SELECT count(*) FROM sessions") as u64
}

async fn rows(store: &SqliteStore) -> i64 {
    scalar(store, &format!("SELECT count(*) FROM {}", store.table()))
}

/// A table an earlier version made, with one index, in a new database file in `dir`: a
/// connection to that file, to fill the table.
async fn earlier_table(dir: &Path, table: &str, index: &str) -> rusqlite::Connection {
    let old = store(dir);
    exec(&old, table).await;
    exec(&old, index).await;
    connect(old.path())
}

/// An expiry an hour from now, in Unix milliseconds.
fn in_an_hour() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from((now + HOUR).as_millis()).unwrap()
}

/// `count` stores on the database file in `dir`, opened at once (their schema made or
/// migrated); each must succeed.
async fn open_at_once(dir: &Path, count: usize) -> Vec<SqliteStore> {
    let stores: Vec<SqliteStore> = (0..count).map(|_| store(dir)).collect();
    let schemas = stores.iter().map(|s| s.create_schema());
    for result in futures_util::future::join_all(schemas).await {
        result.unwrap();
    }
    stores
}

#[actix_web::test]
async fn sqlite_store_passes_the_store_suite() {
    let dir = tempfile::tempdir().unwrap();
    let (store, clock) = on_a_manual_clock(dir.path());
    sql_support::store_suite_on_a_clock(&store, clock).await;
}

#[actix_web::test]
async fn sqlite_expiry_follows_the_stores_clock() {
    let dir = tempfile::tempdir().unwrap();
    let (store, clock) = on_a_manual_clock(dir.path());
    sql_support::expiry_follows_the_stores_clock(&store, &clock, row_counter(&store)).await;
}

#[actix_web::test]
async fn sqlite_store_passes_the_http_suite() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate();
    // Each check gets its own store on the same file, as processes would.
    testing::http_suite(
        || SessionMiddleware::new(store(dir.path()), key.clone()),
        Capabilities::server_side(),
    )
    .await;
}

/// Release 1 and release 2 of typed sessions on one database: stale values reset (and leave
/// the row with the next save), migrate, or error; versions and removed keys.
#[actix_web::test]
async fn sqlite_typed_sessions_survive_a_deploy() {
    let dir = tempfile::tempdir().unwrap();
    let middleware = SessionMiddleware::builder(store(dir.path()), Key::generate())
        .cookie_secure(false)
        .build();
    testing::deploy_suite(middleware).await;
}

#[actix_web::test]
async fn sqlite_round_trips_per_request_stay_within_budget() {
    let dir = tempfile::tempdir().unwrap();
    sql_support::round_trips_stay_within_budget(store(dir.path()), || None).await;
}

#[actix_web::test]
async fn sqlite_concurrent_changes_to_different_keys_are_all_kept() {
    let dir = tempfile::tempdir().unwrap();
    sql_support::concurrent_changes_are_all_kept(store(dir.path())).await;
}

/// Two stores (two pools, as two processes would have) on one file change one session
/// concurrently, each its own keys: every change survives.
#[actix_web::test]
async fn sqlite_stores_sharing_a_file_merge_concurrent_changes() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (store(dir.path()), store(dir.path()));
    let id = SessionId::generate();
    a.save(&id, &ChangeSet::create().upsert("base", "0"), HOUR)
        .await
        .unwrap();
    let writes = (0..32).map(|i| {
        let (store, id) = (if i % 2 == 0 { &a } else { &b }, &id);
        async move {
            let changes = ChangeSet::update().upsert(format!("k{i}"), i.to_string());
            store.save(id, &changes, HOUR).await.unwrap()
        }
    });
    for outcome in futures_util::future::join_all(writes).await {
        assert_eq!(outcome, SaveOutcome::Saved);
    }
    let got = b.load(&id, Keys::All, None).await.unwrap().unwrap();
    assert_eq!(got.len(), 33, "{got:?}");
}

#[actix_web::test]
async fn sqlite_logout_beats_a_late_write() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    sql_support::logout_beats_a_late_write(store.clone(), row_counter(&store)).await;
    sql_support::deleted_sessions_stay_deleted(&store).await;
}

#[actix_web::test]
async fn sqlite_expired_sessions_are_never_served() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    sql_support::expired_sessions_are_never_served(&store).await;
    // A row whose expiry passed (set by hand) is as good as absent.
    let id = SessionId::generate();
    store
        .save(&id, &ChangeSet::create().upsert("k", "1"), HOUR)
        .await
        .unwrap();
    exec(
        &store,
        "UPDATE sessions SET expires_at = expires_at - 3600001",
    )
    .await;
    assert_eq!(store.load(&id, Keys::All, None).await.unwrap(), None);
}

#[actix_web::test]
async fn sqlite_values_round_trip_exactly() {
    let dir = tempfile::tempdir().unwrap();
    sql_support::values_round_trip_exactly(&store(dir.path())).await;
}

#[actix_web::test]
async fn sqlite_prune_deletes_expired_rows_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let live = sql_support::one_live_two_expired(&store).await;
    assert_eq!(rows(&store).await, 3);
    assert_eq!(store.prune().await.unwrap().expired, 2);
    assert_eq!(rows(&store).await, 1);
    assert!(store.load(&live, Keys::All, None).await.unwrap().is_some());
    assert_eq!(store.prune().await.unwrap().expired, 0);
}

#[actix_web::test]
async fn sqlite_background_pruning_runs_until_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    sql_support::one_live_two_expired(&store).await;
    let pruner = start_pruning(&store, Duration::from_millis(20)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while rows(&store).await != 1 {
        assert!(Instant::now() < deadline, "the pruner never ran");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    pruner.stop();
    sql_support::one_live_two_expired(&store).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(rows(&store).await, 4, "a stopped pruner deletes nothing");
}

#[test]
fn sqlite_pruning_needs_a_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    assert!(start_pruning(&store, Duration::from_secs(1)).is_err());
}

#[actix_web::test]
async fn sqlite_corrupt_rows_are_a_fresh_session() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let id = SessionId::generate();
    store
        .save(&id, &ChangeSet::create().upsert("k", "1"), HOUR)
        .await
        .unwrap();
    for garbage in [
        "'not json'",
        "'[1,2]'",
        "'{\"k\": 1}'",
        "'\"k\"'",
        "x'00ff'",
        "42",
    ] {
        exec(&store, &format!("UPDATE sessions SET data = {garbage}")).await;
        sql_support::corrupt_row_is_reported(&store, &id).await;
    }

    // Through the middleware: a fresh session, not an error.
    let app = testing::serve(testing::routes, middleware(store.clone(), Key::generate())).await;
    let res = get(&app, "/counter", None).await;
    let cookie = set_cookie(&res).unwrap();
    exec(&store, "UPDATE sessions SET data = 'garbage'").await;
    let res = get(&app, "/read", Some(&cookie)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(body(res).await, "0");
    let res = get(&app, "/counter", Some(&cookie)).await;
    assert_eq!(res.status(), 200);
    assert!(set_cookie(&res).is_some(), "a new session");
    assert_eq!(body(res).await, "1");
}

/// Another connection holds the write lock past the store's timeout: writes fail with an
/// opaque 503 within the timeout, reads and routes without the session keep working, and everything
/// works again once the lock is released, without a restart.
#[actix_web::test]
async fn sqlite_locked_database_fails_only_session_writes_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.db");
    let timeout = Duration::from_millis(500);
    let store = SqliteStore::builder(&path)
        .timeout(timeout)
        .build()
        .unwrap();
    let app = testing::serve(testing::routes, middleware(store.clone(), Key::generate())).await;
    let res = get(&app, "/counter", None).await;
    let cookie = set_cookie(&res).unwrap();

    let holder = connect(&path);
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    for uri in ["/counter", "/set/a/b", "/renew", "/purge"] {
        let started = Instant::now();
        let res = get(&app, uri, Some(&cookie)).await;
        let took = started.elapsed();
        assert_eq!(res.status(), 503, "{uri} with the database locked");
        assert_eq!(res.headers().get("retry-after").unwrap(), "5", "{uri}");
        assert!(
            took < timeout * 2 + Duration::from_millis(500),
            "{uri} took {took:?}"
        );
        assert_eq!(body(res).await, OPAQUE_503, "{uri}: opaque 503");
    }
    let err = store
        .save(&SessionId::generate(), &ChangeSet::create(), HOUR)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Timeout), "{err:?}");
    let res = get(&app, "/noop", Some(&cookie)).await;
    assert_eq!(res.status(), 200, "routes without the session keep working");
    // WAL: reads do not wait for the lock, and run on this thread without waiting.
    let started = Instant::now();
    let res = get(&app, "/read", Some(&cookie)).await;
    assert_eq!(res.status(), 200, "reading the session needs no lock");
    assert_eq!(body(res).await, "1");
    assert!(started.elapsed() < timeout, "a read waited for the lock");

    holder.execute_batch("COMMIT").unwrap();
    let res = get(&app, "/counter", Some(&cookie)).await;
    assert_eq!(res.status(), 200, "works again once the lock is released");
    assert_eq!(body(res).await, "2");
}

/// Sessions are credentials: the database and its WAL files are the owner's alone, whatever
/// the umask (SQLite alone would make them 0644).
#[cfg(unix)]
#[actix_web::test]
async fn sqlite_files_are_created_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let changes = ChangeSet::create().upsert("k", "1");
    store
        .save(&SessionId::generate(), &changes, HOUR)
        .await
        .unwrap();
    for name in ["sessions.db", "sessions.db-wal", "sessions.db-shm"] {
        let meta = std::fs::metadata(dir.path().join(name)).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{name}");
    }
}

#[actix_web::test]
async fn sqlite_database_that_cannot_be_opened_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("missing-dir/sessions.db")).unwrap();
    let err = store
        .load(&SessionId::generate(), Keys::All, None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
}

#[actix_web::test]
async fn sqlite_table_names_are_checked_and_used() {
    let dir = tempfile::tempdir().unwrap();
    let err = SqliteStore::builder(dir.path().join("s.db"))
        .table("sessions; DROP TABLE x")
        .build()
        .unwrap_err();
    assert!(matches!(err, SqlConfigError::InvalidTable { .. }));
    let store = SqliteStore::builder(dir.path().join("s.db"))
        .table("web_sessions")
        .build()
        .unwrap();
    let id = SessionId::generate();
    store.save(&id, &ChangeSet::create(), HOUR).await.unwrap();
    assert_eq!(scalar(&store, "SELECT count(*) FROM web_sessions"), 1);
}

/// Many stores on a new file create the schema at once: none fails.
#[actix_web::test]
async fn sqlite_schema_creation_is_safe_when_stores_start_at_once() {
    let dir = tempfile::tempdir().unwrap();
    open_at_once(dir.path(), 8).await;
}

/// A table made by the previous schema (no `user_id` column) gets the column, its index and
/// its signed-in rows' users when stores open it, several at once.
#[actix_web::test]
async fn sqlite_previous_schema_is_migrated_for_user_listing() {
    let dir = tempfile::tempdir().unwrap();
    let conn = earlier_table(
        dir.path(),
        "CREATE TABLE sessions (id TEXT PRIMARY KEY NOT NULL, data TEXT NOT NULL, \
         expires_at INTEGER NOT NULL)",
        // Its expiry index, which the current layout drops (prune scans the table).
        "CREATE INDEX sessions_expires_at ON sessions (expires_at)",
    )
    .await;
    let (ada, rows) = sql_support::previous_schema_rows();
    for (id, data) in &rows {
        conn.execute(
            "INSERT INTO sessions VALUES (?1, ?2, ?3)",
            rusqlite::params![id, data, in_an_hour()],
        )
        .unwrap();
    }
    let stores = open_at_once(dir.path(), 4).await;
    let old = &stores[0];
    let indexed = scalar(
        old,
        "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'sessions_user_id'",
    );
    assert_eq!(indexed, 1);
    let expiry_index = scalar(
        old,
        "SELECT count(*) FROM sqlite_master WHERE name = 'sessions_expires_at'",
    );
    assert_eq!(expiry_index, 0);
    sql_support::previous_schema_is_migrated(&stores[0], &ada).await;
}

/// A new database gets 1 KiB pages and no index on the expiry (each save would change it): a
/// save of a small session changes one page of the table.
#[actix_web::test]
async fn sqlite_new_database_layout_writes_one_page_per_save() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    store.create_schema().await.unwrap();
    assert_eq!(scalar(&store, "PRAGMA page_size"), 1024);
    let indexes = scalar(
        &store,
        "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sessions' \
         AND sql IS NOT NULL",
    );
    assert_eq!(indexes, 1, "only the partial index on user_id");
    let keyed = "SELECT count(*) FROM pragma_table_info('sessions') WHERE name = 'key' AND pk = 1";
    assert_eq!(
        scalar(&store, keyed),
        1,
        "rows found by an integer key, the rowid"
    );
}

/// Rows are found by an integer key made of the id's first ten characters: a session whose
/// id shares them with another live session's never reads, changes, renews into or deletes
/// that session's row; once the other row has expired, the new session takes its place.
#[actix_web::test]
async fn sqlite_ids_sharing_a_row_key_never_touch_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let first = SessionId::generate();
    let twin = loop {
        let other = SessionId::generate();
        let text = format!("{}{}", &first.as_str()[..10], &other.as_str()[10..]);
        if text != first.as_str() {
            break SessionId::try_from(text.as_str()).unwrap();
        }
    };
    let mine = ChangeSet::create().upsert("owner", "\"first\"");
    store.save(&first, &mine, HOUR).await.unwrap();
    let first_is_intact = || async {
        let got = store.load(&first, Keys::All, None).await.unwrap().unwrap();
        assert_eq!(got.get("owner").map(String::as_str), Some("\"first\""));
        assert_eq!(got.len(), 1, "{got:?}");
    };

    assert_eq!(store.load(&twin, Keys::All, None).await.unwrap(), None);
    assert_eq!(
        store.load(&twin, Keys::All, Some(HOUR)).await.unwrap(),
        None
    );
    let theirs = ChangeSet::create().upsert("owner", "\"twin\"");
    let err = store.save(&twin, &theirs, HOUR).await.unwrap_err();
    assert!(matches!(err, StoreError::Other(_)), "{err:?}");
    let update = ChangeSet::update().upsert("owner", "\"twin\"");
    assert_eq!(
        store.save(&twin, &update, HOUR).await.unwrap(),
        SaveOutcome::Gone
    );
    assert!(!store.refresh(&twin, HOUR).await.unwrap());
    store.delete(&twin).await.unwrap();
    first_is_intact().await;

    // A renewal into the twin id fails as a whole: the renewed session keeps its old id.
    let renewed = SessionId::generate();
    store
        .save(&renewed, &ChangeSet::create().upsert("k", "1"), HOUR)
        .await
        .unwrap();
    let err = store
        .renew(&renewed, &twin, &ChangeSet::update(), HOUR)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Other(_)), "{err:?}");
    assert!(store
        .load(&renewed, Keys::All, None)
        .await
        .unwrap()
        .is_some());
    first_is_intact().await;

    // Expired, the first row gives way to a new session under its key.
    exec(
        &store,
        &format!(
            "UPDATE sessions SET expires_at = 1 WHERE id = '{}'",
            first.as_str()
        ),
    )
    .await;
    assert_eq!(
        store.save(&twin, &theirs, HOUR).await.unwrap(),
        SaveOutcome::Saved
    );
    let got = store.load(&twin, Keys::All, None).await.unwrap().unwrap();
    assert_eq!(got.get("owner").map(String::as_str), Some("\"twin\""));
    assert_eq!(store.load(&first, Keys::All, None).await.unwrap(), None);
}

/// A table of the layout before row keys (`id TEXT PRIMARY KEY`, with `user_id`) is moved to
/// the keyed layout when stores open it, several at once: every session and user stays, a row
/// under an id this crate would not write (no request could load it) is dropped, the old table
/// is gone.
#[actix_web::test]
async fn sqlite_table_without_row_keys_is_moved_to_keyed_rows() {
    let dir = tempfile::tempdir().unwrap();
    let conn = earlier_table(
        dir.path(),
        "CREATE TABLE sessions (id TEXT PRIMARY KEY NOT NULL, data TEXT NOT NULL, \
         expires_at INTEGER NOT NULL, user_id TEXT)",
        "CREATE INDEX sessions_user_id ON sessions (user_id) WHERE user_id IS NOT NULL",
    )
    .await;
    let live = in_an_hour();
    let ids: Vec<SessionId> = (0..50).map(|_| SessionId::generate()).collect();
    let record = serde_json::json!({ "user": "ada", "at": 1, "ttl": HOUR.as_secs() });
    for (i, id) in ids.iter().enumerate() {
        let (data, user) = if i == 0 {
            let data = serde_json::json!({ USER_KEY: record.to_string(), "n": "0" });
            (data.to_string(), Some("ada"))
        } else {
            (format!(r#"{{"n":"{i}"}}"#), None)
        };
        conn.execute(
            "INSERT INTO sessions VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![id.as_str(), data, live, user],
        )
        .unwrap();
    }
    conn.execute(
        "INSERT INTO sessions VALUES ('not-an-id', '{}', ?1, NULL)",
        [live],
    )
    .unwrap();
    let stores = open_at_once(dir.path(), 4).await;
    let old = &stores[0];
    let keyed = "SELECT count(*) FROM pragma_table_info('sessions') WHERE name = 'key' AND pk = 1";
    assert_eq!(scalar(old, keyed), 1);
    assert_eq!(rows(old).await, 50);
    let leftovers = "SELECT count(*) FROM sqlite_master WHERE name = 'sessions_before_keys'";
    assert_eq!(scalar(old, leftovers), 0);
    let user_index = "SELECT count(*) FROM sqlite_master WHERE name = 'sessions_user_id'";
    assert_eq!(scalar(old, user_index), 1);
    for (i, id) in ids.iter().enumerate() {
        let got = stores[i % 4]
            .load(id, Keys::All, None)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.get("n"), Some(&i.to_string()), "{i}");
    }
    let listed = stores[1].user_sessions("ada").await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].id, ids[0]);
}

/// Calls from several threads at once (actix-web workers), after one thread had the store to
/// itself: every change of every thread is kept and readable.
#[test]
fn sqlite_calls_from_several_threads_keep_every_change() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let id = SessionId::generate();
    actix_web::rt::System::new().block_on(async {
        let changes = ChangeSet::create().upsert("base", "0");
        store.save(&id, &changes, HOUR).await.unwrap();
    });
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (store, id) = (store.clone(), id.clone());
            std::thread::spawn(move || {
                actix_web::rt::System::new().block_on(async move {
                    for i in 0..25 {
                        let key = format!("t{t}-{i}");
                        let changes = ChangeSet::update().upsert(key.clone(), i.to_string());
                        assert_eq!(
                            store.save(&id, &changes, HOUR).await.unwrap(),
                            SaveOutcome::Saved
                        );
                        let got = store.load(&id, Keys::All, None).await.unwrap().unwrap();
                        assert_eq!(got.get(&key), Some(&i.to_string()), "{key}");
                    }
                });
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    actix_web::rt::System::new().block_on(async {
        let got = store.load(&id, Keys::All, None).await.unwrap().unwrap();
        assert_eq!(got.len(), 101, "{got:?}");
    });
}

/// With several threads calling the store (every call on its SQLite thread), a write waiting
/// for the lock another process holds does not hold back reads: they answer at once, and the
/// write goes through once the lock is released.
#[test]
fn sqlite_reads_do_not_wait_behind_a_write_waiting_for_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::builder(dir.path().join("sessions.db"))
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let id = SessionId::generate();
    let on_a_thread = |store: &SqliteStore, id: &SessionId, key: Option<&'static str>| {
        let (store, id) = (store.clone(), id.clone());
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let started = Instant::now();
                match key {
                    Some(key) => {
                        let changes = ChangeSet::update().upsert(key, "1");
                        assert_eq!(
                            store.save(&id, &changes, HOUR).await.unwrap(),
                            SaveOutcome::Saved
                        );
                    }
                    None => {
                        let got = store.load(&id, Keys::All, None).await.unwrap().unwrap();
                        assert_eq!(got["base"], "0");
                    }
                }
                started.elapsed()
            })
        })
    };
    actix_web::rt::System::new().block_on(async {
        let changes = ChangeSet::create().upsert("base", "0");
        store.save(&id, &changes, HOUR).await.unwrap();
    });
    // A second thread: from here on every call goes to the store's SQLite thread.
    on_a_thread(&store, &id, None).join().unwrap();

    let other_process = connect(store.path());
    other_process.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let write = on_a_thread(&store, &id, Some("late"));
    std::thread::sleep(Duration::from_millis(1000));
    let read = on_a_thread(&store, &id, None).join().unwrap();
    assert!(read < Duration::from_millis(500), "the read took {read:?}");
    assert!(!write.is_finished(), "the write waits for the lock");
    other_process.execute_batch("COMMIT").unwrap();
    let waited = write.join().unwrap();
    // The write's clock starts inside its thread, a little after the lock was taken and the
    // second counted here began: it waited for most of that second, never for none of it.
    assert!(waited >= Duration::from_millis(700), "{waited:?}");
    actix_web::rt::System::new().block_on(async {
        let got = store.load(&id, Keys::All, None).await.unwrap().unwrap();
        assert_eq!(got["late"], "1");
    });
}

/// A user with 5,000 sessions: listed and ended within the store's deadline (one statement
/// each, on the indexed `user_id` column), and a log out everywhere cut off and retried ends
/// them all.
#[actix_web::test]
async fn sqlite_lists_and_ends_thousands_of_a_users_sessions_within_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    many_sessions::thousands_of_sessions(&store(dir.path()), 5_000, 5_000).await;
}
