import { fireEvent, screen, waitFor, within } from '@testing-library/react'
import { describe, expect, test, vi } from 'vitest'
import type { Recommendations, UserDetail } from '../api/client.ts'
import { genreList, modelRef, modelsResponse, movieSearchStar, popularMovies } from '../test/fixtures.ts'
import { renderApp } from '../test/renderApp.tsx'

const location = () => screen.getByTestId('location').textContent

const newUser: UserDetail = {
  user_id: 944,
  age: 31,
  gender: null,
  occupation: 'engineer',
  source: 'api',
  ratings_count: 0,
  created_at: 1795400000,
  history: [],
}

const TOKEN = '944.' + 'k'.repeat(43)

const popular: Recommendations = {
  user_id: 944,
  model: modelRef('popularity', null),
  fallback: true,
  reason: 'no_ratings',
  filters: { genres: [], year_min: null, year_max: null, offset: 0, k: 10 },
  movies: [50, 100],
  items: [
    { item_id: 50, title: 'Star Wars', year: 1977, genres: ['Action', 'Sci-Fi'], score: 583, match: 1, because: null, reason: 'popular' },
    { item_id: 100, title: 'Fargo', year: 1996, genres: ['Crime', 'Drama', 'Thriller'], score: 508, match: 0.98, because: null, reason: 'popular' },
  ],
}

const personal: Recommendations = {
  user_id: 944,
  model: modelRef('tfrs', 3),
  fallback: false,
  reason: null,
  filters: { genres: [], year_min: null, year_max: null, offset: 0, k: 10 },
  movies: [50, 172, 181],
  items: [
    // An API that answered before the rating was stored could still return it; the page must not show it.
    { item_id: 50, title: 'Star Wars', year: 1977, genres: ['Action', 'Sci-Fi'], score: 0.99, match: 0.99, because: null, reason: 'taste' },
    { item_id: 172, title: 'Empire Strikes Back, The', year: 1980, genres: ['Action', 'Sci-Fi'], score: 0.95, match: 0.97, because: { item_id: 50, title: 'Star Wars', rating: 4.5 }, reason: 'similar_to_rated' },
    { item_id: 181, title: 'Return of the Jedi', year: 1983, genres: ['Action', 'Sci-Fi'], score: 0.9, match: 0.95, because: { item_id: 50, title: 'Star Wars', rating: 4.5 }, reason: 'similar_to_rated' },
  ],
}

