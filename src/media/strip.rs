//! The original as others may download it: the same image data and nothing else.
//!
//! Stripping is a whitelist: each format keeps the segments or chunks that decoding
//! and colour need, and drops every other one, known or not, wherever it sits. Bytes
//! after the primary image's end (a trailing second image, an MPF preview, anything
//! appended) are never copied. So GPS in EXIF, XMP, IPTC, comments, maker notes,
//! C2PA/JUMBF, an embedded preview with its own EXIF, or metadata in a chunk nobody
//! has named yet cannot leave with the file. A JPEG gets a minimal EXIF block of its
//! own holding only the orientation, so it still displays upright.
//!
//! Streams input to output with fixed buffers: no allocation follows a size read from
//! the file (JPEG segment bodies are at most 64 KiB by construction, PNG and WebP
//! chunks are copied through `take` after their size is checked against what is left).

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Cursor, Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::sniff::Format;

/// Writes the stripped copy of `source` to `target` and syncs it.
pub fn strip(source: &Path, target: &Path, format: Format, orientation: u16) -> std::io::Result<()> {
    let mut input = BufReader::with_capacity(64 * 1024, File::open(source)?);
    let mut output = BufWriter::with_capacity(64 * 1024, File::create(target)?);
    strip_stream(&mut input, &mut output, format, orientation)?;
    let file = output.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()
}

/// The stripped copy of bytes in memory (tests and the fuzz targets).
pub fn strip_bytes(bytes: &[u8], format: Format, orientation: u16) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len().min(1 << 20));
    strip_stream(&mut Cursor::new(bytes), &mut out, format, orientation)?;
    Ok(out)
}

/// Strips `input` into `output`. An input the whitelist cannot walk is an
/// `InvalidData` (or `UnexpectedEof`) error, and then `output` must be discarded.
pub fn strip_stream(
    input: &mut (impl BufRead + Seek),
    output: &mut impl Write,
    format: Format,
    orientation: u16,
) -> std::io::Result<()> {
    match format {
        Format::Jpeg => jpeg(input, output, orientation),
        Format::Png => png(input, output),
        Format::Webp => webp(input, output),
    }
}

fn bad(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned())
}

fn read_exact<const N: usize>(r: &mut impl Read) -> std::io::Result<[u8; N]> {
    let mut buf = [0; N];
    r.read_exact(&mut buf)?;
    Ok(buf)
}

/// Copies exactly `len` bytes (or fails: a chunk cut short is not a chunk).
fn copy_exact(r: &mut impl Read, w: &mut impl Write, len: u64) -> std::io::Result<()> {
    let copied = std::io::copy(&mut r.take(len), w)?;
    if copied == len { Ok(()) } else { Err(std::io::ErrorKind::UnexpectedEof.into()) }
}

// ------------------------------------------------------------------------- JPEG

/// An APP1 segment with a TIFF header and one IFD entry: Orientation.
fn orientation_app1(orientation: u16) -> Vec<u8> {
    let mut tiff = b"MM\x00\x2a\x00\x00\x00\x08".to_vec();
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes()); // count
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]); // padding of the 4-byte value field
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    let mut segment = vec![0xFF, 0xE1];
    let length = u16::try_from(2 + 6 + tiff.len()).expect("small");
    segment.extend_from_slice(&length.to_be_bytes());
    segment.extend_from_slice(b"Exif\0\0");
    segment.extend_from_slice(&tiff);
    segment
}

const EOI: [u8; 2] = [0xFF, 0xD9];

/// What the whitelist does with one JPEG segment.
enum Keep {
    /// Copied as it is.
    Whole,
    /// The JFIF header without its thumbnail (which is a second image).
    Jfif,
    /// Not copied.
    Drop,
}

