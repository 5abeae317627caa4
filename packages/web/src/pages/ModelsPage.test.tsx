import { screen, within } from '@testing-library/react'
import { describe, expect, test } from 'vitest'
import { modelsResponse } from '../test/fixtures.ts'
import { renderApp } from '../test/renderApp.tsx'

describe('models page', () => {
  test('lists served models and registry versions with their metrics and compares them in charts', async () => {
    renderApp('/models', (api) => {
      api.onGet('/models').reply(200, modelsResponse)
    })
    const served = await screen.findByRole('table', { name: 'Served models' })
    const rows = within(served).getAllByRole('row')
    expect(rows).toHaveLength(4)
    // Plain names, a line on what each does, and the split the figures come from.
    expect(rows[1]).toHaveTextContent('Personal picks default')
    expect(rows[1]).toHaveTextContent('Learns from the order of your ratings')
    expect(rows[1]).toHaveTextContent('held-out test split')
    expect(rows[1]).toHaveTextContent('0.214')
    expect(screen.getByText(/figures measured on the held-out test split/)).toBeInTheDocument()
    expect(within(rows[3]).getByText('Approved')).toBeInTheDocument()

    const versions = screen.getByRole('table', { name: 'Registry versions' })
    const versionRows = within(versions).getAllByRole('row')
    expect(versionRows[1]).toHaveTextContent('v3 serving')
    expect(versionRows[1]).toHaveTextContent('0.214')
    expect(versionRows[2]).toHaveTextContent('v2')
    expect(versionRows[2]).toHaveTextContent('validation split')
    expect(within(versionRows[0]).getAllByRole('columnheader').map((c) => c.textContent)).toContain('Personal picks NDCG@10')
    expect(within(versionRows[2]).getByText('Rejected')).toBeInTheDocument()

    const chart = screen.getByRole('img', { name: /Metrics by model/ })
    expect(chart).toHaveAccessibleName(expect.stringContaining('Personal picks: ndcg@10 0.214'))
    expect(chart.querySelectorAll('rect')).toHaveLength(3 * 5)
    expect(screen.getByRole('img', { name: /NDCG@10 by registry version/ })).toBeInTheDocument()
    expect(screen.getByText('Endpoint up')).toBeInTheDocument()
    expect(screen.getByText('Serving version 3')).toBeInTheDocument()
  })

  test('each metric explains itself on keyboard focus', async () => {
    const { user } = renderApp('/models', (api) => {
      api.onGet('/models').reply(200, modelsResponse)
    })
    const served = await screen.findByRole('table', { name: 'Served models' })
    const mrr = within(served).getByText('MRR@10')
    await user.tab()
    mrr.focus()
    expect(await screen.findByRole('tooltip')).toHaveTextContent(/reciprocal rank/)
    expect(mrr).toHaveAccessibleDescription(/1 ÷ the position of the first movie/)
  })

  test('an empty registry explains how to get a first model', async () => {
    renderApp('/models', (api) => {
      api.onGet('/models').reply(200, {
        group: 'recs-movielens',
        endpoint: { status: 'unavailable', version: null, default_model: null },
        models: [],
        versions: [],
      })
    })
    expect(await screen.findByText('No model registered yet')).toBeInTheDocument()
    expect(screen.getByText('The endpoint serves no model')).toBeInTheDocument()
    expect(screen.getByText('Endpoint unavailable')).toBeInTheDocument()
    expect(screen.queryByRole('img', { name: /Metrics by model/ })).not.toBeInTheDocument()
  })

  test('an unreachable API is reported with a Retry', async () => {
    const { user } = renderApp('/models', (api) => {
      api.onGet('/models').networkErrorOnce()
      api.onGet('/models').reply(200, modelsResponse)
    })
    const alert = await screen.findByRole('alert')
    expect(alert).toHaveTextContent('The API is unreachable')
    await user.click(within(alert).getByRole('button', { name: 'Retry' }))
    expect(await screen.findByRole('table', { name: 'Served models' })).toBeInTheDocument()
  })
})
