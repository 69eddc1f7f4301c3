import type { ReactNode } from 'react'
import { Navigate, useLocation } from 'react-router'
import type { Me } from '../api/types'
import { useMe } from '../hooks/useSession'
import { Loading } from './Status'

/** Pages for signed-in people: others are sent to log in and brought back after. */
export function RequireLogin({ children }: { children: (me: Me) => ReactNode }) {
  const me = useMe()
  const location = useLocation()
  if (me === undefined) return <Loading />
  if (me === null) {
    const next = location.pathname + location.search
    return <Navigate to={`/login?next=${encodeURIComponent(next)}`} replace />
  }
  return <>{children(me)}</>
}

/** Where to go after logging in: only paths on this site. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/'
  return next
}
