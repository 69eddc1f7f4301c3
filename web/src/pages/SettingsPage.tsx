import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useState, type FormEvent } from 'react'
import { Link, useNavigate } from 'react-router'
import { changePassword, deleteMe, updateMe, type MeUpdate } from '../api/endpoints'
import type { GpsPrivacy, Me } from '../api/types'
import { SelectField, TextArea, TextField } from '../components/Field'
import { FormError, fieldErrors } from '../components/FormError'
import { PageTitle } from '../components/PageTitle'
import { GPS_CHOICES } from '../components/PhotoEditor'
import { RequireLogin } from '../components/RequireLogin'
import { useSetSession } from '../hooks/useSession'
import { LANGS, LANG_NAMES, useI18n, type Lang } from '../i18n'
import { keys } from '../queryClient'

function ProfileForm({ me }: { me: Me }) {
  const { t } = useI18n()
  const client = useQueryClient()
  const [displayName, setDisplayName] = useState(me.display_name)
  const [bio, setBio] = useState(me.bio)
  const [gps, setGps] = useState<GpsPrivacy>(me.gps_privacy)
  const save = useMutation({
    mutationFn: (patch: MeUpdate) => updateMe(patch),
    onSuccess: (saved) => {
      client.setQueryData(keys.me, saved)
      void client.invalidateQueries({ queryKey: keys.profile(saved.username) })
    },
  })
  const errors = fieldErrors(save.error)
  const submit = (event: FormEvent) => {
    event.preventDefault()
    save.mutate({ display_name: displayName.trim(), bio: bio.trim(), gps_privacy: gps })
  }
  return (
    <section className="panel" aria-labelledby="settings-profile">
      <h2 id="settings-profile">{t('settings.profile')}</h2>
      <form className="form" onSubmit={submit} noValidate>
        <TextField label={t('register.display_name')} value={displayName} onChange={(e) => setDisplayName(e.target.value)} error={errors.display_name} />
        <TextArea label={t('settings.bio')} value={bio} onChange={(e) => setBio(e.target.value)} rows={3} error={errors.bio} />
        <SelectField
          label={t('settings.gps')}
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
        <FormError error={save.error} />
        <p className="form-status" role="status">
          {save.isSuccess ? t('settings.saved') : ''}
        </p>
        <button className="button" type="submit" disabled={save.isPending}>
          {save.isPending ? t('common.saving') : t('common.save')}
        </button>
      </form>
    </section>
  )
}

function PasswordForm() {
  const { t } = useI18n()
  const [current, setCurrent] = useState('')
  const [next, setNext] = useState('')
  const [again, setAgain] = useState('')
  const [mismatch, setMismatch] = useState(false)
  const change = useMutation({
    mutationFn: () => changePassword(current, next),
    onSuccess: () => {
      setCurrent('')
      setNext('')
      setAgain('')
    },
  })
  const errors = fieldErrors(change.error)
  const submit = (event: FormEvent) => {
    event.preventDefault()
    if (next !== again) {
      setMismatch(true)
      return
    }
    setMismatch(false)
    change.mutate()
  }
  return (
    <section className="panel" aria-labelledby="settings-password">
      <h2 id="settings-password">{t('settings.password')}</h2>
      <form className="form" onSubmit={submit}>
        <TextField
          label={t('settings.current_password')}
          type="password"
          autoComplete="current-password"
          value={current}
          onChange={(e) => setCurrent(e.target.value)}
          required
          error={errors.current_password}
        />
        <TextField
          label={t('settings.new_password')}
          type="password"
          autoComplete="new-password"
          value={next}
          onChange={(e) => setNext(e.target.value)}
          required
          minLength={10}
          maxLength={128}
          hint={t('register.password_hint')}
          error={errors.new_password}
        />
        <TextField
          label={t('settings.repeat_password')}
          type="password"
          autoComplete="new-password"
          value={again}
          onChange={(e) => setAgain(e.target.value)}
          required
          error={mismatch ? t('settings.mismatch') : undefined}
        />
        <FormError error={change.error} />
        <p className="form-status" role="status">
          {change.isSuccess ? t('settings.password_changed') : ''}
        </p>
        <button className="button" type="submit" disabled={change.isPending}>
          {change.isPending ? t('common.saving') : t('settings.change_password')}
        </button>
      </form>
    </section>
  )
}

