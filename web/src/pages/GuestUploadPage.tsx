import { useQuery } from '@tanstack/react-query'
import { useRef, useState, type FormEvent } from 'react'
import { useParams } from 'react-router'
import { ApiError } from '../api/client'
import { getGuestLink, getProofChallenge } from '../api/endpoints'
import { uploadAsGuest } from '../api/upload'
import { xhrSend } from '../api/xhr'
import { TextField } from '../components/Field'
import { PageTitle } from '../components/PageTitle'
import { Loading, ResourceError } from '../components/Status'
import { useI18n } from '../i18n'
import { errorText } from '../i18n/errors'
import { solve } from '../lib/proof'
import { idbResumeStore } from '../lib/uploadStore'
import { keys } from '../queryClient'

type State = 'waiting' | 'sending' | 'pending' | 'approved' | 'failed'

interface Item {
  file: File
  state: State
  progress: number
  error?: string
}

/** Where a guest's unfinished uploads are remembered, so that a reload goes on from what arrived. */
const resumes = idbResumeStore()

/**
 * `/g/{token}`: where a guest at the pandal sends photos through an upload link,
 * with no account: an optional name, the photos (each a resumable upload with its
 * own progress, so one bad file costs only itself, a dropped connection costs only
 * the chunk it cut, and a failed one can be sent again), and a clear word on what
 * happens next.
 */
export default function GuestUploadPage() {
  const { token = '' } = useParams()
  const i18n = useI18n()
  const { t, tn } = i18n
  const link = useQuery({ queryKey: keys.guestLink(token), queryFn: ({ signal }) => getGuestLink(token, signal), retry: false })
  const [name, setName] = useState('')
  const [items, setItems] = useState<Item[]>([])
  const [busy, setBusy] = useState(false)
  const input = useRef<HTMLInputElement>(null)

  if (link.isPending) return <Loading />
  if (link.error instanceof ApiError && link.error.code === 'expired') {
    return (
      <div className="not-found">
        <PageTitle title={t('guest.expired_title')} />
        <p className="lede">{t('guest.expired_body')}</p>
      </div>
    )
  }
  if (link.error) return <ResourceError error={link.error} onRetry={() => void link.refetch()} />

  const update = (index: number, change: Partial<Item>) =>
    setItems((all) => all.map((item, i) => (i === index ? { ...item, ...change } : item)))

  const send = async (list: Item[]) => {
    setBusy(true)
    for (const [index, item] of list.entries()) {
      if (item.state === 'pending' || item.state === 'approved') continue
      update(index, { state: 'sending', progress: 0, error: undefined })
      try {
        const send = (proof?: string) =>
          uploadAsGuest(xhrSend, token, item.file, {
            name,
            proof,
            store: resumes,
            onProgress: (loaded, total) => update(index, { progress: total > 0 ? loaded / total : 0 }),
          })
        let answer
        try {
          answer = await send()
        } catch (err) {
          // Not a guest yet: a little work first (a fraction of a second), once.
          if (!(err instanceof ApiError) || err.code !== 'proof_required') throw err
          answer = await send(await solve(await getProofChallenge('guest')))
        }
        update(index, { state: answer.status === 'approved' ? 'approved' : 'pending', progress: 1 })
      } catch (err) {
        update(index, { state: 'failed', error: errorText(i18n, err) })
        // A full cap or an expired link ends the round: the rest would fail alike.
        if (err instanceof ApiError && (err.status === 403 || err.status === 410 || err.status === 404)) break
      }
    }
    setBusy(false)
  }

  const submit = (event: FormEvent) => {
    event.preventDefault()
    void send(items)
  }

  const sent = items.filter((i) => i.state === 'pending' || i.state === 'approved').length
  const failed = items.filter((i) => i.state === 'failed').length
  const { album, needs_review, keep_location } = link.data
  return (
    <div className="guest-upload">
      <PageTitle title={album.title} />
      <p className="lede">{t('guest.intro', { owner: album.owner })}</p>
      <p className="field__hint">
        {needs_review ? t('guest.review_note') : t('guest.no_review_note')}{' '}
        {keep_location ? t('guest.location_kept_note') : t('guest.location_never')}
      </p>
      <form className="form panel narrow" onSubmit={submit} noValidate aria-label={t('guest.form')}>
        <TextField label={t('guest.your_name')} value={name} onChange={(e) => setName(e.target.value)} maxLength={60} hint={t('guest.name_hint')} />
        <div className="field">
          <label htmlFor="guest-files">{t('guest.photos')}</label>
          <input
            id="guest-files"
            ref={input}
            type="file"
            accept="image/jpeg,image/png,image/webp"
            multiple
            onChange={(e) => setItems(Array.from(e.target.files ?? []).map((file) => ({ file, state: 'waiting', progress: 0 })))}
          />
        </div>
        <div className="actions">
          <button className="button" type="submit" disabled={busy || items.length === 0 || sent === items.length}>
            {failed > 0 && !busy ? t('guest.send_again') : tn('guest.send', items.length)}
          </button>
        </div>
      </form>
      {items.length > 0 && (
        <ul className="guest-upload__list" aria-label={t('guest.sending')}>
          {items.map((item, index) => (
            <li key={`${item.file.name}-${index}`} data-state={item.state}>
              <span className="guest-upload__name">{item.file.name}</span>{' '}
              {item.state === 'sending' ? (
                <progress max={1} value={item.progress} aria-label={t('guest.progress', { name: item.file.name })} />
              ) : (
                <span className="guest-upload__state">{t(`guest.state.${item.state}`)}</span>
              )}
              {item.error && <span className="field__error"> {item.error}</span>}
            </li>
          ))}
        </ul>
      )}
      {sent > 0 && sent === items.length && (
        <p className="notice" role="status">
          {needs_review ? tn('guest.thanks_review', sent) : tn('guest.thanks', sent)}
        </p>
      )}
    </div>
  )
}
