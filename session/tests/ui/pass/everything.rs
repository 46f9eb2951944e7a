//! Every attribute and field form, with warnings denied: the expansion must be warning-free
//! even where the app uses none of the generated methods.
#![deny(warnings, missing_docs, missing_debug_implementations)]

use actix_typed_session::SessionData;

/// A cart.
#[derive(SessionData, Debug)]
#[session(prefix = "cart")]
pub struct Cart {
    /// Item ids.
    items: Vec<u32>,
    /// Renamed key.
    #[session(key = "uid")]
    user: Option<u64>,
    /// Fully qualified `Option`.
    coupon: ::std::option::Option<String>,
    /// Default from `Default`.
    #[session(default)]
    visits: u32,
    /// Default from a function.
    #[session(default = "defaults::currency")]
    currency: String,
    /// A keyword as a field name.
    r#type: String,
}

mod defaults {
    pub fn currency() -> String {
        "EUR".into()
    }
}

/// A private struct in a module: the accessor keeps its visibility.
mod private {
    #[derive(actix_typed_session::SessionData)]
    pub(crate) struct Flags {
        #[session(default)]
        pub(crate) beta: bool,
    }
}

fn main() {
    assert_eq!(CartSession::TYPE_KEY, "cart.type");
    assert_eq!(CartSession::USER_KEY, "cart.uid");
    assert_eq!(CartSession::KEYS.len(), 6);
    assert_eq!(private::FlagsSession::KEYS, ["beta"]);
    // Setters take the value or a reference to it.
    let _ = |c: &CartSession| -> Result<(), actix_typed_session::SessionError> {
        c.set_visits(3)?;
        c.set_user(None)?;
        c.set_user(Some(4))?;
        c.set_items(&vec![1])?;
        let _: Option<String> = c.r#type()?;
        c.set_type(String::new())
    };
}
