import { useQuery } from '@tanstack/react-query'
import { useEffect, useState, type FormEvent } from 'react'
import { useSearchParams } from 'react-router'
import { search } from '../api/endpoints'
import { AlbumList, PandalList } from '../components/Cards'
import { PageTitle } from '../components/PageTitle'
import { JustifiedGrid } from '../components/JustifiedGrid'
import { Lightbox } from '../components/Lightbox'
import { ErrorNotice, Loading } from '../components/Status'
import { useI18n } from '../i18n'
import { keys } from '../queryClient'

const LIMIT = 24

export default function SearchPage() {
  const { t, tn } = useI18n()
  const [params, setParams] = useSearchParams()
  const q = (params.get('q') ?? '').trim().slice(0, 200)
  const [text, setText] = useState(q)
  const [open, setOpen] = useState<number | null>(null)
  useEffect(() => setText(q), [q])

  const results = useQuery({
    queryKey: keys.search(q),
    queryFn: ({ signal }) => search(q, LIMIT, signal),
    enabled: q !== '',
  })

  const submit = (event: FormEvent) => {
    event.preventDefault()
    const value = text.trim()
    setParams(value ? { q: value } : {})
  }

  const data = results.data
  const total = data ? data.photos.length + data.albums.length + data.pandals.length : 0

  return (
    <>
      <PageTitle title={q ? t('search.title_for', { q }) : t('search.title')}>{t('search.title')}</PageTitle>
      <form role="search" className="search-form" onSubmit={submit}>
        <label htmlFor="search-q">{t('search.label')}</label>
        <div className="search-form__row">
          <input
            id="search-q"
            type="search"
            value={text}
            maxLength={200}
            onChange={(e) => setText(e.target.value)}
            placeholder={t('search.placeholder')}
            enterKeyHint="search"
          />
          <button className="button" type="submit">
            {t('search.submit')}
          </button>
        </div>
      </form>

      <div aria-live="polite">
        {q === '' ? (
          <p className="lede">{t('search.hint')}</p>
        ) : results.isPending ? (
          <Loading />
        ) : results.error ? (
          <ErrorNotice error={results.error} onRetry={() => void results.refetch()} />
        ) : total === 0 ? (
          <p className="empty">{t('search.none', { q })}</p>
        ) : (
          <p className="result-count">{tn('search.count', total)}</p>
        )}
      </div>

      {data && data.pandals.length > 0 && (
        <section aria-labelledby="search-pandals">
          <h2 id="search-pandals" className="section-title">
            {t('search.pandals')}
          </h2>
          <PandalList pandals={data.pandals} label={t('search.pandals')} />
        </section>
      )}
      {data && data.albums.length > 0 && (
        <section aria-labelledby="search-albums">
          <h2 id="search-albums" className="section-title">
            {t('search.albums')}
          </h2>
          <AlbumList albums={data.albums} label={t('search.albums')} />
        </section>
      )}
      {data && data.photos.length > 0 && (
        <section aria-labelledby="search-photos">
          <h2 id="search-photos" className="section-title">
            {t('search.photos')}
          </h2>
          <JustifiedGrid photos={data.photos} label={t('search.photos')} onOpen={setOpen} />
          {open !== null && (
            <Lightbox photos={data.photos} index={open} onIndexChange={setOpen} onClose={() => setOpen(null)} />
          )}
        </section>
      )}
    </>
  )
}
