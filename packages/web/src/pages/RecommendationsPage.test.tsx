import { fireEvent, screen, waitFor, within } from '@testing-library/react'
import { describe, expect, test } from 'vitest'
import { genreList, modelRef, modelsResponse, recommendationsFor3, similarToTitanic, user3, user30, user3Detail } from '../test/fixtures.ts'
import { renderApp } from '../test/renderApp.tsx'

const location = () => screen.getByTestId('location').textContent

describe('recommendations page', () => {
  test('without a user it invites the visitor to choose one', async () => {
    renderApp('/', (api) => {
      api.onGet('/models').reply(200, modelsResponse)
    })
    expect(await screen.findByText('Choose a user to begin')).toBeInTheDocument()
    expect(screen.getByRole('combobox', { name: 'User' })).toBeInTheDocument()
    expect(screen.queryByRole('list', { name: 'Recommendations' })).not.toBeInTheDocument()
  })

  test('a shared URL shows that user and model: picks with match and reason, top-rated panel, model selector', async () => {
    const { user } = renderApp('/users/3?model=ease', (api) => {
      api.onGet('/models').reply(200, modelsResponse)
      api.onGet('/movies/genres').reply(200, genreList)
      api.onGet('/users/3').reply(200, user3Detail)
      api.onGet('/users/3/recommendations').reply((config) => {
        expect(config.params).toEqual({ k: 10, model: 'ease' })
        return [200, { ...recommendationsFor3, model: modelRef('ease', 3) }]
      })
    })

    const list = await screen.findByRole('list', { name: 'Recommendations' })
    const picks = within(list).getAllByRole('listitem')
    expect(picks).toHaveLength(2)
    expect(within(picks[0]).getByRole('heading', { level: 3 })).toHaveTextContent('Titanic (1997)')
    expect(picks[0]).toHaveTextContent('93% match')
    expect(picks[0]).toHaveTextContent('Because you rated Star Wars 5.0 ★')
    expect(within(picks[0]).getByLabelText('Genres')).toHaveTextContent('DramaRomance')
    expect(picks[1]).toHaveTextContent('71% match')
    expect(picks[1]).toHaveTextContent('Popular with everyone')
    // The raw score, on the model's own scale, only on request.
    expect(list).not.toHaveTextContent('0.912')
    await user.click(screen.getByRole('switch', { name: "Show the model's raw scores" }))
    expect(picks[0]).toHaveTextContent('model score 0.912')
    expect(screen.getByText('Ranked by Similar taste · registry version 3')).toBeInTheDocument()
    // A dataset user is read-only: no stars or "Not interested" to press, and the page says why.
    expect(within(list).queryByRole('button', { name: /Not interested/ })).not.toBeInTheDocument()
    expect(screen.getByText(/comes from the MovieLens dataset and is read-only/)).toBeInTheDocument()

    const top = await screen.findByRole('list', { name: 'Top rated movies' })
    expect(within(top).getAllByRole('listitem').map((li) => li.textContent)).toEqual([
      expect.stringContaining('Star Wars'),
      expect.stringContaining('Return of the Jedi'),
      expect.stringContaining('Contact'),
    ])
    expect(screen.getByRole('combobox', { name: 'Model' })).toHaveTextContent('Similar taste')
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
    expect(await screen.findByRole('list', { name: 'Recommendations' })).toBeInTheDocument()

    // One entry per model, in plain words with what it does; the default is the address without a model.
    await user.click(screen.getByRole('combobox', { name: 'Model' }))
    const options = await screen.findAllByRole('option')
    expect(options.map((o) => o.textContent)).toEqual([
      expect.stringMatching(/^Personal picks \(default\)Learns from the order/),
      expect.stringMatching(/^Similar tasteMovies rated by people/),
      expect.stringMatching(/^Most popular/),
    ])
    await user.click(await screen.findByRole('option', { name: /^Most popular/ }))
    await waitFor(() => expect(location()).toBe('/users/3?model=mostpop'))
    await waitFor(() => expect(api.history.get.some((r) => r.url === '/users/3/recommendations' && r.params.model === 'mostpop')).toBe(true))
    await user.click(screen.getByRole('combobox', { name: 'Model' }))
    await user.click(await screen.findByRole('option', { name: /^Personal picks/ }))
    await waitFor(() => expect(location()).toBe('/users/3'))
  })

  test('choosing a user asks for their profile and picks once, with the model and filters of the address', async () => {
    const { api, user } = renderApp('/?model=mostpop&genres=Drama', (api) => {
      api.onGet('/models').reply(200, modelsResponse)
      api.onGet('/users').reply((config) => [200, { users: config.params.query === '3' ? [user3, user30] : [], total: 2, limit: 20, offset: 0 }])
      api.onGet('/users/3').reply(200, user3Detail)
      api.onGet('/users/3/recommendations').reply(200, recommendationsFor3)
    })

    await user.type(screen.getByRole('combobox', { name: 'User' }), '3')
    await user.click(await screen.findByRole('option', { name: /User 3\b.*writer/ }))
    expect(await screen.findByRole('list', { name: 'Recommendations' })).toBeInTheDocument()
    expect(location()).toBe('/users/3?model=mostpop&genres=Drama')
    // The picks are asked for as the user is chosen; the view that renders them shares that request.
    const picks = api.history.get.filter((r) => r.url === '/users/3/recommendations')
    expect(picks.map((r) => r.params)).toEqual([{ k: 10, model: 'mostpop', genres: 'Drama' }])
    expect(api.history.get.filter((r) => r.url === '/users/3')).toHaveLength(1)
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
    expect(await screen.findByRole('list', { name: 'Recommendations' })).toBeInTheDocument()
    expect(await screen.findByRole('list', { name: 'Top rated movies' })).toBeInTheDocument()
    expect(await screen.findByText('Which trained model ranks the movies')).toBeInTheDocument()
    expect(screen.queryByRole('alert')).not.toBeInTheDocument()
  })

  test('an unknown user is named, with a way to pick another or create one', async () => {
    const { user } = renderApp('/users/99999', (api) => {
      api.onGet('/models').reply(200, modelsResponse)
      api.onGet('/users/99999').reply(404, { error: { code: 'not_found', message: 'user 99999 does not exist' } })
      api.onGet('/users/99999/recommendations').reply(404, { error: { code: 'not_found', message: 'user 99999 does not exist' } })
    })
    const alert = await screen.findByRole('alert')
    expect(alert).toHaveTextContent('User 99999 does not exist')
    expect(within(alert).queryByRole('button', { name: 'Retry' })).not.toBeInTheDocument()
    expect(within(alert).getByRole('link', { name: 'Create a new user' })).toHaveAttribute('href', '/new-user')
    await user.click(within(alert).getByRole('link', { name: 'Pick another user' }))
    await waitFor(() => expect(location()).toBe('/'))
  })

  test('"/?user=N" opens user N, and says so when N does not exist', async () => {
    renderApp('/?user=999999', (api) => {
      api.onGet('/models').reply(200, modelsResponse)
      api.onGet('/users/999999').reply(404, { error: { code: 'not_found', message: 'user 999999 does not exist' } })
      api.onGet('/users/999999/recommendations').reply(404, { error: { code: 'not_found', message: 'user 999999 does not exist' } })
    })
    expect(await screen.findByRole('alert')).toHaveTextContent('User 999999 does not exist')
    expect(location()).toBe('/users/999999')
  })

  test('a model that is not served offers the default model instead of a Retry', async () => {
    const { user } = renderApp('/users/3?model=bogus', (api) => {
      api.onGet('/models').reply(200, modelsResponse)
      api.onGet('/movies/genres').reply(200, genreList)
      api.onGet('/users/3').reply(200, user3Detail)
      api.onGet('/users/3/recommendations').reply((config) =>
        config.params.model === 'bogus'
          ? [400, { error: { code: 'bad_request', message: "the endpoint rejected the request: unknown model 'bogus'" } }]
          : [200, recommendationsFor3],
      )
    })
    const alert = await screen.findByRole('alert')
    expect(alert).toHaveTextContent('The model “bogus” is not served')
    expect(within(alert).queryByRole('button', { name: 'Retry' })).not.toBeInTheDocument()
    expect(screen.getByText('“bogus” is not a served model')).toBeInTheDocument()
    await user.click(within(alert).getByRole('button', { name: 'Use the default model' }))
    await waitFor(() => expect(location()).toBe('/users/3'))
    expect(await screen.findByRole('list', { name: 'Recommendations' })).toHaveTextContent('Titanic')
    expect(screen.queryByRole('alert')).not.toBeInTheDocument()
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
    expect(screen.queryByRole('list', { name: 'Recommendations' })).not.toBeInTheDocument()
  })

  test('models that fail to load leave the selector usable with the default', async () => {
    renderApp('/users/3', (api) => {
      api.onGet('/models').reply(503, { error: { code: 'unavailable', message: 'registry is locked' } })
      api.onGet('/users/3').reply(200, user3Detail)
      api.onGet('/users/3/recommendations').reply(200, recommendationsFor3)
    })
    expect(await screen.findByText('Models unavailable: registry is locked')).toBeInTheDocument()
    expect(await screen.findByRole('list', { name: 'Recommendations' })).toBeInTheDocument()
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
    expect(within(list).getAllByRole('listitem')[0]).toHaveTextContent('The English Patient (1996)')
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
    expect(await screen.findByRole('list', { name: 'Recommendations' })).toBeInTheDocument()
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

  describe('a user this browser created', () => {
    const TOKEN = '944.' + 'k'.repeat(43)
    const user944 = { ...user3Detail, user_id: 944, source: 'api' as const, ratings_count: 12 }
    const page1 = { ...recommendationsFor3, user_id: 944 }

    function own(api: Parameters<Parameters<typeof renderApp>[1] & object>[0]) {
      window.localStorage.setItem('recs.userTokens', JSON.stringify([{ userId: 944, token: TOKEN, savedAt: 1 }]))
      api.onGet('/models').reply(200, modelsResponse)
      api.onGet('/movies/genres').reply(200, genreList)
      // The user's history holds what the test rated, as the API's would.
      api.onGet('/users/944').reply(() => {
        const rated = api.history.post
          .filter((c) => c.url === '/users/944/ratings')
          .map((c) => ({ ...(JSON.parse(c.data as string) as { item_id: number; rating: number }), title: 'rated', year: null, genres: [], timestamp: 1 }))
        return [200, { ...user944, history: [...rated, ...user944.history] }]
      })
    }

    test('"Not interested" hides the pick at once, stores it, and Undo brings it back', async () => {
      let hidden = false
      const { api, user } = renderApp('/users/944', (api) => {
        own(api)
        api.onGet('/users/944/recommendations').reply(() => [200, hidden ? { ...page1, movies: [300], items: [page1.items[1]] } : page1])
        api.onPost('/users/944/feedback').reply(() => {
          hidden = true
          return [201, { user_id: 944, item_id: 313, kind: 'not_interested', timestamp: 1 }]
        })
        api.onDelete('/users/944/feedback/313').reply(() => {
          hidden = false
          return [200, { user_id: 944, item_id: 313, deleted: true }]
        })
      })
      const list = await screen.findByRole('list', { name: 'Recommendations' })
      await user.click(within(list).getByRole('button', { name: 'Not interested in Titanic' }))
      expect(within(list).queryByText('Titanic')).not.toBeInTheDocument()
      expect(JSON.parse(api.history.post[0].data as string)).toEqual({ item_id: 313, kind: 'not_interested' })
      expect(api.history.post[0].headers?.Authorization).toBe(`Bearer ${TOKEN}`)
      expect(await screen.findByText('“Titanic” will not be recommended again.')).toBeInTheDocument()
      await user.click(screen.getByRole('button', { name: 'Undo' }))
      expect(await within(screen.getByRole('list', { name: 'Recommendations' })).findByText('Titanic')).toBeInTheDocument()
      expect(api.history.delete).toHaveLength(1)
    })

    test('a pick is rated with one click on its stars, or with the arrows and Enter', async () => {
      const { api } = renderApp('/users/944', (api) => {
        own(api)
        api.onGet('/users/944/recommendations').reply(200, page1)
        api.onPost('/users/944/ratings').reply((config) => [201, { user_id: 944, ...JSON.parse(config.data as string), timestamp: 1795400100, source: 'api' }])
      })
      const list = await screen.findByRole('list', { name: 'Recommendations' })
      fireEvent.click(within(within(list).getByRole('radiogroup', { name: 'Rate Titanic' })).getByLabelText('4 Stars'))
      expect(await screen.findByText('Rated “Titanic” 4 of 5.')).toBeInTheDocument()
      expect(JSON.parse(api.history.post[0].data as string)).toEqual({ item_id: 313, rating: 4 })
      await waitFor(() => expect(within(list).queryByText('Titanic')).not.toBeInTheDocument())

      // The arrows only choose; nothing is saved until Enter. (jsdom does not move a radio group's
      // choice on an arrow key as browsers do, so the test makes the click that the arrow makes.)
      const stars = within(list).getByRole('radiogroup', { name: 'Rate Air Force One' })
      fireEvent.keyDown(within(stars).getByLabelText('1 Star'), { key: 'ArrowRight' })
      fireEvent.click(within(stars).getByLabelText('1.5 Stars'))
      expect(api.history.post).toHaveLength(1)
      expect(within(stars).getByText('1.5 ★ · Enter to save')).toBeInTheDocument()
      fireEvent.keyDown(within(stars).getByLabelText('1.5 Stars'), { key: 'Enter' })
      await waitFor(() => expect(api.history.post).toHaveLength(2))
      expect(JSON.parse(api.history.post[1].data as string)).toEqual({ item_id: 300, rating: 1.5 })
    })

    test('genre and year filters go to the API and the address; Show more asks for the next page', async () => {
      const more = {
        ...page1,
        movies: [1],
        items: [{ item_id: 1, title: 'Toy Story', year: 1995, genres: ['Animation', "Children's", 'Comedy'], score: 0.5, match: 0.6, because: null, reason: 'taste' as const }],
      }
      const full = { ...page1, movies: Array.from({ length: 10 }, (_, i) => 400 + i), items: Array.from({ length: 10 }, (_, i) => ({ ...page1.items[1], item_id: 400 + i, title: `Movie ${i}` })) }
      const { api, user } = renderApp('/users/944', (api) => {
        own(api)
        api.onGet('/users/944/recommendations').reply((config) => [200, config.params.offset === 10 ? more : config.params.genres ? page1 : full])
      })
      const list = await screen.findByRole('list', { name: 'Recommendations' })
      expect(within(list).getAllByRole('listitem')).toHaveLength(10)
      await user.click(screen.getByRole('button', { name: 'Show more' }))
      await waitFor(() => expect(within(list).getAllByRole('listitem')).toHaveLength(11))
      expect(api.history.get.filter((c) => c.url === '/users/944/recommendations').at(-1)?.params).toEqual({ k: 10, offset: 10 })

      const genres = screen.getByRole('group', { name: 'Genres to show' })
      await user.click(within(genres).getByRole('button', { name: 'Drama' }))
      await waitFor(() => expect(location()).toBe('/users/944?genres=Drama'))
      await user.type(screen.getByRole('textbox', { name: 'From year' }), '1990')
      await user.type(screen.getByRole('textbox', { name: 'To year' }), '1999')
      await waitFor(() => expect(location()).toBe('/users/944?genres=Drama&from=1990&to=1999'))
      await waitFor(() =>
        expect(api.history.get.filter((c) => c.url === '/users/944/recommendations').at(-1)?.params).toEqual({ k: 10, genres: 'Drama', year_min: 1990, year_max: 1999 }),
      )
      expect(await within(screen.getByRole('list', { name: 'Recommendations' })).findByText('Titanic')).toBeInTheDocument()
      await user.clear(screen.getByRole('textbox', { name: 'To year' }))
      await user.type(screen.getByRole('textbox', { name: 'To year' }), '19x')
      expect(screen.getByText('A year has four digits, e.g. 1995.')).toBeInTheDocument()
      await user.click(screen.getByRole('button', { name: 'Clear filters' }))
      await waitFor(() => expect(location()).toBe('/users/944'))
    })

    test('while a new list loads the old one stays on screen, dimmed', async () => {
      const { user } = renderApp('/users/944', (api) => {
        own(api)
        api.onGet('/users/944/recommendations').reply((config) =>
          config.params.model === 'mostpop'
            ? new Promise((resolve) => setTimeout(() => resolve([200, { ...page1, model: modelRef('mostpop', 3) }]), 600))
            : [200, page1],
        )
      })
      await screen.findByRole('list', { name: 'Recommendations' })
      await user.click(screen.getByRole('combobox', { name: 'Model' }))
      await user.click(await screen.findByRole('option', { name: /^Most popular/ }))
      const stale = screen.getByRole('list', { name: 'Recommendations' })
      expect(stale).toHaveStyle({ opacity: '0.5' })
      expect(screen.queryByText('Loading recommendations…')).not.toBeInTheDocument()
      await waitFor(() => expect(screen.getByText(/^Ranked by Most popular/)).toBeInTheDocument())
      expect(screen.getByRole('list', { name: 'Recommendations' })).toHaveStyle({ opacity: '1' })
    })
  })
})
