import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState, type FormEvent } from 'react'
import { useParams } from 'react-router'
import { ApiError } from '../api/client'
import { getShared, listSharedPhotos, unlockShared } from '../api/endpoints'
import { TextField } from '../components/Field'
import { FormError } from '../components/FormError'
import { PageTitle } from '../components/PageTitle'
import { PhotoBrowser } from '../components/PhotoBrowser'
import { Loading, ResourceError } from '../components/Status'
import { useCursorList } from '../hooks/useCursorList'
import { useI18n } from '../i18n'
import { keys } from '../queryClient'

/**
 * `/s/{token}`: an album someone shared by link, for anybody holding it, with
 * or without an account: its password first when it has one, a clear word when
 * it has expired, and otherwise the album and its photos, nothing else.
 */
export default function SharedPage() {
  const { token = '' } = useParams()
  const { t, tn } = useI18n()
  const shared = useQuery({ queryKey: keys.shared(token), queryFn: ({ signal }) => getShared(token, signal) })
  const photos = useCursorList(keys.sharedPhotos(token), (cursor, signal) => listSharedPhotos(token, { cursor }, signal), {
    enabled: shared.isSuccess,
  })

  if (shared.isPending) return <Loading />
  if (shared.error instanceof ApiError && shared.error.code === 'password_required') return <Unlock token={token} />
  if (shared.error instanceof ApiError && shared.error.code === 'expired') {
    return (
      <div className="not-found">
        <PageTitle title={t('share.expired_title')} />
        <p className="lede">{t('share.expired_body')}</p>
      </div>
    )
  }
  if (shared.error) return <ResourceError error={shared.error} onRetry={() => void shared.refetch()} />
  const { album } = shared.data
  return (
    <>
      <div className="page-head">
        <div>
          <PageTitle title={album.title} />
          <p className="byline">
            {t('share.by', { name: album.owner.display_name || album.owner.username })} · {tn('album.photo_count', album.photo_count)}
          </p>
          {album.description && <p className="description">{album.description}</p>}
        </div>
      </div>
      <PhotoBrowser list={photos} label={t('album.photos')} empty={t('album.empty')} shared />
    </>
  )
}

/** The link's password; right, the grant cookie is set and the album loads. */
function Unlock({ token }: { token: string }) {
  const { t } = useI18n()
  const client = useQueryClient()
  const [password, setPassword] = useState('')
  const unlock = useMutation({
    mutationFn: () => unlockShared(token, password),
    onSuccess: () => void client.invalidateQueries({ queryKey: keys.shared(token) }),
  })
  const submit = (event: FormEvent) => {
    event.preventDefault()
    unlock.mutate()
  }
  const wrong = unlock.error instanceof ApiError && unlock.error.code === 'unauthorized'
  return (
    <form className="form panel narrow" onSubmit={submit} noValidate aria-label={t('share.unlock_title')}>
      <PageTitle title={t('share.unlock_title')} />
      <p>{t('share.unlock_body')}</p>
      <TextField
        label={t('share.password')}
        type="password"
        autoComplete="off"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        required
      />
      <FormError error={unlock.error} override={wrong ? t('share.wrong_password') : undefined} />
      <div className="actions">
        <button className="button" type="submit" disabled={unlock.isPending || password === ''}>
          {t('share.unlock')}
        </button>
      </div>
    </form>
  )
}
