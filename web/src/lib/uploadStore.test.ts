import { beforeEach, describe, expect, it, vi } from 'vitest'
import { RESUME_TTL_MS, idbResumeStore, indexedDbStore, migrateLocalResumes, pruneResumes, resetDatabase } from './uploadStore'
import { IDBObjectStore as FakeObjectStore } from 'fake-indexeddb'
import { stubIndexedDb } from '../test/fakeIndexedDb'

beforeEach(stubIndexedDb)

const photo = (name: string) => new File(['jpeg bytes'], name, { type: 'image/jpeg', lastModified: 1759400000000 })

describe('indexedDbStore', () => {
  it('keeps each account’s files, bytes, name and date, until they are deleted', async () => {
    const mine = indexedDbStore(1)!
    const theirs = indexedDbStore(2)!
    await mine.save({ id: 10, file: photo('a.jpg'), caption: 'Sindoor khela', status: 'queued', albumId: 7, error: null })
    await mine.save({ id: 11, file: photo('b.jpg'), caption: '', status: 'ready', albumId: null, error: null })
    await theirs.save({ id: 10, file: photo('c.jpg'), caption: '', status: 'queued', albumId: 9, error: null })
    await mine.save({ id: 10, file: photo('a.jpg'), caption: 'Sindoor khela', status: 'uploading', albumId: 7, error: null })

    const kept = await mine.load()
    expect(kept.map((k) => [k.id, k.status, k.albumId, k.caption])).toEqual([
      [10, 'uploading', 7, 'Sindoor khela'],
      [11, 'ready', null, ''],
    ])
    const file = kept[0]!.file
    expect(file).toBeInstanceOf(File)
    expect([file.name, file.type, file.size, file.lastModified]).toEqual(['a.jpg', 'image/jpeg', 10, 1759400000000])
    expect(await file.text()).toBe('jpeg bytes')

    await mine.delete(10)
    expect((await mine.load()).map((k) => k.id)).toEqual([11])
    expect((await theirs.load()).map((k) => k.file.name)).toEqual(['c.jpg'])
  })
})

describe('indexedDbStore, writing', () => {
  it('writes a file’s bytes once: a caption typed or a status changed writes only its state', async () => {
    const put = vi.spyOn(FakeObjectStore.prototype, 'put')
    const blobsWritten = () => put.mock.calls.filter(([row]) => (row as { bytes?: unknown }).bytes instanceof Blob).length
    const mine = indexedDbStore(1)!
    const a = photo('a.jpg')
    await mine.save({ id: 10, file: a, caption: '', status: 'ready', albumId: null, error: null })
    for (const caption of ['S', 'Si', 'Sin', 'Sindoor']) await mine.save({ id: 10, file: a, caption, status: 'ready', albumId: null, error: null })
    for (const status of ['queued', 'uploading', 'paused'] as const) await mine.save({ id: 10, file: a, caption: 'Sindoor', status, albumId: 7, error: null })
    expect(blobsWritten()).toBe(1)
    expect(put.mock.calls.length).toBe(9)

    const kept = await mine.load()
    expect(kept.map((k) => [k.id, k.status, k.caption, k.albumId])).toEqual([[10, 'paused', 'Sindoor', 7]])
    expect(await kept[0]!.file.text()).toBe('jpeg bytes')
    put.mockRestore()
  })

  it('writes the bytes again when a queue id comes back with another file (two tabs that drew the same id)', async () => {
    const mine = indexedDbStore(1)!
    await mine.save({ id: 10, file: photo('a.jpg'), caption: 'Kumari puja', status: 'paused', albumId: 7, error: null })
    const other = new File(['other bytes, longer'], 'b.jpg', { type: 'image/jpeg', lastModified: 1759400000001 })
    await mine.save({ id: 10, file: other, caption: 'Sandhi puja', status: 'paused', albumId: 8, error: null })
    const [kept] = await mine.load()
    expect([kept!.caption, kept!.albumId, kept!.file.name, kept!.file.lastModified]).toEqual(['Sandhi puja', 8, 'b.jpg', 1759400000001])
    expect(await kept!.file.text()).toBe('other bytes, longer')
  })

  it('leaves out a file whose bytes are not there, and forgets both records of a deleted one', async () => {
    const mine = indexedDbStore(1)!
    await mine.save({ id: 10, file: photo('a.jpg'), caption: '', status: 'queued', albumId: 7, error: null })
    await mine.save({ id: 11, file: photo('b.jpg'), caption: '', status: 'queued', albumId: 7, error: null })
    const db = await new Promise<IDBDatabase>((resolve) => {
      const open = indexedDB.open('pujo')
      open.onsuccess = () => resolve(open.result)
    })
    const count = (name: string) =>
      new Promise<number>((resolve) => {
        const req = db.transaction(name).objectStore(name).count()
        req.onsuccess = () => resolve(req.result)
      })
    const tx = db.transaction('upload-bytes', 'readwrite')
    tx.objectStore('upload-bytes').delete([1, 11])
    await new Promise((resolve) => (tx.oncomplete = resolve))
    expect((await mine.load()).map((k) => k.id)).toEqual([10])

    await mine.delete(10)
    expect([await count('uploads'), await count('upload-bytes')]).toEqual([1, 0])
    db.close()
  })
})

