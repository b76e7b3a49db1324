//! Prints `hex quality path` for each PNG given (8-bit RGB or RGBA), for comparisons with
//! other PDQ implementations: `cargo run --release -p handprint-fingerprint --example pdq -- FILE...`
//! With `--dihedral`, prints the eight dihedral hashes (reference order) instead of one;
//! with `--phash`, the 64-bit pHash as `imagehash` prints it.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dihedral = args.iter().any(|a| a == "--dihedral");
    for path in args.into_iter().filter(|a| !a.starts_with("--")) {
        let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
        decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
        let mut reader = decoder.read_info().unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut buf = vec![0; reader.output_buffer_size().expect("size")];
        let info = reader.next_frame(&mut buf).unwrap_or_else(|e| panic!("{path}: {e}"));
        let channels = info.color_type.samples();
        let rgb: Vec<u8> = buf[..info.buffer_size()]
            .chunks(channels)
            .flat_map(|p| [p[0], p[1 % channels], p[2 % channels]])
            .collect();
        let (w, h) = (info.width as usize, info.height as usize);
        if args_phash() {
            println!("{} {path}", fingerprint::phash::to_hex(fingerprint::phash::from_rgb(w, h, &rgb)));
        } else if dihedral {
            let d = fingerprint::pdq::dihedral_from_rgb(w, h, &rgb);
            let all: Vec<String> = d.all().iter().map(|h| h.to_hex()).collect();
            println!("{} {} {path}", all.join(","), d.quality);
        } else {
            let pdq = fingerprint::pdq::from_rgb(w, h, &rgb);
            println!("{} {} {path}", pdq.hash, pdq.quality);
        }
    }
}

fn args_phash() -> bool {
    std::env::args().any(|a| a == "--phash")
}
