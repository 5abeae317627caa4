import Box from '@mui/material/Box'
import Button from '@mui/material/Button'
import Chip from '@mui/material/Chip'
import Stack from '@mui/material/Stack'
import TextField from '@mui/material/TextField'
import Typography from '@mui/material/Typography'
import { useQuery } from '@tanstack/react-query'
import { useEffect, useRef, useState } from 'react'
import { api } from '../api/client.ts'
import { queryKeys } from '../api/queryKeys.ts'
import { type Filters, NO_FILTERS, parseYear } from '../picks.ts'

function YearField({ label, value, onChange, extraProblem }: { label: string; value: number | null; onChange: (year: number | null) => void; extraProblem?: string | null }) {
  const [text, setText] = useState(value === null ? '' : String(value))
  const [shownValue, setShownValue] = useState(value)
  // A new value from outside (the URL, "Clear filters") replaces what was typed.
  if (value !== shownValue) {
    setShownValue(value)
    if (parseYear(text).year !== value) setText(value === null ? '' : String(value))
  }
  const { problem } = parseYear(text)
  const shown = problem ?? extraProblem ?? null
  return (
    <TextField
      label={label}
      value={text}
      size="small"
      onChange={(event) => {
        setText(event.target.value)
        const parsed = parseYear(event.target.value)
        if (!parsed.problem) onChange(parsed.year)
      }}
      error={shown !== null}
      helperText={shown ?? ' '}
      placeholder="Any"
      slotProps={{ htmlInput: { inputMode: 'numeric', maxLength: 4 }, inputLabel: { shrink: true } }}
      sx={{ width: 130 }}
    />
  )
}

export default function RecommendationFilters({ value, onChange }: { value: Filters; onChange: (next: Filters) => void }) {
  const genres = useQuery({ queryKey: queryKeys.genres, queryFn: ({ signal }) => api.genres(signal), staleTime: Infinity })
  const names = (genres.data?.genres ?? []).map((g) => g.name).filter((name) => name !== 'unknown')
  // The address bar (and so `value`) catches up a moment after each change, as navigation is a
  // transition; changes made in between build on the last one rather than on a stale value.
  const latest = useRef(value)
  useEffect(() => {
    latest.current = value
  }, [value])
  function change(patch: Partial<Filters>) {
    latest.current = { ...latest.current, ...patch }
    onChange(latest.current)
  }
  const active = value.genres.length > 0 || value.yearMin !== null || value.yearMax !== null
  const rangeProblem = value.yearMin !== null && value.yearMax !== null && value.yearMin > value.yearMax ? 'Must not be before “From year”.' : null

  function toggle(genre: string) {
    const genres = latest.current.genres
    change({ genres: genres.includes(genre) ? genres.filter((g) => g !== genre) : [...genres, genre] })
  }

  return (
    <Box component="fieldset" sx={{ border: 0, p: 0, m: 0, mb: 1 }}>
      <Typography component="legend" variant="body2" color="text.secondary" sx={{ mb: 1 }}>
        Filter by genre (any of those chosen) and release year
      </Typography>
      <Stack direction="row" useFlexGap role="group" aria-label="Genres to show" sx={{ flexWrap: 'wrap', gap: 0.75, mb: 1.5 }}>
        {names.map((genre) => {
          const on = value.genres.includes(genre)
          return (
            <Chip
              key={genre}
              label={genre}
              clickable
              color={on ? 'primary' : 'default'}
              variant={on ? 'filled' : 'outlined'}
              onClick={() => toggle(genre)}
              aria-pressed={on}
              component="button"
              sx={{ minHeight: { xs: 44, sm: 32 } }}
            />
          )
        })}
        {genres.error ? (
          <Typography variant="body2" color="error">
            Genres could not be loaded.
          </Typography>
        ) : null}
      </Stack>
      <Stack direction="row" useFlexGap sx={{ flexWrap: 'wrap', gap: 1.5, alignItems: 'flex-start' }}>
        <YearField label="From year" value={value.yearMin} onChange={(yearMin) => change({ yearMin })} />
        <YearField label="To year" value={value.yearMax} onChange={(yearMax) => change({ yearMax })} extraProblem={rangeProblem} />
        {active ? (
          <Button onClick={() => change(NO_FILTERS)} sx={{ mt: 0 }}>
            Clear filters
          </Button>
        ) : null}
      </Stack>
    </Box>
  )
}
