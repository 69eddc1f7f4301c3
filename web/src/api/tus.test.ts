import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from './client'
import { FakeXhr } from '../test/fakeXhr'
import { fingerprint, guestMetadata, sendResumable, sendResumableUpload, uploadMetadata, type ResumeStore } from './tus'
import { xhrSend as transport } from './xhr'

const URL_A = '/api/v1/uploads/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'
const URL_B = '/api/v1/uploads/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'

function memoryStore(): ResumeStore & { map: Map<string, string> } {
  const map = new Map<string, string>()
  return {
    map,
    get: async (key) => map.get(key) ?? null,
    set: async (key, url) => void map.set(key, url),
    remove: async (key) => void map.delete(key),
  }
}

/** The n-th request (from 0), once the client has made it. */
async function request(n: number): Promise<FakeXhr> {
  await vi.waitFor(() => {
    if (!FakeXhr.all[n]) throw new Error(`request ${n} not made yet`)
  })
  return FakeXhr.all[n]!
}

const photo = () => new File(['0123456789'], 'ঠাকুর.jpg', { type: 'image/jpeg', lastModified: 1700000000000 })
const created = { Location: URL_A, 'Upload-Expires': 'Mon, 07 Dec 2026 16:00:00 GMT' }

beforeEach(() => {
  vi.stubGlobal('XMLHttpRequest', FakeXhr)
})

afterEach(() => {
  FakeXhr.last = null
  FakeXhr.all = []
})

describe('uploadMetadata', () => {
  it('sends album, file name and caption as base64 of UTF-8, and no empty caption', () => {
    expect(uploadMetadata(7, 'ঠাকুর.jpg', ' Maa ')).toBe(
      `album_id ${btoa('7')},filename ${btoa(unescape(encodeURIComponent('ঠাকুর.jpg')))},caption ${btoa('Maa')}`,
    )
    expect(uploadMetadata(7, 'a.jpg', '  ')).toBe(`album_id ${btoa('7')},filename ${btoa('a.jpg')}`)
  })
})

