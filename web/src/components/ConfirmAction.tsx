import { useEffect, useRef, useState } from 'react'
import { useI18n } from '../i18n'

/**
 * A destructive button that asks first, in the page rather than in a
 * browser dialog: the first press shows the question and focuses "Yes".
 */
export function ConfirmAction({
  label,
  question,
  onConfirm,
  busy = false,
  confirmLabel,
}: {
  label: string
  question: string
  onConfirm: () => void
  busy?: boolean
  /** What the button that goes ahead says (default: "Yes, delete"). */
  confirmLabel?: string
}) {
  const { t } = useI18n()
  const [asking, setAsking] = useState(false)
  const yes = useRef<HTMLButtonElement>(null)
  const start = useRef<HTMLButtonElement>(null)
  const wasAsking = useRef(false)

  useEffect(() => {
    if (asking) yes.current?.focus()
    else if (wasAsking.current) start.current?.focus()
    wasAsking.current = asking
  }, [asking])

  if (!asking) {
    return (
      <button type="button" className="button button--danger" ref={start} onClick={() => setAsking(true)}>
        {label}
      </button>
    )
  }
  return (
    <div className="confirm" role="group" aria-label={question}>
      <p>{question}</p>
      <button type="button" className="button button--danger" ref={yes} disabled={busy} onClick={onConfirm}>
        {busy ? t('common.working') : (confirmLabel ?? t('common.yes_delete'))}
      </button>
      <button type="button" className="button button--quiet" onClick={() => setAsking(false)}>
        {t('common.cancel')}
      </button>
    </div>
  )
}
