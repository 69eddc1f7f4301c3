/**
 * `types.ts` is written by hand; the server's OpenAPI document is what the API
 * answers (schemathesis holds the server to it). This test holds `types.ts` to the
 * document: every interface has exactly the properties of its schema, so a field the
 * API adds, drops or renames fails here instead of reaching the site as `undefined`.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

type Schema = { $ref?: string; properties?: Record<string, unknown>; allOf?: Schema[] }

const root = resolve(__dirname, '../../..')
const doc = JSON.parse(readFileSync(resolve(root, 'src/api/openapi.json'), 'utf8')) as {
  components: { schemas: Record<string, Schema> }
}
const source = readFileSync(resolve(__dirname, 'types.ts'), 'utf8')

/** The interface in `types.ts` and the schema in the document that describe one shape. */
const PAIRS: [string, string][] = [
  ['UserRef', 'UserRef'],
  ['Me', 'Account'],
  ['PublicUser', 'User'],
  ['PandalRef', 'PandalRef'],
  ['Pandal', 'Pandal'],
  ['PhotoUrls', 'Urls'],
  ['Exif', 'Exif'],
  ['PhotoLocation', 'Location'],
  ['Photo', 'Photo'],
  ['AlbumCover', 'Cover'],
  ['Album', 'Album'],
  ['Comment', 'Comment'],
  ['LikeState', 'LikeState'],
  ['Facets', 'Facets'],
  ['PandalDetail', 'PandalDetail'],
  ['Profile', 'Profile'],
  ['SearchResults', 'SearchResults'],
  ['ShareLink', 'ShareLink'],
  ['Shared', 'Shared'],
  ['UploadLink', 'UploadLink'],
  ['GuestLink', 'GuestLink'],
  ['PendingPhoto', 'PendingPhoto'],
  ['Reviewed', 'Reviewed'],
  ['Report', 'Report'],
]

function schemaFields(schema: Schema): Set<string> {
  if (schema.$ref) return schemaFields(doc.components.schemas[schema.$ref.split('/').pop()!]!)
  const fields = new Set(Object.keys(schema.properties ?? {}))
  for (const part of schema.allOf ?? []) for (const f of schemaFields(part)) fields.add(f)
  return fields
}

/** The top-level fields of an interface (and of the one it extends), comments skipped. */
function interfaceFields(name: string): Set<string> {
  const head = new RegExp(`export interface ${name}(?: extends (\\w+))? \\{\n`).exec(source)
  if (!head) throw new Error(`types.ts has no interface ${name}`)
  const fields = new Set(head[1] ? interfaceFields(head[1]) : [])
  let depth = 1
  for (const line of source.slice(head.index + head[0].length).split('\n')) {
    if (/^\s*(\/\*\*|\*|\/\/)/.test(line)) continue
    const field = depth === 1 ? /^\s+(\w+)\??:/.exec(line) : null
    if (field) fields.add(field[1]!)
    depth += (line.match(/\{/g) ?? []).length - (line.match(/\}/g) ?? []).length
    if (depth <= 0) break
  }
  return fields
}

describe('types.ts', () => {
  it.each(PAIRS)('%s has the fields of the schema %s', (ts, schema) => {
    expect(doc.components.schemas[schema], schema).toBeDefined()
    expect([...interfaceFields(ts)].sort()).toEqual([...schemaFields(doc.components.schemas[schema]!)].sort())
  })
})
