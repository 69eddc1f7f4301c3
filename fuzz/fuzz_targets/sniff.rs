//! The first thing an upload meets: magic bytes and header dimensions, parsed from
//! bytes a stranger chose. Whatever they are, `inspect` answers without panicking,
//! and anything it accepts is within the pixel limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pujo::media::sniff::{inspect, format};

fuzz_target!(|data: &[u8]| {
    let limit = 100_000_000;
    if let Ok((kind, width, height)) = inspect(data, limit) {
        assert_eq!(format(data), Some(kind));
        assert!(width > 0 && height > 0);
        assert!(u64::from(width) * u64::from(height) <= limit);
    }
});