/// The JPEG whitelist: SOI; APP0 JFIF (thumbnail removed), APP2 ICC profile, APP14
/// Adobe (colour transform); DQT, DHT, DAC, DRI, DNL, every non-hierarchical SOFn and
/// SOS with its entropy-coded data, up to the primary image's EOI. Every other
/// marker (APP1 EXIF/XMP, APP2 MPF/FlashPix, APP11 JUMBF/C2PA, APP13 IPTC, COM, ...)
/// is dropped, and nothing after the EOI is read.
fn keep(marker: u8, body: &[u8]) -> Keep {
    match marker {
        0xE0 if body.starts_with(b"JFIF\0") && body.len() >= 14 => Keep::Jfif,
        0xE2 if body.starts_with(b"ICC_PROFILE\0") => Keep::Whole,
        0xEE if body.starts_with(b"Adobe") => Keep::Whole,
        0xDB | 0xC4 | 0xCC | 0xDD | 0xDC | 0xDA => Keep::Whole,
        0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => Keep::Whole,
        _ => Keep::Drop,
    }
}

fn jpeg(r: &mut impl BufRead, w: &mut impl Write, orientation: u16) -> std::io::Result<()> {
    if read_exact::<2>(r)? != [0xFF, 0xD8] {
        return Err(bad("not a JPEG"));
    }
    w.write_all(&[0xFF, 0xD8])?;
    let mut wrote_orientation = !(2..=8).contains(&orientation);
    let mut wrote_jfif = false;
    let mut next: Option<u8> = None;
    loop {
        let marker = match next.take() {
            Some(marker) => marker,
            None => {
                if read_exact::<1>(r)?[0] != 0xFF {
                    return Err(bad("JPEG segment without a marker"));
                }
                let mut marker = 0xFF;
                while marker == 0xFF {
                    marker = read_exact::<1>(r)?[0];
                }
                marker
            }
        };
        match marker {
            0xD9 => return w.write_all(&EOI),
            0xD8 => return Err(bad("a second JPEG start inside the image")),
            // Not a marker: a decoder skips it and reads on, so taking it for a
            // segment would walk other segments than the decoder (as `sniff` refuses).
            0x00 => return Err(bad("JPEG marker code 0 where a segment belongs")),
            // Standalone markers outside a scan carry nothing an image needs.
            0x01 | 0xD0..=0xD7 => continue,
            _ => {}
        }
        let length = u16::from_be_bytes(read_exact::<2>(r)?);
        if length < 2 {
            return Err(bad("JPEG segment too short"));
        }
        let mut body = vec![0; usize::from(length) - 2];
        r.read_exact(&mut body)?;
        let kept = keep(marker, &body);
        // The orientation block goes right after APP0 (JFIF), before anything else.
        let first_jfif = marker == 0xE0 && matches!(kept, Keep::Jfif) && !wrote_jfif;
        if !wrote_orientation && !first_jfif {
            w.write_all(&orientation_app1(orientation))?;
            wrote_orientation = true;
        }
        match kept {
            Keep::Whole => {
                w.write_all(&[0xFF, marker])?;
                w.write_all(&length.to_be_bytes())?;
                w.write_all(&body)?;
            }
            Keep::Jfif if !wrote_jfif => {
                // Identifier, version, units, densities; thumbnail size 0 x 0.
                w.write_all(&[0xFF, 0xE0, 0x00, 0x10])?;
                w.write_all(&body[..12])?;
                w.write_all(&[0, 0])?;
                wrote_jfif = true;
            }
            Keep::Jfif | Keep::Drop => {}
        }
        if marker == 0xDA {
            match copy_scan(r, w)? {
                Some(marker) => next = Some(marker),
                // A scan cut short still decodes as far as it goes; end it properly.
                None => return w.write_all(&EOI),
            }
        }
    }
}

