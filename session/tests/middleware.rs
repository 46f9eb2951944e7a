//! The middleware's promises: round trips per request, failure semantics, cookie attributes,
//! refresh policies, key rotation, renew and purge.

mod support;

use std::{sync::atomic::Ordering::SeqCst, time::Duration};

use actix_typed_session::testing::serve;
use actix_typed_session::{
    store::{ChangeSet, SessionStore},
    testing::{body, get, set_cookie},
    CookieLifecycle, Session, SessionError, SessionExt, SessionMiddleware,
    SessionMiddlewareBuilder, TtlRefresh,
};
use actix_web::{
    cookie::{Cookie, Key, SameSite},
    dev::ServiceResponse,
    http::StatusCode,
    test, web, App, HttpRequest, HttpResponse,
};
use support::{Calls, Instrumented, Logs};

type Reply = actix_web::Result<HttpResponse>;

/// The suite's routes plus the ones these tests need.
fn routes(cfg: &mut web::ServiceConfig) {
    async fn update(s: Session) -> Reply {
        let n = s.update("counter", |n: u64| n * 10)?;
        Ok(HttpResponse::Ok().body(format!("{n:?} {:?}", s.status())))
    }
    async fn fail_after_insert(s: Session) -> Reply {
        s.insert("counter", 999u64)?;
        Ok(HttpResponse::InternalServerError().body("handler failed"))
    }
    support::routes(cfg);
    cfg.route("/update", web::get().to(update))
        .route("/fail", web::get().to(fail_after_insert));
}

fn builder(store: &Instrumented, key: &Key) -> SessionMiddlewareBuilder {
    SessionMiddleware::builder(store.clone(), key.clone())
}

#[actix_web::test]
async fn round_trips_are_the_least_the_request_needs() {
    let store = Instrumented::default();
    let key = Key::generate();
    let app = serve(routes, builder(&store, &key).build()).await;
    let c = &store.counts;

    let res = get(&app, "/counter", None).await;
    let cookie = set_cookie(&res).unwrap();
    assert_eq!(
        c.snapshot(),
        Calls {
            saves: 1,
            ..Calls::default()
        },
        "a new session: no load (no cookie), one write"
    );

    let before = c.snapshot();
    let res = get(&app, "/noop", Some(&cookie)).await;
    assert!(set_cookie(&res).is_none());
    assert_eq!(
        c.snapshot(),
        before,
        "/noop with a valid cookie costs no store call"
    );

    let res = get(&app, "/read", Some(&cookie)).await;
    assert!(
        set_cookie(&res).is_none(),
        "untouched with refresh-on-update: no Set-Cookie"
    );
    assert_eq!(
        c.snapshot(),
        Calls {
            loads: 1,
            saves: 1,
            ..Calls::default()
        },
        "a read is one load and no write"
    );
    assert_eq!(c.refreshing_loads.load(SeqCst), 0);

    let res = get(&app, "/counter", Some(&cookie)).await;
    assert!(
        set_cookie(&res).is_none(),
        "a browser-session cookie is unchanged by a write: not re-sent"
    );
    assert_eq!(
        c.snapshot(),
        Calls {
            loads: 2,
            saves: 2,
            ..Calls::default()
        },
        "a change is one load plus one write"
    );

    get(&app, "/renew", Some(&cookie)).await;
    assert_eq!(
        c.snapshot(),
        Calls {
            loads: 3,
            saves: 2,
            renews: 1,
            ..Calls::default()
        },
        "renew is one load plus one renew"
    );

    let res = get(&app, "/counter", None).await;
    let other = set_cookie(&res).unwrap();
    let before = c.snapshot();
    get(&app, "/purge", Some(&other)).await;
    let after = c.snapshot();
    assert_eq!(
        after - before,
        Calls {
            loads: 1,
            deletes: 1,
            ..Calls::default()
        },
        "purge is one load plus one delete"
    );
}

