//! The images a page references, found with a real HTML tokenizer (lol_html, streaming, with
//! a memory limit) and resolved as a browser would: against the first `<base href>` and the
//! page's URL, with the query in the page's encoding.
//!
//! Looked at: `<img src srcset data-src data-srcset>`, `<source srcset>` in `<picture>`,
//! `<meta property|name="og:image…|twitter:image…" content>`, `<link rel="icon" |
//! "apple-touch-icon…" | "preload" as="image" href imagesrcset>`, `<video poster>` and
//! `<input type="image" src>`. Every `srcset` candidate counts. The page's encoding comes from
//! its byte-order mark, else the `Content-Type` charset, else a `<meta charset>` (lol_html
//! switches when it meets one), else UTF-8 when the bytes are, else windows-1252.

use std::cell::RefCell;
use std::collections::HashMap;

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};
use lol_html::html_content::Element;
use lol_html::{AsciiCompatibleEncoding, HtmlRewriter, MemorySettings, Settings, element};
use url::Url;

use crate::LeftOut;

/// An image URL and where the page references it.
#[derive(Debug)]
pub(crate) struct Reference {
    pub url: Url,
    pub referenced_by: Vec<String>,
}

/// What the page references.
#[derive(Debug)]
pub(crate) struct Found {
    /// Fetchable (http, https) image URLs, de-duplicated, in document order.
    pub images: Vec<Reference>,
    /// References that cannot be fetched (`data:` URLs, other schemes, malformed URLs).
    pub unfetchable: Vec<LeftOut>,
    /// Set when the tokenizer stopped before the end.
    pub problem: Option<String>,
}

/// Whether a response is HTML: by its media type, or by its start when it has none.
pub(crate) fn is_html(media_type: Option<&str>, body: &[u8]) -> bool {
    match media_type {
        Some("text/html" | "application/xhtml+xml") => true,
        Some(_) => false,
        None => {
            let start = String::from_utf8_lossy(&body[..body.len().min(512)]).to_ascii_lowercase();
            let start = start.trim_start_matches('\u{feff}').trim_start();
            start.starts_with("<!doctype html") || start.starts_with("<html")
        }
    }
}

/// The `charset` parameter of a `Content-Type` value.
pub(crate) fn charset_param(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|p| {
        let (name, value) = p.split_once('=')?;
        name.trim().eq_ignore_ascii_case("charset").then(|| value.trim().trim_matches(['"', '\'']))
    })
}

#[derive(Default)]
struct State {
    raw: Vec<(String, String)>,
    base: Option<String>,
    meta_charset: Option<&'static Encoding>,
}

impl State {
    fn add(&mut self, value: String, how: &str) {
        self.raw.push((value, how.to_owned()));
    }

    fn add_srcset(&mut self, srcset: &str, how: &str) {
        for candidate in srcset_urls(srcset) {
            self.add(candidate.to_owned(), how);
        }
    }
}

const OG_IMAGE: [&str; 5] =
    ["og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src"];

