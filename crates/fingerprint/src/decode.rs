//! Bytes to RGB pixels, with limits checked before anything large is allocated.
//!
//! PNG, JPEG, WebP and GIF. The size the file declares is read from its header
//! ([`declared_size`]) and refused above [`Limits::max_pixels`] before any decoder runs, so a
//! decompression bomb costs a few hundred bytes of reading; every decoder in handprint goes
//! through that check. PNG metadata the pixels do not need (text, ICC profiles) is skipped
//! undecompressed ([`png_decoder`]). JPEGs can be decoded at 1/2, 1/4 or 1/8 scale inside the
//! IDCT (`jpeg_scale_to`): a fingerprint needs a small image, and this is most of a large
//! JPEG's decoding time; the limit still applies to the size declared, not the scaled one.
//! Animated files give their first frame and say how many there are.

use std::io::Cursor;

use zune_jpeg::zune_core::bytestream::ZCursor;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;

/// What a decode may cost.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest image, in pixels, as its file declares it (width × height before any JPEG
    /// scaling: a JPEG too large to decode whole is refused at every scale).
    pub max_pixels: u64,
    /// Smallest width and height worth fingerprinting (declared, and after any scaling).
    pub min_side: u32,
    /// Decode JPEGs at the smallest DCT scale that keeps both sides at least this long.
    pub jpeg_scale_to: Option<u32>,
}

impl Limits {
    /// 64 Mi pixels, sides of at least 32, no scaling.
    pub const DEFAULT: Limits = Limits { max_pixels: 64 << 20, min_side: 32, jpeg_scale_to: None };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Png,
    Jpeg,
    WebP,
    Gif,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Png => "PNG",
            Format::Jpeg => "JPEG",
            Format::WebP => "WebP",
            Format::Gif => "GIF",
        }
    }

    pub fn sniff(bytes: &[u8]) -> Option<Format> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Format::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Format::Jpeg)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(Format::WebP)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(Format::Gif)
        } else {
            None
        }
    }
}

/// 8-bit RGB pixels, row by row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rgb {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

#[derive(Clone, Debug)]
pub struct Decoded {
    pub image: Rgb,
    pub format: Format,
    /// The size the file declares (the decoded image is smaller when a JPEG was scaled).
    pub declared: (u32, u32),
    /// Frames in an animated file (the first was decoded); `None` for a still image.
    pub frames: Option<u32>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("not an image handprint can read (PNG, JPEG, WebP or GIF)")]
    Unrecognised,
    #[error(
        "{format} of {width} × {height} pixels ({:.1} megapixels) is over the limit of {:.1} megapixels: refused undecoded",
        *width as f64 * *height as f64 / 1e6,
        *limit as f64 / 1e6
    )]
    TooLarge { format: &'static str, width: u32, height: u32, limit: u64 },
    #[error("{format} of {width} × {height} pixels is too small to fingerprint (at least {min} × {min})")]
    TooSmall { format: &'static str, width: u32, height: u32, min: u32 },
    #[error("damaged {format}: {message}")]
    Damaged { format: &'static str, message: String },
}

/// The format and size (width, height) an image file declares, from its header alone: PNG's
/// IHDR, JPEG's frame header (SOF0–SOF15), WebP's VP8X canvas or VP8/VP8L frame header, GIF's
/// logical screen. Nothing is decoded or allocated. `None` when the header cannot be read.
pub fn declared_size(bytes: &[u8]) -> Option<(Format, u32, u32)> {
    let format = Format::sniff(bytes)?;
    let le16 = |at: usize| Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?) as u32);
    let le24 = |at: usize| {
        let b = bytes.get(at..at + 3)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], 0]))
    };
    let (width, height) = match format {
        Format::Png => {
            if bytes.get(12..16)? != b"IHDR" {
                return None;
            }
            let be32 = |at: usize| Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?));
            (be32(16)?, be32(20)?)
        }
        Format::Jpeg => jpeg_frame_size(bytes)?,
        Format::WebP => match bytes.get(12..16)? {
            b"VP8X" => (le24(24)? + 1, le24(27)? + 1),
            b"VP8L" if *bytes.get(20)? == 0x2f => {
                let bits = u32::from_le_bytes(bytes.get(21..25)?.try_into().ok()?);
                ((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1)
            }
            b"VP8 " if bytes.get(23..26)? == [0x9d, 0x01, 0x2a] => (le16(26)? & 0x3fff, le16(28)? & 0x3fff),
            _ => return None,
        },
        Format::Gif => (le16(6)?, le16(8)?),
    };
    Some((format, width, height))
}