#[actix_web::test]
async fn refresh_on_access_folds_into_the_load() {
    let store = Instrumented::default();
    let key = Key::generate();
    let app = serve(
        routes,
        builder(&store, &key)
            .refresh(TtlRefresh::OnAccess)
            .cookie_lifecycle(CookieLifecycle::Persistent)
            .build(),
    )
    .await;
    let cookie = set_cookie(&get(&app, "/counter", None).await).unwrap();
    let res = get(&app, "/read", Some(&cookie)).await;
    assert_eq!(
        store.counts.snapshot(),
        Calls {
            loads: 1,
            saves: 1,
            ..Calls::default()
        },
        "one load, no separate refresh"
    );
    assert_eq!(
        store.counts.refreshing_loads.load(SeqCst),
        1,
        "the load reset the TTL"
    );
    let reissued = set_cookie(&res).expect("a persistent cookie is re-sent with a fresh Max-Age");
    assert_eq!(
        reissued.max_age(),
        Some(actix_web::cookie::time::Duration::days(1))
    );
    get(&app, "/noop", Some(&cookie)).await;
    assert_eq!(
        store.counts.snapshot(),
        Calls {
            loads: 1,
            saves: 1,
            ..Calls::default()
        },
        "/noop still costs nothing"
    );
}

#[actix_web::test]
async fn refresh_on_every_request_touches_without_loading() {
    let store = Instrumented::default();
    let key = Key::generate();
    let app = serve(
        routes,
        builder(&store, &key)
            .refresh(TtlRefresh::OnEveryRequest)
            .build(),
    )
    .await;
    let cookie = set_cookie(&get(&app, "/counter", None).await).unwrap();
    let res = get(&app, "/noop", Some(&cookie)).await;
    assert!(
        set_cookie(&res).is_none(),
        "browser-session cookies need no re-send"
    );
    assert_eq!(
        store.counts.snapshot(),
        Calls {
            saves: 1,
            refreshes: 1,
            ..Calls::default()
        },
        "/noop refreshes the TTL, no load"
    );
    get(&app, "/noop", None).await;
    assert_eq!(
        store.counts.snapshot(),
        Calls {
            saves: 1,
            refreshes: 1,
            ..Calls::default()
        },
        "no cookie, nothing to refresh"
    );
}

#[actix_web::test]
async fn store_down_fails_only_session_routes_opaquely_and_recovers() {
    let (logs, _guard) = Logs::capture();
    let store = Instrumented::default();
    let key = Key::generate();
    let app = serve(routes, builder(&store, &key).build()).await;
    let cookie = set_cookie(&get(&app, "/counter", None).await).unwrap();

    store.fail_load.store(true, SeqCst);
    let res = get(&app, "/read", Some(&cookie)).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers().get("retry-after").unwrap(), "5");
    let text = body(res).await;
    assert_eq!(
        text, "Service Unavailable",
        "the body says nothing of the cause"
    );
    assert!(
        logs.text().contains("secret-backend-detail"),
        "the cause is logged: {}",
        logs.text()
    );
    assert_eq!(
        get(&app, "/noop", Some(&cookie)).await.status(),
        StatusCode::OK
    );

    store.fail_load.store(false, SeqCst);
    let res = get(&app, "/read", Some(&cookie)).await;
    assert_eq!(body(res).await, "1", "recovers by itself");
}

#[actix_web::test]
async fn a_failed_save_turns_the_response_into_a_503_in_an_outage() {
    let (logs, _guard) = Logs::capture();
    let store = Instrumented::default();
    let key = Key::generate();
    let app = serve(routes, builder(&store, &key).build()).await;
    let cookie = set_cookie(&get(&app, "/counter", None).await).unwrap();
    store.fail_save.store(true, SeqCst);
    let res = get(&app, "/counter", Some(&cookie)).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers().get("retry-after").unwrap(), "5");
    assert!(set_cookie(&res).is_none());
    assert_eq!(body(res).await, "Service Unavailable");
    assert!(logs.text().contains("could not save the session"));
    store.fail_save.store(false, SeqCst);
    assert_eq!(
        body(get(&app, "/read", Some(&cookie)).await).await,
        "1",
        "nothing was kept"
    );
}