describe('new user flow', () => {
  test('create a user from the app bar, rate from the grid of popular movies, and the picks update beside it', async () => {
    let rated = false
    const { api, user } = renderApp('/', (api) => {
      api.onGet('/models').reply(200, modelsResponse)
      api.onGet('/movies/genres').reply(200, genreList)
      api.onGet('/movies/popular').reply((config) => [200, config.params.genre === 'Drama' ? { total: 1, items: [popularMovies.items[1]] } : popularMovies])
      api.onPost('/users').reply(201, { ...newUser, token: TOKEN })
      api.onGet('/users/944').reply(() => [
        200,
        rated
          ? { ...newUser, ratings_count: 1, history: [{ item_id: 50, title: 'Star Wars', year: 1977, genres: ['Action', 'Sci-Fi'], rating: 4.5, timestamp: 1795400100 }] }
          : newUser,
      ])
      api.onGet('/users/944/recommendations').reply(() => [200, rated ? personal : popular])
      api.onPost('/users/944/ratings').reply((config) => {
        rated = true
        return [201, { user_id: 944, ...JSON.parse(config.data as string), timestamp: 1795400100, source: 'api' }]
      })
    })

    await user.click(screen.getByRole('link', { name: 'New user' }))
    expect(await screen.findByRole('heading', { name: 'New user' })).toBeInTheDocument()
    await user.type(screen.getByRole('textbox', { name: 'Age' }), '31')
    await user.click(screen.getByRole('combobox', { name: 'Occupation' }))
    await user.click(await screen.findByRole('option', { name: 'engineer' }))
    await user.click(screen.getByRole('button', { name: 'Create user' }))

    await waitFor(() => expect(location()).toBe('/users/944'))
    expect(JSON.parse(api.history.post[0].data as string)).toEqual({ age: 31, occupation: 'engineer' })
    expect(await screen.findByText(/User 944 is ready/)).toBeInTheDocument()
    expect(await screen.findByText(/has not rated anything yet/)).toBeInTheDocument()
    const picks = screen.getByRole('list', { name: 'Recommendations' })
    expect(within(picks).getAllByRole('listitem')[0]).toHaveTextContent('Popular with everyone')

    // The grid: popular movies, article first, each rated with one click; a genre narrows it.
    const grid = await screen.findByRole('list', { name: 'Popular movies to rate' })
    expect(within(grid).getAllByRole('heading', { level: 3 }).map((h) => h.textContent)).toEqual(['Star Wars', 'Fargo', 'The Godfather'])
    const genres = screen.getByRole('group', { name: 'Genre of the popular movies' })
    expect(within(genres).queryByRole('button', { name: 'unknown' })).not.toBeInTheDocument()
    await user.click(within(genres).getByRole('button', { name: 'Drama' }))
    await waitFor(() => expect(within(screen.getByRole('list', { name: 'Popular movies to rate' })).getAllByRole('listitem')).toHaveLength(1))
    expect(api.history.get.find((c) => c.url === '/movies/popular' && c.params.genre === 'Drama')?.params).toMatchObject({ user_id: 944 })
    await user.click(within(genres).getByRole('button', { name: 'All genres' }))
    await waitFor(() => expect(within(screen.getByRole('list', { name: 'Popular movies to rate' })).getAllByRole('listitem')).toHaveLength(3))

    // A plain click: jsdom has no layout, so the pointer-hover path of Rating cannot compute a value.
    const stars = within(screen.getByRole('list', { name: 'Popular movies to rate' })).getByRole('radiogroup', { name: 'Rate Star Wars' })
    fireEvent.click(within(stars).getByLabelText('4.5 Stars'))

    expect(await screen.findByText('Rated “Star Wars” 4.5 of 5.')).toBeInTheDocument()
    expect(JSON.parse(api.history.post[1].data as string)).toEqual({ item_id: 50, rating: 4.5 })
    // The token the API returned once is kept and proves ownership on every call about user 944.
    expect(api.history.post[0].headers?.Authorization).toBeUndefined()
    expect(api.history.post[1].headers?.Authorization).toBe(`Bearer ${TOKEN}`)
    expect(api.history.get.filter((c) => c.url === '/users/944').every((c) => c.headers?.Authorization === `Bearer ${TOKEN}`)).toBe(true)
    expect(api.history.get.filter((c) => c.url === '/models').some((c) => c.headers?.Authorization)).toBe(false)
    expect(await screen.findByText('The Empire Strikes Back')).toBeInTheDocument()
    const updated = screen.getByRole('list', { name: 'Recommendations' })
    expect(within(updated).queryByText('Star Wars')).not.toBeInTheDocument()
    expect(within(updated).getAllByRole('listitem')).toHaveLength(2)
    expect(within(updated).getAllByRole('listitem')[0]).toHaveTextContent('Because you rated Star Wars 4.5 ★')
    expect(within(screen.getByRole('list', { name: 'Popular movies to rate' })).queryByText('Star Wars')).not.toBeInTheDocument()
    expect(screen.queryByText(/has not rated anything yet/)).not.toBeInTheDocument()
    expect(screen.queryByText(/User 944 is ready/)).not.toBeInTheDocument()
    const top = screen.getByRole('list', { name: 'Top rated movies' })
    expect(top).toHaveTextContent('Star Wars')
  })

  test('rating through the search puts the focus back in the search box', async () => {
    window.localStorage.setItem('recs.userTokens', JSON.stringify([{ userId: 944, token: TOKEN, savedAt: 1 }]))
    const { user } = renderApp('/users/944', (api) => {
      api.onGet('/models').reply(200, modelsResponse)
      api.onGet('/movies/genres').reply(200, genreList)
      api.onGet('/movies/popular').reply(200, popularMovies)
      api.onGet('/users/944').reply(200, newUser)
      api.onGet('/users/944/recommendations').reply(200, popular)
      api.onGet('/movies').reply(200, movieSearchStar)
      api.onPost('/users/944/ratings').reply((config) => [201, { user_id: 944, ...JSON.parse(config.data as string), timestamp: 1795400100, source: 'api' }])
    })
    const search = await screen.findByRole('combobox', { name: 'Search movies' })
    await user.type(search, 'star')
    await user.click(await screen.findByRole('option', { name: /Star Trek/ }))
    fireEvent.click(within(screen.getByRole('form', { name: 'Rate a movie' })).getByLabelText('3 Stars'))
    await user.click(screen.getByRole('button', { name: 'Rate' }))
    expect(await screen.findByText('Rated “Star Trek: First Contact” 3 of 5.')).toBeInTheDocument()
    expect(search).toHaveFocus()
    expect(search).toHaveValue('')
  })

  test('the landing page offers the saved users, copies a token, takes one from another device and forgets', async () => {
    const { user } = renderApp('/', (api) => {
      api.onGet('/models').reply(200, modelsResponse)
    })
    const card = await screen.findByRole('region', { name: 'Your users' })
    expect(within(card).getByText('This browser holds no user token yet.')).toBeInTheDocument()
    await user.type(within(card).getByRole('textbox', { name: 'Token from another device' }), 'not a token')
    await user.click(within(card).getByRole('button', { name: 'Add' }))
    expect(within(card).getByText(/That is not a user token/)).toBeInTheDocument()
    await user.clear(within(card).getByRole('textbox', { name: 'Token from another device' }))
    await user.type(within(card).getByRole('textbox', { name: 'Token from another device' }), TOKEN)
    await user.click(within(card).getByRole('button', { name: 'Add' }))
    expect(window.localStorage.getItem('recs.userTokens')).toContain(TOKEN)
    const writeText = vi.fn(() => Promise.resolve())
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true })
    await user.click(within(card).getByRole('button', { name: 'Copy the token of user 944' }))
    expect(writeText).toHaveBeenCalledWith(TOKEN)
    expect(await within(card).findByText('Token copied')).toBeInTheDocument()
    expect(within(card).getByRole('link', { name: 'Continue as user 944' })).toHaveAttribute('href', '/users/944')
    await user.click(within(card).getByRole('button', { name: 'Forget user 944' }))
    expect(within(card).queryByRole('link', { name: 'Continue as user 944' })).not.toBeInTheDocument()
    expect(window.localStorage.getItem('recs.userTokens')).not.toContain(TOKEN)
  })

  test('a rated movie is not offered again, and a rejected rating says why', async () => {
    window.localStorage.setItem('recs.userTokens', JSON.stringify([{ userId: 944, token: TOKEN, savedAt: 1 }]))
    const { user } = renderApp('/users/944', (api) => {
      api.onGet('/models').reply(200, modelsResponse)
      api.onGet('/movies/genres').reply(200, genreList)
      api.onGet('/movies/popular').reply(200, popularMovies)
      api.onGet('/users/944').reply(200, {
        ...newUser,
        ratings_count: 1,
        history: [{ item_id: 50, title: 'Star Wars', year: 1977, genres: ['Action', 'Sci-Fi'], rating: 4.5, timestamp: 1795400100 }],
      })
      api.onGet('/users/944/recommendations').reply(200, personal)
      api.onGet('/movies').reply(200, movieSearchStar)
      api.onPost('/users/944/ratings').reply(409, { error: { code: 'conflict', message: 'user 944 already rated movie 222' } })
    })

    await user.type(await screen.findByRole('combobox', { name: 'Search movies' }), 'star')
    const option = await screen.findByRole('option', { name: /Star Trek/ })
    expect(screen.queryByRole('option', { name: /Star Wars/ })).not.toBeInTheDocument()
    await user.click(option)
    fireEvent.click(within(screen.getByRole('form', { name: 'Rate a movie' })).getByLabelText('3 Stars'))
    await user.click(screen.getByRole('button', { name: 'Rate' }))
    expect(await within(screen.getByRole('form', { name: 'Rate a movie' })).findByRole('alert')).toHaveTextContent('user 944 already rated movie 222')
  })

  test('an impossible age is refused before anything is sent', async () => {
    const { api, user } = renderApp('/new-user')
    await user.type(screen.getByRole('textbox', { name: 'Age' }), '300')
    await user.click(screen.getByRole('button', { name: 'Create user' }))
    expect(await screen.findByText('Age must be between 1 and 120.')).toBeInTheDocument()
    await user.clear(screen.getByRole('textbox', { name: 'Age' }))
    await user.type(screen.getByRole('textbox', { name: 'Age' }), 'twelve')
    expect(screen.getByText('Age must be a whole number of years.')).toBeInTheDocument()
    expect(api.history.post).toHaveLength(0)
  })

  test('when the API is down, creating a user says so', async () => {
    const { user } = renderApp('/new-user', (api) => {
      api.onPost('/users').networkError()
    })
    await user.click(screen.getByRole('combobox', { name: 'Gender' }))
    await user.click(await screen.findByRole('option', { name: 'Female' }))
    await user.click(screen.getByRole('button', { name: 'Create user' }))
    expect(await screen.findByRole('alert')).toHaveTextContent('cannot be reached')
    expect(location()).toBe('/new-user')
  })
})
