//! Checks shared by the SQLite and PostgreSQL store tests: the same promises, two databases.

#![allow(dead_code)] // Each test file uses its own subset.

use std::{sync::Arc, time::Duration};

use actix_typed_session::{
    store::{ChangeSet, Keys, Prune, SaveOutcome, SessionStore, USER_KEY},
    testing::{self, body, get, set_cookie, Capabilities},
    Clock, Session, SessionId, SessionMiddleware, StoreError,
};
use actix_web::{cookie::Key, test, web, App, HttpResponse};
use session_tests::counted::Counted;
use tokio::sync::Notify;

pub const HOUR: Duration = Duration::from_secs(3600);

/// A middleware on `store` for plain-HTTP test requests.
pub fn middleware<S: SessionStore>(store: S, key: Key) -> SessionMiddleware {
    SessionMiddleware::builder(store, key)
        .cookie_secure(false)
        .build()
}

/// Requests through the middleware cost at most these many store calls (each one statement or
/// one transaction): untouched 0, read 1, change 2 (load, then save).
pub async fn round_trips_stay_within_budget<S: SessionStore + Clone>(
    store: S,
    statements: impl Fn() -> Option<u64>,
) {
    let counted = Counted::new(store);
    let app = testing::serve(
        testing::routes,
        middleware(counted.clone(), Key::generate()),
    )
    .await;
    let res = get(&app, "/counter", None).await;
    let cookie = set_cookie(&res).unwrap();
    for (uri, budget) in [
        ("/noop", 0),
        ("/read", 1),
        ("/counter", 2),
        ("/set/a/b", 2),
        ("/renew", 2),
    ] {
        let (calls, stmts) = (counted.calls(), statements());
        let res = get(&app, uri, Some(&cookie)).await;
        assert_eq!(res.status(), 200, "{uri}");
        let cookie_after = set_cookie(&res);
        let used = counted.calls() - calls;
        assert_eq!(used, budget, "{uri}: {used} store calls, budget {budget}");
        if let (Some(before), Some(after)) = (stmts, statements()) {
            assert_eq!(
                after - before,
                budget as u64,
                "{uri}: each store call is one statement"
            );
        }
        if uri == "/renew" {
            let renewed = cookie_after.expect("renew sets a cookie");
            let (calls, stmts) = (counted.calls(), statements());
            let res = get(&app, "/purge", Some(&renewed)).await;
            assert_eq!(res.status(), 200);
            assert_eq!(counted.calls() - calls, 2, "/purge: load and delete");
            if let (Some(before), Some(after)) = (stmts, statements()) {
                assert_eq!(after - before, 2, "/purge: two statements");
            }
        }
    }
}

/// Sixteen concurrent requests on one session, each setting its own key: all are kept.
pub async fn concurrent_changes_are_all_kept<S: SessionStore + Clone>(store: S) {
    let app = testing::serve(testing::routes, middleware(store, Key::generate())).await;
    let res = get(&app, "/counter", None).await;
    let cookie = set_cookie(&res).unwrap();
    let uris: Vec<String> = (0..16).map(|i| format!("/set/k{i}/v{i}")).collect();
    let requests = uris.iter().map(|uri| get(&app, uri, Some(&cookie)));
    for res in futures_util::future::join_all(requests).await {
        assert_eq!(res.status(), 200);
    }
    for i in 0..16 {
        let res = get(&app, &format!("/get/k{i}"), Some(&cookie)).await;
        assert_eq!(body(res).await, format!("v{i}"), "k{i} kept");
    }
    let res = get(&app, "/read", Some(&cookie)).await;
    assert_eq!(body(res).await, "1", "the counter kept too");
}

/// A request that loaded the session writes after a concurrent logout: the logout stands, and
/// the store holds no row (`rows` counts the rows in the table).
pub async fn logout_beats_a_late_write<S: SessionStore + Clone>(store: S, rows: impl Fn() -> u64) {
    let loaded = Arc::new(Notify::new());
    let release = Arc::new(Notify::new());
    let (l, r) = (loaded.clone(), release.clone());
    let app = test::init_service(
        App::new()
            .wrap(
                SessionMiddleware::builder(store, Key::generate())
                    .cookie_secure(false)
                    .build(),
            )
            .configure(testing::routes)
            .route(
                "/slow-set",
                web::get().to(move |s: Session| {
                    let (loaded, release) = (l.clone(), r.clone());
                    async move {
                        s.load().await?;
                        loaded.notify_one();
                        release.notified().await;
                        s.insert("late", "write")?;
                        Ok::<_, actix_web::Error>(HttpResponse::Ok().finish())
                    }
                }),
            ),
    )
    .await;
    let res = get(&app, "/set/user/alice", None).await;
    let cookie = set_cookie(&res).unwrap();
    assert_eq!(rows(), 1);
    let slow = get(&app, "/slow-set", Some(&cookie));
    let logout = async {
        loaded.notified().await;
        let res = get(&app, "/purge", Some(&cookie)).await;
        assert_eq!(res.status(), 200);
        assert_eq!(rows(), 0, "purge deleted the row");
        release.notify_one();
    };
    let (slow, ()) = tokio::time::timeout(Duration::from_secs(10), async {
        tokio::join!(slow, logout)
    })
    .await
    .expect("the race completes");
    assert_eq!(slow.status(), 200);
    assert_eq!(rows(), 0, "the late write did not resurrect the session");
    let res = get(&app, "/get/user", Some(&cookie)).await;
    assert_eq!(res.status(), 404, "still logged out");
}

