#![no_main]
// Whole files: container walkers, every parser, the alpha-channel reader.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = capture::inspect_bytes(data);
});
