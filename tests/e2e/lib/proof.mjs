/**
 * The proof of work Pujo asks before it makes an account or a new guest
 * (`X-Pujo-Proof`), for steps that call the API directly instead of going through
 * the site's forms (which solve it in the page): a number such that SHA-256 of
 * `salt:number` starts with the challenge's zero bits.
 */
import { createHash } from 'node:crypto'

/** `salt:number` for a challenge of `GET /api/v1/proof`. */
export function solveProof({ salt, bits }) {
  for (let number = 0; ; number++) {
    const hash = createHash('sha256').update(`${salt}:${number}`).digest()
    let zeros = 0
    for (const byte of hash) {
      if (byte === 0) {
        zeros += 8
        continue
      }
      zeros += Math.clz32(byte) - 24
      break
    }
    if (zeros >= bits) return `${salt}:${number}`
  }
}
