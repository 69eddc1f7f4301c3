import { useQuery, useQueryClient } from '@tanstack/react-query'
import { useEffect, useId, useState, useSyncExternalStore, type ChangeEvent, type DragEvent } from 'react'
import { Link, useSearchParams } from 'react-router'
import { getProfile } from '../api/endpoints'
import type { Me } from '../api/types'
import { discardResumable, forgetResumable, uploadResumable } from '../api/upload'
import { xhrSend } from '../api/xhr'
import { AlbumForm } from '../components/AlbumForm'
import { SelectField } from '../components/Field'
import { PageTitle } from '../components/PageTitle'
import { RequireLogin } from '../components/RequireLogin'
import { ErrorNotice, Loading } from '../components/Status'
import { useI18n, type I18n } from '../i18n'
import { SAVER_LONG_EDGE, savedDataSaver, smallerCopy, storeDataSaver } from '../lib/dataSaver'
import { ACCEPTED_TYPES, MAX_UPLOAD_BYTES, UploadQueue, bytesSaved, percent, summarise, type UploadItem } from '../lib/uploadQueue'
import { holdForPage } from '../lib/uploadLock'
import { idbResumeStore, indexedDbStore, migrateLocalResumes, pruneResumes } from '../lib/uploadStore'
import { keys } from '../queryClient'
import { onUploadSync, requestUploadSync } from '../serviceWorker'

const NEW_ALBUM = 'new'

/** Moves the resume addresses an earlier Pujo kept in localStorage into IndexedDB (once; then there are none). */
function moveOldResumes(): Promise<number> {
  try {
    return migrateLocalResumes(window.localStorage).catch(() => 0)
  } catch {
    // No localStorage here (blocked): nothing to move.
    return Promise.resolve(0)
  }
}

export function fileSize(i18n: Pick<I18n, 'number' | 't'>, bytes: number): string {
  if (bytes >= 1024 * 1024) return i18n.t('upload.mb', { n: i18n.number(Math.round((bytes / (1024 * 1024)) * 10) / 10) })
  return i18n.t('upload.kb', { n: i18n.number(Math.max(1, Math.round(bytes / 1024))) })
}

/** Why a file failed, in words: the site's own for known codes, else what the server said. */
export function uploadErrorText(i18n: Pick<I18n, 't' | 'number'>, item: UploadItem): string {
  const err = item.error
  if (!err) return ''
  switch (err.code) {
    case 'payload_too_large':
      return i18n.t('upload.too_large', { max: i18n.number(MAX_UPLOAD_BYTES / (1024 * 1024)) })
    case 'unsupported_media_type':
      return i18n.t('upload.bad_type')
    case 'network_error':
      return i18n.t('error.network_error')
    case 'rate_limited':
      return i18n.t('error.rate_limited')
    case 'validation': {
      const fields = Object.values(err.fields)
      return fields.length > 0 ? fields.join('; ') : err.message
    }
    default:
      return err.message
  }
}

function Preview({ file }: { file: File }) {
  const [url, setUrl] = useState<string | null>(null)
  const [broken, setBroken] = useState(false)
  useEffect(() => {
    if (typeof URL.createObjectURL !== 'function') return
    const objectUrl = URL.createObjectURL(file)
    setUrl(objectUrl)
    return () => URL.revokeObjectURL(objectUrl)
  }, [file])
  if (!url || broken) {
    // HEIC and friends cannot be shown by most browsers before the server converts them.
    return (
      <span className="upload-item__preview upload-item__preview--none" aria-hidden="true">
        ❁
      </span>
    )
  }
  return <img className="upload-item__preview" src={url} alt="" onError={() => setBroken(true)} />
}

