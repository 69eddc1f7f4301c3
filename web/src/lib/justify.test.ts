import { describe, expect, it } from 'vitest'
import { justify, targetRowHeight, type Size } from './justify'

const landscape: Size = { width: 1600, height: 1200 } // 4:3
const portrait: Size = { width: 1200, height: 1600 } // 3:4
const gap = 4

function rowWidth(row: { items: { width: number }[] }): number {
  return row.items.reduce((sum, item) => sum + item.width, 0) + gap * (row.items.length - 1)
}

describe('justify', () => {
  it('fills every row but the last to the exact container width', () => {
    const sizes = [landscape, portrait, landscape, landscape, portrait, portrait, landscape, { width: 3000, height: 1000 }, landscape]
    const rows = justify(sizes, 1000, { targetHeight: 200, gap })
    expect(rows.length).toBeGreaterThan(1)
    for (const row of rows.slice(0, -1)) expect(rowWidth(row)).toBe(1000)
    expect(rowWidth(rows.at(-1)!)).toBeLessThanOrEqual(1000)
  })

  it('keeps every photo once, in order', () => {
    const sizes = Array.from({ length: 37 }, (_, i) => (i % 3 === 0 ? portrait : landscape))
    const rows = justify(sizes, 777, { targetHeight: 180, gap })
    expect(rows.flatMap((r) => r.items.map((i) => i.index))).toEqual(sizes.map((_, i) => i))
  })

  it('keeps aspect ratios within a pixel of rounding', () => {
    const sizes = [landscape, portrait, { width: 2000, height: 1000 }, landscape, portrait]
    const rows = justify(sizes, 1200, { targetHeight: 220, gap })
    for (const row of rows) {
      for (const item of row.items) {
        const s = sizes[item.index]!
        expect(Math.abs(item.width - (s.width / s.height) * row.height)).toBeLessThanOrEqual(2)
        expect(item.height).toBe(row.height)
      }
    }
  })

  it('closes rows near the target height', () => {
    const sizes = Array.from({ length: 30 }, () => landscape)
    const rows = justify(sizes, 1000, { targetHeight: 200, gap })
    for (const row of rows.slice(0, -1)) {
      expect(row.height).toBeGreaterThan(150)
      expect(row.height).toBeLessThan(270)
    }
  })

  it('does not stretch a short last row', () => {
    const rows = justify([landscape], 1000, { targetHeight: 200, gap })
    expect(rows).toEqual([{ height: 200, items: [{ index: 0, width: 267, height: 200 }] }])
  })

  it('fits a panorama wider than the container into a full-width row', () => {
    const rows = justify([{ width: 8000, height: 1000 }, landscape, landscape, landscape], 800, { targetHeight: 200, gap })
    expect(rows[0]!.items).toEqual([{ index: 0, width: 800, height: 100 }])
    expect(rowWidth(rows[1]!)).toBe(800)
  })

  it('treats a missing size as square and survives an empty list or zero width', () => {
    expect(justify([], 1000, { targetHeight: 200, gap })).toEqual([])
    const rows = justify([{ width: 0, height: 0 }], 0, { targetHeight: 200, gap })
    expect(rows[0]!.items[0]!.index).toBe(0)
  })

  it('uses shorter rows on narrow screens', () => {
    expect(targetRowHeight(360)).toBeLessThan(targetRowHeight(1200))
  })
})
