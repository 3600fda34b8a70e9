//! AtroCore's error reasons as text a person reads.
//!
//! AtroCore writes some error messages for its web UI: a unique-constraint violation is
//! `notUniqueValue` followed by `<a href="javascript:" class="show-hidden">Details</a>` and the
//! database's message in a hidden `<textarea>` (atrocore-legacy's `Record::storeEntity`; last
//! in-tree copy `app/Espo/Services/Record.php` before commit `b33a0dffc`), and an edit conflict
//! links "reload the page". Server text may also hold control characters (a terminal escape, a
//! line break). [`readable`] keeps the words: tags dropped, the hidden details kept after
//! `Details:`, the UI's toggle link dropped, entities decoded, control characters and runs of
//! white space turned into one space. The text as sent stays available
//! ([`Error::raw_reason`](crate::Error::raw_reason)).

/// Tags that are removed (their text kept); anything else that looks like `<…>` is text.
const TAGS: &[&str] = &[
    "a", "b", "br", "code", "div", "em", "i", "li", "ol", "p", "pre", "span", "strong", "textarea",
    "u", "ul",
];

/// `raw` as readable text (see the module docs).
pub(crate) fn readable(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let after = &rest[open..];
        match tag(after) {
            Some(t) => {
                let inner = &after[..t.len];
                rest = &after[t.len..];
                if t.name == "textarea" && !t.closing {
                    out.push_str(" Details: ");
                } else if t.name == "br" || t.name == "p" || t.name == "li" {
                    out.push(' ');
                } else if t.name == "a"
                    && !t.closing
                    && inner.to_ascii_lowercase().contains("show-hidden")
                {
                    // The UI's "Details" toggle: its text says nothing here.
                    rest = match find_ci(rest, "</a>") {
                        Some(end) => &rest[end + 4..],
                        None => rest,
                    };
                }
            }
            None => {
                out.push('<');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    let decoded = decode_entities(&out);
    let mut text = String::with_capacity(decoded.len());
    for word in decoded
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
    {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(word);
    }
    text
}

struct Tag {
    name: String,
    closing: bool,
    /// Bytes from `<` to `>` included.
    len: usize,
}

/// The tag at the start of `s` (which starts with `<`), when it is one of [`TAGS`].
fn tag(s: &str) -> Option<Tag> {
    let end = s.find('>')?;
    let body = &s[1..end];
    let (closing, body) = match body.strip_prefix('/') {
        Some(b) => (true, b),
        None => (false, body),
    };
    let name: String = body
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    let after_name = &body[name.len()..];
    let well_formed = after_name.is_empty()
        || after_name.starts_with(|c: char| c.is_whitespace())
        || after_name == "/";
    (TAGS.contains(&name.as_str()) && well_formed).then_some(Tag {
        name,
        closing,
        len: end + 1,
    })
}

/// Where `needle` (ASCII) starts in `haystack`, ignoring ASCII case.
fn find_ci(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#039;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::readable;

    #[test]
    fn atrocore_html_messages_read_as_text() {
        let unique = "The record cannot be created/updated due to database constraints. <a href=\"javascript:\" class=\"show-hidden\">Details</a><textarea class=\"hidden\">SQLSTATE[23000]: Integrity constraint violation: 1062 Duplicate entry 'acme' for key 'brand.IDX_BRAND_UNIQUE_CODE'</textarea>";
        assert_eq!(
            readable(unique),
            "The record cannot be created/updated due to database constraints. Details: SQLSTATE[23000]: Integrity constraint violation: 1062 Duplicate entry 'acme' for key 'brand.IDX_BRAND_UNIQUE_CODE'"
        );
        let conflict = "The record was edited by another user. You can <a href=\"javascript:\" onclick=\"location.reload();\">reload the page</a> to see the changes.";
        assert_eq!(
            readable(conflict),
            "The record was edited by another user. You can reload the page to see the changes."
        );
    }

    #[test]
    fn plain_text_stays_and_control_characters_go() {
        assert_eq!(readable("price < 5 and > 2"), "price < 5 and > 2");
        assert_eq!(readable("a <b>c</b> &amp; &lt;d&gt;"), "a c & <d>");
        assert_eq!(
            readable("line one\nline two\u{1b}[31m red\u{7}"),
            "line one line two [31m red"
        );
        assert_eq!(readable("Größe ungültig"), "Größe ungültig");
        assert_eq!(readable("<unknown> tag <a"), "<unknown> tag <a");
    }
}
