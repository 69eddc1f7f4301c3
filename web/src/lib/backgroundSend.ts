/**
 * The service worker's sender: what it does when Background Sync wakes it and
 * no page has the upload queue open (see uploadLock.ts). It sends the queue the
 * page left in IndexedDB, one file after another, exactly as the page would
 * (tus over `fetch`, the same resume addresses), and records each file's state
 * in the same records, so that a page opened later shows what happened:
 *
 * - `uploading` while it goes (a page restores that as waiting);
 * - `done` with the photo's id (the page shows it once, then forgets it);
 * - `failed` with the server's reason, when Pujo refused it;
 * - `paused` when the network went again: the rest wait for the next sync.
 *
 * Only the signed-in person's files go, with their session: the records are
 * kept per account, and the worker asks Pujo who is signed in first.
 * The bytes kept are the bytes to send (with the data saver, the page made and
 * kept the smaller copy): nothing is made here.
 */
import { ApiError, NETWORK_ERROR } from '../api/client'
import { isOnItsWay, toUploadError, type QueueStore, type StoredUpload } from './uploadItem'

export interface BackgroundDeps {
  /** The signed-in account's id, or null (rejects when Pujo cannot be reached). */
  signedIn(): Promise<number | null>
  /** The queue kept for an account (null where there is no IndexedDB). */
  store(owner: number): QueueStore | null
  /** Sends one file; resolves with the photos made of it. */
  send(item: StoredUpload & { albumId: number }): Promise<number[]>
}

export interface Outcome {
  /** Whose files went; null when nobody is signed in (nothing went). */
  owner: number | null
  done: number
  failed: number
  /** Files still waiting for the network. */
  waiting: number
}

function isNetworkFailure(err: unknown): boolean {
  return err instanceof ApiError && err.code === NETWORK_ERROR
}

/**
 * Sends every file of the signed-in person that is on its way (queued,
 * uploading or paused, with an album), oldest first. Rejects only when Pujo
 * cannot be reached to ask who is signed in; a network failure while sending
 * is `waiting` in the outcome.
 */
export async function sendKeptQueue(deps: BackgroundDeps): Promise<Outcome> {
  const owner = await deps.signedIn()
  const outcome: Outcome = { owner, done: 0, failed: 0, waiting: 0 }
  if (owner === null) return outcome
  const store = deps.store(owner)
  if (!store) return outcome
  const todo = (await store.load()).filter(isOnItsWay).sort((a, b) => a.id - b.id)
  for (let i = 0; i < todo.length; i++) {
    const row = todo[i]! as StoredUpload & { albumId: number }
    await store.save({ ...row, status: 'uploading', error: null })
    try {
      const photoIds = await deps.send(row)
      await store.save({ ...row, status: 'done', error: null, photoIds })
      outcome.done++
    } catch (err) {
      if (isNetworkFailure(err)) {
        // This one and the rest wait for the network, as the page would show them.
        for (const rest of todo.slice(i)) {
          if (rest === row || rest.status !== 'paused') await store.save({ ...rest, status: 'paused', error: null })
        }
        outcome.waiting = todo.length - i
        break
      }
      await store.save({ ...row, status: 'failed', error: toUploadError(err) })
      outcome.failed++
    }
  }
  return outcome
}

/** What the worker may say when it is done, in the browser's language (English or Bengali). */
export function outcomeText(outcome: Outcome, language: string): string | null {
  const { done, failed } = outcome
  if (done === 0 && failed === 0) return null
  const bn = language.toLowerCase().startsWith('bn')
  const parts: string[] = []
  if (bn) {
    const digits = (n: number) => n.toLocaleString('bn-IN')
    if (done > 0) parts.push(`${digits(done)}টি ছবি আপলোড হয়েছে।`)
    if (failed > 0) parts.push(`${digits(failed)}টি হয়নি: কারণ দেখতে Pujo খুলুন।`)
  } else {
    if (done > 0) parts.push(done === 1 ? '1 photo uploaded.' : `${done} photos uploaded.`)
    if (failed > 0) parts.push(`${failed} could not be uploaded: open Pujo to see why.`)
  }
  return parts.join(' ')
}

/** How the worker shows a notification, and whether it may (never asking: a worker cannot, and Pujo would not). */
export interface Notifier {
  /** `Notification.permission`, or null where there are no notifications. */
  permission(): NotificationPermission | null
  show(title: string, options: NotificationOptions): Promise<void>
}

/** The tag of the notification, so that a later one replaces it. */
export const NOTIFICATION_TAG = 'pujo-uploads'

/**
 * Says what went in a notification, only if the person allowed Pujo's
 * notifications already; resolves with whether one was shown.
 */
export async function notifyOutcome(outcome: Outcome, language: string, notifier: Notifier): Promise<boolean> {
  if (notifier.permission() !== 'granted') return false
  const body = outcomeText(outcome, language)
  if (body === null) return false
  try {
    await notifier.show('Pujo', { body, tag: NOTIFICATION_TAG, lang: language, data: { url: '/upload' } })
    return true
  } catch {
    return false
  }
}
