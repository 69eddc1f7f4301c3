//! What an upload is, from its first bytes, and how big it claims to be, from its
//! header: decided before anything is decoded, so a renamed zip, an SVG or a
//! decompression bomb costs a few kilobytes of reading.

/// The image formats Pujo accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    Webp,
}

impl Format {
    pub fn mime(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Webp => "image/webp",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::Webp => "webp",
        }
    }

    pub fn from_mime(mime: &str) -> Option<Format> {
        match mime {
            "image/jpeg" => Some(Format::Jpeg),
            "image/png" => Some(Format::Png),
            "image/webp" => Some(Format::Webp),
            _ => None,
        }
    }
}

/// Why an upload was refused before decoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SniffError {
    #[error("not a JPEG, PNG or WebP image")]
    Unsupported,
    #[error("the image header is damaged or incomplete")]
    BadHeader,
    #[error("the image is {width}x{height}, more than {limit} pixels")]
    TooManyPixels { width: u32, height: u32, limit: u64 },
}

/// The format by magic bytes alone; names and declared types are never trusted.
pub fn format(head: &[u8]) -> Option<Format> {
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Format::Jpeg)
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Format::Png)
    } else if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some(Format::Webp)
    } else {
        None
    }
}

/// Format and dimensions from the start of a file (the first 256 KiB is plenty: a
/// JPEG's frame header follows its metadata segments, which are at most 64 KiB each
/// and few), refusing anything over `max_pixels`.
pub fn inspect(head: &[u8], max_pixels: u64) -> Result<(Format, u32, u32), SniffError> {
    let format = format(head).ok_or(SniffError::Unsupported)?;
    let (width, height) = match format {
        Format::Jpeg => jpeg_size(head),
        Format::Png => png_size(head),
        Format::Webp => webp_size(head),
    }
    .ok_or(SniffError::BadHeader)?;
    if width == 0 || height == 0 {
        return Err(SniffError::BadHeader);
    }
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(SniffError::TooManyPixels { width, height, limit: max_pixels });
    }
    Ok((format, width, height))
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes([*b.get(at)?, *b.get(at + 1)?, *b.get(at + 2)?, *b.get(at + 3)?]))
}

fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn le24(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes([*b.get(at)?, *b.get(at + 1)?, *b.get(at + 2)?, 0]))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes([*b.get(at)?, *b.get(at + 1)?, *b.get(at + 2)?, *b.get(at + 3)?]))
}

/// What a JPEG's frame header says about decoding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JpegFrame {
    pub width: u32,
    pub height: u32,
    /// Progressive (SOF2, SOF6, SOF10, SOF14): the decoder keeps every coefficient.
    pub progressive: bool,
    /// Each component's horizontal and vertical sampling factors.
    pub sampling: Vec<(u8, u8)>,
    /// How many components the first scan holds, if its header is in the bytes read.
    /// Fewer than the frame's (one scan per component) and the decoder keeps every
    /// coefficient, as for a progressive image.
    pub first_scan_components: Option<usize>,
}

impl JpegFrame {
    /// Whether the decoder holds the whole image's coefficients (progressive, or the
    /// components in scans of their own, or unknown).
    pub fn whole_image_buffered(&self) -> bool {
        self.progressive || self.first_scan_components != Some(self.sampling.len())
    }

    /// 8x8 blocks in the image, over all components, in whole MCUs.
    pub fn blocks(&self) -> u64 {
        let (hmax, vmax) = self.sampling.iter().fold((1, 1), |(h, v), &(a, b)| (h.max(a), v.max(b)));
        let mcus_x = u64::from(self.width).div_ceil(8 * u64::from(hmax));
        let mcus_y = u64::from(self.height).div_ceil(8 * u64::from(vmax));
        self.sampling.iter().map(|&(h, v)| mcus_x * u64::from(h) * mcus_y * u64::from(v)).sum()
    }
}

fn jpeg_size(b: &[u8]) -> Option<(u32, u32)> {
    jpeg_frame(b).map(|f| (f.width, f.height))
}