#[actix_web::test]
async fn a_5xx_response_saves_nothing() {
    let store = Instrumented::default();
    let key = Key::generate();
    let app = serve(routes, builder(&store, &key).build()).await;
    let cookie = set_cookie(&get(&app, "/counter", None).await).unwrap();
    let res = get(&app, "/fail", Some(&cookie)).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(set_cookie(&res).is_none());
    assert_eq!(
        store.counts.saves.load(SeqCst),
        1,
        "only the first request wrote"
    );
    assert_eq!(body(get(&app, "/read", Some(&cookie)).await).await, "1");
    let res = get(&app, "/fail", None).await;
    assert!(
        set_cookie(&res).is_none(),
        "a new session is not created by a failed handler"
    );
}

#[actix_web::test]
async fn bad_cookies_are_fresh_sessions_that_never_reach_the_store() {
    let (logs, _guard) = Logs::capture();
    let store = Instrumented::default();
    let key = Key::generate();
    let app = serve(routes, builder(&store, &key).build()).await;
    let cookie = set_cookie(&get(&app, "/counter", None).await).unwrap();
    let value = cookie.value().to_owned();
    let mut flipped = value.clone().into_bytes();
    flipped[50] ^= 1;
    let bad = [
        String::from_utf8(flipped).unwrap(),
        value[..value.len() - 3].to_owned(),
        value[44..].to_owned(),
        "garbage".to_owned(),
        String::new(),
        "a".repeat(5000),
        format!("{value}{value}"),
    ];
    let before = store.counts.snapshot();
    for v in bad {
        let res = get(&app, "/read", Some(&Cookie::new("session", v.clone()))).await;
        assert_eq!(res.status(), StatusCode::OK, "{v:?}");
        assert_eq!(body(res).await, "0", "{v:?} is a fresh session");
    }
    assert_eq!(
        store.counts.snapshot(),
        before,
        "forged cookies cost no store round trip"
    );
    assert!(logs.text().contains("WARN") && logs.text().contains("session cookie rejected"));
}

#[actix_web::test]
async fn an_unknown_id_gets_a_fresh_id_never_the_clients() {
    let store = Instrumented::default();
    let key = Key::generate();
    let app = serve(routes, builder(&store, &key).build()).await;
    let cookie = set_cookie(&get(&app, "/counter", None).await).unwrap();
    let old_id = body(get(&app, "/id", Some(&cookie)).await).await;
    store
        .inner
        .delete(&old_id.as_str().try_into().unwrap())
        .await
        .unwrap();
    let res = get(&app, "/counter", Some(&cookie)).await;
    let fresh = set_cookie(&res).unwrap();
    assert_eq!(body(res).await, "1");
    let new_id = body(get(&app, "/id", Some(&fresh)).await).await;
    assert!(!new_id.is_empty());
    assert_ne!(
        new_id, old_id,
        "the id the client presented is never adopted"
    );
    let res = get(&app, "/read", Some(&cookie)).await;
    assert!(
        set_cookie(&res).is_none(),
        "a dead session's cookie is left alone: it may have been renewed away by a concurrent \
         request, whose new cookie a removal would delete"
    );
}

