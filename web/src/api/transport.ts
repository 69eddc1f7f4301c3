/**
 * How an upload request goes: the tus client (tus.ts) and the multipart
 * upload (upload.ts) say what to send, a transport sends it.
 *
 * - {@link xhrSend} (xhr.ts) in the page: XMLHttpRequest, because only it
 *   reports upload progress, which the queue's progress bars need.
 * - {@link fetchTransport} here, in the service worker: workers have no
 *   XMLHttpRequest, and nobody watches a progress bar when it sends.
 *
 * Both send the session cookie and, on POST / PATCH / DELETE, `Origin`
 * (same origin), which Pujo's CSRF check wants. Nothing here needs a window:
 * the service worker bundles this file.
 */
import { ApiError, NETWORK_ERROR, apiErrorFromBody, parseRetryAfter } from './client'

/** What came back: the status, a header reader, and the body parsed as JSON (or undefined). */
export interface Answer {
  status: number
  header: (name: string) => string | null
  body: unknown
  statusText: string
}

/**
 * Sends `body` and resolves with the answer, whatever its status; rejects with
 * an {@link ApiError} (code `network_error`) when the server could not be
 * reached, or an `AbortError`. `onProgress` gets the bytes of the body sent so
 * far and its total (a transport that cannot tell reports the whole body once
 * it is sent).
 */
export type Transport = (
  method: string,
  url: string,
  headers: Record<string, string>,
  body: Blob | FormData | null,
  signal?: AbortSignal,
  onProgress?: (loaded: number, total: number) => void,
) => Promise<Answer>

export function abortError(): DOMException {
  return new DOMException('The upload was cancelled', 'AbortError')
}

/** The {@link ApiError} a failed answer stands for, with its `Retry-After`. */
export function failure(answer: Answer): ApiError {
  const err = apiErrorFromBody(answer.status, answer.body, answer.statusText)
  err.retryAfter = parseRetryAfter(answer.header('Retry-After'))
  return err
}

function parse(text: string): unknown {
  try {
    return text.trim() === '' ? undefined : (JSON.parse(text) as unknown)
  } catch {
    return undefined
  }
}

/** The size of a body, when it has one that can be told in advance. */
function sizeOf(body: Blob | FormData | null): number | null {
  return body instanceof Blob ? body.size : null
}

/**
 * {@link Transport} over `fetch`, for the service worker. No progress while
 * the body goes (fetch cannot tell): `onProgress` hears of the whole body once
 * the answer is in. Never cached: every tus answer is about now.
 */
export const fetchTransport: Transport = async (method, url, headers, body, signal, onProgress) => {
  if (signal?.aborted) throw abortError()
  let response: Response
  try {
    response = await fetch(url, {
      method,
      headers: { Accept: 'application/json', ...headers },
      body,
      signal,
      credentials: 'same-origin',
      cache: 'no-store',
    })
  } catch (err) {
    if (signal?.aborted || (err instanceof DOMException && err.name === 'AbortError')) throw abortError()
    throw new ApiError(0, NETWORK_ERROR, 'Could not reach the server', {}, { cause: err })
  }
  let text: string
  try {
    text = method === 'HEAD' ? '' : await response.text()
  } catch (err) {
    // The connection dropped while the answer came.
    if (signal?.aborted) throw abortError()
    throw new ApiError(0, NETWORK_ERROR, 'Could not reach the server', {}, { cause: err })
  }
  const size = sizeOf(body)
  if (size !== null && response.ok) onProgress?.(size, size)
  return {
    status: response.status,
    header: (name) => response.headers.get(name),
    body: parse(text),
    statusText: response.statusText,
  }
}
