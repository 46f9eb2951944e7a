//! CSRF protection through the middleware: unsafe requests need a token of their session and
//! must not come from another origin; safe ones are never checked and cost nothing; the token
//! rotates at sign-in and sign-out; header-token clients are not checked unless asked.

mod support;

use std::collections::HashMap;

use actix_typed_session::{
    store::CookieStore, testing::body, Csrf, CsrfToken, Session, SessionMiddleware, Transport,
};
use actix_web::{
    body::MessageBody,
    cookie::Key,
    dev::{Service, ServiceResponse},
    http::StatusCode,
    test::{self, TestRequest},
    web, App,
};
use support::{Instrumented, Logs};

/// The origin of requests made with `actix_web::test` (its default host).
const OWN_ORIGIN: &str = "http://localhost:8080";

fn routes(cfg: &mut web::ServiceConfig) {
    // Two masked tokens of one response, one a line.
    async fn token(csrf: CsrfToken) -> String {
        format!("{}\n{}", csrf.masked(), csrf)
    }
    async fn sign_in(session: Session) -> actix_web::Result<&'static str> {
        session.sign_in("ada")?;
        Ok("in")
    }
    async fn sign_out(session: Session) -> &'static str {
        session.sign_out();
        "out"
    }
    // Answers a field of the form the middleware read before it.
    async fn echo(form: web::Form<HashMap<String, String>>) -> String {
        form.get("item").cloned().unwrap_or_default()
    }
    async fn ok() -> &'static str {
        "ok"
    }
    cfg.route("/token", web::get().to(token))
        .route("/login", web::post().to(sign_in))
        .route("/logout", web::post().to(sign_out))
        .route("/echo", web::post().to(echo))
        .route("/echo", web::put().to(echo))
        .route("/noop", web::route().to(ok))
        .route("/hook", web::post().to(ok));
}

async fn app(
    csrf: Csrf,
    mw: SessionMiddleware,
) -> impl Service<
    actix_http::Request,
    Response = ServiceResponse<impl MessageBody>,
    Error = actix_web::Error,
> {
    test::init_service(App::new().configure(routes).wrap(csrf).wrap(mw)).await
}

/// An app on an instrumented memory store, with the default `Csrf` (the hook exempt).
async fn instrumented() -> (
    impl Service<
        actix_http::Request,
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
    >,
    Instrumented,
) {
    let store = Instrumented::default();
    let mw = SessionMiddleware::new(store.clone(), Key::generate());
    (
        app(Csrf::builder().exempt("/hook").build(), mw).await,
        store,
    )
}

/// One browser: keeps the session cookie the app sets.
#[derive(Default)]
struct Browser {
    jar: support::Jar,
}

impl Browser {
    async fn send<S, B>(&mut self, app: &S, req: TestRequest) -> (StatusCode, String)
    where
        S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
        B: MessageBody,
    {
        let res = self.jar.send(app, req).await;
        (res.status(), body(res).await)
    }

    /// A fresh masked token of this browser's session.
    async fn token<S, B>(&mut self, app: &S) -> String
    where
        S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
        B: MessageBody,
    {
        let (status, text) = self.send(app, TestRequest::get().uri("/token")).await;
        assert_eq!(status, StatusCode::OK, "{text}");
        text.lines().next().unwrap().to_owned()
    }
}

/// A same-origin form post, as a browser sends it.
fn form(uri: &str, fields: &[(&str, &str)]) -> TestRequest {
    TestRequest::post()
        .uri(uri)
        .insert_header(("origin", OWN_ORIGIN))
        .set_form(fields)
}

