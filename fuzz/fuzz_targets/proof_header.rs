//! `X-Pujo-Proof` is a stranger's header, read before anything else of a registration
//! or a new guest's upload: for any text, the parser answers without a panic, and what
//! it takes is a bounded salt and a number it spelled in digits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pujo::api::proof::parse;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Some((salt, number)) = parse(text) {
        assert!(!salt.is_empty() && salt.len() <= 64);
        let (given_salt, digits) = text.rsplit_once(':').expect("a proof has a colon");
        assert_eq!(given_salt, salt);
        assert!(digits.len() <= 19 && digits.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(digits.parse::<u64>().ok(), Some(number));
    }
});
