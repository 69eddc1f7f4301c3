//! Helpers for `scripts/bench/media.sh`:
//!
//! - `bench_media gen PATH WIDTH HEIGHT QUALITY SEED`: writes a photo-like JPEG (smooth
//!   gradients with fine noise, which compresses like a camera's output).
//! - `bench_media process PATH RUNS`: times Pujo's derivative path on one file, exactly
//!   what an upload runs (EXIF, one decode, thumb, medium and display in WebP and JPEG, the
//!   ThumbHash, at 400, 800 and 1600 px), and prints the median in milliseconds.
//! - `bench_media save PATH DIR`: writes the six derivatives of PATH into DIR
//!   (`thumb.webp`, `thumb.jpg`, ... `display.jpg`), to compare a later build against.
//! - `bench_media compare PATH [DIR]`: the quality gate. For each derivative, SSIM
//!   (luma, 11x11 Gaussian window, sigma 1.5) against a reference made without any
//!   shortcut (PATH decoded at full size and resized with Lanczos3 straight to the
//!   derivative's size, not encoded), its size in bytes, and with DIR the same for the
//!   derivative saved there and the SSIM between the two. One line per derivative.

use std::path::Path;
use std::time::Instant;

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

use pujo::media::process::process;
use pujo::media::sniff::{Format, inspect};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("gen") => {
            let (w, h): (u32, u32) = (args[3].parse().expect("width"), args[4].parse().expect("height"));
            let quality: u8 = args[5].parse().expect("quality");
            let seed: u32 = args.get(6).map_or(1, |s| s.parse().expect("seed"));
            let mut px = Vec::with_capacity((w * h * 3) as usize);
            let mut state = seed.wrapping_mul(2_654_435_761).max(1);
            for y in 0..h {
                for x in 0..w {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    let noise = (state % 24) as i32 - 12;
                    let r = (x * 255 / w) as i32 + noise;
                    let g = (y * 255 / h) as i32 + noise;
                    let b = (((x + y) * 255) / (w + h)) as i32 + (state % 7) as i32;
                    px.extend([r, g, b].map(|c| c.clamp(0, 255) as u8));
                }
            }
            let mut out = Vec::new();
            jpeg_encoder::Encoder::new(&mut out, quality)
                .encode(&px, w as u16, h as u16, jpeg_encoder::ColorType::Rgb)
                .expect("encode");
            std::fs::write(&args[2], out).expect("write");
        }
        Some("process") => {
            let path = Path::new(&args[2]);
            let runs: usize = args[3].parse().expect("runs");
            let mut head = std::fs::read(path).expect("read");
            head.truncate(256 * 1024);
            let (format, w, h) = inspect(&head, 100_000_000).expect("an image");
            let mut times = Vec::with_capacity(runs);
            for _ in 0..runs {
                let started = Instant::now();
                let done = process(path, &head, format, w, h, usize::MAX).expect("processed");
                times.push(started.elapsed().as_secs_f64() * 1000.0);
                assert_eq!(done.derivatives.len(), 6);
            }
            times.sort_by(f64::total_cmp);
            println!("{:.1}", times[times.len() / 2]);
        }
        Some("save") => {
            let dir = Path::new(&args[3]);
            std::fs::create_dir_all(dir).expect("mkdir");
            for (name, bytes) in derivatives(Path::new(&args[2])) {
                std::fs::write(dir.join(name), bytes).expect("write");
            }
        }
        Some("compare") => compare(Path::new(&args[2]), args.get(3).map(Path::new)),
        _ => eprintln!(
            "usage: bench_media gen PATH W H QUALITY [SEED] | process PATH RUNS | save PATH DIR | compare PATH [DIR]"
        ),
    }
}

/// The six derivatives of `path` as `process` makes them, named as `save` writes them.
fn derivatives(path: &Path) -> Vec<(String, Vec<u8>)> {
    let bytes = std::fs::read(path).expect("read");
    let head = &bytes[..bytes.len().min(256 * 1024)];
    let (format, w, h) = inspect(head, 100_000_000).expect("an image");
    let done = process(path, head, format, w, h, usize::MAX).expect("processed");
    done.derivatives
        .into_iter()
        .map(|d| (format!("{}.{}", d.variant, if d.format == Format::Webp { "webp" } else { "jpg" }), d.bytes))
        .collect()
}

