import { useSyncExternalStore } from 'react'

/**
 * Tokens of the users this browser created. The API hands a user's token out once, on creation;
 * whoever holds it can rate as that user, see its profile and delete it. They stay in this
 * browser's localStorage only, so the page can offer “continue as user N”.
 */
export interface SavedUser {
  userId: number
  token: string
  savedAt: number
}

const KEY = 'recs.userTokens'
const listeners = new Set<() => void>()
let cache: { raw: string | null; users: SavedUser[] } | null = null

function storage(): Storage | null {
  try {
    return typeof window === 'undefined' ? null : window.localStorage
  } catch {
    return null // storage disabled: tokens last for this page view only
  }
}

function read(): SavedUser[] {
  const raw = storage()?.getItem(KEY) ?? null
  if (cache && cache.raw === raw) return cache.users
  let users: SavedUser[] = []
  try {
    const parsed: unknown = raw ? JSON.parse(raw) : []
    if (Array.isArray(parsed)) {
      users = parsed.filter(
        (u): u is SavedUser =>
          typeof u === 'object' && u !== null && Number.isInteger((u as SavedUser).userId) && typeof (u as SavedUser).token === 'string',
      )
    }
  } catch {
    users = []
  }
  cache = { raw, users }
  return users
}

function write(users: SavedUser[]) {
  storage()?.setItem(KEY, JSON.stringify(users))
  cache = null
  listeners.forEach((listener) => listener())
}

/** A token as the API issues it: `<user id>.<secret>`; null when the text is not one. */
export function parseToken(text: string): { userId: number; token: string } | null {
  const token = text.trim()
  const match = /^([1-9]\d{0,9})\.[A-Za-z0-9_-]{16,128}$/.exec(token)
  return match ? { userId: Number(match[1]), token } : null
}

export function savedUsers(): SavedUser[] {
  return read()
}

export function tokenFor(userId: number): string | undefined {
  return read().find((u) => u.userId === userId)?.token
}

export function saveToken(userId: number, token: string) {
  write([...read().filter((u) => u.userId !== userId), { userId, token, savedAt: Date.now() }])
}

export function forgetToken(userId: number) {
  write(read().filter((u) => u.userId !== userId))
}

function subscribe(listener: () => void) {
  listeners.add(listener)
  const onStorage = (event: StorageEvent) => {
    if (event.key === KEY) {
      cache = null
      listener()
    }
  }
  window.addEventListener('storage', onStorage)
  return () => {
    listeners.delete(listener)
    window.removeEventListener('storage', onStorage)
  }
}

/** The saved users, re-rendering when they change (in this tab or another). */
export function useSavedUsers(): SavedUser[] {
  return useSyncExternalStore(subscribe, read, () => [])
}

/** The user id a request URL is about (`/users/{id}...`), for attaching its token. */
export function userIdOfUrl(url: string | undefined): number | null {
  const match = /^\/users\/(\d+)(?:[/?]|$)/.exec(url ?? '')
  return match ? Number(match[1]) : null
}
