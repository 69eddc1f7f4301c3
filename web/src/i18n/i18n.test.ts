import { describe, expect, it } from 'vitest'
import { ApiError } from '../api/client'
import { bn } from './bn'
import { en, type MessageKey } from './en'
import { errorText } from './errors'
import { interpolate, loadMessages, makeI18n, preferredLang, STORAGE_KEY } from './index'

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()

describe('dictionaries', () => {
  it('have the same keys in English and Bengali', () => {
    expect(Object.keys(bn).sort()).toEqual(Object.keys(en).sort())
  })

  it('have no empty messages', () => {
    for (const [key, text] of [...Object.entries(en), ...Object.entries(bn)]) {
      expect(text.trim(), key).not.toBe('')
    }
  })

  it('use the same placeholders in both languages', () => {
    for (const key of Object.keys(en) as MessageKey[]) {
      expect(placeholders(bn[key]), key).toEqual(placeholders(en[key]))
    }
  })

  it('give every plural both forms, with {count}', () => {
    for (const key of Object.keys(en)) {
      if (!key.endsWith('.one')) continue
      const other = `${key.slice(0, -4)}.other`
      expect(Object.keys(en), key).toContain(other)
      expect(en[key as MessageKey]).toContain('{count}')
      expect(en[other as MessageKey]).toContain('{count}')
    }
  })

  it('are really translated: most Bengali messages use Bengali script', () => {
    const bengali = Object.values(bn).filter((text) => /[\u0980-\u09FF]/.test(text)).length
    expect(bengali / Object.keys(bn).length).toBeGreaterThan(0.9)
  })

  it('loads Bengali on demand', async () => {
    await expect(loadMessages('bn')).resolves.toBe(bn)
    await expect(loadMessages('en')).resolves.toBe(en)
  })
})

describe('formatting', () => {
  it('fills placeholders and leaves unknown ones', () => {
    const nf = new Intl.NumberFormat('en-IN')
    expect(interpolate('{a} and {b}', { a: 'x' }, nf)).toBe('x and {b}')
    expect(interpolate('{n} photos', { n: 123456 }, nf)).toBe('1,23,456 photos')
  })

  it('picks plural forms and formats numbers per language', () => {
    const english = makeI18n('en', en)
    expect(english.tn('album.photo_count', 1)).toBe('1 photo')
    expect(english.tn('album.photo_count', 2)).toBe('2 photos')
    expect(english.tn('album.photo_count', 0)).toBe('0 photos')

    const bangla = makeI18n('bn', bn)
    expect(bangla.tn('album.photo_count', 12)).toBe('১২টি ছবি')
    expect(bangla.number(100000)).toBe('১,০০,০০০')
    expect(bangla.year(2025)).toBe('২০২৫')
    expect(english.year(2025)).toBe('2025')
  })

  it('formats dates per language and keeps a bad date as given', () => {
    const english = makeI18n('en', en)
    const bangla = makeI18n('bn', bn)
    expect(english.date('2025-10-01T12:00:00Z')).toMatch(/2025/)
    expect(bangla.date('2025-10-01T12:00:00Z')).toMatch(/২০২৫/)
    expect(english.date('not a date')).toBe('not a date')
  })

  it('prefers the remembered language, then the browser’s', () => {
    window.localStorage.setItem(STORAGE_KEY, 'bn')
    expect(preferredLang()).toBe('bn')
    window.localStorage.setItem(STORAGE_KEY, 'fr')
    expect(preferredLang()).toBe('en')
  })

  it('puts API errors into words, with the wait for rate limits', () => {
    const english = makeI18n('en', en)
    const limited = new ApiError(429, 'rate_limited', 'x')
    limited.retryAfter = 30
    expect(errorText(english, limited)).toBe('Too many tries. Try again in 30 seconds.')
    expect(errorText(makeI18n('bn', bn), limited)).toBe('অনেকবার চেষ্টা হয়েছে। ৩০ সেকেন্ড পরে আবার চেষ্টা করুন।')
    expect(errorText(english, new ApiError(500, 'internal', 'internal error'))).toBe('internal error')
    expect(errorText(english, new Error('boom'))).toBe('Something went wrong. Try again.')
  })
})
