import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { getMe, logout } from '../api/endpoints'
import type { Me } from '../api/types'
import { keys } from '../queryClient'

/** The signed-in person: `undefined` while asking, `null` when nobody is. */
export function useMe(): Me | null | undefined {
  const { data } = useQuery({ queryKey: keys.me, queryFn: ({ signal }) => getMe(signal), staleTime: 5 * 60_000 })
  return data
}

/**
 * After logging in or out every cached answer may be wrong (private albums,
 * `can_edit`, `liked_by_me`), so everything but the session is dropped.
 */
export function useSetSession(): (me: Me | null) => void {
  const client = useQueryClient()
  return (me) => {
    client.removeQueries({ predicate: (q) => q.queryKey[0] !== 'me' })
    client.setQueryData(keys.me, me)
  }
}

export function useLogout() {
  const setSession = useSetSession()
  return useMutation({ mutationFn: logout, onSuccess: () => setSession(null) })
}
