import { Link } from 'react-router'
import type { Album, Pandal } from '../api/types'
import { useI18n } from '../i18n'
import { PhotoImage } from './PhotoImage'

export function VisibilityBadge({ visibility }: { visibility: Album['visibility'] }) {
  const { t } = useI18n()
  if (visibility === 'public') return null
  return <span className={`badge badge--${visibility}`}>{t(`visibility.${visibility}`)}</span>
}

export function AlbumCard({ album }: { album: Album }) {
  const { t, tn } = useI18n()
  return (
    <li className="card album-card">
      <Link to={`/albums/${album.id}`} className="album-card__link">
        <span className="album-card__cover">
          {album.cover ? (
            <PhotoImage photo={album.cover} alt="" sizes="(min-width: 40rem) 22rem, 100vw" className="album-card__img" />
          ) : (
            <span className="album-card__empty" aria-hidden="true">
              ❁
            </span>
          )}
        </span>
        <span className="album-card__title">{album.title}</span>
      </Link>
      <p className="card__meta">
        {tn('album.photo_count', album.photo_count)} · {t('album.by', { name: album.owner.display_name || album.owner.username })}
        {album.pandal && <> · {album.pandal.name}</>} <VisibilityBadge visibility={album.visibility} />
      </p>
    </li>
  )
}

export function AlbumList({ albums, label }: { albums: Album[]; label: string }) {
  return (
    <ul className="card-grid" aria-label={label}>
      {albums.map((album) => (
        <AlbumCard key={album.id} album={album} />
      ))}
    </ul>
  )
}

export function pandalPlace(p: Pick<Pandal, 'para' | 'city'>): string {
  return p.para ? `${p.para}, ${p.city}` : p.city
}

/** `heading` is the card title's level: h2 when the list is the page's main content, h3 under a section's h2. */
export function PandalCard({ pandal, heading: Heading = 'h3' }: { pandal: Pandal; heading?: 'h2' | 'h3' }) {
  const { tn, year } = useI18n()
  return (
    <li className="card pandal-card">
      <Heading className="card__title">
        <Link to={`/pandals/${pandal.id}`}>{pandal.name}</Link>
      </Heading>
      <p className="card__meta">
        {pandalPlace(pandal)} · {year(pandal.year)} · {tn('pandal.album_count', pandal.album_count)}
      </p>
    </li>
  )
}

export function PandalList({ pandals, label, heading }: { pandals: Pandal[]; label: string; heading?: 'h2' | 'h3' }) {
  return (
    <ul className="card-grid card-grid--compact" aria-label={label}>
      {pandals.map((p) => (
        <PandalCard key={p.id} pandal={p} heading={heading} />
      ))}
    </ul>
  )
}
