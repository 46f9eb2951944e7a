//! Runtime behaviour of `#[derive(SessionData)]` accessors, through real HTTP requests on the
//! memory store: every generated method, absent and mistyped values, prefixes and renamed keys,
//! and typed and untyped extraction sharing one request's state.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};

use actix_typed_session::{
    store::MemoryStore,
    testing::{body, get, set_cookie},
    Session, SessionData, SessionError, SessionExt as _, SessionMiddleware,
};
use actix_web::{cookie::Key, http::StatusCode, test, web, App, HttpRequest, HttpResponse};
use support::Instrumented;

mod support;

/// A cart as an app would keep it.
#[derive(SessionData, Debug, Clone, PartialEq)]
#[session(prefix = "cart")]
struct Cart {
    /// Item ids, in the order they were added.
    items: Vec<u32>,
    #[session(key = "uid")]
    user: Option<u64>,
    #[session(default)]
    visits: u32,
    #[session(default = "euro")]
    currency: String,
}

/// `Cart`'s keys with the `error` policy: a stale value is reported, not dropped.
#[derive(SessionData, Debug)]
#[session(prefix = "cart", stale = "error", name = "StrictCartSession")]
#[allow(dead_code)]
struct StrictCart {
    items: Vec<u32>,
    #[session(key = "uid")]
    user: Option<u64>,
    #[session(default)]
    visits: u32,
    #[session(default = "euro")]
    currency: String,
}

fn euro() -> String {
    "EUR".to_owned()
}

/// Two required fields, so that a half-stored struct can exist.
#[derive(SessionData, Debug, PartialEq)]
struct Login {
    user_id: u64,
    name: String,
}

/// A value JSON cannot encode (map keys must be strings), to exercise `save`'s atomicity.
#[derive(SessionData, Debug)]
struct Awkward {
    #[session(default)]
    plain: u32,
    #[session(default)]
    bad: BTreeMap<Vec<u8>, u8>,
}

type Action<T> = Arc<dyn Fn(&T) -> String + Send + Sync>;

/// What one scenario left behind: the action's output and the stored entries afterwards.
struct Outcome {
    body: String,
    stored: HashMap<String, serde_json::Value>,
}

/// Seeds a session with raw JSON `seed`, runs `action` on the `T` accessor in a second request,
/// then reads the stored entries back in a third, through the store.
async fn scenario<T, F>(seed: &[(&str, &str)], action: F) -> Outcome
where
    T: actix_web::FromRequest + 'static,
    F: Fn(&T) -> String + Send + Sync + 'static,
{
    let seed: Vec<(String, String)> = seed
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let action: Action<T> = Arc::new(action);
    let app = test::init_service(
        App::new()
            .wrap(SessionMiddleware::new(MemoryStore::new(), Key::generate()))
            .route(
                "/seed",
                web::get().to(move |s: Session| {
                    for (k, v) in &seed {
                        s.insert_raw(k.clone(), v.clone()).unwrap();
                    }
                    s.insert_raw("seeded", "true".to_owned()).unwrap();
                    async { HttpResponse::Ok().finish() }
                }),
            )
            .route(
                "/act",
                web::get().to(move |t: T| {
                    let out = action(&t);
                    async move { HttpResponse::Ok().body(out) }
                }),
            )
            .route("/dump", web::get().to(dump)),
    )
    .await;
    let seeded = get(&app, "/seed", None).await;
    let cookie = set_cookie(&seeded).expect("the seed request sets a cookie");
    let acted = get(&app, "/act", Some(&cookie)).await;
    assert_eq!(acted.status(), StatusCode::OK);
    let cookie = set_cookie(&acted).unwrap_or(cookie);
    let answer = body(acted).await;
    let dumped = body(get(&app, "/dump", Some(&cookie)).await).await;
    let mut stored: HashMap<String, serde_json::Value> =
        serde_json::from_str(&dumped).expect("dump is JSON");
    assert_eq!(stored.remove("seeded"), Some(serde_json::json!(true)));
    Outcome {
        body: answer,
        stored,
    }
}

async fn dump(s: Session) -> actix_web::Result<HttpResponse> {
    let entries: HashMap<String, serde_json::Value> = s
        .entries()?
        .into_iter()
        .map(|(k, v)| (k, serde_json::from_str(&v).expect("stored JSON")))
        .collect();
    Ok(HttpResponse::Ok().json(entries))
}

fn json(pairs: &[(&str, serde_json::Value)]) -> HashMap<String, serde_json::Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

