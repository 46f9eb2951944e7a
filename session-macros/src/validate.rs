//! Checks on the model that the parser cannot make alone: generics, empty or clashing keys,
//! and generated names that would collide.

use std::collections::{HashMap, HashSet};

use quote::ToTokens;
use syn::GenericParam;

use crate::{
    ast::{Field, Input},
    ctxt::Ctxt,
};

/// Methods and constants the accessor has for the whole struct.
const STRUCT_ITEMS: &[&str] = &[
    "KEYS",
    "from_session",
    "session",
    "load",
    "save",
    "remove_all",
];

/// Constants the accessor of a struct with `version` has.
const VERSION_ITEMS: &[&str] = &["SCHEMA_VERSION", "SCHEMA_VERSION_KEY"];

/// Records every problem with `input` in `cx`.
pub(crate) fn check(cx: &Ctxt, input: &Input<'_>) {
    check_generics(cx, input);
    check_prefix(cx, input);
    check_reserved(cx, input);
    check_name(cx, input);
    check_version(cx, input);
    if input.fields.is_empty() {
        cx.error_spanned_by(
            input.ident,
            "`SessionData` needs at least one field: a struct without fields has nothing to \
             store; add fields, e.g. `struct Cart { items: Vec<u32> }`",
        );
    }
    for field in &input.fields {
        check_field(cx, field);
    }
    check_unique_keys(cx, input);
    check_removed(cx, input);
    check_unique_names(cx, input);
}

fn check_name(cx: &Ctxt, input: &Input<'_>) {
    if let Some(name) = &input.attrs.name {
        if name == input.ident {
            cx.error_spanned_by(
                name,
                format!(
                    "`name` is the struct's own name: the accessor needs another, e.g. \
                     `#[session(name = \"{}State\")]`",
                    input.ident
                ),
            );
        }
    }
}

fn check_version(cx: &Ctxt, input: &Input<'_>) {
    if let Some(lit) = &input.attrs.version {
        if input.attrs.prefix.is_none() {
            cx.error_spanned_by(
                lit,
                "`version` needs a `prefix`: the version is stored under `<prefix>.__version`, \
                 and two structs without one would share it; add `#[session(prefix = \"cart\")]`",
            );
        }
        if lit.base10_parse::<u32>().ok() == Some(0) {
            cx.error_spanned_by(
                lit,
                "`version` starts at 1: a struct without `version` counts as version 0; write \
                 `#[session(version = 1)]` or higher",
            );
        }
    }
    if let (Some(path), None) = (&input.attrs.migrate, &input.attrs.version) {
        cx.error_spanned_by(
            path,
            "`migrate` on the struct converts older versions, so it needs `version`: write \
             `#[session(version = 2, migrate = \"...\")]`, or put `migrate` on a field to \
             convert that field's stale values",
        );
    }
}

fn check_removed(cx: &Ctxt, input: &Input<'_>) {
    let mut seen = HashSet::new();
    let version = input.version().map(|(key, _)| key);
    for (key, lit) in input.removed() {
        if lit.value().is_empty() {
            cx.error_spanned_by(
                lit,
                "empty key in `removed`: list the keys the struct used to own, e.g. \
                 `#[session(removed = [\"old_key\"])]`",
            );
        } else if input.fields.iter().any(|f| f.key == key) {
            cx.error_spanned_by(
                lit,
                format!(
                    "`removed` lists `{key}`, which a field of this struct still uses: remove it \
                     from the list, or rename the field's key"
                ),
            );
        } else if version.as_deref() == Some(&*key) {
            cx.error_spanned_by(
                lit,
                format!("`removed` lists `{key}`, where the struct's version is kept: remove it from the list"),
            );
        } else if key.starts_with(RESERVED) && !reserved_prefix(input) {
            cx.error_spanned_by(
                lit,
                format!(
                    "`removed` lists `{key}`: keys starting with `{RESERVED}` are reserved for \
                     the library, which removes them itself; remove it from the list"
                ),
            );
        } else if !seen.insert(key.clone()) {
            cx.error_spanned_by(lit, format!("`removed` lists `{key}` twice: remove one"));
        }
    }
}

fn check_generics(cx: &Ctxt, input: &Input<'_>) {
    for param in &input.generics.params {
        let msg = match param {
            GenericParam::Lifetime(_) => {
                "`SessionData` does not support lifetime parameters: session values are read \
                 back as owned data; use owned field types such as `String` instead of `&str`"
            }
            GenericParam::Type(_) => {
                "`SessionData` does not support type parameters: the typed session fixes each \
                 key's value type; use concrete field types (a type alias works)"
            }
            GenericParam::Const(_) => {
                "`SessionData` does not support const parameters: use concrete field types"
            }
        };
        cx.error_spanned_by(param, msg);
    }
    if let Some(clause) = &input.generics.where_clause {
        cx.error_spanned_by(
            clause,
            "`SessionData` does not support `where` clauses: use concrete field types and \
             remove the clause",
        );
    }
}

fn check_prefix(cx: &Ctxt, input: &Input<'_>) {
    let Some(lit) = &input.attrs.prefix else {
        return;
    };
    let prefix = lit.value();
    if prefix.is_empty() {
        cx.error_spanned_by(
            lit,
            "empty `prefix`: give a namespace such as `#[session(prefix = \"cart\")]`, or \
             remove the attribute",
        );
    } else if prefix.ends_with('.') {
        cx.error_spanned_by(
            lit,
            format!(
                "`prefix` must not end with `.`: the `.` before each field's key is added for \
                 you; write `#[session(prefix = \"{}\")]`",
                prefix.trim_end_matches('.')
            ),
        );
    }
}

