//! Metadata-reading throughput: `cargo bench -p handprint-capture --bench inspect -- [options]`
//!
//! Options: `--count N` (default 10000), `--mb X` (file size, default 1.5), `--dir DIR` (where
//! the generated files go; default a folder in the system temp dir, reused between runs),
//! `--existing DIR` (measure the PNG/JPEG/WebP files already in DIR instead).
//!
//! Generated files are real PNGs: IHDR, an A1111 `parameters` tEXt chunk, 64 KiB IDAT chunks
//! holding an uncompressed (stored) zlib stream of noise, IEND; once RGB (no alpha: no
//! pixel is decoded) and once RGBA (a record is found in the text, so the alpha channel is
//! not decoded either); then RGBA PNGs with no metadata, whose alpha is searched for
//! stealth metadata.
//! Files are read once to warm the page cache, then inspected on one thread.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn png_file(width: u32, height: u32, channels: usize, seed: u64, text: &str) -> Vec<u8> {
    let mut rng = fixtures::rng::XorShift::new(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let row = width as usize * channels;
    let mut raw = Vec::with_capacity((row + 1) * height as usize);
    for _ in 0..height {
        raw.push(0); // filter: none
        for _ in 0..row / 8 {
            raw.extend_from_slice(&rng.next_u64().to_le_bytes());
        }
        raw.resize(raw.len() + row % 8, 0x80);
        if channels == 4 {
            let start = raw.len() - row;
            raw[start..].chunks_exact_mut(4).for_each(|px| px[3] = 255);
        }
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::none());
    z.write_all(&raw).unwrap();
    let idat = z.finish().unwrap();
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8; 4], data: &[u8]| fixtures::containers::write_chunk(&mut out, kind, data);
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, if channels == 4 { 6 } else { 2 }, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    let mut t = b"parameters\0".to_vec();
    t.extend_from_slice(text.as_bytes());
    chunk(b"tEXt", &t);
    for part in idat.chunks(65536) {
        chunk(b"IDAT", part);
    }
    chunk(b"IEND", &[]);
    out
}

fn generate(dir: &Path, count: usize, mb: f64, channels: usize) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    let pixels = (mb * 1e6 / channels as f64) as u32;
    let width = 768;
    let height = pixels / width;
    let params = fixtures::samples::a1111_parameters();
    let paths: Vec<PathBuf> = (0..count).map(|i| dir.join(format!("{i:05}.png"))).collect();
    let missing = paths.iter().filter(|p| !p.exists()).count();
    if missing > 0 {
        eprintln!("writing {missing} files of {mb} MB to {}", dir.display());
        for (i, p) in paths.iter().enumerate().filter(|(_, p)| !p.exists()) {
            let text = params.replace("Seed: 3141592653", &format!("Seed: {i}"));
            std::fs::write(p, png_file(width, height, channels, i as u64 + 1, &text)).unwrap();
        }
    }
    paths
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

fn measure(label: &str, paths: &[PathBuf]) {
    let bytes: u64 = paths.iter().map(|p| std::fs::metadata(p).unwrap().len()).sum();
    for p in paths {
        std::hint::black_box(std::fs::read(p).unwrap()); // warm the page cache
    }
    let mut best = f64::MAX;
    let mut records = 0;
    for _ in 0..3 {
        let start = Instant::now();
        records = 0;
        for p in paths {
            let i = capture::inspect_path(p).unwrap();
            records += i.generations.len();
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    let n = paths.len() as f64;
    println!(
        "| {label:<30} | {:>6} | {:>8.2} | {:>10.0} | {:>9.0} | {:>8.1} | {:>7} |",
        paths.len(),
        bytes as f64 / n / 1e6,
        n / best,
        bytes as f64 / 1e6 / best,
        best / n * 1e6,
        records
    );
}

fn main() {
    let count: usize = arg("--count").map(|c| c.parse().unwrap()).unwrap_or(10_000);
    let mb: f64 = arg("--mb").map(|c| c.parse().unwrap()).unwrap_or(1.5);
    println!(
        "| files                          | count  | MB/file  | files/s    | MB/s      | µs/file  | records |"
    );
    println!(
        "|--------------------------------|--------|----------|------------|-----------|----------|---------|"
    );
    if let Some(dir) = arg("--existing") {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.extension()
                    .is_some_and(|e| ["png", "jpg", "jpeg", "webp"].contains(&e.to_str().unwrap_or("")))
            })
            .collect();
        paths.sort();
        measure(&dir, &paths);
    } else {
        let base = arg("--dir")
            .map(PathBuf::from)
            .unwrap_or_else(|| std::env::temp_dir().join("handprint-bench-inspect"));
        let rgb = generate(&base.join(format!("rgb-{count}-{mb}")), count, mb, 3);
        measure("A1111 PNG, RGB", &rgb);
        let rgba = generate(&base.join(format!("rgba-{count}-{mb}")), count / 10, mb, 4);
        measure("A1111 PNG, RGBA (record found)", &rgba);
        let plain_rgba: Vec<PathBuf> = {
            let dir = base.join(format!("rgba-plain-{}-{mb}", count / 10));
            std::fs::create_dir_all(&dir).unwrap();
            (0..count / 10)
                .map(|i| {
                    let p = dir.join(format!("{i:05}.png"));
                    if !p.exists() {
                        let bytes = png_file(768, (mb * 1e6 / 4.0 / 768.0) as u32, 4, i as u64 + 7, "");
                        // No text chunk at all: the alpha channel is the only place left to look.
                        let at = bytes.windows(4).position(|w| w == b"tEXt").unwrap() - 4;
                        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
                        let mut stripped = bytes[..at].to_vec();
                        stripped.extend_from_slice(&bytes[at + 12 + len..]);
                        std::fs::write(&p, stripped).unwrap();
                    }
                    p
                })
                .collect()
        };
        measure("plain RGBA PNG (alpha decoded)", &plain_rgba);
    }
    println!("\npeak RSS {:.1} MB; one thread; best of 3 passes over a warm page cache", peak_rss_mb());
}
