//! A ZIP archive written as it is sent: entries stored (photos do not compress), each
//! local header before its bytes and a data descriptor (CRC-32 and size) after them,
//! then the central directory. Nothing is held but one line per entry, so a person's
//! whole library streams out without a copy of the archive anywhere. Offsets past
//! 4 GiB and more than 65,535 entries use ZIP64 records (APPNOTE 6.3.x, 4.3.14-4.5.3).
//!
//! Only the framing lives here; the caller sends the bytes between
//! [`ZipWriter::begin`] and [`ZipWriter::end`] and hashes them with [`Crc`].

use bytes::{BufMut, Bytes, BytesMut};
use time::OffsetDateTime;

const LOCAL: u32 = 0x0403_4b50;
const DESCRIPTOR: u32 = 0x0807_4b50;
const CENTRAL: u32 = 0x0201_4b50;
const END: u32 = 0x0605_4b50;
const END64: u32 = 0x0606_4b50;
const LOCATOR64: u32 = 0x0706_4b50;
/// Bit 3: sizes and CRC follow the data; bit 11: names are UTF-8.
const FLAGS: u16 = 0x0808;
const VERSION: u16 = 45;
/// Made on Unix (high byte 3), by the ZIP64 version of the format.
const MADE_BY: u16 = (3 << 8) | VERSION;

/// What an entry needs in the central directory.
struct Entry {
    name: String,
    crc: u32,
    size: u32,
    offset: u64,
    time: u16,
    date: u16,
}

/// An archive being written; `offset` counts every byte handed out so far.
pub struct ZipWriter {
    offset: u64,
    entries: Vec<Entry>,
    open: Option<(String, u64, u16, u16)>,
}

/// Why an entry cannot be written.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ZipError {
    #[error("an entry is already open")]
    Open,
    #[error("no entry is open")]
    NotOpen,
    #[error("entry names are relative paths without `..`")]
    Name,
    #[error("one entry of 4 GiB or more is beyond this writer")]
    TooLarge,
}

impl Default for ZipWriter {
    fn default() -> Self {
        ZipWriter::new()
    }
}

impl ZipWriter {
    pub fn new() -> ZipWriter {
        ZipWriter { offset: 0, entries: Vec::new(), open: None }
    }

    /// The local header of an entry named `name` (a relative path with `/`), changed
    /// at `modified`; its bytes follow.
    pub fn begin(&mut self, name: &str, modified: OffsetDateTime) -> Result<Bytes, ZipError> {
        if self.open.is_some() {
            return Err(ZipError::Open);
        }
        let bad = name.is_empty()
            || name.len() > 1024
            || name.starts_with('/')
            || name.contains('\\')
            || name.split('/').any(|p| p.is_empty() || p == "." || p == "..");
        if bad {
            return Err(ZipError::Name);
        }
        let (time, date) = dos_time(modified);
        let mut b = BytesMut::with_capacity(30 + name.len());
        b.put_u32_le(LOCAL);
        b.put_u16_le(20);
        b.put_u16_le(FLAGS);
        b.put_u16_le(0); // stored
        b.put_u16_le(time);
        b.put_u16_le(date);
        b.put_u32_le(0); // CRC, size and size: in the descriptor
        b.put_u32_le(0);
        b.put_u32_le(0);
        b.put_u16_le(name.len() as u16);
        b.put_u16_le(0);
        b.put_slice(name.as_bytes());
        self.open = Some((name.to_owned(), self.offset, time, date));
        self.offset += b.len() as u64;
        Ok(b.freeze())
    }

    /// The data descriptor after an entry's `size` bytes, whose CRC-32 is `crc`.
    pub fn end(&mut self, crc: u32, size: u64) -> Result<Bytes, ZipError> {
        let (name, offset, time, date) = self.open.take().ok_or(ZipError::NotOpen)?;
        let size = u32::try_from(size).ok().filter(|s| *s != u32::MAX).ok_or(ZipError::TooLarge)?;
        let mut b = BytesMut::with_capacity(16);
        b.put_u32_le(DESCRIPTOR);
        b.put_u32_le(crc);
        b.put_u32_le(size);
        b.put_u32_le(size);
        self.offset += u64::from(size) + b.len() as u64;
        self.entries.push(Entry { name, crc, size, offset, time, date });
        Ok(b.freeze())
    }

    /// The central directory and the end records: the archive's last bytes.
    pub fn finish(self) -> Result<Bytes, ZipError> {
        if self.open.is_some() {
            return Err(ZipError::Open);
        }
        let start = self.offset;
        let mut b = BytesMut::new();
        for e in &self.entries {
            let far = e.offset >= u64::from(u32::MAX);
            b.put_u32_le(CENTRAL);
            b.put_u16_le(MADE_BY);
            b.put_u16_le(if far { VERSION } else { 20 });
            b.put_u16_le(FLAGS);
            b.put_u16_le(0);
            b.put_u16_le(e.time);
            b.put_u16_le(e.date);
            b.put_u32_le(e.crc);
            b.put_u32_le(e.size);
            b.put_u32_le(e.size);
            b.put_u16_le(e.name.len() as u16);
            b.put_u16_le(if far { 12 } else { 0 });
            b.put_u16_le(0); // comment
            b.put_u16_le(0); // disk
            b.put_u16_le(0); // internal attributes
            b.put_u32_le(0o100_644 << 16); // a regular file, rw-r--r--
            b.put_u32_le(if far { u32::MAX } else { e.offset as u32 });
            b.put_slice(e.name.as_bytes());
            if far {
                b.put_u16_le(0x0001); // ZIP64 extended information
                b.put_u16_le(8);
                b.put_u64_le(e.offset);
            }
        }
        let size = b.len() as u64;
        let count = self.entries.len() as u64;
        let zip64 = count >= 0xFFFF || start >= u64::from(u32::MAX) || size >= u64::from(u32::MAX);
        if zip64 {
            let record = start + size;
            b.put_u32_le(END64);
            b.put_u64_le(44);
            b.put_u16_le(MADE_BY);
            b.put_u16_le(VERSION);
            b.put_u32_le(0);
            b.put_u32_le(0);
            b.put_u64_le(count);
            b.put_u64_le(count);
            b.put_u64_le(size);
            b.put_u64_le(start);
            b.put_u32_le(LOCATOR64);
            b.put_u32_le(0);
            b.put_u64_le(record);
            b.put_u32_le(1);
        }
        b.put_u32_le(END);
        b.put_u16_le(0);
        b.put_u16_le(0);
        let short_count = if zip64 { 0xFFFF } else { count as u16 };
        b.put_u16_le(short_count);
        b.put_u16_le(short_count);
        b.put_u32_le(if zip64 { u32::MAX } else { size as u32 });
        b.put_u32_le(if zip64 { u32::MAX } else { start as u32 });
        b.put_u16_le(0);
        Ok(b.freeze())
    }
}

