import { useQuery } from '@tanstack/react-query'
import { useState } from 'react'
import { Link, useNavigate, useParams } from 'react-router'
import { getProfile } from '../api/endpoints'
import { AlbumForm } from '../components/AlbumForm'
import { AlbumList } from '../components/Cards'
import { PageTitle } from '../components/PageTitle'
import { Loading, ResourceError } from '../components/Status'
import { useMe } from '../hooks/useSession'
import { useI18n } from '../i18n'
import { keys } from '../queryClient'

export default function ProfilePage() {
  const { username = '' } = useParams()
  const { t, date } = useI18n()
  const me = useMe()
  const navigate = useNavigate()
  const [creating, setCreating] = useState(false)
  const profile = useQuery({ queryKey: keys.profile(username), queryFn: ({ signal }) => getProfile(username, signal) })

  if (profile.isPending) return <Loading />
  if (profile.error) return <ResourceError error={profile.error} onRetry={() => void profile.refetch()} />
  const { user, albums } = profile.data
  const isMe = me?.id === user.id

  return (
    <>
      <div className="page-head">
        <div>
          <PageTitle title={user.display_name || user.username} />
          <p className="byline">
            @{user.username} · {t('profile.joined', { date: date(user.created_at) })}
            {user.role === 'admin' && <span className="badge">{t('profile.admin')}</span>}
          </p>
          {user.bio && <p className="description">{user.bio}</p>}
        </div>
        {isMe && (
          <div className="page-actions">
            <button type="button" className="button" aria-expanded={creating} onClick={() => setCreating(!creating)}>
              {t('album.new')}
            </button>
            <Link className="button button--quiet" to="/settings">
              {t('nav.settings')}
            </Link>
          </div>
        )}
      </div>
      {creating && <AlbumForm onDone={(a) => navigate(`/albums/${a.id}`)} onCancel={() => setCreating(false)} />}
      <h2 className="section-title">{t('profile.albums')}</h2>
      {albums.length === 0 ? (
        <p className="empty">{isMe ? t('profile.no_albums_me') : t('profile.no_albums')}</p>
      ) : (
        <AlbumList albums={albums} label={t('profile.albums')} />
      )}
    </>
  )
}
