import { screen, within } from '@testing-library/react'
import { describe, expect, test } from 'vitest'
import { modelsResponse } from './test/fixtures.ts'
import { renderApp } from './test/renderApp.tsx'

describe('app shell', () => {
  test('the app bar links every page and marks the current one', async () => {
    const { user } = renderApp('/', (api) => {
      api.onGet('/models').reply(200, modelsResponse)
    })
    const nav = screen.getByRole('navigation', { name: 'Main' })
    expect(within(nav).getByRole('link', { name: 'Recommendations' })).toHaveAttribute('aria-current', 'page')
    await user.click(within(nav).getByRole('link', { name: 'Models' }))
    expect(await screen.findByRole('heading', { level: 1, name: 'Models' })).toBeInTheDocument()
    expect(within(nav).getByRole('link', { name: 'Models' })).toHaveAttribute('aria-current', 'page')
    expect(screen.getByRole('link', { name: 'New user' })).toHaveAttribute('href', '/new-user')
  })

  test('an unknown address shows a not-found page with a way back', async () => {
    renderApp('/nowhere')
    expect(screen.getByRole('heading', { level: 1, name: 'Page not found' })).toBeInTheDocument()
    expect(within(screen.getByRole('main')).getByText('/nowhere')).toBeInTheDocument()
    expect(screen.getByRole('link', { name: 'Go to recommendations' })).toHaveAttribute('href', '/')
  })
})
