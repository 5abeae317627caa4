import Alert from '@mui/material/Alert'
import Autocomplete from '@mui/material/Autocomplete'
import Box from '@mui/material/Box'
import Button from '@mui/material/Button'
import Card from '@mui/material/Card'
import CardContent from '@mui/material/CardContent'
import CardHeader from '@mui/material/CardHeader'
import CircularProgress from '@mui/material/CircularProgress'
import Rating from '@mui/material/Rating'
import Stack from '@mui/material/Stack'
import TextField from '@mui/material/TextField'
import Typography from '@mui/material/Typography'
import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query'
import { useId, useRef, useState, type FormEvent } from 'react'
import { api, toApiError, type MovieDetail, type Rating as SavedRating } from '../api/client.ts'
import { queryKeys } from '../api/queryKeys.ts'
import { displayTitle, titleWithYear } from '../format.ts'
import { useDebouncedValue } from '../hooks/useDebouncedValue.ts'

interface MovieRaterProps {
  userId: number
  /** Movies the user has rated; they are not offered again. */
  ratedIds: ReadonlySet<number>
  onRated: (rating: SavedRating, movie: MovieDetail) => void
}

const RATING_LABELS: Record<number, string> = {
  0.5: 'Awful', 1: 'Very bad', 1.5: 'Bad', 2: 'Poor', 2.5: 'Meh', 3: 'Okay', 3.5: 'Good', 4: 'Very good', 4.5: 'Great', 5: 'Masterpiece',
}

export default function MovieRater({ userId, ratedIds, onRated }: MovieRaterProps) {
  const ratingLabelId = useId()
  const [movie, setMovie] = useState<MovieDetail | null>(null)
  const [input, setInput] = useState('')
  const [stars, setStars] = useState<number | null>(null)
  const [hover, setHover] = useState(-1)
  const [saved, setSaved] = useState<string | null>(null)
  const searchRef = useRef<HTMLInputElement>(null)
  const query = useDebouncedValue(input.trim())
  const movies = useQuery({
    queryKey: queryKeys.movies(query),
    queryFn: ({ signal }) => api.searchMovies(query, 15, signal),
    enabled: query.length > 0,
    placeholderData: keepPreviousData,
  })
  const rate = useMutation({
    mutationFn: (choice: { movie: MovieDetail; rating: number }) =>
      api.rateMovie(userId, { item_id: choice.movie.item_id, rating: choice.rating }),
    onSuccess: (rating, choice) => {
      setSaved(`Rated “${displayTitle(choice.movie.title)}” ${choice.rating} of 5.`)
      setMovie(null)
      setInput('')
      setStars(null)
      onRated(rating, choice.movie)
      // The next movie starts where the last one did, not back at the top of the page.
      searchRef.current?.focus()
    },
  })

  const options = query ? (movies.data?.items ?? []).filter((m) => !ratedIds.has(m.item_id)) : []
  const searchError = movies.error ? toApiError(movies.error).message : null

  function submit(event: FormEvent) {
    event.preventDefault()
    if (!movie || stars === null) return
    setSaved(null)
    rate.mutate({ movie, rating: stars })
  }

  return (
    <Card component="section" aria-labelledby="rate-movies-title">
      <CardHeader
        title="Rate movies"
        subheader="Each rating updates the recommendations right away"
        slotProps={{ title: { id: 'rate-movies-title', component: 'h2', variant: 'h2' } }}
      />
      <CardContent sx={{ pt: 0 }}>
        <Stack component="form" spacing={2} onSubmit={submit} aria-label="Rate a movie" noValidate>
          <Autocomplete
            value={movie}
            onChange={(_, chosen) => {
              setMovie(chosen)
              rate.reset()
            }}
            inputValue={input}
            onInputChange={(_, text) => setInput(text)}
            options={options}
            filterOptions={(all) => all}
            getOptionLabel={titleWithYear}
            isOptionEqualToValue={(a, b) => a.item_id === b.item_id}
            loading={movies.isFetching}
            loadingText="Searching movies…"
            noOptionsText={searchError ?? (query ? `No unrated movie matches “${query}”` : 'Type part of a title')}
            renderOption={({ key, ...props }, m) => (
              <Box component="li" key={key} {...props} sx={{ display: 'block !important' }}>
                <Typography component="span" sx={{ display: 'block' }}>
                  {displayTitle(m.title)}
                </Typography>
                <Typography component="span" variant="caption" color="text.secondary">
                  {[m.year, m.genres.join(', '), `${m.ratings_count} ratings`].filter(Boolean).join(' · ')}
                </Typography>
              </Box>
            )}
            renderInput={(params) => (
              <TextField
                {...params}
                inputRef={searchRef}
                label="Search movies"
                placeholder="e.g. Star Wars"
                slotProps={{
                  ...params.slotProps,
                  input: {
                    ...params.slotProps.input,
                    endAdornment: (
                      <>
                        {movies.isFetching ? <CircularProgress color="inherit" size={18} aria-hidden /> : null}
                        {params.slotProps.input.endAdornment}
                      </>
                    ),
                  },
                }}
              />
            )}
          />
          <Box>
            <Typography id={ratingLabelId} component="legend" variant="body2" color="text.secondary">
              Your rating
            </Typography>
            <Stack direction="row" spacing={1} sx={{ alignItems: 'center' }}>
              <Rating
                name="movie-rating"
                precision={0.5}
                value={stars}
                onChange={(_, value) => setStars(value !== null && Number.isFinite(value) ? value : null)}
                onChangeActive={(_, value) => setHover(Number.isFinite(value) ? value : -1)}
                aria-labelledby={ratingLabelId}
                size="large"
              />
              <Typography variant="body2" color="text.secondary" aria-hidden>
                {RATING_LABELS[hover !== -1 ? hover : (stars ?? -1)] ?? ''}
              </Typography>
            </Stack>
          </Box>
          <Button type="submit" variant="contained" disabled={!movie || stars === null || rate.isPending}>
            {rate.isPending ? 'Saving…' : 'Rate'}
          </Button>
          {rate.error ? (
            <Alert severity="error" role="alert">
              {toApiError(rate.error).message}
            </Alert>
          ) : null}
          {saved && !rate.error ? (
            <Alert severity="success" role="status">
              {saved}
            </Alert>
          ) : null}
        </Stack>
      </CardContent>
    </Card>
  )
}
