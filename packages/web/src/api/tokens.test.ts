import { describe, expect, test } from 'vitest'
import { forgetToken, parseToken, saveToken, savedUsers, tokenFor, userIdOfUrl } from './tokens.ts'

const TOKEN = '944.' + 'a1_-'.repeat(11)

describe('user tokens', () => {
  test('a token names its user; anything else is refused', () => {
    expect(parseToken(`  ${TOKEN} `)).toEqual({ userId: 944, token: TOKEN })
    for (const bad of ['', '944', '944.short', '0.' + 'a'.repeat(43), 'x.' + 'a'.repeat(43), `${TOKEN} extra`]) {
      expect(parseToken(bad), bad).toBeNull()
    }
  })

  test('tokens are kept per user, replaced, and forgotten', () => {
    saveToken(944, TOKEN)
    saveToken(945, '945.' + 'b'.repeat(43))
    saveToken(944, '944.' + 'c'.repeat(43))
    expect(savedUsers().map((u) => u.userId)).toEqual([945, 944])
    expect(tokenFor(944)).toBe('944.' + 'c'.repeat(43))
    forgetToken(944)
    expect(tokenFor(944)).toBeUndefined()
    window.localStorage.setItem('recs.userTokens', '{broken')
    expect(savedUsers()).toEqual([])
  })

  test('only requests about one user are matched to its token', () => {
    expect(userIdOfUrl('/users/944')).toBe(944)
    expect(userIdOfUrl('/users/944/ratings')).toBe(944)
    expect(userIdOfUrl('/users/944/recommendations')).toBe(944)
    expect(userIdOfUrl('/users')).toBeNull()
    expect(userIdOfUrl('/movies/944')).toBeNull()
    expect(userIdOfUrl(undefined)).toBeNull()
  })
})
