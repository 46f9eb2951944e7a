//! The race credential epochs close: a renewal of a signed-in session that overlaps a "log out
//! everywhere". The renewal moves the session to its new id, then lists the new id; a log out
//! everywhere that lists the user's sessions in between ends neither. Held at that point (a
//! gate in the store wrapper), the new id answers as the user afterwards without epochs, and is
//! signed out at its next request when the log out everywhere bumped the user's version.

use std::sync::{
    atomic::{AtomicBool, AtomicU64, Ordering::SeqCst},
    Arc,
};

use actix_typed_session::{
    store::MemoryStore,
    testing::{self, body, set_cookie},
    SessionMiddleware,
};
use actix_web::{
    cookie::{Cookie, Key},
    http::StatusCode,
    test::{call_service, TestRequest},
};
use session_tests::counted::Counted;
use tokio::sync::{Notify, Semaphore};

/// Whether the renewal's new session answers as Ada after the log out everywhere.
async fn renewal_survives(epochs: bool) -> bool {
    let armed = Arc::new(AtomicBool::new(false));
    let reached = Arc::new(Notify::new());
    let release = Arc::new(Semaphore::new(0));
    let store = Counted::new(MemoryStore::new()).gate_index({
        let (armed, reached, release) = (armed.clone(), reached.clone(), release.clone());
        move || {
            let (armed, reached, release) = (armed.clone(), reached.clone(), release.clone());
            async move {
                if armed.swap(false, SeqCst) {
                    reached.notify_one();
                    release.acquire().await.unwrap().forget();
                }
            }
        }
    });
    let version = Arc::new(AtomicU64::new(1));
    let mut builder = SessionMiddleware::builder(store, Key::generate());
    if epochs {
        let version = version.clone();
        builder = builder.credential_epoch(move |_user: String| {
            let v = version.load(SeqCst);
            async move { Ok::<_, std::convert::Infallible>(Some(v.to_string())) }
        });
    }
    let app = testing::serve(testing::suite_routes, builder.build()).await;
    let get = |uri: &str, cookie: &Cookie<'static>| {
        TestRequest::get()
            .uri(uri)
            .cookie(cookie.clone())
            .to_request()
    };
    let login = |_: ()| TestRequest::get().uri("/login/ada").to_request();
    let phone = set_cookie(&call_service(&app, login(())).await).unwrap();
    let laptop = set_cookie(&call_service(&app, login(())).await).unwrap();

    armed.store(true, SeqCst);
    let renewal = call_service(&app, get("/renew", &phone));
    let log_out_everywhere = async {
        // The renewal has moved the session and waits to list it.
        reached.notified().await;
        let res = call_service(&app, get("/logout-everywhere", &laptop)).await;
        assert_eq!(res.status(), StatusCode::OK);
        // The app moves Ada to a new version with it (a handler would, after its load).
        version.fetch_add(1, SeqCst);
        release.add_permits(1);
    };
    let (renewed, ()) = tokio::join!(renewal, log_out_everywhere);
    assert_eq!(renewed.status(), StatusCode::OK);
    let moved = set_cookie(&renewed).expect("the renewal set its new id");
    assert_ne!(moved.value(), phone.value());

    for old in [&phone, &laptop] {
        let res = call_service(&app, get("/whoami", old)).await;
        assert_eq!(
            res.status(),
            StatusCode::NOT_FOUND,
            "an ended session answered"
        );
    }
    let res = call_service(&app, get("/whoami", &moved)).await;
    match res.status() {
        StatusCode::OK => {
            assert_eq!(body(res).await, "ada");
            true
        }
        StatusCode::NOT_FOUND => false,
        other => panic!("unexpected {other}"),
    }
}

#[actix_web::test]
async fn without_epochs_a_renewal_overlapping_log_out_everywhere_survives_it() {
    // The race exists: this is what the epoch is for.
    assert!(renewal_survives(false).await);
}

#[actix_web::test]
async fn with_epochs_a_renewal_overlapping_log_out_everywhere_is_signed_out() {
    assert!(!renewal_survives(true).await);
}
