//! `FileStore` lists and ends a user's sessions (through its index directory per user).

use actix_typed_session::{
    store::FileStore,
    testing::{self, Capabilities},
};

#[actix_web::test]
async fn file_store_lists_and_ends_a_users_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::builder(dir.path())
        .durable(false)
        .build()
        .unwrap();
    let caps = Capabilities::server_side()
        .lists_user_sessions(true)
        .check_expiry(false);
    testing::store_suite(&store, caps).await;
}
