import axios from 'axios'
import AxiosMockAdapter from 'axios-mock-adapter'
import { afterEach, describe, expect, test } from 'vitest'
import { api, ApiError, apiBaseUrl, DEFAULT_API_URL, http } from './client.ts'

describe('API client', () => {
  let mock: AxiosMockAdapter | undefined
  afterEach(() => mock?.restore())

  test('the base URL comes from VITE_API_URL, without a trailing slash, else the local API', () => {
    expect(apiBaseUrl('https://api.example.com/prod/')).toBe('https://api.example.com/prod')
    expect(apiBaseUrl('')).toBe(DEFAULT_API_URL)
    expect(apiBaseUrl(undefined)).toBe(DEFAULT_API_URL)
    expect(DEFAULT_API_URL).toBe('http://127.0.0.1:8000')
  })

  test('a path on the page\'s own origin works as the base URL (Amplify proxies /api)', async () => {
    expect(apiBaseUrl('/api/')).toBe('/api')
    const proxied = axios.create({ baseURL: apiBaseUrl('/api') })
    const mock = new AxiosMockAdapter(proxied, { onNoMatch: 'throwException' })
    mock.onGet('/api/health').reply(200, { status: 'ok' })
    expect((await proxied.get('/health')).data).toEqual({ status: 'ok' })
    mock.restore()
  })

  test('path parameters are filled in and query parameters sent', async () => {
    mock = new AxiosMockAdapter(http, { onNoMatch: 'throwException' })
    mock.onGet('/users/7/recommendations').reply((config) => [200, { seen: config.params }])
    const answer = (await api.recommendations(7, 5, 'ease')) as unknown as { seen: unknown }
    expect(answer.seen).toEqual({ k: 5, model: 'ease' })
    const withoutModel = (await api.recommendations(7, 5, undefined)) as unknown as { seen: unknown }
    expect(withoutModel.seen).toEqual({ k: 5 })
  })

  test('an API error body becomes an ApiError with its code and message', async () => {
    mock = new AxiosMockAdapter(http, { onNoMatch: 'throwException' })
    mock.onPost('/users/7/ratings').reply(409, { error: { code: 'conflict', message: 'already rated' } })
    const error = await api.rateMovie(7, { item_id: 1, rating: 4 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({ kind: 'http', status: 409, code: 'conflict', message: 'already rated' })
  })

  test('no answer at all is reported as an unreachable API naming its address', async () => {
    mock = new AxiosMockAdapter(http, { onNoMatch: 'throwException' })
    mock.onGet('/models').networkError()
    const error = await api.models().catch((e: unknown) => e)
    expect(error).toMatchObject({ kind: 'unreachable' })
    expect((error as ApiError).message).toContain(DEFAULT_API_URL)
  })

  test('an error without the JSON error body still says what the API answered', async () => {
    mock = new AxiosMockAdapter(http, { onNoMatch: 'throwException' })
    mock.onGet('/health').reply(502, '<html>Bad gateway</html>')
    const error = await api.health().catch((e: unknown) => e)
    expect(error).toMatchObject({ kind: 'http', status: 502 })
    expect((error as ApiError).message).toMatch(/502/)
  })
})