#[actix_web::test]
async fn vary_cookie_only_when_the_session_was_read() {
    let store = Instrumented::default();
    let app = serve(routes, builder(&store, &Key::generate()).build()).await;
    let vary = |res: &ServiceResponse<_>| {
        res.headers()
            .get("vary")
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let res = get(&app, "/read", None).await;
    assert_eq!(vary(&res).as_deref(), Some("Cookie"));
    let res = get(&app, "/noop", None).await;
    assert_eq!(vary(&res), None);
}

#[actix_web::test]
async fn cookie_attributes_default_to_safe() {
    let store = Instrumented::default();
    let app = serve(routes, builder(&store, &Key::generate()).build()).await;
    let c = set_cookie(&get(&app, "/counter", None).await).unwrap();
    assert_eq!(c.name(), "session");
    assert_eq!(c.secure(), Some(true));
    assert_eq!(c.http_only(), Some(true));
    assert_eq!(c.same_site(), Some(SameSite::Lax));
    assert_eq!(c.path(), Some("/"));
    assert_eq!(c.domain(), None);
    assert_eq!(c.max_age(), None, "a browser-session cookie by default");
}

#[actix_web::test]
async fn cookie_attributes_follow_the_builder() {
    let store = Instrumented::default();
    let mw = builder(&store, &Key::generate())
        .cookie_name("sid")
        .cookie_path("/app")
        .cookie_domain(Some("example.test".into()))
        .cookie_secure(false)
        .cookie_http_only(false)
        .cookie_same_site(SameSite::Strict)
        .cookie_lifecycle(CookieLifecycle::Persistent)
        .ttl(Duration::from_secs(90))
        .build();
    let app =
        test::init_service(App::new().service(web::scope("/app").wrap(mw).configure(routes))).await;
    let res = get(&app, "/app/counter", None).await;
    let c = set_cookie(&res).unwrap();
    assert_eq!(c.name(), "sid");
    assert_eq!(c.path(), Some("/app"));
    assert_eq!(c.domain(), Some("example.test"));
    assert_ne!(c.secure(), Some(true), "Secure off");
    assert_ne!(c.http_only(), Some(true), "HttpOnly off");
    assert_eq!(c.same_site(), Some(SameSite::Strict));
    assert_eq!(
        c.max_age(),
        Some(actix_web::cookie::time::Duration::seconds(90))
    );
    let res = get(&app, "/app/purge", Some(&c)).await;
    let removal = set_cookie(&res).unwrap();
    assert_eq!(
        (removal.name(), removal.path(), removal.domain()),
        ("sid", Some("/app"), Some("example.test"))
    );
    assert_eq!(
        removal.max_age(),
        Some(actix_web::cookie::time::Duration::ZERO)
    );
}

#[actix_web::test]
async fn update_marks_the_session_changed() {
    let store = Instrumented::default();
    let app = serve(routes, builder(&store, &Key::generate()).build()).await;
    let cookie = set_cookie(&get(&app, "/counter", None).await).unwrap();
    let res = get(&app, "/update", Some(&cookie)).await;
    assert_eq!(body(res).await, "Some(10) Changed");
    assert_eq!(
        body(get(&app, "/read", Some(&cookie)).await).await,
        "10",
        "update was saved"
    );
}

#[actix_web::test]
async fn set_ttl_is_kept_with_the_session() {
    let store = Instrumented::default();
    let app = serve(
        routes,
        builder(&store, &Key::generate())
            .cookie_lifecycle(CookieLifecycle::Persistent)
            .build(),
    )
    .await;
    let cookie = set_cookie(&get(&app, "/counter", None).await).unwrap();
    let res = get(&app, "/ttl/7200", Some(&cookie)).await;
    let cookie = set_cookie(&res).expect("a TTL change is a change");
    assert_eq!(
        cookie.max_age(),
        Some(actix_web::cookie::time::Duration::seconds(7200))
    );
    let res = get(&app, "/counter", Some(&cookie)).await;
    assert_eq!(
        set_cookie(&res).unwrap().max_age(),
        Some(actix_web::cookie::time::Duration::seconds(7200)),
        "later writes keep the session's own TTL"
    );
}

#[actix_web::test]
async fn rotated_keys_still_open_and_are_replaced_on_write() {
    let store = Instrumented::default();
    let old = Key::generate();
    let new = Key::generate();
    let before = serve(routes, builder(&store, &old).build()).await;
    let cookie = set_cookie(&get(&before, "/counter", None).await).unwrap();

    let rotated = serve(
        routes,
        builder(&store, &new).previous_keys([old.clone()]).build(),
    )
    .await;
    assert_eq!(
        body(get(&rotated, "/read", Some(&cookie)).await).await,
        "1",
        "the old key still opens"
    );
    let res = get(&rotated, "/counter", Some(&cookie)).await;
    let resealed = set_cookie(&res).unwrap();

    let retired = serve(routes, builder(&store, &new).build()).await;
    assert_eq!(
        body(get(&retired, "/read", Some(&cookie)).await).await,
        "0",
        "a retired key does not"
    );
    assert_eq!(
        body(get(&retired, "/read", Some(&resealed)).await).await,
        "2",
        "re-sealed with the new key"
    );
}

#[actix_web::test]
async fn maximum_lifetime_ends_a_session_whatever_its_refreshes() {
    let store = Instrumented::manual_clock();
    let app = serve(
        routes,
        builder(&store, &Key::generate())
            .clock(store.clock.clone())
            .max_lifetime(Some(Duration::from_secs(2)))
            .build(),
    )
    .await;
    // Creation times are whole seconds: a 2 s lifetime is alive for sure within 1 s of the
    // creation and over for sure 2 s after it; each check stands a second clear of those bounds.
    let cookie = set_cookie(&get(&app, "/counter", None).await).unwrap();
    assert_eq!(body(get(&app, "/read", Some(&cookie)).await).await, "1");
    store.clock.advance(Duration::from_millis(3000));
    assert_eq!(body(get(&app, "/read", Some(&cookie)).await).await, "0");
}

#[actix_web::test]
async fn without_the_middleware_extraction_is_an_opaque_500() {
    // An app that forgot `App::wrap(SessionMiddleware…)` must not quietly forget every session.
    let app = test::init_service(App::new().configure(routes)).await;
    for uri in ["/read", "/counter", "/typed", "/flashes"] {
        let res = get(&app, uri, None).await;
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR, "{uri}");
        assert!(set_cookie(&res).is_none());
        assert_eq!(body(res).await, "Internal Server Error", "{uri}");
    }
}

