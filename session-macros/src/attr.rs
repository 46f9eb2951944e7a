//! Parsing of `#[session(...)]` attributes, recording every mistake in the [`Ctxt`].

use quote::ToTokens;
use syn::{
    meta::ParseNestedMeta, parenthesized, Attribute, Expr, ExprLit, ExprPath, Ident, Lit, LitInt,
    LitStr, Meta, Path, Token,
};

use crate::ctxt::Ctxt;

/// Attributes on the struct: `#[session(prefix = "cart", crate = "path")]`.
#[derive(Default)]
pub(crate) struct Container {
    /// Namespace for every key: `prefix = "cart"` makes field `items` key `cart.items`.
    pub(crate) prefix: Option<LitStr>,
    /// Path of the `session` crate, for crates that rename it.
    pub(crate) krate: Option<Path>,
    /// The generated accessor's name, instead of `<Struct>Session`.
    pub(crate) name: Option<Ident>,
    /// The struct's version, stored beside its keys.
    pub(crate) version: Option<LitInt>,
    /// The function converting an older version's stored values.
    pub(crate) migrate: Option<ExprPath>,
    /// The fields' stale-value policy, unless a field sets its own.
    pub(crate) stale: Option<Stale>,
    /// Keys (under the prefix) the struct used to own.
    pub(crate) removed: Option<Vec<LitStr>>,
}

/// Attributes on a field: `#[session(key = "uid")]`, `#[session(default)]`.
#[derive(Default)]
pub(crate) struct Field {
    /// The key, replacing the field's name (the struct's prefix still applies).
    pub(crate) key: Option<LitStr>,
    /// What an absent value reads as.
    pub(crate) default: Option<Default>,
    /// What a stored value that does not decode becomes.
    pub(crate) stale: Option<Stale>,
    /// The function converting a stored value that does not decode.
    pub(crate) migrate: Option<ExprPath>,
}

