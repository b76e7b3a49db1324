use fingerprint::{catalog, decode, prints};
fn fp(p: &std::path::Path) -> prints::Fingerprint {
    let d = decode::decode(&std::fs::read(p).unwrap(), &decode::Limits::default()).unwrap();
    prints::fingerprint(&d.image)
}
fn main() {
    let root = std::path::PathBuf::from(std::env::args().nth(1).unwrap());
    let t0 = std::time::Instant::now();
    let orig: Vec<_> = (1..=24).map(|i| fp(&root.join("none").join(format!("kodim{i:02}.png")))).collect();
    eprintln!("fingerprint {:?}/image", t0.elapsed() / 24);
    let cat = catalog::Catalog::build(
        orig.iter().enumerate().map(|(i, f)| (i as i64 + 1, catalog::work_codes(f), f.features.clone())),
    );
    let mut dirs: Vec<_> =
        std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    dirs.sort();
    for d in dirs {
        let (mut g, mut l, mut any, mut falses) = (0, 0, 0, 0);
        let t = std::time::Instant::now();
        for i in 1..=24i64 {
            let q = fp(&root.join(&d).join(format!("kodim{i:02}.png")));
            let m = cat.search(&q);
            if let Some(m) = m.iter().find(|m| m.work == i) {
                any += 1;
                g += m.global.is_some() as i32;
                l += m.alignment.is_some() as i32;
            }
            falses += m.iter().filter(|m| m.work != i).count();
        }
        println!("{d:15} any {any}/24 global {g} local {l} false {falses} ({:?}/query)", t.elapsed() / 24);
    }
}
