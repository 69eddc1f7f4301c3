/** What a key or a swipe does in the lightbox; pure so it is tested alone. */
export type LightboxAction = 'prev' | 'next' | 'first' | 'last' | 'close'

export function keyAction(key: string): LightboxAction | null {
  switch (key) {
    case 'ArrowLeft':
      return 'prev'
    case 'ArrowRight':
      return 'next'
    case 'Home':
      return 'first'
    case 'End':
      return 'last'
    case 'Escape':
    case 'Esc':
      return 'close'
    default:
      return null
  }
}

/** A mostly-horizontal swipe of at least 50 px: left shows the next photo, right the previous. */
export const SWIPE_MIN = 50

export function swipeAction(dx: number, dy: number): LightboxAction | null {
  if (Math.abs(dx) < SWIPE_MIN || Math.abs(dx) < Math.abs(dy) * 1.5) return null
  return dx < 0 ? 'next' : 'prev'
}

/** The index after an action, or null to close; stays put at the ends. */
export function nextIndex(action: LightboxAction, index: number, count: number): number | null {
  switch (action) {
    case 'prev':
      return Math.max(0, index - 1)
    case 'next':
      return Math.min(count - 1, index + 1)
    case 'first':
      return 0
    case 'last':
      return Math.max(0, count - 1)
    case 'close':
      return null
  }
}
