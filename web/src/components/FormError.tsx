import { ApiError } from '../api/client'
import { useI18n } from '../i18n'
import { errorText } from '../i18n/errors'

/** The server's per-field messages (validation and conflict errors name fields). */
export function fieldErrors(error: unknown): Record<string, string> {
  return error instanceof ApiError ? error.fields : {}
}

/** A form's overall error, announced when it appears. */
export function FormError({ error, override }: { error: unknown; override?: string }) {
  const i18n = useI18n()
  if (!error) return null
  return (
    <p className="form-error" role="alert">
      {override ?? errorText(i18n, error)}
    </p>
  )
}
