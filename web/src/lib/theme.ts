/**
 * Light / dark theme: follows the system unless the person picked one, which
 * is remembered. The choice is a `data-theme` attribute on <html> that the
 * stylesheet reads (no inline styles: the CSP forbids them).
 */
export type Theme = 'system' | 'light' | 'dark'
export const THEMES: readonly Theme[] = ['system', 'light', 'dark']
export const THEME_KEY = 'pujo.theme'

export function storedTheme(): Theme {
  try {
    const value = window.localStorage.getItem(THEME_KEY)
    if (value === 'light' || value === 'dark') return value
  } catch {
    // Storage may be blocked.
  }
  return 'system'
}

export function applyTheme(theme: Theme): void {
  const root = document.documentElement
  if (theme === 'system') delete root.dataset.theme
  else root.dataset.theme = theme
}

export function saveTheme(theme: Theme): void {
  try {
    if (theme === 'system') window.localStorage.removeItem(THEME_KEY)
    else window.localStorage.setItem(THEME_KEY, theme)
  } catch {
    // Not remembered, still applied.
  }
  applyTheme(theme)
}
