//! `FileStore` at the trait level, on real files in temp dirs.

use std::{
    fs,
    os::unix::fs::{FileTypeExt as _, PermissionsExt as _},
    path::{Path, PathBuf},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use actix_typed_session::{
    store::{
        start_pruning, ChangeSet, Entries, FileStore, Keys, Prune as _, SaveOutcome, SessionStore,
    },
    SessionId, StoreError,
};

const HOUR: Duration = Duration::from_secs(3600);

fn store() -> (tempfile::TempDir, FileStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::new(dir.path().join("sessions")).unwrap();
    (dir, store)
}

fn file_of(store: &FileStore, id: &SessionId) -> PathBuf {
    store.dir().join(format!("{}{id}.json", store.prefix()))
}

fn record(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

fn expires_at(path: &Path) -> u64 {
    record(path)["expires_at"].as_u64().unwrap()
}

fn now_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

async fn load_all(store: &FileStore, id: &SessionId) -> Option<Entries> {
    store.load(id, Keys::All, None).await.unwrap()
}

async fn save(
    store: &FileStore,
    id: &SessionId,
    changes: &ChangeSet,
    ttl: Duration,
) -> SaveOutcome {
    store.save(id, changes, ttl).await.unwrap()
}

fn entries(pairs: &[(&str, &str)]) -> Entries {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[actix_web::test]
async fn change_sets_round_trip() {
    let (_tmp, store) = store();
    let id = SessionId::generate();
    let create = ChangeSet::create().upsert("a", "1").upsert("b", "\"two\"");
    assert_eq!(save(&store, &id, &create, HOUR).await, SaveOutcome::Saved);
    assert_eq!(
        load_all(&store, &id).await,
        Some(entries(&[("a", "1"), ("b", "\"two\"")]))
    );
    let only = ["b".to_owned(), "missing".to_owned()];
    assert_eq!(
        store.load(&id, Keys::Only(&only), None).await.unwrap(),
        Some(entries(&[("b", "\"two\"")]))
    );

    let update = ChangeSet::update().upsert("c", "[3]").remove("a");
    assert_eq!(save(&store, &id, &update, HOUR).await, SaveOutcome::Saved);
    assert_eq!(
        load_all(&store, &id).await,
        Some(entries(&[("b", "\"two\""), ("c", "[3]")]))
    );

    let clear = ChangeSet::update().clear().upsert("d", "null");
    save(&store, &id, &clear, HOUR).await;
    assert_eq!(load_all(&store, &id).await, Some(entries(&[("d", "null")])));

    // Values that are not JSON at all are kept verbatim too.
    let odd = "not json \"\\\u{0}\n🦀";
    save(&store, &id, &ChangeSet::update().upsert("odd", odd), HOUR).await;
    let loaded = load_all(&store, &id).await.unwrap();
    assert_eq!(loaded["odd"], odd);
}

#[actix_web::test]
async fn unknown_and_deleted_sessions_are_never_written() {
    let (_tmp, store) = store();
    let id = SessionId::generate();
    assert_eq!(load_all(&store, &id).await, None);
    let late = ChangeSet::update().upsert("a", "1");
    assert_eq!(save(&store, &id, &late, HOUR).await, SaveOutcome::Gone);
    assert!(!file_of(&store, &id).exists());
    assert!(!store.refresh(&id, HOUR).await.unwrap());

    save(&store, &id, &ChangeSet::create(), HOUR).await;
    assert!(file_of(&store, &id).exists());
    store.delete(&id).await.unwrap();
    assert!(!file_of(&store, &id).exists());
    // A request that loaded the session before the logout finishes late: no resurrection.
    assert_eq!(save(&store, &id, &late, HOUR).await, SaveOutcome::Gone);
    assert!(!file_of(&store, &id).exists());
    assert_eq!(store.load(&id, Keys::All, Some(HOUR)).await.unwrap(), None);
    store.delete(&id).await.unwrap();
}

#[actix_web::test]
async fn renew_moves_the_session() {
    let (_tmp, store) = store();
    let (old, new) = (SessionId::generate(), SessionId::generate());
    save(&store, &old, &ChangeSet::create().upsert("a", "1"), HOUR).await;
    store
        .renew(&old, &new, &ChangeSet::create().upsert("a", "1"), HOUR)
        .await
        .unwrap();
    assert!(!file_of(&store, &old).exists());
    assert_eq!(load_all(&store, &new).await, Some(entries(&[("a", "1")])));
}

#[actix_web::test]
async fn expired_sessions_are_no_sessions() {
    let (_tmp, store) = store();
    let id = SessionId::generate();
    save(
        &store,
        &id,
        &ChangeSet::create().upsert("a", "1"),
        Duration::ZERO,
    )
    .await;
    assert!(file_of(&store, &id).exists());
    assert_eq!(load_all(&store, &id).await, None);
    assert_eq!(store.load(&id, Keys::All, Some(HOUR)).await.unwrap(), None);
    let update = ChangeSet::update().upsert("b", "2");
    assert_eq!(save(&store, &id, &update, HOUR).await, SaveOutcome::Gone);
    // The dead file is removed by the save that found it.
    assert!(!file_of(&store, &id).exists());

    save(&store, &id, &ChangeSet::create(), Duration::ZERO).await;
    assert!(!store.refresh(&id, HOUR).await.unwrap());
    assert!(!file_of(&store, &id).exists());

    // Creating over an expired file starts empty: old data does not come back.
    save(
        &store,
        &id,
        &ChangeSet::create().upsert("a", "1"),
        Duration::ZERO,
    )
    .await;
    save(&store, &id, &ChangeSet::create().upsert("b", "2"), HOUR).await;
    assert_eq!(load_all(&store, &id).await, Some(entries(&[("b", "2")])));
}

#[actix_web::test]
async fn every_write_resets_the_ttl() {
    let (_tmp, store) = store();
    let id = SessionId::generate();
    let path = file_of(&store, &id);
    let before = now_ms();
    save(&store, &id, &ChangeSet::create(), HOUR).await;
    let first = expires_at(&path);
    assert!((before + 3_600_000..=now_ms() + 3_600_000).contains(&first));

    save(&store, &id, &ChangeSet::update().upsert("a", "1"), 2 * HOUR).await;
    assert!(expires_at(&path) >= first + 3_600_000);

    assert!(store.refresh(&id, 3 * HOUR).await.unwrap());
    assert!(expires_at(&path) >= before + 3 * 3_600_000);

    store
        .load(&id, Keys::All, Some(HOUR))
        .await
        .unwrap()
        .unwrap();
    assert!(expires_at(&path) <= now_ms() + 3_600_000);
    // A plain load does not write.
    let modified = fs::metadata(&path).unwrap().modified().unwrap();
    let loaded = load_all(&store, &id).await;
    assert_eq!(loaded, Some(entries(&[("a", "1")])));
    assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), modified);
}

#[actix_web::test]
async fn files_are_private_json() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a/b/sessions");
    let store = FileStore::builder(&dir).prefix("app.v1_").build().unwrap();
    let id = SessionId::generate();
    save(
        &store,
        &id,
        &ChangeSet::create().upsert("user", "\"ada\""),
        HOUR,
    )
    .await;
    let path = dir.join(format!("app.v1_{id}.json"));
    let json = record(&path);
    assert_eq!(json["data"], serde_json::json!({"user": "\"ada\""}));
    assert!(json["expires_at"].as_u64().unwrap() > now_ms());
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&path), 0o600);
    // Nothing but the session and the lock files.
    let names: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(names.contains(&format!("app.v1_{id}.json")));
    for name in &names {
        assert!(
            name == &format!("app.v1_{id}.json") || name.starts_with(".app.v1_lock-"),
            "unexpected file {name}"
        );
        if name.starts_with('.') {
            assert_eq!(mode(&dir.join(name)), 0o600);
        }
    }
}

