import type { Models, MovieList, Recommendations, SimilarMovies, UserDetail, UserSummary } from './types.ts'

export const user3: UserSummary = { user_id: 3, age: 23, gender: 'M', occupation: 'writer', source: 'base', ratings_count: 54 }
export const user30: UserSummary = { user_id: 30, age: 7, gender: 'M', occupation: 'student', source: 'base', ratings_count: 43 }

export const user3Detail: UserDetail = {
  ...user3,
  created_at: 1795400000,
  history: [
    { item_id: 181, title: 'Return of the Jedi', year: 1983, genres: ['Action', 'Sci-Fi'], rating: 4, timestamp: 889237482 },
    { item_id: 258, title: 'Contact', year: 1997, genres: ['Drama', 'Sci-Fi'], rating: 2, timestamp: 889237000 },
    { item_id: 50, title: 'Star Wars', year: 1977, genres: ['Action', 'Sci-Fi'], rating: 5, timestamp: 889236000 },
  ],
}

export const recommendationsFor3: Recommendations = {
  user_id: 3,
  model: { name: 'tfrs', version: 3 },
  fallback: false,
  reason: null,
  movies: [313, 300],
  items: [
    { item_id: 313, title: 'Titanic', year: 1997, genres: ['Drama', 'Romance'], score: 0.9123 },
    { item_id: 300, title: 'Air Force One', year: 1997, genres: ['Action', 'Thriller'], score: 0.80456 },
  ],
}

export const similarToTitanic: SimilarMovies = {
  item_id: 313,
  movies: [286, 269],
  items: [
    { item_id: 286, title: 'English Patient, The', year: 1996, genres: ['Drama', 'Romance', 'War'], score: 0.71 },
    { item_id: 269, title: 'Full Monty, The', year: 1997, genres: ['Comedy'], score: 0.65 },
  ],
}

export const movieSearchStar: MovieList = {
  total: 2,
  items: [
    { item_id: 50, title: 'Star Wars', year: 1977, genres: ['Action', 'Sci-Fi'], ratings_count: 583, mean_rating: 4.36 },
    { item_id: 222, title: 'Star Trek: First Contact', year: 1996, genres: ['Action', 'Sci-Fi'], ratings_count: 365, mean_rating: 3.66 },
  ],
}

const metrics = (ndcg: number) => ({ 'ndcg@10': ndcg, 'recall@10': ndcg * 1.2, 'hitrate@10': ndcg * 3, 'mrr@10': ndcg * 1.5, coverage: 0.2 })

export const modelsResponse: Models = {
  group: 'recs-movielens',
  endpoint: { status: 'ok', version: 3, default_model: 'tfrs' },
  models: [
    { name: 'tfrs', default: true, version: 3, status: 'Approved', metrics: metrics(0.214) },
    { name: 'ease', default: false, version: 3, status: 'Approved', metrics: metrics(0.19) },
    { name: 'mostpop', default: false, version: 3, status: 'Approved', metrics: metrics(0.11) },
  ],
  // The OpenAPI document leaves a version's metrics untyped ({type: object}); these are the manifest's shape.
  versions: [
    { version: 2, status: 'Rejected', metrics: { tfrs: metrics(0.09), ease: metrics(0.19) }, created_at: 1795300000, artifact_uri: 'file:///r/2/model.tar.gz', serving: false },
    { version: 3, status: 'Approved', metrics: { tfrs: metrics(0.214), ease: metrics(0.19) }, created_at: 1795400000, artifact_uri: 'file:///r/3/model.tar.gz', serving: true },
  ] as unknown as Models['versions'],
}
