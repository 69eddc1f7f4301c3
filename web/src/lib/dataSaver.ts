/**
 * Data saver: a smaller copy of a photo, made in the browser, for a slow or
 * costly network (a pandal crowd on 3G). The copy is a JPEG at most
 * {@link SAVER_LONG_EDGE} px on its long edge. A canvas keeps no EXIF, so the
 * little that matters is written back: the time the photo was taken (with its
 * offset), and its GPS position unless the owner hides positions (the server
 * applies the owner's choice to what it keeps, as for an original). The pixels
 * are drawn upright, so the copy says orientation 1.
 *
 * No React and no canvas here but through {@link Encoder}, so the decisions
 * and the EXIF bytes are tested without a browser.
 */

export const SAVER_LONG_EDGE = 2048
export const SAVER_QUALITY = 0.85
const SAVER_KEY = 'pujo.dataSaver'

/** Whether the person chose the data saver on this device (off unless chosen). */
export function savedDataSaver(): boolean {
  try {
    return window.localStorage.getItem(SAVER_KEY) === 'on'
  } catch {
    return false
  }
}

export function storeDataSaver(on: boolean): void {
  try {
    if (on) window.localStorage.setItem(SAVER_KEY, 'on')
    else window.localStorage.removeItem(SAVER_KEY)
  } catch {
    // Not remembered; the choice holds for this visit.
  }
}

/** An unsigned EXIF rational. */
type Rational = [number, number]

/** What of a photo's EXIF survives the copy. */
export interface PhotoMetadata {
  /** `YYYY:MM:DD HH:MM:SS`, as EXIF writes it. */
  takenAt: string | null
  /** `+05:30`, when the camera recorded it. */
  offset: string | null
  gps: { latRef: string; lat: Rational[]; lonRef: string; lon: Rational[] } | null
}

const NO_METADATA: PhotoMetadata = { takenAt: null, offset: null, gps: null }

const TYPE_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 9: 4, 10: 8 }

/** Reads a JPEG's EXIF (APP1) for the date and GPS; anything malformed reads as nothing. */
export function readMetadata(jpeg: Uint8Array): PhotoMetadata {
  try {
    const tiff = findExif(jpeg)
    return tiff ? parseTiff(tiff) : NO_METADATA
  } catch {
    return NO_METADATA
  }
}

function findExif(jpeg: Uint8Array): DataView | null {
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) return null
  let at = 2
  while (at + 4 <= jpeg.length) {
    if (jpeg[at] !== 0xff) return null
    const marker = jpeg[at + 1]!
    if (marker === 0xd9 || marker === 0xda) return null
    const length = (jpeg[at + 2]! << 8) | jpeg[at + 3]!
    if (length < 2 || at + 2 + length > jpeg.length) return null
    const body = at + 4
    if (
      marker === 0xe1 &&
      length >= 8 + 6 &&
      String.fromCharCode(...jpeg.subarray(body, body + 4)) === 'Exif' &&
      jpeg[body + 4] === 0 &&
      jpeg[body + 5] === 0
    ) {
      return new DataView(jpeg.buffer, jpeg.byteOffset + body + 6, length - 2 - 6)
    }
    at += 2 + length
  }
  return null
}

interface Entry {
  type: number
  count: number
  /** Where the value's bytes start in the TIFF block. */
  at: number
}

function parseTiff(tiff: DataView): PhotoMetadata {
  const order = tiff.getUint16(0)
  if (order !== 0x4949 && order !== 0x4d4d) return NO_METADATA
  const little = order === 0x4949
  const u16 = (at: number) => tiff.getUint16(at, little)
  const u32 = (at: number) => tiff.getUint32(at, little)
  if (u16(2) !== 42) return NO_METADATA

  const ifd = (offset: number): Map<number, Entry> => {
    const entries = new Map<number, Entry>()
    if (offset <= 0 || offset + 2 > tiff.byteLength) return entries
    const count = u16(offset)
    for (let i = 0; i < count; i++) {
      const entry = offset + 2 + i * 12
      if (entry + 12 > tiff.byteLength) break
      const type = u16(entry + 2)
      const n = u32(entry + 4)
      const size = (TYPE_SIZE[type] ?? 0) * n
      if (size === 0) continue
      const at = size <= 4 ? entry + 8 : u32(entry + 8)
      if (at + size > tiff.byteLength) continue
      entries.set(u16(entry), { type, count: n, at })
    }
    return entries
  }
  const ascii = (entry: Entry | undefined): string | null => {
    if (!entry || entry.type !== 2) return null
    let text = ''
    for (let i = 0; i < entry.count; i++) {
      const c = tiff.getUint8(entry.at + i)
      if (c === 0) break
      text += String.fromCharCode(c)
    }
    return text.trim() === '' ? null : text
  }
  const rationals = (entry: Entry | undefined): Rational[] | null => {
    if (!entry || entry.type !== 5 || entry.count < 3) return null
    const out: Rational[] = []
    for (let i = 0; i < 3; i++) out.push([u32(entry.at + i * 8), u32(entry.at + i * 8 + 4)])
    return out.some(([, d]) => d === 0) ? null : out
  }
  const pointer = (entries: Map<number, Entry>, tag: number): number => {
    const entry = entries.get(tag)
    return entry && entry.type === 4 ? u32(entry.at) : 0
  }

  const ifd0 = ifd(u32(4))
  const exif = ifd(pointer(ifd0, 0x8769))
  const gpsIfd = ifd(pointer(ifd0, 0x8825))
  const takenAt = ascii(exif.get(0x9003))
  const offset = ascii(exif.get(0x9011))
  const latRef = ascii(gpsIfd.get(0x0001))
  const lat = rationals(gpsIfd.get(0x0002))
  const lonRef = ascii(gpsIfd.get(0x0003))
  const lon = rationals(gpsIfd.get(0x0004))
  const gps = latRef && lat && lonRef && lon ? { latRef, lat, lonRef, lon } : null
  return {
    takenAt: takenAt && /^\d{4}:\d\d:\d\d \d\d:\d\d:\d\d$/.test(takenAt) ? takenAt : null,
    offset: offset && /^[+-]\d\d:\d\d$/.test(offset) ? offset : null,
    gps,
  }
}

