//! Whether bytes are an image, by their first bytes (the formats' signatures), whatever the
//! server's `Content-Type` says: a server that answers a missing image with an HTML error
//! page (often with status 200) must not pass for having served the image.

/// The image format these bytes start with, if any.
pub fn image_format(b: &[u8]) -> Option<&'static str> {
    if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some("jpeg");
    }
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some("png");
    }
    if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        return Some("gif");
    }
    if b.len() >= 12 && &b[0..4] == b"RIFF" && &b[8..12] == b"WEBP" {
        return Some("webp");
    }
    // ISO base media files (AVIF, HEIF): a `ftyp` box whose major brand names the format.
    if b.len() >= 12 && &b[4..8] == b"ftyp" {
        match &b[8..12] {
            b"avif" | b"avis" => return Some("avif"),
            b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" => return Some("heic"),
            b"mif1" | b"msf1" => return Some("heif"),
            _ => {}
        }
    }
    if b.starts_with(&[0xFF, 0x0A]) || b.starts_with(b"\x00\x00\x00\x0cJXL \r\n\x87\n") {
        return Some("jxl");
    }
    if b.starts_with(b"II*\x00") || b.starts_with(b"MM\x00*") {
        return Some("tiff");
    }
    if b.starts_with(b"BM") && b.len() >= 26 {
        return Some("bmp");
    }
    if b.len() >= 6 && (b.starts_with(&[0, 0, 1, 0]) || b.starts_with(&[0, 0, 2, 0])) && b[4..6] != [0, 0] {
        return Some("ico");
    }
    if is_svg(b) {
        return Some("svg");
    }
    None
}

/// An SVG document: XML whose first element is `<svg` (an XML declaration, comments and a
/// doctype may come first), not an HTML page that holds an inline SVG.
fn is_svg(b: &[u8]) -> bool {
    let start = &b[..b.len().min(4096)];
    let text = String::from_utf8_lossy(start).to_ascii_lowercase();
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if !(text.starts_with("<svg")
        || text.starts_with("<?xml")
        || text.starts_with("<!--")
        || text.starts_with("<!doctype svg"))
    {
        return false;
    }
    match (text.find("<svg"), text.find("<html")) {
        (Some(svg), Some(html)) => svg < html,
        (Some(_), None) => true,
        _ => false,
    }
}

/// What a body that is not an image looks like, for the record: its start as text.
pub(crate) fn describe(b: &[u8]) -> String {
    if b.is_empty() {
        return "an empty body".to_owned();
    }
    let start: String = String::from_utf8_lossy(&b[..b.len().min(60)])
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!("{} bytes starting {:?}", b.len(), start.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_signature() {
        assert_eq!(image_format(b"\xFF\xD8\xFF\xE0\x00\x10JFIF"), Some("jpeg"));
        assert_eq!(image_format(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some("png"));
        assert_eq!(image_format(b"GIF89a\x01\x00"), Some("gif"));
        assert_eq!(image_format(b"RIFF\x24\0\0\0WEBPVP8 "), Some("webp"));
        assert_eq!(image_format(b"\0\0\0\x1cftypavif\0\0\0\0"), Some("avif"));
        assert_eq!(image_format(b"\0\0\0\x18ftypheic\0\0\0\0"), Some("heic"));
        assert_eq!(image_format(b"\0\0\0\x18ftypisom\0\0\0\0"), None, "an MP4 video");
        assert_eq!(image_format(b"\0\0\x01\0\x01\0\x10\x10"), Some("ico"));
        assert_eq!(
            image_format(b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>"),
            Some("svg")
        );
        assert_eq!(image_format(b"<!DOCTYPE html><html><body><svg></svg>"), None);
        assert_eq!(image_format(b"<!-- x --><html><svg></svg></html>"), None);
        assert_eq!(image_format(b"Not Found"), None);
        assert_eq!(image_format(b""), None);
    }

    #[test]
    fn descriptions_show_the_start() {
        assert_eq!(
            describe(b"<html>\n<title>404</title>"),
            "25 bytes starting \"<html> <title>404</title>\""
        );
        assert_eq!(describe(b""), "an empty body");
    }
}
