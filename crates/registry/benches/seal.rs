//! Sealing and verifying a 1-megapixel JPEG: `cargo bench -p handprint-registry --bench seal
//! -- [--reps N]` (default 15). Run it on one core (`taskset -c 1`) to compare with the goal
//! (seal ≤ 300 ms, verify ≤ 200 ms).
//!
//! The image is a Kodak photo (kodim03, a fixture) enlarged bilinearly to 1224 × 816 and
//! saved as JPEG quality 90 with A1111-style metadata, recorded in a fresh store. Each
//! repetition seals it to a new file (a new work) and verifies the result with a store of the
//! works sealed so far. With `C2PATOOL=path`, the same JPEG is also signed and read by the
//! reference tool `c2patool` (a process each, its test certificate), for comparison.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use fixtures::images::{Picture, kodak};
use registry::Registry;
use registry::seal::SealOptions;
use registry::verify_image::{Registered, verify_image};

/// Bilinear enlargement to `w × h`.
fn enlarge(p: &Picture, w: u32, h: u32) -> Picture {
    let mut rgb = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        let fy = ((y as f32 + 0.5) * p.height as f32 / h as f32 - 0.5).clamp(0.0, p.height as f32 - 1.0);
        let (y0, ty) = (fy as u32, fy.fract());
        let y1 = (y0 + 1).min(p.height - 1);
        for x in 0..w {
            let fx = ((x as f32 + 0.5) * p.width as f32 / w as f32 - 0.5).clamp(0.0, p.width as f32 - 1.0);
            let (x0, tx) = (fx as u32, fx.fract());
            let x1 = (x0 + 1).min(p.width - 1);
            for c in 0..3 {
                let at = |x: u32, y: u32| p.rgb[((y * p.width + x) * 3 + c) as usize] as f32;
                let top = at(x0, y0) + tx * (at(x1, y0) - at(x0, y0));
                let bottom = at(x0, y1) + tx * (at(x1, y1) - at(x0, y1));
                rgb.push((top + ty * (bottom - top)).round() as u8);
            }
        }
    }
    Picture { width: w, height: h, rgb }
}

/// A JPEG with an EXIF UserComment holding A1111 parameters, as Forge writes JPEGs.
fn a1111_jpeg(p: &Picture) -> Vec<u8> {
    use fixtures::containers::{Field, app1_exif, exif_tiff, user_comment_unicode};
    let comment = user_comment_unicode(&fixtures::samples::a1111_parameters(), false);
    let tiff = exif_tiff(false, &[], &[Field(0x9286, 7, comment)]);
    let jpeg = p.jpeg(90);
    let (marker, payload) = app1_exif(tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn stats(mut t: Vec<Duration>) -> (f64, f64) {
    t.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    (ms(t[t.len() / 2]), ms(t[(t.len() * 9 / 10).min(t.len() - 1)]))
}

fn time_command(cmd: &mut Command, reps: usize) -> Option<(f64, f64)> {
    let mut times = Vec::new();
    for _ in 0..reps {
        let t = Instant::now();
        let out = cmd.output().ok()?;
        if !out.status.success() {
            eprintln!("{:?} failed: {}", cmd, String::from_utf8_lossy(&out.stderr));
            return None;
        }
        times.push(t.elapsed());
    }
    Some(stats(times))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let reps: usize =
        args.iter().position(|a| a == "--reps").and_then(|i| args.get(i + 1)?.parse().ok()).unwrap_or(15);
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    registry::identity::create(&home, "Bench Creator", None).unwrap();
    let mut reg = Registry::open(&home).unwrap();
    let signer = reg.signer(None).unwrap();
    reg.create_project("bench").unwrap();
    let input = dir.path().join("gen.jpg");
    let picture = enlarge(&kodak("kodim03"), 1224, 816);
    std::fs::write(&input, a1111_jpeg(&picture)).unwrap();
    reg.record(&signer, "bench", std::slice::from_ref(&input)).unwrap();

    let (mut seal_t, mut verify_t) = (Vec::new(), Vec::new());
    let mut last = None;
    for i in 0..reps {
        let output = dir.path().join(format!("sealed-{i}.jpg"));
        let options = SealOptions {
            project: "bench",
            title: "Bench",
            license: None,
            import: false,
            visible_label: None,
            source_type: None,
            tsa: None,
            output: &output,
        };
        let t = Instant::now();
        let sealed = reg.seal(&signer, &input, &options).unwrap();
        seal_t.push(t.elapsed());
        let t = Instant::now();
        // A fresh start: the catalog (now holding this work) is loaded as `verify` loads it.
        let catalog = reg.store.catalog().unwrap();
        let registered = Registered { store: &reg.store, catalog: &catalog };
        let v = verify_image(&output, Some(&registered), None).unwrap();
        verify_t.push(t.elapsed());
        assert_eq!(v.work.map(|w| w.id), Some(sealed.work.id), "the sealed work is named");
        last = Some(output);
    }
    let size = std::fs::metadata(&input).unwrap().len();
    println!(
        "1224 × 816 JPEG q90 ({:.0} KB), {reps} repetitions, store growing to {reps} works",
        size as f64 / 1e3
    );
    println!("| step | median ms | p90 ms | goal ms |");
    println!("|---|---|---|---|");
    let (m, p) = stats(seal_t);
    println!(
        "| handprint seal (watermark, AIGC XMP, C2PA sign, journal, register) | {m:.1} | {p:.1} | 300 |"
    );
    let (m, p) = stats(verify_t);
    println!(
        "| handprint verify (C2PA validate, journal proof, watermark, fingerprint search) | {m:.1} | {p:.1} | 200 |"
    );

    if let Ok(tool) = std::env::var("C2PATOOL") {
        let manifest = dir.path().join("m.json");
        std::fs::write(
            &manifest,
            r#"{"claim_generator_info":[{"name":"bench","version":"1"}],"assertions":[{"label":"c2pa.actions","data":{"actions":[{"action":"c2pa.created","digitalSourceType":"http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"}]}}]}"#,
        )
        .unwrap();
        let signed = dir.path().join("c2patool.jpg");
        let sign = time_command(
            Command::new(&tool).arg(&input).arg("-m").arg(&manifest).arg("-o").arg(&signed).arg("-f"),
            reps,
        );
        let read = time_command(Command::new(&tool).arg(&signed), reps);
        let read_ours = last.as_deref().and_then(|p: &Path| time_command(Command::new(&tool).arg(p), reps));
        for (name, r) in [
            ("c2patool sign (process, C2PA only)", sign),
            ("c2patool read (process, C2PA only)", read),
            ("c2patool read of a handprint-sealed file", read_ours),
        ] {
            if let Some((m, p)) = r {
                println!("| {name} | {m:.1} | {p:.1} | — |");
            }
        }
    }
}
