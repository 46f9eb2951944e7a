//! The model of a `#[derive(SessionData)]` input: a struct with named fields and their keys.

use quote::format_ident;
use syn::{
    ext::IdentExt as _, Attribute, Data, DeriveInput, Fields, GenericArgument, Generics, Ident,
    PathArguments, Type, Visibility,
};

use crate::{attr, ctxt::Ctxt};

/// A struct the derive can expand.
pub(crate) struct Input<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) vis: &'a Visibility,
    pub(crate) generics: &'a Generics,
    /// The struct's `#[doc]` attributes, carried over to the accessor.
    pub(crate) docs: Vec<&'a Attribute>,
    pub(crate) attrs: attr::Container,
    pub(crate) fields: Vec<Field<'a>>,
}

/// The key under which a struct's version is stored, below its prefix.
pub(crate) const VERSION_KEY: &str = "__version";

/// One field: one session key.
pub(crate) struct Field<'a> {
    /// The field's name as written (possibly raw, like `r#type`).
    pub(crate) ident: &'a Ident,
    /// The name without `r#`, for keys and generated names.
    pub(crate) name: String,
    pub(crate) ty: &'a Type,
    pub(crate) docs: Vec<&'a Attribute>,
    pub(crate) attrs: attr::Field,
    /// The complete session key, prefix included.
    pub(crate) key: String,
    pub(crate) kind: Kind,
}

/// What reading an absent value gives, decided by the field's type and attributes.
pub(crate) enum Kind {
    /// `Option<T>`: absent reads as `None`; the key stores a `T`, and `None` removes it.
    Optional,
    /// `#[session(default)]`: absent reads as the default.
    Default,
    /// Anything else: absent reads as `None` from the getter, and makes `load()` return `None`.
    Required,
}

impl<'a> Input<'a> {
    /// Builds the model, recording shape and attribute errors; `None` when there is no struct
    /// with named fields to model.
    pub(crate) fn from_syn(cx: &Ctxt, input: &'a DeriveInput) -> Option<Self> {
        let attrs = attr::Container::from_attrs(cx, &input.attrs);
        let named = match &input.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(named) => Some(named),
                Fields::Unnamed(fields) => {
                    cx.error_spanned_by(
                        fields,
                        "`SessionData` needs named fields, not a tuple struct: each field's name \
                         is its session key; name them, e.g. `struct Cart { items: Vec<u32> }`",
                    );
                    None
                }
                Fields::Unit => {
                    cx.error_spanned_by(
                        &input.ident,
                        "`SessionData` needs named fields, not a unit struct: there is nothing \
                         to store; add fields, e.g. `struct Cart { items: Vec<u32> }`",
                    );
                    None
                }
            },
            Data::Enum(data) => {
                cx.error_spanned_by(
                    data.enum_token,
                    "`SessionData` cannot be derived for an enum: it maps struct fields to \
                     session keys; keep the enum in a field of a struct instead, e.g. \
                     `struct Flow { step: Step }` with `Step: Serialize + Deserialize`",
                );
                None
            }
            Data::Union(data) => {
                cx.error_spanned_by(
                    data.union_token,
                    "`SessionData` cannot be derived for a union: use a struct with named fields",
                );
                None
            }
        }?;
        let attrs_prefix = attrs.prefix.as_ref();
        let fields = named
            .named
            .iter()
            .filter_map(|field| {
                let ident = field.ident.as_ref()?;
                let attrs = attr::Field::from_attrs(cx, &field.attrs);
                let name = ident.unraw().to_string();
                let local = attrs
                    .key
                    .as_ref()
                    .map_or_else(|| name.clone(), syn::LitStr::value);
                let key = full_key(attrs_prefix, &local);
                let kind = match (&attrs.default, is_option(&field.ty)) {
                    (Some(_), _) => Kind::Default,
                    (None, true) => Kind::Optional,
                    (None, false) => Kind::Required,
                };
                Some(Field {
                    ident,
                    name,
                    ty: &field.ty,
                    docs: docs(&field.attrs),
                    attrs,
                    key,
                    kind,
                })
            })
            .collect();
        Some(Self {
            ident: &input.ident,
            vis: &input.vis,
            generics: &input.generics,
            docs: docs(&input.attrs),
            attrs,
            fields,
        })
    }

    /// The generated accessor's name: `Cart` → `CartSession`, or `#[session(name = ...)]`.
    pub(crate) fn accessor(&self) -> Ident {
        self.attrs
            .name
            .clone()
            .unwrap_or_else(|| accessor(self.ident))
    }

    /// `key` below the struct's prefix.
    pub(crate) fn full_key(&self, key: &str) -> String {
        full_key(self.attrs.prefix.as_ref(), key)
    }

    /// The key of the struct's version and its number, when it has one.
    pub(crate) fn version(&self) -> Option<(String, u32)> {
        let number = self.attrs.version.as_ref()?.base10_parse().ok()?;
        Some((self.full_key(VERSION_KEY), number))
    }

    /// The keys of `#[session(removed = [...])]`, below the prefix.
    pub(crate) fn removed(&self) -> Vec<(String, &syn::LitStr)> {
        self.attrs
            .removed
            .iter()
            .flatten()
            .map(|lit| (self.full_key(&lit.value()), lit))
            .collect()
    }
}

impl Field<'_> {
    /// `items` → `ITEMS_KEY`, the associated constant holding the key.
    pub(crate) fn key_const(&self) -> Ident {
        format_ident!("{}_KEY", self.name.to_uppercase())
    }

    /// `items` → `set_items`, `remove_items`, `update_items`.
    pub(crate) fn method(&self, verb: &str) -> Ident {
        format_ident!("{verb}_{}", self.name)
    }
}

fn full_key(prefix: Option<&syn::LitStr>, key: &str) -> String {
    match prefix {
        Some(prefix) => format!("{}.{key}", prefix.value()),
        None => key.to_owned(),
    }
}

/// The accessor's name for a struct named `ident`, also when the derive fails (the fallback).
pub(crate) fn accessor(ident: &Ident) -> Ident {
    format_ident!("{}Session", ident.unraw())
}

fn docs(attrs: &[Attribute]) -> Vec<&Attribute> {
    attrs.iter().filter(|a| a.path().is_ident("doc")).collect()
}

/// Whether `ty` is spelled `Option<T>` (also `std::option::Option<T>`, `core::…`). A type
/// alias of `Option` is not recognised: such a field counts as a required one.
pub(crate) fn is_option(ty: &Type) -> bool {
    option_inner(ty).is_some()
}

/// `T` of a field spelled `Option<T>`; see [`is_option`].
pub(crate) fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    if path.qself.is_some() {
        return None;
    }
    let segments: Vec<_> = path.path.segments.iter().collect();
    let names: Vec<String> = segments.iter().map(|s| s.ident.to_string()).collect();
    let is_option = matches!(
        names.iter().map(String::as_str).collect::<Vec<_>>()[..],
        ["Option"] | ["std" | "core", "option", "Option"]
    );
    let (last, init) = segments.split_last()?;
    if !is_option || init.iter().any(|s| !s.arguments.is_none()) {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.iter().collect::<Vec<_>>()[..] {
        [GenericArgument::Type(inner)] => Some(inner),
        _ => None,
    }
}