function ItemRow({ item, queue }: { item: UploadItem; queue: UploadQueue }) {
  const i18n = useI18n()
  const { t } = i18n
  const captionId = useId()
  const pct = percent(item)
  const editable = item.status === 'ready' || item.status === 'failed' || item.status === 'cancelled' || item.status === 'queued'
  const statusText: Record<UploadItem['status'], string> = {
    ready: t('upload.status_ready'),
    queued: t('upload.status_queued'),
    uploading: t('upload.status_uploading', { pct }),
    paused: t('upload.status_paused', { pct }),
    done: t('upload.status_done'),
    failed: t('upload.status_failed'),
    cancelled: t('upload.status_cancelled'),
  }
  return (
    <li className={`upload-item upload-item--${item.status}`}>
      <Preview file={item.file} />
      <div className="upload-item__body">
        <p className="upload-item__name">
          <span>{item.file.name}</span>{' '}
          <span className="muted">
            {item.originalSize === null
              ? fileSize(i18n, item.file.size)
              : t('upload.saver_size', { size: fileSize(i18n, item.file.size), original: fileSize(i18n, item.originalSize) })}
          </span>
        </p>
        <div className="field">
          <label htmlFor={captionId}>{t('upload.caption_for', { name: item.file.name })}</label>
          <input
            id={captionId}
            value={item.caption}
            disabled={!editable}
            maxLength={2000}
            onChange={(e) => queue.setCaption(item.id, e.target.value)}
          />
        </div>
        <progress max={100} value={pct} aria-label={t('upload.progress_for', { name: item.file.name })} />
        <p className="upload-item__status">
          {statusText[item.status]}
          {item.status === 'done' && item.photoIds[0] !== undefined && (
            <>
              {' '}
              <Link to={`/photos/${item.photoIds[0]}`}>{t('upload.view')}</Link>
            </>
          )}
        </p>
        {item.error && <p className="upload-item__error">{uploadErrorText(i18n, item)}</p>}
        <div className="actions">
          {(item.status === 'uploading' || item.status === 'queued' || item.status === 'paused') && (
            <button type="button" className="button button--quiet" onClick={() => queue.cancel(item.id)}>
              {t('upload.cancel')}
              <span className="visually-hidden"> {item.file.name}</span>
            </button>
          )}
          {(item.status === 'failed' || item.status === 'cancelled') && item.error?.retryable !== false && (
            <button type="button" className="button" onClick={() => queue.retry(item.id)}>
              {t('upload.retry')}
              <span className="visually-hidden"> {item.file.name}</span>
            </button>
          )}
          {item.status !== 'uploading' && item.status !== 'done' && (
            <button type="button" className="button button--quiet" onClick={() => queue.remove(item.id)}>
              {t('upload.remove')}
              <span className="visually-hidden"> {item.file.name}</span>
            </button>
          )}
        </div>
      </div>
    </li>
  )
}

