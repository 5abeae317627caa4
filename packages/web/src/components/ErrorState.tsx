import Alert from '@mui/material/Alert'
import AlertTitle from '@mui/material/AlertTitle'
import Button from '@mui/material/Button'
import RefreshIcon from '@mui/icons-material/Refresh'
import { toApiError } from '../api/client.ts'

interface ErrorStateProps {
  error: unknown
  /** What was being loaded, e.g. "recommendations". */
  what: string
  onRetry?: () => void
}

export default function ErrorState({ error, what, onRetry }: ErrorStateProps) {
  const apiError = toApiError(error)
  const unreachable = apiError.kind === 'unreachable'
  return (
    <Alert
      severity={unreachable ? 'warning' : 'error'}
      role="alert"
      action={
        onRetry ? (
          <Button color="inherit" size="small" startIcon={<RefreshIcon />} onClick={onRetry}>
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