/// `Ok` values as their Debug text; errors as the variant and key, so tests can match either.
fn show<T: std::fmt::Debug>(r: Result<T, SessionError>) -> String {
    match r {
        Ok(v) => format!("{v:?}"),
        Err(SessionError::Deserialize { key, .. }) => format!("Deserialize({key})"),
        Err(SessionError::Serialize { key, .. }) => format!("Serialize({key})"),
        Err(SessionError::Incomplete { key }) => format!("Incomplete({key})"),
        Err(other) => format!("{other}"),
    }
}

#[actix_web::test]
async fn keys_are_associated_constants() {
    assert_eq!(CartSession::ITEMS_KEY, "cart.items");
    assert_eq!(CartSession::USER_KEY, "cart.uid");
    assert_eq!(CartSession::VISITS_KEY, "cart.visits");
    assert_eq!(CartSession::CURRENCY_KEY, "cart.currency");
    assert_eq!(
        CartSession::KEYS,
        ["cart.items", "cart.uid", "cart.visits", "cart.currency"]
    );
    assert_eq!(LoginSession::KEYS, ["user_id", "name"]);
}

/// Like `Session`, an accessor can move into spawned tasks.
#[actix_web::test]
async fn accessors_are_send_sync_clone() {
    fn check<T: Send + Sync + Clone + std::fmt::Debug + 'static>() {}
    check::<CartSession>();
    check::<LoginSession>();
}