/// Keys starting with it are the library's own (the signed-in user, CSRF, flash messages).
const RESERVED: &str = "__session";

/// The struct's prefix puts every key of it among the library's (one error says so).
fn reserved_prefix(input: &Input<'_>) -> bool {
    input
        .attrs
        .prefix
        .as_ref()
        .is_some_and(|p| p.value().starts_with(RESERVED))
}

fn check_reserved(cx: &Ctxt, input: &Input<'_>) {
    if let Some(lit) = input
        .attrs
        .prefix
        .as_ref()
        .filter(|_| reserved_prefix(input))
    {
        cx.error_spanned_by(
            lit,
            format!(
                "`prefix` starts with `{RESERVED}`: keys starting with `{RESERVED}` are reserved \
                 for the library (the signed-in user, CSRF, flash messages); choose another, \
                 e.g. `#[session(prefix = \"cart\")]`"
            ),
        );
        return;
    }
    for field in input.fields.iter().filter(|f| f.key.starts_with(RESERVED)) {
        cx.error_spanned_by(
            key_tokens(field),
            format!(
                "field `{}` maps to session key `{}`: keys starting with `{RESERVED}` are \
                 reserved for the library (the signed-in user, CSRF, flash messages); give it \
                 another with `#[session(key = \"...\")]`",
                field.name, field.key
            ),
        );
    }
}

/// Where an error about a field's key points: its `key` attribute, else the field's name.
fn key_tokens(field: &Field<'_>) -> proc_macro2::TokenStream {
    field
        .attrs
        .key
        .as_ref()
        .map_or_else(|| field.ident.to_token_stream(), ToTokens::to_token_stream)
}

fn check_field(cx: &Ctxt, field: &Field<'_>) {
    if let Some(lit) = &field.attrs.key {
        if lit.value().is_empty() {
            cx.error_spanned_by(
                lit,
                "empty `key`: give the session key a name, e.g. `#[session(key = \"uid\")]`, or \
                 remove the attribute to use the field's name",
            );
        }
    }
    if let (Some(stale), Some(_)) = (&field.attrs.stale, &field.attrs.migrate) {
        cx.error_spanned_by(
            &stale.lit,
            "`stale` and `migrate` on one field: a field with `migrate` converts its stale \
             values (and resets them when the conversion fails); keep one of the two",
        );
    }
    if let (Some(default), true) = (&field.attrs.default, crate::ast::is_option(field.ty)) {
        cx.error_spanned_by(
            default.span_tokens(),
            "`default` on an `Option` field: an absent `Option` already reads as `None`; remove \
             `#[session(default)]`, or use the inner type to read a default instead",
        );
    }
}

fn check_unique_keys(cx: &Ctxt, input: &Input<'_>) {
    let mut seen: HashMap<&str, &Field<'_>> = HashMap::new();
    let version = input.version().map(|(key, _)| key);
    for field in &input.fields {
        if version.as_deref() == Some(&*field.key) {
            cx.error_spanned_by(
                key_tokens(field),
                format!(
                    "field `{}` maps to session key `{}`, where the struct's version is kept: \
                     give it another key with `#[session(key = \"...\")]`",
                    field.name, field.key
                ),
            );
        }
        match seen.get(field.key.as_str()) {
            Some(first) => {
                let at = key_tokens(field);
                cx.error_spanned_by(
                    at,
                    format!(
                        "fields `{}` and `{}` both map to session key `{}`: each field needs its \
                         own key; give one of them another with `#[session(key = \"...\")]`",
                        first.name, field.name, field.key
                    ),
                );
            }
            None => {
                seen.insert(&field.key, field);
            }
        }
    }
}

/// What a generated name is, for messages about collisions.
fn role(verb: &str) -> &'static str {
    match verb {
        "" => "getter",
        "set" => "setter",
        "remove" => "remover",
        "update" => "updater",
        _ => "key constant",
    }
}

fn check_unique_names(cx: &Ctxt, input: &Input<'_>) {
    let accessor = input.accessor();
    let versioned: &[&str] = if input.attrs.version.is_some() {
        VERSION_ITEMS
    } else {
        &[]
    };
    let mut taken: HashMap<String, String> = STRUCT_ITEMS
        .iter()
        .chain(versioned)
        .map(|name| ((*name).to_owned(), format!("the whole-struct `{name}`")))
        .collect();
    for field in &input.fields {
        let generated = [
            ("", field.name.clone()),
            ("set", field.method("set").to_string()),
            ("remove", field.method("remove").to_string()),
            ("update", field.method("update").to_string()),
            ("const", field.key_const().to_string()),
        ];
        for (verb, name) in generated {
            let this = format!("the {} of field `{}`", role(verb), field.name);
            if let Some(owner) = taken.get(&name) {
                cx.error_spanned_by(
                    field.ident,
                    format!(
                        "field `{}` would generate `{accessor}::{name}`, which clashes with \
                         {owner}; rename the field, keeping its session key with \
                         `#[session(key = \"{}\")]`",
                        field.name,
                        field
                            .attrs
                            .key
                            .as_ref()
                            .map_or_else(|| field.name.clone(), syn::LitStr::value),
                    ),
                );
                break;
            }
            taken.insert(name, this);
        }
    }
}