/// Store-level: writes after a delete never resurrect, and a renewal of a deleted session
/// writes nothing.
pub async fn deleted_sessions_stay_deleted<S: SessionStore>(store: &S) {
    let id = SessionId::generate();
    store
        .save(&id, &ChangeSet::create().upsert("user", "\"alice\""), HOUR)
        .await
        .unwrap();
    store.delete(&id).await.unwrap();
    let late = ChangeSet::update().upsert("late", "1");
    assert_eq!(
        store.save(&id, &late, HOUR).await.unwrap(),
        SaveOutcome::Gone
    );
    let new = SessionId::generate();
    let whole = ChangeSet::create().upsert("user", "\"alice\"");
    assert_eq!(
        store.renew(&id, &new, &whole, HOUR).await.unwrap(),
        SaveOutcome::Gone,
        "renewing a deleted session is Gone"
    );
    assert_eq!(store.load(&new, Keys::All, None).await.unwrap(), None);
    assert_eq!(store.load(&id, Keys::All, None).await.unwrap(), None);
}

/// A session saved with a zero TTL is expired at once: never loaded, refreshed or updated.
pub async fn expired_sessions_are_never_served<S: SessionStore>(store: &S) {
    let id = SessionId::generate();
    store
        .save(&id, &ChangeSet::create().upsert("k", "1"), Duration::ZERO)
        .await
        .unwrap();
    let only = ["k".to_owned()];
    for keys in [Keys::All, Keys::Only(&only)] {
        assert_eq!(store.load(&id, keys, None).await.unwrap(), None);
        assert_eq!(store.load(&id, keys, Some(HOUR)).await.unwrap(), None);
    }
    assert!(!store.refresh(&id, HOUR).await.unwrap(), "no refresh");
    assert_eq!(
        store
            .save(&id, &ChangeSet::update().upsert("k", "2"), HOUR)
            .await
            .unwrap(),
        SaveOutcome::Gone
    );
    // Creating under the id again starts from nothing: the expired data is not merged in.
    store
        .save(&id, &ChangeSet::create().upsert("fresh", "1"), HOUR)
        .await
        .unwrap();
    let loaded = store.load(&id, Keys::All, None).await.unwrap().unwrap();
    assert_eq!(loaded.keys().collect::<Vec<_>>(), ["fresh"]);
}

/// The store suite, with users' lists, on the store's manual `clock`: its expiry checks advance
/// the clock instead of sleeping.
pub async fn store_suite_on_a_clock<S: SessionStore>(store: &S, clock: Clock) {
    let caps = Capabilities::server_side()
        .lists_user_sessions(true)
        .clock(clock);
    testing::store_suite(store, caps).await;
}

/// Expiry follows the store's clock, not the machine's or the database's: a manual clock that
/// stands still keeps a session of 60 s alive however long the test takes, and advanced past
/// its TTL the session is gone for loads, updates, refreshes, the user's list and prune. The
/// row (live by the real clock) stays until prune, by the store's clock, deletes it: `rows`
/// counts them.
pub async fn expiry_follows_the_stores_clock<S: SessionStore + Prune>(
    store: &S,
    clock: &Clock,
    rows: impl Fn() -> u64,
) {
    let (id, minute) = (SessionId::generate(), Duration::from_secs(60));
    let binding = r#"{"user":"ada","at":1,"ttl":60}"#;
    let changes = ChangeSet::create()
        .upsert("k", "1")
        .upsert(USER_KEY, binding);
    store.save(&id, &changes, minute).await.unwrap();

    clock.advance(Duration::from_secs(59));
    assert!(store.load(&id, Keys::All, None).await.unwrap().is_some());
    assert_eq!(store.user_sessions("ada").await.unwrap().len(), 1);
    assert_eq!(store.prune().await.unwrap().expired, 0);

    clock.advance(Duration::from_secs(2));
    assert_eq!(store.load(&id, Keys::All, None).await.unwrap(), None);
    let update = ChangeSet::update().upsert("k", "2");
    assert_eq!(
        store.save(&id, &update, minute).await.unwrap(),
        SaveOutcome::Gone
    );
    assert!(!store.refresh(&id, minute).await.unwrap());
    assert!(store.user_sessions("ada").await.unwrap().is_empty());
    assert_eq!(store.end_user_sessions("ada").await.unwrap(), 0);
    assert_eq!(rows(), 1);
    assert_eq!(store.prune().await.unwrap().expired, 1);
    assert_eq!(rows(), 0);
}

