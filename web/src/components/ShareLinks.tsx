import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState, type FormEvent } from 'react'
import { createShareLink, listShareLinks, revokeShareLink } from '../api/endpoints'
import type { ShareLink } from '../api/types'
import { useI18n } from '../i18n'
import { keys } from '../queryClient'
import { ConfirmAction } from './ConfirmAction'
import { TextField } from './Field'
import { LifetimeField, expiresIn } from './LifetimeField'
import { FormError, fieldErrors } from './FormError'
import { ErrorNotice, Loading } from './Status'

/** How long a new link lasts: the choices offered, in days (0: until revoked). */
const LIFETIMES = [1, 7, 30, 0] as const

/**
 * The owner's share links of an album: make one (a label, how long it lasts, an
 * optional password, whether holders may download originals), copy it while it
 * is shown (once: the server keeps only its hash), revoke any at once.
 */
export function ShareLinks({ albumId }: { albumId: number }) {
  const { t, date } = useI18n()
  const client = useQueryClient()
  const [made, setMade] = useState<ShareLink | null>(null)
  const [copied, setCopied] = useState(false)
  const [label, setLabel] = useState('')
  const [days, setDays] = useState<string>('7')
  const [password, setPassword] = useState('')
  const [download, setDownload] = useState(false)
  const links = useQuery({ queryKey: keys.shareLinks(albumId), queryFn: ({ signal }) => listShareLinks(albumId, signal) })

  const create = useMutation({
    mutationFn: () =>
      createShareLink(albumId, {
        label: label.trim(),
        password: password === '' ? null : password,
        allow_download: download,
        expires_at: expiresIn(Number(days)),
      }),
    onSuccess: (link) => {
      setMade(link)
      setCopied(false)
      setLabel('')
      setPassword('')
      void client.invalidateQueries({ queryKey: keys.shareLinks(albumId) })
    },
  })
  const revoke = useMutation({
    mutationFn: (id: number) => revokeShareLink(albumId, id),
    onSuccess: (_, id) => {
      if (made?.id === id) setMade(null)
      void client.invalidateQueries({ queryKey: keys.shareLinks(albumId) })
    },
  })
  const errors = fieldErrors(create.error)
  const submit = (event: FormEvent) => {
    event.preventDefault()
    create.mutate()
  }
  const url = made?.url ? `${window.location.origin}${made.url}` : null

  return (
    <section className="share-link panel" aria-labelledby="share-links-title">
      <h2 id="share-links-title">{t('share.title')}</h2>
      <p className="field__hint">{t('share.hint')}</p>
      {url && (
        <div className="share-link__made" role="status">
          <p>{t('share.made')}</p>
          <p className="field__hint">{t('wall.share_hint', { url: `${window.location.origin}/wall/s/${made?.token ?? ''}` })}</p>
          <input className="share-link__url" readOnly value={url} aria-label={t('share.url')} onFocus={(e) => e.target.select()} />
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
            <span aria-live="polite">{copied ? t('album.link_copied') : ''}</span>
          </div>
        </div>
      )}
      <form className="form" onSubmit={submit} noValidate aria-label={t('share.new')}>
        <TextField label={t('share.label')} value={label} onChange={(e) => setLabel(e.target.value)} maxLength={80} error={errors.label} />
        <LifetimeField choices={LIFETIMES} value={days} onChange={setDays} error={errors.expires_at} />
        <TextField
          label={t('share.password')}
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          hint={t('share.password_hint')}
          error={errors.password}
        />
        <label className="checkbox">
          <input type="checkbox" checked={download} onChange={(e) => setDownload(e.target.checked)} /> {t('share.allow_download')}
        </label>
        <FormError error={create.error} />
        <div className="actions">
          <button className="button" type="submit" disabled={create.isPending}>
            {t('share.create')}
          </button>
        </div>
      </form>
      {links.isPending ? (
        <Loading />
      ) : links.error ? (
        <ErrorNotice error={links.error} onRetry={() => void links.refetch()} />
      ) : links.data.items.length === 0 ? (
        <p className="empty">{t('share.none')}</p>
      ) : (
        <ul className="share-link__list" aria-label={t('share.list')}>
          {links.data.items.map((link) => (
            <li key={link.id}>
              <span className="share-link__label">{link.label || t('share.unnamed')}</span>{' '}
              <span className="share-link__terms">
                {[
                  link.has_password ? t('share.with_password') : null,
                  link.allow_download ? t('share.downloads') : t('share.view_only'),
                  link.expired
                    ? t('share.expired')
                    : link.expires_at
                      ? t('share.until', { date: date(link.expires_at) })
                      : t('share.until_revoked'),
                ]
                  .filter(Boolean)
                  .join(' · ')}
              </span>{' '}
              <ConfirmAction
                label={t('share.revoke')}
                question={t('share.revoke_question')}
                confirmLabel={t('share.revoke_yes')}
                busy={revoke.isPending && revoke.variables === link.id}
                onConfirm={() => revoke.mutate(link.id)}
              />
            </li>
          ))}
        </ul>
      )}
      <FormError error={revoke.error} />
    </section>
  )
}
