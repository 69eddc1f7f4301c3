//! The original as others may download it: the same image data, without EXIF, XMP,
//! IPTC or text chunks (so without GPS). A JPEG keeps a minimal EXIF block holding
//! only its orientation, so it still displays upright. Streams file to file.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::sniff::Format;

/// Writes the stripped copy of `source` to `target`.
pub fn strip(source: &Path, target: &Path, format: Format, orientation: u16) -> std::io::Result<()> {
    let mut input = BufReader::new(File::open(source)?);
    let mut output = BufWriter::new(File::create(target)?);
    match format {
        Format::Jpeg => jpeg(&mut input, &mut output, orientation)?,
        Format::Png => png(&mut input, &mut output)?,
        Format::Webp => webp(&mut input, &mut output)?,
    }
    let file = output.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()
}

fn bad(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned())
}

fn read_exact<const N: usize>(r: &mut impl Read) -> std::io::Result<[u8; N]> {
    let mut buf = [0; N];
    r.read_exact(&mut buf)?;
    Ok(buf)
}

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

/// Copies every segment but APP1 (EXIF, XMP), APP13 (IPTC) and COM up to the start of
/// scan, then the rest verbatim.
fn jpeg(r: &mut (impl Read + Seek), w: &mut impl Write, orientation: u16) -> std::io::Result<()> {
    if read_exact::<2>(r)? != [0xFF, 0xD8] {
        return Err(bad("not a JPEG"));
    }
    w.write_all(&[0xFF, 0xD8])?;
    let mut wrote_orientation = orientation == 1;
    loop {
        let [ff, mut marker] = read_exact::<2>(r)?;
        if ff != 0xFF {
            return Err(bad("JPEG segment without a marker"));
        }
        while marker == 0xFF {
            marker = read_exact::<1>(r)?[0];
        }
        if matches!(marker, 0x01 | 0xD0..=0xD7) {
            w.write_all(&[0xFF, marker])?;
            continue;
        }
        let length = u16::from_be_bytes(read_exact::<2>(r)?);
        if length < 2 {
            return Err(bad("JPEG segment too short"));
        }
        let mut body = vec![0; usize::from(length) - 2];
        r.read_exact(&mut body)?;
        let dropped = matches!(marker, 0xE1 | 0xED | 0xFE);
        // The orientation block goes right after APP0 (JFIF), before anything else.
        if !wrote_orientation && marker != 0xE0 {
            w.write_all(&orientation_app1(orientation))?;
            wrote_orientation = true;
        }
        if !dropped {
            w.write_all(&[0xFF, marker])?;
            w.write_all(&length.to_be_bytes())?;
            w.write_all(&body)?;
        }
        if marker == 0xDA {
            std::io::copy(r, w)?;
            return Ok(());
        }
    }
}

/// Copies every chunk but eXIf and the text chunks (which carry XMP).
fn png(r: &mut impl Read, w: &mut impl Write) -> std::io::Result<()> {
    let signature = read_exact::<8>(r)?;
    if &signature != b"\x89PNG\r\n\x1a\n" {
        return Err(bad("not a PNG"));
    }
    w.write_all(&signature)?;
    loop {
        let length = u32::from_be_bytes(read_exact::<4>(r)?);
        let kind = read_exact::<4>(r)?;
        let mut rest = r.by_ref().take(u64::from(length) + 4); // data + CRC
        if matches!(&kind, b"eXIf" | b"tEXt" | b"zTXt" | b"iTXt") {
            std::io::copy(&mut rest, &mut std::io::sink())?;
        } else {
            w.write_all(&length.to_be_bytes())?;
            w.write_all(&kind)?;
            let copied = std::io::copy(&mut rest, w)?;
            if copied != u64::from(length) + 4 {
                return Err(bad("PNG chunk cut short"));
            }
        }
        if &kind == b"IEND" {
            return Ok(());
        }
    }
}

/// Copies every RIFF chunk but EXIF and XMP, clears their flags in VP8X and fixes the
/// RIFF size.
fn webp(r: &mut impl Read, w: &mut (impl Write + Seek)) -> std::io::Result<()> {
    let header = read_exact::<12>(r)?;
    if &header[0..4] != b"RIFF" || &header[8..12] != b"WEBP" {
        return Err(bad("not a WebP"));
    }
    let total = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    w.write_all(&header)?;
    let mut written: u32 = 4; // "WEBP"
    let mut remaining = total.saturating_sub(4);
    while remaining >= 8 {
        let kind = read_exact::<4>(r)?;
        let size = u32::from_le_bytes(read_exact::<4>(r)?);
        let padded = size + (size & 1);
        remaining = remaining.saturating_sub(8 + padded);
        let mut body = vec![0; padded as usize];
        r.read_exact(&mut body)?;
        if matches!(&kind, b"EXIF" | b"XMP ") {
            continue;
        }
        if &kind == b"VP8X" && !body.is_empty() {
            body[0] &= !(0x08 | 0x04); // EXIF and XMP present flags
        }
        w.write_all(&kind)?;
        w.write_all(&size.to_le_bytes())?;
        w.write_all(&body)?;
        written += 8 + padded;
    }
    w.seek(SeekFrom::Start(4))?;
    w.write_all(&written.to_le_bytes())?;
    w.seek(SeekFrom::End(0))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_metadata_goes_and_orientation_stays() {
        let dir = tempfile::tempdir().expect("dir");
        let source = dir.path().join("in.jpg");
        let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x4A, 0x46];
        bytes.extend_from_slice(&[0xFF, 0xE1, 0x00, 0x0A, b'E', b'x', b'i', b'f', 0, 0, b'G', b'P']);
        bytes.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x02, 1, 2, 3, 0xFF, 0xD9]);
        std::fs::write(&source, &bytes).expect("write");
        let target = dir.path().join("out.jpg");
        strip(&source, &target, Format::Jpeg, 6).expect("strip");
        let out = std::fs::read(&target).expect("read");
        assert!(!out.windows(2).any(|w| w == b"GP"), "the old EXIF is gone");
        assert!(out.windows(2).any(|w| w == [0x01, 0x12]), "orientation tag written");
        assert!(out.ends_with(&[0xFF, 0xDA, 0x00, 0x02, 1, 2, 3, 0xFF, 0xD9]), "scan data untouched");
    }
}
