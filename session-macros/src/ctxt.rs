//! Collects every error of one derive so the user sees them all at once.

use std::{cell::RefCell, fmt::Display, thread};

use quote::ToTokens;

/// Error sink shared by the phases; [`Ctxt::check`] turns what it holds into one `syn::Error`.
///
/// Dropping a context that was not checked panics, so an error recorded on some path can never
/// be lost silently (serde_derive's guard).
pub(crate) struct Ctxt {
    /// `None` once [`Ctxt::check`] has taken the errors.
    errors: RefCell<Option<Vec<syn::Error>>>,
}

impl Default for Ctxt {
    fn default() -> Self {
        Self {
            errors: RefCell::new(Some(Vec::new())),
        }
    }
}

impl Ctxt {
    /// Records `err`; nothing is reported until [`Ctxt::check`].
    pub(crate) fn push(&self, err: syn::Error) {
        // `check` takes `self`, so the errors are always still here.
        if let Some(errors) = self.errors.borrow_mut().as_mut() {
            errors.push(err);
        }
    }

    /// Records an error spanned at `tokens`.
    pub(crate) fn error_spanned_by(&self, tokens: impl ToTokens, msg: impl Display) {
        self.push(syn::Error::new_spanned(tokens.into_token_stream(), msg));
    }

    /// `Err` with every recorded error, combined in the order recorded, or `Ok` when there were
    /// none.
    pub(crate) fn check(self) -> Result<(), syn::Error> {
        let mut errors = self.errors.take().unwrap_or_default().into_iter();
        let Some(mut all) = errors.next() else {
            return Ok(());
        };
        for err in errors {
            all.combine(err);
        }
        Err(all)
    }
}

impl Drop for Ctxt {
    fn drop(&mut self) {
        // Not while unwinding already: a second panic would abort and hide the first.
        if self.errors.get_mut().is_some() && !thread::panicking() {
            panic!("forgot to check for errors");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::panic;

    use proc_macro2::Span;

    use super::Ctxt;

    fn error(msg: &str) -> syn::Error {
        syn::Error::new(Span::call_site(), msg)
    }

    /// The panic message of `f`, or `None` when it returns.
    fn panic_message(f: impl FnOnce() + panic::UnwindSafe) -> Option<String> {
        let payload = panic::catch_unwind(f).err()?;
        Some(
            payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default(),
        )
    }

    #[test]
    fn dropping_an_unchecked_context_panics() {
        let with_errors = panic_message(|| {
            let cx = Ctxt::default();
            cx.push(error("lost"));
            drop(cx);
        });
        assert_eq!(with_errors.as_deref(), Some("forgot to check for errors"));
        // Even without errors: a path that skips `check` would lose the next one added.
        let without = panic_message(|| drop(Ctxt::default()));
        assert_eq!(without.as_deref(), Some("forgot to check for errors"));
    }

    #[test]
    fn checked_context_drops_quietly() {
        assert_eq!(panic_message(|| Ctxt::default().check().unwrap()), None);
        let failed = panic_message(|| {
            let cx = Ctxt::default();
            cx.push(error("reported"));
            let _ = cx.check();
        });
        assert_eq!(failed, None);
    }

    #[test]
    fn check_returns_every_error_in_order() {
        let cx = Ctxt::default();
        cx.push(error("first"));
        cx.error_spanned_by(quote::quote!(x), "second");
        cx.push(error("third"));
        let messages: Vec<String> = cx
            .check()
            .expect_err("three errors")
            .into_iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(messages, ["first", "second", "third"]);
    }
}
