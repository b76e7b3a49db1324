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

/// Mean SSIM of the luminance (Gaussian window σ 1.5 reaching 6 pixels, mirrored edges), as
/// Wang et al. 2004 and scipy's `gaussian_filter`.
fn ssim(a: &Picture, b: &Picture) -> f64 {
    let (w, h) = (a.width as usize, a.height as usize);
    let luma = |p: &Picture| -> Vec<f64> {
        p.rgb
            .chunks_exact(3)
            .map(|c| 0.299 * c[0] as f64 + 0.587 * c[1] as f64 + 0.114 * c[2] as f64)
            .collect()
    };
    let kernel: Vec<f64> = (-6..=6i64).map(|i| (-(i * i) as f64 / 4.5).exp()).collect();
    let total: f64 = kernel.iter().sum();
    let mirror = |i: i64, n: usize| -> usize {
        let n = n as i64;
        (if i < 0 {
            -i - 1
        } else if i >= n {
            2 * n - i - 1
        } else {
            i
        }) as usize
    };
    let blur = |x: &[f64]| -> Vec<f64> {
        let mut rows = vec![0.0; w * h];
        for y in 0..h {
            for c in 0..w {
                rows[y * w + c] = (-6..=6i64)
                    .map(|d| kernel[(d + 6) as usize] * x[y * w + mirror(c as i64 + d, w)])
                    .sum::<f64>()
                    / total;
            }
        }
        let mut out = vec![0.0; w * h];
        for y in 0..h {
            for c in 0..w {
                out[y * w + c] = (-6..=6i64)
                    .map(|d| kernel[(d + 6) as usize] * rows[mirror(y as i64 + d, h) * w + c])
                    .sum::<f64>()
                    / total;
            }
        }
        out
    };
    let (x, z) = (luma(a), luma(b));
    let product = |p: &[f64], q: &[f64]| -> Vec<f64> { p.iter().zip(q).map(|(a, b)| a * b).collect() };
    let (mx, mz) = (blur(&x), blur(&z));
    let (sxx, szz, sxz) = (blur(&product(&x, &x)), blur(&product(&z, &z)), blur(&product(&x, &z)));
    let (c1, c2) = ((0.01f64 * 255.0).powi(2), (0.03f64 * 255.0).powi(2));
    let sum: f64 = (0..w * h)
        .map(|i| {
            let (a, b) = (mx[i], mz[i]);
            ((2.0 * a * b + c1) * (2.0 * (sxz[i] - a * b) + c2))
                / ((a * a + b * b + c1) * (sxx[i] - a * a + szz[i] - b * b + c2))
        })
        .sum();
    sum / (w * h) as f64
}

#[test]
fn quality_stays_at_40_db_and_ssim_098_on_smooth_and_textured_photos() {
    for name in ["kodim01", "kodim03", "kodim04"] {
        let (p, e) = marked(name, 7);
        assert!(e.psnr >= 40.0, "{name}: PSNR {}", e.psnr);
        let s = ssim(&kodak(name), &p);
        assert!(s >= 0.98, "{name}: SSIM {s}");
    }
}

#[test]
fn a_textured_photo_keeps_its_payload_through_a_crop_and_jpeg() {
    // kodim01's brick and wood leave the least room among the three: the texture weight puts
    // more of the change in its flatter parts.
    let payload = 0x0BAD_CAFE_D00D_F00D;
    let (p, _) = marked("kodim01", payload);
    for (attack, copy) in [
        ("60% corner crop", p.crop_area(0.6, 2)),
        ("JPEG 50", reread(&p.jpeg(50))),
        ("crop then JPEG 70", reread(&p.crop_area(0.8, 1).jpeg(70))),
    ] {
        let d = detect(&copy);
        assert_eq!(d.payload, Some(payload), "{attack}: {d:?}");
    }
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
