//! Generation of the typed accessor from a checked model, and of its stand-in when the derive
//! fails.
//!
//! Output shape, for `struct Cart`:
//! ```text
//! #[derive(Clone, Debug)] pub struct CartSession { session: Session }
//! const _: () = {
//!     const __SESSION_FIELD_0: Field<Vec<u32>> = Field::new(CartSession::ITEMS_KEY);
//!     impl CartSession { consts, per-field methods, load, save, … }
//!     impl FromRequest for CartSession { … }
//! };
//! ```
//! The `Field` constants are the only place the field types' serde bounds are checked, spanned
//! at the field's type, so a wrong type is one error there rather than one per method.

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::{spanned::Spanned as _, Attribute, DeriveInput, Ident};

use crate::{
    ast::{self, Field, Input, Kind},
    attr,
};

/// The accessor struct, its methods and its `FromRequest` impl.
pub(crate) fn expand(input: &Input<'_>) -> TokenStream {
    let krate = input
        .attrs
        .krate
        .as_ref()
        .map_or_else(|| quote!(::actix_typed_session), ToTokens::to_token_stream);
    let p = quote!(#krate::__private);
    let ident = input.ident;
    let vis = input.vis;
    let accessor = input.accessor();
    let struct_doc = {
        let (user, generated) = (&input.docs, accessor_doc(input));
        if user.is_empty() {
            quote!(#[doc = #generated])
        } else {
            quote!(#(#user)* #[doc = ""] #[doc = #generated])
        }
    };
    let key_consts = input.fields.iter().map(key_const);
    let key_names = input.fields.iter().map(Field::key_const);
    let field_consts = input.fields.iter().enumerate().map(|(i, f)| {
        let (name, ty, key) = (field_const(i), f.ty, f.key_const());
        let stale = stale_policy(&p, input, f);
        // Every token at the field's type, so that a type without serde support is reported
        // there.
        let p = respan(p.clone(), ty.span());
        let field = quote_spanned! {ty.span()=> #p::Field::new(#accessor::#key) };
        quote_spanned! {ty.span()=>
            const #name: #p::Field<#ty> = #field.on_stale(#stale);
        }
    });
    let schema = schema(&p, input);
    let stamp = stamp(input);
    let version_consts = input.version().map(|(key, number)| {
        let doc = format!("The version of `{ident}` this code reads and writes.");
        let key_doc = format!("Session key of the stored version: `\"{key}\"`.");
        quote! {
            #[doc = #doc]
            pub const SCHEMA_VERSION: u32 = #number;
            #[doc = #key_doc]
            pub const SCHEMA_VERSION_KEY: &'static str = #key;
        }
    });
    let methods = input
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| field_methods(&p, f, &field_const(i), &stamp, resets(input, f)));
    let whole = whole_struct(&p, input, &stamp);
    let from_session_doc = format!(
        "Typed access to `session` as a `{ident}`, loading this struct's keys first if this \
         request has not loaded them yet. Use it where you hold a `Session` already.\n\n\
         # Errors\n`SessionError::Load` when the store fails."
    );
    quote! {
        #struct_doc
        #[derive(::core::clone::Clone, ::core::fmt::Debug)]
        #vis struct #accessor {
            session: #p::Session,
        }

        const _: () = {
            #(#field_consts)*

            #schema

            #[automatically_derived]
            // An app uses some of the generated methods, rarely all.
            #[allow(dead_code)]
            impl #accessor {
                #(#key_consts)*

                /// Every session key of this struct's fields, in field order.
                pub const KEYS: &'static [&'static str] = &[#(Self::#key_names),*];

                #version_consts

                #[doc = #from_session_doc]
                pub async fn from_session(
                    session: #p::Session,
                ) -> ::core::result::Result<Self, #p::SessionError> {
                    #p::load_keys(&session, __SESSION_SCHEMA.all).await?;
                    __session_wrap(session)
                }

                /// The untyped session underneath; it shares this request's state.
                pub fn session(&self) -> &#p::Session {
                    &self.session
                }

                #(#methods)*

                #whole
            }

            #[automatically_derived]
            impl #p::FromRequest for #accessor {
                type Error = #p::SessionError;
                type Future = #p::ExtractFuture<Self>;

                fn from_request(req: &#p::HttpRequest, _: &mut #p::Payload) -> Self::Future {
                    #p::extract(req, &__SESSION_SCHEMA, __session_wrap)
                }
            }
        };
    }
}