#[actix_web::test]
async fn without_the_middleware_extractors_use_the_session_get_session_made() {
    use actix_web::FromRequest as _;
    // A handler's unit test: get_session() gives the request a working detached session, and
    // the extractor hands that same session to the handler.
    let (req, mut payload) = test::TestRequest::default().to_http_parts();
    req.get_session().insert("counter", 41u64).unwrap();
    let session = Session::from_request(&req, &mut payload).await.unwrap();
    assert_eq!(session.get::<u64>("counter").unwrap(), Some(41));
    session.insert("counter", 42u64).unwrap();
    assert_eq!(req.get_session().get::<u64>("counter").unwrap(), Some(42));
}

#[actix_web::test]
async fn session_ext_handles_load_on_demand_and_see_one_state() {
    async fn handler(req: HttpRequest) -> Reply {
        let s = req.get_session();
        assert!(matches!(
            s.get::<u64>("counter"),
            Err(SessionError::NotLoaded { .. })
        ));
        s.insert("written", true)?; // blind writes need no load
        s.load().await?;
        let n: u64 = s.get("counter")?.unwrap_or(0);
        Ok(HttpResponse::Ok().body(format!("{n} {}", s.get::<bool>("written")?.unwrap())))
    }
    let store = Instrumented::default();
    let app = test::init_service(
        App::new()
            .wrap(builder(&store, &Key::generate()).build())
            .configure(routes)
            .route("/ext", web::get().to(handler)),
    )
    .await;
    let cookie = set_cookie(&get(&app, "/counter", None).await).unwrap();
    assert_eq!(body(get(&app, "/ext", Some(&cookie)).await).await, "1 true");
}

#[actix_web::test]
async fn a_partial_load_then_a_full_load_is_one_consistent_state() {
    async fn handler(req: HttpRequest, store: web::Data<Instrumented>) -> Reply {
        let s = req.get_session();
        s.load_keys(&["a"]).await?;
        let a1: String = s.get("a")?.unwrap();
        assert!(matches!(
            s.get::<String>("b"),
            Err(SessionError::NotLoaded { .. })
        ));
        // Another request changes both keys between our two loads.
        let id = s.id().unwrap();
        store
            .save(
                &id,
                &ChangeSet::update()
                    .upsert("a", "\"A2\"")
                    .upsert("b", "\"B2\""),
                Duration::from_secs(60),
            )
            .await
            .unwrap();
        s.load().await?;
        let a2: String = s.get("a")?.unwrap();
        let b: String = s.get("b")?.unwrap();
        Ok(HttpResponse::Ok().body(format!("{a1} {a2} {b}")))
    }
    let store = Instrumented::default();
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(store.clone()))
            .wrap(builder(&store, &Key::generate()).build())
            .route(
                "/seed",
                web::get().to(|s: Session| async move {
                    s.insert("a", "A1").unwrap();
                    s.insert("b", "B1").unwrap();
                    HttpResponse::Ok().finish()
                }),
            )
            .route("/partial", web::get().to(handler)),
    )
    .await;
    let cookie = set_cookie(&get(&app, "/seed", None).await).unwrap();
    let loads = store.counts.loads.load(SeqCst);
    let body = body(get(&app, "/partial", Some(&cookie)).await).await;
    assert_eq!(
        body, "A1 A1 B2",
        "what the request already read does not change under it"
    );
    assert_eq!(
        store.counts.loads.load(SeqCst) - loads,
        2,
        "one partial load, one load of the rest"
    );
}

