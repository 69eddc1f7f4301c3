/**
 * One request over XMLHttpRequest, because `fetch` cannot report upload
 * progress: the multipart upload and the tus client both send through it.
 */
import { ApiError, NETWORK_ERROR, apiErrorFromBody, parseRetryAfter } from './client'

/** What came back: the status, a header reader, and the body parsed as JSON (or undefined). */
export interface Answer {
  status: number
  header: (name: string) => string | null
  body: unknown
  statusText: string
}

export function abortError(): DOMException {
  return new DOMException('The upload was cancelled', 'AbortError')
}

/**
 * Sends `body` and resolves with the answer, whatever its status; rejects with
 * an {@link ApiError} when the server could not be reached, or an `AbortError`.
 * `onProgress` gets the bytes of the body sent so far and its total.
 */
export function xhrSend(
  method: string,
  url: string,
  headers: Record<string, string>,
  body: Blob | FormData | null,
  signal?: AbortSignal,
  onProgress?: (loaded: number, total: number) => void,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError())
      return
    }
    const xhr = new XMLHttpRequest()
    xhr.open(method, url)
    xhr.setRequestHeader('Accept', 'application/json')
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value)
    xhr.responseType = 'text'
    const onAbort = () => xhr.abort()
    signal?.addEventListener('abort', onAbort, { once: true })
    const done = () => signal?.removeEventListener('abort', onAbort)
    if (onProgress) {
      xhr.upload.onprogress = (event) => {
        if (event.lengthComputable) onProgress(event.loaded, event.total)
      }
    }
    xhr.onabort = () => {
      done()
      reject(abortError())
    }
    xhr.onerror = () => {
      done()
      reject(new ApiError(0, NETWORK_ERROR, 'Could not reach the server'))
    }
    xhr.ontimeout = xhr.onerror
    xhr.onload = () => {
      done()
      let parsed: unknown
      try {
        parsed = xhr.responseText.trim() === '' ? undefined : (JSON.parse(xhr.responseText) as unknown)
      } catch {
        parsed = undefined
      }
      resolve({
        status: xhr.status,
        header: (name) => xhr.getResponseHeader(name),
        body: parsed,
        statusText: xhr.statusText,
      })
    }
    xhr.send(body)
  })
}

/** The {@link ApiError} a failed answer stands for, with its `Retry-After`. */
export function failure(answer: Answer): ApiError {
  const err = apiErrorFromBody(answer.status, answer.body, answer.statusText)
  err.retryAfter = parseRetryAfter(answer.header('Retry-After'))
  return err
}
