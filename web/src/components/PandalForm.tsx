import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useState, type FormEvent } from 'react'
import { createPandal, updatePandal, type PandalInput } from '../api/endpoints'
import type { Pandal } from '../api/types'
import { useI18n } from '../i18n'
import { TextField } from './Field'
import { FormError, fieldErrors } from './FormError'

function numberOrNull(text: string): number | null {
  const trimmed = text.trim()
  if (trimmed === '') return null
  const n = Number(trimmed)
  return Number.isFinite(n) ? n : null
}

/** Admins create and edit pandals with this form. */
export function PandalForm({ pandal, onDone }: { pandal?: Pandal; onDone: (p: Pandal) => void }) {
  const { t } = useI18n()
  const client = useQueryClient()
  const [name, setName] = useState(pandal?.name ?? '')
  const [para, setPara] = useState(pandal?.para ?? '')
  const [city, setCity] = useState(pandal?.city ?? '')
  const [year, setYear] = useState(String(pandal?.year ?? new Date().getFullYear()))
  const [lat, setLat] = useState(pandal?.lat != null ? String(pandal.lat) : '')
  const [lon, setLon] = useState(pandal?.lon != null ? String(pandal.lon) : '')

  const save = useMutation({
    mutationFn: (input: PandalInput) => (pandal ? updatePandal(pandal.id, input) : createPandal(input)),
    onSuccess: (saved) => {
      void client.invalidateQueries({ queryKey: ['pandals'] })
      onDone(saved)
    },
  })
  const errors = fieldErrors(save.error)

  const submit = (event: FormEvent) => {
    event.preventDefault()
    save.mutate({
      name: name.trim(),
      para: para.trim(),
      city: city.trim(),
      year: Number(year),
      lat: numberOrNull(lat),
      lon: numberOrNull(lon),
    })
  }

  return (
    <form className="form panel" onSubmit={submit} noValidate>
      <TextField label={t('pandal.name')} value={name} onChange={(e) => setName(e.target.value)} required error={errors.name} />
      <TextField label={t('pandal.para')} value={para} onChange={(e) => setPara(e.target.value)} error={errors.para} />
      <TextField label={t('pandal.city')} value={city} onChange={(e) => setCity(e.target.value)} required error={errors.city} />
      <TextField
        label={t('pandal.year')}
        value={year}
        onChange={(e) => setYear(e.target.value)}
        inputMode="numeric"
        required
        error={errors.year}
      />
      <div className="field-row">
        <TextField label={t('pandal.lat')} value={lat} onChange={(e) => setLat(e.target.value)} inputMode="decimal" error={errors.lat} />
        <TextField label={t('pandal.lon')} value={lon} onChange={(e) => setLon(e.target.value)} inputMode="decimal" error={errors.lon} />
      </div>
      <FormError error={save.error} />
      <button className="button" type="submit" disabled={save.isPending}>
        {save.isPending ? t('common.saving') : pandal ? t('common.save') : t('pandal.create')}
      </button>
    </form>
  )
}
