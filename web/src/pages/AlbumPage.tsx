import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { Link, useNavigate } from 'react-router'
import { deleteAlbum, getAlbum, listAlbumPhotos } from '../api/endpoints'
import { AlbumForm } from '../components/AlbumForm'
import { VisibilityBadge } from '../components/Cards'
import { ConfirmAction } from '../components/ConfirmAction'
import { FormError } from '../components/FormError'
import { PageTitle } from '../components/PageTitle'
import { PhotoBrowser } from '../components/PhotoBrowser'
import { Loading, ResourceError } from '../components/Status'
import { useCursorList } from '../hooks/useCursorList'
import { useIdParam } from '../hooks/useIdParam'
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
  const album = useQuery({ queryKey: keys.album(id), queryFn: ({ signal }) => getAlbum(id, signal) })
  const photos = useCursorList(keys.albumPhotos(id), (cursor, signal) => listAlbumPhotos(id, { cursor }, signal), {
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
      <PhotoBrowser list={photos} label={t('album.photos')} empty={a.can_edit ? t('album.empty_owner') : t('album.empty')} />
    </>
  )
}
