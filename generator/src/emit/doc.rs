//! Doc comments: spec prose made inert, then one `#[doc]` attribute per line.
//!
//! Spec text (summaries, descriptions, wire names) is untrusted. Rustdoc runs every code block
//! of a doc comment as a doctest, so a description holding a fenced or indented block would run
//! code on `cargo test` of the generated crate. [`inert`] keeps the Markdown people write in specs
//! (emphasis, code spans, lists, links, block quotes) and removes every way to open a code
//! block or raw HTML:
//!
//! - leading whitespace is dropped, so no line is indented enough to be an indented code block
//!   (lists and block quotes keep their markers, followed by exactly one space: no indented
//!   code inside them either);
//! - a line whose content starts with a fence (three or more `` ` `` or `~`) gets a backslash
//!   before it, which makes the first character literal and the line plain text;
//! - a `<` that could open an HTML tag, comment or processing instruction outside a code span
//!   is escaped (`\<`); autolinks (`<https://…>`) stay;
//! - control characters are dropped and a lone carriage return ends a line, so every line
//!   prints as a `///` comment that rustc accepts.

use proc_macro2::TokenStream;
use quote::quote;

/// One `#[doc]` attribute per line of `text` made [`inert`], so prettyplease prints `///` lines.
pub(super) fn doc_lines(text: &str) -> TokenStream {
    let mut out = TokenStream::new();
    for line in inert(text).lines() {
        let line = format!(" {line}");
        out.extend(quote!(#[doc = #line]));
    }
    out
}

/// The non-empty parts, each trimmed, as paragraphs of one doc comment.
pub(super) fn docs(parts: &[Option<&str>]) -> TokenStream {
    let text: Vec<&str> = parts
        .iter()
        .flatten()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    doc_lines(&text.join("\n\n"))
}

/// A module's inner doc (`//!` lines): `first`, then `more` (spec prose) when it says something
/// else, both made [`inert`].
pub(super) fn module_inner_doc(first: &str, more: Option<&str>) -> TokenStream {
    let mut text = first.to_owned();
    if let Some(m) = more.map(str::trim).filter(|m| !m.is_empty() && *m != first) {
        text.push_str("\n\n");
        text.push_str(m);
    }
    inner_lines(&inert(&text))
}

/// `//!` lines of text the generator wrote itself (an example that must stay a doctest), as
/// is: never pass spec text here.
pub(super) fn own_inner_doc(text: &str) -> TokenStream {
    inner_lines(text)
}

fn inner_lines(text: &str) -> TokenStream {
    text.lines()
        .map(|l| {
            let l = format!(" {}", l.trim_end());
            quote!(#![doc = #l])
        })
        .collect()
}

/// `text` as Markdown that holds no code block and no raw HTML (see the module docs), trimmed,
/// lines joined by `\n`, no trailing whitespace on any line.
pub(super) fn inert(text: &str) -> String {
    let normalized: String = text
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .filter(|c| *c == '\n' || *c == '\t' || !c.is_control())
        .collect();
    let mut out = String::with_capacity(normalized.len() + 16);
    for line in normalized.trim().lines() {
        let start = out.len();
        inert_line(line, &mut out);
        let end = out[start..].trim_end().len();
        out.truncate(start + end);
        out.push('\n');
    }
    out.truncate(out.trim_end().len());
    out
}

fn inert_line(line: &str, out: &mut String) {
    let mut rest = line;
    // Containers: block quotes and list items, each marker followed by one space.
    loop {
        let t = rest.trim_start();
        if let Some(r) = t.strip_prefix('>') {
            out.push_str("> ");
            rest = r;
        } else if is_thematic_break(t) {
            out.push_str(&t.chars().filter(|c| !c.is_whitespace()).collect::<String>());
            return;
        } else if let Some(len) = list_marker(t) {
            out.push_str(&t[..len]);
            out.push(' ');
            rest = &t[len..];
        } else {
            rest = t;
            break;
        }
    }
    let fence = |c: char| rest.chars().take_while(|x| *x == c).count() >= 3;
    if fence('`') || fence('~') {
        // The first fence character escaped; the rest is read as the escape leaves it.
        out.push('\\');
        out.push_str(&rest[..1]);
        rest = &rest[1..];
    }
    inline(rest, out);
}

/// `---`, `***`, `___` (spaces allowed between): kept as one run, never read as list markers.
fn is_thematic_break(t: &str) -> bool {
    let mut marks = t.chars().filter(|c| !c.is_whitespace());
    let Some(first) = marks.next() else {
        return false;
    };
    matches!(first, '-' | '*' | '_')
        && t.chars().filter(|c| !c.is_whitespace()).count() >= 3
        && marks.all(|c| c == first)
}

/// The byte length of a list marker at the start of `t` (`-`, `+`, `*`, or 1–9 digits then `.`
/// or `)`), when whitespace or the end of the line follows it.
fn list_marker(t: &str) -> Option<usize> {
    let b = t.as_bytes();
    let len = match b.first()? {
        b'-' | b'+' | b'*' => 1,
        b'0'..=b'9' => {
            let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
            if digits > 9 || !matches!(b.get(digits), Some(b'.' | b')')) {
                return None;
            }
            digits + 1
        }
        _ => return None,
    };
    match b.get(len) {
        None | Some(b' ' | b'\t') => Some(len),
        _ => None,
    }
}

/// The inline content of a line: code spans copied as they are, `<` that could open HTML escaped.
fn inline(s: &str, out: &mut String) {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' if b.get(i + 1).is_some_and(u8::is_ascii_punctuation) => {
                out.push_str(&s[i..i + 2]);
                i += 2;
            }
            b'`' => {
                let run = b[i..].iter().take_while(|c| **c == b'`').count();
                match closing_run(&b[i + run..], run) {
                    // A code span within the line: copied as it is.
                    Some(e) => {
                        let end = i + run + e + run;
                        out.push_str(&s[i..end]);
                        i = end;
                    }
                    // A run that closes nothing on this line would open a span closed on a
                    // later line, which would leave what lies between those lines' spans
                    // outside any span (raw HTML included): escaped.
                    None => {
                        for _ in 0..run {
                            out.push_str("\\`");
                        }
                        i += run;
                    }
                }
            }
            b'<' => {
                let after = &s[i + 1..];
                if let Some(len) = autolink(after) {
                    out.push_str(&s[i..i + 1 + len]);
                    i += 1 + len;
                } else {
                    if after
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '/' | '!' | '?'))
                    {
                        out.push('\\');
                    }
                    out.push('<');
                    i += 1;
                }
            }
            _ => {
                let next = s[i..]
                    .find(['\\', '`', '<'])
                    .map_or(s.len(), |n| if n == 0 { i + 1 } else { i + n });
                out.push_str(&s[i..next]);
                i = next;
            }
        }
    }
}

