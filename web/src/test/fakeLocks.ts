/**
 * The Web Locks API for one lock name, as the browser grants it: shared
 * holders together, an exclusive holder alone, waiters in order; `ifAvailable`
 * gets null at once when it would wait; a waiter's `signal` takes it out of the
 * line with an `AbortError`. (Node and jsdom have no `navigator.locks`.)
 */
import type { Locks } from '../lib/uploadLock'

type Mode = 'shared' | 'exclusive'
interface Waiter {
  mode: Mode
  grant: () => void
}

export class FakeLocks implements Locks {
  /** The modes held now. */
  held: Mode[] = []
  private waiting: Waiter[] = []

  private grantable(mode: Mode): boolean {
    return mode === 'exclusive' ? this.held.length === 0 : !this.held.includes('exclusive')
  }

  request<T>(
    _name: string,
    options: { mode?: Mode; ifAvailable?: boolean; signal?: AbortSignal },
    callback: (lock: unknown) => T | Promise<T>,
  ): Promise<T> {
    const mode = options.mode ?? 'exclusive'
    const run = async (): Promise<T> => {
      this.held.push(mode)
      try {
        return await callback({ mode })
      } finally {
        this.held.splice(this.held.indexOf(mode), 1)
        this.next()
      }
    }
    if (this.waiting.length === 0 && this.grantable(mode)) return run()
    if (options.ifAvailable) return Promise.resolve(callback(null))
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = { mode, grant: () => void run().then(resolve, reject) }
      this.waiting.push(waiter)
      options.signal?.addEventListener('abort', () => {
        const at = this.waiting.indexOf(waiter)
        if (at < 0) return
        this.waiting.splice(at, 1)
        reject(new DOMException('The request was aborted', 'AbortError'))
      })
    })
  }

  private next(): void {
    while (this.waiting.length > 0 && this.grantable(this.waiting[0]!.mode)) this.waiting.shift()!.grant()
  }
}