/// The image references in a page body.
pub(crate) fn image_references(body: &[u8], content_type: Option<&str>, page: &Url) -> Found {
    let from_header = content_type.and_then(charset_param).and_then(|l| Encoding::for_label(l.as_bytes()));
    let bom = Encoding::for_bom(body);
    // A byte-order mark wins over the header, which wins over a <meta> in the page.
    let (encoding, fixed) = match (bom, from_header) {
        (Some((e, _)), _) => (e, true),
        (None, Some(e)) => (e, true),
        (None, None) if std::str::from_utf8(body).is_ok() => (UTF_8, false),
        (None, None) => (WINDOWS_1252, false),
    };
    // lol_html reads ASCII-compatible encodings itself; others (UTF-16) are decoded first.
    let (input, parse_as): (std::borrow::Cow<[u8]>, AsciiCompatibleEncoding) =
        match AsciiCompatibleEncoding::new(encoding) {
            Some(ascii) => (body[bom.map(|(_, n)| n).unwrap_or(0)..].into(), ascii),
            None => {
                let (text, _) = encoding.decode_with_bom_removal(body);
                (text.into_owned().into_bytes().into(), AsciiCompatibleEncoding::utf_8())
            }
        };

    let state = RefCell::new(State::default());
    let problem = tokenize(&input, parse_as, !fixed, &state);
    let state = state.into_inner();
    let encoding = if fixed { encoding } else { state.meta_charset.unwrap_or(encoding) };

    let page_base = page.clone();
    let base = state
        .base
        .as_deref()
        .and_then(|href| page.join(decode_entities(href).trim_matches(is_html_space)).ok())
        .unwrap_or(page_base);
    // The query is written in the page's encoding (the URL standard's "encoding override");
    // the path is always UTF-8.
    let output = encoding.output_encoding();
    let encode = encoder(output);
    let options = Url::options().base_url(Some(&base)).encoding_override(if output == UTF_8 {
        None
    } else {
        Some(&encode)
    });

    let mut images: Vec<Reference> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut unfetchable: Vec<LeftOut> = Vec::new();
    let mut unfetchable_seen: HashMap<String, ()> = HashMap::new();
    for (raw, how) in state.raw {
        let value = decode_entities(&raw);
        let value = value.trim_matches(is_html_space);
        if value.is_empty() {
            continue;
        }
        let mut skip = |url: String, reason: String| {
            if unfetchable_seen.insert(url.clone(), ()).is_none() {
                unfetchable.push(LeftOut { url, reason });
            }
        };
        if value.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("data:")) {
            let shown: String = value.chars().take(48).collect();
            let shown = if shown.len() < value.len() { format!("{shown}…") } else { shown };
            skip(
                shown,
                format!(
                    "a data: URL ({} characters, in {how}): the image is inside the page itself, not fetched",
                    value.len()
                ),
            );
            continue;
        }
        let url = match options.parse(value) {
            Ok(url) => url,
            Err(e) => {
                skip(value.to_owned(), format!("not a URL ({e}), in {how}"));
                continue;
            }
        };
        if !matches!(url.scheme(), "http" | "https") {
            skip(url.to_string(), format!("a {}: URL, in {how}, cannot be fetched over HTTP", url.scheme()));
            continue;
        }
        let url = crate::http::without_fragment(&url);
        match index.get(url.as_str()) {
            Some(&i) => {
                if !images[i].referenced_by.contains(&how) {
                    images[i].referenced_by.push(how);
                }
            }
            None => {
                index.insert(url.to_string(), images.len());
                images.push(Reference { url, referenced_by: vec![how] });
            }
        }
    }
    Found { images, unfetchable, problem }
}

fn encoder(encoding: &'static Encoding) -> impl Fn(&str) -> std::borrow::Cow<'_, [u8]> {
    move |s| encoding.encode(s).0
}

fn is_html_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0c')
}

