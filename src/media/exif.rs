//! EXIF from an upload, read by what can be read.
//!
//! The EXIF block is found by walking the container (JPEG segments, PNG chunks, WebP
//! chunks) with seeks, never reading more than [`MAX_EXIF_BYTES`] of it, and parsed
//! in continue-on-error mode: a malformed GPS, maker-note or thumbnail IFD (as piexif,
//! some phone firmwares and editing apps write them; exiftool reads such files with a
//! warning) costs only that IFD, so the orientation and the date survive it. A file
//! whose EXIF cannot be read at all simply has none.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use time::OffsetDateTime;

use super::sniff::Format;

/// The most EXIF bytes Pujo reads from one file. A JPEG's APP1 holds at most 64 KiB;
/// PNG and WebP could claim gigabytes, and a larger block is taken as no EXIF.
pub const MAX_EXIF_BYTES: u64 = 256 * 1024;
/// Segments or chunks walked before giving up on finding EXIF.
const MAX_STEPS: usize = 4096;

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

/// The EXIF of the file at `path` (empty when it has none or cannot be read).
pub fn read(path: &Path, format: Format) -> Exif {
    let Ok(file) = File::open(path) else { return Exif::none() };
    match find(&mut BufReader::new(file), format) {
        Ok(Some(tiff)) => parse(tiff),
        _ => Exif::none(),
    }
}

/// The EXIF of a whole file in memory (the fuzz target and tests).
pub fn read_bytes(bytes: &[u8], format: Format) -> Exif {
    match find(&mut std::io::Cursor::new(bytes), format) {
        Ok(Some(tiff)) => parse(tiff),
        _ => Exif::none(),
    }
}

/// The raw TIFF structure of the file's EXIF, if it has one within the limits.
pub fn find(r: &mut (impl Read + Seek), format: Format) -> std::io::Result<Option<Vec<u8>>> {
    let block = match format {
        Format::Jpeg => jpeg(r)?,
        Format::Png => png(r)?,
        Format::Webp => webp(r)?,
    };
    // Some writers keep the JPEG identifier in PNG and WebP too.
    Ok(block.map(|b| if b.starts_with(b"Exif\0\0") { b[6..].to_vec() } else { b }))
}

fn read_exact<const N: usize>(r: &mut impl Read) -> std::io::Result<[u8; N]> {
    let mut buf = [0; N];
    r.read_exact(&mut buf)?;
    Ok(buf)
}

fn read_body(r: &mut impl Read, len: u64) -> std::io::Result<Option<Vec<u8>>> {
    if len > MAX_EXIF_BYTES {
        return Ok(None);
    }
    let mut body = Vec::new();
    r.take(len).read_to_end(&mut body)?;
    Ok((body.len() as u64 == len).then_some(body))
}

/// The first APP1 `Exif` segment before the first scan.
fn jpeg(r: &mut (impl Read + Seek)) -> std::io::Result<Option<Vec<u8>>> {
    if read_exact::<2>(r)? != [0xFF, 0xD8] {
        return Ok(None);
    }
    for _ in 0..MAX_STEPS {
        if read_exact::<1>(r)?[0] != 0xFF {
            return Ok(None);
        }
        let mut marker = 0xFF;
        while marker == 0xFF {
            marker = read_exact::<1>(r)?[0];
        }
        match marker {
            0xDA | 0xD9 => return Ok(None),
            0x01 | 0xD0..=0xD7 => continue,
            _ => {}
        }
        let length = u64::from(u16::from_be_bytes(read_exact::<2>(r)?));
        if length < 2 {
            return Ok(None);
        }
        if marker == 0xE1 {
            let Some(body) = read_body(r, length - 2)? else { return Ok(None) };
            if body.starts_with(b"Exif\0\0") {
                return Ok(Some(body));
            }
        } else {
            r.seek(SeekFrom::Current(i64::try_from(length - 2).expect("u16")))?;
        }
    }
    Ok(None)
}

/// The `eXIf` chunk.
fn png(r: &mut (impl Read + Seek)) -> std::io::Result<Option<Vec<u8>>> {
    if &read_exact::<8>(r)? != b"\x89PNG\r\n\x1a\n" {
        return Ok(None);
    }
    for _ in 0..MAX_STEPS {
        let length = u64::from(u32::from_be_bytes(read_exact::<4>(r)?));
        let kind = read_exact::<4>(r)?;
        match &kind {
            b"eXIf" => return read_body(r, length),
            b"IEND" => return Ok(None),
            _ => {
                r.seek(SeekFrom::Current(i64::try_from(length + 4).expect("u32 + 4")))?;
            }
        }
    }
    Ok(None)
}

