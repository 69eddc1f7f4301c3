import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { Link } from 'react-router'
import { getAlbum, listReview, review } from '../api/endpoints'
import type { PendingPhoto } from '../api/types'
import { FormError } from '../components/FormError'
import { LoadMore } from '../components/LoadMore'
import { PageTitle } from '../components/PageTitle'
import { ErrorNotice, Loading, ResourceError } from '../components/Status'
import { useCursorList } from '../hooks/useCursorList'
import { useIdParam } from '../hooks/useIdParam'
import { useI18n } from '../i18n'
import { keys } from '../queryClient'
import { NotFoundContent } from './NotFoundPage'

export default function ReviewPage() {
  const id = useIdParam()
  if (id === null) return <NotFoundContent />
  return <Review albumId={id} />
}

/**
 * The review queue of an album: guests' photos at a size large enough to judge,
 * approved or rejected one by one or all that are ticked at once. Nobody but the
 * album's owner sees them until they are approved.
 */
function Review({ albumId }: { albumId: number }) {
  const { t, tn, date } = useI18n()
  const client = useQueryClient()
  const album = useQuery({ queryKey: keys.album(albumId), queryFn: ({ signal }) => getAlbum(albumId, signal) })
  const list = useCursorList<PendingPhoto>(keys.review(albumId), (cursor, signal) => listReview(albumId, { cursor, limit: 48 }, signal))
  const [ticked, setTicked] = useState<Set<number>>(new Set())
  const act = useMutation({
    mutationFn: ({ approve, reject }: { approve: number[]; reject: number[] }) => review(albumId, approve, reject),
    onSuccess: () => {
      setTicked(new Set())
      void client.invalidateQueries({ queryKey: keys.review(albumId) })
      void client.invalidateQueries({ queryKey: keys.album(albumId) })
      void client.invalidateQueries({ queryKey: keys.albumPhotos(albumId) })
    },
  })
  if (album.isPending) return <Loading />
  if (album.error) return <ResourceError error={album.error} />
  const toggle = (id: number) =>
    setTicked((now) => {
      const next = new Set(now)
      if (next.has(id)) next.delete(id)
      else next.add(id)
      return next
    })
  const chosen = [...ticked]
  return (
    <>
      <div className="page-head">
        <div>
          <PageTitle title={t('review.title', { album: album.data.title })} />
          <p className="byline">
            <Link to={`/albums/${albumId}`}>{t('review.back')}</Link>
          </p>
        </div>
        <div className="page-actions">
          <button
            type="button"
            className="button"
            disabled={chosen.length === 0 || act.isPending}
            onClick={() => act.mutate({ approve: chosen, reject: [] })}
          >
            {tn('review.approve_ticked', chosen.length)}
          </button>
          <button
            type="button"
            className="button button--quiet"
            disabled={chosen.length === 0 || act.isPending}
            onClick={() => act.mutate({ approve: [], reject: chosen })}
          >
            {tn('review.reject_ticked', chosen.length)}
          </button>
        </div>
      </div>
      <FormError error={act.error} />
      {list.isPending ? (
        <Loading />
      ) : list.error && list.items.length === 0 ? (
        <ErrorNotice error={list.error} onRetry={list.refetch} />
      ) : list.items.length === 0 ? (
        <p className="empty">{t('review.empty')}</p>
      ) : (
        <ul className="review-grid" aria-label={t('review.list')}>
          {list.items.map((p) => (
            <li key={p.id} className="review-item">
              <img
                src={p.urls.medium}
                alt={p.caption || t('review.photo_by', { name: p.guest_name || t('review.a_guest') })}
                width={p.width}
                height={p.height}
                loading="lazy"
              />
              <label className="checkbox">
                <input type="checkbox" checked={ticked.has(p.id)} onChange={() => toggle(p.id)} />{' '}
                {t('review.from', { name: p.guest_name || t('review.a_guest'), date: date(p.created_at) })}
              </label>
              {p.link_label && <p className="field__hint">{p.link_label}</p>}
              <div className="actions">
                <button type="button" className="button" disabled={act.isPending} onClick={() => act.mutate({ approve: [p.id], reject: [] })}>
                  {t('review.approve')}
                </button>
                <button
                  type="button"
                  className="button button--quiet"
                  disabled={act.isPending}
                  onClick={() => act.mutate({ approve: [], reject: [p.id] })}
                >
                  {t('review.reject')}
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
      <LoadMore list={list} />
    </>
  )
}