/// Copies entropy-coded data (with its stuffed zeros and restart markers) up to the
/// next marker, which it consumes and returns; `None` at the end of the input.
fn copy_scan(r: &mut impl BufRead, w: &mut impl Write) -> std::io::Result<Option<u8>> {
    let mut after_ff = false;
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(None);
        }
        let (mut run, mut i, mut found) = (0, 0, None);
        while i < buf.len() {
            let byte = buf[i];
            i += 1;
            if after_ff {
                after_ff = false;
                match byte {
                    0x00 | 0xD0..=0xD7 => w.write_all(&[0xFF, byte])?,
                    // Fill bytes before a marker.
                    0xFF => after_ff = true,
                    _ => {
                        found = Some(byte);
                        break;
                    }
                }
                run = i;
            } else if byte == 0xFF {
                w.write_all(&buf[run..i - 1])?;
                after_ff = true;
                run = i;
            }
        }
        if found.is_none() {
            w.write_all(&buf[run..i])?;
        }
        r.consume(i);
        if found.is_some() {
            return Ok(found);
        }
    }
}

// -------------------------------------------------------------------------- PNG

/// The PNG whitelist: the critical chunks, transparency, colour (gamma, chromaticities,
/// sRGB, ICC, cICP and HDR mastering data), significant bits, background, pixel
/// density, and APNG's frame chunks (image data). Text (tEXt, zTXt, iTXt: XMP),
/// eXIf, tIME, C2PA and every unknown chunk are dropped; nothing after IEND is read.
const PNG_KEPT: [&[u8; 4]; 18] = [
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"cHRM", b"gAMA", b"iCCP", b"sBIT", b"sRGB", b"cICP", b"mDCv",
    b"cLLi", b"bKGD", b"pHYs", b"acTL", b"fcTL", b"fdAT",
];

fn png(r: &mut impl Read, w: &mut impl Write) -> std::io::Result<()> {
    let signature = read_exact::<8>(r)?;
    if &signature != b"\x89PNG\r\n\x1a\n" {
        return Err(bad("not a PNG"));
    }
    w.write_all(&signature)?;
    loop {
        let length = u32::from_be_bytes(read_exact::<4>(r)?);
        if length > i32::MAX as u32 {
            return Err(bad("PNG chunk longer than PNG allows"));
        }
        let kind = read_exact::<4>(r)?;
        let with_crc = u64::from(length) + 4;
        if PNG_KEPT.contains(&&kind) {
            w.write_all(&length.to_be_bytes())?;
            w.write_all(&kind)?;
            copy_exact(r, w, with_crc)?;
        } else {
            copy_exact(r, &mut std::io::sink(), with_crc)?;
        }
        if &kind == b"IEND" {
            return Ok(());
        }
    }
}

// ------------------------------------------------------------------------- WebP

/// The WebP whitelist: VP8X (its EXIF and XMP flags cleared), VP8, VP8L, ALPH, ICCP,
/// ANIM, and ANMF frames holding only ALPH, VP8 and VP8L. EXIF, XMP and unknown
/// chunks are dropped, at the top level and inside frames; nothing after the RIFF
/// size is read.
const WEBP_KEPT: [&[u8; 4]; 7] = [b"VP8X", b"VP8 ", b"VP8L", b"ALPH", b"ICCP", b"ANIM", b"ANMF"];
const FRAME_KEPT: [&[u8; 4]; 3] = [b"ALPH", b"VP8 ", b"VP8L"];
/// An ANMF payload starts with its position, size, duration and flags.
const FRAME_HEADER: u64 = 16;

struct Chunk {
    kind: [u8; 4],
    size: u32,
    /// The body with its padding byte, and where it starts.
    padded: u64,
    start: u64,
}

/// The chunk at the reader's position, if a whole header fits before `end`; its body
/// must fit too.
fn next_chunk(r: &mut (impl Read + Seek), end: u64) -> std::io::Result<Option<Chunk>> {
    let at = r.stream_position()?;
    if end.saturating_sub(at) < 8 {
        return Ok(None);
    }
    let kind = read_exact::<4>(r)?;
    let size = u32::from_le_bytes(read_exact::<4>(r)?);
    let padded = u64::from(size) + u64::from(size & 1);
    let start = at + 8;
    if padded > end - start {
        return Err(bad("WebP chunk larger than what holds it"));
    }
    Ok(Some(Chunk { kind, size, padded, start }))
}