/// A JPEG's frame size from its first SOFn segment (height, then width, after the sample
/// precision). Bytes between segments are skipped up to the next 0xFF, as decoders do.
fn jpeg_frame_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let be16 = |at: usize| Some(u16::from_be_bytes(bytes.get(at..at + 2)?.try_into().ok()?) as u32);
    let mut at = 2;
    loop {
        at += bytes.get(at..)?.iter().position(|&b| b == 0xFF)?;
        at += bytes.get(at..)?.iter().position(|&b| b != 0xFF)?;
        let marker = bytes[at];
        at += 1;
        match marker {
            0x00 | 0x01 | 0xD0..=0xD8 => continue,
            0xD9 | 0xDA => return None,
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                return Some((be16(at + 5)?, be16(at + 3)?));
            }
            _ => at += be16(at)?.max(2) as usize,
        }
    }
}

/// A PNG decoder that reads what pixels need and no more: text and ICC profile chunks are
/// skipped without being decompressed (a compressed profile can inflate to gigabytes), and
/// what it still buffers (an eXIf chunk, one row) is bounded by the file's own size.
pub fn png_decoder(bytes: &[u8]) -> png::Decoder<Cursor<&[u8]>> {
    let mut decoder =
        png::Decoder::new_with_limits(Cursor::new(bytes), png::Limits { bytes: png_budget(bytes) });
    decoder.set_ignore_text_chunk(true);
    decoder.set_ignore_iccp_chunk(true);
    decoder
}

/// What [`png_decoder`] may allocate besides the pixels: twice the file (an eXIf chunk is
/// buffered as it is read, and cannot be skipped) and 16 MiB for rows.
pub fn png_budget(bytes: &[u8]) -> usize {
    bytes.len().saturating_mul(2).saturating_add(16 << 20)
}

/// The message for a PNG whose metadata goes over [`png_budget`].
pub fn png_limit_message(bytes: &[u8]) -> String {
    format!(
        "a metadata chunk (eXIf) needs more than handprint's limit of {} MiB for this file",
        png_budget(bytes) >> 20
    )
}

pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Decoded, DecodeError> {
    let format = Format::sniff(bytes).ok_or(DecodeError::Unrecognised)?;
    // The header's size first, before any decoder runs (each checks its own reading again).
    if let Some((format, width, height)) = declared_size(bytes) {
        check(format, width, height, limits).map_err(|e| {
            e.unwrap_or_else(|message| DecodeError::Damaged { format: format.name(), message })
        })?;
    }
    let decoded = match format {
        Format::Png => png(bytes, limits),
        Format::Jpeg => jpeg(bytes, limits),
        Format::WebP => webp(bytes, limits),
        Format::Gif => gif(bytes, limits),
    };
    decoded.map_err(|e| e.unwrap_or_else(|message| DecodeError::Damaged { format: format.name(), message }))
}

/// `Ok(limit error)` or `Err(decoder message)`.
type Failure = Result<DecodeError, String>;

fn check(format: Format, width: u32, height: u32, limits: &Limits) -> Result<(), Failure> {
    if width as u64 * height as u64 > limits.max_pixels {
        return Err(Ok(DecodeError::TooLarge {
            format: format.name(),
            width,
            height,
            limit: limits.max_pixels,
        }));
    }
    if width < limits.min_side || height < limits.min_side {
        return Err(Ok(DecodeError::TooSmall { format: format.name(), width, height, min: limits.min_side }));
    }
    Ok(())
}

fn message(e: impl std::fmt::Display) -> Failure {
    Err(e.to_string())
}