#[actix_web::test]
async fn a_directory_that_cannot_be_made_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("plain-file");
    fs::write(&file, "x").unwrap();
    let err = FileStore::new(&file).unwrap_err();
    assert!(
        matches!(
            err,
            actix_typed_session::store::FileStoreError::Directory { .. }
        ),
        "{err:?}"
    );
    let err = FileStore::new(file.join("below")).unwrap_err();
    assert!(std::error::Error::source(&err).is_some());
}

#[actix_web::test]
async fn torn_and_foreign_files_are_no_session() {
    let (_tmp, store) = store();
    let id = SessionId::generate();
    let path = file_of(&store, &id);
    save(&store, &id, &ChangeSet::create().upsert("a", "1"), HOUR).await;
    let whole = fs::read(&path).unwrap();
    let torn = &whole[..whole.len() / 2];
    for junk in [
        torn,
        b"",
        b"{\"expires_at\":1}x",
        b"[1,2,3]",
        b"\xff\xfe",
        b"{\"data\":{}}",
    ] {
        fs::write(&path, junk).unwrap();
        let err = store.load(&id, Keys::All, None).await.unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(_)), "{junk:?}: {err:?}");
        let err = store.load(&id, Keys::All, Some(HOUR)).await.unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(_)), "{junk:?}: {err:?}");
        // A late update cannot bring it back; the file is removed.
        let update = ChangeSet::update().upsert("b", "2");
        assert_eq!(save(&store, &id, &update, HOUR).await, SaveOutcome::Gone);
        assert!(!path.exists());
    }
    // A new session may take the name over.
    fs::write(&path, torn).unwrap();
    save(&store, &id, &ChangeSet::create().upsert("b", "2"), HOUR).await;
    assert_eq!(load_all(&store, &id).await, Some(entries(&[("b", "2")])));
}

