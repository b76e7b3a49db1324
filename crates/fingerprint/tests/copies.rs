//! Copies are found after what happens to images on the way, and different images are not
//! confused: three Kodak photographs registered, their transformed copies searched.

use fingerprint::catalog::{Catalog, Variant, work_codes};
use fingerprint::decode::{Limits, decode};
use fingerprint::prints::{Fingerprint, fingerprint};
use fixtures::images::{Picture, kodak};

const NAMES: [&str; 3] = ["kodim01", "kodim03", "kodim04"];

fn print_of(bytes: &[u8]) -> Fingerprint {
    fingerprint(&decode(bytes, &Limits::default()).expect("decodes").image)
}

fn catalog() -> Catalog {
    Catalog::build(NAMES.iter().enumerate().map(|(i, n)| {
        let f = print_of(&kodak(n).png());
        (i as i64 + 1, work_codes(&f), f.features)
    }))
}

/// The works `copy` matches, as (work, by PDQ, by features).
fn found(catalog: &Catalog, copy: &[u8]) -> Vec<(i64, bool, bool)> {
    catalog
        .search(&print_of(copy))
        .iter()
        .map(|m| (m.work, m.global.is_some(), m.alignment.is_some()))
        .collect()
}

type Transform = (&'static str, fn(&Picture) -> Vec<u8>);

#[test]
fn each_copy_finds_its_own_work_and_no_other() {
    let catalog = catalog();
    let transforms: [Transform; 7] = [
        ("jpeg 30", |p| p.jpeg(30)),
        ("mirror", |p| p.mirror().png()),
        ("60% of the area, a corner", |p| p.crop_area(0.6, 3).png()),
        ("60% of the area, centre", |p| {
            let c = p.crop_area(0.6, 0);
            p.crop((p.width - c.width) / 2, (p.height - c.height) / 2, c.width, c.height).png()
        }),
        ("rotated 10°", |p| p.rotate(10.0).png()),
        ("rotated 10°, jpeg 75", |p| p.rotate(-10.0).jpeg(75)),
        ("a box over 20%", |p| p.cover(0.2).png()),
    ];
    for (i, name) in NAMES.iter().enumerate() {
        let picture = kodak(name);
        for (what, f) in &transforms {
            let hits = found(&catalog, &f(&picture));
            let own = i as i64 + 1;
            assert!(hits.iter().any(|h| h.0 == own), "{name}, {what}: not found ({hits:?})");
            assert!(hits.iter().all(|h| h.0 == own), "{name}, {what}: another work matched ({hits:?})");
        }
    }
}

#[test]
fn a_crop_is_found_by_features_and_placed_where_it_was_cut() {
    let catalog = catalog();
    let picture = kodak("kodim03");
    let copy = print_of(&picture.crop_area(0.6, 3).png());
    let m = &catalog.search(&copy)[0];
    assert_eq!(m.work, 2);
    assert!(m.global.is_none(), "PDQ alone does not survive such a crop");
    let a = m.alignment.expect("aligned");
    // The bottom-right 77.5% of each side.
    let [l, t, r, b] = a.region;
    for (got, want) in [(l, 0.225), (t, 0.225), (r, 1.0), (b, 1.0)] {
        assert!((got - want).abs() < 0.02, "region {:?}", a.region);
    }
    // Both sides are taken at 512 pixels: the crop's pixels are 0.775 of the work's.
    assert!(a.rotation.abs() < 1.0 && (a.scale - 0.775).abs() < 0.02, "{a:?}");
}

#[test]
fn a_rotation_is_measured() {
    let catalog = catalog();
    let copy = print_of(&kodak("kodim04").rotate(10.0).png());
    let m = catalog.search(&copy).into_iter().find(|m| m.work == 3).expect("found");
    let a = m.alignment.expect("aligned");
    assert!((a.rotation - 10.0).abs() < 1.0, "rotation {}", a.rotation);
}

#[test]
fn a_mirror_matches_through_a_dihedral_variant_and_borders_are_trimmed() {
    let catalog = catalog();
    let m = &catalog.search(&print_of(&kodak("kodim01").mirror().png()))[0];
    let g = m.global.expect("PDQ match");
    assert_ne!(g.work, Variant::Original);
    // Black bars above and below.
    let p = kodak("kodim01");
    let mut boxed = Picture {
        width: p.width,
        height: p.height + 100,
        rgb: vec![0; (p.width * (p.height + 100) * 3) as usize],
    };
    boxed.rgb[(p.width * 50 * 3) as usize..][..p.rgb.len()].copy_from_slice(&p.rgb);
    let m = &catalog.search(&print_of(&boxed.png()))[0];
    let g = m.global.expect("PDQ match");
    assert_eq!((m.work, g.query), (1, Variant::Trimmed));
    // Not 0: a few dark rows of the photograph itself go with the bars.
    assert!(g.distance <= 16, "distance {}", g.distance);
}

#[test]
fn an_empty_catalog_finds_nothing_and_grows_by_insertion() {
    let mut catalog = Catalog::new();
    let f = print_of(&kodak("kodim01").png());
    assert!(catalog.search(&f).is_empty());
    catalog.add(7, &work_codes(&f), f.features.clone());
    let hits = catalog.search(&print_of(&kodak("kodim01").jpeg(50)));
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].work, 7);
}
