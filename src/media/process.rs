//! From an uploaded file to what the site shows: EXIF read once, the image decoded
//! once (JPEGs at a reduced scale when the derivatives are much smaller, as libvips'
//! shrink-on-load does), oriented, resampled with SIMD, and encoded without any
//! metadata. Runs on the blocking pool.

use std::fs::File;
use std::io::{BufReader, Seek};
use std::path::Path;

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::metadata::Orientation;
use time::OffsetDateTime;

use super::sniff::Format;

/// The long edge of each derivative.
pub const THUMB_EDGE: u32 = 400;
/// For phone-sized cells and the photo page on phones, between the two.
pub const MEDIUM_EDGE: u32 = 800;
pub const DISPLAY_EDGE: u32 = 1600;
const WEBP_QUALITY: f32 = 80.0;
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

/// What the photo row records from the file's EXIF.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exif {
    pub taken_at: Option<OffsetDateTime>,
    /// Shown fields: camera, lens, exposure, aperture, iso, focal_length.
    pub shown: serde_json::Map<String, serde_json::Value>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub orientation: u16,
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
pub fn process(path: &Path, format: Format, width: u32, height: u32) -> Result<Processed, ProcessError> {
    let exif = read_exif(path);
    let orientation =
        Orientation::from_exif(u8::try_from(exif.orientation).unwrap_or(1)).unwrap_or(Orientation::NoTransforms);
    let (pixels, w, h, channels) = decode(path, format, width, height)?;

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
fn decode(path: &Path, format: Format, width: u32, height: u32) -> Result<(Vec<u8>, u32, u32, usize), ProcessError> {
    match format {
        Format::Jpeg => {
            let mut decoder = jpeg_decoder::Decoder::new(BufReader::new(File::open(path)?));
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
    let encoded = encoder.encode_simple(false, WEBP_QUALITY).map_err(|e| ProcessError::Encode(format!("{e:?}")))?;
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

/// EXIF fields Pujo keeps; a file without EXIF (or with broken EXIF) simply has none.
pub fn read_exif(path: &Path) -> Exif {
    let mut out = Exif { orientation: 1, ..Exif::default() };
    let Ok(file) = File::open(path) else { return out };
    let Ok(exif) = exif::Reader::new().read_from_container(&mut BufReader::new(file)) else { return out };
    let text = |tag| {
        exif.get_field(tag, exif::In::PRIMARY)
            .map(|f| f.display_value().to_string().trim_matches('"').trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    let rational = |tag| match exif.get_field(tag, exif::In::PRIMARY).map(|f| &f.value) {
        Some(exif::Value::Rational(v)) if !v.is_empty() && v[0].denom != 0 => Some(v[0]),
        _ => None,
    };
    if let Some(exif::Value::Short(v)) = exif.get_field(exif::Tag::Orientation, exif::In::PRIMARY).map(|f| &f.value)
        && let Some(&o) = v.first()
        && (1..=8).contains(&o)
    {
        out.orientation = o;
    }
    let camera = match (text(exif::Tag::Make), text(exif::Tag::Model)) {
        (Some(make), Some(model)) if model.starts_with(&make) => Some(model),
        (Some(make), Some(model)) => Some(format!("{make} {model}")),
        (make, model) => make.or(model),
    };
    let mut shown = serde_json::Map::new();
    let mut put = |key: &str, value: Option<String>| {
        if let Some(v) = value {
            shown.insert(key.to_owned(), serde_json::Value::String(v.chars().take(100).collect()));
        }
    };
    put("camera", camera);
    put("lens", text(exif::Tag::LensModel));
    put(
        "exposure",
        rational(exif::Tag::ExposureTime).map(|r| {
            if r.num > 0 && r.num < r.denom {
                format!("1/{} s", (r.denom + r.num / 2) / r.num)
            } else {
                format!("{:.1} s", r.to_f64())
            }
        }),
    );
    put("aperture", rational(exif::Tag::FNumber).map(|r| format!("f/{:.1}", r.to_f64())));
    put("focal_length", rational(exif::Tag::FocalLength).map(|r| format!("{:.0} mm", r.to_f64())));
    put(
        "iso",
        exif.get_field(exif::Tag::PhotographicSensitivity, exif::In::PRIMARY)
            .and_then(|f| f.value.get_uint(0))
            .map(|v| v.to_string()),
    );
    out.shown = shown;
    out.taken_at = taken_at(&exif);
    out.lat = coordinate(&exif, exif::Tag::GPSLatitude, exif::Tag::GPSLatitudeRef, 'S', 90.0);
    out.lon = coordinate(&exif, exif::Tag::GPSLongitude, exif::Tag::GPSLongitudeRef, 'W', 180.0);
    if out.lat.is_none() || out.lon.is_none() {
        (out.lat, out.lon) = (None, None);
    }
    out
}

/// DateTimeOriginal with its offset when the camera recorded one, else as UTC.
fn taken_at(exif: &exif::Exif) -> Option<OffsetDateTime> {
    let field = exif.get_field(exif::Tag::DateTimeOriginal, exif::In::PRIMARY)?;
    let exif::Value::Ascii(ref v) = field.value else { return None };
    let mut dt = exif::DateTime::from_ascii(v.first()?).ok()?;
    if let Some(offset) = exif.get_field(exif::Tag::OffsetTimeOriginal, exif::In::PRIMARY)
        && let exif::Value::Ascii(ref o) = offset.value
        && let Some(o) = o.first()
    {
        let _ = dt.parse_offset(o);
    }
    let month = time::Month::try_from(dt.month).ok()?;
    let date = time::Date::from_calendar_date(i32::from(dt.year), month, dt.day).ok()?;
    let clock = time::Time::from_hms(dt.hour, dt.minute, dt.second).ok()?;
    let offset = time::UtcOffset::from_whole_seconds(i32::from(dt.offset.unwrap_or(0)) * 60).ok()?;
    Some(time::PrimitiveDateTime::new(date, clock).assume_offset(offset))
}

fn coordinate(exif: &exif::Exif, tag: exif::Tag, reference: exif::Tag, negative: char, max: f64) -> Option<f64> {
    let exif::Value::Rational(ref parts) = exif.get_field(tag, exif::In::PRIMARY)?.value else { return None };
    if parts.len() < 3 || parts.iter().any(|p| p.denom == 0) {
        return None;
    }
    let mut value = parts[0].to_f64() + parts[1].to_f64() / 60.0 + parts[2].to_f64() / 3600.0;
    let sign = exif.get_field(reference, exif::In::PRIMARY).map(|f| f.display_value().to_string());
    if sign.is_some_and(|s| s.contains(negative)) {
        value = -value;
    }
    (value.is_finite() && value.abs() <= max).then_some(value)
}
