//! Collects every error of one derive so the user sees them all at once.

use std::{cell::RefCell, fmt::Display};

use quote::ToTokens;

/// Error sink shared by the phases; [`Ctxt::check`] turns what it holds into one `syn::Error`.
#[derive(Default)]
pub(crate) struct Ctxt {
    errors: RefCell<Option<syn::Error>>,
}

impl Ctxt {
    /// Records `err`; nothing is reported until [`Ctxt::check`].
    pub(crate) fn push(&self, err: syn::Error) {
        let mut errors = self.errors.borrow_mut();
        match errors.as_mut() {
            Some(all) => all.combine(err),
            None => *errors = Some(err),
        }
    }

    /// Records an error spanned at `tokens`.
    pub(crate) fn error_spanned_by(&self, tokens: impl ToTokens, msg: impl Display) {
        self.push(syn::Error::new_spanned(tokens.into_token_stream(), msg));
    }

    /// `Err` with every recorded error, combined, or `Ok` when there were none.
    pub(crate) fn check(self) -> Result<(), syn::Error> {
        self.errors.into_inner().map_or(Ok(()), Err)
    }
}
