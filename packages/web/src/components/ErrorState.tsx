import Alert from '@mui/material/Alert'
import AlertTitle from '@mui/material/AlertTitle'
import Button from '@mui/material/Button'
import RefreshIcon from '@mui/icons-material/Refresh'
import { useQueryClient } from '@tanstack/react-query'
import { toApiError } from '../api/client.ts'

interface ErrorStateProps {
  error: unknown
  /** What was being loaded, e.g. "recommendations". */
  what: string
  onRetry?: () => void
}

export default function ErrorState({ error, what, onRetry }: ErrorStateProps) {
  const queryClient = useQueryClient()
  const apiError = toApiError(error)
  const unreachable = apiError.kind === 'unreachable'

  function retry() {
    onRetry?.()
    // An unreachable API failed every view at once; one Retry brings them all back.
    if (unreachable) void queryClient.refetchQueries({ predicate: (query) => query.state.status === 'error' })
  }
  return (
    <Alert
      severity={unreachable ? 'warning' : 'error'}
      role="alert"
      action={
        onRetry ? (
          <Button color="inherit" size="small" startIcon={<RefreshIcon />} onClick={retry}>
            Retry
          </Button>
        ) : undefined
      }
      sx={{ alignItems: 'center' }}
    >
      <AlertTitle>{unreachable ? 'The API is unreachable' : `Could not load ${what}`}</AlertTitle>
      {unreachable
        ? `${apiError.message} Check that it is running, then retry.`
        : apiError.message}
    </Alert>
  )
}
