import { QueryClientProvider } from '@tanstack/react-query'
import { render } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import AxiosMockAdapter from 'axios-mock-adapter'
import { MemoryRouter, useLocation } from 'react-router'
import { http } from '../api/client.ts'
import { createQueryClient } from '../api/queryClient.ts'
import App from '../App.tsx'

/** Shows the router's current address so tests can check that the URL follows the selection. */
function CurrentLocation() {
  const location = useLocation()
  return <output data-testid="location">{location.pathname + location.search}</output>
}

/** The whole app at `route`, with the API mocked at the Axios boundary by `mockRoutes` before the first request. */
export function renderApp(route: string, mockRoutes: (api: AxiosMockAdapter) => void = () => {}) {
  const api = new AxiosMockAdapter(http, { onNoMatch: 'throwException' })
  mockRoutes(api)
  const user = userEvent.setup({ delay: null })
  const view = render(
    <QueryClientProvider client={createQueryClient()}>
      <MemoryRouter initialEntries={[route]}>
        <App />
        <CurrentLocation />
      </MemoryRouter>
    </QueryClientProvider>,
  )
  return { api, user, ...view }
}
