import { useEffect, useMemo, useState } from 'react'
import { useParams, useSearchParams } from 'react-router'
import type { Photo } from '../api/types'
import { PhotoImage } from '../components/PhotoImage'
import { useI18n } from '../i18n'

/** Photos the wall keeps and cycles through. */
const KEPT = 30
/** How long each photo stays, and how long a new one stays before the cycle goes on. */
const EACH_MS = 8_000
const NEW_MS = 15_000

/** Where a wall's events come from, by its address in the site. */
function streamUrl(kind: string | undefined, id: string | undefined, key: string | null): string | null {
  if (!id) return null
  if (kind === 'album' && /^\d+$/.test(id)) return `/api/v1/albums/${id}/wall${key ? `?key=${encodeURIComponent(key)}` : ''}`
  if (kind === 'pandal' && /^\d+$/.test(id)) return `/api/v1/pandals/${id}/wall`
  if (kind === 's') return `/api/v1/shared/${encodeURIComponent(id)}/wall`
  return null
}

/**
 * A live wall for a projector or a TV at the pandal (`/wall/album/{id}`,
 * `/wall/pandal/{id}`, `/wall/s/{share token}`): the newest approved photos one
 * after another, full screen, each new one shown at once as it arrives (Server-
 * Sent Events; the browser reconnects by itself and the server sends only what
 * it missed). Captions in Bengali and English, large type, nothing to click.
 */
export default function WallPage() {
  const { kind, id } = useParams()
  const [search] = useSearchParams()
  const url = streamUrl(kind, id, search.get('key'))
  const { t } = useI18n()
  const [photos, setPhotos] = useState<Photo[]>([])
  const [index, setIndex] = useState(0)
  const [fresh, setFresh] = useState<number | null>(null)
  const [live, setLive] = useState(false)

  useEffect(() => {
    if (!url) return
    const source = new EventSource(url)
    source.onopen = () => setLive(true)
    source.onerror = () => setLive(false)
    source.addEventListener('photo', (event) => {
      const photo = JSON.parse((event as MessageEvent<string>).data) as Photo
      setPhotos((now) => [photo, ...now.filter((p) => p.id !== photo.id)].slice(0, KEPT))
      setIndex(0)
      setFresh(photo.id)
    })
    // A photo removed (by its owner or a moderator) leaves the screen at once.
    source.addEventListener('remove', (event) => {
      const { id } = JSON.parse((event as MessageEvent<string>).data) as { id: number }
      setPhotos((now) => now.filter((p) => p.id !== id))
      setIndex(0)
    })
    return () => source.close()
  }, [url])

  // The cycle: a new photo stays longer, then the wall goes round the newest.
  useEffect(() => {
    if (photos.length === 0) return
    const timer = window.setTimeout(
      () => {
        setFresh(null)
        setIndex((i) => (i + 1) % photos.length)
      },
      fresh !== null ? NEW_MS : EACH_MS,
    )
    return () => window.clearTimeout(timer)
  }, [photos, index, fresh])

  const photo = useMemo(() => photos[index % Math.max(photos.length, 1)], [photos, index])
  if (!url) return <p className="wall wall--empty">{t('wall.unknown')}</p>
  return (
    <div className="wall" aria-live="polite">
      {photo ? (
        <figure className="wall__figure" key={photo.id}>
          <PhotoImage photo={photo} alt={photo.caption || t('wall.photo')} sizes="100vw" eager className="wall__img" />
          <figcaption className="wall__caption">
            {fresh === photo.id && (
              <span className="wall__new">
                <span lang="bn">নতুন ছবি</span> · <span lang="en">New photo</span>
              </span>
            )}
            {photo.caption && <span className="wall__text">{photo.caption}</span>}
            <span className="wall__by">{photo.guest_name || photo.owner.display_name || photo.owner.username}</span>
          </figcaption>
        </figure>
      ) : (
        <p className="wall__waiting">
          <span lang="bn">ছবির অপেক্ষায়…</span>
          <br />
          <span lang="en">Waiting for photos…</span>
        </p>
      )}
      <span className={`wall__live${live ? ' wall__live--on' : ''}`} aria-label={live ? t('wall.live') : t('wall.reconnecting')} />
    </div>
  )
}
