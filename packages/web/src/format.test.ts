import { describe, expect, test } from 'vitest'
import { describeUser, displayTitle, formatDate, metricsByModel, parseUserId, titleWithYear, topRated } from './format.ts'

describe('format helpers', () => {
  test('describeUser leaves out what the user did not give', () => {
    expect(describeUser({ age: 24, gender: 'F', occupation: 'artist' })).toBe('24 y · female · artist')
    expect(describeUser({ age: null, gender: null, occupation: 'none' })).toBe('none')
    expect(describeUser({ age: null, gender: null, occupation: null })).toBe('no demographics')
  })

  test('topRated sorts by rating, then newest first, and cuts at the limit', () => {
    const entry = (item_id: number, rating: number, timestamp: number) => ({ item_id, title: `m${item_id}`, year: null, genres: [], rating, timestamp })
    const history = [entry(1, 3, 10), entry(2, 5, 5), entry(3, 5, 20), entry(4, 1, 30)]
    expect(topRated(history, 3).map((e) => e.item_id)).toEqual([3, 2, 1])
    expect(history.map((e) => e.item_id)).toEqual([1, 2, 3, 4])
  })

  test('displayTitle puts a trailing article first and leaves other titles alone', () => {
    expect(displayTitle('Rock, The')).toBe('The Rock')
    expect(displayTitle('Godfather: Part II, The')).toBe('The Godfather: Part II')
    expect(displayTitle('Misérables, Les')).toBe('Les Misérables')
    expect(displayTitle('City of Lost Children, The (Cité des enfants perdus, La)')).toBe('The City of Lost Children (Cité des enfants perdus, La)')
    expect(displayTitle("Avventura, L'")).toBe("L'Avventura")
    expect(displayTitle('Star Wars')).toBe('Star Wars')
    expect(displayTitle('Crumb, The Movie')).toBe('Crumb, The Movie')
    expect(titleWithYear({ title: 'Rock, The', year: 1996 })).toBe('The Rock (1996)')
    expect(titleWithYear({ title: 'Rock, The', year: null })).toBe('The Rock')
  })

  test('parseUserId accepts positive whole numbers only', () => {
    expect(parseUserId('3')).toBe(3)
    expect(parseUserId('0')).toBeNull()
    expect(parseUserId('-1')).toBeNull()
    expect(parseUserId('3.5')).toBeNull()
    expect(parseUserId('abc')).toBeNull()
    expect(parseUserId('1e3')).toBeNull()
  })

  test('metricsByModel keeps numeric metrics per model and drops the rest', () => {
    expect(metricsByModel({ tfrs: { 'ndcg@10': 0.2, note: 'x' }, ease: 'bad', empty: {} })).toEqual({ tfrs: { 'ndcg@10': 0.2 } })
    expect(metricsByModel(null)).toEqual({})
    expect(metricsByModel({ 'ndcg@10': 0.2 })).toEqual({})
  })

  test('formatDate reads seconds and milliseconds alike, in UTC', () => {
    expect(formatDate(1795400000)).toBe(formatDate(1795400000000))
    expect(formatDate(0)).toContain('1970')
    expect(formatDate(0)).toMatch(/UTC$/)
  })
})
