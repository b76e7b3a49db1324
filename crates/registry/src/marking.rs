//! Watermarking files: decode with alpha and metadata kept, embed, write the same format.
//!
//! PNG is rewritten losslessly in its own colour type (grey, grey + alpha, RGB, RGBA), with
//! every ancillary chunk of the original (text, EXIF, ICC, C2PA, …) carried over. JPEG is
//! re-encoded at quality 95 with its APP1–APP15 and COM segments carried over. WebP is
//! written lossless with its EXIF, XMP and ICC profile. Refused with a message: 16-bit PNG,
//! CMYK JPEG, animated images, GIF, images under 256 × 256, and images whose header declares
//! more than the decoding limit (refused before anything is decoded), and images the
//! watermark does not read back from even when made stronger (docs/watermark.md).

use std::io::Cursor;
use std::path::{Path, PathBuf};

use watermark::{Detection, Embedded};

use crate::RegistryError;
use crate::works::MAX_IMAGE_FILE;

/// Pixels with 1 to 4 channels and the metadata to write back.
struct Decoded {
    width: usize,
    height: usize,
    channels: usize,
    pixels: Vec<u8>,
    kind: Kind,
}

enum Kind {
    /// Ancillary chunks (type and data), in order.
    Png(Vec<([u8; 4], Vec<u8>)>),
    /// APPn (n ≥ 1) and COM segments (marker and payload), in order.
    Jpeg(Vec<(u8, Vec<u8>)>),
    WebP {
        exif: Option<Vec<u8>>,
        xmp: Option<Vec<u8>>,
        icc: Option<Vec<u8>>,
    },
}

fn fail(path: &Path, message: impl Into<String>) -> RegistryError {
    RegistryError::File { path: path.into(), message: message.into() }
}

/// The chunks of a PNG after the signature: (type, data), CRCs not checked (the decoder did).
fn png_chunks(bytes: &[u8]) -> Vec<([u8; 4], Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = 8;
    while at + 12 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes")) as usize;
        let kind: [u8; 4] = bytes[at + 4..at + 8].try_into().expect("4 bytes");
        let Some(data) = bytes.get(at + 8..at + 8 + len) else { break };
        out.push((kind, data.to_vec()));
        at += 12 + len;
    }
    out
}

/// The segments of a JPEG before its first scan: (marker, payload).
fn jpeg_segments(bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = 2;
    while at + 4 <= bytes.len() && bytes[at] == 0xFF {
        let marker = bytes[at + 1];
        if marker == 0xDA || marker == 0xD9 {
            break;
        }
        let len = u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]) as usize;
        let Some(payload) = bytes.get(at + 4..at + 2 + len) else { break };
        out.push((marker, payload.to_vec()));
        at += 2 + len;
    }
    out
}

