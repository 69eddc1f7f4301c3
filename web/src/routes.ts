/** Top-level sections of the site, in navigation order. */
export interface Section {
  path: string
  label: string
  /** One-line description shown on the section's page. */
  summary: string
}

export const SECTIONS: readonly Section[] = [
  { path: '/', label: 'Home', summary: 'Photos of Durga Puja pandals, shared by the people who visit them.' },
  { path: '/pandals', label: 'Pandals', summary: 'Browse pandals by city and year, with every photo people have shared of them.' },
  { path: '/search', label: 'Search', summary: 'Find photos by pandal name, city and year.' },
  { path: '/upload', label: 'Upload', summary: 'Share your own pandal photos and collect them in albums.' },
]

/** Normalise a pathname: no trailing slash except for the root. */
export function normalisePath(pathname: string): string {
  const trimmed = pathname.replace(/\/+$/, '')
  return trimmed === '' ? '/' : trimmed
}

export function findSection(pathname: string): Section | undefined {
  const path = normalisePath(pathname)
  return SECTIONS.find((s) => s.path === path)
}
