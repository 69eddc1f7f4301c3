//! From an uploaded file to what the site shows: EXIF read once, the image decoded
//! once (JPEGs by libjpeg-turbo at a reduced scale when the derivatives are much
//! smaller, as libvips' shrink-on-load does), oriented, resampled with SIMD, and
//! encoded without any metadata. Runs on the background threads
//! (`util::in_background`).
//!
//! Where a 12 MP upload's CPU goes (docs/BENCHMARKS.md, "Media"): the WebP encodes
//! (libwebp at effort 2, see [`WEBP_METHOD`]) and the entropy decoding of the original,
//! which no scale avoids, then resampling and the JPEG encodes (AVX2 when the CPU has it).

use std::cell::Cell;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek};
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::rc::Rc;

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::metadata::Orientation;
use mozjpeg::ColorSpace;

pub use super::exif::Exif;
use super::sniff::{Format, JpegFrame};

/// The long edge of each derivative.
pub const THUMB_EDGE: u32 = 400;
/// For phone-sized cells and the photo page on phones, between the two.
pub const MEDIUM_EDGE: u32 = 800;
pub const DISPLAY_EDGE: u32 = 1600;
const WEBP_QUALITY: f32 = 80.0;
/// libwebp's effort, 0 (fastest) to 6. Its default, 4, spends most of its time on
/// rate-distortion choices of the 4x4 intra modes: at 2 the WebPs take 2.4 times less
/// CPU, for an SSIM within 0.004 of method 4's and files 0 to 5% larger
/// (docs/BENCHMARKS.md, "Media"). Below 2 the files grow by 15 to 45%.
const WEBP_METHOD: i32 = 2;
const JPEG_QUALITY: u8 = 82;

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("the image could not be decoded: {0}")]
    Decode(String),
    #[error("could not encode a derivative: {0}")]
    Encode(String),
    #[error("reading the upload failed: {0}")]
    Io(#[from] std::io::Error),
}

/// One encoded derivative.
#[derive(Debug, Clone)]
pub struct Derivative {
    /// `thumb` or `display`.
    pub variant: &'static str,
    pub format: Format,
    pub bytes: Vec<u8>,
}

/// Everything made from one upload.
#[derive(Debug)]
pub struct Processed {
    pub exif: Exif,
    /// Dimensions as displayed (after orientation).
    pub width: u32,
    pub height: u32,
    pub derivatives: Vec<Derivative>,
    pub thumbhash: Vec<u8>,
}

/// Reads, decodes and derives. `head` is the file's first bytes as `sniff` read them,
/// and `width`/`height` the stored dimensions it found (already checked against the
/// pixel limit).
/// `limit` caps any one buffer the decoders allocate (a header that lies about its
/// size cannot take more).
pub fn process(
    path: &Path,
    head: &[u8],
    format: Format,
    width: u32,
    height: u32,
    limit: usize,
) -> Result<Processed, ProcessError> {
    let exif = super::exif::read(path, format);
    let orientation =
        Orientation::from_exif(u8::try_from(exif.orientation).unwrap_or(1)).unwrap_or(Orientation::NoTransforms);
    let (pixels, w, h, channels) = decode(path, head, format, width, height, limit)?;

    let display = fit(&pixels, w, h, channels, DISPLAY_EDGE)?;
    drop(pixels);
    let medium = fit(&display.0, display.1, display.2, channels, MEDIUM_EDGE)?;
    let thumb = fit(&medium.0, medium.1, medium.2, channels, THUMB_EDGE)?;
    let display = orient(display, channels, orientation);
    let medium = orient(medium, channels, orientation);
    let thumb = orient(thumb, channels, orientation);

    let mut derivatives = Vec::with_capacity(6);
    for (variant, (px, w, h)) in [("thumb", &thumb), ("medium", &medium), ("display", &display)] {
        derivatives.push(Derivative { variant, format: Format::Webp, bytes: encode_webp(px, *w, *h, channels)? });
        derivatives.push(Derivative { variant, format: Format::Jpeg, bytes: encode_jpeg(px, *w, *h, channels)? });
    }
    let thumbhash = placeholder(&thumb.0, thumb.1, thumb.2, channels)?;
    let (width, height) = if orientation_swaps(exif.orientation) { (height, width) } else { (width, height) };
    Ok(Processed { exif, width, height, derivatives, thumbhash })
}

