import { useI18n } from '../i18n'
import { SelectField } from './Field'

/** When a link made now for `days` days expires (RFC 3339), or null for "until revoked" (0). */
export function expiresIn(days: number, now = Date.now()): string | null {
  return days > 0 ? new Date(now + days * 86_400_000).toISOString() : null
}

/** "Lasts": how long a new link lives, in days (0: until it is revoked). */
export function LifetimeField({
  choices,
  value,
  onChange,
  error,
}: {
  choices: readonly number[]
  value: string
  onChange: (value: string) => void
  error?: string
}) {
  const { t, tn } = useI18n()
  return (
    <SelectField label={t('share.lasts')} value={value} onChange={(e) => onChange(e.target.value)} error={error}>
      {choices.map((d) => (
        <option key={d} value={String(d)}>
          {d === 0 ? t('share.until_revoked') : tn('share.days', d)}
        </option>
      ))}
    </SelectField>
  )
}