#[actix_web::test]
async fn status_tracks_what_the_request_did() {
    async fn handler(s: Session) -> Reply {
        let mut seen = vec![s.status()];
        s.insert("k", 1)?;
        seen.push(s.status());
        s.renew();
        seen.push(s.status());
        s.purge();
        seen.push(s.status());
        Ok(HttpResponse::Ok().body(format!("{seen:?}")))
    }
    let app = test::init_service(
        App::new()
            .wrap(SessionMiddleware::new(
                Instrumented::default(),
                Key::generate(),
            ))
            .route("/", web::get().to(handler)),
    )
    .await;
    assert_eq!(
        body(get(&app, "/", None).await).await,
        "[Unchanged, Changed, Renewed, Purged]"
    );
}

#[actix_web::test]
async fn untouched_requests_do_not_even_verify_the_cookie() {
    let (logs, _guard) = Logs::capture();
    let store = Instrumented::default();
    let app = serve(routes, builder(&store, &Key::generate()).build()).await;
    let forged = Cookie::new("session", "forged-value");
    let res = get(&app, "/noop", Some(&forged)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(set_cookie(&res).is_none());
    assert!(
        !logs.text().contains("rejected"),
        "no verification: {}",
        logs.text()
    );
    get(&app, "/read", Some(&forged)).await;
    assert!(
        logs.text().contains("rejected"),
        "verified once the session is used"
    );
}

#[actix_web::test]
async fn persistent_cookies_are_re_sent_on_writes_for_a_fresh_max_age() {
    let store = Instrumented::default();
    let app = serve(
        routes,
        builder(&store, &Key::generate())
            .cookie_lifecycle(CookieLifecycle::Persistent)
            .build(),
    )
    .await;
    let cookie = set_cookie(&get(&app, "/counter", None).await).unwrap();
    let res = get(&app, "/counter", Some(&cookie)).await;
    let again = set_cookie(&res).expect("re-sent with a fresh Max-Age");
    assert_eq!(again.value(), cookie.value(), "same id, same text");
    assert_eq!(
        again.max_age(),
        Some(actix_web::cookie::time::Duration::days(1))
    );
}

// Regression tests for issue 12's core defects: each keeps one promise that main broke.

/// A typed session, to format its `Debug` as `#[tracing::instrument]` would.
#[derive(actix_typed_session::SessionData, Debug)]
struct Visits {
    #[session(default)]
    count: u32,
}

#[::core::prelude::v1::test]
fn formatting_a_session_never_blocks_the_worker() {
    async fn handler(s: Session, typed: VisitsSession) -> Reply {
        s.insert("k", 1)?;
        Ok(HttpResponse::Ok().body(format!("{s:?} {typed:?}")))
    }
    // A deadlock would hang the thread that runs the request: run it on its own thread and
    // give it a deadline, so the test fails instead of hanging.
    let (done, outcome) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let store = Instrumented::default();
            let mw = SessionMiddleware::new(store, Key::generate());
            let app = test::init_service(
                App::new()
                    .wrap(mw)
                    .configure(routes)
                    .route("/debug", web::get().to(handler)),
            )
            .await;
            let cookie = set_cookie(&get(&app, "/counter", None).await).unwrap();
            let res = get(&app, "/debug", Some(&cookie)).await;
            let _ = done.send(body(res).await);
        });
    });
    let text = outcome
        .recv_timeout(Duration::from_secs(20))
        .expect("formatting a session finished");
    assert!(text.contains("Session"), "{text}");
    assert!(text.contains("VisitsSession"), "{text}");
    assert!(
        text.contains("id: Some"),
        "the id is shown once verified: {text}"
    );
}

/// The `Max-Age` of a response's session cookie, in seconds.
fn max_age<B>(res: &ServiceResponse<B>) -> i64 {
    set_cookie(res)
        .expect("a session cookie")
        .max_age()
        .expect("a persistent cookie")
        .whole_seconds()
}

