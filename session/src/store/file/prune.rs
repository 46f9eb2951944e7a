//! Deleting what expired: session files past their expiry, undecodable ones, and temporary
//! files left by crashed writers; once, or on a background thread.

use std::{fs, io, path::Path, time::SystemTime};

use super::{
    record::Stored, FileStore, Inner, ID_CHARS, STALE_TEMP_AGE, SUFFIX, TEMP_RANDOM_CHARS,
    TEMP_SUFFIX,
};
use crate::{
    store::{Prune, PruneReport},
    SessionId, StoreError,
};

enum Pruned {
    Live,
    Expired,
    Corrupt,
    Vanished,
}

/// Deletes expired and undecodable session files, temporary files left by crashed writers, and
/// entries of the users' index whose session is gone; live sessions and files not named like
/// this store's are left alone. Every session file is read, so a run costs one read per
/// session on disk.
///
/// ```
/// use std::time::Duration;
/// use actix_typed_session::{store::{ChangeSet, FileStore, Prune, SessionStore}, SessionId};
///
/// # actix_web::rt::System::new().block_on(async {
/// let dir = tempfile::tempdir()?;
/// let store = FileStore::new(dir.path())?;
/// let (live, dead) = (SessionId::generate(), SessionId::generate());
/// store.save(&live, &ChangeSet::create(), Duration::from_secs(60)).await?;
/// store.save(&dead, &ChangeSet::create(), Duration::ZERO).await?;
/// let report = store.prune().await?;
/// assert_eq!((report.live, report.expired), (1, 1));
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
///
/// Its errors: [`StoreError::Unavailable`] when the directory cannot be listed. Failures on
/// single files are logged and skipped.
impl Prune for FileStore {
    async fn prune(&self) -> Result<PruneReport, StoreError> {
        self.blocking(Inner::prune).await
    }
}

impl Inner {
    fn prune(&self) -> Result<PruneReport, StoreError> {
        let mut report = PruneReport::default();
        let entries = fs::read_dir(&self.dir).map_err(StoreError::unavailable)?;
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(err) => {
                    tracing::warn!(error = %err, "could not list a file while pruning sessions");
                    continue;
                }
            };
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            // Read from the directory listing: no file is opened, so nothing can block.
            let regular = entry.file_type().is_ok_and(|kind| kind.is_file());
            if !regular && (self.session_of(name).is_some() || self.is_temp(name)) {
                // Not named: the name holds a session id, a credential.
                tracing::warn!("left alone a session-named entry that is not a regular file");
                continue;
            }
            if let Some(id) = self.session_of(name) {
                match self.prune_session(&id) {
                    Ok(Pruned::Live) => report.live += 1,
                    Ok(Pruned::Expired) => report.expired += 1,
                    Ok(Pruned::Corrupt) => report.corrupt += 1,
                    Ok(Pruned::Vanished) => {}
                    Err(err) => crate::log::error_chain("could not prune a session file", &err),
                }
            } else if self.is_temp(name) {
                match remove_if_stale(&entry.path()) {
                    Ok(true) => report.stale_temp += 1,
                    Ok(false) => {}
                    Err(err) => {
                        tracing::warn!(error = %err, "could not remove a stale temporary session file");
                    }
                }
            }
        }
        report.index_entries = self.prune_index();
        Ok(report)
    }

    /// Takes off the users' index the sessions that are no longer live (pruned above, ended,
    /// renewed away), then removes the directories of users left with no entry.
    fn prune_index(&self) -> usize {
        let Ok(users) = fs::read_dir(self.users_dir()) else {
            return 0;
        };
        let mut removed = 0;
        for user in users.flatten() {
            if !user.file_type().is_ok_and(|kind| kind.is_dir()) {
                continue;
            }
            let dir = user.path();
            let Ok(ids) = Self::index_entries(&dir) else {
                continue;
            };
            for id in ids {
                let live = matches!(self.read(&self.path(&id)), Ok(Stored::Live(_)));
                if !live && Self::unindex(&dir, &id).is_ok() {
                    removed += 1;
                }
            }
            // Fails while an entry is left (or was just added): the directory stays.
            let _ = fs::remove_dir(&dir);
        }
        removed
    }

    fn prune_session(&self, id: &SessionId) -> Result<Pruned, StoreError> {
        let path = self.path(id);
        // Live files, the common case, are only read: no lock, no write.
        match self.read(&path)? {
            Stored::Live(_) => return Ok(Pruned::Live),
            Stored::Absent => return Ok(Pruned::Vanished),
            Stored::Expired | Stored::Corrupt(_) => {}
        }
        // Look again under the lock: a concurrent save may have revived it meanwhile.
        self.locked(id, || match self.read(&path)? {
            Stored::Live(_) => Ok(Pruned::Live),
            Stored::Absent => Ok(Pruned::Vanished),
            Stored::Expired => self.remove(&path).map(|()| Pruned::Expired),
            Stored::Corrupt(err) => {
                tracing::warn!(error = %err, "deleting an undecodable session file");
                self.remove(&path).map(|()| Pruned::Corrupt)
            }
        })
    }

    /// The id of a file named `{prefix}{id}.json`.
    pub(super) fn session_of(&self, name: &str) -> Option<SessionId> {
        let id = name.strip_prefix(&self.prefix)?.strip_suffix(SUFFIX)?;
        SessionId::try_from(id).ok()
    }

    /// Whether `name` is `{prefix}{id}.json.{random}.tmp`, a temporary file of this store.
    pub(super) fn is_temp(&self, name: &str) -> bool {
        let Some(rest) = name
            .strip_prefix(&self.prefix)
            .and_then(|rest| rest.strip_suffix(TEMP_SUFFIX))
        else {
            return false;
        };
        let (Some(id), Some(tail)) = (rest.get(..ID_CHARS), rest.get(ID_CHARS..)) else {
            return false;
        };
        let random = tail
            .strip_prefix(SUFFIX)
            .and_then(|tail| tail.strip_prefix('.'));
        SessionId::try_from(id).is_ok()
            && random.is_some_and(|random| {
                random.len() == TEMP_RANDOM_CHARS
                    && random.bytes().all(|b| b.is_ascii_alphanumeric())
            })
    }
}

/// Deletes a temporary file last modified more than one hour ago.
fn remove_if_stale(path: &Path) -> io::Result<bool> {
    let modified = fs::symlink_metadata(path)?.modified()?;
    let age = SystemTime::now()
        .duration_since(modified)
        .unwrap_or_default();
    if age < STALE_TEMP_AGE {
        return Ok(false);
    }
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(err) => Err(err),
    }
}
