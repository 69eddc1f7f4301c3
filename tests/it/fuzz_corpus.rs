//! Replays the fuzz corpora (`fuzz/corpus/{sniff,strip,exif,multipart,tus_metadata,jpeg_decode,...}`, grown by
//! `cargo +nightly fuzz run NAME`) and the camera fixtures on stable, with the fuzz
//! targets' own checks, so every input that ever mattered keeps being answered
//! without a panic.

use pujo::media::exif::{parse, read_bytes};
use pujo::media::process::decode_jpeg;
use pujo::media::sniff::{Format, format, inspect, jpeg_frame};
use pujo::media::strip::strip_bytes;

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

fn corpus(name: &str) -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{} is in the repository: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("entry").path();
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            (name, std::fs::read(&path).expect("read"))
        })
        .filter(|(name, _)| !name.ends_with(".py") && !name.ends_with(".md"))
        .collect();
    out.sort();
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// `fuzz/corpus/strip` (grown by `cargo +nightly fuzz run strip`) and the camera
/// fixtures, with the strip target's checks: no panic, bounded output, idempotent.
#[test]
fn every_strip_corpus_input_is_answered_and_stripping_is_idempotent() {
    let inputs = [corpus("fuzz/corpus/strip"), corpus("tests/fixtures/exif")].concat();
    assert!(inputs.len() >= 25, "the corpus has its seeds: {}", inputs.len());
    for (name, data) in &inputs {
        for format in [Format::Jpeg, Format::Png, Format::Webp] {
            let orientation = u16::from(data.first().copied().unwrap_or(1) % 9);
            if let Ok(out) = strip_bytes(data, format, orientation) {
                assert!(out.len() <= data.len() + 64, "{name} as {format:?}");
                assert_eq!(strip_bytes(&out, format, orientation).expect("again"), out, "{name} as {format:?}");
            }
        }
    }
    let stripped = |name: &str, format| {
        let data = &inputs.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("{name} is a seed")).1;
        strip_bytes(data, format, 1)
    };
    // What each seed is there for.
    let jpeg = stripped("jpeg-trailing-image", Format::Jpeg).expect("strips");
    assert!(!contains(&jpeg, b"Exif") && !contains(&jpeg, b"MPF") && !contains(&jpeg, b"c2pa"));
    assert_eq!(jpeg.windows(2).filter(|w| *w == [0xFF, 0xD8]).count(), 1, "the trailing image is gone");
    let thumbless = stripped("jpeg-jfif-thumbnail", Format::Jpeg).expect("strips");
    assert!(!contains(&thumbless, b"RGB"), "the JFIF thumbnail is gone");
    let png = stripped("png-text-trailing", Format::Png).expect("strips");
    assert!(!contains(&png, b"eXIf") && !contains(&png, b"xmp") && !contains(&png, b"caBX"));
    assert!(contains(&png, b"gAMA") && png.ends_with(b"IEND\xaeB`\x82"), "nothing after IEND");
    let webp = stripped("webp-anmf-exif", Format::Webp).expect("strips");
    assert!(!contains(&webp, b"EXIF") && !contains(&webp, b"XMP ") && contains(&webp, b"ANMF"));
    assert!(stripped("webp-size-lie", Format::Webp).is_err(), "a chunk larger than its file is refused");
    // A real camera's MPO (a stereo pair): the first image alone leaves, and it decodes.
    let mpo = stripped("nintendo-3ds-mpo.jpg", Format::Jpeg).expect("strips");
    assert!(!contains(&mpo, b"Nintendo") && !contains(&mpo, b"MPF"));
    assert_eq!(mpo.windows(3).filter(|w| *w == [0xFF, 0xD8, 0xFF]).count(), 1);
    let mut decoder = jpeg_decoder::Decoder::new(std::io::Cursor::new(&mpo));
    decoder.decode().expect("the stripped image decodes");
    let info = decoder.info().expect("a frame");
    assert_eq!((info.width, info.height), (640, 480));
}

