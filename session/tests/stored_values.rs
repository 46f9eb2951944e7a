//! A stored value of the wrong type: untyped, an opaque 500 whose log names the key and the
//! type but never the value (values are secrets), and removing the key recovers the session;
//! typed, dropped by default with a warning that names the key and the type, never the value.

mod support;

use actix_typed_session::testing::serve;
use actix_typed_session::{
    store::MemoryStore,
    testing::{body, get},
    SessionData, SessionMiddleware,
};
use actix_web::{cookie::Key, http::StatusCode, web, HttpResponse};
use support::Logs;

/// A `u32` under `age`, read through the derive.
#[derive(SessionData)]
struct Profile {
    age: Option<u32>,
}

fn routes(cfg: &mut web::ServiceConfig) {
    async fn age(profile: ProfileSession) -> actix_web::Result<HttpResponse> {
        Ok(HttpResponse::Ok().body(profile.age()?.unwrap_or(0).to_string()))
    }
    actix_typed_session::testing::routes(cfg);
    cfg.route("/age", web::get().to(age));
}

/// The first captured log line containing `needle`.
fn log_line(logs: &Logs, needle: &str) -> String {
    let text = logs.text();
    text.lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no log line contains {needle:?}: {text}"))
        .to_owned()
}

const SECRET: &str = "hunter2-do-not-log";

#[actix_web::test]
async fn a_mistyped_value_logs_the_key_and_type_but_not_the_value() {
    let (logs, _guard) = Logs::capture();
    let app = serve(
        routes,
        SessionMiddleware::new(MemoryStore::new(), Key::generate()),
    )
    .await;
    let set = |key: &str| format!("/set/{key}/{SECRET}");
    let res = get(&app, &set("counter"), None).await;
    let cookie = actix_typed_session::testing::set_cookie(&res).unwrap();
    assert!(get(&app, &set("age"), Some(&cookie))
        .await
        .status()
        .is_success());

    // `/read` takes `counter` as a `u64`.
    let res = get(&app, "/read", Some(&cookie)).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body(res).await, "Internal Server Error");
    let line = log_line(&logs, "session key `counter`");
    assert!(line.contains("`u64`"), "names the type: {line}");
    assert!(line.contains("ERROR"), "{line}");

    // `/age` takes `age` as a `u32` through the derive: reset, the default policy.
    let res = get(&app, "/age", Some(&cookie)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body(res).await, "0");
    let line = log_line(&logs, "stale session value dropped");
    assert!(line.contains("age") && line.contains("u32"), "{line}");
    assert!(line.contains("WARN"), "{line}");
    // Removed from the store by that request.
    assert_eq!(
        get(&app, "/get/age", Some(&cookie)).await.status(),
        StatusCode::NOT_FOUND
    );
    assert!(!logs.text().contains(SECRET), "{}", logs.text());

    // The way out the docs give: remove the key.
    assert!(get(&app, "/remove/counter", Some(&cookie))
        .await
        .status()
        .is_success());
    assert_eq!(body(get(&app, "/read", Some(&cookie)).await).await, "0");
}