fn decode(path: &Path, bytes: &[u8]) -> Result<Decoded, RegistryError> {
    let damaged = |e: &dyn std::fmt::Display| fail(path, format!("damaged image: {e}"));
    // The size the header declares, before any decoder runs or allocates.
    if let Some((format, width, height)) = fingerprint::decode::declared_size(bytes) {
        check_size(path, format, width, height)?;
    }
    match fingerprint::decode::Format::sniff(bytes) {
        Some(format @ fingerprint::decode::Format::Png) => {
            let mut decoder = fingerprint::decode::png_decoder(bytes);
            decoder.set_transformations(png::Transformations::EXPAND);
            let png_failed = |e: png::DecodingError| match e {
                png::DecodingError::LimitsExceeded => {
                    fail(path, fingerprint::decode::png_limit_message(bytes))
                }
                e => damaged(&e),
            };
            let mut reader = decoder.read_info().map_err(png_failed)?;
            let info = reader.info();
            let (width, height) = (info.width, info.height);
            check_size(path, format, width, height)?;
            if info.bit_depth == png::BitDepth::Sixteen {
                return Err(fail(
                    path,
                    "16-bit PNG: the watermark is embedded in 8-bit images; convert it to 8 bits first",
                ));
            }
            if info.animation_control().is_some_and(|a| a.num_frames > 1) {
                return Err(fail(path, "animated PNG: handprint watermarks still images only"));
            }
            let mut pixels =
                vec![0; reader.output_buffer_size().ok_or_else(|| fail(path, "image too large"))?];
            let frame = reader.next_frame(&mut pixels).map_err(png_failed)?;
            pixels.truncate(frame.buffer_size());
            let channels = frame.color_type.samples();
            // Ancillary chunks are carried over as they are in the file (text and ICC
            // profiles included, which the decoder skipped).
            let keep = png_chunks(bytes)
                .into_iter()
                .filter(|(kind, _)| {
                    kind[0].is_ascii_lowercase() && !matches!(kind, b"acTL" | b"fcTL" | b"fdAT")
                })
                .collect();
            let (width, height) = (width as usize, height as usize);
            Ok(Decoded { width, height, channels, pixels, kind: Kind::Png(keep) })
        }
        Some(format @ fingerprint::decode::Format::Jpeg) => {
            let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
            decoder.read_info().map_err(|e| damaged(&e))?;
            let info = decoder.info().ok_or_else(|| fail(path, "no JPEG frame header"))?;
            check_size(path, format, info.width as u32, info.height as u32)?;
            let channels = match info.pixel_format {
                jpeg_decoder::PixelFormat::RGB24 => 3,
                jpeg_decoder::PixelFormat::L8 => 1,
                jpeg_decoder::PixelFormat::L16 => return Err(fail(path, "12/16-bit JPEG: not supported")),
                jpeg_decoder::PixelFormat::CMYK32 => {
                    return Err(fail(
                        path,
                        "CMYK JPEG: the watermark is embedded in RGB or grey images; convert it first",
                    ));
                }
            };
            let (width, height) = (info.width as usize, info.height as usize);
            decoder.set_max_decoding_buffer_size(max_pixels().saturating_mul(4) as usize);
            let pixels = decoder.decode().map_err(|e| damaged(&e))?;
            if pixels.len() != width * height * channels {
                return Err(damaged(&format!("decoded {} bytes for {width} × {height}", pixels.len())));
            }
            let keep = jpeg_segments(bytes)
                .into_iter()
                .filter(|(m, _)| (0xE1..=0xEF).contains(m) || *m == 0xFE)
                .collect();
            Ok(Decoded { width, height, channels, pixels, kind: Kind::Jpeg(keep) })
        }
        Some(format @ fingerprint::decode::Format::WebP) => {
            let mut decoder = image_webp::WebPDecoder::new(Cursor::new(bytes)).map_err(|e| damaged(&e))?;
            let (w, h) = decoder.dimensions();
            check_size(path, format, w, h)?;
            if decoder.is_animated() {
                return Err(fail(path, "animated WebP: handprint watermarks still images only"));
            }
            decoder.set_memory_limit(max_pixels().saturating_mul(4) as usize);
            let (width, height) = (w as usize, h as usize);
            let channels = if decoder.has_alpha() { 4 } else { 3 };
            let mut pixels = vec![0; width * height * channels];
            decoder.read_image(&mut pixels).map_err(|e| damaged(&e))?;
            let exif = decoder.exif_metadata().ok().flatten();
            let xmp = decoder.xmp_metadata().ok().flatten();
            let icc = decoder.icc_profile().ok().flatten();
            Ok(Decoded { width, height, channels, pixels, kind: Kind::WebP { exif, xmp, icc } })
        }
        Some(fingerprint::decode::Format::Gif) => Err(fail(
            path,
            "GIF: a palette of 256 colours cannot carry the watermark; convert it to PNG first",
        )),
        None => Err(fail(path, "not an image handprint can read (PNG, JPEG, WebP)")),
    }
}

fn max_pixels() -> u64 {
    fingerprint::decode::Limits::default().max_pixels
}

