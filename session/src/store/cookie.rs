//! The client-side store: the whole session sealed in the cookie.

use std::time::Duration;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::{
    config::Config,
    cookie::{past_max_lifetime, seal, Meta},
    key::{Protection, Purpose},
    observe::{self, Refusal},
    store::{UserBinding, Values, USER_KEY},
    StoreError,
};

/// Sessions kept entirely in the browser's cookie: no server-side state at all.
///
/// The session is sealed with a subkey derived from the middleware's key: encrypted with
/// AES-256-GCM by default (the client can neither read nor change it), or only signed with
/// HMAC-SHA256 (readable, not changeable). The seal is bound to the cookie's name and to the
/// kind of store, so nothing else sealed with the same key (the application's own signed or
/// private cookies, server-side session cookies) opens as a session. The expiry time is inside
/// the sealed payload and checked on every load, so a replayed old cookie is refused after its
/// TTL even if the browser ignored `Max-Age`. Older keys given to the middleware still open
/// cookies, which are re-sealed with the current key on the next write.
///
/// Limits, inherent to client-side sessions:
/// - a session whose `Set-Cookie` would exceed [`MAX_COOKIE_BYTES`](crate::store::MAX_COOKIE_BYTES) is refused with
///   [`SaveError::CookieTooLarge`](crate::SaveError::CookieTooLarge) (a 500 for that response, logged), never sent to be dropped;
///   with a header [`Transport`](crate::Transport) the sealed session is the header's token and
///   may be up to [`MAX_HEADER_TOKEN_BYTES`](crate::MAX_HEADER_TOKEN_BYTES) instead, refused
///   beyond with [`SaveError::TokenTooLarge`](crate::SaveError::TokenTooLarge);
/// - [`Session::purge`](crate::Session::purge) and [`Session::renew`](crate::Session::renew)
///   cannot revoke a copy of the old cookie: it stays valid until its expiry;
/// - concurrent requests each write the whole session; the last response wins.
///
/// # Compression
/// With the `cookie-compression` feature, `CookieStore::compressed` deflates payloads before
/// sealing them (when that makes them smaller), pushing the size limit out for text-heavy
/// sessions. **Caveat (CRIME/BREACH):** compressing secret data together with data an attacker
/// controls lets the attacker learn the secret from the sealed size, encrypted or not. Do not
/// enable compression if a session holds both secrets (tokens, personal data) and values an
/// attacker can choose (search terms, form input echoed into the session).
///
/// ```
/// use actix_typed_session::{store::CookieStore, SessionMiddleware};
///
/// let key = actix_web::cookie::Key::generate();
/// let encrypted = SessionMiddleware::new(CookieStore::encrypted(), key.clone());
/// let signed = SessionMiddleware::new(CookieStore::signed(), key);
/// ```
#[derive(Debug, Clone)]
pub struct CookieStore {
    protection: Protection,
    #[cfg_attr(not(feature = "cookie-compression"), allow(dead_code))]
    compress: bool,
}

/// Marks a plain text that is base64 of a deflated payload; a payload starts with a digit and
/// base64 never contains `~`, so the marker cannot be ambiguous.
const COMPRESSED: char = '~';
#[cfg(feature = "cookie-compression")]
/// Refuse to inflate past this: no honest payload comes near it (cookies are 4096 bytes).
const MAX_INFLATED_BYTES: u64 = 1 << 20;

/// A cookie opened and checked.
#[derive(Debug)]
pub(crate) struct Opened {
    /// Straight into the request's map: no second map per load.
    pub(crate) entries: Values,
    pub(crate) meta: Meta,
    pub(crate) stale_key: bool,
}

/// The sealed plain text is `EXP.CREATED.TTL.{JSON}`: the expiry (unix seconds; refused after
/// it), the session's creation time and TTL, then the entries as one JSON object whose values
/// are the entries' JSON texts. The numbers lead as plain digits, so a reader checks expiry
/// before parsing any JSON, and the payload stays short.
fn payload(exp: u64, meta: Meta, entries: &[(&str, &RawValue)]) -> Result<String, StoreError> {
    struct Map<'a>(&'a [(&'a str, &'a RawValue)]);
    impl Serialize for Map<'_> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_map(self.0.iter().copied())
        }
    }
    let mut text = Vec::with_capacity(64);
    text.extend_from_slice(itoa::Buffer::new().format(exp).as_bytes());
    text.push(b'.');
    meta.write(&mut text);
    text.push(b'.');
    serde_json::to_writer(&mut text, &Map(entries)).map_err(StoreError::corrupt)?;
    String::from_utf8(text).map_err(StoreError::corrupt)
}

