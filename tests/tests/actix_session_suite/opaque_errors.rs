//! actix-session's `tests/opaque_errors.rs`: a store that fails to load answers a 500 that
//! tells the client nothing of the cause.

use std::time::Duration;

use actix_typed_session::{
    store::{ChangeSet, Entries, Keys, SaveOutcome, SessionStore},
    Session, SessionId, SessionMiddleware, StoreError,
};
use actix_web::{body::MessageBody as _, cookie::Key, http::StatusCode, test, web, App, Responder};

#[actix_web::test]
async fn errors_are_opaque() {
    let signing_key = Key::generate();
    let app = test::init_service(
        App::new()
            .wrap(SessionMiddleware::new(MockStore, signing_key.clone()))
            .route("/create_session", web::post().to(create_session))
            .route(
                "/load_session_with_error",
                web::post().to(load_session_with_error),
            ),
    )
    .await;

    let req = test::TestRequest::post()
        .uri("/create_session")
        .to_request();
    let response = test::call_service(&app, req).await;
    let session_cookie = response.response().cookies().next().unwrap().into_owned();

    let req = test::TestRequest::post()
        .cookie(session_cookie)
        .uri("/load_session_with_error")
        .to_request();
    // actix-session's middleware fails the call and the server turns the error into the
    // response; here the extractor's error is the response already.
    let response = test::call_service(&app, req).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = response.into_body().try_into_bytes().unwrap();
    // Deliberate difference: the 500's body is the status's reason phrase (text/plain), not
    // empty, as every opaque error of this library answers; the cause is only logged.
    assert_eq!(body, "Internal Server Error");
    assert!(!String::from_utf8_lossy(&body).contains("implementation details"));
}

/// A store whose every load fails; saves succeed, so that a session cookie can be made.
struct MockStore;

impl SessionStore for MockStore {
    async fn load(
        &self,
        _id: &SessionId,
        _keys: Keys<'_>,
        _refresh: Option<Duration>,
    ) -> Result<Option<Entries>, StoreError> {
        Err(StoreError::Other(
            "My error full of implementation details".into(),
        ))
    }

    async fn save(
        &self,
        _id: &SessionId,
        _changes: &ChangeSet,
        _ttl: Duration,
    ) -> Result<SaveOutcome, StoreError> {
        Ok(SaveOutcome::Saved)
    }

    async fn refresh(&self, _id: &SessionId, _ttl: Duration) -> Result<bool, StoreError> {
        unimplemented!("the test never refreshes")
    }

    async fn delete(&self, _id: &SessionId) -> Result<(), StoreError> {
        unimplemented!("the test never deletes")
    }

    actix_typed_session::no_user_sessions!();
}

async fn create_session(session: Session) -> actix_web::Result<impl Responder> {
    session.insert("user_id", "id")?;
    Ok("Created")
}

async fn load_session_with_error(_session: Session) -> impl Responder {
    "Loaded"
}
