//! XMP packets flattened to `(property, value)` pairs, e.g. `("dc:description", "...")`.
//!
//! Properties are keyed by the prefix as written (`dc:`, `xmp:`, `exif:`, `Iptc4xmpExt:`);
//! every writer handled here uses the customary prefixes. Array items (`rdf:li`) become one
//! pair each, under their property's name.

use quick_xml::events::Event;
use quick_xml::{Reader, XmlVersion};

const CONTAINERS: [&str; 7] =
    ["x:xmpmeta", "rdf:RDF", "rdf:Description", "rdf:Alt", "rdf:Seq", "rdf:Bag", "rdf:li"];

pub(crate) fn parse(packet: &str) -> Result<Vec<(String, String)>, String> {
    let mut reader = Reader::from_str(packet);
    let mut out: Vec<(String, String)> = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    // Text may arrive in pieces split by references (`&amp;`); pieces of one element join.
    let mut in_text = false;
    loop {
        let piece = match reader.read_event() {
            Ok(Event::Start(e)) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                attributes(&e, &name, &mut out);
                stack.push(name);
                None
            }
            Ok(Event::Empty(e)) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                attributes(&e, &name, &mut out);
                None
            }
            Ok(Event::End(_)) => {
                stack.pop();
                None
            }
            Ok(Event::Text(t)) => {
                Some(t.xml_content(XmlVersion::Implicit1_0).map_err(|e| e.to_string())?.into_owned())
            }
            Ok(Event::CData(c)) => Some(String::from_utf8_lossy(&c).into_owned()),
            Ok(Event::GeneralRef(r)) => Some(match r.resolve_char_ref() {
                Ok(Some(c)) => c.to_string(),
                _ => match r.as_ref() {
                    b"amp" => "&",
                    b"lt" => "<",
                    b"gt" => ">",
                    b"quot" => "\"",
                    b"apos" => "'",
                    _ => "",
                }
                .to_owned(),
            }),
            Ok(Event::Eof) => break,
            Ok(_) => continue,
            Err(e) => return Err(format!("XMP is not well-formed XML: {e}")),
        };
        let Some(text) = piece else {
            in_text = false;
            continue;
        };
        let Some(property) = stack.iter().rev().find(|n| !CONTAINERS.contains(&n.as_str())) else {
            continue;
        };
        match out.last_mut() {
            Some((_, value)) if in_text => value.push_str(&text),
            _ if text.trim().is_empty() => continue,
            _ => out.push((property.clone(), text)),
        }
        in_text = true;
    }
    Ok(out)
}

fn attributes(e: &quick_xml::events::BytesStart, element: &str, out: &mut Vec<(String, String)>) {
    if element != "rdf:Description" {
        return;
    }
    for attr in e.attributes().flatten() {
        let key = String::from_utf8_lossy(attr.key.as_ref()).into_owned();
        if key.starts_with("xmlns") || key.starts_with("rdf:") {
            continue;
        }
        if let Ok(v) = attr.normalized_value(XmlVersion::Implicit1_0) {
            out.push((key, v.into_owned()));
        }
    }
}

/// The first value of `property`, e.g. `dc:description`'s x-default text.
pub(crate) fn first<'a>(props: &'a [(String, String)], property: &str) -> Option<&'a str> {
    props.iter().find(|(k, _)| k == property).map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattens_alt_arrays_attributes_and_entities() {
        let packet = r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreatorTool="Draw Things">
<dc:description><rdf:Alt><rdf:li xml:lang="x-default">a &amp; b&#10;c</rdf:li></rdf:Alt></dc:description>
</rdf:Description></rdf:RDF></x:xmpmeta>"#;
        let props = parse(packet).unwrap();
        assert_eq!(first(&props, "xmp:CreatorTool"), Some("Draw Things"));
        assert_eq!(first(&props, "dc:description"), Some("a & b\nc"));
    }

    #[test]
    fn malformed_xml_is_an_error_not_a_panic() {
        assert!(parse("<a><b></a>").is_err());
    }
}