/// The three numbers (the TTL perhaps marked `p`: its own) and the entries of a [`payload`].
fn parse_payload(text: &str) -> Result<(u64, u64, (u64, bool), Values), String> {
    let mut parts = text.splitn(4, '.');
    let mut next = || parts.next().ok_or_else(|| "bad header".to_owned());
    let number = |part: &str| part.parse::<u64>().map_err(|_| "bad header".to_owned());
    let (exp, created) = (number(next()?)?, number(next()?)?);
    let ttl = Meta::parse_ttl(next()?).ok_or_else(|| "bad header".to_owned())?;
    let json = parts.next().ok_or("no entries")?;
    let mut de = serde_json::Deserializer::from_str(json);
    let d = entries(&mut de).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok((exp, created, ttl, d))
}

/// The entries object straight into [`Values`]: each value kept as its JSON text.
fn entries<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Values, D::Error> {
    struct Visitor;
    impl<'de> serde::de::Visitor<'de> for Visitor {
        type Value = Values;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a map of JSON values")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Values, A::Error> {
            let mut entries = Values::with_capacity(map.size_hint().unwrap_or(0));
            while let Some((key, value)) = map.next_entry::<String, &'de RawValue>()? {
                entries.insert(key, value.get().into());
            }
            Ok(entries)
        }
    }
    deserializer.deserialize_map(Visitor)
}

impl CookieStore {
    /// Encrypted (AES-256-GCM) cookies: the default choice.
    #[must_use]
    pub fn encrypted() -> Self {
        Self {
            protection: Protection::Encrypted,
            compress: false,
        }
    }

    /// Signed (HMAC-SHA256) cookies: the client can read the session but not change it.
    #[must_use]
    pub fn signed() -> Self {
        Self {
            protection: Protection::Signed,
            compress: false,
        }
    }

    /// Deflates payloads before sealing, when that makes them smaller. Read the CRIME/BREACH
    /// caveat in the type's docs first. Cookies written either way are read either way.
    #[cfg(feature = "cookie-compression")]
    #[cfg_attr(docsrs, doc(cfg(feature = "cookie-compression")))]
    #[must_use]
    pub fn compressed(mut self, yes: bool) -> Self {
        self.compress = yes;
        self
    }

    /// The sealed text for a payload: as it is (encrypted), base64 of it (signed), or a
    /// compressed form.
    fn encode(&self, text: String) -> String {
        #[cfg(feature = "cookie-compression")]
        if self.compress {
            let deflated = deflate(text.as_bytes());
            let packed = format!("{COMPRESSED}{}", URL_SAFE_NO_PAD.encode(deflated));
            let plain_len = match self.protection {
                Protection::Signed => text.len().div_ceil(3) * 4,
                Protection::Encrypted => text.len(),
            };
            if packed.len() < plain_len {
                return packed;
            }
        }
        match self.protection {
            // Signed payloads travel as base64: raw quotes would be percent-encoded.
            Protection::Signed => URL_SAFE_NO_PAD.encode(text),
            Protection::Encrypted => text,
        }
    }

    /// The payload inside an opened cookie, or why not.
    fn decode(&self, plain: String) -> Result<String, &'static str> {
        if let Some(packed) = plain.strip_prefix(COMPRESSED) {
            let deflated = URL_SAFE_NO_PAD.decode(packed).map_err(|_| "bad base64")?;
            return inflate(&deflated);
        }
        match self.protection {
            Protection::Signed => {
                let bytes = URL_SAFE_NO_PAD.decode(&plain).map_err(|_| "bad base64")?;
                String::from_utf8(bytes).map_err(|_| "not UTF-8")
            }
            Protection::Encrypted => Ok(plain),
        }
    }

    /// Opens and checks a sealed cookie; `None`, logged at warn, for anything unacceptable.
    pub(crate) fn open(&self, config: &Config, sealed: &str) -> Option<Opened> {
        let Some((plain, stale_key)) = seal::open(
            Purpose::CookieStore(self.protection),
            &config.keys,
            &config.cookie_name,
            sealed,
        ) else {
            tracing::warn!("session cookie rejected: not authentic under any accepted key");
            observe::refused(Refusal::BadSignature);
            return None;
        };
        let json = match self.decode(plain) {
            Ok(json) => json,
            Err(why) => {
                tracing::warn!(why, "session cookie rejected: authentic but undecodable");
                observe::refused(Refusal::Malformed);
                return None;
            }
        };
        let (exp, created, ttl, entries) = match parse_payload(&json) {
            Ok(parts) => parts,
            Err(error) => {
                tracing::warn!(%error, "session cookie rejected: authentic but undecodable");
                observe::refused(Refusal::Malformed);
                return None;
            }
        };
        if exp <= config.clock.unix_secs() {
            tracing::warn!("session cookie rejected: expired");
            observe::expired();
            return None;
        }
        let meta = Meta::from_parts(created, ttl.0)?.with_own_ttl(ttl.1);
        if past_max_lifetime(config, meta.created) {
            return None;
        }
        Some(Opened {
            entries,
            meta,
            stale_key,
        })
    }

    /// Seals the whole session with the current key, valid for `ttl` from now.
    pub(crate) fn seal<V: std::ops::Deref<Target = str>>(
        &self,
        config: &Config,
        entries: &std::collections::HashMap<String, V>,
        user: Option<&UserBinding>,
        meta: Meta,
        ttl: Duration,
    ) -> Result<String, StoreError> {
        // Serialized straight to raw JSON: no text to parse back.
        let user = user
            .map(serde_json::value::to_raw_value)
            .transpose()
            .map_err(StoreError::corrupt)?;
        let mut d = entries
            .iter()
            .map(|(k, v)| {
                serde_json::from_str::<&RawValue>(v)
                    .map(|raw| (k.as_str(), raw))
                    .map_err(StoreError::corrupt)
            })
            .collect::<Result<Vec<_>, _>>()?;
        d.extend(user.as_deref().map(|raw| (USER_KEY, raw)));
        let json = payload(config.clock.unix_secs() + ttl.as_secs(), meta, &d)?;
        Ok(seal::seal(
            Purpose::CookieStore(self.protection),
            config.key(),
            &config.cookie_name,
            self.encode(json),
        ))
    }
}

