//! Text from files, exports, certificates and the journal, made safe to print.
//!
//! A prompt, a file name, a signer's name or an error quoting any of them can hold terminal
//! control sequences (clearing the screen, setting the window title, concealing what follows)
//! or bidirectional overrides that reorder a line. Everything handprint prints for people
//! goes through [`esc`], which shows such characters as visible escapes instead: `\n`, `\r`,
//! `\t`, and `\u{1b}` for the others (the form Rust's `{:?}` uses, so a quoted title and an
//! unquoted name read alike). Other text, CJK and emoji included, passes unchanged.
//! [`json`] writes JSON for programs with the same characters as `\u` escapes.

use std::fmt::{self, Display, Write as _};
use std::io;

/// Whether `c` could move the cursor, erase, recolour or hide text, change the window, or
/// reorder the text after it when written to a terminal as it is: the C0 controls, DEL, the
/// C1 controls, the bidirectional marks, embeddings, overrides and isolates, and the Unicode
/// line and paragraph separators.
pub fn is_unsafe(c: char) -> bool {
    registry::identity::is_deceptive(c)
}

/// Writes `s` into `out` with every unsafe character escaped.
fn escape_into(out: &mut dyn fmt::Write, s: &str) -> fmt::Result {
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if !is_unsafe(c) {
            continue;
        }
        out.write_str(&s[start..i])?;
        match c {
            '\n' => out.write_str("\\n")?,
            '\r' => out.write_str("\\r")?,
            '\t' => out.write_str("\\t")?,
            c => write!(out, "\\u{{{:x}}}", c as u32)?,
        }
        start = i + c.len_utf8();
    }
    out.write_str(&s[start..])
}

/// `value` as it prints, with every unsafe character escaped (see the module's notes).
pub fn esc<T: Display>(value: T) -> Escaped<T> {
    Escaped(value)
}

/// What [`esc`] returns: formats like its value, escaped. `{:#}` passes on to the value
/// (anyhow's chain of causes); width and alignment apply to the escaped text.
pub struct Escaped<T>(T);

impl<T: Display> Display for Escaped<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.width().is_some() || f.precision().is_some() {
            let mut s = String::new();
            escape_into(&mut s, &plain(&self.0, f.alternate()))?;
            return f.pad(&s);
        }
        let alternate = f.alternate();
        let mut out = Escaper(f);
        if alternate { write!(out, "{:#}", self.0) } else { write!(out, "{}", self.0) }
    }
}

fn plain<T: Display>(value: &T, alternate: bool) -> String {
    if alternate { format!("{value:#}") } else { value.to_string() }
}

/// A writer that escapes what passes through it.
struct Escaper<'a, 'b>(&'a mut fmt::Formatter<'b>);

impl fmt::Write for Escaper<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        escape_into(self.0, s)
    }
}

/// serde_json's compact form, with DEL, the C1 controls and the bidirectional and separator
/// characters written as `\u` escapes too (serde_json itself escapes only the C0 controls).
struct SafeJson;

impl serde_json::ser::Formatter for SafeJson {
    fn write_string_fragment<W: ?Sized + io::Write>(&mut self, w: &mut W, fragment: &str) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if is_unsafe(c) {
                w.write_all(&fragment.as_bytes()[start..i])?;
                write!(w, "\\u{:04x}", c as u32)?;
                start = i + c.len_utf8();
            }
        }
        w.write_all(&fragment.as_bytes()[start..])
    }
}

/// Writes `value` as one line of compact JSON in which no character can act on a terminal.
pub fn json<T: serde::Serialize + ?Sized>(out: &mut dyn io::Write, value: &T) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(&mut *out, SafeJson);
    // An I/O error stays one, of its kind (a closed pipe is told apart from a failure).
    value.serialize(&mut ser).map_err(io::Error::from)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(s: &str) -> String {
        esc(s).to_string()
    }

    #[test]
    fn every_c0_c1_and_del_is_escaped() {
        for c in ('\0'..='\x1f').chain('\x7f'..='\u{9f}') {
            let out = e(&format!("a{c}b"));
            assert!(!out.contains(c), "{:x} passed through", c as u32);
            assert!(out.starts_with("a\\") && out.ends_with('b'), "{out}");
        }
        assert_eq!(e("\x1b[2J"), "\\u{1b}[2J");
        assert_eq!(e("a\nb\rc\td"), "a\\nb\\rc\\td");
        assert_eq!(e("\x07\x7f\u{9b}\u{85}"), "\\u{7}\\u{7f}\\u{9b}\\u{85}");
    }

    #[test]
    fn bidirectional_controls_are_escaped() {
        let bidi = ['\u{61c}', '\u{200e}', '\u{200f}', '\u{2028}', '\u{2029}'];
        let ranges = ('\u{202a}'..='\u{202e}').chain('\u{2066}'..='\u{2069}');
        for c in bidi.into_iter().chain(ranges) {
            let out = e(&format!("x{c}y"));
            assert_eq!(out, format!("x\\u{{{:x}}}y", c as u32));
        }
    }

    #[test]
    fn ordinary_text_is_untouched() {
        for s in ["", "plain ASCII ~!@#$%^&*()", "留白 ink and watercolour", "🦊🌲 ✓", "é ü ß", "back\\slash"]
        {
            assert_eq!(e(s), s);
        }
        // Zero-width joiners make emoji sequences; they stay.
        assert_eq!(e("👩\u{200d}🎨"), "👩\u{200d}🎨");
    }

    #[test]
    fn width_and_alternate_forms_carry_through() {
        assert_eq!(format!("[{:<6}]", esc("a\x1b")), "[a\\u{1b}]");
        assert_eq!(format!("[{:<8}]", esc("ab")), "[ab      ]");
        let err = anyhow::anyhow!("inner\x1b[8m").context("outer");
        assert_eq!(format!("{:#}", esc(&err)), "outer: inner\\u{1b}[8m");
        assert_eq!(format!("{}", esc(&err)), "outer");
    }

    #[test]
    fn json_escapes_what_serde_leaves_raw() {
        let mut out = Vec::new();
        let v = serde_json::json!({"k\u{202e}": "a\x1b\u{9b}\u{7f}\u{2066}留🦊\n"});
        json(&mut out, &v).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, "{\"k\\u202e\":\"a\\u001b\\u009b\\u007f\\u2066留🦊\\n\"}\n");
        assert!(!text.chars().any(|c| is_unsafe(c) && c != '\n'));
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
    }
}