/// Runs the tokenizer over the page, collecting references into `state`.
fn tokenize(
    input: &[u8],
    encoding: AsciiCompatibleEncoding,
    follow_meta: bool,
    state: &RefCell<State>,
) -> Option<String> {
    let on_img = |el: &mut Element| {
        let mut s = state.borrow_mut();
        for (attr, how) in [("src", "img src"), ("data-src", "img data-src")] {
            if let Some(v) = el.get_attribute(attr) {
                s.add(v, how);
            }
        }
        for (attr, how) in [("srcset", "img srcset"), ("data-srcset", "img data-srcset")] {
            if let Some(v) = el.get_attribute(attr) {
                s.add_srcset(&v, how);
            }
        }
        Ok(())
    };
    let on_source = |el: &mut Element| {
        if let Some(v) = el.get_attribute("srcset") {
            state.borrow_mut().add_srcset(&v, "picture source srcset");
        }
        Ok(())
    };
    let on_meta = |el: &mut Element| {
        let mut s = state.borrow_mut();
        if s.meta_charset.is_none() {
            s.meta_charset = meta_charset(el);
        }
        let key =
            el.get_attribute("property").or_else(|| el.get_attribute("name")).map(|k| k.to_ascii_lowercase());
        if let Some(key) = key
            && OG_IMAGE.contains(&key.as_str())
            && let Some(v) = el.get_attribute("content")
        {
            s.add(v, &format!("meta {key}"));
        }
        Ok(())
    };
    let on_link = |el: &mut Element| {
        let rel = el.get_attribute("rel").unwrap_or_default().to_ascii_lowercase();
        let rels: Vec<&str> = rel.split(is_html_space).filter(|r| !r.is_empty()).collect();
        let mut s = state.borrow_mut();
        if let Some(kind) =
            rels.iter().find(|r| matches!(**r, "icon" | "apple-touch-icon" | "apple-touch-icon-precomposed"))
        {
            if let Some(href) = el.get_attribute("href") {
                s.add(href, &format!("link {kind}"));
            }
        } else if rels.contains(&"preload")
            && el.get_attribute("as").is_some_and(|a| a.eq_ignore_ascii_case("image"))
        {
            if let Some(href) = el.get_attribute("href") {
                s.add(href, "link preload");
            }
            if let Some(v) = el.get_attribute("imagesrcset") {
                s.add_srcset(&v, "link preload imagesrcset");
            }
        }
        Ok(())
    };
    let on_base = |el: &mut Element| {
        let mut s = state.borrow_mut();
        // The first <base href> is the document's base URL.
        if s.base.is_none() {
            s.base = el.get_attribute("href");
        }
        Ok(())
    };
    let on_video = |el: &mut Element| {
        if let Some(v) = el.get_attribute("poster") {
            state.borrow_mut().add(v, "video poster");
        }
        Ok(())
    };
    let on_input = |el: &mut Element| {
        if el.get_attribute("type").is_some_and(|t| t.eq_ignore_ascii_case("image"))
            && let Some(v) = el.get_attribute("src")
        {
            state.borrow_mut().add(v, "input image");
        }
        Ok(())
    };
    let settings = Settings::new()
        .append_element_content_handler(element!("img", on_img))
        .append_element_content_handler(element!("picture source", on_source))
        .append_element_content_handler(element!("meta", on_meta))
        .append_element_content_handler(element!("link", on_link))
        .append_element_content_handler(element!("base", on_base))
        .append_element_content_handler(element!("video", on_video))
        .append_element_content_handler(element!("input", on_input))
        .with_encoding(encoding)
        .with_adjust_charset_on_meta_tag(follow_meta)
        // Only finding, not rewriting: markup lol_html cannot be sure of is read on, not refused.
        .with_strict(false)
        // The parser buffers at most one tag split across input chunks; it can never need more
        // than the page, which is itself bounded.
        .with_memory_settings(
            MemorySettings::new().with_max_allowed_memory_usage(2 * input.len() + (1 << 20)),
        );
    let mut rewriter = HtmlRewriter::new(settings, |_: &[u8]| {});
    for chunk in input.chunks(64 * 1024) {
        if let Err(e) = rewriter.write(chunk) {
            return Some(format!("the HTML tokenizer stopped: {e}"));
        }
    }
    rewriter.end().err().map(|e| format!("the HTML tokenizer stopped at the end: {e}"))
}

/// The encoding a `<meta>` declares, as lol_html reads it (an ASCII-compatible one only).
fn meta_charset(el: &Element) -> Option<&'static Encoding> {
    let declared = match el.get_attribute("charset") {
        Some(label) => Encoding::for_label_no_replacement(label.trim().as_bytes()),
        None => {
            let equiv = el.get_attribute("http-equiv")?;
            if !equiv.eq_ignore_ascii_case("content-type") {
                return None;
            }
            let content = el.get_attribute("content")?;
            Encoding::for_label_no_replacement(charset_param(&content)?.as_bytes())
        }
    }?;
    AsciiCompatibleEncoding::new(declared).map(|_| declared)
}

