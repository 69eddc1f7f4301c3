import { IDBFactory, IDBKeyRange } from 'fake-indexeddb'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { indexedDbStore, resetDatabase } from './uploadStore'

beforeEach(() => {
  vi.stubGlobal('indexedDB', new IDBFactory())
  vi.stubGlobal('IDBKeyRange', IDBKeyRange)
  // Node's structuredClone cannot copy jsdom's Blobs (browsers can): keep them as they are.
  vi.stubGlobal('structuredClone', <T,>(value: T): T => value)
  resetDatabase()
})

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
