import { useState } from 'react'
import { Link, NavLink, useNavigate } from 'react-router'
import { useLogout, useMe } from '../hooks/useSession'
import { LANG_NAMES, useI18n, type Lang } from '../i18n'
import type { MessageKey } from '../i18n/en'
import { THEMES, saveTheme, storedTheme, type Theme } from '../lib/theme'

const NAV: { to: string; label: MessageKey }[] = [
  { to: '/', label: 'nav.home' },
  { to: '/pandals', label: 'nav.pandals' },
  { to: '/search', label: 'nav.search' },
  { to: '/upload', label: 'nav.upload' },
]

function LanguageSwitch() {
  const { lang, setLang, t } = useI18n()
  const other: Lang = lang === 'en' ? 'bn' : 'en'
  return (
    <button
      type="button"
      className="button button--quiet tool"
      lang={other}
      onClick={() => setLang(other)}
      aria-label={`${t('header.language')}: ${LANG_NAMES[other]}`}
    >
      {LANG_NAMES[other]}
    </button>
  )
}

function ThemeToggle() {
  const { t } = useI18n()
  const [theme, setTheme] = useState<Theme>(storedTheme)
  const next = THEMES[(THEMES.indexOf(theme) + 1) % THEMES.length]!
  const icon = theme === 'dark' ? '☾' : theme === 'light' ? '☀' : '◐'
  return (
    <button
      type="button"
      className="button button--quiet tool"
      onClick={() => {
        saveTheme(next)
        setTheme(next)
      }}
      aria-label={t('header.theme', { current: t(`theme.${theme}`), next: t(`theme.${next}`) })}
      title={t(`theme.${theme}`)}
    >
      <span aria-hidden="true">{icon}</span>
    </button>
  )
}

function Account() {
  const { t } = useI18n()
  const me = useMe()
  const logout = useLogout()
  const navigate = useNavigate()
  if (me === undefined) {
    // Until the session is known, hold the place of the logged-out buttons (the
    // first visit's answer), so the header does not grow when they arrive: on a
    // phone they wrap to a second row, which shifted the whole page down.
    return (
      <span className="tools__pending" aria-hidden="true">
        <span className="button button--quiet tool">{t('nav.login')}</span>
        <span className="button tool">{t('nav.register')}</span>
      </span>
    )
  }
  if (me === null) {
    return (
      <>
        <Link className="button button--quiet tool" to="/login">
          {t('nav.login')}
        </Link>
        <Link className="button tool" to="/register">
          {t('nav.register')}
        </Link>
      </>
    )
  }
  return (
    <>
      <Link className="tool account" to={`/u/${me.username}`} aria-label={t('header.profile', { name: me.display_name || me.username })}>
        {me.display_name || me.username}
      </Link>
      <Link className="button button--quiet tool" to="/settings">
        {t('nav.settings')}
      </Link>
      <button
        type="button"
        className="button button--quiet tool"
        disabled={logout.isPending}
        onClick={() => logout.mutate(undefined, { onSuccess: () => navigate('/') })}
      >
        {t('nav.logout')}
      </button>
    </>
  )
}

export function Header() {
  const { t } = useI18n()
  return (
    <header className="site-header">
      <div className="site-header__inner">
        <Link to="/" className="brand">
          <img className="brand__logo" src="/favicon.svg" alt="" width="32" height="32" />
          <span className="brand__name">{t('brand')}</span>
        </Link>
        <div className="tools">
          <LanguageSwitch />
          <ThemeToggle />
          <Account />
        </div>
      </div>
      <nav className="site-nav" aria-label={t('nav.label')}>
        <ul>
          {NAV.map((item) => (
            <li key={item.to}>
              <NavLink to={item.to} end={item.to === '/'}>
                {t(item.label)}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
    </header>
  )
}
