//! Session identifiers.

use std::{fmt, sync::Arc};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};

/// Bytes of randomness in a session id.
const ID_BYTES: usize = 32;
/// Length of the URL-safe base64 text of [`ID_BYTES`] bytes, without padding.
const ID_LEN: usize = 43;

/// A session identifier: 256 bits from the operating system's CSPRNG, as URL-safe base64.
///
/// Ids only enter the library through [`SessionId::generate`] or a strict parse, so every
/// `SessionId` a store sees is exactly 43 characters of `A–Z a–z 0–9 - _`: safe as a Redis key
/// part or a file name. Clones share the text (a reference count, no copy).
///
/// ```
/// use actix_typed_session::SessionId;
///
/// let id = SessionId::generate();
/// assert_eq!(SessionId::try_from(id.as_str()).unwrap(), id);
///
/// // Anything else is refused: wrong length, foreign characters, padding, path tricks.
/// assert!(SessionId::try_from("short").is_err());
/// assert!(SessionId::try_from("../../etc/passwd").is_err());
/// assert!(SessionId::try_from(format!("{}=", &id.as_str()[..42]).as_str()).is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(Arc<str>);

impl SessionId {
    /// Creates a fresh id from the operating system's CSPRNG.
    ///
    /// # Panics
    /// Only if the operating system cannot provide randomness at all, in which case no secure
    /// session can be made.
    #[must_use]
    pub fn generate() -> Self {
        let mut bytes = [0u8; ID_BYTES];
        getrandom::fill(&mut bytes).expect("the operating system's random source failed");
        Self(URL_SAFE_NO_PAD.encode(bytes).into())
    }

    /// The first 60 of the id's random bits (its first ten characters), as a number: a key
    /// for stores that index sessions by integer. Distinct ids may share it (a new id shares it
    /// with one of `n` others with a chance of `n` in 2^60: about one in a billion with a
    /// billion others), so such a store also compares the whole id.
    #[cfg(feature = "sqlite")]
    #[must_use]
    pub(crate) fn leading_bits(&self) -> i64 {
        self.0
            .bytes()
            .take(10)
            .fold(0, |bits, b| bits << 6 | i64::from(sextet(b).unwrap_or(0)))
    }

    /// Returns the id as text (43 URL-safe base64 characters).
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a string is not a [`SessionId`].
///
/// As a [`ResponseError`](actix_web::ResponseError) it is a `400 Bad Request`, so a handler
/// that takes an id (an admin tool ending one of a user's sessions, say) can use `?`:
///
/// ```
/// use actix_typed_session::{store::{MemoryStore, SessionStore as _}, SessionId};
/// use actix_web::{web, HttpResponse};
///
/// async fn end_one(
///     store: web::Data<MemoryStore>,
///     path: web::Path<(String, String)>,
/// ) -> actix_web::Result<HttpResponse> {
///     let (user, id) = path.into_inner();
///     let id = SessionId::try_from(id.as_str())?; // 400 when it is not a session id
///     let ended = store.end_user_session(&user, &id).await?;
///     Ok(HttpResponse::Ok().body(ended.to_string()))
/// }
/// ```
///
/// (`web::Path<SessionId>` and other serde extractors parse ids with the same strict check.)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "not a session id: expected {ID_LEN} characters of URL-safe base64 encoding {ID_BYTES} bytes"
)]
pub struct InvalidSessionId(());

impl actix_web::ResponseError for InvalidSessionId {
    fn status_code(&self) -> actix_web::http::StatusCode {
        actix_web::http::StatusCode::BAD_REQUEST
    }
}

impl TryFrom<&str> for SessionId {
    type Error = InvalidSessionId;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        // 43 characters carry 258 bits for 256: the last one's low two bits must be zero, so
        // each id has exactly one text (what a strict base64 decoder checks, without decoding).
        if canonical(value, ID_LEN, 0b11) {
            Ok(Self(value.into()))
        } else {
            Err(InvalidSessionId(()))
        }
    }
}

/// `value` is the one unpadded URL-safe base64 text of `len` characters whose last character
/// has the `spare` bits (beyond the encoded bytes) zero.
fn canonical(value: &str, len: usize, spare: u8) -> bool {
    let bytes = value.as_bytes();
    bytes.len() == len
        && bytes.iter().all(|&b| sextet(b).is_some())
        && sextet(bytes[len - 1]).is_some_and(|last| last & spare == 0)
}

/// The value of a URL-safe base64 character.
fn sextet(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'-' => Some(62),
        b'_' => Some(63),
        _ => None,
    }
}

impl TryFrom<String> for SessionId {
    type Error = InvalidSessionId;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::try_from(value.as_str())
    }
}

impl std::str::FromStr for SessionId {
    type Err = InvalidSessionId;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::try_from(value)
    }
}