/// Walks the JPEG's segments to the first start-of-frame marker, and on to the first
/// scan's header if it is in `b`. Bytes a decoder would skip between segments (not a
/// marker, or the marker code 0) are refused, so that this walk and the decoder's
/// (and `strip`'s) read the same segments.
pub fn jpeg_frame(b: &[u8]) -> Option<JpegFrame> {
    let mut at = 2;
    let mut frame: Option<JpegFrame> = None;
    loop {
        // Markers may be padded with any number of 0xFF bytes.
        while b.get(at) == Some(&0xFF) && b.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let (Some(&0xFF), Some(&marker)) = (b.get(at), b.get(at + 1)) else {
            // The bytes read end here (a frame without its scan in them is still a
            // frame), or something other than a marker is where one belongs.
            return frame.filter(|_| at >= b.len().saturating_sub(1));
        };
        at += 2;
        match (marker, &mut frame) {
            (0x00, _) => return None,
            // Standalone markers carry no length.
            (0x01 | 0xD0..=0xD7, _) => continue,
            // End of image or start of scan before any frame header: damaged.
            (0xD9 | 0xDA, None) => return None,
            (0xD9, Some(_)) => return frame,
            (0xDA, Some(f)) => {
                f.first_scan_components = b.get(at + 2).map(|&n| usize::from(n));
                return frame;
            }
            // SOF0-SOF15 except DHT (C4), JPG (C8) and DAC (CC); a second is damage.
            (0xC0..=0xCF, Some(_)) if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => return None,
            (0xC0..=0xCF, None) if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                let height = be16(b, at + 3)?;
                let width = be16(b, at + 5)?;
                // Components and their sampling, all of them within the bytes read.
                let count = usize::from(*b.get(at + 7)?);
                if count == 0 {
                    return None;
                }
                let sampling = (0..count)
                    .map(|i| b.get(at + 9 + 3 * i).map(|hv| ((hv >> 4).clamp(1, 4), (hv & 0x0F).clamp(1, 4))))
                    .collect::<Option<Vec<_>>>()?;
                frame = Some(JpegFrame {
                    width: u32::from(width),
                    height: u32::from(height),
                    progressive: matches!(marker, 0xC2 | 0xC6 | 0xCA | 0xCE),
                    sampling,
                    first_scan_components: None,
                });
                at += usize::from(be16(b, at)?.max(2));
            }
            _ => {
                let Some(length) = be16(b, at) else { return frame };
                if length < 2 {
                    return None;
                }
                at += usize::from(length);
            }
        }
    }
}

fn png_size(b: &[u8]) -> Option<(u32, u32)> {
    // The first chunk must be IHDR: length 13, then width and height.
    if be32(b, 8)? != 13 || b.get(12..16)? != b"IHDR" {
        return None;
    }
    Some((be32(b, 16)?, be32(b, 20)?))
}

