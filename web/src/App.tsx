import { useEffect, useRef } from 'react'
import { ServerStatus } from './components/ServerStatus'
import { ComingSoonPage } from './pages/ComingSoonPage'
import { HomePage } from './pages/HomePage'
import { NotFoundPage } from './pages/NotFoundPage'
import { Link, usePathname } from './router'
import { SECTIONS, findSection, normalisePath } from './routes'

export function App() {
  const pathname = usePathname()
  const section = findSection(pathname)
  const current = normalisePath(pathname)
  const shownPath = useRef(pathname)

  useEffect(() => {
    document.title = section && section.path !== '/' ? `${section.label} · Pujo` : section ? 'Pujo' : 'Not found · Pujo'
    // After in-page navigation, move focus to the new page's heading so
    // keyboard and screen-reader users land on the new content.
    // (Not on first load; comparing paths also keeps StrictMode's double
    // effect run from stealing focus.)
    if (shownPath.current === pathname) return
    shownPath.current = pathname
    document.getElementById('page-title')?.focus()
  }, [section, pathname])

  let page
  if (!section) page = <NotFoundPage pathname={pathname} />
  else if (section.path === '/') page = <HomePage />
  else page = <ComingSoonPage section={section} />

  return (
    <div className="shell">
      <a className="skip-link" href="#main">Skip to main content</a>
      <header className="site-header">
        <div className="site-header__inner">
          <Link to="/" className="brand">
            <img className="brand__logo" src="/favicon.svg" alt="" width="32" height="32" />
            <span className="brand__name">Pujo</span>
          </Link>
          <p className="tagline">Photos of Durga Puja pandals, shared by the people who visit them</p>
        </div>
        <nav className="site-nav" aria-label="Main">
          <ul>
            {SECTIONS.map((s) => (
              <li key={s.path}>
                <Link to={s.path} aria-current={current === s.path ? 'page' : undefined}>
                  {s.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main id="main" className="site-main" tabIndex={-1}>
        {page}
      </main>
      <footer className="site-footer">
        <ServerStatus />
      </footer>
    </div>
  )
}
