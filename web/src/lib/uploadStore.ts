/**
 * The upload queue's files in IndexedDB, bytes and all, so that photos picked
 * in a pandal with no signal are still there after the tab is closed or the
 * phone restarts. Two records per file, keyed by the owner's account and the
 * file's queue id (a shared device never sends one person's files with
 * another's session):
 *
 * - its state (status, caption, album, error), written at every change;
 * - its bytes, written when the file is first kept (and again only if another
 *   file comes under the same queue id).
 *
 * So a caption typed or a status changed writes a few hundred bytes, not the
 * photo again: on a phone a 6 MB photo would otherwise be copied at every
 * keystroke, and a state written just before the browser closes would wait
 * behind those copies (and be lost with them).
 *
 * The same database keeps the addresses of unfinished tus uploads (the resume
 * store), so that the page and the service worker, which has no localStorage,
 * go on from the same offsets. Nothing here needs a window: the service
 * worker bundles this file.
 */
import type { ResumeStore } from '../api/tus'
import type { QueueStore, StoredUpload } from './uploadItem'

const DB_NAME = 'pujo'
/** 1: the queue's files; 2: the resume addresses too; 3: each file's bytes apart from its state. */
const DB_VERSION = 3
const STORE = 'uploads'
const BYTES = 'upload-bytes'
const RESUME = 'resume'

/** A file's state, without its bytes. */
interface StateRow extends Omit<StoredUpload, 'file'> {
  owner: number
}

/**
 * A file's bytes (a Blob) and its name, type and date, made a File again on the
 * way out: the date is part of the resume fingerprint.
 */
interface BytesRow {
  owner: number
  id: number
  bytes: Blob
  name: string
  type: string
  lastModified: number
}

/** A state row as version 1 and 2 kept it: the bytes in the same record. */
type OldRow = StateRow & Partial<Omit<BytesRow, 'owner' | 'id'>>

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

/** Splits a state row of version 1 or 2 into its state and its bytes (within the upgrade). */
function splitOldRows(tx: IDBTransaction): void {
  const states = tx.objectStore(STORE)
  const bytes = tx.objectStore(BYTES)
  states.openCursor().onsuccess = (event) => {
    const cursor = (event.target as IDBRequest<IDBCursorWithValue | null>).result
    if (!cursor) return
    const { bytes: blob, name, type, lastModified, ...state } = cursor.value as OldRow
    if (blob !== undefined) {
      bytes.put({ owner: state.owner, id: state.id, bytes: blob, name: name ?? '', type: type ?? '', lastModified: lastModified ?? 0 } satisfies BytesRow)
      cursor.update(state)
    }
    cursor.continue()
  }
}

/** Whether kept bytes are `file`'s, as far as a File tells (name, type, date and size). */
function sameFile(kept: BytesRow, file: File): boolean {
  return kept.name === file.name && kept.type === file.type && kept.lastModified === file.lastModified && kept.bytes.size === file.size
}

let opening: Promise<IDBDatabase> | null = null

/** The site's database, opened once per page (or worker). */
export function openDatabase(factory: IDBFactory = indexedDB): Promise<IDBDatabase> {
  if (opening) return opening
  const req = factory.open(DB_NAME, DB_VERSION)
  req.onupgradeneeded = (event) => {
    const db = req.result
    if (!db.objectStoreNames.contains(STORE)) db.createObjectStore(STORE, { keyPath: ['owner', 'id'] })
    if (!db.objectStoreNames.contains(RESUME)) db.createObjectStore(RESUME, { keyPath: 'key' })
    if (!db.objectStoreNames.contains(BYTES)) {
      db.createObjectStore(BYTES, { keyPath: ['owner', 'id'] })
      if (event.oldVersion > 0) splitOldRows(req.transaction!)
    }
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
      const tx = db.transaction([STORE, BYTES], 'readonly')
      const [states, files] = await Promise.all([
        request(tx.objectStore(STORE).getAll(range())) as Promise<StateRow[]>,
        request(tx.objectStore(BYTES).getAll(range())) as Promise<BytesRow[]>,
      ])
      const byId = new Map(files.map((f) => [f.id, f]))
      // A state whose bytes are not there (never written, or cleared by the browser) cannot be sent: left out.
      return states.flatMap(({ owner: _owner, ...state }) => {
        const kept = byId.get(state.id)
        if (!kept) return []
        const { bytes, name, type, lastModified } = kept
        return [{ ...state, file: new File([bytes], name, { type, lastModified }) }]
      })
    },
    async save(item) {
      const db = await openDatabase()
      const tx = db.transaction([STORE, BYTES], 'readwrite')
      const { file, ...state } = item
      tx.objectStore(STORE).put({ ...state, owner } satisfies StateRow)
      // Written when they are not there yet, or are another file's (two tabs that drew the same
      // queue id): a state change alone writes no bytes.
      const bytes = tx.objectStore(BYTES)
      bytes.get([owner, item.id]).onsuccess = (event) => {
        const kept = (event.target as IDBRequest<BytesRow | undefined>).result
        if (kept && sameFile(kept, file)) return
        bytes.put({ owner, id: item.id, bytes: file, name: file.name, type: file.type, lastModified: file.lastModified } satisfies BytesRow)
      }
      await done(tx)
    },
    async delete(id) {
      const db = await openDatabase()
      const tx = db.transaction([STORE, BYTES], 'readwrite')
      tx.objectStore(STORE).delete([owner, id])
      tx.objectStore(BYTES).delete([owner, id])
      await done(tx)
    },
  }
}

