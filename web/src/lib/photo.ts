/**
 * Helpers for showing photos: ThumbHash placeholders, `srcset` over the
 * derivatives, and the EXIF summary's wording.
 */
import { thumbHashToDataURL } from 'thumbhash'
import type { ImageLike } from '../api/types'

const placeholders = new Map<string, string | null>()

/** A PNG data URL of the blurred placeholder, or null for none or a bad hash. */
export function placeholderUrl(thumbhash: string | null): string | null {
  if (!thumbhash) return null
  const cached = placeholders.get(thumbhash)
  if (cached !== undefined) return cached
  let url: string | null
  try {
    const bytes = Uint8Array.from(atob(thumbhash), (c) => c.charCodeAt(0))
    url = thumbHashToDataURL(bytes)
  } catch {
    url = null
  }
  if (placeholders.size > 500) placeholders.clear()
  placeholders.set(thumbhash, url)
  return url
}

/** Width in pixels of a derivative whose long edge is at most `longEdge` (never upscaled). */
export function derivativeWidth(photo: Pick<ImageLike, 'width' | 'height'>, longEdge: number): number {
  const { width, height } = photo
  if (!(width > 0) || !(height > 0)) return longEdge
  const scale = Math.min(1, longEdge / Math.max(width, height))
  return Math.max(1, Math.round(width * scale))
}

export const THUMB_EDGE = 400
export const MEDIUM_EDGE = 800
export const DISPLAY_EDGE = 1600

/** `srcset` over the thumb (400 px), medium (800 px) and display (1600 px) derivatives. */
export function srcSet(photo: ImageLike): string {
  const sizes: [string, number][] = [
    [photo.urls.thumb, THUMB_EDGE],
    [photo.urls.medium, MEDIUM_EDGE],
    [photo.urls.display, DISPLAY_EDGE],
  ]
  // A small original makes equal widths; each width is listed once.
  const seen = new Set<number>()
  return sizes
    .filter(([url]) => Boolean(url))
    .map(([url, edge]) => [url, derivativeWidth(photo, edge)] as const)
    .filter(([, width]) => (seen.has(width) ? false : (seen.add(width), true)))
    .map(([url, width]) => `${url} ${width}w`)
    .join(', ')
}

/** Numbers from EXIF in the usual photographers' notation; strings are shown as sent. */
export function formatExposure(value: string | number): string {
  if (typeof value === 'string') return value
  if (value > 0 && value < 1) return `1/${Math.round(1 / value)} s`
  return `${value} s`
}

export function formatAperture(value: string | number): string {
  if (typeof value === 'string') return value.startsWith('f') || value.startsWith('ƒ') ? value : `ƒ/${value}`
  return `ƒ/${value}`
}

export function formatFocalLength(value: string | number): string {
  return typeof value === 'number' ? `${value} mm` : value
}

export function formatIso(value: string | number): string {
  const text = String(value)
  return /^iso/i.test(text) ? text : `ISO ${text}`
}

/** OpenStreetMap link for a location (opened in a new tab, never embedded). */
export function mapUrl(lat: number, lon: number, precision: 'coarse' | 'exact'): string {
  const zoom = precision === 'exact' ? 17 : 12
  return `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=${zoom}/${lat}/${lon}`
}
