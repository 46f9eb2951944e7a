//! Credential epochs (Django's session auth hash): a sign-in records a digest of the user's
//! credential version, and every load of a signed-in session compares it with the version the
//! application reports now. A session whose version no longer matches is signed out.
//!
//! The application owns the version (a password hash, a counter it bumps on "log out
//! everywhere", a timestamp of the last credential change); the session keeps only
//! [`digest`]: a SHA-256 of the user and the version, so a signed (readable) cookie reveals
//! nothing of a password hash handed in.

use std::{fmt, future::Future, pin::Pin, sync::Arc};

use crate::BoxError;

type Lookup = Pin<Box<dyn Future<Output = Result<Option<String>, BoxError>> + Send>>;

/// The application's source of current credential versions, as the middleware keeps it: a
/// lookup by canonical user id that answers the version's [`digest`], or `None` for a user
/// that no longer exists.
#[derive(Clone)]
pub(crate) struct Epochs(Arc<dyn Fn(String) -> Lookup + Send + Sync>);

impl Epochs {
    pub(crate) fn new<F, Fut, V, E>(current: F) -> Self
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Option<V>, E>> + Send + 'static,
        V: AsRef<[u8]>,
        E: Into<BoxError>,
    {
        let current = Arc::new(current);
        Self(Arc::new(move |user: String| {
            let lookup = current(user.clone());
            Box::pin(async move {
                match lookup.await {
                    Ok(version) => Ok(version.map(|v| digest(&user, v.as_ref()))),
                    Err(err) => Err(err.into()),
                }
            }) as Lookup
        }))
    }

    /// The digest of `user`'s current version; `None` when the user is gone.
    pub(crate) async fn current(&self, user: &str) -> Result<Option<String>, BoxError> {
        (self.0)(user.to_owned()).await
    }
}

impl fmt::Debug for Epochs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Epochs(..)")
    }
}

/// What a session records of `user`'s credential version `epoch`: 128 bits of SHA-256 over a
/// domain tag, the user (length-prefixed) and the version, in unpadded base64url.
pub(crate) fn digest(user: &str, epoch: &[u8]) -> String {
    crate::id::digest128(&[
        b"actix-typed-session credential epoch v1\0",
        &(user.len() as u64).to_be_bytes(),
        user.as_bytes(),
        epoch,
    ])
}

/// Compares two digests in time independent of where they differ.
pub(crate) fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_binds_the_user_and_the_version() {
        let d = digest("ada", b"1");
        assert_eq!(d.len(), 22);
        // The wire format: sessions signed in by an older build keep their digest.
        assert_eq!(d, "Nxs9FOE6gobfjJhKKQoiJw");
        assert_eq!(d, digest("ada", b"1"));
        assert_ne!(d, digest("ada", b"2"));
        assert_ne!(d, digest("grace", b"1"));
        // The length prefix keeps ("ad", "a1") apart from ("ada", "1").
        assert_ne!(digest("ad", b"a1"), d);
        assert!(same(&d, &digest("ada", b"1")));
        assert!(!same(&d, &digest("ada", b"2")));
        assert!(!same(&d, &d[..21]));
    }

    #[test]
    fn a_lookup_answers_the_digest_or_none() {
        let epochs = Epochs::new(|user: String| async move {
            Ok::<_, std::io::Error>((user == "ada").then_some("7"))
        });
        let rt = actix_web::rt::System::new();
        rt.block_on(async {
            assert_eq!(
                epochs.current("ada").await.unwrap(),
                Some(digest("ada", b"7"))
            );
            assert_eq!(epochs.current("bob").await.unwrap(), None);
        });
        let failing = Epochs::new(|_user: String| async {
            Err::<Option<&str>, _>(std::io::Error::other("db down"))
        });
        let err = rt.block_on(failing.current("ada")).unwrap_err();
        assert_eq!(err.to_string(), "db down");
    }
}