fn png(bytes: &[u8], limits: &Limits) -> Result<Decoded, Failure> {
    let mut decoder = png_decoder(bytes);
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    // Size first: `read_info` allocates nothing large, and the IHDR is all it needs.
    let limit = |e: png::DecodingError| match e {
        png::DecodingError::LimitsExceeded => Err(png_limit_message(bytes)),
        e => message(e),
    };
    let mut reader = decoder.read_info().map_err(limit)?;
    let (width, height) = (reader.info().width, reader.info().height);
    check(Format::Png, width, height, limits)?;
    let frames = reader.info().animation_control().map(|a| a.num_frames).filter(|&n| n > 1);
    let mut buf =
        vec![0; reader.output_buffer_size().ok_or_else(|| "image size overflows".to_string()).map_err(Err)?];
    let info = reader.next_frame(&mut buf).map_err(limit)?;
    buf.truncate(info.buffer_size());
    let pixels = to_rgb(buf, info.color_type.samples());
    Ok(Decoded {
        image: Rgb { width, height, pixels },
        format: Format::Png,
        declared: (width, height),
        frames,
    })
}

fn jpeg(bytes: &[u8], limits: &Limits) -> Result<Decoded, Failure> {
    use jpeg_decoder::PixelFormat;
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder.read_info().map_err(message)?;
    let info = decoder.info().ok_or_else(|| Err("no frame header".to_string()))?;
    let declared = (info.width as u32, info.height as u32);
    // The declared size decides, whatever the scale: a scaled decode still reads every block.
    check(Format::Jpeg, declared.0, declared.1, limits)?;
    let (mut width, mut height) = declared;
    if let Some(side) = limits.jpeg_scale_to {
        // The decoder picks the smallest of 1/8, 1/4, 1/2, 1 that reaches the request in
        // both axes; ask for the short side scaled to `side` (never under the smallest side
        // worth fingerprinting), keeping the aspect ratio.
        let side = side.max(limits.min_side);
        let short = width.min(height).max(1) as u64;
        let want = |d: u32| ((d as u64 * side as u64).div_ceil(short)).min(d as u64) as u16;
        (width, height) =
            decoder.scale(want(width), want(height)).map(|(w, h)| (w as u32, h as u32)).map_err(message)?;
    }
    // Full size in YCbCr or grey: zune-jpeg, several times faster (vector IDCT and colour
    // conversion). The DCT-scaled decodes, CMYK and anything it refuses go to jpeg-decoder,
    // whose errors are the ones reported.
    if (width, height) == declared
        && matches!(info.pixel_format, PixelFormat::RGB24 | PixelFormat::L8)
        && let Some(pixels) = zune(bytes, declared, ColorSpace::RGB)
    {
        return Ok(Decoded {
            image: Rgb { width, height, pixels },
            format: Format::Jpeg,
            declared,
            frames: None,
        });
    }
    decoder.set_max_decoding_buffer_size((limits.max_pixels as usize).saturating_mul(4));
    let data = decoder.decode().map_err(message)?;
    let info = decoder.info().ok_or_else(|| Err("no frame header".to_string()))?;
    let pixels = match info.pixel_format {
        PixelFormat::RGB24 => data,
        PixelFormat::L8 => to_rgb(data, 1),
        PixelFormat::L16 => to_rgb(data.chunks_exact(2).map(|c| c[0]).collect(), 1),
        // Adobe CMYK JPEGs are stored inverted; the decoder hands them over as written.
        PixelFormat::CMYK32 => data
            .chunks_exact(4)
            .flat_map(|p| {
                let k = p[3] as u32;
                [p[0], p[1], p[2]].map(|c| (c as u32 * k / 255) as u8)
            })
            .collect(),
    };
    if pixels.len() != width as usize * height as usize * 3 {
        return Err(Err(format!("decoded {} bytes for {width} × {height}", pixels.len())));
    }
    Ok(Decoded { image: Rgb { width, height, pixels }, format: Format::Jpeg, declared, frames: None })
}

