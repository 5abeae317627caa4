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
    const plain = { k: 5, model: '', genres: [], yearMin: null, yearMax: null, offset: 0 }
    const answer = (await api.recommendations(7, { ...plain, model: 'ease' })) as unknown as { seen: unknown }
    expect(answer.seen).toEqual({ k: 5, model: 'ease' })
    const withoutModel = (await api.recommendations(7, plain)) as unknown as { seen: unknown }
    expect(withoutModel.seen).toEqual({ k: 5 })
    const filtered = (await api.recommendations(7, { ...plain, genres: ['Comedy', 'Drama'], yearMin: 1990, yearMax: 1999, offset: 10 })) as unknown as { seen: unknown }
    expect(filtered.seen).toEqual({ k: 5, genres: 'Comedy,Drama', year_min: 1990, year_max: 1999, offset: 10 })
  })

  test('a movie route that filters for a user carries that user\'s token, and feedback goes to the user', async () => {
    mock = new AxiosMockAdapter(http, { onNoMatch: 'throwException' })
    window.localStorage.setItem('recs.userTokens', JSON.stringify([{ userId: 944, token: 'tok-944', savedAt: 1 }]))
    mock.onGet('/movies/popular').reply((config) => [200, { auth: config.headers?.Authorization, seen: config.params }])
    const popular = (await api.popularMovies('Comedy', 12, 944)) as unknown as { auth: unknown; seen: unknown }
    expect(popular).toEqual({ auth: 'Bearer tok-944', seen: { genre: 'Comedy', limit: 12, user_id: 944 } })
    mock.onPost('/users/944/feedback').reply((config) => [201, { body: JSON.parse(config.data as string), auth: config.headers?.Authorization }])
    expect(await api.notInterested(944, 313)).toEqual({ body: { item_id: 313, kind: 'not_interested' }, auth: 'Bearer tok-944' })
    mock.onDelete('/users/944/feedback/313').reply(200, { user_id: 944, item_id: 313, deleted: true })
    expect(await api.undoNotInterested(944, 313)).toMatchObject({ deleted: true })
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