/// Many concurrent change sets on one session, each setting its own key: none is lost.
#[actix_web::test]
async fn concurrent_writers_in_one_process_merge() {
    let (_tmp, store) = store();
    let id = SessionId::generate();
    save(&store, &id, &ChangeSet::create(), HOUR).await;
    let writers: Vec<_> = (0..48)
        .map(|i| {
            let (store, id) = (store.clone(), id.clone());
            actix_web::rt::spawn(async move {
                let changes = ChangeSet::update().upsert(format!("k{i}"), i.to_string());
                store.save(&id, &changes, HOUR).await
            })
        })
        .collect();
    for writer in writers {
        assert_eq!(writer.await.unwrap().unwrap(), SaveOutcome::Saved);
    }
    let loaded = load_all(&store, &id).await.unwrap();
    assert_eq!(loaded.len(), 48, "lost updates: {loaded:?}");
}

/// Concurrent deletes and late updates: once deleted, a session stays deleted.
#[actix_web::test]
async fn concurrent_delete_is_final() {
    let (_tmp, store) = store();
    for _ in 0..20 {
        let id = SessionId::generate();
        save(&store, &id, &ChangeSet::create(), HOUR).await;
        let writers: Vec<_> = (0..8)
            .map(|i| {
                let (store, id) = (store.clone(), id.clone());
                actix_web::rt::spawn(async move {
                    let changes = ChangeSet::update().upsert(format!("k{i}"), "1");
                    save(&store, &id, &changes, HOUR).await
                })
            })
            .collect();
        store.delete(&id).await.unwrap();
        for writer in writers {
            writer.await.unwrap();
        }
        // Writers that ran after the delete found it gone, so nothing is left.
        assert_eq!(load_all(&store, &id).await, None);
        assert!(!file_of(&store, &id).exists());
    }
}

fn backdate(path: &Path, by: Duration) {
    let file = fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::now() - by).unwrap();
}