/// `#[session(stale = "reset")]` or `#[session(stale = "error")]`, with the literal for spans.
pub(crate) struct Stale {
    pub(crate) reset: bool,
    pub(crate) lit: LitStr,
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
const NAME_USAGE: &str = "`#[session(name = \"CartState\")]`";
const VERSION_USAGE: &str = "`#[session(version = 2)]`";
const MIGRATE_USAGE: &str = "`#[session(migrate = \"path::to::function\")]`";
const STALE_USAGE: &str = "`#[session(stale = \"reset\")]` or `#[session(stale = \"error\")]`";
const REMOVED_USAGE: &str = "`#[session(removed = [\"old_key\"])]`";

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
            } else if meta.path.is_ident("name") {
                if let Some(lit) = string_value(cx, meta, "name", NAME_USAGE)? {
                    match lit.parse::<Ident>() {
                        Ok(ident) => set_once(cx, &mut out.name, ident, &meta.path, "name"),
                        Err(_) => cx.error_spanned_by(
                            &lit,
                            format!("`name` takes the name of a type in a string: {NAME_USAGE}"),
                        ),
                    }
                }
            } else if meta.path.is_ident("version") {
                if let Some(lit) = int_value(cx, meta)? {
                    set_once(cx, &mut out.version, lit, &meta.path, "version");
                }
            } else if meta.path.is_ident("migrate") {
                if let Some(path) = path_value(cx, meta, "migrate", MIGRATE_USAGE)? {
                    set_once(cx, &mut out.migrate, path, &meta.path, "migrate");
                }
            } else if meta.path.is_ident("stale") {
                if let Some(stale) = stale_value(cx, meta)? {
                    set_once(cx, &mut out.stale, stale, &meta.path, "stale");
                }
            } else if meta.path.is_ident("removed") {
                if let Some(keys) = removed_value(cx, meta)? {
                    set_once(cx, &mut out.removed, keys, &meta.path, "removed");
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
            } else if meta.path.is_ident("stale") {
                if let Some(stale) = stale_value(cx, meta)? {
                    set_once(cx, &mut out.stale, stale, &meta.path, "stale");
                }
            } else if meta.path.is_ident("migrate") {
                if let Some(path) = path_value(cx, meta, "migrate", MIGRATE_USAGE)? {
                    set_once(cx, &mut out.migrate, path, &meta.path, "migrate");
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
    Ok(path_value(cx, meta, "default", DEFAULT_USAGE)?.map(Default::Function))
}

/// The function path of `name = "path::to::f"`, or `None` (error recorded).
fn path_value(
    cx: &Ctxt,
    meta: &ParseNestedMeta<'_>,
    name: &str,
    usage: &str,
) -> syn::Result<Option<ExprPath>> {
    let Some(lit) = string_value(cx, meta, name, usage)? else {
        return Ok(None);
    };
    match lit.parse::<ExprPath>() {
        Ok(path) => Ok(Some(path)),
        Err(_) => {
            cx.error_spanned_by(
                &lit,
                format!("`{name}` takes the path of a function in a string: {usage}"),
            );
            Ok(None)
        }
    }
}

/// The integer of `version = 2`, or `None` (error recorded).
fn int_value(cx: &Ctxt, meta: &ParseNestedMeta<'_>) -> syn::Result<Option<LitInt>> {
    if !meta.input.peek(Token![=]) {
        skip_value(meta)?;
        cx.error_spanned_by(
            &meta.path,
            format!("`version` needs a number: {VERSION_USAGE}"),
        );
        return Ok(None);
    }
    match meta.value()?.parse::<Expr>()? {
        Expr::Lit(ExprLit {
            lit: Lit::Int(lit), ..
        }) if lit.base10_parse::<u32>().is_ok() => Ok(Some(lit)),
        other => {
            cx.error_spanned_by(
                other,
                format!(
                    "`version` takes a whole number from 1 to {}, unquoted: {VERSION_USAGE}",
                    u32::MAX
                ),
            );
            Ok(None)
        }
    }
}

fn stale_value(cx: &Ctxt, meta: &ParseNestedMeta<'_>) -> syn::Result<Option<Stale>> {
    let Some(lit) = string_value(cx, meta, "stale", STALE_USAGE)? else {
        return Ok(None);
    };
    match lit.value().as_str() {
        "reset" => Ok(Some(Stale { reset: true, lit })),
        "error" => Ok(Some(Stale { reset: false, lit })),
        other => {
            cx.error_spanned_by(
                &lit,
                format!(
                    "unknown `stale` policy `{other}`: write {STALE_USAGE} (reset is the \
                     default), or convert stale values with {MIGRATE_USAGE} on the field"
                ),
            );
            Ok(None)
        }
    }
}

/// The keys of `removed = ["a", "b"]`, or `None` (error recorded).
fn removed_value(cx: &Ctxt, meta: &ParseNestedMeta<'_>) -> syn::Result<Option<Vec<LitStr>>> {
    if !meta.input.peek(Token![=]) {
        skip_value(meta)?;
        cx.error_spanned_by(
            &meta.path,
            format!("`removed` needs a list of keys: {REMOVED_USAGE}"),
        );
        return Ok(None);
    }
    let expr = meta.value()?.parse::<Expr>()?;
    let keys = match &expr {
        Expr::Array(array) => array
            .elems
            .iter()
            .map(|elem| match elem {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(lit), ..
                }) => Some(lit.clone()),
                _ => None,
            })
            .collect::<Option<Vec<_>>>(),
        _ => None,
    };
    if keys.is_none() {
        cx.error_spanned_by(
            &expr,
            format!("`removed` takes string literals in brackets: {REMOVED_USAGE}"),
        );
    }
    Ok(keys)
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
            "unknown attribute `{name}` on the struct: expected `prefix`, `name`, `version`, \
             `migrate`, `stale`, `removed` or `crate`, e.g. {PREFIX_USAGE}"
        ),
    }
}

fn unknown_on_field(path: &Path) -> String {
    let name = path_name(path);
    match name.as_str() {
        "prefix" | "crate" | "name" | "version" | "removed" => format!(
            "`{name}` goes on the struct, not on a field: put `#[session({name} = {})]` above \
             `struct`",
            match name.as_str() {
                "version" => "2",
                "removed" => "[\"...\"]",
                _ => "\"...\"",
            }
        ),
        "rename" => format!("unknown attribute `rename`: the session key is set with {KEY_USAGE}"),
        _ => format!(
            "unknown attribute `{name}` on a field: expected `key`, `default`, `stale` or \
             `migrate`, e.g. {KEY_USAGE}"
        ),
    }
}