/// What a failed derive emits: its errors, and the accessor's name with the struct's
/// visibility, so that code naming it (say through a glob import) gets no "cannot find type"
/// per use on top of them (thiserror's fallback). The name is an alias of a type holding the
/// first error, which makes it the compiler's error type: calling its methods or extracting
/// it then reports nothing either, where an empty stand-in struct would add "no method named
/// `items`" per call.
pub(crate) fn fallback(
    input: &DeriveInput,
    accessor: Option<Ident>,
    errors: syn::Error,
) -> TokenStream {
    let vis = &input.vis;
    let accessor = accessor.unwrap_or_else(|| ast::accessor(&input.ident));
    let doc = format!("`#[derive(SessionData)]` on `{}` failed.", input.ident);
    let mut errors = errors.into_iter().map(syn::Error::into_compile_error);
    // A `compile_error!` in type position reads as `()`; as an array length, as an error.
    let first = errors.next();
    quote! {
        #[doc = #doc]
        #[allow(dead_code)]
        #vis type #accessor = [(); #first];
        #(#errors)*
    }
}

/// The field's [`Stale`](::actix_typed_session::__private::Stale) policy: its own, else the
/// struct's, else reset.
fn stale_policy(p: &TokenStream, input: &Input<'_>, field: &Field<'_>) -> TokenStream {
    if let Some(path) = &field.attrs.migrate {
        // Spanned at the path, so that a function of the wrong type is reported there.
        let call = quote_spanned!(path.span()=> #path(value));
        let wrap = match field.kind {
            Kind::Optional => quote!(.map(::core::option::Option::Some)),
            Kind::Default | Kind::Required => quote!(),
        };
        return quote!(#p::Stale::Migrate(|value| #p::migrated(#call)#wrap));
    }
    if resets(input, field) {
        quote!(#p::Stale::Reset)
    } else {
        quote!(#p::Stale::Error)
    }
}

/// Whether the field's stale values reset (its own policy, else the struct's, else reset).
fn resets(input: &Input<'_>, field: &Field<'_>) -> bool {
    field
        .attrs
        .stale
        .as_ref()
        .or(input.attrs.stale.as_ref())
        .is_none_or(|stale| stale.reset)
}

/// The `# Errors` text of reading a field, by its stale-value policy.
fn stale_doc(field: &Field<'_>, ty: String, reset: bool) -> String {
    match &field.attrs.migrate {
        Some(path) => format!(
            "None from the stored value: one that does not decode as `{ty}` is converted by \
             `{}`, or dropped and read as absent when that fails.",
            type_name(path)
        ),
        None if reset => format!(
            "None from the stored value: one that does not decode as `{ty}` (left by an \
             older release, say) is dropped and read as absent."
        ),
        None => format!(
            "`SessionError::Deserialize` when the stored value does not decode as `{ty}` \
             (`stale = \"error\"`)."
        ),
    }
}

/// The `__SESSION_SCHEMA` constant and `__session_wrap`, which builds the accessor after
/// extraction and brings an outdated version up to date.
fn schema(p: &TokenStream, input: &Input<'_>) -> TokenStream {
    let accessor = input.accessor();
    let prefix = input
        .attrs
        .prefix
        .as_ref()
        .map(syn::LitStr::value)
        .unwrap_or_default();
    let removed: Vec<String> = input.removed().into_iter().map(|(key, _)| key).collect();
    let fields = input.fields.iter().map(|f| &f.key);
    let version = input.version();
    let version_key = version.iter().map(|(key, _)| key);
    let all = fields.chain(version_key).chain(&removed);
    let version_tokens = match &version {
        Some((key, number)) => quote!(::core::option::Option::Some((#key, #number))),
        None => quote!(::core::option::Option::None),
    };
    let upgrade = version.is_some().then(|| {
        let migrate = match &input.attrs.migrate {
            Some(path) => {
                let call = quote_spanned!(path.span()=> #path(from, values));
                quote! {
                    ::core::option::Option::Some(|from, values| {
                        let value = #p::migrated(#call)?;
                        this.save(&value).map_err(::core::convert::Into::into)
                    })
                }
            }
            None => quote!(::core::option::Option::None::<#p::NoMigration>),
        };
        quote! {
            if let ::core::option::Option::Some(outdated) = __SESSION_SCHEMA.outdated(&this.session)? {
                __SESSION_SCHEMA.upgrade(&this.session, outdated, #migrate)?;
            }
        }
    });
    quote! {
        const __SESSION_SCHEMA: #p::Schema = #p::Schema {
            prefix: #prefix,
            fields: #accessor::KEYS,
            removed: &[#(#removed),*],
            version: #version_tokens,
            all: &[#(#all),*],
        };

        fn __session_wrap(
            session: #p::Session,
        ) -> ::core::result::Result<#accessor, #p::SessionError> {
            let this = #accessor { session };
            #upgrade
            ::core::result::Result::Ok(this)
        }
    }
}

/// What every write of the struct does first: store its version and remove its dead keys
/// (nothing without `version` and `removed`).
fn stamp(input: &Input<'_>) -> TokenStream {
    if input.attrs.version.is_none() && input.attrs.removed.is_none() {
        return TokenStream::new();
    }
    quote!(__SESSION_SCHEMA.stamp(&self.session)?;)
}

/// `tokens` with every span set to `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            if let TokenTree::Group(group) = &tree {
                let mut inner = Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                tree = TokenTree::Group(inner);
            }
            tree.set_span(span);
            tree
        })
        .collect()
}

fn field_const(index: usize) -> Ident {
    format_ident!("__SESSION_FIELD_{index}")
}

fn accessor_doc(input: &Input<'_>) -> String {
    let keys: Vec<String> = input
        .fields
        .iter()
        .map(|f| format!("`{}`", f.key))
        .collect();
    format!(
        "Typed session access for `{}`, generated by `#[derive(SessionData)]`. Take it as a \
         handler argument: extracting it loads only its keys ({}). Each field has a getter, a \
         setter (`set_…`), a remover (`remove_…`) and an updater (`update_…`); `load` and \
         `save` read and write the whole struct.",
        input.ident,
        keys.join(", ")
    )
}

/// The user's doc attributes with a generated summary and `# Errors` section, as `#[doc]`
/// attributes. With `user_first` the user's docs make the summary line (a getter reads as the
/// field); else the generated sentence does (`set_x` is not "the items in the cart").
fn docs(user: &[&Attribute], summary: &str, errors: &str, user_first: bool) -> TokenStream {
    let summary = quote!(#[doc = #summary]);
    let errors = format!("# Errors\n{errors}");
    let body = match (user.is_empty(), user_first) {
        (true, _) => summary,
        (false, true) => quote!(#(#user)* #[doc = ""] #summary),
        (false, false) => quote!(#summary #[doc = ""] #(#user)*),
    };
    quote!(#body #[doc = ""] #[doc = #errors])
}

fn key_const(field: &Field<'_>) -> TokenStream {
    let name = field.key_const();
    let key = &field.key;
    let doc = format!("Session key of field `{}`: `\"{key}\"`.", field.name);
    quote! {
        #[doc = #doc]
        pub const #name: &'static str = #key;
    }
}

/// `Vec<u32>` as a reader writes it, for docs.
fn type_name(tokens: &impl ToTokens) -> String {
    let mut s = tokens.to_token_stream().to_string();
    for (from, to) in [
        (" <", "<"),
        ("< ", "<"),
        (" >", ">"),
        (" ::", "::"),
        (":: ", "::"),
        (" ,", ","),
        ("& ", "&"),
    ] {
        s = s.replace(from, to);
    }
    s
}

/// The getter's return type and body, and what an absent value reads as, for docs.
fn getter_parts(field: &Field<'_>, konst: &Ident) -> (TokenStream, TokenStream, String) {
    let ty = field.ty;
    match field.kind {
        Kind::Required => (
            quote!(::core::option::Option<#ty>),
            quote!(#konst.get(&self.session)),
            "`Ok(None)`".to_owned(),
        ),
        Kind::Optional => (
            quote!(#ty),
            quote!(#konst.get_optional(&self.session)),
            "`Ok(None)`".to_owned(),
        ),
        Kind::Default => {
            let (default, described) = match &field.attrs.default {
                Some(attr::Default::Function(path)) => {
                    (quote!(#path), format!("`{}()`", type_name(path)))
                }
                _ => (
                    quote!(<#ty as ::core::default::Default>::default),
                    "`Default::default()`".to_owned(),
                ),
            };
            (
                quote!(#ty),
                quote!(#konst.get_or_else(&self.session, #default)),
                described,
            )
        }
    }
}

fn field_methods(
    p: &TokenStream,
    field: &Field<'_>,
    konst: &Ident,
    stamp: &TokenStream,
    reset: bool,
) -> TokenStream {
    let getter = field.ident;
    let (setter, remover, updater) = (
        field.method("set"),
        field.method("remove"),
        field.method("update"),
    );
    let ty = field.ty;
    let (name, key) = (&field.name, &field.key);
    let (get_ty, get_body, absent) = getter_parts(field, konst);
    let optional = matches!(field.kind, Kind::Optional);
    let (set_fn, remove_fn, removed_ty, set_note) = if optional {
        (
            quote!(set_optional),
            quote!(remove_optional),
            quote!(#ty),
            " `None` removes the key.",
        )
    } else {
        (
            quote!(set),
            quote!(remove),
            quote!(::core::option::Option<#ty>),
            "",
        )
    };
    let stored = match field.kind {
        Kind::Optional => crate::ast::option_inner(ty).unwrap_or(ty),
        Kind::Default | Kind::Required => ty,
    };
    let read_errors = stale_doc(field, type_name(stored), reset);
    let write_errors = "`SessionError::Serialize` when the value cannot be serialized to JSON.";
    let get_doc = docs(
        &field.docs,
        &format!("Reads field `{name}` (session key `{key}`); {absent} when absent."),
        &read_errors,
        true,
    );
    let set_doc = docs(
        &field.docs,
        &format!("Stores field `{name}` under session key `{key}`.{set_note}"),
        write_errors,
        false,
    );
    let remove_doc = docs(
        &field.docs,
        &format!("Removes field `{name}` (session key `{key}`), returning the value it held."),
        &format!("{read_errors} The key is removed anyway."),
        false,
    );
    let update_doc = docs(
        &field.docs,
        &format!(
            "Replaces field `{name}` (session key `{key}`) with `f(current)`, where `current` is \
             what `{getter}()` reads, and returns the stored result."
        ),
        &format!("As `{getter}()` and `{setter}()`."),
        false,
    );
    quote! {
        #get_doc
        pub fn #getter(&self) -> ::core::result::Result<#get_ty, #p::SessionError> {
            #get_body
        }

        #set_doc
        pub fn #setter(
            &self,
            value: impl ::core::borrow::Borrow<#ty>,
        ) -> ::core::result::Result<(), #p::SessionError> {
            #stamp
            #konst.#set_fn(&self.session, ::core::borrow::Borrow::borrow(&value))
        }

        #remove_doc
        pub fn #remover(&self) -> ::core::result::Result<#removed_ty, #p::SessionError> {
            #stamp
            #konst.#remove_fn(&self.session)
        }

        #update_doc
        pub fn #updater(
            &self,
            f: impl ::core::ops::FnOnce(#get_ty) -> #ty,
        ) -> ::core::result::Result<#ty, #p::SessionError> {
            let new = f(#get_body?);
            #stamp
            #konst.#set_fn(&self.session, &new)?;
            ::core::result::Result::Ok(new)
        }
    }
}

/// `load`, `save` and `remove_all`.
fn whole_struct(p: &TokenStream, input: &Input<'_>, stamp: &TokenStream) -> TokenStream {
    let ident = input.ident;
    let fields: Vec<(&Field<'_>, Ident, Ident)> = input
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| (f, format_ident!("__field{i}"), field_const(i)))
        .collect();
    let reads = fields.iter().map(|(field, local, konst)| {
        let (_, body, _) = getter_parts(field, konst);
        quote!(let #local = #body?;)
    });
    let inits = fields.iter().map(|(field, local, _)| {
        let name = field.ident;
        quote!(#name: #local)
    });
    let build = quote!(#ident { #(#inits),* });
    let required: Vec<_> = fields
        .iter()
        .filter(|(f, _, _)| matches!(f.kind, Kind::Required))
        .collect();
    let load_body = if required.is_empty() {
        quote!(::core::result::Result::Ok(::core::option::Option::Some(#build)))
    } else {
        let locals: Vec<_> = required.iter().map(|(_, l, _)| l).collect();
        let somes = locals
            .iter()
            .map(|l| quote!(::core::option::Option::Some(#l)));
        let nones = locals.iter().map(|_| quote!(::core::option::Option::None));
        // With one required field there is no partly stored state to report.
        let torn = (required.len() > 1).then(|| {
            let checks = required.iter().map(|(f, l, _)| {
                let key = f.key_const();
                quote!((Self::#key, ::core::option::Option::is_some(&#l)))
            });
            // A reset stale value may have left the struct half stored: reset the rest too.
            quote! {
                (#(#locals,)*) if #p::found_stale(&self.session, Self::KEYS) => {
                    self.remove_all()?;
                    ::core::result::Result::Ok(::core::option::Option::None)
                }
                (#(#locals,)*) => ::core::result::Result::Err(#p::incomplete(&[#(#checks),*])),
            }
        });
        quote! {
            match (#(#locals,)*) {
                (#(#somes,)*) => ::core::result::Result::Ok(::core::option::Option::Some(#build)),
                (#(#nones,)*) => ::core::result::Result::Ok(::core::option::Option::None),
                #torn
            }
        }
    };
    let load_doc = if required.is_empty() {
        format!(
            "Reads the whole `{ident}`. Always `Some`: every field is an `Option` or has a \
             default.\n\n# Errors\n`SessionError::Deserialize` when a field with \
             `stale = \"error\"` holds a value of another type."
        )
    } else {
        let names: Vec<String> = required
            .iter()
            .map(|(f, _, _)| format!("`{}`", f.name))
            .collect();
        format!(
            "Reads the whole `{ident}`: `Ok(None)` when none of its required fields ({}) is \
             stored.\n\n# Errors\n`SessionError::Deserialize` when a field with \
             `stale = \"error\"` holds a value of another type; `SessionError::Incomplete` when some required fields are stored and others \
             are not (after a remover, say).",
            names.join(", ")
        )
    };
    let encodes = fields.iter().map(|(field, local, konst)| {
        let name = field.ident;
        match field.kind {
            Kind::Optional => quote!(let #local = #konst.encode_optional(&value.#name)?;),
            Kind::Default | Kind::Required => quote!(let #local = #konst.encode(&value.#name)?;),
        }
    });
    let puts = fields.iter().map(|(field, local, konst)| match field.kind {
        Kind::Optional => quote!(#konst.put_optional(&self.session, #local)?;),
        Kind::Default | Kind::Required => quote!(#konst.put(&self.session, #local);),
    });
    let save_doc = "Stores every field of `value`; an `Option` field holding `None` removes its \
         key. All values are serialized before any is stored, so an error changes nothing.\n\n\
         # Errors\n`SessionError::Serialize` when a value cannot be serialized to JSON.";
    let remove_all_doc = format!(
        "Removes every key of `{ident}` from the session (its stored version and removed keys \
         too), leaving other keys alone.\n\n\
         # Errors\n`SessionError::NotLoaded` only if the keys were never loaded, which an \
         extracted accessor rules out."
    );
    quote! {
        #[doc = #load_doc]
        pub fn load(
            &self,
        ) -> ::core::result::Result<::core::option::Option<#ident>, #p::SessionError> {
            #(#reads)*
            #load_body
        }

        #[doc = #save_doc]
        pub fn save(&self, value: &#ident) -> ::core::result::Result<(), #p::SessionError> {
            #(#encodes)*
            #stamp
            #(#puts)*
            ::core::result::Result::Ok(())
        }

        #[doc = #remove_all_doc]
        pub fn remove_all(&self) -> ::core::result::Result<(), #p::SessionError> {
            #p::remove_keys(&self.session, __SESSION_SCHEMA.all)
        }
    }
}

#[cfg(test)]
mod tests {
    use syn::{parse_quote, DeriveInput, ImplItem, Item};

    /// The doc text of `attrs`, one string per `#[doc]`.
    fn doc_lines(attrs: &[syn::Attribute]) -> Vec<String> {
        attrs
            .iter()
            .filter_map(|a| match &a.meta {
                syn::Meta::NameValue(nv) if nv.path.is_ident("doc") => match &nv.value {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) => Some(s.value()),
                    _ => None,
                },
                _ => None,
            })
            .collect()
    }

    /// Every item of the expansion, impls inside `const _` blocks included.
    fn items(input: &DeriveInput) -> Vec<Item> {
        let file: syn::File = syn::parse2(crate::derive(input).expect("expands")).expect("parses");
        file.items
            .into_iter()
            .flat_map(|item| match item {
                Item::Const(c) => match *c.expr {
                    syn::Expr::Block(b) => b
                        .block
                        .stmts
                        .into_iter()
                        .filter_map(|s| match s {
                            syn::Stmt::Item(item) => Some(item),
                            _ => None,
                        })
                        .collect(),
                    _ => vec![],
                },
                other => vec![other],
            })
            .collect()
    }

    fn method_docs(items: &[Item], name: &str) -> Vec<String> {
        items
            .iter()
            .filter_map(|item| match item {
                Item::Impl(i) if i.trait_.is_none() => Some(&i.items),
                _ => None,
            })
            .flatten()
            .find_map(|item| match item {
                ImplItem::Fn(f) if f.sig.ident == name => Some(doc_lines(&f.attrs)),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no method {name}"))
    }

    #[test]
    fn doc_comments_carry_over() {
        let input: DeriveInput = parse_quote! {
            /// The shopping cart.
            #[session(prefix = "cart")]
            struct Cart {
                /// Item ids, oldest first.
                items: Vec<u32>,
                #[session(default)]
                visits: u32,
            }
        };
        let items = items(&input);
        let accessor = items
            .iter()
            .find_map(|item| match item {
                Item::Struct(s) if s.ident == "CartSession" => Some(doc_lines(&s.attrs)),
                _ => None,
            })
            .expect("the accessor struct");
        assert_eq!(accessor[0], " The shopping cart.");
        let getter = method_docs(&items, "items");
        assert_eq!(
            getter[0], " Item ids, oldest first.",
            "the field's docs lead the getter"
        );
        for method in ["set_items", "remove_items", "update_items"] {
            let docs = method_docs(&items, method);
            assert!(
                docs.iter().any(|d| d == " Item ids, oldest first."),
                "{method}: {docs:?}"
            );
            assert!(
                docs.last().unwrap().starts_with("# Errors"),
                "{method}: {docs:?}"
            );
        }
        // An undocumented field still gets generated docs.
        assert!(method_docs(&items, "visits")[0].contains("`Default::default()` when absent"));
    }

    /// The items of a failed derive's output.
    fn failed(input: &DeriveInput) -> Vec<Item> {
        let tokens = crate::derive(input).expect_err("the input has a mistake");
        syn::parse2::<syn::File>(tokens).expect("parses").items
    }

    fn is_compile_error(mac: &syn::Macro) -> bool {
        mac.path
            .segments
            .last()
            .is_some_and(|s| s.ident == "compile_error")
    }

    #[test]
    fn failed_derive_still_names_the_accessor() {
        let input: DeriveInput = parse_quote! {
            pub(crate) enum Step { Cart, Payment }
        };
        let items = failed(&input);
        let [Item::Type(alias)] = &items[..] else {
            panic!("one alias holding the one error: {items:?}");
        };
        assert_eq!(alias.ident, "StepSession");
        let vis = &alias.vis;
        assert_eq!(quote::quote!(#vis).to_string(), "pub (crate)");
        let syn::Type::Array(array) = &*alias.ty else {
            panic!("an array type: {alias:?}");
        };
        assert!(matches!(&array.len, syn::Expr::Macro(m) if is_compile_error(&m.mac)));
    }

    #[test]
    fn failed_derive_reports_each_error_once() {
        let input: DeriveInput = parse_quote! {
            #[session(prefx = "cart")]
            struct Cart<T> { items: Vec<T> }
        };
        let items = failed(&input);
        assert!(matches!(&items[0], Item::Type(alias) if alias.ident == "CartSession"));
        let rest: Vec<_> = items[1..]
            .iter()
            .map(|item| matches!(item, Item::Macro(m) if is_compile_error(&m.mac)))
            .collect();
        assert_eq!(rest, [true], "the second error follows the alias");
    }
}
