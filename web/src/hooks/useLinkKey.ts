import { useSearchParams } from 'react-router'

/** The unlisted album link key in the page's address (`?key=`), or null. */
export function useLinkKey(): string | null {
  const [params] = useSearchParams()
  const key = params.get('key')
  return key && /^[0-9a-f]{1,64}$/.test(key) ? key : null
}

/** A path with an unlisted album's link key, when there is one. */
export function withKey(path: string, key: string | null | undefined): string {
  return key ? `${path}?key=${encodeURIComponent(key)}` : path
}
