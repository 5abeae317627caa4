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
