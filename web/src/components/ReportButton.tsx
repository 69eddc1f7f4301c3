import { useMutation } from '@tanstack/react-query'
import { useState, type FormEvent } from 'react'
import { report, type ReportReason } from '../api/endpoints'
import { useI18n } from '../i18n'
import { SelectField, TextArea } from './Field'
import { FormError } from './FormError'

const REASONS: ReportReason[] = ['abuse', 'private', 'spam', 'copyright', 'other']

/**
 * "Report" for a photo or a comment: a reason and an optional note, sent to the
 * album's owner, its pandal's moderators and admins. Open to anyone who can see it.
 */
export function ReportButton({ kind, id, linkKey }: { kind: 'photo' | 'comment'; id: number; linkKey?: string | null }) {
  const { t } = useI18n()
  const [open, setOpen] = useState(false)
  const [reason, setReason] = useState<ReportReason>('abuse')
  const [note, setNote] = useState('')
  const send = useMutation({ mutationFn: () => report(kind, id, reason, note.trim(), linkKey) })
  const submit = (event: FormEvent) => {
    event.preventDefault()
    send.mutate()
  }
  if (send.isSuccess) {
    return (
      <p className="notice" role="status">
        {t('report.thanks')}
      </p>
    )
  }
  if (!open) {
    return (
      <button type="button" className="link-button" onClick={() => setOpen(true)}>
        {kind === 'photo' ? t('report.photo') : t('report.comment')}
      </button>
    )
  }
  return (
    <form className="form panel" onSubmit={submit} noValidate aria-label={kind === 'photo' ? t('report.photo') : t('report.comment')}>
      <SelectField label={t('report.reason')} value={reason} onChange={(e) => setReason(e.target.value as ReportReason)}>
        {REASONS.map((r) => (
          <option key={r} value={r}>
            {t(`report.reason.${r}`)}
          </option>
        ))}
      </SelectField>
      <TextArea label={t('report.note')} value={note} onChange={(e) => setNote(e.target.value)} maxLength={500} rows={2} />
      <FormError error={send.error} />
      <div className="actions">
        <button className="button" type="submit" disabled={send.isPending}>
          {t('report.send')}
        </button>
        <button type="button" className="button button--quiet" onClick={() => setOpen(false)}>
          {t('common.cancel')}
        </button>
      </div>
    </form>
  )
}
