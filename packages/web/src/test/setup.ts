import '@testing-library/jest-dom/vitest'
import { cleanup, configure } from '@testing-library/react'
import { afterEach, beforeEach, expect, vi } from 'vitest'

// The machine is shared; waiting longer for the DOM only slows a failing test, never a passing one.
configure({ asyncUtilTimeout: 10_000 })

let consoleProblems: unknown[][] = []

beforeEach(() => {
  consoleProblems = []
  if (typeof window !== 'undefined') window.localStorage.clear() // tokens must not leak between tests
  // React and MUI report misuse (bad props, missing keys, invalid nesting) on the console: any is a failure.
  for (const level of ['error', 'warn'] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      consoleProblems.push([level, ...args])
    })
  }
})

afterEach(() => {
  cleanup()
  expect(consoleProblems, 'console errors or warnings during the test').toEqual([])
})
