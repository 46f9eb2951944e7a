//! The store-level checks of a user's sessions (capability `lists_user_sessions`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::store_suite::LONG;
use crate::{
    store::{ChangeSet, Keys, SessionStore, UserSession, USER_KEY},
    SessionId,
};

/// Writes a session signed in as `user` and lists it, as the middleware's sign-in does.
async fn sign_in<S: SessionStore>(store: &S, user: &str, at: u64) -> SessionId {
    sign_in_counted(store, user, at).await.0
}

/// [`sign_in`], with the count of the user's listed sessions the store answered, if any.
async fn sign_in_counted<S: SessionStore>(
    store: &S,
    user: &str,
    at: u64,
) -> (SessionId, Option<usize>) {
    let id = SessionId::generate();
    let record = serde_json::json!({
        "user": user, "at": at, "ttl": LONG.as_secs(), "agent": "Suite/1 (ü)", "ip": "2001:db8::7",
    });
    let changes = ChangeSet::create()
        .upsert(USER_KEY, record.to_string())
        .upsert("cart", "[1,2]");
    store.save(&id, &changes, LONG).await.unwrap();
    let count = store.index_user_session(user, &id, LONG).await.unwrap();
    (id, count)
}

async fn live<S: SessionStore>(store: &S, id: &SessionId) -> bool {
    store
        .load(id, Keys::Only(&[]), None)
        .await
        .unwrap()
        .is_some()
}

async fn listed<S: SessionStore>(store: &S, user: &str) -> Vec<SessionId> {
    let mut ids: Vec<_> = store
        .user_sessions(user)
        .await
        .unwrap()
        .into_iter()
        .map(|row: UserSession| row.id)
        .collect();
    ids.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    ids
}

fn sorted(mut ids: Vec<SessionId>) -> Vec<SessionId> {
    ids.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    ids
}

impl super::Capabilities {
    /// Sets [`lists_user_sessions`](Self::lists_user_sessions): the store overrides the user
    /// methods of [`SessionStore`].
    #[must_use]
    pub fn lists_user_sessions(mut self, yes: bool) -> Self {
        self.lists_user_sessions = yes;
        self
    }
}

