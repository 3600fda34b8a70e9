//! The `language` header of record outputs: `main`, or one of the instance's input languages
//! (multilingual fields read in that language); anything else is `400 No such language is
//! available.`.
//!
//! AtroCore: `app/Atro/Services/AbstractService.php::getHeaderLanguage` (2.2.31, 2.3.13 and
//! 2.3.16-beta14 alike: `main`, plus `inputLanguageList` when multilang is active, matched
//! exactly) called from the record service's `prepareEntityForOutput` (atrocore-legacy; last
//! in-tree copy `app/Espo/Services/Record.php` before commit `b33a0dffc`): each `isMultilang`
//! field takes the value of its `<field><Lang>` variant, and the variants (`multilangLocale`)
//! are cleared from the output.

use axum::http::StatusCode;
use serde_json::{Map, Value};

use crate::state::Ctx;
use crate::util::ApiError;

/// The field suffix of a locale: `de_DE` → `DeDe` (AtroCore's
/// `ucfirst(Util::toCamelCase(strtolower($language)))`).
fn suffix(locale: &str) -> String {
    let mut out = String::new();
    let mut up = true;
    for c in locale.to_lowercase().chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Applies the request's `language` header to the output `out` of a record of `entity`.
pub(crate) fn apply(ctx: &Ctx, entity: &str, out: &mut Map<String, Value>) -> Result<(), ApiError> {
    let Some(language) = ctx.language.as_deref().filter(|l| !l.is_empty()) else {
        return Ok(());
    };
    if language != "main" && !ctx.app.model.input_languages.contains(language) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "No such language is available.",
        ));
    }
    let Some(fields) = ctx
        .app
        .model
        .metadata
        .pointer(&format!("/entityDefs/{entity}/fields"))
        .and_then(Value::as_object)
    else {
        return Ok(());
    };
    if language != "main" {
        let suffix = suffix(language);
        for (name, def) in fields {
            if def.get("isMultilang").and_then(Value::as_bool) == Some(true)
                && let Some(v) = out.get(&format!("{name}{suffix}")).cloned()
            {
                out.insert(name.clone(), v);
            }
        }
    }
    for (name, def) in fields {
        if def.get("multilangLocale").is_some_and(|l| !l.is_null()) {
            out.remove(name);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::suffix;

    #[test]
    fn locales_become_field_suffixes() {
        assert_eq!(suffix("de_DE"), "DeDe");
        assert_eq!(suffix("fr_FR"), "FrFr");
        assert_eq!(suffix("uk_UA"), "UkUa");
    }
}
