import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { Link, useNavigate } from 'react-router'
import { deletePhoto, getAlbum, getPhoto, listAlbumPhotos, setLiked } from '../api/endpoints'
import type { Photo } from '../api/types'
import { Comments } from '../components/Comments'
import { ReportButton } from '../components/ReportButton'
import { ConfirmAction } from '../components/ConfirmAction'
import { FormError } from '../components/FormError'
import { photoAlt } from '../components/JustifiedGrid'
import { Lightbox } from '../components/Lightbox'
import { PageTitle } from '../components/PageTitle'
import { PhotoEditor } from '../components/PhotoEditor'
import { PhotoImage } from '../components/PhotoImage'
import { ErrorNotice, Loading, ResourceError } from '../components/Status'
import { useCursorList } from '../hooks/useCursorList'
import { useIdParam } from '../hooks/useIdParam'
import { useLinkKey, withKey } from '../hooks/useLinkKey'
import { useMe } from '../hooks/useSession'
import { useI18n } from '../i18n'
import { formatAperture, formatExposure, formatFocalLength, formatIso, mapUrl } from '../lib/photo'
import { PHOTO_PAGE_SIZES } from '../prefetch'
import { keys } from '../queryClient'
import { NotFoundContent } from './NotFoundPage'

export default function PhotoPage() {
  const id = useIdParam()
  if (id === null) return <NotFoundContent />
  return <PhotoView id={id} />
}

function Exif({ photo }: { photo: Photo }) {
  const { t, dateTime, number } = useI18n()
  const { exif, location } = photo
  const rows: [string, string][] = []
  if (photo.taken_at) rows.push([t('exif.taken'), dateTime(photo.taken_at)])
  if (exif.camera) rows.push([t('exif.camera'), exif.camera])
  if (exif.lens) rows.push([t('exif.lens'), exif.lens])
  const settings = [
    exif.exposure != null ? formatExposure(exif.exposure) : '',
    exif.aperture != null ? formatAperture(exif.aperture) : '',
    exif.iso != null ? formatIso(exif.iso) : '',
    exif.focal_length != null ? formatFocalLength(exif.focal_length) : '',
  ].filter(Boolean)
  if (settings.length > 0) rows.push([t('exif.settings'), settings.join(' · ')])
  rows.push([t('exif.size'), `${number(photo.width)} × ${number(photo.height)}`])

  return (
    <section className="exif" aria-labelledby="exif-title">
      <h2 id="exif-title">{t('exif.title')}</h2>
      <dl>
        {rows.map(([term, value]) => (
          <div key={term}>
            <dt>{term}</dt>
            <dd>{value}</dd>
          </div>
        ))}
        {location && (
          <div>
            <dt>{location.precision === 'exact' ? t('exif.location_exact') : t('exif.location_coarse')}</dt>
            <dd>
              <a href={mapUrl(location.lat, location.lon, location.precision)} target="_blank" rel="noopener noreferrer">
                {location.lat.toFixed(location.precision === 'exact' ? 5 : 2)}, {location.lon.toFixed(location.precision === 'exact' ? 5 : 2)}
              </a>
            </dd>
          </div>
        )}
      </dl>
    </section>
  )
}

function LikeButton({ photo }: { photo: Photo }) {
  const { t, tn } = useI18n()
  const me = useMe()
  const client = useQueryClient()
  const like = useMutation({
    mutationFn: (liked: boolean) => setLiked(photo.id, liked, photo.link_key),
    onSuccess: (state) => client.setQueryData<Photo>(keys.photo(photo.id), (p) => (p ? { ...p, ...state } : p)),
  })
  if (!me) {
    return (
      <p className="likes">
        <span aria-hidden="true">♥</span> {tn('photo.likes', photo.like_count)}
      </p>
    )
  }
  return (
    <div className="likes">
      <button
        type="button"
        className={`button like${photo.liked_by_me ? ' like--on' : ''}`}
        aria-pressed={photo.liked_by_me}
        disabled={like.isPending}
        onClick={() => like.mutate(!photo.liked_by_me)}
      >
        <span aria-hidden="true">{photo.liked_by_me ? '♥' : '♡'}</span> {t('photo.like')}
      </button>
      <span className="likes__count" aria-live="polite">
        {tn('photo.likes', photo.like_count)}
      </span>
      {like.error != null && <ErrorNotice error={like.error} />}
    </div>
  )
}