const URL_A = '/api/v1/uploads/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'
const URL_B = '/api/v1/uploads/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'
const T0 = 1_800_000_000_000

describe('indexedDbStore, for the service worker', () => {
  it('keeps what the worker recorded of a file it sent: done with its photos, or failed with the reason', async () => {
    const mine = indexedDbStore(1)!
    await mine.save({ id: 10, file: photo('a.jpg'), caption: '', status: 'done', albumId: 7, error: null, photoIds: [42] })
    const reason = { code: 'payload_too_large', message: 'too big', fields: {}, retryable: false }
    await mine.save({ id: 11, file: photo('b.jpg'), caption: '', status: 'failed', albumId: 7, error: reason })
    const kept = await mine.load()
    expect(kept.map((k) => [k.id, k.status, k.photoIds, k.error])).toEqual([
      [10, 'done', [42], null],
      [11, 'failed', undefined, reason],
    ])
  })
})

describe('idbResumeStore', () => {
  it('remembers an address for as long as Pujo keeps the upload, and then forgets it', async () => {
    let now = T0
    const store = idbResumeStore(() => now)
    await store.set('a', URL_A)
    now = T0 + RESUME_TTL_MS - 1
    expect(await store.get('a')).toBe(URL_A)
    // Another store on the same database (the service worker's) reads the same address.
    expect(await idbResumeStore(() => now).get('a')).toBe(URL_A)
    now = T0 + RESUME_TTL_MS + 1
    expect(await store.get('a')).toBeNull()
    now = T0
    expect(await store.get('a')).toBeNull()
    await store.set('b', URL_B)
    await store.remove('b')
    expect(await store.get('b')).toBeNull()
  })

  it('prunes the addresses of files given up long ago, and nothing else', async () => {
    let now = T0
    const store = idbResumeStore(() => now)
    await store.set('old', URL_A)
    now = T0 + RESUME_TTL_MS
    await store.set('new', URL_B)
    expect(await pruneResumes(T0 + RESUME_TTL_MS + 1000)).toBe(1)
    now = T0 + RESUME_TTL_MS + 1000
    expect([await store.get('old'), await store.get('new')]).toEqual([null, URL_B])
  })

  it('answers nothing, and fails nothing, where there is no IndexedDB', async () => {
    vi.stubGlobal('indexedDB', undefined)
    resetDatabase()
    const store = idbResumeStore()
    await store.set('a', URL_A)
    expect(await store.get('a')).toBeNull()
    await expect(store.remove('a')).resolves.toBeUndefined()
    expect(await pruneResumes()).toBe(0)
  })
})

describe('migrateLocalResumes', () => {
  it('moves the addresses kept in localStorage, with their age, and leaves the rest of localStorage alone', async () => {
    const storage = window.localStorage
    storage.setItem('pujo.tus.fresh', `${T0} ${URL_A}`)
    storage.setItem('pujo.tus.stale', `${T0 - RESUME_TTL_MS - 1} ${URL_B}`)
    storage.setItem('pujo.tus.broken', 'not an entry')
    storage.setItem('pujo.lang', 'bn')
    expect(await migrateLocalResumes(storage, T0 + 1000)).toBe(1)
    expect(Object.keys(storage)).toEqual(['pujo.lang'])

    // The TTL counts from when the address was made, not from the move.
    expect(await idbResumeStore(() => T0 + RESUME_TTL_MS).get('fresh')).toBe(URL_A)
    expect(await idbResumeStore(() => T0 + RESUME_TTL_MS + 1).get('fresh')).toBeNull()
    expect(await idbResumeStore(() => T0).get('stale')).toBeNull()
    // Once moved, there is nothing left to move.
    expect(await migrateLocalResumes(storage, T0 + 2000)).toBe(0)
  })

  it('keeps a newer address already in IndexedDB', async () => {
    await idbResumeStore(() => T0 + 5000).set('same', URL_B)
    window.localStorage.setItem('pujo.tus.same', `${T0} ${URL_A}`)
    expect(await migrateLocalResumes(window.localStorage, T0 + 6000)).toBe(0)
    expect(await idbResumeStore(() => T0 + 6000).get('same')).toBe(URL_B)
    expect(window.localStorage.getItem('pujo.tus.same')).toBeNull()
  })

  it('leaves the old addresses where they are when IndexedDB cannot take them', async () => {
    vi.stubGlobal('indexedDB', undefined)
    resetDatabase()
    window.localStorage.setItem('pujo.tus.fresh', `${T0} ${URL_A}`)
    await expect(migrateLocalResumes(window.localStorage, T0)).rejects.toBeDefined()
    expect(window.localStorage.getItem('pujo.tus.fresh')).toBe(`${T0} ${URL_A}`)
  })
})

