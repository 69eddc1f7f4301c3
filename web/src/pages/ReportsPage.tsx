import { useMutation, useQueryClient } from '@tanstack/react-query'
import { Link } from 'react-router'
import { actOnReport, listReports, type ReportAction } from '../api/endpoints'
import type { Report } from '../api/types'
import { FormError } from '../components/FormError'
import { LoadMore } from '../components/LoadMore'
import { PageTitle } from '../components/PageTitle'
import { RequireLogin } from '../components/RequireLogin'
import { ErrorNotice, Loading } from '../components/Status'
import { useCursorList } from '../hooks/useCursorList'
import { useI18n } from '../i18n'
import { keys } from '../queryClient'

/**
 * Open reports the person may act on (on their albums, in the pandals they
 * moderate, or all of them for an admin): what was reported and why, and
 * remove, dismiss or, for a guest's photo, ban the link it came through.
 */
export default function ReportsPage() {
  return (
    <RequireLogin>{() => <Reports />}</RequireLogin>
  )
}

function Reports() {
  const { t, date } = useI18n()
  const client = useQueryClient()
  const list = useCursorList<Report>(keys.reports, (cursor, signal) => listReports({ cursor }, signal))
  const act = useMutation({
    mutationFn: ({ id, action }: { id: number; action: ReportAction }) => actOnReport(id, action),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: keys.reports })
      void client.invalidateQueries({ queryKey: ['albums'] })
      void client.invalidateQueries({ queryKey: ['photos'] })
    },
  })
  return (
    <>
      <PageTitle title={t('reports.title')} />
      <FormError error={act.error} />
      {list.isPending ? (
        <Loading />
      ) : list.error && list.items.length === 0 ? (
        <ErrorNotice error={list.error} onRetry={list.refetch} />
      ) : list.items.length === 0 ? (
        <p className="empty">{t('reports.empty')}</p>
      ) : (
        <ul className="reports" aria-label={t('reports.list')}>
          {list.items.map((r) => (
            <li key={r.id} className="report panel">
              {r.target.thumb && <img src={r.target.thumb} alt={t('reports.photo_alt')} width={160} height={120} loading="lazy" />}
              {r.target.text && <blockquote className="report__text">{r.target.text}</blockquote>}
              <p>
                <strong>{t(`report.reason.${r.reason}`)}</strong> · {r.by_member ? t('reports.by_member') : t('reports.by_visitor')} ·{' '}
                <time dateTime={r.created_at}>{date(r.created_at)}</time>
              </p>
              {r.note && <p className="report__note">{r.note}</p>}
              {r.target.photo_id && <Link to={`/photos/${r.target.photo_id}`}>{t('reports.open_photo')}</Link>}
              <div className="actions">
                <button type="button" className="button" disabled={act.isPending} onClick={() => act.mutate({ id: r.id, action: 'remove' })}>
                  {t('reports.remove')}
                </button>
                <button
                  type="button"
                  className="button button--quiet"
                  disabled={act.isPending}
                  onClick={() => act.mutate({ id: r.id, action: 'dismiss' })}
                >
                  {t('reports.dismiss')}
                </button>
                {r.target.from_guest_link && (
                  <button
                    type="button"
                    className="button button--quiet"
                    disabled={act.isPending}
                    onClick={() => act.mutate({ id: r.id, action: 'ban_link' })}
                  >
                    {t('reports.ban_link')}
                  </button>
                )}
              </div>
            </li>
          ))}
        </ul>
      )}
      <LoadMore list={list} />
    </>
  )
}
