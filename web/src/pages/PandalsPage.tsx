import { useQuery } from '@tanstack/react-query'
import { useState } from 'react'
import { useNavigate, useSearchParams } from 'react-router'
import { getPandalFacets, listPandals } from '../api/endpoints'
import { PandalList } from '../components/Cards'
import { SelectField } from '../components/Field'
import { LoadMore } from '../components/LoadMore'
import { PageTitle } from '../components/PageTitle'
import { PandalForm } from '../components/PandalForm'
import { ErrorNotice, Loading } from '../components/Status'
import { useCursorList } from '../hooks/useCursorList'
import { useMe } from '../hooks/useSession'
import { useI18n } from '../i18n'
import { keys } from '../queryClient'

export default function PandalsPage() {
  const { t, year: formatYear, number } = useI18n()
  const me = useMe()
  const navigate = useNavigate()
  const [params, setParams] = useSearchParams()
  const [adding, setAdding] = useState(false)
  const city = params.get('city') ?? ''
  const yearText = params.get('year') ?? ''
  const year = /^\d{4}$/.test(yearText) ? Number(yearText) : undefined

  const facets = useQuery({ queryKey: keys.facets, queryFn: ({ signal }) => getPandalFacets(signal) })
  const list = useCursorList(keys.pandals(city, year), (cursor, signal) => listPandals({ city, year, cursor }, signal))

  const setFilter = (name: 'city' | 'year', value: string) => {
    const next = new URLSearchParams(params)
    if (value) next.set(name, value)
    else next.delete(name)
    setParams(next, { replace: true })
  }

  return (
    <>
      <div className="page-head">
        <div>
          <PageTitle title={t('pandals.title')} />
          <p className="lede">{t('pandals.lede')}</p>
        </div>
        {me?.role === 'admin' && (
          <p className="page-actions">
            <button type="button" className="button" aria-expanded={adding} onClick={() => setAdding(!adding)}>
              {t('pandal.add')}
            </button>
          </p>
        )}
      </div>
      {adding && <PandalForm onDone={(p) => navigate(`/pandals/${p.id}`)} />}

      <form className="filters" role="search" aria-label={t('pandals.filters')} onSubmit={(e) => e.preventDefault()}>
        <SelectField label={t('pandal.city')} value={city} onChange={(e) => setFilter('city', e.target.value)}>
          <option value="">{t('pandals.all_cities')}</option>
          {facets.data?.cities.map((c) => (
            <option key={c.city} value={c.city}>
              {c.city} ({number(c.count)})
            </option>
          ))}
        </SelectField>
        <SelectField label={t('pandal.year')} value={yearText} onChange={(e) => setFilter('year', e.target.value)}>
          <option value="">{t('pandals.all_years')}</option>
          {facets.data?.years.map((y) => (
            <option key={y.year} value={String(y.year)}>
              {formatYear(y.year)} ({number(y.count)})
            </option>
          ))}
        </SelectField>
        {(city || yearText) && (
          <button type="button" className="button button--quiet" onClick={() => setParams(new URLSearchParams(), { replace: true })}>
            {t('pandals.clear')}
          </button>
        )}
      </form>

      {list.isPending ? (
        <Loading />
      ) : list.error && list.items.length === 0 ? (
        <ErrorNotice error={list.error} onRetry={list.refetch} />
      ) : list.items.length === 0 ? (
        <p className="empty">{t('pandals.empty')}</p>
      ) : (
        <>
          <PandalList pandals={list.items} label={t('pandals.title')} heading="h2" />
          <LoadMore list={list} />
        </>
      )}
    </>
  )
}
