//! Marking a file makes sure its watermark reads back from the file it writes, as a verifier
//! reads it: a small, busy image whose watermark does not read back at the usual strength is
//! marked more strongly (and one that cannot carry it at all is refused: a unit test of
//! `marking`).
//! (A seal whose watermark does not read back would carry a journal proof that never
//! verifies: its publication would be refused.)

use fixtures::images::{Picture, kodak};
use registry::marking::{detect_file, embed_file};

/// The bottom-right quarter of `kodim13` (a mountain stream, 384 × 256): busy everywhere, so
/// that at the usual strength its watermark reads back for no payload tried.
fn busy_quarter() -> Picture {
    let photo = kodak("kodim13");
    let (w, h) = (photo.width / 2, photo.height / 2);
    photo.crop(w, h, w, h)
}

const PAYLOADS: [u64; 4] = [0xe230_6bed_dcf5_ff4e, 0x0123_4567_89ab_cdef, 0xdcc6_c92d_1485_adad, 42];

#[test]
fn a_busy_image_is_marked_more_strongly_until_its_watermark_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let picture = busy_quarter();
    for payload in PAYLOADS {
        // The premise: at the usual strength, nothing reads back from these pixels.
        let mut usual = picture.rgb.clone();
        let (w, h) = (picture.width as usize, picture.height as usize);
        let at_usual = watermark::embed(w, h, 3, &mut usual, payload).unwrap();
        assert_eq!(watermark::detect(w, h, 3, &usual).unwrap().payload, None, "{payload:016x}");

        for (name, bytes) in [("quarter.png", picture.png()), ("quarter.jpg", picture.jpeg(92))] {
            let (input, output) = (dir.path().join(name), dir.path().join(format!("marked-{name}")));
            std::fs::write(&input, bytes).unwrap();
            let embedded = embed_file(&input, &output, payload).unwrap();
            assert_eq!(detect_file(&output).unwrap().payload, Some(payload), "{name}, {payload:016x}");
            assert!(
                embedded.psnr < at_usual.psnr - 0.5 && embedded.psnr > watermark::TARGET_PSNR - 7.5,
                "{name}, {payload:016x}: strengthened from {:.2} dB to {:.2} dB",
                at_usual.psnr,
                embedded.psnr
            );
        }
    }
}
