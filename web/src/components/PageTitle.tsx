import { useEffect, useRef, type ReactNode } from 'react'
import { useLocation } from 'react-router'

/** The path whose heading last took focus (null before the first page). */
let focusedPath: string | null = null

/**
 * The page's <h1>. It names the document, and after an in-site navigation
 * to another path it takes focus, so keyboard and screen-reader users land
 * on the new page. Not on the first load (focus belongs to the browser
 * then), and not when only the query changes (filters, a new search), where
 * the person is still working in the form.
 */
export function PageTitle({ title, children }: { title: string; children?: ReactNode }) {
  const { key, pathname } = useLocation()
  const ref = useRef<HTMLHeadingElement>(null)

  useEffect(() => {
    document.title = title === 'Pujo' ? 'Pujo' : `${title} · Pujo`
  }, [title])

  useEffect(() => {
    if (focusedPath === null || key === 'default') {
      focusedPath = pathname
      return
    }
    if (pathname === focusedPath) return
    focusedPath = pathname
    // A lightbox walking through photos changes the page beneath it: leave focus in the lightbox.
    if (document.body.classList.contains('has-modal')) return
    ref.current?.focus()
  }, [key, pathname])

  return (
    <h1 id="page-title" tabIndex={-1} ref={ref}>
      {children ?? title}
    </h1>
  )
}
