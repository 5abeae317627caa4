import Box from '@mui/material/Box'
import Button from '@mui/material/Button'
import Table from '@mui/material/Table'
import TableBody from '@mui/material/TableBody'
import TableCell from '@mui/material/TableCell'
import TableContainer from '@mui/material/TableContainer'
import TableHead from '@mui/material/TableHead'
import TableRow from '@mui/material/TableRow'
import Typography from '@mui/material/Typography'
import ManageSearchIcon from '@mui/icons-material/ManageSearch'
import type { ScoredMovie } from '../api/client.ts'
import { formatScore, visuallyHidden } from '../format.ts'
import GenreChips from './GenreChips.tsx'

interface RecommendationsTableProps {
  items: readonly ScoredMovie[]
  onShowSimilar: (movie: ScoredMovie) => void
}

const hideOnPhone = { display: { xs: 'none', md: 'table-cell' } } as const

export default function RecommendationsTable({ items, onShowSimilar }: RecommendationsTableProps) {
  // Focusable so keyboard users can scroll the table sideways on a phone.
  return (
    <TableContainer tabIndex={0} role="region" aria-label="Recommendations (scrolls sideways on narrow screens)">
      <Table aria-label="Recommendations" size="small" sx={{ '& td, & th': { px: { xs: 1, sm: 2 } } }}>
        <TableHead>
          <TableRow>
            <TableCell scope="col" align="right" sx={{ width: 48 }}>
              Rank
            </TableCell>
            <TableCell scope="col">Title</TableCell>
            <TableCell scope="col" sx={hideOnPhone}>
              Year
            </TableCell>
            <TableCell scope="col" sx={hideOnPhone}>
              Genres
            </TableCell>
            <TableCell scope="col" align="right">
              Score
            </TableCell>
            <TableCell scope="col">
              <Box component="span" sx={visuallyHidden}>
                Actions
              </Box>
            </TableCell>
          </TableRow>
        </TableHead>
        <TableBody>
          {items.map((movie, index) => (
            <TableRow key={movie.item_id} hover>
              <TableCell align="right">
                <Typography component="span" sx={{ fontWeight: 700, color: 'primary.main' }}>
                  {index + 1}
                </Typography>
              </TableCell>
              <TableCell component="th" scope="row">
                <Typography component="span" sx={{ fontWeight: 600, display: 'block' }}>
                  {movie.title}
                </Typography>
                <Typography component="span" variant="caption" color="text.secondary" sx={{ display: { md: 'none' } }}>
                  {[movie.year, movie.genres.join(', ')].filter(Boolean).join(' · ')}
                </Typography>
              </TableCell>
              <TableCell sx={hideOnPhone}>{movie.year ?? '—'}</TableCell>
              <TableCell sx={hideOnPhone}>
                <GenreChips genres={movie.genres} />
              </TableCell>
              <TableCell align="right" sx={{ fontVariantNumeric: 'tabular-nums' }}>
                {formatScore(movie.score)}
              </TableCell>
              <TableCell align="right">
                <Button
                  size="small"
                  onClick={() => onShowSimilar(movie)}
                  aria-label={`Similar movies to ${movie.title}`}
                  startIcon={<ManageSearchIcon />}
                  sx={{ minWidth: 0, '& .MuiButton-startIcon': { mr: { xs: 0, sm: 1 } } }}
                >
                  <Box component="span" sx={{ display: { xs: 'none', sm: 'inline' } }}>
                    Similar
                  </Box>
                </Button>
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </TableContainer>
  )
}
