#![no_main]
//! Everything `verify IMAGE` reads from a stranger's file besides pixels: the manifest store
//! through the c2pa crate and handprint's summary of it, the AIGC label's XMP, and the image
//! data digest a sealed event names.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Some(format) = credentials::Format::sniff(data) {
        let _ = credentials::read(data, format, None);
    }
    let _ = credentials::aigc::find(data);
    let _ = credentials::aigc::read(data);
    let _ = registry::binding::image_data_sha256(data);
});
