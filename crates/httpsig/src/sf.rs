//! The part of Structured Field Values (RFC 8941) that signatures need: parsing a
//! Dictionary whose members are Items or Inner Lists with Parameters (`Signature-Input`,
//! `Signature`, `Content-Digest`), and serialising Items and Inner Lists
//! (`@signature-params`). Every bare item type is parsed, so members of other labels are
//! read past correctly; the algorithms follow RFC 8941 §4.2 step by step.

use base64::Engine;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};

/// RFC 8941 §4.2.7: parsers should not fail when `=` padding is missing.
const BYTES: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Integers have at most 15 digits (RFC 8941 §3.3.1).
pub(crate) const MAX_INTEGER: i64 = 999_999_999_999_999;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Bare {
    Integer(i64),
    /// Kept as written (sign, digits, point): nothing here computes with decimals.
    Decimal(String),
    String(String),
    Token(String),
    Bytes(Vec<u8>),
    Boolean(bool),
}

/// Ordered parameters; a repeated key overwrites the earlier value in place (§4.2.3.2).
pub(crate) type Params = Vec<(String, Bare)>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Item {
    pub bare: Bare,
    pub params: Params,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Member {
    Item(Item),
    Inner(Vec<Item>, Params),
}

/// Parses a Dictionary field value (the field lines already joined with ", ").
pub(crate) fn parse_dictionary(input: &str) -> Result<Vec<(String, Member)>, String> {
    let mut p = Parser { s: input.as_bytes(), at: 0 };
    p.skip_sp();
    let mut dict: Vec<(String, Member)> = Vec::new();
    while !p.done() {
        let key = p.key()?;
        let member = if p.eat(b'=') {
            p.item_or_inner_list()?
        } else {
            Member::Item(Item { bare: Bare::Boolean(true), params: p.params()? })
        };
        match dict.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = member,
            None => dict.push((key, member)),
        }
        p.skip_ows();
        if p.done() {
            return Ok(dict);
        }
        if !p.eat(b',') {
            return Err(format!("expected ',' at byte {}", p.at));
        }
        p.skip_ows();
        if p.done() {
            return Err("trailing ',' ends the dictionary".into());
        }
    }
    Ok(dict)
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn done(&self) -> bool {
        self.at >= self.s.len()
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        let hit = self.peek() == Some(c);
        if hit {
            self.at += 1;
        }
        hit
    }

    fn skip_sp(&mut self) {
        while self.eat(b' ') {}
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.at += 1;
        }
    }

    fn item_or_inner_list(&mut self) -> Result<Member, String> {
        if self.peek() == Some(b'(') {
            let (items, params) = self.inner_list()?;
            Ok(Member::Inner(items, params))
        } else {
            Ok(Member::Item(self.item()?))
        }
    }

    fn inner_list(&mut self) -> Result<(Vec<Item>, Params), String> {
        self.eat(b'(');
        let mut items = Vec::new();
        while !self.done() {
            self.skip_sp();
            if self.eat(b')') {
                return Ok((items, self.params()?));
            }
            items.push(self.item()?);
            if !matches!(self.peek(), Some(b' ' | b')')) {
                return Err(format!("expected ' ' or ')' in inner list at byte {}", self.at));
            }
        }
        Err("inner list is not closed".into())
    }

    fn item(&mut self) -> Result<Item, String> {
        let bare = self.bare()?;
        Ok(Item { bare, params: self.params()? })
    }

    fn params(&mut self) -> Result<Params, String> {
        let mut params: Params = Vec::new();
        while self.eat(b';') {
            self.skip_sp();
            let key = self.key()?;
            let value = if self.eat(b'=') { self.bare()? } else { Bare::Boolean(true) };
            match params.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value,
                None => params.push((key, value)),
            }
        }
        Ok(params)
    }

    fn key(&mut self) -> Result<String, String> {
        let start = self.at;
        match self.peek() {
            Some(c) if c.is_ascii_lowercase() || c == b'*' => self.at += 1,
            _ => return Err(format!("expected a key at byte {}", self.at)),
        }
        while matches!(self.peek(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit() || b"_-.*".contains(&c))
        {
            self.at += 1;
        }
        Ok(ascii(&self.s[start..self.at]))
    }

    fn bare(&mut self) -> Result<Bare, String> {
        match self.peek() {
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'"') => self.string(),
            Some(b':') => self.bytes(),
            Some(b'?') => self.boolean(),
            Some(c) if c.is_ascii_alphabetic() || c == b'*' => Ok(self.token()),
            _ => Err(format!("expected an item at byte {}", self.at)),
        }
    }

    fn number(&mut self) -> Result<Bare, String> {
        let start = self.at;
        let negative = self.eat(b'-');
        if !matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(format!("expected a digit at byte {}", self.at));
        }
        let digits_start = self.at;
        let mut point: Option<usize> = None;
        while let Some(c) = self.peek() {
            let len = self.at - digits_start;
            if c.is_ascii_digit() {
                self.at += 1;
            } else if c == b'.' && point.is_none() {
                if len > 12 {
                    return Err("decimal has more than 12 integer digits".into());
                }
                point = Some(len);
                self.at += 1;
            } else {
                break;
            }
            let len = self.at - digits_start;
            if (point.is_none() && len > 15) || (point.is_some() && len > 16) {
                return Err("number is too long".into());
            }
        }
        let text = ascii(&self.s[start..self.at]);
        match point {
            None => {
                let magnitude: i64 = text[usize::from(negative)..].parse().map_err(|_| "bad integer")?;
                Ok(Bare::Integer(if negative { -magnitude } else { magnitude }))
            }
            Some(at) => {
                let fraction = self.at - digits_start - at - 1;
                if fraction == 0 || fraction > 3 {
                    return Err("decimal needs 1 to 3 fractional digits".into());
                }
                Ok(Bare::Decimal(text))
            }
        }
    }

    fn string(&mut self) -> Result<Bare, String> {
        self.eat(b'"');
        let mut out = String::new();
        while let Some(c) = self.peek() {
            self.at += 1;
            match c {
                b'\\' => match self.peek() {
                    Some(e @ (b'"' | b'\\')) => {
                        self.at += 1;
                        out.push(char::from(e));
                    }
                    _ => return Err("bad escape in string".into()),
                },
                b'"' => return Ok(Bare::String(out)),
                0x20..=0x7e => out.push(char::from(c)),
                _ => return Err("string holds a character outside printable ASCII".into()),
            }
        }
        Err("string is not closed".into())
    }

    fn token(&mut self) -> Bare {
        let start = self.at;
        self.at += 1;
        while matches!(self.peek(), Some(c) if is_tchar(c) || c == b':' || c == b'/') {
            self.at += 1;
        }
        Bare::Token(ascii(&self.s[start..self.at]))
    }

    fn bytes(&mut self) -> Result<Bare, String> {
        self.eat(b':');
        let start = self.at;
        while let Some(c) = self.peek() {
            if c == b':' {
                let encoded = &self.s[start..self.at];
                self.at += 1;
                return BYTES.decode(encoded).map(Bare::Bytes).map_err(|e| format!("bad byte sequence: {e}"));
            }
            if !(c.is_ascii_alphanumeric() || b"+/=".contains(&c)) {
                return Err("byte sequence holds a character outside base64".into());
            }
            self.at += 1;
        }
        Err("byte sequence is not closed".into())
    }

    fn boolean(&mut self) -> Result<Bare, String> {
        self.eat(b'?');
        if self.eat(b'1') {
            Ok(Bare::Boolean(true))
        } else if self.eat(b'0') {
            Ok(Bare::Boolean(false))
        } else {
            Err("boolean is neither ?0 nor ?1".into())
        }
    }
}

fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

/// Only ever called on slices the parser has checked to be ASCII.
fn ascii(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Serialises an Inner List with its parameters (§4.1.1.1).
pub(crate) fn serialize_inner_list(items: &[Item], params: &Params) -> Result<String, String> {
    let mut out = String::from("(");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        serialize_item(item, &mut out)?;
    }
    out.push(')');
    serialize_params(params, &mut out)?;
    Ok(out)
}

/// An item as it would be written, for error messages.
pub(crate) fn show(item: &Item) -> String {
    let mut out = String::new();
    match serialize_item(item, &mut out) {
        Ok(()) => out,
        Err(_) => "an item that cannot be serialised".into(),
    }
}

fn serialize_item(item: &Item, out: &mut String) -> Result<(), String> {
    serialize_bare(&item.bare, out)?;
    serialize_params(&item.params, out)
}

fn serialize_params(params: &Params, out: &mut String) -> Result<(), String> {
    for (key, value) in params {
        out.push(';');
        serialize_key(key, out)?;
        if *value != Bare::Boolean(true) {
            out.push('=');
            serialize_bare(value, out)?;
        }
    }
    Ok(())
}

fn serialize_key(key: &str, out: &mut String) -> Result<(), String> {
    let b = key.as_bytes();
    let first_ok = matches!(b.first(), Some(c) if c.is_ascii_lowercase() || *c == b'*');
    if !first_ok || !b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"_-.*".contains(c)) {
        return Err(format!("{key:?} is not a structured-field key"));
    }
    out.push_str(key);
    Ok(())
}