#[actix_web::test]
async fn a_correct_token_passes_in_the_form_or_the_header() {
    let (app, _) = instrumented().await;
    let mut b = Browser::default();
    let token = b.token(&app).await;
    let (status, text) = b
        .send(
            &app,
            form("/echo", &[("item", "4"), ("csrf_token", &token)]),
        )
        .await;
    assert_eq!(
        (status, text.as_str()),
        (StatusCode::OK, "4"),
        "the handler still reads the form"
    );
    let by_header = TestRequest::put()
        .uri("/echo")
        .insert_header(("x-csrf-token", token.as_str()))
        .set_form([("item", "5")]);
    assert_eq!(b.send(&app, by_header).await, (StatusCode::OK, "5".into()));
    let no_origin = TestRequest::post()
        .uri("/echo")
        .set_form([("item", "6"), ("csrf_token", &token)]);
    assert_eq!(
        b.send(&app, no_origin).await,
        (StatusCode::OK, "6".into()),
        "without Origin or Referer the token decides"
    );
}

#[actix_web::test]
async fn a_missing_or_wrong_token_is_refused_with_a_plain_403() {
    let (logs, _guard) = Logs::capture();
    let (app, _) = instrumented().await;
    let mut b = Browser::default();
    let token = b.token(&app).await;

    let (status, text) = b.send(&app, form("/echo", &[("item", "4")])).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(text.contains("could not be verified"), "{text}");

    let mut other = Browser::default();
    let others_token = other.token(&app).await;
    let mut tampered = token.clone().into_bytes();
    tampered[70] = if tampered[70] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    for wrong in [
        others_token.as_str(),
        &tampered,
        "not-a-token",
        &token[..40],
    ] {
        let (status, text) = b
            .send(&app, form("/echo", &[("item", "4"), ("csrf_token", wrong)]))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{wrong}");
        assert!(!text.contains(wrong), "the body does not echo the token");
    }
    let log = logs.text();
    assert!(log.contains("reason=\"missing\""), "{log}");
    assert!(log.contains("reason=\"mismatch\""), "{log}");
    assert!(
        !log.contains(&token[..20]) && !log.contains(&others_token[..20]),
        "{log}"
    );
}

