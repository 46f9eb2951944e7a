//! `FileStore` behind the middleware, through real HTTP requests (`actix_web::test`).

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
    time::{SystemTime, UNIX_EPOCH},
};

use actix_typed_session::{
    store::FileStore,
    testing::{self, body, get, set_cookie},
    SessionId, SessionMiddleware,
};
use actix_web::cookie::{Cookie, Key};

/// The middleware's default cookie name.
const COOKIE_NAME: &str = "session";

/// Two middleware instances, each with its own `FileStore` on one directory (as two processes
/// would have), serve one session.
#[actix_web::test]
async fn two_stores_on_one_directory_share_sessions() {
    let tmp = tempfile::tempdir().unwrap();
    let key = Key::generate();
    let a = testing::serve(
        testing::routes,
        SessionMiddleware::new(FileStore::new(tmp.path()).unwrap(), key.clone()),
    )
    .await;
    let b = testing::serve(
        testing::routes,
        SessionMiddleware::new(FileStore::new(tmp.path()).unwrap(), key),
    )
    .await;

    let res = get(&a, "/set/k/v1", None).await;
    assert!(res.status().is_success());
    let cookie = set_cookie(&res).expect("a session cookie");
    let c = || Some(&cookie);

    assert_eq!(body(get(&b, "/get/k", c()).await).await, "v1");
    assert!(get(&b, "/set/other/v2", c()).await.status().is_success());
    assert_eq!(body(get(&a, "/get/other", c()).await).await, "v2");
    assert!(get(&b, "/purge", c()).await.status().is_success());
    assert_eq!(get(&a, "/get/k", c()).await.status(), 404);
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
    actix_typed_session::__private::seal_server_cookie(
        key,
        COOKIE_NAME,
        format!("{id}.{now}.86400"),
    )
}

/// `forged` is a real forgery: with a live session's id it opens that session, so the test
/// below reaches the store with its hostile ids instead of failing the signature check.
#[actix_web::test]
async fn forged_cookies_pass_the_signature_check() {
    let tmp = tempfile::tempdir().unwrap();
    let key = Key::generate();
    let app = testing::serve(
        testing::routes,
        SessionMiddleware::new(FileStore::new(tmp.path()).unwrap(), key.clone()),
    )
    .await;
    assert!(get(&app, "/set/k/v", None).await.status().is_success());
    let file = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .find(|name| name.starts_with("session-") && name.ends_with(".json"))
        .expect("the session's file");
    let id = &file["session-".len()..file.len() - ".json".len()];
    let cookie = Cookie::new(COOKIE_NAME, forged(&key, id));
    assert_eq!(body(get(&app, "/get/k", Some(&cookie)).await).await, "v");
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
    let app = testing::serve(testing::routes, SessionMiddleware::new(store, key.clone())).await;
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
        let evil = Cookie::new(COOKIE_NAME, value.clone());
        let res = get(&app, "/set/k/v", Some(&evil)).await;
        assert!(res.status().is_success(), "{value:?}: {}", res.status());
        let cookie = set_cookie(&res).expect("a fresh session");
        assert_ne!(cookie.value(), value);
        fresh.push(cookie);
        // The forged session's "data" is never served.
        assert_eq!(get(&app, "/get/admin", Some(&evil)).await.status(), 404);
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
    let res = get(&app, "/get/k", Some(&fresh[0])).await;
    assert_eq!(body(res).await, "v");
}

/// A session file that went bad is a fresh session for the client, not an error.
#[actix_web::test]
async fn a_corrupt_file_becomes_a_fresh_session() {
    let tmp = tempfile::tempdir().unwrap();
    let store = FileStore::new(tmp.path()).unwrap();
    let app = testing::serve(
        testing::routes,
        SessionMiddleware::new(store.clone(), Key::generate()),
    )
    .await;
    let res = get(&app, "/set/k/v", None).await;
    let cookie = set_cookie(&res).unwrap();
    let file = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .unwrap();
    let whole = fs::read(&file).unwrap();
    fs::write(&file, &whole[..whole.len() - 3]).unwrap();

    assert_eq!(get(&app, "/get/k", Some(&cookie)).await.status(), 404);
    let res = get(&app, "/set/k/w", Some(&cookie)).await;
    assert!(res.status().is_success());
    let new = set_cookie(&res).unwrap();
    assert_eq!(body(get(&app, "/get/k", Some(&new)).await).await, "w");
}