/// Deletes the session a cookie names, as an expiry, an eviction or a flush would.
async fn lose_session<S, B>(app: &S, store: &Instrumented, cookie: &Cookie<'static>)
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let id = body(get(app, "/id", Some(cookie)).await).await;
    store
        .inner
        .delete(&id.as_str().try_into().unwrap())
        .await
        .unwrap();
}

#[actix_web::test]
async fn a_fresh_session_inherits_neither_the_ttl_nor_the_age_of_the_dead_one_it_replaces() {
    let store = Instrumented::default();
    let app = serve(
        routes,
        builder(&store, &Key::generate())
            .cookie_lifecycle(CookieLifecycle::Persistent)
            .ttl(Duration::from_secs(3600))
            .build(),
    )
    .await;
    // "Remember me" on a session that then dies: the next session is an ordinary one.
    let cookie = set_cookie(&get(&app, "/counter", None).await).unwrap();
    let remembered = set_cookie(&get(&app, "/ttl/7200", Some(&cookie)).await).unwrap();
    lose_session(&app, &store, &remembered).await;
    let res = get(&app, "/counter", Some(&remembered)).await;
    assert_eq!(
        max_age(&res),
        3600,
        "the configured TTL, not the dead one's"
    );

    // Purge, then insert: the new session does not keep the purged one's TTL.
    let cookie = set_cookie(&get(&app, "/counter", None).await).unwrap();
    let remembered = set_cookie(&get(&app, "/ttl/7200", Some(&cookie)).await).unwrap();
    let res = get(&app, "/purge-then-set", Some(&remembered)).await;
    assert_eq!(max_age(&res), 3600, "purge ends the remembered TTL too");
}

#[actix_web::test]
async fn a_fresh_session_gets_a_whole_maximum_lifetime() {
    let store = Instrumented::manual_clock();
    let app = serve(
        routes,
        builder(&store, &Key::generate())
            .clock(store.clock.clone())
            .cookie_lifecycle(CookieLifecycle::Persistent)
            .max_lifetime(Some(Duration::from_secs(100)))
            .build(),
    )
    .await;
    let old = set_cookie(&get(&app, "/counter", None).await).unwrap();
    // Expiry is in whole seconds: two of them have surely passed after 2.1 s.
    store.clock.advance(Duration::from_millis(2100));
    let res = get(&app, "/counter", Some(&old)).await;
    assert!(max_age(&res) <= 98, "the live session is capped by its age");
    lose_session(&app, &store, &old).await;
    let res = get(&app, "/counter", Some(&old)).await;
    assert!(
        max_age(&res) >= 99,
        "a new session in place of the old one starts its own lifetime: {}",
        max_age(&res)
    );
}

#[actix_web::test]
async fn a_builder_ttl_beyond_what_a_cookie_carries_is_clamped_not_unreadable() {
    for ttl in [Duration::from_secs(20 * 366 * 24 * 3600), Duration::MAX] {
        let store = Instrumented::default();
        let app = serve(routes, builder(&store, &Key::generate()).ttl(ttl).build()).await;
        let cookie = set_cookie(&get(&app, "/counter", None).await).unwrap();
        assert_eq!(
            body(get(&app, "/read", Some(&cookie)).await).await,
            "1",
            "{ttl:?}"
        );
    }
}

