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
