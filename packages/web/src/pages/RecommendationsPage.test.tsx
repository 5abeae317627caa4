import { screen, waitFor, within } from '@testing-library/react'
import { describe, expect, test } from 'vitest'
import { modelsResponse, recommendationsFor3, similarToTitanic, user3, user30, user3Detail } from '../test/fixtures.ts'
import { renderApp } from '../test/renderApp.tsx'

const location = () => screen.getByTestId('location').textContent

describe('recommendations page', () => {
  test('without a user it invites the visitor to choose one', async () => {
    renderApp('/', (api) => {
      api.onGet('/models').reply(200, modelsResponse)
    })
    expect(await screen.findByText('Choose a user to begin')).toBeInTheDocument()
    expect(screen.getByRole('combobox', { name: 'User' })).toBeInTheDocument()
    expect(screen.queryByRole('table', { name: 'Recommendations' })).not.toBeInTheDocument()
  })

  test('a shared URL shows that user and model: ranked table, top-rated panel, model selector', async () => {
    renderApp('/users/3?model=ease', (api) => {
      api.onGet('/models').reply(200, modelsResponse)
      api.onGet('/users/3').reply(200, user3Detail)
      api.onGet('/users/3/recommendations').reply((config) => {
        expect(config.params).toEqual({ k: 10, model: 'ease' })
        return [200, { ...recommendationsFor3, model: { name: 'ease', version: 3 } }]
      })
    })

    const table = await screen.findByRole('table', { name: 'Recommendations' })
    const rows = within(table).getAllByRole('row')
    expect(rows).toHaveLength(3)
    expect(within(rows[0]).getAllByRole('columnheader').map((c) => c.textContent)).toEqual(['Rank', 'Title', 'Year', 'Genres', 'Score', 'Actions'])
    expect(rows[1]).toHaveTextContent('1Titanic')
    expect(rows[1]).toHaveTextContent('0.912')
    expect(within(rows[1]).getByLabelText('Genres')).toHaveTextContent('DramaRomance')
    expect(rows[2]).toHaveTextContent('2Air Force One')
    expect(screen.getByText('Ranked by ease · registry version 3')).toBeInTheDocument()

    const top = await screen.findByRole('list', { name: 'Top rated movies' })
    expect(within(top).getAllByRole('listitem').map((li) => li.textContent)).toEqual([
      expect.stringContaining('Star Wars'),
      expect.stringContaining('Return of the Jedi'),
      expect.stringContaining('Contact'),
    ])
    expect(screen.getByRole('combobox', { name: 'Model' })).toHaveTextContent('ease')
    await waitFor(() => expect(screen.getByRole('combobox', { name: 'User' })).toHaveValue('User 3'))
    expect(screen.getByText('23 y · male · writer')).toBeInTheDocument()
  })

  test('picking a user and a model puts both in the URL', async () => {
    const { api, user } = renderApp('/', (api) => {
      api.onGet('/models').reply(200, modelsResponse)
      api.onGet('/users').reply((config) => [200, { users: config.params.query === '3' ? [user3, user30] : [], total: 2, limit: 20, offset: 0 }])
      api.onGet('/users/3').reply(200, user3Detail)
      api.onGet('/users/3/recommendations').reply(200, recommendationsFor3)
    })

    await user.type(screen.getByRole('combobox', { name: 'User' }), '3')
    const option = await screen.findByRole('option', { name: /User 3\b.*writer/ })
    expect(option).toHaveTextContent('23 y · male · writer · 54 ratings')
    await user.click(option)
    await waitFor(() => expect(location()).toBe('/users/3'))
    expect(await screen.findByRole('table', { name: 'Recommendations' })).toBeInTheDocument()

    await user.click(screen.getByRole('combobox', { name: 'Model' }))
    await user.click(await screen.findByRole('option', { name: 'mostpop · v3' }))
    await waitFor(() => expect(location()).toBe('/users/3?model=mostpop'))
    await waitFor(() => expect(api.history.get.some((r) => r.url === '/users/3/recommendations' && r.params.model === 'mostpop')).toBe(true))
  })

  test('an unreachable API is named, and one Retry brings every view back', async () => {
    const { user } = renderApp('/users/3', (api) => {
      api.onGet('/models').networkErrorOnce()
      api.onGet('/models').reply(200, modelsResponse)
      api.onGet('/users/3').networkErrorOnce()
      api.onGet('/users/3').reply(200, user3Detail)
      api.onGet('/users/3/recommendations').networkErrorOnce()
      api.onGet('/users/3/recommendations').reply(200, recommendationsFor3)
    })

    const alert = await screen.findByRole('alert')
    expect(alert).toHaveTextContent('The API is unreachable')
    expect(alert).toHaveTextContent('http://127.0.0.1:8000')
    expect(await screen.findByText(/Models unavailable: .*cannot be reached/)).toBeInTheDocument()
    await user.click(within(alert).getByRole('button', { name: 'Retry' }))
    expect(await screen.findByRole('table', { name: 'Recommendations' })).toBeInTheDocument()
    expect(await screen.findByRole('list', { name: 'Top rated movies' })).toBeInTheDocument()
    expect(await screen.findByText('Which trained model ranks the movies')).toBeInTheDocument()
    expect(screen.queryByRole('alert')).not.toBeInTheDocument()
  })

  test('an unknown user shows the API error message', async () => {
    renderApp('/users/99999', (api) => {
      api.onGet('/models').reply(200, modelsResponse)
      api.onGet('/users/99999').reply(404, { error: { code: 'not_found', message: 'no user 99999' } })
      api.onGet('/users/99999/recommendations').reply(404, { error: { code: 'not_found', message: 'no user 99999' } })
    })
    const alert = await screen.findByRole('alert')
    expect(alert).toHaveTextContent('Could not load user 99999')
    expect(alert).toHaveTextContent('no user 99999')
    expect(within(alert).getByRole('button', { name: 'Retry' })).toBeInTheDocument()
  })

  test('a malformed user id is explained without calling the API for it', async () => {
    const { api } = renderApp('/users/abc', (api) => {
      api.onGet('/models').reply(200, modelsResponse)
    })
    expect(await screen.findByRole('alert')).toHaveTextContent('“abc” is not a user id')
    expect(api.history.get.map((r) => r.url)).not.toContain('/users/abc')
  })

  test('an empty answer shows the empty state, and a popularity fallback is flagged', async () => {
    renderApp('/users/3', (api) => {
      api.onGet('/models').reply(200, modelsResponse)
      api.onGet('/users/3').reply(200, user3Detail)
      api.onGet('/users/3/recommendations').reply(200, { ...recommendationsFor3, fallback: true, reason: 'endpoint_unavailable', movies: [], items: [] })
    })
    expect(await screen.findByText('No recommendations')).toBeInTheDocument()
    expect(screen.getByText(/model endpoint is unavailable/)).toBeInTheDocument()
    expect(screen.queryByRole('table', { name: 'Recommendations' })).not.toBeInTheDocument()
  })

  test('models that fail to load leave the selector usable with the default', async () => {
    renderApp('/users/3', (api) => {
      api.onGet('/models').reply(503, { error: { code: 'unavailable', message: 'registry is locked' } })
      api.onGet('/users/3').reply(200, user3Detail)
      api.onGet('/users/3/recommendations').reply(200, recommendationsFor3)
    })
    expect(await screen.findByText('Models unavailable: registry is locked')).toBeInTheDocument()
    expect(await screen.findByRole('table', { name: 'Recommendations' })).toBeInTheDocument()
  })

  test('similar movies open in a dialog from any row', async () => {
    const { user } = renderApp('/users/3', (api) => {
      api.onGet('/models').reply(200, modelsResponse)
      api.onGet('/users/3').reply(200, user3Detail)
      api.onGet('/users/3/recommendations').reply(200, recommendationsFor3)
      api.onGet('/movies/313/similar').reply(200, similarToTitanic)
      api.onGet('/movies/300/similar').reply(500, { error: { code: 'internal', message: 'index missing' } })
    })

    await user.click(await screen.findByRole('button', { name: 'Similar movies to Titanic' }))
    const dialog = await screen.findByRole('dialog', { name: 'Similar movies to Titanic' })
    const list = await within(dialog).findByRole('list', { name: 'Movies similar to Titanic' })
    expect(within(list).getAllByRole('listitem')[0]).toHaveTextContent('English Patient, The (1996)')
    await user.click(within(dialog).getByRole('button', { name: 'Close' }))
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument())

    await user.click(screen.getByRole('button', { name: 'Similar movies to Air Force One' }))
    const failed = await screen.findByRole('dialog', { name: 'Similar movies to Air Force One' })
    expect(await within(failed).findByRole('alert')).toHaveTextContent('index missing')
    expect(within(failed).getByRole('button', { name: 'Retry' })).toBeInTheDocument()
  })

  test('while the API answers, each view says what it is loading', async () => {
    renderApp('/users/3', (api) => {
      api.onGet('/models').reply(200, modelsResponse)
      api.onGet('/users/3').reply(() => new Promise((resolve) => setTimeout(() => resolve([200, user3Detail]), 400)))
      api.onGet('/users/3/recommendations').reply(() => new Promise((resolve) => setTimeout(() => resolve([200, recommendationsFor3]), 400)))
    })
    expect(screen.getAllByRole('status').length).toBeGreaterThanOrEqual(2)
    expect(screen.getByText('Loading recommendations…')).toBeInTheDocument()
    expect(screen.getByText("Loading the user's ratings…")).toBeInTheDocument()
    expect(await screen.findByRole('table', { name: 'Recommendations' })).toBeInTheDocument()
    expect(screen.queryByText('Loading recommendations…')).not.toBeInTheDocument()
  })

  test('clearing the user box deselects the user, and a search that matches nobody says so', async () => {
    const { user } = renderApp('/users/3', (api) => {
      api.onGet('/models').reply(200, modelsResponse)
      api.onGet('/users').reply(200, { users: [], total: 0, limit: 20, offset: 0 })
      api.onGet('/users/3').reply(200, user3Detail)
      api.onGet('/users/3/recommendations').reply(200, recommendationsFor3)
    })
    const picker = screen.getByRole('combobox', { name: 'User' })
    await waitFor(() => expect(picker).toHaveValue('User 3'))
    await user.clear(picker)
    await waitFor(() => expect(location()).toBe('/'))
    await user.type(picker, 'astronaut')
    expect(await screen.findByText('No user matches “astronaut”')).toBeInTheDocument()
  })

  test('a movie with no neighbours shows an empty similar-movies dialog', async () => {
    const { user } = renderApp('/users/3', (api) => {
      api.onGet('/models').reply(200, modelsResponse)
      api.onGet('/users/3').reply(200, user3Detail)
      api.onGet('/users/3/recommendations').reply(200, recommendationsFor3)
      api.onGet('/movies/313/similar').reply(200, { item_id: 313, movies: [], items: [] })
    })
    await user.click(await screen.findByRole('button', { name: 'Similar movies to Titanic' }))
    const dialog = await screen.findByRole('dialog', { name: 'Similar movies to Titanic' })
    expect(await within(dialog).findByText('No similar movies found')).toBeInTheDocument()
  })
})