describe('the database', () => {
  it('opens an earlier Pujo’s database (the queue only) with its files, and adds the resume store', async () => {
    const factory = indexedDB
    const old = factory.open('pujo', 1)
    old.onupgradeneeded = () => old.result.createObjectStore('uploads', { keyPath: ['owner', 'id'] })
    const db = await new Promise<IDBDatabase>((resolve) => (old.onsuccess = () => resolve(old.result)))
    const tx = db.transaction('uploads', 'readwrite')
    tx.objectStore('uploads').put({ owner: 1, id: 5, bytes: photo('x.jpg'), name: 'x.jpg', type: 'image/jpeg', lastModified: 1, caption: '', status: 'paused', albumId: 7, error: null })
    await new Promise((resolve) => (tx.oncomplete = resolve))
    db.close()

    expect((await indexedDbStore(1)!.load()).map((k) => [k.id, k.status])).toEqual([[5, 'paused']])
    expect(await (await indexedDbStore(1)!.load())[0]!.file.text()).toBe('jpeg bytes')
    await idbResumeStore().set('k', URL_A)
    expect(await idbResumeStore().get('k')).toBe(URL_A)
  })
})

describe('the database, from version 2', () => {
  it('moves each kept file’s bytes out of its state record, and keeps the resume addresses', async () => {
    const old = indexedDB.open('pujo', 2)
    old.onupgradeneeded = () => {
      old.result.createObjectStore('uploads', { keyPath: ['owner', 'id'] })
      old.result.createObjectStore('resume', { keyPath: 'key' })
    }
    const db = await new Promise<IDBDatabase>((resolve) => (old.onsuccess = () => resolve(old.result)))
    const tx = db.transaction(['uploads', 'resume'], 'readwrite')
    for (const [owner, id, name] of [[1, 5, 'x.jpg'], [1, 6, 'y.jpg'], [2, 5, 'z.jpg']] as const) {
      tx.objectStore('uploads').put({ owner, id, bytes: photo(name), name, type: 'image/jpeg', lastModified: 1759400000000, caption: name, status: 'paused', albumId: 7, error: null })
    }
    tx.objectStore('resume').put({ key: 'k', url: URL_A, at: Date.now() })
    await new Promise((resolve) => (tx.oncomplete = resolve))
    db.close()

    const kept = await indexedDbStore(1)!.load()
    expect(kept.map((k) => [k.id, k.caption, k.status, k.file.name, k.file.lastModified])).toEqual([
      [5, 'x.jpg', 'paused', 'x.jpg', 1759400000000],
      [6, 'y.jpg', 'paused', 'y.jpg', 1759400000000],
    ])
    expect(await kept[1]!.file.text()).toBe('jpeg bytes')
    expect((await indexedDbStore(2)!.load()).map((k) => k.file.name)).toEqual(['z.jpg'])
    expect(await idbResumeStore().get('k')).toBe(URL_A)
    // The state records hold no bytes any more: a status change no longer copies them.
    const upgraded = await new Promise<IDBDatabase>((resolve) => {
      const open = indexedDB.open('pujo')
      open.onsuccess = () => resolve(open.result)
    })
    const rows = await new Promise<Record<string, unknown>[]>((resolve) => {
      const req = upgraded.transaction('uploads').objectStore('uploads').getAll()
      req.onsuccess = () => resolve(req.result)
    })
    upgraded.close()
    expect(rows.map((r) => 'bytes' in r)).toEqual([false, false, false])
  })
})
