//! Actix guards that read the session: loaded before routing by `LoadSession`, loudly refused
//! (in debug builds) without it.

mod support;

use actix_typed_session::{
    store::MemoryStore,
    testing::{get, set_cookie},
    LoadSession, Session, SessionExt as _, SessionMiddleware,
};
use actix_web::{cookie::Key, guard, http::StatusCode, test, web, App, HttpResponse};

async fn login(s: Session) -> actix_web::Result<HttpResponse> {
    s.sign_in("ada")?;
    s.insert("role", "admin")?;
    Ok(HttpResponse::Ok().finish())
}

/// Ported from actix-session's guard example: reads a key with `get`, no `.await` anywhere.
fn is_admin(ctx: &guard::GuardContext<'_>) -> bool {
    ctx.get_session()
        .get::<String>("role")
        .unwrap_or(None)
        .is_some_and(|role| role == "admin")
}

#[actix_web::test]
async fn guards_read_a_session_loaded_before_routing() {
    let app = test::init_service(
        App::new()
            .route("/login", web::get().to(login))
            .route(
                "/guarded",
                web::get()
                    .guard(actix_typed_session::guard::signed_in())
                    .to(|| async { "in" }),
            )
            .route(
                "/admin",
                web::get()
                    .guard(guard::fn_guard(is_admin))
                    .to(HttpResponse::Ok),
            )
            .wrap(LoadSession)
            .wrap(SessionMiddleware::new(MemoryStore::new(), Key::generate())),
    )
    .await;
    for uri in ["/guarded", "/admin"] {
        assert_eq!(
            get(&app, uri, None).await.status(),
            StatusCode::NOT_FOUND,
            "{uri}"
        );
    }
    let cookie = set_cookie(&get(&app, "/login", None).await).unwrap();
    for uri in ["/guarded", "/admin"] {
        let res = get(&app, uri, Some(&cookie)).await;
        assert_eq!(res.status(), StatusCode::OK, "{uri}");
    }
}

#[actix_web::test]
async fn a_scope_can_load_the_session_for_its_own_guards() {
    let store = MemoryStore::new();
    let app = test::init_service(
        App::new()
            .route("/login", web::get().to(login))
            .service(
                web::scope("/admin").wrap(LoadSession).route(
                    "",
                    web::get()
                        .guard(guard::fn_guard(is_admin))
                        .to(HttpResponse::Ok),
                ),
            )
            .wrap(SessionMiddleware::new(store, Key::generate())),
    )
    .await;
    assert_eq!(
        get(&app, "/admin", None).await.status(),
        StatusCode::NOT_FOUND
    );
    let cookie = set_cookie(&get(&app, "/login", None).await).unwrap();
    assert_eq!(
        get(&app, "/admin", Some(&cookie)).await.status(),
        StatusCode::OK
    );
}

/// The port that compiles and then denies every request, in actix-session's words, fails
/// loudly here instead.
#[cfg(debug_assertions)]
#[actix_web::test]
#[should_panic(expected = "wrap the app or scope with `actix_typed_session::LoadSession`")]
async fn a_guard_reading_a_never_loaded_session_panics_in_debug_builds() {
    let app = test::init_service(
        App::new()
            .route(
                "/admin",
                web::get()
                    .guard(guard::fn_guard(is_admin))
                    .to(HttpResponse::Ok),
            )
            .wrap(SessionMiddleware::new(MemoryStore::new(), Key::generate())),
    )
    .await;
    let _ = get(&app, "/admin", None).await;
}
