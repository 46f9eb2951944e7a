//! Helpers for applications' own tests: a [`Session`] for unit-testing a handler, and a valid
//! session cookie for integration tests.

use actix_web::cookie::Cookie;
use serde::Serialize;

use crate::{store::Entries, Session, SessionMiddleware, StoreError};

fn to_entries<I, K, V>(entries: I) -> Entries
where
    I: IntoIterator<Item = (K, V)>,
    K: Into<String>,
    V: Serialize,
{
    entries
        .into_iter()
        .map(|(k, v)| {
            let key = k.into();
            let json = serde_json::to_string(&v)
                .unwrap_or_else(|e| panic!("session value under {key:?} does not serialize: {e}"));
            (key, json)
        })
        .collect()
}

/// Returns a loaded [`Session`] holding `entries`, outside any request: call a handler with it,
/// then look at what it did ([`Session::status`], [`Session::get`]). Nothing is saved anywhere.
///
/// ```
/// use actix_typed_session::{testing, Session, SessionStatus};
///
/// async fn counter(session: Session) -> actix_web::Result<String> {
///     Ok(session.update_or("counter", 1u64, |n| n + 1)?.to_string())
/// }
///
/// # actix_web::rt::System::new().block_on(async {
/// let session = testing::session_with([("counter", 41u64)]);
/// assert_eq!(counter(session.clone()).await.unwrap(), "42");
/// assert_eq!(session.status(), SessionStatus::Changed);
/// assert_eq!(session.get::<u64>("counter").unwrap(), Some(42));
/// # });
/// ```
///
/// # Panics
/// When a value does not serialize to JSON.
pub fn session_with<I, K, V>(entries: I) -> Session
where
    I: IntoIterator<Item = (K, V)>,
    K: Into<String>,
    V: Serialize,
{
    Session::fixture(to_entries(entries), true)
}

/// Returns a valid session cookie for `middleware`'s store, key and cookie settings, whose session
/// holds `entries`: a server-side session is saved in the store; a cookie-store session is
/// sealed into the cookie. Send it with `actix_web::test::TestRequest::cookie`.
///
/// ```
/// use actix_web::{cookie::Key, test, web, App};
/// use actix_typed_session::{store::MemoryStore, testing, Session, SessionMiddleware};
///
/// # actix_web::rt::System::new().block_on(async {
/// let middleware = SessionMiddleware::new(MemoryStore::new(), Key::generate());
/// let cookie = testing::mint_cookie(&middleware, [("user", "ada")]).await.unwrap();
/// let app = test::init_service(App::new().wrap(middleware).route(
///     "/",
///     web::get().to(|s: Session| async move { s.get::<String>("user").unwrap().unwrap() }),
/// ))
/// .await;
/// let req = test::TestRequest::get().uri("/").cookie(cookie).to_request();
/// assert_eq!(test::call_and_read_body(&app, req).await, "ada");
/// # });
/// ```
///
/// # Errors
/// When the store fails to save the session, or a cookie-store session is too large.
///
/// # Panics
/// When a value does not serialize to JSON.
pub async fn mint_cookie<I, K, V>(
    middleware: &SessionMiddleware,
    entries: I,
) -> Result<Cookie<'static>, StoreError>
where
    I: IntoIterator<Item = (K, V)>,
    K: Into<String>,
    V: Serialize,
{
    let text = crate::session::mint(middleware.backend(), to_entries(entries)).await?;
    Cookie::parse(text)
        .map(Cookie::into_owned)
        .map_err(|e| StoreError::Other(e.into()))
}
