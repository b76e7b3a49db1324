//! PDQ and pHash of natural photos, against the values Meta's reference implementation and
//! the Python `imagehash` give for the same files (see data/README.md).

use std::path::Path;

use fingerprint::pdq;

fn rgb(name: &str) -> (usize, usize, Vec<u8>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name);
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    (info.width as usize, info.height as usize, buf)
}

const REFERENCE: [(&str, &str, [&str; 8]); 3] = [
    (
        "kodim01.png",
        "0c301eb1b9606a686987ff696b870c719964af60f769e04efe6df387483a0cb1",
        [
            "0c301eb1b9606a686987ff696b870c719964af60f769e04efe6df387483a0cb1",
            "24ece1c13e7c9b53df0b3a96166cd11b4a04cb07f5eb3efc143af5630816b0d2",
            "5965b61bec35c0c23cd255c33ed1a69bcc310dcaa23ccae4ab38592d1d6fa61b",
            "71b94b6b6b2931f98a5e903c43397bb11f5061ada0be9456416f5fc95d431878",
            "0c30e34eb1609597698700966b84f3ce9164589ff7699fb1fe6d0c78483af34e",
            "596549e4e4353f3d3cd2aa3c3ed05964c431f235a23c351bab38a6d21d6f5964",
            "24fc1e3e3e7c64acffcbc569566c2ee44a0535f8f5ebc103143a0a9c0a164f2d",
            "71b9b4946b29ce06aade6fc34339844e1f509e52a0be6ba9416fa0365d43e787",
        ],
    ),
    (
        "kodim03.png",
        "711c541c9e158f0e8f06ab91a54bbb43bbe19ef02af8d2bccb5c273ed90a0d43",
        [
            "711c541c9e158f0e8f06ab91a54bbb43bbe19ef02af8d2bccb5c273ed90a0d43",
            "3fda3de187a41e2d3deb85ba3dfc607004f0dc1600f41383d23e07e31b07d87e",
            "2449feb6cb4025a4da43013bf01e11e9eeb4345a7fad78169e09cd948c5fa7e9",
            "6a8f954bd2f1b48768be2f1068a9cada11a576bc55a1b929876bad494e5272d4",
            "711cab639e5570f18f16546ea54b44bcbbe1610f2af82d43cb5c98c1d90af2bc",
            "24490149cb00da5bda43fec4b01eee16eeb4cba57fad87e99e09326b8c5f5816",
            "3fdac01a87a4e1d23deb7a453dfc9f8f04f003e900f4e47cd23ef81c1b072781",
            "6a8f6ab4d2f14b7868bed0ef68a9352551a5a94355a146d6876b52b64e528d2b",
        ],
    ),
    (
        "kodim04.png",
        "15b56e30e9e9b076ec18e92d74f6fed9b3a56df45bf001c425f1016b45062153",
        [
            "15b56e30e9e9b076ec18e92d74f6fed9b3a56df45bf001c425f1016b45062153",
            "bd80909d7fc96cdf6d60b4b541a4db50a3f8ed82f6ec249e2d04692d3207da72",
            "45e1c49a3c3c1adcb94d4b8721a35473f6f0c75e0ea5ab6e70b4abc110538bf9",
            "48553a372a9cc6753c359e1f14f5f1aad6ad6628a3b98e3c7851c387475270d8",
            "15b491cf69694f89ec181ed274f6012623a5920b5bf0fe3b25f1fe944506deac",
            "c5e13b65bcfee523b94dbc7821a3abccf6f039a10ea5559170b4563e10537406",
            "3d806f627fc993a06d60cb4a41a0a4ffa3f8337df6ecdb692d0496d21207a58d",
            "48d5c5c82a9c398a3c35e1e014f58e55d6ad99d7a3b971cb78513c7847528f27",
        ],
    ),
];

#[test]
fn hashes_and_quality_equal_the_reference() {
    for (name, hash, _) in REFERENCE {
        let (w, h, rgb) = rgb(name);
        let p = pdq::from_rgb(w, h, &rgb);
        assert_eq!(p.hash.to_hex(), hash, "{name}");
        assert_eq!(p.quality, 100, "{name}");
    }
}

#[test]
fn the_eight_dihedral_hashes_equal_the_reference() {
    for (name, _, dihedral) in REFERENCE {
        let (w, h, rgb) = rgb(name);
        let d = pdq::dihedral_from_rgb(w, h, &rgb);
        let ours: Vec<String> = d.all().iter().map(|h| h.to_hex()).collect();
        assert_eq!(ours, dihedral, "{name}");
    }
}

#[test]
fn different_photos_are_far_apart_and_a_mirror_is_found_by_its_variant() {
    let hashes: Vec<pdq::PdqHash> = REFERENCE
        .iter()
        .map(|(name, _, _)| {
            let (w, h, rgb) = rgb(name);
            pdq::from_rgb(w, h, &rgb).hash
        })
        .collect();
    for i in 0..hashes.len() {
        for j in i + 1..hashes.len() {
            assert!(hashes[i].distance(&hashes[j]) > 90, "{} and {}", REFERENCE[i].0, REFERENCE[j].0);
        }
    }
    // Mirror kodim01's pixels: the flip variant is the closest of the eight, well within PDQ's
    // usual match threshold (31), though not exact: the reference's decimation samples pixel
    // floor((j + 0.5) * width / 64), which is not symmetric under a mirror.
    let (w, h, rgb) = rgb("kodim01.png");
    let mirrored: Vec<u8> = (0..h)
        .flat_map(|y| (0..w).rev().flat_map(move |x| [0, 1, 2].map(|c| (y, x, c))))
        .map(|(y, x, c)| rgb[(y * w + x) * 3 + c])
        .collect();
    let m = pdq::from_rgb(w, h, &mirrored);
    let d = pdq::dihedral_from_rgb(w, h, &rgb);
    let distances: Vec<u32> = d.all().iter().map(|v| m.hash.distance(v)).collect();
    let closest = (0..8).min_by_key(|&i| distances[i]).unwrap();
    assert_eq!(closest, 5, "flip_y is the mirror: {distances:?}");
    assert!(distances[5] <= 16, "{distances:?}");
    assert!(distances[0] > 60, "{distances:?}");
}

#[test]
fn phash_equals_imagehash() {
    for (name, expected) in [
        ("kodim01.png", "c4c62e705bb94b17"),
        ("kodim03.png", "afe1283e1c1e0f87"),
        ("kodim04.png", "9fe5b0eac3910786"),
    ] {
        let (w, h, rgb) = rgb(name);
        assert_eq!(fingerprint::phash::to_hex(fingerprint::phash::from_rgb(w, h, &rgb)), expected, "{name}");
    }
}
