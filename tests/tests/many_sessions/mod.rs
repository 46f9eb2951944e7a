//! One user with thousands of sessions, on a store that lists users: listed and ended within
//! the store's own deadline, and a log out everywhere cut off by shorter deadlines and retried
//! ends every session, the newest included. (Included by the tests of each store.)

// Each store's tests use what they need of this.
#![allow(dead_code)]

use std::{
    collections::HashSet,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use actix_typed_session::{
    store::{ChangeSet, Keys, SessionStore, USER_KEY},
    SessionId,
};

/// Sessions written at once while filling the store.
const PARALLEL: usize = 64;

/// [`fill`], then [`list_and_end`].
pub async fn thousands_of_sessions<S: SessionStore>(store: &S, sessions: usize, batch: usize) {
    let many = fill(store, sessions).await;
    list_and_end(store, &many, batch).await;
}

/// One user's sessions, oldest first.
pub struct Many {
    pub user: String,
    pub ids: Vec<SessionId>,
}

/// Writes `sessions` signed-in sessions of one new user through `store`, oldest first (a second
/// apart), as the middleware's sign-ins do.
pub async fn fill<S: SessionStore>(store: &S, sessions: usize) -> Many {
    let user = format!("many-{}", SessionId::generate());
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let ttl = Duration::from_secs(3600);
    let mut ids = Vec::with_capacity(sessions);
    let started = Instant::now();
    for first in (0..sessions).step_by(PARALLEL) {
        let batch = (first..sessions.min(first + PARALLEL)).map(|n| {
            let user = &user;
            async move {
                let id = SessionId::generate();
                let at = now - (sessions - n) as u64;
                let binding = format!(r#"{{"user":"{user}","at":{at},"ttl":3600}}"#);
                let changes = ChangeSet::create().upsert(USER_KEY, binding);
                store.save(&id, &changes, ttl).await.unwrap();
                store.index_user_session(user, &id, ttl).await.unwrap();
                id
            }
        });
        ids.extend(futures_util::future::join_all(batch).await);
    }
    println!("{sessions} sessions signed in in {:?}", started.elapsed());
    Many { user, ids }
}

/// Lists `many`'s sessions, then ends them all: first under `tokio::time::timeout`s of 5 ms,
/// 10 ms, … until one attempt completes. Each attempt cut off must leave every live session
/// listed (so that the next one reaches it) and must have ended the newest first: when it
/// ended anything older than the newest `batch` (what the store ends at once), it ended the
/// newest ones. Returns how many attempts were cut off.
///
/// # Panics
/// When a listing or ending fails (the store's own deadline included), or a session outlives
/// the log out everywhere.
pub async fn list_and_end<S: SessionStore>(store: &S, many: &Many, batch: usize) -> usize {
    let (user, ids) = (&many.user, &many.ids);
    let sessions = ids.len();
    let started = Instant::now();
    let rows = store
        .user_sessions(user)
        .await
        .expect("listing within the store's deadline");
    println!("listed in {:?}", started.elapsed());
    assert_eq!(rows.len(), sessions);

    // The newest and oldest sessions and a spread between: what each cut-off attempt checks.
    let watched: Vec<&SessionId> = ids
        .iter()
        .rev()
        .take(20)
        .chain(ids.iter().take(20))
        .chain(ids.iter().step_by(97))
        .collect();
    let mut cut_off = 0;
    let started = Instant::now();
    for attempt in 1.. {
        let deadline = Duration::from_millis(5 * attempt);
        match tokio::time::timeout(deadline, store.end_user_sessions(user)).await {
            Ok(ended) => {
                ended.expect("ending within the store's deadline");
                break;
            }
            Err(_) => {
                cut_off += 1;
                let listed: HashSet<SessionId> = store
                    .user_sessions(user)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|row| row.id)
                    .collect();
                let mut older_gone = false;
                for id in &watched {
                    if live(store, id).await {
                        assert!(
                            listed.contains(*id),
                            "attempt {attempt}: a live session is no longer listed"
                        );
                    } else {
                        older_gone |= ids.len() - 1 - index_of(ids, id) >= batch;
                    }
                }
                if older_gone {
                    // The newest 20 come first in `watched`.
                    for id in &watched[..20] {
                        assert!(
                            !live(store, id).await,
                            "attempt {attempt}: older sessions ended before the newest"
                        );
                    }
                }
            }
        }
        assert!(attempt < 400, "log out everywhere never completed");
    }
    println!(
        "ended after {cut_off} attempt(s) cut off, in {:?}",
        started.elapsed()
    );
    assert!(store.user_sessions(user).await.unwrap().is_empty());
    for id in ids {
        assert!(
            !live(store, id).await,
            "a session outlived log out everywhere"
        );
    }
    cut_off
}

fn index_of(ids: &[SessionId], id: &SessionId) -> usize {
    ids.iter().position(|x| x == id).unwrap()
}

async fn live<S: SessionStore>(store: &S, id: &SessionId) -> bool {
    let loaded = store.load(id, Keys::Only(&[]), None).await;
    loaded
        .expect("a load within the store's deadline")
        .is_some()
}
