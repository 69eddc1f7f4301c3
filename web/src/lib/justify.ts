/**
 * Justified-grid layout: photos keep their aspect ratio, every row but the
 * last fills the container width exactly, and row heights stay close to a
 * target. Pure arithmetic, so it is tested without a browser.
 */

export interface Size {
  width: number
  height: number
}

export interface Placed {
  /** Index into the input list. */
  index: number
  /** Whole CSS pixels; a full row's widths plus gaps add up to the container width. */
  width: number
  height: number
}

export interface Row {
  items: Placed[]
  height: number
}

export interface JustifyOptions {
  targetHeight: number
  /** Space between photos, horizontally (CSS pixels). */
  gap: number
}

function aspectOf(size: Size): number {
  if (!(size.width > 0) || !(size.height > 0)) return 1
  return size.width / size.height
}

/**
 * Widths for `aspects` scaled to `height`, rounded to whole pixels so that
 * they add up to exactly `total` (largest remainders get the spare pixels).
 */
function distribute(aspects: number[], height: number, total: number): number[] {
  const exact = aspects.map((a) => a * height)
  const widths = exact.map((w) => Math.max(1, Math.floor(w)))
  let spare = total - widths.reduce((sum, w) => sum + w, 0)
  const byRemainder = exact.map((w, i) => ({ i, r: w - Math.floor(w) })).sort((a, b) => b.r - a.r)
  for (let k = 0; spare > 0 && byRemainder.length > 0; k = (k + 1) % byRemainder.length) {
    widths[byRemainder[k]!.i]! += 1
    spare--
  }
  return widths
}

export function justify(sizes: readonly Size[], containerWidth: number, options: JustifyOptions): Row[] {
  const { targetHeight, gap } = options
  const width = Math.max(1, Math.floor(containerWidth))
  const rows: Row[] = []
  let start = 0
  let aspects: number[] = []

  const rowHeight = (list: number[]) => (width - gap * (list.length - 1)) / list.reduce((s, a) => s + a, 0)

  const closeRow = (list: number[], first: number) => {
    const height = rowHeight(list)
    const widths = distribute(list, height, width - gap * (list.length - 1))
    rows.push({
      height: Math.round(height),
      items: widths.map((w, k) => ({ index: first + k, width: w, height: Math.round(height) })),
    })
  }

  for (let i = 0; i < sizes.length; i++) {
    const aspect = aspectOf(sizes[i]!)
    const withItem = [...aspects, aspect]
    const height = rowHeight(withItem)
    if (height > targetHeight) {
      aspects = withItem
      continue
    }
    // Adding this photo brings the row to or under the target: close the row
    // with or without it, whichever height is nearer the target.
    if (aspects.length > 0 && Math.abs(rowHeight(aspects) - targetHeight) < Math.abs(height - targetHeight)) {
      closeRow(aspects, start)
      start = i
      aspects = [aspect]
      if (rowHeight(aspects) <= targetHeight) {
        closeRow(aspects, start)
        start = i + 1
        aspects = []
      }
    } else {
      closeRow(withItem, start)
      start = i + 1
      aspects = []
    }
  }

  if (aspects.length > 0) {
    // The last row is not stretched: it keeps the target height.
    const height = Math.min(targetHeight, rowHeight(aspects))
    rows.push({
      height: Math.round(height),
      items: aspects.map((a, k) => ({ index: start + k, width: Math.max(1, Math.round(a * height)), height: Math.round(height) })),
    })
  }
  return rows
}

/** Target row height for a container: shorter rows on phones. */
export function targetRowHeight(containerWidth: number): number {
  if (containerWidth < 480) return 140
  if (containerWidth < 900) return 190
  return 240
}
