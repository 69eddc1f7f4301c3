/**
 * The page's {@link Transport}: XMLHttpRequest, because `fetch` cannot report
 * upload progress. The multipart upload and the tus client send through it in
 * the page; the service worker, which has no XMLHttpRequest, uses
 * `fetchTransport` (transport.ts) instead.
 */
import { ApiError, NETWORK_ERROR } from './client'
import { abortError, type Answer, type Transport } from './transport'

export { abortError, failure, type Answer } from './transport'

/**
 * Sends `body` and resolves with the answer, whatever its status; rejects with
 * an {@link ApiError} when the server could not be reached, or an `AbortError`.
 * `onProgress` gets the bytes of the body sent so far and its total.
 */
export const xhrSend: Transport = (method, url, headers, body, signal, onProgress) =>
  new Promise<Answer>((resolve, reject) => {
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
