//! Real image files made in the tests: JPEGs with EXIF (orientation, GPS, camera),
//! progressive and CMYK JPEGs, PNGs with alpha or 16 bits, and things that only
//! pretend to be images.

use exif::{Field, In, Rational, Tag, Value};

/// Pixels of a `width`x`height` picture whose left half is red and right half blue,
/// so a test can tell which way up a derivative came out.
pub fn halves(width: u32, height: u32) -> Vec<u8> {
    let mut px = Vec::with_capacity((width * height * 3) as usize);
    for _y in 0..height {
        for x in 0..width {
            px.extend_from_slice(if x < width / 2 { &[220, 20, 20] } else { &[20, 20, 220] });
        }
    }
    px
}

/// EXIF with an orientation, a camera and (optionally) a GPS position.
pub fn exif(orientation: u16, gps: Option<(f64, f64)>) -> Vec<u8> {
    let dms = |v: f64| {
        let v = v.abs();
        let d = v.trunc();
        let m = ((v - d) * 60.0).trunc();
        let s = ((v - d) * 60.0 - m) * 60.0;
        Value::Rational(vec![
            Rational { num: d as u32, denom: 1 },
            Rational { num: m as u32, denom: 1 },
            Rational { num: (s * 1000.0).round() as u32, denom: 1000 },
        ])
    };
    let mut fields = vec![
        Field { tag: Tag::Orientation, ifd_num: In::PRIMARY, value: Value::Short(vec![orientation]) },
        Field { tag: Tag::Make, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"Google".to_vec()]) },
        Field { tag: Tag::Model, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"Pixel 9".to_vec()]) },
        Field {
            tag: Tag::DateTimeOriginal,
            ifd_num: In::PRIMARY,
            value: Value::Ascii(vec![b"2026:10:20 19:30:05".to_vec()]),
        },
        Field { tag: Tag::OffsetTimeOriginal, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"+05:30".to_vec()]) },
        Field {
            tag: Tag::ExposureTime,
            ifd_num: In::PRIMARY,
            value: Value::Rational(vec![Rational { num: 1, denom: 250 }]),
        },
        Field {
            tag: Tag::FNumber,
            ifd_num: In::PRIMARY,
            value: Value::Rational(vec![Rational { num: 18, denom: 10 }]),
        },
    ];
    if let Some((lat, lon)) = gps {
        let ns = if lat < 0.0 { b"S" } else { b"N" };
        let ew = if lon < 0.0 { b"W" } else { b"E" };
        fields.push(Field { tag: Tag::GPSLatitudeRef, ifd_num: In::PRIMARY, value: Value::Ascii(vec![ns.to_vec()]) });
        fields.push(Field { tag: Tag::GPSLatitude, ifd_num: In::PRIMARY, value: dms(lat) });
        fields.push(Field { tag: Tag::GPSLongitudeRef, ifd_num: In::PRIMARY, value: Value::Ascii(vec![ew.to_vec()]) });
        fields.push(Field { tag: Tag::GPSLongitude, ifd_num: In::PRIMARY, value: dms(lon) });
    }
    let mut writer = exif::experimental::Writer::new();
    for f in &fields {
        writer.push_field(f);
    }
    let mut tiff = std::io::Cursor::new(Vec::new());
    writer.write(&mut tiff, false).expect("EXIF writes");
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff.into_inner());
    app1
}

pub struct Jpeg {
    pub width: u32,
    pub height: u32,
    pub orientation: u16,
    pub gps: Option<(f64, f64)>,
    pub progressive: bool,
    pub cmyk: bool,
    /// Changes the pixels a little, so otherwise equal files differ.
    pub seed: u8,
}

impl Default for Jpeg {
    fn default() -> Jpeg {
        Jpeg { width: 640, height: 320, orientation: 1, gps: None, progressive: false, cmyk: false, seed: 0 }
    }
}

impl Jpeg {
    pub fn encode(&self) -> Vec<u8> {
        let mut px = halves(self.width, self.height);
        px[0] = self.seed;
        let mut out = Vec::new();
        let mut encoder = jpeg_encoder::Encoder::new(&mut out, 90);
        encoder.set_progressive(self.progressive);
        encoder.add_app_segment(1, exif(self.orientation, self.gps)).expect("APP1");
        let (w, h) = (self.width as u16, self.height as u16);
        if self.cmyk {
            // Ink amounts (0 = none): jpeg-encoder stores them inverted with an Adobe
            // marker, as Photoshop and libvips write CMYK JPEGs.
            let cmyk: Vec<u8> = px.chunks_exact(3).flat_map(|p| [255 - p[0], 255 - p[1], 255 - p[2], 0]).collect();
            encoder.encode(&cmyk, w, h, jpeg_encoder::ColorType::Cmyk).expect("CMYK JPEG");
        } else {
            encoder.encode(&px, w, h, jpeg_encoder::ColorType::Rgb).expect("JPEG");
        }
        out
    }
}

/// A PNG with a transparent left half.
pub fn png_with_alpha(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbaImage::from_fn(width, height, |x, _| {
        if x < width / 2 { image::Rgba([255, 0, 0, 0]) } else { image::Rgba([0, 0, 255, 255]) }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).expect("PNG");
    out.into_inner()
}

/// A 16-bit RGB PNG.
pub fn png_16_bit(width: u32, height: u32) -> Vec<u8> {
    let img: image::ImageBuffer<image::Rgb<u16>, Vec<u16>> =
        image::ImageBuffer::from_fn(width, height, |x, y| image::Rgb([(x * 300) as u16, (y * 300) as u16, 40_000]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).expect("PNG");
    out.into_inner()
}

/// A PNG header that claims 60000x60000 pixels (a decompression bomb's signature).
pub fn png_bomb_header() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
    b.extend_from_slice(&60_000u32.to_be_bytes());
    b.extend_from_slice(&60_000u32.to_be_bytes());
    b.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    b
}

/// A zip archive (named .jpg by the test).
pub fn zip() -> Vec<u8> {
    let mut b = b"PK\x03\x04\x14\x00\x00\x00\x00\x00".to_vec();
    b.extend_from_slice(&[0; 40]);
    b
}

pub fn svg_with_script() -> Vec<u8> {
    br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>"#.to_vec()
}

/// The colour of the pixel at (x, y) of a decoded JPEG.
pub fn jpeg_pixel(bytes: &[u8], x: u32, y: u32) -> ([u8; 3], u32, u32) {
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    let px = decoder.decode().expect("derivative decodes");
    let info = decoder.info().expect("info");
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    let i = ((y * w + x) * 3) as usize;
    ([px[i], px[i + 1], px[i + 2]], w, h)
}