/// `fuzz/corpus/exif` and the camera fixtures, with the exif target's checks, and
/// what each real or malformed file must give: a bad GPS, maker-note or thumbnail IFD
/// costs that IFD only.
#[test]
fn camera_exif_is_read_as_far_as_it_can_be() {
    let inputs = [corpus("fuzz/corpus/exif"), corpus("tests/fixtures/exif")].concat();
    for (name, data) in &inputs {
        for format in [Format::Jpeg, Format::Png, Format::Webp] {
            let exif = read_bytes(data, format);
            assert!((1..=8).contains(&exif.orientation), "{name}");
            assert_eq!(exif.lat.is_some(), exif.lon.is_some(), "{name}");
        }
        assert!((1..=8).contains(&parse(data.clone()).orientation), "{name}");
    }
    let read = |name: &str, format| {
        let data = &inputs.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("{name} is a fixture")).1;
        read_bytes(data, format)
    };
    let taken = |exif: &pujo::media::exif::Exif| {
        exif.taken_at.map(|t| t.format(&time::format_description::well_known::Rfc3339).expect("formats"))
    };
    let redmi = "2020-07-27T14:46:48Z".to_owned();
    for name in [
        "redmi-note-9s-empty-gps.jpg",
        "redmi-gps-pointer-past-end-broken.jpg",
        "redmi-gps-truncated-broken.jpg",
        "redmi-gps-pointer-type-broken.jpg",
        "redmi-exif-entry-count-broken.jpg",
    ] {
        let exif = read(name, Format::Jpeg);
        assert_eq!(exif.orientation, 6, "{name}");
        assert_eq!(taken(&exif), Some(redmi.clone()), "{name}");
        assert_eq!(exif.shown.get("camera").and_then(|v| v.as_str()), Some("Xiaomi Redmi Note 9S"), "{name}");
        assert_eq!(exif.lat, None, "{name}");
    }
    let nikon = read("nikon-d800-broken-dpi.jpg", Format::Jpeg);
    assert_eq!(nikon.shown.get("camera").and_then(|v| v.as_str()), Some("NIKON CORPORATION NIKON D800"));
    assert_eq!(taken(&nikon), Some("2013-09-11T16:45:13Z".to_owned()));
    let nintendo = read("nintendo-3ds-mpo.jpg", Format::Jpeg);
    assert_eq!(taken(&nintendo), Some("2014-03-02T13:30:00Z".to_owned()));
    let overflow = read("gps-overflow.jpg", Format::Jpeg);
    assert_eq!((overflow.lat, overflow.lon), (None, None), "4294967295 degrees is no position");
    assert!(overflow.taken_at.is_some());
    assert_eq!(read("orientation-6.webp", Format::Webp).orientation, 6);
    assert_eq!(read("webp-exif", Format::Webp).orientation, 6, "with the JPEG identifier kept");
    assert_eq!(read("png-exif", Format::Png).orientation, 6);
    assert_eq!(read("png-exif-huge-claim", Format::Png), pujo::media::exif::Exif::none(), "over the limit");
}

/// `fuzz/corpus/multipart` (grown by `cargo +nightly fuzz run multipart`), with the
/// target's checks: no panic, no more part bytes than were sent; and the seeds read as
/// they should (a whole form, a cut one, a flood where headers belong).
#[test]
fn every_multipart_corpus_input_is_answered_within_its_bytes() {
    use pujo::api::multipart::{FormError, read_all};
    let inputs = corpus("fuzz/corpus/multipart");
    assert!(inputs.len() >= 9, "the corpus has its seeds: {}", inputs.len());
    for (name, data) in &inputs {
        if let Ok(parts) = read_all(data) {
            let given: usize = parts.iter().map(|p| p.1).sum();
            assert!(given <= data.len(), "{name}: {given} part bytes from {}", data.len());
        }
    }
    let seed = |name: &str| inputs.iter().find(|(n, _)| n == name).map(|(_, d)| read_all(d)).expect(name);
    let parts = seed("two-parts").expect("a whole form");
    assert_eq!(parts.iter().map(|p| p.0.as_deref()).collect::<Vec<_>>(), [Some("file"), Some("caption")]);
    assert_eq!(parts[1].1, "সন্ধি পুজো".len());
    assert_eq!(seed("many-small-parts").expect("thirty parts").len(), 30);
    assert!(matches!(seed("header-flood"), Err(FormError::HeadersTooLong)));
    assert!(matches!(seed("no-closing-boundary"), Err(FormError::Malformed(_))));
}

