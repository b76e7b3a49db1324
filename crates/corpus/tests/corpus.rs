//! The corpus on three Kodak photos from the repository: the pool, the generator, the file.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use corpus::generator::{CODE_FLIPS, DESCRIPTOR_FLIPS};
use corpus::photos::{self, Photo, Transform};
use corpus::{CorpusError, Generator, Pool, PoolConfig};
use fingerprint::catalog::Variant;
use fingerprint::index::hamming;

const CONFIG: PoolConfig = PoolConfig { seed: 7, crop_sets: 600 };

fn photos() -> Vec<Photo> {
    ["kodim01", "kodim03", "kodim04"]
        .iter()
        .map(|n| Photo {
            name: format!("kodak/{n}.png"),
            image: photos::read_photo(&fixtures::images::kodak_path(n)).expect("reads"),
        })
        .collect()
}

fn pool() -> Arc<Pool> {
    static POOL: OnceLock<Arc<Pool>> = OnceLock::new();
    POOL.get_or_init(|| Arc::new(Pool::build(&photos(), &CONFIG).expect("builds"))).clone()
}

#[test]
fn the_pool_has_tiles_sets_and_copies_of_every_photo() {
    let pool = pool();
    assert_eq!(pool.families.len(), 3);
    // 1 + 4 + 9 tiles a photo, each fingerprinted with features.
    assert_eq!(pool.tiles.len(), 3 * 14);
    assert!(pool.tiles.iter().all(|t| t.features.features.len() > 100), "every tile has features");
    assert!(pool.sets.len() > pool.tiles.len() + 500, "{} sets", pool.sets.len());
    assert_eq!(pool.copies.len(), pool.tiles.len() * Transform::ALL.len());
    // PDQ thresholds at the median: 128 bits set in every real code.
    let weight = |c: &[u64; 4]| c.iter().map(|w| w.count_ones()).sum::<u32>();
    assert!(pool.sets.iter().all(|s| s.codes.iter().all(|c| weight(c) == 128)));
}

#[test]
fn the_generator_is_deterministic_per_seed() {
    let pool = pool();
    let (a, b, c) =
        (Generator::new(pool.clone(), 1), Generator::new(pool.clone(), 1), Generator::new(pool.clone(), 2));
    let n = a.distinct();
    for i in [0, 1, n - 1, n, n + 1, 5 * n + 3, 9_999_999] {
        assert_eq!(a.work(i), b.work(i), "work {i}");
        assert_eq!(a.original(i), (a.work(i).family, a.work(i).codes[0].1));
    }
    // Another seed: other flips past the pool and other descriptor masks everywhere.
    assert_ne!(a.work(n + 1).codes, c.work(n + 1).codes);
    assert_ne!(a.work(0).features, c.work(0).features);
}

#[test]
fn works_past_the_pool_are_their_source_with_balanced_flips() {
    let pool = pool();
    let g = Generator::new(pool.clone(), 3);
    let n = g.distinct();
    for i in [n, n + 17, 3 * n + 5] {
        let w = g.work(i);
        assert!(w.round > 0);
        let source = &pool.sets[w.set as usize];
        for ((v, c), s) in w.codes.iter().zip(source.codes) {
            assert_eq!(hamming(c, &s), CODE_FLIPS, "{v:?} of work {i}");
            assert_eq!(c.iter().map(|w| w.count_ones()).sum::<u32>(), 128, "weight kept");
        }
        let tile = &pool.tiles[w.tile as usize];
        assert_eq!(tile.family, w.family);
        assert_eq!(w.features.features.len(), tile.features.features.len());
        for (f, t) in w.features.features.iter().zip(&tile.features.features) {
            assert_eq!(hamming(&f.descriptor, &t.descriptor), DESCRIPTOR_FLIPS);
            assert_eq!((f.x, f.y), (t.x, t.y));
        }
        // Two works of one source are apart too.
        assert!(hamming(&w.codes[0].1, &g.work(i + n).codes[0].1) > 31);
    }
    let variants: Vec<Variant> = g.work(0).codes.iter().map(|c| c.0).collect();
    assert_eq!(variants, Variant::ALL);
}

#[test]
fn families_never_overlap() {
    let pool = pool();
    let g = Generator::new(pool.clone(), 5);
    for (t, tile) in pool.tiles.iter().enumerate() {
        assert_eq!(pool.tile_set(t as u32).family, tile.family);
    }
    let n = 3 * g.distinct();
    let works: Vec<_> = (0..n).step_by(7).map(|i| g.work(i)).collect();
    for w in &works {
        assert_eq!(pool.sets[w.set as usize].family, w.family);
        assert_eq!(pool.tiles[w.tile as usize].family, w.family);
    }
    // Codes of different photos are never copies of each other.
    let mut closest = u32::MAX;
    for (i, a) in works.iter().enumerate() {
        for b in &works[i + 1..] {
            if a.family != b.family {
                closest = closest.min(hamming(&a.codes[0].1, &b.codes[0].1));
            }
        }
    }
    assert!(closest > 31, "works of different photos {closest} apart");
    // Held out, a photo gives no work.
    let held = Generator::new(pool.clone(), 5).excluding(&[1]);
    assert!((0..2 * held.distinct()).all(|i| held.work(i).family != 1));
    for s in [0, pool.tiles.len() as u32, pool.sets.len() as u32 - 1] {
        let i = g.work_of_set(s).expect("every set is used");
        assert_eq!((g.work(i).set, g.work(i).round), (s, 0));
    }
}

