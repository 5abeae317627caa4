import { describe, expect, test } from 'vitest'
import type { Recommendations } from './api/client.ts'
import { allPicks, parseYear, reasonLine } from './picks.ts'
import { recommendationsFor3 } from './test/fixtures.ts'

describe('pick helpers', () => {
  test('the reason line names the rated movie, else says why the pick is there', () => {
    expect(reasonLine({ because: { item_id: 127, title: 'Godfather, The', rating: 4 }, reason: 'similar_to_rated' })).toBe('Because you rated The Godfather 4.0 ★')
    expect(reasonLine({ because: null, reason: 'popular' })).toBe('Popular with everyone')
    expect(reasonLine({ because: null, reason: 'taste' })).toBe('Fits the movies you rated')
  })

  test('allPicks keeps page order, each movie once, without the hidden ones', () => {
    const [titanic, airForceOne] = recommendationsFor3.items
    const page = (items: Recommendations['items']): Recommendations => ({ ...recommendationsFor3, items, movies: items.map((m) => m.item_id) })
    expect(allPicks([page([titanic]), page([titanic, airForceOne])], new Set()).map((m) => m.item_id)).toEqual([313, 300])
    expect(allPicks([page([titanic, airForceOne])], new Set([313])).map((m) => m.item_id)).toEqual([300])
  })

  test('parseYear takes four-digit years in range and says what is wrong otherwise', () => {
    expect(parseYear('')).toEqual({ year: null, problem: null })
    expect(parseYear(' 1995 ')).toEqual({ year: 1995, problem: null })
    expect(parseYear('95').problem).toBe('A year has four digits, e.g. 1995.')
    expect(parseYear('1700').problem).toBe('Between 1800 and 2100.')
  })
})