/// Refuses, before decoding, an image over the pixel limit or under the watermark's size;
/// the message gives the size the file declares.
fn check_size(
    path: &Path,
    format: fingerprint::decode::Format,
    width: u32,
    height: u32,
) -> Result<(), RegistryError> {
    let limit = max_pixels();
    if width as u64 * height as u64 > limit {
        let e = fingerprint::decode::DecodeError::TooLarge { format: format.name(), width, height, limit };
        return Err(fail(path, e.to_string()));
    }
    if (width as usize) < watermark::MIN_SIDE || (height as usize) < watermark::MIN_SIDE {
        return Err(fail(
            path,
            format!(
                "{} of {width} × {height} pixels is too small to watermark (at least 256 × 256)",
                format.name()
            ),
        ));
    }
    Ok(())
}

fn encode(d: &Decoded) -> Vec<u8> {
    match &d.kind {
        Kind::Png(chunks) => {
            let mut encoded = Vec::new();
            {
                let mut enc = png::Encoder::new(&mut encoded, d.width as u32, d.height as u32);
                enc.set_color(match d.channels {
                    1 => png::ColorType::Grayscale,
                    2 => png::ColorType::GrayscaleAlpha,
                    3 => png::ColorType::Rgb,
                    _ => png::ColorType::Rgba,
                });
                enc.set_depth(png::BitDepth::Eight);
                let mut w = enc.write_header().expect("writing to memory");
                w.write_image_data(&d.pixels).expect("buffer matches the header");
            }
            // Signature and IHDR, the original's ancillary chunks, then the new pixels.
            let ihdr_end = 8 + 12 + 13;
            let mut out = encoded[..ihdr_end].to_vec();
            for (kind, data) in chunks {
                out.extend_from_slice(&(data.len() as u32).to_be_bytes());
                let start = out.len();
                out.extend_from_slice(kind);
                out.extend_from_slice(data);
                let crc = crc32fast::hash(&out[start..]);
                out.extend_from_slice(&crc.to_be_bytes());
            }
            out.extend_from_slice(&encoded[ihdr_end..]);
            out
        }
        Kind::Jpeg(segments) => {
            let mut encoded = Vec::new();
            let colour =
                if d.channels == 1 { jpeg_encoder::ColorType::Luma } else { jpeg_encoder::ColorType::Rgb };
            jpeg_encoder::Encoder::new(&mut encoded, 95)
                .encode(&d.pixels, d.width as u16, d.height as u16, colour)
                .expect("size checked");
            // SOI and the encoder's APP0, the original's segments, then the rest.
            let app0_end = 4 + u16::from_be_bytes([encoded[4], encoded[5]]) as usize;
            let mut out = encoded[..app0_end].to_vec();
            for (marker, payload) in segments {
                out.extend_from_slice(&[0xFF, *marker]);
                out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
                out.extend_from_slice(payload);
            }
            out.extend_from_slice(&encoded[app0_end..]);
            out
        }
        Kind::WebP { exif, xmp, icc } => {
            let mut out = Vec::new();
            let mut enc = image_webp::WebPEncoder::new(&mut out);
            if let Some(e) = exif {
                enc.set_exif_metadata(e.clone());
            }
            if let Some(x) = xmp {
                enc.set_xmp_metadata(x.clone());
            }
            if let Some(i) = icc {
                enc.set_icc_profile(i.clone());
            }
            let colour =
                if d.channels == 4 { image_webp::ColorType::Rgba8 } else { image_webp::ColorType::Rgb8 };
            enc.encode(&d.pixels, d.width as u32, d.height as u32, colour).expect("size checked");
            out
        }
    }
}

/// Embeds `payload` into the image at `input` and writes the result to `output` (through a
/// temporary file and a rename: a failed write leaves nothing half-written).
pub fn embed_file(input: &Path, output: &Path, payload: u64) -> Result<Embedded, RegistryError> {
    let bytes = crate::read_limited(input, MAX_IMAGE_FILE)?;
    let (out, embedded) = embed_bytes(input, &bytes, payload, None, None)?;
    write_atomically(output, &out)?;
    Ok(embedded)
}

/// The temporary file `path` is written through: hidden, in the same folder (so that the
/// rename that ends the write stays on one file system).
pub(crate) fn temporary_path(path: &Path) -> Result<PathBuf, RegistryError> {
    let name = path.file_name().ok_or_else(|| fail(path, "not a file name"))?;
    Ok(path.with_file_name(format!(".{}.tmp", name.to_string_lossy())))
}

