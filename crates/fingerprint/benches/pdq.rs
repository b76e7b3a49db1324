//! Fingerprint speed on one core: `cargo bench -p handprint-fingerprint --bench pdq --
//! [--images DIR] [--reps N]` (default: the Kodak images in tests/data). Pin it to a core
//! (`taskset -c 0`). Prints milliseconds per image for decoding (PNG as given; JPEG quality
//! 90 made from it, at full size and DCT-scaled), each hash on decoded pixels, the whole
//! fingerprint, and decode + hash, the figures `scripts/compare-hashes.py --speed` prints for
//! the Python peers.

use std::hint::black_box;
use std::time::Instant;

use fingerprint::decode::{Limits, Rgb, decode};
use fingerprint::{features, pdq, phash, prints};

fn per_image(reps: usize, n: usize, mut f: impl FnMut()) -> f64 {
    f(); // warm-up
    let t = Instant::now();
    for _ in 0..reps {
        f();
    }
    t.elapsed().as_secs_f64() * 1e3 / (reps * n) as f64
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1));
    let dir = arg("--images")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data"));
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