/**
 * How long a remembered address is worth asking about: Pujo drops an upload a day
 * after it began (`upload-expiry`, 24h by default), done or not.
 */
export const RESUME_TTL_MS = 24 * 60 * 60 * 1000

/** One remembered address: the fingerprint it is kept under, and when it was made (ms). */
interface ResumeRow {
  key: string
  url: string
  at: number
}

function fresh(row: ResumeRow | undefined, now: number): row is ResumeRow {
  return row !== undefined && typeof row.url === 'string' && now - row.at <= RESUME_TTL_MS
}

/**
 * The addresses of unfinished uploads in IndexedDB, each with when it was made:
 * they outlive the tab and a restart of the browser, are read by the service
 * worker as by the page, and are forgotten once Pujo has surely dropped them.
 * A failure to keep one is no failure of the upload: it just cannot resume.
 */
export function idbResumeStore(now: () => number = Date.now): ResumeStore {
  return {
    async get(key) {
      try {
        const db = await openDatabase()
        const tx = db.transaction(RESUME, 'readwrite')
        const row = (await request(tx.objectStore(RESUME).get(key))) as ResumeRow | undefined
        if (fresh(row, now())) return row.url
        if (row !== undefined) tx.objectStore(RESUME).delete(key)
        await done(tx)
        return null
      } catch {
        return null
      }
    },
    async set(key, url) {
      try {
        const db = await openDatabase()
        const tx = db.transaction(RESUME, 'readwrite')
        tx.objectStore(RESUME).put({ key, url, at: now() } satisfies ResumeRow)
        await done(tx)
      } catch {
        // Storage full or off: the upload still goes, it just cannot resume.
      }
    },
    async remove(key) {
      try {
        const db = await openDatabase()
        const tx = db.transaction(RESUME, 'readwrite')
        tx.objectStore(RESUME).delete(key)
        await done(tx)
      } catch {
        // Nothing to forget.
      }
    },
  }
}

/** Forgets every remembered address Pujo has surely dropped (files given up long ago). */
export async function pruneResumes(now = Date.now()): Promise<number> {
  try {
    const db = await openDatabase()
    const tx = db.transaction(RESUME, 'readwrite')
    const rows = (await request(tx.objectStore(RESUME).getAll())) as ResumeRow[]
    const stale = rows.filter((row: ResumeRow) => !fresh(row as ResumeRow | undefined, now))
    for (const row of stale) tx.objectStore(RESUME).delete(row.key)
    await done(tx)
    return stale.length
  } catch {
    return 0
  }
}

/** What of `localStorage` the migration reads (a `Storage`; workers have none). */
export interface OldStorage {
  readonly length: number
  key(index: number): string | null
  getItem(key: string): string | null
  removeItem(key: string): void
}

/** Where Pujo kept the addresses before they moved to IndexedDB: `pujo.tus.<key>` = `<ms> <address>`. */
const OLD_PREFIX = 'pujo.tus.'

/**
 * Moves the addresses an earlier Pujo kept in localStorage into IndexedDB, with
 * the time they were made (so the TTL still counts from then), and removes them
 * from localStorage. A newer address already in IndexedDB wins. Run by the page
 * (the worker cannot read localStorage); resolves with how many moved.
 */
export async function migrateLocalResumes(storage: OldStorage, now = Date.now()): Promise<number> {
  const old: ResumeRow[] = []
  const keys: string[] = []
  try {
    for (let i = 0; i < storage.length; i++) {
      const name = storage.key(i)
      if (name === null || !name.startsWith(OLD_PREFIX)) continue
      keys.push(name)
      const match = /^(\d+) (\/\S+)$/.exec(storage.getItem(name) ?? '')
      const row = match ? { key: name.slice(OLD_PREFIX.length), url: match[2]!, at: Number(match[1]) } : undefined
      if (fresh(row, now)) old.push(row)
    }
  } catch {
    return 0
  }
  if (keys.length === 0) return 0
  const db = await openDatabase()
  const tx = db.transaction(RESUME, 'readwrite')
  const resume = tx.objectStore(RESUME)
  const kept = await Promise.all(old.map((row) => request(resume.get(row.key)) as Promise<ResumeRow | undefined>))
  let moved = 0
  old.forEach((row, i) => {
    const there = kept[i]
    if (there !== undefined && there.at >= row.at) return
    resume.put(row)
    moved++
  })
  await done(tx)
  // Only once IndexedDB has them: a failure above leaves them where they were, for next time.
  for (const name of keys) {
    try {
      storage.removeItem(name)
    } catch {
      // Left behind: read again next time, and the newer IndexedDB entry wins.
    }
  }
  return moved
}
