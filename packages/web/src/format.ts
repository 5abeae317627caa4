import type { HistoryEntry, UserSummary } from './api/client.ts'

const GENDERS: Record<string, string> = { M: 'male', F: 'female' }

/** "24 · male · technician", leaving out what the user did not give. */
export function describeUser(user: Pick<UserSummary, 'age' | 'gender' | 'occupation'>): string {
  const parts = [
    user.age != null ? `${user.age} y` : null,
    user.gender ? (GENDERS[user.gender] ?? user.gender) : null,
    user.occupation,
  ].filter((part): part is string => Boolean(part))
  return parts.length ? parts.join(' · ') : 'no demographics'
}

// MovieLens files a title under its noun ("Rock, The"); people read it article first.
const TRAILING_ARTICLE = /^(.+?), (The|A|An|Les|La|Le|L'|Il|Das|Der|Die|El)( \(.*\))?$/

/** "Rock, The" → "The Rock", "City of Lost Children, The (Cité…)" → "The City of Lost Children (Cité…)"; display only. */
export function displayTitle(title: string): string {
  const match = TRAILING_ARTICLE.exec(title)
  if (!match) return title
  const [, rest, article, tail = ''] = match
  return `${article}${article.endsWith("'") ? '' : ' '}${rest}${tail}`
}

/** "The Rock (1996)", or the title alone when the year is unknown. */
export function titleWithYear(movie: { title: string; year?: number | null }): string {
  const title = displayTitle(movie.title)
  return movie.year ? `${title} (${movie.year})` : title
}

export function formatScore(score: number): string {
  return Number.isFinite(score) ? score.toFixed(3) : '—'
}

export function formatMetric(value: number | undefined): string {
  return value == null || !Number.isFinite(value) ? '—' : value.toFixed(3)
}

export function formatStars(rating: number): string {
  return `${rating.toFixed(1)} ★`
}

/** Best rated first; among equal ratings the most recent first. */
export function topRated(history: readonly HistoryEntry[], limit: number): HistoryEntry[] {
  return [...history].sort((a, b) => b.rating - a.rating || b.timestamp - a.timestamp).slice(0, limit)
}

/** Hidden on screen, still read by screen readers. */
export const visuallyHidden = {
  border: 0,
  clip: 'rect(0 0 0 0)',
  height: '1px',
  margin: '-1px',
  overflow: 'hidden',
  padding: 0,
  position: 'absolute',
  whiteSpace: 'nowrap',
  width: '1px',
} as const

/** The user id in a URL, or null when it is not a positive whole number. */
export function parseUserId(raw: string): number | null {
  return /^\d{1,9}$/.test(raw) && Number(raw) > 0 ? Number(raw) : null
}

export const METRIC_NAMES = ['ndcg@10', 'recall@10', 'hitrate@10', 'mrr@10', 'coverage'] as const

/**
 * A registry version's metrics per model ({"tfrs": {"ndcg@10": ...}, "ease": {...}}, as in the
 * artifact manifest); anything that is not a number is left out.
 */
export function metricsByModel(raw: unknown): Record<string, Record<string, number>> {
  const result: Record<string, Record<string, number>> = {}
  if (!raw || typeof raw !== 'object') return result
  for (const [model, metrics] of Object.entries(raw as Record<string, unknown>)) {
    if (!metrics || typeof metrics !== 'object') continue
    const numbers = Object.entries(metrics as Record<string, unknown>).filter(
      (entry): entry is [string, number] => typeof entry[1] === 'number' && Number.isFinite(entry[1]),
    )
    if (numbers.length) result[model] = Object.fromEntries(numbers)
  }
  return result
}

export function formatDate(epoch: number): string {
  // Registries report seconds or milliseconds; no date this app shows is before 1973 in milliseconds.
  const millis = epoch > 1e11 ? epoch : epoch * 1000
  return new Date(millis).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }) + ' UTC'
}

/** A model's name in plain words, as the API gives it; the technical name when it gives none. */
export function modelLabel(model: { name: string; display_name?: string | null }): string {
  return model.display_name?.trim() || model.name
}

/** "87% match": how well a pick fits the user, on the same 0–1 scale whichever model picked it. */
export function formatMatch(match: number): string {
  return `${Math.round(Math.min(1, Math.max(0, match)) * 100)}% match`
}

/** What each metric means, for the tooltips of the models page. */
export const METRIC_HELP: Record<(typeof METRIC_NAMES)[number], { label: string; help: string }> = {
  'ndcg@10': {
    label: 'NDCG@10',
    help: 'Normalized discounted cumulative gain of the top 10: 1 when every movie the user went on to rate is at the top, lower the further down they sit.',
  },
  'recall@10': { label: 'Recall@10', help: 'Share of the movies each user went on to rate that the top 10 found (at most 10 counted).' },
  'hitrate@10': { label: 'Hit rate@10', help: 'Share of users whose top 10 holds at least one movie they went on to rate.' },
  'mrr@10': {
    label: 'MRR@10',
    help: 'Mean reciprocal rank: 1 ÷ the position of the first movie the user went on to rate in the top 10 (1 = first place, 0 = none), averaged over users.',
  },
  coverage: { label: 'Coverage', help: 'Share of the whole catalog that appears in at least one user’s top 10.' },
}

/** Where a model's figures come from, said plainly. */
export function splitLabel(split: 'test' | 'validation' | null | undefined): string {
  if (split === 'test') return 'held-out test split'
  if (split === 'validation') return 'validation split (no test report yet)'
  return 'no metrics recorded'
}
