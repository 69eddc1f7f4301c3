/**
 * The proof of work a new guest's browser sends with its first upload (ALTCHA
 * style, no third party): a number such that SHA-256 of `salt:number` starts with
 * `bits` zero bits. A few thousand hashes at a time through WebCrypto, yielding
 * between batches so the page stays responsive.
 */
export interface Challenge {
  algorithm: string
  salt: string
  bits: number
}

function zeroBits(hash: Uint8Array): number {
  let bits = 0
  for (const byte of hash) {
    if (byte === 0) {
      bits += 8
      continue
    }
    return bits + Math.clz32(byte) - 24
  }
  return bits
}

/** `salt:number` for the challenge (what goes in `X-Pujo-Proof`). */
export async function solve(challenge: Challenge, signal?: AbortSignal): Promise<string> {
  const encoder = new TextEncoder()
  for (let number = 0; ; number++) {
    if (number % 2048 === 0) {
      if (signal?.aborted) throw new DOMException('Aborted', 'AbortError')
      await new Promise((resolve) => setTimeout(resolve, 0))
    }
    const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(`${challenge.salt}:${number}`)))
    if (zeroBits(hash) >= challenge.bits) return `${challenge.salt}:${number}`
  }
}
