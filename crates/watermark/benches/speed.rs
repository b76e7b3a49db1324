//! Embed and detect time on one core: `cargo bench -p handprint-watermark --bench speed --
//! [--reps N]`. Pin it to a core (`taskset -c 0`). The images are a Kodak photograph
//! (tests' copy) at its own 768 × 512, stretched to 1024 × 1024 and to 4096 × 4096;
//! detection includes the search for the tile's scale, rotation and origin.

use std::hint::black_box;
use std::time::Instant;

/// A Kodak photograph stretched (bilinear) to `side × side`: a large photo's detail is at
/// a large scale too, as in a real high-resolution photograph.
fn stretched(side: usize) -> Vec<u8> {
    let p = fixtures::images::kodak("kodim03");
    let (w, h) = (p.width as usize, p.height as usize);
    let mut out = vec![0u8; side * side * 3];
    for y in 0..side {
        let sy = ((y as f32 + 0.5) * h as f32 / side as f32 - 0.5).clamp(0.0, (h - 1) as f32);
        let (y0, fy) = (sy.floor() as usize, sy.fract());
        let y1 = (y0 + 1).min(h - 1);
        for x in 0..side {
            let sx = ((x as f32 + 0.5) * w as f32 / side as f32 - 0.5).clamp(0.0, (w - 1) as f32);
            let (x0, fx) = (sx.floor() as usize, sx.fract());
            let x1 = (x0 + 1).min(w - 1);
            for c in 0..3 {
                let at = |xx: usize, yy: usize| p.rgb[(yy * w + xx) * 3 + c] as f32;
                let v = (1.0 - fy) * ((1.0 - fx) * at(x0, y0) + fx * at(x1, y0))
                    + fy * ((1.0 - fx) * at(x0, y1) + fx * at(x1, y1));
                out[(y * side + x) * 3 + c] = v.round() as u8;
            }
        }
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let reps: usize = args
        .iter()
        .position(|a| a == "--reps")
        .and_then(|i| args.get(i + 1))
        .map_or(5, |v| v.parse().expect("--reps N"));
    println!("| image | embed ms | detect ms (marked) | detect ms (unmarked) |");
    println!("|---|---|---|---|");
    // The photograph at its own size (the peers' benchmark uses the Kodak images as they
    // are), then stretched.
    let kodak = fixtures::images::kodak("kodim03");
    let images = [
        (kodak.width as usize, kodak.height as usize, kodak.rgb),
        (1024, 1024, stretched(1024)),
        (4096, 4096, stretched(4096)),
    ];
    for (width, height, original) in images {
        let reps = if width > 2048 { reps.div_ceil(4) } else { reps };
        let mut marked = original.clone();
        watermark::embed(width, height, 3, &mut marked, 1).unwrap();
        let t = Instant::now();
        for _ in 0..reps {
            let mut copy = original.clone();
            black_box(watermark::embed(width, height, 3, &mut copy, 0x0123_4567_89AB_CDEF).unwrap());
        }
        let embed = t.elapsed().as_secs_f64() * 1e3 / reps as f64;
        let time_detect = |pixels: &[u8]| {
            let t = Instant::now();
            for _ in 0..reps {
                black_box(watermark::detect(width, height, 3, pixels).unwrap());
            }
            t.elapsed().as_secs_f64() * 1e3 / reps as f64
        };
        let found = watermark::detect(width, height, 3, &marked).unwrap().payload == Some(1);
        let (dm, du) = (time_detect(&marked), time_detect(&original));
        println!(
            "| {width} × {height}{} | {embed:.0} | {dm:.0} | {du:.0} |",
            if found { "" } else { " (payload not found!)" }
        );
    }
}
