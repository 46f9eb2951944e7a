//! The tests of actix-session's stores besides the acceptance suite (its
//! `storage/cookie.rs` and `storage/redis_rs.rs`). Their store trait is not ours (MIGRATING.md:
//! "Stores"): the Redis ones call our `SessionStore` on a real server; the cookie store has no
//! `load` of its own here (the middleware opens the cookie), so its test goes through HTTP.

mod cookie {
    use actix_typed_session::{store::CookieStore, Session, SessionMiddleware};
    use actix_web::{cookie::Key, test, web, App};

    /// Whether the request's session is a new, empty one.
    async fn is_fresh(session: Session) -> actix_web::Result<String> {
        Ok((session.id().is_none() && session.keys()?.is_empty()).to_string())
    }

    /// actix-session's store answers `LoadError::Deserialization`, which its middleware turns
    /// into a fresh session; ours has no such error to look at (MIGRATING.md: `Corrupt` plays
    /// that part on server-side stores), so the test checks what the user gets: a fresh, empty
    /// session, and the rejected cookie removed.
    #[actix_web::test]
    async fn loading_a_random_session_key_returns_deserialization_error() {
        let app = test::init_service(
            App::new()
                .wrap(SessionMiddleware::new(
                    CookieStore::encrypted(),
                    Key::generate(),
                ))
                .route("/", web::get().to(is_fresh)),
        )
        .await;
        // What actix-session puts in its cookie: a 64-character alphanumeric key.
        let random_key = "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7dE9fG1hJ3kL5mN7pQ9rS1tU3v";
        assert_eq!(random_key.len(), 64);
        let req = test::TestRequest::get()
            .cookie(actix_web::cookie::Cookie::new("session", random_key))
            .to_request();
        let res = test::call_service(&app, req).await;
        let removal = res
            .response()
            .cookies()
            .find(|c| c.name() == "session")
            .map(|c| (c.value().to_owned(), c.max_age()));
        assert_eq!(
            removal,
            Some((String::new(), Some(actix_web::cookie::time::Duration::ZERO)))
        );
        assert_eq!(test::read_body(res).await, "true");
    }
}

mod redis {
    use std::time::Duration;

    use actix_typed_session::{
        store::{ChangeSet, Keys, RedisPool, RedisStore, SaveOutcome, SessionStore},
        SessionId, StoreError,
    };
    use session_tests::redis_server::RedisServer;

    fn redis_store(server: &RedisServer) -> RedisStore {
        RedisStore::new(RedisPool::builder(server.url()).build().unwrap())
    }

    #[actix_web::test]
    async fn loading_a_missing_session_returns_none() {
        let server = RedisServer::start();
        let store = redis_store(&server);
        let id = SessionId::generate();
        assert!(store.load(&id, Keys::All, None).await.unwrap().is_none());
    }

    #[actix_web::test]
    async fn loading_an_invalid_session_state_returns_deserialization_error() {
        let server = RedisServer::start();
        let store = redis_store(&server);
        let id = SessionId::generate();
        // Our session key (`session:{id}` holds a hash), holding something else.
        let key = format!("session:{id}");
        let set = server.cli(&["SET", &key, "random-thing-which-is-not-json"]);
        assert_eq!(set.trim(), "OK");
        assert!(matches!(
            store.load(&id, Keys::All, None).await.unwrap_err(),
            StoreError::Corrupt(_),
        ));
    }

    #[actix_web::test]
    async fn updating_of_an_expired_state_is_handled_gracefully() {
        let server = RedisServer::start();
        let store = redis_store(&server);
        let expired = SessionId::generate();
        let changes = ChangeSet::update().upsert("counter", "1");
        // Deliberate difference: an update of a session that expired (or was purged) writes
        // nothing and says so, where actix-session saves the state again under a new key: a
        // logout is final (MIGRATING.md, "A logout is final").
        assert_eq!(
            store
                .save(&expired, &changes, Duration::from_secs(1))
                .await
                .unwrap(),
            SaveOutcome::Gone
        );
        assert_eq!(server.cli(&["DBSIZE"]).trim(), "0");
    }
}
