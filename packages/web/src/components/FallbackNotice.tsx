import Alert from '@mui/material/Alert'
import type { Recommendations } from '../api/client.ts'

export default function FallbackNotice({ recommendations }: { recommendations: Recommendations }) {
  if (!recommendations.fallback) return null
  const message =
    recommendations.reason === 'no_ratings'
      ? `User ${recommendations.user_id} has not rated anything yet, so these are the most popular movies. Rate a few to make them personal.`
      : 'The model endpoint is unavailable, so these are the most popular movies instead of personal picks.'
  return (
    <Alert severity="info" sx={{ mb: 2 }}>
      {message}
    </Alert>
  )
}