#[actix_web::test]
async fn a_token_without_a_session_is_refused() {
    let (app, _) = instrumented().await;
    let mut b = Browser::default();
    let token = b.token(&app).await;
    let mut stranger = Browser::default();
    let (status, _) = stranger
        .send(
            &app,
            form("/echo", &[("item", "4"), ("csrf_token", &token)]),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn a_token_from_before_sign_in_or_sign_out_stops_verifying() {
    let (on_memory, _) = instrumented().await;
    stale_tokens_are_refused(&on_memory).await;
    let on_cookies = SessionMiddleware::new(CookieStore::encrypted(), Key::generate());
    stale_tokens_are_refused(&app(Csrf::new(), on_cookies).await).await;
}

async fn stale_tokens_are_refused<S, B>(app: &S)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut b = Browser::default();
    let before = b.token(app).await;
    let (status, _) = b
        .send(app, form("/login", &[("csrf_token", &before)]))
        .await;
    assert_eq!(status, StatusCode::OK, "signed in with the pre-login token");
    let (status, _) = b
        .send(
            &app,
            form("/echo", &[("item", "1"), ("csrf_token", &before)]),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the pre-login token is stale"
    );

    let signed_in = b.token(app).await;
    let (status, _) = b
        .send(
            &app,
            form("/echo", &[("item", "1"), ("csrf_token", &signed_in)]),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = b
        .send(app, form("/logout", &[("csrf_token", &signed_in)]))
        .await;
    assert_eq!(status, StatusCode::OK);
    let after = b.token(app).await;
    let (status, _) = b
        .send(
            &app,
            form("/echo", &[("item", "1"), ("csrf_token", &signed_in)]),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the signed-in token is stale after sign-out"
    );
    let (status, _) = b
        .send(
            &app,
            form("/echo", &[("item", "1"), ("csrf_token", &after)]),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[actix_web::test]
async fn cross_origin_requests_are_refused_even_with_a_valid_token() {
    let (logs, _guard) = Logs::capture();
    let (app, store) = instrumented().await;
    let mut b = Browser::default();
    let token = b.token(&app).await;
    let claims: [&[(&str, &str)]; 5] = [
        &[("origin", "http://evil.example")],
        &[("origin", "null")],
        &[("origin", "https://localhost:8080")],
        &[("referer", "http://evil.example/attack.html")],
        &[("origin", OWN_ORIGIN), ("sec-fetch-site", "cross-site")],
    ];
    for claim in claims {
        let mut req = TestRequest::post()
            .uri("/echo")
            .set_form([("item", "1"), ("csrf_token", &token)]);
        for &header in claim {
            req = req.insert_header(header);
        }
        let before = store.counts.snapshot();
        let (status, _) = b.send(&app, req).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{claim:?}");
        assert_eq!(
            store.counts.snapshot(),
            before,
            "refused before any store call"
        );
    }
    assert!(logs.text().contains("reason=\"cross-origin\""));
}

#[actix_web::test]
async fn an_allowed_origin_passes_with_its_token() {
    let store = Instrumented::default();
    let csrf = Csrf::builder()
        .allow_origin("https://admin.example")
        .build();
    let app = app(csrf, SessionMiddleware::new(store, Key::generate())).await;
    let mut b = Browser::default();
    let token = b.token(&app).await;
    let from_admin = |token: &str| {
        TestRequest::post()
            .uri("/echo")
            .insert_header(("origin", "https://admin.example"))
            .insert_header(("sec-fetch-site", "same-site"))
            .set_form([("item", "2"), ("csrf_token", token)])
    };
    assert_eq!(
        b.send(&app, from_admin(&token)).await,
        (StatusCode::OK, "2".into())
    );
    assert_eq!(
        b.send(&app, from_admin("")).await.0,
        StatusCode::FORBIDDEN,
        "still needs the token"
    );
}

#[actix_web::test]
async fn safe_methods_and_exempt_paths_are_never_checked_and_cost_no_store_call() {
    let (app, store) = instrumented().await;
    let mut b = Browser::default();
    b.token(&app).await;
    let before = store.counts.snapshot();
    for method in ["GET", "HEAD", "OPTIONS", "TRACE"] {
        let req = TestRequest::default()
            .method(method.parse().unwrap())
            .uri("/noop")
            .insert_header(("origin", "http://evil.example"))
            .insert_header(("sec-fetch-site", "cross-site"));
        assert_eq!(b.send(&app, req).await.0, StatusCode::OK, "{method}");
    }
    let hook = TestRequest::post()
        .uri("/hook")
        .insert_header(("origin", "http://evil.example"));
    assert_eq!(b.send(&app, hook).await.0, StatusCode::OK, "exempt");
    assert_eq!(store.counts.snapshot(), before, "no store call");
    let unsafe_noop = TestRequest::post().uri("/noop");
    assert_eq!(b.send(&app, unsafe_noop).await.0, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn a_checked_request_loads_the_session_once() {
    let (app, store) = instrumented().await;
    let mut b = Browser::default();
    let token = b.token(&app).await;
    store.take_loads();
    let (status, _) = b
        .send(&app, form("/login", &[("csrf_token", &token)]))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        store.take_loads(),
        [None],
        "one whole load, shared by the handler"
    );
}

#[actix_web::test]
async fn masked_tokens_differ_between_responses_and_all_verify() {
    let (app, _) = instrumented().await;
    let mut b = Browser::default();
    let (_, first) = b.send(&app, TestRequest::get().uri("/token")).await;
    let (_, second) = b.send(&app, TestRequest::get().uri("/token")).await;
    let tokens: Vec<&str> = first.lines().chain(second.lines()).collect();
    assert_eq!(tokens.len(), 4);
    for (i, a) in tokens.iter().enumerate() {
        for b in &tokens[i + 1..] {
            assert_ne!(a, b, "every token is masked afresh");
        }
    }
    for token in tokens {
        let (status, _) = b
            .send(&app, form("/echo", &[("item", "3"), ("csrf_token", token)]))
            .await;
        assert_eq!(status, StatusCode::OK, "{token}");
    }
}

#[actix_web::test]
async fn the_secret_is_made_only_when_a_handler_asks() {
    let (app, store) = instrumented().await;
    let mut b = Browser::default();
    let (status, _) = b.send(&app, TestRequest::get().uri("/noop")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(b.jar.cookie, None, "no token asked, no session made");
    b.token(&app).await;
    assert!(
        b.jar.cookie.is_some(),
        "asking made a session to keep the secret"
    );
    let before = store.counts.snapshot();
    b.token(&app).await;
    let calls = store.counts.snapshot() - before;
    assert_eq!(
        (calls.loads, calls.saves),
        (1, 0),
        "the secret is kept, not rewritten"
    );
}

#[actix_web::test]
async fn header_transport_is_not_checked_unless_asked() {
    let header_app = |csrf: Csrf| {
        let mw = SessionMiddleware::builder(Instrumented::default(), Key::generate())
            .transport(Transport::header())
            .build();
        app(csrf, mw)
    };
    let login = |token: Option<&str>| {
        let req = TestRequest::post()
            .uri("/login")
            .insert_header(("origin", "http://evil.example"));
        match token {
            Some(token) => req.insert_header(("x-session", token)),
            None => req,
        }
    };
    let off = header_app(Csrf::new()).await;
    let res = test::call_service(&off, login(None).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK, "not checked by default");
    let session = res
        .headers()
        .get("x-session")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let res = test::call_service(&off, login(Some(&session)).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);

    let on = header_app(Csrf::builder().check_header_transport(true).build()).await;
    let res = test::call_service(&on, login(None).to_request()).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "checked when asked");

    // With both transports, a request that carries the cookie is a browser's: checked.
    let mw = SessionMiddleware::builder(Instrumented::default(), Key::generate())
        .transport(Transport::both())
        .build();
    let both = app(Csrf::new(), mw).await;
    let mut b = Browser::default();
    b.token(&both).await;
    let (status, _) = b.send(&both, login(None)).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the cookie is an ambient credential"
    );
    let res = test::call_service(&both, login(Some("")).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK, "a header client is not");
    let session = res.headers().get("x-session").unwrap().to_str().unwrap();
    let res = test::call_service(&both, login(Some(session)).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[actix_web::test]
async fn an_oversized_form_without_the_header_is_refused() {
    let store = Instrumented::default();
    let csrf = Csrf::builder().form_limit(1024).build();
    let app = app(csrf, SessionMiddleware::new(store, Key::generate())).await;
    let mut b = Browser::default();
    let token = b.token(&app).await;
    let big = "x".repeat(2000);
    let (status, _) = b
        .send(
            &app,
            form("/echo", &[("item", &big), ("csrf_token", &token)]),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let by_header =
        form("/echo", &[("item", &big)]).insert_header(("x-csrf-token", token.as_str()));
    assert_eq!(
        b.send(&app, by_header).await.0,
        StatusCode::OK,
        "the header needs no body read"
    );
}

#[actix_web::test]
async fn configured_names_are_read_and_rendered() {
    let store = Instrumented::default();
    let csrf = Csrf::builder()
        .field_name("authenticity_token")
        .header_name(actix_web::http::header::HeaderName::from_static(
            "x-xsrf-token",
        ))
        .build();
    let app = test::init_service(
        App::new()
            .configure(routes)
            .route(
                "/form",
                web::get().to(|csrf: CsrfToken| async move { csrf.hidden_input() }),
            )
            .wrap(csrf)
            .wrap(SessionMiddleware::new(store, Key::generate())),
    )
    .await;
    let mut b = Browser::default();
    let (_, input) = b.send(&app, TestRequest::get().uri("/form")).await;
    let prefix = r#"<input type="hidden" name="authenticity_token" value=""#;
    assert!(input.starts_with(prefix), "{input}");
    let token = input[prefix.len()..].trim_end_matches("\">").to_owned();
    let (status, _) = b
        .send(&app, form("/echo", &[("authenticity_token", &token)]))
        .await;
    assert_eq!(status, StatusCode::OK);
    let by_header = form("/echo", &[]).insert_header(("x-xsrf-token", token.as_str()));
    assert_eq!(b.send(&app, by_header).await.0, StatusCode::OK);
    let default_name = form("/echo", &[("csrf_token", &token)]);
    assert_eq!(b.send(&app, default_name).await.0, StatusCode::FORBIDDEN);
}
