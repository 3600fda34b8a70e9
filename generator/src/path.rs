//! Path templates of routes (`/Action/{id}/custom{customAction}`): literal text and
//! `{parameter}` tokens, which may sit inside a segment. Parsed once, with located errors for
//! templates no client could fill (an unclosed `{`, an empty `{}`, a stray `}`).

use std::fmt;

/// One piece of a path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathPart {
    /// Text sent as is.
    Literal(String),
    /// A path parameter, by wire name.
    Param(String),
}

/// A parsed path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathTemplate {
    parts: Vec<PathPart>,
}

/// Why a template does not parse, with the byte offset of the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("path template {template:?}, at byte {at}: {message}")]
pub struct PathError {
    /// The template.
    pub template: String,
    /// Byte offset of the problem.
    pub at: usize,
    /// What is wrong.
    pub message: &'static str,
}

impl PathTemplate {
    /// Parses `template`.
    pub fn parse(template: &str) -> Result<PathTemplate, PathError> {
        let error = |at, message| PathError {
            template: template.to_owned(),
            at,
            message,
        };
        let mut parts = Vec::new();
        let mut literal_start = 0;
        let mut chars = template.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '{' => {
                    let close = template[i + 1..]
                        .find(['{', '}'])
                        .map(|j| i + 1 + j)
                        .filter(|j| template.as_bytes()[*j] == b'}')
                        .ok_or_else(|| error(i, "`{` without its `}`"))?;
                    let name = &template[i + 1..close];
                    if name.is_empty() {
                        return Err(error(i, "empty parameter name `{}`"));
                    }
                    if i > literal_start {
                        parts.push(PathPart::Literal(template[literal_start..i].to_owned()));
                    }
                    parts.push(PathPart::Param(name.to_owned()));
                    literal_start = close + 1;
                    // Skip the parameter's text.
                    for _ in template[i + 1..=close].chars() {
                        chars.next();
                    }
                }
                '}' => return Err(error(i, "`}` without its `{`")),
                _ => {}
            }
        }
        if literal_start < template.len() {
            parts.push(PathPart::Literal(template[literal_start..].to_owned()));
        }
        Ok(PathTemplate { parts })
    }

    /// The parts, in order.
    pub fn parts(&self) -> &[PathPart] {
        &self.parts
    }

    /// The parameters' wire names, in order.
    pub fn params(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            PathPart::Param(n) => Some(n.as_str()),
            PathPart::Literal(_) => None,
        })
    }

    /// The static words: the literal text split at `/`, empty pieces left out
    /// (`/{id}/attributeValues` → `attributeValues`).
    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.parts
            .iter()
            .filter_map(|p| match p {
                PathPart::Literal(l) => Some(l.split('/').filter(|w| !w.is_empty())),
                PathPart::Param(_) => None,
            })
            .flatten()
    }

    /// The template below `prefix` when it starts with it at a segment boundary
    /// (`/Product/{id}` below `/Product` → `/{id}`); `None` otherwise.
    pub fn below(template: &str, prefix: &str) -> Option<PathTemplate> {
        let rest = template.strip_prefix(prefix)?;
        if !(rest.is_empty() || rest.starts_with('/')) {
            return None;
        }
        PathTemplate::parse(rest).ok()
    }
}

impl fmt::Display for PathTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.parts {
            match p {
                PathPart::Literal(l) => f.write_str(l)?,
                PathPart::Param(n) => write!(f, "{{{n}}}")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parts(t: &str) -> Vec<PathPart> {
        PathTemplate::parse(t).unwrap().parts().to_vec()
    }

    #[test]
    fn parameters_anywhere_in_a_segment() {
        use PathPart::{Literal as L, Param as P};
        assert_eq!(
            parts("/Action/{id}/custom{customAction}"),
            [
                L("/Action/".into()),
                P("id".into()),
                L("/custom".into()),
                P("customAction".into())
            ]
        );
        assert_eq!(parts("{a}{b}"), [P("a".into()), P("b".into())]);
        assert_eq!(parts(""), []);
        let t = PathTemplate::parse("/{scope}/layout/{viewType}").unwrap();
        assert_eq!(t.params().collect::<Vec<_>>(), ["scope", "viewType"]);
        assert_eq!(t.words().collect::<Vec<_>>(), ["layout"]);
    }

    #[test]
    fn malformed_templates_are_located() {
        let e = PathTemplate::parse("/Product/{id").unwrap_err();
        assert_eq!((e.at, e.message), (9, "`{` without its `}`"));
        let e = PathTemplate::parse("/a/{x{y}}").unwrap_err();
        assert_eq!(e.at, 3);
        let e = PathTemplate::parse("/a/{}").unwrap_err();
        assert_eq!(e.message, "empty parameter name `{}`");
        let e = PathTemplate::parse("/a}").unwrap_err();
        assert_eq!((e.at, e.message), (2, "`}` without its `{`"));
        assert!(e.to_string().contains("\"/a}\""));
    }

    #[test]
    fn below_a_prefix_at_a_segment_boundary() {
        let t = PathTemplate::below("/Product/{id}", "/Product").unwrap();
        assert_eq!(t.to_string(), "/{id}");
        assert!(PathTemplate::below("/ProductSerie/{id}", "/Product").is_none());
        assert_eq!(
            PathTemplate::below("/Product", "/Product")
                .unwrap()
                .to_string(),
            ""
        );
    }

    const BRACES: [char; 2] = ['{', '}'];

    proptest! {
        /// Whatever parses prints back to the same text, with non-empty literals between
        /// parameters; text without braces is one literal.
        #[test]
        fn parse_print_round_trip(t in "[a-zA-Z/{}é_]{0,24}") {
            if let Ok(parsed) = PathTemplate::parse(&t) {
                prop_assert_eq!(parsed.to_string(), t.clone());
                for p in parsed.parts() {
                    match p {
                        PathPart::Literal(l) => prop_assert!(!l.is_empty() && !l.contains(BRACES)),
                        PathPart::Param(n) => prop_assert!(!n.is_empty() && !n.contains(BRACES)),
                    }
                }
            } else {
                prop_assert!(t.contains(BRACES));
            }
        }
    }
}