/// A whole JPEG decoded by zune-jpeg into `colour` (RGB or luma), if it decodes in strict
/// mode to the size declared.
fn zune(bytes: &[u8], (width, height): (u32, u32), colour: ColorSpace) -> Option<Vec<u8>> {
    let options = DecoderOptions::default()
        .set_strict_mode(true)
        .set_max_width(width as usize)
        .set_max_height(height as usize)
        .jpeg_set_out_colorspace(colour);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    decoder.decode_headers().ok()?;
    let info = decoder.info()?;
    if (info.width as u32, info.height as u32) != (width, height)
        || !matches!(decoder.input_colorspace()?, ColorSpace::YCbCr | ColorSpace::Luma)
    {
        return None;
    }
    let pixels = decoder.decode().ok()?;
    (pixels.len() == width as usize * height as usize * colour.num_components()).then_some(pixels)
}

fn webp(bytes: &[u8], limits: &Limits) -> Result<Decoded, Failure> {
    let mut decoder = image_webp::WebPDecoder::new(Cursor::new(bytes)).map_err(message)?;
    let (width, height) = decoder.dimensions();
    check(Format::WebP, width, height, limits)?;
    decoder.set_memory_limit((limits.max_pixels as usize).saturating_mul(4));
    let frames = decoder.is_animated().then(|| decoder.num_frames());
    let samples = if decoder.has_alpha() { 4 } else { 3 };
    let mut buf = vec![0; width as usize * height as usize * samples];
    if frames.is_some() {
        decoder.read_frame(&mut buf).map_err(message)?;
    } else {
        decoder.read_image(&mut buf).map_err(message)?;
    }
    let pixels = to_rgb(buf, samples);
    Ok(Decoded {
        image: Rgb { width, height, pixels },
        format: Format::WebP,
        declared: (width, height),
        frames,
    })
}

fn gif(bytes: &[u8], limits: &Limits) -> Result<Decoded, Failure> {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    options.set_memory_limit(gif::MemoryLimit::Bytes(
        std::num::NonZeroU64::new(limits.max_pixels.saturating_mul(4).max(1)).expect("non-zero"),
    ));
    let mut decoder = options.read_info(Cursor::new(bytes)).map_err(message)?;
    let (width, height) = (decoder.width() as u32, decoder.height() as u32);
    check(Format::Gif, width, height, limits)?;
    let mut canvas = vec![0u8; width as usize * height as usize * 4];
    let frame = decoder.read_next_frame().map_err(message)?.ok_or_else(|| Err("no frame".to_string()))?;
    // The first frame may cover part of the logical screen; the rest stays black.
    for y in 0..frame.height as usize {
        let cy = frame.top as usize + y;
        if cy >= height as usize {
            break;
        }
        for x in 0..frame.width as usize {
            let cx = frame.left as usize + x;
            if cx >= width as usize {
                break;
            }
            let src = &frame.buffer[(y * frame.width as usize + x) * 4..][..4];
            canvas[(cy * width as usize + cx) * 4..][..4].copy_from_slice(src);
        }
    }
    let mut count = 1;
    while decoder.next_frame_info().map_err(message)?.is_some() {
        count += 1;
    }
    let frames = (count > 1).then_some(count);
    Ok(Decoded {
        image: Rgb { width, height, pixels: to_rgb(canvas, 4) },
        format: Format::Gif,
        declared: (width, height),
        frames,
    })
}

/// Grey, grey + alpha, RGB or RGBA samples to RGB; alpha is dropped, as an RGB conversion
/// in Pillow or OpenCV drops it.
fn to_rgb(buf: Vec<u8>, samples: usize) -> Vec<u8> {
    match samples {
        3 => buf,
        1 => buf.iter().flat_map(|&g| [g, g, g]).collect(),
        2 => buf.chunks_exact(2).flat_map(|p| [p[0], p[0], p[0]]).collect(),
        _ => buf.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect(),
    }
}

