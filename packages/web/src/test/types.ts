import type { Schemas } from '../api/client.ts'

export type { GenreList, Models, Recommendations, SimilarMovies, UserDetail, UserSummary } from '../api/client.ts'
export type MovieList = Schemas['MovieList']
