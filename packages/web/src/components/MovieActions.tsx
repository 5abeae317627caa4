import Button from '@mui/material/Button'
import Stack from '@mui/material/Stack'
import ThumbDownOffAltIcon from '@mui/icons-material/ThumbDownOffAlt'
import { displayTitle } from '../format.ts'
import StarRater from './StarRater.tsx'

/** What the user can do with a movie shown to them; absent when this browser cannot act as the user. */
export interface PickActions {
  rate: (movie: { item_id: number; title: string }, stars: number) => void
  notInterested: (movie: { item_id: number; title: string }) => void
  /** Movies with a rating or a mark on the way to the API. */
  busy: ReadonlySet<number>
}

export default function MovieActions({ movie, actions }: { movie: { item_id: number; title: string }; actions: PickActions }) {
  const title = displayTitle(movie.title)
  const busy = actions.busy.has(movie.item_id)
  return (
    <Stack direction="row" useFlexGap sx={{ alignItems: 'center', flexWrap: 'wrap', columnGap: 1 }}>
      <StarRater label={`Rate ${title}`} onRate={(stars) => actions.rate(movie, stars)} disabled={busy} />
      <Button
        size="small"
        color="inherit"
        startIcon={<ThumbDownOffAltIcon />}
        onClick={() => actions.notInterested(movie)}
        disabled={busy}
        aria-label={`Not interested in ${title}`}
      >
        Not interested
      </Button>
    </Stack>
  )
}
