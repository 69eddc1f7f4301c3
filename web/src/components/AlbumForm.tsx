import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState, type FormEvent } from 'react'
import { createAlbum, listPandals, updateAlbum, type AlbumInput } from '../api/endpoints'
import type { Album, Visibility } from '../api/types'
import { useI18n } from '../i18n'
import { SelectField, TextArea, TextField } from './Field'
import { FormError, fieldErrors } from './FormError'

const VISIBILITIES: Visibility[] = ['public', 'unlisted', 'private']

/** Creates an album, or edits one when `album` is given. */
export function AlbumForm({ album, onDone, onCancel }: { album?: Album; onDone: (album: Album) => void; onCancel?: () => void }) {
  const { t, year } = useI18n()
  const client = useQueryClient()
  const [title, setTitle] = useState(album?.title ?? '')
  const [description, setDescription] = useState(album?.description ?? '')
  const [visibility, setVisibility] = useState<Visibility>(album?.visibility ?? 'public')
  const [pandalId, setPandalId] = useState(album?.pandal ? String(album.pandal.id) : '')

  const pandals = useQuery({
    queryKey: ['pandals', 'options'],
    queryFn: ({ signal }) => listPandals({ limit: 100 }, signal),
  })

  const save = useMutation({
    mutationFn: (input: AlbumInput) => (album ? updateAlbum(album.id, input) : createAlbum(input)),
    onSuccess: (saved) => {
      client.setQueryData(['albums', saved.id], saved)
      void client.invalidateQueries({ queryKey: ['users'] })
      void client.invalidateQueries({ queryKey: ['pandals'] })
      onDone(saved)
    },
  })
  const errors = fieldErrors(save.error)

  const submit = (event: FormEvent) => {
    event.preventDefault()
    save.mutate({
      title: title.trim(),
      description: description.trim(),
      visibility,
      pandal_id: pandalId === '' ? null : Number(pandalId),
    })
  }

  const hint: Record<Visibility, string> = {
    public: t('visibility.public_hint'),
    unlisted: t('visibility.unlisted_hint'),
    private: t('visibility.private_hint'),
  }

  return (
    <form className="form panel" onSubmit={submit} noValidate aria-label={album ? t('album.edit') : t('album.new')}>
      <TextField
        label={t('album.title_label')}
        value={title}
        onChange={(e) => setTitle(e.target.value)}
        required
        maxLength={120}
        error={errors.title}
      />
      <TextArea
        label={t('album.description')}
        value={description}
        onChange={(e) => setDescription(e.target.value)}
        maxLength={2000}
        rows={3}
        error={errors.description}
      />
      <SelectField
        label={t('album.visibility')}
        value={visibility}
        onChange={(e) => setVisibility(e.target.value as Visibility)}
        hint={hint[visibility]}
        error={errors.visibility}
      >
        {VISIBILITIES.map((v) => (
          <option key={v} value={v}>
            {t(`visibility.${v}`)}
          </option>
        ))}
      </SelectField>
      <SelectField label={t('album.pandal')} value={pandalId} onChange={(e) => setPandalId(e.target.value)} error={errors.pandal_id}>
        <option value="">{t('album.no_pandal')}</option>
        {pandals.data?.items.map((p) => (
          <option key={p.id} value={String(p.id)}>
            {p.name} · {p.city} · {year(p.year)}
          </option>
        ))}
        {album?.pandal && !pandals.data?.items.some((p) => p.id === album.pandal?.id) && (
          <option value={String(album.pandal.id)}>{album.pandal.name}</option>
        )}
      </SelectField>
      <FormError error={save.error} />
      <div className="actions">
        <button className="button" type="submit" disabled={save.isPending}>
          {save.isPending ? t('common.saving') : album ? t('common.save') : t('album.create')}
        </button>
        {onCancel && (
          <button type="button" className="button button--quiet" onClick={onCancel}>
            {t('common.cancel')}
          </button>
        )}
      </div>
    </form>
  )
}
