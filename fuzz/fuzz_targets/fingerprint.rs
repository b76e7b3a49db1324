#![no_main]
// Whole files: the PNG, JPEG, WebP and GIF decoders behind the size limits, then every
// fingerprint of what decodes (a small pixel limit keeps each run fast).
use fingerprint::decode::{Limits, decode};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_pixels: 1 << 20, jpeg_scale_to: Some(64), ..Limits::default() };
    if let Ok(d) = decode(data, &limits) {
        let _ = fingerprint::prints::fingerprint(&d.image);
    }
});
