//! JSON written the way Python's `json.dumps` writes it (`ensure_ascii`, `", "` and `": "`
//! between items, or `indent=2`), the form the reference WACZ and CDXJ tools produce, so that
//! files written here match theirs byte for byte.

use serde_json::Value;
use std::fmt::Write;

/// One line: `{"a": 1, "b": [1, 2]}`.
pub(crate) fn compact(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value, None, 0);
    out
}

/// Indented by two spaces per level, as `json.dumps(value, indent=2)`.
pub(crate) fn pretty(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value, Some(2), 0);
    out
}

fn write_value(out: &mut String, value: &Value, indent: Option<usize>, depth: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                separator(out, i == 0, indent, depth + 1);
                write_value(out, item, indent, depth + 1);
            }
            close(out, indent, depth);
            out.push(']');
        }
        Value::Object(map) => {
            if map.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                separator(out, i == 0, indent, depth + 1);
                write_string(out, key);
                out.push_str(": ");
                write_value(out, item, indent, depth + 1);
            }
            close(out, indent, depth);
            out.push('}');
        }
    }
}

fn separator(out: &mut String, first: bool, indent: Option<usize>, depth: usize) {
    match indent {
        None if !first => out.push_str(", "),
        None => {}
        Some(n) => {
            if !first {
                out.push(',');
            }
            out.push('\n');
            out.extend(std::iter::repeat_n(' ', n * depth));
        }
    }
}

fn close(out: &mut String, indent: Option<usize>, depth: usize) {
    if let Some(n) = indent {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', n * depth));
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || !c.is_ascii() => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matches_python_json_dumps() {
        // Expected strings as Python 3 prints json.dumps(v) and json.dumps(v, indent=2).
        let v = json!({"a": "x/y", "b": [1, 2], "c": {}, "d": [], "e": "caf\u{e9} \u{1f600}\u{7f}\u{1}\"\\"});
        assert_eq!(
            compact(&v),
            r#"{"a": "x/y", "b": [1, 2], "c": {}, "d": [], "e": "caf\u00e9 \ud83d\ude00"#.to_owned()
                + "\u{7f}"
                + r#"\u0001\"\\"}"#
        );
        assert_eq!(
            pretty(&json!({"k": [1, {"x": null}], "e": []})),
            "{\n  \"k\": [\n    1,\n    {\n      \"x\": null\n    }\n  ],\n  \"e\": []\n}"
        );
    }
}