describe('sendResumable', () => {
  it('creates the upload, sends it in chunks with their sha256, and names the photo', async () => {
    const store = memoryStore()
    const progress = vi.fn()
    const file = photo()
    const done = sendResumable(file, { transport, albumId: 7, caption: 'Maa', store, chunkBytes: 4, onProgress: progress })

    const create = await request(0)
    expect(create.method).toBe('POST')
    expect(create.url).toBe('/api/v1/uploads')
    expect(create.headers).toMatchObject({ 'Tus-Resumable': '1.0.0', 'Upload-Length': '10' })
    expect(create.headers['Upload-Metadata']).toBe(uploadMetadata(7, 'ঠাকুর.jpg', 'Maa'))
    create.respond(201, '', created)

    const first = await request(1)
    expect(store.map.get(fingerprint(file, 7, 'Maa'))).toBe(URL_A)
    expect(first).toMatchObject({ method: 'PATCH', url: URL_A })
    expect(first.headers).toMatchObject({
      'Tus-Resumable': '1.0.0',
      'Content-Type': 'application/offset+octet-stream',
      'Upload-Offset': '0',
    })
    expect(await first.payload!.text()).toBe('0123')
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode('0123')))
    expect(first.headers['Upload-Checksum']).toBe(`sha256 ${btoa(String.fromCharCode(...digest))}`)
    first.progress(2, 4)
    expect(progress).toHaveBeenLastCalledWith(2, 10)
    first.respond(204, '', { 'Upload-Offset': '4' })

    const second = await request(2)
    expect(second.headers['Upload-Offset']).toBe('4')
    second.respond(204, '', { 'Upload-Offset': '8' })
    const last = await request(3)
    expect(await last.payload!.text()).toBe('89')
    last.respond(204, '', { 'Upload-Offset': '10', 'Pujo-Photo-Id': '42' })

    await expect(done).resolves.toBe(42)
    expect(store.map.size).toBe(0)
    expect(progress).toHaveBeenLastCalledWith(10, 10)
  })

  it('goes on from the offset the server holds for a remembered upload', async () => {
    const store = memoryStore()
    const file = photo()
    await store.set(fingerprint(file, 7, ''), URL_A)
    const done = sendResumable(file, { transport, albumId: 7, store, chunkBytes: 100 })

    const head = await request(0)
    expect(head).toMatchObject({ method: 'HEAD', url: URL_A })
    head.respond(200, '', { 'Upload-Offset': '6', 'Upload-Length': '10' })
    const patch = await request(1)
    expect(patch.headers['Upload-Offset']).toBe('6')
    expect(await patch.payload!.text()).toBe('6789')
    patch.respond(204, '', { 'Upload-Offset': '10', 'Pujo-Photo-Id': '5' })
    await expect(done).resolves.toBe(5)
    expect(FakeXhr.all.map((x) => x.method)).toEqual(['HEAD', 'PATCH'])
  })

  it('sends nothing again when the server made the photo but its answer was lost', async () => {
    const store = memoryStore()
    const file = photo()
    await store.set(fingerprint(file, 7, ''), URL_A)
    const done = sendResumable(file, { transport, albumId: 7, store })
    ;(await request(0)).respond(200, '', { 'Upload-Offset': '10', 'Pujo-Photo-Id': '9' })
    await expect(done).resolves.toBe(9)
    expect(FakeXhr.all).toHaveLength(1)
    expect(store.map.size).toBe(0)
  })

  it('sends a guest’s upload to its link with the proof on the creation alone, and resumes to the photo waiting for review', async () => {
    const store = memoryStore()
    const file = photo()
    const options = {
      transport,
      createUrl: '/api/v1/guest/TOKEN/uploads',
      metadata: guestMetadata(file.name, '', 'Rumki'),
      createHeaders: { 'X-Pujo-Proof': 'salt:42' },
      key: 'guest-key',
      store,
      chunkBytes: 6,
    }
    const first = sendResumableUpload(file, options)
    const create = await request(0)
    expect(`${create.method} ${create.url}`).toBe('POST /api/v1/guest/TOKEN/uploads')
    expect(create.headers['X-Pujo-Proof']).toBe('salt:42')
    expect(create.headers['Upload-Metadata']).toBe(`filename ${btoa(unescape(encodeURIComponent('ঠাকুর.jpg')))},guest_name ${btoa('Rumki')}`)
    create.respond(201, '', created)
    const chunk = await request(1)
    expect(chunk.headers['X-Pujo-Proof']).toBeUndefined()
    chunk.respond(204, '', { 'Upload-Offset': '6' })
    // The connection drops in the last chunk: the address stays for the next try.
    ;(await request(2)).respond(0, '')
    await expect(first).rejects.toBeInstanceOf(ApiError)
    expect(store.map.get('guest-key')).toBe(URL_A)
    // The last chunk had arrived after all: the next try asks, and finds the photo waiting.
    const again = sendResumableUpload(file, options)
    ;(await request(3)).respond(200, '', { 'Upload-Offset': '10', 'Pujo-Pending-Id': '5' })
    await expect(again).resolves.toEqual({ photoId: null, pendingId: 5 })
    expect(store.map.size).toBe(0)
  })

  it('keeps the address after the photo is made when asked to, for the caller to forget', async () => {
    const store = memoryStore()
    const file = photo()
    const done = sendResumable(file, { transport, albumId: 7, store, keepWhenDone: true })
    ;(await request(0)).respond(201, '', created)
    ;(await request(1)).respond(204, '', { 'Upload-Offset': '10', 'Pujo-Photo-Id': '8' })
    await expect(done).resolves.toBe(8)
    await expect(store.get(fingerprint(file, 7, ''))).resolves.toBe(URL_A)
  })

  it('starts again when the remembered upload is gone (expired)', async () => {
    const store = memoryStore()
    const file = photo()
    await store.set(fingerprint(file, 7, ''), URL_A)
    const done = sendResumable(file, { transport, albumId: 7, store })
    ;(await request(0)).respond(404, { error: { code: 'not_found', message: 'not found' } })
    const create = await request(1)
    expect(create.method).toBe('POST')
    create.respond(201, '', { Location: URL_B })
    const patch = await request(2)
    expect(patch).toMatchObject({ url: URL_B, headers: expect.objectContaining({ 'Upload-Offset': '0' }) })
    patch.respond(204, '', { 'Upload-Offset': '10', 'Pujo-Photo-Id': '3' })
    await expect(done).resolves.toBe(3)
  })

  it('forgets a guest’s remembered upload once the guest cookie is gone (401), and begins anew', async () => {
    const store = memoryStore()
    const file = photo()
    await store.set('guest-key', URL_A)
    const options = {
      transport,
      createUrl: '/api/v1/guest/TOKEN/uploads',
      metadata: guestMetadata(file.name, '', ''),
      key: 'guest-key',
      store,
      forgetWhenSignedOut: true,
    }
    const done = sendResumableUpload(file, options)
    ;(await request(0)).respond(401, { error: { code: 'unauthorized', message: 'log in' } })
    const create = await request(1)
    expect(`${create.method} ${create.url}`).toBe('POST /api/v1/guest/TOKEN/uploads')
    create.respond(201, '', { Location: URL_B })
    ;(await request(2)).respond(204, '', { 'Upload-Offset': '10', 'Pujo-Pending-Id': '9' })
    await expect(done).resolves.toEqual({ photoId: null, pendingId: 9 })
    expect(store.map.size).toBe(0)
  })

  it('keeps a signed-in person’s remembered upload through a 401, for after they log in again', async () => {
    const store = memoryStore()
    const file = photo()
    await store.set(fingerprint(file, 7, ''), URL_A)
    const done = sendResumable(file, { transport, albumId: 7, store })
    ;(await request(0)).respond(401, { error: { code: 'unauthorized', message: 'log in' } })
    await expect(done).rejects.toMatchObject({ status: 401 })
    expect(FakeXhr.all).toHaveLength(1)
    await expect(store.get(fingerprint(file, 7, ''))).resolves.toBe(URL_A)
  })

  it('keeps the address when the connection drops, for the next try', async () => {
    const store = memoryStore()
    const file = photo()
    const done = sendResumable(file, { transport, albumId: 7, store })
    ;(await request(0)).respond(201, '', created)
    ;(await request(1)).fail()
    await expect(done).rejects.toMatchObject({ status: 0, code: 'network_error' })
    await expect(store.get(fingerprint(file, 7, ''))).resolves.toBe(URL_A)
  })

  it('asks for the offset after a mismatch (409) and goes on from it', async () => {
    const done = sendResumable(photo(), { transport, albumId: 7, chunkBytes: 4 })
    ;(await request(0)).respond(201, '', created)
    ;(await request(1)).respond(409, { error: { code: 'offset_mismatch', message: 'at 4' } })
    const head = await request(2)
    expect(head.method).toBe('HEAD')
    head.respond(200, '', { 'Upload-Offset': '4' })
    const patch = await request(3)
    expect(patch.headers['Upload-Offset']).toBe('4')
    patch.respond(204, '', { 'Upload-Offset': '8' })
    ;(await request(4)).respond(204, '', { 'Upload-Offset': '10', 'Pujo-Photo-Id': '1' })
    await expect(done).resolves.toBe(1)
  })

  it('waits while another request holds the upload (423), then asks where it is', async () => {
    const wait = vi.fn(() => Promise.resolve())
    const done = sendResumable(photo(), { transport, albumId: 7, wait })
    ;(await request(0)).respond(201, '', created)
    ;(await request(1)).respond(423, { error: { code: 'locked', message: 'busy' } }, { 'Retry-After': '2' })
    ;(await request(2)).respond(200, '', { 'Upload-Offset': '0' })
    expect(wait).toHaveBeenCalledWith(2000, undefined)
    ;(await request(3)).respond(204, '', { 'Upload-Offset': '10', 'Pujo-Photo-Id': '1' })
    await expect(done).resolves.toBe(1)
  })

  it('waits out a busy server (503 with Retry-After), then sends the chunk again and asks where it is', async () => {
    const wait = vi.fn(() => Promise.resolve())
    const done = sendResumable(photo(), { transport, albumId: 7, chunkBytes: 4, wait })
    ;(await request(0)).respond(201, '', created)
    const busy = { error: { code: 'busy', message: 'the server is busy' } }
    ;(await request(1)).respond(503, busy, { 'Retry-After': '1' })
    const again = await request(2)
    expect(wait).toHaveBeenCalledWith(1000, undefined)
    expect(again.method).toBe('PATCH')
    expect(again.headers['Upload-Offset']).toBe('0')
    again.respond(409, { error: { code: 'offset_mismatch', message: 'at 4' } })
    // The offset's HEAD takes a turn, so it may be turned away too.
    ;(await request(3)).respond(503, busy, { 'Retry-After': '2' })
    const head = await request(4)
    expect(wait).toHaveBeenCalledWith(2000, undefined)
    expect(head.method).toBe('HEAD')
    head.respond(200, '', { 'Upload-Offset': '4' })
    ;(await request(5)).respond(204, '', { 'Upload-Offset': '8' })
    ;(await request(6)).respond(204, '', { 'Upload-Offset': '10', 'Pujo-Photo-Id': '1' })
    await expect(done).resolves.toBe(1)
  })

  it('gives up on a server that stays busy', async () => {
    const wait = vi.fn(() => Promise.resolve())
    const done = sendResumable(photo(), { transport, albumId: 7, wait })
    ;(await request(0)).respond(201, '', created)
    for (let n = 1; n <= 6; n++) {
      ;(await request(n)).respond(503, { error: { code: 'busy', message: 'busy' } }, { 'Retry-After': '1' })
    }
    await expect(done).rejects.toMatchObject({ status: 503, code: 'busy' })
    expect(wait).toHaveBeenCalledTimes(5)
  })

  it('rejects a refused file with the server reason and forgets it', async () => {
    const store = memoryStore()
    const file = photo()
    const done = sendResumable(file, { transport, albumId: 7, store })
    ;(await request(0)).respond(201, '', created)
    ;(await request(1)).respond(415, { error: { code: 'unsupported_media_type', message: 'not a photo' } })
    const err = (await done.catch((e: unknown) => e)) as ApiError
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ status: 415, code: 'unsupported_media_type', message: 'not a photo' })
    expect(store.map.size).toBe(0)
  })

  it('aborts the chunk in flight through the signal', async () => {
    const controller = new AbortController()
    const done = sendResumable(photo(), { transport, albumId: 7, signal: controller.signal })
    ;(await request(0)).respond(201, '', created)
    const patch = await request(1)
    controller.abort()
    expect(patch.aborted).toBe(true)
    await expect(done).rejects.toMatchObject({ name: 'AbortError' })
  })
})
