// @vitest-environment node
import { readFile } from 'node:fs/promises'
import { expect, test } from 'vitest'
import { generate, outputPath } from './generate-api.mjs'

test('the committed API client types match a fresh generation from openapi.json', async () => {
  const committed = await readFile(outputPath, 'utf8')
  expect(committed).toBe(await generate())
})
