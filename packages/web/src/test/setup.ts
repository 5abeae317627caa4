import '@testing-library/jest-dom/vitest'
import { cleanup, configure } from '@testing-library/react'
import { afterEach } from 'vitest'

// The machine is shared; waiting longer for the DOM only slows a failing test, never a passing one.
configure({ asyncUtilTimeout: 10_000 })

afterEach(() => {
  cleanup()
})
