/**
 * The Bengali web font (public/fonts) must draw every Bengali character the
 * interface uses, and the CSS must ask for it for each of them: on a device with
 * no Bengali font, a character it misses would show as a box.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { brotliDecompressSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { bn } from './bn'

const web = resolve(__dirname, '../..')

/** The WOFF2 table tags by their index in the table directory's flags (WOFF2 spec 5.1). */
const KNOWN_TAGS = ['cmap', 'head', 'hhea', 'hmtx', 'maxp', 'name', 'OS/2', 'post', 'cvt ', 'fpgm', 'glyf', 'loca', 'prep']

/** Code points a WOFF2 font maps to glyphs (cmap formats 4 and 12). */
function woff2CodePoints(file: Buffer): Set<number> {
  expect(file.toString('latin1', 0, 4)).toBe('wOF2')
  const numTables = file.readUInt16BE(12)
  const compressedLength = file.readUInt32BE(20)
  let at = 48
  const base128 = () => {
    let value = 0
    for (let i = 0; i < 5; i++) {
      const byte = file[at++]!
      value = value * 128 + (byte & 0x7f)
      if ((byte & 0x80) === 0) return value
    }
    throw new Error('bad UIntBase128')
  }
  const tables: { tag: string; offset: number; length: number }[] = []
  let offset = 0
  for (let i = 0; i < numTables; i++) {
    const flags = file[at++]!
    const index = flags & 0x3f
    const tag = index === 63 ? file.toString('latin1', at, (at += 4)) : (KNOWN_TAGS[index] ?? `#${index}`)
    const version = flags >> 6
    const original = base128()
    const transformed = (tag === 'glyf' || tag === 'loca') ? version === 0 : version !== 0
    const length = transformed ? base128() : original
    tables.push({ tag, offset, length })
    offset += length
  }
  const data = brotliDecompressSync(file.subarray(at, at + compressedLength))
  const cmapEntry = tables.find((t) => t.tag === 'cmap')!
  const cmap = data.subarray(cmapEntry.offset, cmapEntry.offset + cmapEntry.length)
  const points = new Set<number>()
  const subtables = cmap.readUInt16BE(2)
  for (let i = 0; i < subtables; i++) {
    const sub = cmap.readUInt32BE(4 + i * 8 + 4)
    const format = cmap.readUInt16BE(sub)
    if (format === 4) {
      const segments = cmap.readUInt16BE(sub + 6) / 2
      const ends = sub + 14
      const starts = ends + segments * 2 + 2
      for (let s = 0; s < segments; s++) {
        const end = cmap.readUInt16BE(ends + s * 2)
        const start = cmap.readUInt16BE(starts + s * 2)
        if (start === 0xffff) continue
        for (let c = start; c <= end; c++) points.add(c)
      }
    } else if (format === 12) {
      const groups = cmap.readUInt32BE(sub + 12)
      for (let g = 0; g < groups; g++) {
        const start = cmap.readUInt32BE(sub + 16 + g * 12)
        const end = cmap.readUInt32BE(sub + 20 + g * 12)
        for (let c = start; c <= end; c++) points.add(c)
      }
    }
  }
  return points
}

/** The `unicode-range`s of the CSS's "Pujo Bengali" faces, as [from, to] pairs. */
function declaredRanges(css: string): [number, number][] {
  const faces = [...css.matchAll(/@font-face\s*{([^}]*)}/g)].map((m) => m[1]!).filter((f) => f.includes('"Pujo Bengali"'))
  expect(faces.length).toBe(2)
  return faces.flatMap((face) =>
    [.../unicode-range:\s*([^;]+);/.exec(face)![1]!.matchAll(/U\+([0-9A-F]+)(?:-([0-9A-F]+))?/gi)].map(
      (m) => [parseInt(m[1]!, 16), parseInt(m[2] ?? m[1]!, 16)] as [number, number],
    ),
  )
}

/** Bengali-script characters of the dictionary (and the danda it borrows). */
const used = [...new Set([...Object.values(bn).join('')].map((c) => c.codePointAt(0)!))].filter(
  (c) => (c >= 0x0980 && c <= 0x09ff) || c === 0x0964 || c === 0x0965,
)

describe('the Bengali web font', () => {
  it('has a glyph for every Bengali character of the interface, in both weights', () => {
    expect(used.length).toBeGreaterThan(40)
    for (const weight of ['regular', 'bold']) {
      const points = woff2CodePoints(readFileSync(resolve(web, `public/fonts/noto-sans-bengali-${weight}.woff2`)))
      const missing = used.filter((c) => !points.has(c)).map((c) => String.fromCodePoint(c))
      expect(missing, weight).toEqual([])
    }
  })

  it('is asked for, by the CSS, for each of those characters, and kept as a file (font-display: swap)', () => {
    const css = readFileSync(resolve(web, 'src/index.css'), 'utf8')
    const ranges = declaredRanges(css)
    const outside = used.filter((c) => !ranges.some(([from, to]) => c >= from && c <= to)).map((c) => String.fromCodePoint(c))
    expect(outside).toEqual([])
    expect(css.match(/font-display: swap/g)).toHaveLength(2)
    expect(css).toMatch(/--font-bn:[^;]*"Pujo Bengali"/)
    expect(readFileSync(resolve(web, 'public/fonts/OFL.txt'), 'utf8')).toContain('SIL OPEN FONT LICENSE')
  })
})