/// Writes `data` to `path` through a temporary file in the same folder and a rename.
pub(crate) fn write_atomically(path: &Path, data: &[u8]) -> Result<(), RegistryError> {
    let tmp = temporary_path(path)?;
    std::fs::write(&tmp, data).map_err(|e| RegistryError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| RegistryError::io(path, e))
}

/// Rewrites an XMP packet: given the file's packet (if any), returns the one to write.
pub(crate) type XmpEdit<'a> = &'a dyn Fn(Option<&str>) -> Result<String, RegistryError>;

const XMP_KEYWORD: &[u8] = b"XML:com.adobe.xmp";
const XMP_APP1: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";

/// The image `bytes` (read from `path`) with the visible `label` drawn (if given), then
/// `payload` embedded, in the same format, and with its XMP packet rewritten by `xmp` (if
/// given).
pub(crate) fn embed_bytes(
    path: &Path,
    bytes: &[u8],
    payload: u64,
    xmp: Option<XmpEdit>,
    label: Option<&str>,
) -> Result<(Vec<u8>, Embedded), RegistryError> {
    let mut marked = mark(path, bytes, payload, label)?;
    let out = marked.encode(path, xmp)?;
    Ok((out, marked.embedded))
}

/// Watermarked pixels with the file's metadata, ready to be written in the file's format.
pub(crate) struct Marked {
    decoded: Decoded,
    pub embedded: Embedded,
    /// The file as last encoded: first the one the watermark was read back from.
    file: Vec<u8>,
}

/// Decodes `bytes` (read from `path`), draws the visible `label` (if given) and embeds
/// `payload`, made stronger until it reads back from the encoded file: the costly part of
/// marking, done once however many times the result is encoded.
pub(crate) fn mark(
    path: &Path,
    bytes: &[u8],
    payload: u64,
    label: Option<&str>,
) -> Result<Marked, RegistryError> {
    mark_within(path, bytes, payload, label, MAX_STRENGTHENING)
}

/// [`mark`], strengthening the watermark by at most `max_strengthening` dB.
fn mark_within(
    path: &Path,
    bytes: &[u8],
    payload: u64,
    label: Option<&str>,
    max_strengthening: f64,
) -> Result<Marked, RegistryError> {
    let mut decoded = decode(path, bytes)?;
    if let Some(text) = label {
        let d = &mut decoded;
        credentials::label::draw(d.width as u32, d.height as u32, d.channels, &mut d.pixels, text)
            .map_err(|e| fail(path, e.to_string()))?;
    }
    let unmarked = decoded.pixels.clone();
    let mut psnr = watermark::TARGET_PSNR;
    loop {
        let d = &mut decoded;
        let embedded = watermark::embed_at(d.width, d.height, d.channels, &mut d.pixels, payload, psnr)
            .map_err(|e| fail(path, e.to_string()))?;
        if let Some(file) = reads_back(path, &decoded, payload)? {
            return Ok(Marked { decoded, embedded, file });
        }
        if psnr <= watermark::TARGET_PSNR - max_strengthening {
            return Err(fail(
                path,
                format!(
                    "the watermark does not read back from this image, even {max_strengthening} dB \
                     stronger than usual (PSNR {:.1} dB): the image is too small or too busy to \
                     carry it; nothing was written",
                    embedded.psnr
                ),
            ));
        }
        decoded.pixels.copy_from_slice(&unmarked);
        psnr -= 1.0;
    }
}

/// How much stronger than [`watermark::TARGET_PSNR`] a watermark is made, in dB, when it
/// does not read back at first. Small, busy images need it: of 40 payloads in each quarter
/// and centre 256 × 256 of the Kodak photos, 4.1% did not read back at the usual strength,
/// all within 5 dB more (docs/watermark.md).
const MAX_STRENGTHENING: f64 = 6.0;

