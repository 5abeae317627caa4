import Button from '@mui/material/Button'
import Dialog from '@mui/material/Dialog'
import DialogActions from '@mui/material/DialogActions'
import DialogContent from '@mui/material/DialogContent'
import DialogTitle from '@mui/material/DialogTitle'
import List from '@mui/material/List'
import ListItem from '@mui/material/ListItem'
import ListItemText from '@mui/material/ListItemText'
import useMediaQuery from '@mui/material/useMediaQuery'
import { useTheme } from '@mui/material/styles'
import { useQuery } from '@tanstack/react-query'
import { api, type Movie } from '../api/client.ts'
import { displayTitle, titleWithYear } from '../format.ts'
import { queryKeys } from '../api/queryKeys.ts'
import EmptyState from './EmptyState.tsx'
import ErrorState from './ErrorState.tsx'
import GenreChips from './GenreChips.tsx'
import LoadingState from './LoadingState.tsx'
import MovieActions, { type PickActions } from './MovieActions.tsx'

interface SimilarMoviesDialogProps {
  movie: Pick<Movie, 'item_id' | 'title'> | null
  onClose: () => void
  /** The user the page is about: their not-interested movies stay out, and they can rate from here. */
  userId?: number
  hiddenIds?: ReadonlySet<number>
  actions?: PickActions
}

export default function SimilarMoviesDialog({ movie, onClose, userId, hiddenIds, actions }: SimilarMoviesDialogProps) {
  const theme = useTheme()
  const fullScreen = useMediaQuery(theme.breakpoints.down('sm'))
  const itemId = movie?.item_id ?? 0
  const similar = useQuery({
    queryKey: queryKeys.similar(itemId, userId),
    queryFn: ({ signal }) => api.similarMovies(itemId, 10, userId, signal),
    enabled: movie !== null,
  })

  const title = movie ? displayTitle(movie.title) : ''
  const items = (similar.data?.items ?? []).filter((item) => !hiddenIds?.has(item.item_id))
  let body
  if (similar.isPending) body = <LoadingState label="Finding similar movies…" />
  else if (similar.error) body = <ErrorState error={similar.error} what="similar movies" onRetry={() => void similar.refetch()} />
  else if (!items.length) body = <EmptyState title="No similar movies found" />
  else
    body = (
      <List dense aria-label={`Movies similar to ${title}`}>
        {items.map((item) => (
          <ListItem key={item.item_id} divider>
            <ListItemText
              primary={titleWithYear(item)}
              secondary={
                <>
                  <GenreChips genres={item.genres} />
                  {actions ? <MovieActions movie={item} actions={actions} /> : null}
                </>
              }
              slotProps={{ secondary: { component: 'div', sx: { mt: 0.5 } } }}
            />
          </ListItem>
        ))}
      </List>
    )

  return (
    <Dialog open={movie !== null} onClose={onClose} fullWidth maxWidth="sm" fullScreen={fullScreen} aria-labelledby="similar-movies-title">
      <DialogTitle id="similar-movies-title">Similar movies{movie ? ` to ${title}` : ''}</DialogTitle>
      <DialogContent dividers>{body}</DialogContent>
      <DialogActions>
        <Button onClick={onClose}>Close</Button>
      </DialogActions>
    </Dialog>
  )
}
