import Alert from '@mui/material/Alert'
import Box from '@mui/material/Box'
import Button from '@mui/material/Button'
import Card from '@mui/material/Card'
import CardContent from '@mui/material/CardContent'
import Grid from '@mui/material/Grid'
import Paper from '@mui/material/Paper'
import Stack from '@mui/material/Stack'
import Typography from '@mui/material/Typography'
import PersonSearchIcon from '@mui/icons-material/PersonSearch'
import { useQuery, useQueryClient } from '@tanstack/react-query'
import { useMemo, useState } from 'react'
import { Link as RouterLink, useLocation, useNavigate, useParams, useSearchParams } from 'react-router'
import { api, type MovieDetail, type Rating, type ScoredMovie, type UserDetail } from '../api/client.ts'
import { queryKeys } from '../api/queryKeys.ts'
import { parseUserId } from '../format.ts'
import EmptyState from '../components/EmptyState.tsx'
import ErrorState from '../components/ErrorState.tsx'
import LoadingState from '../components/LoadingState.tsx'
import ModelSelect from '../components/ModelSelect.tsx'
import MovieRater from '../components/MovieRater.tsx'
import RatedMoviesPanel from '../components/RatedMoviesPanel.tsx'
import RecommendationsCard from '../components/RecommendationsCard.tsx'
import SavedUsersCard from '../components/SavedUsersCard.tsx'
import SimilarMoviesDialog from '../components/SimilarMoviesDialog.tsx'
import UserPicker from '../components/UserPicker.tsx'

const RECOMMENDATIONS_K = 10

export default function RecommendationsPage() {
  const { userId: rawUserId } = useParams()
  const [searchParams] = useSearchParams()
  const model = searchParams.get('model') ?? ''
  const navigate = useNavigate()
  const location = useLocation()
  const justCreated = (location.state as { created?: boolean } | null)?.created === true
  const userId = rawUserId === undefined ? null : parseUserId(rawUserId)

  function show(nextUser: number | null, nextModel: string) {
    const query = nextModel ? `?${new URLSearchParams({ model: nextModel })}` : ''
    navigate(nextUser === null ? `/${query}` : `/users/${nextUser}${query}`)
  }

  return (
    <Stack spacing={3}>
      <Box>
        <Typography variant="h1" gutterBottom>
          Recommendations
        </Typography>
        <Typography color="text.secondary">
          Pick a user and a model to see what the model would show them next. The address bar keeps the choice, so the view can be shared.
        </Typography>
      </Box>
      <Paper variant="outlined" sx={{ p: { xs: 2, sm: 2.5 } }}>
        <Stack direction={{ xs: 'column', sm: 'row' }} spacing={2}>
          <UserPickerForUser userId={userId} onChange={(id) => show(id, model)} />
          <ModelSelect value={model} onChange={(next) => show(userId, next)} />
        </Stack>
      </Paper>
      {rawUserId === undefined ? <SavedUsersCard /> : null}
      {rawUserId === undefined ? (
        <Card>
          <CardContent>
            <EmptyState title="Choose a user to begin" icon={<PersonSearchIcon />}>
              Search the user box above by id or occupation, or{' '}
              <Button component={RouterLink} to="/new-user" size="small">
                create a new user
              </Button>{' '}
              and rate a few movies.
            </EmptyState>
          </CardContent>
        </Card>
      ) : userId === null ? (
        <Alert severity="error" role="alert">
          “{rawUserId}” is not a user id: user ids are positive whole numbers.
        </Alert>
      ) : (
        <UserView key={userId} userId={userId} model={model} justCreated={justCreated} />
      )}
    </Stack>
  )
}

function UserPickerForUser({ userId, onChange }: { userId: number | null; onChange: (id: number | null) => void }) {
  const user = useQuery({
    queryKey: queryKeys.user(userId ?? 0),
    queryFn: ({ signal }) => api.getUser(userId ?? 0, signal),
    enabled: userId !== null,
  })
  return <UserPicker value={userId !== null ? (user.data ?? null) : null} onChange={(picked) => onChange(picked?.user_id ?? null)} />
}

function UserView({ userId, model, justCreated }: { userId: number; model: string; justCreated: boolean }) {
  const queryClient = useQueryClient()
  const [similarTo, setSimilarTo] = useState<ScoredMovie | null>(null)
  const user = useQuery({
    queryKey: queryKeys.user(userId),
    queryFn: ({ signal }) => api.getUser(userId, signal),
  })
  const recommendations = useQuery({
    queryKey: queryKeys.recommendations(userId, model, RECOMMENDATIONS_K),
    queryFn: ({ signal }) => api.recommendations(userId, RECOMMENDATIONS_K, model || undefined, signal),
  })
  const ratedIds = useMemo(() => new Set(user.data?.history.map((entry) => entry.item_id)), [user.data])

  function handleRated(rating: Rating, movie: MovieDetail) {
    // The rated movie joins the history at once, which hides it from the table before the refetch lands.
    queryClient.setQueryData<UserDetail>(queryKeys.user(userId), (old) =>
      old
        ? {
            ...old,
            ratings_count: old.ratings_count + 1,
            history: [
              { item_id: movie.item_id, title: movie.title, year: movie.year, genres: movie.genres, rating: rating.rating, timestamp: rating.timestamp },
              ...old.history,
            ],
          }
        : old,
    )
    void queryClient.invalidateQueries({ queryKey: queryKeys.recommendationsFor(userId) })
    void queryClient.invalidateQueries({ queryKey: queryKeys.user(userId) })
  }

  if (user.error) {
    return <ErrorState error={user.error} what={`user ${userId}`} onRetry={() => void user.refetch()} />
  }

  return (
    <>
      {justCreated && user.data?.ratings_count === 0 ? (
        <Alert severity="success">
          User {userId} is ready. Search for movies you know under “Rate movies” and watch the picks change with every rating.
        </Alert>
      ) : null}
      <Grid container spacing={3}>
        <Grid size={{ xs: 12, md: 8 }}>
          <RecommendationsCard userId={userId} recommendations={recommendations} ratedIds={ratedIds} onShowSimilar={setSimilarTo} />
        </Grid>
        <Grid size={{ xs: 12, md: 4 }}>
          <Stack spacing={3}>
            {user.isPending ? (
              <Card>
                <LoadingState label="Loading the user's ratings…" />
              </Card>
            ) : (
              <RatedMoviesPanel user={user.data} />
            )}
            <MovieRater userId={userId} ratedIds={ratedIds} onRated={handleRated} />
          </Stack>
        </Grid>
      </Grid>
      <SimilarMoviesDialog movie={similarTo} onClose={() => setSimilarTo(null)} />
    </>
  )
}
