//! EXIF is found and parsed in bytes a stranger chose: for any input and each
//! container, no panic, an orientation in 1..=8, coordinates in range.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pujo::media::exif::read_bytes;
use pujo::media::sniff::Format;

fuzz_target!(|data: &[u8]| {
    for format in [Format::Jpeg, Format::Png, Format::Webp] {
        let exif = read_bytes(data, format);
        assert!((1..=8).contains(&exif.orientation));
        assert!(exif.lat.is_none_or(|v| v.abs() <= 90.0) && exif.lon.is_none_or(|v| v.abs() <= 180.0));
        assert_eq!(exif.lat.is_some(), exif.lon.is_some());
    }
    // The TIFF structure alone, as PNG's eXIf carries it.
    let exif = pujo::media::exif::parse(data.to_vec());
    assert!((1..=8).contains(&exif.orientation));
});
