//! Fingerprint speed on one core: `cargo bench -p handprint-fingerprint --bench pdq --
//! [--images DIR] [--reps N] [--stages]` (default: the Kodak suite beside the project,
//! `../shared/data/kodak`, else the three Kodak images in tests/data). Pin it to a core
//! (`taskset -c 0`). Prints milliseconds per image for decoding (PNG as given; JPEG quality
//! 90 made from it, at full size and DCT-scaled), each hash on decoded pixels, the whole
//! fingerprint, and decode + hash, the figures `scripts/compare-hashes.py --speed` prints for
//! the Python peers. `--stages` prints instead where a fingerprint's time goes: luminance,
//! PDQ, border trimming, and each step of the local features per pyramid level. Times are
//! the thread's CPU time, as the Python peers' are, so that other work on the machine
//! counts less.

use std::hint::black_box;

use fingerprint::decode::{Limits, Rgb, decode};
use fingerprint::{features, pdq, phash, prints};
use zune_jpeg::zune_core::bytestream::ZCursor;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;

/// CPU time of this thread, in seconds.
fn cpu() -> f64 {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `t` is a valid timespec to write to.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

fn per_image(reps: usize, n: usize, mut f: impl FnMut()) -> f64 {
    f(); // warm-up
    let t = cpu();
    for _ in 0..reps {
        f();
    }
    (cpu() - t) * 1e3 / (reps * n) as f64
}

/// A JPEG decoded by zune-jpeg into `colour`, as `decode` calls it.
fn zune(bytes: &[u8], colour: ColorSpace) -> Vec<u8> {
    let options = DecoderOptions::default().set_strict_mode(true).jpeg_set_out_colorspace(colour);
    zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options).decode().expect("decodes")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1));
    let dir = arg("--images").map(std::path::PathBuf::from).unwrap_or_else(|| {
        let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let suite = here.join("../../../shared/data/kodak");
        if suite.is_dir() { suite } else { here.join("tests/data") }
    });
    let reps: usize = arg("--reps").map(|r| r.parse().expect("--reps N")).unwrap_or(10);
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .collect();
    paths.sort();
    let pngs: Vec<Vec<u8>> = paths.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let full = Limits::default();
    let images: Vec<Rgb> = pngs.iter().map(|b| decode(b, &full).unwrap().image).collect();
    let jpegs: Vec<Vec<u8>> = images
        .iter()
        .map(|i| {
            let mut out = Vec::new();
            jpeg_encoder::Encoder::new(&mut out, 90)
                .encode(&i.pixels, i.width as u16, i.height as u16, jpeg_encoder::ColorType::Rgb)
                .unwrap();
            out
        })
        .collect();
    let n = images.len();
    let mp = images.iter().map(|i| (i.width * i.height) as f64 / 1e6).sum::<f64>() / n as f64;
    let lumas: Vec<Vec<f32>> = images.iter().map(|i| pdq::luma_from_rgb(&i.pixels)).collect();
    if args.iter().any(|a| a == "--stages") {
        stages(&images, &lumas, reps);
        return;
    }
    let half = Limits { jpeg_scale_to: Some(256), ..full };
    let eighth = Limits { jpeg_scale_to: Some(1), min_side: 1, ..full };
    let rows: Vec<(&str, f64)> = vec![
        (
            "decode PNG",
            per_image(reps, n, || {
                pngs.iter().for_each(|b| {
                    let _ = black_box(decode(b, &full));
                })
            }),
        ),
        (
            "decode JPEG q90",
            per_image(reps, n, || {
                jpegs.iter().for_each(|b| {
                    let _ = black_box(decode(b, &full));
                })
            }),
        ),
        (
            "decode JPEG q90, jpeg-decoder alone (RGB)",
            per_image(reps, n, || {
                jpegs.iter().for_each(|b| {
                    let _ = black_box(jpeg_decoder::Decoder::new(b.as_slice()).decode());
                })
            }),
        ),
        (
            "decode JPEG q90, zune-jpeg alone (RGB)",
            per_image(reps, n, || {
                jpegs.iter().for_each(|b| {
                    black_box(zune(b, ColorSpace::RGB));
                })
            }),
        ),
        (
            "decode JPEG q90, zune-jpeg alone (luma only)",
            per_image(reps, n, || {
                jpegs.iter().for_each(|b| {
                    black_box(zune(b, ColorSpace::Luma));
                })
            }),
        ),
        (
            "decode JPEG q90, short side ≥ 256 (1/2)",
            per_image(reps, n, || {
                jpegs.iter().for_each(|b| {
                    let _ = black_box(decode(b, &half));
                })
            }),
        ),
        (
            "decode JPEG q90, 1/8 scale",
            per_image(reps, n, || {
                jpegs.iter().for_each(|b| {
                    let _ = black_box(decode(b, &eighth));
                })
            }),
        ),
        (
            "PDQ",
            per_image(reps, n, || {
                images.iter().for_each(|i| {
                    black_box(pdq::from_rgb(i.width as usize, i.height as usize, &i.pixels));
                })
            }),
        ),
        (
            "PDQ, eight dihedral hashes",
            per_image(reps, n, || {
                images.iter().for_each(|i| {
                    black_box(pdq::dihedral_from_rgb(i.width as usize, i.height as usize, &i.pixels));
                })
            }),
        ),
        (
            "pHash",
            per_image(reps, n, || {
                images.iter().for_each(|i| {
                    black_box(phash::from_rgb(i.width as usize, i.height as usize, &i.pixels));
                })
            }),
        ),
        (
            "local features",
            per_image(reps, n, || {
                images.iter().zip(&lumas).for_each(|(i, l)| {
                    black_box(features::detect(i.width as usize, i.height as usize, l));
                })
            }),
        ),
        (
            "whole fingerprint (all of the above)",
            per_image(reps, n, || {
                images.iter().for_each(|i| {
                    black_box(prints::fingerprint(i));
                })
            }),
        ),
        (
            "decode JPEG q90 + PDQ",
            per_image(reps, n, || {
                jpegs.iter().for_each(|b| {
                    let i = decode(b, &full).unwrap().image;
                    black_box(pdq::from_rgb(i.width as usize, i.height as usize, &i.pixels));
                })
            }),
        ),
        (
            "decode JPEG q90 + whole fingerprint",
            per_image(reps, n, || {
                jpegs.iter().for_each(|b| {
                    black_box(prints::fingerprint(&decode(b, &full).unwrap().image));
                })
            }),
        ),
    ];
    println!("| {n} images of {mp:.2} MP, one core | ms per image | images/s |");
    println!("|---|---|---|");
    for (name, ms) in rows {
        println!("| {name} | {ms:.2} | {:.0} |", 1e3 / ms);
    }
}

