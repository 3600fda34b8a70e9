//! Tokens of the filter language, each with its byte span in the input.

use super::error::{LangError, Span};

const KEYWORDS: &[&str] = &[
    "and", "or", "not", "is", "null", "true", "false", "empty", "linked", "like", "contains",
    "starts", "ends", "with", "in", "between", "on", "before", "after", "older", "than", "last",
    "next", "current", "days", "today", "past", "future", "ever",
];

/// Whether `name` is a keyword of the language (and must be written in backticks as a field).
pub fn is_keyword(name: &str) -> bool {
    KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(name))
}

/// One token.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A name: `[A-Za-z_][A-Za-z0-9_]*`, or any text between backticks. Keywords are names too;
    /// the parser decides by position (`quoted` names are never keywords).
    Name { text: String, quoted: bool },
    /// `attr:NAME` or `attr:NAME@LANG` (the attribute id or code, and its language).
    Attr {
        id: String,
        language: Option<String>,
    },
    /// A number: `-?digits(.digits)?`.
    Num(String),
    /// A string in double or single quotes, escapes resolved.
    Str(String),
    /// A bare value that is neither a name nor a number (`a01-x`, `2024-05-01`).
    Word(String),
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `,`
    Comma,
    /// A comparison: `=`, `!=` (or `<>`), `<`, `<=`, `>`, `>=`.
    Cmp(&'static str),
    /// The end of the input.
    End,
}

impl Tok {
    /// How the token reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            Tok::Name { text, .. } => format!("`{text}`"),
            Tok::Attr { id, .. } => format!("`attr:{id}`"),
            Tok::Num(n) => format!("the number {n}"),
            Tok::Str(s) => format!("the string {s:?}"),
            Tok::Word(w) => format!("`{w}`"),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Cmp(op) => format!("`{op}`"),
            Tok::End => "the end of the expression".into(),
        }
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '@' | '+' | '/')
}

