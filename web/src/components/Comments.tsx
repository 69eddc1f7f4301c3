import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useState, type FormEvent } from 'react'
import { Link, useLocation } from 'react-router'
import { createComment, deleteComment, listComments } from '../api/endpoints'
import type { Comment, Photo } from '../api/types'
import { useCursorList } from '../hooks/useCursorList'
import { useMe } from '../hooks/useSession'
import { useI18n } from '../i18n'
import { keys } from '../queryClient'
import { TextArea } from './Field'
import { FormError, fieldErrors } from './FormError'
import { LoadMore } from './LoadMore'
import { ReportButton } from './ReportButton'
import { ErrorNotice, Loading } from './Status'

function CommentItem({ comment, photoId, linkKey }: { comment: Comment; photoId: number; linkKey?: string }) {
  const { t, dateTime } = useI18n()
  const client = useQueryClient()
  const remove = useMutation({
    mutationFn: () => deleteComment(comment.id, linkKey),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: keys.comments(photoId) })
      client.setQueryData<Photo>(keys.photo(photoId), (p) => (p ? { ...p, comment_count: Math.max(0, p.comment_count - 1) } : p))
    },
  })
  return (
    <li className="comment">
      <p className="comment__meta">
        <Link to={`/u/${comment.author.username}`}>{comment.author.display_name || comment.author.username}</Link> ·{' '}
        <time dateTime={comment.created_at}>{dateTime(comment.created_at)}</time>
      </p>
      <p className="comment__body">{comment.body}</p>
      {comment.can_delete && (
        <button
          type="button"
          className="link-button"
          disabled={remove.isPending}
          onClick={() => remove.mutate()}
          aria-label={t('comments.delete_label', { name: comment.author.display_name || comment.author.username })}
        >
          {t('comments.delete')}
        </button>
      )}
      {!comment.can_delete && <ReportButton kind="comment" id={comment.id} linkKey={linkKey} />}
      {remove.error != null && <ErrorNotice error={remove.error} />}
    </li>
  )
}

export function Comments({ photo }: { photo: Photo }) {
  const { t, tn } = useI18n()
  const me = useMe()
  const location = useLocation()
  const client = useQueryClient()
  const [body, setBody] = useState('')
  const list = useCursorList(keys.comments(photo.id), (cursor, signal) =>
    listComments(photo.id, { cursor }, signal, photo.link_key),
  )
  const post = useMutation({
    mutationFn: (text: string) => createComment(photo.id, text, photo.link_key),
    onSuccess: () => {
      setBody('')
      void client.invalidateQueries({ queryKey: keys.comments(photo.id) })
      client.setQueryData<Photo>(keys.photo(photo.id), (p) => (p ? { ...p, comment_count: p.comment_count + 1 } : p))
    },
  })

  const submit = (event: FormEvent) => {
    event.preventDefault()
    if (body.trim() === '') return
    post.mutate(body.trim())
  }

  return (
    <section className="comments" aria-labelledby="comments-title">
      <h2 id="comments-title">{tn('comments.count', photo.comment_count)}</h2>
      {me ? (
        <form className="form comment-form" onSubmit={submit}>
          <TextArea
            label={t('comments.add')}
            value={body}
            onChange={(e) => setBody(e.target.value)}
            maxLength={2000}
            rows={3}
            required
            error={fieldErrors(post.error).body}
          />
          <FormError error={post.error} />
          <button className="button" type="submit" disabled={post.isPending || body.trim() === ''}>
            {post.isPending ? t('common.saving') : t('comments.post')}
          </button>
        </form>
      ) : (
        me === null && (
          <p>
            <Link to={`/login?next=${encodeURIComponent(location.pathname + location.search)}`}>{t('comments.login')}</Link>
          </p>
        )
      )}
      {list.isPending ? (
        <Loading />
      ) : list.error && list.items.length === 0 ? (
        <ErrorNotice error={list.error} onRetry={list.refetch} />
      ) : list.items.length === 0 ? (
        <p className="empty">{t('comments.empty')}</p>
      ) : (
        <ul className="comment-list">
          {list.items.map((c) => (
            <CommentItem key={c.id} comment={c} photoId={photo.id} linkKey={photo.link_key} />
          ))}
        </ul>
      )}
      <LoadMore list={list} />
    </section>
  )
}