/// Serialises a bare item (§4.1.3); refuses values the syntax cannot carry.
pub(crate) fn serialize_bare(bare: &Bare, out: &mut String) -> Result<(), String> {
    match bare {
        Bare::Integer(n) => {
            if !(-MAX_INTEGER..=MAX_INTEGER).contains(n) {
                return Err(format!("{n} is outside the structured-field integer range"));
            }
            out.push_str(&n.to_string());
        }
        Bare::Decimal(text) => out.push_str(text),
        Bare::String(s) => {
            if !s.bytes().all(|c| (0x20..=0x7e).contains(&c)) {
                return Err(format!("{s:?} holds a character outside printable ASCII"));
            }
            out.push('"');
            for c in s.chars() {
                if c == '"' || c == '\\' {
                    out.push('\\');
                }
                out.push(c);
            }
            out.push('"');
        }
        Bare::Token(t) => {
            let b = t.as_bytes();
            let first_ok = matches!(b.first(), Some(c) if c.is_ascii_alphabetic() || *c == b'*');
            if !first_ok || !b.iter().all(|&c| is_tchar(c) || c == b':' || c == b'/') {
                return Err(format!("{t:?} is not a token"));
            }
            out.push_str(t);
        }
        Bare::Bytes(bytes) => {
            out.push(':');
            out.push_str(&general_purpose::STANDARD.encode(bytes));
            out.push(':');
        }
        Bare::Boolean(b) => out.push_str(if *b { "?1" } else { "?0" }),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(bare: Bare) -> Item {
        Item { bare, params: Vec::new() }
    }

    #[test]
    fn parses_every_bare_item_type_and_parameters() {
        let dict = parse_dictionary(
            "a=1, b=-2.5;x, c=\"q\\\"s\\\\\", d=tok/en:1, e=:AQID:, f=?0, g, h=(1 \"x\";p=?1);q=*t",
        )
        .unwrap();
        let get = |k: &str| dict.iter().find(|(key, _)| key == k).map(|(_, m)| m.clone()).unwrap();
        assert_eq!(get("a"), Member::Item(item(Bare::Integer(1))));
        assert_eq!(
            get("b"),
            Member::Item(Item {
                bare: Bare::Decimal("-2.5".into()),
                params: vec![("x".into(), Bare::Boolean(true))]
            })
        );
        assert_eq!(get("c"), Member::Item(item(Bare::String("q\"s\\".into()))));
        assert_eq!(get("d"), Member::Item(item(Bare::Token("tok/en:1".into()))));
        assert_eq!(get("e"), Member::Item(item(Bare::Bytes(vec![1, 2, 3]))));
        assert_eq!(get("f"), Member::Item(item(Bare::Boolean(false))));
        assert_eq!(get("g"), Member::Item(item(Bare::Boolean(true))));
        assert_eq!(
            get("h"),
            Member::Inner(
                vec![
                    item(Bare::Integer(1)),
                    Item { bare: Bare::String("x".into()), params: vec![("p".into(), Bare::Boolean(true))] }
                ],
                vec![("q".into(), Bare::Token("*t".into()))]
            )
        );
    }

    #[test]
    fn a_repeated_key_overwrites_in_place() {
        let dict = parse_dictionary("a=1, b=2, a=3").unwrap();
        assert_eq!(
            dict,
            vec![
                ("a".to_string(), Member::Item(item(Bare::Integer(3)))),
                ("b".to_string(), Member::Item(item(Bare::Integer(2))))
            ]
        );
    }

    #[test]
    fn refuses_what_rfc_8941_refuses() {
        for bad in [
            "a=1,",
            "a=1 b=2",
            "A=1",
            "a=(1 2",
            "a=(1 2)x",
            "a=\"open",
            "a=\"bad\\n\"",
            "a=:AQ!D:",
            "a=:AQID",
            "a=?2",
            "a=1234567890123456",
            "a=1.2345",
            "a=1.",
            "a=1234567890123.1",
            "a=-",
            "a=@",
            "a=1;B=2",
            "a=\"caf\u{e9}\"",
        ] {
            assert!(parse_dictionary(bad).is_err(), "{bad:?} parsed");
        }
        assert_eq!(parse_dictionary("").unwrap(), Vec::new());
        assert!(parse_dictionary("  a=1 ,\tb=2  ").is_ok());
        assert!(parse_dictionary("a=999999999999999").is_ok());
    }

    #[test]
    fn serialising_a_parsed_inner_list_gives_it_back() {
        let text =
            "(\"@method\" \"content-type\");created=1618884473;keyid=\"k\\\"1\";ok;b=:AQID:;d=1.5;t=tok";
        let dict = parse_dictionary(&format!("sig={text}")).unwrap();
        let Member::Inner(items, params) = &dict[0].1 else { panic!("not an inner list") };
        assert_eq!(serialize_inner_list(items, params).unwrap(), text);
    }

    #[test]
    fn serialising_refuses_values_the_syntax_cannot_carry() {
        let mut out = String::new();
        assert!(serialize_bare(&Bare::String("a\nb".into()), &mut out).is_err());
        assert!(serialize_bare(&Bare::Integer(MAX_INTEGER + 1), &mut out).is_err());
        assert!(serialize_bare(&Bare::Token("1a".into()), &mut out).is_err());
        assert!(serialize_inner_list(&[], &vec![("Key".into(), Bare::Integer(1))]).is_err());
    }
}