/// Strict, as `SessionId::try_from`: anything but a session id's exact text is an error.
/// (There is no `Serialize`: an id is a credential, to be written out on purpose with
/// [`SessionId::as_str`].)
impl<'de> serde::Deserialize<'de> for SessionId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::try_from(text).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for SessionId {
    // Ids are bearer credentials: debug output shows only a prefix, enough to correlate logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({}…)", &self.0[..6])
    }
}

/// The opaque handle of one of a user's sessions, as a "your sessions" page shows it: a row of
/// [`Session::user_sessions`](crate::Session::user_sessions) carries one, and
/// [`Session::end_user_session`](crate::Session::end_user_session) ends the row it names.
///
/// Unlike the session's id it is no credential: it is derived one way from the id (128 bits
/// of SHA-256), so a page, a form or a log line can carry it without handing out the session.
/// It parses strictly (22 characters of URL-safe base64), and a string that is not one is a
/// `400 Bad Request` as a handler's error:
///
/// ```
/// use actix_typed_session::{Session, SessionHandle};
/// use actix_web::{web, HttpResponse};
///
/// async fn end_one(session: Session, row: web::Path<String>) -> actix_web::Result<HttpResponse> {
///     let row: SessionHandle = row.parse()?; // 400 when it is not a handle
///     let ended = session.end_user_session(&row).await?;
///     Ok(HttpResponse::Ok().body(ended.to_string()))
/// }
/// ```
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct SessionHandle(Box<str>);

/// Characters of a [`SessionHandle`]: 128 bits in URL-safe base64, unpadded.
const HANDLE_LEN: usize = 22;

impl SessionHandle {
    /// Returns the handle of session `id`.
    #[must_use]
    pub fn of(id: &SessionId) -> Self {
        let text = digest128(&[
            b"actix-typed-session row handle v1\0",
            id.as_str().as_bytes(),
        ]);
        Self(text.into())
    }

    /// Returns the handle's text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 128 bits of SHA-256 over `parts` in order, in unpadded URL-safe base64: a one-way digest
/// that is safe to show (a row's handle, a credential version's record).
pub(crate) fn digest128(parts: &[&[u8]]) -> String {
    use sha2::{Digest as _, Sha256};
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part);
    }
    URL_SAFE_NO_PAD.encode(&hash.finalize()[..16])
}

/// Why a string is not a [`SessionHandle`]; a `400 Bad Request` as a handler's error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a session handle: expected {HANDLE_LEN} characters of URL-safe base64")]
pub struct InvalidSessionHandle(());

impl actix_web::ResponseError for InvalidSessionHandle {
    fn status_code(&self) -> actix_web::http::StatusCode {
        actix_web::http::StatusCode::BAD_REQUEST
    }
}

impl std::str::FromStr for SessionHandle {
    type Err = InvalidSessionHandle;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        // 22 characters carry 132 bits for 128: the last one's low four bits must be zero.
        if canonical(value, HANDLE_LEN, 0b1111) {
            Ok(Self(value.into()))
        } else {
            Err(InvalidSessionHandle(()))
        }
    }
}

