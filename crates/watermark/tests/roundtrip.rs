//! Embed and detect on real photographs: the payload comes back after the attacks the
//! method is built for, and unmarked images never give one.

use fingerprint::decode::{Limits, decode};
use fixtures::images::{Picture, kodak};

fn reread(bytes: &[u8]) -> Picture {
    let d = decode(bytes, &Limits::default()).expect("decodes");
    Picture { width: d.image.width, height: d.image.height, rgb: d.image.pixels }
}

fn detect(p: &Picture) -> watermark::Detection {
    watermark::detect(p.width as usize, p.height as usize, 3, &p.rgb).expect("large enough")
}

fn marked(name: &str, payload: u64) -> (Picture, watermark::Embedded) {
    let mut p = kodak(name);
    let e = watermark::embed(p.width as usize, p.height as usize, 3, &mut p.rgb, payload).expect("embeds");
    (p, e)
}

#[test]
fn the_payload_survives_jpeg_and_mirroring_at_40_db() {
    for (name, payload) in [("kodim03", 0x0000_0000_0000_002A), ("kodim04", 0xFEDC_BA98_7654_3210)] {
        let (p, e) = marked(name, payload);
        assert!(e.psnr >= 40.0, "{name}: PSNR {}", e.psnr);
        for (attack, copy) in [("none", p.clone()), ("JPEG 50", reread(&p.jpeg(50))), ("mirror", p.mirror())]
        {
            let d = detect(&copy);
            assert_eq!(d.payload, Some(payload), "{name}, {attack}: {d:?}");
            assert!(d.false_positive < 1e-9, "{name}, {attack}: {d:?}");
            assert_eq!(d.mirrored, attack == "mirror");
        }
    }
}

#[test]
fn the_payload_survives_halving_and_a_small_rotation() {
    let payload = 0x1234_5678_9ABC_DEF0;
    let (p, _) = marked("kodim03", payload);
    assert_eq!(detect(&p.half()).payload, Some(payload));
    let d = detect(&p.rotate(5.0));
    assert_eq!(d.payload, Some(payload), "{d:?}");
    assert!((d.rotation.abs() - 5.0).abs() < 0.5, "{d:?}");
}

#[test]
fn unmarked_images_give_no_payload() {
    for name in ["kodim01", "kodim03", "kodim04"] {
        let p = kodak(name);
        for copy in [p.clone(), p.half(), p.crop_area(0.6, 1), reread(&p.jpeg(70))] {
            let d = detect(&copy);
            assert_eq!(d.payload, None, "{name}: {d:?}");
            assert_eq!(d.false_positive, 1.0);
        }
    }
}

#[test]
fn alpha_is_kept_and_small_or_malformed_input_refused() {
    let p = kodak("kodim04").crop(0, 0, 300, 300);
    let mut rgba: Vec<u8> =
        p.rgb.chunks_exact(3).enumerate().flat_map(|(i, c)| [c[0], c[1], c[2], (i % 251) as u8]).collect();
    let alpha: Vec<u8> = rgba.chunks_exact(4).map(|c| c[3]).collect();
    watermark::embed(300, 300, 4, &mut rgba, 7).unwrap();
    assert_eq!(rgba.chunks_exact(4).map(|c| c[3]).collect::<Vec<_>>(), alpha);
    let mut small = vec![0u8; 200 * 300 * 3];
    assert_eq!(
        watermark::embed(200, 300, 3, &mut small, 7),
        Err(watermark::WatermarkError::TooSmall { width: 200, height: 300 })
    );
    assert!(matches!(
        watermark::detect(10, 10, 3, &[0; 7]),
        Err(watermark::WatermarkError::BadBuffer { .. })
    ));
}
