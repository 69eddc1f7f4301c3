/** A stand-in for XMLHttpRequest in unit tests: the test plays the server. */
export class FakeXhr {
  static last: FakeXhr | null = null
  static all: FakeXhr[] = []
  method = ''
  url = ''
  headers: Record<string, string> = {}
  body: FormData | null = null
  /** A raw body (a tus chunk). */
  payload: Blob | null = null
  status = 0
  statusText = ''
  responseText = ''
  responseType = ''
  responseHeaders: Record<string, string> = {}
  aborted = false
  upload: { onprogress: ((e: { lengthComputable: boolean; loaded: number; total: number }) => void) | null } = { onprogress: null }
  onload: (() => void) | null = null
  onerror: (() => void) | null = null
  onabort: (() => void) | null = null
  ontimeout: (() => void) | null = null

  constructor() {
    FakeXhr.last = this
    FakeXhr.all.push(this)
  }
  open(method: string, url: string) {
    this.method = method
    this.url = url
  }
  setRequestHeader(name: string, value: string) {
    this.headers[name] = value
  }
  getResponseHeader(name: string) {
    const found = Object.keys(this.responseHeaders).find((key) => key.toLowerCase() === name.toLowerCase())
    return found === undefined ? null : (this.responseHeaders[found] ?? null)
  }
  send(body: FormData | Blob | null) {
    if (body instanceof FormData) this.body = body
    else this.payload = body
  }
  abort() {
    this.aborted = true
    this.onabort?.()
  }
  // Test side
  progress(loaded: number, total: number) {
    this.upload.onprogress?.({ lengthComputable: true, loaded, total })
  }
  respond(status: number, body: unknown, headers: Record<string, string> = {}) {
    this.status = status
    this.responseText = typeof body === 'string' ? body : JSON.stringify(body)
    this.responseHeaders = headers
    this.onload?.()
  }
  /** The connection drops before an answer. */
  fail() {
    this.onerror?.()
  }
}