#[actix_web::test]
async fn absent_fields_read_by_kind() {
    let out = scenario(&[], |c: &CartSession| {
        format!(
            "{} {} {} {}",
            show(c.items()),
            show(c.user()),
            show(c.visits()),
            show(c.currency())
        )
    })
    .await;
    assert_eq!(out.body, r#"None None 0 "EUR""#);
    assert!(
        out.stored.is_empty(),
        "reading writes nothing: {:?}",
        out.stored
    );
}

#[actix_web::test]
async fn getters_read_prefixed_and_renamed_keys() {
    let seed = [
        ("cart.items", "[1,2]"),
        ("cart.uid", "7"),
        ("cart.visits", "3"),
        ("cart.currency", "\"CHF\""),
        // Unprefixed and field-named keys belong to someone else.
        ("items", "[9]"),
        ("cart.user", "99"),
    ];
    let out = scenario(&seed, |c: &CartSession| {
        format!(
            "{} {} {} {}",
            show(c.items()),
            show(c.user()),
            show(c.visits()),
            show(c.currency())
        )
    })
    .await;
    assert_eq!(out.body, r#"Some([1, 2]) Some(7) 3 "CHF""#);
}

#[actix_web::test]
async fn setters_write_their_keys() {
    let out = scenario(&[], |c: &CartSession| {
        c.set_items(vec![4, 5]).unwrap();
        c.set_user(Some(42)).unwrap();
        c.set_visits(1).unwrap();
        let currency = "USD".to_owned();
        c.set_currency(&currency).unwrap();
        show(c.load())
    })
    .await;
    assert_eq!(
        out.body,
        r#"Some(Cart { items: [4, 5], user: Some(42), visits: 1, currency: "USD" })"#
    );
    assert_eq!(
        out.stored,
        json(&[
            ("cart.items", serde_json::json!([4, 5])),
            ("cart.uid", serde_json::json!(42)),
            ("cart.visits", serde_json::json!(1)),
            ("cart.currency", serde_json::json!("USD")),
        ])
    );
}

#[actix_web::test]
async fn setting_none_removes_the_key() {
    let out = scenario(&[("cart.uid", "7")], |c: &CartSession| {
        c.set_user(None).unwrap();
        show(c.user())
    })
    .await;
    assert_eq!(out.body, "None");
    assert!(out.stored.is_empty(), "{:?}", out.stored);
}

#[actix_web::test]
async fn removers_return_the_old_value() {
    let seed = [
        ("cart.items", "[1]"),
        ("cart.uid", "7"),
        ("cart.visits", "3"),
    ];
    let out = scenario(&seed, |c: &CartSession| {
        format!(
            "{} {} {} {} | {} {}",
            show(c.remove_items()),
            show(c.remove_user()),
            show(c.remove_visits()),
            show(c.remove_currency()),
            show(c.items()),
            show(c.visits()),
        )
    })
    .await;
    assert_eq!(out.body, "Some([1]) Some(7) Some(3) None | None 0");
    assert!(out.stored.is_empty(), "{:?}", out.stored);
}

#[actix_web::test]
async fn updaters_see_what_getters_see() {
    let out = scenario(&[("cart.items", "[1]")], |c: &CartSession| {
        let items = c
            .update_items(|old| {
                let mut items = old.unwrap_or_default();
                items.push(2);
                items
            })
            .unwrap();
        let user = c.update_user(|old| Some(old.unwrap_or(10) + 1)).unwrap();
        let visits = c.update_visits(|n| n + 1).unwrap();
        let currency = c.update_currency(|c| c + "!").unwrap();
        format!("{items:?} {user:?} {visits} {currency}")
    })
    .await;
    assert_eq!(out.body, "[1, 2] Some(11) 1 EUR!");
    assert_eq!(
        out.stored,
        json(&[
            ("cart.items", serde_json::json!([1, 2])),
            ("cart.uid", serde_json::json!(11)),
            ("cart.visits", serde_json::json!(1)),
            ("cart.currency", serde_json::json!("EUR!")),
        ])
    );
}

/// Every read of a cart accessor (`CartSession` or `StrictCartSession`), shown.
macro_rules! read_every_field {
    ($c:ident) => {
        [
            show($c.items()),
            show($c.user()),
            show($c.visits()),
            show($c.currency()),
            show($c.load()),
            show($c.update_visits(|n| n + 1)),
        ]
        .join(" ")
    };
}

const WRONG_TYPES: [(&str, &str); 4] = [
    ("cart.items", "\"not a list\""),
    ("cart.uid", "\"seven\""),
    ("cart.visits", "-1"),
    ("cart.currency", "5"),
];

#[actix_web::test]
async fn wrong_stored_types_read_as_absent_and_are_removed_by_default() {
    let out = scenario(&WRONG_TYPES, |c: &CartSession| read_every_field!(c)).await;
    assert_eq!(out.body, "None None 0 \"EUR\" None 1");
    // The stale values are gone from the store; only the update is left.
    assert_eq!(out.stored, json(&[("cart.visits", serde_json::json!(1))]));
}

#[actix_web::test]
async fn wrong_stored_types_are_deserialize_errors_under_the_error_policy() {
    let out = scenario(&WRONG_TYPES, |c: &StrictCartSession| read_every_field!(c)).await;
    assert_eq!(
        out.body,
        "Deserialize(cart.items) Deserialize(cart.uid) Deserialize(cart.visits) \
         Deserialize(cart.currency) Deserialize(cart.items) Deserialize(cart.visits)"
    );
    // Nothing was overwritten by the failed reads.
    assert_eq!(out.stored["cart.visits"], serde_json::json!(-1));
}

#[actix_web::test]
async fn removing_a_mistyped_value_removes_it() {
    let out = scenario(&[("cart.visits", "\"x\"")], |c: &CartSession| {
        format!("{} {}", show(c.remove_visits()), show(c.visits()))
    })
    .await;
    assert_eq!(out.body, "None 0");
    assert!(out.stored.is_empty(), "{:?}", out.stored);
}

#[actix_web::test]
async fn removing_a_mistyped_value_reports_the_type_under_the_error_policy() {
    let out = scenario(&[("cart.visits", "\"x\"")], |c: &StrictCartSession| {
        format!("{} {}", show(c.remove_visits()), show(c.visits()))
    })
    .await;
    assert_eq!(out.body, "Deserialize(cart.visits) 0");
    assert!(out.stored.is_empty(), "{:?}", out.stored);
}

#[actix_web::test]
async fn stored_null_reads_as_none_in_an_option_field() {
    let out = scenario(&[("cart.uid", "null")], |c: &CartSession| show(c.user())).await;
    assert_eq!(out.body, "None");
}

#[actix_web::test]
async fn load_is_none_until_required_fields_are_stored() {
    let empty = scenario(&[], |l: &LoginSession| show(l.load())).await;
    assert_eq!(empty.body, "None");
    let full = scenario(
        &[("user_id", "1"), ("name", "\"ada\"")],
        |l: &LoginSession| show(l.load()),
    )
    .await;
    assert_eq!(full.body, r#"Some(Login { user_id: 1, name: "ada" })"#);
    let torn = scenario(&[("name", "\"ada\"")], |l: &LoginSession| show(l.load())).await;
    assert_eq!(torn.body, "Incomplete(user_id)");
}

#[actix_web::test]
async fn load_without_required_fields_is_always_some() {
    let out = scenario(&[("cart.items", "[3]")], |c: &CartSession| show(c.load())).await;
    assert_eq!(
        out.body,
        r#"Some(Cart { items: [3], user: None, visits: 0, currency: "EUR" })"#
    );
}

#[actix_web::test]
async fn save_writes_every_field_and_none_removes() {
    let seed = [("cart.uid", "7"), ("other", "1")];
    let out = scenario(&seed, |c: &CartSession| {
        let cart = Cart {
            items: vec![1, 2, 3],
            user: None,
            visits: 0,
            currency: "JPY".into(),
        };
        c.save(&cart).unwrap();
        assert_eq!(c.load().unwrap().as_ref(), Some(&cart));
        "saved".into()
    })
    .await;
    assert_eq!(out.body, "saved");
    assert_eq!(
        out.stored,
        json(&[
            ("cart.items", serde_json::json!([1, 2, 3])),
            ("cart.visits", serde_json::json!(0)),
            ("cart.currency", serde_json::json!("JPY")),
            ("other", serde_json::json!(1)),
        ])
    );
}

#[actix_web::test]
async fn save_is_all_or_nothing() {
    let out = scenario(&[("plain", "1")], |a: &AwkwardSession| {
        let bad = BTreeMap::from([(vec![1u8], 1u8)]);
        let result = a.save(&Awkward { plain: 2, bad });
        format!("{} {}", show(result), show(a.plain()))
    })
    .await;
    assert_eq!(out.body, "Serialize(bad) 1");
    assert_eq!(out.stored, json(&[("plain", serde_json::json!(1))]));
}

#[actix_web::test]
async fn remove_all_leaves_other_keys() {
    let seed = [("cart.items", "[1]"), ("cart.uid", "2"), ("items", "[3]")];
    let out = scenario(&seed, |c: &CartSession| show(c.remove_all())).await;
    assert_eq!(out.body, "()");
    assert_eq!(out.stored, json(&[("items", serde_json::json!([3]))]));
}

#[actix_web::test]
async fn from_session_wraps_an_untyped_handle() {
    let app = test::init_service(
        App::new()
            .wrap(SessionMiddleware::new(MemoryStore::new(), Key::generate()))
            .route(
                "/",
                web::get().to(|req: HttpRequest| async move {
                    // Not loaded at all yet: `from_session` loads the struct's keys.
                    let cart = CartSession::from_session(req.get_session()).await?;
                    let n = cart.update_visits(|n| n + 1)?;
                    assert_eq!(cart.session().get::<u32>("cart.visits")?, Some(n));
                    Ok::<_, actix_web::Error>(HttpResponse::Ok().body(n.to_string()))
                }),
            ),
    )
    .await;
    let first = get(&app, "/", None).await;
    let cookie = set_cookie(&first).expect("cookie");
    assert_eq!(body(first).await, "1");
    assert_eq!(body(get(&app, "/", Some(&cookie)).await).await, "2");
}

#[actix_web::test]
async fn without_middleware_extraction_is_an_opaque_500() {
    let app = test::init_service(App::new().route(
        "/",
        web::get().to(|c: CartSession| async move { show(c.visits()) }),
    ))
    .await;
    let res = get(&app, "/", None).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body(res).await, "Internal Server Error");
}

/// A route that stores `entries` (key, JSON text) in the session.
fn seed_route(entries: &'static [(&'static str, &'static str)]) -> actix_web::Route {
    web::get().to(move |s: Session| {
        for (key, json) in entries {
            s.insert_raw(*key, (*json).to_owned()).unwrap();
        }
        async { HttpResponse::Ok().finish() }
    })
}

/// What extracting a `CartSession` loads: its keys, and the signed-in user (as every load).
fn all_cart_keys() -> Option<Vec<String>> {
    let keys = CartSession::KEYS
        .iter()
        .chain([&actix_typed_session::store::USER_KEY]);
    Some(keys.map(|k| (*k).to_owned()).collect())
}

/// The typed extractor loads only its own keys, once; a later untyped extraction in the same
/// request loads the rest, and both see this request's changes.
#[actix_web::test]
async fn typed_then_untyped_in_one_request_share_state() {
    let store = Instrumented::default();
    let app = test::init_service(
        App::new()
            .wrap(SessionMiddleware::new(store.clone(), Key::generate()))
            .route(
                "/seed",
                seed_route(&[
                    ("cart.visits", "5"),
                    ("cart.items", "[1]"),
                    ("other", "\"kept\""),
                ]),
            )
            .route(
                "/typed-only",
                web::get().to(|c: CartSession| async move { show(c.visits()) }),
            )
            .route(
                "/typed-first",
                web::get().to(|c: CartSession, req: HttpRequest| async move {
                    // A change made through the typed handle before the rest is loaded ...
                    c.set_visits(6)?;
                    c.remove_items()?;
                    let s = req.get_session();
                    s.load().await?;
                    // ... is what the untyped handle sees, not the stored values.
                    let seen = (
                        s.get::<u32>("cart.visits")?,
                        s.get::<Vec<u32>>("cart.items")?,
                        s.get::<String>("other")?,
                    );
                    s.insert("other", "changed")?;
                    let back = (c.visits()?, c.items()?);
                    Ok::<_, actix_web::Error>(HttpResponse::Ok().body(format!("{seen:?} {back:?}")))
                }),
            )
            .route(
                "/untyped-first",
                web::get().to(|s: Session, c: CartSession| async move {
                    s.insert("cart.visits", 7u32)?;
                    c.update_visits(|n| n * 10)?;
                    Ok::<_, actix_web::Error>(HttpResponse::Ok().body(format!(
                        "{:?} {:?}",
                        s.get::<u32>("cart.visits")?,
                        s.get::<String>("other")?
                    )))
                }),
            ),
    )
    .await;
    let cookie = set_cookie(&get(&app, "/seed", None).await).expect("cookie");
    store.take_loads();

    let res = get(&app, "/typed-only", Some(&cookie)).await;
    assert_eq!(body(res).await, "5");
    assert_eq!(
        store.take_loads(),
        vec![all_cart_keys()],
        "one load, own keys only"
    );

    let res = get(&app, "/typed-first", Some(&cookie)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        body(res).await,
        r#"(Some(6), None, Some("kept")) (6, None)"#
    );
    assert_eq!(store.take_loads(), vec![all_cart_keys(), None]);

    let res = get(&app, "/untyped-first", Some(&cookie)).await;
    assert_eq!(body(res).await, r#"Some(70) Some("changed")"#);
    assert_eq!(
        store.take_loads(),
        vec![None],
        "the typed extraction reuses the loaded session"
    );

    let res = get(&app, "/typed-only", Some(&cookie)).await;
    assert_eq!(body(res).await, "70");
}

#[actix_web::test]
async fn typed_sessions_work_on_the_cookie_store() {
    let app = test::init_service(
        App::new()
            .wrap(SessionMiddleware::new(
                actix_typed_session::store::CookieStore::encrypted(),
                Key::generate(),
            ))
            .route(
                "/",
                web::get().to(|c: CartSession| async move {
                    let n = c.update_visits(|n| n + 1)?;
                    Ok::<_, actix_web::Error>(HttpResponse::Ok().body(n.to_string()))
                }),
            ),
    )
    .await;
    let first = get(&app, "/", None).await;
    let cookie = set_cookie(&first).expect("cookie");
    assert_eq!(body(first).await, "1");
    assert_eq!(body(get(&app, "/", Some(&cookie)).await).await, "2");
}

/// Round trips as the docs promise: two typed extractors load their own keys one after the
/// other; a `Session` extracted first loads everything once and the typed ones reuse it; a
/// typed extractor before a `Session` one loads its keys, then the rest.
#[actix_web::test]
async fn extractor_order_decides_the_loads() {
    let store = Instrumented::default();
    let app = test::init_service(
        App::new()
            .wrap(SessionMiddleware::new(store.clone(), Key::generate()))
            .route(
                "/seed",
                seed_route(&[("cart.visits", "1"), ("user_id", "9"), ("name", "\"ada\"")]),
            )
            .route(
                "/two-typed",
                web::get().to(|c: CartSession, l: LoginSession| async move {
                    format!("{} {}", show(c.visits()), show(l.user_id()))
                }),
            )
            .route(
                "/session-first",
                web::get().to(|s: Session, c: CartSession, l: LoginSession| async move {
                    let n = s.get::<u32>("cart.visits").ok().flatten();
                    format!("{n:?} {} {}", show(c.visits()), show(l.name()))
                }),
            )
            .route(
                "/typed-first",
                web::get().to(|c: CartSession, s: Session| async move {
                    format!(
                        "{} {:?}",
                        show(c.visits()),
                        s.get::<u64>("user_id").ok().flatten()
                    )
                }),
            ),
    )
    .await;
    let cookie = set_cookie(&get(&app, "/seed", None).await).expect("cookie");
    store.take_loads();
    let login_keys = Some(vec!["user_id".to_owned(), "name".to_owned()]);

    let res = get(&app, "/two-typed", Some(&cookie));
    assert_eq!(body(res.await).await, "1 Some(9)");
    assert_eq!(store.take_loads(), vec![all_cart_keys(), login_keys]);

    let res = get(&app, "/session-first", Some(&cookie));
    assert_eq!(body(res.await).await, r#"Some(1) 1 Some("ada")"#);
    assert_eq!(store.take_loads(), vec![None]);

    let res = get(&app, "/typed-first", Some(&cookie));
    assert_eq!(body(res.await).await, "1 Some(9)");
    assert_eq!(store.take_loads(), vec![all_cart_keys(), None]);
}
