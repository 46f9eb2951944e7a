//! [`deploy_suite`]: two releases of an application's typed sessions sharing one store, checked
//! through `actix_web::test`.

use std::collections::BTreeMap;

use actix_http::Request;
use actix_web::{
    body::MessageBody,
    cookie::Cookie,
    dev::{Service, ServiceResponse},
    http::StatusCode,
    test, web, App,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{body, get, set_cookie};
use crate::{Session, SessionData, SessionError, SessionMiddleware};

/// Release 1 of a cart: item ids.
#[derive(SessionData)]
#[session(crate = "crate", prefix = "deploy")]
struct CartV1 {
    items: Vec<u32>,
    coupon: Option<String>,
}

/// A cart line of release 2.
#[derive(Debug, Serialize, Deserialize)]
struct Line {
    id: u32,
    qty: u32,
}

/// Release 2 of the cart, default policy: release 1's ids read as absent.
#[derive(SessionData)]
#[session(crate = "crate", prefix = "deploy", name = "ResetCartSession")]
struct ResetCart {
    items: Option<Vec<Line>>,
}

/// Release 2 with a migration of the field.
#[derive(SessionData)]
#[session(crate = "crate", prefix = "deploy")]
struct MigratedCart {
    #[session(migrate = "lines_from_ids")]
    items: Option<Vec<Line>>,
}

fn lines_from_ids(stored: Value) -> Result<Vec<Line>, serde_json::Error> {
    let ids: Vec<u32> = serde_json::from_value(stored)?;
    Ok(ids.into_iter().map(|id| Line { id, qty: 1 }).collect())
}

/// Release 2 under the error policy.
#[derive(SessionData)]
#[session(crate = "crate", prefix = "deploy", stale = "error")]
struct StrictCart {
    items: Option<Vec<Line>>,
}

/// Release 2 that no longer has a coupon.
#[derive(SessionData)]
#[session(crate = "crate", prefix = "deploy", removed = ["coupon"])]
struct TidyCart {
    #[session(default)]
    visits: u32,
}

/// Release 1 of a profile, versioned.
#[derive(SessionData)]
#[session(crate = "crate", prefix = "profile", version = 1)]
struct ProfileV1 {
    name: String,
}

/// Release 2 of the profile: a new version, reset on sight of release 1's.
#[derive(SessionData)]
#[session(crate = "crate", prefix = "profile", version = 2, removed = ["name"])]
struct ResetProfile {
    first: Option<String>,
}

/// Release 2 of the profile, migrated from release 1's.
#[derive(SessionData, Debug)]
#[session(
    crate = "crate",
    prefix = "profile",
    version = 2,
    migrate = "profile_from_v1",
    removed = ["name"]
)]
struct MigratedProfile {
    first: Option<String>,
    /// How many migrations produced this state: more than 1 if one ran twice.
    #[session(default)]
    migrations: u32,
}

fn profile_from_v1(from: u32, stored: Map<String, Value>) -> Result<MigratedProfile, String> {
    if from != 1 {
        return Err(format!("no migration from version {from}"));
    }
    let name = stored.get("name").and_then(Value::as_str).unwrap_or("");
    let migrations = stored
        .get("migrations")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    Ok(MigratedProfile {
        first: name.split(' ').next().map(str::to_owned),
        migrations: u32::try_from(migrations).unwrap_or(u32::MAX) + 1,
    })
}

type Reply = actix_web::Result<String>;

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/v1/cart",
        web::get().to(|c: CartV1Session| async move {
            c.set_items(vec![1, 2])?;
            c.set_coupon(Some("SAVE".to_owned()))?;
            Reply::Ok("ok".into())
        }),
    )
    .route(
        "/v2/cart",
        web::get().to(|c: ResetCartSession| async move { Reply::Ok(format!("{:?}", c.items()?)) }),
    )
    .route(
        "/v2/cart/add",
        web::get().to(|c: ResetCartSession| async move {
            let items = c.update_items(|items| {
                let mut items = items.unwrap_or_default();
                items.push(Line { id: 9, qty: 3 });
                Some(items)
            })?;
            Reply::Ok(format!("{items:?}"))
        }),
    )
    .route(
        "/v2/migrated/cart",
        web::get()
            .to(|c: MigratedCartSession| async move { Reply::Ok(format!("{:?}", c.items()?)) }),
    )
    .route(
        "/v2/strict/cart",
        web::get().to(|c: StrictCartSession| async move {
            Reply::Ok(match c.items() {
                Err(SessionError::Deserialize { key, .. }) => format!("Deserialize({key})"),
                other => format!("{:?}", other?),
            })
        }),
    )
    .route(
        "/v2/strict/cart/propagate",
        web::get().to(|c: StrictCartSession| async move { Reply::Ok(format!("{:?}", c.items()?)) }),
    )
    .route(
        "/v2/tidy",
        web::get().to(|c: TidyCartSession| async move {
            Reply::Ok(c.update_visits(|n| n + 1)?.to_string())
        }),
    )
    .route(
        "/v1/profile",
        web::get().to(|p: ProfileV1Session| async move {
            p.set_name("Ada Lovelace".to_owned())?;
            Reply::Ok("ok".into())
        }),
    )
    .route(
        "/v2/profile",
        web::get()
            .to(|p: ResetProfileSession| async move { Reply::Ok(format!("{:?}", p.first()?)) }),
    )
    .route(
        "/v2/profile/set",
        web::get().to(|p: ResetProfileSession| async move {
            p.set_first(Some("Grace".to_owned()))?;
            Reply::Ok("ok".into())
        }),
    )
    .route(
        "/v2/migrated/profile",
        web::get()
            .to(|p: MigratedProfileSession| async move { Reply::Ok(format!("{:?}", p.load()?)) }),
    )
    .route(
        "/dump",
        web::get().to(|s: Session| async move {
            let entries: BTreeMap<String, String> = s.entries()?.into_iter().collect();
            Reply::Ok(
                entries
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        }),
    );
}

