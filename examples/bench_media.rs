//! Helpers for `scripts/bench/media.sh`:
//!
//! - `bench_media gen PATH WIDTH HEIGHT QUALITY SEED`: writes a photo-like JPEG (smooth
//!   gradients with fine noise, which compresses like a camera's output).
//! - `bench_media process PATH RUNS`: times Pujo's derivative path on one file, exactly
//!   what an upload runs (EXIF, one decode, thumb, medium and display in WebP and JPEG, the
//!   ThumbHash, at 400, 800 and 1600 px), and prints the median in milliseconds.

use std::time::Instant;

use pujo::media::process::process;
use pujo::media::sniff::inspect;

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
            let path = std::path::Path::new(&args[2]);
            let runs: usize = args[3].parse().expect("runs");
            let bytes = std::fs::read(path).expect("read");
            let (format, w, h) = inspect(&bytes[..bytes.len().min(256 * 1024)], 100_000_000).expect("an image");
            drop(bytes);
            let mut times = Vec::with_capacity(runs);
            for _ in 0..runs {
                let started = Instant::now();
                let done = process(path, format, w, h, usize::MAX).expect("processed");
                times.push(started.elapsed().as_secs_f64() * 1000.0);
                assert_eq!(done.derivatives.len(), 6);
            }
            times.sort_by(f64::total_cmp);
            println!("{:.1}", times[times.len() / 2]);
        }
        _ => eprintln!("usage: bench_media gen PATH W H QUALITY [SEED] | process PATH RUNS"),
    }
}
