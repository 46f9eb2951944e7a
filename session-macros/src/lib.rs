//! The derive macro behind `session`'s typed sessions. Use it through `actix_typed_session::SessionData`,
//! whose documentation describes what it generates.
//!
//! The crate is split by phase: `attr` parses `#[session(...)]`, `ast` models the struct,
//! `validate` checks it, `expand` generates the accessor. Every phase records its errors in one
//! `ctxt::Ctxt`, so that a user sees all of them at once; with errors, `expand::fallback` still
//! defines the accessor's name, so that code using it adds no errors of its own.

mod ast;
mod attr;
mod ctxt;
mod expand;
mod validate;

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput};

/// (Implemented by the `session-macros` crate; use it as `actix_typed_session::SessionData`.)
#[proc_macro_derive(SessionData, attributes(session))]
pub fn derive_session_data(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match derive(&input) {
        Ok(tokens) | Err(tokens) => tokens.into(),
    }
}

/// The expansion, or `Err` with the errors and a stand-in accessor ([`expand::fallback`]).
fn derive(input: &DeriveInput) -> Result<proc_macro2::TokenStream, proc_macro2::TokenStream> {
    let cx = ctxt::Ctxt::default();
    let model = ast::Input::from_syn(&cx, input);
    if let Some(model) = &model {
        validate::check(&cx, model);
    }
    match cx.check() {
        Ok(()) => Ok(model.map(|m| expand::expand(&m)).unwrap_or_default()),
        Err(errors) => {
            // Not a name the input defines already: that would add an error of its own.
            let name = model
                .map(|m| m.accessor())
                .filter(|name| name != &input.ident);
            Err(expand::fallback(input, name, errors))
        }
    }
}
