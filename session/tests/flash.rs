//! Flash messages through the middleware: queued in one request, shown once in a later one,
//! on a server-side store and on the cookie store.

mod support;

use actix_typed_session::testing::serve;
use actix_typed_session::{
    store::{CookieStore, MemoryStore},
    testing::{body, get, set_cookie},
    Flash, FlashLevel, FlashMessage, SessionMiddleware, SessionStorage,
};
use actix_web::{cookie::Key, http::StatusCode, web, HttpResponse};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Notice {
    text: String,
    code: u16,
}

fn routes(cfg: &mut web::ServiceConfig) {
    async fn add(
        flash: Flash,
        path: web::Path<(String, String)>,
    ) -> actix_web::Result<HttpResponse> {
        let (level, text) = path.into_inner();
        match level.as_str() {
            "info" => flash.info(text)?,
            "success" => flash.success(text)?,
            "warning" => flash.warning(text)?,
            _ => flash.error(text)?,
        }
        Ok(HttpResponse::Ok().finish())
    }
    async fn show(flash: Flash) -> actix_web::Result<HttpResponse> {
        let lines: Vec<String> = flash
            .take::<String>()?
            .into_iter()
            .map(|m| format!("{:?}:{}", m.level, m.message))
            .collect();
        Ok(HttpResponse::Ok().body(lines.join("\n")))
    }
    async fn typed_add(flash: Flash) -> actix_web::Result<HttpResponse> {
        flash.warning(Notice {
            text: "low stock".into(),
            code: 7,
        })?;
        Ok(HttpResponse::Ok().finish())
    }
    async fn typed_show(flash: Flash) -> actix_web::Result<HttpResponse> {
        let shown: Vec<FlashMessage<Notice>> = flash.take()?;
        assert_eq!(
            shown,
            vec![FlashMessage {
                level: FlashLevel::Warning,
                message: Notice {
                    text: "low stock".into(),
                    code: 7
                }
            }]
        );
        Ok(HttpResponse::Ok().finish())
    }
    support::routes(cfg);
    cfg.route("/flash/{level}/{text}", web::get().to(add))
        .route("/flashes-by-level", web::get().to(show))
        .route("/typed-flash", web::get().to(typed_add))
        .route("/typed-flashes", web::get().to(typed_show));
}

async fn flashes_are_shown_once_in_order(storage: impl Into<SessionStorage>) {
    let app = serve(routes, SessionMiddleware::new(storage, Key::generate())).await;
    let mut cookie = set_cookie(&get(&app, "/flash/info/hello", None).await).unwrap();
    for path in [
        "/flash/success/saved",
        "/flash/warning/careful",
        "/flash/error/failed",
    ] {
        let res = get(&app, path, Some(&cookie)).await;
        assert_eq!(res.status(), StatusCode::OK);
        cookie = set_cookie(&res).unwrap_or(cookie);
    }
    let res = get(&app, "/flashes-by-level", Some(&cookie)).await;
    cookie = set_cookie(&res).unwrap_or(cookie);
    assert_eq!(
        body(res).await,
        "Info:hello\nSuccess:saved\nWarning:careful\nError:failed",
        "every level, oldest first"
    );
    let res = get(&app, "/flashes-by-level", Some(&cookie)).await;
    assert!(
        set_cookie(&res).is_none(),
        "reading an empty queue writes nothing"
    );
    assert_eq!(body(res).await, "", "each message is shown once");

    let res = get(&app, "/typed-flash", Some(&cookie)).await;
    cookie = set_cookie(&res).unwrap_or(cookie);
    assert_eq!(
        get(&app, "/typed-flashes", Some(&cookie)).await.status(),
        StatusCode::OK
    );
}

#[actix_web::test]
async fn flash_messages_on_the_memory_store() {
    flashes_are_shown_once_in_order(MemoryStore::new()).await;
}

#[actix_web::test]
async fn flash_messages_on_the_cookie_store() {
    flashes_are_shown_once_in_order(CookieStore::signed()).await;
}

/// Extracting `Flash` loads only the flash key (and the signed-in user, as every load), and a
/// request without one loads nothing.
#[actix_web::test]
async fn flash_loads_only_its_key() {
    let store = support::Instrumented::default();
    let app = serve(
        routes,
        SessionMiddleware::new(store.clone(), Key::generate()),
    )
    .await;
    let cookie = set_cookie(&get(&app, "/set/big/value", None).await).unwrap();
    let res = get(&app, "/flash/info/hi", Some(&cookie)).await;
    let cookie = set_cookie(&res).unwrap_or(cookie);
    store.take_loads();
    let _ = get(&app, "/noop", Some(&cookie)).await;
    assert!(store.take_loads().is_empty(), "no load without a Flash");
    let res = get(&app, "/flashes-by-level", Some(&cookie)).await;
    assert_eq!(body(res).await, "Info:hi");
    assert_eq!(
        store.take_loads(),
        vec![Some(vec![
            actix_typed_session::FLASH_KEY.to_owned(),
            actix_typed_session::store::USER_KEY.to_owned()
        ])],
        "one load of its key and the signed-in user"
    );
}
