import axios, { isAxiosError } from 'axios'
import type { components, paths } from './generated/schema.ts'
import { tokenFor, userIdOfUrl } from './tokens.ts'

/** Shapes of the API, straight from the generated OpenAPI types. */
export type Schemas = components['schemas']
export type UserSummary = Schemas['UserSummary']
export type UserDetail = Schemas['UserDetail']
export type UserCreate = Schemas['UserCreate']
export type UserCreated = Schemas['UserCreated']
export type HistoryEntry = Schemas['HistoryEntry']
export type Rating = Schemas['Rating']
export type RatingCreate = Schemas['RatingCreate']
export type Movie = Schemas['Movie']
export type MovieDetail = Schemas['MovieDetail']
export type ScoredMovie = Schemas['ScoredMovie']
export type RecommendedMovie = Schemas['RecommendedMovie']
export type Recommendations = Schemas['Recommendations']
export type MovieList = Schemas['MovieList']
export type GenreList = Schemas['GenreList']
export type FeedbackList = Schemas['FeedbackList']
export type SimilarMovies = Schemas['SimilarMovies']
export type Models = Schemas['Models']
export type ServedModel = Schemas['ServedModel']
export type ModelVersion = Schemas['ModelVersion']
export type Health = Schemas['Health']

export const DEFAULT_API_URL = 'http://127.0.0.1:8000'

export function apiBaseUrl(configured: string | undefined = import.meta.env.VITE_API_URL): string {
  const url = (configured ?? '').trim().replace(/\/+$/, '')
  return url || DEFAULT_API_URL
}

/** The one Axios instance; tests mock it at this boundary. */
export const http = axios.create({
  baseURL: apiBaseUrl(),
  timeout: 15_000,
  headers: { Accept: 'application/json' },
})

// A request about user N carries N's token when this browser holds it (API users are private).
http.interceptors.request.use((config) => {
  // About a user: its path (/users/{id}/...) or, on /movies routes that filter for a user, its user_id parameter.
  const param = (config.params as { user_id?: unknown } | undefined)?.user_id
  const userId = userIdOfUrl(config.url) ?? (typeof param === 'number' ? param : null)
  const token = userId === null ? undefined : tokenFor(userId)
  if (token) config.headers.set('Authorization', `Bearer ${token}`)
  return config
})

/** Why a call failed: the API could not be reached at all, or it answered with an error. */
export class ApiError extends Error {
  readonly kind: 'unreachable' | 'http'
  readonly status: number | undefined
  readonly code: string | undefined

  constructor(kind: 'unreachable' | 'http', message: string, status?: number, code?: string) {
    super(message)
    this.name = 'ApiError'
    this.kind = kind
    this.status = status
    this.code = code
  }
}

export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error
  if (isAxiosError(error)) {
    const response = error.response
    if (!response) {
      return new ApiError('unreachable', `The recommendations API at ${http.defaults.baseURL} cannot be reached.`)
    }
    const body = response.data as Partial<Schemas['Error']> | undefined
    const detail = body?.error
    return new ApiError(
      'http',
      detail?.message ?? `The API answered ${response.status} ${response.statusText}`.trim(),
      response.status,
      detail?.code,
    )
  }
  return new ApiError('http', error instanceof Error ? error.message : String(error))
}

type Method = 'get' | 'post' | 'delete'
type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>
type JsonOf<R> = R extends { content: { 'application/json': infer T } } ? T : never
type Success<O> = O extends { responses: infer R }
  ? R extends { 200: infer Ok }
    ? JsonOf<Ok>
    : R extends { 201: infer Created }
      ? JsonOf<Created>
      : never
  : never
type PathParams<O> = O extends { parameters: { path: infer X } } ? X : never
type QueryParams<O> = O extends { parameters: { query?: infer X } } ? X : never
type Body<O> = O extends { requestBody: { content: { 'application/json': infer B } } } ? B : never

