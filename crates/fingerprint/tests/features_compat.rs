//! Works registered earlier keep the features the detector gave them then: today's
//! detector must give the same features for the same pixels (see `tests/data/features`).

use fingerprint::features::{self, Features, MIN_INLIERS, align};
use fingerprint::{pdq, prints};
use fixtures::images::kodak;

fn stored(name: &str) -> Features {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/features").join(name);
    prints::features_from_bytes(&std::fs::read(&path).expect("stored features")).expect("parses")
}

#[test]
fn features_match_those_stored_by_the_earlier_detector() {
    for name in ["kodim01", "kodim03", "kodim04"] {
        let picture = kodak(name);
        for (suffix, p) in [("", picture.clone()), ("-half", picture.half())] {
            let old = stored(&format!("{name}{suffix}.bin"));
            let luma = pdq::luma_from_rgb(&p.rgb);
            let new = features::detect(p.width as usize, p.height as usize, &luma);
            assert_eq!((new.width, new.height), (old.width, old.height), "{name}{suffix}");
            assert_eq!(new.features.len(), old.features.len(), "{name}{suffix}");
            // Positions, scales and descriptors exactly; angles within what another libm's
            // atan2 could change.
            let same = new
                .features
                .iter()
                .zip(&old.features)
                .filter(|(a, b)| {
                    (a.x, a.y, a.scale, a.descriptor) == (b.x, b.y, b.scale, b.descriptor)
                        && (a.angle - b.angle).abs() <= 1e-5
                })
                .count();
            assert!(
                same * 100 >= old.features.len() * 99,
                "{name}{suffix}: {same} of {} the same",
                old.features.len()
            );
            let a = align(&new, &old).expect("aligns");
            assert!(a.inliers >= 3 * MIN_INLIERS, "{name}{suffix}: {} inliers", a.inliers);
            assert!((a.scale - 1.0).abs() < 0.01 && a.rotation.abs() < 0.5, "{name}{suffix}: {a:?}");
        }
    }
}