function PhotoView({ id }: { id: number }) {
  const i18n = useI18n()
  const { t, date, year } = i18n
  const me = useMe()
  const navigate = useNavigate()
  const client = useQueryClient()
  const [editing, setEditing] = useState(false)
  const [viewing, setViewing] = useState(false)
  // An unlisted album's photo opens with the album's link key (`?key=`).
  const linkKey = useLinkKey()
  const photo = useQuery({ queryKey: keys.photo(id), queryFn: ({ signal }) => getPhoto(id, signal, linkKey) })
  const albumId = photo.data?.album_id
  const key = photo.data?.link_key ?? linkKey
  // For the album's title and pandal (usually cached from the album page).
  const album = useQuery({
    queryKey: keys.album(albumId ?? 0),
    queryFn: ({ signal }) => getAlbum(albumId!, signal, key),
    enabled: albumId !== undefined,
  })
  // The album's photos give the previous / next photo and the lightbox's list.
  const siblings = useCursorList(
    keys.albumPhotos(albumId ?? 0),
    (cursor, signal) => listAlbumPhotos(albumId!, { cursor }, signal, key),
    { enabled: albumId !== undefined },
  )
  const remove = useMutation({
    mutationFn: () => deletePhoto(id),
    onSuccess: () => {
      client.removeQueries({ queryKey: keys.photo(id) })
      void client.invalidateQueries({ queryKey: ['albums'] })
      void client.invalidateQueries({ queryKey: ['photos'] })
      navigate(albumId ? withKey(`/albums/${albumId}`, key) : '/')
    },
  })

  if (photo.isPending) return <Loading />
  if (photo.error) return <ResourceError error={photo.error} onRetry={() => void photo.refetch()} />
  const p = photo.data
  const alt = photoAlt(t, p)
  const ownerName = p.owner.display_name || p.owner.username
  const index = siblings.items.findIndex((s) => s.id === p.id)
  const list = index >= 0 ? siblings.items : [p]
  const at = Math.max(0, index)
  const prev = index > 0 ? siblings.items[index - 1] : undefined
  const next = index >= 0 ? siblings.items[index + 1] : undefined
  const canDelete = p.can_edit || me?.role === 'admin'

  return (
    <article className="photo-page">
      <figure className="photo-page__figure">
        <button type="button" className="photo-page__open" onClick={() => setViewing(true)} aria-label={t('photo.view_large')}>
          <PhotoImage key={p.id} photo={p} alt={alt} sizes={PHOTO_PAGE_SIZES} eager />
        </button>
      </figure>
      <nav className="photo-page__pager" aria-label={t('photo.pager')}>
        {prev ? (
          <Link to={withKey(`/photos/${prev.id}`, prev.link_key)} replace>
            ← {t('lightbox.prev')}
          </Link>
        ) : (
          <span />
        )}
        {next ? (
          <Link to={withKey(`/photos/${next.id}`, next.link_key)} replace>
            {t('lightbox.next')} →
          </Link>
        ) : (
          siblings.hasMore && (
            <button type="button" className="link-button" onClick={siblings.loadMore}>
              {t('common.load_more')}
            </button>
          )
        )}
      </nav>

      {/* The text waits for the album (its title and pandal) and the session (the
          like button): arriving one by one, they pushed the lines below them down. */}
      {album.isPending || me === undefined ? (
        <Loading />
      ) : (
        <div className="photo-page__body">
          <div className="photo-page__main">
            <PageTitle title={p.caption.trim() !== '' ? p.caption : alt} />
            <p className="byline">
              <Link to={`/u/${p.owner.username}`}>{ownerName}</Link> ·{' '}
              <Link to={withKey(`/albums/${p.album_id}`, p.link_key)}>{album.data?.title ?? t('photo.in_album')}</Link> ·{' '}
              <time dateTime={p.created_at}>{t('photo.uploaded', { date: date(p.created_at) })}</time>
            </p>
            {album.data?.pandal && (
              <p>
                <Link to={`/pandals/${album.data.pandal.id}`}>
                  {album.data.pandal.name} · {album.data.pandal.city} · {year(album.data.pandal.year)}
                </Link>
              </p>
            )}
            <LikeButton photo={p} />
            <div className="actions">
              {p.urls.original && (
                <a className="button button--quiet" href={p.urls.original} download>
                  {t('photo.download')}
                </a>
              )}
              {p.can_edit && (
                <button type="button" className="button button--quiet" aria-expanded={editing} onClick={() => setEditing(!editing)}>
                  {t('photo.edit')}
                </button>
              )}
              {canDelete && (
                <ConfirmAction
                  label={t('photo.delete')}
                  question={t('photo.delete_question')}
                  busy={remove.isPending}
                  onConfirm={() => remove.mutate()}
                />
              )}
            </div>
            <FormError error={remove.error} />
            {!p.can_edit && <ReportButton kind="photo" id={p.id} linkKey={p.link_key} />}
            {editing && <PhotoEditor photo={p} onDone={() => setEditing(false)} />}
            <Comments photo={p} />
          </div>
          <Exif photo={p} />
        </div>
      )}

      {viewing && (
        <Lightbox
          photos={list}
          index={at}
          onIndexChange={(i) => {
            const target = list[i]
            if (target) {
              client.setQueryData(keys.photo(target.id), target)
              navigate(withKey(`/photos/${target.id}`, target.link_key), { replace: true })
            }
          }}
          onClose={() => setViewing(false)}
          hasMore={siblings.hasMore}
          onNeedMore={siblings.loadMore}
        />
      )}
    </article>
  )
}
