//! A first end-to-end check of the middleware on the memory store.

use actix_typed_session::{
    store::MemoryStore,
    testing::{body, get, set_cookie},
    Session, SessionMiddleware,
};
use actix_web::{cookie::Key, test, web, App, HttpResponse};

#[actix_web::test]
async fn counter_counts() {
    let app = test::init_service(
        App::new()
            .wrap(SessionMiddleware::new(MemoryStore::new(), Key::generate()))
            .route(
                "/",
                web::get().to(|s: Session| async move {
                    let n = s.update_or("n", 1u32, |n| n + 1)?;
                    Ok::<_, actix_web::Error>(HttpResponse::Ok().body(n.to_string()))
                }),
            ),
    )
    .await;
    let res = get(&app, "/", None).await;
    let cookie = set_cookie(&res).expect("a cookie");
    assert_eq!(body(res).await, "1");
    let res = get(&app, "/", Some(&cookie)).await;
    assert_eq!(body(res).await, "2");
}
