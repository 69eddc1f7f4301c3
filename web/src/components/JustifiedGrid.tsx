import { useMemo, useRef, type MouseEvent } from 'react'
import { Link } from 'react-router'
import type { Photo } from '../api/types'
import { useElementWidth } from '../hooks/useElementWidth'
import { withKey } from '../hooks/useLinkKey'
import { useI18n } from '../i18n'
import { justify, targetRowHeight } from '../lib/justify'
import { PhotoImage } from './PhotoImage'

const GAP = 4

/** How many photos at the top load eagerly (they are the largest contentful paint). */
const EAGER = 6

export function photoAlt(t: ReturnType<typeof useI18n>['t'], photo: Pick<Photo, 'caption' | 'owner'>): string {
  return photo.caption.trim() !== '' ? photo.caption : t('photo.alt_by', { name: photo.owner.display_name || photo.owner.username })
}

/** A photo's own page (with its album's key when unlisted). */
export function photoPage(photo: Photo): string {
  return withKey(`/photos/${photo.id}`, photo.link_key)
}

/**
 * Photos in rows that fill the width, each keeping its aspect ratio. Each
 * photo is a link to its page; a plain click opens the lightbox instead when
 * `onOpen` is given (new-tab clicks still follow the link).
 */
export function JustifiedGrid({
  photos,
  label,
  onOpen,
  linkTo = photoPage,
}: {
  photos: Photo[]
  label: string
  onOpen?: (index: number) => void
  /** Where a photo links to: its page, unless it is seen through a share link. */
  linkTo?: (photo: Photo) => string
}) {
  const { t } = useI18n()
  const ref = useRef<HTMLUListElement>(null)
  const width = useElementWidth(ref, 360)
  const rows = useMemo(
    () => justify(photos, width, { targetHeight: targetRowHeight(width), gap: GAP }),
    [photos, width],
  )

  const click = (index: number) => (event: MouseEvent<HTMLAnchorElement>) => {
    if (!onOpen || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
    event.preventDefault()
    onOpen(index)
  }

  return (
    <ul className="jgrid" ref={ref} aria-label={label}>
      {rows.flatMap((row) =>
        row.items.map((placed) => {
          const photo = photos[placed.index]!
          return (
            <li key={photo.id} className="jgrid__item" style={{ width: placed.width, height: placed.height }}>
              <Link to={linkTo(photo)} onClick={click(placed.index)} data-photo-id={photo.id}>
                <PhotoImage
                  photo={photo}
                  alt={photoAlt(t, photo)}
                  sizes={`${placed.width}px`}
                  width={placed.width}
                  height={placed.height}
                  eager={placed.index < EAGER}
                  className="jgrid__img"
                />
              </Link>
            </li>
          )
        }),
      )}
    </ul>
  )
}
