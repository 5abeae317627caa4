import type { GenreList, Models, MovieList, Recommendations, SimilarMovies, UserDetail, UserSummary } from './types.ts'

const MODEL_INFO: Record<string, { display_name: string; description: string }> = {
  tfrs: { display_name: 'Personal picks', description: 'Learns from the order of your ratings what you are likely to watch next, then re-ranks' },
  ease: { display_name: 'Similar taste', description: 'Movies rated by people who rated what you rated' },
  mostpop: { display_name: 'Most popular', description: 'The most rated movies you have not rated yet; the same list for everyone' },
  popularity: { display_name: 'Popular now (fallback)', description: 'Shown before you rate anything: the most rated movies' },
}

/** A model as the API names it in an answer: technical name, version, plain name, one-line description. */
export function modelRef(name: string, version: number | null) {
  return { name, version, ...(MODEL_INFO[name] ?? { display_name: name, description: '' }) }
}

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
  model: modelRef('tfrs', 3),
  fallback: false,
  reason: null,
  filters: { genres: [], year_min: null, year_max: null, offset: 0, k: 10 },
  movies: [313, 300],
  items: [
    { item_id: 313, title: 'Titanic', year: 1997, genres: ['Drama', 'Romance'], score: 0.9123, match: 0.934, because: { item_id: 50, title: 'Star Wars', rating: 5 }, reason: 'similar_to_rated' },
    { item_id: 300, title: 'Air Force One', year: 1997, genres: ['Action', 'Thriller'], score: 0.80456, match: 0.71, because: null, reason: 'popular' },
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
    { ...modelRef('tfrs', 3), default: true, status: 'Approved', metrics: metrics(0.214), metrics_split: 'test' },
    { ...modelRef('ease', 3), default: false, status: 'Approved', metrics: metrics(0.19), metrics_split: 'test' },
    { ...modelRef('mostpop', 3), default: false, status: 'Approved', metrics: metrics(0.11), metrics_split: 'test' },
  ],
  // The OpenAPI document leaves a version's metrics untyped ({type: object}); these are the manifest's shape.
  versions: [
    { version: 2, status: 'Rejected', metrics: { tfrs: metrics(0.09), ease: metrics(0.19) }, metrics_split: 'validation', created_at: 1795300000, artifact_uri: 'file:///r/2/model.tar.gz', serving: false },
    { version: 3, status: 'Approved', metrics: { tfrs: metrics(0.214), ease: metrics(0.19) }, metrics_split: 'test', created_at: 1795400000, artifact_uri: 'file:///r/3/model.tar.gz', serving: true },
  ] as unknown as Models['versions'],
}

export const genreList: GenreList = {
  genres: [
    { name: 'Drama', movies: 725 },
    { name: 'Comedy', movies: 505 },
    { name: 'Action', movies: 251 },
    { name: 'unknown', movies: 2 },
  ],
}

export const popularMovies: MovieList = {
  total: 3,
  items: [
    { item_id: 50, title: 'Star Wars', year: 1977, genres: ['Action', 'Sci-Fi'], ratings_count: 583, mean_rating: 4.36 },
    { item_id: 100, title: 'Fargo', year: 1996, genres: ['Crime', 'Drama', 'Thriller'], ratings_count: 508, mean_rating: 4.16 },
    { item_id: 127, title: 'Godfather, The', year: 1972, genres: ['Action', 'Crime', 'Drama'], ratings_count: 413, mean_rating: 4.28 },
  ],
}