#[actix_web::test]
async fn prune_removes_expired_and_keeps_live_and_foreign() {
    let (_tmp, store) = store();
    let dir = store.dir().to_owned();
    let live: Vec<_> = (0..5).map(|_| SessionId::generate()).collect();
    let dead: Vec<_> = (0..7).map(|_| SessionId::generate()).collect();
    for id in &live {
        save(&store, id, &ChangeSet::create().upsert("a", "1"), HOUR).await;
    }
    for id in &dead {
        save(
            &store,
            id,
            &ChangeSet::create().upsert("a", "1"),
            Duration::ZERO,
        )
        .await;
    }
    let corrupt = SessionId::generate();
    fs::write(file_of(&store, &corrupt), b"{\"expires_at\":").unwrap();
    // Temp files as a killed writer leaves them: an old one and one that may be in progress.
    let old_temp = dir.join(format!(
        "session-{}.json.AbCd1234.tmp",
        SessionId::generate()
    ));
    let new_temp = dir.join(format!(
        "session-{}.json.ZyXw9876.tmp",
        SessionId::generate()
    ));
    fs::write(&old_temp, b"{").unwrap();
    fs::write(&new_temp, b"{").unwrap();
    backdate(&old_temp, 2 * HOUR);
    // Foreign files, some of them close to ours, old and expired-looking: never touched.
    let expired_json = r#"{"expires_at":1,"data":{}}"#;
    let foreign = [
        dir.join("notes.txt"),
        dir.join(format!("other-{}.json", SessionId::generate())),
        dir.join(format!("session-{}.json.bak", SessionId::generate())),
        dir.join(format!("{}.json", SessionId::generate())),
        dir.join("session-short.json"),
        dir.join(format!(
            "session-{}.json.AbCd1234.tmp.x",
            SessionId::generate()
        )),
    ];
    for path in &foreign {
        fs::write(path, expired_json).unwrap();
        backdate(path, 2 * HOUR);
    }
    let sub = dir.join(format!("session-{}.json", SessionId::generate()));
    fs::create_dir(&sub).unwrap();

    let report = store.prune().await.unwrap();
    assert_eq!(
        (
            report.live,
            report.expired,
            report.corrupt,
            report.stale_temp
        ),
        (5, 7, 1, 1),
        "{report:?}"
    );
    for id in &live {
        assert!(store.load(id, Keys::All, None).await.unwrap().is_some());
    }
    for id in dead.iter().chain([&corrupt]) {
        assert!(!file_of(&store, id).exists());
    }
    assert!(!old_temp.exists());
    assert!(new_temp.exists());
    for path in &foreign {
        assert_eq!(fs::read_to_string(path).unwrap(), expired_json, "{path:?}");
    }
    assert!(sub.is_dir());
    // A second run finds only live sessions.
    let again = store.prune().await.unwrap();
    assert_eq!(
        (again.live, again.expired, again.corrupt, again.stale_temp),
        (5, 0, 0, 0)
    );
}

#[actix_web::test]
async fn stores_with_other_prefixes_share_a_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let a = FileStore::builder(tmp.path()).prefix("a-").build().unwrap();
    let b = FileStore::builder(tmp.path()).prefix("b-").build().unwrap();
    let id = SessionId::generate();
    save(
        &a,
        &id,
        &ChangeSet::create().upsert("x", "1"),
        Duration::ZERO,
    )
    .await;
    save(&b, &id, &ChangeSet::create().upsert("x", "2"), HOUR).await;
    assert_eq!(b.prune().await.unwrap().expired, 0);
    assert!(file_of(&a, &id).exists());
    assert_eq!(a.prune().await.unwrap().expired, 1);
    assert!(!file_of(&a, &id).exists());
    assert_eq!(
        b.load(&id, Keys::All, None).await.unwrap(),
        Some(entries(&[("x", "2")]))
    );
}

