import { ApiError } from '../api/client'
import type { I18n } from './index'
import type { MessageKey } from './en'

const KNOWN: Record<string, MessageKey> = {
  not_found: 'error.not_found',
  unauthorized: 'error.unauthorized',
  forbidden: 'error.forbidden',
  csrf: 'error.csrf',
  validation: 'error.validation',
  conflict: 'error.conflict',
  payload_too_large: 'error.payload_too_large',
  unsupported_media_type: 'error.unsupported_media_type',
  unavailable: 'error.unavailable',
  busy: 'error.unavailable',
  network_error: 'error.network_error',
  invalid_response: 'error.invalid_response',
}

/**
 * An error in the reader's language. Codes the site knows get its own words;
 * anything else shows the server's message (which is in English).
 */
export function errorText(i18n: Pick<I18n, 't'>, err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === 'rate_limited') {
      return err.retryAfter != null
        ? i18n.t('error.rate_limited_wait', { seconds: err.retryAfter })
        : i18n.t('error.rate_limited')
    }
    const key = KNOWN[err.code]
    if (key) return i18n.t(key)
    return err.message
  }
  return i18n.t('error.unknown')
}
