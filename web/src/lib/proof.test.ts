import { describe, expect, it } from 'vitest'
import { solve } from './proof'

describe('proof of work', () => {
  it('finds a number whose hash has the zero bits asked for', async () => {
    const proof = await solve({ algorithm: 'SHA-256', salt: '1700000000.00112233445566778899aabbccddeeff', bits: 10 })
    const [salt, number] = [proof.slice(0, proof.lastIndexOf(':')), proof.slice(proof.lastIndexOf(':') + 1)]
    expect(salt).toBe('1700000000.00112233445566778899aabbccddeeff')
    const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${salt}:${number}`)))
    expect(hash[0]).toBe(0)
    expect(hash[1]! < 0x40).toBe(true)
  })
})
