/**
 * Tiny client for the Pujo JSON API (same origin as the page).
 *
 * Every failure surfaces as an {@link ApiError}: the server's error body
 * `{"error":{"code":"...","message":"...","fields":{...}}}` is parsed into
 * it, and network failures / unexpected responses get a synthetic code.
 */

/** Per-field validation messages, keyed by field name. */
export type FieldErrors = Record<string, string>

/** Error body the server sends with every non-2xx JSON response. */
export interface ApiErrorBody {
  error: {
    code: string
    message: string
    fields?: FieldErrors
  }
}

/** Codes produced on the client side, never sent by the server. */
export const NETWORK_ERROR = 'network_error'
export const INVALID_RESPONSE = 'invalid_response'

export class ApiError extends Error {
  /** HTTP status; 0 when the request never got a response. */
  readonly status: number
  /** Machine-readable code, e.g. `validation_failed`, `not_found`. */
  readonly code: string
  /** Per-field messages for form validation errors (may be empty). */
  readonly fields: FieldErrors
  /** Seconds to wait before trying again (from `Retry-After` on 429/503), if given. */
  retryAfter: number | null = null

  constructor(status: number, code: string, message: string, fields: FieldErrors = {}, options?: ErrorOptions) {
    super(message, options)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.fields = fields
  }
}

/** `Retry-After` in seconds: either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (value == null || value.trim() === '') return null
  if (/^\d+$/.test(value.trim())) return Number(value.trim())
  const when = Date.parse(value)
  if (Number.isNaN(when)) return null
  return Math.max(0, Math.ceil((when - now) / 1000))
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function toFieldErrors(value: unknown): FieldErrors {
  const out: FieldErrors = {}
  if (!isRecord(value)) return out
  for (const [field, msg] of Object.entries(value)) {
    if (typeof msg === 'string') out[field] = msg
    else if (Array.isArray(msg)) out[field] = msg.map(String).join('; ')
    else if (msg != null) out[field] = String(msg)
  }
  return out
}

/**
 * Build an {@link ApiError} from an HTTP status and a (possibly malformed)
 * parsed JSON body. Falls back to a generic `http_<status>` code when the
 * body is not the server's error shape.
 */
export function apiErrorFromBody(status: number, body: unknown, statusText = ''): ApiError {
  if (isRecord(body) && isRecord(body.error)) {
    const { code, message, fields } = body.error
    if (typeof code === 'string' && code !== '') {
      return new ApiError(
        status,
        code,
        typeof message === 'string' && message !== '' ? message : `Request failed (${code})`,
        toFieldErrors(fields),
      )
    }
  }
  const text = statusText ? `${status} ${statusText}` : String(status)
  return new ApiError(status, `http_${status}`, `Request failed with HTTP ${text}`)
}

async function readJson(res: Response): Promise<unknown> {
  const text = await res.text()
  if (text.trim() === '') return undefined
  return JSON.parse(text) as unknown
}

/**
 * `fetch` a JSON endpoint on this origin and return the parsed body.
 * Sends cookies (`credentials: 'same-origin'`); throws {@link ApiError}
 * on network failure, non-2xx status or a non-JSON success body.
 * An aborted request rethrows the original `AbortError`.
 */
export async function apiFetch<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers)
  if (!headers.has('Accept')) headers.set('Accept', 'application/json')
  if (typeof init.body === 'string' && !headers.has('Content-Type')) {
    headers.set('Content-Type', 'application/json')
  }

  let res: Response
  try {
    res = await fetch(path, { ...init, headers, credentials: 'same-origin' })
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err
    throw new ApiError(0, NETWORK_ERROR, 'Could not reach the server', {}, { cause: err })
  }

  let body: unknown
  try {
    body = await readJson(res)
  } catch (err) {
    if (!res.ok) throw apiErrorFromBody(res.status, undefined, res.statusText)
    throw new ApiError(res.status, INVALID_RESPONSE, 'The server sent a response that is not JSON', {}, { cause: err })
  }

  if (!res.ok) {
    const err = apiErrorFromBody(res.status, body, res.statusText)
    err.retryAfter = parseRetryAfter(res.headers.get('Retry-After'))
    throw err
  }
  return body as T
}

/** POST/PUT/PATCH helper: serialises `data` as JSON. */
export function apiSend<T>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, data?: unknown, init: RequestInit = {}): Promise<T> {
  return apiFetch<T>(path, {
    ...init,
    method,
    body: data === undefined ? undefined : JSON.stringify(data),
  })
}

/** Every JSON endpoint lives under this prefix. */
export const API = '/api/v1'

/** `?a=1&b=x` from the defined, non-empty values (empty string when none). */
export function query(params: Record<string, string | number | null | undefined>): string {
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue
    search.set(key, String(value))
  }
  const text = search.toString()
  return text === '' ? '' : `?${text}`
}

/** `GET /api/v1/health` response (extra fields are ignored). */
export interface Health {
  status: string
  version: string
}

export async function getHealth(signal?: AbortSignal): Promise<Health> {
  const body = await apiFetch<unknown>('/api/v1/health', { signal })
  if (!isRecord(body) || typeof body.status !== 'string' || typeof body.version !== 'string') {
    throw new ApiError(200, INVALID_RESPONSE, 'Health response is missing status or version')
  }
  return { status: body.status, version: body.version }
}
