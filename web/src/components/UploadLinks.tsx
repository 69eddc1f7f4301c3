import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState, type FormEvent } from 'react'
import { Link } from 'react-router'
import { createUploadLink, listUploadLinks, revokeUploadLink } from '../api/endpoints'
import { useI18n } from '../i18n'
import { keys } from '../queryClient'
import { ConfirmAction } from './ConfirmAction'
import { TextField } from './Field'
import { LifetimeField, expiresIn } from './LifetimeField'
import { FormError, fieldErrors } from './FormError'
import { ErrorNotice, Loading } from './Status'

/** How long a new link lasts: the choices offered, in days (0: until revoked). */
const LIFETIMES = [1, 3, 10, 0] as const

/** A cap typed into a field: a whole number from 1, or none when empty. */
function capOf(text: string): number | null {
  const n = Number(text)
  return text.trim() === '' || !Number.isFinite(n) ? null : Math.trunc(n)
}

/**
 * The owner's guest upload links of an album: make one (a label, review or not,
 * caps per guest and in total, how long it lasts), see each with its QR code and
 * a poster to print, revoke any at once.
 */
export function UploadLinks({ albumId }: { albumId: number }) {
  const { t, tn, date } = useI18n()
  const client = useQueryClient()
  const [label, setLabel] = useState('')
  const [review, setReview] = useState(true)
  const [keepLocation, setKeepLocation] = useState(false)
  const [perGuest, setPerGuest] = useState('20')
  const [total, setTotal] = useState('')
  const [days, setDays] = useState('3')
  const links = useQuery({ queryKey: keys.uploadLinks(albumId), queryFn: ({ signal }) => listUploadLinks(albumId, signal) })
  const create = useMutation({
    mutationFn: () =>
      createUploadLink(albumId, {
        label: label.trim(),
        needs_review: review,
        keep_location: keepLocation,
        per_guest: capOf(perGuest),
        total: capOf(total),
        expires_at: expiresIn(Number(days)),
      }),
    onSuccess: () => {
      setLabel('')
      void client.invalidateQueries({ queryKey: keys.uploadLinks(albumId) })
    },
  })
  const revoke = useMutation({
    mutationFn: (id: number) => revokeUploadLink(albumId, id),
    onSuccess: () => void client.invalidateQueries({ queryKey: keys.uploadLinks(albumId) }),
  })
  const errors = fieldErrors(create.error)
  const submit = (event: FormEvent) => {
    event.preventDefault()
    create.mutate()
  }

  return (
    <section className="share-link panel" aria-labelledby="upload-links-title">
      <h2 id="upload-links-title">{t('guest.links_title')}</h2>
      <p className="field__hint">{t('guest.links_hint')}</p>
      <form className="form" onSubmit={submit} noValidate aria-label={t('guest.new_link')}>
        <TextField label={t('guest.link_label')} value={label} onChange={(e) => setLabel(e.target.value)} maxLength={80} error={errors.label} />
        <label className="checkbox">
          <input type="checkbox" checked={review} onChange={(e) => setReview(e.target.checked)} /> {t('guest.needs_review')}
        </label>
        <label className="checkbox">
          <input
            type="checkbox"
            checked={keepLocation}
            onChange={(e) => setKeepLocation(e.target.checked)}
            aria-describedby="keep-location-hint"
          />{' '}
          {t('guest.keep_location')}
        </label>
        <p id="keep-location-hint" className={errors.keep_location ? 'field__error' : 'field__hint'}>
          {errors.keep_location ?? t('guest.keep_location_hint')}
        </p>
        <TextField
          label={t('guest.per_guest')}
          type="number"
          min={1}
          inputMode="numeric"
          value={perGuest}
          onChange={(e) => setPerGuest(e.target.value)}
          hint={t('guest.cap_hint')}
          error={errors.per_guest}
        />
        <TextField
          label={t('guest.total')}
          type="number"
          min={1}
          inputMode="numeric"
          value={total}
          onChange={(e) => setTotal(e.target.value)}
          hint={t('guest.cap_hint')}
          error={errors.total}
        />
        <LifetimeField choices={LIFETIMES} value={days} onChange={setDays} error={errors.expires_at} />
        <FormError error={create.error} />
        <div className="actions">
          <button className="button" type="submit" disabled={create.isPending}>
            {t('guest.create_link')}
          </button>
        </div>
      </form>
      {links.isPending ? (
        <Loading />
      ) : links.error ? (
        <ErrorNotice error={links.error} onRetry={() => void links.refetch()} />
      ) : links.data.items.length === 0 ? (
        <p className="empty">{t('guest.no_links')}</p>
      ) : (
        <ul className="upload-links" aria-label={t('guest.links_list')}>
          {links.data.items.map((link) => {
            const url = `${window.location.origin}${link.url}`
            return (
              <li key={link.id} className="upload-link">
                <img className="upload-link__qr" src={link.qr} alt={t('guest.qr_alt', { label: link.label || t('share.unnamed') })} width={128} height={128} />
                <div>
                  <p className="share-link__label">{link.label || t('share.unnamed')}</p>
                  <p className="share-link__terms">
                    {[
                      link.needs_review ? t('guest.reviewed') : t('guest.not_reviewed'),
                      ...(link.keep_location ? [t('guest.location_kept')] : []),
                      tn('guest.taken', link.taken),
                      link.expired ? t('share.expired') : link.expires_at ? t('share.until', { date: date(link.expires_at) }) : t('share.until_revoked'),
                    ].join(' · ')}
                  </p>
                  <input className="share-link__url" readOnly value={url} aria-label={t('guest.link_url')} onFocus={(e) => e.target.select()} />
                  <div className="actions">
                    <Link className="button button--quiet" to={`/albums/${albumId}/upload-links/${link.id}/poster`}>
                      {t('guest.poster')}
                    </Link>
                    <ConfirmAction
                      label={t('share.revoke')}
                      question={t('guest.revoke_question')}
                      confirmLabel={t('share.revoke_yes')}
                      busy={revoke.isPending && revoke.variables === link.id}
                      onConfirm={() => revoke.mutate(link.id)}
                    />
                  </div>
                </div>
              </li>
            )
          })}
        </ul>
      )}
      <FormError error={revoke.error} />
    </section>
  )
}