/// The file `d` encodes to, if `payload` is read from it as a verifier reads it (decoded
/// with the verifier's limits). A mark that does not read back would make the journal proof
/// of a seal fail to verify.
fn reads_back(path: &Path, d: &Decoded, payload: u64) -> Result<Option<Vec<u8>>, RegistryError> {
    let file = encode(d);
    let decoded = fingerprint::decode::decode(&file, &crate::verify_image::VERIFY_LIMITS)
        .map_err(|e| fail(path, format!("the watermarked image does not decode: {e}")))?;
    Ok((detect_image(path, &decoded.image)?.payload == Some(payload)).then_some(file))
}

impl Marked {
    /// The marked image in its file's format, its XMP packet rewritten by `xmp` (if given).
    pub(crate) fn encode(&mut self, path: &Path, xmp: Option<XmpEdit>) -> Result<Vec<u8>, RegistryError> {
        // Without an XMP edit, the file last encoded (to read the watermark back) is it.
        if let Some(edit) = xmp {
            self.rewrite_xmp(path, edit)?;
            self.file = encode(&self.decoded);
        }
        Ok(self.file.clone())
    }

    fn rewrite_xmp(&mut self, path: &Path, edit: XmpEdit) -> Result<(), RegistryError> {
        match &mut self.decoded.kind {
            Kind::Png(chunks) => {
                let at = chunks.iter().position(|(k, d)| k == b"iTXt" && d.starts_with(XMP_KEYWORD));
                let old = match at {
                    Some(i) => itxt_text(&chunks[i].1).map_err(|e| fail(path, e))?,
                    None => None,
                };
                // iTXt: keyword, NUL, uncompressed, method 0, no language, no translated keyword.
                let mut data = XMP_KEYWORD.to_vec();
                data.extend_from_slice(&[0, 0, 0, 0, 0]);
                data.extend_from_slice(edit(old.as_deref())?.as_bytes());
                match at {
                    Some(i) => chunks[i].1 = data,
                    None => chunks.insert(0, (*b"iTXt", data)),
                }
            }
            Kind::Jpeg(segments) => {
                let at = segments.iter().position(|(m, d)| *m == 0xE1 && d.starts_with(XMP_APP1));
                let old = at.map(|i| String::from_utf8_lossy(&segments[i].1[XMP_APP1.len()..]).into_owned());
                let mut data = XMP_APP1.to_vec();
                data.extend_from_slice(edit(old.as_deref())?.as_bytes());
                if data.len() + 2 > u16::MAX as usize {
                    return Err(fail(path, "the XMP packet is over the 64 KiB a JPEG segment holds"));
                }
                match at {
                    Some(i) => segments[i].1 = data,
                    None => segments.push((0xE1, data)),
                }
            }
            Kind::WebP { xmp: packet, .. } => {
                let old = packet.as_ref().map(|p| String::from_utf8_lossy(p).into_owned());
                *packet = Some(edit(old.as_deref())?.into_bytes());
            }
        }
        Ok(())
    }
}

/// The most an XMP packet may inflate to: a packet is kilobytes; a zlib stream of a few
/// megabytes could otherwise unpack to gigabytes.
pub const MAX_XMP: u64 = 16 << 20;

/// The text of an iTXt chunk (inflated if compressed, up to [`MAX_XMP`]). `Ok(None)` for a
/// chunk that is not readable text; `Err` for one that inflates past the limit.
fn itxt_text(data: &[u8]) -> Result<Option<String>, String> {
    let Some(text) = itxt_fields(data) else { return Ok(None) };
    let (compressed, text) = text;
    if !compressed {
        return Ok(String::from_utf8(text.to_vec()).ok());
    }
    match capture::inflate::zlib_bounded(text, MAX_XMP) {
        Ok(out) => Ok(String::from_utf8(out).ok()),
        Err(capture::CaptureError::InflateLimit { .. }) => Err(format!(
            "the XMP packet (iTXt {}) inflates to more than handprint's limit of {} MiB",
            String::from_utf8_lossy(XMP_KEYWORD),
            MAX_XMP >> 20
        )),
        Err(_) => Ok(None),
    }
}