interface CallOptions<O> {
  path?: PathParams<O>
  query?: QueryParams<O>
  body?: Body<O>
  signal?: AbortSignal
}

/** A typed request: the path, its parameters, body and answer all come from the OpenAPI types. */
export async function call<P extends keyof paths, M extends Method>(
  method: M,
  route: P,
  options: CallOptions<Operation<P, M>> = {},
): Promise<Success<Operation<P, M>>> {
  const pathParams = (options.path ?? {}) as Record<string, string | number>
  const url = String(route).replace(/\{(\w+)\}/g, (_, name: string) => {
    if (!(name in pathParams)) throw new ApiError('http', `missing path parameter ${name} for ${String(route)}`)
    return encodeURIComponent(String(pathParams[name]))
  })
  try {
    const response = await http.request({
      method,
      url,
      params: options.query,
      data: options.body,
      signal: options.signal,
    })
    return response.data as Success<Operation<P, M>>
  } catch (error) {
    throw toApiError(error)
  }
}

/** What the page asks for: how many, from which model ('' = the default), with which filters, from where. */
export interface RecommendationsRequest {
  k: number
  model: string
  genres: readonly string[]
  yearMin: number | null
  yearMax: number | null
  offset: number
}

/** The query string of a recommendations request, leaving out what is at its default. */
export function recommendationsQuery(request: RecommendationsRequest) {
  return {
    k: request.k,
    ...(request.model ? { model: request.model } : {}),
    ...(request.genres.length ? { genres: request.genres.join(',') } : {}),
    ...(request.yearMin !== null ? { year_min: request.yearMin } : {}),
    ...(request.yearMax !== null ? { year_max: request.yearMax } : {}),
    ...(request.offset ? { offset: request.offset } : {}),
  }
}

export const api = {
  health: (signal?: AbortSignal) => call('get', '/health', { signal }),
  listUsers: (query: string, limit = 20, signal?: AbortSignal) =>
    call('get', '/users', { query: { query, limit }, signal }),
  createUser: (body: UserCreate) => call('post', '/users', { body }),
  getUser: (userId: number, signal?: AbortSignal) => call('get', '/users/{user_id}', { path: { user_id: userId }, signal }),
  deleteUser: (userId: number) => call('delete', '/users/{user_id}', { path: { user_id: userId } }),
  rateMovie: (userId: number, body: RatingCreate) =>
    call('post', '/users/{user_id}/ratings', { path: { user_id: userId }, body }),
  recommendations: (userId: number, request: RecommendationsRequest, signal?: AbortSignal) =>
    call('get', '/users/{user_id}/recommendations', {
      path: { user_id: userId },
      query: recommendationsQuery(request),
      signal,
    }),
  notInterested: (userId: number, itemId: number) =>
    call('post', '/users/{user_id}/feedback', { path: { user_id: userId }, body: { item_id: itemId, kind: 'not_interested' } }),
  undoNotInterested: (userId: number, itemId: number) =>
    call('delete', '/users/{user_id}/feedback/{item_id}', { path: { user_id: userId, item_id: itemId } }),
  popularMovies: (genre: string, limit: number, userId: number | undefined, signal?: AbortSignal) =>
    call('get', '/movies/popular', { query: { genre, limit, ...(userId ? { user_id: userId } : {}) }, signal }),
  genres: (signal?: AbortSignal) => call('get', '/movies/genres', { signal }),
  searchMovies: (query: string, limit = 10, signal?: AbortSignal) =>
    call('get', '/movies', { query: { query, limit }, signal }),
  similarMovies: (itemId: number, k = 10, userId?: number, signal?: AbortSignal) =>
    call('get', '/movies/{item_id}/similar', { path: { item_id: itemId }, query: userId ? { k, user_id: userId } : { k }, signal }),
  models: (signal?: AbortSignal) => call('get', '/models', { signal }),
}
