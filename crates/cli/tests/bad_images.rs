//! Hostile and damaged images through the real binary: refused before they cost memory,
//! named by what their files declare, and reported by `verify` for what they are.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use fixtures::containers::{self, Chunk};
use fixtures::images::kodak;

use common::{json, run, s};

/// Runs `handprint` with its address space capped at 2 GB: a decoder that believes a header
/// claiming gigabytes aborts instead of succeeding slowly.
fn run_capped(home: &Path, args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 2000000 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_handprint"))
        .args(args)
        .env("HANDPRINT_HOME", home)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn setup(dir: &Path) -> std::path::PathBuf {
    let home = dir.join("home");
    json(&home, &["init", "--name", "Ana Costa", "--json"]);
    json(&home, &["project", "new", "p", "--json"]);
    home
}

#[test]
fn a_jpeg_declaring_65535_squared_is_refused_by_every_command_before_decoding() {
    let tmp = tempfile::tempdir().unwrap();
    let home = setup(tmp.path());
    let photo = kodak("kodim03").crop(0, 0, 512, 512);
    let work = tmp.path().join("work.png");
    std::fs::write(&work, photo.png()).unwrap();
    json(&home, &["register", &s(&work), "--title", "w", "--json"]);
    // 512 × 512 of real data under a header claiming 4.3 gigapixels (12.9 GB decoded).
    let bomb = tmp.path().join("jpeg-65535.jpg");
    std::fs::write(&bomb, fixtures::containers::jpeg_declaring(&photo.jpeg(85), 65535, 65535)).unwrap();
    let out_jpg = s(&tmp.path().join("out.jpg"));
    let commands: [&[&str]; 5] = [
        &[
            "seal",
            &s(&bomb),
            "--import",
            "--source-type",
            "digitalCapture",
            "-p",
            "p",
            "--title",
            "t",
            "-o",
            &out_jpg,
        ],
        &["watermark", "embed", &s(&bomb), &out_jpg, "--payload", "0000000000000001"],
        &["register", &s(&bomb), "--title", "t"],
        &["search", &s(&bomb)],
        &["scan", &s(&bomb), "--no-side-by-side"],
    ];
    for args in commands {
        let out = run_capped(&home, args);
        let said = text(&out);
        assert!(out.status.code().is_some_and(|c| c != 0), "{args:?}: {:?} {said}", out.status);
        assert!(said.contains("JPEG of 65535 × 65535 pixels"), "{args:?}: {said}");
        assert!(said.contains("refused undecoded"), "{args:?}: {said}");
        assert!(!said.contains("memory allocation"), "{args:?}: {said}");
    }
    assert!(!tmp.path().join("out.jpg").exists());
    // Nothing was sealed or registered.
    let works = run(&home, &["works"]);
    assert_eq!(String::from_utf8_lossy(&works.stdout).lines().count(), 1);

    // A JPEG 65535 wide and 1 high is named by that size, not the size it would scale to.
    let thin = tmp.path().join("jpeg-65535x1.jpg");
    std::fs::write(&thin, fixtures::containers::jpeg_declaring(&photo.jpeg(85), 65535, 1)).unwrap();
    let out = run_capped(&home, &["scan", &s(&thin), "--no-side-by-side"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("JPEG of 65535 × 1 pixels is too small"), "{said}");
}

#[test]
fn seal_refuses_an_xmp_packet_that_inflates_past_the_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let home = setup(tmp.path());
    let photo = kodak("kodim04").crop(0, 0, 320, 256);
    // 96 MiB of XMP in a compressed iTXt chunk of about 100 KB.
    let mut itxt = b"XML:com.adobe.xmp\0\x01\0\0\0".to_vec();
    itxt.extend(containers::zlib(&vec![b' '; 96 << 20]));
    let file = tmp.path().join("xmp-bomb.png");
    std::fs::write(&file, containers::png(320, 256, 3, &photo.rgb, &[Chunk(*b"iTXt", itxt)])).unwrap();
    let out = run_capped(
        &home,
        &[
            "seal",
            &s(&file),
            "--import",
            "--source-type",
            "trainedAlgorithmicMedia",
            "-p",
            "p",
            "--title",
            "t",
        ],
    );
    let said = text(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains(
            "the XMP packet (iTXt XML:com.adobe.xmp) inflates to more than handprint's limit of 16 MiB"
        ),
        "{said}"
    );
    let works = run(&home, &["works"]);
    assert_eq!(String::from_utf8_lossy(&works.stdout).lines().count(), 0);
}

#[test]
fn large_metadata_chunks_are_carried_through_a_seal_not_called_damage() {
    let tmp = tempfile::tempdir().unwrap();
    let home = setup(tmp.path());
    let photo = kodak("kodim04").crop(0, 0, 320, 256);
    // Both chunks over the 64 MiB a PNG decoder buffers by default.
    let mut text_chunk = b"Comment\0".to_vec();
    text_chunk.resize(text_chunk.len() + (66 << 20), b'x');
    let mut exif = b"MM\0\x2a\0\0\0\x08\0\0".to_vec();
    exif.resize(66 << 20, 0);
    let chunks = [Chunk(*b"tEXt", text_chunk), Chunk(*b"eXIf", exif)];
    let file = tmp.path().join("big-metadata.png");
    std::fs::write(&file, containers::png(320, 256, 3, &photo.rgb, &chunks)).unwrap();
    let sealed = json(
        &home,
        &[
            "seal",
            &s(&file),
            "--import",
            "--source-type",
            "digitalCapture",
            "-p",
            "p",
            "--title",
            "t",
            "--json",
        ],
    );
    let out = std::fs::read(sealed["output"].as_str().unwrap()).unwrap();
    for (kind, len) in [(b"tEXt", 8 + (66 << 20)), (b"eXIf", 66 << 20)] {
        let at = out.windows(4).position(|w| w == kind).unwrap_or_else(|| panic!("{kind:?} kept"));
        assert_eq!(u32::from_be_bytes(out[at - 4..at].try_into().unwrap()) as usize, len);
    }
}

#[test]
fn verify_reports_damaged_files_without_credentials_for_what_they_are() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let photo = kodak("kodim03").crop(0, 0, 300, 200);
    let write = |name: &str, bytes: &[u8]| {
        let path = tmp.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        s(&path)
    };
    // A PNG without the last 4 bytes (the IEND CRC), and a WebP whose RIFF size is a lie.
    let png = photo.png();
    let cut = write("cut.png", &png[..png.len() - 4]);
    let mut webp = containers::webp(300, 200, &[]);
    webp[4..8].copy_from_slice(&0xFFFF_FF00u32.to_le_bytes());
    let riff = write("riff.webp", &webp);
    for file in [&cut, &riff] {
        let out = run(&home, &["verify", file]);
        let said = text(&out);
        assert_eq!(out.status.code(), Some(0), "{said}");
        assert!(said.contains(&format!("{file}: no Content Credentials")), "{said}");
        assert!(!said.contains("invalid"), "{said}");
        assert!(said.contains("could not check: Content Credentials:"), "{said}");
        assert!(said.contains("holds no manifest store"), "{said}");
    }
    // Pixels that do not decode: a problem line, and no claim failed.
    let jpeg = photo.jpeg(90);
    let half = write("half.jpg", &jpeg[..jpeg.len() / 2]);
    let out = run(&home, &["verify", &half]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("could not check: pixels:"), "{}", text(&out));
    // Files that cannot be read at all, alone or among readable ones.
    let empty = write("empty.png", b"");
    let prose = write("prose.png", b"not an image at all");
    for files in [vec![&empty], vec![&prose], vec![&cut, &empty]] {
        let mut args = vec!["verify"];
        args.extend(files.iter().map(|f| f.as_str()));
        let out = run(&home, &args);
        assert_eq!(out.status.code(), Some(2), "{files:?}: {}", text(&out));
    }
}