fn orientation_swaps(orientation: u16) -> bool {
    (5..=8).contains(&orientation)
}

/// Decoded pixels: 8-bit samples, width, height, channels (3 or 4).
pub type Decoded = (Vec<u8>, u32, u32, usize);

/// Decodes to 8-bit RGB (3 channels) or RGBA (4, when the image has alpha). JPEGs are
/// decoded at the smallest DCT scale (1/8 to 1/1) that still covers the display size.
fn decode(
    path: &Path,
    head: &[u8],
    format: Format,
    width: u32,
    height: u32,
    limit: usize,
) -> Result<Decoded, ProcessError> {
    match format {
        Format::Jpeg => {
            // The frame as the sniffer read it (the decode budget was reserved for it).
            let frame = super::sniff::jpeg_frame(head).ok_or_else(|| ProcessError::Decode("no frame header".into()))?;
            decode_jpeg(BufReader::new(File::open(path)?), &frame)
        }
        Format::Png | Format::Webp => {
            let mut reader = BufReader::new(File::open(path)?);
            reader.rewind()?;
            let mut image_reader = image::ImageReader::with_format(
                reader,
                if format == Format::Png { image::ImageFormat::Png } else { image::ImageFormat::WebP },
            );
            let mut limits = image::Limits::default();
            limits.max_image_width = Some(width);
            limits.max_image_height = Some(height);
            limits.max_alloc = Some(limit as u64);
            image_reader.limits(limits);
            let decoded = image_reader.decode().map_err(|e| ProcessError::Decode(e.to_string()))?;
            let (w, h) = (decoded.width(), decoded.height());
            if decoded.color().has_alpha() {
                Ok((decoded.into_rgba8().into_raw(), w, h, 4))
            } else {
                Ok((decoded.into_rgb8().into_raw(), w, h, 3))
            }
        }
    }
}

/// Decodes a JPEG (`width`x`height` by its header, already within the pixel limit
/// and the decode budget) with libjpeg-turbo at the smallest DCT scale that covers the
/// display size ([`jpeg_eighths`]), to 8-bit RGB. Grey images come out as RGB; CMYK
/// and YCCK are converted here (stored inverted, as Photoshop, libvips and browsers
/// have them). A file that ends before its image is refused. libjpeg's fatal errors
/// unwind out of C as panics carrying their message; they come back as `Decode` errors.
pub fn decode_jpeg<R: BufRead>(reader: R, frame: &JpegFrame) -> Result<Decoded, ProcessError> {
    let (width, height) = (frame.width, frame.height);
    let eighths = jpeg_eighths(width, height);
    let max_scans = scan_limit(frame);
    let ended = Rc::new(Cell::new(Ended::No));
    let reader = Watched {
        inner: reader,
        ended: Rc::clone(&ended),
        max_scans,
        scans: 0,
        after_ff: false,
        counted: 0,
        handed: 0,
    };
    let decoded = std::panic::catch_unwind(AssertUnwindSafe(move || -> Result<Decoded, ProcessError> {
        let mut decompress = mozjpeg::Decompress::builder().from_reader(reader).map_err(decode_error)?;
        // The frame libjpeg reads is the one the budget was reserved for.
        let sampling: Vec<(u8, u8)> = decompress
            .components()
            .iter()
            .map(|c| (u8::try_from(c.h_samp_factor).unwrap_or(0), u8::try_from(c.v_samp_factor).unwrap_or(0)))
            .collect();
        if (decompress.width(), decompress.height()) != (width as usize, height as usize) || sampling != frame.sampling
        {
            return Err(ProcessError::Decode("the frame is not the one its header said".into()));
        }
        decompress.scale(eighths);
        let cmyk = matches!(decompress.color_space(), ColorSpace::JCS_CMYK | ColorSpace::JCS_YCCK);
        let mut started = if cmyk {
            decompress.to_colorspace(ColorSpace::JCS_CMYK).map_err(decode_error)?
        } else {
            decompress.rgb().map_err(decode_error)?
        };
        let (w, h) = (started.width(), started.height());
        let data: Vec<u8> = started.read_scanlines().map_err(decode_error)?;
        // What is left of the file (an EOI, trailers) is not read.
        drop(started);
        match ended.get() {
            Ended::No => {}
            // libjpeg would show the rest grey; an upload that lost its end is refused.
            Ended::CutShort => return Err(ProcessError::Decode("the file ends before its image does".into())),
            Ended::TooManyScans => {
                return Err(ProcessError::Decode(format!("more than {max_scans} scans")));
            }
        }
        let rgb = if cmyk {
            // Adobe CMYK is stored inverted: 255 means no ink.
            data.chunks_exact(4)
                .flat_map(|p| {
                    let k = u16::from(p[3]);
                    [p[0], p[1], p[2]].map(|c| u8::try_from(u16::from(c) * k / 255).unwrap_or(255))
                })
                .collect()
        } else {
            data
        };
        if rgb.len() != w * h * 3 {
            return Err(ProcessError::Decode("truncated image data".into()));
        }
        let w = u32::try_from(w).map_err(|_| ProcessError::Decode("too wide".into()))?;
        let h = u32::try_from(h).map_err(|_| ProcessError::Decode("too tall".into()))?;
        Ok((rgb, w, h, 3))
    }));
    decoded.unwrap_or_else(|fatal| {
        let message = fatal
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| fatal.downcast_ref::<&str>().copied())
            .unwrap_or("libjpeg failed");
        Err(ProcessError::Decode(message.trim_start_matches("libjpeg fatal error: ").to_owned()))
    })
}

