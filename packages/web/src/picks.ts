import type { Recommendations, RecommendedMovie } from './api/client.ts'
import { displayTitle, formatStars } from './format.ts'

export interface Filters {
  genres: readonly string[]
  yearMin: number | null
  yearMax: number | null
}

export const NO_FILTERS: Filters = { genres: [], yearMin: null, yearMax: null }

const YEAR_MIN = 1800
const YEAR_MAX = 2100

/** The year typed, null when the box is empty, or a message saying what is wrong with it. */
export function parseYear(text: string): { year: number | null; problem: string | null } {
  const trimmed = text.trim()
  if (!trimmed) return { year: null, problem: null }
  if (!/^\d{4}$/.test(trimmed)) return { year: null, problem: 'A year has four digits, e.g. 1995.' }
  const year = Number(trimmed)
  if (year < YEAR_MIN || year > YEAR_MAX) return { year: null, problem: `Between ${YEAR_MIN} and ${YEAR_MAX}.` }
  return { year, problem: null }
}

/** Why the movie is in the list, in the user's words. */
export function reasonLine(movie: Pick<RecommendedMovie, 'because' | 'reason'>): string {
  if (movie.because) return `Because you rated ${displayTitle(movie.because.title)} ${formatStars(movie.because.rating)}`
  if (movie.reason === 'taste') return 'Fits the movies you rated'
  return 'Popular with everyone'
}

/** Every page's picks in order, each movie once (a refetched page may overlap the one before). */
export function allPicks(pages: readonly Recommendations[], hiddenIds: ReadonlySet<number>): RecommendedMovie[] {
  const seen = new Set<number>()
  const picks: RecommendedMovie[] = []
  for (const page of pages) {
    for (const movie of page.items) {
      if (seen.has(movie.item_id) || hiddenIds.has(movie.item_id)) continue
      seen.add(movie.item_id)
      picks.push(movie)
    }
  }
  return picks
}

