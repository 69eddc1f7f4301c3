import { useQuery } from '@tanstack/react-query'
import { useState } from 'react'
import { Link } from 'react-router'
import { getModerates, getPandal, listPhotos } from '../api/endpoints'
import { AlbumList, pandalPlace } from '../components/Cards'
import { PageTitle } from '../components/PageTitle'
import { Moderators } from '../components/Moderators'
import { PandalForm } from '../components/PandalForm'
import { PhotoBrowser } from '../components/PhotoBrowser'
import { Loading, ResourceError } from '../components/Status'
import { useCursorList } from '../hooks/useCursorList'
import { useIdParam } from '../hooks/useIdParam'
import { useMe } from '../hooks/useSession'
import { useI18n } from '../i18n'
import { mapUrl } from '../lib/photo'
import { keys } from '../queryClient'
import { NotFoundContent } from './NotFoundPage'

export default function PandalPage() {
  const id = useIdParam()
  if (id === null) return <NotFoundContent />
  return <Pandal id={id} />
}

function Pandal({ id }: { id: number }) {
  const { t, tn, year } = useI18n()
  const me = useMe()
  const [editing, setEditing] = useState(false)
  const detail = useQuery({ queryKey: keys.pandal(id), queryFn: ({ signal }) => getPandal(id, signal) })
  const photos = useCursorList(keys.pandalPhotos(id), (cursor, signal) => listPhotos({ pandal: id, cursor }, signal))
  const moderates = useQuery({
    queryKey: keys.moderates,
    queryFn: ({ signal }) => getModerates(signal),
    enabled: me != null && me.role !== 'admin',
    staleTime: 5 * 60_000,
  })
  const reviews = me?.role === 'admin' || (moderates.data?.pandals.includes(id) ?? false)

  if (detail.isPending) return <Loading />
  if (detail.error) return <ResourceError error={detail.error} onRetry={() => void detail.refetch()} />
  const { pandal, albums } = detail.data

  return (
    <>
      <div className="page-head">
        <div>
          <PageTitle title={pandal.name} />
          <p className="lede">
            {pandalPlace(pandal)} · {year(pandal.year)}
          </p>
          {pandal.lat != null && pandal.lon != null && (
            <p>
              <a href={mapUrl(pandal.lat, pandal.lon, 'exact')} target="_blank" rel="noopener noreferrer">
                {t('pandal.on_map')}
              </a>
            </p>
          )}
        </div>
        {me?.role === 'admin' && (
          <p className="page-actions">
            <button type="button" className="button button--quiet" aria-expanded={editing} onClick={() => setEditing(!editing)}>
              {t('pandal.edit')}
            </button>
          </p>
        )}
      </div>
      {editing && (
        <PandalForm
          pandal={pandal}
          onDone={() => {
            setEditing(false)
            void detail.refetch()
          }}
        />
      )}

      {me?.role === 'admin' && <Moderators pandalId={pandal.id} />}
      <p>
        <Link className="button button--quiet" to={`/wall/pandal/${pandal.id}`}>
          {t('wall.open')}
        </Link>
        {reviews && (
          <>
            {' '}
            <Link className="button button--quiet" to={`/pandals/${pandal.id}/review`}>
              {t('review.pandal_link')}
            </Link>
          </>
        )}
      </p>

      <section aria-labelledby="pandal-albums">
        <h2 id="pandal-albums" className="section-title">
          {t('pandal.albums')} <span className="count">({tn('album.count', pandal.album_count)})</span>
        </h2>
        {albums.length === 0 ? <p className="empty">{t('pandal.no_albums')}</p> : <AlbumList albums={albums} label={t('pandal.albums')} />}
      </section>

      <section aria-labelledby="pandal-photos">
        <h2 id="pandal-photos" className="section-title">
          {t('pandal.photos')}
        </h2>
        <PhotoBrowser list={photos} label={t('pandal.photos')} empty={t('pandal.no_photos')} />
      </section>
    </>
  )
}