/** A growing big-endian TIFF block: IFDs first, their long values after. */
class TiffWriter {
  private readonly bytes: number[] = []
  get length(): number {
    return this.bytes.length
  }
  u8(v: number) {
    this.bytes.push(v & 0xff)
  }
  u16(v: number) {
    this.bytes.push((v >>> 8) & 0xff, v & 0xff)
  }
  u32(v: number) {
    this.bytes.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff)
  }
  ascii(text: string) {
    for (let i = 0; i < text.length; i++) this.u8(text.charCodeAt(i) & 0x7f)
    this.u8(0)
  }
  patch32(at: number, v: number) {
    this.bytes[at] = (v >>> 24) & 0xff
    this.bytes[at + 1] = (v >>> 16) & 0xff
    this.bytes[at + 2] = (v >>> 8) & 0xff
    this.bytes[at + 3] = v & 0xff
  }
  done(): Uint8Array {
    return Uint8Array.from(this.bytes)
  }
}

type Field =
  | { tag: number; kind: 'short'; value: number }
  | { tag: number; kind: 'long'; value: number }
  | { tag: number; kind: 'ascii'; value: string }
  | { tag: number; kind: 'rationals'; value: Rational[] }
  | { tag: number; kind: 'bytes'; value: number[] }

/** Writes one IFD at the writer's end; returns where each field's 4-byte value slot is. */
function writeIfd(w: TiffWriter, fields: Field[]): Map<number, number> {
  const sorted = [...fields].sort((a, b) => a.tag - b.tag)
  const slots = new Map<number, number>()
  const later: { slot: number; write: () => void }[] = []
  w.u16(sorted.length)
  for (const f of sorted) {
    w.u16(f.tag)
    const slot = w.length + 6
    slots.set(f.tag, slot)
    switch (f.kind) {
      case 'short':
        w.u16(3), w.u32(1), w.u16(f.value), w.u16(0)
        break
      case 'long':
        w.u16(4), w.u32(1), w.u32(f.value)
        break
      case 'bytes':
        w.u16(1), w.u32(f.value.length)
        for (let i = 0; i < 4; i++) w.u8(f.value[i] ?? 0)
        break
      case 'ascii': {
        w.u16(2), w.u32(f.value.length + 1)
        if (f.value.length + 1 <= 4) {
          for (let i = 0; i < 4; i++) w.u8(i < f.value.length ? f.value.charCodeAt(i) : 0)
        } else {
          w.u32(0)
          const text = f.value
          later.push({ slot, write: () => w.ascii(text) })
        }
        break
      }
      case 'rationals': {
        w.u16(5), w.u32(f.value.length), w.u32(0)
        const parts = f.value
        later.push({ slot, write: () => parts.forEach(([n, d]) => (w.u32(n), w.u32(d))) })
        break
      }
    }
  }
  w.u32(0) // no next IFD
  for (const { slot, write } of later) {
    w.patch32(slot, w.length)
    write()
    if (w.length % 2 === 1) w.u8(0)
  }
  return slots
}

