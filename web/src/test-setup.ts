import { afterEach } from 'vitest'
import { cleanup } from '@testing-library/react'

// Vitest globals are off, so Testing Library cannot register this itself.
afterEach(() => {
  cleanup()
  window.history.replaceState(null, '', '/')
})
