//! What decoding hostile images costs, measured: this test binary counts every allocation
//! (and refuses any that would take it past 1 GiB, so that a decoder without limits fails
//! at once instead of taking the machine's memory). One test only: the count is global.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

use fingerprint::decode::{DecodeError, Limits};
use fixtures::containers::{Chunk, png};
use fixtures::images::kodak;

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
const CEILING: usize = 1 << 30;

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
        if now > CEILING {
            CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
            return std::ptr::null_mut();
        }
        PEAK.fetch_max(now, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The most `f` had allocated at once beyond what was allocated before it.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = CURRENT.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    let out = f();
    (out, PEAK.load(Ordering::SeqCst) - before)
}

/// A zlib stream of `len` zero bytes, written without holding them.
fn zlib_zeros(len: usize) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let block = vec![0u8; 1 << 20];
    for _ in 0..len / block.len() {
        z.write_all(&block).unwrap();
    }
    z.finish().unwrap()
}

const BUDGET: usize = 32 << 20;

#[test]
fn hostile_images_are_decoded_or_refused_within_a_small_budget() {
    let dir = tempfile::tempdir().unwrap();

    // An ICC profile that inflates to 256 MiB, in a 256 × 256 PNG under 1 MB.
    let mut iccp = b"bomb\0\0".to_vec();
    iccp.extend(zlib_zeros(256 << 20));
    // (A photograph's pixels: the file is watermarked below, and a watermark is written only
    // where it reads back.)
    let photo = kodak("kodim03").crop(256, 128, 256, 256).rgb;
    let bomb = png(256, 256, 3, &photo, &[Chunk(*b"iCCP", iccp)]);
    assert!(bomb.len() < 1 << 20, "{} bytes", bomb.len());
    let bomb_path = dir.path().join("iccp-bomb.png");
    std::fs::write(&bomb_path, &bomb).unwrap();

    let (decoded, peak) = peak_of(|| fingerprint::decode::decode(&bomb, &Limits::default()));
    assert_eq!(decoded.unwrap().image.pixels, photo);
    assert!(peak < BUDGET, "decoding the iCCP bomb took {} MiB", peak >> 20);

    let (scanned, peak) = peak_of(|| registry::works::scan_file(&bomb_path, &Limits::default()));
    scanned.unwrap();
    assert!(peak < BUDGET, "fingerprinting the iCCP bomb took {} MiB", peak >> 20);

    let marked_path = dir.path().join("marked.png");
    let (embedded, peak) = peak_of(|| registry::marking::embed_file(&bomb_path, &marked_path, 7));
    embedded.unwrap();
    assert!(peak < BUDGET, "watermarking the iCCP bomb took {} MiB", peak >> 20);
    let marked = std::fs::read(&marked_path).unwrap();
    assert!(marked.windows(10).any(|w| w == b"iCCPbomb\0\0"), "the profile chunk is carried over as it was");

    // A JPEG of 90 KB whose frame header claims 65535 × 65535 pixels.
    let jpeg = fixtures::containers::jpeg_declaring(&kodak("kodim03").jpeg(80), 65535, 65535);
    let jpeg_path = dir.path().join("jpeg-65535.jpg");
    std::fs::write(&jpeg_path, &jpeg).unwrap();
    let (refused, peak) =
        peak_of(|| registry::marking::embed_file(&jpeg_path, &dir.path().join("out.jpg"), 7));
    let message = refused.unwrap_err().to_string();
    assert!(message.contains("JPEG of 65535 × 65535 pixels"), "{message}");
    assert!(message.contains("refused undecoded"), "{message}");
    assert!(peak < BUDGET, "refusing the JPEG took {} MiB", peak >> 20);

    let scaled = Limits { jpeg_scale_to: Some(512), ..Limits::default() };
    let (refused, peak) = peak_of(|| fingerprint::decode::decode(&jpeg, &scaled));
    assert!(matches!(refused, Err(DecodeError::TooLarge { width: 65535, height: 65535, .. })), "{refused:?}");
    assert!(peak < BUDGET, "refusing the JPEG at 1/8 scale took {} MiB", peak >> 20);
}
