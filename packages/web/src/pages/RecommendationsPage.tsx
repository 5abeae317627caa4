import Alert from '@mui/material/Alert'
import AlertTitle from '@mui/material/AlertTitle'
import Box from '@mui/material/Box'
import Button from '@mui/material/Button'
import Card from '@mui/material/Card'
import CardContent from '@mui/material/CardContent'
import Paper from '@mui/material/Paper'
import Snackbar from '@mui/material/Snackbar'
import Stack from '@mui/material/Stack'
import Typography from '@mui/material/Typography'
import PersonSearchIcon from '@mui/icons-material/PersonSearch'
import { infiniteQueryOptions, keepPreviousData, useInfiniteQuery, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query'
import { useEffect, useMemo, useState } from 'react'
import { Link as RouterLink, Navigate, useLocation, useNavigate, useParams, useSearchParams } from 'react-router'
import { api, toApiError, type Models, type RecommendationsRequest, type RecommendedMovie, type UserDetail } from '../api/client.ts'
import { queryKeys } from '../api/queryKeys.ts'
import { useSavedUsers } from '../api/tokens.ts'
import { displayTitle, parseUserId } from '../format.ts'
import type { Filters } from '../picks.ts'
import EmptyState from '../components/EmptyState.tsx'
import ErrorState from '../components/ErrorState.tsx'
import LoadingState from '../components/LoadingState.tsx'
import ModelSelect from '../components/ModelSelect.tsx'
import type { PickActions } from '../components/MovieActions.tsx'
import MovieRater from '../components/MovieRater.tsx'
import OnboardingGrid from '../components/OnboardingGrid.tsx'
import RatedMoviesPanel from '../components/RatedMoviesPanel.tsx'
import RecommendationsCard from '../components/RecommendationsCard.tsx'
import SavedUsersCard from '../components/SavedUsersCard.tsx'
import SimilarMoviesDialog from '../components/SimilarMoviesDialog.tsx'
import UserPicker from '../components/UserPicker.tsx'

/** Picks per page; "Show more" asks for the next page (offset + k stays within the API's 100). */
export const PAGE_SIZE = 10
const MAX_PICKS = 100
/** A user with fewer ratings than this starts from the grid of popular movies. */
export const ONBOARDING_UNTIL = 10

/** The filters in the address bar: ?genres=Comedy,Drama&from=1990&to=1999 (anything malformed is ignored). */
function filtersOf(params: URLSearchParams): Filters {
  const year = (name: string) => {
    const raw = params.get(name) ?? ''
    return /^\d{4}$/.test(raw) ? Number(raw) : null
  }
  const genres = (params.get('genres') ?? '').split(',').map((g) => g.trim()).filter(Boolean)
  return { genres, yearMin: year('from'), yearMax: year('to') }
}

/** The default model as the models overview names it (null until it has loaded). */
function defaultModelOf(models: Models | undefined): string | null {
  return models?.models.find((m) => m.default)?.name ?? models?.endpoint.default_model ?? null
}

/** The first page of picks a user view asks for ("?model=<the default>" asks as no model does). */
function picksRequest(model: string, defaultModel: string | null, filters: Filters): RecommendationsRequest {
  return { k: PAGE_SIZE, model: model === defaultModel ? '' : model, ...filters, offset: 0 }
}

function picksQuery(userId: number, request: RecommendationsRequest) {
  return infiniteQueryOptions({
    queryKey: queryKeys.recommendations(userId, request),
    queryFn: ({ pageParam, signal }) => api.recommendations(userId, { ...request, offset: pageParam }, signal),
    initialPageParam: 0,
    getNextPageParam: (last, pages) => {
      const next = pages.length * PAGE_SIZE
      return last.items.length < PAGE_SIZE || next + PAGE_SIZE > MAX_PICKS ? undefined : next
    },
  })
}

/** Ask for a chosen user's profile and first picks at once, while the page is still switching to
 * them: the user view then finds both requests under way (the same query keys) instead of
 * starting them only once it has rendered. */
function prefetchUser(queryClient: QueryClient, userId: number, model: string, filters: Filters) {
  const defaultModel = defaultModelOf(queryClient.getQueryData<Models>(queryKeys.models))
  void queryClient.prefetchQuery({ queryKey: queryKeys.user(userId), queryFn: ({ signal }) => api.getUser(userId, signal) })
  void queryClient.prefetchInfiniteQuery(picksQuery(userId, picksRequest(model, defaultModel, filters)))
}

export default function RecommendationsPage() {
  const { userId: rawUserId } = useParams()
  const [searchParams] = useSearchParams()
  const model = searchParams.get('model') ?? ''
  const navigate = useNavigate()
  const queryClient = useQueryClient()
  const location = useLocation()
  const justCreated = (location.state as { created?: boolean } | null)?.created === true
  const userId = rawUserId === undefined ? null : parseUserId(rawUserId)
  const filters = useMemo(() => filtersOf(searchParams), [searchParams])

  function show(nextUser: number | null, nextModel: string, nextFilters: Filters = filters, replace = false) {
    const query = new URLSearchParams()
    if (nextModel) query.set('model', nextModel)
    if (nextFilters.genres.length) query.set('genres', nextFilters.genres.join(','))
    if (nextFilters.yearMin !== null) query.set('from', String(nextFilters.yearMin))
    if (nextFilters.yearMax !== null) query.set('to', String(nextFilters.yearMax))
    const search = query.size ? `?${query}` : ''
    navigate(nextUser === null ? `/${search}` : `/users/${nextUser}${search}`, { replace })
  }

  // "/?user=42" is how people guess a user's address; it means /users/42.
  const userParam = searchParams.get('user')
  if (rawUserId === undefined && userParam !== null) {
    return <Navigate to={`/users/${encodeURIComponent(userParam.trim())}`} replace />
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
          <UserPickerForUser
            userId={userId}
            onChange={(id) => {
              if (id !== null) prefetchUser(queryClient, id, model, filters)
              show(id, model)
            }}
          />
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
        <UserView
          key={userId}
          userId={userId}
          model={model}
          filters={filters}
          justCreated={justCreated}
          onModelChange={(next, replace) => show(userId, next, filters, replace)}
          onFiltersChange={(next) => show(userId, model, next, true)}
        />
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

function UnknownUser({ userId }: { userId: number }) {
  return (
    <Alert
      severity="warning"
      role="alert"
      action={
        <Stack direction={{ xs: 'column', sm: 'row' }} spacing={1}>
          <Button component={RouterLink} to="/" color="inherit">
            Pick another user
          </Button>
          <Button component={RouterLink} to="/new-user" color="inherit" variant="outlined">
            Create a new user
          </Button>
        </Stack>
      }
    >
      <AlertTitle>User {userId} does not exist</AlertTitle>
      There is no user with this id. Pick another one in the user box above, or create a new user and rate a few movies.
    </Alert>
  )
}

interface UserViewProps {
  userId: number
  model: string
  filters: Filters
  justCreated: boolean
  onModelChange: (model: string, replace: boolean) => void
  onFiltersChange: (filters: Filters) => void
}

function UserView({ userId, model, filters, justCreated, onModelChange, onFiltersChange }: UserViewProps) {
  const queryClient = useQueryClient()
  const [similarTo, setSimilarTo] = useState<RecommendedMovie | { item_id: number; title: string } | null>(null)
  // Marked not interested in this visit: hidden at once, before the API answers.
  const [dismissed, setDismissed] = useState<ReadonlySet<number>>(new Set())
  const [busy, setBusy] = useState<ReadonlySet<number>>(new Set())
  const [notice, setNotice] = useState<{ text: string; undo?: { item_id: number; title: string }; error?: boolean } | null>(null)
  const saved = useSavedUsers()
  const user = useQuery({
    queryKey: queryKeys.user(userId),
    queryFn: ({ signal }) => api.getUser(userId, signal),
  })
  const models = useQuery({ queryKey: queryKeys.models, queryFn: ({ signal }) => api.models(signal) })
  const defaultModel = defaultModelOf(models.data)

  // "?model=<the default>" is the same list as no model: one address for it.
  useEffect(() => {
    if (model && model === defaultModel) onModelChange('', true)
  }, [model, defaultModel, onModelChange])

  const recommendations = useInfiniteQuery({
    ...picksQuery(userId, picksRequest(model, defaultModel, filters)),
    placeholderData: keepPreviousData,
    enabled: !user.isError,
  })

  const ratedIds = useMemo(() => new Set(user.data?.history.map((entry) => entry.item_id)), [user.data])
  const hiddenIds = useMemo(() => new Set([...ratedIds, ...dismissed]), [ratedIds, dismissed])
  const canAct = user.data?.source === 'api' && saved.some((entry) => entry.userId === userId)

  function setBusyFor(itemId: number, on: boolean) {
    setBusy((old) => {
      const next = new Set(old)
      if (on) next.add(itemId)
      else next.delete(itemId)
      return next
    })
  }

  function refreshPicks() {
    void queryClient.invalidateQueries({ queryKey: queryKeys.recommendationsFor(userId) })
    void queryClient.invalidateQueries({ queryKey: ['popular'] })
    void queryClient.invalidateQueries({ queryKey: ['similar'] })
  }

  function addToHistory(movie: { item_id: number; title: string; year?: number | null; genres?: string[] }, rating: number, timestamp: number) {
    // The rated movie joins the history at once, which hides it from every list before the refetch lands.
    queryClient.setQueryData<UserDetail>(queryKeys.user(userId), (old) =>
      old
        ? {
            ...old,
            ratings_count: old.ratings_count + 1,
            history: [
              { item_id: movie.item_id, title: movie.title, year: movie.year ?? null, genres: movie.genres ?? [], rating, timestamp },
              ...old.history,
            ],
          }
        : old,
    )
    refreshPicks()
    void queryClient.invalidateQueries({ queryKey: queryKeys.user(userId) })
  }

  const actions: PickActions | undefined = canAct
    ? {
        busy,
        rate: (movie, stars) => {
          setBusyFor(movie.item_id, true)
          api
            .rateMovie(userId, { item_id: movie.item_id, rating: stars })
            .then((saved) => {
              addToHistory(movie, saved.rating, saved.timestamp)
              setNotice({ text: `Rated “${displayTitle(movie.title)}” ${stars} of 5.` })
            })
            .catch((error: unknown) => setNotice({ text: `Could not rate “${displayTitle(movie.title)}”: ${toApiError(error).message}`, error: true }))
            .finally(() => setBusyFor(movie.item_id, false))
        },
        notInterested: (movie) => {
          setDismissed((old) => new Set([...old, movie.item_id]))
          setBusyFor(movie.item_id, true)
          api
            .notInterested(userId, movie.item_id)
            .then(() => {
              setNotice({ text: `“${displayTitle(movie.title)}” will not be recommended again.`, undo: movie })
              refreshPicks()
            })
            .catch((error: unknown) => {
              setDismissed((old) => new Set([...old].filter((id) => id !== movie.item_id)))
              setNotice({ text: `Could not hide “${displayTitle(movie.title)}”: ${toApiError(error).message}`, error: true })
            })
            .finally(() => setBusyFor(movie.item_id, false))
        },
      }
    : undefined

  function undo(movie: { item_id: number; title: string }) {
    setNotice(null)
    api
      .undoNotInterested(userId, movie.item_id)
      .then(() => {
        setDismissed((old) => new Set([...old].filter((id) => id !== movie.item_id)))
        refreshPicks()
        setNotice({ text: `“${displayTitle(movie.title)}” can be recommended again.` })
      })
      .catch((error: unknown) => setNotice({ text: `Could not undo: ${toApiError(error).message}`, error: true }))
  }

  if (user.error) {
    if (toApiError(user.error).status === 404) return <UnknownUser userId={userId} />
    return <ErrorState error={user.error} what={`user ${userId}`} onRetry={() => void user.refetch()} />
  }

  const modelProblem = (error: Error) =>
    model && toApiError(error).status === 400 ? (
      <Alert
        severity="warning"
        role="alert"
        action={
          <Button color="inherit" onClick={() => onModelChange('', false)}>
            Use the default model
          </Button>
        }
      >
        <AlertTitle>The model “{model}” is not served</AlertTitle>
        {toApiError(error).message}. The default model{defaultModel ? ` (${defaultModel})` : ''} can answer instead.
      </Alert>
    ) : null

  const onboarding = canAct && (user.data?.ratings_count ?? 0) < ONBOARDING_UNTIL
  const picks = (
    <RecommendationsCard
      userId={userId}
      recommendations={recommendations}
      hiddenIds={hiddenIds}
      filters={filters}
      onFiltersChange={onFiltersChange}
      actions={actions}
      onShowSimilar={setSimilarTo}
      errorAction={modelProblem}
    />
  )
  const ratedPanel = user.isPending ? (
    <Card>
      <LoadingState label="Loading the user's ratings…" />
    </Card>
  ) : (
    <RatedMoviesPanel user={user.data} />
  )
  const rater = canAct ? <MovieRater userId={userId} ratedIds={ratedIds} onRated={(rating, movie) => addToHistory(movie, rating.rating, rating.timestamp)} /> : null

  return (
    <>
      {justCreated && user.data?.ratings_count === 0 ? (
        <Alert severity="success">User {userId} is ready. Rate movies you have seen below and watch the picks change with every rating.</Alert>
      ) : null}
      {user.data && !canAct ? (
        <Typography variant="body2" color="text.secondary">
          User {userId} {user.data.source === 'base' ? 'comes from the MovieLens dataset and is read-only' : 'was created in another browser'}: to rate
          movies and hide picks,{' '}
          <Button component={RouterLink} to="/new-user" size="small">
            create your own user
          </Button>
          .
        </Typography>
      ) : null}
      {onboarding && actions ? (
        // A new user rates from the grid; the picks sit beside it (below it on phones) and follow every rating.
        <Box sx={{ display: 'grid', gap: 3, gridTemplateColumns: { xs: 'minmax(0, 1fr)', md: 'minmax(0, 7fr) minmax(0, 5fr)' }, alignItems: 'start' }}>
          <Stack spacing={3}>
            <OnboardingGrid userId={userId} ratedCount={user.data?.ratings_count ?? 0} hiddenIds={hiddenIds} actions={actions} />
            {rater}
          </Stack>
          <Stack spacing={3}>
            {picks}
            {ratedPanel}
          </Stack>
        </Box>
      ) : (
        // On phones the rater comes first, near the top; on wide screens it sits beside the picks.
        <Box
          sx={{
            display: 'grid',
            gap: 3,
            alignItems: 'start',
            gridTemplateColumns: { xs: 'minmax(0, 1fr)', md: 'minmax(0, 2fr) minmax(0, 1fr)' },
            gridTemplateAreas: { xs: '"rater" "picks" "rated"', md: '"picks rater" "picks rated"' },
            gridTemplateRows: { md: 'auto 1fr' },
          }}
        >
          <Box sx={{ gridArea: 'picks', minWidth: 0 }}>{picks}</Box>
          {rater ? <Box sx={{ gridArea: 'rater', minWidth: 0 }}>{rater}</Box> : null}
          <Box sx={{ gridArea: 'rated', minWidth: 0 }}>{ratedPanel}</Box>
        </Box>
      )}
      <SimilarMoviesDialog
        movie={similarTo}
        onClose={() => setSimilarTo(null)}
        userId={canAct ? userId : undefined}
        // Whoever can rate from the dialog no longer sees what they rated or turned down there; a read-only view lists every neighbour.
        hiddenIds={canAct ? hiddenIds : undefined}
        actions={actions}
      />
      <Snackbar
        open={notice !== null}
        autoHideDuration={notice?.undo ? 8000 : 4000}
        onClose={(_, reason) => reason !== 'clickaway' && setNotice(null)}
        message={notice?.text}
        slotProps={{ content: { role: notice?.error ? 'alert' : 'status' } }}
        action={
          notice?.undo ? (
            <Button color="inherit" onClick={() => notice.undo && undo(notice.undo)}>
              Undo
            </Button>
          ) : undefined
        }
      />
    </>
  )
}
