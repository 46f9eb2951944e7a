//! `FileStore` behind the middleware, through real HTTP requests (`actix_web::test`).

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
    time::{SystemTime, UNIX_EPOCH},
};

use actix_web::{
    cookie::{Cookie, CookieJar, Key},
    dev::ServiceResponse,
    http::header,
    test, web, App, HttpResponse,
};
use session::{store::FileStore, Session, SessionId, SessionMiddleware, DEFAULT_COOKIE_NAME};

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/set/{key}/{value}",
        web::get().to(|s: Session, path: web::Path<(String, String)>| async move {
            let (key, value) = path.into_inner();
            s.insert(key, &value)?;
            Ok::<_, actix_web::Error>(HttpResponse::Ok().body("ok"))
        }),
    )
    .route(
        "/get/{key}",
        web::get().to(|s: Session, key: web::Path<String>| async move {
            Ok::<_, actix_web::Error>(match s.get::<String>(&key)? {
                Some(v) => HttpResponse::Ok().body(v),
                None => HttpResponse::NotFound().finish(),
            })
        }),
    )
    .route(
        "/purge",
        web::get().to(|s: Session| async move {
            s.purge();
            HttpResponse::Ok().body("ok")
        }),
    );
}

macro_rules! app {
    ($store:expr, $key:expr) => {
        test::init_service(
            App::new()
                .wrap(SessionMiddleware::new($store, $key))
                .configure(routes),
        )
        .await
    };
}

fn session_cookie<B>(res: &ServiceResponse<B>) -> Option<Cookie<'static>> {
    res.response()
        .cookies()
        .find(|c| c.name() == DEFAULT_COOKIE_NAME)
        .map(Cookie::into_owned)
}

/// Two middleware instances, each with its own `FileStore` on one directory (as two processes
/// would have), serve one session.
#[actix_web::test]
async fn two_stores_on_one_directory_share_sessions() {
    let tmp = tempfile::tempdir().unwrap();
    let key = Key::generate();
    let a = app!(FileStore::new(tmp.path()).unwrap(), key.clone());
    let b = app!(FileStore::new(tmp.path()).unwrap(), key);

    let res = test::call_service(&a, test::TestRequest::get().uri("/set/k/v1").to_request()).await;
    assert!(res.status().is_success());
    let cookie = session_cookie(&res).expect("a session cookie");
    let req = |uri: &str| {
        test::TestRequest::get()
            .uri(uri)
            .cookie(cookie.clone())
            .to_request()
    };

    let res = test::call_service(&b, req("/get/k")).await;
    assert_eq!(test::read_body(res).await, "v1");
    let res = test::call_service(&b, req("/set/other/v2")).await;
    assert!(res.status().is_success());
    let res = test::call_service(&a, req("/get/other")).await;
    assert_eq!(test::read_body(res).await, "v2");

    let res = test::call_service(&b, req("/purge")).await;
    assert!(res.status().is_success());
    let res = test::call_service(&a, req("/get/k")).await;
    assert_eq!(res.status(), 404);
}

/// Every regular file under `root`, outside `skip`, with its contents and modification time.
fn snapshot(root: &Path, skip: &Path) -> BTreeMap<PathBuf, (Vec<u8>, SystemTime)> {
    let mut files = BTreeMap::new();
    let mut dirs = vec![root.to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path == skip {
                continue;
            }
            let meta = fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                dirs.push(path);
            } else {
                files.insert(
                    path.clone(),
                    (fs::read(&path).unwrap(), meta.modified().unwrap()),
                );
            }
        }
    }
    files
}

/// A cookie that passes the signature check, carrying `id` where the session id goes.
fn forged(key: &Key, id: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut jar = CookieJar::new();
    jar.signed_mut(key).add(Cookie::new(
        DEFAULT_COOKIE_NAME,
        format!("{id}.{now}.86400"),
    ));
    jar.get(DEFAULT_COOKIE_NAME).unwrap().value().to_owned()
}