/// Scans (SOS markers) a JPEG may have: a progressive image has about 10 (libjpeg and
/// mozjpeg write at most 64), and each scan may walk every coefficient of the image
/// even when it carries no data, so a small file of many empty scans would cost
/// seconds of CPU. At least [`MIN_SCANS`]; more for small images, as long as scans
/// times blocks stays within [`MAX_BLOCK_SCANS`]; never more than [`MAX_SCANS`] (the
/// limit libjpeg-turbo's own fuzzing uses).
const MIN_SCANS: u32 = 64;
const MAX_SCANS: u32 = 500;
const MAX_BLOCK_SCANS: u64 = 64_000_000;

fn scan_limit(frame: &JpegFrame) -> u32 {
    u32::try_from(MAX_BLOCK_SCANS / frame.blocks().max(1)).unwrap_or(MAX_SCANS).clamp(MIN_SCANS, MAX_SCANS)
}

/// How the bytes ran out, if they did before the decoder finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    No,
    CutShort,
    TooManyScans,
}

/// The reader libjpeg reads through: it remembers whether the decoder asked past the
/// end (libjpeg then pretends an EOI and only warns), and counts scans before it hands
/// their bytes on, ending the input at the scan past `max_scans` ([`scan_limit`]).
struct Watched<R> {
    inner: R,
    ended: Rc<Cell<Ended>>,
    max_scans: u32,
    scans: u32,
    after_ff: bool,
    /// How much of the inner reader's buffer is counted; `handed` of it may be read.
    counted: usize,
    handed: usize,
}

impl<R: BufRead> Read for Watched<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Watched<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        let buf = self.inner.fill_buf()?;
        if self.scans <= self.max_scans {
            while self.counted < buf.len() {
                if !self.after_ff {
                    // Entropy-coded data is most of the file: skip to the next 0xFF.
                    let at = memchr::memchr(0xFF, &buf[self.counted..]);
                    self.counted = at.map_or(buf.len(), |at| self.counted + at + 1);
                    self.handed = self.counted;
                    self.after_ff = at.is_some();
                    continue;
                }
                let byte = buf[self.counted];
                if byte == 0xDA {
                    self.scans += 1;
                    if self.scans > self.max_scans {
                        // Up to the 0xFF before this scan's marker code.
                        self.handed = self.counted.saturating_sub(1);
                        break;
                    }
                }
                // Fill bytes (more 0xFF) may come before a marker's code.
                self.after_ff = byte == 0xFF;
                self.counted += 1;
                self.handed = self.counted;
            }
        }
        if self.handed == 0 {
            let why = if self.scans > self.max_scans { Ended::TooManyScans } else { Ended::CutShort };
            if self.ended.get() == Ended::No {
                self.ended.set(why);
            }
        }
        Ok(&buf[..self.handed])
    }

    fn consume(&mut self, amount: usize) {
        let amount = amount.min(self.handed);
        self.inner.consume(amount);
        self.counted -= amount;
        self.handed -= amount;
    }
}

