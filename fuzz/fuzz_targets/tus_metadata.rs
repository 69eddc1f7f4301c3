//! `Upload-Metadata` of a resumable upload is a stranger's header: for any text, the
//! parser answers without a panic, and what it takes is within its limits (an album id
//! above zero, from at most 8 KiB of text).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pujo::api::parse_metadata;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(meta) = parse_metadata(text) {
        assert!(meta.album_id.is_none_or(|id| id > 0));
        assert!(text.len() <= 8 * 1024);
        assert!(meta.filename.len() <= text.len() && meta.caption.len() <= text.len());
    }
});
