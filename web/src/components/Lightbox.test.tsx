import { fireEvent, screen } from '@testing-library/react'
import { useState } from 'react'
import { describe, expect, it, vi } from 'vitest'
import { keyAction, nextIndex, swipeAction } from '../lib/lightbox'
import { photo, renderWithProviders } from '../test/helpers'
import { Lightbox } from './Lightbox'

const photos = [photo(1, { caption: 'Bagbazar' }), photo(2, { caption: 'Kumartuli' }), photo(3, { caption: 'Santosh Mitra Square' })]

function Harness({ start = 0, onClose = () => {}, onNeedMore }: { start?: number; onClose?: () => void; onNeedMore?: () => void }) {
  const [index, setIndex] = useState(start)
  const [open, setOpen] = useState(true)
  return (
    <>
      <button type="button">opener</button>
      {open && (
        <Lightbox
          photos={photos}
          index={index}
          onIndexChange={setIndex}
          onClose={() => {
            setOpen(false)
            onClose()
          }}
          hasMore={onNeedMore !== undefined}
          onNeedMore={onNeedMore}
        />
      )}
    </>
  )
}

const shown = () => screen.getByRole('dialog').querySelector('figcaption')?.textContent

describe('lightbox keys and swipes', () => {
  it('maps keys to actions', () => {
    expect(['ArrowLeft', 'ArrowRight', 'Home', 'End', 'Escape', 'a'].map(keyAction)).toEqual(['prev', 'next', 'first', 'last', 'close', null])
  })

  it('stays within the list', () => {
    expect(nextIndex('prev', 0, 3)).toBe(0)
    expect(nextIndex('next', 2, 3)).toBe(2)
    expect(nextIndex('last', 0, 3)).toBe(2)
    expect(nextIndex('close', 1, 3)).toBeNull()
  })

  it('reads horizontal swipes only', () => {
    expect(swipeAction(-80, 10)).toBe('next')
    expect(swipeAction(80, -5)).toBe('prev')
    expect(swipeAction(30, 0)).toBeNull()
    expect(swipeAction(60, 90)).toBeNull()
  })
})

describe('Lightbox', () => {
  it('is a labelled modal dialog that takes focus', () => {
    renderWithProviders(<Harness />)
    const dialog = screen.getByRole('dialog', { name: 'Photo viewer' })
    expect(dialog.getAttribute('aria-modal')).toBe('true')
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Close' }))
    expect(screen.getByText('Photo 1 of 3')).toBeTruthy()
    expect(screen.getByRole('img', { name: 'Bagbazar' }).getAttribute('sizes')).toBe('100vw')
    expect(document.body.classList.contains('has-modal')).toBe(true)
  })

  it('moves with the arrow keys, Home and End, and stops at the ends', () => {
    renderWithProviders(<Harness />)
    fireEvent.keyDown(document, { key: 'ArrowLeft' })
    expect(shown()).toBe('Bagbazar')
    fireEvent.keyDown(document, { key: 'ArrowRight' })
    expect(shown()).toBe('Kumartuli')
    expect(screen.getByText('Photo 2 of 3')).toBeTruthy()
    fireEvent.keyDown(document, { key: 'End' })
    expect(shown()).toBe('Santosh Mitra Square')
    fireEvent.keyDown(document, { key: 'ArrowRight' })
    expect(shown()).toBe('Santosh Mitra Square')
    expect((screen.getByRole('button', { name: 'Next photo' }) as HTMLButtonElement).disabled).toBe(true)
    fireEvent.keyDown(document, { key: 'Home' })
    expect(shown()).toBe('Bagbazar')
  })

  it('closes on Escape and gives focus back', () => {
    const onClose = vi.fn()
    const opener = document.createElement('button')
    document.body.append(opener)
    opener.focus()
    renderWithProviders(<Harness onClose={onClose} />)
    fireEvent.keyDown(document, { key: 'Escape' })
    expect(onClose).toHaveBeenCalledTimes(1)
    expect(screen.queryByRole('dialog')).toBeNull()
    expect(document.activeElement).toBe(opener)
    expect(document.body.classList.contains('has-modal')).toBe(false)
    opener.remove()
  })

  it('follows swipes', () => {
    renderWithProviders(<Harness />)
    const dialog = screen.getByRole('dialog')
    fireEvent.touchStart(dialog, { touches: [{ clientX: 300, clientY: 200 }] })
    fireEvent.touchEnd(dialog, { changedTouches: [{ clientX: 150, clientY: 210 }] })
    expect(shown()).toBe('Kumartuli')
    fireEvent.touchStart(dialog, { touches: [{ clientX: 100, clientY: 200 }] })
    fireEvent.touchEnd(dialog, { changedTouches: [{ clientX: 260, clientY: 200 }] })
    expect(shown()).toBe('Bagbazar')
  })

  it('keeps Tab inside the dialog', () => {
    renderWithProviders(<Harness start={1} />)
    const details = screen.getByRole('link', { name: 'Details and comments' })
    const next = screen.getByRole('button', { name: 'Next photo' })
    next.focus()
    fireEvent.keyDown(document, { key: 'Tab' })
    expect(document.activeElement).toBe(details)
    fireEvent.keyDown(document, { key: 'Tab', shiftKey: true })
    expect(document.activeElement).toBe(next)
  })

  it('asks for more photos near the end of what is loaded', () => {
    const onNeedMore = vi.fn()
    renderWithProviders(<Harness onNeedMore={onNeedMore} />)
    expect(onNeedMore).toHaveBeenCalled()
  })
})

describe('Lightbox with a shrinking list', () => {
  it('closes itself when its photo is gone', () => {
    const onClose = vi.fn()
    renderWithProviders(<Lightbox photos={[]} index={0} onIndexChange={() => {}} onClose={onClose} />)
    expect(onClose).toHaveBeenCalled()
    expect(screen.queryByRole('dialog')).toBeNull()
  })
})