fn decode_error(e: std::io::Error) -> ProcessError {
    ProcessError::Decode(e.to_string())
}

/// The DCT scale a JPEG is decoded at, in eighths (1 to 8): the smallest whose image
/// still covers the display size. Decoding and its memory estimate both use it.
fn jpeg_eighths(width: u32, height: u32) -> u8 {
    let (want_w, want_h) = scaled_to_cover(width, height, DISPLAY_EDGE);
    (1..=8u8)
        .find(|&k| {
            u64::from(width) * u64::from(k) >= u64::from(want_w) * 8
                && u64::from(height) * u64::from(k) >= u64::from(want_h) * 8
        })
        .unwrap_or(8)
}

/// Memory the derivatives take beside the decoded image: the display, medium and
/// thumbnail buffers (RGBA at most), their oriented copies and the encoders' work.
const DERIVATIVES_MEMORY: u64 = 1600 * 1600 * 4 * 3 + 8 * 1024 * 1024;

/// An upper estimate of the memory decoding this image takes at its peak, from its
/// header (`head`, the file's first bytes) and its dimensions. Progressive JPEGs, and
/// baseline ones whose first scan does not hold every component, keep every DCT
/// coefficient at full resolution (two bytes per sample, whatever the scale); other
/// baseline JPEGs only the image at the reduced scale they are read at; PNG
/// and WebP the whole image, and a converted copy when it is not 8-bit RGB(A).
pub fn decode_memory(head: &[u8], format: Format, width: u32, height: u32) -> u64 {
    let pixels = u64::from(width) * u64::from(height);
    let image = match format {
        Format::Jpeg => {
            let Some(frame) = super::sniff::jpeg_frame(head) else { return u64::MAX };
            // Two bytes for each of every block's 64 coefficients.
            let coefficients = if frame.whole_image_buffered() { frame.blocks() * 64 * 2 } else { 0 };
            let eighths = u64::from(jpeg_eighths(width, height));
            let scaled = u64::from(width).div_ceil(8) * eighths * u64::from(height).div_ceil(8) * eighths;
            let components = frame.sampling.len() as u64;
            // The decoder's planes, its output, and the RGB conversion.
            coefficients + scaled * (2 * components + 3)
        }
        Format::Png => {
            // IHDR: bit depth and colour type right after the dimensions.
            let depth = u64::from(head.get(24).copied().unwrap_or(16)).max(8) / 8;
            let channels = match head.get(25).copied().unwrap_or(6) {
                0 | 3 => 1,
                4 => 2,
                2 => 3,
                _ => 4,
            };
            let decoded = pixels * channels * depth;
            let converted = if depth == 1 && channels >= 3 { 0 } else { pixels * 4 };
            decoded + converted
        }
        Format::Webp => pixels * 4,
    };
    image.saturating_add(DERIVATIVES_MEMORY)
}

/// The smallest size with the image's aspect whose long edge is at least `edge`
/// (never larger than the image itself).
fn scaled_to_cover(width: u32, height: u32, edge: u32) -> (u32, u32) {
    let long = width.max(height);
    if long <= edge {
        return (width, height);
    }
    let scale = f64::from(edge) / f64::from(long);
    let w = (f64::from(width) * scale).ceil().max(1.0);
    let h = (f64::from(height) * scale).ceil().max(1.0);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    (w as u32, h as u32)
}

/// Resizes so the long edge is at most `edge` (smaller images are kept as they are).
fn fit(pixels: &[u8], w: u32, h: u32, channels: usize, edge: u32) -> Result<(Vec<u8>, u32, u32), ProcessError> {
    if w.max(h) <= edge {
        return Ok((pixels.to_vec(), w, h));
    }
    let (dw, dh) = {
        let scale = f64::from(edge) / f64::from(w.max(h));
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let dims = (((f64::from(w) * scale).round() as u32).max(1), ((f64::from(h) * scale).round() as u32).max(1));
        dims
    };
    let pixel_type = if channels == 4 { PixelType::U8x4 } else { PixelType::U8x3 };
    let src = ImageRef::new(w, h, pixels, pixel_type).map_err(|e| ProcessError::Decode(e.to_string()))?;
    let mut dst = Image::new(dw, dh, pixel_type);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    Resizer::new().resize(&src, &mut dst, &options).map_err(|e| ProcessError::Encode(e.to_string()))?;
    Ok((dst.into_vec(), dw, dh))
}

