//! Output safety: text a peer controls must never drive the terminal it is printed on.
//!
//! A certificate subject, a banner, an OCSP responder name or an alert text can carry escape
//! sequences (clear the screen, set the window title, rewrite earlier lines), bidirectional
//! overrides that make `moc.elpmaxe` read as `example.com`, or invisible characters. Human
//! output therefore passes every such string through [`escape`], which turns each of these
//! characters into a visible escape (`\x1b`, `\u{202e}`), and every human renderer finishes
//! its text with [`finish`], which does the same to whatever is left except the renderer's
//! own markup: its newlines and, when colour is on, the SGR colour sequences of
//! [`crate::report::style::Style`]. JSON needs neither: the serialiser escapes control characters
//! itself and the text stays valid UTF-8.
//!
//! Backslashes are left alone, so escaping is idempotent: escaping text twice (a value
//! escaped by a renderer, then the whole rendering by [`finish`]) changes nothing more.

use std::borrow::Cow;
use std::fmt::Write;

/// Whether `c` is neutralised in human output: C0 controls (newline and tab included), DEL,
/// C1 controls, and the Unicode format and separator characters that are invisible or
/// reorder text (bidi embeddings, overrides and isolates, zero-width characters, the line
/// and paragraph separators, the byte-order mark, tag characters).
pub fn is_neutralised(c: char) -> bool {
    matches!(c as u32,
        0x00..=0x1f
        | 0x7f..=0x9f
        | 0xad
        | 0x0600..=0x0605
        | 0x061c
        | 0x06dd
        | 0x070f
        | 0x0890..=0x0891
        | 0x08e2
        | 0x115f..=0x1160
        | 0x180e
        | 0x200b..=0x200f
        | 0x2028..=0x202e
        | 0x2060..=0x2064
        | 0x2066..=0x206f
        | 0x3164
        | 0xfeff
        | 0xffa0
        | 0xfff9..=0xfffb
        | 0x110bd
        | 0x110cd
        | 0x13430..=0x1343f
        | 0x1bca0..=0x1bca3
        | 0x1d173..=0x1d17a
        | 0xe0001
        | 0xe0020..=0xe007f
    )
}

/// The visible form of a neutralised character: `\xNN` for C0 and DEL, `\u{…}` otherwise.
fn push_visible(out: &mut String, c: char) {
    let n = c as u32;
    let _ = if n < 0x80 {
        write!(out, "\\x{n:02x}")
    } else {
        write!(out, "\\u{{{n:x}}}")
    };
}

