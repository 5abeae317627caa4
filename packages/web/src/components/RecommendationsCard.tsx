import Box from '@mui/material/Box'
import Button from '@mui/material/Button'
import Card from '@mui/material/Card'
import CardContent from '@mui/material/CardContent'
import CardHeader from '@mui/material/CardHeader'
import Chip from '@mui/material/Chip'
import FormControlLabel from '@mui/material/FormControlLabel'
import Switch from '@mui/material/Switch'
import AutoAwesomeIcon from '@mui/icons-material/AutoAwesome'
import type { InfiniteData, UseInfiniteQueryResult } from '@tanstack/react-query'
import { useState, type ReactNode } from 'react'
import type { Recommendations, RecommendedMovie } from '../api/client.ts'
import { modelLabel } from '../format.ts'
import EmptyState from './EmptyState.tsx'
import ErrorState from './ErrorState.tsx'
import FallbackNotice from './FallbackNotice.tsx'
import LoadingState from './LoadingState.tsx'
import type { PickActions } from './MovieActions.tsx'
import { allPicks, type Filters } from '../picks.ts'
import RecommendationFilters from './RecommendationFilters.tsx'
import RecommendationItem from './RecommendationItem.tsx'

interface RecommendationsCardProps {
  userId: number
  recommendations: UseInfiniteQueryResult<InfiniteData<Recommendations>>
  /** Movies rated or marked not interested: hidden even before the API answers again. */
  hiddenIds: ReadonlySet<number>
  filters: Filters
  onFiltersChange: (next: Filters) => void
  actions: PickActions | undefined
  onShowSimilar: (movie: RecommendedMovie) => void
  /** Shown instead of the error when the request itself cannot work (a model that is not served). */
  errorAction?: (error: Error) => ReactNode | null
}

export default function RecommendationsCard(props: RecommendationsCardProps) {
  const { userId, recommendations, hiddenIds, filters, onFiltersChange, actions, onShowSimilar, errorAction } = props
  const { data, error, isPending, isFetching, isPlaceholderData, isFetchingNextPage, hasNextPage, fetchNextPage, refetch } = recommendations
  const [showScores, setShowScores] = useState(false)
  const first = data?.pages[0]
  const model = first?.model
  const filtered = filters.genres.length > 0 || filters.yearMin !== null || filters.yearMax !== null
  // The list on screen stays while the next one loads (dimmed), instead of giving way to a spinner.
  const stale = (isFetching && !isFetchingNextPage) || isPlaceholderData

  let body
  if (isPending) body = <LoadingState label="Loading recommendations…" />
  else if (error && !data) body = errorAction?.(error) ?? <ErrorState error={error} what="recommendations" onRetry={() => void refetch()} />
  else {
    const picks = allPicks(data.pages, hiddenIds)
    body = (
      <>
        {error ? (errorAction?.(error) ?? <ErrorState error={error} what="recommendations" onRetry={() => void refetch()} />) : null}
        {first ? <FallbackNotice recommendations={first} /> : null}
        {picks.length ? (
          <Box
            component="ol"
            aria-label="Recommendations"
            sx={{ listStyle: 'none', m: 0, p: 0, opacity: stale ? 0.5 : 1, transition: 'opacity 150ms' }}
          >
            {picks.map((movie, index) => (
              <RecommendationItem key={movie.item_id} movie={movie} rank={index + 1} showScore={showScores} actions={actions} onShowSimilar={onShowSimilar} />
            ))}
          </Box>
        ) : (
          <EmptyState title={filtered ? 'No movie matches these filters' : 'No recommendations'} icon={<AutoAwesomeIcon />}>
            {filtered
              ? 'Choose more genres or a wider range of years.'
              : 'The model has nothing left to suggest that this user has not rated already.'}
          </EmptyState>
        )}
        {hasNextPage && picks.length ? (
          <Box sx={{ textAlign: 'center', pt: 1.5 }}>
            <Button variant="outlined" onClick={() => void fetchNextPage()} disabled={isFetchingNextPage}>
              {isFetchingNextPage ? 'Loading more…' : 'Show more'}
            </Button>
          </Box>
        ) : null}
      </>
    )
  }
  return (
    <Card component="section" aria-labelledby="recommendations-title" aria-busy={isFetching}>
      <CardHeader
        title={`Top picks for user ${userId}`}
        subheader={model ? `Ranked by ${modelLabel(model)}${model.version != null ? ` · registry version ${model.version}` : ''}` : ' '}
        action={isFetching && !isPending ? <Chip size="small" label="Updating…" sx={{ mt: 1, mr: 1 }} /> : undefined}
        slotProps={{ title: { id: 'recommendations-title', component: 'h2', variant: 'h2' } }}
      />
      <CardContent sx={{ pt: 0, px: { xs: 1, sm: 2 } }}>
        <RecommendationFilters value={filters} onChange={onFiltersChange} />
        <FormControlLabel
          control={<Switch checked={showScores} onChange={(event) => setShowScores(event.target.checked)} />}
          label="Show the model's raw scores"
          sx={{ mb: 1, minHeight: 44 }}
        />
        {body}
      </CardContent>
    </Card>
  )
}
