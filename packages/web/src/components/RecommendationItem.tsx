import Box from '@mui/material/Box'
import Button from '@mui/material/Button'
import Chip from '@mui/material/Chip'
import Stack from '@mui/material/Stack'
import Typography from '@mui/material/Typography'
import ManageSearchIcon from '@mui/icons-material/ManageSearch'
import type { RecommendedMovie } from '../api/client.ts'
import { displayTitle, formatMatch, formatScore } from '../format.ts'
import { reasonLine } from '../picks.ts'
import GenreChips from './GenreChips.tsx'
import MovieActions, { type PickActions } from './MovieActions.tsx'

interface RecommendationItemProps {
  movie: RecommendedMovie
  rank: number
  showScore: boolean
  actions: PickActions | undefined
  onShowSimilar: (movie: RecommendedMovie) => void
}

export default function RecommendationItem({ movie, rank, showScore, actions, onShowSimilar }: RecommendationItemProps) {
  const title = displayTitle(movie.title)
  return (
    <Box
      component="li"
      data-item-id={movie.item_id}
      sx={{
        display: 'grid',
        gridTemplateColumns: 'auto 1fr auto',
        columnGap: { xs: 1.5, sm: 2 },
        rowGap: 0.5,
        py: 1.5,
        px: { xs: 1.5, sm: 2 },
        borderBottom: 1,
        borderColor: 'divider',
        '&:last-of-type': { borderBottom: 0 },
      }}
    >
      <Typography component="span" aria-label={`Rank ${rank}`} sx={{ fontWeight: 700, color: 'primary.main', minWidth: 24, textAlign: 'right', pt: 0.25 }}>
        {rank}
      </Typography>
      <Box sx={{ minWidth: 0 }}>
        <Typography component="h3" variant="h3" sx={{ overflowWrap: 'anywhere' }}>
          {title}
          {movie.year ? (
            <Typography component="span" color="text.secondary" sx={{ fontWeight: 400 }}>
              {' '}
              ({movie.year})
            </Typography>
          ) : null}
        </Typography>
        <Typography variant="body2" color="text.secondary" data-testid="reason">
          {reasonLine(movie)}
        </Typography>
      </Box>
      <Stack sx={{ alignItems: 'flex-end' }}>
        <Chip label={formatMatch(movie.match)} color="primary" variant="outlined" sx={{ fontWeight: 700 }} />
        {showScore ? (
          <Typography variant="caption" color="text.secondary" sx={{ fontVariantNumeric: 'tabular-nums', mt: 0.5 }}>
            model score {formatScore(movie.score)}
          </Typography>
        ) : null}
      </Stack>
      <Box sx={{ gridColumn: { xs: '1 / -1', sm: '2 / -1' } }}>
        <GenreChips genres={movie.genres} />
        <Stack direction="row" useFlexGap sx={{ alignItems: 'center', flexWrap: 'wrap', columnGap: 1, mt: 0.5 }}>
          {actions ? <MovieActions movie={movie} actions={actions} /> : null}
          <Button size="small" onClick={() => onShowSimilar(movie)} aria-label={`Similar movies to ${title}`} startIcon={<ManageSearchIcon />}>
            Similar
          </Button>
        </Stack>
      </Box>
    </Box>
  )
}