impl Default for CookieStore {
    fn default() -> Self {
        Self::encrypted()
    }
}

#[cfg(feature = "cookie-compression")]
fn deflate(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

#[cfg(feature = "cookie-compression")]
fn inflate(bytes: &[u8]) -> Result<String, &'static str> {
    use std::io::Read as _;
    let mut out = String::new();
    flate2::read::DeflateDecoder::new(bytes)
        .take(MAX_INFLATED_BYTES)
        .read_to_string(&mut out)
        .map_err(|_| "bad deflate stream")?;
    Ok(out)
}

#[cfg(not(feature = "cookie-compression"))]
fn inflate(_: &[u8]) -> Result<String, &'static str> {
    Err("compressed, but built without the `cookie-compression` feature")
}

#[cfg(test)]
mod tests {
    use actix_web::cookie::Key;
    use proptest::prelude::*;

    use super::*;
    use crate::store::Entries;

    fn config() -> Config {
        Config::new(Key::from(&[3; 64]))
    }

    fn sealed(store: &CookieStore) -> String {
        let entries = Entries::from([("k".to_owned(), "\"v\"".to_owned())]);
        let meta = Meta::from_parts(crate::clock::Clock::system().unix_secs(), 60).unwrap();
        store
            .seal(&config(), &entries, None, meta, Duration::from_secs(60))
            .unwrap()
    }

    fn stores() -> [CookieStore; 2] {
        [CookieStore::encrypted(), CookieStore::signed()]
    }

    #[test]
    fn payloads_round_trip_and_malformed_ones_are_refused() {
        let value = RawValue::from_string("{\"a\":[1,\"x.y\"]}".into()).unwrap();
        let meta = Meta::from_parts(7, 60).unwrap();
        let text = payload(99, meta, &[("k.\"q", &value)]).unwrap();
        let (exp, created, ttl, entries) = parse_payload(&text).unwrap();
        assert_eq!((exp, created, ttl), (99, 7, (60, false)));
        let own = payload(99, meta.with_own_ttl(true), &[]).unwrap();
        assert_eq!(own, "99.7.60p.{}");
        assert_eq!(parse_payload(&own).unwrap().2, (60, true));
        assert_eq!(
            entries,
            Values::from([("k.\"q".to_owned(), value.get().into())])
        );
        for bad in [
            "",
            "1.2.3",
            "1.2.3.",
            "a.2.3.{}",
            "1.2.-3.{}",
            "1.2.3.{}x",
            "1.2.3.[]",
            "1p.2.3.{}",
            "1.2.p.{}",
            "1.2.3.{\"k\":}",
            "{\"exp\":1}",
        ] {
            assert!(parse_payload(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn authentic_cookies_open() {
        for store in stores() {
            let opened = store.open(&config(), &sealed(&store)).unwrap();
            assert_eq!(&*opened.entries["k"], "\"v\"");
            assert!(!opened.stale_key);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Arbitrary text never opens and never panics.
        #[test]
        fn arbitrary_text_is_refused(text in ".{0,600}") {
            for store in stores() {
                prop_assert!(store.open(&config(), &text).is_none());
            }
        }

        /// Arbitrary bytes, as the cookie parser could hand them over (lossy UTF-8).
        #[test]
        fn arbitrary_bytes_are_refused(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let text = String::from_utf8_lossy(&bytes);
            for store in stores() {
                prop_assert!(store.open(&config(), &text).is_none());
            }
        }

        /// Any edit of an authentic cookie (replace, insert or delete a byte) is refused.
        #[test]
        fn edited_cookies_are_refused(pos in any::<prop::sample::Index>(), byte in 0x21u8..0x7f, op in 0..3u8) {
            for store in stores() {
                let mut bytes = sealed(&store).into_bytes();
                let i = pos.index(bytes.len());
                match op {
                    0 if bytes[i] != byte => bytes[i] = byte,
                    0 => continue,
                    1 => bytes.insert(i, byte),
                    _ => { bytes.remove(i); }
                }
                let edited = String::from_utf8(bytes).unwrap();
                prop_assert!(store.open(&config(), &edited).is_none(), "{}", edited);
            }
        }
    }
}
