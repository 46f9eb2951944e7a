//! [`http_suite`]: the promises of a whole middleware, checked through `actix_web::test`.

use std::{sync::Arc, time::Duration};

use actix_web::{cookie::Cookie, test, web, App};
use tokio::sync::Barrier;

use super::{body, get, set_cookie, suite_routes, vary, Capabilities, Gate};
use crate::SessionMiddleware;

/// Runs every HTTP-level check on middlewares made by `make` (called once per check, so each
/// check starts from an empty store only if `make` builds a fresh store).
///
/// `make` must give middlewares with `Secure` off or on; the suite sends cookies directly.
///
/// # Panics
/// On the first broken promise, naming it.
pub async fn http_suite<F>(make: F, caps: Capabilities)
where
    F: Fn() -> SessionMiddleware,
{
    let barrier = Arc::new(Barrier::new(2));
    let gate = Arc::new(Gate::default());
    let app = test::init_service(
        App::new()
            .app_data(web::Data::from(barrier))
            .app_data(web::Data::from(gate.clone()))
            .wrap(make())
            .configure(suite_routes),
    )
    .await;
    let app = &app;

    // A visitor without a cookie who does not touch the session gets no cookie.
    let res = get(app, "/noop", None).await;
    assert!(
        set_cookie(&res).is_none(),
        "untouched sessions set no cookie"
    );
    let res = get(app, "/read", None).await;
    assert!(
        set_cookie(&res).is_none(),
        "reading an empty new session sets no cookie"
    );

    // Counting.
    let res = get(app, "/counter", None).await;
    let cookie = set_cookie(&res).expect("a changed session sets a cookie");
    assert_eq!(body(res).await, "1");
    let res = get(app, "/counter", Some(&cookie)).await;
    let cookie = set_cookie(&res).unwrap_or(cookie);
    assert_eq!(body(res).await, "2");
    let res = get(app, "/read", Some(&cookie)).await;
    assert!(
        set_cookie(&res).is_none(),
        "an unchanged session is not re-sent with refresh-on-update"
    );
    assert_eq!(
        vary(&res),
        Some("Cookie".into()),
        "a read session varies on Cookie"
    );
    assert_eq!(body(res).await, "2");
    let res = get(app, "/noop", Some(&cookie)).await;
    assert!(
        set_cookie(&res).is_none() && vary(&res).is_none(),
        "/noop leaves the session alone"
    );

    // Tampered cookies are a fresh session, never an error.
    let mut tampered = cookie.clone();
    let mut value = tampered.value().to_owned().into_bytes();
    let mid = value.len() / 2;
    value[mid] = if value[mid] == b'A' { b'B' } else { b'A' };
    tampered.set_value(String::from_utf8(value).unwrap());
    let res = get(app, "/read", Some(&tampered)).await;
    assert_eq!(
        res.status(),
        200,
        "a tampered cookie is a fresh session, not an error"
    );
    assert_eq!(body(res).await, "0");
    let garbage = Cookie::new(cookie.name().to_owned(), "%%garbage\u{7f}".to_owned());
    let res = get(app, "/read", Some(&garbage)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(body(res).await, "0");

    // Remove, clear.
    let res = get(app, "/set/name/ferris", Some(&cookie)).await;
    let cookie = set_cookie(&res).unwrap_or(cookie);
    let res = get(app, "/get/name", Some(&cookie)).await;
    assert_eq!(body(res).await, "ferris");
    let res = get(app, "/remove/name", Some(&cookie)).await;
    let cookie = set_cookie(&res).unwrap_or(cookie);
    let res = get(app, "/get/name", Some(&cookie)).await;
    assert_eq!(res.status(), 404, "removed keys are gone");
    let res = get(app, "/clear", Some(&cookie)).await;
    let cookie = set_cookie(&res).unwrap_or(cookie);
    let res = get(app, "/read", Some(&cookie)).await;
    assert_eq!(body(res).await, "0", "clear empties the session");

    // Renew: same data, new cookie; the old one dies where the store can revoke.
    let res = get(app, "/counter", Some(&cookie)).await;
    let cookie = set_cookie(&res).unwrap_or(cookie);
    let res = get(app, "/renew", Some(&cookie)).await;
    let renewed = set_cookie(&res).expect("renew sets a new cookie");
    if caps.revocable {
        assert_ne!(renewed.value(), cookie.value(), "renew changes the cookie");
    }
    let res = get(app, "/read", Some(&renewed)).await;
    assert_eq!(body(res).await, "1", "renew keeps the data");
    if caps.revocable {
        let res = get(app, "/read", Some(&cookie)).await;
        assert_eq!(body(res).await, "0", "the pre-renewal cookie is dead");
    }

    // Purge: a removal cookie with the same attributes; the old cookie dies where revocable.
    let res = get(app, "/purge", Some(&renewed)).await;
    let removal = set_cookie(&res).expect("purge sends a removal cookie");
    assert_eq!(removal.value(), "", "the removal cookie is empty");
    assert_eq!(
        removal.max_age(),
        Some(actix_web::cookie::time::Duration::ZERO)
    );
    assert_eq!(
        removal.path(),
        renewed.path(),
        "the removal cookie has the same Path"
    );
    assert_eq!(
        removal.domain(),
        renewed.domain(),
        "the removal cookie has the same Domain"
    );
    if caps.revocable {
        let res = get(app, "/read", Some(&renewed)).await;
        assert_eq!(body(res).await, "0", "a purged session is gone");
    }

    // Logging out then writing starts a new session.
    let res = get(app, "/purge-then-set", Some(&renewed)).await;
    let fresh = set_cookie(&res).expect("a session started after purge sets a cookie");
    assert!(!fresh.value().is_empty());
    let res = get(app, "/get/flash", Some(&fresh)).await;
    assert_eq!(body(res).await, "bye");

    // A slow login racing a logout: request A loads the session, request B purges it and
    // completes, then A renews and writes.
    let res = get(app, "/counter", None).await;
    let cookie = set_cookie(&res).expect("a changed session sets a cookie");
    let race = async {
        tokio::join!(get(app, "/slow-renew", Some(&cookie)), async {
            gate.loaded.notified().await;
            let purged = get(app, "/purge", Some(&cookie)).await;
            gate.go.notify_one();
            purged
        })
    };
    let (renewed, purged) = tokio::time::timeout(Duration::from_secs(10), race)
        .await
        .expect("a renewal racing a purge completes");
    assert!(
        renewed.status().is_success() && purged.status().is_success(),
        "a renewal racing a purge: both requests succeed ({}, {})",
        renewed.status(),
        purged.status()
    );
    let removal = set_cookie(&purged).expect("purge sends a removal cookie");
    assert_eq!(removal.value(), "", "the purge's cookie is a removal");
    let after = set_cookie(&renewed);
    if caps.revocable {
        // The logout stands: the renewal answers no live session (a removal, no cookie, or a
        // cookie that opens an empty session), and the old cookie opens nothing either.
        for (what, cookie) in [
            ("the renewal's cookie", after.as_ref()),
            ("the old cookie", Some(&cookie)),
        ] {
            let Some(cookie) = cookie.filter(|c| !c.value().is_empty()) else {
                continue;
            };
            let res = get(app, "/read", Some(cookie)).await;
            assert_eq!(
                body(res).await,
                "0",
                "a renewal after a concurrent purge does not undo the logout: {what} opens the \
                 purged data"
            );
            let res = get(app, "/get/late", Some(cookie)).await;
            assert_eq!(
                res.status(),
                404,
                "a renewal after a concurrent purge does not undo the logout: {what} opens the \
                 renewal's write"
            );
        }
    } else {
        // A client-side session cannot be revoked: the purge removes only the cookie its own
        // response carries, and the renewal re-issues the whole session it holds. Whichever
        // response the browser applies last wins; neither is an error or a half-written cookie.
        let after = after.expect("the renewal re-issues the session");
        let res = get(app, "/read", Some(&after)).await;
        assert_eq!(
            body(res).await,
            "1",
            "the renewal's cookie holds its session"
        );
        let res = get(app, "/get/late", Some(&after)).await;
        assert_eq!(body(res).await, "renewed");
    }

    if caps.merges_concurrent_changes {
        let res = get(app, "/counter", None).await;
        let cookie = set_cookie(&res).unwrap();
        let (a, b) = tokio::join!(
            get(app, "/slow-set/left/1", Some(&cookie)),
            get(app, "/slow-set/right/2", Some(&cookie))
        );
        assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 200));
        for key in ["left", "right"] {
            let res = get(app, &format!("/get/{key}"), Some(&cookie)).await;
            assert_eq!(
                body(res).await,
                key.replace("left", "1").replace("right", "2"),
                "concurrent change of `{key}` kept"
            );
        }
    }
}
