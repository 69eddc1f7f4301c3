import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState, type FormEvent } from 'react'
import { listModerators, setModerator } from '../api/endpoints'
import { useI18n } from '../i18n'
import { keys } from '../queryClient'
import { TextField } from './Field'
import { FormError } from './FormError'
import { ErrorNotice, Loading } from './Status'

/** Admins: a pandal's moderators, added by username and removed at once. */
export function Moderators({ pandalId }: { pandalId: number }) {
  const { t } = useI18n()
  const client = useQueryClient()
  const [username, setUsername] = useState('')
  const list = useQuery({ queryKey: keys.moderators(pandalId), queryFn: ({ signal }) => listModerators(pandalId, signal) })
  const change = useMutation({
    mutationFn: ({ who, on }: { who: string; on: boolean }) => setModerator(pandalId, who, on),
    onSuccess: () => {
      setUsername('')
      void client.invalidateQueries({ queryKey: keys.moderators(pandalId) })
    },
  })
  const submit = (event: FormEvent) => {
    event.preventDefault()
    if (username.trim() !== '') change.mutate({ who: username.trim(), on: true })
  }
  return (
    <section className="panel" aria-labelledby="moderators-title">
      <h2 id="moderators-title">{t('moderators.title')}</h2>
      <p className="field__hint">{t('moderators.hint')}</p>
      {list.isPending ? (
        <Loading />
      ) : list.error ? (
        <ErrorNotice error={list.error} onRetry={() => void list.refetch()} />
      ) : list.data.items.length === 0 ? (
        <p className="empty">{t('moderators.none')}</p>
      ) : (
        <ul className="share-link__list" aria-label={t('moderators.list')}>
          {list.data.items.map((m) => (
            <li key={m.id}>
              {m.display_name || m.username} (@{m.username}){' '}
              <button type="button" className="link-button" disabled={change.isPending} onClick={() => change.mutate({ who: m.username, on: false })}>
                {t('moderators.remove')}
              </button>
            </li>
          ))}
        </ul>
      )}
      <form className="form" onSubmit={submit} noValidate aria-label={t('moderators.add')}>
        <TextField label={t('moderators.username')} value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="off" />
        <FormError error={change.error} />
        <div className="actions">
          <button className="button" type="submit" disabled={change.isPending || username.trim() === ''}>
            {t('moderators.add')}
          </button>
        </div>
      </form>
    </section>
  )
}