function Uploader({ me }: { me: Me }) {
  const i18n = useI18n()
  const { t, tn } = i18n
  const client = useQueryClient()
  const [params, setParams] = useSearchParams()
  const albumParam = params.get('album') ?? ''
  const [choice, setChoice] = useState(albumParam)
  const [dragging, setDragging] = useState(false)
  const [saver, setSaver] = useState(savedDataSaver)
  const [making, setMaking] = useState(0)
  const inputId = useId()
  const saverId = useId()
  const saverHintId = useId()

  const albums = useQuery({ queryKey: keys.profile(me.username), queryFn: ({ signal }) => getProfile(me.username, signal) })
  const own = albums.data?.albums.filter((a) => a.owner.id === me.id) ?? []
  const albumId = choice !== '' && choice !== NEW_ALBUM ? Number(choice) : null

  const [queue] = useState(() => {
    // The resume addresses are in IndexedDB, where the service worker finds them too.
    const resumes = idbResumeStore()
    return new UploadQueue(
      (item, onProgress, signal) =>
        uploadResumable(xhrSend, item.albumId, item.file, {
          caption: item.caption,
          onProgress,
          signal,
          store: resumes,
          keepWhenDone: true,
        }),
      {
        concurrency: 2,
        store: indexedDbStore(me.id) ?? undefined,
        // One sender at a time: this page, or the service worker sending while no page was open.
        lock: holdForPage,
        onUploaded: (item) => {
          if (item.albumId === null) return
          void client.invalidateQueries({ queryKey: keys.album(item.albumId) })
          void client.invalidateQueries({ queryKey: keys.albumPhotos(item.albumId) })
          void client.invalidateQueries({ queryKey: keys.feed })
          void client.invalidateQueries({ queryKey: ['users'] })
        },
        // Only once the queue no longer keeps the file: a reload before that finds the photo, not a new upload.
        onSettled: (item) => {
          if (item.albumId !== null) void forgetResumable(resumes, item.albumId, item.file, item.caption)
        },
        // Where the browser has Background Sync, it says when the network is back even if `online` is late,
        // and the service worker sends the queue itself if no page has it open by then.
        onPaused: () => void requestUploadSync(),
        onDiscard: (item) => {
          if (item.albumId !== null) void discardResumable(xhrSend, resumes, item.albumId, item.file, item.caption)
        },
      },
    )
  })
  // The files picked earlier (another visit, before a reload or a restart) come back and go on,
  // once the addresses an earlier Pujo kept in localStorage have moved to IndexedDB.
  useEffect(() => {
    let live = true
    void moveOldResumes()
      .then(() => pruneResumes())
      .then(() => {
        if (live) void queue.open()
      })
    const stopListening = onUploadSync(() => queue.resume())
    return () => {
      live = false
      stopListening()
      queue.close()
    }
  }, [queue])
  const items = useSyncExternalStore(queue.subscribe, queue.getItems)
  const counts = summarise(items)
  const busy = counts.uploading + counts.queued + counts.paused > 0
  const doneAlbum = items.find((i) => i.status === 'done')?.albumId ?? null
  const saved = bytesSaved(items)

  // Where the browser cannot keep the files, leaving mid-upload loses them: ask it to warn.
  useEffect(() => {
    if (!busy || queue.persistent) return
    const warn = (event: BeforeUnloadEvent) => event.preventDefault()
    window.addEventListener('beforeunload', warn)
    return () => window.removeEventListener('beforeunload', warn)
  }, [busy, queue])

  const addFiles = (files: FileList | null) => {
    if (!files || files.length === 0) return
    const picked = Array.from(files)
    if (!saver) {
      queue.add(picked)
      return
    }
    // Smaller copies, made here; the date (and the position, unless the owner hides it) go along.
    setMaking((n) => n + picked.length)
    const keepGps = me.gps_privacy !== 'hidden'
    void Promise.all(picked.map((file) => smallerCopy(file, { keepGps }).catch(() => null))).then((copies) => {
      setMaking((n) => n - picked.length)
      queue.add(picked.map((file, i) => copies[i] ?? file))
    })
  }
  const onPick = (event: ChangeEvent<HTMLInputElement>) => {
    addFiles(event.target.files)
    event.target.value = ''
  }
  const onDrop = (event: DragEvent) => {
    event.preventDefault()
    setDragging(false)
    addFiles(event.dataTransfer.files)
  }

  const summary =
    items.length === 0
      ? ''
      : t('upload.summary', {
          done: counts.done,
          total: items.length,
          uploading: counts.uploading,
          failed: counts.failed,
        }) + (counts.paused > 0 ? ` ${t('upload.summary_paused', { paused: counts.paused })}` : '')

  if (albums.isPending) return <Loading />
  if (albums.error) return <ErrorNotice error={albums.error} onRetry={() => void albums.refetch()} />

  return (
    <>
      <section className="panel" aria-labelledby="upload-album">
        <h2 id="upload-album">{t('upload.step_album')}</h2>
        <SelectField
          label={t('upload.album')}
          value={choice}
          onChange={(e) => {
            setChoice(e.target.value)
            if (e.target.value !== NEW_ALBUM) setParams(e.target.value ? { album: e.target.value } : {}, { replace: true })
          }}
        >
          <option value="">{t('upload.choose_album')}</option>
          {own.map((a) => (
            <option key={a.id} value={String(a.id)}>
              {a.title}
            </option>
          ))}
          <option value={NEW_ALBUM}>{t('upload.new_album')}</option>
        </SelectField>
        {choice === NEW_ALBUM && (
          <AlbumForm
            onDone={(album) => {
              void albums.refetch().then(() => {
                setChoice(String(album.id))
                setParams({ album: String(album.id) }, { replace: true })
              })
            }}
            onCancel={() => setChoice('')}
          />
        )}
      </section>

      <section className="panel" aria-labelledby="upload-files">
        <h2 id="upload-files">{t('upload.step_files')}</h2>
        <div
          className={`dropzone${dragging ? ' dropzone--over' : ''}`}
          onDragEnter={(e) => {
            e.preventDefault()
            setDragging(true)
          }}
          onDragOver={(e) => e.preventDefault()}
          onDragLeave={() => setDragging(false)}
          onDrop={onDrop}
        >
          <p>{t('upload.drop')}</p>
          <input
            id={inputId}
            className="visually-hidden file-input"
            type="file"
            multiple
            accept={[...ACCEPTED_TYPES, '.heic', '.heif'].join(',')}
            onChange={onPick}
          />
          <label htmlFor={inputId} className="button">
            {t('upload.pick')}
          </label>
          <p className="field__hint">{t('upload.limits', { max: i18n.number(MAX_UPLOAD_BYTES / (1024 * 1024)) })}</p>
        </div>
        <div className="field field--check">
          <input
            id={saverId}
            type="checkbox"
            checked={saver}
            aria-describedby={saverHintId}
            onChange={(e) => {
              setSaver(e.target.checked)
              storeDataSaver(e.target.checked)
            }}
          />
          <label htmlFor={saverId}>{t('upload.saver')}</label>
          <p id={saverHintId} className="field__hint">
            {t('upload.saver_hint', { px: i18n.number(SAVER_LONG_EDGE) })}
          </p>
        </div>
        {making > 0 && <p className="field__hint">{t('upload.saver_making')}</p>}
        {saved > 0 && <p className="upload-saved">{t('upload.saver_saved', { size: fileSize(i18n, saved) })}</p>}

        <p className="upload-summary" role="status" aria-live="polite">
          {summary}
        </p>

        {items.length > 0 && (
          <ul className="upload-list" aria-label={t('upload.files')}>
            {items.map((item) => (
              <ItemRow key={item.id} item={item} queue={queue} />
            ))}
          </ul>
        )}

        <div className="actions">
          <button
            type="button"
            className="button"
            disabled={albumId === null || counts.ready === 0}
            onClick={() => albumId !== null && queue.start(albumId)}
          >
            {counts.ready > 0 ? tn('upload.start', counts.ready) : t('upload.start_none')}
          </button>
          {counts.done > 0 && (
            <button type="button" className="button button--quiet" onClick={() => queue.clearDone()}>
              {t('upload.clear_done')}
            </button>
          )}
          {doneAlbum !== null && (
            <Link className="button button--quiet" to={`/albums/${doneAlbum}`}>
              {t('upload.see_album')}
            </Link>
          )}
        </div>
        {albumId === null && counts.ready > 0 && <p className="field__hint">{t('upload.need_album')}</p>}
      </section>
    </>
  )
}

export default function UploadPage() {
  const { t } = useI18n()
  return (
    <RequireLogin>
      {(me) => (
        <>
          <PageTitle title={t('upload.title')} />
          <p className="lede">{t('upload.lede')}</p>
          <Uploader me={me} />
        </>
      )}
    </RequireLogin>
  )
}