/// Saves one live and two expired sessions; returns the live one.
pub async fn one_live_two_expired<S: SessionStore>(store: &S) -> SessionId {
    let live = SessionId::generate();
    store.save(&live, &ChangeSet::create(), HOUR).await.unwrap();
    for _ in 0..2 {
        let dead = SessionId::generate();
        store
            .save(&dead, &ChangeSet::create().upsert("k", "1"), Duration::ZERO)
            .await
            .unwrap();
    }
    live
}

/// Values of any shape, and keys of any text, load back byte for byte, whole and partially.
pub async fn values_round_trip_exactly<S: SessionStore>(store: &S) {
    let values = [
        ("spaced", "{ \"b\" : 1,  \"a\" : [1 , 2.50] }"),
        ("number", "1.0e3"),
        ("escaped", "\"\\u00e9\\n\\\"\""),
        ("nul", "\"\\u0000\""),
        ("", "true"),
        ("key with \"quotes\" and 'apostrophes'", "null"),
    ];
    let id = SessionId::generate();
    let mut create = ChangeSet::create();
    for (k, v) in values {
        create = create.upsert(k, v);
    }
    store.save(&id, &create, HOUR).await.unwrap();
    let all = store.load(&id, Keys::All, None).await.unwrap().unwrap();
    for (k, v) in values {
        assert_eq!(all.get(k).map(String::as_str), Some(v), "{k:?}");
    }
    let only = ["spaced".to_owned(), "nul".to_owned()];
    let some = store
        .load(&id, Keys::Only(&only), Some(HOUR))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(some.len(), 2);
    assert_eq!(some["spaced"], values[0].1);
    assert_eq!(some["nul"], values[3].1);
}

/// The body of every internal failure: the same text whatever the cause.
pub const OPAQUE_500: &str = "Internal Server Error";
/// The body of every outage or timeout (a 503 with `Retry-After`): nothing of the cause.
pub const OPAQUE_503: &str = "Service Unavailable";

/// The store answers `Corrupt` for the undecodable row of `id`.
pub async fn corrupt_row_is_reported<S: SessionStore>(store: &S, id: &SessionId) {
    let only = ["k".to_owned()];
    for keys in [Keys::All, Keys::Only(&only)] {
        for refresh in [None, Some(HOUR)] {
            let err = store.load(id, keys, refresh).await.unwrap_err();
            assert!(matches!(err, StoreError::Corrupt(_)), "{keys:?}: {err:?}");
        }
    }
}

/// Rows of a table made by the previous schema (no `user_id` column), as `(id, data)` with
/// `data` the stored JSON object: ada's two signed-in sessions, bob's one, one anonymous,
/// one whose user record is not one this crate wrote.
pub fn previous_schema_rows() -> (Vec<SessionId>, Vec<(String, String)>) {
    let signed_in = |user: &str| {
        let record = serde_json::json!({ "user": user, "at": 1, "ttl": HOUR.as_secs() });
        serde_json::json!({ USER_KEY: record.to_string(), "cart": "[1]" }).to_string()
    };
    let ada = [SessionId::generate(), SessionId::generate()];
    let rows = vec![
        (ada[0].to_string(), signed_in("ada")),
        (ada[1].to_string(), signed_in("ada")),
        (SessionId::generate().to_string(), signed_in("bob")),
        (
            SessionId::generate().to_string(),
            r#"{"cart":"[1]"}"#.to_owned(),
        ),
        (
            SessionId::generate().to_string(),
            serde_json::json!({ USER_KEY: "\"ada\"" }).to_string(),
        ),
    ];
    (ada.to_vec(), rows)
}

/// `store`, opened on the rows of [`previous_schema_rows`], migrates the table: ada's
/// sessions are listed and end, bob's stay, and new sign-ins are listed too.
pub async fn previous_schema_is_migrated<S: SessionStore>(store: &S, ada: &[SessionId]) {
    let mut listed: Vec<_> = store
        .user_sessions("ada")
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.id)
        .collect();
    listed.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    let mut expected = ada.to_vec();
    expected.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    assert_eq!(
        listed, expected,
        "the old table's signed-in sessions are listed"
    );
    assert_eq!(store.user_sessions("bob").await.unwrap().len(), 1);
    assert_eq!(store.end_user_sessions("ada").await.unwrap(), 2);
    for id in ada {
        assert!(store.load(id, Keys::All, None).await.unwrap().is_none());
    }
    assert_eq!(store.user_sessions("bob").await.unwrap().len(), 1);
}