/// One visitor: sends its latest cookie with every request.
struct Visitor<'a, S> {
    app: &'a S,
    cookie: Option<Cookie<'static>>,
}

impl<S, B> Visitor<'_, S>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    async fn get(&mut self, uri: &str) -> (StatusCode, String) {
        let res = get(self.app, uri, self.cookie.as_ref()).await;
        if let Some(cookie) = set_cookie(&res) {
            self.cookie = Some(cookie);
        }
        (res.status(), body(res).await)
    }

    /// `uri` answers 200 with `want`.
    async fn expect(&mut self, uri: &str, want: &str) {
        let (status, text) = self.get(uri).await;
        assert_eq!((status, text.as_str()), (StatusCode::OK, want), "GET {uri}");
    }
}

/// Runs release 1 and release 2 of typed sessions against one middleware (one store, one
/// cookie): under the default policy a value that no longer decodes reads as absent and is
/// removed from the store by the same request, never a 500; a field's migration converts it
/// and stores the result; the error policy reports [`SessionError::Deserialize`] and a 5xx
/// still removes the value; a version bump resets or migrates exactly once; removed keys go
/// with the struct's next write.
///
/// ```
/// use actix_typed_session::{store::MemoryStore, testing, SessionMiddleware};
///
/// # actix_web::rt::System::new().block_on(async {
/// let key = actix_web::cookie::Key::generate();
/// testing::deploy_suite(SessionMiddleware::new(MemoryStore::new(), key)).await;
/// # });
/// ```
///
/// # Panics
/// On the first broken promise, naming the request.
pub async fn deploy_suite(middleware: SessionMiddleware) {
    let app = test::init_service(App::new().wrap(middleware).configure(routes)).await;
    let visitor = || Visitor {
        app: &app,
        cookie: None,
    };

    // Default policy: absent, removed by that request's save, then written anew.
    let mut v = visitor();
    v.expect("/v1/cart", "ok").await;
    v.expect("/dump", r#"deploy.coupon="SAVE" deploy.items=[1,2]"#)
        .await;
    v.expect("/v2/cart", "None").await;
    v.expect("/dump", r#"deploy.coupon="SAVE""#).await;
    v.expect("/v2/cart/add", "Some([Line { id: 9, qty: 3 }])")
        .await;
    v.expect("/v2/cart", "Some([Line { id: 9, qty: 3 }])").await;

    // A field's migration: the converted value, saved.
    let mut v = visitor();
    v.expect("/v1/cart", "ok").await;
    let migrated = "Some([Line { id: 1, qty: 1 }, Line { id: 2, qty: 1 }])";
    v.expect("/v2/migrated/cart", migrated).await;
    v.expect(
        "/dump",
        r#"deploy.coupon="SAVE" deploy.items=[{"id":1,"qty":1},{"id":2,"qty":1}]"#,
    )
    .await;
    v.expect("/v2/cart", migrated).await;

    // The error policy: the documented error, the value kept for the handler to deal with;
    // propagated, one 500, and the value is gone for the next request.
    let mut v = visitor();
    v.expect("/v1/cart", "ok").await;
    v.expect("/v2/strict/cart", "Deserialize(deploy.items)")
        .await;
    v.expect("/dump", r#"deploy.coupon="SAVE" deploy.items=[1,2]"#)
        .await;
    let (status, _) = v.get("/v2/strict/cart/propagate").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    v.expect("/v2/strict/cart/propagate", "None").await;
    v.expect("/dump", r#"deploy.coupon="SAVE""#).await;

    // Removed keys go with the struct's first write.
    let mut v = visitor();
    v.expect("/v1/cart", "ok").await;
    v.expect("/v2/tidy", "1").await;
    v.expect("/dump", "deploy.items=[1,2] deploy.visits=1")
        .await;

    // A version bump resets once: release 2's own writes survive the next request.
    let mut v = visitor();
    v.expect("/v1/profile", "ok").await;
    v.expect(
        "/dump",
        r#"profile.__version=1 profile.name="Ada Lovelace""#,
    )
    .await;
    v.expect("/v2/profile", "None").await;
    v.expect("/dump", "profile.__version=2").await;
    v.expect("/v2/profile/set", "ok").await;
    v.expect("/v2/profile", r#"Some("Grace")"#).await;

    // A version bump migrates once, and drops the removed key in the same save.
    let mut v = visitor();
    v.expect("/v1/profile", "ok").await;
    let profile = r#"Some(MigratedProfile { first: Some("Ada"), migrations: 1 })"#;
    v.expect("/v2/migrated/profile", profile).await;
    v.expect("/v2/migrated/profile", profile).await;
    v.expect(
        "/dump",
        r#"profile.__version=2 profile.first="Ada" profile.migrations=1"#,
    )
    .await;

    // A fresh session is not outdated: no version is written until the struct writes.
    let mut v = visitor();
    v.expect(
        "/v2/migrated/profile",
        "Some(MigratedProfile { first: None, migrations: 0 })",
    )
    .await;
    assert!(
        v.cookie.is_none(),
        "reading a fresh typed session saves nothing"
    );
}