/// Applies the EXIF orientation, so every derivative is upright with no tag to obey.
fn orient(image: (Vec<u8>, u32, u32), channels: usize, orientation: Orientation) -> (Vec<u8>, u32, u32) {
    if orientation == Orientation::NoTransforms {
        return image;
    }
    let (px, w, h) = image;
    let mut dynamic = if channels == 4 {
        image::DynamicImage::ImageRgba8(image::RgbaImage::from_raw(w, h, px).expect("buffer matches its size"))
    } else {
        image::DynamicImage::ImageRgb8(image::RgbImage::from_raw(w, h, px).expect("buffer matches its size"))
    };
    dynamic.apply_orientation(orientation);
    let (w, h) = (dynamic.width(), dynamic.height());
    let px = if channels == 4 { dynamic.into_rgba8().into_raw() } else { dynamic.into_rgb8().into_raw() };
    (px, w, h)
}

fn encode_webp(px: &[u8], w: u32, h: u32, channels: usize) -> Result<Vec<u8>, ProcessError> {
    let encoder = if channels == 4 { webp::Encoder::from_rgba(px, w, h) } else { webp::Encoder::from_rgb(px, w, h) };
    let mut config = webp::WebPConfig::new().map_err(|()| ProcessError::Encode("libwebp's default config".into()))?;
    config.quality = WEBP_QUALITY;
    config.method = WEBP_METHOD;
    // Lossy alpha, as `encode_simple` sets it.
    config.alpha_compression = 1;
    let encoded = encoder.encode_advanced(&config).map_err(|e| ProcessError::Encode(format!("{e:?}")))?;
    Ok(encoded.to_vec())
}

/// JPEG has no alpha: transparent pixels are laid on white.
fn encode_jpeg(px: &[u8], w: u32, h: u32, channels: usize) -> Result<Vec<u8>, ProcessError> {
    let rgb: std::borrow::Cow<'_, [u8]> = if channels == 4 {
        px.chunks_exact(4)
            .flat_map(|p| {
                let a = u16::from(p[3]);
                [p[0], p[1], p[2]].map(|c| u8::try_from((u16::from(c) * a + 255 * (255 - a)) / 255).unwrap_or(255))
            })
            .collect::<Vec<u8>>()
            .into()
    } else {
        px.into()
    };
    let mut out = Vec::new();
    let encoder = jpeg_encoder::Encoder::new(&mut out, JPEG_QUALITY);
    let (w16, h16) = (u16::try_from(w).unwrap_or(u16::MAX), u16::try_from(h).unwrap_or(u16::MAX));
    encoder.encode(&rgb, w16, h16, jpeg_encoder::ColorType::Rgb).map_err(|e| ProcessError::Encode(e.to_string()))?;
    Ok(out)
}