/// Whether `text` is a number token.
pub fn is_number(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether `text` is a plain name token.
pub fn is_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Splits `input` into tokens; the last one is [`Tok::End`].
pub fn lex(input: &str) -> Result<Vec<(Tok, Span)>, LangError> {
    let mut out = Vec::new();
    let mut it = input.char_indices().peekable();
    while let Some(&(start, c)) = it.peek() {
        if c.is_whitespace() {
            it.next();
            continue;
        }
        let single = |tok: Tok| (tok, Span::new(start, start + c.len_utf8()));
        match c {
            '(' => {
                it.next();
                out.push(single(Tok::LParen));
            }
            ')' => {
                it.next();
                out.push(single(Tok::RParen));
            }
            ',' => {
                it.next();
                out.push(single(Tok::Comma));
            }
            '=' => {
                it.next();
                if it.peek().is_some_and(|&(_, c)| c == '=') {
                    it.next();
                    out.push((Tok::Cmp("="), Span::new(start, start + 2)));
                } else {
                    out.push(single(Tok::Cmp("=")));
                }
            }
            '!' => {
                it.next();
                if it.peek().is_some_and(|&(_, c)| c == '=') {
                    it.next();
                    out.push((Tok::Cmp("!="), Span::new(start, start + 2)));
                } else {
                    return Err(LangError::new(
                        Span::new(start, start + 1),
                        "`!` alone means nothing: write `!=`, or `not` to negate",
                    ));
                }
            }
            '<' | '>' => {
                it.next();
                let next = it.peek().map(|&(_, c)| c);
                let (op, len) = match (c, next) {
                    ('<', Some('=')) => ("<=", 2),
                    ('<', Some('>')) => ("!=", 2),
                    ('>', Some('=')) => (">=", 2),
                    ('<', _) => ("<", 1),
                    _ => (">", 1),
                };
                if len == 2 {
                    it.next();
                }
                out.push((Tok::Cmp(op), Span::new(start, start + len)));
            }
            '"' | '\'' => {
                it.next();
                let quote = c;
                let mut s = String::new();
                let mut end = None;
                while let Some((i, ch)) = it.next() {
                    if ch == quote {
                        end = Some(i + 1);
                        break;
                    }
                    if ch == '\\' {
                        match it.next() {
                            Some((_, 'n')) => s.push('\n'),
                            Some((_, 't')) => s.push('\t'),
                            Some((_, e @ ('\\' | '"' | '\''))) => s.push(e),
                            Some((j, other)) => {
                                return Err(LangError::new(
                                    Span::new(i, j + other.len_utf8()),
                                    format!(
                                        "unknown escape `\\{other}`: use \\\\, \\\", \\', \\n or \\t"
                                    ),
                                ));
                            }
                            None => break,
                        }
                    } else {
                        s.push(ch);
                    }
                }
                let Some(end) = end else {
                    return Err(LangError::new(
                        Span::new(start, input.len()),
                        format!("this string has no closing {quote}"),
                    ));
                };
                out.push((Tok::Str(s), Span::new(start, end)));
            }
            '`' => {
                it.next();
                let mut name = String::new();
                let mut end = None;
                for (i, ch) in it.by_ref() {
                    if ch == '`' {
                        end = Some(i + 1);
                        break;
                    }
                    name.push(ch);
                }
                let Some(end) = end else {
                    return Err(LangError::new(
                        Span::new(start, input.len()),
                        "this name has no closing backtick",
                    ));
                };
                if name.is_empty() {
                    return Err(LangError::new(Span::new(start, end), "empty name"));
                }
                out.push((
                    Tok::Name {
                        text: name,
                        quoted: true,
                    },
                    Span::new(start, end),
                ));
            }
            c if is_word_char(c) => {
                let mut end = start;
                while let Some(&(i, ch)) = it.peek() {
                    if !is_word_char(ch) {
                        break;
                    }
                    end = i + ch.len_utf8();
                    it.next();
                }
                let text = &input[start..end];
                let span = Span::new(start, end);
                let tok = if let Some(rest) = text.strip_prefix("attr:") {
                    attr_token(rest, span, &mut it, input)?
                } else if is_number(text) {
                    Tok::Num(text.to_owned())
                } else if is_name(text) {
                    Tok::Name {
                        text: text.to_owned(),
                        quoted: false,
                    }
                } else {
                    Tok::Word(text.to_owned())
                };
                let span = match &tok {
                    Tok::Attr { .. } => {
                        Span::new(start, it.peek().map_or(input.len(), |&(i, _)| i))
                    }
                    _ => span,
                };
                out.push((tok, span));
            }
            other => {
                // The usual slips of people who write other languages' filters.
                let doubled = input[start + other.len_utf8()..].starts_with(other);
                let (width, hint) = match other {
                    '&' => (
                        if doubled { 2 } else { 1 },
                        ": write `and` (a and b)".to_owned(),
                    ),
                    '|' => (
                        if doubled { 2 } else { 1 },
                        ": write `or` (a or b)".to_owned(),
                    ),
                    '%' => {
                        // An unquoted LIKE pattern: suggest the whole pattern in quotes.
                        let end = input[start..]
                            .find(|c: char| c.is_whitespace() || c == ')')
                            .map_or(input.len(), |n| start + n);
                        (
                            1,
                            format!(
                                ": a pattern with % goes in quotes, e.g. like \"{}\"",
                                &input[start..end]
                            ),
                        )
                    }
                    _ => (other.len_utf8(), String::new()),
                };
                return Err(LangError::new(
                    Span::new(start, start + width),
                    format!("unexpected character `{other}`{hint}"),
                ));
            }
        }
    }
    out.push((Tok::End, Span::new(input.len(), input.len())));
    Ok(out)
}

/// The rest of an `attr:` token: a name (`attr:weight`, `attr:color@de_DE`) or a quoted id
/// right after the colon (`attr:"a01 x"`, `attr:"x"@de_DE`).
fn attr_token(
    rest: &str,
    span: Span,
    it: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
    input: &str,
) -> Result<Tok, LangError> {
    let (id, language) = if rest.is_empty() {
        // A quoted id follows.
        let Some(&(q, quote @ ('"' | '\''))) = it.peek() else {
            return Err(LangError::new(
                span,
                "expected an attribute id or code after `attr:` (attr:weight, attr:\"a01…\")",
            ));
        };
        it.next();
        let mut id = String::new();
        let mut closed = false;
        for (_, ch) in it.by_ref() {
            if ch == quote {
                closed = true;
                break;
            }
            id.push(ch);
        }
        if !closed {
            return Err(LangError::new(
                Span::new(q, input.len()),
                format!("this attribute id has no closing {quote}"),
            ));
        }
        let mut language = None;
        if it.peek().is_some_and(|&(_, c)| c == '@') {
            it.next();
            let mut lang = String::new();
            while let Some(&(_, ch)) = it.peek() {
                if !is_word_char(ch) {
                    break;
                }
                lang.push(ch);
                it.next();
            }
            language = Some(lang);
        }
        (id, language)
    } else {
        match rest.split_once('@') {
            Some((id, lang)) => (id.to_owned(), Some(lang.to_owned())),
            None => (rest.to_owned(), None),
        }
    };
    if id.is_empty() {
        return Err(LangError::new(span, "empty attribute id after `attr:`"));
    }
    if language.as_deref().is_some_and(str::is_empty) {
        return Err(LangError::new(
            span,
            "expected a language after `@` (e.g. de_DE)",
        ));
    }
    Ok(Tok::Attr { id, language })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s).unwrap().into_iter().map(|(t, _)| t).collect()
    }

    #[test]
    fn tokens() {
        assert_eq!(
            toks(r#"name like "%a\"b%" and x>=-2.5 or `in` <> a01-x"#),
            vec![
                Tok::Name {
                    text: "name".into(),
                    quoted: false
                },
                Tok::Name {
                    text: "like".into(),
                    quoted: false
                },
                Tok::Str("%a\"b%".into()),
                Tok::Name {
                    text: "and".into(),
                    quoted: false
                },
                Tok::Name {
                    text: "x".into(),
                    quoted: false
                },
                Tok::Cmp(">="),
                Tok::Num("-2.5".into()),
                Tok::Name {
                    text: "or".into(),
                    quoted: false
                },
                Tok::Name {
                    text: "in".into(),
                    quoted: true
                },
                Tok::Cmp("!="),
                Tok::Word("a01-x".into()),
                Tok::End,
            ]
        );
        assert_eq!(
            toks(r#"attr:weight attr:color@de_DE attr:"a 1"@fr_FR"#)[..3],
            [
                Tok::Attr {
                    id: "weight".into(),
                    language: None
                },
                Tok::Attr {
                    id: "color".into(),
                    language: Some("de_DE".into())
                },
                Tok::Attr {
                    id: "a 1".into(),
                    language: Some("fr_FR".into())
                },
            ]
        );
    }

    #[test]
    fn errors_point_at_the_problem() {
        let e = lex("name = \"open").unwrap_err();
        assert_eq!(e.span, Span::new(7, 12));
        let e = lex("a ! b").unwrap_err();
        assert_eq!(e.span, Span::new(2, 3));
        let e = lex("a = 'x\\q'").unwrap_err();
        assert!(e.message.contains("escape"), "{}", e.message);
        let e = lex("a # b").unwrap_err();
        assert_eq!(e.span, Span::new(2, 3));
        // Slips with a hint.
        let e = lex("a && b").unwrap_err();
        assert_eq!(e.span, Span::new(2, 4));
        assert!(e.message.contains("write `and`"), "{}", e.message);
        let e = lex("a || b").unwrap_err();
        assert!(e.message.contains("write `or`"), "{}", e.message);
        let e = lex("name like %chair% and x").unwrap_err();
        assert_eq!(e.span, Span::new(10, 11));
        assert!(e.message.contains("like \"%chair%\""), "{}", e.message);
        assert!(lex("attr: = 1").is_err());
    }

    #[test]
    fn numbers_and_names() {
        for n in ["0", "-1", "2.5", "-0.25"] {
            assert!(is_number(n), "{n}");
        }
        for n in ["-", "1.", ".5", "1e3", "1.2.3", "--1"] {
            assert!(!is_number(n), "{n}");
        }
        assert!(is_name("_a1") && !is_name("1a") && !is_name("a-b"));
    }
}