/// CRC-32 (IEEE) of an entry's bytes as they pass.
#[derive(Default)]
pub struct Crc(crc32fast::Hasher);

impl Crc {
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    pub fn finish(self) -> u32 {
        self.0.finalize()
    }
}

/// MS-DOS time and date (two-second steps, years 1980 to 2107), clamped.
fn dos_time(t: OffsetDateTime) -> (u16, u16) {
    let t = t.to_offset(time::UtcOffset::UTC);
    let year = t.year().clamp(1980, 2107);
    if year != t.year() {
        return (0, if year == 1980 { (1 << 5) | 1 } else { (127 << 9) | (12 << 5) | 31 });
    }
    let time = (u16::from(t.hour()) << 11) | (u16::from(t.minute()) << 5) | u16::from(t.second() / 2);
    let date = (((year - 1980) as u16) << 9) | (u16::from(u8::from(t.month())) << 5) | u16::from(t.day());
    (time, date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut zip = ZipWriter::new();
        let mut out = Vec::new();
        let when = OffsetDateTime::from_unix_timestamp(1_791_921_600).unwrap();
        for (name, bytes) in files {
            out.extend_from_slice(&zip.begin(name, when).unwrap());
            out.extend_from_slice(bytes);
            let mut crc = Crc::default();
            crc.update(bytes);
            out.extend_from_slice(&zip.end(crc.finish(), bytes.len() as u64).unwrap());
        }
        out.extend_from_slice(&zip.finish().unwrap());
        out
    }

    #[test]
    fn the_end_record_points_at_the_central_directory() {
        let bytes = archive(&[("a.txt", b"Joy Maa Durga"), ("photos/1.jpg", &[0xff, 0xd8, 0xff])]);
        let end = bytes.len() - 22;
        assert_eq!(&bytes[end..end + 4], &END.to_le_bytes());
        let entries = u16::from_le_bytes([bytes[end + 10], bytes[end + 11]]);
        let size = u32::from_le_bytes(bytes[end + 12..end + 16].try_into().unwrap()) as usize;
        let start = u32::from_le_bytes(bytes[end + 16..end + 20].try_into().unwrap()) as usize;
        assert_eq!(entries, 2);
        assert_eq!(start + size, end);
        assert_eq!(&bytes[start..start + 4], &CENTRAL.to_le_bytes());
        // The first entry's CRC in the central directory is the data's.
        let crc = u32::from_le_bytes(bytes[start + 16..start + 20].try_into().unwrap());
        assert_eq!(crc, crc32fast::hash(b"Joy Maa Durga"));
    }

    #[test]
    fn offsets_past_4_gib_get_zip64_records() {
        let mut zip = ZipWriter::new();
        zip.offset = 5 << 30;
        let when = OffsetDateTime::from_unix_timestamp(1_791_921_600).unwrap();
        zip.begin("late.jpg", when).unwrap();
        zip.end(7, 3).unwrap();
        let tail = zip.finish().unwrap();
        assert_eq!(&tail[..4], &CENTRAL.to_le_bytes());
        let name_end = 46 + "late.jpg".len();
        assert_eq!(&tail[name_end..name_end + 4], &[1, 0, 8, 0], "the ZIP64 extra field");
        assert_eq!(u64::from_le_bytes(tail[name_end + 4..name_end + 12].try_into().unwrap()), 5 << 30);
        let end64 = name_end + 12;
        assert_eq!(&tail[end64..end64 + 4], &END64.to_le_bytes());
        assert_eq!(&tail[end64 + 56..end64 + 60], &LOCATOR64.to_le_bytes());
        assert_eq!(&tail[tail.len() - 22..tail.len() - 18], &END.to_le_bytes());
    }

    #[test]
    fn names_cannot_climb_out_and_entries_nest_properly() {
        let mut zip = ZipWriter::new();
        let when = OffsetDateTime::UNIX_EPOCH;
        for bad in ["", "/etc/passwd", "../x", "a/../../x", "a//b", "a\\b"] {
            assert_eq!(zip.begin(bad, when), Err(ZipError::Name), "{bad:?}");
        }
        assert_eq!(zip.end(0, 0), Err(ZipError::NotOpen));
        zip.begin("a", when).unwrap();
        assert_eq!(zip.begin("b", when), Err(ZipError::Open));
        assert_eq!(zip.end(0, 5 << 30), Err(ZipError::TooLarge));
        assert_eq!(dos_time(OffsetDateTime::UNIX_EPOCH), (0, (1 << 5) | 1), "before 1980: its first day");
    }
}
