//! How often a watermark does not read back from the very pixels it was embedded in, and
//! how much stronger it must be made then (what `handprint seal` and `watermark embed` do,
//! in 1 dB steps): `cargo bench -p handprint-watermark --bench readback -- [--images DIR]
//! [--payloads N]`. Every PNG of DIR (default: the Kodak suite beside the project), whole
//! in quarters (a quarter of a Kodak photo is 384 × 256: chips at their 3-pixel floor, few
//! tiles to fold) and its centre 256 × 256 (the smallest image marked), with N pseudo-random
//! payloads each.

use std::path::PathBuf;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = PathBuf::from(
        arg(&args, "--images")
            .unwrap_or_else(|| format!("{}/../../../shared/data/kodak", env!("CARGO_MANIFEST_DIR"))),
    );
    let payloads: usize = arg(&args, "--payloads").map_or(40, |v| v.parse().expect("--payloads N"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .collect();
    files.sort();
    println!(
        "| image | part | size | payloads | not read back at the usual strength | strengthening needed (dB: count) |"
    );
    println!("|---|---|---|---|---|---|");
    let (mut total, mut missed, mut needed) = (0, 0, [0usize; 8]);
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for file in &files {
        let d = fingerprint::decode::decode(&std::fs::read(file).unwrap(), &Default::default())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
            .image;
        let (w, h) = (d.width as usize, d.height as usize);
        let crop = |x0: usize, y0: usize, cw: usize, ch: usize| -> Vec<u8> {
            (y0..y0 + ch).flat_map(|y| d.pixels[(y * w + x0) * 3..][..cw * 3].iter().copied()).collect()
        };
        let (hw, hh) = (w / 2, h / 2);
        let parts = [
            ("whole", w, h, d.pixels.clone()),
            ("top left", hw, hh, crop(0, 0, hw, hh)),
            ("top right", hw, hh, crop(hw, 0, hw, hh)),
            ("bottom left", hw, hh, crop(0, hh, hw, hh)),
            ("bottom right", hw, hh, crop(hw, hh, hw, hh)),
            ("centre 256 × 256", 256, 256, crop((w - 256) / 2, (h - 256) / 2, 256, 256)),
        ];
        for (part, pw, ph, pixels) in parts {
            let (mut here, mut steps) = (0, [0usize; 8]);
            for _ in 0..payloads {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let reads = |psnr: f64| {
                    let mut marked = pixels.clone();
                    watermark::embed_at(pw, ph, 3, &mut marked, seed, psnr).unwrap();
                    watermark::detect(pw, ph, 3, &marked).unwrap().payload == Some(seed)
                };
                total += 1;
                if !reads(watermark::TARGET_PSNR) {
                    here += 1;
                    let step = (1..8).find(|&s| reads(watermark::TARGET_PSNR - s as f64)).unwrap_or(0);
                    steps[step] += 1;
                }
            }
            missed += here;
            (0..8).for_each(|s| needed[s] += steps[s]);
            if here > 0 {
                println!(
                    "| {} | {part} | {pw} × {ph} | {payloads} | {here} | {} |",
                    file.file_stem().unwrap().to_string_lossy(),
                    histogram(&steps)
                );
            }
        }
    }
    println!(
        "| all {} images | whole, quarters, centre | | {total} | {missed} ({:.1}%) | {} |",
        files.len(),
        100.0 * missed as f64 / total.max(1) as f64,
        histogram(&needed)
    );
}

/// "1: 12, 3: 4" for a count per strengthening step (step 0: not read back even 7 dB up).
fn histogram(steps: &[usize; 8]) -> String {
    let mut parts: Vec<String> =
        (1..8).filter(|&s| steps[s] > 0).map(|s| format!("{s}: {}", steps[s])).collect();
    if steps[0] > 0 {
        parts.push(format!("over 7: {}", steps[0]));
    }
    parts.join(", ")
}