/// `fuzz/corpus/proof_header` (grown by `cargo +nightly fuzz run proof_header`),
/// `X-Pujo-Proof`: every input is answered; only `salt:digits` with a bounded salt is
/// taken, and the seeds say what they are.
#[test]
fn every_proof_header_corpus_input_is_answered_within_its_limits() {
    use pujo::api::proof::parse;
    let inputs = corpus("fuzz/corpus/proof_header");
    assert!(inputs.len() >= 10, "the corpus has its seeds: {}", inputs.len());
    let mut taken = Vec::new();
    for (name, data) in &inputs {
        let Ok(text) = std::str::from_utf8(data) else { continue };
        if let Some((salt, number)) = parse(text) {
            assert!(!salt.is_empty() && salt.len() <= 64, "{name}");
            assert_eq!(text.rsplit_once(':').map(|(s, n)| (s, n.parse::<u64>().ok())), Some((salt, Some(number))));
            taken.push(name.clone());
        }
    }
    taken.sort();
    assert_eq!(taken, ["colon-in-salt", "valid"]);
}

/// `fuzz/corpus/tus_metadata` (grown by `cargo +nightly fuzz run tus_metadata`):
/// every input is answered, only what names an album is taken, and the seeds say what
/// they are.
#[test]
fn every_tus_metadata_corpus_input_is_answered_within_its_limits() {
    use pujo::api::parse_metadata;
    let inputs = corpus("fuzz/corpus/tus_metadata");
    assert!(inputs.len() >= 10, "the corpus has its seeds: {}", inputs.len());
    let mut taken = Vec::new();
    for (name, data) in &inputs {
        let Ok(text) = std::str::from_utf8(data) else { continue };
        if let Ok(meta) = parse_metadata(text) {
            assert!(meta.album_id.is_none_or(|id| id > 0) && text.len() <= 8 * 1024, "{name}");
            // What a person's upload takes: it names its album (a guest's need not).
            if meta.album().is_ok() {
                taken.push(name.clone());
            }
        }
    }
    taken.sort();
    assert_eq!(taken, ["empty-pairs", "tus-js-client", "valid-bengali"]);
}

/// `fuzz/corpus/jpeg_decode` and the camera fixtures through libjpeg-turbo, with the
/// target's checks: pixels of the size said, or an error, never a panic.
#[test]
fn every_jpeg_decode_corpus_input_is_answered_with_pixels_or_an_error() {
    let inputs = [corpus("fuzz/corpus/jpeg_decode"), corpus("tests/fixtures/exif")].concat();
    assert!(inputs.len() >= 15, "the corpus has its seeds: {}", inputs.len());
    let mut decoded = Vec::new();
    for (name, data) in &inputs {
        let Ok((Format::Jpeg, width, height)) = inspect(data, 16_000_000) else { continue };
        let frame = jpeg_frame(data).expect("inspect read it");
        // Reads as short as the first byte says, so markers fall across them.
        let reader = std::io::BufReader::with_capacity(1 + usize::from(data[0] % 64), &data[..]);
        if let Ok((pixels, w, h, channels)) = decode_jpeg(reader, &frame) {
            assert_eq!(channels, 3, "{name}");
            assert!(w >= 1 && h >= 1 && w <= width && h <= height, "{name}");
            assert_eq!(pixels.len(), w as usize * h as usize * channels, "{name}");
            decoded.push(name.clone());
        }
    }
    // What the seeds are there for: these decode, headers without their scans do not.
    for name in
        ["jpeg-grey", "jpeg-cmyk-adobe", "jpeg-progressive-420", "jpeg-restarts-444", "nikon-d800-broken-dpi.jpg"]
    {
        assert!(decoded.iter().any(|d| d == name), "{name} should decode: {decoded:?}");
    }
    for name in ["jpeg-baseline", "jpeg-progressive", "jpeg-truncated"] {
        assert!(!decoded.iter().any(|d| d == name), "{name} should be refused");
    }
}

/// `fuzz/corpus/redis_forms` (grown by `cargo +nightly fuzz run redis_forms`), what Pujo
/// reads back from Redis: every input is answered; only this release's forms within
/// their bound are read, and the seeds say what they are.
#[test]
fn every_redis_forms_corpus_input_is_answered_and_read_only_within_its_bound() {
    let inputs = corpus("fuzz/corpus/redis_forms");
    assert!(inputs.len() >= 6, "the corpus has its seeds: {}", inputs.len());
    let mut read = Vec::new();
    for (name, data) in &inputs {
        match pujo::cache::check_redis_forms(data) {
            (true, false) => read.push(format!("{name}: an answer")),
            (false, true) => read.push(format!("{name}: a part")),
            (false, false) => {}
            (true, true) => panic!("{name} read as both forms"),
        }
    }
    assert_eq!(read, ["answer: an answer", "part: a part"]);
}
