//! The helpers apps use in their own tests: a `Session` for a handler, a minted cookie.

use actix_typed_session::{
    store::{CookieStore, MemoryStore},
    testing::{self, get},
    Session, SessionMiddleware, SessionStatus,
};
use actix_web::{cookie::Key, test, web, App, HttpResponse};

async fn cart(session: Session) -> actix_web::Result<String> {
    session.load().await?;
    let mut items: Vec<String> = session.get("cart")?.unwrap_or_default();
    items.push("socks".into());
    session.insert("cart", &items)?;
    Ok(items.join(","))
}

#[actix_web::test]
async fn a_handler_can_be_called_with_a_built_session() {
    let session = testing::session_with([("cart", vec!["hat"])]);
    assert_eq!(cart(session.clone()).await.unwrap(), "hat,socks");
    assert_eq!(session.status(), SessionStatus::Changed);
    assert_eq!(
        session.get::<Vec<String>>("cart").unwrap(),
        Some(vec!["hat".to_owned(), "socks".to_owned()])
    );
    let empty = testing::session_with(Vec::<(String, u8)>::new());
    assert_eq!(
        empty.get::<u8>("absent").unwrap(),
        None,
        "absent keys read as absent"
    );
}

async fn minted_cookies_open(middleware: SessionMiddleware) {
    let cookie = testing::mint_cookie(&middleware, [("user", "ada")])
        .await
        .unwrap();
    assert_eq!(cookie.name(), "sid", "the configured cookie name");
    let app = test::init_service(App::new().wrap(middleware).route(
        "/",
        web::get().to(|s: Session| async move {
            HttpResponse::Ok().body(s.get::<String>("user").unwrap().unwrap_or_default())
        }),
    ))
    .await;
    assert_eq!(
        testing::body(get(&app, "/", Some(&cookie)).await).await,
        "ada"
    );
}

#[actix_web::test]
async fn minted_cookies_open_on_a_server_store() {
    let mw = SessionMiddleware::builder(MemoryStore::new(), Key::generate()).cookie_name("sid");
    minted_cookies_open(mw.build()).await;
}

#[actix_web::test]
async fn minted_cookies_open_on_the_cookie_store() {
    let mw = SessionMiddleware::builder(CookieStore::signed(), Key::generate()).cookie_name("sid");
    minted_cookies_open(mw.build()).await;
}