fn webp_size(b: &[u8]) -> Option<(u32, u32)> {
    match b.get(12..16)? {
        b"VP8 " => {
            // Key frame: a start code after the 3-byte frame tag, then 14-bit sizes.
            if b.get(23..26)? != [0x9D, 0x01, 0x2A] {
                return None;
            }
            Some((u32::from(le16(b, 26)? & 0x3FFF), u32::from(le16(b, 28)? & 0x3FFF)))
        }
        b"VP8L" => {
            if *b.get(20)? != 0x2F {
                return None;
            }
            let bits = le32(b, 21)?;
            Some(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
        }
        b"VP8X" => Some((le24(b, 24)? + 1, le24(b, 27)? + 1)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
        b.extend_from_slice(&width.to_be_bytes());
        b.extend_from_slice(&height.to_be_bytes());
        b.extend_from_slice(&[8, 2, 0, 0, 0]);
        b
    }

    #[test]
    fn formats_are_told_by_their_bytes() {
        assert_eq!(format(b"\xFF\xD8\xFF\xE0rest"), Some(Format::Jpeg));
        assert_eq!(format(&png(1, 1)), Some(Format::Png));
        assert_eq!(format(b"RIFF\0\0\0\0WEBPVP8 "), Some(Format::Webp));
        for other in [&b"PK\x03\x04zip"[..], b"<svg xmlns=", b"<!DOCTYPE html>", b"GIF89a", b""] {
            assert_eq!(format(other), None);
        }
    }

    #[test]
    fn a_header_claiming_a_huge_image_is_refused_before_decoding() {
        let bomb = png(60_000, 60_000);
        assert_eq!(
            inspect(&bomb, 100_000_000),
            Err(SniffError::TooManyPixels { width: 60_000, height: 60_000, limit: 100_000_000 })
        );
        assert_eq!(inspect(&png(4000, 3000), 100_000_000), Ok((Format::Png, 4000, 3000)));
        assert_eq!(inspect(&png(0, 10), 100), Err(SniffError::BadHeader));
        assert_eq!(inspect(&png(4000, 3000)[..20], 100_000_000), Err(SniffError::BadHeader));
    }

    /// SOI, an EXIF segment, a frame header (`sof`) of three components, 4:2:0.
    fn jpeg(sof: u8) -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x06, b'E', b'x', b'i', b'f', 0xFF, 0xFF, sof, 0x00, 0x11, 8];
        b.extend_from_slice(&3000u16.to_be_bytes());
        b.extend_from_slice(&4000u16.to_be_bytes());
        b.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        b
    }

    #[test]
    fn jpeg_frames_are_found_after_metadata() {
        let b = jpeg(0xC2);
        assert_eq!(inspect(&b, 100_000_000), Ok((Format::Jpeg, 4000, 3000)));
        let frame = jpeg_frame(&b).expect("a frame");
        assert_eq!(frame.sampling, [(2, 2), (1, 1), (1, 1)]);
        assert!(frame.progressive && frame.whole_image_buffered());
        assert_eq!(frame.blocks(), 500 * 376 + 2 * 250 * 188);
        assert_eq!(inspect(&b[..10], 100_000_000), Err(SniffError::BadHeader));
        // Cut inside the component list: refused, not guessed.
        assert_eq!(inspect(&b[..b.len() - 2], 100_000_000), Err(SniffError::BadHeader));
    }

    #[test]
    fn a_baseline_frame_is_buffered_whole_unless_its_first_scan_holds_every_component() {
        let scan = |components: u8| {
            let mut b = jpeg(0xC0);
            b.extend_from_slice(&[0xFF, 0xC4, 0x00, 0x04, 0x00, 0x00]);
            b.extend_from_slice(&[0xFF, 0xDA, 0x00, 6 + 2 * components, components]);
            b
        };
        let interleaved = jpeg_frame(&scan(3)).expect("a frame");
        assert_eq!(interleaved.first_scan_components, Some(3));
        assert!(!interleaved.whole_image_buffered());
        let one_by_one = jpeg_frame(&scan(1)).expect("a frame");
        assert!(one_by_one.whole_image_buffered(), "one component a scan keeps every coefficient");
        // The scan's header not in the bytes read: assume the costly case.
        assert!(jpeg_frame(&jpeg(0xC0)).expect("a frame").whole_image_buffered());
    }

    #[test]
    fn bytes_a_decoder_would_skip_between_segments_are_refused() {
        // FF 00 is no marker: a decoder skips it and reads on, so a walk that took it
        // for a segment could find a decoy frame the decoder never reads.
        let mut decoy = vec![0xFF, 0xD8, 0xFF, 0x00, 0x00, 0x0A];
        decoy.extend_from_slice(&jpeg(0xC0)[2..]);
        assert_eq!(jpeg_frame(&decoy), None);
        let mut junk = vec![0xFF, 0xD8, 0x12];
        junk.extend_from_slice(&jpeg(0xC0)[2..]);
        assert_eq!(jpeg_frame(&junk), None);
        // A second frame header is damage.
        let mut twice = jpeg(0xC0);
        twice.extend_from_slice(&jpeg(0xC2)[10..]);
        assert_eq!(jpeg_frame(&twice), None);
    }
}