/// Cookie values aimed at paths outside the directory, signed or not, only ever get a fresh
/// session inside it.
#[actix_web::test]
async fn cookie_values_never_reach_outside_the_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let dir = root.join("sessions");
    let victim = format!(
        "{{\"expires_at\":{},\"data\":{{\"admin\":\"true\"}}}}",
        u64::MAX
    );
    fs::create_dir_all(root.join("etc")).unwrap();
    fs::write(root.join("etc/passwd"), &victim).unwrap();
    fs::write(root.join("victim.json"), &victim).unwrap();
    fs::write(root.join("session-victim.json"), &victim).unwrap();
    let key = Key::generate();
    let store = FileStore::new(&dir).unwrap();
    let app = app!(store, key.clone());
    let before = snapshot(root, &dir);

    let outside = root.display().to_string();
    let targets = [
        "../victim".to_owned(),
        "../../../../../../etc/passwd".to_owned(),
        format!("{outside}/victim"),
        format!("{outside}/etc/passwd"),
        "/etc/passwd".to_owned(),
        "..%2Fvictim".to_owned(),
        "%2e%2e%2fvictim".to_owned(),
        "..\\victim".to_owned(),
        "victim%00".to_owned(),
        "x".repeat(10_000),
        "A".repeat(43) + "/../../victim",
        "-".repeat(43),
        String::new(),
    ];
    let mut values: Vec<String> = targets.iter().map(|t| forged(&key, t)).collect();
    values.extend(targets.iter().cloned());
    let mut fresh = Vec::new();
    for value in &values {
        let req = test::TestRequest::get()
            .uri("/set/k/v")
            .insert_header((header::COOKIE, format!("{DEFAULT_COOKIE_NAME}={value}")))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert!(res.status().is_success(), "{value:?}: {}", res.status());
        let cookie = session_cookie(&res).expect("a fresh session");
        assert_ne!(cookie.value(), value);
        fresh.push(cookie);
        // The forged session's "data" is never served.
        let req = test::TestRequest::get()
            .uri("/get/admin")
            .insert_header((header::COOKIE, format!("{DEFAULT_COOKIE_NAME}={value}")))
            .to_request();
        assert_eq!(test::call_service(&app, req).await.status(), 404);
    }

    assert_eq!(
        snapshot(root, &dir),
        before,
        "a file outside the directory changed"
    );
    let sessions: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| !name.starts_with(".session-lock-"))
        .collect();
    assert_eq!(
        sessions.len(),
        values.len(),
        "one fresh session per request: {sessions:?}"
    );
    for name in &sessions {
        let id = name
            .strip_prefix("session-")
            .unwrap()
            .strip_suffix(".json")
            .unwrap();
        assert!(SessionId::try_from(id).is_ok(), "{name}");
    }
    // The fresh sessions work.
    let req = test::TestRequest::get()
        .uri("/get/k")
        .cookie(fresh[0].clone())
        .to_request();
    assert_eq!(
        test::read_body(test::call_service(&app, req).await).await,
        "v"
    );
}

/// A session file that went bad is a fresh session for the client, not an error.
#[actix_web::test]
async fn a_corrupt_file_becomes_a_fresh_session() {
    let tmp = tempfile::tempdir().unwrap();
    let store = FileStore::new(tmp.path()).unwrap();
    let app = app!(store.clone(), Key::generate());
    let res = test::call_service(&app, test::TestRequest::get().uri("/set/k/v").to_request()).await;
    let cookie = session_cookie(&res).unwrap();
    let file = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .unwrap();
    let whole = fs::read(&file).unwrap();
    fs::write(&file, &whole[..whole.len() - 3]).unwrap();

    let req = test::TestRequest::get()
        .uri("/get/k")
        .cookie(cookie.clone())
        .to_request();
    assert_eq!(test::call_service(&app, req).await.status(), 404);
    let req = test::TestRequest::get()
        .uri("/set/k/w")
        .cookie(cookie)
        .to_request();
    let res = test::call_service(&app, req).await;
    assert!(res.status().is_success());
    let new = session_cookie(&res).unwrap();
    let req = test::TestRequest::get()
        .uri("/get/k")
        .cookie(new)
        .to_request();
    assert_eq!(
        test::read_body(test::call_service(&app, req).await).await,
        "w"
    );
}
