import Box from '@mui/material/Box'
import Card from '@mui/material/Card'
import CardContent from '@mui/material/CardContent'
import CardHeader from '@mui/material/CardHeader'
import Chip from '@mui/material/Chip'
import Stack from '@mui/material/Stack'
import Typography from '@mui/material/Typography'
import { keepPreviousData, useQuery } from '@tanstack/react-query'
import { useState } from 'react'
import { api } from '../api/client.ts'
import { queryKeys } from '../api/queryKeys.ts'
import { displayTitle } from '../format.ts'
import ErrorState from './ErrorState.tsx'
import LoadingState from './LoadingState.tsx'
import MovieActions, { type PickActions } from './MovieActions.tsx'

const GRID_SIZE = 12

interface OnboardingGridProps {
  userId: number
  ratedCount: number
  /** Movies rated or marked not interested here, gone from the grid before it reloads. */
  hiddenIds: ReadonlySet<number>
  actions: PickActions
}

/** A first-time user's start: the most rated movies of a genre, to rate (or skip) in one click each. */
export default function OnboardingGrid({ userId, ratedCount, hiddenIds, actions }: OnboardingGridProps) {
  const [genre, setGenre] = useState('')
  const genres = useQuery({ queryKey: queryKeys.genres, queryFn: ({ signal }) => api.genres(signal), staleTime: Infinity })
  const popular = useQuery({
    queryKey: queryKeys.popular(genre, userId),
    queryFn: ({ signal }) => api.popularMovies(genre, GRID_SIZE + 8, userId, signal),
    placeholderData: keepPreviousData,
  })
  const names = ['', ...(genres.data?.genres ?? []).map((g) => g.name).filter((name) => name !== 'unknown')]
  const movies = (popular.data?.items ?? []).filter((m) => !hiddenIds.has(m.item_id)).slice(0, GRID_SIZE)

  let body
  if (popular.isPending) body = <LoadingState label="Loading popular movies…" />
  else if (popular.error) body = <ErrorState error={popular.error} what="popular movies" onRetry={() => void popular.refetch()} />
  else if (!movies.length) body = <Typography color="text.secondary">You have rated every popular movie of this genre; pick another genre.</Typography>
  else
    body = (
      <Box
        component="ul"
        aria-label="Popular movies to rate"
        sx={{
          listStyle: 'none',
          m: 0,
          p: 0,
          display: 'grid',
          gap: 1.5,
          gridTemplateColumns: { xs: '1fr', sm: 'repeat(2, minmax(0, 1fr))' },
          opacity: popular.isPlaceholderData ? 0.5 : 1,
        }}
      >
        {movies.map((movie) => (
          <Box component="li" key={movie.item_id} data-item-id={movie.item_id} sx={{ border: 1, borderColor: 'divider', borderRadius: 2, p: 1.5 }}>
            <Typography component="h3" variant="h3">
              {displayTitle(movie.title)}
            </Typography>
            <Typography variant="body2" color="text.secondary">
              {[movie.year, movie.genres.join(', ')].filter(Boolean).join(' · ')}
            </Typography>
            <MovieActions movie={movie} actions={actions} />
          </Box>
        ))}
      </Box>
    )

  return (
    <Card component="section" aria-labelledby="onboarding-title">
      <CardHeader
        title="Rate movies you have seen"
        subheader={`Every rating updates your picks at once · ${ratedCount} rated so far. Skip what you have not seen.`}
        slotProps={{ title: { id: 'onboarding-title', component: 'h2', variant: 'h2' } }}
      />
      <CardContent sx={{ pt: 0 }}>
        <Stack direction="row" useFlexGap role="group" aria-label="Genre of the popular movies" sx={{ flexWrap: 'wrap', gap: 0.75, mb: 2 }}>
          {names.map((name) => (
            <Chip
              key={name || 'all'}
              label={name || 'All genres'}
              clickable
              component="button"
              color={genre === name ? 'primary' : 'default'}
              variant={genre === name ? 'filled' : 'outlined'}
              aria-pressed={genre === name}
              onClick={() => setGenre(name)}
              sx={{ minHeight: { xs: 44, sm: 32 } }}
            />
          ))}
        </Stack>
        {body}
      </CardContent>
    </Card>
  )
}
