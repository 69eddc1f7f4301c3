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

export function PandalCard({ pandal }: { pandal: Pandal }) {
  const { tn, year } = useI18n()
  return (
    <li className="card pandal-card">
      <h3>
        <Link to={`/pandals/${pandal.id}`}>{pandal.name}</Link>
      </h3>
      <p className="card__meta">
        {pandalPlace(pandal)} · {year(pandal.year)} · {tn('pandal.album_count', pandal.album_count)}
      </p>
    </li>
  )
}

export function PandalList({ pandals, label }: { pandals: Pandal[]; label: string }) {
  return (
    <ul className="card-grid card-grid--compact" aria-label={label}>
      {pandals.map((p) => (
        <PandalCard key={p.id} pandal={p} />
      ))}
    </ul>
  )
}