/// A ThumbHash of the thumbnail (at most 100 px a side, as ThumbHash requires).
fn placeholder(px: &[u8], w: u32, h: u32, channels: usize) -> Result<Vec<u8>, ProcessError> {
    let (small, sw, sh) = fit(px, w, h, channels, 100)?;
    let rgba: Vec<u8> =
        if channels == 4 { small } else { small.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect() };
    Ok(thumbhash::rgba_to_thumb_hash(sw as usize, sh as usize, &rgba))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A JPEG head with a frame header (`marker`, dimensions, component samplings) and
    /// the header of a first scan holding every component.
    fn jpeg_head(marker: u8, width: u16, height: u16, sampling: &[u8]) -> Vec<u8> {
        let mut b = frame_head(marker, width, height, sampling);
        let n = u8::try_from(sampling.len()).expect("small");
        b.extend_from_slice(&[0xFF, 0xDA, 0, 6 + 2 * n, n]);
        b
    }

    fn frame_head(marker: u8, width: u16, height: u16, sampling: &[u8]) -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8, 0xFF, marker];
        b.extend_from_slice(&u16::try_from(8 + 3 * sampling.len()).expect("small").to_be_bytes());
        b.push(8);
        b.extend_from_slice(&height.to_be_bytes());
        b.extend_from_slice(&width.to_be_bytes());
        b.push(u8::try_from(sampling.len()).expect("small"));
        for (i, hv) in sampling.iter().enumerate() {
            b.extend_from_slice(&[u8::try_from(i).expect("small"), *hv, 0]);
        }
        b
    }

    const MIB: u64 = 1024 * 1024;

    /// A small JPEG of a red left half and a blue right half.
    fn halves_jpeg(progressive: bool) -> Vec<u8> {
        let (w, h) = (64u16, 32u16);
        let px: Vec<u8> =
            (0..h).flat_map(|_| (0..w).flat_map(|x| if x < w / 2 { [220, 30, 40] } else { [30, 40, 220] })).collect();
        let mut out = Vec::new();
        let mut encoder = jpeg_encoder::Encoder::new(&mut out, 90);
        encoder.set_progressive(progressive);
        encoder.encode(&px, w, h, jpeg_encoder::ColorType::Rgb).expect("encodes");
        out
    }

    /// Decodes through a small buffer, so that markers fall across the reads as they
    /// do in a file.
    fn decode_bytes(bytes: &[u8], width: u32, height: u32) -> Result<Decoded, ProcessError> {
        let frame = crate::media::sniff::jpeg_frame(bytes)
            .filter(|f| (f.width, f.height) == (width, height))
            .ok_or_else(|| ProcessError::Decode("not the size the test said".into()))?;
        decode_jpeg(BufReader::with_capacity(7, bytes), &frame)
    }

    #[test]
    fn jpegs_decode_to_rgb_and_broken_ones_are_refused_with_a_reason() {
        for progressive in [false, true] {
            let jpeg = halves_jpeg(progressive);
            let (px, w, h, channels) = decode_bytes(&jpeg, 64, 32).expect("decodes");
            assert_eq!((w, h, channels, px.len()), (64, 32, 3, 64 * 32 * 3));
            assert!(px[0] > 180 && px[2] < 80, "red on the left: {:?}", &px[..3]);
            let right = (10 * 64 + 60) * 3;
            assert!(px[right + 2] > 180 && px[right] < 80, "blue on the right: {:?}", &px[right..right + 3]);
            // Cut short in its last scan: libjpeg would fill the rest with grey, Pujo
            // refuses it; cut short elsewhere, libjpeg refuses it itself.
            let Err(err) = decode_bytes(&jpeg[..jpeg.len() - 20], 64, 32) else { panic!("cut short") };
            assert!(err.to_string().contains("ends before"), "{err}");
            assert!(decode_bytes(&jpeg[..jpeg.len() * 2 / 3], 64, 32).is_err());
            // A header that says another size than the frame's.
            assert!(decode_bytes(&jpeg, 65, 32).is_err());
            // libjpeg's fatal errors come back as errors, not panics.
            let mut garbage = jpeg[..200].to_vec();
            garbage.extend(std::iter::repeat_n(0xFF, 20));
            garbage.extend_from_slice(&[0xFF, 0xC0, 0, 3]);
            assert!(decode_bytes(&garbage, 64, 32).is_err());
        }
    }

    #[test]
    fn adobe_cmyk_is_read_as_photoshop_and_libvips_write_it() {
        // Written by libvips from the ink amounts C 0, M 200, Y 180, K 0: a red.
        let jpeg = include_bytes!("../../tests/fixtures/images/cmyk-adobe-red.jpg");
        let (px, w, h, _) = decode_bytes(jpeg, 48, 32).expect("decodes");
        assert_eq!((w, h), (48, 32));
        let p = &px[(10 * 48 + 10) * 3..][..3];
        assert!(p[0] > 230 && p[1] < 80 && p[2] < 80, "red, as libvips shows it: {p:?}");
    }

    #[test]
    fn a_jpeg_of_endless_scans_is_refused_before_they_are_decoded() {
        let jpeg = halves_jpeg(true);
        // The first scan (SOS to the next marker), sent again and again: libjpeg only
        // warns about each repeat, and each walks the whole image.
        let sos = jpeg.windows(2).position(|m| m == [0xFF, 0xDA]).expect("a scan");
        let next = (sos + 2..jpeg.len() - 1)
            .find(|&i| jpeg[i] == 0xFF && !matches!(jpeg[i + 1], 0x00 | 0xD0..=0xD7))
            .expect("a marker after it");
        let scan = &jpeg[sos..next];
        let with_repeats = |n: usize| {
            let mut out = jpeg[..next].to_vec();
            for _ in 0..n {
                out.extend_from_slice(scan);
            }
            out.extend_from_slice(&jpeg[next..]);
            out
        };
        assert!(decode_bytes(&with_repeats(20), 64, 32).is_ok(), "a few repeats are only warned about");
        let Err(err) = decode_bytes(&with_repeats(MAX_SCANS as usize + 10), 64, 32) else { panic!("refused") };
        assert!(err.to_string().contains("500 scans"), "a small image may have the most: {err}");
        // A large image may have fewer: scans times blocks is what costs.
        let large = JpegFrame {
            width: 8000,
            height: 6000,
            progressive: true,
            sampling: vec![(1, 1); 3],
            first_scan_components: Some(1),
        };
        assert_eq!(scan_limit(&large), MIN_SCANS);
        let phone = JpegFrame { width: 4000, height: 3000, sampling: vec![(2, 2), (1, 1), (1, 1)], ..large };
        assert_eq!(scan_limit(&phone), 226);
        assert!(err.to_string().contains("scans"), "{err}");
    }

    #[test]
    fn decode_memory_follows_what_the_decoders_hold() {
        // A 12 MP phone photo, baseline 4:2:0: read at half scale, well under 100 MiB.
        let phone = jpeg_head(0xC0, 4000, 3000, &[0x22, 0x11, 0x11]);
        let baseline = decode_memory(&phone, Format::Jpeg, 4000, 3000);
        assert!(baseline < 100 * MIB, "{}", baseline / MIB);
        // The same, progressive: every coefficient is kept (2 bytes x 1.5 samples a pixel).
        let progressive = jpeg_head(0xC2, 4000, 3000, &[0x22, 0x11, 0x11]);
        let extra = decode_memory(&progressive, Format::Jpeg, 4000, 3000) - baseline;
        assert_eq!(extra, 500 * 376 * 128 + 2 * 250 * 188 * 128, "coefficients of whole MCUs");
        // 100 MP progressive 4:4:4, the bomb: 600 MB of coefficients.
        let bomb = jpeg_head(0xC2, 10000, 10000, &[0x11, 0x11, 0x11]);
        assert!(decode_memory(&bomb, Format::Jpeg, 10000, 10000) > 600 * 1000 * 1000);
        // Baseline, but its first scan holds one component: every coefficient is kept.
        let mut one_by_one = frame_head(0xC0, 4000, 3000, &[0x22, 0x11, 0x11]);
        one_by_one.extend_from_slice(&[0xFF, 0xDA, 0, 8, 1]);
        assert_eq!(decode_memory(&one_by_one, Format::Jpeg, 4000, 3000) - baseline, extra);
        // And where the first scan's header is not in the bytes read.
        let unknown = frame_head(0xC0, 4000, 3000, &[0x22, 0x11, 0x11]);
        assert_eq!(decode_memory(&unknown, Format::Jpeg, 4000, 3000) - baseline, extra);
        // 100 MP baseline is read at a quarter of its size.
        let big = jpeg_head(0xC0, 10000, 10000, &[0x22, 0x11, 0x11]);
        assert!(decode_memory(&big, Format::Jpeg, 10000, 10000) < 128 * MIB);
        // PNG: 16-bit RGBA is 8 bytes a pixel, plus the 8-bit copy.
        let mut png = vec![0; 26];
        (png[24], png[25]) = (16, 6);
        assert_eq!(decode_memory(&png, Format::Png, 1000, 1000), 12_000_000 + DERIVATIVES_MEMORY);
        (png[24], png[25]) = (8, 2);
        assert_eq!(decode_memory(&png, Format::Png, 1000, 1000), 3_000_000 + DERIVATIVES_MEMORY);
        assert_eq!(decode_memory(&[], Format::Webp, 1000, 1000), 4_000_000 + DERIVATIVES_MEMORY);
        // A head without a frame cannot be estimated: it is never cheap.
        assert_eq!(decode_memory(&[0xFF, 0xD8], Format::Jpeg, 10, 10), u64::MAX);
    }
}