/// Milliseconds per image in each step of a fingerprint, in the order they run.
fn stages(images: &[Rgb], lumas: &[Vec<f32>], reps: usize) {
    let mut rows: Vec<(String, f64)> = Vec::new();
    let mut add = |name: String, seconds: f64| match rows.iter_mut().find(|(n, _)| *n == name) {
        Some(row) => row.1 += seconds,
        None => rows.push((name, seconds)),
    };
    for rep in 0..=reps {
        // The first round warms up and is not counted.
        let keep = if rep == 0 { 0.0 } else { 1.0 };
        for (image, luma) in images.iter().zip(lumas) {
            let (w, h) = (image.width as usize, image.height as usize);
            let t = cpu();
            black_box(pdq::luma_from_rgb(&image.pixels));
            add("luminance".into(), keep * (cpu() - t));
            let t = cpu();
            black_box(pdq::dihedral_from_luma(w, h, luma));
            add("PDQ, eight dihedral hashes".into(), keep * (cpu() - t));
            let t = cpu();
            black_box(prints::trim(image));
            add("trim borders".into(), keep * (cpu() - t));
            let start = cpu();
            let mut t = start;
            black_box(features::detect_timed(w, h, luma, &mut |level, step| {
                let name = match level {
                    Some(l) => format!("features, level {l}: {step}"),
                    None => format!("features: {step}"),
                };
                let now = cpu();
                add(name, keep * (now - t));
                t = now;
            }));
            add("features, whole".into(), keep * (cpu() - start));
        }
    }
    let per = 1e3 / (reps * images.len()) as f64;
    println!("| step, {} images, one core | ms per image |", images.len());
    println!("|---|---|");
    for (name, seconds) in rows {
        println!("| {name} | {:.3} |", seconds * per);
    }
}
