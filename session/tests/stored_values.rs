//! A stored value of the wrong type: an opaque 500 whose log names the key and the type but
//! never the value (values are secrets), and removing the key recovers the session.

mod support;

use actix_typed_session::{
    store::MemoryStore,
    testing::{body, get},
    SessionData, SessionMiddleware,
};
use actix_web::{cookie::Key, http::StatusCode, web, HttpResponse};
use support::{serve, Logs};

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

const SECRET: &str = "hunter2-do-not-log";

#[actix_web::test]
async fn a_mistyped_value_is_an_opaque_500_that_logs_the_key_and_type_but_not_the_value() {
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

    // `/read` takes `counter` as a `u64`, `/age` takes `age` as a `u32` through the derive.
    for (uri, key, ty) in [
        ("/read", "counter", "`u64`"),
        ("/age", "age", "Option<u32>`"),
    ] {
        let res = get(&app, uri, Some(&cookie)).await;
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR, "{uri}");
        assert_eq!(body(res).await, "Internal Server Error", "{uri}");
        let text = logs.text();
        let line = text
            .lines()
            .find(|l| l.contains(&format!("session key `{key}`")))
            .unwrap_or_else(|| panic!("{uri}: no log line names `{key}`: {text}"));
        assert!(line.contains(ty), "names the type: {line}");
        assert!(line.contains("ERROR"), "{line}");
    }
    assert!(!logs.text().contains(SECRET), "{}", logs.text());

    // The way out the docs give: remove the key.
    assert!(get(&app, "/remove/counter", Some(&cookie))
        .await
        .status()
        .is_success());
    assert_eq!(body(get(&app, "/read", Some(&cookie)).await).await, "0");
}
