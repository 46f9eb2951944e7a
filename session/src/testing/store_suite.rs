//! [`store_suite`]: the trait-level promises, checked on a store directly.

use std::time::Duration;

use super::Capabilities;
use crate::Clock;
use crate::{
    store::{ChangeSet, Entries, Keys, SaveOutcome, SessionStore},
    SessionId,
};

fn entries(pairs: &[(&str, &str)]) -> Entries {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

pub(super) const LONG: Duration = Duration::from_secs(600);

/// Runs every trait-level check on `store`.
///
/// # Panics
/// On the first broken promise, naming it.
pub async fn store_suite<S: SessionStore>(store: &S, caps: Capabilities) {
    let unknown = SessionId::generate();
    assert_eq!(
        store.load(&unknown, Keys::All, None).await.unwrap(),
        None,
        "unknown id loads as None"
    );
    let only = ["a".to_owned()];
    assert_eq!(
        store.load(&unknown, Keys::Only(&only), None).await.unwrap(),
        None,
        "unknown id loads as None with Keys::Only too"
    );
    assert!(
        !store.refresh(&unknown, LONG).await.unwrap(),
        "refresh of an unknown id is false"
    );
    store
        .delete(&unknown)
        .await
        .expect("deleting an unknown id succeeds");
    assert_eq!(
        store
            .save(&unknown, &ChangeSet::update().upsert("a", "1"), LONG)
            .await
            .unwrap(),
        SaveOutcome::Gone,
        "an update of an unknown session is Gone"
    );
    assert_eq!(
        store.load(&unknown, Keys::All, None).await.unwrap(),
        None,
        "a Gone save writes nothing"
    );

    // Create, load whole and partial.
    let id = SessionId::generate();
    let big = format!("\"{}\"", "é".repeat(32 * 1024));
    let create = ChangeSet::create()
        .upsert("a", "1")
        .upsert("b", "\"two\"")
        .upsert("big", big.clone())
        .upsert("odd key: ✓.{}", "null");
    assert_eq!(
        store.save(&id, &create, LONG).await.unwrap(),
        SaveOutcome::Saved
    );
    let all = entries(&[
        ("a", "1"),
        ("b", "\"two\""),
        ("big", &big),
        ("odd key: ✓.{}", "null"),
    ]);
    assert_eq!(
        store.load(&id, Keys::All, None).await.unwrap(),
        Some(all),
        "values round-trip exactly"
    );
    let some = ["b".to_owned(), "missing".to_owned()];
    assert_eq!(
        store.load(&id, Keys::Only(&some), None).await.unwrap(),
        Some(entries(&[("b", "\"two\"")])),
        "Keys::Only loads just those keys"
    );
    let none = ["missing".to_owned()];
    assert_eq!(
        store.load(&id, Keys::Only(&none), None).await.unwrap(),
        Some(Entries::new()),
        "Keys::Only of absent keys in a live session is Some(empty), not None"
    );

    // Updates touch only what they name.
    let update = ChangeSet::update()
        .upsert("a", "10")
        .remove("b")
        .remove("big");
    assert_eq!(
        store.save(&id, &update, LONG).await.unwrap(),
        SaveOutcome::Saved
    );
    assert_eq!(
        store.load(&id, Keys::All, None).await.unwrap(),
        Some(entries(&[("a", "10"), ("odd key: ✓.{}", "null")]))
    );

    // A session emptied by removals is still alive.
    let empty = ChangeSet::update().remove("a").remove("odd key: ✓.{}");
    assert_eq!(
        store.save(&id, &empty, LONG).await.unwrap(),
        SaveOutcome::Saved
    );
    assert_eq!(
        store.load(&id, Keys::All, None).await.unwrap(),
        Some(Entries::new()),
        "an emptied session still exists"
    );
    assert_eq!(
        store
            .save(&id, &ChangeSet::update().upsert("c", "3"), LONG)
            .await
            .unwrap(),
        SaveOutcome::Saved,
        "an emptied session accepts updates"
    );

    // Clear drops every key not upserted.
    let clear = ChangeSet::update().clear().upsert("d", "4");
    assert_eq!(
        store.save(&id, &clear, LONG).await.unwrap(),
        SaveOutcome::Saved
    );
    assert_eq!(
        store.load(&id, Keys::All, None).await.unwrap(),
        Some(entries(&[("d", "4")]))
    );
    assert!(
        store.refresh(&id, LONG).await.unwrap(),
        "refresh of a live session is true"
    );

    // Delete, then no write may resurrect it.
    store.delete(&id).await.unwrap();
    assert_eq!(
        store.load(&id, Keys::All, None).await.unwrap(),
        None,
        "deleted means gone"
    );
    assert_eq!(
        store
            .save(&id, &ChangeSet::update().upsert("late", "1"), LONG)
            .await
            .unwrap(),
        SaveOutcome::Gone,
        "a late write to a deleted session is Gone"
    );
    assert_eq!(
        store.load(&id, Keys::All, None).await.unwrap(),
        None,
        "a late write does not resurrect"
    );
    assert!(
        !store.refresh(&id, LONG).await.unwrap(),
        "refresh does not resurrect"
    );

    // Renewal moves the data.
    let old = SessionId::generate();
    let new = SessionId::generate();
    store
        .save(&old, &ChangeSet::create().upsert("k", "1"), LONG)
        .await
        .unwrap();
    assert_eq!(
        store
            .renew(&old, &new, &ChangeSet::create().upsert("k", "1"), LONG)
            .await
            .unwrap(),
        SaveOutcome::Saved,
        "renewing a live session is Saved"
    );
    assert_eq!(
        store.load(&old, Keys::All, None).await.unwrap(),
        None,
        "renew deletes the old id"
    );
    assert_eq!(
        store.load(&new, Keys::All, None).await.unwrap(),
        Some(entries(&[("k", "1")]))
    );

    // A logout wins over a late renewal: renewing a deleted session writes nothing.
    let logged_out = SessionId::generate();
    store
        .save(&logged_out, &ChangeSet::create().upsert("user", "1"), LONG)
        .await
        .unwrap();
    store.delete(&logged_out).await.unwrap();
    renewal_is_gone(store, &logged_out, "a deleted").await;
    renewal_is_gone(store, &old, "a renewed-away").await;

    if caps.merges_concurrent_changes {
        let id = SessionId::generate();
        store
            .save(&id, &ChangeSet::create().upsert("base", "0"), LONG)
            .await
            .unwrap();
        let writes = (0..16).map(|i| {
            let changes = ChangeSet::update().upsert(format!("k{i}"), i.to_string());
            let id = &id;
            async move { store.save(id, &changes, LONG).await.unwrap() }
        });
        for outcome in futures_util::future::join_all(writes).await {
            assert_eq!(outcome, SaveOutcome::Saved);
        }
        let got = store.load(&id, Keys::All, None).await.unwrap().unwrap();
        assert_eq!(
            got.len(),
            17,
            "concurrent changes to different keys are all kept: {got:?}"
        );
    }

    super::users::user_sessions_suite(store, caps.clone()).await;

    if caps.check_expiry {
        expiry_checks(store, caps.clock.as_ref()).await;
    }
}

/// Renewing `from`, which no longer exists, answers `Gone` and writes nothing under the new id.
async fn renewal_is_gone<S: SessionStore>(store: &S, from: &SessionId, what: &str) {
    let late = SessionId::generate();
    let whole = ChangeSet::create().upsert("user", "1");
    assert_eq!(
        store.renew(from, &late, &whole, LONG).await.unwrap(),
        SaveOutcome::Gone,
        "renewing {what} session is Gone"
    );
    assert_eq!(
        store.load(&late, Keys::All, None).await.unwrap(),
        None,
        "renewing {what} session writes nothing under the new id"
    );
}

async fn expiry_checks<S: SessionStore>(store: &S, clock: Option<&Clock>) {
    let short = Duration::from_secs(1);
    let expiring = SessionId::generate();
    let saved_long = SessionId::generate();
    let refreshed = SessionId::generate();
    let read_refreshed = SessionId::generate();
    for id in [&expiring, &saved_long, &refreshed, &read_refreshed] {
        store
            .save(id, &ChangeSet::create().upsert("k", "1"), short)
            .await
            .unwrap();
    }
    // Each of these pushes the TTL forward: an update, a refresh, a refreshing load.
    store
        .save(&saved_long, &ChangeSet::update().upsert("k", "2"), LONG)
        .await
        .unwrap();
    assert!(store.refresh(&refreshed, LONG).await.unwrap());
    assert!(store
        .load(&read_refreshed, Keys::All, Some(LONG))
        .await
        .unwrap()
        .is_some());

    // A store that keeps expiry in whole seconds may round a 1 s TTL up to 2 s; a further
    // second keeps a tick of the clock from deciding the result.
    let later = Duration::from_millis(3100);
    match clock {
        Some(clock) => clock.advance(later),
        None => tokio::time::sleep(later).await,
    }
    assert_eq!(
        store.load(&expiring, Keys::All, None).await.unwrap(),
        None,
        "a session expires after its TTL"
    );
    assert_eq!(
        store
            .save(&expiring, &ChangeSet::update().upsert("k", "9"), LONG)
            .await
            .unwrap(),
        SaveOutcome::Gone,
        "an expired session is not revived by a write"
    );
    renewal_is_gone(store, &expiring, "an expired").await;
    for (id, what) in [
        (&saved_long, "a save"),
        (&refreshed, "refresh"),
        (&read_refreshed, "a refreshing load"),
    ] {
        assert!(
            store.load(id, Keys::All, None).await.unwrap().is_some(),
            "{what} pushes the TTL forward"
        );
    }
}