impl<'de> serde::Deserialize<'de> for SessionHandle {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for SessionHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for SessionHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionHandle({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handle_is_derived_from_the_id_and_parses_strictly() {
        let id = SessionId::generate();
        let handle = SessionHandle::of(&id);
        assert_eq!(handle, SessionHandle::of(&id));
        assert_ne!(handle, SessionHandle::of(&SessionId::generate()));
        assert_eq!(handle.as_str().len(), HANDLE_LEN);
        assert!(!id.as_str().contains(handle.as_str()));
        assert_eq!(handle.as_str().parse::<SessionHandle>(), Ok(handle.clone()));
        let json = serde_json::to_string(&handle).unwrap();
        assert_eq!(
            serde_json::from_str::<SessionHandle>(&json).unwrap(),
            handle
        );
        let mut text = handle.as_str().to_owned();
        text.pop();
        for bad in [
            text.clone(),
            format!("{text}B"),
            format!("{text}A="),
            id.to_string(),
        ] {
            assert!(bad.parse::<SessionHandle>().is_err(), "{bad}");
        }
        assert!(format!("{text}A").parse::<SessionHandle>().is_ok());
    }

    #[test]
    fn ids_parse_strictly_from_str_and_serde() {
        let id = SessionId::generate();
        assert_eq!(id.as_str().parse::<SessionId>(), Ok(id.clone()));
        assert_eq!("short".parse::<SessionId>(), Err(InvalidSessionId(())));
        let json = format!("\"{}\"", id.as_str());
        assert_eq!(serde_json::from_str::<SessionId>(&json).unwrap(), id);
        let padded = format!("\"{}=\"", &id.as_str()[..42]);
        let err = serde_json::from_str::<SessionId>(&padded).unwrap_err();
        assert!(err.to_string().contains("not a session id"), "{err}");
        assert!(serde_json::from_str::<SessionId>("42").is_err());
    }

    #[actix_web::test]
    async fn invalid_ids_from_clients_are_400_and_path_ids_parse() {
        use actix_web::{test, web, App, HttpResponse, ResponseError};

        assert_eq!(InvalidSessionId(()).status_code().as_u16(), 400);
        let app = test::init_service(
            App::new()
                .route(
                    "/text/{id}",
                    web::get().to(|id: web::Path<String>| async move {
                        let id = SessionId::try_from(id.as_str())?;
                        Ok::<_, actix_web::Error>(HttpResponse::Ok().body(id.to_string()))
                    }),
                )
                .route(
                    "/typed/{id}",
                    web::get().to(|id: web::Path<SessionId>| async move {
                        HttpResponse::Ok().body(id.into_inner().to_string())
                    }),
                ),
        )
        .await;
        let id = SessionId::generate();
        for route in ["text", "typed"] {
            let ok = test::TestRequest::get()
                .uri(&format!("/{route}/{id}"))
                .to_request();
            let body = test::call_and_read_body(&app, ok).await;
            assert_eq!(body, id.as_str().as_bytes(), "{route}");
        }
        let bad = test::TestRequest::get().uri("/text/..%2Fetc").to_request();
        assert_eq!(test::call_service(&app, bad).await.status().as_u16(), 400);
        let bad = test::TestRequest::get().uri("/typed/short").to_request();
        assert_eq!(test::call_service(&app, bad).await.status().as_u16(), 404);
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn leading_bits_are_the_first_ten_characters() {
        let id = SessionId::try_from(format!("{}{}", "B".repeat(10), "A".repeat(33)).as_str());
        // Ten sextets of value 1 ("B").
        let ones = (0..10).fold(0, |bits, _| bits << 6 | 1);
        assert_eq!(id.unwrap().leading_bits(), ones);
        let all = SessionId::try_from(format!("{}{}", "_".repeat(10), "A".repeat(33)).as_str());
        assert_eq!(all.unwrap().leading_bits(), (1 << 60) - 1);
        let a = SessionId::generate();
        let same_start = format!("{}{}", &a.as_str()[..10], "A".repeat(33));
        let b = SessionId::try_from(same_start.as_str()).unwrap();
        assert_eq!(a.leading_bits(), b.leading_bits());
        let other_start = format!("{}{}", "A".repeat(10), &a.as_str()[10..]);
        let c = SessionId::try_from(other_start.as_str()).unwrap();
        assert_eq!(c.leading_bits(), 0);
    }

    #[test]
    fn generated_ids_are_distinct_and_valid() {
        let a = SessionId::generate();
        let b = SessionId::generate();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), ID_LEN);
        assert!(SessionId::try_from(a.as_str()).is_ok());
    }

    #[test]
    fn rejects_everything_else() {
        let good = SessionId::generate();
        let s = good.as_str();
        for bad in [
            String::new(),
            s[..42].to_owned(),
            format!("{s}A"),
            format!("{}+", &s[..42]),
            format!("{}/", &s[..42]),
            format!("{}\0", &s[..42]),
            format!("{}.", &s[..42]),
            "../".repeat(15)[..43].to_owned(),
            "é".repeat(21) + "a",
        ] {
            assert!(
                SessionId::try_from(bad.as_str()).is_err(),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn rejects_non_canonical_trailing_bits() {
        // 43 chars carry 258 bits; the last char's low two bits must be zero.
        let s = SessionId::generate().0;
        let last = s.as_bytes()[42];
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let idx = alphabet.iter().position(|&c| c == last).unwrap();
        let odd = alphabet[idx | 1] as char;
        let tweaked = format!("{}{}", &s[..42], odd);
        assert!(SessionId::try_from(tweaked.as_str()).is_err());
    }

    #[test]
    fn accepts_exactly_what_a_strict_decoder_accepts() {
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=.";
        for _ in 0..64 {
            let id = SessionId::generate().0.as_bytes().to_vec();
            for at in [0, 17, 41, 42] {
                for &c in alphabet {
                    let mut text = id.clone();
                    text[at] = c;
                    let text = String::from_utf8(text).unwrap();
                    let decodes = URL_SAFE_NO_PAD
                        .decode(&text)
                        .is_ok_and(|bytes| bytes.len() == ID_BYTES);
                    assert_eq!(
                        SessionId::try_from(text.as_str()).is_ok(),
                        decodes,
                        "{text}"
                    );
                }
            }
        }
    }

    #[test]
    fn debug_does_not_leak_the_id() {
        let id = SessionId::generate();
        assert!(!format!("{id:?}").contains(id.as_str()));
    }
}