/// An RGB image as a PNG file (fast compression: these are previews).
pub fn encode_png(image: &Rgb) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, image.width, image.height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().expect("writing to memory");
    writer.write_image_data(&image.pixels).expect("buffer matches the header");
    writer.finish().expect("writing to memory");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdq;

    fn jpeg_of(rgb: &[u8], w: u32, h: u32, colour: jpeg_encoder::ColorType, progressive: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = jpeg_encoder::Encoder::new(&mut out, 90);
        encoder.set_progressive(progressive);
        encoder.encode(rgb, w as u16, h as u16, colour).expect("encodes");
        out
    }

    /// jpeg-decoder's pixels, as `jpeg` gave them before zune-jpeg decoded full-size files.
    fn by_jpeg_decoder(bytes: &[u8]) -> Vec<u8> {
        let mut decoder = jpeg_decoder::Decoder::new(bytes);
        let data = decoder.decode().expect("decodes");
        match decoder.info().expect("info").pixel_format {
            jpeg_decoder::PixelFormat::L8 => to_rgb(data, 1),
            _ => data,
        }
    }

    #[test]
    fn zune_jpeg_gives_the_pixels_jpeg_decoder_gave_within_rounding() {
        let p = fixtures::images::kodak("kodim03");
        let grey: Vec<u8> = p.rgb.chunks_exact(3).map(|c| c[1]).collect();
        for (name, bytes) in [
            ("baseline", jpeg_of(&p.rgb, p.width, p.height, jpeg_encoder::ColorType::Rgb, false)),
            ("progressive", jpeg_of(&p.rgb, p.width, p.height, jpeg_encoder::ColorType::Rgb, true)),
            ("grey", jpeg_of(&grey, p.width, p.height, jpeg_encoder::ColorType::Luma, false)),
        ] {
            let ours = decode(&bytes, &Limits::default()).expect("decodes").image;
            let theirs = by_jpeg_decoder(&bytes);
            assert_eq!((ours.width, ours.height), (p.width, p.height), "{name}");
            assert_eq!(ours.pixels.len(), theirs.len(), "{name}");
            let diff: Vec<u32> =
                ours.pixels.iter().zip(&theirs).map(|(a, b)| a.abs_diff(*b) as u32).collect();
            let mean = diff.iter().sum::<u32>() as f64 / diff.len() as f64;
            let worst = diff.iter().copied().max().unwrap_or(0);
            assert!(mean < 1.0 && worst <= 16, "{name}: mean {mean:.3}, worst {worst}");
            let (w, h) = (p.width as usize, p.height as usize);
            let d = pdq::from_rgb(w, h, &ours.pixels).hash.distance(&pdq::from_rgb(w, h, &theirs).hash);
            assert!(d <= 8, "{name}: PDQ {d} bits apart");
        }
    }

    #[test]
    fn damaged_jpegs_are_refused_or_decoded_never_a_panic() {
        let p = fixtures::images::kodak("kodim01").half();
        for progressive in [false, true] {
            let good = jpeg_of(&p.rgb, p.width, p.height, jpeg_encoder::ColorType::Rgb, progressive);
            let mut state = 0x1234_5678_9ABC_DEF1u64;
            let mut next = move || {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state
            };
            let mut cases: Vec<Vec<u8>> = [0.05, 0.3, 0.6, 0.95]
                .iter()
                .map(|f| good[..(good.len() as f64 * f) as usize].to_vec())
                .collect();
            for _ in 0..24 {
                let mut bad = good.clone();
                for _ in 0..1 + next() % 8 {
                    let at = next() as usize % bad.len();
                    bad[at] ^= 1 << (next() % 8);
                }
                cases.push(bad);
            }
            for bad in &cases {
                match decode(bad, &Limits::default()) {
                    Ok(d) => {
                        assert_eq!(d.image.pixels.len(), d.image.width as usize * d.image.height as usize * 3)
                    }
                    Err(DecodeError::Damaged { format, .. }) => assert_eq!(format, "JPEG"),
                    Err(
                        DecodeError::TooLarge { .. }
                        | DecodeError::TooSmall { .. }
                        | DecodeError::Unrecognised,
                    ) => {}
                }
            }
        }
    }
}
