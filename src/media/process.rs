//! From an uploaded file to what the site shows: EXIF read once, the image decoded
//! once (JPEGs at a reduced scale when the derivatives are much smaller, as libvips'
//! shrink-on-load does), oriented, resampled with SIMD, and encoded without any
//! metadata. Runs on the blocking pool.
//!
//! Where a 12 MP upload's CPU goes (docs/BENCHMARKS.md, "Media"): the entropy decoding
//! of the original, which no scale avoids, then the WebP encodes (libwebp at effort 2,
//! see [`WEBP_METHOD`]), then resampling and the JPEG encodes (AVX2 when the CPU has it).

use std::fs::File;
use std::io::{BufReader, Seek};
use std::path::Path;

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::metadata::Orientation;

pub use super::exif::Exif;
use super::sniff::Format;

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

/// Reads, decodes and derives. `width`/`height` are the stored dimensions from the
/// header (already checked against the pixel limit).
/// `limit` caps any one buffer the decoders allocate (a header that lies about its
/// size cannot take more).
pub fn process(path: &Path, format: Format, width: u32, height: u32, limit: usize) -> Result<Processed, ProcessError> {
    let exif = super::exif::read(path, format);
    let orientation =
        Orientation::from_exif(u8::try_from(exif.orientation).unwrap_or(1)).unwrap_or(Orientation::NoTransforms);
    let (pixels, w, h, channels) = decode(path, format, width, height, limit)?;

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

/// Decodes to 8-bit RGB (3 channels) or RGBA (4, when the image has alpha). JPEGs are
/// decoded at the smallest DCT scale (1/8 to 1/1) that still covers the display size.
fn decode(
    path: &Path,
    format: Format,
    width: u32,
    height: u32,
    limit: usize,
) -> Result<(Vec<u8>, u32, u32, usize), ProcessError> {
    match format {
        Format::Jpeg => {
            let mut decoder = jpeg_decoder::Decoder::new(BufReader::new(File::open(path)?));
            decoder.set_max_decoding_buffer_size(limit);
            decoder.read_info().map_err(|e| ProcessError::Decode(e.to_string()))?;
            let (want_w, want_h) = scaled_to_cover(width, height, DISPLAY_EDGE);
            decoder
                .scale(u16::try_from(want_w).unwrap_or(u16::MAX), u16::try_from(want_h).unwrap_or(u16::MAX))
                .map_err(|e| ProcessError::Decode(e.to_string()))?;
            let data = decoder.decode().map_err(|e| ProcessError::Decode(e.to_string()))?;
            let info = decoder.info().ok_or_else(|| ProcessError::Decode("no frame".into()))?;
            let (w, h) = (u32::from(info.width), u32::from(info.height));
            let rgb = match info.pixel_format {
                jpeg_decoder::PixelFormat::RGB24 => data,
                jpeg_decoder::PixelFormat::L8 => data.iter().flat_map(|&v| [v, v, v]).collect(),
                jpeg_decoder::PixelFormat::L16 => data.chunks_exact(2).flat_map(|v| [v[0], v[0], v[0]]).collect(),
                // Adobe CMYK is stored inverted: 255 means no ink.
                jpeg_decoder::PixelFormat::CMYK32 => data
                    .chunks_exact(4)
                    .flat_map(|p| {
                        let k = u16::from(p[3]);
                        [p[0], p[1], p[2]].map(|c| u8::try_from(u16::from(c) * k / 255).unwrap_or(255))
                    })
                    .collect(),
            };
            if rgb.len() != (w as usize) * (h as usize) * 3 {
                return Err(ProcessError::Decode("truncated image data".into()));
            }
            Ok((rgb, w, h, 3))
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

/// Memory the derivatives take beside the decoded image: the display, medium and
/// thumbnail buffers (RGBA at most), their oriented copies and the encoders' work.
const DERIVATIVES_MEMORY: u64 = 1600 * 1600 * 4 * 3 + 8 * 1024 * 1024;

/// An upper estimate of the memory decoding this image takes at its peak, from its
/// header (`head`, the file's first bytes) and its dimensions. Progressive JPEGs keep
/// every DCT coefficient at full resolution (two bytes per sample, whatever the
/// scale); baseline JPEGs only the image at the reduced scale they are read at; PNG
/// and WebP the whole image, and a converted copy when it is not 8-bit RGB(A).
pub fn decode_memory(head: &[u8], format: Format, width: u32, height: u32) -> u64 {
    let pixels = u64::from(width) * u64::from(height);
    let image = match format {
        Format::Jpeg => {
            let Some(frame) = super::sniff::jpeg_frame(head) else { return u64::MAX };
            let (hmax, vmax) = frame.sampling.iter().fold((1, 1), |(h, v), &(a, b)| (h.max(a), v.max(b)));
            let mcus_x = u64::from(width).div_ceil(8 * u64::from(hmax));
            let mcus_y = u64::from(height).div_ceil(8 * u64::from(vmax));
            let coefficients: u64 = if frame.progressive {
                frame.sampling.iter().map(|&(h, v)| mcus_x * u64::from(h) * mcus_y * u64::from(v) * 64 * 2).sum()
            } else {
                0
            };
            let (want_w, want_h) = scaled_to_cover(width, height, DISPLAY_EDGE);
            let eighths = (1..=8u64)
                .find(|k| {
                    u64::from(width) * k >= u64::from(want_w) * 8 && u64::from(height) * k >= u64::from(want_h) * 8
                })
                .unwrap_or(8);
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

    /// A JPEG head with a frame header: `marker`, dimensions, component samplings.
    fn jpeg_head(marker: u8, width: u16, height: u16, sampling: &[u8]) -> Vec<u8> {
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