/// An iTXt chunk's compression flag and text (keyword, language and translated keyword
/// skipped).
fn itxt_fields(data: &[u8]) -> Option<(bool, &[u8])> {
    let nul = data.iter().position(|&b| b == 0)?;
    let (compressed, rest) = (*data.get(nul + 1)? == 1, data.get(nul + 3..)?);
    let lang_end = rest.iter().position(|&b| b == 0)?;
    let rest = &rest[lang_end + 1..];
    let tk_end = rest.iter().position(|&b| b == 0)?;
    Some((compressed, &rest[tk_end + 1..]))
}

/// Looks for a watermark in the image at `path`.
pub fn detect_file(path: &Path) -> Result<Detection, RegistryError> {
    let bytes = crate::read_limited(path, MAX_IMAGE_FILE)?;
    let decoded = fingerprint::decode::decode(
        &bytes,
        &fingerprint::decode::Limits { min_side: 64, ..Default::default() },
    )
    .map_err(|e| fail(path, e.to_string()))?;
    detect_image(path, &decoded.image)
}

/// Looks for a watermark in decoded pixels (`path` names them in errors).
pub fn detect_image(path: &Path, image: &fingerprint::decode::Rgb) -> Result<Detection, RegistryError> {
    let found = watermark::detect(image.width as usize, image.height as usize, 3, &image.pixels)
        .map_err(|e| fail(path, e.to_string()))?;
    // Bars or a frame added around a copy change its size, and so the tile size the
    // detector expects first: try again without them.
    if found.payload.is_none()
        && let Some([l, t, r, b]) = fingerprint::prints::trim(image)
    {
        let (w, h) = ((r - l) as usize, (b - t) as usize);
        let mut inner = Vec::with_capacity(w * h * 3);
        for y in t as usize..b as usize {
            inner.extend_from_slice(&image.pixels[(y * image.width as usize + l as usize) * 3..][..w * 3]);
        }
        if let Ok(d) = watermark::detect(w, h, 3, &inner)
            && d.payload.is_some()
        {
            return Ok(d);
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn itxt(text: &[u8], compressed: bool) -> Vec<u8> {
        let mut data = XMP_KEYWORD.to_vec();
        data.extend_from_slice(&[0, compressed as u8, 0, 0, 0]);
        if compressed {
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
            z.write_all(text).unwrap();
            data.extend(z.finish().unwrap());
        } else {
            data.extend_from_slice(text);
        }
        data
    }

    #[test]
    fn a_watermark_that_does_not_read_back_is_refused() {
        // The bottom-right quarter of kodim13 needs a stronger mark than the usual
        // (tests/watermark_readback.rs): allowed none, marking is refused.
        let photo = fixtures::images::kodak("kodim13");
        let (w, h) = (photo.width / 2, photo.height / 2);
        let png = photo.crop(w, h, w, h).png();
        let path = Path::new("quarter.png");
        let err = mark_within(path, &png, 42, None, 0.0).err().expect("refused").to_string();
        assert!(err.contains("quarter.png") && err.contains("does not read back"), "{err}");
        assert!(mark_within(path, &png, 42, None, MAX_STRENGTHENING).is_ok());
    }

    #[test]
    fn an_xmp_packet_is_inflated_up_to_the_limit_and_no_further() {
        assert_eq!(itxt_text(&itxt(b"<x:xmpmeta/>", true)).unwrap().as_deref(), Some("<x:xmpmeta/>"));
        assert_eq!(itxt_text(&itxt(b"<x:xmpmeta/>", false)).unwrap().as_deref(), Some("<x:xmpmeta/>"));
        let at_limit = vec![b' '; MAX_XMP as usize];
        assert_eq!(itxt_text(&itxt(&at_limit, true)).unwrap().map(|t| t.len()), Some(MAX_XMP as usize));
        let over = vec![b' '; MAX_XMP as usize + 1];
        let err = itxt_text(&itxt(&over, true)).unwrap_err();
        assert!(err.contains("inflates to more than handprint's limit of 16 MiB"), "{err}");
        assert_eq!(itxt_text(b"XML:com.adobe.xmp\0\x01\0\0\0not zlib").unwrap(), None);
    }
}