fn compare(path: &Path, saved: Option<&Path>) {
    let (original, ow, oh) = decode_rgb(&std::fs::read(path).expect("read"));
    print!("| derivative | pixels | SSIM to reference | bytes |");
    if saved.is_some() {
        print!(" saved: SSIM to reference | saved: bytes | SSIM new to saved |");
    }
    println!();
    for (name, bytes) in derivatives(path) {
        let (new, w, h) = decode_rgb(&bytes);
        let reference = lanczos(&original, ow, oh, w, h);
        print!("| {name} | {w}x{h} | {:.4} | {} |", ssim(&reference, &new, w, h), bytes.len());
        if let Some(dir) = saved {
            let old_bytes = std::fs::read(dir.join(&name)).expect("a saved derivative");
            let (old, old_w, old_h) = decode_rgb(&old_bytes);
            assert_eq!((old_w, old_h), (w, h), "{name}: the saved derivative has another size");
            print!(" {:.4} | {} | {:.4} |", ssim(&reference, &old, w, h), old_bytes.len(), ssim(&old, &new, w, h));
        }
        println!();
    }
}

fn decode_rgb(bytes: &[u8]) -> (Vec<u8>, u32, u32) {
    let image = image::load_from_memory(bytes).ok().map(image::DynamicImage::into_rgb8);
    if let Some(image) = image {
        let (w, h) = image.dimensions();
        return (image.into_raw(), w, h);
    }
    // `image` is built without JPEG support here: JPEGs go through jpeg-decoder.
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    let px = decoder.decode().expect("a JPEG");
    let info = decoder.info().expect("info");
    assert_eq!(info.pixel_format, jpeg_decoder::PixelFormat::RGB24, "an RGB JPEG");
    (px, u32::from(info.width), u32::from(info.height))
}

fn lanczos(px: &[u8], w: u32, h: u32, dw: u32, dh: u32) -> Vec<u8> {
    let src = ImageRef::new(w, h, px, PixelType::U8x3).expect("buffer");
    let mut dst = Image::new(dw, dh, PixelType::U8x3);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    Resizer::new().resize(&src, &mut dst, &options).expect("resize");
    dst.into_vec()
}

/// Mean SSIM of the luma (BT.601) of two RGB images of the same size: Gaussian
/// window of 11x11, sigma 1.5, the constants of Wang et al. (2004), over the pixels
/// whose whole window is inside the image.
fn ssim(a: &[u8], b: &[u8], w: u32, h: u32) -> f64 {
    let luma = |px: &[u8]| -> Vec<f64> {
        px.chunks_exact(3)
            .map(|p| 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]))
            .collect()
    };
    let (x, y) = (luma(a), luma(b));
    let (w, h) = (w as usize, h as usize);
    let kernel: Vec<f64> = {
        let k: Vec<f64> = (-5..=5).map(|i: i32| (-f64::from(i * i) / (2.0 * 1.5 * 1.5)).exp()).collect();
        let sum: f64 = k.iter().sum();
        k.into_iter().map(|v| v / sum).collect()
    };
    // Separable blur over the valid region: (w - 10) x (h - 10) results.
    let blur = |v: &[f64]| -> Vec<f64> {
        let mut rows = vec![0.0; (w - 10) * h];
        for r in 0..h {
            for c in 0..w - 10 {
                rows[r * (w - 10) + c] = (0..11).map(|k| kernel[k] * v[r * w + c + k]).sum();
            }
        }
        let mut out = vec![0.0; (w - 10) * (h - 10)];
        for r in 0..h - 10 {
            for c in 0..w - 10 {
                out[r * (w - 10) + c] = (0..11).map(|k| kernel[k] * rows[(r + k) * (w - 10) + c]).sum();
            }
        }
        out
    };
    let product = |p: &[f64], q: &[f64]| -> Vec<f64> { p.iter().zip(q).map(|(a, b)| a * b).collect() };
    let (mx, my) = (blur(&x), blur(&y));
    let (xx, yy, xy) = (blur(&product(&x, &x)), blur(&product(&y, &y)), blur(&product(&x, &y)));
    let (c1, c2) = ((0.01f64 * 255.0).powi(2), (0.03f64 * 255.0).powi(2));
    let total: f64 = (0..mx.len())
        .map(|i| {
            let (vx, vy, cov) = (xx[i] - mx[i] * mx[i], yy[i] - my[i] * my[i], xy[i] - mx[i] * my[i]);
            ((2.0 * mx[i] * my[i] + c1) * (2.0 * cov + c2)) / ((mx[i] * mx[i] + my[i] * my[i] + c1) * (vx + vy + c2))
        })
        .sum();
    total / mx.len() as f64
}