/// Runs when [`Capabilities::lists_user_sessions`](super::Capabilities) is on.
pub(super) async fn user_sessions_suite<S: SessionStore>(store: &S, caps: super::Capabilities) {
    if !caps.lists_user_sessions {
        return;
    }
    // Users are unique per run, so a shared store (Redis, a directory) starts them empty.
    let ada = format!("ada-{}", SessionId::generate());
    let bob = format!("bob:{} ✓", SessionId::generate());
    assert!(
        listed(store, &ada).await.is_empty(),
        "an unknown user has no sessions"
    );
    assert_eq!(store.end_user_sessions(&ada).await.unwrap(), 0);

    let at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 5;
    let (first, count) = sign_in_counted(store, &ada, at).await;
    assert!(
        matches!(count, None | Some(1)),
        "a count the store answers is the user's listed sessions: {count:?}"
    );
    let rows = store.user_sessions(&ada).await.unwrap();
    assert_eq!(rows.len(), 1, "a signed-in session is listed");
    let row = &rows[0];
    assert_eq!(row.id, first);
    assert_eq!(
        row.signed_in,
        UNIX_EPOCH + Duration::from_secs(at),
        "sign-in time"
    );
    assert!(
        row.expires > SystemTime::now() + LONG - Duration::from_secs(30)
            && row.expires <= SystemTime::now() + LONG + Duration::from_secs(1),
        "expiry is the session's: {row:?}"
    );
    assert!(
        row.last_used >= row.signed_in
            && row.last_used <= SystemTime::now() + Duration::from_secs(1),
        "last used between sign-in and now: {row:?}"
    );
    assert!(!row.current, "stores do not know the caller");
    assert_eq!(
        (row.user_agent.as_deref(), row.ip.as_deref()),
        (Some("Suite/1 (ü)"), Some("2001:db8::7")),
        "the sign-in's device comes back"
    );
    assert_eq!(row.handle, crate::SessionHandle::of(&first));

    let (second, count) = sign_in_counted(store, &ada, at).await;
    assert!(matches!(count, None | Some(2)), "the second: {count:?}");
    let bobs = sign_in(store, &bob, at).await;
    assert_eq!(
        listed(store, &ada).await,
        sorted(vec![first.clone(), second.clone()])
    );
    assert_eq!(
        listed(store, &bob).await,
        vec![bobs.clone()],
        "users do not share lists"
    );

    // A session ended on its own (a logout) leaves the list.
    store.delete(&second).await.unwrap();
    assert_eq!(
        listed(store, &ada).await,
        vec![first.clone()],
        "a logout leaves the list"
    );

    // Ending one: only the user's own.
    assert!(
        !store.end_user_session(&ada, &bobs).await.unwrap(),
        "ending another user's session is refused"
    );
    assert!(live(store, &bobs).await, "and leaves it alive");
    let third = sign_in(store, &ada, at).await;
    assert!(store.end_user_session(&ada, &third).await.unwrap());
    assert!(!live(store, &third).await, "an ended session is deleted");
    assert!(!store.end_user_session(&ada, &third).await.unwrap(), "once");

    // Log out everywhere.
    let fourth = sign_in(store, &ada, at).await;
    assert_eq!(store.end_user_sessions(&ada).await.unwrap(), 2);
    for id in [&first, &fourth] {
        assert!(
            !live(store, id).await,
            "log out everywhere ends every session"
        );
    }
    assert!(listed(store, &ada).await.is_empty());
    assert!(live(store, &bobs).await, "another user's sessions stay");
    assert_eq!(listed(store, &bob).await, vec![bobs.clone()]);

    // Sign-ins racing a log-out-everywhere: each new session is ended or listed, never live
    // and unlisted, so a second log-out-everywhere leaves nothing behind.
    for round in 0..5 {
        let before = sign_in(store, &ada, at).await;
        let sign_ins = (0..4).map(|_| sign_in(store, &ada, at));
        let (ids, ended) = futures_util::future::join(
            futures_util::future::join_all(sign_ins),
            store.end_user_sessions(&ada),
        )
        .await;
        ended.unwrap();
        assert!(
            !live(store, &before).await,
            "round {round}: an earlier session is ended"
        );
        let listed_now = listed(store, &ada).await;
        for id in &ids {
            if live(store, id).await {
                assert!(
                    listed_now.contains(id),
                    "round {round}: a sign-in racing log-out-everywhere left a live, unlisted session"
                );
            }
        }
        store.end_user_sessions(&ada).await.unwrap();
        for id in &ids {
            assert!(
                !live(store, id).await,
                "round {round}: nothing is left behind"
            );
        }
    }
    store.end_user_sessions(&bob).await.unwrap();
    assert!(!live(store, &bobs).await);

    // The cap on a user's sessions (`max_sessions_per_user`), as the middleware applies it
    // after a sign-in: the oldest sign-ins end first, never the one that asks, and nobody
    // else's.
    let grace = format!("grace-{}", SessionId::generate());
    let oldest = sign_in(store, &grace, at - 30).await;
    let middle = sign_in(store, &grace, at - 20).await;
    let newest = sign_in(store, &grace, at - 10).await;
    let bobs = sign_in(store, &bob, at - 60).await;
    let ended = crate::store::end_oldest(store, &grace, &newest, 2).await;
    assert_eq!(ended.unwrap(), 1, "one session over a cap of 2");
    assert!(
        !live(store, &oldest).await,
        "the cap ends the oldest sign-in"
    );
    assert!(live(store, &middle).await && live(store, &newest).await);
    assert_eq!(
        listed(store, &grace).await,
        sorted(vec![middle.clone(), newest.clone()])
    );
    assert!(live(store, &bobs).await, "another user's sessions stay");
    let ended = crate::store::end_oldest(store, &grace, &middle, 1).await;
    assert_eq!(ended.unwrap(), 1);
    assert!(
        live(store, &middle).await && !live(store, &newest).await,
        "the session that asks is kept, even when it is not the newest"
    );
    assert_eq!(
        crate::store::end_oldest(store, &grace, &middle, 1)
            .await
            .unwrap(),
        0,
        "within the cap, nothing ends"
    );
    store.end_user_sessions(&grace).await.unwrap();
    store.end_user_sessions(&bob).await.unwrap();
}