/// Walks the chunks in `[position, end)`, keeping those in `kept`; writes them when
/// `w` is given, and returns the bytes they take.
fn walk(
    r: &mut (impl Read + Seek),
    end: u64,
    kept: &[&[u8; 4]],
    mut w: Option<&mut dyn Write>,
) -> std::io::Result<u64> {
    let mut total = 0u64;
    while let Some(chunk) = next_chunk(r, end)? {
        let chunk_end = chunk.start + chunk.padded;
        if !kept.contains(&&chunk.kind) {
            r.seek(SeekFrom::Start(chunk_end))?;
            continue;
        }
        if &chunk.kind == b"ANMF" {
            if chunk.padded < FRAME_HEADER {
                return Err(bad("WebP frame too short"));
            }
            let frames_at = chunk.start + FRAME_HEADER;
            r.seek(SeekFrom::Start(frames_at))?;
            let inner = walk(r, chunk_end, &FRAME_KEPT, None)?;
            let size = u32::try_from(FRAME_HEADER + inner).map_err(|_| bad("WebP frame too large"))?;
            if let Some(w) = w.as_mut() {
                w.write_all(b"ANMF")?;
                w.write_all(&size.to_le_bytes())?;
                r.seek(SeekFrom::Start(chunk.start))?;
                copy_exact(r, w, FRAME_HEADER)?;
                walk(r, chunk_end, &FRAME_KEPT, Some(&mut **w))?;
            }
            total += 8 + FRAME_HEADER + inner;
        } else {
            if let Some(w) = w.as_mut() {
                w.write_all(&chunk.kind)?;
                w.write_all(&chunk.size.to_le_bytes())?;
                if &chunk.kind == b"VP8X" && chunk.size > 0 {
                    let flags = read_exact::<1>(r)?[0] & !(0x08 | 0x04); // EXIF and XMP present
                    w.write_all(&[flags])?;
                    copy_exact(r, w, chunk.padded - 1)?;
                } else {
                    copy_exact(r, w, chunk.padded)?;
                }
            }
            total += 8 + chunk.padded;
        }
        r.seek(SeekFrom::Start(chunk_end))?;
    }
    Ok(total)
}

