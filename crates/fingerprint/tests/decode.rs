//! Decoding within limits: what must be refused is refused before it is allocated, and with
//! a message that says why.

use fingerprint::decode::{DecodeError, Format, Limits, decode};
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