/// `s` with every [neutralised](is_neutralised) character replaced by its visible escape.
/// Borrowed when there is nothing to replace (the common case).
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_neutralised) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_neutralised(c) {
            push_visible(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The length of the SGR sequence (`ESC [ digits/semicolons m`, what `Style` writes) at the
/// start of `s`, if one is there.
fn sgr_len(s: &str) -> Option<usize> {
    let rest = s.strip_prefix("\x1b[")?;
    let params = rest
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b';')
        .count();
    // Style's longest is "31;1"; anything longer is not ours.
    (params <= 8 && rest.as_bytes().get(params) == Some(&b'm')).then_some(2 + params + 1)
}

/// The last step of every human renderer: `rendered` with every neutralised character made
/// visible except the renderer's own markup, its newlines and (when `color`) SGR colour
/// sequences. A safety net behind the per-value [`escape`] calls: a value a renderer forgot
/// to escape can still not move the cursor, clear the screen or set a title.
pub fn finish(rendered: String, color: bool) -> String {
    if !rendered.chars().any(|c| is_neutralised(c) && c != '\n') {
        return rendered;
    }
    let mut out = String::with_capacity(rendered.len());
    let mut rest = rendered.as_str();
    while let Some(c) = rest.chars().next() {
        if c == '\x1b' && color {
            if let Some(n) = sgr_len(rest) {
                out.push_str(&rest[..n]);
                rest = &rest[n..];
                continue;
            }
        }
        if is_neutralised(c) && c != '\n' {
            push_visible(&mut out, c);
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// `s` for inline GitHub-flavoured Markdown (a paragraph, a list item or a table cell):
/// [`escape`]d first, then every character Markdown or the HTML it may contain gives a meaning
/// to inside a line is backslash-escaped (`|` included, so a value cannot end a table cell),
/// and `<`, `>` and `&` become entities, so a peer string can neither add markup nor run
/// script. Renderers never start a line with a value, so line-start syntax needs nothing.
pub fn markdown(s: &str) -> String {
    let s = escape(s);
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        match c {
            // An underscore between two letters or digits never opens emphasis (`s_client`,
            // `TLS_AES_128`), so it stays readable in the Markdown source.
            '_' if i > 0
                && chars[i - 1].is_alphanumeric()
                && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric()) =>
            {
                out.push(c)
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            // The characters that open emphasis, code, links, headings, strikethrough or a
            // table cell; the rest of ASCII punctuation is inert inside a line.
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// `s` for HTML text content or a double- or single-quoted attribute value: [`escape`]d
/// first, then `&`, `<`, `>`, `"` and `'` become character references.
pub fn html(s: &str) -> String {
    let s = escape(s);
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The subject of issue 14's hostile server.
    const EVIL: &str = "CN=evil\x1b[2J\x1b]0;pwned\x07name";

    #[test]
    fn terminal_controls_become_visible() {
        assert_eq!(escape(EVIL), "CN=evil\\x1b[2J\\x1b]0;pwned\\x07name");
        assert_eq!(escape("a\nb\rc\td\x7f"), "a\\x0ab\\x0dc\\x09d\\x7f");
        assert_eq!(escape("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(escape("\u{85}"), "\\u{85}");
    }

    #[test]
    fn bidi_and_invisible_characters_become_visible() {
        assert_eq!(escape("\u{202e}moc.elpmaxe"), "\\u{202e}moc.elpmaxe");
        for c in [
            '\u{202a}',
            '\u{202d}',
            '\u{2066}',
            '\u{2069}',
            '\u{200b}',
            '\u{200f}',
            '\u{2028}',
            '\u{feff}',
            '\u{e0041}',
            '\u{ad}',
            '\u{61c}',
        ] {
            let s = c.to_string();
            let e = escape(&s);
            assert!(e.starts_with("\\u{"), "{c:?} -> {e}");
            assert!(!e.chars().any(is_neutralised));
        }
    }

    #[test]
    fn ordinary_text_is_untouched_and_borrowed() {
        for s in [
            "CN=example.com, O=Exämple GmbH",
            "日本語のサーバー",
            "C:\\path\\x1b (a literal backslash)",
            "emoji 🔒 ok; arrows → and … stay",
            "<script>alert(1)</script>",
        ] {
            assert!(matches!(escape(s), Cow::Borrowed(_)), "{s}");
        }
    }

    #[test]
    fn escaping_is_idempotent() {
        let once = escape(EVIL).into_owned();
        assert_eq!(escape(&once), once);
        assert_eq!(finish(once.clone(), false), once);
        assert_eq!(finish(once.clone(), true), once);
    }

    #[test]
    fn finish_keeps_only_the_renderers_markup() {
        let ours = format!("\x1b[1mtitle\x1b[0m\n  \x1b[31;1m[error]\x1b[0m {EVIL}\n");
        let plain = finish(ours.clone(), false);
        assert!(
            !plain.contains('\x1b') && !plain.contains('\x07'),
            "{plain:?}"
        );
        assert_eq!(plain.matches('\n').count(), 2);
        let coloured = finish(ours, true);
        assert!(
            coloured.starts_with("\x1b[1mtitle\x1b[0m\n"),
            "{coloured:?}"
        );
        assert!(
            coloured.contains("\x1b[31;1m[error]\x1b[0m"),
            "{coloured:?}"
        );
        // The peer's clear-screen and title sequences are not SGR: made visible.
        assert!(
            coloured.contains("evil\\x1b[2J\\x1b]0;pwned\\x07name"),
            "{coloured:?}"
        );
        assert!(!coloured.contains('\x07'));
        // A lone ESC, or one ending the text, is not markup either.
        assert_eq!(finish("a\x1b".into(), true), "a\\x1b");
        assert_eq!(finish("\x1b[".into(), true), "\\x1b[");
    }

    #[test]
    fn markdown_values_cannot_add_markup() {
        let v =
            markdown("CN=<script>alert(1)</script> | **x** [a](http://e) `c` _u_ #h ~s~ \x1b[2J");
        assert_eq!(
            v,
            "CN=&lt;script&gt;alert(1)&lt;/script&gt; \\| \\*\\*x\\*\\* \\[a\\](http://e) \\`c\\` \\_u\\_ \\#h \\~s\\~ \\\\x1b\\[2J"
        );
        assert_eq!(
            markdown("TLS_AES_128_GCM s_client"),
            "TLS_AES_128_GCM s_client"
        );
    }

    #[test]
    fn html_values_are_text_only() {
        assert_eq!(
            html("<img src=x onerror='a'>\"&\u{202e}"),
            "&lt;img src=x onerror=&#39;a&#39;&gt;&quot;&amp;\\u{202e}"
        );
    }
}
