import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from './client'
import { FakeXhr } from '../test/fakeXhr'
import { fingerprint, type ResumeStore } from './tus'
import { discardResumable, uploadPhoto, uploadResumable } from './upload'
import { xhrSend } from './xhr'

function xhr(): FakeXhr {
  if (!FakeXhr.last) throw new Error('no request was made')
  return FakeXhr.last
}

afterEach(() => {
  FakeXhr.last = null
  FakeXhr.all = []
})

const file = () => new File(['jpeg bytes'], 'durga.jpg', { type: 'image/jpeg' })

describe('uploadPhoto', () => {
  it('posts one file and the caption as multipart, reporting progress', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr)
    const progress = vi.fn()
    const done = uploadPhoto(xhrSend, 12, file(), { caption: '  Maa Durga ', onProgress: progress })

    expect(xhr().method).toBe('POST')
    expect(xhr().url).toBe('/api/v1/albums/12/photos')
    expect(xhr().headers.Accept).toBe('application/json')
    expect(xhr().body!.get('caption')).toBe('Maa Durga')
    expect((xhr().body!.get('file') as File).name).toBe('durga.jpg')
    expect(xhr().body!.getAll('file')).toHaveLength(1)

    xhr().progress(10, 100)
    xhr().progress(100, 100)
    expect(progress.mock.calls).toEqual([
      [10, 100],
      [100, 100],
    ])
    xhr().respond(201, { items: [{ id: 5 }] })
    await expect(done).resolves.toEqual([{ id: 5 }])
  })

  it('leaves out an empty caption', () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr)
    void uploadPhoto(xhrSend, 1, file(), { caption: '   ' })
    expect(xhr().body!.has('caption')).toBe(false)
  })

  it('rejects with the server error envelope, fields and Retry-After', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr)
    const done = uploadPhoto(xhrSend, 1, file())
    xhr().respond(429, { error: { code: 'rate_limited', message: 'slow down' } }, { 'Retry-After': '30' })
    const err = await done.catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ status: 429, code: 'rate_limited', message: 'slow down', retryAfter: 30 })

    const again = uploadPhoto(xhrSend, 1, file())
    xhr().respond(422, { error: { code: 'validation', message: 'bad', fields: { caption: 'is too long' } } })
    await expect(again).rejects.toMatchObject({ code: 'validation', fields: { caption: 'is too long' } })
  })

  it('gives an http_ code to a non-JSON error page', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr)
    const done = uploadPhoto(xhrSend, 1, file())
    xhr().respond(502, '<html>bad gateway</html>')
    await expect(done).rejects.toMatchObject({ status: 502, code: 'http_502' })
  })

  it('turns a network failure into network_error', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr)
    const done = uploadPhoto(xhrSend, 1, file())
    xhr().onerror?.()
    await expect(done).rejects.toMatchObject({ status: 0, code: 'network_error' })
  })

  it('aborts the request when the signal fires, rejecting with AbortError', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr)
    const controller = new AbortController()
    const done = uploadPhoto(xhrSend, 1, file(), { signal: controller.signal })
    controller.abort()
    expect(xhr().aborted).toBe(true)
    await expect(done).rejects.toMatchObject({ name: 'AbortError' })
  })

  it('does not start when already cancelled', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr)
    const controller = new AbortController()
    controller.abort()
    await expect(uploadPhoto(xhrSend, 1, file(), { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' })
    expect(FakeXhr.last).toBeNull()
  })

  it('rejects a success answer without a photo list', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr)
    const done = uploadPhoto(xhrSend, 1, file())
    xhr().respond(201, { id: 1 })
    await expect(done).rejects.toMatchObject({ code: 'invalid_response' })
  })
})

describe('uploadResumable', () => {
  it('sends the file as one multipart request where the server has no resumable uploads (501)', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr)
    const progress = vi.fn()
    const done = uploadResumable(xhrSend, 12, file(), { caption: 'Maa', onProgress: progress })
    await vi.waitFor(() => expect(xhr().url).toBe('/api/v1/uploads'))
    xhr().respond(501, { error: { code: 'not_implemented', message: 'resumable uploads need the local blob store' } })
    await vi.waitFor(() => expect(xhr().url).toBe('/api/v1/albums/12/photos'))
    expect(xhr().body!.get('caption')).toBe('Maa')
    xhr().progress(50, 100)
    expect(progress).toHaveBeenLastCalledWith(5, 10)
    xhr().respond(201, { items: [{ id: 31 }] })
    await expect(done).resolves.toEqual([31])
  })

  it('gives up an unfinished upload: the server is told and the address forgotten', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr)
    const photo = file()
    const key = fingerprint(photo, 12, 'Maa')
    const map = new Map([[key, '/api/v1/uploads/cccccccccccccccccccccccccccccccc']])
    const store: ResumeStore = {
      get: async (k) => map.get(k) ?? null,
      set: async (k, url) => void map.set(k, url),
      remove: async (k) => void map.delete(k),
    }
    const done = discardResumable(xhrSend, store, 12, photo, ' Maa ')
    await vi.waitFor(() => expect(`${xhr().method} ${xhr().url}`).toBe('DELETE /api/v1/uploads/cccccccccccccccccccccccccccccccc'))
    expect(xhr().headers['Tus-Resumable']).toBe('1.0.0')
    expect(map.has(key)).toBe(false)
    xhr().respond(204, '')
    await done
  })
})
