//! Decoding within limits: what must be refused is refused before it is allocated, and with
//! a message that says why.

use fingerprint::decode::{DecodeError, Format, Limits, declared_size, decode};
use fixtures::images::{kodak, png_bomb};

#[test]
fn a_decompression_bomb_is_refused_from_its_header() {
    let bomb = png_bomb(100_000, 100_000);
    assert!(bomb.len() < 10_000, "the bomb is small on disk: {} bytes", bomb.len());
    let err = decode(&bomb, &Limits::default()).unwrap_err();
    assert_eq!(
        err,
        DecodeError::TooLarge { format: "PNG", width: 100_000, height: 100_000, limit: 64 << 20 }
    );
    assert!(err.to_string().contains("100000 × 100000"), "{err}");
}

#[test]
fn tiny_damaged_and_foreign_files_are_named_for_what_they_are() {
    let one = fixtures::containers::png(1, 1, 3, &[10, 20, 30], &[]);
    assert!(matches!(
        decode(&one, &Limits::default()),
        Err(DecodeError::TooSmall { width: 1, height: 1, .. })
    ));
    assert_eq!(decode(b"hello, not an image", &Limits::default()).unwrap_err(), DecodeError::Unrecognised);
    let png = kodak("kodim03").png();
    let truncated = &png[..png.len() / 2];
    match decode(truncated, &Limits::default()) {
        Err(DecodeError::Damaged { format: "PNG", message }) => assert!(!message.is_empty()),
        other => panic!("truncated PNG: {other:?}"),
    }
    let jpeg = kodak("kodim03").jpeg(80);
    assert!(matches!(
        decode(&jpeg[..jpeg.len() / 3], &Limits::default()),
        Err(DecodeError::Damaged { format: "JPEG", .. })
    ));
}

#[test]
fn jpeg_is_decoded_at_the_smallest_dct_scale_that_keeps_the_short_side() {
    let jpeg = kodak("kodim01").jpeg(90); // 768 × 512
    let full = decode(&jpeg, &Limits::default()).unwrap();
    assert_eq!((full.image.width, full.image.height), (768, 512));
    let half = decode(&jpeg, &Limits { jpeg_scale_to: Some(256), ..Limits::default() }).unwrap();
    assert_eq!((half.image.width, half.image.height), (384, 256));
    assert_eq!(half.declared, (768, 512));
    let eighth = decode(&jpeg, &Limits { jpeg_scale_to: Some(64), ..Limits::default() }).unwrap();
    assert_eq!((eighth.image.width, eighth.image.height), (96, 64));
    // The scaled image is the full one, smaller: PDQ stays within its match radius.
    let a = fingerprint::pdq::from_rgb(768, 512, &full.image.pixels);
    let b = fingerprint::pdq::from_rgb(384, 256, &half.image.pixels);
    assert!(a.hash.distance(&b.hash) <= 31, "distance {}", a.hash.distance(&b.hash));
}

#[test]
fn an_animated_gif_gives_its_first_frame_and_its_frame_count() {
    let picture = kodak("kodim04").crop(0, 0, 200, 150);
    let gif = picture.animated_gif(3);
    let d = decode(&gif, &Limits::default()).unwrap();
    assert_eq!(d.format, Format::Gif);
    assert_eq!(d.frames, Some(3));
    assert_eq!((d.image.width, d.image.height), (200, 150));
    // The first frame is the undimmed one: close to the source in the 3-3-2 palette.
    let mean_error: f64 =
        d.image.pixels.iter().zip(&picture.rgb).map(|(a, b)| a.abs_diff(*b) as f64).sum::<f64>()
            / picture.rgb.len() as f64;
    assert!(mean_error < 24.0, "mean error {mean_error}");
    let still = decode(&picture.png(), &Limits::default()).unwrap();
    assert_eq!(still.frames, None);
    assert_eq!(still.image.pixels, picture.rgb);
}

#[test]
fn every_format_declares_its_size_in_a_header_read_without_decoding() {
    let picture = kodak("kodim04").crop(0, 0, 301, 203);
    let mut lossy = Vec::new();
    let mut lossless = Vec::new();
    image_webp::WebPEncoder::new(&mut lossless)
        .encode(&picture.rgb, 301, 203, image_webp::ColorType::Rgb8)
        .unwrap();
    // A lossy VP8 frame header: key frame tag, start code, 14-bit width and height.
    lossy.extend_from_slice(b"RIFF\x1e\x00\x00\x00WEBPVP8 \x12\x00\x00\x00\x50\x02\x00\x9d\x01\x2a");
    lossy.extend_from_slice(&[0x2d, 0x01, 0xcb, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);
    let extended = fixtures::containers::webp(301, 203, &[(*b"XMP ", b"<x/>".to_vec())]);
    let cases: [(&str, Vec<u8>, Format); 6] = [
        ("PNG", picture.png(), Format::Png),
        ("JPEG", picture.jpeg(90), Format::Jpeg),
        ("WebP VP8L", lossless, Format::WebP),
        ("WebP VP8X", extended, Format::WebP),
        ("WebP VP8", lossy, Format::WebP),
        ("GIF", picture.animated_gif(1), Format::Gif),
    ];
    for (what, bytes, format) in cases {
        assert_eq!(declared_size(&bytes), Some((format, 301, 203)), "{what}");
    }
    let jpeg = fixtures::containers::jpeg_declaring(&picture.jpeg(90), 65535, 40000);
    assert_eq!(declared_size(&jpeg), Some((Format::Jpeg, 65535, 40000)));
    assert_eq!(declared_size(b"\x89PNG\r\n\x1a\n\0\0"), None, "a header cut short");
    assert_eq!(declared_size(b"not an image"), None);
}

#[test]
fn a_jpeg_declaring_65535_squared_is_refused_at_every_scale() {
    // 90 KB of real data under a header that claims 4.3 gigapixels: decoded whole it would
    // take 12.9 GB, and at 1/8 scale 8192 × 8192 (just under the limit) and a gigabyte.
    let jpeg = fixtures::containers::jpeg_declaring(&kodak("kodim03").jpeg(80), 65535, 65535);
    for scale in [None, Some(512), Some(64), Some(1)] {
        let err = decode(&jpeg, &Limits { jpeg_scale_to: scale, ..Limits::default() }).unwrap_err();
        assert_eq!(
            err,
            DecodeError::TooLarge { format: "JPEG", width: 65535, height: 65535, limit: 64 << 20 },
            "jpeg_scale_to {scale:?}"
        );
        assert!(err.to_string().contains("65535 × 65535"), "{err}");
    }
}

#[test]
fn a_scaled_jpeg_is_named_by_the_size_its_file_declares() {
    let jpeg = fixtures::containers::jpeg_declaring(&kodak("kodim03").jpeg(80), 65535, 1);
    let err = decode(&jpeg, &Limits { jpeg_scale_to: Some(512), ..Limits::default() }).unwrap_err();
    assert_eq!(err, DecodeError::TooSmall { format: "JPEG", width: 65535, height: 1, min: 32 });
    assert!(err.to_string().starts_with("JPEG of 65535 × 1 pixels is too small"), "{err}");
    // A scale request under the smallest side worth fingerprinting still gives that side.
    let jpeg = kodak("kodim01").jpeg(90); // 768 × 512
    let d = decode(&jpeg, &Limits { jpeg_scale_to: Some(8), min_side: 100, ..Limits::default() }).unwrap();
    assert_eq!((d.image.width, d.image.height), (192, 128));
    assert_eq!(d.declared, (768, 512));
}