#[actix_web::test]
async fn a_late_request_with_a_renewed_away_id_never_removes_the_new_cookie() {
    let store = Instrumented::default();
    let gate = web::Data::new(tokio::sync::Notify::new());
    async fn late_set(s: Session, gate: web::Data<tokio::sync::Notify>) -> Reply {
        gate.notified().await;
        s.insert("late", 1)?;
        Ok(HttpResponse::Ok().finish())
    }
    let app = test::init_service(
        App::new()
            .app_data(gate.clone())
            .wrap(builder(&store, &Key::generate()).build())
            .configure(routes)
            .route("/late-set", web::get().to(late_set)),
    )
    .await;
    let old = set_cookie(&get(&app, "/counter", None).await).unwrap();
    // The late request loads the session, then the login renews it, then the late one writes.
    let (late, renewed) = futures_util::future::join(get(&app, "/late-set", Some(&old)), async {
        let res = get(&app, "/renew", Some(&old)).await;
        gate.notify_one();
        res
    })
    .await;
    let renewed = set_cookie(&renewed).expect("the renewal sets the new cookie");
    assert!(!renewed.value().is_empty());
    assert_eq!(late.status(), StatusCode::OK);
    assert!(
        set_cookie(&late).is_none(),
        "a write that lost to the renewal answers no cookie at all"
    );
    let res = get(&app, "/read", Some(&old)).await;
    assert!(
        set_cookie(&res).is_none(),
        "the old cookie is answered no cookie"
    );
    assert_eq!(
        body(res).await,
        "0",
        "the old cookie opens an empty session"
    );
    assert_eq!(
        body(get(&app, "/read", Some(&renewed)).await).await,
        "1",
        "the renewed session is intact"
    );
}

#[actix_web::test]
async fn a_rejected_cookie_is_removed_once_and_logged_without_its_text() {
    let (logs, _guard) = Logs::capture();
    let store = Instrumented::default();
    let key = Key::generate();
    let app = serve(routes, builder(&store, &key).build()).await;
    let value = set_cookie(&get(&app, "/counter", None).await)
        .unwrap()
        .value()
        .to_owned();
    let mut flipped = value.clone().into_bytes();
    flipped[50] ^= 1;
    let bad = [
        String::from_utf8(flipped).unwrap(),
        "garbage-cookie-text".to_owned(),
        "b".repeat(5000),
    ];
    for v in &bad {
        let res = get(&app, "/read", Some(&Cookie::new("session", v.clone()))).await;
        let removal = set_cookie(&res).expect("a removal cookie");
        assert!(removal.value().is_empty(), "{v:?}");
        assert_eq!(
            removal.max_age(),
            Some(actix_web::cookie::time::Duration::ZERO)
        );
        assert_eq!(body(res).await, "0");
    }
    let text = logs.text();
    assert_eq!(
        text.matches("session cookie rejected").count(),
        bad.len(),
        "one line per rejection: {text}"
    );
    for v in &bad {
        assert!(!text.contains(&v[..16]), "the cookie's text is not logged");
    }
    let res = get(&app, "/read", None).await;
    assert!(set_cookie(&res).is_none(), "no cookie, nothing to remove");
}

#[actix_web::test]
async fn a_cookie_sealed_with_a_previous_key_is_resealed_on_a_read() {
    let old = Key::generate();
    let new = Key::generate();
    let server = Instrumented::default();
    type Make = Box<dyn Fn(Key, Vec<Key>) -> SessionMiddleware>;
    let makers: [(&str, Make); 3] = [
        (
            "server",
            Box::new(move |k, prev| builder(&server, &k).previous_keys(prev).build()),
        ),
        (
            "encrypted",
            Box::new(|k, prev| {
                SessionMiddleware::builder(actix_typed_session::store::CookieStore::encrypted(), k)
                    .previous_keys(prev)
                    .build()
            }),
        ),
        (
            "signed",
            Box::new(|k, prev| {
                SessionMiddleware::builder(actix_typed_session::store::CookieStore::signed(), k)
                    .previous_keys(prev)
                    .build()
            }),
        ),
    ];
    for (name, make) in makers {
        let before = serve(routes, make(old.clone(), vec![])).await;
        let cookie = set_cookie(&get(&before, "/counter", None).await).unwrap();
        let rotated = serve(routes, make(new.clone(), vec![old.clone()])).await;
        let res = get(&rotated, "/read", Some(&cookie)).await;
        let resealed = set_cookie(&res).unwrap_or_else(|| panic!("{name}: re-sealed on a read"));
        assert_eq!(body(res).await, "1");
        let res = get(&rotated, "/read", Some(&resealed)).await;
        assert!(
            set_cookie(&res).is_none(),
            "{name}: a current cookie is kept"
        );
        let retired = serve(routes, make(new.clone(), vec![])).await;
        assert_eq!(
            body(get(&retired, "/read", Some(&resealed)).await).await,
            "1",
            "{name}: retiring the old key signs out no reader"
        );
    }
}
