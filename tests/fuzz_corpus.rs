//! Replays the fuzz corpus of the upload sniffer (`fuzz/corpus/sniff`, grown by
//! `cargo +nightly fuzz run sniff`) on stable, with the fuzz target's own checks, so
//! every input that ever mattered keeps being answered without a panic.

use pujo::media::sniff::{format, inspect};

#[test]
fn every_corpus_input_is_answered_within_the_limits() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus/sniff");
    let mut seen = 0;
    let mut accepted = Vec::new();
    for entry in std::fs::read_dir(dir).expect("the corpus is in the repository") {
        let path = entry.expect("entry").path();
        let data = std::fs::read(&path).expect("read");
        let limit = 100_000_000;
        if let Ok((kind, width, height)) = inspect(&data, limit) {
            assert_eq!(format(&data), Some(kind), "{}", path.display());
            assert!(width > 0 && height > 0 && u64::from(width) * u64::from(height) <= limit, "{}", path.display());
            accepted.push(path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
        }
        seen += 1;
    }
    assert!(seen >= 15, "the corpus has its seeds: {seen}");
    // The hand-written seeds say what they are.
    for name in ["jpeg-baseline", "jpeg-progressive", "png-rgba", "webp-vp8", "webp-vp8l", "webp-vp8x"] {
        assert!(accepted.iter().any(|a| a == name), "{name} should be accepted: {accepted:?}");
    }
    for name in ["png-bomb-60000", "zip-named-jpg", "svg-script", "html", "gif", "empty", "jpeg-truncated"] {
        assert!(!accepted.iter().any(|a| a == name), "{name} should be refused");
    }
}
