//! Parsing of `#[session(...)]` attributes, recording every mistake in the [`Ctxt`].

use quote::ToTokens;
use syn::{
    meta::ParseNestedMeta, parenthesized, Attribute, Expr, ExprLit, ExprPath, Lit, LitStr, Meta,
    Path, Token,
};

use crate::ctxt::Ctxt;

/// Attributes on the struct: `#[session(prefix = "cart", crate = "path")]`.
#[derive(Default)]
pub(crate) struct Container {
    /// Namespace for every key: `prefix = "cart"` makes field `items` key `cart.items`.
    pub(crate) prefix: Option<LitStr>,
    /// Path of the `session` crate, for crates that rename it.
    pub(crate) krate: Option<Path>,
}

/// Attributes on a field: `#[session(key = "uid")]`, `#[session(default)]`.
#[derive(Default)]
pub(crate) struct Field {
    /// The key, replacing the field's name (the struct's prefix still applies).
    pub(crate) key: Option<LitStr>,
    /// What an absent value reads as.
    pub(crate) default: Option<Default>,
}

/// `#[session(default)]` or `#[session(default = "path::to::fn")]`.
pub(crate) enum Default {
    /// `Default::default()`; holds the attribute's name for spans.
    Trait(Path),
    /// A function returning the field's type.
    Function(ExprPath),
}

impl Default {
    /// The tokens to point at in errors about this attribute.
    pub(crate) fn span_tokens(&self) -> proc_macro2::TokenStream {
        match self {
            Self::Trait(path) => path.to_token_stream(),
            Self::Function(path) => path.to_token_stream(),
        }
    }
}

const KEY_USAGE: &str = "`#[session(key = \"name\")]`";
const PREFIX_USAGE: &str = "`#[session(prefix = \"cart\")]`";
const CRATE_USAGE: &str = "`#[session(crate = \"path::to::session\")]`";
const DEFAULT_USAGE: &str =
    "`#[session(default)]` or `#[session(default = \"path::to::function\")]`";

impl Container {
    pub(crate) fn from_attrs(cx: &Ctxt, attrs: &[Attribute]) -> Self {
        let mut out = Self::default();
        for_each_meta(cx, attrs, |meta| {
            if meta.path.is_ident("prefix") {
                if let Some(lit) = string_value(cx, meta, "prefix", PREFIX_USAGE)? {
                    set_once(cx, &mut out.prefix, lit, &meta.path, "prefix");
                }
            } else if meta.path.is_ident("crate") {
                if let Some(lit) = string_value(cx, meta, "crate", CRATE_USAGE)? {
                    match lit.parse::<Path>() {
                        Ok(path) => set_once(cx, &mut out.krate, path, &meta.path, "crate"),
                        Err(_) => cx.error_spanned_by(
                            &lit,
                            format!("`crate` takes a path in a string: {CRATE_USAGE}"),
                        ),
                    }
                }
            } else {
                skip_value(meta)?;
                cx.error_spanned_by(&meta.path, unknown_on_container(&meta.path));
            }
            Ok(())
        });
        out
    }
}

impl Field {
    pub(crate) fn from_attrs(cx: &Ctxt, attrs: &[Attribute]) -> Self {
        let mut out = Self::default();
        for_each_meta(cx, attrs, |meta| {
            if meta.path.is_ident("key") {
                if let Some(lit) = string_value(cx, meta, "key", KEY_USAGE)? {
                    set_once(cx, &mut out.key, lit, &meta.path, "key");
                }
            } else if meta.path.is_ident("default") {
                if let Some(default) = default_value(cx, meta)? {
                    set_once(cx, &mut out.default, default, &meta.path, "default");
                }
            } else {
                skip_value(meta)?;
                cx.error_spanned_by(&meta.path, unknown_on_field(&meta.path));
            }
            Ok(())
        });
        out
    }
}

