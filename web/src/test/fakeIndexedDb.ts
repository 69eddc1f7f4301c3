/** A fresh IndexedDB for one test (jsdom has none), as the browser's `indexedDB`. */
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb'
import { vi } from 'vitest'
import { resetDatabase } from '../lib/uploadStore'

export function stubIndexedDb(): void {
  vi.stubGlobal('indexedDB', new IDBFactory())
  vi.stubGlobal('IDBKeyRange', IDBKeyRange)
  // Node's structuredClone cannot copy jsdom's Blobs (browsers can): keep them as they are.
  vi.stubGlobal('structuredClone', <T,>(value: T): T => value)
  resetDatabase()
}
