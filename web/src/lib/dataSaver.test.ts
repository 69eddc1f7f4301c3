import { describe, expect, it } from 'vitest'
import { exifSegment, readMetadata, smallerCopy, withExif, type Encoder, type PhotoMetadata } from './dataSaver'

const SOI = [0xff, 0xd8]
const APP0 = [0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]
/** Start of scan, a few bytes of "scan", end of image. */
const SCAN = [0xff, 0xda, 0x00, 0x02, 0x11, 0x22, 0x33, 0xff, 0xd9]

const jpeg = (...segments: ArrayLike<number>[]) => Uint8Array.from(segments.flatMap((s) => Array.from(s)))

/** A little-endian EXIF block as phones write it: Orientation 6, DateTimeOriginal, OffsetTimeOriginal and GPS. */
function phoneExif(): number[] {
  const b: number[] = []
  const u16 = (v: number) => b.push(v & 0xff, (v >> 8) & 0xff)
  const u32 = (v: number) => b.push(v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff)
  const entry = (tag: number, type: number, count: number, value: number) => (u16(tag), u16(type), u32(count), u32(value))
  const str = (s: string) => [...s].forEach((c) => b.push(c.charCodeAt(0)))
  b.push(0x49, 0x49), u16(42), u32(8)
  // IFD0 at 8, 3 entries: ends at 50. Exif IFD at 50, 2 entries: ends at 80; the date at 80, the offset at 100.
  u16(3), entry(0x0112, 3, 1, 6), entry(0x8769, 4, 1, 50), entry(0x8825, 4, 1, 108), u32(0)
  u16(2), entry(0x9003, 2, 20, 80), entry(0x9011, 2, 7, 100), u32(0)
  str('2025:10:01 19:45:10'), b.push(0)
  str('+05:30'), b.push(0, 0)
  // GPS IFD at 108, 4 entries: ends at 162; latitude at 162, longitude at 186.
  u16(4), entry(0x0001, 2, 2, 0x4e), entry(0x0002, 5, 3, 162), entry(0x0003, 2, 2, 0x45), entry(0x0004, 5, 3, 186), u32(0)
  for (const [n, d] of [[22, 1], [34, 1], [3012, 100], [88, 1], [21, 1], [5400, 100]]) u32(n!), u32(d!)
  const body = [0x45, 0x78, 0x69, 0x66, 0, 0, ...b]
  return [0xff, 0xe1, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body]
}

const PHONE: PhotoMetadata = {
  takenAt: '2025:10:01 19:45:10',
  offset: '+05:30',
  gps: { latRef: 'N', lat: [[22, 1], [34, 1], [3012, 100]], lonRef: 'E', lon: [[88, 1], [21, 1], [5400, 100]] },
}

describe('EXIF for the data saver', () => {
  it('reads the date, its offset and the position of a phone photo', () => {
    expect(readMetadata(jpeg(SOI, APP0, phoneExif(), SCAN))).toEqual(PHONE)
  })

  it('writes them back (big-endian) so that they read the same, orientation 1', () => {
    const segment = exifSegment(PHONE)
    expect(readMetadata(jpeg(SOI, segment, SCAN))).toEqual(PHONE)
    // IFD0's first entry is Orientation = 1.
    expect(Array.from(segment.subarray(10 + 8 + 2, 10 + 8 + 2 + 12))).toEqual([0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 1, 0, 0])
    const dateOnly = exifSegment({ takenAt: PHONE.takenAt, offset: null, gps: null })
    expect(readMetadata(jpeg(SOI, dateOnly, SCAN))).toEqual({ takenAt: PHONE.takenAt, offset: null, gps: null })
  })

  it('reads nothing, and does not throw, from a cut or foreign file', () => {
    const whole = jpeg(SOI, APP0, phoneExif(), SCAN)
    for (let cut = 0; cut < whole.length; cut += 7) {
      expect(() => readMetadata(whole.subarray(0, cut))).not.toThrow()
    }
    expect(readMetadata(Uint8Array.from([0x89, 0x50, 0x4e, 0x47]))).toEqual({ takenAt: null, offset: null, gps: null })
  })

  it('puts the new EXIF after JFIF and drops the old one', () => {
    const out = withExif(jpeg(SOI, APP0, phoneExif(), SCAN), exifSegment({ takenAt: null, offset: null, gps: null }))
    expect(readMetadata(out)).toEqual({ takenAt: null, offset: null, gps: null })
    expect(Array.from(out.subarray(0, 2 + APP0.length))).toEqual([...SOI, ...APP0])
    expect(Array.from(out.subarray(2 + APP0.length, 2 + APP0.length + 2))).toEqual([0xff, 0xe1])
    expect(Array.from(out.subarray(out.length - SCAN.length))).toEqual(SCAN)
  })
})

describe('smallerCopy', () => {
  const original = () =>
    new File([jpeg(SOI, APP0, phoneExif(), SCAN), new Uint8Array(50_000)], 'IMG_2025.JPEG', {
      type: 'image/jpeg',
      lastModified: 1759327510000,
    })
  const small: Encoder = () => Promise.resolve(jpeg(SOI, APP0, SCAN))

  it('makes a JPEG copy that keeps the date, the position and the file date', async () => {
    const copy = await smallerCopy(original(), { keepGps: true, encode: small })
    expect(copy).not.toBeNull()
    expect([copy!.file.name, copy!.file.type, copy!.file.lastModified, copy!.originalSize]).toEqual([
      'IMG_2025.jpg',
      'image/jpeg',
      1759327510000,
      original().size,
    ])
    expect(readMetadata(new Uint8Array(await copy!.file.arrayBuffer()))).toEqual(PHONE)
  })

  it('leaves the position out when the owner hides positions', async () => {
    const copy = await smallerCopy(original(), { keepGps: false, encode: small })
    expect(readMetadata(new Uint8Array(await copy!.file.arrayBuffer()))).toEqual({ ...PHONE, gps: null })
  })

  it('sends the original when the copy would not be smaller or cannot be made', async () => {
    const big: Encoder = () => Promise.resolve(new Uint8Array(60_000).fill(1, 0, 2))
    expect(await smallerCopy(original(), { keepGps: true, encode: big })).toBeNull()
    expect(await smallerCopy(original(), { keepGps: true, encode: () => Promise.reject(new Error('HEIC')) })).toBeNull()
    expect(await smallerCopy(original(), { keepGps: true, encode: () => Promise.resolve(null) })).toBeNull()
  })
})