/// Runs `f` on every item of every `#[session(...)]` attribute; syntax errors are recorded and
/// end only the attribute they are in.
fn for_each_meta(
    cx: &Ctxt,
    attrs: &[Attribute],
    mut f: impl FnMut(&ParseNestedMeta<'_>) -> syn::Result<()>,
) {
    for attr in attrs.iter().filter(|a| a.path().is_ident("session")) {
        match &attr.meta {
            Meta::List(list) => {
                if let Err(err) = list.parse_nested_meta(|meta| f(&meta)) {
                    cx.push(err);
                }
            }
            other => cx.error_spanned_by(
                other,
                "expected a list of settings: `#[session(key = \"name\")]`, \
                 `#[session(default)]` or `#[session(prefix = \"cart\")]`",
            ),
        }
    }
}

fn set_once<T>(cx: &Ctxt, slot: &mut Option<T>, value: T, name: &Path, what: &str) {
    if slot.is_some() {
        cx.error_spanned_by(
            name,
            format!("duplicate `#[session({what})]`: it may appear once here; remove this one"),
        );
    } else {
        *slot = Some(value);
    }
}

/// The string of `name = "..."`, or `None` (error recorded) for any other form.
fn string_value(
    cx: &Ctxt,
    meta: &ParseNestedMeta<'_>,
    name: &str,
    usage: &str,
) -> syn::Result<Option<LitStr>> {
    if !meta.input.peek(Token![=]) {
        skip_value(meta)?;
        cx.error_spanned_by(
            &meta.path,
            format!("`{name}` needs a string value: {usage}"),
        );
        return Ok(None);
    }
    match meta.value()?.parse::<Expr>()? {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Ok(Some(lit)),
        other => {
            cx.error_spanned_by(other, format!("`{name}` takes a string literal: {usage}"));
            Ok(None)
        }
    }
}

fn default_value(cx: &Ctxt, meta: &ParseNestedMeta<'_>) -> syn::Result<Option<Default>> {
    if meta.input.is_empty() || meta.input.peek(Token![,]) {
        return Ok(Some(Default::Trait(meta.path.clone())));
    }
    if !meta.input.peek(Token![=]) {
        skip_value(meta)?;
        cx.error_spanned_by(
            &meta.path,
            format!("unexpected arguments: write {DEFAULT_USAGE}"),
        );
        return Ok(None);
    }
    let Some(lit) = string_value(cx, meta, "default", DEFAULT_USAGE)? else {
        return Ok(None);
    };
    match lit.parse::<ExprPath>() {
        Ok(path) => Ok(Some(Default::Function(path))),
        Err(_) => {
            cx.error_spanned_by(
                &lit,
                format!("`default` takes the path of a function in a string: {DEFAULT_USAGE}"),
            );
            Ok(None)
        }
    }
}

/// Consumes `= value` or `(...)` after an item we reject, so parsing goes on to the next one.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        let _content;
        parenthesized!(_content in meta.input);
    }
    Ok(())
}

fn path_name(path: &Path) -> String {
    path.to_token_stream().to_string().replace(' ', "")
}

fn unknown_on_container(path: &Path) -> String {
    let name = path_name(path);
    match name.as_str() {
        "key" | "default" => format!(
            "`{name}` goes on a field, not on the struct: put `#[session({name} ...)]` above the field"
        ),
        "rename_all" | "rename" => format!(
            "unknown attribute `{name}`: keys are the field names; use {PREFIX_USAGE} on the \
             struct or {KEY_USAGE} on a field"
        ),
        _ => format!(
            "unknown attribute `{name}` on the struct: expected {PREFIX_USAGE} or {CRATE_USAGE}"
        ),
    }
}

fn unknown_on_field(path: &Path) -> String {
    let name = path_name(path);
    match name.as_str() {
        "prefix" | "crate" => format!(
            "`{name}` goes on the struct, not on a field: put `#[session({name} = \"...\")]` \
             above `struct`"
        ),
        "rename" => format!("unknown attribute `rename`: the session key is set with {KEY_USAGE}"),
        _ => format!(
            "unknown attribute `{name}` on a field: expected {KEY_USAGE} or {DEFAULT_USAGE}"
        ),
    }
}
