//! Hash speed on one core: `cargo bench -p handprint-fingerprint --bench pdq -- [--images DIR]`
//! (default: the Kodak images in tests/data). Prints milliseconds per image for PDQ, the
//! eight dihedral PDQ hashes and pHash, on pixels already decoded.

use std::time::Instant;

fn decode(path: &std::path::Path) -> (usize, usize, Vec<u8>) {
    let mut decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let rgb = buf[..info.buffer_size()]
        .chunks(channels)
        .flat_map(|p| [p[0], p[1 % channels], p[2 % channels]])
        .collect();
    (info.width as usize, info.height as usize, rgb)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = args
        .iter()
        .position(|a| a == "--images")
        .and_then(|i| args.get(i + 1))
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data"));
    let mut images: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .collect();
    images.sort();
    let decoded: Vec<_> = images.iter().map(|p| decode(p)).collect();
    let megapixels: f64 =
        decoded.iter().map(|(w, h, _)| (w * h) as f64 / 1e6).sum::<f64>() / decoded.len() as f64;
    let reps = 20;
    let t = Instant::now();
    for _ in 0..reps {
        for (w, h, rgb) in &decoded {
            std::hint::black_box(fingerprint::pdq::from_rgb(*w, *h, rgb));
        }
    }
    let single = t.elapsed().as_secs_f64() * 1e3 / (reps * decoded.len()) as f64;
    let t = Instant::now();
    for _ in 0..reps {
        for (w, h, rgb) in &decoded {
            std::hint::black_box(fingerprint::pdq::dihedral_from_rgb(*w, *h, rgb));
        }
    }
    let dihedral = t.elapsed().as_secs_f64() * 1e3 / (reps * decoded.len()) as f64;
    let t = Instant::now();
    for _ in 0..reps {
        for (w, h, rgb) in &decoded {
            std::hint::black_box(fingerprint::phash::from_rgb(*w, *h, rgb));
        }
    }
    let phash = t.elapsed().as_secs_f64() * 1e3 / (reps * decoded.len()) as f64;
    println!("| {} images of {megapixels:.2} MP, decoded, one core | ms per image |", decoded.len());
    println!("|---|---|");
    println!("| PDQ | {single:.2} |");
    println!("| PDQ, eight dihedral hashes | {dihedral:.2} |");
    println!("| pHash | {phash:.2} |");
}
