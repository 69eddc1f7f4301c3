//! The strippers walk bytes a stranger chose (whatever passed the decoder). For any
//! input and each format: no panic, no allocation the input did not pay for, output
//! no larger than the input plus the orientation block, and stripping what they
//! wrote gives it back unchanged (the whitelist keeps only what it writes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pujo::media::sniff::Format;
use pujo::media::strip::strip_bytes;

fuzz_target!(|data: &[u8]| {
    let orientation = u16::from(data.first().copied().unwrap_or(1) % 9);
    for format in [Format::Jpeg, Format::Png, Format::Webp] {
        if let Ok(out) = strip_bytes(data, format, orientation) {
            assert!(out.len() <= data.len() + 64);
            assert_eq!(strip_bytes(&out, format, orientation).expect("its own output strips"), out);
        }
    }
});
