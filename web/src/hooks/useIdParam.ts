import { useParams } from 'react-router'

/** The route's numeric `:id`, or null when it is not a positive whole number. */
export function useIdParam(): number | null {
  const { id } = useParams()
  return id && /^\d{1,15}$/.test(id) && Number(id) > 0 ? Number(id) : null
}
