//! Flash messages: queued in one request, shown once in a later one.
//!
//! The queue lives in the session under one key, [`FLASH_KEY`], so it works on every store
//! (the cookie store included) and costs nothing on requests that do not take a [`Flash`]:
//! extracting one loads just that key and the signed-in user (one `HMGET` on Redis).

use actix_web::{dev::Payload, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::{de::DeserializeOwned, Deserialize, Serialize};

use actix_web::HttpMessage as _;

use crate::{Session, SessionError};

/// The session key that holds the queue of flash messages; applications cannot write it (a
/// [`SessionError::ReservedKey`]).
pub const FLASH_KEY: &str = "__session.flash";

/// How important a flash message is (Django's message levels, less `debug`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum FlashLevel {
    /// Something the user may like to know.
    Info,
    /// An action succeeded.
    Success,
    /// Not a failure, but worth attention.
    Warning,
    /// An action failed.
    Error,
}

/// One flash message, with a message of any serde type (`String` unless you say otherwise).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlashMessage<T = String> {
    /// Its level.
    pub level: FlashLevel,
    /// Its content.
    pub message: T,
}

/// The flash messages of a request's session: an extractor.
///
/// [`add`](Self::add) queues a message (it is saved with the session after the handler, like
/// any change); [`take`](Self::take) returns every queued message, oldest first, and removes
/// them, so each is shown once. Two concurrent requests that both add messages to one session
/// may keep only one request's messages (the queue is one session key).
///
/// ```
/// use actix_web::{get, post, HttpResponse, Responder};
/// use actix_typed_session::{Flash, FlashMessage};
///
/// #[post("/cart")]
/// async fn add_to_cart(flash: Flash) -> actix_web::Result<impl Responder> {
///     flash.success("Added to your cart")?;
///     Ok(HttpResponse::SeeOther().insert_header(("Location", "/")).finish())
/// }
///
/// #[get("/")]
/// async fn index(flash: Flash) -> actix_web::Result<String> {
///     let shown: Vec<FlashMessage> = flash.take()?;
///     Ok(shown.into_iter().map(|m| format!("{:?}: {}\n", m.level, m.message)).collect())
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Flash(Session);

impl Flash {
    /// Returns the flash messages of `session`, loading their key if needed (the extractor does
    /// this).
    ///
    /// ```
    /// # async fn f(req: actix_web::HttpRequest) -> Result<(), actix_typed_session::SessionError> {
    /// use actix_typed_session::SessionExt as _;
    ///
    /// let flash = actix_typed_session::Flash::load(req.get_session()).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`Session::load_keys`].
    pub async fn load(session: Session) -> Result<Self, SessionError> {
        session.load_keys(&[FLASH_KEY]).await?;
        Ok(Self(session))
    }

    fn queue(&self) -> Result<Vec<FlashMessage<serde_json::Value>>, SessionError> {
        Ok(self.0.get(FLASH_KEY)?.unwrap_or_default())
    }

    /// Queues `message` at `level`, after those already queued.
    ///
    /// ```
    /// # async fn f(flash: actix_typed_session::Flash) -> Result<(), actix_typed_session::SessionError> {
    /// use actix_typed_session::FlashLevel;
    ///
    /// flash.add(FlashLevel::Warning, "Your card expires this month")?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`SessionError::Serialize`] when `message` cannot be serialized; the errors of
    /// [`Session::get`] when the queue cannot be read.
    pub fn add<T: Serialize>(&self, level: FlashLevel, message: T) -> Result<(), SessionError> {
        let message = serde_json::to_value(message).map_err(|source| SessionError::Serialize {
            key: FLASH_KEY.to_owned(),
            source,
        })?;
        let mut queue = self.queue()?;
        queue.push(FlashMessage { level, message });
        self.0.insert_reserved(FLASH_KEY.to_owned(), queue)
    }

    /// Queues an [`FlashLevel::Info`] message.
    ///
    /// ```
    /// # async fn f(flash: actix_typed_session::Flash) -> Result<(), actix_typed_session::SessionError> {
    /// flash.info("Welcome back")?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`add`](Self::add).
    pub fn info<T: Serialize>(&self, message: T) -> Result<(), SessionError> {
        self.add(FlashLevel::Info, message)
    }

    /// Queues a [`FlashLevel::Success`] message.
    ///
    /// ```
    /// # async fn f(flash: actix_typed_session::Flash) -> Result<(), actix_typed_session::SessionError> {
    /// flash.success("Saved")?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`add`](Self::add).
    pub fn success<T: Serialize>(&self, message: T) -> Result<(), SessionError> {
        self.add(FlashLevel::Success, message)
    }

    /// Queues a [`FlashLevel::Warning`] message.
    ///
    /// ```
    /// # async fn f(flash: actix_typed_session::Flash) -> Result<(), actix_typed_session::SessionError> {
    /// flash.warning("Almost full")?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`add`](Self::add).
    pub fn warning<T: Serialize>(&self, message: T) -> Result<(), SessionError> {
        self.add(FlashLevel::Warning, message)
    }

    /// Queues a [`FlashLevel::Error`] message.
    ///
    /// ```
    /// # async fn f(flash: actix_typed_session::Flash) -> Result<(), actix_typed_session::SessionError> {
    /// flash.error("Payment refused")?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`add`](Self::add).
    pub fn error<T: Serialize>(&self, message: T) -> Result<(), SessionError> {
        self.add(FlashLevel::Error, message)
    }

    /// Returns every queued message, oldest first, as `T`s, removing them: each is shown once. An
    /// empty queue changes nothing (no write).
    ///
    /// ```
    /// # async fn f(flash: actix_typed_session::Flash) -> Result<(), actix_typed_session::SessionError> {
    /// for m in flash.take::<String>()? {
    ///     println!("{:?}: {}", m.level, m.message);
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`SessionError::Deserialize`] when a message is not a `T` (the queue is then left as
    /// it was); the errors of [`Session::get`].
    pub fn take<T: DeserializeOwned>(&self) -> Result<Vec<FlashMessage<T>>, SessionError> {
        let queue = self.queue()?;
        if queue.is_empty() {
            return Ok(Vec::new());
        }
        let messages = queue
            .into_iter()
            .map(|m| {
                let message = serde_json::from_value(m.message)
                    .map_err(|e| SessionError::deserialize::<T>(FLASH_KEY, &e))?;
                Ok(FlashMessage {
                    level: m.level,
                    message,
                })
            })
            .collect::<Result<_, SessionError>>()?;
        self.0.remove_reserved(FLASH_KEY)?;
        Ok(messages)
    }
}

/// Extracting a `Flash` loads only [`FLASH_KEY`] of the session.
impl FromRequest for Flash {
    type Error = SessionError;
    type Future = LocalBoxFuture<'static, Result<Self, SessionError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = crate::session::attached(req.headers(), &req.extensions());
        Box::pin(async move { Self::load(session?).await })
    }
}
