import { describe, expect, it, vi } from 'vitest'
import { ApiError } from './client'
import { fetchTransport } from './transport'
import { fingerprint, sendResumable, uploadMetadata, type ResumeStore } from './tus'

const URL_A = '/api/v1/uploads/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'

interface Seen {
  method: string
  url: string
  init: RequestInit
  headers: Record<string, string>
  body: string | null
}

/** A fetch that answers from `answers` in order and remembers every request. */
function fakeFetch(answers: (() => Response | Promise<Response>)[]) {
  const seen: Seen[] = []
  const fetch = vi.fn(async (url: string, init: RequestInit) => {
    const body = init.body instanceof Blob ? await init.body.text() : null
    seen.push({ method: init.method ?? 'GET', url, init, headers: { ...(init.headers as Record<string, string>) }, body })
    const next = answers.shift()
    if (!next) throw new Error(`no answer for ${init.method} ${url}`)
    return next()
  })
  vi.stubGlobal('fetch', fetch)
  return seen
}

const empty = (status: number, headers: Record<string, string> = {}) => () => new Response(null, { status, headers })

describe('fetchTransport', () => {
  it('sends the request with the cookie, asks for JSON and reads the answer', async () => {
    const seen = fakeFetch([() => Response.json({ error: { code: 'locked', message: 'busy' } }, { status: 423, headers: { 'Retry-After': '3' } })])
    const answer = await fetchTransport('PATCH', URL_A, { 'Upload-Offset': '4' }, new Blob(['abcd']))
    expect(seen[0]).toMatchObject({ method: 'PATCH', url: URL_A, body: 'abcd' })
    expect(seen[0]!.headers).toEqual({ Accept: 'application/json', 'Upload-Offset': '4' })
    expect(seen[0]!.init).toMatchObject({ credentials: 'same-origin', cache: 'no-store' })
    expect(answer.status).toBe(423)
    expect(answer.header('retry-after')).toBe('3')
    expect(answer.body).toEqual({ error: { code: 'locked', message: 'busy' } })
  })

  it('reads no body of a HEAD, and tells of the whole body once it went', async () => {
    fakeFetch([empty(200, { 'Upload-Offset': '6' }), empty(204, { 'Upload-Offset': '10' })])
    const head = await fetchTransport('HEAD', URL_A, {}, null)
    expect([head.status, head.header('Upload-Offset'), head.body]).toEqual([200, '6', undefined])
    const progress = vi.fn()
    await fetchTransport('PATCH', URL_A, {}, new Blob(['6789']), undefined, progress)
    expect(progress.mock.calls).toEqual([[4, 4]])
  })

  it('turns a failed connection into network_error, and an abort into AbortError', async () => {
    fakeFetch([() => Promise.reject(new TypeError('Failed to fetch'))])
    const err = await fetchTransport('POST', '/api/v1/uploads', {}, null).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ status: 0, code: 'network_error' })

    const controller = new AbortController()
    fakeFetch([() => (controller.abort(), Promise.reject(new DOMException('aborted', 'AbortError')))])
    await expect(fetchTransport('PATCH', URL_A, {}, null, controller.signal)).rejects.toMatchObject({ name: 'AbortError' })
    const seen = fakeFetch([])
    await expect(fetchTransport('PATCH', URL_A, {}, null, controller.signal)).rejects.toMatchObject({ name: 'AbortError' })
    expect(seen).toHaveLength(0)
  })

  it('carries the tus client as XMLHttpRequest does: create, PATCH with offset and sha256, resume by HEAD', async () => {
    const map = new Map<string, string>()
    const store: ResumeStore = {
      get: async (key) => map.get(key) ?? null,
      set: async (key, url) => void map.set(key, url),
      remove: async (key) => void map.delete(key),
    }
    const file = new File(['0123456789'], 'ঠাকুর.jpg', { type: 'image/jpeg', lastModified: 1700000000000 })
    const seen = fakeFetch([
      empty(201, { Location: `http://localhost:3000${URL_A}` }),
      empty(204, { 'Upload-Offset': '4' }),
      () => Promise.reject(new TypeError('Failed to fetch')),
    ])
    const first = sendResumable(file, { transport: fetchTransport, albumId: 7, caption: 'Maa', store, chunkBytes: 4 })
    await expect(first).rejects.toMatchObject({ code: 'network_error' })
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(['POST /api/v1/uploads', `PATCH ${URL_A}`, `PATCH ${URL_A}`])
    expect(seen[0]!.headers).toMatchObject({
      'Tus-Resumable': '1.0.0',
      'Upload-Length': '10',
      'Upload-Metadata': uploadMetadata(7, 'ঠাকুর.jpg', 'Maa'),
    })
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode('0123')))
    expect(seen[1]!.headers).toMatchObject({
      'Tus-Resumable': '1.0.0',
      'Content-Type': 'application/offset+octet-stream',
      'Upload-Offset': '0',
      'Upload-Checksum': `sha256 ${btoa(String.fromCharCode(...digest))}`,
    })
    expect(seen[1]!.body).toBe('0123')
    expect(seen[2]!.headers['Upload-Offset']).toBe('4')
    // The address is kept (its path: the same origin), so the next sender goes on from the offset.
    expect(map.get(fingerprint(file, 7, 'Maa'))).toBe(URL_A)

    const again = fakeFetch([empty(200, { 'Upload-Offset': '4', 'Upload-Length': '10' }), empty(204, { 'Upload-Offset': '10', 'Pujo-Photo-Id': '42' })])
    await expect(sendResumable(file, { transport: fetchTransport, albumId: 7, caption: 'Maa', store, keepWhenDone: true })).resolves.toBe(42)
    expect(again.map((s) => `${s.method} ${s.url} ${s.headers['Upload-Offset'] ?? ''}`)).toEqual([`HEAD ${URL_A} `, `PATCH ${URL_A} 4`])
    expect(again[1]!.body).toBe('456789')
  })
})
