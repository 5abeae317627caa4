import Card from '@mui/material/Card'
import CardContent from '@mui/material/CardContent'
import CardHeader from '@mui/material/CardHeader'
import Chip from '@mui/material/Chip'
import AutoAwesomeIcon from '@mui/icons-material/AutoAwesome'
import type { UseQueryResult } from '@tanstack/react-query'
import type { Recommendations, ScoredMovie } from '../api/client.ts'
import EmptyState from './EmptyState.tsx'
import ErrorState from './ErrorState.tsx'
import FallbackNotice from './FallbackNotice.tsx'
import LoadingState from './LoadingState.tsx'
import RecommendationsTable from './RecommendationsTable.tsx'

interface RecommendationsCardProps {
  userId: number
  recommendations: UseQueryResult<Recommendations>
  /** Movies the user has rated, hidden even before the API answers again. */
  ratedIds: ReadonlySet<number>
  onShowSimilar: (movie: ScoredMovie) => void
}

export default function RecommendationsCard({ userId, recommendations, ratedIds, onShowSimilar }: RecommendationsCardProps) {
  const { data, error, isPending, isFetching, refetch } = recommendations
  const model = data?.model
  let body
  if (isPending) body = <LoadingState label="Loading recommendations…" />
  else if (error) body = <ErrorState error={error} what="recommendations" onRetry={() => void refetch()} />
  else {
    const items = data.items.filter((movie) => !ratedIds.has(movie.item_id))
    body = (
      <>
        <FallbackNotice recommendations={data} />
        {items.length ? (
          <RecommendationsTable items={items} onShowSimilar={onShowSimilar} />
        ) : (
          <EmptyState title="No recommendations" icon={<AutoAwesomeIcon />}>
            The model has nothing left to suggest that this user has not rated already.
          </EmptyState>
        )}
      </>
    )
  }
  return (
    <Card component="section" aria-labelledby="recommendations-title" aria-busy={isFetching}>
      <CardHeader
        title={`Top picks for user ${userId}`}
        subheader={model ? `Ranked by ${model.name}${model.version != null ? ` · registry version ${model.version}` : ''}` : ' '}
        action={isFetching && !isPending ? <Chip size="small" label="Updating…" sx={{ mt: 1, mr: 1 }} /> : undefined}
        slotProps={{ title: { id: 'recommendations-title', component: 'h2', variant: 'h2' } }}
      />
      <CardContent sx={{ pt: 0, px: { xs: 0.5, sm: 2 } }}>{body}</CardContent>
    </Card>
  )
}
