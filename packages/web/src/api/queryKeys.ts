import type { RecommendationsRequest } from './client.ts'

export const queryKeys = {
  users: (query: string) => ['users', query] as const,
  user: (userId: number) => ['user', userId] as const,
  recommendationsFor: (userId: number) => ['recommendations', userId] as const,
  recommendations: (userId: number, request: RecommendationsRequest) => ['recommendations', userId, request] as const,
  movies: (query: string) => ['movies', query] as const,
  similar: (itemId: number, userId: number | undefined) => ['similar', itemId, userId ?? null] as const,
  popular: (genre: string, userId: number | undefined) => ['popular', genre, userId ?? null] as const,
  genres: ['genres'] as const,
  models: ['models'] as const,
}
