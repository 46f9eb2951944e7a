//! The actix-session server keeps its session across requests through the cookie, so the
//! benchmark measures real session work and not a fresh session per request.

use actix_session::storage::CookieSessionStore;
use actix_web::{
    cookie::Cookie,
    dev::{Service, ServiceResponse},
    test, App,
};
use bench::{incumbent, Args};

fn session_cookie(res: &ServiceResponse) -> Cookie<'static> {
    res.response()
        .cookies()
        .next()
        .expect("the response sets the session cookie")
        .into_owned()
}

#[actix_web::test]
async fn counter_fill_and_purge_follow_the_cookie() {
    let args = Args::parse(["--store", "cookie"].map(String::from)).unwrap();
    let app = test::init_service(
        App::new()
            .wrap(incumbent::middleware(CookieSessionStore::default(), &args))
            .configure(incumbent::routes),
    )
    .await;
    let get = |uri: &str, cookie: Option<&Cookie<'static>>| {
        let mut req = test::TestRequest::get().uri(uri);
        if let Some(cookie) = cookie {
            req = req.cookie(cookie.clone());
        }
        app.call(req.to_request())
    };

    let res = get("/counter", None).await.unwrap();
    let cookie = session_cookie(&res);
    assert_eq!(test::read_body(res).await, "1");
    let res = get("/fill/1", Some(&cookie)).await.unwrap();
    let cookie = session_cookie(&res);
    let res = get("/counter", Some(&cookie)).await.unwrap();
    let cookie = session_cookie(&res);
    assert_eq!(test::read_body(res).await, "2");
    let blob = test::read_body(get("/get/blob", Some(&cookie)).await.unwrap()).await;
    assert_eq!(blob.len(), 1024);

    let res = get("/purge", Some(&cookie)).await.unwrap();
    let removal = session_cookie(&res);
    assert_eq!(removal.value(), "");
    let res = get("/read", Some(&removal)).await.unwrap();
    assert_eq!(test::read_body(res).await, "0");
}