/// The top-level `EXIF` chunk.
fn webp(r: &mut (impl Read + Seek)) -> std::io::Result<Option<Vec<u8>>> {
    let header = read_exact::<12>(r)?;
    if &header[0..4] != b"RIFF" || &header[8..12] != b"WEBP" {
        return Ok(None);
    }
    for _ in 0..MAX_STEPS {
        let kind = read_exact::<4>(r)?;
        let size = u64::from(u32::from_le_bytes(read_exact::<4>(r)?));
        if &kind == b"EXIF" {
            return read_body(r, size);
        }
        r.seek(SeekFrom::Current(i64::try_from(size + (size & 1)).expect("u32 + 1")))?;
    }
    Ok(None)
}

/// Parses a TIFF structure, keeping every field that could be read.
pub fn parse(tiff: Vec<u8>) -> Exif {
    let mut reader = ::exif::Reader::new();
    reader.continue_on_error(true);
    let parsed = reader.read_raw(tiff).or_else(|e| e.distill_partial_result(|_| {}));
    match parsed {
        Ok(exif) => fields(&exif),
        Err(_) => Exif::none(),
    }
}

impl Exif {
    /// No EXIF: upright, nothing known.
    pub fn none() -> Exif {
        Exif { orientation: 1, ..Exif::default() }
    }
}

/// EXIF fields Pujo keeps.
fn fields(exif: &::exif::Exif) -> Exif {
    let mut out = Exif::none();
    let text = |tag| {
        exif.get_field(tag, ::exif::In::PRIMARY)
            .map(|f| f.display_value().to_string().trim_matches('"').trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    let rational = |tag| match exif.get_field(tag, ::exif::In::PRIMARY).map(|f| &f.value) {
        Some(::exif::Value::Rational(v)) if !v.is_empty() && v[0].denom != 0 => Some(v[0]),
        _ => None,
    };
    if let Some(::exif::Value::Short(v)) =
        exif.get_field(::exif::Tag::Orientation, ::exif::In::PRIMARY).map(|f| &f.value)
        && let Some(&o) = v.first()
        && (1..=8).contains(&o)
    {
        out.orientation = o;
    }
    let camera = match (text(::exif::Tag::Make), text(::exif::Tag::Model)) {
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
    put("lens", text(::exif::Tag::LensModel));
    put(
        "exposure",
        rational(::exif::Tag::ExposureTime).map(|r| {
            if r.num > 0 && r.num < r.denom {
                format!("1/{} s", (r.denom + r.num / 2) / r.num)
            } else {
                format!("{:.1} s", r.to_f64())
            }
        }),
    );
    put("aperture", rational(::exif::Tag::FNumber).map(|r| format!("f/{:.1}", r.to_f64())));
    put("focal_length", rational(::exif::Tag::FocalLength).map(|r| format!("{:.0} mm", r.to_f64())));
    put(
        "iso",
        exif.get_field(::exif::Tag::PhotographicSensitivity, ::exif::In::PRIMARY)
            .and_then(|f| f.value.get_uint(0))
            .map(|v| v.to_string()),
    );
    out.shown = shown;
    out.taken_at = taken_at(exif);
    out.lat = coordinate(exif, ::exif::Tag::GPSLatitude, ::exif::Tag::GPSLatitudeRef, 'S', 90.0);
    out.lon = coordinate(exif, ::exif::Tag::GPSLongitude, ::exif::Tag::GPSLongitudeRef, 'W', 180.0);
    if out.lat.is_none() || out.lon.is_none() {
        (out.lat, out.lon) = (None, None);
    }
    out
}

/// DateTimeOriginal with its offset when the camera recorded one, else as UTC.
fn taken_at(exif: &::exif::Exif) -> Option<OffsetDateTime> {
    let field = exif.get_field(::exif::Tag::DateTimeOriginal, ::exif::In::PRIMARY)?;
    let ::exif::Value::Ascii(ref v) = field.value else { return None };
    let mut dt = ::exif::DateTime::from_ascii(v.first()?).ok()?;
    if let Some(offset) = exif.get_field(::exif::Tag::OffsetTimeOriginal, ::exif::In::PRIMARY)
        && let ::exif::Value::Ascii(ref o) = offset.value
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

fn coordinate(exif: &::exif::Exif, tag: ::exif::Tag, reference: ::exif::Tag, negative: char, max: f64) -> Option<f64> {
    let ::exif::Value::Rational(ref parts) = exif.get_field(tag, ::exif::In::PRIMARY)?.value else { return None };
    if parts.len() < 3 || parts.iter().any(|p| p.denom == 0) {
        return None;
    }
    let mut value = parts[0].to_f64() + parts[1].to_f64() / 60.0 + parts[2].to_f64() / 3600.0;
    let sign = exif.get_field(reference, ::exif::In::PRIMARY).map(|f| f.display_value().to_string());
    if sign.is_some_and(|s| s.contains(negative)) {
        value = -value;
    }
    (value.is_finite() && value.abs() <= max).then_some(value)
}
