import { useEffect, useRef, type TouchEvent } from 'react'
import { Link } from 'react-router'
import type { Photo } from '../api/types'
import { withKey } from '../hooks/useLinkKey'
import { useI18n } from '../i18n'
import { keyAction, nextIndex, swipeAction, type LightboxAction } from '../lib/lightbox'
import { srcSet } from '../lib/photo'
import { photoAlt } from './JustifiedGrid'
import { PhotoImage } from './PhotoImage'

/**
 * A full-screen modal over a list of photos: arrows (keys, buttons, swipes)
 * move through it, Esc or the close button leaves, focus stays inside while
 * it is open and returns to where it was afterwards.
 */
export function Lightbox({
  photos,
  index,
  onIndexChange,
  onClose,
  hasMore = false,
  onNeedMore,
  shared = false,
}: {
  photos: Photo[]
  index: number
  onIndexChange: (index: number) => void
  onClose: () => void
  /** More photos exist after the last one loaded. */
  hasMore?: boolean
  onNeedMore?: () => void
  /** Seen through a share link: no photo pages, a download when the link allows it. */
  shared?: boolean
}) {
  const i18n = useI18n()
  const { t } = i18n
  const dialog = useRef<HTMLDivElement>(null)
  const closeButton = useRef<HTMLButtonElement>(null)
  const touchStart = useRef<{ x: number; y: number } | null>(null)
  const photo = photos[index]
  const count = photos.length

  // Focus in on open, back out on close; the page behind does not scroll.
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null
    closeButton.current?.focus()
    document.body.classList.add('has-modal')
    return () => {
      document.body.classList.remove('has-modal')
      before?.focus?.()
    }
  }, [])

  // The list changed under us (a photo was deleted): nothing left to show.
  useEffect(() => {
    if (!photo) onClose()
  }, [photo, onClose])

  // Near the end of what is loaded: ask for the next page.
  useEffect(() => {
    if (hasMore && onNeedMore && index >= count - 3) onNeedMore()
  }, [index, count, hasMore, onNeedMore])

  // Warm the cache for the neighbours so arrowing feels instant.
  useEffect(() => {
    for (const near of [photos[index + 1], photos[index - 1]]) {
      if (!near) continue
      const img = new Image()
      img.sizes = '100vw'
      img.srcset = srcSet(near)
    }
  }, [photos, index])

  const act = (action: LightboxAction) => {
    const next = nextIndex(action, index, count)
    if (next === null) onClose()
    else if (next !== index) onIndexChange(next)
  }

  const onKeyDown = (event: KeyboardEvent) => {
    if (event.defaultPrevented) return
    if (event.key === 'Tab') {
      // Keep focus inside the dialog.
      const focusable = dialog.current?.querySelectorAll<HTMLElement>('button:not([disabled]), a[href]')
      if (!focusable || focusable.length === 0) return
      const first = focusable[0]!
      const last = focusable[focusable.length - 1]!
      const inside = dialog.current?.contains(document.activeElement) ?? false
      if (event.shiftKey && (!inside || document.activeElement === first)) {
        event.preventDefault()
        last.focus()
      } else if (!event.shiftKey && (!inside || document.activeElement === last)) {
        event.preventDefault()
        first.focus()
      }
      return
    }
    const action = keyAction(event.key)
    if (!action) return
    event.preventDefault()
    act(action)
  }
  // Listened for on the document, so the keys work wherever focus is
  // (after a click on the photo, or when a button became disabled).
  const keyHandler = useRef(onKeyDown)
  useEffect(() => {
    keyHandler.current = onKeyDown
  })
  useEffect(() => {
    const listener = (event: KeyboardEvent) => keyHandler.current(event)
    document.addEventListener('keydown', listener)
    return () => document.removeEventListener('keydown', listener)
  }, [])

  const onTouchStart = (event: TouchEvent) => {
    const touch = event.touches[0]
    touchStart.current = touch ? { x: touch.clientX, y: touch.clientY } : null
  }
  const onTouchEnd = (event: TouchEvent) => {
    const start = touchStart.current
    const touch = event.changedTouches[0]
    touchStart.current = null
    if (!start || !touch) return
    const action = swipeAction(touch.clientX - start.x, touch.clientY - start.y)
    if (action) act(action)
  }

  if (!photo) return null
  const position = t('lightbox.position', { n: index + 1, total: count })
  return (
    <div
      className="lightbox"
      role="dialog"
      aria-modal="true"
      aria-label={t('lightbox.label')}
      ref={dialog}
      onTouchStart={onTouchStart}
      onTouchEnd={onTouchEnd}
    >
      <div className="lightbox__bar">
        <p className="lightbox__position" aria-live="polite">
          {position}
        </p>
        {!shared ? (
          <Link className="lightbox__details" to={withKey(`/photos/${photo.id}`, photo.link_key)} onClick={onClose}>
            {t('lightbox.details')}
          </Link>
        ) : (
          photo.urls.original && (
            <a className="lightbox__details" href={photo.urls.original} download>
              {t('share.download')}
            </a>
          )
        )}
        <button type="button" className="lightbox__close" ref={closeButton} onClick={onClose} aria-label={t('lightbox.close')}>
          <span aria-hidden="true">×</span>
        </button>
      </div>
      <figure className="lightbox__figure">
        <PhotoImage key={photo.id} photo={photo} alt={photoAlt(t, photo)} sizes="100vw" eager className="lightbox__img" />
        {photo.caption && <figcaption>{photo.caption}</figcaption>}
      </figure>
      <button
        type="button"
        className="lightbox__nav lightbox__nav--prev"
        onClick={() => act('prev')}
        disabled={index === 0}
        aria-label={t('lightbox.prev')}
      >
        <span aria-hidden="true">‹</span>
      </button>
      <button
        type="button"
        className="lightbox__nav lightbox__nav--next"
        onClick={() => act('next')}
        disabled={index >= count - 1}
        aria-label={t('lightbox.next')}
      >
        <span aria-hidden="true">›</span>
      </button>
    </div>
  )
}