#[actix_web::test]
async fn background_pruning_runs_and_stops() {
    let (_tmp, store) = store();
    let id = SessionId::generate();
    save(&store, &id, &ChangeSet::create(), Duration::ZERO).await;
    let path = file_of(&store, &id);
    assert!(path.exists());
    let pruner = start_pruning(&store, Duration::from_millis(20)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while path.exists() {
        assert!(
            Instant::now() < deadline,
            "the pruner did not remove the expired file"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    pruner.stop();
    // A stopped pruner prunes no more: a new expired file stays.
    save(&store, &id, &ChangeSet::create(), Duration::ZERO).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(path.exists(), "a stopped pruner deletes nothing");
}

#[test]
fn pruning_needs_a_runtime() {
    let (_tmp, store) = store();
    assert!(start_pruning(&store, Duration::from_secs(1)).is_err());
}

/// Bounds a store call that, on a store that opens FIFOs, would block in `open` forever; on
/// timeout it lets the stuck reader go (so the runtime can shut down) and fails the test.
async fn promptly<T>(fifo: &Path, what: &str, call: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(Duration::from_secs(5), call).await {
        Ok(out) => out,
        Err(_) => {
            // A writer's open returns at once when a reader waits, and closing it ends the read.
            drop(fs::OpenOptions::new().write(true).open(fifo));
            panic!("{what} blocked on a FIFO");
        }
    }
}

#[actix_web::test]
async fn a_fifo_named_like_a_session_blocks_neither_loads_nor_the_pruner() {
    let (_tmp, store) = store();
    let id = SessionId::generate();
    let fifo = file_of(&store, &id);
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let live = SessionId::generate();
    save(&store, &live, &ChangeSet::create(), HOUR).await;

    let loaded = promptly(&fifo, "a load", store.load(&id, Keys::All, None)).await;
    assert!(matches!(loaded, Err(StoreError::Corrupt(_))), "{loaded:?}");
    let refreshed = promptly(
        &fifo,
        "a refreshing load",
        store.load(&id, Keys::All, Some(HOUR)),
    )
    .await;
    assert!(
        matches!(refreshed, Err(StoreError::Corrupt(_))),
        "{refreshed:?}"
    );
    let report = promptly(&fifo, "pruning", store.prune()).await.unwrap();
    assert_eq!(
        (report.live, report.expired, report.corrupt),
        (1, 0, 0),
        "the FIFO is skipped, not counted: {report:?}"
    );
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
}

#[actix_web::test]
async fn a_symlink_named_like_a_session_is_never_followed() {
    let (tmp, store) = store();
    let id = SessionId::generate();
    let outside = tmp.path().join("outside.json");
    let planted = format!(
        r#"{{"expires_at":{},"data":{{"user":"\"mallory\""}}}}"#,
        now_ms() + 3_600_000
    );
    fs::write(&outside, &planted).unwrap();
    let link = file_of(&store, &id);
    std::os::unix::fs::symlink(&outside, &link).unwrap();

    for refresh in [None, Some(HOUR)] {
        let loaded = store.load(&id, Keys::All, refresh).await;
        assert!(matches!(loaded, Err(StoreError::Corrupt(_))), "{loaded:?}");
    }
    let update = ChangeSet::update().upsert("user", "\"eve\"");
    assert_eq!(save(&store, &id, &update, HOUR).await, SaveOutcome::Gone);
    assert!(fs::symlink_metadata(&link).is_err(), "the link is removed");
    fs::remove_file(&outside).unwrap();
    fs::write(&outside, &planted).unwrap();
    std::os::unix::fs::symlink(&outside, &link).unwrap();
    save(
        &store,
        &id,
        &ChangeSet::create().upsert("user", "\"ada\""),
        HOUR,
    )
    .await;
    assert!(
        fs::symlink_metadata(&link).unwrap().is_file(),
        "replaced, not written through"
    );
    assert_eq!(fs::read_to_string(&outside).unwrap(), planted);
}

#[actix_web::test]
async fn a_directory_other_users_can_write_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for mode in [0o777, 0o770, 0o702] {
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(mode)).unwrap();
        let err = FileStore::new(tmp.path()).unwrap_err();
        assert!(
            matches!(err, actix_typed_session::store::FileStoreError::WritableByOthers { mode: m, .. } if m == mode),
            "{mode:o}: {err:?}"
        );
        assert_eq!(
            fs::read_dir(tmp.path()).unwrap().count(),
            0,
            "nothing created"
        );
    }
    // Readable by others only warns, as documented.
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
    FileStore::new(tmp.path()).unwrap();
}

/// An id whose lock stripe is chosen by its first character.
fn id_starting_with(first: char) -> SessionId {
    let id = SessionId::generate();
    SessionId::try_from(format!("{first}{}", &id.as_str()[1..]).as_str()).unwrap()
}

/// Renewals from stripe 0 to 1 and from 1 to 0 at once: taking both locks in a fixed order
/// means neither waits for the other (which the lock timeout would turn into errors).
#[actix_web::test]
async fn crossing_renewals_never_deadlock() {
    let tmp = tempfile::tempdir().unwrap();
    let store = FileStore::builder(tmp.path())
        .durable(false)
        .lock_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let mut moves = Vec::new();
    for i in 0..256 {
        let (from, to) = if i % 2 == 0 { ('A', 'B') } else { ('B', 'A') };
        let (old, new) = (id_starting_with(from), id_starting_with(to));
        save(&store, &old, &ChangeSet::create(), HOUR).await;
        moves.push((old, new));
    }
    let create = ChangeSet::create().upsert("k", "1");
    let renewals = moves
        .iter()
        .map(|(old, new)| store.renew(old, new, &create, HOUR));
    for outcome in futures_util::future::join_all(renewals).await {
        assert_eq!(outcome.unwrap(), SaveOutcome::Saved);
    }
}