#[test]
fn planted_copies_are_within_the_expected_distance() {
    let pool = pool();
    // Mild changes keep PDQ within its radius nearly always, and never near an unrelated
    // picture's distance (about 128); crops may take it anywhere (PDQ is not made for crops:
    // the peers' ground truth says which are still found).
    for t in [Transform::Half, Transform::Tone, Transform::Jpeg50, Transform::Blur] {
        let d: Vec<u32> = pool
            .copies
            .iter()
            .filter(|c| c.transform == t)
            .map(|c| hamming(&c.code, pool.tile_set(c.tile).original()))
            .collect();
        let within = d.iter().filter(|&&d| d <= 31).count();
        assert!(within * 10 >= d.len() * 9, "{t:?}: {within} of {} within 31: {d:?}", d.len());
        assert!(d.iter().all(|&d| d <= 64), "{t:?}: {d:?}");
    }
    // And the peers' ground truth finds exactly those within the radius.
    let args = corpus::peers::Args {
        pool: PathBuf::new(),
        out: PathBuf::new(),
        works: 10_000,
        seed: 1,
        all_variants: false,
        planted: 1000,
        unrelated: 50,
        hold_out: 1,
        radius: 31,
    };
    let g = Generator::new(pool.clone(), 1).excluding(&[2]);
    let db = corpus::peers::database(&g, args.works, false);
    let queries = corpus::peers::queries(&g, &args, &[2]);
    let truth = corpus::peers::truth(&db, &queries, 31);
    let planted: Vec<_> = queries.iter().zip(&truth).filter(|(q, _)| q.kind == "planted").collect();
    assert!(planted.len() > 100, "{} planted", planted.len());
    for (q, hits) in planted {
        let found = hits.iter().any(|&(id, _)| Some(id) == q.work);
        assert_eq!(found, q.planted_distance.expect("planted") <= 31, "{q:?}");
    }
    assert_eq!(queries.iter().filter(|q| q.kind == "unrelated").count(), 50);
}

#[test]
fn the_pool_file_round_trips_and_refuses_what_is_not_one() {
    let pool = pool();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("pool.bin");
    pool.save(&path).expect("saves");
    assert_eq!(&Pool::load(&path).expect("loads"), pool.as_ref());
    let bytes = std::fs::read(&path).expect("reads");

    let mut damaged = bytes.clone();
    damaged[bytes.len() / 2] ^= 1;
    std::fs::write(&path, &damaged).expect("writes");
    let e = Pool::load(&path).expect_err("a flipped bit");
    assert!(matches!(e, CorpusError::Damaged { .. }), "{e}");
    assert!(e.to_string().contains("pool.bin") && e.to_string().contains("checksum"), "{e}");

    std::fs::write(&path, &bytes[..bytes.len() - 100]).expect("writes");
    assert!(matches!(Pool::load(&path), Err(CorpusError::Damaged { .. })));

    let mut newer = bytes.clone();
    newer[8] = 2;
    std::fs::write(&path, &newer).expect("writes");
    let e = Pool::load(&path).expect_err("another version");
    assert!(matches!(e, CorpusError::Version { found: 2, expected: 1, .. }), "{e}");

    std::fs::write(&path, std::fs::read(fixtures::images::kodak_path("kodim01")).expect("png"))
        .expect("writes");
    let e = Pool::load(&path).expect_err("a PNG");
    assert!(matches!(e, CorpusError::Foreign { .. }), "{e}");
    assert!(e.to_string().contains("not a corpus pool file"), "{e}");
}

#[test]
fn load_or_build_reuses_a_matching_file_and_rebuilds_otherwise() {
    let dir = tempfile::tempdir().expect("temp dir");
    let photos_dir = dir.path().join("kodak");
    std::fs::create_dir(&photos_dir).expect("mkdir");
    std::fs::copy(fixtures::images::kodak_path("kodim03"), photos_dir.join("kodim03.png")).expect("copy");
    std::fs::write(photos_dir.join("README.md"), "not a photo").expect("write");
    let path = dir.path().join("pool.bin");
    let config = PoolConfig { seed: 1, crop_sets: 50 };
    let (first, built) =
        Pool::load_or_build(&path, std::slice::from_ref(&photos_dir), &config).expect("builds");
    assert!(built);
    assert_eq!(first.families, ["kodak/kodim03.png"]);
    let (again, built) =
        Pool::load_or_build(&path, std::slice::from_ref(&photos_dir), &config).expect("loads");
    assert!(!built);
    assert_eq!(again, first);
    let other = PoolConfig { seed: 2, ..config };
    assert!(Pool::load_or_build(&path, &[photos_dir], &other).expect("rebuilds").1);
    let e = Pool::from_folders(&[dir.path().join("missing")], &config).expect_err("no folder");
    assert!(e.to_string().contains("missing") && e.to_string().contains("not a folder"), "{e}");
}

#[test]
fn a_strip_is_refused_by_name_not_a_panic_later() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("strip.png");
    let strip = fingerprint::decode::Rgb { width: 40, height: 2000, pixels: vec![128; 40 * 2000 * 3] };
    std::fs::write(&path, fingerprint::decode::encode_png(&strip)).unwrap();
    let err = photos::read_photo(&path).unwrap_err().to_string();
    assert!(err.contains("strip.png") && err.contains("40 × 2000 is a strip"), "{err}");
}