function LanguageForm() {
  const { t, lang, setLang } = useI18n()
  return (
    <section className="panel" aria-labelledby="settings-language">
      <h2 id="settings-language">{t('header.language')}</h2>
      <SelectField label={t('header.language')} value={lang} onChange={(e) => setLang(e.target.value as Lang)}>
        {LANGS.map((l) => (
          <option key={l} value={l} lang={l}>
            {LANG_NAMES[l]}
          </option>
        ))}
      </SelectField>
    </section>
  )
}

/** Everything the person uploaded, as one ZIP the server streams (`GET /api/v1/me/export`). */
function ExportData() {
  const { t } = useI18n()
  return (
    <section className="panel" aria-labelledby="settings-export">
      <h2 id="settings-export">{t('settings.export')}</h2>
      <p>{t('settings.export_text')}</p>
      <a className="button" href="/api/v1/me/export" download>
        {t('settings.export_button')}
      </a>
    </section>
  )
}

/** The reports on one's albums (and, for moderators and admins, theirs to act on). */
function ReportsLink() {
  const { t } = useI18n()
  return (
    <section className="panel" aria-labelledby="settings-reports">
      <h2 id="settings-reports">{t('reports.title')}</h2>
      <p>{t('reports.settings_text')}</p>
      <Link className="button" to="/reports">
        {t('reports.open')}
      </Link>
    </section>
  )
}

/** Admins: the way to the audit log. */
function AuditLink() {
  const { t } = useI18n()
  return (
    <section className="panel" aria-labelledby="settings-audit">
      <h2 id="settings-audit">{t('settings.audit')}</h2>
      <p>{t('settings.audit_text')}</p>
      <Link className="button" to="/admin/audit">
        {t('settings.audit_link')}
      </Link>
    </section>
  )
}

function DeleteAccount() {
  const { t } = useI18n()
  const navigate = useNavigate()
  const setSession = useSetSession()
  const [password, setPassword] = useState('')
  const [sure, setSure] = useState(false)
  const remove = useMutation({
    mutationFn: () => deleteMe(password),
    onSuccess: () => {
      setSession(null)
      navigate('/', { replace: true })
    },
  })
  const submit = (event: FormEvent) => {
    event.preventDefault()
    if (sure) remove.mutate()
  }
  return (
    <section className="panel panel--danger" aria-labelledby="settings-delete">
      <h2 id="settings-delete">{t('settings.delete')}</h2>
      <p>{t('settings.delete_warning')}</p>
      <form className="form" onSubmit={submit}>
        <TextField
          label={t('settings.current_password')}
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
          error={fieldErrors(remove.error).password}
        />
        <div className="field field--check">
          <input id="delete-sure" type="checkbox" checked={sure} onChange={(e) => setSure(e.target.checked)} />
          <label htmlFor="delete-sure">{t('settings.delete_sure')}</label>
        </div>
        <FormError error={remove.error} />
        <button className="button button--danger" type="submit" disabled={!sure || password === '' || remove.isPending}>
          {remove.isPending ? t('common.working') : t('settings.delete_button')}
        </button>
      </form>
    </section>
  )
}

export default function SettingsPage() {
  const { t } = useI18n()
  return (
    <RequireLogin>
      {(me) => (
        <div className="narrow">
          <PageTitle title={t('settings.title')} />
          <p className="byline">
            @{me.username} · {me.email}
          </p>
          <ProfileForm me={me} />
          <LanguageForm />
          <PasswordForm />
          <ExportData />
          <ReportsLink />
          {me.role === 'admin' && <AuditLink />}
          <DeleteAccount />
        </div>
      )}
    </RequireLogin>
  )
}
