/**
 * English and Bengali. English ships in the first bundle; Bengali is its own
 * chunk, fetched before the first render when it is the remembered choice and
 * on demand when someone switches. Dates and numbers go through Intl with the
 * language's Indian locale (`en-IN`, `bn-IN`: lakh grouping, Bengali digits).
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react'
import { en, type MessageKey, type Messages } from './en'

export type Lang = 'en' | 'bn'
export const LANGS: readonly Lang[] = ['en', 'bn']
/** Each language's name in itself, for the switcher. */
export const LANG_NAMES: Record<Lang, string> = { en: 'English', bn: 'বাংলা' }
export const STORAGE_KEY = 'pujo.lang'

/** Keys with `.one` / `.other` forms, picked by {@link I18n.tn}. */
export type PluralBase = MessageKey extends infer K ? (K extends `${infer B}.one` ? B : never) : never

export type Vars = Record<string, string | number>

const loaded: Partial<Record<Lang, Messages>> = { en }

export async function loadMessages(lang: Lang): Promise<Messages> {
  const have = loaded[lang]
  if (have) return have
  const { bn } = await import('./bn')
  loaded.bn = bn
  return bn
}

function isLang(value: unknown): value is Lang {
  return value === 'en' || value === 'bn'
}

/** The remembered language, else the browser's preference, else English. */
export function preferredLang(): Lang {
  try {
    const stored = window.localStorage.getItem(STORAGE_KEY)
    if (isLang(stored)) return stored
  } catch {
    // Storage may be blocked; fall through.
  }
  const wanted = navigator.languages ?? [navigator.language]
  return wanted.some((l) => l?.toLowerCase().startsWith('bn')) ? 'bn' : 'en'
}

export function localeOf(lang: Lang): string {
  return lang === 'bn' ? 'bn-IN' : 'en-IN'
}

/** `{name}` placeholders filled from `vars`; numbers are formatted for the locale. */
export function interpolate(template: string, vars: Vars | undefined, numberFormat: Intl.NumberFormat): string {
  if (!vars) return template
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = vars[name]
    if (value === undefined) return whole
    return typeof value === 'number' ? numberFormat.format(value) : value
  })
}

export interface I18n {
  lang: Lang
  setLang: (lang: Lang) => void
  t: (key: MessageKey, vars?: Vars) => string
  /** Plural: `{base}.one` or `{base}.other` by the language's rules, with `{count}` filled in. */
  tn: (base: PluralBase, count: number, vars?: Vars) => string
  number: (n: number) => string
  /** A year, without grouping separators. */
  year: (y: number) => string
  date: (iso: string) => string
  dateTime: (iso: string) => string
}

export function makeI18n(lang: Lang, messages: Messages, setLang: (lang: Lang) => void = () => {}): I18n {
  const locale = localeOf(lang)
  const numberFormat = new Intl.NumberFormat(locale)
  const yearFormat = new Intl.NumberFormat(locale, { useGrouping: false })
  const plural = new Intl.PluralRules(locale)
  const dateFormat = new Intl.DateTimeFormat(locale, { dateStyle: 'medium' })
  const dateTimeFormat = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' })
  const t = (key: MessageKey, vars?: Vars) => interpolate(messages[key] ?? en[key], vars, numberFormat)
  const safeDate = (format: Intl.DateTimeFormat, iso: string) => {
    const when = new Date(iso)
    return Number.isNaN(when.getTime()) ? iso : format.format(when)
  }
  return {
    lang,
    setLang,
    t,
    tn: (base, count, vars) => {
      const form = plural.select(count) === 'one' ? 'one' : 'other'
      return t(`${base}.${form}` as MessageKey, { ...vars, count })
    },
    number: (n) => numberFormat.format(n),
    year: (y) => yearFormat.format(y),
    date: (iso) => safeDate(dateFormat, iso),
    dateTime: (iso) => safeDate(dateTimeFormat, iso),
  }
}

const I18nContext = createContext<I18n>(makeI18n('en', en))

export function useI18n(): I18n {
  return useContext(I18nContext)
}

/** Shorthand for the common case. */
export function useT(): I18n['t'] {
  return useContext(I18nContext).t
}

export function I18nProvider({ initial, children }: { initial: Lang; children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(() => (loaded[initial] ? initial : 'en'))

  const setLang = useCallback((next: Lang) => {
    try {
      window.localStorage.setItem(STORAGE_KEY, next)
    } catch {
      // Remembering is a nicety; the switch still happens.
    }
    void loadMessages(next).then(() => setLangState(next))
  }, [])

  useEffect(() => {
    document.documentElement.lang = lang
  }, [lang])

  const value = useMemo(() => makeI18n(lang, loaded[lang] ?? en, setLang), [lang, setLang])
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>
}
