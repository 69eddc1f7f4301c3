/**
 * Photo upload over XMLHttpRequest, because `fetch` cannot report upload
 * progress. One file per request, so every file has its own progress bar.
 */
import { ApiError, NETWORK_ERROR, INVALID_RESPONSE, apiErrorFromBody, parseRetryAfter } from './client'
import { albumPhotosUrl } from './endpoints'
import type { Photo } from './types'

export interface UploadOptions {
  caption?: string
  /** Bytes sent so far and the request's total (the multipart body, not just the file). */
  onProgress?: (loaded: number, total: number) => void
  signal?: AbortSignal
}

function abortError(): DOMException {
  return new DOMException('The upload was cancelled', 'AbortError')
}

/**
 * `POST /api/v1/albums/{id}/photos` with one `file` part and an optional
 * `caption` part. Resolves with the created photos; rejects with an
 * {@link ApiError} (server error, network failure) or an `AbortError`.
 */
export function uploadPhoto(albumId: number, file: File, options: UploadOptions = {}): Promise<Photo[]> {
  const { caption, onProgress, signal } = options
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError())
      return
    }
    const form = new FormData()
    if (caption && caption.trim() !== '') form.append('caption', caption.trim())
    form.append('file', file, file.name)

    const xhr = new XMLHttpRequest()
    xhr.open('POST', albumPhotosUrl(albumId))
    xhr.setRequestHeader('Accept', 'application/json')
    xhr.responseType = 'text'

    const onAbort = () => xhr.abort()
    signal?.addEventListener('abort', onAbort, { once: true })
    const done = () => signal?.removeEventListener('abort', onAbort)

    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress?.(event.loaded, event.total)
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
      let body: unknown
      try {
        body = xhr.responseText.trim() === '' ? undefined : (JSON.parse(xhr.responseText) as unknown)
      } catch {
        body = undefined
      }
      if (xhr.status < 200 || xhr.status >= 300) {
        const err = apiErrorFromBody(xhr.status, body, xhr.statusText)
        err.retryAfter = parseRetryAfter(xhr.getResponseHeader('Retry-After'))
        reject(err)
        return
      }
      const items = (body as { items?: unknown } | undefined)?.items
      if (!Array.isArray(items)) {
        reject(new ApiError(xhr.status, INVALID_RESPONSE, 'The server sent a response that is not a photo list'))
        return
      }
      resolve(items as Photo[])
    }
    xhr.send(form)
  })
}
