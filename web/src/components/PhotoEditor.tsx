import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState, type FormEvent } from 'react'
import { getProfile, updateAlbum, updatePhoto, type PhotoUpdate } from '../api/endpoints'
import type { GpsPrivacy, Photo } from '../api/types'
import { useMe } from '../hooks/useSession'
import { useI18n } from '../i18n'
import { keys } from '../queryClient'
import { SelectField, TextArea } from './Field'
import { FormError, fieldErrors } from './FormError'

export const GPS_CHOICES: GpsPrivacy[] = ['hidden', 'coarse', 'exact']

/** The owner's controls: caption, location privacy, original download, album, cover. */
export function PhotoEditor({ photo, onDone }: { photo: Photo; onDone: () => void }) {
  const { t } = useI18n()
  const me = useMe()
  const client = useQueryClient()
  const [caption, setCaption] = useState(photo.caption)
  const [gps, setGps] = useState<GpsPrivacy>(photo.gps_privacy ?? 'hidden')
  const [allowOriginal, setAllowOriginal] = useState(photo.allow_original ?? false)
  const [albumId, setAlbumId] = useState(String(photo.album_id))
  const isOwner = me?.id === photo.owner.id

  const albums = useQuery({
    queryKey: keys.profile(me?.username ?? ''),
    queryFn: ({ signal }) => getProfile(me!.username, signal),
    enabled: isOwner && me != null,
  })

  const save = useMutation({
    mutationFn: (patch: PhotoUpdate) => updatePhoto(photo.id, patch),
    onSuccess: (saved) => {
      client.setQueryData(keys.photo(photo.id), saved)
      void client.invalidateQueries({ queryKey: ['albums'] })
      void client.invalidateQueries({ queryKey: ['photos', 'feed'] })
      onDone()
    },
  })
  const cover = useMutation({
    mutationFn: () => updateAlbum(photo.album_id, { cover_photo_id: photo.id }),
    onSuccess: (album) => {
      client.setQueryData(keys.album(album.id), album)
      void client.invalidateQueries({ queryKey: ['users'] })
    },
  })
  const errors = fieldErrors(save.error)

  const submit = (event: FormEvent) => {
    event.preventDefault()
    const patch: PhotoUpdate = { caption: caption.trim() }
    if (photo.gps_privacy !== undefined) patch.gps_privacy = gps
    if (photo.allow_original !== undefined) patch.allow_original = allowOriginal
    if (Number(albumId) !== photo.album_id) patch.album_id = Number(albumId)
    save.mutate(patch)
  }

  return (
    <form className="form panel" onSubmit={submit} noValidate aria-label={t('photo.edit')}>
      <TextArea label={t('photo.caption')} value={caption} onChange={(e) => setCaption(e.target.value)} rows={2} error={errors.caption} />
      {photo.gps_privacy !== undefined && (
        <SelectField
          label={t('photo.gps')}
          value={gps}
          onChange={(e) => setGps(e.target.value as GpsPrivacy)}
          hint={t(`gps.${gps}_hint`)}
          error={errors.gps_privacy}
        >
          {GPS_CHOICES.map((g) => (
            <option key={g} value={g}>
              {t(`gps.${g}`)}
            </option>
          ))}
        </SelectField>
      )}
      {photo.allow_original !== undefined && (
        <div className="field field--check">
          <input id="allow-original" type="checkbox" checked={allowOriginal} onChange={(e) => setAllowOriginal(e.target.checked)} />
          <label htmlFor="allow-original">{t('photo.allow_original')}</label>
        </div>
      )}
      {albums.data && albums.data.albums.length > 1 && (
        <SelectField label={t('photo.album')} value={albumId} onChange={(e) => setAlbumId(e.target.value)} error={errors.album_id}>
          {albums.data.albums.map((a) => (
            <option key={a.id} value={String(a.id)}>
              {a.title}
            </option>
          ))}
        </SelectField>
      )}
      <FormError error={save.error} />
      <div className="actions">
        <button className="button" type="submit" disabled={save.isPending}>
          {save.isPending ? t('common.saving') : t('common.save')}
        </button>
        <button type="button" className="button button--quiet" onClick={() => cover.mutate()} disabled={cover.isPending}>
          {cover.isSuccess ? t('photo.is_cover') : t('photo.make_cover')}
        </button>
        <button type="button" className="button button--quiet" onClick={onDone}>
          {t('common.cancel')}
        </button>
      </div>
      <FormError error={cover.error} />
    </form>
  )
}
