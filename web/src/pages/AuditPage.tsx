import { useSearchParams } from 'react-router'
import { listAudit } from '../api/endpoints'
import type { AuditEvent } from '../api/types'
import { SelectField } from '../components/Field'
import { LoadMore } from '../components/LoadMore'
import { PageTitle } from '../components/PageTitle'
import { RequireLogin } from '../components/RequireLogin'
import { ErrorNotice, Loading } from '../components/Status'
import { useCursorList } from '../hooks/useCursorList'
import { useI18n } from '../i18n'
import type { MessageKey } from '../i18n/en'
import { keys } from '../queryClient'

/** The actions Pujo records, in the order the filter offers them. */
export const AUDIT_ACTIONS = [
  'auth.login',
  'auth.login_failed',
  'account.password_changed',
  'account.password_confirmation_failed',
  'account.deleted',
  'album.visibility_changed',
  'album.link_rotated',
  'album.deleted',
  'moderation.photo_removed',
  'moderation.comment_removed',
  'role.admin_granted',
  'role.admin_revoked',
  'pandal.created',
  'pandal.updated',
] as const

function actionLabel(t: (key: MessageKey) => string, action: string): string {
  return (AUDIT_ACTIONS as readonly string[]).includes(action) ? t(`audit.action.${action}` as MessageKey) : action
}

function Events({ action }: { action: string }) {
  const { t, dateTime } = useI18n()
  const list = useCursorList<AuditEvent>(keys.audit(action), (cursor, signal) =>
    listAudit({ action: action || undefined, cursor }, signal),
  )
  if (list.isPending) return <Loading />
  if (list.error && list.items.length === 0) return <ErrorNotice error={list.error} onRetry={list.refetch} />
  if (list.items.length === 0) return <p className="empty">{t('audit.empty')}</p>
  return (
    <>
      <div className="table-scroll">
        <table className="audit">
          <caption className="visually-hidden">{t('audit.title')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('audit.when')}</th>
              <th scope="col">{t('audit.who')}</th>
              <th scope="col">{t('audit.what')}</th>
              <th scope="col">{t('audit.object')}</th>
              <th scope="col">{t('audit.network')}</th>
            </tr>
          </thead>
          <tbody>
            {list.items.map((e) => (
              <tr key={e.id}>
                <td>
                  <time dateTime={e.at}>{dateTime(e.at)}</time>
                </td>
                <td>
                  {e.actor.kind === 'cli'
                    ? t('audit.cli')
                    : e.actor.kind === 'anonymous'
                      ? e.actor.name
                        ? t('audit.anonymous', { name: e.actor.name })
                        : t('audit.nobody')
                      : e.actor.name}
                </td>
                <td>{actionLabel(t, e.action)}</td>
                <td>{e.object.id ? `${e.object.kind} ${e.object.id}` : e.object.kind}</td>
                <td>
                  <code>{e.client}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <LoadMore list={list} />
    </>
  )
}

/** The audit log, for admins: newest first, filtered by action. */
export default function AuditPage() {
  const { t } = useI18n()
  const [params, setParams] = useSearchParams()
  const action = params.get('action') ?? ''
  return (
    <RequireLogin>
      {(me) =>
        me.role !== 'admin' ? (
          <p className="empty">{t('audit.admins_only')}</p>
        ) : (
          <>
            <PageTitle title={t('audit.title')} />
            <p className="lede">{t('audit.lede')}</p>
            <form className="filters" role="search" aria-label={t('audit.filter')} onSubmit={(e) => e.preventDefault()}>
              <SelectField
                label={t('audit.what')}
                value={action}
                onChange={(e) => setParams(e.target.value ? { action: e.target.value } : {}, { replace: true })}
              >
                <option value="">{t('audit.all')}</option>
                {AUDIT_ACTIONS.map((a) => (
                  <option key={a} value={a}>
                    {actionLabel(t, a)}
                  </option>
                ))}
              </SelectField>
            </form>
            <Events action={action} />
          </>
        )
      }
    </RequireLogin>
  )
}
