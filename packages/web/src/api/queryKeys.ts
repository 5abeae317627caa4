export const queryKeys = {
  users: (query: string) => ['users', query] as const,
  user: (userId: number) => ['user', userId] as const,
  recommendationsFor: (userId: number) => ['recommendations', userId] as const,
  recommendations: (userId: number, model: string, k: number) => ['recommendations', userId, model, k] as const,
  movies: (query: string) => ['movies', query] as const,
  similar: (itemId: number) => ['similar', itemId] as const,
  models: ['models'] as const,
}
