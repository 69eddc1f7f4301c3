/**
 * The upload queue's files in IndexedDB, bytes and all, so that photos picked
 * in a pandal with no signal are still there after the tab is closed or the
 * phone restarts. One record per file, keyed by the owner's account and the
 * file's queue id: a shared device never sends one person's files with
 * another's session.
 */
import type { QueueStore, StoredUpload } from './uploadQueue'

const DB_NAME = 'pujo'
const DB_VERSION = 1
const STORE = 'uploads'

/**
 * A file is kept as its bytes (a Blob) and its name, type and date, and made a
 * File again on the way out: the date is part of the resume fingerprint.
 */
interface StoredRow extends Omit<StoredUpload, 'file'> {
  owner: number
  bytes: Blob
  name: string
  type: string
  lastModified: number
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'))
  })
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve()
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'))
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'))
  })
}

let opening: Promise<IDBDatabase> | null = null

/** The site's database, opened once per page. */
export function openDatabase(factory: IDBFactory = indexedDB): Promise<IDBDatabase> {
  if (opening) return opening
  const req = factory.open(DB_NAME, DB_VERSION)
  req.onupgradeneeded = () => {
    const db = req.result
    if (!db.objectStoreNames.contains(STORE)) db.createObjectStore(STORE, { keyPath: ['owner', 'id'] })
  }
  opening = request(req).then((db) => {
    // Another tab upgrading the schema: let it, and open again next time.
    db.onversionchange = () => {
      db.close()
      opening = null
    }
    return db
  })
  opening.catch(() => {
    opening = null
  })
  return opening
}

/** Forgets the open database (tests give each case a fresh IndexedDB). */
export function resetDatabase(): void {
  opening = null
}

/** The queue store of one account, or null where the browser has no IndexedDB. */
export function indexedDbStore(owner: number): QueueStore | null {
  if (typeof indexedDB === 'undefined') return null
  const range = () => IDBKeyRange.bound([owner, -Infinity], [owner, Infinity])
  return {
    async load() {
      const db = await openDatabase()
      const tx = db.transaction(STORE, 'readonly')
      const rows = (await request(tx.objectStore(STORE).getAll(range()))) as StoredRow[]
      return rows.map(({ owner: _owner, bytes, name, type, lastModified, ...kept }) => ({
        ...kept,
        file: new File([bytes], name, { type, lastModified }),
      }))
    },
    async save(item) {
      const db = await openDatabase()
      const tx = db.transaction(STORE, 'readwrite')
      const { file, ...kept } = item
      const row: StoredRow = {
        ...kept,
        owner,
        bytes: file,
        name: file.name,
        type: file.type,
        lastModified: file.lastModified,
      }
      tx.objectStore(STORE).put(row)
      await done(tx)
    },
    async delete(id) {
      const db = await openDatabase()
      const tx = db.transaction(STORE, 'readwrite')
      tx.objectStore(STORE).delete([owner, id])
      await done(tx)
    },
  }
}