fn webp(r: &mut (impl Read + Seek), w: &mut impl Write) -> std::io::Result<()> {
    let header = read_exact::<12>(r)?;
    if &header[0..4] != b"RIFF" || &header[8..12] != b"WEBP" {
        return Err(bad("not a WebP"));
    }
    let riff = u64::from(u32::from_le_bytes([header[4], header[5], header[6], header[7]]));
    let file_len = r.seek(SeekFrom::End(0))?;
    // The chunks end where the RIFF size says, or where the file does if it is shorter.
    let end = (8 + riff).min(file_len);
    r.seek(SeekFrom::Start(12))?;
    let kept = walk(r, end, &WEBP_KEPT, None)?;
    let size = u32::try_from(4 + kept).map_err(|_| bad("WebP too large"))?;
    w.write_all(b"RIFF")?;
    w.write_all(&size.to_le_bytes())?;
    w.write_all(b"WEBP")?;
    r.seek(SeekFrom::Start(12))?;
    walk(r, end, &WEBP_KEPT, Some(w as &mut dyn Write))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(marker: u8, body: &[u8]) -> Vec<u8> {
        let mut s = vec![0xFF, marker];
        s.extend_from_slice(&u16::try_from(body.len() + 2).expect("small").to_be_bytes());
        s.extend_from_slice(body);
        s
    }

    /// The markers of a JPEG's header segments, in order, up to the first SOS.
    fn markers(jpeg: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut i = 2;
        while i + 4 <= jpeg.len() && jpeg[i] == 0xFF {
            let marker = jpeg[i + 1];
            out.push(marker);
            if marker == 0xDA {
                break;
            }
            i += 2 + usize::from(u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]));
        }
        out
    }

    #[test]
    fn jpeg_metadata_goes_and_orientation_stays() {
        let mut bytes = vec![0xFF, 0xD8];
        bytes.extend(segment(0xE0, b"JFIF\0\x01\x01\x00\x00\x01\x00\x01\x02\x01THUMBNAILRGB"));
        bytes.extend(segment(0xE1, b"Exif\0\0GPS"));
        bytes.extend(segment(0xE2, b"MPF\0secondimage"));
        bytes.extend(segment(0xE2, b"ICC_PROFILE\0\x01\x01profile"));
        bytes.extend(segment(0xEB, b"JPjumbfC2PA"));
        bytes.extend(segment(0xED, b"Photoshop 3.0\0IPTC"));
        bytes.extend(segment(0xFE, b"a comment"));
        bytes.extend(segment(0xDB, &[0; 65]));
        bytes.extend(segment(0xC0, &[8, 0, 1, 0, 1, 1, 1, 0x11, 0]));
        bytes.extend(segment(0xC4, &[0; 17]));
        bytes.extend(segment(0xDA, &[1, 1, 0, 0, 63, 0]));
        let scan = [1, 2, 0xFF, 0x00, 3, 0xFF, 0xD0, 4];
        bytes.extend_from_slice(&scan);
        bytes.extend_from_slice(&EOI);
        // An appended image with its own GPS, as a camera's MPF preview is.
        bytes.extend_from_slice(&[0xFF, 0xD8]);
        bytes.extend(segment(0xE1, b"Exif\0\0TRAILING-GPS"));
        bytes.extend_from_slice(&EOI);

        let out = strip_bytes(&bytes, Format::Jpeg, 6).expect("strip");
        let text = String::from_utf8_lossy(&out);
        for gone in ["GPS", "MPF", "THUMBNAIL", "C2PA", "IPTC", "comment"] {
            assert!(!text.contains(gone), "{gone} is gone: {text:?}");
        }
        assert_eq!(markers(&out), [0xE0, 0xE1, 0xE2, 0xDB, 0xC0, 0xC4, 0xDA]);
        assert!(out.windows(2).any(|w| w == [0x01, 0x12]), "orientation tag written");
        assert!(text.contains("ICC_PROFILE"), "the colour profile stays");
        let mut tail = scan.to_vec();
        tail.extend_from_slice(&EOI);
        assert!(out.ends_with(&tail), "scan data untouched, nothing after its end");
        // Stripping is idempotent: the whitelist keeps what it wrote.
        assert_eq!(strip_bytes(&out, Format::Jpeg, 6).expect("again"), out);
    }

    #[test]
    fn progressive_scans_and_their_tables_are_all_kept() {
        let mut bytes = vec![0xFF, 0xD8];
        bytes.extend(segment(0xC2, &[8, 0, 1, 0, 1, 1, 1, 0x11, 0]));
        bytes.extend(segment(0xDA, &[1, 1, 0, 0, 0, 0]));
        bytes.extend_from_slice(&[9, 9, 0xFF, 0xFF, 0xFF]); // fill bytes before a marker
        bytes.extend(segment(0xC4, &[1; 17]));
        bytes.extend(segment(0xE1, b"Exif\0\0between scans"));
        bytes.extend(segment(0xDA, &[1, 1, 0, 1, 63, 0]));
        bytes.extend_from_slice(&[7, 7]);
        // Cut short: no EOI.
        let out = strip_bytes(&bytes, Format::Jpeg, 1).expect("strip");
        assert!(!String::from_utf8_lossy(&out).contains("between"));
        assert_eq!(out.iter().filter(|&&b| b == 0xDA).count(), 2, "both scans");
        assert!(out.ends_with(&[7, 7, 0xFF, 0xD9]), "ended properly");
        assert!(!out.windows(2).any(|w| w == [0x01, 0x12]), "orientation 1 needs no block");
    }

    fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut c = u32::try_from(data.len()).expect("small").to_be_bytes().to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        c.extend_from_slice(&[0; 4]);
        c
    }

    #[test]
    fn png_keeps_only_image_chunks() {
        let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
        bytes.extend(png_chunk(b"IHDR", &[0; 13]));
        bytes.extend(png_chunk(b"eXIf", b"GPS"));
        bytes.extend(png_chunk(b"iTXt", b"XML:com.adobe.xmp"));
        bytes.extend(png_chunk(b"caBX", b"C2PA"));
        bytes.extend(png_chunk(b"gAMA", &[0, 0, 0xB1, 0x8F]));
        bytes.extend(png_chunk(b"IDAT", b"pixels"));
        bytes.extend(png_chunk(b"IEND", b""));
        bytes.extend_from_slice(b"appended GPS");
        let out = strip_bytes(&bytes, Format::Png, 1).expect("strip");
        let text = String::from_utf8_lossy(&out);
        assert!(!text.contains("GPS") && !text.contains("xmp") && !text.contains("C2PA"), "{text:?}");
        assert!(text.contains("gAMA") && text.contains("pixels") && text.ends_with("IEND\0\0\0\0"));
        let huge = [&bytes[..8], &[0xFF, 0xFF, 0xFF, 0xF0], b"IDAT"].concat();
        assert!(strip_bytes(&huge, Format::Png, 1).is_err(), "a length PNG forbids");
    }

    fn riff(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut c = kind.to_vec();
        c.extend_from_slice(&u32::try_from(data.len()).expect("small").to_le_bytes());
        c.extend_from_slice(data);
        if data.len() % 2 == 1 {
            c.push(0);
        }
        c
    }

    fn webp_file(chunks: &[Vec<u8>]) -> Vec<u8> {
        let body: Vec<u8> = chunks.concat();
        let mut out = b"RIFF".to_vec();
        out.extend_from_slice(&u32::try_from(body.len() + 4).expect("small").to_le_bytes());
        out.extend_from_slice(b"WEBP");
        out.extend(body);
        out
    }

    #[test]
    fn webp_drops_metadata_at_every_level_and_fixes_sizes() {
        let frame = [vec![0; 16], riff(b"VP8L", b"frame"), riff(b"EXIF", b"GPS in a frame")].concat();
        let bytes = webp_file(&[
            riff(b"VP8X", &[0x3E, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            riff(b"ICCP", b"profile"),
            riff(b"ANIM", &[0; 6]),
            riff(b"ANMF", &frame),
            riff(b"EXIF", b"GPS"),
            riff(b"XMP ", b"xmp"),
            riff(b"ZZZZ", b"unknown"),
        ]);
        let out = strip_bytes(&bytes, Format::Webp, 1).expect("strip");
        let text = String::from_utf8_lossy(&out);
        assert!(!text.contains("GPS") && !text.contains("xmp") && !text.contains("unknown"), "{text:?}");
        assert!(text.contains("frame") && text.contains("profile"));
        assert_eq!(out[20] & 0x0C, 0, "EXIF and XMP flags cleared");
        assert_eq!(out[20] & 0x20, 0x20, "ICC flag kept");
        assert_eq!(u32::from_le_bytes([out[4], out[5], out[6], out[7]]) as usize, out.len() - 8, "RIFF size");
        assert_eq!(strip_bytes(&out, Format::Webp, 1).expect("again"), out);
    }

    #[test]
    fn webp_sizes_that_lie_are_refused_without_allocating_them() {
        let mut lie = webp_file(&[riff(b"VP8L", b"x")]);
        lie[16..20].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
        lie[4..8].copy_from_slice(&0xFFFF_FFFFu32.to_le_bytes());
        let error = strip_bytes(&lie, Format::Webp, 1).expect_err("a chunk larger than its file");
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
    }
}
