import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { Link, useNavigate } from 'react-router'
import { deleteAlbum, getAlbum, listAlbumPhotos, rotateAlbumLink } from '../api/endpoints'
import type { Album as AlbumData } from '../api/types'
import { AlbumForm } from '../components/AlbumForm'
import { VisibilityBadge } from '../components/Cards'
import { ConfirmAction } from '../components/ConfirmAction'
import { FormError } from '../components/FormError'
import { PageTitle } from '../components/PageTitle'
import { PhotoBrowser } from '../components/PhotoBrowser'
import { ShareLinks } from '../components/ShareLinks'
import { UploadLinks } from '../components/UploadLinks'
import { Loading, ResourceError } from '../components/Status'
import { useCursorList } from '../hooks/useCursorList'
import { useIdParam } from '../hooks/useIdParam'
import { useLinkKey } from '../hooks/useLinkKey'
import { useI18n } from '../i18n'
import { keys } from '../queryClient'
import { NotFoundContent } from './NotFoundPage'

export default function AlbumPage() {
  const id = useIdParam()
  if (id === null) return <NotFoundContent />
  return <Album id={id} />
}

function Album({ id }: { id: number }) {
  const { t, tn, date, year } = useI18n()
  const navigate = useNavigate()
  const client = useQueryClient()
  const [editing, setEditing] = useState(false)
  const [sharing, setSharing] = useState(false)
  const [guests, setGuests] = useState(false)
  // An unlisted album opens with its link key (`?key=`) alone.
  const key = useLinkKey()
  const album = useQuery({ queryKey: keys.album(id), queryFn: ({ signal }) => getAlbum(id, signal, key) })
  const photos = useCursorList(keys.albumPhotos(id), (cursor, signal) => listAlbumPhotos(id, { cursor }, signal, key), {
    enabled: album.isSuccess,
  })
  const remove = useMutation({
    mutationFn: () => deleteAlbum(id),
    onSuccess: () => {
      const owner = album.data?.owner.username
      client.removeQueries({ queryKey: keys.album(id) })
      void client.invalidateQueries({ queryKey: ['photos'] })
      void client.invalidateQueries({ queryKey: ['users'] })
      navigate(owner ? `/u/${owner}` : '/')
    },
  })

  if (album.isPending) return <Loading />
  if (album.error) return <ResourceError error={album.error} onRetry={() => void album.refetch()} />
  const a = album.data
  const ownerName = a.owner.display_name || a.owner.username

  return (
    <>
      <div className="page-head">
        <div>
          <PageTitle title={a.title} />
          <p className="byline">
            <Link to={`/u/${a.owner.username}`}>{ownerName}</Link> · {tn('album.photo_count', a.photo_count)} ·{' '}
            <time dateTime={a.created_at}>{date(a.created_at)}</time> <VisibilityBadge visibility={a.visibility} />
          </p>
          {a.pandal && (
            <p>
              <Link to={`/pandals/${a.pandal.id}`}>
                {a.pandal.name} · {a.pandal.city} · {year(a.pandal.year)}
              </Link>
            </p>
          )}
          {a.description && <p className="description">{a.description}</p>}
        </div>
        {a.can_edit && (
          <div className="page-actions">
            <Link className="button" to={`/upload?album=${a.id}`}>
              {t('album.add_photos')}
            </Link>
            <button type="button" className="button button--quiet" aria-expanded={editing} onClick={() => setEditing(!editing)}>
              {t('album.edit')}
            </button>
            <button type="button" className="button button--quiet" aria-expanded={sharing} onClick={() => setSharing(!sharing)}>
              {t('share.open')}
            </button>
            <button type="button" className="button button--quiet" aria-expanded={guests} onClick={() => setGuests(!guests)}>
              {t('guest.open')}
            </button>
            <Link className="button button--quiet" to={`/albums/${a.id}/review`}>
              {t('guest.review')}
            </Link>
            {a.visibility !== 'private' && (
              <Link
                className="button button--quiet"
                to={`/wall/album/${a.id}${a.visibility === 'unlisted' && a.link_key ? `?key=${a.link_key}` : ''}`}
              >
                {t('wall.open')}
              </Link>
            )}
            <ConfirmAction
              label={t('album.delete')}
              question={t('album.delete_question', { title: a.title })}
              busy={remove.isPending}
              onConfirm={() => remove.mutate()}
            />
          </div>
        )}
      </div>
      <FormError error={remove.error} />
      {editing && <AlbumForm album={a} onDone={() => setEditing(false)} onCancel={() => setEditing(false)} />}
      {a.can_edit && a.visibility === 'unlisted' && a.link_key && <ShareLink album={a} linkKey={a.link_key} />}
      {a.can_edit && sharing && <ShareLinks albumId={a.id} />}
      {a.can_edit && guests && <UploadLinks albumId={a.id} />}
      <PhotoBrowser list={photos} label={t('album.photos')} empty={a.can_edit ? t('album.empty_owner') : t('album.empty')} />
    </>
  )
}

/** The owner's view of an unlisted album's link: copy it, or replace it with a new one. */
function ShareLink({ album, linkKey }: { album: AlbumData; linkKey: string }) {
  const { t } = useI18n()
  const client = useQueryClient()
  const [copied, setCopied] = useState(false)
  const url = `${window.location.origin}/albums/${album.id}?key=${linkKey}`
  const rotate = useMutation({
    mutationFn: () => rotateAlbumLink(album.id),
    onSuccess: (updated) => {
      setCopied(false)
      client.setQueryData(keys.album(album.id), updated)
      void client.invalidateQueries({ queryKey: keys.albumPhotos(album.id) })
    },
  })
  return (
    <section className="share-link" aria-labelledby="share-link-title">
      <h2 id="share-link-title">{t('album.link_title')}</h2>
      <p className="field__hint">{t('album.link_hint')}</p>
      <input className="share-link__url" readOnly value={url} aria-label={t('album.link_title')} onFocus={(e) => e.target.select()} />
      <div className="actions">
        <button
          type="button"
          className="button button--quiet"
          onClick={() => {
            void navigator.clipboard?.writeText(url).then(() => setCopied(true))
          }}
        >
          {t('album.link_copy')}
        </button>
        <ConfirmAction
          label={t('album.link_rotate')}
          question={t('album.link_rotate_question')}
          confirmLabel={t('album.link_rotate_yes')}
          busy={rotate.isPending}
          onConfirm={() => rotate.mutate()}
        />
        <span aria-live="polite">{copied ? t('album.link_copied') : ''}</span>
      </div>
      <FormError error={rotate.error} />
    </section>
  )
}