/** An APP1 segment (marker included) holding `meta` and orientation 1. */
export function exifSegment(meta: PhotoMetadata): Uint8Array {
  const w = new TiffWriter()
  w.u16(0x4d4d)
  w.u16(42)
  w.u32(8)
  const ifd0: Field[] = [{ tag: 0x0112, kind: 'short', value: 1 }]
  const hasExif = meta.takenAt !== null
  if (hasExif) ifd0.push({ tag: 0x8769, kind: 'long', value: 0 })
  if (meta.gps) ifd0.push({ tag: 0x8825, kind: 'long', value: 0 })
  const slots = writeIfd(w, ifd0)
  if (hasExif) {
    w.patch32(slots.get(0x8769)!, w.length)
    const fields: Field[] = [{ tag: 0x9003, kind: 'ascii', value: meta.takenAt! }]
    if (meta.offset) fields.push({ tag: 0x9011, kind: 'ascii', value: meta.offset })
    writeIfd(w, fields)
  }
  if (meta.gps) {
    w.patch32(slots.get(0x8825)!, w.length)
    writeIfd(w, [
      { tag: 0x0000, kind: 'bytes', value: [2, 3, 0, 0] },
      { tag: 0x0001, kind: 'ascii', value: meta.gps.latRef },
      { tag: 0x0002, kind: 'rationals', value: meta.gps.lat },
      { tag: 0x0003, kind: 'ascii', value: meta.gps.lonRef },
      { tag: 0x0004, kind: 'rationals', value: meta.gps.lon },
    ])
  }
  const tiff = w.done()
  const length = 2 + 6 + tiff.length
  const out = new Uint8Array(2 + length)
  out.set([0xff, 0xe1, length >> 8, length & 0xff, 0x45, 0x78, 0x69, 0x66, 0, 0])
  out.set(tiff, 10)
  return out
}

/** `jpeg` with its own APP1 segments dropped and `app1` put right after SOI (after JFIF APP0 if any). */
export function withExif(jpeg: Uint8Array, app1: Uint8Array): Uint8Array<ArrayBuffer> {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) return jpeg.slice()
  const parts: Uint8Array[] = [jpeg.subarray(0, 2)]
  let at = 2
  let inserted = false
  while (at + 4 <= jpeg.length && jpeg[at] === 0xff) {
    const marker = jpeg[at + 1]!
    if (marker === 0xda) break
    const length = (jpeg[at + 2]! << 8) | jpeg[at + 3]!
    if (!inserted && marker !== 0xe0) {
      parts.push(app1)
      inserted = true
    }
    if (marker !== 0xe1) parts.push(jpeg.subarray(at, at + 2 + length))
    at += 2 + length
  }
  if (!inserted) parts.push(app1)
  parts.push(jpeg.subarray(at))
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let written = 0
  for (const p of parts) {
    out.set(p, written)
    written += p.length
  }
  return out
}

/** Decodes, turns upright and scales a photo, then encodes it as JPEG (the browser's canvas). */
export type Encoder = (file: File, longEdge: number, quality: number) => Promise<Uint8Array | null>

/** The browser's encoder: createImageBitmap (EXIF orientation applied, high-quality resize) and a canvas. */
export const canvasEncoder: Encoder = async (file, longEdge, quality) => {
  if (typeof createImageBitmap !== 'function') return null
  const probe = await createImageBitmap(file, { imageOrientation: 'from-image' })
  const scale = Math.min(1, longEdge / Math.max(probe.width, probe.height))
  const width = Math.max(1, Math.round(probe.width * scale))
  const height = Math.max(1, Math.round(probe.height * scale))
  probe.close()
  const bitmap = await createImageBitmap(file, {
    imageOrientation: 'from-image',
    resizeWidth: width,
    resizeHeight: height,
    resizeQuality: 'high',
  })
  let blob: Blob | null
  if (typeof OffscreenCanvas === 'function') {
    const canvas = new OffscreenCanvas(width, height)
    canvas.getContext('2d')?.drawImage(bitmap, 0, 0)
    blob = await canvas.convertToBlob({ type: 'image/jpeg', quality })
  } else {
    const canvas = document.createElement('canvas')
    canvas.width = width
    canvas.height = height
    canvas.getContext('2d')?.drawImage(bitmap, 0, 0)
    blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality))
  }
  bitmap.close()
  return blob ? new Uint8Array(await blob.arrayBuffer()) : null
}

export interface SmallerCopy {
  file: File
  /** The original's size in bytes. */
  originalSize: number
}

/**
 * A smaller copy of `file`, or null when there is none to be had (a format the
 * browser cannot draw, or a copy no smaller than the original).
 */
export async function smallerCopy(
  file: File,
  options: { keepGps: boolean; encode?: Encoder; longEdge?: number; quality?: number },
): Promise<SmallerCopy | null> {
  const encode = options.encode ?? canvasEncoder
  let encoded: Uint8Array | null
  try {
    encoded = await encode(file, options.longEdge ?? SAVER_LONG_EDGE, options.quality ?? SAVER_QUALITY)
  } catch {
    return null
  }
  if (!encoded) return null
  const original = file.type === 'image/jpeg' ? readMetadata(new Uint8Array(await file.arrayBuffer())) : NO_METADATA
  const meta = options.keepGps ? original : { ...original, gps: null }
  const bytes = withExif(encoded, exifSegment(meta))
  if (bytes.length >= file.size) return null
  const name = file.name.replace(/\.[^.]*$/, '') + '.jpg'
  return {
    file: new File([bytes], name, { type: 'image/jpeg', lastModified: file.lastModified }),
    originalSize: file.size,
  }
}
