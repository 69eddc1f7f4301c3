import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { Link } from 'react-router'
import { getAlbum, getPandal, listPandalReview, listReview, review } from '../api/endpoints'
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

/** `/albums/{id}/review`, or (`of="pandal"`) `/pandals/{id}/review`. */
export default function ReviewPage({ of = 'album' }: { of?: 'album' | 'pandal' }) {
  const id = useIdParam()
  if (id === null) return <NotFoundContent />
  return of === 'pandal' ? <PandalReview pandalId={id} /> : <AlbumReview albumId={id} />
}

function AlbumReview({ albumId }: { albumId: number }) {
  const { t } = useI18n()
  const album = useQuery({ queryKey: keys.album(albumId), queryFn: ({ signal }) => getAlbum(albumId, signal) })
  const list = useCursorList<PendingPhoto>(keys.review(albumId), (cursor, signal) => listReview(albumId, { cursor, limit: 48 }, signal))
  if (album.isPending) return <Loading />
  if (album.error) return <ResourceError error={album.error} />
  return (
    <Review
      title={t('review.title', { album: album.data.title })}
      back={{ to: `/albums/${albumId}`, text: t('review.back') }}
      list={list}
      queue={keys.review(albumId)}
    />
  )
}

/** A pandal's queue, for its moderators: every album's, each photo decided in its album. */
function PandalReview({ pandalId }: { pandalId: number }) {
  const { t } = useI18n()
  const pandal = useQuery({ queryKey: keys.pandal(pandalId), queryFn: ({ signal }) => getPandal(pandalId, signal) })
  const list = useCursorList<PendingPhoto>(keys.pandalReview(pandalId), (cursor, signal) =>
    listPandalReview(pandalId, { cursor, limit: 48 }, signal),
  )
  if (pandal.isPending) return <Loading />
  if (pandal.error) return <ResourceError error={pandal.error} />
  return (
    <Review
      title={t('review.pandal_title', { pandal: pandal.data.pandal.name })}
      back={{ to: `/pandals/${pandalId}`, text: t('review.pandal_back') }}
      list={list}
      queue={keys.pandalReview(pandalId)}
      showAlbum
    />
  )
}

/**
 * A review queue: guests' photos at a size large enough to judge, approved or
 * rejected one by one or all that are ticked at once (each in its own album's
 * queue). Nobody but the album's reviewers sees them until they are approved.
 */
function Review({
  title,
  back,
  list,
  queue,
  showAlbum = false,
}: {
  title: string
  back: { to: string; text: string }
  list: ReturnType<typeof useCursorList<PendingPhoto>>
  queue: readonly unknown[]
  showAlbum?: boolean
}) {
  const { t, tn, date } = useI18n()
  const client = useQueryClient()
  const [ticked, setTicked] = useState<Set<number>>(new Set())
  const act = useMutation({
    mutationFn: async ({ approve, reject }: { approve: number[]; reject: number[] }) => {
      // Each waiting photo is decided in its album's queue.
      const albumOf = new Map(list.items.map((p) => [p.id, p.album_id]))
      const albums = new Set([...approve, ...reject].map((id) => albumOf.get(id)).filter((a): a is number => a !== undefined))
      for (const album of albums) {
        await review(
          album,
          approve.filter((id) => albumOf.get(id) === album),
          reject.filter((id) => albumOf.get(id) === album),
        )
      }
      return albums
    },
    onSuccess: (albums) => {
      setTicked(new Set())
      void client.invalidateQueries({ queryKey: queue })
      for (const album of albums) {
        void client.invalidateQueries({ queryKey: keys.review(album) })
        void client.invalidateQueries({ queryKey: keys.album(album) })
        void client.invalidateQueries({ queryKey: keys.albumPhotos(album) })
      }
    },
  })
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
          <PageTitle title={title} />
          <p className="byline">
            <Link to={back.to}>{back.text}</Link>
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
              {showAlbum && (
                <p className="field__hint">
                  <Link to={`/albums/${p.album_id}`}>{t('review.in_album', { album: p.album_title })}</Link>
                </p>
              )}
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
