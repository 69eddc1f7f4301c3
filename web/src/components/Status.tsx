import { ApiError } from '../api/client'
import { useI18n } from '../i18n'
import { errorText } from '../i18n/errors'
import { NotFoundContent } from '../pages/NotFoundPage'

export function Loading({ label }: { label?: string }) {
  const { t } = useI18n()
  return (
    <p className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label ?? t('common.loading')}
    </p>
  )
}

/** An error in words, with a way to try again when that can help. */
export function ErrorNotice({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const i18n = useI18n()
  return (
    <div className="notice notice--error" role="alert">
      <p>{errorText(i18n, error)}</p>
      {onRetry && (
        <button type="button" className="button button--quiet" onClick={onRetry}>
          {i18n.t('common.retry')}
        </button>
      )}
    </div>
  )
}

export function isNotFound(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404
}

/** A 404 (which private things answer to strangers too) is a friendly page; anything else a notice. */
export function ResourceError({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (isNotFound(error)) return <NotFoundContent />
  return <ErrorNotice error={error} onRetry={onRetry} />
}
