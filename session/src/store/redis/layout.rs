//! How a session lies in Redis: one hash per session, plus a marker field.
//!
//! Redis deletes a hash when its last field goes, so a session whose keys were all removed
//! would look expired. Every session hash therefore carries the marker field [`MARKER`] (a
//! single NUL byte): it keeps an emptied session alive, and lets one `HMGET` tell "live session
//! without these keys" from "no session". Session keys can be any string, so a key that starts
//! with NUL is stored with one more NUL in front; the marker, a lone NUL, can then never clash.

use std::borrow::Cow;

use ::redis::Value;

use crate::{store::Entries, StoreError};

/// The field every session hash carries.
pub(super) const MARKER: &str = "\0";

/// The hash field of a session key.
pub(super) fn encode_field(key: &str) -> Cow<'_, str> {
    if key.starts_with('\0') {
        Cow::Owned(format!("\0{key}"))
    } else {
        Cow::Borrowed(key)
    }
}

/// The session key of a hash field, or `None` for the marker.
fn decode_field(field: String) -> Option<String> {
    match field.strip_prefix('\0') {
        Some("") => None,
        Some(escaped) => Some(escaped.to_owned()),
        None => Some(field),
    }
}

#[derive(Debug, thiserror::Error)]
enum LayoutError {
    #[error("the session hash has fields but no marker field: not written by this store")]
    NoMarker,
    #[error("a session field or value is not UTF-8")]
    NotUtf8(#[source] std::string::FromUtf8Error),
    #[error("Redis answered a session read with an unexpected {0} reply")]
    Shape(&'static str),
}

impl From<LayoutError> for StoreError {
    fn from(err: LayoutError) -> Self {
        StoreError::corrupt(err)
    }
}

fn text(value: Value) -> Result<String, LayoutError> {
    match value {
        Value::BulkString(bytes) => String::from_utf8(bytes).map_err(LayoutError::NotUtf8),
        Value::SimpleString(s) => Ok(s),
        Value::VerbatimString { text, .. } => Ok(text),
        _ => Err(LayoutError::Shape("non-string")),
    }
}

/// Decodes an `HGETALL` reply (RESP3 map or RESP2 flat array): `None` when there is no hash.
pub(super) fn decode_all(reply: Value) -> Result<Option<Entries>, StoreError> {
    let pairs: Vec<(Value, Value)> = match reply {
        Value::Map(pairs) => pairs,
        Value::Array(flat) => {
            if flat.len() % 2 != 0 {
                return Err(LayoutError::Shape("odd-length array").into());
            }
            let mut it = flat.into_iter();
            std::iter::from_fn(|| Some((it.next()?, it.next()?))).collect()
        }
        Value::Nil => Vec::new(),
        _ => return Err(LayoutError::Shape("non-map").into()),
    };
    if pairs.is_empty() {
        return Ok(None);
    }
    let mut marked = false;
    let mut entries = Entries::with_capacity(pairs.len() - 1);
    for (field, value) in pairs {
        match decode_field(text(field)?) {
            Some(key) => {
                entries.insert(key, text(value)?);
            }
            None => marked = true,
        }
    }
    if marked {
        Ok(Some(entries))
    } else {
        Err(LayoutError::NoMarker.into())
    }
}

/// The fields of an `HMGET` for `keys`: the marker first, then each key.
pub(super) fn only_fields(keys: &[String]) -> impl Iterator<Item = Cow<'_, str>> {
    std::iter::once(Cow::Borrowed(MARKER)).chain(keys.iter().map(|k| encode_field(k)))
}

/// Decodes the reply of an `HMGET` of [`only_fields`]: `None` when the marker is absent.
pub(super) fn decode_only(keys: &[String], reply: Value) -> Result<Option<Entries>, StoreError> {
    let Value::Array(values) = reply else {
        return Err(LayoutError::Shape("non-array").into());
    };
    if values.len() != keys.len() + 1 {
        return Err(LayoutError::Shape("wrong-length array").into());
    }
    let mut values = values.into_iter();
    if matches!(values.next(), None | Some(Value::Nil)) {
        return Ok(None);
    }
    let mut entries = Entries::new();
    for (key, value) in keys.iter().zip(values) {
        if !matches!(value, Value::Nil) {
            entries.insert(key.clone(), text(value)?);
        }
    }
    Ok(Some(entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn keys_never_clash_with_the_marker() {
        for key in ["", "\0", "\0\0", "a", "\0a"] {
            let field = encode_field(key);
            assert_ne!(field, MARKER, "{key:?}");
            assert_eq!(decode_field(field.into_owned()).as_deref(), Some(key));
        }
        assert_eq!(decode_field(MARKER.to_owned()), None);
    }

    #[test]
    fn decodes_both_protocols() {
        let resp2 = Value::Array(vec![bulk("\0"), bulk("1"), bulk("\0\0x"), bulk("2")]);
        let resp3 = Value::Map(vec![(bulk("\0"), bulk("1")), (bulk("\0\0x"), bulk("2"))]);
        let want = Entries::from([("\0x".to_owned(), "2".to_owned())]);
        assert_eq!(decode_all(resp2).unwrap(), Some(want.clone()));
        assert_eq!(decode_all(resp3).unwrap(), Some(want));
        assert_eq!(decode_all(Value::Map(vec![])).unwrap(), None);
    }

    #[test]
    fn foreign_or_broken_hashes_are_corrupt() {
        let foreign = Value::Map(vec![(bulk("a"), bulk("1"))]);
        assert!(matches!(decode_all(foreign), Err(StoreError::Corrupt(_))));
        let bad = Value::Map(vec![(bulk("\0"), bulk("1")), (bulk("a"), Value::Int(3))]);
        assert!(matches!(decode_all(bad), Err(StoreError::Corrupt(_))));
        let binary = Value::Map(vec![(bulk("\0"), Value::BulkString(vec![0xff]))]);
        assert!(
            decode_all(binary).unwrap().is_some(),
            "the marker's value is not read"
        );
        let keys = ["a".to_owned()];
        let short = Value::Array(vec![bulk("1")]);
        assert!(matches!(
            decode_only(&keys, short),
            Err(StoreError::Corrupt(_))
        ));
    }

    #[test]
    fn partial_reads_tell_missing_sessions_from_missing_keys() {
        let keys = ["a".to_owned(), "b".to_owned()];
        let missing = Value::Array(vec![Value::Nil, Value::Nil, Value::Nil]);
        assert_eq!(decode_only(&keys, missing).unwrap(), None);
        let live = Value::Array(vec![bulk("1"), Value::Nil, bulk("2")]);
        assert_eq!(
            decode_only(&keys, live).unwrap(),
            Some(Entries::from([("b".to_owned(), "2".to_owned())]))
        );
    }
}
