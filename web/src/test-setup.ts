import { afterEach } from 'vitest'
import { cleanup } from '@testing-library/react'

// Vitest globals are off, so Testing Library cannot register this itself.
afterEach(() => {
  cleanup()
  window.history.replaceState(null, '', '/')
  window.localStorage.clear()
  document.documentElement.lang = 'en'
  document.body.className = ''
})

// jsdom has no layout: scrolling is a no-op rather than a "not implemented" error.
window.scrollTo = () => {}

// jsdom's Blob has no arrayBuffer()/text() (browsers all have them): read through FileReader.
function readBlob(blob: Blob): Promise<ArrayBuffer> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader()
    reader.onload = () => resolve(reader.result as ArrayBuffer)
    reader.onerror = () => reject(reader.error)
    reader.readAsArrayBuffer(blob)
  })
}
if (typeof Blob.prototype.arrayBuffer !== 'function') {
  Blob.prototype.arrayBuffer = function (this: Blob) {
    return readBlob(this)
  }
}
if (typeof Blob.prototype.text !== 'function') {
  Blob.prototype.text = async function (this: Blob) {
    return new TextDecoder().decode(await readBlob(this))
  }
}