/// Where, in `b`, the first run of exactly `len` backticks starts.
fn closing_run(b: &[u8], len: usize) -> Option<usize> {
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'`' {
            let run = b[i..].iter().take_while(|c| **c == b'`').count();
            if run == len {
                return Some(i);
            }
            i += run;
        } else {
            i += 1;
        }
    }
    None
}

/// The length of `scheme:rest>` when `s` (the text after a `<`) is a URI autolink.
fn autolink(s: &str) -> Option<usize> {
    let colon = s.find(':')?;
    let scheme = &s[..colon];
    let scheme_ok = (2..=32).contains(&scheme.len())
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'));
    if !scheme_ok {
        return None;
    }
    let body = &s[colon + 1..];
    let close = body.find(|c: char| c == '>' || c == '<' || c.is_whitespace() || c.is_control())?;
    (body.as_bytes()[close] == b'>').then_some(colon + 1 + close + 1)
}

#[cfg(test)]
mod tests {
    use super::inert;
    use proptest::prelude::*;
    use pulldown_cmark::{Event, Options, Parser, Tag};

    /// What rustdoc would run or render raw: code blocks (doctests) and HTML.
    fn active(markdown: &str) -> Vec<String> {
        let opts = Options::ENABLE_TABLES
            | Options::ENABLE_FOOTNOTES
            | Options::ENABLE_STRIKETHROUGH
            | Options::ENABLE_TASKLISTS;
        Parser::new_ext(markdown, opts)
            .filter_map(|e| match e {
                Event::Start(Tag::CodeBlock(kind)) => Some(format!("code block {kind:?}")),
                Event::Html(h) | Event::InlineHtml(h) => Some(format!("html {h:?}")),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn hostile_prose_has_no_code_block_and_no_html() {
        let hostile = [
            "Lists.\n\n```\nstd::fs::write(\"pwned\", \"\").unwrap();\n```",
            "Lists.\n\n```rust\nstd::fs::write(\"pwned\", \"\").unwrap();\n```",
            "~~~\nstd::process::exit(1);\n~~~",
            "Intro.\n\n    std::fs::write(\"pwned\", \"\").unwrap();",
            "Intro.\n\n\tstd::fs::write(\"pwned\", \"\").unwrap();",
            "> ```\n> std::fs::write(\"pwned\", \"\").unwrap();\n> ```",
            ">     std::fs::write(\"pwned\", \"\").unwrap();",
            "- item\n\n  ```\n  code();\n  ```",
            "-     code();",
            "1.      code();",
            "- > - ```\n  code\n  ```",
            "<pre>\ncode\n</pre>",
            "text <script>alert(1)</script> text",
            "a\r```\rcode\r```",
            "`code` then <img src=x onerror=alert(1)>",
            "\\`<b>bold</b>`",
        ];
        for text in hostile {
            let out = inert(text);
            assert_eq!(
                active(&out),
                Vec::<String>::new(),
                "{text:?} became {out:?}"
            );
        }
    }

    #[test]
    fn keeps_the_markdown_specs_use() {
        let text = "Returns the list.\n    \n**How to use:**\n- `entityName` — the entity (e.g. `Product`).\n- `where` — see [the guide](https://help.atrocore.com).\n\n> Note: `<ClassName>` stays in code; <https://example.com> stays a link.";
        assert_eq!(
            inert(text),
            "Returns the list.\n\n**How to use:**\n- `entityName` — the entity (e.g. `Product`).\n- `where` — see [the guide](https://help.atrocore.com).\n\n> Note: `<ClassName>` stays in code; <https://example.com> stays a link."
        );
        assert_eq!(
            inert("use `php x <Name>` or <Name>"),
            "use `php x <Name>` or \\<Name>"
        );
        assert_eq!(inert("a < b, 1 <= 2"), "a < b, 1 <= 2");
        assert_eq!(inert("---\n* * *"), "---\n***");
        assert_eq!(inert("x\u{7f}y\u{1b}[31m"), "xy[31m");
        // A backtick run that closes nothing on its line would pair with one on a later line.
        assert_eq!(inert("a```\na```<!-->```"), "a\\`\\`\\`\na```<!-->```");
    }

    /// Text built from the characters that make Markdown blocks and HTML.
    fn markdownish() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("`"),
                Just("```"),
                Just("~~~"),
                Just(" "),
                Just("    "),
                Just("\t"),
                Just("\n"),
                Just("\n\n"),
                Just("\r"),
                Just(">"),
                Just("-"),
                Just("*"),
                Just("+"),
                Just("1."),
                Just("2)"),
                Just("<"),
                Just(">"),
                Just("/"),
                Just("!--"),
                Just("?"),
                Just("\\"),
                Just("a"),
                Just("div"),
                Just("pre"),
                Just("http:"),
                Just("#"),
                Just("="),
                Just("|"),
                Just("["),
                Just("]"),
                Just("("),
                Just(")"),
            ],
            0..40,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn no_text_becomes_a_code_block_or_html(text in markdownish()) {
            let out = inert(&text);
            prop_assert_eq!(active(&out), Vec::<String>::new(), "{:?} became {:?}", text, out);
            // Idempotent, so regenerating from already inert text changes nothing.
            prop_assert_eq!(inert(&out), out.clone());
        }
    }
}
