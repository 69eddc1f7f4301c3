import { useSearchParams } from 'react-router'

/** The unlisted album link key in an address's query (`?key=`), or null. */
export function linkKeyOf(params: URLSearchParams): string | null {
  const key = params.get('key')
  return key && /^[0-9a-f]{1,64}$/.test(key) ? key : null
}

/** The unlisted album link key in the page's address, or null. */
export function useLinkKey(): string | null {
  const [params] = useSearchParams()
  return linkKeyOf(params)
}

/** A path with an unlisted album's link key, when there is one. */
export function withKey(path: string, key: string | null | undefined): string {
  return key ? `${path}?key=${encodeURIComponent(key)}` : path
}
