//! libjpeg-turbo, C code, reading bytes a stranger chose, as an upload reaches it:
//! after the sniffer's checks. Whatever they are, `decode_jpeg` answers with pixels of
//! the size it says, or an error; never a crash, a hang or a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pujo::media::process::decode_jpeg;
use pujo::media::sniff::{Format, inspect, jpeg_frame};

fuzz_target!(|data: &[u8]| {
    if let Ok((Format::Jpeg, width, height)) = inspect(data, 16_000_000) {
        let frame = jpeg_frame(data).expect("inspect read it");
        // Reads as short as the first byte says, so markers fall across them as they
        // do in a file (run with -timeout=10: no input may cost seconds).
        let reader = std::io::BufReader::with_capacity(1 + usize::from(data[0] % 64), data);
        if let Ok((pixels, w, h, channels)) = decode_jpeg(reader, &frame) {
            assert_eq!(channels, 3);
            assert!(w >= 1 && h >= 1 && w <= width && h <= height);
            assert_eq!(pixels.len(), w as usize * h as usize * channels);
        }
    }
});