/// The URLs of a `srcset` (HTML's "parse a srcset attribute": a URL is a run of non-space
/// characters, so commas inside it stay; trailing commas end a candidate; descriptors run to
/// the next comma outside parentheses).
pub(crate) fn srcset_urls(srcset: &str) -> Vec<&str> {
    let mut urls = Vec::new();
    let bytes = srcset.as_bytes();
    let mut i = 0;
    let space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c');
    while i < bytes.len() {
        while i < bytes.len() && (space(bytes[i]) || bytes[i] == b',') {
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
        let start = i;
        while i < bytes.len() && !space(bytes[i]) {
            i += 1;
        }
        let mut url = &srcset[start..i];
        if url.ends_with(',') {
            url = url.trim_end_matches(',');
            if !url.is_empty() {
                urls.push(url);
            }
            continue;
        }
        urls.push(url);
        // Descriptors, up to a comma outside parentheses.
        let mut depth = 0usize;
        while i < bytes.len() {
            match bytes[i] {
                b'(' => depth += 1,
                b')' => depth = depth.saturating_sub(1),
                b',' if depth == 0 => break,
                _ => {}
            }
            i += 1;
        }
    }
    urls
}

/// Undoes character references in an attribute value (lol_html hands values over as
/// written): numeric ones, and the named ones URLs carry (`&amp;` above all).
pub(crate) fn decode_entities(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('&') {
        return s.into();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        match reference(rest) {
            Some((c, used)) => {
                out.push(c);
                rest = &rest[used..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out.into()
}

/// The character a reference at the start of `s` stands for, and its length.
fn reference(s: &str) -> Option<(char, usize)> {
    let b = s.as_bytes();
    if b.get(1) == Some(&b'#') {
        let (radix, digits_at) = if matches!(b.get(2), Some(b'x' | b'X')) { (16, 3) } else { (10, 2) };
        let digits = s[digits_at..]
            .bytes()
            .take_while(|c| c.is_ascii_hexdigit() && (radix == 16 || c.is_ascii_digit()))
            .count();
        if digits == 0 {
            return None;
        }
        let code = u32::from_str_radix(&s[digits_at..digits_at + digits], radix).ok()?;
        let mut used = digits_at + digits;
        if b.get(used) == Some(&b';') {
            used += 1;
        }
        let c = match code {
            0 => '\u{FFFD}',
            c => char::from_u32(c).unwrap_or('\u{FFFD}'),
        };
        return Some((c, used));
    }
    for (name, c) in
        [("amp;", '&'), ("lt;", '<'), ("gt;", '>'), ("quot;", '"'), ("apos;", '\''), ("nbsp;", '\u{a0}')]
    {
        if s[1..].starts_with(name) {
            return Some((c, 1 + name.len()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srcset_candidates() {
        assert_eq!(srcset_urls("a.jpg 1x, b.jpg 2x"), ["a.jpg", "b.jpg"]);
        // A URL runs to the next space, so a comma without one does not split.
        assert_eq!(srcset_urls("  a.jpg,b.jpg , c.jpg 100w,d.jpg"), ["a.jpg,b.jpg", "c.jpg", "d.jpg"]);
        assert_eq!(srcset_urls("a.jpg, b.jpg,, c.jpg"), ["a.jpg", "b.jpg", "c.jpg"]);
        assert_eq!(
            srcset_urls("https://cdn.example/w_100,h_100/x.jpg 100w, y.jpg (min-width: 3, 4) 2x, z.jpg"),
            ["https://cdn.example/w_100,h_100/x.jpg", "y.jpg", "z.jpg"]
        );
        assert!(srcset_urls(" , ").is_empty());
    }

    #[test]
    fn entities_in_attributes() {
        assert_eq!(decode_entities("a.jpg?x=1&amp;y=2"), "a.jpg?x=1&y=2");
        assert_eq!(decode_entities("&#47;p&#x2F;q&#65"), "/p/qA");
        assert_eq!(decode_entities("a&b&unknown;"), "a&b&unknown;");
    }

    #[test]
    fn references_are_found_resolved_and_deduplicated() {
        let page = Url::parse("https://example.com/dir/page.html").unwrap();
        let html = br#"<!doctype html><html><head>
            <base href="/static/">
            <meta property="og:image" content="https://cdn.example.com/og.jpg">
            <meta name="twitter:image" content="tw.png">
            <link rel="shortcut icon" href="/favicon.ico">
            <link rel="stylesheet" href="x.css">
            </head><body>
            <img src="a.jpg?x=1&amp;y=2#frag">
            <img src="a.jpg?x=1&y=2" srcset="b.jpg 2x, c.jpg 3x">
            <picture><source srcset="d.webp 1x, e.webp 2x"><img src="f.jpg"></picture>
            <img src="data:image/png;base64,iVBORw0KGgo=">
            <img src="javascript:alert(1)">
            <img src="">
            <script>document.write('<img src="in-script.jpg">')</script>
            </body></html>"#;
        let found = image_references(html, Some("text/html"), &page);
        let urls: Vec<&str> = found.images.iter().map(|r| r.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://cdn.example.com/og.jpg",
                "https://example.com/static/tw.png",
                "https://example.com/favicon.ico",
                "https://example.com/static/a.jpg?x=1&y=2",
                "https://example.com/static/b.jpg",
                "https://example.com/static/c.jpg",
                "https://example.com/static/d.webp",
                "https://example.com/static/e.webp",
                "https://example.com/static/f.jpg",
            ]
        );
        assert_eq!(found.images[3].referenced_by, ["img src"]);
        assert_eq!(found.images[0].referenced_by, ["meta og:image"]);
        assert_eq!(found.images[2].referenced_by, ["link icon"]);
        assert_eq!(found.images[6].referenced_by, ["picture source srcset"]);
        assert_eq!(found.unfetchable.len(), 2, "{:?}", found.unfetchable);
        assert!(found.unfetchable[0].reason.contains("data: URL"));
        assert!(found.unfetchable[1].reason.contains("javascript"));
        assert!(found.problem.is_none());
    }

    #[test]
    fn the_encoding_comes_from_the_header_or_the_meta() {
        let page = Url::parse("http://example.jp/").unwrap();
        let (sjis, _, _) =
            encoding_rs::SHIFT_JIS.encode("<meta charset=\"shift_jis\"><img src=\"画像.png?q=名\">");
        let found = image_references(&sjis, Some("text/html"), &page);
        // The path in UTF-8, the query in Shift_JIS (名 is 0x96 0xBC).
        assert_eq!(found.images[0].url.as_str(), "http://example.jp/%E7%94%BB%E5%83%8F.png?q=%96%BC");
        let (gbk, _, _) = encoding_rs::GBK.encode("<img src=\"图片.png\">");
        let found = image_references(&gbk, Some("text/html; charset=GBK"), &page);
        assert_eq!(found.images[0].url.as_str(), "http://example.jp/%E5%9B%BE%E7%89%87.png");
        // UTF-16 (which lol_html cannot read) is decoded first; its URLs' queries are UTF-8.
        let mut le = vec![0xFF, 0xFE];
        for u in "<img src=\"画.png?q=名\">".encode_utf16() {
            le.extend_from_slice(&u.to_le_bytes());
        }
        let found = image_references(&le, None, &page);
        assert_eq!(found.images[0].url.as_str(), "http://example.jp/%E7%94%BB.png?q=%E5%90%8D");
    }
}
